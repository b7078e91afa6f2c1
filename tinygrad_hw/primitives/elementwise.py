"""numpy's elementwise functions of one array, each with its derivative.

A function f applied element by element has a diagonal Jacobian, so both of its rules are a
product with its slope f'(x): VJP g * f'(x), JVP t * f'(x). Each entry of the table below gives the
numpy forward, the slope (written with engine operations, in terms of the output `ans` where that
is cheaper, so that it can be differentiated again), and the interval its gradient check samples.

`sign`, `floor`, `ceil`, `round`, `rint` and `trunc` are piecewise constant: their derivative is
zero wherever it exists, and they are given that (as HIPS autograd and JAX do), rather than no
derivative at all, so that a model using them still differentiates.
"""

from __future__ import annotations

import numpy as np
import scipy.special

from ..primitive import Primitive
from ..tensor import dtype_of, primal, shape_of
from .arithmetic import exp
from .shape import where

_LN2, _LN10 = np.log(2.0), np.log(10.0)


def _unary(name, forward, slope, doc, low=-2.0, high=2.0, away_from=None):
    """Register an elementwise primitive with VJP g * slope and JVP t * slope."""
    prim = Primitive(forward, name=name)
    prim.__doc__ = doc
    prim.defvjp(lambda g, ans, x: g * slope(ans, x))
    prim.defjvp(lambda t, ans, x: t * slope(ans, x))
    prim.defsample(lambda draw: ([draw.array(draw.shape(min_side=0), low, high, away_from)], {}))
    return prim


def _zero_slope(g, ans, x, **params):
    return np.zeros(shape_of(g), dtype_of(g))


def _piecewise_constant(name, forward, doc):
    """Register a step function: zero derivative, sampled away from its steps."""
    prim = Primitive(forward, name=name)
    prim.__doc__ = doc
    prim.defvjp(_zero_slope)
    prim.defjvp(_zero_slope)

    @prim.defsample
    def _(draw):
        shape = draw.shape(min_side=0)
        return [np.round(draw.array(shape, -3.0, 3.0)) + draw.array(shape, 0.1, 0.4)], {}

    return prim


sqrt = _unary("sqrt", np.sqrt, lambda ans, x: 0.5 / ans, "Square root.", 0.5, 3.0)
cbrt = _unary("cbrt", np.cbrt, lambda ans, x: 1 / (3 * ans * ans), "Cube root.", 0.5, 3.0)
square = _unary("square", np.square, lambda ans, x: 2 * x, "x * x.")
reciprocal = _unary("reciprocal", np.reciprocal, lambda ans, x: -ans * ans, "1 / x.", 0.5, 2.0)
abs = _unary(
    "abs", np.abs, lambda ans, x: np.sign(primal(x)), "|x|; its slope at 0 is taken to be 0.", away_from=0.0
)
fabs = abs
absolute = abs
log1p = _unary("log1p", np.log1p, lambda ans, x: 1 / (1 + x), "log(1 + x), accurate for small x.", -0.5, 2.0)
expm1 = _unary("expm1", np.expm1, lambda ans, x: ans + 1, "exp(x) - 1, accurate for small x.")
log2 = _unary("log2", np.log2, lambda ans, x: 1 / (x * _LN2), "Base-2 logarithm.", 0.5, 3.0)
log10 = _unary("log10", np.log10, lambda ans, x: 1 / (x * _LN10), "Base-10 logarithm.", 0.5, 3.0)
exp2 = _unary("exp2", np.exp2, lambda ans, x: ans * _LN2, "2 ** x.")
sin = _unary("sin", np.sin, lambda ans, x: cos(x), "Sine.")
cos = _unary("cos", np.cos, lambda ans, x: -sin(x), "Cosine.")
tan = _unary("tan", np.tan, lambda ans, x: 1 + ans * ans, "Tangent.", -1.2, 1.2)
arcsin = _unary("arcsin", np.arcsin, lambda ans, x: 1 / sqrt(1 - x * x), "Inverse sine.", -0.9, 0.9)
arccos = _unary("arccos", np.arccos, lambda ans, x: -1 / sqrt(1 - x * x), "Inverse cosine.", -0.9, 0.9)
arctan = _unary("arctan", np.arctan, lambda ans, x: 1 / (1 + x * x), "Inverse tangent.")
sinh = _unary("sinh", np.sinh, lambda ans, x: cosh(x), "Hyperbolic sine.")
cosh = _unary("cosh", np.cosh, lambda ans, x: sinh(x), "Hyperbolic cosine.")
arcsinh = _unary("arcsinh", np.arcsinh, lambda ans, x: 1 / sqrt(x * x + 1), "Inverse hyperbolic sine.")
arccosh = _unary(
    "arccosh", np.arccosh, lambda ans, x: 1 / sqrt(x * x - 1), "Inverse hyperbolic cosine.", 1.2, 3.0
)
arctanh = _unary(
    "arctanh", np.arctanh, lambda ans, x: 1 / (1 - x * x), "Inverse hyperbolic tangent.", -0.9, 0.9
)
deg2rad = _unary("deg2rad", np.deg2rad, lambda ans, x: np.pi / 180, "Degrees to radians.")
rad2deg = _unary("rad2deg", np.rad2deg, lambda ans, x: 180 / np.pi, "Radians to degrees.")
radians, degrees = deg2rad, rad2deg
erf = _unary(
    "erf", scipy.special.erf, lambda ans, x: (2 / np.sqrt(np.pi)) * exp(-x * x), "The error function."
)

