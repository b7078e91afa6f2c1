"""Every registered primitive passes first- and second-order gradient checks on hypothesis shapes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_hw import REGISTRY, GradientCheckError, MissingCheckInputsError, check_primitive
from tinygrad_hw.primitive import Primitive, primitive

from .draws import HypothesisDraw


@pytest.mark.parametrize("name", sorted(REGISTRY))
@given(data=st.data())
def test_every_registered_primitive_gradchecks_to_second_order(name, data):
    check_primitive(REGISTRY[name], HypothesisDraw(data), order=2)


def test_registry_holds_the_primitives_the_engine_promises():
    promised = {
        "matmul", "add", "sub", "mul", "div", "neg", "power", "exp", "log", "sigmoid", "tanh",
        "relu", "softmax", "log_softmax", "softmax_cross_entropy", "mse", "sum_squared_error",
        "sum", "reshape", "transpose", "getitem", "concatenate", "conv2d", "max_pool2d",
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


def test_a_wrong_vjp_is_caught_at_first_order():
    cube = Primitive(lambda x: x**3, name="cube", registry=None)
    cube.defvjp(lambda g, ans, x: 2 * g * x * x)  # wrong: should be 3 g x^2
    cube.defsample(lambda draw: ([draw.array((3,), 0.5, 2.0)], {}))
    with pytest.raises(GradientCheckError, match="first-order gradient of input \\[0\\]"):
        check_primitive(cube)


def test_a_vjp_that_is_not_differentiable_is_caught_at_second_order():
    # Right first derivative, but computed outside the engine (np.asarray cuts the trace), so the
    # derivative of the backward pass comes out as zero: only the order-2 check can see that.
    cube = Primitive(lambda x: x**3, name="cube", registry=None)
    cube.defvjp(lambda g, ans, x: 3 * g * np.asarray(ans) ** (2 / 3))
    cube.defsample(lambda draw: ([draw.array((3,), 0.5, 2.0)], {}))
    check_primitive(cube, order=1)
    with pytest.raises((GradientCheckError, TypeError)):
        check_primitive(cube, order=2)


def test_registering_two_primitives_with_one_name_is_refused():
    registry = {}
    Primitive(lambda x: x, name="same", registry=registry)
    with pytest.raises(ValueError, match="already registered"):
        Primitive(lambda x: x, name="same", registry=registry)
