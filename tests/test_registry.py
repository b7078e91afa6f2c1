"""Every registered primitive: derivative rules in both modes, checked on hypothesis shapes.

Three properties per primitive, on inputs from its own `sample` recipe drawn by hypothesis (so
failures shrink to small shapes, and size-1 axes, scalars and empty arrays come up):
  * its VJPs and JVPs agree with central differences, first and second order, in both modes;
  * its JVP and VJP are transposes of each other: <J v, u> == <v, J^T u> for random v and u;
  * every argument with a VJP has a JVP and the other way round.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_hw as tg
from tinygrad_hw import REGISTRY, GradientCheckError, MissingCheckInputsError, check_primitive
from tinygrad_hw.primitive import Primitive, primitive
from tinygrad_hw.sampling import RandomDraw

from .draws import HypothesisDraw


@pytest.mark.parametrize("name", sorted(REGISTRY))
@settings(max_examples=12)
@given(data=st.data())
def test_every_registered_primitive_checks_in_both_modes_to_second_order(name, data):
    check_primitive(REGISTRY[name], HypothesisDraw(data), order=2)


def _floating(args):
    return [i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f"]


@pytest.mark.parametrize("name", sorted(REGISTRY))
@settings(max_examples=15)
@given(data=st.data())
def test_forward_and_reverse_rules_are_transposes_of_each_other(name, data):
    prim = REGISTRY[name]
    args, params = prim.sample(HypothesisDraw(data))
    varying = _floating(args)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))

    def f(*xs):
        full = list(args)
        for i, x in zip(varying, xs):
            full[i] = x
        return prim(*full, **params)

    xs = tuple(np.asarray(args[i], dtype=np.float64) for i in varying)
    vs = tuple(rng.standard_normal(x.shape) for x in xs)
    value, jv = tg.jvp(f, xs, vs)
    u = rng.standard_normal(np.shape(value))
    _, pullback = tg.vjp(f, *xs)
    jtu = pullback(u)
    forward = float(np.sum(np.asarray(jv) * u))
    reverse = sum(float(np.sum(v * g)) for v, g in zip(vs, jtu))
    assert forward == pytest.approx(reverse, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_differentiable_argument_has_a_rule_in_each_mode(name):
    prim = REGISTRY[name]
    args, _ = prim.sample(RandomDraw(0))
    for i in _floating(args):
        assert prim.vjp_for(i) is not None, f"{name}: argument {i} has no VJP"
        assert prim.jvp_for(i) is not None, f"{name}: argument {i} has no JVP"


def test_registry_holds_the_primitives_the_engine_promises():
    promised = {
        "matmul", "add", "sub", "mul", "div", "neg", "power", "exp", "log", "sigmoid", "tanh",
        "relu", "softmax", "log_softmax", "softmax_cross_entropy", "mse", "sum_squared_error",
        "sum", "reshape", "transpose", "getitem", "concatenate", "conv2d", "max_pool2d",
        "abs", "sign", "sqrt", "square", "maximum", "minimum", "where", "clip", "log1p", "expm1",
        "log2", "log10", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
        "arctan2", "hypot", "mod", "floor", "ceil", "round", "softplus", "leaky_relu", "elu",
        "logaddexp", "max", "min", "prod", "logsumexp", "cumsum", "roll", "diagonal", "einsum",
    }  # fmt: skip
    assert promised <= set(REGISTRY)


def test_a_primitive_registered_without_check_inputs_cannot_pass():
    registry = {}

    @primitive(registry=registry)
    def cube(x):
        return x**3

    cube.defvjp(lambda g, ans, x: 3 * g * x * x)
    assert registry == {"cube": cube}
    with pytest.raises(MissingCheckInputsError, match="'cube' has no check inputs"):
        check_primitive(cube)


def test_a_primitive_registered_without_a_jvp_fails_the_forward_check():
    cube = Primitive(lambda x: x**3, name="cube", registry=None)
    cube.defvjp(lambda g, ans, x: 3 * g * x * x)
    cube.defsample(lambda draw: ([draw.array((3,), 0.5, 2.0)], {}))
    check_primitive(cube, modes=["rev"])
    with pytest.raises(NotImplementedError, match="cube: no forward-mode rule"):
        check_primitive(cube)


def test_a_wrong_vjp_is_caught_at_first_order():
    cube = Primitive(lambda x: x**3, name="cube", registry=None)
    cube.defvjp(lambda g, ans, x: 2 * g * x * x)  # wrong: should be 3 g x^2
    cube.defjvp(lambda t, ans, x: 3 * t * x * x)
    cube.defsample(lambda draw: ([draw.array((3,), 0.5, 2.0)], {}))
    with pytest.raises(GradientCheckError, match="first-order gradient \\(reverse mode\\) of input \\[0\\]"):
        check_primitive(cube)


def test_a_wrong_jvp_is_caught_at_first_order():
    cube = Primitive(lambda x: x**3, name="cube", registry=None)
    cube.defvjp(lambda g, ans, x: 3 * g * x * x)
    cube.defjvp(lambda t, ans, x: 3 * t * x)  # wrong: should be 3 t x^2
    cube.defsample(lambda draw: ([draw.array((3,), 0.5, 2.0)], {}))
    with pytest.raises(GradientCheckError, match="first-order derivative \\(forward mode\\)"):
        check_primitive(cube)


def test_a_vjp_that_is_not_differentiable_is_caught_at_second_order():
    # Right first derivative, but computed outside the engine (np.asarray cuts the trace), so the
    # derivative of the backward pass comes out as zero: only the order-2 check can see that.
    cube = Primitive(lambda x: x**3, name="cube", registry=None)
    cube.defvjp(lambda g, ans, x: 3 * g * np.asarray(ans) ** (2 / 3))
    cube.defsample(lambda draw: ([draw.array((3,), 0.5, 2.0)], {}))
    check_primitive(cube, order=1, modes=["rev"])
    with pytest.raises((GradientCheckError, TypeError)):
        check_primitive(cube, order=2, modes=["rev"])


def test_registering_two_primitives_with_one_name_is_refused():
    registry = {}
    Primitive(lambda x: x, name="same", registry=registry)
    with pytest.raises(ValueError, match="already registered"):
        Primitive(lambda x: x, name="same", registry=registry)
