"""The functional API: pytrees, argnums, vjp, nesting, and errors a user can act on."""

import numpy as np
import pytest

import tinygrad_hw as tg


def test_grad_over_nested_pytrees_keeps_structure_and_values():
    params = {"layers": [{"W": np.ones((2, 3)), "b": np.zeros(3)}], "scale": (np.array(2.0),)}

    def f(p):
        layer = p["layers"][0]
        return tg.sum((layer["W"] + layer["b"]) * p["scale"][0])

    g = tg.grad(f)(params)
    assert set(g) == {"layers", "scale"} and isinstance(g["scale"], tuple)
    np.testing.assert_array_equal(g["layers"][0]["W"], np.full((2, 3), 2.0))
    np.testing.assert_array_equal(g["layers"][0]["b"], np.full(3, 4.0))
    np.testing.assert_array_equal(g["scale"][0], 6.0)


def test_argnums_tuple_gives_a_gradient_per_argument_and_other_arguments_stay_constant():
    x, y, z = np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([5.0, 6.0])
    value, (gx, gz) = tg.value_and_grad(lambda a, b, c: tg.sum(a * b * c), argnums=(0, 2))(x, y, z)
    assert value == pytest.approx(1 * 3 * 5 + 2 * 4 * 6)
    np.testing.assert_array_equal(gx, y * z)
    np.testing.assert_array_equal(gz, x * y)


def test_float32_in_float32_out():
    w = np.ones((3, 2), dtype=np.float32)
    g = tg.grad(lambda w: tg.mse(w @ np.ones(2, np.float32), np.zeros(3, np.float32)))(w)
    assert g.dtype == np.float32


def test_vjp_of_a_vector_function_pulls_back_any_cotangent():
    A = np.arange(6.0).reshape(2, 3)
    value, pullback = tg.vjp(lambda x: A @ x, np.ones(3))
    np.testing.assert_array_equal(value, A @ np.ones(3))
    (gx,) = pullback(np.array([1.0, -1.0]))
    np.testing.assert_array_equal(gx, np.array([1.0, -1.0]) @ A)
    with pytest.raises(ValueError, match=r"cotangent has shape \(3,\).*output has shape \(2,\)"):
        pullback(np.ones(3))


def test_grad_of_grad_is_the_second_derivative():
    d2 = tg.grad(tg.grad(lambda x: tg.sum(x**3) + tg.sum(tg.sigmoid(x))))
    x = np.array(0.7)
    s = 1 / (1 + np.exp(-x))
    assert d2(x) == pytest.approx(6 * x + s * (1 - s) * (1 - 2 * s), rel=1e-12)


def test_hessian_vector_product_matches_the_explicit_hessian():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])

    def f(x):
        return 0.5 * tg.sum(x * (A @ x)) + tg.sum(x**4)

    x, v = np.array([0.3, -0.5]), np.array([1.0, 2.0])
    hvp = tg.grad(lambda x: tg.sum(tg.grad(f)(x) * v))(x)
    hessian = A + np.diag(12 * x**2)
    np.testing.assert_allclose(hvp, hessian @ v, rtol=1e-12)


def test_a_primitive_used_twice_accumulates_both_paths():
    assert tg.grad(lambda x: tg.sum(x * x + x))(np.array(3.0)) == pytest.approx(7.0)


def test_operators_with_numpy_on_the_left_are_recorded():
    x = np.array([1.0, 2.0])
    g = tg.grad(lambda t: tg.sum(np.array([3.0, 4.0]) * t + np.float64(2.0) * t - 1.0 / (1.0 + t)))(x)
    np.testing.assert_allclose(g, [3 + 2 + 1 / 4, 4 + 2 + 1 / 9])


def test_getitem_and_concatenate_route_gradients_back():
    x = np.arange(5.0)
    g = tg.grad(lambda t: tg.sum(tg.concatenate([t[1:3], t[[0, 0, 4]]]) * 2))(x)
    np.testing.assert_array_equal(g, [4.0, 2.0, 2.0, 0.0, 2.0])


# -- errors a user can act on -----------------------------------------------------------------


def test_grad_of_a_non_scalar_output_says_so():
    with pytest.raises(ValueError, match=r"scalar output.*returned shape \(3,\).*use vjp"):
        tg.grad(lambda x: x * 2)(np.ones(3))


def test_grad_with_respect_to_an_integer_array_says_so():
    with pytest.raises(TypeError, match=r"argument\[0\]: its dtype is int64.*floating-point"):
        tg.grad(lambda x: tg.sum(x * 1.0))(np.arange(3))


