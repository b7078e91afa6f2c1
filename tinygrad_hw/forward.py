"""Forward mode, and the derivative operators built from both modes.

`jvp(f, primals, tangents)` evaluates f and, alongside, the directional derivative J v of f at the
primals along the tangents v: every input is boxed with its tangent in a forward trace, and every
primitive pushes the tangents forward with its JVP rules as it computes. One forward pass gives one
column of the Jacobian (reverse mode gives one row per backward pass), so forward mode is the
cheap direction when a function has few inputs and many outputs.

From the two modes:
  * `jacobian(f)`: the full Jacobian, row by row in reverse mode or column by column in forward
    mode, whichever needs fewer passes;
  * `hessian(f)`: the Jacobian of the gradient (forward over reverse);
  * `hvp(f, primals, tangents)`: a Hessian-vector product H v without forming H, as the JVP of
    the gradient (forward over reverse): about the cost of two or three gradients;
  * `elementwise_grad(f)`: the gradient of sum(f), which for an elementwise f is its derivative at
    every element.
"""

from __future__ import annotations

import functools

import numpy as np

from .autodiff import differentiable_inputs, grad, new_trace, refuse_complex, vjp
from .pytree import StructureError, flatten_like, tree_flatten, tree_unflatten
from .tensor import Tensor, shape_of


def jvp(f, primals, tangents):
    """Evaluate f at `primals` and its derivative along `tangents`: `(f(*primals), J v)`.

    `primals` and `tangents` are tuples (or lists) with one entry per argument of f; each tangent
    has its primal's pytree structure and shapes. The output may be any pytree of arrays; its
    tangent has the same structure (zeros where the output does not depend on the primals).
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp(f, primals, tangents): primals and tangents must be tuples, e.g. (x,) and (v,)")
    trace = new_trace(forward=True)
    leaves, treedef = tree_flatten(tuple(primals))
    try:
        tangent_leaves = flatten_like(treedef, tuple(tangents))
    except StructureError as error:
        raise ValueError(f"jvp: the tangents do not have the primals' structure: {error}") from None
    inputs = differentiable_inputs(leaves, tuple(primals), "differentiate along")
    boxed = [Tensor(x, trace, tangent=_as_tangent(t, x)) for x, t in zip(inputs, tangent_leaves)]
    out = f(*tree_unflatten(treedef, boxed))
    out_leaves, out_treedef = tree_flatten(out)
    values, out_tangents = [], []
    for y in out_leaves:
        if type(y) is Tensor and y.trace is trace:
            values.append(y.value)
            out_tangents.append(_writable(y.tangent, y.value))
        else:
            values.append(y)
            out_tangents.append(np.zeros(shape_of(y), dtype=getattr(y, "dtype", np.float64)))
    for value in values:
        refuse_complex(value, "jvp")
    return tree_unflatten(out_treedef, values), tree_unflatten(out_treedef, out_tangents)


def _as_tangent(t, x):
    """A tangent as an array of its primal's shape and dtype (or an outer Tensor, unchanged)."""
    if type(t) is Tensor:
        if shape_of(t) != shape_of(x):
            raise ValueError(
                f"jvp: a tangent has shape {shape_of(t)}, but its primal has shape {shape_of(x)}"
            )
        return t
    t = np.asarray(t)
    if t.dtype.kind == "c":
        raise TypeError("jvp: complex tangents are not supported (tinygrad_hw is real-valued)")
    if t.shape != shape_of(x):
        raise ValueError(f"jvp: a tangent has shape {t.shape}, but its primal has shape {shape_of(x)}")
    return t.astype(x.dtype, copy=False)


def _writable(t, like):
    if type(t) is Tensor:
        return t
    return np.array(np.broadcast_to(t, shape_of(like)), dtype=getattr(like, "dtype", np.float64))


# -- operators built from the two modes --------------------------------------------------------


def jacobian(f, argnums=0):
    """Return a function computing the Jacobian of array-valued f with respect to `args[argnums]`.

    The Jacobian has shape `f(x).shape + x.shape`. It is built in reverse mode (one pullback per
    output element) or forward mode (one JVP per input element), whichever takes fewer passes;
    either way it is built with engine operations, so it can be differentiated again.
    """
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)

    @functools.wraps(f)
    def jacobian_f(*args):
        jacobians = tuple(_jacobian_one(f, args, n) for n in nums)
        return jacobians[0] if single else jacobians

    return jacobian_f


def _jacobian_one(f, args, argnum):
    from .primitives import reshape, stack  # the primitives import this package's modules

    def f_of_x(x):
        full = list(args)
        full[argnum] = x
        return f(*full)

    x = args[argnum]
    x_shape = shape_of(x)
    value, pullback = vjp(f_of_x, x)
    if isinstance(value, (dict, list, tuple)):
        raise TypeError("jacobian: f must return an array (for a pytree output, use vjp or jvp)")
    out_shape, n_out, n_in = shape_of(value), int(np.prod(shape_of(value))), int(np.prod(x_shape))
    dtype = getattr(value, "dtype", np.float64)
    if n_out == 0 or n_in == 0:
        return np.zeros(out_shape + x_shape, dtype=dtype)
    if n_out <= n_in:
        rows = [pullback(_basis(out_shape, i, dtype))[0] for i in range(n_out)]
        return reshape(stack(rows), out_shape + x_shape)
    columns = [jvp(f_of_x, (x,), (_basis(x_shape, j, dtype),))[1] for j in range(n_in)]
    return reshape(stack(columns, axis=-1), out_shape + x_shape)


def _basis(shape, i, dtype):
    e = np.zeros(shape, dtype=dtype)
    e.flat[i] = 1
    return e


def hessian(f, argnums=0):
    """Return a function computing the Hessian of scalar f: shape `x.shape + x.shape`."""
    return jacobian(grad(f, argnums), argnums)


def hvp(f, primals, tangents):
    """The Hessian of scalar f at `primals` times `tangents`, by forward over reverse mode.

    With one argument this is H v for H the Hessian of f; with several, the tuple of the gradient's
    directional derivatives, one per argument.
    """
    primals, tangents = tuple(primals), tuple(tangents)
    argnums = 0 if len(primals) == 1 else tuple(range(len(primals)))
    return jvp(grad(f, argnums), primals, tangents)[1]


def elementwise_grad(f, argnums=0):
    """Return a function computing the gradient of sum(f(*args)) with respect to `args[argnums]`.

    For a function that acts element by element, that is its derivative at every element, as an
    array of the input's shape (a vectorised derivative).
    """
    from .primitives import sum as total

    @functools.wraps(f)
    def summed(*args, **kwargs):
        return total(f(*args, **kwargs))

    return grad(summed, argnums)
