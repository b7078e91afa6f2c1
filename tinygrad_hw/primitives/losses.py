"""Losses: fused softmax cross-entropy, mean squared error and total squared error.

Fusing softmax with cross-entropy gives both stability (log-softmax never takes log of 0) and a
simple gradient: d loss / d logits = softmax(logits) - labels, divided by N for the mean.
"""

from __future__ import annotations

import numpy as np

from ..primitive import ShapeError, primitive
from ..tensor import Tensor, primal, shape_of
from .activations import log_softmax_np, softmax
from .shape import sum

_REDUCTIONS = ("mean", "sum")


def _checked_labels(logits, labels, reduction):
    """The labels as an array, after checking them against the (N, C) logits."""
    if logits.ndim != 2:
        raise ShapeError(f"softmax_cross_entropy: logits must be (N, C), got shape {logits.shape}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"softmax_cross_entropy: reduction must be 'mean' or 'sum', got {reduction!r}")
    labels = np.asarray(primal(labels))
    n, classes = logits.shape
    if n == 0:
        raise ValueError("softmax_cross_entropy: no rows (the loss of an empty batch is undefined)")
    if labels.dtype.kind in "iu":
        if labels.shape != (n,):
            raise ShapeError(
                f"softmax_cross_entropy: integer labels must have shape ({n},) for logits "
                f"{logits.shape}, got {labels.shape}"
            )
        if n and np.minimum.reduce(labels) < 0:  # labels too large are caught when indexing
            _label_range_error(labels, classes)
    elif labels.shape != (n, classes):
        raise ShapeError(
            f"softmax_cross_entropy: labels must be integers of shape ({n},) or one-hot rows of "
            f"the logits' shape {logits.shape}, got {labels.dtype} of shape {labels.shape}"
        )
    return labels


def _label_range_error(labels, classes):
    raise ValueError(
        f"softmax_cross_entropy: labels must lie in [0, {classes}), got {labels.min()}..{labels.max()}"
    )


def _one_hot(labels, shape, dtype):
    rows = np.zeros(shape, dtype=dtype)
    rows[np.arange(shape[0]), labels] = 1
    return rows


@primitive
def softmax_cross_entropy(logits, labels, reduction="mean"):
    """Cross-entropy of softmax(logits) against labels (integer classes, or (N, C) one-hot rows).

    `reduction="mean"` averages over the N rows, `"sum"` adds them up.
    """
    return _softmax_cross_entropy_saving(logits, labels, reduction)[0]


@softmax_cross_entropy.defsaving
def _softmax_cross_entropy_saving(logits, labels, reduction="mean"):
    """The loss, and what its gradient needs again: for integer labels, e^(z - max), each row's sum
    of it and the row numbers (one-hot labels save nothing). Handed to the VJP in a training step,
    they save it four passes over the logits: 12.4 -> 5.4 us at batch 32 x 36 classes."""
    labels = _checked_labels(logits, labels, reduction)
    if labels.ndim == 1:
        total, saved = _integer_label_loss(logits, labels)
    else:
        total, saved = -np.add.reduce(labels * log_softmax_np(logits), axis=None), None
    return (total / logits.shape[0] if reduction == "mean" else total), saved


def _integer_label_loss(logits, labels):
    """sum over rows of log(sum_c e^z_c) - z_label, computed as (log-sum-exp - max) + (max - z_label),
    and the exponentials it was computed from (see above).

    Both terms of each row are >= 0, so nothing cancels, and the log-probabilities of the classes
    that are not the label are never formed (this runs in every training step).
    """
    shifted, exps, sums = _shifted_exponentials(logits)
    rows = np.arange(len(labels))
    try:
        label_shifted = shifted[rows, labels]
    except IndexError:
        _label_range_error(labels, logits.shape[1])
    return np.add.reduce(np.log(sums) - label_shifted), (exps, sums, rows)


def _shifted_exponentials(logits):
    """z - max, e^(z - max) and its sum, row by row: what the loss and its gradient share."""
    shifted = logits - np.maximum.reduce(logits, axis=1, keepdims=True)
    exps = np.exp(shifted)
    return shifted, exps, np.add.reduce(exps, axis=1)


def _softmax_cross_entropy_vjp(g, ans, logits, labels, reduction="mean", saved=None):
    labels = np.asarray(primal(labels))
    shape = logits.shape
    scale = g / shape[0] if reduction == "mean" else g
    if labels.ndim == 2:
        # d/dz of -sum_c y_c log softmax(z)_c = softmax(z) * sum_c y_c - y  (= softmax - y for one-hot)
        labels = labels.astype(logits.dtype, copy=False)
        return (softmax(logits) * labels.sum(axis=1, keepdims=True) - labels) * scale
    if type(logits) is np.ndarray and type(scale) is not Tensor:
        # First order: (softmax - one-hot) * scale from e^(z - max), the scale folded into each
        # row's normaliser. The forward pass's exponentials when it saved them (a training step),
        # else computed again (a direct call, or forward mode's rule below).
        if saved is None:
            saved = _shifted_exponentials(logits)[1:] + (np.arange(shape[0]),)
        exps, sums, rows = saved
        # in the logits' dtype, whatever the cotangent's (a float64 g must not make it float64)
        gradient = exps * np.divide(scale, sums, dtype=exps.dtype)[:, np.newaxis]
        gradient[rows, labels] -= scale
        return gradient
    return (softmax(logits) - _one_hot(labels, shape, logits.dtype)) * scale


softmax_cross_entropy.defvjp(_softmax_cross_entropy_vjp)
softmax_cross_entropy.defjvp(
    lambda t, ans, logits, labels, reduction="mean": sum(
        _softmax_cross_entropy_vjp(1.0, ans, logits, labels, reduction) * t
    )
)


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
    if diff.size == 0:
        raise ValueError("mse: no elements (the mean of nothing is undefined)")
    return np.sum(diff * diff) / diff.size


def _mse_scale(g, prediction, target):
    return g * (2 / max(int(np.prod(shape_of(prediction))), 1)) * (prediction - target)


mse.defvjp(
    lambda g, ans, p, t: _mse_scale(g, p, t),
    lambda g, ans, p, t: -_mse_scale(g, p, t),
)
mse.defjvp(
    lambda dp, ans, p, t: sum(dp * _mse_scale(1.0, p, t)),
    lambda dt, ans, p, t: -sum(dt * _mse_scale(1.0, p, t)),
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
sum_squared_error.defjvp(
    lambda dp, ans, p, t: sum(dp * 2 * (p - t)),
    lambda dt, ans, p, t: sum(dt * -2 * (p - t)),
)


def _pair_sample(draw):
    shape = draw.shape()
    return [draw.array(shape), draw.array(shape)], {}


mse.defsample(_pair_sample)
sum_squared_error.defsample(_pair_sample)
