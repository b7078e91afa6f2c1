"""The small neural-network toolkit, as plain functions over parameter pytrees.

Nothing here holds state: initialisers return fresh parameters, optimisers take parameters,
gradients and their own state and return new ones, and batching takes a numpy Generator.
"""

from __future__ import annotations

import time

import numpy as np

from .autodiff import value_and_grad
from .primitives import affine, sigmoid, softmax_cross_entropy
from .pytree import flatten_like, tree_flatten, tree_map, tree_unflatten


def xavier_uniform(rng, n_in, n_out, dtype=np.float64):
    """An (n_in, n_out) matrix uniform in [-a, a] with a = sqrt(6 / (n_in + n_out)).

    The variance a^2 / 3 = 2 / (n_in + n_out) keeps activations and gradients at a similar scale
    from layer to layer (Glorot and Bengio, 2010).
    """
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_in, n_out)).astype(dtype)


def init_dense(rng, n_in, n_out, dtype=np.float64):
    """Parameters of a dense layer: Xavier-uniform weights `W` and zero biases `b`."""
    return {"W": xavier_uniform(rng, n_in, n_out, dtype), "b": np.zeros(n_out, dtype=dtype)}


def dense(params, x, activation=sigmoid):
    """activation(x W + b); pass `activation=None` for the affine map alone (e.g. logits)."""
    z = affine(x, params["W"], params["b"])
    return z if activation is None else activation(z)


def accuracy(logits, labels):
    """Fraction of rows whose largest logit is the label (integer or one-hot labels)."""
    labels = np.asarray(labels)
    if len(labels) == 0:
        raise ValueError("accuracy: no rows (an empty batch has no accuracy)")
    if labels.ndim == 2:
        labels = labels.argmax(axis=1)
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def sgd(params, grads, lr):
    """One step of plain gradient descent: W = W - lr * grad (grads matched to params by key)."""
    leaves, treedef = tree_flatten(params)
    return tree_unflatten(
        treedef, [_plus_scaled(p, g, -lr) for p, g in zip(leaves, flatten_like(treedef, grads))]
    )


def _plus_scaled(p, g, scale):
    """p + scale * g as a new array, with one temporary instead of two (the update is memory-bound)."""
    out = g * scale
    out += p
    return out


def momentum_init(params):
    """Momentum accumulators: zeros shaped like the parameters."""
    return tree_map(np.zeros_like, params)


def momentum(params, grads, velocity, lr, beta=0.9):
    """One step of gradient descent with momentum: M = beta M - lr grad; W = W + M.

    Returns the new parameters and the new accumulators. With beta = 0 this is plain SGD.
    (One flattening of each tree per step: on small models the tree walks cost as much as the
    arithmetic.)
    """
    p_leaves, treedef = tree_flatten(params)
    g_leaves = flatten_like(treedef, grads)
    if beta == 0:
        m_leaves = [g * -lr for g in g_leaves]
    else:
        m_leaves = [_plus_scaled(m * beta, g, -lr) for m, g in zip(flatten_like(treedef, velocity), g_leaves)]
    new_params = [p + m for p, m in zip(p_leaves, m_leaves)]
    return tree_unflatten(treedef, new_params), tree_unflatten(treedef, m_leaves)


def random_batches(rng, *arrays, batch_size):
    """Shuffle the rows once and cut them into batches, covering every row exactly once per epoch.

    Several arrays (inputs and labels) are cut alike; each batch is a tuple with one slice of each.
    """
    rows = len(arrays[0])
    if any(len(a) != rows for a in arrays):
        raise ValueError(f"random_batches: arrays of {', '.join(str(len(a)) for a in arrays)} rows")
    if batch_size < 1:
        raise ValueError(f"random_batches: batch_size must be at least 1, got {batch_size}")
    order = rng.permutation(rows)
    return [
        tuple(a[idx] for a in arrays) for idx in np.array_split(order, range(batch_size, rows, batch_size))
    ]


# -- training a classifier ---------------------------------------------------------------------


class TrainingDiverged(ArithmeticError):
    """The loss stopped being a finite number; the parameters are not worth keeping."""


