"""Numerical gradient checking by central differences.

For a function f and a random output cotangent v, reverse mode gives the gradient of the scalar
s(x) = <v, f(x)>. Central differences give the same quantity independently:
    ds/dx_j ~ (s(x + eps e_j) - s(x - eps e_j)) / (2 eps),
with an error of order eps^2. Comparing the two on every scalar of every input catches a wrong VJP
with certainty; for large inputs, comparing directional derivatives along a few random directions
d, (s(x + eps d) - s(x - eps d)) / (2 eps) against <grad s, d>, is much cheaper and almost as
sharp.

Second order checks the function x -> vjp(f, x)(v) the same way, i.e. the backward pass itself,
which is only right if every VJP is written with differentiable operations.
"""

from __future__ import annotations

import warnings

import numpy as np

from .autodiff import ZeroGradientWarning, vjp
from .primitives import concatenate, reshape
from .pytree import leaf_paths, tree_flatten, tree_unflatten
from .sampling import RandomDraw


class GradientCheckError(AssertionError):
    """Reverse mode and central differences disagree."""


def check_grads(
    f,
    *args,
    order=1,
    eps=1e-6,
    rtol=1e-5,
    atol=1e-7,
    mode="auto",
    directions=8,
    max_elementwise=1000,
    seed=0,
):
    """Compare reverse-mode gradients of `f` at `args` with central differences.

    Every floating-point leaf of `args` (pytrees allowed) is checked, in float64; other leaves are
    held constant. `order=2` also checks the gradient of the gradient. `mode` is `"elementwise"`
    (every scalar), `"directions"` (`directions` random directions per input) or `"auto"`
    (elementwise up to `max_elementwise` scalars per input). A value passes when
    |reverse - numeric| <= atol + rtol * max(|reverse|, |numeric|).

    Raises GradientCheckError naming the input, the worst element, both values and the error;
    returns a summary (number of comparisons, largest absolute error) when all agree.
    """
    if order < 1:
        raise ValueError(f"check_grads: order must be 1 or more, got {order}")
    if mode not in ("auto", "elementwise", "directions"):
        raise ValueError(f"check_grads: mode must be auto, elementwise or directions, got {mode!r}")
    leaves, treedef = tree_flatten(args)
    paths = leaf_paths(args)
    varying = [i for i, x in enumerate(leaves) if np.issubdtype(np.asarray(x).dtype, np.floating)]
    if not varying:
        raise TypeError("check_grads: no floating-point input to check")

    def f_of_varying(*xs):
        full = list(leaves)
        for i, x in zip(varying, xs):
            full[i] = x
        return f(*tree_unflatten(treedef, full))

    settings = dict(eps=eps, rtol=rtol, atol=atol, mode=mode, directions=directions,
                    max_elementwise=max_elementwise)  # fmt: skip
    inputs = [np.array(leaves[i], dtype=np.float64) for i in varying]
    names = [f"input {paths[i]}" if paths[i] else "input" for i in varying]
    rng = np.random.default_rng(seed)
    summary = {"comparisons": 0, "max_abs_error": 0.0}
    fn, label = f_of_varying, "first-order"
    for level in range(1, order + 1):
        v = rng.standard_normal(np.shape(fn(*inputs)))
        _check_first_order(fn, inputs, names, v, rng, label, summary, **settings)
        if level < order:
            fn, label = _gradient_function(fn, v), f"order-{level + 1} (gradient of the gradient)"
    return summary


def _gradient_function(fn, v):
    """x -> the flattened, concatenated gradient of <v, fn(x)>: the backward pass as a function."""

    def gradient(*xs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ZeroGradientWarning)
            _, pullback = vjp(fn, *xs)
            grads = pullback(v)
        return concatenate([reshape(g, (-1,)) for g in grads])

    return gradient


def _check_first_order(fn, inputs, names, v, rng, label, summary, *, eps, rtol, atol, mode,
                       directions, max_elementwise):  # fmt: skip
    def s(*xs):
        return float(np.sum(v * fn(*xs)))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZeroGradientWarning)
        _, pullback = vjp(fn, *inputs)
        reverse = pullback(v)
    for i, (x, g) in enumerate(zip(inputs, reverse)):
        elementwise = mode == "elementwise" or (mode == "auto" and x.size <= max_elementwise)
        probes = _element_probes(x) if elementwise else _direction_probes(x, rng, directions)
        worst = None
        for where, d in probes:
            shifted = list(inputs)
            shifted[i] = x + eps * d
            plus = s(*shifted)
            shifted[i] = x - eps * d
            numeric = (plus - s(*shifted)) / (2 * eps)
            analytic = float(np.sum(g * d))
            error = abs(analytic - numeric)
            badness = error / (atol + rtol * max(abs(analytic), abs(numeric)))
            summary["comparisons"] += 1
            summary["max_abs_error"] = max(summary["max_abs_error"], error)
            if worst is None or not badness <= worst[0]:
                worst = (badness, where, analytic, numeric, error)
        if worst is not None and not worst[0] <= 1:
            _, where, analytic, numeric, error = worst
            raise GradientCheckError(
                f"check_grads: {label} gradient of {names[i]} is wrong; worst {where}: reverse "
                f"mode gives {analytic:.6e}, central differences give {numeric:.6e} "
                f"(error {error:.3e}, tolerance atol={atol:g} + rtol={rtol:g} * |value|)"
            )


def _element_probes(x):
    """One unit vector per scalar of x, labelled with its index."""
    for j in range(x.size):
        d = np.zeros(x.shape)
        d.flat[j] = 1.0
        where = (
            f"at element {tuple(int(i) for i in np.unravel_index(j, x.shape))}" if x.ndim else "(a scalar)"
        )
        yield where, d


def _direction_probes(x, rng, count):
    """`count` random unit directions through x's space."""
    for k in range(count):
        d = rng.standard_normal(x.shape)
        yield f"along random direction {k}", d / np.linalg.norm(d)


class MissingCheckInputsError(LookupError):
    """A primitive was registered without `sample`, so nothing can check its VJPs."""


def check_primitive(prim, draw=None, order=2, **options):
    """Gradient-check one primitive on inputs from its own `sample` recipe.

    `draw` supplies shapes and arrays (default: a seeded `RandomDraw`); `options` go to
    `check_grads`. A primitive registered without check inputs cannot pass.
    """
    if prim.sample is None:
        raise MissingCheckInputsError(
            f"primitive {prim.name!r} has no check inputs: attach a recipe with @{prim.name}.defsample"
        )
    args, params = prim.sample(draw if draw is not None else RandomDraw(0))
    return check_grads(lambda *xs: prim(*xs, **params), *args, order=order, **options)
