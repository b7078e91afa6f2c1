"""The neural-network toolkit, as plain functions over parameter pytrees: `tinygrad_hw.nn`.

Nothing here holds state: initialisers return fresh parameters, optimisers take parameters,
gradients and their own state and return new ones, layers with running statistics take their
state and return the new one, and batching and dropout take a numpy Generator.

This module holds initialisation, the dense layer, plain SGD and momentum, batching and evaluation;
it gathers the rest under one name:
  * optimisers (`tinygrad_hw.optimizers`): adam, adamw, rmsprop, sgd_momentum and their *_init,
    clip_by_global_norm, global_norm;
  * schedules (`tinygrad_hw.schedules`): constant, cosine, step, warmup, one-cycle;
  * layers (`tinygrad_hw.layers`): layer_norm, batch_norm, dropout, embedding, conv2d with a bias
    and their *_init; and the pooling primitives max_pool2d, avg_pool2d, global_avg_pool.
"""

from __future__ import annotations

import numpy as np

from .layers import (
    batch_norm,
    batch_norm_init,
    conv2d,
    conv2d_init,
    dropout,
    embedding,
    embedding_init,
    layer_norm,
    layer_norm_init,
)
from .optimizers import (
    adam,
    adam_init,
    adamw,
    adamw_init,
    clip_by_global_norm,
    global_norm,
    rmsprop,
    rmsprop_init,
    sgd_momentum,
    sgd_momentum_init,
)
from .primitives import affine, avg_pool2d, global_avg_pool, max_pool2d, sigmoid, softmax_cross_entropy
from .pytree import flatten_like, tree_flatten, tree_map, tree_unflatten
from .schedules import constant_schedule, cosine_schedule, one_cycle_schedule, step_schedule, warmup

__all__ = [
    "xavier_uniform", "init_dense", "dense", "accuracy", "sgd", "momentum_init", "momentum",
    "random_batches", "predict", "evaluate",
    "adam", "adam_init", "adamw", "adamw_init", "rmsprop", "rmsprop_init", "clip_by_global_norm",
    "global_norm", "sgd_momentum", "sgd_momentum_init",
    "constant_schedule", "cosine_schedule", "step_schedule", "warmup", "one_cycle_schedule",
    "layer_norm", "layer_norm_init", "batch_norm", "batch_norm_init", "dropout", "embedding",
    "embedding_init", "conv2d", "conv2d_init", "max_pool2d", "avg_pool2d", "global_avg_pool",
]  # fmt: skip


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
    if type(params) is dict and type(grads) is dict and params.keys() == grads.keys():
        # The usual parameters, a flat dict of arrays, without flattening: 1.6 us of a 5 us update
        # that runs every training step.
        updated = {}
        for key, p in params.items():
            g = grads[key]
            if type(p) is not np.ndarray or type(g) is not np.ndarray:
                break  # a nested tree: the general path below
            updated[key] = _plus_scaled(p, g, -lr)
        else:
            return updated
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


def predict(model, params, x, batch_size=1024):
    """Logits of `model(params, x)` for every row, computed in batches (no gradients)."""
    return np.concatenate([model(params, x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def evaluate(model, params, x, y, batch_size=1024):
    """Cross-entropy averaged per sample, and accuracy, of a classifier on (x, y)."""
    logits = predict(model, params, x, batch_size)
    return float(softmax_cross_entropy(logits, y)), accuracy(logits, y)
