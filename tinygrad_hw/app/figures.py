"""Figures that several commands draw, as matplotlib Figures (saved with `files.save_figure`)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


def training_curves(history, title):
    """Accuracy (train and valid) and loss (train and valid, per sample) over epochs."""
    fig = Figure(figsize=(10, 3.8))
    acc, loss = fig.subplots(1, 2)
    epochs = np.arange(1, len(history["train_accuracy"]) + 1)
    for split in ("train", "valid"):
        acc.plot(epochs, history[f"{split}_accuracy"], label=split)
        loss.plot(epochs, history[f"{split}_loss"], label=split)
    acc.set(xlabel="epoch", ylabel="accuracy", title=f"{title}: accuracy")
    loss.set(xlabel="epoch", ylabel="cross-entropy per sample", title=f"{title}: loss")
    acc.legend()
    loss.legend()
    return fig


def image_grid(images, titles=None, columns=12, cell=(0.8, 0.95)):
    """Grey images (values in [0, 1]) in rows of at most `columns`, each under its title if given;
    `cell` is the width and height of one image in inches."""
    count = max(len(images), 1)
    columns = min(columns, count)
    lines = int(np.ceil(count / columns))
    fig = Figure(figsize=(columns * cell[0], lines * cell[1]))
    axes = fig.subplots(lines, columns, squeeze=False).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, image, title in zip(axes, images, titles if titles is not None else [None] * len(images)):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        if title is not None:
            ax.set_title(title, fontsize=8)
    return fig
