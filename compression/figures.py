"""The compression figures, as matplotlib Figures (saved by the caller)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from ocr.nist36 import CLASS_NAMES, upright
from tinygrad_hw.app.figures import image_grid

SHOWN_CLASSES = (0, 7, 18, 26, 30)  # A, H, S, 0, 4


def loss(losses):
    """The training loss per image over epochs."""
    fig = Figure(figsize=(5.5, 3.5))
    ax = fig.subplots()
    ax.plot(np.arange(1, len(losses) + 1), losses)
    ax.set(xlabel="epoch", ylabel="squared error per image", title="autoencoder training loss", yscale="log")
    return fig


def _examples(split, classes, per_class=2):
    return [i for c in classes for i in np.flatnonzero(split.y == c)[:per_class]]


def reconstructions(splits, ae_valid, pca_test):
    """Originals beside reconstructions: the autoencoder on validation images, PCA on test images."""
    valid_rows, test_rows = (
        _examples(splits["valid"], SHOWN_CLASSES),
        _examples(splits["test"], SHOWN_CLASSES),
    )
    fig = Figure(figsize=(8, 2 * len(valid_rows) / 2.5))
    axes = fig.subplots(len(valid_rows), 4)
    titles = ("valid image", "autoencoder", "test image", "PCA (32)")
    for row, (v, t) in enumerate(zip(valid_rows, test_rows)):
        images = (splits["valid"].x[v], ae_valid[v], splits["test"].x[t], pca_test[t])
        for col, image in enumerate(images):
            ax = axes[row, col]
            ax.imshow(upright(np.clip(image, 0, 1)), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(titles[col], fontsize=9)
        axes[row, 0].set_ylabel(CLASS_NAMES[splits["valid"].y[v]], rotation=0, labelpad=12)
    return fig


def rate_distortion(points):
    """PSNR against bytes per image, one line per method."""
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for method in dict.fromkeys(p["method"] for p in points):
        series = sorted((p for p in points if p["method"] == method), key=lambda p: p["bytes"])
        style = "o-" if len(series) > 2 else "s"
        ax.plot([p["bytes"] for p in series], [p["psnr"] for p in series], style, label=method)
    ax.set(
        xscale="log",
        xlabel="bytes per 32 x 32 image",
        ylabel="PSNR on the test set (dB)",
        title="rate-distortion: PCA, autoencoder, JPEG",
    )
    ticks = [16, 32, 64, 128, 256, 512, 1024]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def decoded(rows):
    """The first 100 decoded images, upright, ten to a line."""
    return image_grid(upright(rows[:100]), columns=10, cell=(0.6, 0.6))
