"""Pytrees: nested dicts, lists, tuples and namedtuples whose leaves are arrays.

Model parameters are pytrees (`{"W1": ..., "b1": ...}`), and gradients come back in the same shape.
Flattening gives the leaves in a fixed order plus a description of the structure (a treedef) that
rebuilds it. `None` is an empty subtree (no leaves), as in JAX, so optional entries cost nothing.

Two trees are paired by their structure, never by position alone: dicts are matched key by key
(insertion order does not matter), so `{'a': 1, 'b': 2}` and `{'b': 0, 'a': 100}` pair a with a;
trees whose keys, lengths or kinds differ are refused with the path where they part.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_LEAF = None  # the treedef of a single leaf


class StructureError(ValueError):
    """Two pytrees that should have the same structure do not."""


def _node(tree):
    """(kind, keys, children) of a container node, or None for a leaf."""
    kind = type(tree)
    if kind is dict:
        return dict, tuple(tree), tree.values()
    if kind is list or kind is tuple:
        return kind, None, tree
    if tree is None:
        return type(None), None, ()
    if isinstance(tree, dict):
        return kind, tuple(tree), tree.values()
    if isinstance(tree, tuple):  # namedtuples (and other tuple subclasses) keep their type
        return kind, None, tree
    if isinstance(tree, list):
        return kind, None, tree
    return None


def tree_flatten(tree) -> tuple[list, Any]:
    """Leaves of `tree` in order, and a treedef that `tree_unflatten` turns back into a tree."""
    leaves = []
    treedef = _flatten_into(tree, leaves)
    return leaves, treedef


def _flatten_into(tree, leaves):
    kind = type(tree)
    if kind is dict:
        keys, children = tuple(tree), tree.values()
    elif kind is tuple or kind is list:
        keys, children = None, tree
    else:
        node = _node(tree)
        if node is None:
            leaves.append(tree)
            return _LEAF
        kind, keys, children = node
    defs = []
    for x in children:
        if type(x) is np.ndarray:  # the common leaf, without a recursive call
            leaves.append(x)
            defs.append(_LEAF)
        else:
            defs.append(_flatten_into(x, leaves))
    return (kind, keys, tuple(defs))


def tree_unflatten(treedef, leaves):
    """Rebuild the tree described by `treedef` with `leaves` in flattening order."""
    flat_dict = treedef is not _LEAF and treedef[0] is dict and not any(treedef[2])
    if flat_dict and type(leaves) is list and len(leaves) == len(treedef[1]):
        return dict(zip(treedef[1], leaves))  # a flat dict (every child a leaf): a model's parameters
    return _build(treedef, iter(leaves))


def _build(treedef, it):
    if treedef is _LEAF:
        return next(it)
    kind, keys, children = treedef
    built = [next(it) if c is _LEAF else _build(c, it) for c in children]
    if kind is dict:
        return dict(zip(keys, built))
    if kind is tuple:
        return tuple(built)
    if kind is list:
        return built
    if keys is not None:
        return kind(zip(keys, built))
    if kind is type(None):
        return None
    if hasattr(kind, "_fields"):  # a namedtuple
        return kind(*built)
    return kind(built)


def flatten_like(treedef, tree) -> list:
    """The leaves of `tree` in the order of `treedef`'s leaves, matching dicts by key.

    Raises StructureError naming the first place where `tree` does not have `treedef`'s structure.
    """
    leaves, own = tree_flatten(tree)
    if own == treedef:  # the same structure, keys in the same order: the common case
        return leaves
    return _matched_leaves(treedef, tree, "")


def _matched_leaves(treedef, tree, path):
    if treedef is _LEAF:
        return [tree]
    kind, keys, children = treedef
    node = _node(tree)
    where = path or "the root"
    if node is None or node[0] is not kind:
        raise StructureError(
            f"pytree structures differ at {where}: expected {_describe(kind, keys, children)}, "
            f"got {_describe_tree(tree)}"
        )
    if keys is not None:
        if set(node[1]) != set(keys):
            raise StructureError(
                f"pytree structures differ at {where}: expected keys {sorted(map(str, keys))}, "
                f"got {sorted(map(str, node[1]))}"
            )
        pairs = [(f"{path}[{k!r}]", tree[k], c) for k, c in zip(keys, children)]
    else:
        if len(node[2]) != len(children):
            raise StructureError(
                f"pytree structures differ at {where}: expected {len(children)} entries, got {len(node[2])}"
            )
        pairs = [(f"{path}[{i}]", x, c) for i, (x, c) in enumerate(zip(node[2], children))]
    leaves = []
    for place, x, c in pairs:
        leaves.extend(_matched_leaves(c, x, place))
    return leaves


def _describe(kind, keys, children):
    if keys is not None:
        return f"a {kind.__name__} with keys {sorted(map(str, keys))}"
    return f"a {kind.__name__} of {len(children)}"


def _describe_tree(tree):
    node = _node(tree)
    if node is None:
        return f"a leaf ({type(tree).__name__})"
    return _describe(node[0], node[1], list(node[2]))


def tree_leaves(tree) -> list:
    return tree_flatten(tree)[0]


def tree_structure(tree):
    """The treedef of `tree` (comparable with ==)."""
    return tree_flatten(tree)[1]


def tree_map(fn: Callable, tree, *rest):
    """Apply `fn` leafwise to `tree` and trees of the same structure (dicts matched by key)."""
    leaves, treedef = tree_flatten(tree)
    if not rest:
        return tree_unflatten(treedef, [fn(x) for x in leaves])
    others = [flatten_like(treedef, r) for r in rest]
    return tree_unflatten(treedef, [fn(*xs) for xs in zip(leaves, *others)])


def leaf_paths(tree, prefix="") -> list[str]:
    """A readable path for every leaf, in flattening order: `['W1']`, `[0][2]`, ..."""
    node = _node(tree)
    if node is None:
        return [prefix]
    kind, keys, children = node
    if keys is not None:
        return [p for k in keys for p in leaf_paths(tree[k], f"{prefix}[{k!r}]")]
    return [p for i, x in enumerate(children) for p in leaf_paths(x, f"{prefix}[{i}]")]
