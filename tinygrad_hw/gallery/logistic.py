"""Logistic regression: two overlapping Gaussian clouds in the plane, one linear boundary.

p(y = 1 | x) = sigmoid(x . w + b), trained on the mean negative log-likelihood, written with
log_sigmoid so that confident mistakes cost a large finite loss rather than log(0).
"""

import numpy as np

from .. import primitives as tg

OPTIMISER, OPTIMISER_SETTINGS, STEPS, BATCH, CLIP = "adam", {"lr": 0.05}, 150, 64, 10.0


def data(rng, n=400):
    y = rng.integers(0, 2, n)
    x = rng.standard_normal((n, 2)) + np.where(y[:, None] == 1, 1.2, -1.2) * np.array([1.0, 0.5])
    return x, y.astype(np.float64)


def init(rng):
    return {"w": np.zeros(2), "b": np.zeros(())}, None


def logits(params, x):
    return x @ params["w"] + params["b"]


def loss(params, state, x, y, rng, training):
    z = logits(params, x)
    return -tg.mean(y * tg.log_sigmoid(z) + (1 - y) * tg.log_sigmoid(-z)), state


def accuracy(params, state, x, y):
    return float(np.mean((logits(params, x) > 0) == (y == 1)))
