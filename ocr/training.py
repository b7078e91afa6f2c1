"""Training the character classifiers: augmentation, the learning-rate sweep, checkpoints.

The loop itself is the application layer's `train_classifier`; this module adds what is specific to
characters: small random distortions of the training images (the same character a little rotated,
scaled, sheared or off-centre is still the same character, and seeing it so keeps a small model
from memorising pixel positions), checkpoints, and confusion statistics.
"""

from __future__ import annotations

import json

import numpy as np

from tinygrad_hw import nn
from tinygrad_hw.app.cli import UserError
from tinygrad_hw.app.files import load_arrays, save_arrays
from tinygrad_hw.app.training import train_classifier

from .models import CLASSES, MODELS
from .nist36 import CLASS_NAMES, distort_images

# -- training one model ----------------------------------------------------------------------

DEFAULTS = {  # per model: what reaches the targets on the NIST36 stand-in in reasonable time
    "mlp": {"epochs": 40, "lr": 0.1, "batch_size": 32},
    "cnn": {"epochs": 15, "lr": 0.05, "batch_size": 64},
}


def train_model(name, splits, *, epochs, lr, batch_size, beta=0.9, augment=True, seed=0, hidden=64,
                progress=True, description=None):  # fmt: skip
    """Initialise and train model `name` on splits["train"], validating on splits["valid"].

    Returns (initial params, trained params, history). The learning rate follows a cosine
    schedule from `lr`; `augment` distorts each training image a little (`distort_images`).
    """
    init, model = MODELS[name]
    rng = np.random.default_rng(seed)
    initial = init(rng, hidden=hidden) if name == "mlp" else init(rng)
    trained, history = train_classifier(
        model, initial, (splits["train"].x, splits["train"].y), (splits["valid"].x, splits["valid"].y),
        epochs=epochs, lr=nn.cosine_schedule(lr, epochs), batch_size=batch_size, beta=beta, rng=rng,
        augment=distort_images if augment else None, progress=progress,
        description=description or f"training {name}",
    )  # fmt: skip
    return initial, trained, history


def confusion_matrix(true, predicted, classes=CLASSES):
    """counts[i, j]: how many of class i were predicted as class j."""
    return np.bincount(true * classes + predicted, minlength=classes * classes).reshape(classes, classes)


def most_confused(confusion, count=10):
    """The largest off-diagonal cells as (true name, predicted name, count), largest first."""
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:count]
    pairs = [np.unravel_index(k, off.shape) for k in order]
    return [(CLASS_NAMES[i], CLASS_NAMES[j], int(off[i, j])) for i, j in pairs if off[i, j] > 0]


# -- checkpoints: named arrays in an .npz, no pickle ------------------------------------------


def save_checkpoint(path, name, params, info):
    """Write the model name, its parameters and a JSON `info` dict, atomically."""
    arrays = {f"param/{k}": v for k, v in params.items()}
    arrays["meta/model"] = np.array(name)
    arrays["meta/info"] = np.array(json.dumps(info))
    return save_arrays(path, arrays)


def load_checkpoint(path):
    """(model name, params, info) from a checkpoint, checked against the model's own shapes."""
    arrays = load_arrays(path)
    try:
        name = str(arrays["meta/model"])
        info = json.loads(str(arrays["meta/info"]))
    except (KeyError, ValueError):
        raise UserError(f"{path}: not a checkpoint written by `python -m ocr train`") from None
    if name not in MODELS:
        raise UserError(f"{path}: unknown model {name!r} (known: {', '.join(MODELS)})")
    params = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("param/")}
    init = MODELS[name][0]
    rng = np.random.default_rng(0)
    expected = init(rng, hidden=info.get("hidden", 64)) if name == "mlp" else init(rng)
    for key, value in expected.items():
        if key not in params or params[key].shape != value.shape:
            found = params[key].shape if key in params else "nothing"
            raise UserError(f"{path}: parameter {key} should have shape {value.shape}, found {found}")
    return name, params, info
