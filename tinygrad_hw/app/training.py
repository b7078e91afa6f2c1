"""The training loop the engine's models share: momentum SGD over random batches, with a progress bar.

The engine's toolkit (`tinygrad_hw.nn`) has the pieces: gradients, `momentum`, `random_batches`,
`evaluate`. This loop adds what a command needs around them: a tqdm bar on stderr, a per-epoch
history with the time taken, and a clear error when training diverges: the loss stops being a
finite number, or grows to more than `DIVERGED` times its first value (a saturating model, such
as a sigmoid network at a huge learning rate, keeps a finite loss while it blows up).
"""

from __future__ import annotations

import time

import numpy as np
from tqdm import tqdm

import tinygrad_hw as tg
from tinygrad_hw import nn

DIVERGED = 1e3  # a loss this many times larger than the first batch's has diverged


class TrainingDiverged(ArithmeticError):
    """The loss stopped being a finite number; the parameters are not worth keeping."""


def fit(
    loss_fn,
    params,
    data,
    *,
    epochs,
    lr,
    batch_size=32,
    beta=0.9,
    rng,
    loss_is_sum=False,
    augment=None,
    on_batch=None,
    on_epoch=None,
    progress=True,
    description="training",
):
    """Minimise `loss_fn(params, *batch)` with momentum SGD over `data`, a tuple of arrays.

    Each epoch cuts the rows of `data` into random batches. `lr` is a number or a function of the
    epoch (from 0, see `nn.cosine_schedule`); `beta=0` gives plain SGD; `augment(rng, x)` alters
    the first array of each batch. `loss_fn` may return `(loss, aux)` when `on_batch` is given:
    `on_batch(aux, batch)` returns a dict of per-batch sums (e.g. correct predictions), reported per
    row. `on_epoch(params)` returns a dict of measurements taken after each epoch. The history has,
    per epoch, `train_loss` per row (`loss_is_sum`: the loss adds up its rows, as a total squared
    error does; otherwise it is their mean), those sums and measurements, and `seconds` so far.
    Raises TrainingDiverged when the loss stops being finite or grows past `DIVERGED` times the
    first batch's loss (numpy's overflow warnings on the way there are silenced: the divergence
    itself is reported).
    """
    step = tg.value_and_grad(loss_fn, has_aux=on_batch is not None)
    velocity = nn.momentum_init(params)
    history = {"train_loss": [], "seconds": []}
    start = time.perf_counter()
    rows = len(data[0])
    first = None
    bar = tqdm(
        total=epochs * rows,
        desc=description,
        unit="row",
        unit_scale=True,
        leave=False,
        disable=None if progress else True,
    )
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            for epoch in range(epochs):
                epoch_lr = lr(epoch) if callable(lr) else lr
                total, sums = 0.0, {}
                for batch in nn.random_batches(rng, *data, batch_size=batch_size):
                    if augment is not None:
                        batch = (augment(rng, batch[0]), *batch[1:])
                    value, grads = step(params, *batch)
                    loss = value[0] if on_batch is not None else value
                    if not np.isfinite(loss):
                        raise TrainingDiverged(
                            f"the loss became {loss} in epoch {epoch + 1}; try a smaller learning rate"
                        )
                    first = abs(float(loss)) if first is None else first
                    if first > 0 and abs(float(loss)) > DIVERGED * first:
                        raise TrainingDiverged(
                            f"the loss grew from {first:.4g} to {float(loss):.4g} in epoch {epoch + 1}; "
                            "try a smaller learning rate"
                        )
                    params, velocity = nn.momentum(params, grads, velocity, epoch_lr, beta)
                    total += float(loss) * (1 if loss_is_sum else len(batch[0]))
                    for key, amount in (on_batch(value[1], batch) if on_batch is not None else {}).items():
                        sums[key] = sums.get(key, 0) + amount
                    bar.update(len(batch[0]))
                measured = {"train_loss": total / rows, **{k: v / rows for k, v in sums.items()}}
                measured.update(on_epoch(params) if on_epoch is not None else {})
                measured["seconds"] = time.perf_counter() - start
                for key, value in measured.items():
                    history.setdefault(key, []).append(value)
                bar.set_postfix({k: f"{v:.4g}" for k, v in measured.items() if k != "seconds"})
    finally:
        bar.close()
    return params, history


def train_classifier(
    model,
    params,
    train,
    valid=None,
    *,
    epochs,
    lr,
    batch_size=32,
    beta=0.9,
    rng,
    augment=None,
    progress=True,
    description="training",
):
    """Train `model(params, x) -> logits` with softmax cross-entropy (see `fit`).

    `train` and `valid` are `(x, y)` pairs. The history has, per epoch, `train_loss` and
    `train_accuracy` per row over the epoch's batches as they were trained, `valid_loss` and
    `valid_accuracy` measured after the epoch, and `seconds`.
    """

    def loss_and_logits(p, x, y):
        logits = model(p, x)
        return tg.softmax_cross_entropy(logits, y), logits

    def correct(logits, batch):
        return {"train_accuracy": int(np.sum(np.argmax(logits, axis=1) == batch[1]))}

    def validate(p):
        loss, acc = nn.evaluate(model, p, *valid)
        return {"valid_loss": loss, "valid_accuracy": acc}

    return fit(
        loss_and_logits,
        params,
        tuple(train),
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        beta=beta,
        rng=rng,
        augment=augment,
        on_batch=correct,
        progress=progress,
        on_epoch=validate if valid is not None else None,
        description=description,
    )
