"""Every operation of the engine, and the Tensor operators and methods that call them.

Importing this package registers the primitives in `tinygrad_hw.primitive.REGISTRY`. The modules go
from plumbing to arithmetic to everything built on them:

  shape        reshape, transpose, broadcast_to, sum, where, astype (+ expand_dims, squeeze, ...)
  indexing     getitem, concatenate, roll, pad, diagonal (+ stack, split, flip, repeat, sort, ...)
  arithmetic   + - * / ** (both ways), exp, log, matmul, affine
  elementwise  numpy's one-argument functions: sqrt, abs, sin, ..., floor (zero slope)
  binary       maximum, minimum, clip, arctan2, hypot, logaddexp, mod; comparisons
  reductions   max, min, prod, logsumexp, cumsum (+ mean, var, std, norm, argmax)
  contractions einsum (+ dot, outer, inner, tensordot)
  activations, losses, convolution, pooling, linalg
"""

from ..tensor import Tensor
from . import linalg  # noqa: F401  (registers inv, det, logabsdet, solve)
from .activations import (
    elu,
    gelu,
    leaky_relu,
    log_sigmoid,
    log_softmax,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from .arithmetic import add, affine, div, exp, log, matmul, mul, neg, power, sub
from .binary import (
    arctan2,
    clip,
    equal,
    floor_divide,
    fmax,
    fmin,
    fmod,
    greater,
    greater_equal,
    hypot,
    less,
    less_equal,
    logaddexp,
    logaddexp2,
    maximum,
    minimum,
    mod,
    not_equal,
    remainder,
)
from .contractions import cross, dot, einsum, inner, kron, outer, tensordot, vdot
from .convolution import col2im, conv2d, conv2d_filter_grad, conv2d_input_grad, conv_output_size, im2col
from .elementwise import (
    abs,
    absolute,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctanh,
    around,
    cbrt,
    ceil,
    conj,
    conjugate,
    cos,
    cosh,
    deg2rad,
    degrees,
    erf,
    exp2,
    expm1,
    fabs,
    fix,
    floor,
    log1p,
    log2,
    log10,
    nan_to_num,
    rad2deg,
    radians,
    real,
    reciprocal,
    rint,
    round,
    sign,
    sin,
    sinc,
    sinh,
    sqrt,
    square,
    tan,
    trunc,
)
from .indexing import (
    append,
    array,
    array_split,
    c_,
    column_stack,
    concatenate,
    diag,
    diagonal,
    diff,
    dsplit,
    dstack,
    flip,
    fliplr,
    flipud,
    getitem,
    gradient,
    hsplit,
    hstack,
    index_add,
    pad,
    partition,
    r_,
    repeat,
    roll,
    rot90,
    row_stack,
    select,
    sort,
    split,
    stack,
    take_along_axis,
    trace,
    tril,
    triu,
    vsplit,
    vstack,
)
from .losses import mse, softmax_cross_entropy, sum_squared_error
from .pooling import avg_pool2d, global_avg_pool, max_pool2d
from .reductions import (
    amax,
    amin,
    argmax,
    argmin,
    average,
    cumprod,
    cumsum,
    logsumexp,
    max,
    mean,
    min,
    nanmean,
    nansum,
    norm,
    prod,
    std,
    var,
)
from .shape import (
    astype,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_to,
    expand_dims,
    linspace,
    moveaxis,
    ravel,
    reshape,
    rollaxis,
    squeeze,
    sum,
    swapaxes,
    tile,
    transpose,
    unbroadcast,
    where,
)

# numpy's and scipy's names for the arithmetic operators and the logistic function.
subtract, multiply, divide, true_divide, negative = sub, mul, div, div, neg
expit = sigmoid


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
    "__floordiv__": lambda a, b: floor_divide(a, b),
    "__rfloordiv__": lambda a, b: floor_divide(b, a),
    "__mod__": lambda a, b: mod(a, b),
    "__rmod__": lambda a, b: mod(b, a),
    "__pow__": lambda a, b: power(a, b),
    "__rpow__": lambda a, b: power(b, a),
    "__matmul__": lambda a, b: matmul(a, b),
    "__rmatmul__": lambda a, b: matmul(b, a),
    "__neg__": lambda a: neg(a),
    "__pos__": lambda a: a,
    "__abs__": lambda a: abs(a),
    # comparisons give plain boolean arrays: they have no derivative
    "__eq__": equal,
    "__ne__": not_equal,
    "__lt__": less,
    "__le__": less_equal,
    "__gt__": greater,
    "__ge__": greater_equal,
    "__getitem__": lambda a, index: getitem(a, index),
    "reshape": _reshape_method,
    "transpose": _transpose_method,
    "T": property(lambda a: transpose(a)),
    "ravel": ravel,
    "flatten": ravel,
    "squeeze": squeeze,
    "swapaxes": swapaxes,
    "astype": lambda a, dtype: astype(a, dtype),
    "dot": dot,
    "clip": lambda a, a_min=None, a_max=None: clip(a, a_min, a_max),
    "sum": lambda a, axis=None, keepdims=False: sum(a, axis=axis, keepdims=keepdims),
    "mean": lambda a, axis=None, keepdims=False: mean(a, axis=axis, keepdims=keepdims),
    "max": lambda a, axis=None, keepdims=False: max(a, axis=axis, keepdims=keepdims),
    "min": lambda a, axis=None, keepdims=False: min(a, axis=axis, keepdims=keepdims),
    "prod": lambda a, axis=None, keepdims=False: prod(a, axis=axis, keepdims=keepdims),
    "var": lambda a, axis=None, ddof=0, keepdims=False: var(a, axis=axis, ddof=ddof, keepdims=keepdims),
    "std": lambda a, axis=None, ddof=0, keepdims=False: std(a, axis=axis, ddof=ddof, keepdims=keepdims),
    "cumsum": lambda a, axis=None: cumsum(a, axis),
    "argmax": lambda a, axis=None, keepdims=False: argmax(a, axis, keepdims),
    "argmin": lambda a, axis=None, keepdims=False: argmin(a, axis, keepdims),
}
for _name, _method in _OPERATORS.items():
    setattr(Tensor, _name, _method)

