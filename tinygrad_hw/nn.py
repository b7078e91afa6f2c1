"""The small neural-network toolkit, as plain functions over parameter pytrees.

Nothing here holds state: initialisers return fresh parameters, optimisers take parameters,
gradients and their own state and return new ones, and batching takes a numpy Generator.
"""

from __future__ import annotations

import time

import numpy as np

from .autodiff import value_and_grad
from .primitives import affine, sigmoid, softmax_cross_entropy
from .pytree import tree_flatten, tree_leaves, tree_map, tree_unflatten


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
    if labels.ndim == 2:
        labels = labels.argmax(axis=1)
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def sgd(params, grads, lr):
    """One step of plain gradient descent: W = W - lr * grad."""
    leaves, treedef = tree_flatten(params)
    return tree_unflatten(treedef, [_plus_scaled(p, g, -lr) for p, g in zip(leaves, tree_leaves(grads))])


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
    """
    if beta == 0:
        velocity = tree_map(lambda g: g * -lr, grads)
    else:
        velocity = tree_map(lambda m, g: _plus_scaled(m * beta, g, -lr), velocity, grads)
    return tree_map(lambda p, m: p + m, params, velocity), velocity


def random_batches(rng, x, y, batch_size):
    """Shuffle the rows once and cut them into batches, covering every row exactly once per epoch."""
    if len(x) != len(y):
        raise ValueError(f"random_batches: {len(x)} inputs but {len(y)} labels")
    if batch_size < 1:
        raise ValueError(f"random_batches: batch_size must be at least 1, got {batch_size}")
    order = rng.permutation(len(x))
    return [(x[idx], y[idx]) for idx in np.array_split(order, range(batch_size, len(x), batch_size))]


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


def train_classifier(model, params, train, valid=None, *, epochs, lr, batch_size=32, beta=0.9, rng,
                     augment=None, progress=True, description="training"):  # fmt: skip
    """Train `model(params, x) -> logits` with softmax cross-entropy and momentum SGD.

    `train` and `valid` are `(x, y)` pairs; `lr` is a number or a function of the epoch (counted
    from 0, see `cosine_schedule`); `beta=0` gives plain SGD. Returns the trained
    parameters and a per-epoch history: `train_loss` and `train_accuracy` averaged per sample over
    the epoch's batches as they were trained, `valid_loss` and `valid_accuracy` measured after the
    epoch, and `seconds` (training time so far). Raises TrainingDiverged when the loss stops being
    finite.
    """
    from tqdm import tqdm

    def loss_and_logits(p, x, y):
        logits = model(p, x)
        return softmax_cross_entropy(logits, y), logits

    step = value_and_grad(loss_and_logits, has_aux=True)
    velocity = momentum_init(params)
    history = {k: [] for k in ("train_loss", "train_accuracy", "valid_loss", "valid_accuracy", "seconds")}
    start = time.perf_counter()
    x, y = train
    bar = tqdm(total=epochs * len(x), desc=description, unit="row", unit_scale=True, leave=False,
               disable=None if progress else True)  # fmt: skip
    for epoch in range(1, epochs + 1):
        total_loss, correct = 0.0, 0
        epoch_lr = lr(epoch - 1) if callable(lr) else lr
        for xb, yb in random_batches(rng, x, y, batch_size):
            if augment is not None:
                xb = augment(rng, xb)
            (loss, logits), grads = step(params, xb, yb)
            if not np.isfinite(loss):
                bar.close()
                raise TrainingDiverged(
                    f"the loss became {loss} in epoch {epoch}; try a smaller learning rate"
                )
            params, velocity = momentum(params, grads, velocity, epoch_lr, beta)
            total_loss += float(loss) * len(xb)
            correct += int(np.sum(np.argmax(logits, axis=1) == yb))
            bar.update(len(xb))
        history["train_loss"].append(total_loss / len(x))
        history["train_accuracy"].append(correct / len(x))
        history["seconds"].append(time.perf_counter() - start)
        if valid is not None:
            valid_loss, valid_accuracy = evaluate(model, params, *valid)
            history["valid_loss"].append(valid_loss)
            history["valid_accuracy"].append(valid_accuracy)
            bar.set_postfix(epoch=epoch, valid_acc=f"{valid_accuracy:.3f}")
    bar.close()
    return params, history
