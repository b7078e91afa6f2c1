"""Reverse mode: the backward pass and the functional API (`vjp`, `grad`, `value_and_grad`).

`vjp(f, *args)` starts a new trace, boxes every leaf of `args` as a Tensor of that trace, runs `f`
(every primitive it calls records itself on the trace's tape), and returns the output with a
pullback. The pullback walks the tape backwards from the output, asking each primitive for the
cotangents of its parents and summing the contributions that meet.

Because VJPs are written with engine operations, a backward pass run while an outer trace is active
is itself recorded on that outer trace: that is all `grad(grad(f))` needs.
"""

from __future__ import annotations

import functools
import itertools
import warnings

import numpy as np

from .pytree import leaf_paths, tree_flatten, tree_leaves, tree_map, tree_unflatten
from .tensor import Tensor, Trace, shape_of

_levels = itertools.count(1)


class ZeroGradientWarning(UserWarning):
    """The differentiated output does not depend on the differentiated inputs."""


def backward(tape: list[Tensor], out: Tensor, g) -> dict[int, object]:
    """Cotangents of every node that `out` depends on, keyed by `id(node)`, given out's cotangent.

    The tape lists the trace's nodes in the order they were made, parents before children, so
    walking it backwards reaches each node only after every use of it has sent its contribution.
    """
    cotangents = {id(out): g}
    for node in reversed(tape):
        g = cotangents.pop(id(node), None)
        if g is None:
            continue
        ans, args, params = node.value, node.args, node.params
        for vjp_of_parent, parent in node.parents:
            contribution = vjp_of_parent(g, ans, *args, **params)
            key = id(parent)
            previous = cotangents.get(key)
            cotangents[key] = contribution if previous is None else previous + contribution
    return cotangents


def _as_inputs(leaves, args):
    """Check that every leaf can be differentiated; return them as arrays (or outer Tensors)."""
    inputs = []
    for position, x in enumerate(leaves):
        if type(x) is not np.ndarray and type(x) is not Tensor:
            x = np.asarray(x)
        if x.dtype.kind != "f":
            where = f"argument{leaf_paths(args)[position]}"
            raise TypeError(
                f"cannot differentiate with respect to {where}: its dtype is {x.dtype}, and "
                "gradients exist only for floating-point inputs (cast it, e.g. "
                "x.astype(np.float64), or pass it as an argument that is not differentiated)"
            )
        inputs.append(x)
    return inputs


def _zeros_like(x):
    return np.zeros(shape_of(x), dtype=x.dtype)


def _gradients(cotangents, inputs):
    """Each input's gradient as the user expects it: its shape and dtype, a writable array.

    An input that the output does not depend on gets zeros.
    """
    grads = []
    for x in inputs:
        like = x.value
        g = cotangents.get(id(x))
        if g is None:
            g = _zeros_like(like)
        elif type(g) is not Tensor and (
            type(g) is not np.ndarray or g.dtype != like.dtype or not g.flags.writeable
        ):
            g = np.array(g, dtype=like.dtype)
        grads.append(g)
    return grads


def vjp(f, *args):
    """Evaluate `f(*args)` and return `(value, pullback)`.

    `pullback(cotangent)` maps a cotangent of the output (same shape) to a tuple with one cotangent
    per argument, each with that argument's pytree structure, shapes and dtypes.
    """
    trace = Trace(next(_levels))
    leaves, treedef = tree_flatten(args)
    inputs = [Tensor(x, trace) for x in _as_inputs(leaves, args)]
    out = f(*tree_unflatten(treedef, inputs))
    tape = trace.finish()
    traced = type(out) is Tensor and out.trace is trace
    value = out.value if traced else out

    def pullback(g):
        if shape_of(g) != shape_of(value):
            raise ValueError(
                f"vjp: the cotangent has shape {shape_of(g)}, but the output has shape {shape_of(value)}"
            )
        if not traced:
            warnings.warn(
                "the output does not depend on the inputs being differentiated, so the gradient "
                "is zero (if that is unexpected, check that the function uses its arguments)",
                ZeroGradientWarning,
                stacklevel=2,
            )
            return tree_unflatten(treedef, [_zeros_like(x.value) for x in inputs])
        return tree_unflatten(treedef, _gradients(backward(tape, out, g), inputs))

    return value, pullback


def value_and_grad(f, argnums=0, has_aux=False):
    """Return a function computing `(f(*args), gradient of f with respect to args[argnums])`.

    `f` must return a scalar. `argnums` is an int (the gradient has that argument's structure) or a
    tuple of ints (a tuple of gradients). With `has_aux=True`, `f` returns `(scalar, aux)`, only the
    scalar is differentiated, and the result is `((scalar, aux), gradient)`: a way to get, say, the
    logits out of a loss function without a second forward pass.
    """
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)

    @functools.wraps(f)
    def value_and_grad_f(*args, **kwargs):
        if max(nums) >= len(args) or min(nums) < -len(args):
            raise IndexError(f"argnums={argnums} but the function got {len(args)} arguments")

        aux = []

        def f_of_differentiated(*chosen):
            full = list(args)
            for n, x in zip(nums, chosen):
                full[n] = x
            if not has_aux:
                return f(*full, **kwargs)
            out, extra = f(*full, **kwargs)
            trace = tree_leaves(chosen)[0].trace  # vjp boxed every leaf in this trace
            aux.append(tree_map(lambda x: x.value if type(x) is Tensor and x.trace is trace else x, extra))
            return out

        value, pullback = (
            vjp(f_of_differentiated, args[argnums])
            if single
            else vjp(f_of_differentiated, *[args[n] for n in nums])
        )
        if len(shape_of(value)) != 0:
            raise ValueError(
                f"grad needs a function with a scalar output, but {_name(f)} returned shape "
                f"{shape_of(value)}; reduce it (e.g. with sum or mean) or use vjp for vector outputs"
            )
        grads = pullback(np.array(1, dtype=getattr(value, "dtype", np.float64)))
        grads = grads[0] if single else grads
        if has_aux:
            return (value, aux[0]), grads
        return value, grads

    return value_and_grad_f


def grad(f, argnums=0):
    """Return a function computing the gradient of scalar-valued `f` with respect to `args[argnums]`."""
    value_and_grad_f = value_and_grad(f, argnums)

    @functools.wraps(f)
    def grad_f(*args, **kwargs):
        return value_and_grad_f(*args, **kwargs)[1]

    return grad_f


def _name(f):
    return getattr(f, "__name__", repr(f))
