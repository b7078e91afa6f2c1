"""numpy's elementwise functions of two arrays (broadcasting), each with its derivatives.

As for arithmetic, each VJP sums its cotangent back to its argument's shape (`unbroadcast`) and
each JVP needs no such care. The subtleties, matched to HIPS autograd and tested:
  * `maximum`/`minimum` split the gradient equally between two equal arguments;
  * `clip` passes the gradient to x strictly inside [a_min, a_max], and to a bound where it binds;
  * `mod` is x - floor(x / y) y, so its derivative in y is -floor(x / y).
Comparisons (`equal`, `less`, ...) give boolean arrays and have no derivative.
"""

from __future__ import annotations

import numpy as np

from ..primitive import primitive
from ..tensor import dtype_of, primal, shape_of
from .arithmetic import exp
from .elementwise import floor, trunc
from .shape import unbroadcast


def _binary_sample(low=-2.0, high=2.0, away_from=None):
    def sample(draw):
        a_shape, b_shape = draw.broadcastable_shapes(2)
        return [draw.array(a_shape, low, high, away_from), draw.array(b_shape, low, high, away_from)], {}

    return sample


def _defrules(prim, slope_a, slope_b):
    """VJPs and JVPs of a binary elementwise primitive from its two partial derivatives."""
    prim.defvjp(
        lambda g, ans, a, b: unbroadcast(g * slope_a(ans, a, b), shape_of(a)),
        lambda g, ans, a, b: unbroadcast(g * slope_b(ans, a, b), shape_of(b)),
    )
    prim.defjvp(lambda t, ans, a, b: t * slope_a(ans, a, b), lambda t, ans, a, b: t * slope_b(ans, a, b))


# -- maximum and minimum -----------------------------------------------------------------------


def _share(a, b, wins):
    """1 where a wins, 1/2 where a and b tie, 0 where b wins (constants: the slope of a choice)."""
    a, b = primal(a), primal(b)
    return wins(a, b) + 0.5 * (a == b)


@primitive
def maximum(a, b):
    """The larger of a and b, elementwise; a tie gives each half the gradient."""
    return np.maximum(a, b)


@primitive
def minimum(a, b):
    """The smaller of a and b, elementwise; a tie gives each half the gradient."""
    return np.minimum(a, b)


_defrules(maximum, lambda ans, a, b: _share(a, b, np.greater), lambda ans, a, b: _share(b, a, np.greater))
_defrules(minimum, lambda ans, a, b: _share(a, b, np.less), lambda ans, a, b: _share(b, a, np.less))


maximum.defsample(_binary_sample())  # ties are tested apart: the split is a jump, which a
minimum.defsample(_binary_sample())  # second-order check by central differences cannot cross
fmax, fmin = maximum, minimum


# -- clip --------------------------------------------------------------------------------------


@primitive
def clip(x, a_min, a_max):
    """x limited to [a_min, a_max] (either bound may be None); bounds broadcast like x."""
    if a_min is None and a_max is None:
        return np.array(x, copy=True)
    return np.clip(np.asarray(x), a_min, a_max)  # (numpy scalars refuse bounds of more dimensions)


def _inside(x, a_min, a_max):
    x = primal(x)
    above_min = True if a_min is None else x > primal(a_min)
    below_max = True if a_max is None else x < primal(a_max)
    return np.logical_and(above_min, below_max)


def _below(x, a_min, a_max):
    below = primal(x) < primal(a_min)
    return below if a_max is None else below & (primal(a_min) <= primal(a_max))


def _above(x, a_min, a_max):
    above = primal(x) > primal(a_max)
    return above if a_min is None else above | (primal(a_min) > primal(a_max))


clip.defvjp(
    lambda g, ans, x, a_min, a_max: unbroadcast(g * _inside(x, a_min, a_max), shape_of(x)),
    lambda g, ans, x, a_min, a_max: unbroadcast(g * _below(x, a_min, a_max), shape_of(a_min)),
    lambda g, ans, x, a_min, a_max: unbroadcast(g * _above(x, a_min, a_max), shape_of(a_max)),
)
clip.defjvp(
    lambda t, ans, x, a_min, a_max: t * _inside(x, a_min, a_max),
    lambda t, ans, x, a_min, a_max: t * _below(x, a_min, a_max),
    lambda t, ans, x, a_min, a_max: t * _above(x, a_min, a_max),
)


