"""tinygrad_hw: a small, readable reverse-mode autodiff engine over numpy arrays.

Models are plain functions `f(params, x)` over pytrees of arrays; `grad`, `value_and_grad` and
`vjp` differentiate them, `check_grads` verifies the result numerically, and `tinygrad_hw.nn`
holds the small toolkit (initialisation, layers, optimisers, batches) to train them.
"""

from .autodiff import ZeroGradientWarning, grad, value_and_grad, vjp
from .gradcheck import GradientCheckError, MissingCheckInputsError, check_grads, check_primitive
from .primitive import REGISTRY, Primitive, ShapeError, primitive
from .primitives import (
    add,
    affine,
    broadcast_to,
    col2im,
    concatenate,
    conv2d,
    div,
    exp,
    getitem,
    im2col,
    index_add,
    log,
    log_softmax,
    matmul,
    max_pool2d,
    mean,
    mse,
    mul,
    neg,
    power,
    relu,
    reshape,
    sigmoid,
    softmax,
    softmax_cross_entropy,
    sub,
    sum,
    sum_squared_error,
    tanh,
    transpose,
)
from .pytree import tree_flatten, tree_leaves, tree_map, tree_unflatten
from .tensor import Tensor

__all__ = [
    "grad", "value_and_grad", "vjp", "check_grads", "check_primitive", "GradientCheckError",
    "MissingCheckInputsError", "ZeroGradientWarning",
    "Tensor", "Primitive", "primitive", "REGISTRY", "ShapeError",
    "tree_flatten", "tree_unflatten", "tree_map", "tree_leaves",
    "add", "sub", "mul", "div", "neg", "power", "exp", "log", "matmul", "affine",
    "sigmoid", "tanh", "relu", "softmax", "log_softmax",
    "softmax_cross_entropy", "mse", "sum_squared_error",
    "sum", "mean", "broadcast_to", "reshape", "transpose", "getitem", "index_add", "concatenate",
    "im2col", "col2im", "conv2d", "max_pool2d",
]  # fmt: skip
