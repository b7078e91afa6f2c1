"""Silent wrong answers found in the engine, each pinned by the test that would catch it again.

Every case here once returned a wrong number (or a misleading error) with no warning: the worst
kind of bug in an autodiff engine.
"""

import collections
import warnings

import numpy as np
import pytest

import tinygrad_hw as tg
from tinygrad_hw import nn


def test_a_constant_array_exponent_that_broadcasts_x_sums_the_gradient_back_to_x():
    # was [1, 4, 12] (shape of the exponent); d/dx sum(x^[1,2,3]) at 2 = 1 + 4 + 12 = 17
    assert tg.grad(lambda x: tg.sum(x ** np.array([1.0, 2.0, 3.0])))(2.0) == pytest.approx(17.0)


def test_a_traced_exponent_is_differentiated():
    # was a zero gradient with only a warning: power had no VJP for its exponent
    y = np.array([0.5, 2.0])
    np.testing.assert_allclose(tg.grad(lambda y: tg.sum(tg.power(3.0, y)))(y), 3.0**y * np.log(3.0))
    np.testing.assert_allclose(
        tg.grad(lambda y: tg.sum(np.array([3.0, 5.0]) ** y))(y), [3**0.5 * np.log(3), 25 * np.log(5)]
    )
    x = np.array([1.5, 0.7])
    tg.check_grads(lambda x: x**x, x, order=2)


def test_equality_comparisons_compare_values_not_identity():
    # was [0, 0]: Tensor had no __eq__, so `x == 1.0` compared object identity
    np.testing.assert_array_equal(tg.grad(lambda x: tg.sum((x == 1.0) * x))(np.array([1.0, 2.0])), [1.0, 0.0])
    np.testing.assert_array_equal(tg.grad(lambda x: tg.sum((x != 1.0) * x))(np.array([1.0, 2.0])), [0.0, 1.0])


def test_powers_at_zero_have_their_finite_derivatives():
    # d/dx x^0 at 0 was nan (should be 0); d/dy 0^y for y > 0 was nan (should be 0)
    np.testing.assert_array_equal(tg.grad(lambda x: tg.sum(x**0.0))(np.array([0.0, 2.0])), [0.0, 0.0])
    np.testing.assert_array_equal(tg.grad(lambda y: tg.sum(0.0**y))(np.array([1.0, 2.5])), [0.0, 0.0])
    x = np.array([0.0, 2.0])
    np.testing.assert_array_equal(tg.grad(lambda x: tg.sum(x ** np.array([0.0, 0.0])))(x), [0.0, 0.0])
    np.testing.assert_array_equal(tg.jvp(lambda x: x**0.0, (x,), (np.ones(2),))[1], [0.0, 0.0])
    assert tg.grad(lambda x: x**2.0)(0.0) == 0.0 and tg.grad(lambda x: x**1.0)(0.0) == 1.0


