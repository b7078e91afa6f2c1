"""Nonlinearities: sigmoid, tanh, relu, softmax and log-softmax.

Each VJP is written in terms of the output where that is cheaper: sigmoid' = s (1 - s),
tanh' = 1 - t^2, and the softmax Jacobian-vector product s * (g - <g, s>), which never forms the
C x C Jacobian.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from ..primitive import primitive
from ..tensor import primal
from .arithmetic import exp
from .shape import sum


@primitive
def sigmoid(x):
    """1 / (1 + e^-x), without overflow for large |x|."""
    return expit(x)


sigmoid.defvjp(lambda g, ans, x: g * ans * (1 - ans))


@primitive
def tanh(x):
    """Hyperbolic tangent."""
    return np.tanh(x)


tanh.defvjp(lambda g, ans, x: g * (1 - ans * ans))


@primitive
def relu(x):
    """max(x, 0). Its derivative at 0 is taken to be 0."""
    return np.maximum(x, 0)


relu.defvjp(lambda g, ans, x: g * (primal(x) > 0))


def _elementwise_sample(away_from=None):
    def sample(draw):
        return [draw.array(draw.shape(), -3.0, 3.0, away_from)], {}

    return sample


sigmoid.defsample(_elementwise_sample())
tanh.defsample(_elementwise_sample())
relu.defsample(_elementwise_sample(away_from=0.0))


def softmax_np(x, axis=-1):
    """Numerically stable softmax on plain numpy (shared with the fused loss)."""
    e = np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True))
    return e / np.add.reduce(e, axis=axis, keepdims=True)


def log_softmax_np(x, axis=-1):
    """Numerically stable log-softmax on plain numpy: shift by the max before exponentiating."""
    shifted = x - np.maximum.reduce(x, axis=axis, keepdims=True)
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))


@primitive
def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis`; invariant to adding a constant along that axis."""
    return softmax_np(x, axis)


softmax.defvjp(lambda g, ans, x, axis=-1: ans * (g - sum(g * ans, axis=axis, keepdims=True)))


@primitive
def log_softmax(x, axis=-1):
    """log(softmax(x)), computed without forming the softmax."""
    return log_softmax_np(x, axis)


log_softmax.defvjp(lambda g, ans, x, axis=-1: g - exp(ans) * sum(g, axis=axis, keepdims=True))


def _softmax_sample(draw):
    shape = draw.shape(min_dims=1)
    return [draw.array(shape)], {"axis": draw.integer(-len(shape), len(shape) - 1)}


softmax.defsample(_softmax_sample)
log_softmax.defsample(_softmax_sample)
