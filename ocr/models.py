"""The character classifiers, as plain functions `model(params, x) -> logits` on the engine.

Each is a `Classifier`: `init(rng, **options) -> params` and `apply(params, rows) -> logits`.

* `mlp`: the homework's network, 1024 -> hidden sigmoid -> 36 softmax (64 hidden units by default).
* `cnn`: the stronger model the OCR uses: two 5 x 5 convolutions (24 and 48 filters) with 2 x 2
  max pooling and ReLU, then a 256-unit ReLU layer, written with the engine's `conv2d` and `max_pool2d`.

Inputs are rows of 1024 pixels in the NIST36 storage (`nist36.upright` turns them upright). Both models
take them as they are: the CNN reshapes a row to a 32 x 32 image, and a transposed image is as
learnable as an upright one. Ink is dark on a light background, so the models see `1 - x`: ink as
large values and blank paper as zeros, which starts training from better-scaled activations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

import tinygrad_hw as tg
from tinygrad_hw import nn
from tinygrad_hw.app.cli import UserError

from .nist36 import CLASS_NAMES, PIXELS, SIDE

CLASSES = len(CLASS_NAMES)


def init_mlp(rng, hidden=64, dtype=np.float32):
    """Xavier-initialised weights of 1024 -> hidden -> 36, named as in the homework (W1, b1, W2, b2)."""
    first, second = nn.init_dense(rng, PIXELS, hidden, dtype), nn.init_dense(rng, hidden, CLASSES, dtype)
    return {"W1": first["W"], "b1": first["b"], "W2": second["W"], "b2": second["b"]}


def mlp(params, x):
    """Logits of the sigmoid MLP."""
    hidden = tg.sigmoid(tg.affine(1 - x, params["W1"], params["b1"]))
    return tg.affine(hidden, params["W2"], params["b2"])


def init_cnn(rng, channels=(24, 48), hidden=256, dtype=np.float32):
    """He-initialised (variance 2 / fan-in, suited to ReLU) filters and dense weights of the CNN."""

    def he(shape, fan_in):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)

    c1, c2 = channels
    flat = c2 * 5 * 5  # 32 -> conv 5 -> 28 -> pool -> 14 -> conv 5 -> 10 -> pool -> 5
    return {
        "conv1": he((c1, 1, 5, 5), 25),
        "bias1": np.zeros(c1, dtype),
        "conv2": he((c2, c1, 5, 5), c1 * 25),
        "bias2": np.zeros(c2, dtype),
        "W3": he((flat, hidden), flat),
        "b3": np.zeros(hidden, dtype),
        "W4": nn.xavier_uniform(rng, hidden, CLASSES, dtype),
        "b4": np.zeros(CLASSES, dtype),
    }


def cnn(params, x):
    """Logits of the CNN: (conv 5x5, max-pool 2, ReLU) twice, dense ReLU, dense."""
    images = tg.reshape(1 - x, (-1, 1, SIDE, SIDE))
    h = _conv_block(images, params["conv1"], params["bias1"])
    h = _conv_block(h, params["conv2"], params["bias2"])
    h = tg.relu(tg.affine(tg.reshape(h, (h.shape[0], -1)), params["W3"], params["b3"]))
    return tg.affine(h, params["W4"], params["b4"])


def _conv_block(images, filters, bias):
    # relu(max_pool(z)) is max_pool(relu(z)) (both are monotone), with ReLU on a quarter of the
    # values and no tied zeros for the pooling's gradient to break.
    z = tg.conv2d(images, filters, bias)
    return tg.relu(tg.max_pool2d(z, size=2))


class Classifier(NamedTuple):
    """A character classifier as two plain functions, and the options of `init` that change the
    parameters' shapes (a checkpoint records them, so that its shapes can be checked)."""

    init: Callable[..., dict]
    apply: Callable[[dict, np.ndarray], np.ndarray]
    options: tuple[str, ...] = ()


MODELS = {
    "mlp": Classifier(init_mlp, mlp, options=("hidden",)),
    "cnn": Classifier(init_cnn, cnn),
}


def initial_params(name, rng, /, **settings) -> dict:
    """Fresh parameters of model `name`, given those of `settings` that are its options (the MLP's
    `hidden`; the others are ignored, so a checkpoint's whole info may be passed)."""
    model = MODELS[name]
    return model.init(rng, **model_options(name, settings))


MAX_HIDDEN = 10_000  # hidden units of the mlp: far more than 1024 inputs and 36 classes can use


def model_options(name, settings: dict) -> dict:
    """The entries of `settings` that are options of model `name`, checked (UserError)."""
    options = {key: settings[key] for key in MODELS[name].options if key in settings}
    hidden = options.get("hidden")
    if hidden is not None and not (type(hidden) is int and 1 <= hidden <= MAX_HIDDEN):
        raise UserError(f"hidden units must be a whole number from 1 to {MAX_HIDDEN:,}, got {hidden!r}")
    return options
