"""Primitives that rearrange or sum values without changing them: the linear plumbing.

Each is linear in its array argument, so its JVP is the operation itself applied to the tangent and
its VJP is the adjoint operation: `sum` and `broadcast_to` are adjoint, `reshape` and `transpose`
undo themselves, and `where` routes each cotangent to the branch it came from. `unbroadcast` (sum a
cotangent down to an input's shape) is what every broadcasting primitive's VJP uses.

The rest of numpy's shape functions (`expand_dims`, `squeeze`, `ravel`, `moveaxis`, `swapaxes`,
`tile`, `atleast_1d`, ...) are compositions of these, so they need no rules of their own.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from ..primitive import primitive
from ..tensor import dtype_of, primal, shape_of


def normalize_axes(axis, ndim):
    """`axis` (None, an int or a tuple, negative allowed) as a sorted tuple of axes in range."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(f"axis {a} is out of bounds for an array of dimension {ndim}")
    return tuple(sorted(int(a) % ndim for a in axes))


def unbroadcast(g, shape):
    """Sum the cotangent `g` of a broadcast result down to the input's `shape`.

    Broadcasting prepends axes and stretches size-1 axes; the adjoint sums the prepended axes away
    and sums the stretched ones with keepdims, which lands exactly on `shape`.
    """
    g_shape = g.shape
    if g_shape == shape:
        return g
    # A plain array (a first-order pass) is summed by numpy itself, which is what `sum` would run:
    # the primitive's dispatch costs more than summing a bias's cotangent (an MLP step at batch 32
    # float32 took 2-3 us less).
    add_up = np.add.reduce if type(g) is np.ndarray else sum
    leading = len(g_shape) - len(shape)
    if leading:
        g = add_up(g, axis=tuple(range(leading)))
    if 1 in shape:
        stretched = tuple([i for i, n in enumerate(shape) if n == 1 and g_shape[leading + i] != 1])
        if stretched:
            g = add_up(g, axis=stretched, keepdims=True)
    return g


def restore_reduced(g, shape, axis, keepdims):
    """A reduction's cotangent (or a tangent) reshaped so that it broadcasts against `shape`."""
    if keepdims or axis is None:  # a reduction over every axis gives a scalar, which broadcasts
        return g
    summed = normalize_axes(axis, len(shape))
    return reshape(g, tuple(1 if i in summed else n for i, n in enumerate(shape)))


# -- sum and its adjoint, broadcast_to ---------------------------------------------------------


@primitive
def sum(x, axis=None, keepdims=False):
    """Sum over `axis` (an int, a tuple, or None for all axes)."""
    return np.add.reduce(x, axis=axis, keepdims=keepdims)


sum.defvjp(
    lambda g, ans, x, axis=None, keepdims=False: broadcast_to(
        restore_reduced(g, shape_of(x), axis, keepdims), shape_of(x)
    )
)
sum.defjvp(lambda t, ans, x, axis=None, keepdims=False: sum(t, axis=axis, keepdims=keepdims))


@sum.defsample
def _(draw):
    shape = draw.shape(min_dims=1, min_side=0)
    axis = draw.choice([None, 0, -1, tuple(range(len(shape)))])
    return [draw.array(shape)], {"axis": axis, "keepdims": draw.choice([False, True])}


@primitive
def broadcast_to(x, shape):
    """Broadcast `x` to `shape` with numpy's rules."""
    if math.prod(shape) <= 4096:
        # Small results are copied out: numpy builds a broadcast view in Python code that costs
        # several microseconds, ten times the copy; the copy is also writable.
        out = np.empty(shape, dtype=np.result_type(x))
        out[...] = x
        return out
    return np.broadcast_to(x, shape)


broadcast_to.defvjp(lambda g, ans, x, shape: unbroadcast(g, shape_of(x)))
broadcast_to.defjvp(lambda t, ans, x, shape: broadcast_to(t, shape))


@broadcast_to.defsample
def _(draw):
    small, big = draw.broadcastable_shapes(2, min_dims=1)
    target = np.broadcast_shapes(small, big)
    return [draw.array(small)], {"shape": target}


# -- reshape and transpose ---------------------------------------------------------------------


@primitive
def reshape(x, shape):
    """Reshape `x` to `shape` (one entry may be -1)."""
    if type(x) is np.ndarray:
        return x.reshape(shape)  # the method: numpy's np.reshape wrapper costs more than the work
    return np.reshape(x, shape)


reshape.defvjp(lambda g, ans, x, shape: reshape(g, shape_of(x)))
reshape.defjvp(lambda t, ans, x, shape: reshape(t, shape))


@reshape.defsample
def _(draw):
    shape = draw.shape(min_dims=1, min_side=0)
    return [draw.array(shape)], {"shape": draw.choice([(-1,), tuple(reversed(shape)), shape + (1,)])}


@primitive
def transpose(x, axes=None):
    """Permute the axes of `x` (reverse them when `axes` is None)."""
    if type(x) is np.ndarray:
        return x.transpose(axes)
    return np.transpose(x, axes)


def _transpose_vjp(g, ans, x, axes=None):
    return transpose(g, None if axes is None else tuple(np.argsort(axes)))


transpose.defvjp(_transpose_vjp)
transpose.defjvp(lambda t, ans, x, axes=None: transpose(t, axes))


@transpose.defsample
def _(draw):
    shape = draw.shape(min_dims=1)
    axes = draw.choice([None, tuple(np.roll(np.arange(len(shape)), 1).tolist())])
    return [draw.array(shape)], {"axes": axes}


# -- where: choose between two arrays ----------------------------------------------------------


