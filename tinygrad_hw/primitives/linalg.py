"""Linear algebra: inverse, determinant, log-determinant and linear solves, batched over leading axes.

The rules come from differentiating A A^-1 = I and det(A) = exp(trace(log A)):
  * inv:    d(A^-1) = -A^-1 dA A^-1, so the VJP is -A^-T g A^-T;
  * det:    d(det A) = det(A) trace(A^-1 dA), so the VJP is g det(A) A^-T;
  * slogdet: d(log|det A|) = trace(A^-1 dA);
  * solve:  x = A^-1 b, so dx = A^-1 (db - dA x): the VJP for b is solve(A^T, g) and for A is
            minus that times x^T.
Each rule is written with `inv`, `solve` and `matmul` themselves, so all are differentiable again.
Matrices are the last two axes; any leading axes are a batch, as in numpy.linalg.
"""

from __future__ import annotations

import numpy as np

from ..primitive import primitive
from ..tensor import primal, shape_of
from .arithmetic import matmul
from .indexing import diagonal
from .shape import reshape, sum, swapaxes, unbroadcast


def _mT(a):
    return swapaxes(a, -1, -2)


def _column(x):
    """A right-hand side of solve as a stack of matrices (a vector b becomes one column)."""
    return reshape(x, x.shape + (1,))


@primitive
def inv(a):
    """The inverse of square matrices (the last two axes)."""
    return np.linalg.inv(a)


inv.defvjp(lambda g, ans, a: -matmul(_mT(ans), matmul(g, _mT(ans))))
inv.defjvp(lambda t, ans, a: -matmul(ans, matmul(t, ans)))


@primitive
def det(a):
    """The determinant of square matrices (the last two axes)."""
    return np.linalg.det(a)


det.defvjp(lambda g, ans, a: reshape(g * ans, shape_of(ans) + (1, 1)) * _mT(inv(a)))
det.defjvp(lambda t, ans, a: ans * sum(diagonal(matmul(inv(a), t), 0, -2, -1), axis=-1))


@primitive
def logabsdet(a):
    """log |det(a)|, the second half of numpy's slogdet, computed without over- or underflow."""
    return np.linalg.slogdet(a)[1]


logabsdet.defvjp(lambda g, ans, a: reshape(g, shape_of(ans) + (1, 1)) * _mT(inv(a)))
logabsdet.defjvp(lambda t, ans, a: sum(diagonal(matmul(inv(a), t), 0, -2, -1), axis=-1))


def slogdet(a):
    """(sign, log|det|) of square matrices, as numpy.linalg.slogdet; the sign has no derivative."""
    return np.linalg.slogdet(primal(a))[0], logabsdet(a)


@primitive
def solve(a, b):
    """x with a @ x = b, for square a; b a vector or a stack of matrices, as numpy.linalg.solve."""
    return np.linalg.solve(a, b)


def _solve_stacked(a, v, vectors):
    """solve(a, v) where v is a stack of vectors (..., n) (a 1-D b, numpy's rule) or of matrices."""
    if vectors:
        return reshape(solve(a, _column(v)), v.shape)
    return solve(a, v)


def _solve_vjp_a(g, ans, a, b):
    z = _solve_stacked(_mT(a), g, b.ndim == 1)
    if b.ndim == 1:
        return -matmul(_column(z), _mT(_column(ans)))
    return -matmul(z, _mT(ans))


def _solve_jvp_a(t, ans, a, b):
    if b.ndim == 1:
        return -_solve_stacked(a, reshape(matmul(t, _column(ans)), ans.shape), True)
    return -solve(a, matmul(t, ans))


solve.defvjp(_solve_vjp_a, lambda g, ans, a, b: unbroadcast(_solve_stacked(_mT(a), g, b.ndim == 1), b.shape))
solve.defjvp(_solve_jvp_a, lambda t, ans, a, b: solve(a, t))


def _well_conditioned(draw, batch=()):
    n = draw.integer(1, 3)
    return draw.array(batch + (n, n), -0.5, 0.5) + 2 * np.eye(n)


for _prim in (inv, det, logabsdet):
    _prim.defsample(lambda draw: ([_well_conditioned(draw, draw.choice([(), (2,)]))], {}))


@solve.defsample
def _(draw):
    a = _well_conditioned(draw, draw.choice([(), (2,)]))
    n = a.shape[-1]
    return [a, draw.array(draw.choice([(n,), (n, 2)]))], {}
