"""Max and average pooling on NCHW images.

Max pooling selects one element per window; its VJP routes the cotangent to the selected
positions (through one-hot masks when windows tile the image, else with `index_add`), and `unpool`,
that routing, is a primitive of its own so that the VJP can be differentiated again. Average
pooling spreads each cotangent evenly over its window (`avg_unpool`, its adjoint).
"""

from __future__ import annotations

import numpy as np

from ..primitive import ShapeError, primitive
from ..tensor import primal, shape_of
from .convolution import _windows
from .indexing import getitem, index_add
from .reductions import mean
from .shape import reshape, sum

# -- max pooling -------------------------------------------------------------------------------


def _pool_argmax(x, size, stride, padding):
    """Index arrays (n, c, h, w), each shaped like the output, of every window's maximum in x."""
    windows = _windows(x, size, size, stride, padding, pad_value=-np.inf)
    n, c, oh, ow = windows.shape[:4]
    flat = windows.reshape(n, c, oh, ow, size * size).argmax(axis=-1)
    rows = np.arange(oh)[:, None] * stride + flat // size - padding
    cols = np.arange(ow)[None, :] * stride + flat % size - padding
    batch = np.arange(n)[:, None, None, None]
    channel = np.arange(c)[None, :, None, None]
    return np.broadcast_arrays(batch, channel, rows, cols)


def _tiled(size, stride, padding):
    """Whether the windows tile the image: then pooling works on size * size strided slices."""
    return (stride or size) == size and padding == 0


@primitive
def max_pool2d(x, size=2, stride=None, padding=0):
    """Maximum over size x size windows of (N, C, H, W) images, `stride` defaulting to `size`."""
    if _tiled(size, stride, padding):
        return _tile_maximum(_tiles(x, size))
    windows = _windows(x, size, size, stride or size, padding, pad_value=-np.inf)
    return windows.max(axis=(-2, -1))