@primitive(name="where")
def _where(condition, x, y):
    return np.where(condition, x, y)


def _where_vjp(branch):
    def vjp(g, ans, condition, x, y):
        chosen = (x, y)[branch - 1]
        routed = _where(condition, g, 0) if branch == 1 else _where(condition, 0, g)
        return unbroadcast(routed, shape_of(chosen))

    return vjp


_where.defvjp(None, _where_vjp(1), _where_vjp(2))
_where.defjvp(
    None,
    lambda t, ans, condition, x, y: _where(condition, t, 0),
    lambda t, ans, condition, x, y: _where(condition, 0, t),
)


@_where.defsample
def _(draw):
    c_shape, x_shape, y_shape = draw.broadcastable_shapes(3)
    return [draw.array(c_shape) > 0, draw.array(x_shape), draw.array(y_shape)], {}


def where(condition, x=None, y=None):
    """Elements of x where `condition` holds, else of y (broadcasting). The condition is constant.

    With the condition alone, the indices where it holds, as numpy's `nonzero`.
    """
    condition = primal(condition)
    if x is None and y is None:
        return np.nonzero(condition)
    if x is None or y is None:
        raise ValueError("where: give both x and y, or neither")
    return _where(condition, x, y)


# -- compositions: numpy's other shape functions ------------------------------------------------


def expand_dims(x, axis):
    """Insert size-1 axes at the positions `axis` (an int or a tuple) of the result."""
    shape = list(shape_of(x))
    for a in normalize_axes(axis, len(shape) + (1 if isinstance(axis, int) else len(axis))):
        shape.insert(a, 1)
    return reshape(x, tuple(shape))


def squeeze(x, axis=None):
    """Remove size-1 axes: all of them, or those in `axis` (which must have size 1)."""
    shape = shape_of(x)
    axes = (
        tuple(i for i, n in enumerate(shape) if n == 1) if axis is None else normalize_axes(axis, len(shape))
    )
    for a in axes:
        if shape[a] != 1:
            raise ValueError(f"squeeze: cannot remove axis {a} of size {shape[a]} (only size-1 axes)")
    return reshape(x, tuple(n for i, n in enumerate(shape) if i not in axes))


def ravel(x):
    """The elements of x as a 1-D array, in C order."""
    return reshape(x, (-1,))


def moveaxis(x, source, destination):
    """Move axes of x from `source` to `destination` (ints or sequences), keeping the others' order."""
    ndim = len(shape_of(x))
    source = [a % ndim for a in np.atleast_1d(source).tolist()]
    destination = [a % ndim for a in np.atleast_1d(destination).tolist()]
    if len(source) != len(destination):
        raise ValueError("moveaxis: source and destination must have the same number of axes")
    order = [a for a in range(ndim) if a not in source]
    for d, s in sorted(zip(destination, source)):
        order.insert(d, s)
    return transpose(x, tuple(order))


def swapaxes(x, axis1, axis2):
    """x with axes `axis1` and `axis2` interchanged."""
    axes = list(range(len(shape_of(x))))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, tuple(axes))


def tile(x, reps):
    """x repeated `reps` times along each axis (numpy's rules for differing lengths)."""
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    shape = shape_of(x)
    ndim = builtins.max(len(shape), len(reps))
    shape = (1,) * (ndim - len(shape)) + tuple(shape)
    reps = (1,) * (ndim - len(reps)) + reps
    interleaved = tuple(n for pair in zip((1,) * ndim, shape) for n in pair)
    spread = tuple(n for pair in zip(reps, shape) for n in pair)
    tiled = broadcast_to(reshape(x, interleaved), spread)
    return reshape(tiled, tuple(r * n for r, n in zip(reps, shape)))


def atleast_1d(x):
    return x if len(shape_of(x)) >= 1 else reshape(x, (1,))


def atleast_2d(x):
    shape = shape_of(x)
    return x if len(shape) >= 2 else reshape(x, (1,) * (2 - len(shape)) + tuple(shape))


def atleast_3d(x):
    """As numpy: (N,) -> (1, N, 1), (M, N) -> (M, N, 1)."""
    shape = tuple(shape_of(x))
    if len(shape) >= 3:
        return x
    return reshape(x, {0: (1, 1, 1), 1: (1,) + shape + (1,), 2: shape + (1,)}[len(shape)])


@primitive
def astype(x, dtype):
    """x converted to `dtype` (a floating-point dtype keeps the derivative)."""
    return np.asarray(x).astype(dtype)


astype.defvjp(lambda g, ans, x, dtype: astype(g, dtype_of(x)))
astype.defjvp(lambda t, ans, x, dtype: astype(t, dtype))


@astype.defsample
def _(draw):
    return [draw.array(draw.shape(), -2.0, 2.0).astype(np.float32)], {"dtype": np.float64}


def rollaxis(x, axis, start=0):
    """numpy's rollaxis: move `axis` to before position `start` (prefer moveaxis)."""
    ndim = len(shape_of(x))
    axis, start = axis % ndim, start % (ndim + 1) if start < 0 else start
    return moveaxis(x, axis, start - 1 if start > axis else start)


def linspace(start, stop, num=50, endpoint=True):
    """`num` evenly spaced values from start to stop (stop included when `endpoint`); start and
    stop may be traced, and broadcast to a new first axis of values."""
    steps = np.arange(num, dtype=np.float64) / max(num - 1 if endpoint else num, 1)
    steps = steps.reshape((num,) + (1,) * len(shape_of(start)))
    return start + (stop - start) * steps.astype(
        dtype_of(start) if dtype_of(start).kind == "f" else np.float64
    )
