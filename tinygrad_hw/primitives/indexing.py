"""Selecting, joining and moving elements: indexing, concatenation, rolls, pads and diagonals.

Every primitive here is linear in its array argument: its JVP applies the same selection to the
tangent, and its VJP is the adjoint, which puts each cotangent back where its element came from
(`getitem` scatters with `index_add`, `concatenate` slices, `roll` rolls back, `pad` crops,
`diagonal` writes a diagonal). numpy's other functions of the kind (`stack`, `split`, `flip`,
`repeat`, `tril`, `sort`, ...) are compositions of these.
"""

from __future__ import annotations

import numpy as np

from ..primitive import primitive
from ..tensor import Tensor, primal, shape_of
from .shape import atleast_3d, broadcast_to, expand_dims, normalize_axes, ravel, reshape, swapaxes, where
from .shape import sum as _sum

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
getitem.defjvp(lambda t, ans, x, index: getitem(t, index))


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
index_add.defjvp(lambda t, ans, values, index, shape: index_add(t, index, shape))


@index_add.defsample
def _(draw):
    shape = draw.shape(min_dims=1)
    index = draw.choice([slice(0, shape[0], 2), np.array([shape[0] - 1, 0, shape[0] - 1])])
    selected = np.zeros(shape)[index].shape
    return [draw.array(selected)], {"index": index, "shape": shape}


def take_along_axis(x, indices, axis):
    """Elements of x at `indices` along `axis` (as numpy's take_along_axis)."""
    indices = np.asarray(primal(indices))
    axis = normalize_axes(axis, len(shape_of(x)))[0]
    grid = list(np.indices(indices.shape, sparse=True))
    grid[axis] = indices
    return getitem(x, tuple(grid))


# -- concatenate and what is built on it -------------------------------------------------------


@primitive(name="concatenate")
def _concatenate(*arrays, axis=0):
    return np.concatenate(arrays, axis=axis)


def _concatenate_piece(argnum, g, arrays, axis):
    sizes = [shape_of(a)[axis] for a in arrays]
    start = int(np.sum(sizes[:argnum], dtype=int))
    ndim = len(shape_of(g))
    index = (slice(None),) * (axis % ndim) + (slice(start, start + sizes[argnum]),)
    return getitem(g, index)


def _concatenate_jvp(argnum, t, ans, *arrays, axis=0):
    """The tangent of one piece, in its place, with zeros where the other pieces go."""
    pieces = [t if i == argnum else np.zeros(shape_of(a), t.dtype) for i, a in enumerate(arrays)]
    return _concatenate(*pieces, axis=axis)


_concatenate.defvjp_argnum(
    lambda argnum, g, ans, *arrays, axis=0: _concatenate_piece(argnum, g, arrays, axis)
)
_concatenate.defjvp_argnum(_concatenate_jvp)


@_concatenate.defsample
def _(draw):
    shape = draw.shape(min_dims=1)
    axis = draw.integer(-len(shape), len(shape) - 1)
    pieces = []
    for _ in range(draw.integer(1, 3)):
        piece = list(shape)
        piece[axis] = draw.integer(0, 3)
        pieces.append(draw.array(tuple(piece)))
    return pieces, {"axis": axis}


def concatenate(arrays, axis=0):
    """Join a sequence of arrays along an existing `axis` (None: flatten them first)."""
    if axis is None:
        return _concatenate(*[ravel(a) for a in arrays], axis=0)
    return _concatenate(*arrays, axis=axis)


def stack(arrays, axis=0):
    """Join arrays of one shape along a new `axis`."""
    arrays = list(arrays)
    if not arrays:
        raise ValueError("stack: need at least one array")
    shapes = {tuple(shape_of(a)) for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"stack: all arrays must have the same shape, got {sorted(shapes)}")
    return _concatenate(*[expand_dims(a, axis) for a in arrays], axis=axis)


def hstack(arrays):
    """Join along the second axis (the first, for 1-D arrays), as numpy's hstack."""
    arrays = [reshape(a, (1,)) if len(shape_of(a)) == 0 else a for a in arrays]
    return _concatenate(*arrays, axis=0 if len(shape_of(arrays[0])) == 1 else 1)


def vstack(arrays):
    """Join along the first axis, 1-D arrays becoming rows, as numpy's vstack."""
    rows = [reshape(a, (1, -1)) if len(shape_of(a)) < 2 else a for a in arrays]
    return _concatenate(*rows, axis=0)


