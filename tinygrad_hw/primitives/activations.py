"""Nonlinearities: sigmoid, tanh, relu and its relatives, softplus, GELU, softmax, log-softmax.

Each rule is written in terms of the output where that is cheaper: sigmoid' = s (1 - s),
tanh' = 1 - t^2, and softmax's products with its Jacobian, s * (g - <g, s>) both ways, which never
form the C x C Jacobian. relu, leaky_relu and elu take their slope at 0 from the left (0, the
negative slope, alpha), as PyTorch and JAX do.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from ..primitive import primitive
from ..tensor import primal
from .arithmetic import exp
from .elementwise import erf
from .shape import sum, where


@primitive
def sigmoid(x):
    """1 / (1 + e^-x), without overflow for large |x| (scipy's `expit`)."""
    if isinstance(x, np.ndarray) and x.dtype in _FAST_SIGMOID and x.ndim:
        return _sigmoid_as_written(x)
    return expit(x)


_FAST_SIGMOID = (np.dtype(np.float32), np.dtype(np.float64))


def _sigmoid_as_written(x):
    """The fast path: 1 / (1 + e^-x) as written, 3-4x faster than `expit` (numpy's exp is vectorised)
    and within an ulp of it. e^-x overflows to infinity below about -88 (float32) or -709
    (float64), which gives exactly the right limit, 0: that warning is silenced. (float16 would
    overflow while the answer is still representable, so it takes `expit`.)"""
    with np.errstate(over="ignore"):
        e = np.exp(-x)
    e += 1
    return np.reciprocal(e, out=e)


sigmoid.defvjp(lambda g, ans, x: g * ans * (1 - ans))
sigmoid.defjvp(lambda t, ans, x: t * ans * (1 - ans))


@primitive
def tanh(x):
    """Hyperbolic tangent."""
    return np.tanh(x)


tanh.defvjp(lambda g, ans, x: g * (1 - ans * ans))
tanh.defjvp(lambda t, ans, x: t * (1 - ans * ans))


@primitive
def relu(x):
    """max(x, 0). Its derivative at 0 is taken to be 0."""
    return np.maximum(x, 0)


relu.defvjp(lambda g, ans, x: g * (primal(x) > 0))
relu.defjvp(lambda t, ans, x: t * (primal(x) > 0))


# np.where chooses element by element with a branch: on 0.5 M float32 values of random sign it took
# 1.9 ms, a ufunc 0.1-0.2 ms (numpy 2.4). For a slope s in (0, 1), the usual case, the larger of x
# and s x is exactly the definition's choice (x where x > 0, else s x; infinities and NaN
# included), and the larger of [x > 0] and s is exactly its slope; other slopes take np.where.


def _ufunc_slope(negative_slope):
    """Whether the slope is one number in (0, 1) (a slope per channel, broadcast, takes np.where)."""
    return np.ndim(negative_slope) == 0 and 0 < negative_slope < 1


@primitive
def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, else negative_slope * x."""
    if _ufunc_slope(negative_slope):
        return np.maximum(x, negative_slope * x)
    return np.where(x > 0, x, negative_slope * x)


def _leaky_slope(x, negative_slope):
    """1 where x > 0, else negative_slope, in x's floating dtype and memory order."""
    x = primal(x)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    if _ufunc_slope(negative_slope):
        return np.maximum(x > 0, dtype.type(negative_slope))
    return np.where(x > 0, dtype.type(1), dtype.type(negative_slope))


leaky_relu.defvjp(lambda g, ans, x, negative_slope=0.01: g * _leaky_slope(x, negative_slope))
leaky_relu.defjvp(lambda t, ans, x, negative_slope=0.01: t * _leaky_slope(x, negative_slope))


@primitive
def elu(x, alpha=1.0):
    """x where x > 0, else alpha (e^x - 1): smooth below zero, with mean activations nearer 0."""
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _elu_slope(ans, x, alpha):
    return where(primal(x) > 0, 1.0, ans + alpha)


elu.defvjp(lambda g, ans, x, alpha=1.0: g * _elu_slope(ans, x, alpha))
elu.defjvp(lambda t, ans, x, alpha=1.0: t * _elu_slope(ans, x, alpha))


@primitive
def softplus(x):
    """log(1 + e^x), without overflow: a smooth relu whose slope is sigmoid(x)."""
    return np.logaddexp(x, 0)


softplus.defvjp(lambda g, ans, x: g * sigmoid(x))
softplus.defjvp(lambda t, ans, x: t * sigmoid(x))


def gelu(x, approximate=True):
    """Gaussian error linear unit x Phi(x): the tanh approximation by default (as JAX), the exact
    form with erf when `approximate=False` (PyTorch's default). A composition of primitives."""
    if approximate:
        return 0.5 * x * (1 + tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x * x * x)))
    return 0.5 * x * (1 + erf(x * (1 / np.sqrt(2))))


def silu(x):
    """x sigmoid(x) (also called swish)."""
    return x * sigmoid(x)


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), without overflow."""
    return -softplus(-x)


def _elementwise_sample(away_from=None):
    def sample(draw):
        return [draw.array(draw.shape(), -3.0, 3.0, away_from)], {}

    return sample


sigmoid.defsample(_elementwise_sample())
tanh.defsample(_elementwise_sample())
relu.defsample(_elementwise_sample(away_from=0.0))
leaky_relu.defsample(lambda draw: ([draw.array(draw.shape(), -3.0, 3.0, 0.0)], {"negative_slope": 0.1}))
elu.defsample(lambda draw: ([draw.array(draw.shape(), -3.0, 3.0, 0.0)], {"alpha": draw.choice([1.0, 0.5])}))
softplus.defsample(_elementwise_sample())


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
softmax.defjvp(lambda t, ans, x, axis=-1: ans * (t - sum(t * ans, axis=axis, keepdims=True)))


@primitive
def log_softmax(x, axis=-1):
    """log(softmax(x)), computed without forming the softmax."""
    return log_softmax_np(x, axis)


log_softmax.defvjp(lambda g, ans, x, axis=-1: g - exp(ans) * sum(g, axis=axis, keepdims=True))
log_softmax.defjvp(lambda t, ans, x, axis=-1: t - sum(exp(ans) * t, axis=axis, keepdims=True))


def _softmax_sample(draw):
    shape = draw.shape(min_dims=1)
    return [draw.array(shape)], {"axis": draw.integer(-len(shape), len(shape) - 1)}


softmax.defsample(_softmax_sample)
log_softmax.defsample(_softmax_sample)
