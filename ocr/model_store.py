"""Trained OCR models on disk: saving and loading them, finding the best one, training the default.

A model is stored in the project's one checkpoint format, with its name (`mlp` or `cnn`) and its
options in the info. Candidates for reading are the checkpoints `python -m ocr train` wrote under
`runs/` (in the current folder) and those in the model cache (`~/.cache/tinygrad_hw/models`, or
`$TINYGRAD_HW_CACHE/models`). Models trained on real handwriting (NIST36) beat models trained on
the embedded default, the CNN beats the MLP, and then the higher test accuracy wins; a candidate
that cannot be loaded (empty, truncated, foreign) is skipped with one line saying why. Loading
never trains: when there is no model, the command that needs one calls `train_default` and says so.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from tinygrad_hw import nn
from tinygrad_hw.app.cache import cache_dir
from tinygrad_hw.app.checkpoint import load_checkpoint, save_checkpoint
from tinygrad_hw.app.cli import UserError, message

from .models import MODELS, initial_params
from .nist36 import load_dataset
from .training import DEFAULTS, EMBEDDED_CNN, train_model

_MODEL_RANK = {"mlp": 0, "cnn": 1}


def save_model(path: Path, name: str, params: dict, info: dict) -> Path:
    """Write model `name`'s parameters with `info` (which should hold the model's options)."""
    return save_checkpoint(path, params, {**info, "model": name})


def load_model(path: Path) -> tuple[str, dict, dict]:
    """(model name, params, info) of a checkpoint, checked against that model's own shapes."""

    def expected(info):
        name = info.get("model")
        if name is None:
            raise UserError(f"{path}: not a checkpoint written by `python -m ocr train`")
        if not isinstance(name, str) or name not in MODELS:
            raise UserError(f"{path}: unknown model {name!r} (known: {', '.join(MODELS)})")
        try:
            return initial_params(name, np.random.default_rng(0), **info)
        except UserError as error:
            raise UserError(f"{path}: {error}") from None

    params, info = load_checkpoint(path, expected)
    return info["model"], params, info


def classifier(name: str, params: dict):
    """The function `rows -> logits` that model `name` with `params` computes, in batches."""
    return partial(nn.predict, MODELS[name].apply, params)


def candidates() -> list[Path]:
    found = sorted(Path("runs").glob("*/model.npz")) if Path("runs").is_dir() else []
    store = cache_dir() / "models"
    return found + (sorted(store.glob("*.npz")) if store.is_dir() else [])


def _rank(path):
    """How good a candidate is, or None (said in one line) when it cannot be loaded."""
    try:
        name, _, info = load_model(path)
    except UserError as error:
        message(f"skipping the model {error}")
        return None
    real_data = str(info.get("data", "")).startswith("NIST36")
    accuracy = info.get("test_accuracy", 0.0)
    if not isinstance(accuracy, (int, float)) or not np.isfinite(accuracy):
        accuracy = 0.0
    return (real_data, _MODEL_RANK.get(name, -1), accuracy)


def best_checkpoint() -> Path | None:
    ranked = [(rank, path) for path in candidates() if (rank := _rank(path)) is not None]
    return max(ranked)[1] if ranked else None


def train_default(data_dir: Path | None, seed: int = 0) -> Path:
    """Train the default OCR model (the CNN: under a minute on the embedded default, some minutes
    on NIST36) and store it in the model cache."""
    splits, source = load_dataset(data_dir, seed=seed)
    config = DEFAULTS["cnn"] if data_dir is not None else EMBEDDED_CNN
    _, params, _ = train_model("cnn", splits, seed=seed, **config)
    test = nn.evaluate(MODELS["cnn"].apply, params, splits["test"].x, splits["test"].y)[1]
    kind = "nist36" if data_dir is not None else "embedded"
    path = cache_dir() / "models" / f"cnn-{kind}-seed{seed}.npz"
    save_model(path, "cnn", params, {"test_accuracy": test, "data": source, "config": config})
    message(f"trained (test accuracy {test:.3f}); saved as {path}")
    return path
