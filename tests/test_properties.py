"""The homework's theory questions as executable properties of the engine."""

import numpy as np
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_hw as tg
from tinygrad_hw import nn


def matrices(low=-50.0, high=50.0, min_cols=1, max_side=6):
    shape = hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=max_side).filter(
        lambda s: s[1] >= min_cols
    )
    return hnp.arrays(np.float64, shape, elements=st.floats(low, high))


@given(x=matrices(), data=st.data())
def test_softmax_is_invariant_to_a_constant_added_to_each_row(x, data):
    c = data.draw(hnp.arrays(np.float64, (x.shape[0], 1), elements=st.floats(-1e3, 1e3)))
    np.testing.assert_allclose(tg.softmax(x + c), tg.softmax(x), rtol=1e-9, atol=1e-12)


@given(x=matrices(-15.0, 15.0, min_cols=2))
def test_softmax_rows_lie_strictly_between_0_and_1_and_sum_to_1(x):
    s = tg.softmax(x)
    assert np.all((s > 0) & (s < 1))
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-12)


@given(x=matrices(-1e4, 1e4, min_cols=2), data=st.data())
def test_extreme_logits_neither_overflow_nor_give_nan(x, data):
    labels = data.draw(hnp.arrays(np.int64, (x.shape[0],), elements=st.integers(0, x.shape[1] - 1)))
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        s = tg.softmax(x)
        log_s = tg.log_softmax(x)
        loss, g = tg.value_and_grad(tg.softmax_cross_entropy)(x, labels)
    assert np.all(np.isfinite(s)) and np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(np.isfinite(log_s)) and np.all(log_s <= 0)
    assert np.isfinite(loss) and loss >= 0
    assert np.all(np.isfinite(g))


pytree_shapes = st.dictionaries(
    st.sampled_from(["W", "b", "scale"]),
    st.one_of(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), st.tuples(hnp.array_shapes(max_dims=2))),
    min_size=1,
)


@given(shapes=pytree_shapes, dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 99))
def test_gradients_have_their_inputs_structure_shapes_and_dtypes(shapes, dtype, seed):
    rng = np.random.default_rng(seed)
    params = {
        key: tuple(_array(rng, s, dtype) for s in shape)
        if _is_tuple_of_shapes(shape)
        else _array(rng, shape, dtype)
        for key, shape in shapes.items()
    }
    loss = lambda p: sum(tg.sum(tg.tanh(leaf) ** 2) for leaf in tg.tree_leaves(p))  # noqa: E731
    grads = tg.grad(loss)(params)
    assert tg.tree_flatten(grads)[1] == tg.tree_flatten(params)[1]
    for g, p in zip(tg.tree_leaves(grads), tg.tree_leaves(params)):
        assert isinstance(g, np.ndarray) and g.shape == np.shape(p) and g.dtype == p.dtype
        np.testing.assert_allclose(g, 2 * np.tanh(p) * (1 - np.tanh(p) ** 2), rtol=1e-4, atol=1e-6)


def _is_tuple_of_shapes(shape):
    return len(shape) > 0 and isinstance(shape[0], tuple)


def _array(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


@given(sizes=st.lists(st.integers(1, 6), min_size=3, max_size=5), seed=st.integers(0, 99))
def test_a_stack_of_linear_layers_is_one_linear_map(sizes, seed):
    rng = np.random.default_rng(seed)
    layers = [nn.init_dense(rng, a, b) for a, b in zip(sizes, sizes[1:])]
    for layer in layers:
        layer["b"] = rng.standard_normal(layer["b"].shape)
    x = rng.standard_normal((4, sizes[0]))
    h = x
    for layer in layers:
        h = nn.dense(layer, h, activation=None)
    W, b = np.eye(sizes[0]), np.zeros(sizes[0])
    for layer in layers:
        W, b = W @ layer["W"], b @ layer["W"] + layer["b"]
    np.testing.assert_allclose(h, x @ W + b, rtol=1e-10, atol=1e-12)


@given(x=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2), elements=st.floats(-30, 30)))
def test_sigmoid_derivative_is_sigmoid_times_one_minus_sigmoid(x):
    s = tg.sigmoid(x)
    np.testing.assert_allclose(
        tg.grad(lambda v: tg.sum(tg.sigmoid(v)))(x), s * (1 - s), rtol=1e-12, atol=1e-300
    )


@given(x=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2), elements=st.floats(-30, 30)))
def test_tanh_is_a_rescaled_sigmoid(x):
    np.testing.assert_allclose(tg.tanh(x), 2 * tg.sigmoid(2 * x) - 1, rtol=1e-12, atol=1e-15)
    dtanh = tg.grad(lambda v: tg.sum(tg.tanh(v)))(x)
    d_rescaled = tg.grad(lambda v: tg.sum(2 * tg.sigmoid(2 * v) - 1))(x)
    np.testing.assert_allclose(dtanh, d_rescaled, rtol=1e-9, atol=1e-14)


@given(
    n=st.integers(1, 2), c=st.integers(1, 3), f=st.integers(1, 3), h=st.integers(3, 7), w=st.integers(3, 7),
    k=st.integers(1, 3), stride=st.integers(1, 2), padding=st.integers(0, 2), seed=st.integers(0, 99),
)  # fmt: skip
def test_conv2d_equals_its_im2col_matrix_product_and_direct_correlation(
    n, c, f, h, w, k, stride, padding, seed
):
    rng = np.random.default_rng(seed)
    x, kernels = rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, k, k))
    out = tg.conv2d(x, kernels, stride=stride, padding=padding)

    cols = tg.im2col(x, k, k, stride, padding)
    oh, ow = out.shape[2:]
    assert cols.shape == (n, c * k * k, oh * ow)
    as_product = (kernels.reshape(f, -1) @ cols).reshape(n, f, oh, ow)
    np.testing.assert_allclose(out, as_product, rtol=1e-12, atol=1e-12)

    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    direct = np.zeros_like(out)
    for i in range(n):
        for j in range(f):
            full = scipy.signal.correlate(padded[i], kernels[j], mode="valid")[0]
            direct[i, j] = full[::stride, ::stride]
    np.testing.assert_allclose(out, direct, rtol=1e-10, atol=1e-10)
