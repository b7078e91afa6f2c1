"""The Tensor: an array that remembers how it was made, or which way it is moving.

A Tensor wraps a value (a numpy array, or a Tensor of an enclosing trace when derivatives are
nested) and belongs to one trace, one differentiation in progress:

  * in a reverse trace (`vjp`, `grad`) it records the primitive that produced it, the primitive's
    inputs, and which of those inputs are Tensors of the same trace (its parents). The trace's tape
    lists its Tensors in the order they were made, so the backward pass walks the tape in reverse:
    every node comes after its parents.
  * in a forward trace (`jvp`) it carries its tangent, the directional derivative of the value
    along the direction the user chose; each primitive pushes tangents forward as it computes.

Users never build Tensors by hand: the differentiation functions wrap the arguments they
differentiate, and every primitive returns a Tensor as soon as one of its inputs is one. Inside a
model a Tensor behaves like an array: arithmetic and comparison operators, `@`, indexing, `.T`,
`.shape` and the common methods.

Each trace has a level, higher for traces started later. A value can be boxed several times, once
per enclosing trace, which is what makes `grad(grad(f))` and `jvp(grad(f), ...)` work (as in HIPS
autograd and JAX).
"""

from __future__ import annotations

import sys

import numpy as np


class Trace:
    """One differentiation in progress: its nesting level, its direction, and its tape.

    A reverse trace keeps a tape (a list) of the Tensors it records; a forward trace has none.
    """

    __slots__ = ("level", "tape", "forward")

    def __init__(self, level, forward=False):
        self.level = level
        self.forward = forward
        self.tape = None if forward else []

    def finish(self):
        """Hand over the tape once the traced function has returned.

        Every Tensor on the tape points back to this Trace; if the Trace kept the tape, each
        step's whole graph would be a reference cycle, freed only by the cyclic garbage collector
        long after its arrays went cold. Detached, the graph is freed the moment the pullback is.
        """
        tape, self.tape = self.tape, []
        return tape


class Tensor:
    """A traced value: `value` plus how it was made (reverse) or its `tangent` (forward)."""

    __slots__ = ("value", "trace", "prim", "args", "params", "parents", "tangent")

    def __init__(self, value, trace, prim=None, args=(), params=None, parents=(), tangent=None):
        self.value = value
        self.trace = trace
        self.prim = prim
        self.args = args
        self.params = params
        self.parents = parents
        self.tangent = tangent

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
        return len(self.value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        return bool(primal(self))

    def __repr__(self):
        made_by = self.prim.name if self.prim is not None else "input"
        kind = "forward" if self.trace.forward else "reverse"
        return (
            f"Tensor(shape={self.shape}, dtype={self.dtype}, {kind} trace {self.trace.level}, "
            f"made_by={made_by})"
        )

    # -- numpy must not see inside a Tensor ----------------------------------------------------
    # `__array_ufunc__ = None` makes numpy's binary operators step aside: `ndarray + Tensor` returns
    # NotImplemented, and Python calls `Tensor.__radd__`, which records the operation. Any other
    # ufunc applied to a Tensor (np.exp(x)) raises numpy's TypeError saying the Tensor "does not
    # support ufuncs"; numpy's other functions (np.sum(x)) reach `__array_function__` below.
    __array_ufunc__ = None

    def __array_function__(self, func, types, args, kwargs):
        if func in _METADATA_FUNCTIONS:  # np.shape(x) and the like only read the metadata
            return func(*[primal(a) for a in args], **kwargs)
        raise TypeError(_numpy_function_message(func.__name__))

    def __array__(self, *args, **kwargs):
        raise TypeError(
            "a Tensor cannot be turned into a numpy array inside a differentiated function "
            "(that would silently cut the gradient); use the tinygrad_hw functions instead of "
            "numpy's, e.g. tinygrad_hw.exp(x) rather than np.exp(x), tinygrad_hw.stack rather than "
            "np.array([...])"
        )

    # Identity hashing: Tensors are graph nodes, not values (`==` compares values, elementwise,
    # like the other operators, which `tinygrad_hw.primitives` installs).
    __hash__ = object.__hash__


_METADATA_FUNCTIONS = {np.shape, np.ndim, np.size}


def _numpy_function_message(name):
    engine = sys.modules.get("tinygrad_hw")
    instead = (
        f"use tinygrad_hw.{name} instead"
        if engine is not None and hasattr(engine, name)
        else f"tinygrad_hw has no {name}; write it with tinygrad_hw's functions"
    )
    return (
        f"numpy's {name} cannot see inside a traced value (a Tensor being differentiated), so it "
        f"cannot follow the gradient: {instead}"
    )


def primal(x):
    """The plain numpy value under any number of Tensor boxes."""
    while type(x) is Tensor:
        x = x.value
    return x


def shape_of(x):
    """Shape of an array, Tensor or Python scalar."""
    try:
        return x.shape
    except AttributeError:
        return np.shape(x)


def dtype_of(x):
    """dtype of an array, Tensor or Python scalar (as numpy would give it)."""
    return x.dtype if hasattr(x, "dtype") else np.result_type(x)
