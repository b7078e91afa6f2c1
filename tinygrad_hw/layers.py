"""Layers, as plain functions of their parameters (and state, where they have some).

A layer with running statistics (batch norm) takes its state and returns the new state beside its
output: `y, state = batch_norm(params, state, x, training=True)`. A layer with randomness (dropout)
takes an explicit numpy Generator. Nothing is mutated, nothing is hidden in a module object.
"""

from __future__ import annotations

import numpy as np

from .primitives import conv2d as _conv2d
from .primitives import getitem, mean, reshape, sqrt, var
from .tensor import primal, shape_of

# -- normalisation -----------------------------------------------------------------------------


def layer_norm_init(features, dtype=np.float64):
    """Layer norm's parameters: a scale of ones and a shift of zeros."""
    return {"gamma": np.ones(features, dtype), "beta": np.zeros(features, dtype)}


def layer_norm(params, x, eps=1e-5):
    """Normalise each row over its last axis to mean 0 and variance 1, then scale and shift.

    Per example, so it behaves the same in training and evaluation and at any batch size
    (Ba, Kiros and Hinton, 2016); the usual normalisation of residual networks and transformers.
    """
    centred = x - mean(x, axis=-1, keepdims=True)
    spread = sqrt(mean(centred * centred, axis=-1, keepdims=True) + eps)
    return centred / spread * params["gamma"] + params["beta"]


def batch_norm_init(features, dtype=np.float64):
    """Batch norm's parameters (scale, shift) and state (running mean and variance)."""
    params = {"gamma": np.ones(features, dtype), "beta": np.zeros(features, dtype)}
    state = {"mean": np.zeros(features, dtype), "var": np.ones(features, dtype)}
    return params, state


def batch_norm(params, state, x, training, momentum=0.1, eps=1e-5):
    """Normalise each feature (axis 1: the columns of (N, F), the channels of (N, C, H, W)) over
    the batch, then scale and shift (Ioffe and Szegedy, 2015). Returns `(y, new_state)`.

    Training normalises with the batch's own mean and (biased) variance, and moves the running
    statistics a fraction `momentum` toward them (the variance unbiased, n / (n - 1), as PyTorch).
    Evaluation normalises with the running statistics and leaves the state as it was.
    """
    ndim = len(shape_of(x))
    axes = tuple(a for a in range(ndim) if a != 1)
    feature_shape = (1, -1) + (1,) * (ndim - 2)
    if training:
        n = int(np.prod([shape_of(x)[a] for a in axes]))
        if n < 2:
            raise ValueError("batch_norm: training needs more than one value per feature")
        batch_mean = mean(x, axis=axes, keepdims=True)
        batch_var = var(x, axis=axes, keepdims=True)
        y = (x - batch_mean) / sqrt(batch_var + eps)
        observed_mean = np.reshape(primal(batch_mean), -1)
        observed_var = np.reshape(primal(batch_var), -1) * (n / (n - 1))
        state = {
            "mean": (1 - momentum) * state["mean"] + momentum * observed_mean,
            "var": (1 - momentum) * state["var"] + momentum * observed_var,
        }
    else:
        y = (x - np.reshape(state["mean"], feature_shape)) / np.sqrt(
            np.reshape(state["var"], feature_shape) + eps
        )
    return y * reshape(params["gamma"], feature_shape) + reshape(params["beta"], feature_shape), state


# -- dropout and embeddings --------------------------------------------------------------------


def dropout(rng, x, rate, training=True):
    """Zero each element with probability `rate` and scale the rest by 1 / (1 - rate), so the
    expected output equals the input (inverted dropout); the identity when not training."""
    if not training or rate == 0:
        return x
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
    keep = rng.random(shape_of(x)) >= rate
    return x * (keep / (1 - rate)).astype(primal(x).dtype)


def embedding_init(rng, vocabulary, features, dtype=np.float64):
    """An embedding table: one row of N(0, 1) numbers per token."""
    return rng.standard_normal((vocabulary, features)).astype(dtype)


def embedding(table, ids):
    """The rows of `table` for the integer `ids` (any shape): a lookup whose gradient adds up
    the cotangents of every use of a row."""
    ids = np.asarray(primal(ids))
    if ids.dtype.kind not in "iu":
        raise TypeError(f"embedding: ids must be integers, got {ids.dtype}")
    return getitem(table, ids)


# -- convolution with a bias -------------------------------------------------------------------


def conv2d_init(rng, in_channels, out_channels, kernel, dtype=np.float64):
    """A convolution's filters, He-normal for a ReLU network (std sqrt(2 / fan_in)), and zero biases."""
    fan_in = in_channels * kernel * kernel
    filters = rng.standard_normal((out_channels, in_channels, kernel, kernel)) * np.sqrt(2.0 / fan_in)
    return {"W": filters.astype(dtype), "b": np.zeros(out_channels, dtype)}


def conv2d(params, x, stride=1, padding=0):
    """Convolve NCHW images with params['W'] (F, C, KH, KW) and add params['b'] (F,) per channel
    (the bias fused into the convolution, which adds it in place)."""
    return _conv2d(x, params["W"], params["b"], stride=stride, padding=padding)
