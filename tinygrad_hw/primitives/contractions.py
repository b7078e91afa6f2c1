"""Tensor contractions: einsum, and dot, inner, outer and tensordot built on matmul and reshape.

`einsum` is multilinear in its operands, which gives both rules at once:
  * its JVP for operand k is the same einsum with operand k replaced by its tangent;
  * its VJP for operand k is another einsum: the output's cotangent contracted with the other
    operands, producing operand k's subscripts. Two details make that exact in general: a label
    that only operand k has (summed away in the forward pass) is broadcast back by contracting with
    a vector of ones, and a label that operand k repeats (a diagonal, as in 'ii->i') is placed back
    on the diagonal by contracting with an identity matrix.
Because the VJP is again an einsum of traced values, einsum can be differentiated to any order.

Subscripts are first made explicit: an ellipsis becomes letters, an axis of size 1 that numpy would
broadcast gets a letter of its own, and an implicit output gets numpy's order (ellipsis axes, then
the labels used once, alphabetically).
"""

from __future__ import annotations

import string

import numpy as np

from ..primitive import primitive
from ..tensor import dtype_of, shape_of
from .arithmetic import matmul, mul
from .indexing import getitem, stack
from .shape import moveaxis, ravel, reshape, transpose

# -- einsum --------------------------------------------------------------------------------


def _explicit(subscripts, shapes):
    """Subscripts with no ellipsis, no implicit output and no broadcast labels, as one string."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {len(terms)} operand subscripts for {len(shapes)} operands")
    spare = iter(c for c in string.ascii_letters if c not in subscripts)
    widest = max([len(s) - (len(t) - 3) for t, s in zip(terms, shapes) if "..." in t], default=0)
    ellipsis = "".join(next(spare) for _ in range(widest))
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        if "..." in term:
            covered = len(shape) - (len(term) - 3)
            terms[i] = term.replace("...", ellipsis[widest - covered :] if covered else "")
        if len(terms[i]) != len(shape):
            raise ValueError(f"einsum: subscripts {term!r} do not fit an operand of shape {tuple(shape)}")
    if not arrow:
        once = sorted(c for c in set("".join(terms)) if "".join(terms).count(c) == 1 and c not in ellipsis)
        output = ellipsis + "".join(once)
    else:
        output = output.replace("...", ellipsis)
    terms = _own_labels_for_broadcast_axes(terms, shapes, spare)
    return ",".join(terms) + "->" + output


def _own_labels_for_broadcast_axes(terms, shapes, spare):
    """Give an axis of size 1 a fresh label where another operand's axis of that label is longer."""
    longest = {}
    for term, shape in zip(terms, shapes):
        for c, n in zip(term, shape):
            longest[c] = max(longest.get(c, 1), n)
    return [
        "".join(next(spare) if n == 1 and longest[c] > 1 else c for c, n in zip(term, shape))
        for term, shape in zip(terms, shapes)
    ]


@primitive(name="einsum")
def _einsum(*operands, subscripts):
    optimize = len(operands) > 2 or any(np.size(x) > 4096 for x in operands)
    return np.einsum(subscripts, *operands, optimize=optimize)


def _split(subscripts):
    inputs, output = subscripts.split("->")
    return inputs.split(","), output


def _einsum_vjp(argnum, g, ans, *operands, subscripts):
    terms, output = _split(subscripts)
    target = terms[argnum]
    present = set(output) | {c for i, t in enumerate(terms) if i != argnum for c in t}
    labels, inputs = [output], [g]
    for i, term in enumerate(terms):
        if i != argnum:
            labels.append(term)
            inputs.append(operands[i])
    dtype = dtype_of(g)
    sizes = dict(zip(target, shape_of(operands[argnum])))
    for c in dict.fromkeys(target):  # labels only operand k has: broadcast back with ones
        if c not in present:
            labels.append(c)
            inputs.append(np.ones(sizes[c], dtype))
    spare = iter(c for c in string.ascii_letters if c not in subscripts)
    result, seen = "", set()
    for c in target:  # repeated labels: back onto the diagonal through an identity
        if c in seen:
            fresh = next(spare)
            labels.append(c + fresh)
            inputs.append(np.eye(sizes[c], dtype=dtype))
            c = fresh
        seen.add(c)
        result += c
    return _einsum(*inputs, subscripts=",".join(labels) + "->" + result)


def _einsum_jvp(argnum, t, ans, *operands, subscripts):
    replaced = list(operands)
    replaced[argnum] = t
    return _einsum(*replaced, subscripts=subscripts)


_einsum.defvjp_argnum(_einsum_vjp)
_einsum.defjvp_argnum(_einsum_jvp)