def array(obj):
    """An array from nested lists or tuples that may hold Tensors (stacked, so gradients flow)."""
    if isinstance(obj, (list, tuple)) and _holds_tensor(obj):
        return stack([array(x) for x in obj])
    return obj if type(obj) is Tensor else np.array(obj)


def _holds_tensor(obj):
    if type(obj) is Tensor:
        return True
    return isinstance(obj, (list, tuple)) and any(_holds_tensor(x) for x in obj)


def array_split(x, indices_or_sections, axis=0):
    """Split x along `axis` into pieces: a number of near-equal sections, or at given indices."""
    n = shape_of(x)[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections < 1:
            raise ValueError("array_split: the number of sections must be at least 1")
        size, extra = divmod(n, sections)
        bounds = np.cumsum([0] + [size + 1] * extra + [size] * (sections - extra)).tolist()
    else:
        bounds = [0] + [min(max(int(i), 0), n) for i in indices_or_sections] + [n]
    ndim = len(shape_of(x))
    lead = (slice(None),) * (axis % ndim)
    return [getitem(x, lead + (slice(start, max(start, stop)),)) for start, stop in zip(bounds, bounds[1:])]


def split(x, indices_or_sections, axis=0):
    """As array_split, but a number of sections must divide the axis exactly (numpy's rule)."""
    if isinstance(indices_or_sections, (int, np.integer)) and shape_of(x)[axis] % indices_or_sections:
        raise ValueError("split: array split does not result in an equal division")
    return array_split(x, indices_or_sections, axis)


# -- flips, rolls, repeats ---------------------------------------------------------------------


def flip(x, axis=None):
    """x with the order of elements reversed along `axis` (all axes when None)."""
    ndim = len(shape_of(x))
    axes = normalize_axes(axis, ndim)
    return getitem(x, tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(ndim)))


def fliplr(x):
    return flip(x, 1)


def flipud(x):
    return flip(x, 0)


@primitive
def roll(x, shift, axis=None):
    """Elements shifted by `shift` along `axis`, those leaving one end coming in at the other."""
    return np.roll(x, shift, axis)


def _negated(shift):
    return -shift if isinstance(shift, (int, np.integer)) else tuple(-s for s in shift)


roll.defvjp(lambda g, ans, x, shift, axis=None: roll(g, _negated(shift), axis))
roll.defjvp(lambda t, ans, x, shift, axis=None: roll(t, shift, axis))


@roll.defsample
def _(draw):
    shape = draw.shape(min_dims=1)
    return [draw.array(shape)], {"shift": draw.integer(-3, 3), "axis": draw.choice([None, 0, -1])}


def repeat(x, repeats, axis=None):
    """Each element repeated `repeats` times (an int, or one count per element) along `axis`."""
    if axis is None:
        x, axis = ravel(x), 0
    shape = shape_of(x)
    axis = normalize_axes(axis, len(shape))[0]
    if isinstance(repeats, (int, np.integer)):  # a broadcast along a new axis, then merged
        spread = broadcast_to(
            expand_dims(x, axis + 1), shape[: axis + 1] + (int(repeats),) + shape[axis + 1 :]
        )
        return reshape(spread, shape[:axis] + (shape[axis] * int(repeats),) + shape[axis + 1 :])
    chosen = np.repeat(np.arange(shape[axis]), repeats)
    return getitem(x, (slice(None),) * axis + (chosen,))


# -- pad -------------------------------------------------------------------------------------


@primitive(name="pad_constant")
def _pad_constant(x, pad_width, constant_values=0):
    return np.pad(x, pad_width, mode="constant", constant_values=constant_values)


def _crop(g, x, pad_width):
    """The part of a padded array's cotangent that lies over x (numpy's forms of pad_width)."""
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (len(shape_of(x)), 2))
    return getitem(g, tuple(slice(int(a), int(a) + n) for (a, _), n in zip(widths, shape_of(x))))


_pad_constant.defvjp(lambda g, ans, x, pad_width, constant_values=0: _crop(g, x, pad_width))
_pad_constant.defjvp(lambda t, ans, x, pad_width, constant_values=0: _pad_constant(t, pad_width))


@_pad_constant.defsample
def _(draw):
    shape = draw.shape(min_dims=1)
    widths = tuple((draw.integer(0, 2), draw.integer(0, 2)) for _ in shape)
    return [draw.array(shape)], {"pad_width": widths, "constant_values": draw.choice([0.0, 1.5])}


