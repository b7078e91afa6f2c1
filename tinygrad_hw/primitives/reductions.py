"""Reductions: extrema, products, means and spreads, log-sum-exp, running sums, norms.

The subtleties, matched to HIPS autograd and JAX, and tested:
  * `max`/`min` with ties split the gradient equally among the tied elements (which is also what
    central differences see);
  * `prod` is differentiated with the product of the *other* elements, computed from running
    products from both ends, never as prod / x: exact when some elements are zero;
  * `argmax`, `argmin` give integer positions and have no derivative.
`mean`, `var`, `std` and `norm` are compositions of primitives.
"""

from __future__ import annotations

import numpy as np
import scipy.special

from ..primitive import primitive
from ..tensor import primal, shape_of
from .arithmetic import exp
from .elementwise import abs, sqrt
from .indexing import flip, getitem, stack
from .shape import broadcast_to, moveaxis, normalize_axes, ravel, reshape, restore_reduced, sum, where

# -- max and min -------------------------------------------------------------------------------


def _chooser_weights(x, ans, axis, keepdims):
    """1/k at each of the k elements that attain the extremum of their group, 0 elsewhere."""
    x_values = primal(x)
    chosen = x_values == np.asarray(primal(restore_reduced(ans, x_values.shape, axis, keepdims)))
    return chosen / np.add.reduce(chosen, axis=axis, keepdims=True)


def _chooser(name, reduce):
    def forward(x, axis=None, keepdims=False):
        return reduce(x, axis=axis, keepdims=keepdims)

    forward.__doc__ = f"The {name} over `axis` (None: all); ties share the gradient equally."
    prim = primitive(forward, name=name)
    prim.defvjp(
        lambda g, ans, x, axis=None, keepdims=False: (
            broadcast_to(restore_reduced(g, shape_of(x), axis, keepdims), shape_of(x))
            * _chooser_weights(x, ans, axis, keepdims)
        )
    )
    prim.defjvp(
        lambda t, ans, x, axis=None, keepdims=False: sum(
            t * _chooser_weights(x, ans, axis, keepdims), axis=axis, keepdims=keepdims
        )
    )

    @prim.defsample
    def _(draw):  # distinct values: ties are tested apart (see binary.maximum)
        shape = draw.shape(min_dims=1)
        return [draw.distinct(shape)], {
            "axis": draw.choice([None, 0, -1]),
            "keepdims": draw.choice([False, True]),
        }

    return prim


max = _chooser("max", np.maximum.reduce)
min = _chooser("min", np.minimum.reduce)
amax, amin = max, min


def argmax(x, axis=None, keepdims=False):
    """Position of the largest element (the first, on ties); integers, no derivative."""
    return np.argmax(primal(x), axis=axis, keepdims=keepdims)


def argmin(x, axis=None, keepdims=False):
    """Position of the smallest element (the first, on ties); integers, no derivative."""
    return np.argmin(primal(x), axis=axis, keepdims=keepdims)


# -- products ----------------------------------------------------------------------------------