@_einsum.defsample
def _(draw):
    subscripts, shapes = draw.choice(
        [
            ("ij,jk->ik", [(2, 3), (3, 4)]),
            ("ii->i", [(3, 3)]),
            ("ii", [(3, 3)]),
            ("ij->", [(2, 3)]),
            ("i,i", [(3,), (3,)]),
            ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
            ("ij,ij->ij", [(1, 3), (2, 3)]),
            ("ijk,ik,j->kj", [(2, 3, 2), (2, 2), (3,)]),
            ("iij->ji", [(2, 2, 3)]),
        ]
    )
    return [draw.array(s) for s in shapes], {"subscripts": _explicit(subscripts, shapes)}


def einsum(subscripts, *operands):
    """Einstein summation with numpy's subscripts (ellipsis, broadcasting and implicit output
    included): e.g. einsum('ij,jk->ik', a, b) is a @ b and einsum('ii', a) the trace."""
    if not isinstance(subscripts, str):
        raise TypeError("einsum: give the subscripts as a string first, e.g. einsum('ij,jk->ik', a, b)")
    return _einsum(*operands, subscripts=_explicit(subscripts, [shape_of(x) for x in operands]))


# -- products built on matmul ------------------------------------------------------------------


def outer(a, b):
    """The outer product of the flattened a and b: shape (a.size, b.size)."""
    return mul(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def tensordot(a, b, axes=2):
    """Sum products over the last `axes` axes of a and the first of b, or over the axis lists
    `axes = (axes_of_a, axes_of_b)`: one matrix product after a transpose and a reshape each."""
    a_shape, b_shape = shape_of(a), shape_of(b)
    if isinstance(axes, (int, np.integer)):
        a_axes, b_axes = list(range(len(a_shape) - axes, len(a_shape))), list(range(axes))
    else:
        a_axes, b_axes = ([x] if isinstance(x, (int, np.integer)) else list(x) for x in axes)
    a_axes = [x % len(a_shape) for x in a_axes]
    b_axes = [x % len(b_shape) for x in b_axes]
    if [a_shape[x] for x in a_axes] != [b_shape[x] for x in b_axes]:
        raise ValueError(
            f"tensordot: shape mismatch for sum over axes {a_axes} of {a_shape} and {b_axes} of {b_shape}"
        )
    a_free = [x for x in range(len(a_shape)) if x not in a_axes]
    b_free = [x for x in range(len(b_shape)) if x not in b_axes]
    inner = int(np.prod([a_shape[x] for x in a_axes], dtype=int))
    a2 = reshape(transpose(a, tuple(a_free + a_axes)), (-1, inner))
    b2 = reshape(transpose(b, tuple(b_axes + b_free)), (inner, -1))
    return reshape(matmul(a2, b2), tuple(a_shape[x] for x in a_free) + tuple(b_shape[x] for x in b_free))


def dot(a, b):
    """numpy's dot: a product with a scalar, a matrix product for 1-D and 2-D arrays, otherwise a
    sum over the last axis of a and the second-to-last of b."""
    a_ndim, b_ndim = len(shape_of(a)), len(shape_of(b))
    if a_ndim == 0 or b_ndim == 0:
        return mul(a, b)
    if a_ndim <= 2 and b_ndim <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([-1], [-2 if b_ndim > 1 else -1]))


def inner(a, b):
    """Sum of products over the last axes of a and b (a product, if either is a scalar)."""
    if len(shape_of(a)) == 0 or len(shape_of(b)) == 0:
        return mul(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


def vdot(a, b):
    """The dot product of the flattened arrays."""
    return matmul(ravel(a), ravel(b))


def kron(a, b):
    """The Kronecker product: every element of a times the whole of b, in blocks (2-D or less)."""
    a2, b2 = _as_matrix(a), _as_matrix(b)
    (m, n), (p, q) = shape_of(a2), shape_of(b2)
    blocks = mul(reshape(a2, (m, 1, n, 1)), reshape(b2, (1, p, 1, q)))
    result = reshape(blocks, (m * p, n * q))
    return reshape(result, (-1,)) if max(len(shape_of(a)), len(shape_of(b))) < 2 else result


def _as_matrix(x):
    shape = shape_of(x)
    return reshape(x, (1,) * (2 - len(shape)) + tuple(shape)) if len(shape) < 2 else x


def cross(a, b, axis=-1):
    """The cross product of 3-vectors along `axis` (numpy's cross for 3-component vectors)."""

    def component(x, i):
        return getitem(x, (Ellipsis, i))

    a, b = moveaxis(a, axis, -1), moveaxis(b, axis, -1)
    if shape_of(a)[-1] != 3 or shape_of(b)[-1] != 3:
        raise ValueError("cross: only vectors of 3 components are supported")
    a0, a1, a2 = (component(a, i) for i in range(3))
    b0, b1, b2 = (component(b, i) for i in range(3))
    return moveaxis(stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1), -1, axis)