def test_grad_of_an_output_that_ignores_the_input_warns_and_returns_zeros():
    with pytest.warns(tg.ZeroGradientWarning, match="does not depend on the inputs"):
        g = tg.grad(lambda x, y: tg.sum(y * 2.0))(np.ones(2), np.ones(2))
    np.testing.assert_array_equal(g, np.zeros(2))


@pytest.mark.parametrize(
    ("op", "shapes", "expected"),
    [
        (tg.add, ((2, 3), (4,)), r"add: inputs of shapes \(2, 3\) and \(4,\) do not fit"),
        (tg.matmul, ((2, 3), (4, 5)), r"matmul: inputs of shapes \(2, 3\) and \(4, 5\) do not fit"),
        (tg.mse, ((2,), (3,)), r"mse: prediction shape \(2,\) differs from target shape \(3,\)"),
        (tg.conv2d, ((1, 2, 5, 5), (3, 1, 2, 2)), r"conv2d: .*same C, got \(1, 2, 5, 5\) and \(3, 1, 2, 2\)"),
    ],
)
def test_a_shape_mismatch_names_the_primitive_and_both_shapes(op, shapes, expected):
    a, b = (np.ones(s) for s in shapes)
    with pytest.raises(tg.ShapeError, match=expected):
        op(a, b)
    with pytest.raises(tg.ShapeError, match=expected):  # the same inside a traced function
        tg.grad(lambda t: tg.sum(op(t, b)))(a)


def test_bad_labels_for_cross_entropy_are_named():
    logits = np.zeros((3, 4))
    with pytest.raises(tg.ShapeError, match=r"integer labels must have shape \(3,\)"):
        tg.softmax_cross_entropy(logits, np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 4\)"):
        tg.softmax_cross_entropy(logits, np.array([0, 1, 4]))


def test_numpy_functions_on_a_tensor_fail_loudly_instead_of_cutting_the_gradient():
    with pytest.raises(TypeError, match="Tensor' does not support ufuncs"):
        tg.grad(lambda x: tg.sum(np.exp(x)))(np.ones(2))
    with pytest.raises(TypeError, match="use the tinygrad_hw functions"):
        tg.grad(lambda x: tg.sum(np.asarray(x)))(np.ones(2))


# -- check_grads ------------------------------------------------------------------------------


def _broken_square():
    square = tg.Primitive(lambda x: x * x, name="square", registry=None)
    square.defvjp(lambda g, ans, x: g * x)  # wrong by a factor of 2
    square.defjvp(lambda t, ans, x: 2 * t * x)  # right
    return square


def test_check_grads_names_the_input_the_worst_element_and_both_values():
    square = _broken_square()
    params = {"W": np.array([[0.5, -1.0], [3.0, 0.25]])}
    with pytest.raises(tg.GradientCheckError) as failure:
        tg.check_grads(lambda p: tg.sum(square(p["W"])), params, seed=1)
    message = str(failure.value)
    assert "reverse mode) of input [0]['W']" in message and "worst at element (1, 0)" in message
    assert "the engine gives" in message and "central differences give" in message


def test_check_grads_in_direction_mode_catches_the_same_error_on_a_large_input():
    square = _broken_square()
    x = np.random.default_rng(0).standard_normal(5000)
    with pytest.raises(tg.GradientCheckError, match="along random direction"):
        tg.check_grads(lambda x: tg.sum(square(x)), x)
    summary = tg.check_grads(lambda x: tg.sum(x * x), x, directions=4, modes=["rev"])
    assert summary["comparisons"] == 4


def test_check_grads_passes_a_correct_function_at_second_order_and_counts_comparisons():
    x = np.array([0.1, 0.2, 0.3])
    summary = tg.check_grads(lambda x: tg.tanh(x) * tg.exp(x), x, order=2, modes=["rev"])
    assert summary["comparisons"] == 6 and summary["max_abs_error"] < 1e-8
    # both modes: f in each mode, then each mode's derivative function in each mode; forward
    # mode compares all 3 outputs for each of the 3 probes, reverse mode one number per probe
    summary = tg.check_grads(lambda x: tg.tanh(x) * tg.exp(x), x, order=2)
    assert summary["comparisons"] == (9 + 3) + 2 * (9 + 3) and summary["max_abs_error"] < 1e-8


def test_check_grads_curried_as_in_autograd_checks_the_same():
    with pytest.raises(tg.GradientCheckError, match="forward mode"):
        tg.check_grads(lambda x: tg.sum(_broken_jvp_square(x)), modes=["fwd"])(np.array([0.5, 2.0]))
    tg.check_grads(lambda x: tg.sum(_broken_jvp_square(x)), modes=["rev"], order=2)(np.array([0.5, 2.0]))