erfc = _unary("erfc", scipy.special.erfc, lambda ans, x: (-2 / np.sqrt(np.pi)) * exp(-x * x), "1 - erf(x).")
erfinv = _unary(
    "erfinv",
    scipy.special.erfinv,
    lambda ans, x: (np.sqrt(np.pi) / 2) * exp(ans * ans),
    "Inverse of erf.",
    -0.8,
    0.8,
)
logit = _unary("logit", scipy.special.logit, lambda ans, x: 1 / (x * (1 - x)), "log(p / (1 - p)).", 0.1, 0.9)


@Primitive
def polygamma(n, x):
    """The n-th derivative of the digamma function (n = 0: digamma itself), for integer n."""
    x = np.asarray(x)
    values = scipy.special.psi(x) if n == 0 else scipy.special.polygamma(n, x)
    return np.asarray(values, dtype=x.dtype if x.dtype.kind == "f" else np.float64)  # float32 stays


polygamma.defvjp(None, lambda g, ans, n, x: g * polygamma(n + 1, x))
polygamma.defjvp(None, lambda t, ans, n, x: t * polygamma(n + 1, x))
polygamma.defsample(lambda draw: ([draw.choice([0, 1, 2]), draw.array(draw.shape(), 0.5, 3.0)], {}))


def digamma(x):
    """d/dx log Gamma(x)."""
    return polygamma(0, x)


psi = digamma
gammaln = _unary("gammaln", scipy.special.gammaln, lambda ans, x: digamma(x), "log |Gamma(x)|.", 0.5, 4.0)
gamma = _unary("gamma", scipy.special.gamma, lambda ans, x: ans * digamma(x), "The Gamma function.", 0.5, 4.0)


def _sinc_slope(ans, x):
    """(cos(pi x) - sinc(x)) / x, which cancels catastrophically near 0: there (|x| < 1e-3) its
    Taylor series -pi^2 x / 3 + pi^4 x^3 / 30, exact to rounding and smooth for a second pass."""
    near_zero = np.abs(primal(x)) < 1e-3
    safe = where(near_zero, 1.0, x)
    series = (-(np.pi**2) / 3) * x + (np.pi**4 / 30) * x * x * x
    return where(near_zero, series, (cos(np.pi * safe) - ans) / safe)


sinc = _unary("sinc", np.sinc, _sinc_slope, "sin(pi x) / (pi x), 1 at x = 0.")

sign = _piecewise_constant("sign", np.sign, "-1, 0 or 1 by the sign of x; zero derivative.")
floor = _piecewise_constant("floor", np.floor, "Largest integer <= x; zero derivative.")
ceil = _piecewise_constant("ceil", np.ceil, "Smallest integer >= x; zero derivative.")
rint = _piecewise_constant("rint", np.rint, "Nearest integer (halves to even); zero derivative.")
trunc = _piecewise_constant("trunc", np.trunc, "x with its fraction dropped; zero derivative.")
fix = trunc


@Primitive
def round(x, decimals=0):
    """x rounded to `decimals` places (halves to even, as numpy); zero derivative."""
    return np.round(x, decimals)


round.defvjp(_zero_slope)
round.defjvp(_zero_slope)
round.defsample(lambda draw: ([np.round(draw.array((3,), -3.0, 3.0)) + 0.2], {"decimals": 0}))
around = round


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """x with NaN and infinities replaced (by default by 0 and the largest finite numbers); the
    derivative is 1 where x was finite and 0 where it was replaced."""
    values = np.asarray(primal(x))
    finite_max = np.finfo(values.dtype).max if values.dtype.kind == "f" else np.finfo(np.float64).max
    replaced = {"nan": np.isnan(values), "posinf": np.isposinf(values), "neginf": np.isneginf(values)}
    for name, value in (
        ("nan", nan),
        ("posinf", finite_max if posinf is None else posinf),
        ("neginf", -finite_max if neginf is None else neginf),
    ):
        if replaced[name].any():
            x = where(replaced[name], value, x)
    return x


def real(x):
    """The real part: the engine is real-valued, so x itself."""
    return x


def conj(x):
    """The complex conjugate: the engine is real-valued, so x itself."""
    return x


conjugate = conj
