"""Primitives: the operations the engine knows how to differentiate, and their registry.

A primitive pairs a numpy forward function with one vector-Jacobian product (VJP) per
differentiable argument, written next to it. A VJP receives the cotangent `g` of the output, the
output `ans` and the inputs, and returns the cotangent of its argument. VJPs are written with the
engine's own operations (operators on arrays, or other primitives), so that when the cotangent is
itself traced the backward pass is recorded too and can be differentiated again.

Calling a primitive dispatches on its inputs:
  * no Tensor among them: run the numpy forward directly (the fast path, also taken by every VJP
    during an ordinary first-order backward pass, which therefore costs plain numpy);
  * otherwise: unbox the inputs that belong to the newest trace, apply the primitive to the
    unboxed values (which may still be Tensors of older traces, hence the recursion), and box the
    result with a link back to its parents.

Every primitive also carries `sample`, a recipe for valid example inputs; the test suite uses it to
gradient-check every registered primitive, and fails for a primitive that has none.
"""

from __future__ import annotations

from .tensor import Tensor, shape_of

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
        self.vjps = {}  # argnum -> vjp(g, ans, *args, **params); variadic: vjp(argnum, g, ...)
        self.vjp_argnum = None
        self.sample = None
        if registry is not None:
            if self.name in registry:
                raise ValueError(f"a primitive named {self.name!r} is already registered")
            registry[self.name] = self

    def defvjp(self, *vjps):
        """Attach one VJP per positional argument; None marks an argument as not differentiable."""
        self.vjps = {i: v for i, v in enumerate(vjps) if v is not None}
        return self

    def defvjp_argnum(self, vjp):
        """Attach a single VJP `vjp(argnum, g, ans, *args, **params)`, for variadic primitives."""
        self.vjp_argnum = vjp
        return self

    def differentiable(self, argnum):
        return self.vjp_argnum is not None or argnum in self.vjps

    def vjp(self, argnum, g, ans, args, params):
        """Cotangent of argument `argnum`, given the output's cotangent `g`."""
        if self.vjp_argnum is not None:
            return self.vjp_argnum(argnum, g, ans, *args, **params)
        return self.vjps[argnum](g, ans, *args, **params)

    def defsample(self, sample):
        """Attach `sample(draw) -> (args, params)`: valid inputs for gradient checks.

        `args` are the floating-point arguments to differentiate, `params` the keyword arguments
        held fixed. `draw` supplies shapes and arrays (see `tinygrad_hw.sampling`).
        """
        self.sample = sample
        return sample

    def __call__(self, *args, **params):
        trace = 0
        for a in args:
            if type(a) is Tensor and a.trace > trace:
                trace = a.trace
        if trace:
            return self._record(trace, args, params)
        try:
            return self.forward(*args, **params)
        except ShapeError:
            raise
        except ValueError as error:
            shapes = " and ".join(str(shape_of(a)) for a in args)
            raise ShapeError(f"{self.name}: inputs of shapes {shapes} do not fit: {error}") from None

    def _record(self, trace, args, params):
        values = list(args)
        parents = []
        for i, a in enumerate(args):
            if type(a) is Tensor and a.trace == trace:
                values[i] = a.value
                if self.differentiable(i):
                    parents.append((i, a))
        ans = self(*values, **params)
        if not parents:
            return ans
        return Tensor(ans, trace, self, values, params, parents)

    def __repr__(self):
        return f"<primitive {self.name}>"


def primitive(forward=None, *, name=None, registry=REGISTRY):
    """Decorator: turn a numpy function into a registered `Primitive`."""
    if forward is None:
        return lambda f: Primitive(f, name=name, registry=registry)
    return Primitive(forward, name=name, registry=registry)
