"""Forward mode and the operators built from both modes: jvp, jacobian, hessian, hvp, elementwise_grad."""

import numpy as np
import pytest

import tinygrad_hw as tg

rng = np.random.default_rng(0)


def test_jvp_gives_the_value_and_the_directional_derivative():
    A = rng.standard_normal((3, 2))
    x, v = rng.standard_normal(2), rng.standard_normal(2)
    value, tangent = tg.jvp(lambda x: tg.tanh(A @ x), (x,), (v,))
    np.testing.assert_allclose(value, np.tanh(A @ x))
    np.testing.assert_allclose(tangent, (1 - np.tanh(A @ x) ** 2) * (A @ v), rtol=1e-13)


def test_jvp_over_pytrees_of_inputs_and_outputs():
    params = {"W": rng.standard_normal((2, 2)), "b": rng.standard_normal(2)}
    tangents = {"b": np.ones(2), "W": np.zeros((2, 2))}  # key order need not match
    x = rng.standard_normal(2)
    value, tangent = tg.jvp(
        lambda p: {"out": p["W"] @ x + p["b"], "const": np.ones(1)}, (params,), (tangents,)
    )
    np.testing.assert_allclose(value["out"], params["W"] @ x + params["b"])
    np.testing.assert_array_equal(tangent["out"], np.ones(2))
    np.testing.assert_array_equal(tangent["const"], np.zeros(1))
    with pytest.raises(ValueError, match="tangent has shape"):
        tg.jvp(lambda x: x, (np.ones(2),), (np.ones(3),))


def test_jvp_and_vjp_are_transposes_on_a_model():
    W, x = rng.standard_normal((4, 3)), rng.standard_normal((5, 4))

    def model(W):
        return tg.log_softmax(tg.gelu(x @ W) @ W.T, axis=1)

    v, u = rng.standard_normal(W.shape), rng.standard_normal((5, 4))
    _, jv = tg.jvp(model, (W,), (v,))
    _, pullback = tg.vjp(model, W)
    assert np.sum(jv * u) == pytest.approx(np.sum(v * pullback(u)[0]), rel=1e-12)


def test_jacobian_matches_finite_differences_in_both_directions():
    A = rng.standard_normal((2, 5))
    wide = lambda x: tg.sin(A @ x)  # noqa: E731  2 outputs, 5 inputs: reverse mode
    tall = lambda x: tg.exp(A.T @ x)  # noqa: E731  5 outputs, 2 inputs: forward mode
    for f, x in ((wide, rng.standard_normal(5)), (tall, rng.standard_normal(2))):
        J = tg.jacobian(f)(x)
        numeric = np.stack([(f(x + 1e-6 * e) - f(x - 1e-6 * e)) / 2e-6 for e in np.eye(len(x))], axis=-1)
        np.testing.assert_allclose(J, numeric, rtol=1e-7, atol=1e-9)
    assert tg.jacobian(lambda X: X * 2)(np.ones((2, 3))).shape == (2, 3, 2, 3)


def test_hessian_and_hvp_agree_with_the_explicit_hessian():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])

    def f(x):
        return 0.5 * tg.sum(x * (A @ x)) + tg.sum(x**4)

    x, v = np.array([0.3, -0.5]), np.array([1.0, 2.0])
    hessian = A + np.diag(12 * x**2)
    np.testing.assert_allclose(tg.hessian(f)(x), hessian, rtol=1e-12)
    np.testing.assert_allclose(tg.hvp(f, (x,), (v,)), hessian @ v, rtol=1e-12)


def test_hessian_of_a_network_loss_is_symmetric_and_checks():
    x, y = rng.standard_normal((6, 3)), rng.integers(0, 2, 6)

    def loss(w):
        return tg.softmax_cross_entropy(tg.tanh(x @ w[:6].reshape(3, 2)) @ w[6:].reshape(2, 2), y)

    w = rng.standard_normal(10)
    H = tg.hessian(loss)(w)
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    v = rng.standard_normal(10)
    np.testing.assert_allclose(tg.hvp(loss, (w,), (v,)), H @ v, rtol=1e-10)
    tg.check_grads(loss, w, order=3, modes=["fwd", "rev"])


def test_elementwise_grad_is_the_derivative_at_every_element():
    x = np.linspace(-2, 2, 7)
    np.testing.assert_allclose(tg.elementwise_grad(tg.tanh)(x), 1 - np.tanh(x) ** 2, rtol=1e-13)
    np.testing.assert_allclose(tg.elementwise_grad(tg.elementwise_grad(tg.sin))(x), -np.sin(x), rtol=1e-13)


def test_forward_over_reverse_and_reverse_over_forward_nest():
    f = lambda x: tg.sum(tg.sin(x) * x)  # noqa: E731
    x, v = rng.standard_normal(3), rng.standard_normal(3)
    exact = (2 * np.cos(x) - x * np.sin(x)) * v
    np.testing.assert_allclose(tg.jvp(tg.grad(f), (x,), (v,))[1], exact, rtol=1e-12)
    np.testing.assert_allclose(tg.grad(lambda x: tg.jvp(f, (x,), (v,))[1])(x), exact, rtol=1e-12)
    np.testing.assert_allclose(
        tg.jvp(lambda x: tg.jvp(f, (x,), (v,))[1], (x,), (v,))[1], np.sum(exact * v), rtol=1e-12
    )
