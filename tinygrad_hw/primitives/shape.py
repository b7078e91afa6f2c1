"""Primitives that move, select or sum values without changing them: the linear plumbing.

Each is linear in its array argument, so each VJP is the adjoint operation: `sum` and
`broadcast_to` are adjoint, `reshape` and `transpose` undo themselves, indexing scatters back, and
`concatenate` slices back. `unbroadcast` (sum a cotangent down to an input's shape) is what every
broadcasting primitive's VJP uses.
"""

from __future__ import annotations

import numpy as np

from ..primitive import primitive
from ..tensor import shape_of


def _normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(a % ndim for a in axes)) if ndim else ()


def unbroadcast(g, shape):
    """Sum the cotangent `g` of a broadcast result down to the input's `shape`.

    Broadcasting prepends axes and stretches size-1 axes; the adjoint sums the prepended axes away
    and sums the stretched ones with keepdims, which lands exactly on `shape`.
    """
    g_shape = g.shape
    if g_shape == shape:
        return g
    leading = len(g_shape) - len(shape)
    if leading:
        g = sum(g, axis=tuple(range(leading)))
    if 1 in shape:
        stretched = tuple([i for i, n in enumerate(shape) if n == 1 and g_shape[leading + i] != 1])
        if stretched:
            g = sum(g, axis=stretched, keepdims=True)
    return g


# -- sum and its adjoint, broadcast_to ---------------------------------------------------------


@primitive
def sum(x, axis=None, keepdims=False):
    """Sum over `axis` (an int, a tuple, or None for all axes)."""
    return np.add.reduce(x, axis=axis, keepdims=keepdims)


def _sum_vjp(g, ans, x, axis=None, keepdims=False):
    shape = shape_of(x)
    if not keepdims:
        summed = _normalize_axes(axis, len(shape))
        g = reshape(g, tuple(1 if i in summed else n for i, n in enumerate(shape)))
    return broadcast_to(g, shape)


sum.defvjp(_sum_vjp)


@sum.defsample
def _(draw):
    shape = draw.shape(min_dims=1)
    axis = draw.choice([None, 0, -1, tuple(range(len(shape)))])
    return [draw.array(shape)], {"axis": axis, "keepdims": draw.choice([False, True])}


def mean(x, axis=None, keepdims=False):
    """Mean over `axis`: `sum` divided by the number of summed elements (composite)."""
    shape = shape_of(x)
    count = int(np.prod([shape[a] for a in _normalize_axes(axis, len(shape))], dtype=int))
    return sum(x, axis=axis, keepdims=keepdims) / count


@primitive
def broadcast_to(x, shape):
    """Broadcast `x` to `shape` with numpy's rules."""
    return np.broadcast_to(x, shape)


broadcast_to.defvjp(lambda g, ans, x, shape: unbroadcast(g, shape_of(x)))


@broadcast_to.defsample
def _(draw):
    small, big = draw.broadcastable_shapes(2, min_dims=1)
    target = np.broadcast_shapes(small, big)
    return [draw.array(small)], {"shape": target}


# -- reshape and transpose ---------------------------------------------------------------------


@primitive
def reshape(x, shape):
    """Reshape `x` to `shape` (one entry may be -1)."""
    return np.reshape(x, shape)


reshape.defvjp(lambda g, ans, x, shape: reshape(g, shape_of(x)))


@reshape.defsample
def _(draw):
    shape = draw.shape(min_dims=1)
    return [draw.array(shape)], {"shape": draw.choice([(-1,), tuple(reversed(shape)), shape + (1,)])}


@primitive
def transpose(x, axes=None):
    """Permute the axes of `x` (reverse them when `axes` is None)."""
    return np.transpose(x, axes)


def _transpose_vjp(g, ans, x, axes=None):
    return transpose(g, None if axes is None else tuple(np.argsort(axes)))


transpose.defvjp(_transpose_vjp)


@transpose.defsample
def _(draw):
    shape = draw.shape(min_dims=1)
    axes = draw.choice([None, tuple(np.roll(np.arange(len(shape)), 1).tolist())])
    return [draw.array(shape)], {"axes": axes}


# -- indexing and its adjoint ------------------------------------------------------------------


def _is_basic_index(index):
    """True for indices made of ints, slices, None and Ellipsis: they never select twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, slice, type(None), type(Ellipsis))) for p in parts)


@primitive
def getitem(x, index):
    """`x[index]` with any numpy index: ints, slices, integer or boolean arrays."""
    return x[index]


getitem.defvjp(lambda g, ans, x, index: index_add(g, index, shape_of(x)))


@getitem.defsample
def _(draw):
    shape = draw.shape(min_dims=1)
    n = shape[0]
    index = draw.choice(
        [
            slice(0, n, 2),
            (slice(None), Ellipsis),
            np.array([n - 1, 0, n - 1]),  # repeated rows: their cotangents must add up
            0,
        ]
    )
    return [draw.array(shape)], {"index": index}


@primitive
def index_add(g, index, shape):
    """Zeros of `shape` with `g` added at `index` (repeated positions accumulate)."""
    out = np.zeros(shape, dtype=np.result_type(g, np.float32))
    if _is_basic_index(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


index_add.defvjp(lambda g, ans, values, index, shape: getitem(g, index))


@index_add.defsample
def _(draw):
    shape = draw.shape(min_dims=1)
    index = draw.choice([slice(0, shape[0], 2), np.array([shape[0] - 1, 0, shape[0] - 1])])
    selected = np.zeros(shape)[index].shape
    return [draw.array(selected)], {"index": index, "shape": shape}


# -- concatenate -------------------------------------------------------------------------------


@primitive(name="concatenate")
def _concatenate(*arrays, axis=0):
    return np.concatenate(arrays, axis=axis)


def _concatenate_vjp(argnum, g, ans, *arrays, axis=0):
    sizes = [shape_of(a)[axis] for a in arrays]
    start = int(np.sum(sizes[:argnum], dtype=int))
    ndim = len(shape_of(g))
    index = (slice(None),) * (axis % ndim) + (slice(start, start + sizes[argnum]),)
    return getitem(g, index)


_concatenate.defvjp_argnum(_concatenate_vjp)


@_concatenate.defsample
def _(draw):
    shape = draw.shape(min_dims=1)
    axis = draw.integer(-len(shape), len(shape) - 1)
    pieces = []
    for _ in range(draw.integer(1, 3)):
        piece = list(shape)
        piece[axis] = draw.integer(1, 3)
        pieces.append(draw.array(tuple(piece)))
    return pieces, {"axis": axis}


def concatenate(arrays, axis=0):
    """Join a sequence of arrays along `axis`."""
    return _concatenate(*arrays, axis=axis)