def _broken_jvp_square(x):
    square = tg.Primitive(lambda x: x * x, name="square", registry=None)
    square.defvjp(lambda g, ans, x: 2 * g * x)
    square.defjvp(lambda t, ans, x: t * x)  # wrong by a factor of 2
    return square(x)


def test_a_gradient_step_leaves_no_reference_cycles_behind():
    # Cycles would keep every step's graph and arrays alive until the cyclic collector runs.
    import gc

    params = {"W": np.ones((3, 2)), "b": np.zeros(2)}
    loss = lambda p, x: tg.sum(tg.sigmoid(x @ p["W"] + p["b"]))  # noqa: E731
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            tg.grad(loss)(params, np.ones((4, 3)))
            tg.grad(tg.grad(lambda x: tg.sum(tg.tanh(x) ** 3)))(np.array(0.3))
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_has_aux_returns_the_auxiliary_output_unboxed_and_differentiates_only_the_loss():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = np.array([[1.0, -1.0]])

    def loss(W):
        logits = x @ W
        return tg.sum(logits**2), {"logits": logits}

    (value, aux), g = tg.value_and_grad(loss, has_aux=True)(W)
    assert isinstance(aux["logits"], np.ndarray)
    np.testing.assert_array_equal(aux["logits"], x @ W)
    assert value == pytest.approx(float(np.sum((x @ W) ** 2)))
    np.testing.assert_allclose(g, 2 * x.T @ (x @ W))


