"""Convolution and pooling: the fast kernels against the readable definitions, forward-mode rules
against the VJPs, and the layouts the kernels hand to each other."""

import threading

import numpy as np
import pytest

import tinygrad_hw as tg
from tinygrad_hw.primitives import convolution as cv
from tinygrad_hw.primitives import pooling
from tinygrad_hw.sampling import RandomDraw

WITH_JVPS = [
    cv.conv2d, cv.conv2d_filter_grad, cv.conv2d_input_grad, cv.im2col, cv.col2im,
    pooling.max_pool2d, pooling.unpool, pooling.avg_pool2d, pooling.avg_unpool,
]  # fmt: skip


@pytest.mark.parametrize("prim", WITH_JVPS, ids=lambda p: p.name)
@pytest.mark.parametrize("seed", range(12))
def test_each_jvp_is_the_transpose_of_its_vjp(prim, seed):
    """<J v, u> = <v, J^T u> for every differentiable argument, on the primitive's own samples."""
    draw = RandomDraw(seed)
    args, params = prim.sample(draw)
    ans = prim(*args, **params)
    assert set(prim.jvps) == set(prim.vjps)
    for i in range(len(args)):  # a trailing optional argument (a bias) may be absent
        v = draw.array(np.shape(args[i]))
        u = draw.array(np.shape(ans))
        forward = prim.jvps[i](v, ans, *args, **params)
        backward = prim.vjp_for(i)(u, ans, *args, **params)
        assert np.shape(forward) == np.shape(ans) and np.shape(backward) == np.shape(args[i])
        np.testing.assert_allclose(np.sum(forward * u), np.sum(v * backward), rtol=1e-10, atol=1e-12)


def _layouts(x):
    """x in three memory orders: NCHW, channels-last and batch-last (the kernels' own)."""
    return {
        "nchw": np.ascontiguousarray(x),
        "nhwc": np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2),
        "chwn": np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2),
    }


