"""Figures of a classifier's test results: the confusion matrix and a grid of labelled test images."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


def confusion(counts, class_names, title):
    """The confusion matrix, rows the true class and columns the predicted one, counts written in."""
    n = len(class_names)
    fig = Figure(figsize=(max(5.0, 0.55 * n + 2.5), max(4.5, 0.5 * n + 2)))
    ax = fig.subplots()
    image = ax.imshow(counts, cmap="Blues")
    ticks = np.arange(n)
    ax.set_xticks(ticks, class_names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(ticks, class_names, fontsize=8)
    if n <= 20:
        high = counts.max() / 2 if counts.size else 0
        for t in range(n):
            for p in range(n):
                if counts[t, p]:
                    colour = "white" if counts[t, p] > high else "black"
                    ax.text(p, t, str(counts[t, p]), ha="center", va="center", fontsize=6, color=colour)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


def grid_indices(labels, classes: int, per_class: int, seed: int) -> np.ndarray:
    """Up to `per_class` images of every class, chosen at random with `seed`, class by class."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in range(classes)]
    return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)


def prediction_grid(images, true, predicted, class_names, title, columns=8):
    """uint8 images N x 3 x H x W, each titled with its predicted class; a wrong prediction is drawn in
    red with a red frame and also names the true class."""
    n = len(images)
    rows = max(1, -(-n // columns))
    fig = Figure(figsize=(columns * 1.35, rows * 1.55 + 0.5))
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    wrong = 0
    for ax in axes:
        ax.set_axis_off()
    for ax, image, t, p in zip(axes, images, true, predicted):
        ax.imshow(np.asarray(image).transpose(1, 2, 0), interpolation="nearest")
        if t == p:
            ax.set_title(class_names[p], fontsize=7, color="black")
            continue
        wrong += 1
        ax.set_title(f"{class_names[p]}\n(true: {class_names[t]})", fontsize=7, color="red")
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_color("red")
            spine.set_linewidth(2.5)
    fig.suptitle(f"{title}: {n - wrong} of {n} right (red: wrong, with the true class)", fontsize=10)
    return fig
