"""Numerical derivative checking by central differences, in both modes and to any order.

For a function f, a direction d through its inputs and a cotangent v of its output:
  * reverse mode gives the gradient of s(x) = <v, f(x)>; central differences give the same,
        ds/dx_j ~ (s(x + eps e_j) - s(x - eps e_j)) / (2 eps),
    with an error of order eps^2;
  * forward mode gives J d, the derivative of f along d; central differences give the same
    vector, (f(x + eps d) - f(x - eps d)) / (2 eps).
Comparing on every scalar of every input (or, for large inputs, along a few random directions)
catches a wrong rule with certainty.

Order k checks the derivative functions themselves, x -> vjp(f, x)(v) and x -> jvp(f, x, d), in
both modes again (as HIPS autograd does): that is only right if every rule is written with
differentiable operations.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from .autodiff import ZeroGradientWarning, vjp
from .forward import jvp
from .primitives import concatenate, reshape
from .pytree import leaf_paths, tree_flatten, tree_unflatten
from .sampling import RandomDraw

MODES = ("fwd", "rev")


class GradientCheckError(AssertionError):
    """A derivative computed by the engine and central differences disagree."""


def check_grads(
    f,
    *args,
    modes=MODES,
    order=1,
    eps=1e-6,
    rtol=1e-5,
    atol=1e-7,
    probes="auto",
    directions=8,
    max_elementwise=1000,
    seed=0,
):
    """Compare the engine's derivatives of `f` at `args` with central differences.

    Every floating-point leaf of `args` (pytrees allowed) is checked, in float64; other leaves are
    held constant. `modes` picks reverse mode ("rev"), forward mode ("fwd") or both; `order=2` also
    checks the derivatives of the derivatives, and so on. `probes` is "elementwise" (every scalar),
    "directions" (`directions` random directions) or "auto" (elementwise up to `max_elementwise`
    scalars per input). A value passes when |engine - numeric| <= atol + rtol * max(|engine|, |numeric|).

    Called without arguments, `check_grads(f, **options)` returns a function of the arguments
    (`check_grads(f, modes=["rev"])(x)`, as in HIPS autograd).

    Raises GradientCheckError naming the mode, the input, the worst element, both values and the
    error; returns a summary (number of comparisons, largest absolute error) when all agree.
    """
    options = dict(
        modes=modes,
        order=order,
        eps=eps,
        rtol=rtol,
        atol=atol,
        probes=probes,
        directions=directions,
        max_elementwise=max_elementwise,
        seed=seed,
    )
    if not args:
        return functools.partial(check_grads, f, **options)
    if order < 1:
        raise ValueError(f"check_grads: order must be 1 or more, got {order}")
    if probes not in ("auto", "elementwise", "directions"):
        raise ValueError(f"check_grads: probes must be auto, elementwise or directions, got {probes!r}")
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    if not modes or any(m not in MODES for m in modes):
        raise ValueError(f"check_grads: modes must be a selection of 'fwd' and 'rev', got {modes!r}")
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

    checker = _Checker(eps, rtol, atol, probes, directions, max_elementwise, np.random.default_rng(seed))
    inputs = [np.array(leaves[i], dtype=np.float64) for i in varying]
    names = [f"input {paths[i]}" if paths[i] else "input" for i in varying]
    checker.check(f_of_varying, inputs, names, modes, order)
    return checker.summary


class _Checker:
    """The settings of one check_grads call, its random numbers and its running summary."""

    def __init__(self, eps, rtol, atol, probes, directions, max_elementwise, rng):
        self.eps, self.rtol, self.atol = eps, rtol, atol
        self.probes, self.directions, self.max_elementwise = probes, directions, max_elementwise
        self.rng = rng
        self.summary = {"comparisons": 0, "max_abs_error": 0.0}

    def check(self, fn, inputs, names, modes, order, passes=()):
        """Check fn in each mode, then (order > 1) the derivative functions of each mode."""
        label = _label(passes)
        out_shape = np.shape(fn(*inputs))
        v = self.rng.standard_normal(out_shape)
        ds = [self.rng.standard_normal(x.shape) for x in inputs]
        for mode in modes:
            if mode == "rev":
                self._check_reverse(fn, inputs, names, v, label)
            else:
                self._check_forward(fn, inputs, names, label)
        if order > 1:
            for mode in modes:
                derivative = _vjp_function(fn, v) if mode == "rev" else _jvp_function(fn, ds)
                self.check(derivative, inputs, names, modes, order - 1, passes + (mode,))

    def _elementwise(self, x):
        return self.probes == "elementwise" or (self.probes == "auto" and x.size <= self.max_elementwise)

    def _numeric(self, fn, inputs, i, d):
        shifted = list(inputs)
        shifted[i] = inputs[i] + self.eps * d
        plus = np.asarray(fn(*shifted), dtype=np.float64)
        shifted[i] = inputs[i] - self.eps * d
        return (plus - np.asarray(fn(*shifted), dtype=np.float64)) / (2 * self.eps)

    def _check_reverse(self, fn, inputs, names, v, label):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ZeroGradientWarning)
            _, pullback = vjp(fn, *inputs)
            reverse = pullback(v)
        for i, (x, g) in enumerate(zip(inputs, reverse)):
            worst = None
            for where, d in self._probes(x):
                numeric = float(np.sum(v * self._numeric(fn, inputs, i, d)))
                worst = self._compare(float(np.sum(g * d)), numeric, where, worst)
            self._raise_if_bad(worst, f"{label} gradient (reverse mode) of {names[i]}")

    def _check_forward(self, fn, inputs, names, label):
        for i, x in enumerate(inputs):
            worst = None
            for where, d in self._probes(x):
                tangents = [d if j == i else np.zeros_like(y) for j, y in enumerate(inputs)]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ZeroGradientWarning)
                    forward = np.asarray(jvp(fn, tuple(inputs), tuple(tangents))[1], dtype=np.float64)
                numeric = self._numeric(fn, inputs, i, d)
                for k in range(forward.size):
                    at = (
                        f"{where}, output element {np.unravel_index(k, forward.shape)}"
                        if forward.ndim
                        else where
                    )
                    worst = self._compare(float(forward.flat[k]), float(numeric.flat[k]), at, worst)
            self._raise_if_bad(worst, f"{label} derivative (forward mode) of the output along {names[i]}")

    def _probes(self, x):
        if self._elementwise(x):
            return _element_probes(x)
        return _direction_probes(x, self.rng, self.directions)

    def _compare(self, analytic, numeric, where, worst):
        error = abs(analytic - numeric)
        badness = error / (self.atol + self.rtol * max(abs(analytic), abs(numeric)))
        self.summary["comparisons"] += 1
        self.summary["max_abs_error"] = max(self.summary["max_abs_error"], error)
        if worst is None or not badness <= worst[0]:
            return (badness, where, analytic, numeric, error)
        return worst

    def _raise_if_bad(self, worst, what):
        if worst is not None and not worst[0] <= 1:
            _, where, analytic, numeric, error = worst
            raise GradientCheckError(
                f"check_grads: {what} is wrong; worst {where}: the engine gives {analytic:.6e}, "
                f"central differences give {numeric:.6e} (error {error:.3e}, tolerance "
                f"atol={self.atol:g} + rtol={self.rtol:g} * |value|)"
            )


def _label(passes):
    """'first-order', or e.g. 'order-2 (through the reverse-mode pass)' for a derivative function."""
    if not passes:
        return "first-order"
    through = " then the ".join(("reverse" if m == "rev" else "forward") + "-mode pass" for m in passes)
    return f"order-{len(passes) + 1} (through the {through})"


def _flat(parts):
    return concatenate([reshape(p, (-1,)) for p in parts])


def _vjp_function(fn, v):
    """x -> the flattened, concatenated gradient of <v, fn(x)>: the backward pass as a function."""

    def gradient(*xs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ZeroGradientWarning)
            _, pullback = vjp(fn, *xs)
            return _flat(pullback(v))

    return gradient


def _jvp_function(fn, ds):
    """x -> the flattened derivative of fn along the directions ds: the forward pass as a function."""

    def derivative(*xs):
        return reshape(jvp(fn, xs, tuple(ds))[1], (-1,))

    return derivative


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
    """A primitive was registered without `sample`, so nothing can check its rules."""


def check_primitive(prim, draw=None, order=2, modes=MODES, **options):
    """Check one primitive's derivative rules on inputs from its own `sample` recipe.

    `draw` supplies shapes and arrays (default: a seeded `RandomDraw`); `options` go to
    `check_grads`. A primitive registered without check inputs cannot pass.
    """
    if prim.sample is None:
        raise MissingCheckInputsError(
            f"primitive {prim.name!r} has no check inputs: attach a recipe with @{prim.name}.defsample"
        )
    args, params = prim.sample(draw if draw is not None else RandomDraw(0))
    return check_grads(lambda *xs: prim(*xs, **params), *args, order=order, modes=modes, **options)