@primitive
def prod_of_others(x, axis=-1):
    """For each element, the product of the other elements along `axis` (exact with zeros)."""
    x = np.moveaxis(x, axis, -1)
    ones = np.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    before = np.cumprod(np.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, x[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.moveaxis(before * after, -1, axis)


def _others_matrix(x, axis):
    """P[..., i, j] = the product of x over the group but for elements i and j (for i != j),
    0 for i = j: the derivative of element i of prod_of_others with respect to x_j."""
    x_last = moveaxis(x, axis, -1)
    n = shape_of(x_last)[-1]
    eye = np.eye(n, dtype=bool)
    rows = where(
        eye, 1, broadcast_to(reshape(x_last, shape_of(x_last)[:-1] + (1, n)), shape_of(x_last) + (n,))
    )
    return where(eye, 0, prod_of_others(rows, axis=-1))


def _prod_of_others_vjp(g, ans, x, axis=-1):
    g_last = moveaxis(g, axis, -1)
    g_rows = reshape(g_last, shape_of(g_last) + (1,))
    return moveaxis(sum(g_rows * _others_matrix(x, axis), axis=-2), -1, axis)


def _prod_of_others_jvp(t, ans, x, axis=-1):
    t_last = moveaxis(t, axis, -1)
    t_columns = reshape(t_last, shape_of(t_last)[:-1] + (1, shape_of(t_last)[-1]))
    return moveaxis(sum(_others_matrix(x, axis) * t_columns, axis=-1), -1, axis)


prod_of_others.defvjp(_prod_of_others_vjp)
prod_of_others.defjvp(_prod_of_others_jvp)


@prod_of_others.defsample
def _(draw):
    shape = draw.shape(min_dims=1)
    return [draw.array(shape)], {"axis": draw.integer(-len(shape), len(shape) - 1)}


@primitive
def prod(x, axis=None, keepdims=False):
    """Product over `axis` (an int, a tuple, or None for all axes)."""
    return np.multiply.reduce(x, axis=axis, keepdims=keepdims)


def _others(x, axis):
    """prod_of_others over the reduced axes, flattened into one group, in x's shape."""
    shape = shape_of(x)
    axes = normalize_axes(axis, len(shape))
    kept = [a for a in range(len(shape)) if a not in axes]
    grouped = reshape(moveaxis(x, axes, list(range(len(kept), len(shape)))), [shape[a] for a in kept] + [-1])
    others = reshape(prod_of_others(grouped, axis=-1), [shape[a] for a in kept] + [shape[a] for a in axes])
    return moveaxis(others, list(range(len(kept), len(shape))), axes)


prod.defvjp(
    lambda g, ans, x, axis=None, keepdims=False: (
        broadcast_to(restore_reduced(g, shape_of(x), axis, keepdims), shape_of(x)) * _others(x, axis)
    )
)
prod.defjvp(
    lambda t, ans, x, axis=None, keepdims=False: sum(t * _others(x, axis), axis=axis, keepdims=keepdims)
)


@prod.defsample
def _(draw):
    shape = draw.shape(min_dims=1)
    values = draw.array(shape, 0.5, 1.5) * draw.choice([1.0, (draw.array(shape) > 0.0)])  # with zeros
    return [values], {"axis": draw.choice([None, 0, -1]), "keepdims": draw.choice([False, True])}


# -- means and spreads -------------------------------------------------------------------------


def _count(shape, axis):
    return int(np.prod([shape[a] for a in normalize_axes(axis, len(shape))], dtype=int))


def mean(x, axis=None, keepdims=False):
    """Mean over `axis`: `sum` divided by the number of summed elements."""
    return sum(x, axis=axis, keepdims=keepdims) / _count(shape_of(x), axis)


def average(x, axis=None, weights=None):
    """Mean over `axis`, optionally weighted (numpy's average: sum(w x) / sum(w))."""
    if weights is None:
        return mean(x, axis)
    if shape_of(weights) != shape_of(x):
        shape = [1] * len(shape_of(x))
        shape[normalize_axes(axis, len(shape_of(x)))[0]] = -1
        weights = reshape(weights, tuple(shape))
    return sum(x * weights, axis=axis) / sum(broadcast_to(weights, shape_of(x)), axis=axis)


def var(x, axis=None, ddof=0, keepdims=False):
    """Variance over `axis`: the mean squared deviation, dividing by (count - ddof)."""
    deviation = x - mean(x, axis=axis, keepdims=True)
    return sum(deviation * deviation, axis=axis, keepdims=keepdims) / (_count(shape_of(x), axis) - ddof)


def std(x, axis=None, ddof=0, keepdims=False):
    """Standard deviation over `axis`: the square root of `var`."""
    return sqrt(var(x, axis=axis, ddof=ddof, keepdims=keepdims))


# -- log-sum-exp -------------------------------------------------------------------------------


@primitive
def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over `axis`, without overflow (the largest element is factored out)."""
    return scipy.special.logsumexp(x, axis=axis, keepdims=keepdims)


def _softmax_weights(x, ans, axis, keepdims):
    return exp(x - restore_reduced(ans, shape_of(x), axis, keepdims))


logsumexp.defvjp(
    lambda g, ans, x, axis=None, keepdims=False: (
        restore_reduced(g, shape_of(x), axis, keepdims) * _softmax_weights(x, ans, axis, keepdims)
    )
)
logsumexp.defjvp(
    lambda t, ans, x, axis=None, keepdims=False: sum(
        t * _softmax_weights(x, ans, axis, keepdims), axis=axis, keepdims=keepdims
    )
)


@logsumexp.defsample
def _(draw):
    shape = draw.shape(min_dims=1)
    return [draw.array(shape, -3.0, 3.0)], {
        "axis": draw.choice([None, 0, -1]),
        "keepdims": draw.choice([False, True]),
    }


# -- running sums ------------------------------------------------------------------------------


@primitive(name="cumsum")
def _cumsum(x, axis):
    return np.cumsum(x, axis=axis)


_cumsum.defvjp(lambda g, ans, x, axis: flip(_cumsum(flip(g, axis), axis), axis))
_cumsum.defjvp(lambda t, ans, x, axis: _cumsum(t, axis))


@_cumsum.defsample
def _(draw):
    shape = draw.shape(min_dims=1, min_side=0)
    return [draw.array(shape)], {"axis": draw.integer(-len(shape), len(shape) - 1)}


def cumsum(x, axis=None):
    """Running sums along `axis` (None: over the flattened array)."""
    if axis is None:
        return _cumsum(reshape(x, (-1,)), 0)
    return _cumsum(x, axis)


# -- norms -------------------------------------------------------------------------------------


def norm(x, ord=None, axis=None, keepdims=False):
    """numpy.linalg.norm: vector p-norms (ord None/2, 1, inf, -inf, 0, any p), and the matrix
    norms 'fro', 1, -1, inf, -inf over two axes. The 2-norm's gradient is x / norm (nan at 0)."""
    ndim = len(shape_of(x))
    if axis is None and (ord is None or ndim == 1):
        axes = tuple(range(ndim))
        if ord is None:
            return _keep(sqrt(sum(x * x)), ndim, keepdims)
    else:
        axes = normalize_axes(tuple(range(ndim)) if axis is None else axis, ndim)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, (axis if axis is not None else axes), keepdims)
    raise ValueError(f"norm: improper number of axes {len(axes)} (1 for vectors, 2 for matrices)")


def _keep(value, ndim, keepdims):
    return reshape(value, (1,) * ndim) if keepdims else value


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return sqrt(sum(x * x, axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return max(abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return min(abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return np.sum(primal(x) != 0, axis=axis, keepdims=keepdims).astype(primal(x).dtype)
    if ord == 1:
        return sum(abs(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors")
    return sum(abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord, axis, keepdims):
    row_axis, col_axis = (a % len(shape_of(x)) for a in axis)
    if ord is None or ord == "fro":
        return sqrt(sum(x * x, axis=(row_axis, col_axis), keepdims=keepdims))
    reducers = {
        1: (max, row_axis, col_axis),
        -1: (min, row_axis, col_axis),
        np.inf: (max, col_axis, row_axis),
        -np.inf: (min, col_axis, row_axis),
    }
    if ord not in reducers:
        raise NotImplementedError(f"norm: the matrix norm ord={ord!r} (singular values) is not supported")
    extremum, summed, chosen = reducers[ord]
    sums = sum(abs(x), axis=summed, keepdims=True)
    result = extremum(sums, axis=chosen, keepdims=True)
    return (
        result
        if keepdims
        else reshape(
            result, tuple(n for i, n in enumerate(shape_of(result)) if i not in (row_axis, col_axis))
        )
    )


def nansum(x, axis=None, keepdims=False):
    """Sum over `axis`, NaNs counted as 0 (their gradient is 0)."""
    return sum(where(np.isnan(primal(x)), 0.0, x), axis=axis, keepdims=keepdims)


def nanmean(x, axis=None, keepdims=False):
    """Mean over `axis` of the elements that are not NaN."""
    values = primal(x)
    present = np.sum(~np.isnan(values), axis=axis, keepdims=keepdims).astype(values.dtype)
    return nansum(x, axis=axis, keepdims=keepdims) / present


def cumprod(x, axis=None):
    """Running products along `axis` (None: flattened), each the product of a prefix: exact and
    differentiable with zeros (cost grows with the square of the axis length)."""
    if axis is None:
        x, axis = ravel(x), 0
    ndim = len(shape_of(x))
    axis = normalize_axes(axis, ndim)[0]
    n = shape_of(x)[axis]
    lead = (slice(None),) * axis
    prefixes = [prod(getitem(x, lead + (slice(0, i + 1),)), axis=axis) for i in range(n)]
    return stack(prefixes, axis=axis) if prefixes else x
