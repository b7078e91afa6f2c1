"""`python -m tinygrad_hw profile`: where one training step's time goes, primitive by primitive.

Profiles `value_and_grad(loss)` of a built-in workload (see `WORKLOADS`) with
`tinygrad_hw.profiler.profile`: calls, forward and backward milliseconds and share of the step for
each primitive, and the remainder spent in the engine's bookkeeping and the model's Python. Writes
metrics.json and profile.png (the shares as bars). To profile a function of your own, call
`tinygrad_hw.profiler.profile(loss, params, ...)` and print its `.table()`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import tinygrad_hw as tg
from tinygrad_hw import gallery, nn
from tinygrad_hw.app.cli import note_unused_data_dir
from tinygrad_hw.app.files import save_figure, write_json
from tinygrad_hw.profiler import profile


def _mlp(rng, batch, dtype):
    """The NIST36 MLP: 1024 -> 64 sigmoid -> 36, softmax cross-entropy."""
    params = {"hidden": nn.init_dense(rng, 1024, 64, dtype), "out": nn.init_dense(rng, 64, 36, dtype)}
    x, y = rng.random((batch, 1024)).astype(dtype), rng.integers(0, 36, batch)

    def loss(p):
        return tg.softmax_cross_entropy(nn.dense(p["out"], nn.dense(p["hidden"], x), activation=None), y)

    return loss, params, batch


def _convolutional(rng, batch, dtype, channels, side, kernel, padding, filters, hidden, classes):
    layers = {}
    size = side
    for i, f in enumerate(filters):
        layers[f"conv{i}"] = nn.conv2d_init(rng, channels if i == 0 else filters[i - 1], f, kernel, dtype)
        size = tg.conv_output_size(size, kernel, 1, padding) // 2  # after the 2x2 pooling
    width = filters[-1] * size * size
    dense = [width] + ([hidden] if hidden else []) + [classes]
    for i in range(len(dense) - 1):
        layers[f"dense{i}"] = nn.init_dense(rng, dense[i], dense[i + 1], dtype)
    x, y = rng.random((batch, channels, side, side)).astype(dtype), rng.integers(0, classes, batch)

    def loss(p):
        h = x
        for i in range(len(filters)):
            h = tg.relu(tg.max_pool2d(nn.conv2d(p[f"conv{i}"], h, padding=padding), 2))
        h = tg.reshape(h, (batch, -1))
        for i in range(len(dense) - 1):
            h = nn.dense(p[f"dense{i}"], h, activation=tg.relu if i < len(dense) - 2 else None)
        return tg.softmax_cross_entropy(h, y)

    return loss, layers, batch


def _ocr_shaped_cnn(rng, batch, dtype):
    """A CNN shaped like the OCR's: 5x5 convolutions of 24 and 48 filters, 256 hidden, 36 classes."""
    return _convolutional(rng, batch, dtype, 1, 32, 5, 0, (24, 48), 256, 36)


def _cifar_shaped_cnn(rng, batch, dtype):
    """3x3 convolutions with padding 1 (32, then 64 filters) on 3x32x32 images, a linear layer to 10."""
    return _convolutional(rng, batch, dtype, 3, 32, 3, 1, (32, 64), None, 10)


def _gallery(name):
    """A gallery example's loss on a batch of its data (at most all of it), in `dtype`."""

    def make(rng, batch, dtype):
        example = gallery.EXAMPLES[name]
        x, y = example.data(rng)
        params, state = _as_dtype(example.init(rng), dtype)
        rows = rng.choice(len(x), size=min(batch, len(x)), replace=False)
        xb, yb = _as_dtype((x[rows], y[rows]), dtype)
        return gallery.training_loss(example, state, xb, yb, rng), params, len(rows)

    return make


def _as_dtype(tree, dtype):
    """The pytree with its floating-point arrays cast to `dtype` (integer data, tokens, stay)."""
    return tg.tree_map(lambda a: a.astype(dtype) if np.issubdtype(a.dtype, np.floating) else a, tree)


WORKLOADS = {
    "mlp": _mlp,
    "cnn": _ocr_shaped_cnn,
    "cifar-cnn": _cifar_shaped_cnn,
    **{name: _gallery(name) for name in gallery.EXAMPLES},
}


def run(
    *,
    out: Path,
    data_dir: Path | None = None,
    seed: int = 0,
    model: str = "cnn",
    batch: int = 64,
    dtype: str = "float32",
    repeat: int = 10,
) -> dict:
    note_unused_data_dir(data_dir, "the profiler")
    out.mkdir(parents=True, exist_ok=True)
    loss, params, batch = WORKLOADS[model](np.random.default_rng(seed), batch, np.dtype(dtype).type)
    report = profile(loss, params, repeat=repeat)
    step = f"one value_and_grad step, {1e3 * report.step_seconds:.2f} ms (median)"
    print(f"{model}, batch {batch}, {dtype}: {step}")
    print(report.table())
    rows = [
        {"primitive": p.name, "calls": p.forward_calls, "forward_ms": 1e3 * p.forward_seconds,
         "backward_ms": 1e3 * p.backward_seconds}
        for p in report.primitives
    ]  # fmt: skip
    metrics = {
        "task": "engine profile", "model": model, "batch": batch, "dtype": dtype, "seed": seed,
        "step_ms": 1e3 * report.step_seconds, "profiled_step_ms": 1e3 * report.profiled_seconds,
        "other_ms": 1e3 * report.other_seconds, "timers_ms": 1e3 * report.timer_seconds, "primitives": rows,
    }  # fmt: skip
    write_json(out / "metrics.json", metrics)
    save_figure(out / "profile.png", _shares_figure(report, f"{model}, batch {batch}, {dtype}"))
    return metrics


def _shares_figure(report, title):
    rows = sorted(report.primitives, key=lambda p: p.seconds)
    names = [p.name for p in rows] + ["engine and Python"]
    forward = [1e3 * p.forward_seconds for p in rows] + [0.0]
    backward = [1e3 * p.backward_seconds for p in rows] + [0.0]
    other = [0.0] * len(rows) + [1e3 * report.other_seconds]
    fig = Figure(figsize=(7, 0.3 * len(names) + 1.2))
    ax = fig.subplots()
    ax.barh(names, forward, label="forward")
    ax.barh(names, backward, left=forward, label="backward (VJPs)")
    ax.barh(names, other, label="not in a primitive", color="0.6")
    ax.set(xlabel="milliseconds per step", title=title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig
