"""Arithmetic: broadcasting binary operators, matrix product, powers, exp and log.

Binary operators follow numpy broadcasting; their VJPs sum the cotangent back over the broadcast
axes (`unbroadcast`), while their JVPs need nothing of the kind (a tangent broadcasts like its
input). The rules use Python operators, which act on numpy arrays directly in a first-order pass
and on Tensors (recording) when the pass is itself being differentiated.
"""

from __future__ import annotations

import numpy as np

from ..primitive import ShapeError, primitive
from ..tensor import Tensor, dtype_of, primal, shape_of
from .shape import reshape, transpose, unbroadcast, where


def _binary_sample(low=-2.0, high=2.0, away_from=None):
    def sample(draw):
        a_shape, b_shape = draw.broadcastable_shapes(2)
        return [draw.array(a_shape, low, high, away_from), draw.array(b_shape, low, high, away_from)], {}

    return sample


@primitive
def add(a, b):
    """a + b, broadcasting."""
    return a + b


# In a VJP, the argument being differentiated is always an array (or Tensor): `.shape` is safe.
add.defvjp(
    lambda g, ans, a, b: unbroadcast(g, a.shape),
    lambda g, ans, a, b: unbroadcast(g, b.shape),
)
add.defjvp(lambda t, ans, a, b: t, lambda t, ans, a, b: t)
add.defsample(_binary_sample())


@primitive
def sub(a, b):
    """a - b, broadcasting."""
    return a - b


sub.defvjp(
    lambda g, ans, a, b: unbroadcast(g, a.shape),
    lambda g, ans, a, b: unbroadcast(-g, b.shape),
)
sub.defjvp(lambda t, ans, a, b: t, lambda t, ans, a, b: -t)
sub.defsample(_binary_sample())


@primitive
def mul(a, b):
    """a * b elementwise, broadcasting."""
    return a * b


mul.defvjp(
    lambda g, ans, a, b: unbroadcast(g * b, a.shape),
    lambda g, ans, a, b: unbroadcast(g * a, b.shape),
)
mul.defjvp(lambda t, ans, a, b: t * b, lambda t, ans, a, b: a * t)
mul.defsample(_binary_sample())


@primitive
def div(a, b):
    """a / b elementwise, broadcasting."""
    return a / b


div.defvjp(
    lambda g, ans, a, b: unbroadcast(g / b, a.shape),
    lambda g, ans, a, b: unbroadcast(-g * ans / b, b.shape),
)
div.defjvp(lambda t, ans, a, b: t / b, lambda t, ans, a, b: -t * ans / b)
div.defsample(_binary_sample(0.5, 2.0))


@primitive
def neg(x):
    """-x."""
    return -x


neg.defvjp(lambda g, ans, x: -g)
neg.defjvp(lambda t, ans, x: -t)


@neg.defsample
def _(draw):
    return [draw.array(draw.shape())], {}


@primitive
def power(x, y):
    """x ** y elementwise, broadcasting; both the base and the exponent can be differentiated."""
    return x**y


def _power_slope(x, y):
    """d(x^y)/dx = y x^(y-1), taken to be 0 where y = 0 (x^0 is constant, even at x = 0).

    Written as y * x^(y-1) with the exponent replaced by 1 where y = 0, so that 0^-1 is never
    formed: the result is exactly 0 there, with no inf * 0.
    """
    y_values = primal(y)
    if type(y) is not Tensor and np.ndim(y) == 0:  # a constant exponent, as in x ** 2
        return np.zeros(shape_of(x), dtype_of(x)) if y == 0 else y * x ** (y - 1)
    return y * x ** where(y_values == 0, 1, y - 1)


def _log_base(x):
    """log(x) with 0 replaced by 1: d(x^y)/dy = x^y log x is 0 at x = 0 for y > 0, not nan."""
    x_values = primal(x)
    return log(where(x_values == 0, 1, x)) if np.any(x_values == 0) else log(x)


power.defvjp(
    lambda g, ans, x, y: unbroadcast(g * _power_slope(x, y), shape_of(x)),
    lambda g, ans, x, y: unbroadcast(g * ans * _log_base(x), shape_of(y)),
)
power.defjvp(
    lambda t, ans, x, y: t * _power_slope(x, y),
    lambda t, ans, x, y: t * ans * _log_base(x),
)


@power.defsample
def _(draw):
    x_shape, y_shape = draw.broadcastable_shapes(2)
    return [draw.array(x_shape, 0.5, 2.0), draw.array(y_shape, -2.0, 2.0)], {}


@primitive
def exp(x):
    """e ** x."""
    return np.exp(x)


exp.defvjp(lambda g, ans, x: g * ans)
exp.defjvp(lambda t, ans, x: t * ans)


@exp.defsample
def _(draw):
    return [draw.array(draw.shape())], {}


@primitive
def log(x):
    """Natural logarithm."""
    return np.log(x)


log.defvjp(lambda g, ans, x: g / x)
log.defjvp(lambda t, ans, x: t / x)


@log.defsample
def _(draw):
    return [draw.array(draw.shape(), 0.5, 3.0)], {}


# -- matrix product ----------------------------------------------------------------------------


@primitive
def matmul(a, b):
    """Matrix product with numpy's `@` rules (1-D operands, batched and broadcast leading axes)."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul needs arrays of at least one dimension (for scalars use multiply)")
    if a.shape[-1] == 1 and a.ndim == 2 and b.ndim == 2 and b.shape[0] == 1:
        # An outer product (the weight gradient at batch size 1): one term per element, so the
        # broadcast product is exact, and 4x faster than OpenBLAS's path for a contraction of 1.
        return a * b
    return a @ b


def _as_matrices(g, a, b):
    """View a 1-D operand as a matrix (row for a, column for b) and g in the matching shape."""
    a_shape, b_shape = shape_of(a), shape_of(b)
    if len(a_shape) == 1:
        a = reshape(a, (1,) + a_shape)
    if len(b_shape) == 1:
        b = reshape(b, b_shape + (1,))
    a2, b2 = shape_of(a), shape_of(b)
    batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    return reshape(g, batch + (a2[-2], b2[-1])), a, b


def _swap_last(x):
    axes = list(range(len(shape_of(x))))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return transpose(x, tuple(axes))


def _column_major(a):
    """Whether the matrix a lies in memory column by column (a transposed C array, a flattened
    batch-last activation) and not also row by row."""
    a = primal(a)
    return type(a) is np.ndarray and a.ndim == 2 and a.flags.f_contiguous and not a.flags.c_contiguous


def _product_like(g, b, a):
    """g @ b^T, the cotangent of the matrix a in a @ b, laid out in memory like a.

    When a is column-major, (b @ g^T)^T is the same product with BLAS writing it column by column.
    Then the cotangent and a share one memory order, and so do the elementwise VJPs before them:
    numpy is many times slower on operands of mixed orders (the ReLU's VJP on a flattened
    batch-last activation, 262,144 values: 1 ms instead of 0.1).
    """
    if _column_major(a):
        return transpose(matmul(b, transpose(g)))
    return matmul(g, b.T)


def _matmul_vjp_a(g, ans, a, b):
    if a.ndim == 2 and b.ndim == 2:
        return _product_like(g, b, a)
    g2, a2, b2 = _as_matrices(g, a, b)
    return reshape(unbroadcast(matmul(g2, _swap_last(b2)), shape_of(a2)), shape_of(a))


def _matmul_vjp_b(g, ans, a, b):
    if a.ndim == 2 and b.ndim == 2:
        return matmul(a.T, g)
    g2, a2, b2 = _as_matrices(g, a, b)
    return reshape(unbroadcast(matmul(_swap_last(a2), g2), shape_of(b2)), shape_of(b))


matmul.defvjp(_matmul_vjp_a, _matmul_vjp_b)
matmul.defjvp(lambda t, ans, a, b: matmul(t, b), lambda t, ans, a, b: matmul(a, t))


@matmul.defsample
def _(draw):
    m, k, n = draw.integer(1, 4), draw.integer(1, 4), draw.integer(1, 4)
    batch = draw.choice([(), (2,), (3, 1)])
    a_shape, b_shape = draw.choice(
        [
            ((m, k), (k, n)),
            (batch + (m, k), (k, n)),
            ((k,), batch + (k, n)),
            (batch + (m, k), (k,)),
            ((k,), (k,)),
        ]
    )
    return [draw.array(a_shape), draw.array(b_shape)], {}


# -- the affine map of a dense layer -----------------------------------------------------------


def _check_affine(x, w, b):
    xs, ws, bs = x.shape, w.shape, b.shape
    if len(xs) != 2 or len(ws) != 2 or xs[1] != ws[0] or bs not in ((ws[1],), (1, ws[1])):
        raise ShapeError(f"affine: needs x (N, K), W (K, M) and b (M,), got {xs}, {ws} and {bs}")


@primitive
def affine(x, w, b):
    """x @ w + b for a batch of rows: a dense layer's linear part in one step (like torch's addmm).

    One recorded operation instead of two, and the bias is added in place to the fresh product.
    """
    _check_affine(x, w, b)
    out = matmul.forward(x, w)
    if b.dtype != out.dtype:
        return out + b  # numpy's type promotion decides, as for x @ w + b
    out += b
    return out


affine.defvjp(
    lambda g, ans, x, w, b: _product_like(g, w, x),
    lambda g, ans, x, w, b: matmul(x.T, g),
    lambda g, ans, x, w, b: unbroadcast(g, b.shape),
)
affine.defjvp(
    lambda t, ans, x, w, b: matmul(t, w),
    lambda t, ans, x, w, b: matmul(x, t),
    lambda t, ans, x, w, b: t,
)


@affine.defsample
def _(draw):
    n, k, m = draw.integer(1, 4), draw.integer(1, 4), draw.integer(1, 4)
    bias = draw.choice([(m,), (1, m)])
    return [draw.array((n, k)), draw.array((k, m)), draw.array(bias)], {}