__all__ = [
    # arithmetic and numpy's names for it
    "add", "sub", "mul", "div", "neg", "power", "exp", "log", "matmul", "affine",
    "subtract", "multiply", "divide", "true_divide", "negative",
    # elementwise functions of one array
    "abs", "absolute", "fabs", "sign", "sqrt", "cbrt", "square", "reciprocal", "log1p", "expm1",
    "log2", "log10", "exp2", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
    "arcsinh", "arccosh", "arctanh", "deg2rad", "rad2deg", "radians", "degrees", "erf",
    "floor", "ceil", "round", "around", "rint", "trunc", "fix", "sinc", "nan_to_num", "real", "conj",
    "conjugate",
    # of two arrays
    "maximum", "minimum", "fmax", "fmin", "where", "clip", "arctan2", "hypot", "logaddexp",
    "logaddexp2", "mod", "remainder", "fmod", "floor_divide",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    # activations and losses
    "sigmoid", "expit", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "silu", "log_sigmoid",
    "softmax", "log_softmax", "softmax_cross_entropy", "mse", "sum_squared_error",
    # reductions
    "sum", "mean", "average", "max", "min", "amax", "amin", "prod", "var", "std", "logsumexp",
    "cumsum", "cumprod", "nansum", "nanmean", "argmax", "argmin", "norm",
    # shapes
    "broadcast_to", "reshape", "transpose", "ravel", "squeeze", "expand_dims", "moveaxis",
    "swapaxes", "rollaxis", "tile", "atleast_1d", "atleast_2d", "atleast_3d", "astype", "unbroadcast",
    "linspace",
    "getitem", "index_add", "take_along_axis", "concatenate", "stack", "hstack", "vstack", "split",
    "array_split", "array", "flip", "fliplr", "flipud", "roll", "repeat", "pad", "diagonal", "diag",
    "trace", "tril", "triu", "sort", "partition", "diff", "rot90", "column_stack", "row_stack", "dstack",
    "append", "vsplit", "hsplit", "dsplit", "select", "r_", "c_", "gradient",
    # contractions
    "dot", "outer", "inner", "vdot", "tensordot", "einsum", "kron", "cross",
    # convolution
    "im2col", "col2im", "conv2d", "conv2d_filter_grad", "conv2d_input_grad", "conv_output_size",
    "max_pool2d", "avg_pool2d", "global_avg_pool",
]  # fmt: skip
