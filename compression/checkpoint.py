"""The autoencoder's checkpoint: named arrays in an .npz (no pickle), checked when loaded."""

from __future__ import annotations

import json

import numpy as np

from tinygrad_hw.app.cli import UserError
from tinygrad_hw.app.files import load_arrays, save_arrays

from .autoencoder import init_autoencoder


def save_autoencoder(path, params, info):
    arrays = {f"{layer}/{name}": value for layer, dense in params.items() for name, value in dense.items()}
    arrays["meta/info"] = np.array(json.dumps(info))
    return save_arrays(path, arrays)


def load_autoencoder(path):
    """(params, info) from a checkpoint; a missing layer or a wrong shape is one clear line."""
    arrays = load_arrays(path)
    expected = init_autoencoder(np.random.default_rng(0))
    params = {}
    for layer, dense in expected.items():
        params[layer] = {}
        for name, value in dense.items():
            key = f"{layer}/{name}"
            if key not in arrays:
                raise UserError(f"{path}: no {key} array; not an autoencoder checkpoint")
            if arrays[key].shape != value.shape:
                raise UserError(f"{path}: {key} should have shape {value.shape}, found {arrays[key].shape}")
            params[layer][name] = arrays[key]
    info = json.loads(str(arrays["meta/info"])) if "meta/info" in arrays else {}
    return params, info