def cosine_schedule(lr, epochs):
    """Learning rate for each epoch, falling from `lr` to near 0 along half a cosine.

    Large steps early explore; small steps late settle into a minimum instead of bouncing around it.
    """
    return lambda epoch: lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))


def predict(model, params, x, batch_size=1024):
    """Logits of `model(params, x)` for every row, computed in batches (no gradients)."""
    return np.concatenate([model(params, x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def evaluate(model, params, x, y, batch_size=1024):
    """Cross-entropy averaged per sample, and accuracy, of a classifier on (x, y)."""
    logits = predict(model, params, x, batch_size)
    return float(softmax_cross_entropy(logits, y)), accuracy(logits, y)


def fit(loss_fn, params, data, *, epochs, lr, batch_size=32, beta=0.9, rng, loss_is_sum=False,
          augment=None, on_batch=None, on_epoch=None, progress=True, description="training"):  # fmt: skip
    """Minimise `loss_fn(params, *batch)` with momentum SGD over `data`, a tuple of arrays.

    Each epoch cuts the rows of `data` into random batches. `lr` is a number or a function of the
    epoch (from 0, see `cosine_schedule`); `beta=0` gives plain SGD; `augment(rng, x)` alters the
    first array of each batch. `loss_fn` may return `(loss, aux)` when `on_batch` is given:
    `on_batch(aux, batch)` returns a dict of per-batch sums (e.g. correct predictions), reported per
    row. `on_epoch(params)` returns a dict of measurements taken after each epoch. The history has,
    per epoch, `train_loss` per row (`loss_is_sum`: the loss adds up its rows, as a total squared
    error does; otherwise it is their mean), those sums and measurements, and `seconds` so far.
    Raises TrainingDiverged when the loss stops being finite (numpy's overflow warnings on the way
    there are silenced: the divergence itself is reported).
    """
    from tqdm import tqdm

    step = value_and_grad(loss_fn, has_aux=on_batch is not None)
    velocity = momentum_init(params)
    history = {"train_loss": [], "seconds": []}
    start = time.perf_counter()
    rows = len(data[0])
    bar = tqdm(total=epochs * rows, desc=description, unit="row", unit_scale=True, leave=False,
               disable=None if progress else True)  # fmt: skip
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            for epoch in range(epochs):
                epoch_lr = lr(epoch) if callable(lr) else lr
                total, sums = 0.0, {}
                for batch in random_batches(rng, *data, batch_size=batch_size):
                    if augment is not None:
                        batch = (augment(rng, batch[0]), *batch[1:])
                    value, grads = step(params, *batch)
                    loss = value[0] if on_batch is not None else value
                    if not np.isfinite(loss):
                        raise TrainingDiverged(
                            f"the loss became {loss} in epoch {epoch + 1}; try a smaller learning rate"
                        )
                    params, velocity = momentum(params, grads, velocity, epoch_lr, beta)
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


def train_classifier(model, params, train, valid=None, *, epochs, lr, batch_size=32, beta=0.9, rng,
                     augment=None, progress=True, description="training"):  # fmt: skip
    """Train `model(params, x) -> logits` with softmax cross-entropy (see `fit`).

    `train` and `valid` are `(x, y)` pairs. The history has, per epoch, `train_loss` and
    `train_accuracy` per row over the epoch's batches as they were trained, `valid_loss` and
    `valid_accuracy` measured after the epoch, and `seconds`.
    """

    def loss_and_logits(p, x, y):
        logits = model(p, x)
        return softmax_cross_entropy(logits, y), logits

    def correct(logits, batch):
        return {"train_accuracy": int(np.sum(np.argmax(logits, axis=1) == batch[1]))}

    def validate(p):
        loss, acc = evaluate(model, p, *valid)
        return {"valid_loss": loss, "valid_accuracy": acc}

    return fit(loss_and_logits, params, tuple(train), epochs=epochs, lr=lr, batch_size=batch_size,
               beta=beta, rng=rng, augment=augment, on_batch=correct, progress=progress,
               on_epoch=validate if valid is not None else None, description=description)  # fmt: skip