@clip.defsample
def _(draw):
    x_shape, bound_shape = draw.broadcastable_shapes(2)
    # x near -1.5, 0 or 1.5: below, between and above bounds drawn from [-1, -0.2] and [0.2, 1]
    x = 1.5 * np.round(draw.array(x_shape, -1.4, 1.4)) + draw.array(x_shape, -0.1, 0.1)
    return [x, draw.array(bound_shape, -1.0, -0.2), draw.array(bound_shape, 0.2, 1.0)], {}


# -- two-argument math -------------------------------------------------------------------------


@primitive
def arctan2(y, x):
    """The angle of the point (x, y), in (-pi, pi]."""
    return np.arctan2(y, x)


@primitive
def hypot(a, b):
    """sqrt(a^2 + b^2), without overflow."""
    return np.hypot(a, b)


@primitive
def logaddexp(a, b):
    """log(exp(a) + exp(b)), without overflow."""
    return np.logaddexp(a, b)


@primitive
def logaddexp2(a, b):
    """log2(2^a + 2^b), without overflow."""
    return np.logaddexp2(a, b)


@primitive
def mod(x, y):
    """x - floor(x / y) * y: the remainder with the sign of y (numpy's mod, Python's %)."""
    return np.mod(x, y)


@primitive
def fmod(x, y):
    """x - trunc(x / y) * y: the remainder with the sign of x (C's fmod)."""
    return np.fmod(x, y)


remainder = mod
# Each is a function of its own (not numpy's ufunc registered as it is): the ufunc's options
# (`out=`, `where=`, `dtype=`), which the derivative rules know nothing of, are then refused.
_defrules(arctan2, lambda ans, y, x: x / (x * x + y * y), lambda ans, y, x: -y / (x * x + y * y))
_defrules(hypot, lambda ans, a, b: a / ans, lambda ans, a, b: b / ans)
_defrules(logaddexp, lambda ans, a, b: exp(a - ans), lambda ans, a, b: exp(b - ans))
_defrules(logaddexp2, lambda ans, a, b: 2 ** (a - ans), lambda ans, a, b: 2 ** (b - ans))
_defrules(mod, lambda ans, x, y: 1, lambda ans, x, y: -floor(x / y))
_defrules(fmod, lambda ans, x, y: 1, lambda ans, x, y: -trunc(x / y))

arctan2.defsample(_binary_sample(away_from=0.0))
hypot.defsample(_binary_sample(away_from=0.0))
logaddexp.defsample(_binary_sample())
logaddexp2.defsample(_binary_sample())


@mod.defsample
@fmod.defsample
def _(draw):
    x_shape, y_shape = draw.broadcastable_shapes(2)
    # |y| in [1, 1.05] and x within 0.1 of a half-integer up to 3.5: x / y stays mid-step
    x = np.round(draw.array(x_shape, -3.0, 3.0)) + 0.5 + draw.array(x_shape, -0.1, 0.1)
    y = draw.choice([1.0, -1.0]) * (1 + draw.array(y_shape, 0.0, 0.05))
    return [x, y], {}


@primitive
def floor_divide(x, y):
    """floor(x / y) (Python's //); zero derivative."""
    return np.floor_divide(x, y)


floor_divide.defvjp(
    lambda g, ans, x, y: np.zeros(shape_of(x), dtype_of(g)),
    lambda g, ans, x, y: np.zeros(shape_of(y), dtype_of(g)),
)
floor_divide.defjvp(*[lambda t, ans, x, y: np.zeros(shape_of(ans), dtype_of(t))] * 2)
floor_divide.defsample(lambda draw: ([np.array([1.3, -2.6, 3.2]), np.array([1.0, 1.1, -2.0])], {}))


# -- comparisons: boolean arrays, no derivative ------------------------------------------------


def equal(a, b):
    return primal(a) == primal(b)


def not_equal(a, b):
    return primal(a) != primal(b)


def less(a, b):
    return primal(a) < primal(b)


def less_equal(a, b):
    return primal(a) <= primal(b)


def greater(a, b):
    return primal(a) > primal(b)


def greater_equal(a, b):
    return primal(a) >= primal(b)
