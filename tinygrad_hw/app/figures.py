"""Figures that several commands draw, as matplotlib Figures (saved with `files.save_figure`)."""

from __future__ import annotations

import matplotlib
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


def image_grid(images, titles=None, columns=12, cell=(0.8, 0.95), title=None):
    """Grey images of one shape (values in [0, 1]) in rows of at most `columns`, each under its title
    if given, the figure under `title`; `cell` is the width and height of one image in inches.

    The images are tiled into one array drawn on one Axes: an Axes per image made the crops of the
    four sample photos (264 Axes) take 3.3 s to lay out.
    """
    images = np.asarray(images, dtype=float) if len(images) else np.zeros((0, 1, 1))
    count, (h, w) = len(images), images.shape[1:]
    columns = max(1, min(columns, count))
    lines = max(1, int(np.ceil(count / columns)))
    gap = max(1, h // 8)
    band = int(0.4 * h) if titles is not None else 0  # room for the title above each image
    step_y, step_x = band + h + gap, w + gap
    corners = [((k // columns) * step_y + band, (k % columns) * step_x) for k in range(count)]
    mosaic = np.full((lines * step_y, columns * step_x), np.nan)  # NaN: drawn as the background
    for image, (top, left) in zip(images, corners):
        mosaic[top : top + h, left : left + w] = image
    heading = 0.4 if title else 0  # inches
    fig = Figure(figsize=(columns * cell[0], lines * cell[1] + heading))
    ax = fig.add_axes((0, 0, 1, 1 - heading / (lines * cell[1] + heading)))
    if title:
        fig.suptitle(title)
    cmap = matplotlib.colormaps["gray"].with_extremes(bad="white")
    ax.imshow(mosaic, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    for label, (top, left) in zip(titles if titles is not None else [], corners):
        ax.text(left + w / 2, top - 1, label, ha="center", va="bottom", fontsize=8)
    ax.axis("off")
    return fig
