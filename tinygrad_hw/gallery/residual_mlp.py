"""A residual MLP with layer norm, trained with Adam: three interleaved spirals in the plane.

Each block adds a correction to its input, h + W2 relu(W1 layer_norm(h)): the identity path lets
gradients reach the first layers undiminished, and layer norm keeps every block's input at one
scale (the pre-norm arrangement of transformers).
"""

import numpy as np

from .. import layers, nn
from .. import primitives as tg

OPTIMISER, OPTIMISER_SETTINGS, STEPS, BATCH, CLIP = "adam", {"lr": 0.01}, 300, 128, 5.0
WIDTH, BLOCKS, CLASSES = 32, 2, 3


def data(rng, per_class=200):
    t = rng.uniform(0.2, 1.0, (CLASSES, per_class))
    angle = 4 * t + np.arange(CLASSES)[:, None] * 2 * np.pi / CLASSES + rng.normal(0, 0.15, t.shape)
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=-1).reshape(-1, 2)
    return x, np.repeat(np.arange(CLASSES), per_class)


def init(rng):
    blocks = [
        {
            "norm": layers.layer_norm_init(WIDTH),
            "in": nn.init_dense(rng, WIDTH, WIDTH),
            "out": nn.init_dense(rng, WIDTH, WIDTH),
        }
        for _ in range(BLOCKS)
    ]
    params = {
        "embed": nn.init_dense(rng, 2, WIDTH),
        "blocks": blocks,
        "norm": layers.layer_norm_init(WIDTH),
        "head": nn.init_dense(rng, WIDTH, CLASSES),
    }
    return params, None


def logits(params, x):
    h = nn.dense(params["embed"], x, activation=None)
    for block in params["blocks"]:
        h = h + nn.dense(
            block["out"], nn.dense(block["in"], layers.layer_norm(block["norm"], h), tg.relu), None
        )
    return nn.dense(params["head"], layers.layer_norm(params["norm"], h), activation=None)


def loss(params, state, x, y, rng, training):
    return tg.softmax_cross_entropy(logits(params, x), y), state


def accuracy(params, state, x, y):
    return nn.accuracy(logits(params, x), y)
