"""Reverse mode: the backward pass and the functional API (`vjp`, `grad`, `value_and_grad`).

`vjp(f, *args)` starts a new trace, boxes every leaf of `args` as a Tensor of that trace, runs `f`
(every primitive it calls records itself on the trace's tape), and returns the output with a
pullback. The output may be an array or any pytree of arrays; the pullback takes a cotangent of
the same structure, seeds each output node with its part, walks the tape backwards asking each
primitive for the cotangents of its parents, and sums the contributions that meet.

Because VJPs are written with engine operations, a backward pass run while an outer trace is active
is itself recorded on that outer trace: that is all `grad(grad(f))` needs.
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings

import numpy as np

from .pytree import StructureError, flatten_like, leaf_paths, tree_flatten, tree_map, tree_unflatten
from .tensor import Tensor, Trace, shape_of

_levels = itertools.count(1)


def new_trace(forward=False):
    """A trace nested inside every trace started before it."""
    return Trace(next(_levels), forward)


class ZeroGradientWarning(UserWarning):
    """The differentiated output does not depend on the differentiated inputs."""


def backward(tape: list[Tensor], seeds: dict[int, object], visit=None) -> dict[int, object]:
    """Cotangents of every node the seeded outputs depend on, keyed by `id(node)`.

    `seeds` maps `id(output node)` to that output's cotangent. The tape lists the trace's nodes in
    the order they were made, parents before children, so walking it backwards reaches each node
    only after every use of it has sent its contribution. `visit(node, g)`, if given, sees each
    node's complete cotangent (`graph` records their norms).
    """
    cotangents = seeds
    for node in reversed(tape):
        g = cotangents.pop(id(node), None)
        if g is None:
            continue
        if visit is not None:
            visit(node, g)
        ans, args, params = node.value, node.args, node.params
        for vjp_of_parent, parent in node.parents:
            contribution = vjp_of_parent(g, ans, *args, **params)
            key = id(parent)
            previous = cotangents.get(key)
            cotangents[key] = contribution if previous is None else previous + contribution
    return cotangents


def differentiable_inputs(leaves, args, what="differentiate with respect to"):
    """Check that every leaf can be differentiated; return them as arrays (or outer Tensors)."""
    inputs = []
    for position, x in enumerate(leaves):
        if type(x) is not np.ndarray and type(x) is not Tensor:
            x = np.asarray(x)
        kind = x.dtype.kind
        if kind != "f":
            where = f"argument{leaf_paths(args)[position]}"
            if kind == "c":
                raise TypeError(
                    f"cannot {what} {where}: it is complex ({x.dtype}), and tinygrad_hw "
                    "differentiates real functions of real inputs only (split it into real and "
                    "imaginary parts)"
                )
            raise TypeError(
                f"cannot {what} {where}: its dtype is {x.dtype}, and gradients exist only for "
                "floating-point inputs (cast it, e.g. x.astype(np.float64), or pass it as an "
                "argument that is not differentiated)"
            )
        inputs.append(x)
    return inputs


def refuse_complex(value, name):
    """A complex output would have its imaginary part dropped silently: refuse it."""
    dtype = getattr(value, "dtype", None)
    if dtype is not None and dtype.kind == "c":
        raise TypeError(
            f"{name}: the function returned a complex value ({value.dtype}); tinygrad_hw "
            "differentiates real functions only"
        )


def _zeros_like(x):
    return np.zeros(shape_of(x), dtype=x.dtype)


def _gradients(cotangents, inputs):
    """Each input's gradient as the user expects it: its shape and dtype, a writable array of its
    own (two inputs whose VJPs passed on one array, as `a + b` does, get a copy each: updating one
    gradient in place must not change another).

    An input that the output does not depend on gets zeros.
    """
    grads = []
    given = set()
    for x in inputs:
        like = x.value
        g = cotangents.get(id(x))
        if g is None:
            g = _zeros_like(like)
        elif type(g) is not Tensor:
            if type(g) is not np.ndarray or g.dtype != like.dtype or not g.flags.writeable:
                refuse_complex(g, "vjp")
                shape = shape_of(like)
                g = np.array(g if shape_of(g) == shape else np.broadcast_to(g, shape), dtype=like.dtype)
            owner = g if g.base is None else g.base  # the array whose memory g uses
            if id(owner) in given:  # the same memory as a gradient already handed out
                g = owner = g.copy()
            given.add(id(owner))
        grads.append(g)
    return grads


def _seeds(outputs, trace, g, value):
    """Map each traced output node to its cotangent, checking g against the output's structure."""
    if type(outputs) is Tensor:  # the common case: one array out
        if shape_of(g) != shape_of(value):
            raise ValueError(
                f"vjp: the cotangent has shape {shape_of(g)}, but the output has shape {shape_of(value)}"
            )
        return {id(outputs): g}
    out_leaves, treedef = outputs
    try:
        g_leaves = flatten_like(treedef, g)
    except StructureError as error:
        raise ValueError(f"vjp: the cotangent does not have the output's structure: {error}") from None
    seeds = {}
    for node, g_leaf in zip(out_leaves, g_leaves):
        if shape_of(g_leaf) != shape_of(node):
            raise ValueError(
                f"vjp: a cotangent has shape {shape_of(g_leaf)}, but its output has shape {shape_of(node)}"
            )
        if type(node) is Tensor and node.trace is trace:
            key = id(node)
            seeds[key] = g_leaf if key not in seeds else seeds[key] + g_leaf
    return seeds


