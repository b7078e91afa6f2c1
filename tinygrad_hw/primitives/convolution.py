"""Convolution and max pooling on NCHW images, by im2col and a matrix product.

`im2col` copies every receptive field of the (padded) input into one column of a matrix per
image, (N, C*KH*KW, OH*OW), so a convolution with F filters of shape (C, KH, KW) becomes one
(batched) matrix product with the (F, C*KH*KW) weight matrix, whose result (N, F, OH*OW) is
already the NCHW output. In this layout the copy reads whole output rows at a time. `col2im` is
its adjoint: it adds each column back into the window it came from. The two are each other's VJP,
which keeps convolution differentiable to any order.

Max pooling selects one element per window; its VJP routes the cotangent to the selected
positions (through a one-hot mask when windows do not overlap, else with `index_add`).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..primitive import ShapeError, primitive
from ..tensor import primal, shape_of
from .indexing import getitem, index_add
from .shape import reshape, sum, transpose


def conv_output_size(size, kernel, stride, padding):
    """Output length along one axis: floor((size + 2 padding - kernel) / stride) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def _windows(x, kh, kw, stride, padding, pad_value=0.0):
    """View (N, C, OH, OW, KH, KW) of the windows of x (no copy, except for padding)."""
    if x.ndim != 4:
        raise ShapeError(f"expected images as (N, C, H, W), got shape {x.shape}")
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=pad_value)
    if x.shape[2] < kh or x.shape[3] < kw:
        raise ShapeError(f"a {kh}x{kw} window does not fit in padded images of shape {x.shape}")
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]


@primitive
def im2col(x, kh, kw, stride=1, padding=0):
    """Columns of receptive fields: (N, C, H, W) -> (N, C * KH * KW, OH * OW)."""
    windows = _windows(x, kh, kw, stride, padding)
    n, c, oh, ow = windows.shape[:4]
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, oh * ow)


@primitive
def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """Adjoint of `im2col`: add each column back into its window of an (N, C, H, W) image."""
    n, c, h, w = x_shape
    oh, ow = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    fields = cols.reshape(n, c, kh, kw, oh, ow)
    padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i : i + stride * oh : stride, j : j + stride * ow : stride] += fields[:, :, i, j]
    return padded[:, :, padding : padding + h, padding : padding + w]


im2col.defvjp(lambda g, ans, x, kh, kw, stride=1, padding=0: col2im(g, shape_of(x), kh, kw, stride, padding))
col2im.defvjp(lambda g, ans, cols, x_shape, kh, kw, stride=1, padding=0: im2col(g, kh, kw, stride, padding))
im2col.defjvp(lambda t, ans, x, kh, kw, stride=1, padding=0: im2col(t, kh, kw, stride, padding))
col2im.defjvp(
    lambda t, ans, cols, x_shape, kh, kw, stride=1, padding=0: col2im(t, x_shape, kh, kw, stride, padding)
)


def _conv_geometry_sample(draw):
    kh, kw = draw.integer(1, 3), draw.integer(1, 3)
    stride, padding = draw.integer(1, 2), draw.integer(0, 1)
    shape = (draw.integer(1, 2), draw.integer(1, 2), draw.integer(kh, 5), draw.integer(kw, 5))
    return shape, {"kh": kh, "kw": kw, "stride": stride, "padding": padding}


@im2col.defsample
def _(draw):
    shape, geometry = _conv_geometry_sample(draw)
    return [draw.array(shape)], geometry


@col2im.defsample
def _(draw):
    shape, geometry = _conv_geometry_sample(draw)
    rows = im2col(np.zeros(shape), **geometry).shape
    return [draw.array(rows)], {"x_shape": shape, **geometry}


# -- convolution -------------------------------------------------------------------------------


def _check_conv(x, w):
    xs, ws = shape_of(x), shape_of(w)
    if len(xs) != 4 or len(ws) != 4 or xs[1] != ws[1]:
        raise ShapeError(
            f"conv2d: needs images (N, C, H, W) and filters (F, C, KH, KW) with the same C, got {xs} and {ws}"
        )


@primitive
def conv2d(x, w, stride=1, padding=0):
    """Cross-correlate images x (N, C, H, W) with filters w (F, C, KH, KW) -> (N, F, OH, OW)."""
    _check_conv(x, w)
    f, _, kh, kw = w.shape
    n, _, h, wd = x.shape
    oh, ow = conv_output_size(h, kh, stride, padding), conv_output_size(wd, kw, stride, padding)
    return (w.reshape(f, -1) @ im2col(x, kh, kw, stride, padding)).reshape(n, f, oh, ow)


