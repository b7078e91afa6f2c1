"""A CNN with batch norm, trained with momentum SGD: which way do the bars in a noisy image run?

8 x 8 images hold a horizontal, a vertical or a diagonal bar at a random place, in noise. Two
3 x 3 convolutions, each followed by batch norm and relu (the first also by 2 x 2 max pooling),
then global average pooling and a linear layer. Batch norm's running statistics are state: the
loss returns them updated, and evaluation uses them.
"""

import numpy as np

from .. import layers, nn
from .. import primitives as tg

OPTIMISER, OPTIMISER_SETTINGS, STEPS, BATCH, CLIP = "adam", {"lr": 0.01}, 120, 32, 5.0
SIDE, CLASSES = 8, 3


def data(rng, n=300):
    y = rng.integers(0, CLASSES, n)
    x = rng.normal(0, 0.3, (n, 1, SIDE, SIDE))
    for i, label in enumerate(y):
        r, c = rng.integers(1, SIDE - 1, 2)
        if label == 0:
            x[i, 0, r, :] += 1.0
        elif label == 1:
            x[i, 0, :, c] += 1.0
        else:
            x[i, 0] += np.eye(SIDE, k=int(c) - SIDE // 2)
    return x, y


def init(rng):
    bn1, state1 = layers.batch_norm_init(8)
    bn2, state2 = layers.batch_norm_init(16)
    params = {
        "conv1": layers.conv2d_init(rng, 1, 8, 3),
        "bn1": bn1,
        "conv2": layers.conv2d_init(rng, 8, 16, 3),
        "bn2": bn2,
        "head": nn.init_dense(rng, 16, CLASSES),
    }
    return params, {"bn1": state1, "bn2": state2}


def forward(params, state, x, training):
    h = layers.conv2d(params["conv1"], x, padding=1)
    h, bn1 = layers.batch_norm(params["bn1"], state["bn1"], h, training)
    h = tg.max_pool2d(tg.relu(h), 2)
    h = layers.conv2d(params["conv2"], h, padding=1)
    h, bn2 = layers.batch_norm(params["bn2"], state["bn2"], h, training)
    features = tg.global_avg_pool(tg.relu(h))
    return nn.dense(params["head"], features, activation=None), {"bn1": bn1, "bn2": bn2}


def loss(params, state, x, y, rng, training):
    logits, state = forward(params, state, x, training)
    return tg.softmax_cross_entropy(logits, y), state


def accuracy(params, state, x, y):
    return nn.accuracy(forward(params, state, x, training=False)[0], y)
