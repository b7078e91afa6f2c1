"""Every primitive of the engine, and the Tensor operators that call them.

Importing this package registers the primitives in `tinygrad_hw.primitive.REGISTRY`.
"""

import numpy as np

from ..tensor import Tensor
from .activations import log_softmax, relu, sigmoid, softmax, tanh
from .arithmetic import add, affine, div, exp, log, matmul, mul, neg, power, sub
from .convolution import col2im, conv2d, conv_output_size, im2col, max_pool2d
from .losses import mse, softmax_cross_entropy, sum_squared_error
from .shape import (
    broadcast_to,
    concatenate,
    getitem,
    index_add,
    mean,
    reshape,
    sum,
    transpose,
    unbroadcast,
)


def _rpow(x, base):
    """base ** x for a constant base, as exp(x log base)."""
    return exp(mul(x, np.log(base)))


def _pow(x, exponent):
    if isinstance(exponent, Tensor):
        raise TypeError("x ** y needs a constant exponent y; for a traced exponent write exp(y * log(x))")
    return power(x, exponent)


def _reshape_method(x, *shape):
    return reshape(x, shape[0] if len(shape) == 1 else shape)


def _transpose_method(x, *axes):
    return transpose(x, (axes[0] if len(axes) == 1 else axes) or None)


_OPERATORS = {
    "__add__": lambda a, b: add(a, b),
    "__radd__": lambda a, b: add(b, a),
    "__sub__": lambda a, b: sub(a, b),
    "__rsub__": lambda a, b: sub(b, a),
    "__mul__": lambda a, b: mul(a, b),
    "__rmul__": lambda a, b: mul(b, a),
    "__truediv__": lambda a, b: div(a, b),
    "__rtruediv__": lambda a, b: div(b, a),
    "__matmul__": lambda a, b: matmul(a, b),
    "__rmatmul__": lambda a, b: matmul(b, a),
    "__neg__": lambda a: neg(a),
    "__pos__": lambda a: a,
    "__pow__": _pow,
    "__rpow__": _rpow,
    "__getitem__": lambda a, index: getitem(a, index),
    "reshape": _reshape_method,
    "transpose": _transpose_method,
    "sum": lambda a, axis=None, keepdims=False: sum(a, axis=axis, keepdims=keepdims),
    "mean": lambda a, axis=None, keepdims=False: mean(a, axis=axis, keepdims=keepdims),
    "T": property(lambda a: transpose(a)),
}
for _name, _method in _OPERATORS.items():
    setattr(Tensor, _name, _method)

__all__ = [
    "add", "sub", "mul", "div", "neg", "power", "exp", "log", "matmul", "affine",
    "sigmoid", "tanh", "relu", "softmax", "log_softmax",
    "softmax_cross_entropy", "mse", "sum_squared_error",
    "sum", "mean", "broadcast_to", "reshape", "transpose", "getitem", "index_add", "concatenate",
    "unbroadcast", "im2col", "col2im", "conv2d", "max_pool2d", "conv_output_size",
]  # fmt: skip