def vjp(f, *args):
    """Evaluate `f(*args)` and return `(value, pullback)`.

    `value` is f's output (an array or a pytree of arrays). `pullback(cotangent)` maps a cotangent
    with the output's structure and shapes to a tuple with one cotangent per argument, each with
    that argument's pytree structure, shapes and dtypes.
    """
    value, pullback, _ = _traced_vjp(f, args)
    return value, pullback


def _traced_vjp(f, args):
    """`vjp`, also returning the trace (to unbox what else the function computed)."""
    trace = new_trace()
    leaves, treedef = tree_flatten(args)
    inputs = [Tensor(x, trace) for x in differentiable_inputs(leaves, args)]
    out = f(*tree_unflatten(treedef, inputs))
    tape = trace.finish()
    if type(out) is Tensor:  # the common case: one array out
        traced = out.trace is trace
        value, outputs = (out.value if traced else out), out
        refuse_complex(value, "vjp")
    else:
        out_leaves, out_treedef = tree_flatten(out)
        traced = any(type(x) is Tensor and x.trace is trace for x in out_leaves)
        value = tree_unflatten(out_treedef, [_unboxed(x, trace) for x in out_leaves])
        outputs = (out_leaves, out_treedef)
        for leaf in out_leaves:
            refuse_complex(leaf, "vjp")

    def pullback(g):
        seeds = _seeds(outputs, trace, g, value) if traced else {}
        if not seeds:
            if not traced:
                _check_untraced_cotangent(g, value)
            _warn_zero_gradient(stacklevel=3)
            return tree_unflatten(treedef, [_zeros_like(x.value) for x in inputs])
        return tree_unflatten(treedef, _gradients(backward(tape, seeds), inputs))

    return value, pullback, trace


def _unboxed(x, trace):
    return x.value if type(x) is Tensor and x.trace is trace else x


def _check_untraced_cotangent(g, value):
    """Even when the output is constant, a cotangent of the wrong shape is the caller's mistake."""
    value_leaves, treedef = tree_flatten(value)
    try:
        g_leaves = flatten_like(treedef, g)
    except StructureError as error:
        raise ValueError(f"vjp: the cotangent does not have the output's structure: {error}") from None
    for v, c in zip(value_leaves, g_leaves):
        if shape_of(c) != shape_of(v):
            raise ValueError(
                f"vjp: the cotangent has shape {shape_of(c)}, but the output has shape {shape_of(v)}"
            )