def test_functions_returning_dicts_lists_and_tuples_are_differentiated_not_taken_as_constants():
    # were differentiated as constants: zero gradients and a misleading warning
    x = np.array([1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, pullback = tg.vjp(lambda x: {"double": x * 2, "parts": [x * x, (tg.sum(x),)]}, x)
    assert isinstance(value["double"], np.ndarray) and isinstance(value["parts"][1][0], np.floating)
    (g,) = pullback({"parts": [np.array([1.0, 0.0]), (np.array(3.0),)], "double": np.ones(2)})
    np.testing.assert_array_equal(g, [2 + 2 * 1 + 3, 2 + 0 + 3])
    with pytest.raises(ValueError, match="structure"):
        pullback({"double": np.ones(2)})


def test_complex_values_are_refused_not_silently_made_real():
    with pytest.raises(TypeError, match="complex"):
        tg.grad(lambda x: tg.sum(x))(np.array([1.0 + 2.0j]))
    with pytest.raises(TypeError, match="complex"):
        tg.grad(lambda x: x * (1 + 2j))(np.array(1.0))
    with pytest.raises(TypeError, match="complex"):
        tg.jvp(lambda x: x * 1j, (np.array(1.0),), (np.array(1.0),))


def test_numpy_functions_on_a_tensor_say_which_engine_function_to_use():
    # was "unexpected keyword argument 'out'"
    with pytest.raises(TypeError, match=r"numpy's sum cannot see inside a traced value.*tinygrad_hw\.sum"):
        tg.grad(lambda x: np.sum(x))(np.ones(2))
    with pytest.raises(TypeError, match=r"tinygrad_hw\.mean"):
        tg.grad(lambda x: np.mean(x))(np.ones(2))


def test_grad_accepts_any_output_of_size_one():
    # was "grad needs a function with a scalar output" for shapes (1,) and (1, 1)
    np.testing.assert_array_equal(tg.grad(lambda x: x * 2)(np.array([1.5])), [2.0])
    np.testing.assert_array_equal(tg.grad(lambda x: x @ x.T)(np.array([[1.0, 2.0]])), [[2.0, 4.0]])
    with pytest.raises(ValueError, match=r"scalar output.*shape \(2,\)"):
        tg.grad(lambda x: x * 2)(np.ones(2))


def test_optimisers_pair_dict_leaves_by_key_not_by_position():
    # {'a': 1, 'b': 1} minus grads {'b': 0, 'a': 100} updated the wrong leaf
    params = {"a": np.array(1.0), "b": np.array(1.0)}
    grads = {"b": np.array(0.0), "a": np.array(100.0)}
    assert nn.sgd(params, grads, lr=0.01) == {"a": pytest.approx(0.0), "b": pytest.approx(1.0)}
    new, _ = nn.momentum(params, grads, nn.momentum_init(params), lr=0.01)
    assert new == {"a": pytest.approx(0.0), "b": pytest.approx(1.0)}
    assert tg.tree_map(lambda p, g: p - g, params, grads) == {"a": -99.0, "b": 1.0}
    with pytest.raises(tg.StructureError, match=r"expected keys \['a', 'b'\], got \['a', 'c'\]"):
        nn.sgd(params, {"a": np.array(0.0), "c": np.array(0.0)}, lr=0.1)
    with pytest.raises(tg.StructureError, match="expected 2 entries, got 3"):
        tg.tree_map(lambda p, g: p, [1, 2], [1, 2, 3])


def test_losses_and_accuracy_of_an_empty_batch_raise_instead_of_returning_nan():
    with pytest.raises(ValueError, match="empty batch"):
        tg.softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="empty batch"):
        nn.accuracy(np.zeros((0, 3)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="no elements"):
        tg.mse(np.zeros(0), np.zeros(0))


def test_namedtuple_pytrees_keep_their_type():
    Layer = collections.namedtuple("Layer", ["W", "b"])
    params = Layer(W=np.ones((2, 2)), b=np.zeros(2))
    g = tg.grad(lambda p: tg.sum(p.W @ np.ones(2) + p.b))(params)
    assert isinstance(g, Layer)
    np.testing.assert_array_equal(g.W, np.ones((2, 2)))
    assert isinstance(tg.tree_map(lambda x: x * 2, params), Layer)


def test_matmul_of_scalars_is_a_clear_error():
    with pytest.raises(tg.ShapeError, match="at least one dimension"):
        tg.matmul(np.array(2.0), np.array(3.0))


def test_max_and_maximum_split_the_gradient_equally_among_ties():
    np.testing.assert_array_equal(
        tg.grad(lambda x: tg.max(x))(np.array([1.0, 3.0, 3.0, 3.0])), [0, 1 / 3, 1 / 3, 1 / 3]
    )
    np.testing.assert_array_equal(
        tg.grad(lambda x: tg.sum(tg.min(x, axis=1)))(np.array([[1.0, 1.0], [2.0, 0.0]])),
        [[0.5, 0.5], [0.0, 1.0]],
    )
    np.testing.assert_array_equal(
        tg.grad(lambda a: tg.sum(tg.maximum(a, np.ones(2))))(np.array([1.0, 2.0])), [0.5, 1.0]
    )
    # a tie built from one variable: the shares add up to the whole derivative (autograd's tests)
    for x in (1.0, -1.0):
        tg.check_grads(lambda x: tg.max(tg.array([x, x])), x, order=2)
        tg.check_grads(lambda x: tg.max(tg.array([[x, x], [x, 0.5]]), axis=1), x, order=2)
        tg.check_grads(lambda x: tg.min(tg.array([x, x, x])), x, order=2)
        tg.check_grads(lambda x: tg.maximum(x, x), x, order=2)


def test_kinks_take_the_slope_mature_libraries_give():
    assert tg.grad(lambda x: tg.abs(x))(0.0) == 0.0
    assert tg.grad(lambda x: tg.relu(x))(0.0) == 0.0
    np.testing.assert_array_equal(
        tg.grad(lambda x: tg.sum(tg.clip(x, -1.0, 1.0)))(np.array([-1.0, 0.0, 1.0])), [0, 1, 0]
    )
    for step in (tg.floor, tg.ceil, tg.round, tg.sign):
        np.testing.assert_array_equal(
            tg.grad(lambda x, f=step: tg.sum(f(x)))(np.array([0.3, 1.7])), [0.0, 0.0]
        )


def test_prod_is_exact_with_zeros_to_second_order():
    x = np.array([0.0, 2.0, 3.0])
    np.testing.assert_array_equal(tg.grad(tg.prod)(x), [6.0, 0.0, 0.0])
    np.testing.assert_array_equal(tg.grad(tg.prod)(np.array([0.0, 2.0, 0.0])), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(tg.hessian(tg.prod)(x), [[0, 3, 2], [3, 0, 0], [2, 0, 0]])
    tg.check_grads(lambda x: tg.prod(x, axis=0), np.array([[0.0, 1.5], [2.0, 0.0], [0.5, 1.2]]), order=2)


def test_empty_arrays_and_size_one_axes_differentiate():
    empty = np.zeros((0, 3))
    np.testing.assert_array_equal(tg.grad(lambda x: tg.sum(x * 2))(empty), empty)
    g = tg.grad(lambda a, b: tg.sum(a @ b), argnums=(0, 1))(np.zeros((2, 0)), np.zeros((0, 3)))
    assert g[0].shape == (2, 0) and g[1].shape == (0, 3)
    np.testing.assert_array_equal(
        tg.grad(lambda x: tg.sum(x * np.ones((4, 1, 3))))(np.ones((2, 1))), [[12.0], [12.0]]
    )
    np.testing.assert_array_equal(tg.grad(lambda x: tg.sum(tg.max(x, axis=1)))(np.array([[5.0]])), [[1.0]])


def test_numpy_metadata_functions_read_a_traced_value():
    def f(x):
        assert np.shape(x) == (2, 3) and np.ndim(x) == 2 and np.size(x) == 6 and len(x) == 2
        return tg.sum(x)

    np.testing.assert_array_equal(tg.grad(f)(np.ones((2, 3))), np.ones((2, 3)))


def test_gradients_never_share_memory():
    # a + b passes one cotangent array to both inputs: updating one gradient in place changed the other
    grads = tg.grad(lambda p: tg.sum(p["a"] + p["b"]))({"a": np.ones(2), "b": np.ones(2)})
    grads["a"] *= 10
    np.testing.assert_array_equal(grads["b"], [1.0, 1.0])
    ga, gb = tg.grad(lambda a, b: a + b, argnums=(0, 1))(np.array(1.0), np.array(2.0))
    assert ga is not gb
    # one gradient a view of another's memory (a transpose, a reshape) is a copy too
    grads = tg.grad(lambda p: tg.sum(p["W"].T + p["V"]))({"W": np.ones((2, 3)), "V": np.ones((3, 2))})
    assert not np.shares_memory(grads["W"], grads["V"])


def test_two_argument_functions_refuse_numpys_ufunc_options():
    # hypot(x, y, where=...) passed `where` to the ufunc: uninitialised memory, and a TypeError only
    # later, in the backward pass
    for f in (tg.hypot, tg.arctan2, tg.logaddexp, tg.mod):
        with pytest.raises(TypeError):
            f(np.ones(2), np.ones(2), where=[True, False])
