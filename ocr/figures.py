"""The OCR's figures, the classifier's and the reader's, as matplotlib Figures (saved by the caller).

Weights and images are stored like the NIST36 rows (transposed), so every 32 x 32 picture here
is drawn through `nist36.upright`, the right way up.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from tinygrad_hw.app.figures import image_grid

from .nist36 import CLASS_NAMES, upright


def lr_sweep(histories, best):
    """Validation accuracy and loss over epochs for each learning rate of the sweep."""
    fig = Figure(figsize=(10, 3.8))
    acc, loss = fig.subplots(1, 2)
    for lr, history in sorted(histories.items()):
        epochs = np.arange(1, len(history["valid_accuracy"]) + 1)
        label = f"lr {lr:g}" + (" (best)" if lr == best else "")
        acc.plot(epochs, history["valid_accuracy"], label=label)
        loss.plot(epochs, history["valid_loss"], label=label)
    acc.set(xlabel="epoch", ylabel="validation accuracy", title="learning-rate sweep: accuracy")
    loss.set(xlabel="epoch", ylabel="validation loss", title="learning-rate sweep: loss", yscale="log")
    acc.legend()
    loss.legend()
    return fig


def first_layer_weights(W1, title):
    """The first 64 columns of W1 (one per hidden unit) as 32 x 32 images, each scaled to its own
    range (what one imshow per unit would show)."""
    units = upright(W1[:, : min(W1.shape[1], 64)].T)
    low = units.min(axis=(1, 2), keepdims=True)
    spread = units.max(axis=(1, 2), keepdims=True) - low
    side = int(np.ceil(np.sqrt(len(units))))
    scaled = (units - low) / np.where(spread > 0, spread, 1)
    return image_grid(scaled, columns=side, cell=(0.85, 0.85), title=title)


def second_layer(params, valid, classes=(0, 1, 26), model=None):
    """For some classes i: onehot(i) @ W2.T @ W1.T as a 32 x 32 image, beside the validation image
    whose output i is largest, i.e. what the two linear maps together look for."""
    fig = Figure(figsize=(4.5, 2.2 * len(classes)))
    axes = fig.subplots(len(classes), 2, squeeze=False)
    logits = model(params, valid.x)
    for row, i in zip(axes, classes):
        template = np.eye(len(CLASS_NAMES))[i] @ params["W2"].T @ params["W1"].T
        best = int(np.argmax(logits[:, i]))
        row[0].imshow(upright(template), cmap="gray")
        row[0].set_title(f"{CLASS_NAMES[i]}: onehot @ W2.T @ W1.T", fontsize=8)
        row[1].imshow(valid.upright(best), cmap="gray", vmin=0, vmax=1)
        row[1].set_title(f"valid image maximising output {CLASS_NAMES[i]}", fontsize=8)
        for ax in row:
            ax.axis("off")
    return fig


def confusion(counts, title):
    """The test confusion matrix, rows the true class and columns the predicted one."""
    fig = Figure(figsize=(8.5, 7.5))
    ax = fig.subplots()
    image = ax.imshow(counts, cmap="Blues")
    ticks = np.arange(len(CLASS_NAMES))
    ax.set_xticks(ticks, CLASS_NAMES, fontsize=7)
    ax.set_yticks(ticks, CLASS_NAMES, fontsize=7)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


def boxes(image, boxes, predicted):
    """The photo with each box and its predicted character drawn on it."""
    h, w = image.shape[:2]
    fig = Figure(figsize=(10, 10 * h / w))
    ax = fig.subplots()
    step = max(1, w // 1600)  # the saved figure is about 1,200 pixels wide: no need to resample more
    ax.imshow(image[::step, ::step], cmap="gray" if image.ndim == 2 else None, extent=(0, w, h, 0))
    size = max(6, min(16, 600 / max(len(boxes), 1) ** 0.5))
    for (y1, x1, y2, x2), char in zip(boxes, predicted):
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color="red", linewidth=1))
        ax.text(x1, y1, char, color="blue", fontsize=size, va="bottom", fontweight="bold")
    ax.axis("off")
    return fig


def crops(rows, predicted):
    """Every 32 x 32 crop the classifier saw, upright, titled with its prediction."""
    return image_grid(upright(rows), titles=predicted)
