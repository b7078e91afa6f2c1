"""A character-level tanh RNN: read a short text one character at a time, predict the next one.

h_t = tanh(x_t W_xh + h_(t-1) W_hh + b_h), logits_t = h_t W_hy + b_y, over windows of the text.
The loss is the mean cross-entropy of the next character over the window; its gradient flows back
through every step of the recurrence (backpropagation through time), and clipping its global norm
keeps the occasional exploding step in check.
"""

import numpy as np

from .. import nn
from .. import primitives as tg

OPTIMISER, OPTIMISER_SETTINGS, STEPS, BATCH, CLIP = "adam", {"lr": 0.02}, 200, 32, 1.0
TEXT = "the quick brown fox jumps over the lazy dog. " * 4
VOCABULARY = sorted(set(TEXT))
HIDDEN, WINDOW = 48, 12


def data(rng):
    codes = np.array([VOCABULARY.index(c) for c in TEXT])
    starts = np.arange(len(codes) - WINDOW - 1)
    x = np.stack([codes[s : s + WINDOW] for s in starts])
    y = np.stack([codes[s + 1 : s + WINDOW + 1] for s in starts])
    return x, y


def init(rng):
    v = len(VOCABULARY)
    params = {
        "W_xh": rng.normal(0, 0.1, (v, HIDDEN)),
        "W_hh": np.eye(HIDDEN) * 0.5 + rng.normal(0, 0.05, (HIDDEN, HIDDEN)),
        "b_h": np.zeros(HIDDEN),
        "out": nn.init_dense(rng, HIDDEN, v),
    }
    return params, None


def step_logits(params, x):
    """The logits for every position of every window: (windows, WINDOW, vocabulary)."""
    h = np.zeros((x.shape[0], HIDDEN))
    outputs = []
    for t in range(x.shape[1]):
        h = tg.tanh(params["W_xh"][x[:, t]] + h @ params["W_hh"] + params["b_h"])
        outputs.append(nn.dense(params["out"], h, activation=None))
    return tg.stack(outputs, axis=1)


def loss(params, state, x, y, rng, training):
    logits = step_logits(params, x)
    v = len(VOCABULARY)
    return tg.softmax_cross_entropy(tg.reshape(logits, (-1, v)), y.reshape(-1)), state


def accuracy(params, state, x, y):
    return float(np.mean(np.argmax(step_logits(params, x), axis=-1) == y))