_COPYING_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad(x, pad_width, mode="constant", constant_values=0):
    """numpy's pad for the modes that only place or copy elements: constant, edge, reflect,
    symmetric and wrap. The copying modes gather x at the positions numpy's pad of an index
    array gives, so their gradient adds up every copy."""
    if mode == "constant":
        return _pad_constant(x, pad_width, constant_values=constant_values)
    if mode not in _COPYING_MODES:
        raise ValueError(
            f"pad: mode {mode!r} is not supported; use one of constant, {', '.join(_COPYING_MODES)}"
        )
    positions = np.arange(int(np.prod(shape_of(x)))).reshape(shape_of(x))
    return getitem(ravel(x), np.pad(positions, pad_width, mode=mode))


# -- diagonals and triangles -------------------------------------------------------------------


@primitive
def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal of x in the plane (axis1, axis2), appended as the last axis (numpy's rule)."""
    return np.diagonal(x, offset, axis1, axis2)


@primitive
def diagonal_adjoint(d, shape, offset=0, axis1=0, axis2=1):
    """Zeros of `shape` with `d` (last axis: the diagonal) written on the given diagonal."""
    out = np.zeros(shape, dtype=d.dtype)
    plane = np.moveaxis(out, (axis1, axis2), (-2, -1))  # a view: writing it writes out
    length = d.shape[-1]
    rows = np.arange(length) + max(-offset, 0)
    plane[..., rows, rows + offset] = d
    return out


diagonal.defvjp(
    lambda g, ans, x, offset=0, axis1=0, axis2=1: diagonal_adjoint(g, shape_of(x), offset, axis1, axis2)
)
diagonal.defjvp(lambda t, ans, x, offset=0, axis1=0, axis2=1: diagonal(t, offset, axis1, axis2))
diagonal_adjoint.defvjp(
    lambda g, ans, d, shape, offset=0, axis1=0, axis2=1: diagonal(g, offset, axis1, axis2)
)
diagonal_adjoint.defjvp(
    lambda t, ans, d, shape, offset=0, axis1=0, axis2=1: diagonal_adjoint(t, shape, offset, axis1, axis2)
)


def _diagonal_geometry(draw):
    shape = draw.shape(min_dims=2, max_dims=3)
    axis1, axis2 = draw.choice([(0, 1), (-1, 0), (1, -1)])
    if len({axis1 % len(shape), axis2 % len(shape)}) == 1:
        axis1, axis2 = 0, 1
    return shape, {"offset": draw.integer(-1, 1), "axis1": axis1, "axis2": axis2}


@diagonal.defsample
def _(draw):
    shape, geometry = _diagonal_geometry(draw)
    return [draw.array(shape)], geometry


@diagonal_adjoint.defsample
def _(draw):
    shape, geometry = _diagonal_geometry(draw)
    return [draw.array(np.diagonal(np.zeros(shape), **geometry).shape)], {"shape": shape, **geometry}


def diag(v, k=0):
    """numpy's diag: the k-th diagonal of a 2-D array, or a 2-D array with 1-D v on that diagonal."""
    shape = shape_of(v)
    if len(shape) == 2:
        return diagonal(v, k)
    if len(shape) != 1:
        raise ValueError(f"diag: input must be 1-D or 2-D, got shape {shape}")
    side = shape[0] + abs(k)
    return diagonal_adjoint(v, (side, side), k)


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum of the diagonal in the plane (axis1, axis2)."""
    return _sum(diagonal(x, offset, axis1, axis2), axis=-1)


def tril(x, k=0):
    """x with the elements above the k-th diagonal of its last two axes set to zero."""
    n, m = shape_of(x)[-2:]
    return where(np.tri(n, m, k, dtype=bool), x, 0)


def triu(x, k=0):
    """x with the elements below the k-th diagonal of its last two axes set to zero."""
    n, m = shape_of(x)[-2:]
    return where(np.tri(n, m, k - 1, dtype=bool), 0, x)


def sort(x, axis=-1):
    """x sorted along `axis`: a gather at the sorting permutation, so gradients follow elements."""
    if axis is None:
        x, axis = ravel(x), 0
    order = np.argsort(primal(x), axis=axis, kind="stable")
    return take_along_axis(x, order, axis)


def partition(x, kth, axis=-1):
    """x rearranged so the element at `kth` is where sorting would put it (smaller ones before,
    larger after), as numpy's partition: a gather at numpy's argpartition."""
    if axis is None:
        x, axis = ravel(x), 0
    return take_along_axis(x, np.argpartition(primal(x), kth, axis=axis), axis)


def diff(x, n=1, axis=-1):
    """The n-th differences along `axis`: x[1:] - x[:-1], n times."""
    ndim = len(shape_of(x))
    lead = (slice(None),) * (normalize_axes(axis, ndim)[0])
    for _ in range(n):
        x = getitem(x, lead + (slice(1, None),)) - getitem(x, lead + (slice(None, -1),))
    return x


def rot90(x, k=1, axes=(0, 1)):
    """x rotated by 90 degrees k times in the plane of `axes` (from the first toward the second)."""
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return flip(flip(x, axes[0]), axes[1])
    if k == 1:
        return swapaxes(flip(x, axes[1]), *axes)
    return flip(swapaxes(x, *axes), axes[1])


def column_stack(arrays):
    """1-D arrays as columns (2-D arrays as they are), joined side by side."""
    columns = [reshape(a, (-1, 1)) if len(shape_of(a)) < 2 else a for a in arrays]
    return _concatenate(*columns, axis=1)


def dstack(arrays):
    """Join along the third axis, 1-D and 2-D arrays made 3-D first (as numpy's dstack)."""
    return _concatenate(*[atleast_3d(a) for a in arrays], axis=2)


row_stack = vstack


def append(x, values, axis=None):
    """x with `values` joined at the end (both flattened when `axis` is None)."""
    return concatenate([x, values], axis=axis)


def vsplit(x, sections):
    return split(x, sections, axis=0)


def hsplit(x, sections):
    return split(x, sections, axis=1 if len(shape_of(x)) > 1 else 0)


def dsplit(x, sections):
    return split(x, sections, axis=2)


def select(conditions, choices, default=0):
    """The first choice whose condition holds, elementwise (numpy's select): nested `where`s."""
    result = default
    for condition, choice in reversed(list(zip(conditions, choices))):
        result = where(condition, choice, result)
    return result


class _Joiner:
    """numpy's r_ and c_ for arrays that may be traced: `r_[a, b]` joins along the first axis,
    `c_[a, b]` along the last with 1-D pieces as columns. Slices (r_[0:3]) become ranges;
    numpy's string directives are not supported for traced values."""

    def __init__(self, numpy_joiner, columns):
        self.numpy_joiner, self.columns = numpy_joiner, columns

    def __getitem__(self, items):
        items = items if isinstance(items, tuple) else (items,)
        if not _holds_tensor(list(items)):
            return self.numpy_joiner[items]
        if any(isinstance(i, str) for i in items):
            raise TypeError("r_/c_: string directives are not supported with traced values")
        pieces = [self.numpy_joiner[i] if isinstance(i, slice) else i for i in items]
        if self.columns:
            pieces = [reshape(p, (-1, 1)) if len(shape_of(p)) < 2 else p for p in pieces]
            return _concatenate(*pieces, axis=-1)
        return _concatenate(*[reshape(p, (1,)) if len(shape_of(p)) == 0 else p for p in pieces], axis=0)


r_ = _Joiner(np.r_, columns=False)
c_ = _Joiner(np.c_, columns=True)


def gradient(f, *spacing, axis=None, edge_order=1):
    """numpy's gradient with uniform spacing (1, or one number per axis): central differences
    inside, one-sided differences at the edges. One array per axis (a list when several)."""
    if edge_order != 1:
        raise NotImplementedError("gradient: only edge_order=1 is supported")
    ndim = len(shape_of(f))
    axes = normalize_axes(axis, ndim)
    steps = list(spacing) if len(spacing) > 1 else list(spacing) * len(axes) if spacing else [1.0] * len(axes)
    results = []
    for a, h in zip(axes, steps):

        def part(start, stop, a=a):
            return getitem(f, (slice(None),) * a + (slice(start, stop),))

        if shape_of(f)[a] < 2:
            raise ValueError("gradient: each axis needs at least 2 elements (edge_order + 1)")
        first = (part(1, 2) - part(0, 1)) / h
        inside = (part(2, None) - part(None, -2)) / (2.0 * h)
        last = (part(-1, None) - part(-2, -1)) / h
        results.append(_concatenate(first, inside, last, axis=a))
    return results[0] if len(results) == 1 else results
