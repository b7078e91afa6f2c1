"""Losses: fused softmax cross-entropy, mean squared error and total squared error.

Fusing softmax with cross-entropy gives both stability (log-softmax never takes log of 0) and a
simple gradient: d loss / d logits = softmax(logits) - labels, divided by N for the mean.
"""

from __future__ import annotations

import numpy as np

from ..primitive import ShapeError, primitive
from ..tensor import primal, shape_of
from .activations import log_softmax_np, softmax

_REDUCTIONS = ("mean", "sum")


def _label_matrix(labels, logits_shape, dtype):
    """Labels as an (N, C) matrix: one-hot rows for integer labels, the given rows otherwise."""
    labels = np.asarray(primal(labels))
    n, classes = logits_shape
    if np.issubdtype(labels.dtype, np.integer):
        if labels.shape != (n,):
            raise ShapeError(
                f"softmax_cross_entropy: integer labels must have shape ({n},) for logits "
                f"{logits_shape}, got {labels.shape}"
            )
        if n and (labels.min() < 0 or labels.max() >= classes):
            raise ValueError(
                f"softmax_cross_entropy: labels must lie in [0, {classes}), "
                f"got {labels.min()}..{labels.max()}"
            )
        onehot = np.zeros(logits_shape, dtype=dtype)
        onehot[np.arange(n), labels] = 1
        return onehot
    if labels.shape != tuple(logits_shape):
        raise ShapeError(
            f"softmax_cross_entropy: one-hot labels must have the logits' shape {logits_shape}, "
            f"got {labels.shape}"
        )
    return labels.astype(dtype, copy=False)


def _check_logits(logits, reduction):
    if len(shape_of(logits)) != 2:
        raise ShapeError(f"softmax_cross_entropy: logits must be (N, C), got shape {shape_of(logits)}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"softmax_cross_entropy: reduction must be 'mean' or 'sum', got {reduction!r}")


@primitive
def softmax_cross_entropy(logits, labels, reduction="mean"):
    """Cross-entropy of softmax(logits) against labels (integer classes, or (N, C) one-hot rows).

    `reduction="mean"` averages over the N rows, `"sum"` adds them up.
    """
    _check_logits(logits, reduction)
    targets = _label_matrix(labels, logits.shape, logits.dtype)
    total = -np.sum(targets * log_softmax_np(logits))
    return total / logits.shape[0] if reduction == "mean" else total


def _softmax_cross_entropy_vjp(g, ans, logits, labels, reduction="mean"):
    targets = _label_matrix(labels, shape_of(logits), logits.dtype)
    scale = g / shape_of(logits)[0] if reduction == "mean" else g
    # d/dz of -sum_c y_c log softmax(z)_c = softmax(z) * sum_c y_c - y  (= softmax - y for one-hot)
    return (softmax(logits) * np.sum(targets, axis=1, keepdims=True) - targets) * scale


softmax_cross_entropy.defvjp(_softmax_cross_entropy_vjp)


@softmax_cross_entropy.defsample
def _(draw):
    n, classes = draw.integer(1, 4), draw.integer(2, 5)
    integer_labels = draw.array((n,), 0, classes - 1e-9).astype(np.int64)
    labels = draw.choice([integer_labels, np.eye(classes)[integer_labels]])
    return [draw.array((n, classes), -3.0, 3.0)], {
        "labels": labels,
        "reduction": draw.choice(list(_REDUCTIONS)),
    }


def _check_same_shape(name, prediction, target):
    if shape_of(prediction) != shape_of(target):
        raise ShapeError(
            f"{name}: prediction shape {shape_of(prediction)} differs from target shape {shape_of(target)}"
        )


@primitive
def mse(prediction, target):
    """Mean over all elements of (prediction - target)^2."""
    _check_same_shape("mse", prediction, target)
    diff = prediction - target
    return np.sum(diff * diff) / diff.size


def _mse_scale(g, prediction, target):
    return g * (2 / max(int(np.prod(shape_of(prediction))), 1)) * (prediction - target)


mse.defvjp(
    lambda g, ans, p, t: _mse_scale(g, p, t),
    lambda g, ans, p, t: -_mse_scale(g, p, t),
)


@primitive
def sum_squared_error(prediction, target):
    """Total squared error: the sum over all elements of (prediction - target)^2."""
    _check_same_shape("sum_squared_error", prediction, target)
    diff = prediction - target
    return np.sum(diff * diff)


sum_squared_error.defvjp(
    lambda g, ans, p, t: g * 2 * (p - t),
    lambda g, ans, p, t: g * -2 * (p - t),
)


def _pair_sample(draw):
    shape = draw.shape()
    return [draw.array(shape), draw.array(shape)], {}


mse.defsample(_pair_sample)
sum_squared_error.defsample(_pair_sample)
