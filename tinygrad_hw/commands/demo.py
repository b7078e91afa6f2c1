"""`python -m tinygrad_hw demo`: train a small classifier on generated spirals, then check its gradients.

It needs no data and no download: three interleaved spirals in the plane are generated from the
seed, a 2 -> 64 tanh -> 3 softmax network (a plain function on the engine) is trained with
momentum, the loss is printed as it falls, and `check_grads` verifies the model's gradient (and its
gradient of the gradient) against central differences.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from tinygrad_hw import check_grads, nn, softmax_cross_entropy, tanh
from tinygrad_hw.app.cli import note_unused_data_dir
from tinygrad_hw.app.files import save_figure, write_json
from tinygrad_hw.app.training import train_classifier


def make_spirals(rng, points_per_class=200, classes=3, noise=0.2):
    """Points on `classes` interleaved spiral arms, with Gaussian noise on the angle."""
    radius = np.tile(np.linspace(0.05, 1.0, points_per_class), classes)
    label = np.repeat(np.arange(classes), points_per_class)
    angle = radius * 4.0 + label * 2 * np.pi / classes + rng.normal(0, noise, radius.size)
    x = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    return x, label


def init_classifier(rng, hidden=64, classes=3):
    return {"hidden": nn.init_dense(rng, 2, hidden), "output": nn.init_dense(rng, hidden, classes)}


def classifier(params, x):
    """Logits of a one-hidden-layer tanh network."""
    return nn.dense(params["output"], nn.dense(params["hidden"], x, tanh), activation=None)


def loss(params, x, y):
    return softmax_cross_entropy(classifier(params, x), y)


def train(params, x, y, *, epochs, lr, batch_size, rng, report_every):
    """Momentum SGD (the shared loop); prints the loss over the whole set every `report_every` epochs."""
    params, history = train_classifier(
        classifier, params, (x, y), (x, y), epochs=epochs, lr=lr, batch_size=batch_size, rng=rng
    )
    for epoch, (loss_value, acc) in enumerate(zip(history["valid_loss"], history["valid_accuracy"]), 1):
        if epoch == 1 or epoch % report_every == 0:
            print(f"epoch {epoch:4d}  loss {loss_value:.4f}  accuracy {acc:.3f}", flush=True)
    return params, history["valid_loss"]


def run(
    *,
    out: Path,
    data_dir: Path | None = None,
    seed: int = 0,
    epochs: int = 100,
    lr: float = 0.1,
    batch_size: int = 32,
) -> dict:
    note_unused_data_dir(data_dir, "the engine demo")
    out.mkdir(parents=True, exist_ok=True)  # fail before training, not after
    rng = np.random.default_rng(seed)
    x, y = make_spirals(rng)
    params = init_classifier(rng)
    initial_loss = float(loss(params, x, y))
    print(f"training a 2-64-3 tanh network on {len(x)} spiral points; initial loss {initial_loss:.4f}")
    start = time.perf_counter()
    report_every = max(epochs // 10, 1)
    params, history = train(
        params, x, y, epochs=epochs, lr=lr, batch_size=batch_size, rng=rng, report_every=report_every
    )
    seconds = time.perf_counter() - start
    accuracy = nn.accuracy(classifier(params, x), y)

    check = check_grads(loss, params, x[:16], y[:16], order=2)
    print(
        f"gradient check passed: {check['comparisons']} comparisons of forward and reverse mode with central "
        f"differences (first and second order), largest error {check['max_abs_error']:.1e}"
    )
    metrics = {
        "task": "engine demo: spirals",
        "seed": seed,
        "epochs": epochs,
        "learning_rate": lr,
        "batch_size": batch_size,
        "initial_loss": initial_loss,
        "final_loss": history[-1],
        "train_accuracy": accuracy,
        "train_seconds": seconds,
        "loss_history": history,
        "gradient_check": check,
    }
    write_json(out / "metrics.json", metrics)
    save_figure(out / "loss.png", _loss_figure(history))
    save_figure(out / "decision_regions.png", _regions_figure(params, x, y))
    return metrics


def _loss_figure(history):
    fig = Figure(figsize=(5, 3.5))
    ax = fig.subplots()
    ax.plot(range(1, len(history) + 1), history)
    ax.set(xlabel="epoch", ylabel="cross-entropy (whole set)", title="training loss", yscale="log")
    return fig


def _regions_figure(params, x, y):
    grid = np.linspace(-1.2, 1.2, 200)
    gx, gy = np.meshgrid(grid, grid)
    predicted = classifier(params, np.stack([gx.ravel(), gy.ravel()], axis=1)).argmax(axis=1)
    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.subplots()
    ax.contourf(gx, gy, predicted.reshape(gx.shape), levels=[-0.5, 0.5, 1.5, 2.5], alpha=0.3, cmap="brg")
    ax.scatter(x[:, 0], x[:, 1], c=y, s=6, cmap="brg")
    ax.set(title="decision regions after training", aspect="equal")
    return fig
