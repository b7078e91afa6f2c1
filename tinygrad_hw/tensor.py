"""The Tensor: an array that remembers how it was made.

A Tensor wraps a value (a numpy array, or a Tensor of an enclosing trace when gradients are nested)
and records the primitive that produced it, the primitive's inputs, and which of those inputs are
themselves Tensors of the same trace (its parents). Following the parent links from a result back to
the inputs walks the tape; `autodiff.backward` does exactly that.

The Tensors of one trace are also appended, in the order they are made, to the trace's tape, so
the backward pass simply walks the tape in reverse: every node comes after its parents.

Users never build Tensors by hand: `grad`, `value_and_grad` and `vjp` wrap the arguments they
differentiate, and every primitive returns a Tensor as soon as one of its inputs is one. Inside a
model a Tensor behaves like an array: arithmetic operators, `@`, indexing, `.T`, `.shape`.

Each trace has a level, higher for traces started later. A value can be boxed several times, once
per enclosing trace, which is what makes `grad(grad(f))` work (as in HIPS autograd).
"""

from __future__ import annotations

import numpy as np


class Trace:
    """One differentiation in progress: its nesting level and its tape of recorded Tensors."""

    __slots__ = ("level", "tape")

    def __init__(self, level):
        self.level = level
        self.tape = []

    def finish(self):
        """Hand over the tape once the traced function has returned.

        Every Tensor on the tape points back to this Trace; if the Trace kept the tape, each
        step's whole graph would be a reference cycle, freed only by the cyclic garbage collector
        long after its arrays went cold. Detached, the graph is freed the moment the pullback is.
        """
        tape, self.tape = self.tape, []
        return tape


class Tensor:
    """A traced value: `value` plus the primitive, inputs and parents that produced it."""

    __slots__ = ("value", "trace", "prim", "args", "params", "parents")

    # numpy must not treat a Tensor as an array: `ndarray + Tensor` then returns NotImplemented,
    # and Python calls `Tensor.__radd__`, which records the operation.
    __array_ufunc__ = None

    def __init__(self, value, trace, prim=None, args=(), params=None, parents=()):
        self.value = value
        self.trace = trace
        self.prim = prim
        self.args = args
        self.params = params
        self.parents = parents

    # -- array-like read-only attributes ------------------------------------------------------
    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def ndim(self):
        return len(self.value.shape)

    @property
    def size(self):
        return int(np.prod(self.value.shape))

    def __len__(self):
        return self.value.shape[0]

    def __repr__(self):
        made_by = self.prim.name if self.prim is not None else "input"
        return f"Tensor(shape={self.shape}, dtype={self.dtype}, trace={self.trace.level}, made_by={made_by})"

    def __array__(self, *args, **kwargs):
        raise TypeError(
            "a Tensor cannot be turned into a numpy array inside a differentiated function "
            "(that would silently cut the gradient); use the tinygrad_hw functions instead of "
            "numpy's, e.g. tinygrad_hw.exp(x) rather than np.exp(x)"
        )

    # Comparisons give plain boolean arrays: they have no gradient.
    def __lt__(self, other):
        return primal(self) < primal(other)

    def __le__(self, other):
        return primal(self) <= primal(other)

    def __gt__(self, other):
        return primal(self) > primal(other)

    def __ge__(self, other):
        return primal(self) >= primal(other)

    # Identity hashing: Tensors are graph nodes, not values.
    __hash__ = object.__hash__


def primal(x):
    """The plain numpy value under any number of Tensor boxes."""
    while type(x) is Tensor:
        x = x.value
    return x


def shape_of(x):
    """Shape of an array, Tensor or Python scalar."""
    return x.shape if hasattr(x, "shape") else np.shape(x)