def test_value_and_grad_of_one_argument_counts_argnums_from_either_end():
    f = lambda a, b: tg.sum(a * b * b)  # noqa: E731
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    value, g = tg.value_and_grad(f, argnums=-1)(a, b)
    assert value == 1 * 9 + 2 * 16
    np.testing.assert_array_equal(g, 2 * a * b)
    with pytest.raises(IndexError, match="argnums=2 but the function got 2 arguments"):
        tg.value_and_grad(f, argnums=2)(a, b)
    with pytest.raises(IndexError, match="argnums=-3 but the function got 2 arguments"):
        tg.value_and_grad(f, argnums=-3)(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_with_integer_labels_is_the_mean_negative_log_softmax(dtype):
    # The loss is computed as log-sum-exp minus the label's logit, without the log-softmax matrix.
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal((6, 5)) * np.array([[1.0], [1e-3], [30.0], [300.0], [1.0], [1.0]])).astype(
        dtype
    )
    logits[4] = 0.0  # a tie between every class
    labels = np.array([0, 4, 2, 1, 3, 0])
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    expected = -log_softmax[np.arange(6), labels]
    for reduction, reduce in (("mean", np.mean), ("sum", np.sum)):
        loss = tg.softmax_cross_entropy(logits, labels, reduction=reduction)
        assert loss.dtype == dtype and loss >= 0
        np.testing.assert_allclose(loss, reduce(expected), rtol=1e-6 if dtype == np.float32 else 1e-13)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 5\)"):
        tg.softmax_cross_entropy(logits, np.array([0, 1, 2, 3, 4, -1]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_gradient_is_softmax_minus_one_hot_at_the_edges(dtype, reduction):
    # Its first-order VJP folds the scale into each row's normaliser and subtracts it at the label.
    logits = np.array([[0.0, 0.0, 0.0], [1e-3, -1e-3, 0.0], [300.0, -300.0, 0.0], [5.0, 5.0, -2.0]], dtype)
    labels = np.array([1, 0, 1, 0])  # a tie, near-ties, a label far below the maximum, a tied label
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    softmax = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    expected = (softmax - np.eye(3)[labels]) / (len(labels) if reduction == "mean" else 1)
    g = tg.grad(lambda z: tg.softmax_cross_entropy(z, labels, reduction=reduction))(logits)
    assert g.dtype == dtype and g.shape == logits.shape
    np.testing.assert_allclose(g, expected, rtol=1e-6 if dtype == np.float32 else 1e-13, atol=1e-7)
    (one_row,) = tg.grad(lambda z: tg.softmax_cross_entropy(z, labels[:1], reduction=reduction))(logits[:1])
    np.testing.assert_allclose(one_row, softmax[0] - np.eye(3)[1], rtol=1e-6)


def test_a_saving_forward_hands_its_residuals_to_first_order_vjps_only():
    # cube(x) = x^3 saves x^2 for its VJP; nested traces and forward mode get saved=None
    received = []

    @tg.primitive(registry=None)
    def cube(x):
        return x**3

    @cube.defsaving
    def _(x):
        square = x * x
        return square * x, square

    def cube_vjp(g, ans, x, saved=None):
        received.append("saved" if saved is not None else "None")
        return g * 3 * (saved if saved is not None and type(g) is np.ndarray else x * x)

    cube.defvjp(cube_vjp)
    cube.defjvp(lambda t, ans, x: t * 3 * x * x)
    x = np.array([0.5, -2.0, 3.0])

    assert type(cube(x)) is np.ndarray and received == []
    value, pullback = tg.vjp(cube, x)
    np.testing.assert_array_equal(value, x**3)
    first, again = pullback(np.ones(3))[0], pullback(np.ones(3))[0]  # saved must survive a second call
    np.testing.assert_array_equal(first, 3 * x * x)
    np.testing.assert_array_equal(again, first)
    assert received == ["saved", "saved"]

    received.clear()
    second = tg.grad(lambda x: tg.sum(tg.grad(lambda y: tg.sum(cube(y)))(x)))(x)
    np.testing.assert_allclose(second, 6 * x)
    assert "saved" not in received  # the inner trace's inputs were Tensors of the outer one
    received.clear()
    _, tangent = tg.jvp(tg.grad(lambda y: tg.sum(cube(y))), (x,), (np.ones(3),))
    np.testing.assert_allclose(tangent, 6 * x)
    assert "saved" not in received


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_vjp_gives_the_same_with_and_without_the_forward_passes_exponentials(reduction):
    from tinygrad_hw.primitives.losses import _softmax_cross_entropy_saving

    rng = np.random.default_rng(1)
    logits = rng.standard_normal((7, 4)).astype(np.float32) * 5
    labels = rng.integers(0, 4, 7)
    loss, saved = _softmax_cross_entropy_saving(logits, labels, reduction)
    assert loss == tg.softmax_cross_entropy(logits, labels, reduction=reduction)
    vjp = tg.softmax_cross_entropy.vjps[0]
    g = np.array(0.5, np.float32)
    with_saved = vjp(g, loss, logits, labels, reduction, saved=saved)
    np.testing.assert_array_equal(with_saved, vjp(g, loss, logits, labels, reduction))
    np.testing.assert_array_equal(vjp(g, loss, logits, labels, reduction, saved=saved), with_saved)
    z = logits.astype(np.float64)
    softmax = np.exp(z - z.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    expected = 0.5 * (softmax - np.eye(4)[labels]) / (7 if reduction == "mean" else 1)
    np.testing.assert_allclose(with_saved, expected, rtol=1e-5, atol=1e-7)
    # the logits' dtype, whatever the cotangent's (a float64 one must not make the backward float64)
    for cotangent in (np.array(0.5), np.float64(0.5), 0.5, g):
        assert vjp(cotangent, loss, logits, labels, reduction, saved=saved).dtype == np.float32
        assert vjp(cotangent, loss, logits, labels, reduction).dtype == np.float32


def test_tree_unflatten_rebuilds_flat_and_nested_dicts_in_their_key_order():
    for tree in ({"b": np.ones(1), "a": np.zeros(2)}, {"b": {"c": np.ones(1)}, "a": np.zeros(2)}, {}):
        leaves, treedef = tg.tree_flatten(tree)
        rebuilt = tg.tree_unflatten(treedef, [leaf + 1 for leaf in leaves])
        assert tg.tree_flatten(rebuilt)[1] == treedef and list(rebuilt) == list(tree)
        for new, old in zip(tg.tree_leaves(rebuilt), leaves):
            np.testing.assert_array_equal(new, old + 1)


def test_value_and_grad_keeps_its_contract_at_the_edges():
    x = np.array([1.0, -2.0, 4.0])

    # a primitive whose forward returns a Python float
    @tg.primitive(registry=None)
    def total(a):
        return float(np.sum(a))

    total.defvjp(lambda g, ans, a: g * np.ones_like(a))
    value, g = tg.value_and_grad(total)(x)
    assert value == 3.0
    np.testing.assert_array_equal(g, np.ones(3))

    # a forgotten return is an error, not a zero gradient
    with pytest.raises(ValueError, match=r"scalar output.*returned None \(does it return its result\?\)"):
        tg.grad(lambda a: None)(x)

    # as a method: the instance is the first argument
    class Model:
        value_and_grad = tg.value_and_grad(lambda self, a: tg.sum(a * a), argnums=1)

    value, g = Model().value_and_grad(x)
    assert value == 21.0
    np.testing.assert_array_equal(g, 2 * x)


def test_tree_unflatten_takes_any_iterable_of_leaves():
    _, treedef = tg.tree_flatten({"a": np.zeros(1), "b": np.zeros(1)})
    assert tg.tree_unflatten(treedef, iter([1, 2])) == {"a": 1, "b": 2}
    assert tg.tree_unflatten(treedef, (x for x in (3, 4))) == {"a": 3, "b": 4}
