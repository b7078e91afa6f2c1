"""Primitives: the operations the engine knows how to differentiate, and their registry.

A primitive pairs a numpy forward function with its derivative rules, written next to it:
  * one vector-Jacobian product (VJP) per differentiable argument, for reverse mode. It receives
    the cotangent `g` of the output, the output `ans` and the inputs, and returns the cotangent of
    its argument;
  * one Jacobian-vector product (JVP) per differentiable argument, for forward mode. It receives
    the tangent `t` of its argument, the output and the inputs, and returns the output's tangent;
  * optionally, a forward pass that also returns what its VJPs would otherwise compute again
    (`defsaving`): the softmax cross-entropy keeps its exponentials for its gradient, max pooling
    its winners.
Both are written with the engine's own operations (operators on arrays, or other primitives), so
that when `g` or `t` is itself traced the rule is recorded too and can be differentiated again.

Calling a primitive dispatches on its inputs:
  * no Tensor among them: run the numpy forward directly (the fast path, also taken by every rule
    during an ordinary first-order pass, which therefore costs plain numpy);
  * otherwise: unbox the inputs that belong to the newest trace and apply the primitive to the
    unboxed values (which may still be Tensors of older traces, hence the recursion). A reverse
    trace boxes the result with a link back to its parents and appends it to the trace's tape; a
    forward trace boxes it with its tangent.

Every primitive also carries `sample`, a recipe for valid example inputs; the test suite uses it to
check every registered primitive's rules, and fails for a primitive that has none.
"""

from __future__ import annotations

import functools

import numpy as np

from .tensor import Tensor, dtype_of, shape_of

#: Every primitive, by name. The gradient-check test walks this.
REGISTRY: dict[str, Primitive] = {}


class ShapeError(ValueError):
    """A primitive was given inputs whose shapes do not fit together."""


