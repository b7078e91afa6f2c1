"""tinygrad_hw: a small, readable autodiff engine over numpy arrays, in reverse and forward mode.

Models are plain functions `f(params, x)` over pytrees of arrays. `grad`, `value_and_grad` and
`vjp` differentiate them in reverse mode, `jvp` in forward mode, and `jacobian`, `hessian`, `hvp`
and `elementwise_grad` are built from the two; `check_grads` verifies any of it numerically. The
operations follow numpy's names, signatures and broadcasting (`tinygrad_hw.sum`, `.maximum`,
`.einsum`, ...), and `tinygrad_hw.nn` holds the toolkit (initialisation, layers, optimisers,
batches) to train models.
"""

from . import linalg, special
from .autodiff import ZeroGradientWarning, grad, value_and_grad, vjp
from .forward import elementwise_grad, hessian, hvp, jacobian, jvp
from .gradcheck import GradientCheckError, MissingCheckInputsError, check_grads, check_primitive
from .primitive import REGISTRY, Primitive, ShapeError, primitive
from .primitives import *  # noqa: F403 (every operation; the list is primitives.__all__)
from .primitives import __all__ as _operations
from .pytree import StructureError, tree_flatten, tree_leaves, tree_map, tree_structure, tree_unflatten
from .tensor import Tensor

__all__ = [
    "grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp", "elementwise_grad",
    "check_grads", "check_primitive", "GradientCheckError", "MissingCheckInputsError",
    "ZeroGradientWarning", "Tensor", "Primitive", "primitive", "REGISTRY", "ShapeError",
    "StructureError", "linalg", "special",
    "tree_flatten", "tree_unflatten", "tree_map", "tree_leaves", "tree_structure",
    *_operations,
]  # fmt: skip
