"""One checkpoint format for any parameter pytree: named arrays in an .npz (no pickle) and a JSON dict.

Each leaf is stored under `param/<path>`, its path the keys from the root joined by "/" (a list's
or tuple's positions as numbers): `param/W1`, `param/encode1/W`. `meta/info` holds a JSON dict of
what the caller keeps with the weights (which model, how it was trained, how well it did).
Loading checks the file against the structure the caller expects (every array there, with the
expected shape, a floating-point dtype and finite values) and names the first problem in one line.

Checkpoints written before this format load too: the OCR's kept its model's name apart, in
`meta/model`, and the autoencoder's stored its arrays without the `param/` prefix.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tinygrad_hw import tree_flatten, tree_unflatten

from .cli import UserError
from .files import load_arrays, save_arrays

PARAM, INFO = "param/", "meta/info"
OLD_MODEL = "meta/model"  # the OCR's model name, before it moved into the info


def save_checkpoint(path: Path, params, info: dict) -> Path:
    """Write the parameters and a JSON-serialisable `info` dict, atomically."""
    arrays = {PARAM + name: leaf for name, leaf in named_leaves(params)}
    arrays[INFO] = np.array(json.dumps(info))
    return save_arrays(path, arrays)


def load_checkpoint(path: Path, expected):
    """(params, info) from a checkpoint, shaped like the pytree `expected(info)` returns.

    `expected` sees the stored info first, so that a file can say which model it holds (and how
    large); it returns that model's parameters as initialised, or raises UserError when the info
    names nothing it knows.
    """
    arrays = _current_layout(load_arrays(path))
    info = _info(path, arrays)
    if OLD_MODEL in arrays:
        info.setdefault("model", str(arrays[OLD_MODEL]))
    template = expected(info)
    leaves = [_checked(path, name, arrays.get(PARAM + name), want) for name, want in named_leaves(template)]
    return tree_unflatten(tree_flatten(template)[1], leaves), info


def _info(path, arrays) -> dict:
    """The checkpoint's info: a JSON object stored as one string, or {} when there is none."""
    if INFO not in arrays:
        return {}
    stored = arrays[INFO]
    if stored.dtype.kind != "U" or stored.shape != ():
        raise UserError(f"{path}: its {INFO} is not one JSON string; not a checkpoint")
    try:
        info = json.loads(str(stored))
    except (ValueError, RecursionError):
        raise UserError(f"{path}: its {INFO} is not JSON; not a checkpoint") from None
    if not isinstance(info, dict):
        raise UserError(f"{path}: its {INFO} is not a JSON object; not a checkpoint")
    return info


def named_leaves(tree, prefix="") -> list[tuple[str, object]]:
    """(path, leaf) for every leaf of a pytree, in the order `tree_flatten` gives the leaves."""
    if isinstance(tree, dict):
        children = tree.items()
    elif isinstance(tree, (list, tuple)):
        children = enumerate(tree)
    else:
        return [(prefix, tree)]
    return [pair for key, child in children for pair in named_leaves(child, _join(prefix, key))]


def _join(prefix, key):
    return f"{prefix}/{key}" if prefix else str(key)


def _current_layout(arrays: dict) -> dict:
    """The autoencoder's old files stored each parameter under its bare path: add the prefix."""
    return {key if key.startswith(("param/", "meta/")) else PARAM + key: a for key, a in arrays.items()}


def _checked(path, name, found, want):
    if found is None:
        raise UserError(f"{path}: no parameter {name} (shape {want.shape}); not a checkpoint of this model")
    if found.shape != want.shape:
        raise UserError(f"{path}: parameter {name} should have shape {want.shape}, found {found.shape}")
    if not np.issubdtype(found.dtype, np.floating):
        raise UserError(f"{path}: parameter {name} holds {found.dtype} values, not floating-point numbers")
    if not np.all(np.isfinite(found)):
        raise UserError(f"{path}: parameter {name} holds values that are not finite numbers")
    return found