def _conv2d_vjp_x(g, ans, x, w, stride=1, padding=0):
    n, f = shape_of(g)[:2]
    _, _, kh, kw = shape_of(w)
    cols = transpose(reshape(w, (f, -1))) @ reshape(g, (n, f, -1))
    return col2im(cols, shape_of(x), kh, kw, stride, padding)


def _conv2d_vjp_w(g, ans, x, w, stride=1, padding=0):
    n, f = shape_of(g)[:2]
    _, _, kh, kw = shape_of(w)
    cols = im2col(x, kh, kw, stride, padding)
    per_image = reshape(g, (n, f, -1)) @ transpose(cols, (0, 2, 1))
    return reshape(sum(per_image, axis=0), shape_of(w))


conv2d.defvjp(_conv2d_vjp_x, _conv2d_vjp_w)
conv2d.defjvp(  # bilinear: the tangent of each argument, convolved with the other
    lambda t, ans, x, w, stride=1, padding=0: conv2d(t, w, stride, padding),
    lambda t, ans, x, w, stride=1, padding=0: conv2d(x, t, stride, padding),
)


@conv2d.defsample
def _(draw):
    shape, geometry = _conv_geometry_sample(draw)
    filters = (draw.integer(1, 3), shape[1], geometry["kh"], geometry["kw"])
    return [draw.array(shape), draw.array(filters)], {
        "stride": geometry["stride"],
        "padding": geometry["padding"],
    }


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


@primitive
def max_pool2d(x, size=2, stride=None, padding=0):
    """Maximum over size x size windows of (N, C, H, W) images, `stride` defaulting to `size`."""
    stride = stride or size
    if stride == size and padding == 0:
        return _tile_maximum(_tiles(x, size))
    windows = _windows(x, size, size, stride, padding, pad_value=-np.inf)
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
    # Elementwise maxima of strided slices: numpy reduces small strided windows 40x slower.
    result = tiles[0]
    for tile in tiles[1:]:
        result = np.maximum(result, tile)
    return result


def _tile_winners(tiles):
    """For each tile position, where it holds its tile's maximum (the first one, on ties)."""
    best = _tile_maximum(tiles)
    taken = np.zeros(best.shape, dtype=bool)
    winners = []
    for tile in tiles:
        won = (tile == best) & ~taken
        taken |= won
        winners.append(won)
    return np.stack(winners)


def _max_pool2d_vjp(g, ans, x, size=2, stride=None, padding=0):
    stride = stride or size
    if stride == size and padding == 0:
        return unpool(g, _tile_winners(_tiles(primal(x), size)), size, shape_of(x))
    index = tuple(_pool_argmax(primal(x), size, stride, padding))
    return index_add(g, index, shape_of(x))


def _max_pool2d_jvp(t, ans, x, size=2, stride=None, padding=0):
    """The tangent at each window's maximum (the first one, on ties)."""
    stride = stride or size
    if stride == size and padding == 0:
        return _unpool_vjp(t, ans, ans, _tile_winners(_tiles(primal(x), size)), size, shape_of(x))
    return getitem(t, tuple(_pool_argmax(primal(x), size, stride, padding)))


max_pool2d.defvjp(_max_pool2d_vjp)
max_pool2d.defjvp(_max_pool2d_jvp)


@primitive
def unpool(g, winners, size, shape):
    """Zeros of `shape`, with each value of g written where its tile's maximum was (`winners`)."""
    out = np.zeros(shape, dtype=g.dtype)
    for k, won in enumerate(winners):
        i, j = divmod(k, size)
        out[:, :, i : g.shape[2] * size : size, j : g.shape[3] * size : size] = g * won
    return out


def _unpool_vjp(gg, ans, g, winners, size, shape):
    total = 0
    for k, won in enumerate(winners):
        i, j = divmod(k, size)
        picked = getitem(
            gg,
            (slice(None), slice(None), slice(i, g.shape[2] * size, size), slice(j, g.shape[3] * size, size)),
        )
        total = total + picked * won
    return total


unpool.defvjp(_unpool_vjp)
unpool.defjvp(lambda t, ans, g, winners, size, shape: unpool(t, winners, size, shape))


@unpool.defsample
def _(draw):
    size = draw.integer(1, 3)
    shape = (draw.integer(1, 2), draw.integer(1, 2), draw.integer(size, 5), draw.integer(size, 5))
    winners = _tile_winners(_tiles(draw.distinct(shape), size))
    return [draw.array(winners.shape[1:])], {"winners": winners, "size": size, "shape": shape}


@max_pool2d.defsample
def _(draw):
    size = draw.integer(1, 3)
    stride, padding = draw.choice([None, 1]), draw.integer(0, size // 2)
    shape = (draw.integer(1, 2), draw.integer(1, 2), draw.integer(size, 5), draw.integer(size, 5))
    return [draw.distinct(shape)], {"size": size, "stride": stride, "padding": padding}
