"""Pytrees: nested dicts, lists and tuples whose leaves are arrays.

Model parameters are pytrees (`{"W1": ..., "b1": ...}`), and gradients come back in the same shape.
Flattening gives the leaves in a fixed order plus a description of the structure that rebuilds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_LEAF = None  # the treedef of a single leaf


def tree_flatten(tree) -> tuple[list, Any]:
    """Leaves of `tree` in order, and a treedef that `tree_unflatten` turns back into a tree."""
    leaves = []
    treedef = _flatten_into(tree, leaves)
    return leaves, treedef


def _flatten_into(tree, leaves):
    if isinstance(tree, dict):
        kind, keys, children = dict, list(tree), tree.values()
    elif isinstance(tree, (list, tuple)):
        kind, keys, children = type(tree), None, tree
    else:
        leaves.append(tree)
        return _LEAF
    defs = []
    for x in children:
        if type(x) is np.ndarray:  # the common leaf, without a recursive call
            leaves.append(x)
            defs.append(_LEAF)
        else:
            defs.append(_flatten_into(x, leaves))
    return (kind, keys, defs)


def tree_unflatten(treedef, leaves):
    """Rebuild the tree described by `treedef` with `leaves` in flattening order."""
    return _build(treedef, iter(leaves))


def _build(treedef, it):
    if treedef is _LEAF:
        return next(it)
    kind, keys, children = treedef
    built = []
    for c in children:
        built.append(next(it) if c is _LEAF else _build(c, it))
    if kind is dict:
        return dict(zip(keys, built))
    return kind(built)


def tree_leaves(tree) -> list:
    return tree_flatten(tree)[0]


def tree_map(fn: Callable, tree, *rest):
    """Apply `fn` leafwise to `tree` and trees of the same structure."""
    leaves, treedef = tree_flatten(tree)
    others = [tree_flatten(r)[0] for r in rest]
    return tree_unflatten(treedef, [fn(*xs) for xs in zip(leaves, *others, strict=True)])


def leaf_paths(tree, prefix="") -> list[str]:
    """A readable path for every leaf, in flattening order: `['W1']`, `[0][2]`, ..."""
    if isinstance(tree, dict):
        return [p for k in tree for p in leaf_paths(tree[k], f"{prefix}[{k!r}]")]
    if isinstance(tree, (list, tuple)):
        return [p for i, x in enumerate(tree) for p in leaf_paths(x, f"{prefix}[{i}]")]
    return [prefix]
