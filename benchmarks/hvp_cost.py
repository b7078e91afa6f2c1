"""The cost of a Hessian-vector product against one gradient, measured side by side.

`tinygrad_hw.hvp` is forward mode over reverse mode: one reverse pass whose every operation also
pushes a tangent forward. Each primitive's work at least doubles (value and tangent, cotangent and
its tangent), so the theory says 2-3 gradients; the target is at most 3. Timed on the NIST36 MLP
(1024 -> 64 sigmoid -> 36, softmax cross-entropy) and on a small CNN, interleaved, best of
`repeats`.
"""

from __future__ import annotations

import time

import numpy as np

import tinygrad_hw as tg
from tinygrad_hw import layers, nn


def _mlp_problem(rng, batch):
    params = {
        "W1": nn.xavier_uniform(rng, 1024, 64),
        "b1": np.zeros(64),
        "W2": nn.xavier_uniform(rng, 64, 36),
        "b2": np.zeros(36),
    }
    x, y = rng.random((batch, 1024)), rng.integers(0, 36, batch)

    def loss(p):
        hidden = tg.sigmoid(tg.affine(x, p["W1"], p["b1"]))
        return tg.softmax_cross_entropy(tg.affine(hidden, p["W2"], p["b2"]), y)

    return loss, params


def _cnn_problem(rng, batch):
    params = {"conv": layers.conv2d_init(rng, 1, 8, 3), "head": nn.init_dense(rng, 8 * 16 * 16, 10)}
    x, y = rng.random((batch, 1, 32, 32)), rng.integers(0, 10, batch)

    def loss(p):
        h = tg.max_pool2d(tg.relu(layers.conv2d(p["conv"], x, padding=1)), 2)
        return tg.softmax_cross_entropy(nn.dense(p["head"], tg.reshape(h, (batch, -1)), activation=None), y)

    return loss, params


PROBLEMS = {
    "MLP 1024-64-36, batch 256": (_mlp_problem, 256),
    "CNN conv 8 + pool + dense, batch 32": (_cnn_problem, 32),
}


def time_hvp(repeats=5, seed=0):
    """Rows of (problem, gradient seconds, hvp seconds, ratio), float64."""
    return [_time_one(name, make, batch, repeats, seed) for name, (make, batch) in PROBLEMS.items()]


def _time_one(name, make, batch, repeats, seed):
    rng = np.random.default_rng(seed)
    loss, params = make(rng, batch)
    direction = tg.tree_map(lambda p: rng.standard_normal(p.shape), params)
    calls = {"gradient": lambda: tg.grad(loss)(params), "hvp": lambda: tg.hvp(loss, (params,), (direction,))}
    timings = {what: [] for what in calls}
    for _ in range(repeats):
        for what, call in calls.items():  # interleaved: both see the same machine state
            start = time.perf_counter()
            call()
            timings[what].append(time.perf_counter() - start)
    g, h = min(timings["gradient"]), min(timings["hvp"])
    return {"problem": name, "gradient_s": g, "hvp_s": h, "ratio": h / g}
