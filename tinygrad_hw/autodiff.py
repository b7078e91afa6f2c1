"""Reverse mode: the backward pass and the functional API (`vjp`, `grad`, `value_and_grad`).

`vjp(f, *args)` starts a new trace, boxes every leaf of `args` as a Tensor of that trace, runs `f`
(every primitive it calls records itself), and returns the output with a pullback. The pullback
walks the recorded graph from the output back to the inputs in reverse topological order, asking
each primitive for the cotangents of its parents and summing the contributions that meet.

Because VJPs are written with engine operations, a backward pass run while an outer trace is active
is itself recorded on that outer trace: that is all `grad(grad(f))` needs.
"""

from __future__ import annotations

import functools
import itertools
import warnings

import numpy as np

from .pytree import leaf_paths, tree_flatten, tree_unflatten
from .tensor import Tensor, shape_of

_trace_ids = itertools.count(1)


class ZeroGradientWarning(UserWarning):
    """The differentiated output does not depend on the differentiated inputs."""


def toposort(out: Tensor) -> list[Tensor]:
    """Nodes reachable from `out`, each one before all of its parents (Kahn's algorithm)."""
    consumers = {}
    stack, seen = [out], {id(out)}
    while stack:
        node = stack.pop()
        for _, parent in node.parents:
            key = id(parent)
            consumers[key] = consumers.get(key, 0) + 1
            if key not in seen:
                seen.add(key)
                stack.append(parent)
    order, ready = [], [out]
    while ready:
        node = ready.pop()
        order.append(node)
        for _, parent in node.parents:
            key = id(parent)
            consumers[key] -= 1
            if consumers[key] == 0:
                ready.append(parent)
    return order


def backward(out: Tensor, g) -> dict[int, object]:
    """Cotangents of every node that `out` depends on, keyed by `id(node)`, given out's cotangent."""
    cotangents = {id(out): g}
    for node in toposort(out):
        if not node.parents:
            continue
        g = cotangents.pop(id(node), None)
        if g is None:
            continue
        prim, ans, args, params = node.prim, node.value, node.args, node.params
        for argnum, parent in node.parents:
            contribution = prim.vjp(argnum, g, ans, args, params)
            key = id(parent)
            previous = cotangents.get(key)
            cotangents[key] = contribution if previous is None else previous + contribution
    return cotangents


def _as_input(x, where):
    """Check that a leaf can be differentiated and return it as an array (or outer Tensor)."""
    if type(x) is not Tensor:
        x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"cannot differentiate with respect to {where}: its dtype is {x.dtype}, and "
            "gradients exist only for floating-point inputs (cast it, e.g. x.astype(np.float64), "
            "or pass it as an argument that is not differentiated)"
        )
    return x


def _zeros_like(x):
    return np.zeros(shape_of(x), dtype=x.dtype)


def _finish(g, like):
    """A gradient as the user expects it: same shape and dtype as its input, a writable array."""
    if type(g) is Tensor:
        return g
    g = np.asarray(g)
    if g.dtype != like.dtype or not g.flags.writeable:
        g = np.array(g, dtype=like.dtype)
    return g


def vjp(f, *args):
    """Evaluate `f(*args)` and return `(value, pullback)`.

    `pullback(cotangent)` maps a cotangent of the output (same shape) to a tuple with one cotangent
    per argument, each with that argument's pytree structure, shapes and dtypes.
    """
    trace = next(_trace_ids)
    leaves, treedef = tree_flatten(args)
    paths = leaf_paths(args)
    inputs = [Tensor(_as_input(x, f"argument{p}"), trace) for x, p in zip(leaves, paths)]
    out = f(*tree_unflatten(treedef, inputs))
    traced = type(out) is Tensor and out.trace == trace
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
        cotangents = backward(out, g)
        grads = []
        for x in inputs:
            g_x = cotangents.get(id(x))
            grads.append(_zeros_like(x.value) if g_x is None else _finish(g_x, x.value))
        return tree_unflatten(treedef, grads)

    return value, pullback


def value_and_grad(f, argnums=0):
    """Return a function computing `(f(*args), gradient of f with respect to args[argnums])`.

    `f` must return a scalar. `argnums` is an int (the gradient has that argument's structure) or a
    tuple of ints (a tuple of gradients).
    """
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)

    @functools.wraps(f)
    def value_and_grad_f(*args, **kwargs):
        for n in nums:
            if not -len(args) <= n < len(args):
                raise IndexError(f"argnums={argnums} but the function got {len(args)} arguments")

        def f_of_differentiated(*chosen):
            full = list(args)
            for n, x in zip(nums, chosen):
                full[n] = x
            return f(*full, **kwargs)

        value, pullback = vjp(f_of_differentiated, *(args[n] for n in nums))
        if len(shape_of(value)) != 0:
            raise ValueError(
                f"grad needs a function with a scalar output, but {_name(f)} returned shape "
                f"{shape_of(value)}; reduce it (e.g. with sum or mean) or use vjp for vector outputs"
            )
        grads = pullback(np.ones((), dtype=getattr(value, "dtype", np.float64)))
        return value, grads[0] if single else grads

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
