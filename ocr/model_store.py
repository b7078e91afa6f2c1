"""Which trained model the reader uses: the best checkpoint available, or a new one.

Candidates are the checkpoints `python -m ocr train` wrote under `runs/` (in the current folder)
and those in the model cache (`~/.cache/tinygrad_hw/models`, or `$TINYGRAD_HW_CACHE/models`).
Models trained on real handwriting (NIST36) beat models trained on the embedded default, the CNN
beats the MLP, and then the higher test accuracy wins. When there is none, a CNN is trained (on
the data dir, or the embedded default) into the cache, with a message saying so.
"""

from __future__ import annotations

from pathlib import Path

from tinygrad_hw import nn
from tinygrad_hw.app.cache import cache_dir
from tinygrad_hw.app.cli import UserError, message

from .models import cnn
from .nist36 import load_dataset
from .training import DEFAULTS, load_checkpoint, save_checkpoint, train_model

_MODEL_RANK = {"mlp": 0, "cnn": 1}


def candidates() -> list[Path]:
    found = sorted(Path("runs").glob("*/model.npz")) if Path("runs").is_dir() else []
    store = cache_dir() / "models"
    return found + (sorted(store.glob("*.npz")) if store.is_dir() else [])


def _rank(path):
    try:
        name, _, info = load_checkpoint(path)
    except UserError:
        return None
    real_data = str(info.get("data", "")).startswith("NIST36")
    return (real_data, _MODEL_RANK.get(name, -1), info.get("test_accuracy", 0.0))


def best_checkpoint() -> Path | None:
    ranked = [(rank, path) for path in candidates() if (rank := _rank(path)) is not None]
    return max(ranked)[1] if ranked else None


def load_model(path: Path | None, data_dir: Path | None, seed: int = 0):
    """(name, params, path) of the chosen checkpoint: `path`, else the best, else a new one."""
    if path is None:
        path = best_checkpoint()
        if path is None:
            path = train_default(data_dir, seed)
        else:
            message(f"using the model {path}")
    name, params, _ = load_checkpoint(path)
    return name, params, path


def train_default(data_dir: Path | None, seed: int = 0) -> Path:
    """Train the default OCR model (the CNN) and store it in the model cache."""
    splits, source = load_dataset(data_dir, seed=seed)
    message(f"no trained model found: training a CNN on {source} first (a few minutes)")
    config = DEFAULTS["cnn"]
    _, params, _ = train_model("cnn", splits, seed=seed, **config)
    test = nn.evaluate(cnn, params, splits["test"].x, splits["test"].y)[1]
    kind = "nist36" if data_dir is not None else "embedded"
    path = cache_dir() / "models" / f"cnn-{kind}-seed{seed}.npz"
    save_checkpoint(path, "cnn", params, {"test_accuracy": test, "data": source, "config": config})
    message(f"trained (test accuracy {test:.3f}); saved as {path}")
    return path
