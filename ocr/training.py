"""Training the character classifiers: per-model defaults, augmentation, the learning-rate sweep.

The loop itself is the application layer's `train_classifier`; this module adds what is specific to
characters: small random distortions of the training images (the same character a little rotated,
scaled, sheared or off-centre is still the same character, and seeing it so keeps a small model
from memorising pixel positions), a sweep over learning rates, and confusion statistics.
"""

from __future__ import annotations

import numpy as np

from tinygrad_hw import nn
from tinygrad_hw.app.cli import message
from tinygrad_hw.app.training import TrainingDiverged, train_classifier

from .models import CLASSES, MODELS, initial_params
from .nist36 import CLASS_NAMES, distort_images

DEFAULTS = {  # per model: what reaches the targets on the NIST36 stand-in in reasonable time
    "mlp": {"epochs": 40, "lr": 0.1, "batch_size": 32},
    "cnn": {"epochs": 15, "lr": 0.05, "batch_size": 64},
}
# The CNN that reading trains for itself on the embedded default, where a new user waits for it:
# the rendered glyphs are learnt in a few epochs (validation 98.4% after 6, 98.3% after 4), and
# more do not read generated pages better (character error rate over 12 pages: 14.7% after 6
# epochs, 16.2% after 15; the pages' glyphs are distorted on purpose, as handwriting is).
EMBEDDED_CNN = {**DEFAULTS["cnn"], "epochs": 6}


def train_model(
    name,
    splits,
    *,
    epochs,
    lr,
    batch_size,
    beta=0.9,
    augment=True,
    seed=0,
    hidden=64,
    progress=True,
    description=None,
):
    """Initialise and train model `name` on splits["train"], validating on splits["valid"].

    Returns (initial params, trained params, history). The learning rate follows a cosine
    schedule from `lr`; `augment` distorts each training image a little (`distort_images`);
    `hidden` is the MLP's hidden width (the CNN has no such option).
    """
    rng = np.random.default_rng(seed)
    initial = initial_params(name, rng, hidden=hidden)
    trained, history = train_classifier(
        MODELS[name].apply,
        initial,
        (splits["train"].x, splits["train"].y),
        (splits["valid"].x, splits["valid"].y),
        epochs=epochs,
        lr=nn.cosine_schedule(lr, epochs),
        batch_size=batch_size,
        beta=beta,
        rng=rng,
        augment=distort_images if augment else None,
        progress=progress,
        description=description or f"training {name}",
    )
    return initial, trained, history


def sweep_learning_rates(train, lr, first_run):
    """Train at 0.1x and 10x `lr` too, with `train(lr, description) -> (initial, params, history)`;
    `first_run` is the run at `lr`. The best final validation accuracy wins; a rate that diverges is
    left out. Returns the histories by rate, the best rate and its run."""
    runs = {lr: first_run}
    for other in (lr / 10, lr * 10):
        try:
            runs[other] = train(other, f"sweep lr {other:g}")
        except TrainingDiverged as error:
            message(f"lr {other:g} diverged ({error}); it is left out of the sweep")
    best = max(runs, key=lambda k: runs[k][2]["valid_accuracy"][-1])
    return {"histories": {k: r[2] for k, r in runs.items()}, "best_lr": best, "best_run": runs[best]}


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
