"""Convolution and max pooling on NCHW images, by im2col and a matrix product.

`im2col` copies every receptive field of the (padded) input into one row of a matrix, so a
convolution with F filters of shape (C, KH, KW) becomes one matrix product with an (F, C*KH*KW)
weight matrix. `col2im` is its adjoint: it adds each row back into the window it came from. The
two are each other's VJP, which keeps convolution differentiable to any order.

Max pooling selects one element per window; its VJP routes the cotangent to the selected
positions with `index_add`, whose own VJP gathers them again.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..primitive import ShapeError, primitive
from ..tensor import primal, shape_of
from .shape import index_add, reshape, transpose


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
    """Rows of receptive fields: (N, C, H, W) -> (N * OH * OW, C * KH * KW)."""
    windows = _windows(x, kh, kw, stride, padding)
    n, c, oh, ow = windows.shape[:4]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)


@primitive
def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """Adjoint of `im2col`: add each row back into its window of an (N, C, H, W) image."""
    n, c, h, w = x_shape
    oh, ow = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    fields = cols.reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i : i + stride * oh : stride, j : j + stride * ow : stride] += fields[:, :, i, j]
    return padded[:, :, padding : padding + h, padding : padding + w]


im2col.defvjp(lambda g, ans, x, kh, kw, stride=1, padding=0: col2im(g, shape_of(x), kh, kw, stride, padding))
col2im.defvjp(lambda g, ans, cols, x_shape, kh, kw, stride=1, padding=0: im2col(g, kh, kw, stride, padding))


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
    out = im2col(x, kh, kw, stride, padding) @ w.reshape(f, -1).T
    return out.reshape(n, oh, ow, f).transpose(0, 3, 1, 2)


def _output_rows(g):
    """Cotangent (N, F, OH, OW) as rows (N * OH * OW, F), matching im2col's row order."""
    f = shape_of(g)[1]
    return reshape(transpose(g, (0, 2, 3, 1)), (-1, f))


def _conv2d_vjp_x(g, ans, x, w, stride=1, padding=0):
    f, _, kh, kw = shape_of(w)
    cols = _output_rows(g) @ reshape(w, (f, -1))
    return col2im(cols, shape_of(x), kh, kw, stride, padding)


def _conv2d_vjp_w(g, ans, x, w, stride=1, padding=0):
    f, _, kh, kw = shape_of(w)
    return reshape(_output_rows(g).T @ im2col(x, kh, kw, stride, padding), shape_of(w))


conv2d.defvjp(_conv2d_vjp_x, _conv2d_vjp_w)


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
    windows = _windows(x, size, size, stride, padding, pad_value=-np.inf)
    return windows.max(axis=(-2, -1))


def _max_pool2d_vjp(g, ans, x, size=2, stride=None, padding=0):
    index = tuple(_pool_argmax(primal(x), size, stride or size, padding))
    return index_add(g, index, shape_of(x))


max_pool2d.defvjp(_max_pool2d_vjp)


@max_pool2d.defsample
def _(draw):
    size = draw.integer(1, 3)
    stride, padding = draw.choice([None, 1]), draw.integer(0, size // 2)
    shape = (draw.integer(1, 2), draw.integer(1, 2), draw.integer(size, 5), draw.integer(size, 5))
    return [draw.distinct(shape)], {"size": size, "stride": stride, "padding": padding}