@pytest.mark.parametrize("chunk_bytes, cached_bytes", [(1, 1 << 22), (1 << 22, 1), (1 << 22, 1 << 22)])
@pytest.mark.parametrize("stride, padding, k", [(1, 0, 3), (2, 1, 3), (1, 2, 5), (2, 0, 2), (1, 1, 1)])
def test_the_kernels_match_the_readable_convolution_in_every_layout(
    monkeypatch, chunk_bytes, cached_bytes, stride, padding, k
):
    monkeypatch.setattr(cv, "_CHUNK_BYTES", chunk_bytes)  # 1: one output row per chunk
    monkeypatch.setattr(cv, "_CACHED_COLUMN_BYTES", cached_bytes)  # 1: one kernel row per product
    rng = np.random.default_rng(stride + 3 * padding + 7 * k)
    x, w = rng.standard_normal((3, 4, 9, 8)), rng.standard_normal((5, 4, k, k))
    expected = cv.conv2d_reference(x, w, stride, padding)
    g = rng.standard_normal(expected.shape)
    cols_cotangent = np.swapaxes(w.reshape(5, -1), 0, 1) @ g.reshape(3, 5, -1)
    expected_dx = cv.col2im(cols_cotangent, x.shape, k, k, stride, padding)
    expected_dw = np.einsum("nfp,nkp->fk", g.reshape(3, 5, -1), cv.im2col(x, k, k, stride, padding)).reshape(
        w.shape
    )
    for name, xl in _layouts(x).items():
        for gname, gl in _layouts(g).items():
            np.testing.assert_allclose(
                cv.conv2d(xl, w, stride=stride, padding=padding), expected, atol=1e-12, err_msg=name
            )
            dw = cv.conv2d_filter_grad(xl, gl, (k, k), stride, padding)
            np.testing.assert_allclose(dw, expected_dw, atol=1e-11, err_msg=f"{name} {gname}")
            dx = cv.conv2d_input_grad(gl, w, x.shape, stride, padding)
            np.testing.assert_allclose(dx, expected_dx, atol=1e-11, err_msg=gname)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_bias_gradient_is_the_cotangent_summed_in_every_layout(dtype):
    """A first-order cotangent in conv2d's own layout is summed by a matrix-vector product, any
    other layout by `sum` (as is a traced one, in the registry's second-order checks). All must
    agree with a float64 sum, keep the dtype, and give zeros for an empty batch."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((6, 2, 7, 7)).astype(dtype), rng.standard_normal((5, 2, 3, 3)).astype(dtype)
    b = np.zeros(5, dtype)
    ans = cv.conv2d(x, w, b)
    g = rng.standard_normal(ans.shape).astype(dtype) * 100  # large values, where rounding shows
    expected = g.astype(np.float64).sum(axis=(0, 2, 3))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for name, gl in _layouts(g).items():
        db = cv.conv2d.vjp_for(2)(gl, ans, x, w, b)
        assert db.dtype == dtype and db.shape == (5,), name
        np.testing.assert_allclose(db, expected, rtol=rtol, atol=rtol * 100, err_msg=name)
    for cotangent in (np.full_like(ans, 100, dtype=np.int8), ans > 0):  # numpy's sum widens these
        np.testing.assert_array_equal(
            cv.conv2d.vjp_for(2)(cotangent, ans, x, w, b), cotangent.sum(axis=(0, 2, 3))
        )
    empty = np.zeros((0, 5, 5, 5), dtype)
    np.testing.assert_array_equal(cv.conv2d.vjp_for(2)(empty, empty, x[:0], w, b), np.zeros(5, dtype))
    through_grad = tg.grad(lambda b_: tg.sum(cv.conv2d(x, w, b_) ** 2))(b)
    np.testing.assert_allclose(
        through_grad, (2 * ans).astype(np.float64).sum(axis=(0, 2, 3)), rtol=rtol, atol=rtol * 100
    )


def test_the_input_gradient_leaves_numpy_buffer_size_as_it_found_it(monkeypatch):
    """col2im's additions run with small ufunc buffers (2-3x faster on strided runs); the caller's
    setting must come back, also when the additions fail half-way."""
    rng = np.random.default_rng(0)
    g, w = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((3, 2, 3, 3))
    before = np.getbufsize()
    seen = []
    shifted = cv._shifted

    def watched(*args):
        seen.append(np.getbufsize())
        if len(seen) == 5:
            raise RuntimeError("interrupted")
        return shifted(*args)

    monkeypatch.setattr(cv, "_shifted", watched)
    with pytest.raises(RuntimeError):
        cv.conv2d_input_grad(g, w, (2, 2, 6, 6))
    assert seen == [cv._UFUNC_BUFFER] * 5 and cv._UFUNC_BUFFER != before
    assert np.getbufsize() == before


def test_float32_stays_float32_through_a_cnn_step():
    rng = np.random.default_rng(0)
    params = {
        "w": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
        "b": np.zeros(4, np.float32),
        "d": rng.standard_normal((4 * 4 * 4, 2)).astype(np.float32),
    }
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    seen = []

    def loss(p):
        z = tg.conv2d(x, p["w"], padding=1) + tg.reshape(p["b"], (1, -1, 1, 1))
        h = pooling.avg_pool2d(tg.max_pool2d(tg.relu(z), 2), 1)
        seen.append(h.dtype)
        return tg.sum(tg.reshape(h, (2, -1)) @ p["d"])

    grads = tg.grad(loss)(params)
    assert seen == [np.float32]
    assert all(g.dtype == np.float32 for g in grads.values())
    for prim, args in (
        (cv.conv2d_filter_grad, (x, np.ones((2, 4, 6, 6), np.float32), (3, 3))),
        (cv.conv2d_input_grad, (np.ones((2, 4, 6, 6), np.float32), params["w"], x.shape)),
    ):
        assert prim(*args).dtype == np.float32


def test_max_pooling_routes_a_tie_to_the_first_maximum_only():
    x = np.zeros((1, 1, 2, 4))
    x[0, 0, :, 2:] = [[1.0, 3.0], [3.0, 3.0]]
    grad = tg.grad(lambda v: tg.sum(tg.max_pool2d(v, 2) * np.array([[[[2.0, 5.0]]]])))(x)
    np.testing.assert_array_equal(grad[0, 0], [[2.0, 0, 0, 5.0], [0, 0, 0, 0]])


@pytest.mark.parametrize("size", [2, 3])
def test_max_pooling_gradient_goes_where_numpy_argmax_points_ties_and_nans_included(size):
    """The tiled path's winners (one comparison, a walk only on ties) against argmax over each
    window: those the forward pass saves for a first-order pullback, and those the VJP finds
    without them (as when it is differentiated again)."""
    rng = np.random.default_rng(size)
    x = rng.integers(-2, 3, (3, 4, 3 * size + 1, 2 * size + 1)).astype(float)  # many ties, cropped edges
    x[0, 1, 0, 0] = x[2, 3, size, 1] = np.nan
    g = rng.standard_normal((3, 4, 3, 2))
    for name, images in _layouts(x).items():
        _, pullback = tg.vjp(lambda v: tg.max_pool2d(v, size), images)
        expected = np.zeros_like(x)
        windows = x[:, :, : 3 * size, : 2 * size].reshape(3, 4, 3, size, 2, size).transpose(0, 1, 2, 4, 3, 5)
        first = windows.reshape(3, 4, 3, 2, size * size).argmax(axis=-1)  # numpy: first maximum, or NaN
        for n, c, i, j in np.ndindex(first.shape):
            di, dj = divmod(first[n, c, i, j], size)
            expected[n, c, i * size + di, j * size + dj] = g[n, c, i, j]
        np.testing.assert_array_equal(pullback(g)[0], expected, err_msg=name)
        unsaved = pooling._max_pool2d_vjp(g, pooling.max_pool2d(images, size), images, size)
        np.testing.assert_array_equal(unsaved, expected, err_msg=name)


def test_a_first_order_pullback_of_max_pooling_uses_the_mask_its_forward_pass_found(monkeypatch):
    calls = []
    find = pooling._winner_mask
    monkeypatch.setattr(pooling, "_winner_mask", lambda *args: calls.append(1) or find(*args))
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4))
    _, pullback = tg.vjp(lambda v: tg.max_pool2d(v, 2), x)
    assert len(calls) == 1
    pullback(np.ones((2, 3, 2, 2)))
    pullback(np.ones((2, 3, 2, 2)))
    assert len(calls) == 1
    tg.grad(lambda v: tg.sum(tg.grad(lambda u: tg.sum(tg.max_pool2d(u, 2) ** 2))(v)))(x)
    assert len(calls) > 1  # nested: the VJP finds the winners itself, with plain arrays


def test_max_pooling_gradient_keeps_the_layout_of_its_images():
    rng = np.random.default_rng(1)
    for name, x in _layouts(rng.standard_normal((3, 4, 6, 6))).items():
        _, pullback = tg.vjp(lambda v: tg.max_pool2d(v, 2), x)
        g = rng.standard_normal((3, 4, 3, 3))
        (grad,) = pullback(g)
        assert pooling._axis_order(grad) == pooling._axis_order(x), name
        _, reference = tg.vjp(lambda v: tg.max_pool2d(v, 2), np.ascontiguousarray(x))
        np.testing.assert_array_equal(grad, reference(g)[0])


@pytest.mark.parametrize("size, stride, padding", [(2, None, 0), (3, 2, 1), (2, 1, 1), (3, None, 0)])
def test_average_pooling_is_the_mean_of_each_zero_padded_window(size, stride, padding):
    rng = np.random.default_rng(size)
    x = rng.standard_normal((2, 3, 7, 6))
    s = stride or size
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = (7 + 2 * padding - size) // s + 1, (6 + 2 * padding - size) // s + 1
    expected = np.empty((2, 3, oh, ow))
    for i in range(oh):
        for j in range(ow):
            expected[:, :, i, j] = padded[:, :, i * s : i * s + size, j * s : j * s + size].mean(axis=(2, 3))
    np.testing.assert_allclose(pooling.avg_pool2d(x, size, stride, padding), expected, atol=1e-12)
    tg.check_grads(lambda v: pooling.avg_pool2d(v, size, stride, padding), x, order=2)


def test_global_average_pooling_is_the_mean_over_height_and_width():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    np.testing.assert_allclose(pooling.global_avg_pool(x), x.mean(axis=(2, 3)), atol=1e-12)
    tg.check_grads(pooling.global_avg_pool, x, order=2)


def test_pooling_and_convolution_match_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3, 9, 9)), rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    t = torch.from_numpy(x)
    np.testing.assert_allclose(pooling.avg_pool2d(x, 3, 2, 1), F.avg_pool2d(t, 3, 2, 1).numpy(), atol=1e-12)
    expected = F.conv2d(t, torch.from_numpy(w), torch.from_numpy(b), 2, 1).numpy()
    np.testing.assert_allclose(cv.conv2d(x, w, b, 2, 1), expected, atol=1e-12)


def test_the_filters_gradient_reuses_the_forward_columns_only_while_they_are_the_images(monkeypatch):
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((3, 2, 7, 7)), rng.standard_normal((4, 2, 3, 3))
    g = rng.standard_normal((3, 4, 7, 7))
    expected = np.einsum("nfhw,nkhw->fk", g, cv.im2col(x, 3, 3, 1, 1).reshape(3, 18, 7, 7)).reshape(w.shape)
    monkeypatch.setattr(cv, "_scratch", threading.local())  # no buffers left by earlier tests
    built = []
    columns = cv._columns
    monkeypatch.setattr(cv, "_columns", lambda *a: built.append(a[6:] or ("columns",)) or columns(*a))
    cv.conv2d(x, w, padding=1)
    np.testing.assert_allclose(cv.conv2d_filter_grad(x, g, (3, 3), 1, 1), expected, atol=1e-12)
    assert len(built) == 1 and built[0][0].startswith("saved columns")  # built once, by the forward pass
    copy = x.copy()  # equal values, another array: built again
    np.testing.assert_allclose(cv.conv2d_filter_grad(copy, g, (3, 3), 1, 1), expected, atol=1e-12)
    assert len(built) == 2
    others = [rng.standard_normal(x.shape) for _ in range(cv._SAVED_SLOTS)]
    for images in others:  # later convolutions of images still alive take every buffer over
        cv.conv2d(images, w, padding=1)
    np.testing.assert_allclose(cv.conv2d_filter_grad(x, g, (3, 3), 1, 1), expected, atol=1e-12)
    assert len(built) == 3 + cv._SAVED_SLOTS
    del others
    for _ in range(10):  # step after step, the buffers of images that are gone are used again
        cv.conv2d(rng.standard_normal(x.shape), w, padding=1)
    assert len({name for name in built if name[0].startswith("saved")}) <= cv._SAVED_SLOTS
    assert built[-10:] == [built[-1]] * 10


def test_images_reshaped_in_place_after_the_forward_pass_get_their_own_columns(monkeypatch):
    monkeypatch.setattr(cv, "_scratch", threading.local())
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((2, 3, 6, 12)), rng.standard_normal((4, 3, 3, 3))
    cv.conv2d(x, w)
    x.shape = (2, 3, 12, 6)  # the same array object, other images
    g = rng.standard_normal((2, 4, 10, 4))
    expected = cv.conv2d_filter_grad(x.copy(), g, (3, 3))
    np.testing.assert_allclose(cv.conv2d_filter_grad(x, g, (3, 3)), expected, atol=1e-12)


def test_a_fused_bias_is_the_bias_added_separately():
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    separate = cv.conv2d(x, w, padding=1) + b.reshape(1, -1, 1, 1)
    np.testing.assert_allclose(cv.conv2d(x, w, b, padding=1), separate, atol=1e-12)
    tg.check_grads(lambda *a: cv.conv2d(*a, padding=1), x, w, b, order=2)
    with pytest.raises(tg.ShapeError, match="bias"):
        cv.conv2d(x, w, b[:3])