class Primitive:
    """A differentiable numpy function. Create with `@primitive`, then attach VJPs with `defvjp`."""

    def __init__(self, forward, name=None, registry=REGISTRY):
        self.forward = forward
        self.name = name or forward.__name__
        self.__name__ = self.name
        self.__doc__ = forward.__doc__
        self.vjps = {}  # argnum -> vjp(g, ans, *args, **params)
        self.vjp_argnum = None  # or, for variadic primitives, one vjp(argnum, g, ans, *args, **params)
        self.jvps = {}  # argnum -> jvp(t, ans, *args, **params): forward mode, see defjvp
        self.jvp_argnum = None
        self.forward_saving = None  # forward_saving(*args, **params) -> (ans, saved): see defsaving
        self.sample = None
        if registry is not None:
            if self.name in registry:
                raise ValueError(f"a primitive named {self.name!r} is already registered")
            registry[self.name] = self

    def defvjp(self, *vjps):
        """Attach one VJP per positional argument; None marks an argument as not differentiable."""
        self.vjps = {i: v for i, v in enumerate(vjps) if v is not None}
        return self

    def defsaving(self, forward_saving):
        """Attach `forward_saving(*args, **params) -> (ans, saved)`: the forward pass, also returning
        intermediate results (residuals) that the VJPs would otherwise compute again.

        A reverse trace whose inputs are plain arrays (a first-order pass) calls it instead of
        `forward` and hands `saved` to each VJP of the node as the keyword argument `saved`. Nested
        traces and forward mode call `forward`, and the VJPs get `saved=None`: they must then
        compute what they need with engine operations, so that they can be differentiated again.
        A VJP given `saved` may still receive a traced `g` (a pullback differentiated with respect
        to its cotangent): it uses `saved` only for plain-array work. `saved` is shared by every
        call of the node's VJPs (a pullback may be called many times): they must not write into it.
        """
        self.forward_saving = forward_saving
        return forward_saving

    def defvjp_argnum(self, vjp):
        """Attach a single VJP `vjp(argnum, g, ans, *args, **params)`, for variadic primitives."""
        self.vjp_argnum = vjp
        return self

    def defjvp(self, *jvps):
        """Attach one forward-mode rule per positional argument (None: not differentiable).

        `jvp(t, ans, *args, **params)` returns the output's tangent contributed by the tangent `t`
        of that argument; the contributions of all arguments add up. Like VJPs, JVPs are written
        with engine operations so that they can be differentiated again.
        """
        self.jvps = {i: j for i, j in enumerate(jvps) if j is not None}
        return self

    def defjvp_argnum(self, jvp):
        """Attach a single JVP `jvp(argnum, t, ans, *args, **params)`, for variadic primitives."""
        self.jvp_argnum = jvp
        return self

    def vjp_for(self, argnum):
        """The function giving argument `argnum`'s cotangent, or None if it is not differentiable.

        It is called as `vjp(g, ans, *args, **params)`; the backward pass looks it up once per
        recorded parent, when the node is made.
        """
        if self.vjp_argnum is not None:
            return functools.partial(self.vjp_argnum, argnum)
        return self.vjps.get(argnum)

    def defsample(self, sample):
        """Attach `sample(draw) -> (args, params)`: valid inputs for gradient checks.

        `args` are the floating-point arguments to differentiate, `params` the keyword arguments
        held fixed. `draw` supplies shapes and arrays (see `tinygrad_hw.sampling`).
        """
        self.sample = sample
        return sample

    def jvp_for(self, argnum):
        """The forward-mode rule of argument `argnum`, or None if it has none."""
        if self.jvp_argnum is not None:
            return functools.partial(self.jvp_argnum, argnum)
        return self.jvps.get(argnum)

    def differentiable(self, argnum):
        """Whether argument `argnum` has a derivative rule (in either direction)."""
        if self.vjp_argnum is not None or self.jvp_argnum is not None:
            return True
        return argnum in self.vjps or argnum in self.jvps

    def __call__(self, *args, **params):
        trace = None
        for a in args:
            if type(a) is Tensor and (trace is None or a.trace.level > trace.level):
                trace = a.trace
        try:
            if trace is None:
                return self.forward(*args, **params)
            if trace.forward:
                return self._push_forward(trace, args, params)
            return self._record(trace, args, params)
        except ShapeError:
            raise
        except ValueError as error:
            shapes = " and ".join(str(shape_of(a)) for a in args)
            raise ShapeError(f"{self.name}: inputs of shapes {shapes} do not fit: {error}") from None

    def _unbox(self, trace, args):
        """The inputs with this trace's boxes removed, the boxes' positions, and whether any
        input is still boxed by an older trace (then the primitive must be applied recursively)."""
        values = list(args)
        boxed = []
        nested = False
        for i, a in enumerate(args):
            if type(a) is Tensor:
                if a.trace is trace:
                    values[i] = a.value
                    nested = nested or type(a.value) is Tensor
                    boxed.append(i)
                else:
                    nested = True
        return values, boxed, nested

    def _record(self, trace, args, params):
        """Reverse mode: compute the output and record it on the tape with its parents."""
        # `_unbox` and the parents' rules in one pass: this runs for every recorded operation.
        values = list(args)
        parents = []  # (vjp, parent Tensor) for each differentiable input of this trace
        nested = False
        for i, a in enumerate(args):
            if type(a) is not Tensor:
                continue
            if a.trace is not trace:
                nested = True
                continue
            values[i] = a.value
            nested = nested or type(a.value) is Tensor
            vjp = self.vjps.get(i) if self.vjp_argnum is None else self.vjp_for(i)
            if vjp is not None:
                parents.append((vjp, a))
            elif i in self.jvps:
                raise NotImplementedError(f"{self.name}: no reverse-mode rule (VJP) for argument {i}")
        if nested:
            ans = self(*values, **params)
        elif self.forward_saving is None:
            ans = self.forward(*values, **params)
        else:
            ans, saved = self.forward_saving(*values, **params)
            params = {**params, "saved": saved}
        if not parents:
            return ans
        out = Tensor(ans, trace, self, values, params, parents)
        trace.tape.append(out)
        return out

    def _push_forward(self, trace, args, params):
        """Forward mode: compute the output and its tangent, the sum of each input's JVP."""
        values, boxed, nested = self._unbox(trace, args)
        ans = self(*values, **params) if nested else self.forward(*values, **params)
        tangent = None
        for i in boxed:
            jvp = self.jvp_for(i)
            if jvp is None:
                if self.differentiable(i):
                    raise NotImplementedError(
                        f"{self.name}: no forward-mode rule (JVP) for argument {i}; use reverse mode"
                    )
                continue  # an argument without derivative (labels, an index): a constant
            contribution = jvp(args[i].tangent, ans, *values, **params)
            tangent = contribution if tangent is None else tangent + contribution
        if tangent is None:
            return ans
        if shape_of(tangent) != shape_of(ans):  # only inputs that broadcast to the output's shape
            tangent = tangent + np.zeros(shape_of(ans), dtype_of(tangent))
        return Tensor(ans, trace, tangent=tangent)

    def __repr__(self):
        return f"<primitive {self.name}>"


def primitive(forward=None, *, name=None, registry=REGISTRY):
    """Decorator: turn a numpy function into a registered `Primitive`."""
    if forward is None:
        return lambda f: Primitive(f, name=name, registry=registry)
    return Primitive(forward, name=name, registry=registry)