def _tiles(x, size):
    """The size * size strided slices of x, one per position inside a tile, cropped to whole tiles."""
    if x.ndim != 4:
        raise ShapeError(f"expected images as (N, C, H, W), got shape {x.shape}")
    h, w = (x.shape[2] // size) * size, (x.shape[3] // size) * size
    if h == 0 or w == 0:
        raise ShapeError(f"a {size}x{size} window does not fit in images of shape {x.shape}")
    return [x[:, :, i:h:size, j:w:size] for i in range(size) for j in range(size)]


def _tile_maximum(tiles):
    # Elementwise maxima of strided slices: numpy reduces small strided windows 40x slower. The
    # result keeps the memory order of x (numpy's default), whatever layout conv2d left it in.
    if len(tiles) == 1:
        return np.array(tiles[0])
    result = np.maximum(tiles[0], tiles[1])
    for tile in tiles[2:]:
        np.maximum(result, tile, out=result)
    return result


def _tile_view(a, size):
    """(N, C, H, W) cropped to whole tiles, as an (N, C, H / size, size, W / size, size) view."""
    n, c, h, w = a.shape
    rows, cols = h // size, w // size
    return np.reshape(a[:, :, : rows * size, : cols * size], (n, c, rows, size, cols, size), copy=False)


def _winner_mask(x, best, size):
    """A boolean array like x, True at each tile's maximum: one per tile, the first on ties.

    One comparison of x with its tiles' maxima finds them all. A tile whose maximum is NaN marks its
    NaNs instead (the gradient goes to the NaN, as in PyTorch). Only when the count shows a tie
    are the tile's positions walked in order, each keeping its mark if no earlier one holds one.
    The mask takes x's memory order, so everything after it sees one layout.
    """
    mask = _blank_like(x, bool, size)
    inner, values = _tile_view(mask, size), _tile_view(x, size)
    np.equal(values, best[:, :, :, None, :, None], out=inner)
    if np.issubdtype(best.dtype, np.inexact) and np.isnan(best).any():
        inner |= np.isnan(values)
    if np.count_nonzero(inner) != best.size:
        taken = inner[:, :, :, 0, :, 0].copy(order="K")  # in the mask's memory order
        for k in range(1, size * size):
            position = inner[:, :, :, k // size, :, k % size]
            np.greater(position, taken, out=position)  # marked, and no earlier mark in its tile
            taken |= position
    return mask


@max_pool2d.defsaving
def _max_pool2d_saving(x, size=2, stride=None, padding=0):
    """The pooled images and, when the windows tile them, the winner mask, found while the images
    are still in cache from the layer that wrote them. Found in the VJP instead, it read 4.8 MB of
    the OCR CNN's first activations back from memory: a step at batch 64 took 0.04-0.23 ms longer,
    the CIFAR-shaped one 0.2-0.6 ms (best and 10th percentile of 90-150 steps, in one process)."""
    ans = max_pool2d.forward(x, size, stride, padding)
    return ans, (_winner_mask(x, ans, size) if _tiled(size, stride, padding) else None)


def _max_pool2d_vjp(g, ans, x, size=2, stride=None, padding=0, saved=None):
    if _tiled(size, stride, padding):
        winners = saved if saved is not None else _winner_mask(primal(x), primal(ans), size)
        return unpool(g, winners, size)
    index = tuple(_pool_argmax(primal(x), size, stride or size, padding))
    return index_add(g, index, shape_of(x))


def _max_pool2d_jvp(t, ans, x, size=2, stride=None, padding=0):
    """The tangent at each window's maximum (gathered with the same winners the VJP scatters to)."""
    if _tiled(size, stride, padding):
        return _pick(t, _winner_mask(primal(x), primal(ans), size), size)
    return getitem(t, tuple(_pool_argmax(primal(x), size, stride or size, padding)))


max_pool2d.defvjp(_max_pool2d_vjp)
max_pool2d.defjvp(_max_pool2d_jvp)


def _axis_order(a):
    """The axes of `a` from the largest stride to the smallest: its layout in memory."""
    return tuple(sorted(range(a.ndim), key=lambda axis: -a.strides[axis]))


@primitive
def unpool(g, winners, size):
    """Each value of pooled g written where its tile's maximum was (`winners`, a mask), zeros elsewhere.

    The result takes the memory order of the mask (that of the pooled images), so that the
    elementwise VJPs before the pooling see one consistent layout.
    """
    if _axis_order(g) != _axis_order(winners):  # one transposing copy beats a mismatched product
        g = _copy_like(g, winners)
    out = _blank_like(winners, g.dtype, size)
    np.multiply(_tile_view(winners, size), g[:, :, :, None, :, None], out=_tile_view(out, size))
    return out


def _blank_like(x, dtype, size):
    """An array shaped and laid out like x, to be written tile by tile: zeros only where the
    tiling leaves rows or columns out (a fresh array of zeros costs one more pass)."""
    if x.shape[2] % size == 0 and x.shape[3] % size == 0:
        return np.empty_like(x, dtype=dtype)
    return np.zeros_like(x, dtype=dtype)


def _copy_like(a, like):
    """A copy of `a` with its axes laid out in memory in the order of those of `like`."""
    out = np.empty_like(like, dtype=a.dtype, shape=a.shape)
    out[...] = a
    return out


def _pick(gg, winners, size):
    """The value at each tile's winner: the adjoint of `unpool`, with engine operations."""
    n, c, rows, _, cols, _ = _tile_view(winners, size).shape
    chosen = getitem(gg * winners, (slice(None), slice(None), slice(rows * size), slice(cols * size)))
    return sum(reshape(chosen, (n, c, rows, size, cols, size)), axis=(3, 5))


unpool.defvjp(lambda gg, ans, g, winners, size: _pick(gg, winners, size))
unpool.defjvp(lambda t, ans, g, winners, size: unpool(t, winners, size))


@unpool.defsample
def _(draw):
    size = draw.integer(1, 3)
    shape = (draw.integer(1, 2), draw.integer(1, 2), draw.integer(size, 5), draw.integer(size, 5))
    x = draw.distinct(shape)
    pooled = max_pool2d(x, size)
    return [draw.array(pooled.shape)], {"winners": _winner_mask(x, pooled, size), "size": size}


@max_pool2d.defsample
def _(draw):
    size = draw.integer(1, 3)
    stride, padding = draw.choice([None, 1]), draw.integer(0, size // 2)
    shape = (draw.integer(1, 2), draw.integer(1, 2), draw.integer(size, 5), draw.integer(size, 5))
    return [draw.distinct(shape)], {"size": size, "stride": stride, "padding": padding}


# -- average pooling ---------------------------------------------------------------------------


@primitive
def avg_pool2d(x, size=2, stride=None, padding=0):
    """Mean over size x size windows of (N, C, H, W) images, `stride` defaulting to `size`.

    Zero padding counts towards the mean (PyTorch's default, count_include_pad=True).
    """
    if _tiled(size, stride, padding):
        tiles = _tiles(x, size)
        total = np.array(tiles[0])
        for tile in tiles[1:]:
            total += tile
    else:
        total = _windows(x, size, size, stride or size, padding).sum(axis=(-2, -1))
    total *= 1 / (size * size)
    return total


@primitive
def avg_unpool(g, shape, size, stride=None, padding=0):
    """The adjoint of `avg_pool2d`: each value of g spread evenly over its window of `shape`."""
    stride = stride or size
    n, c, h, w = shape
    oh, ow = g.shape[2:]
    out = np.zeros_like(g, shape=(n, c, h + 2 * padding, w + 2 * padding))
    share = g * (1 / (size * size))
    for i in range(size):
        for j in range(size):
            out[:, :, i : i + stride * oh : stride, j : j + stride * ow : stride] += share
    return out[:, :, padding : padding + h, padding : padding + w]


avg_pool2d.defvjp(
    lambda g, ans, x, size=2, stride=None, padding=0: avg_unpool(g, shape_of(x), size, stride, padding)
)
avg_pool2d.defjvp(lambda t, ans, x, size=2, stride=None, padding=0: avg_pool2d(t, size, stride, padding))
avg_unpool.defvjp(
    lambda gg, ans, g, shape, size, stride=None, padding=0: avg_pool2d(gg, size, stride, padding)
)
avg_unpool.defjvp(
    lambda t, ans, g, shape, size, stride=None, padding=0: avg_unpool(t, shape, size, stride, padding)
)


def _avg_pool_problem(draw):
    size = draw.integer(1, 3)
    stride, padding = draw.choice([None, 1]), draw.integer(0, size // 2)
    shape = (draw.integer(1, 2), draw.integer(1, 2), draw.integer(size, 5), draw.integer(size, 5))
    return shape, {"size": size, "stride": stride, "padding": padding}


@avg_pool2d.defsample
def _(draw):
    shape, params = _avg_pool_problem(draw)
    return [draw.array(shape)], params


@avg_unpool.defsample
def _(draw):
    shape, params = _avg_pool_problem(draw)
    pooled = avg_pool2d(np.zeros(shape), **params).shape
    return [draw.array(pooled)], {"shape": shape, **params}


def global_avg_pool(x):
    """Mean over the height and width of (N, C, H, W) images -> (N, C) (composite)."""
    return mean(x, axis=(2, 3))
