"""The small neural-network toolkit, as plain functions over parameter pytrees.

Nothing here holds state: initialisers return fresh parameters, optimisers take parameters,
gradients and their own state and return new ones, and batching takes a numpy Generator.
"""

from __future__ import annotations

import numpy as np

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