def value_and_grad(f, argnums=0, has_aux=False):
    """Return a function computing `(f(*args), gradient of f with respect to args[argnums])`.

    `f` must return a scalar, or any array of size 1 (the gradient is that of its one element).
    `argnums` is an int (the gradient has that argument's structure) or a tuple of ints (a tuple
    of gradients). With `has_aux=True`, `f` returns `(scalar, aux)`, only the scalar is
    differentiated, and the result is `((scalar, aux), gradient)`: a way to get, say, the logits
    out of a loss function without a second forward pass.
    """
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    if single and not has_aux:

        @functools.wraps(f)
        def value_and_grad_of_one(*args, **kwargs):
            return _value_and_grad_of_one(f, argnums, *args, **kwargs)

        return value_and_grad_of_one

    @functools.wraps(f)
    def value_and_grad_f(*args, **kwargs):
        if not nums or max(nums) >= len(args) or min(nums) < -len(args):
            raise IndexError(f"argnums={argnums} but the function got {len(args)} arguments")

        aux = []

        def f_of_differentiated(*chosen):
            full = list(args)
            for n, x in zip(nums, chosen):
                full[n] = x
            if not has_aux:
                return f(*full, **kwargs)
            out, extra = f(*full, **kwargs)
            aux.append(extra)
            return out

        chosen = (args[argnums],) if single else tuple(args[n] for n in nums)
        value, pullback, trace = _traced_vjp(f_of_differentiated, chosen)
        _check_scalar_output(f, value)
        dtype = getattr(value, "dtype", np.float64)
        shape = shape_of(value)
        grads = pullback(np.array(1, dtype) if shape == () else np.ones(shape, dtype))
        grads = grads[0] if single else grads
        if has_aux:
            return (value, tree_map(lambda x: _unboxed(x, trace), aux[0])), grads
        return value, grads

    return value_and_grad_f


def _value_and_grad_of_one(f, argnum, *args, **kwargs):
    """`value_and_grad(f, argnum)` called: the common case (one argument differentiated, no aux),
    which skips building a pullback. It runs every step of every training loop, so each line
    counts; the errors are the general path's."""
    if not -len(args) <= argnum < len(args):
        raise IndexError(f"argnums={argnum} but the function got {len(args)} arguments")
    trace = new_trace()
    chosen = args[argnum]
    leaves, treedef = tree_flatten(chosen)
    inputs = [Tensor(x, trace) for x in differentiable_inputs(leaves, (chosen,))]
    full = list(args)
    full[argnum] = tree_unflatten(treedef, inputs)
    out = f(*full, **kwargs)
    tape = trace.finish()
    # 0-d: an array, a numpy scalar, or a Tensor of an outer trace (not a Python number: no dtype)
    if type(out) is not Tensor or out.trace is not trace or getattr(out.value, "shape", None) != ():
        return _value_and_grad_of_other(f, out, trace, tape, inputs, treedef)
    value = out.value
    refuse_complex(value, "vjp")
    cotangents = backward(tape, {id(out): np.array(1, value.dtype)})
    return value, tree_unflatten(treedef, _gradients(cotangents, inputs))


def _value_and_grad_of_other(f, out, trace, tape, inputs, treedef):
    """The rarer outputs: an array of size 1 but not 0-d, a Python number, a constant, or one
    refused with the general path's errors (a pytree, several values, None, a complex value)."""
    value = _unboxed(out, trace) if type(out) is Tensor else out
    for leaf in tree_flatten(value)[0]:
        refuse_complex(leaf, "vjp")
    _check_scalar_output(f, value)
    if type(out) is not Tensor or out.trace is not trace:
        _warn_zero_gradient(stacklevel=5)  # the caller of value_and_grad's function
        return value, tree_unflatten(treedef, [_zeros_like(x.value) for x in inputs])
    seed = np.ones(shape_of(value), getattr(value, "dtype", np.float64))
    return value, tree_unflatten(treedef, _gradients(backward(tape, {id(out): seed}), inputs))


def _check_scalar_output(f, value):
    """grad differentiates one number: refuse None, a pytree, or an array of more than one value."""
    if value is None or isinstance(value, (dict, list, tuple)) or math.prod(shape_of(value)) != 1:
        raise ValueError(
            f"grad needs a function with a scalar output, but {_name(f)} returned "
            f"{_output_description(value)}; reduce it (e.g. with sum or mean) or use vjp for "
            "vector outputs"
        )


def _warn_zero_gradient(stacklevel):
    warnings.warn(
        "the output does not depend on the inputs being differentiated, so the gradient "
        "is zero (if that is unexpected, check that the function uses its arguments)",
        ZeroGradientWarning,
        stacklevel=stacklevel,
    )


def _output_description(value):
    if value is None:
        return "None (does it return its result?)"
    if isinstance(value, (dict, list, tuple)):
        return f"a {type(value).__name__}"
    return f"shape {shape_of(value)}"


def grad(f, argnums=0):
    """Return a function computing the gradient of scalar-valued `f` with respect to `args[argnums]`."""
    value_and_grad_f = value_and_grad(f, argnums)

    @functools.wraps(f)
    def grad_f(*args, **kwargs):
        return value_and_grad_f(*args, **kwargs)[1]

    return grad_f


def _name(f):
    return getattr(f, "__name__", repr(f))
