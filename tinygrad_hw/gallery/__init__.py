"""A gallery of small models written on the engine, each trained for a few hundred steps.

Every example is a module with the same few plain functions, so one loop trains them all:
  * `data(rng)` -> (inputs, targets), the whole (small, generated) dataset;
  * `init(rng)` -> (params, state): parameters, and state such as batch norm's running statistics
    (None when the model has none);
  * `loss(params, state, x, y, rng, training)` -> (loss, new_state);
  * `accuracy(params, state, x, y)` -> the fraction of targets predicted right;
  * `OPTIMISER` (a name in `tinygrad_hw.optimizers`), its settings, `STEPS` and `BATCH`.
`train(example, steps, seed)` runs one with its optimiser and returns the loss at every step.
"""

from __future__ import annotations

import numpy as np

from .. import optimizers
from ..autodiff import value_and_grad
from . import batchnorm_cnn, char_rnn, logistic, residual_mlp

EXAMPLES = {
    "logistic": logistic,
    "residual-mlp": residual_mlp,
    "batchnorm-cnn": batchnorm_cnn,
    "char-rnn": char_rnn,
}


def training_loss(example, state, x, y, rng):
    """The example's training-mode loss on (x, y) as a function of its parameters alone, the state
    held fixed: what a gradient check, a profile or a drawing of the tape differentiates."""
    return lambda params: example.loss(params, state, x, y, rng, True)[0]


def train(example, steps=None, seed=0, on_step=None):
    """Train `example` for `steps` (default: its own) and return its history.

    The history has `loss` per step, and `accuracy` on the whole dataset before and after.
    `on_step(step, loss)` is called after each step (a progress bar, say).
    """
    rng = np.random.default_rng(seed)
    x, y = example.data(rng)
    params, state = example.init(rng)
    init, update = getattr(optimizers, f"{example.OPTIMISER}_init"), getattr(optimizers, example.OPTIMISER)
    opt_state = init(params)
    step_fn = value_and_grad(lambda p, s, xb, yb: example.loss(p, s, xb, yb, rng, True), has_aux=True)
    history = {"loss": [], "accuracy_before": example.accuracy(params, state, x, y)}
    for step in range(steps or example.STEPS):
        rows = rng.choice(len(x), size=min(example.BATCH, len(x)), replace=False)
        (loss, state), grads = step_fn(params, state, x[rows], y[rows])
        if not np.isfinite(loss):
            raise FloatingPointError(f"{example.__name__}: the loss became {loss} at step {step}")
        grads, _ = optimizers.clip_by_global_norm(grads, example.CLIP)
        params, opt_state = update(params, grads, opt_state, **example.OPTIMISER_SETTINGS)
        history["loss"].append(float(loss))
        if on_step is not None:
            on_step(step, float(loss))
    history["accuracy_after"] = example.accuracy(params, state, x, y)
    history["params"], history["state"] = params, state
    return history
