"""The autoencoder, as plain functions on the engine: 1024 -> 32 -> 32 -> 32 -> 1024.

Three ReLU layers and a sigmoid output; the 32 numbers after the second layer are the code an
image is compressed to. `encode` stops there, `decode` starts there, and the loss is the total
squared error between an image and its reconstruction. Checkpoints are the project's one format
(`tinygrad_hw.app.checkpoint`), checked against these layers' shapes when loaded.
"""

from __future__ import annotations

import numpy as np

import tinygrad_hw as tg
from tinygrad_hw import nn
from tinygrad_hw.app.checkpoint import load_checkpoint
from tinygrad_hw.app.training import fit

SIZES = (1024, 32, 32, 32, 1024)
LAYERS = ("encode1", "encode2", "decode1", "decode2")
CODE_SIZE = SIZES[2]  # the numbers an image is compressed to


def init_autoencoder(rng, dtype=np.float32):
    """Xavier-initialised layers, named for the half of the network they belong to."""
    return {
        name: nn.init_dense(rng, n_in, n_out, dtype) for name, n_in, n_out in zip(LAYERS, SIZES, SIZES[1:])
    }


def encode(params, x):
    """The 32-number code of each row of x."""
    h = nn.dense(params["encode1"], x, tg.relu)
    return nn.dense(params["encode2"], h, tg.relu)


def decode(params, code):
    """Images (rows of 1024 values in [0, 1]) from their codes."""
    h = nn.dense(params["decode1"], code, tg.relu)
    return nn.dense(params["decode2"], h, tg.sigmoid)


def autoencoder(params, x):
    return decode(params, encode(params, x))


def loss(params, x):
    """Total squared error of the reconstruction, summed over the batch."""
    return tg.sum_squared_error(autoencoder(params, x), x)


def train_autoencoder(x, *, epochs, lr=3e-5, batch_size=36, seed=0, description="training the autoencoder"):
    """Initialise from `seed` and train on the rows of `x` with momentum 0.9: (params, history).

    The loss of a batch is its total squared error, so `lr` is small (3e-5 for batches of 36).
    Raises `TrainingDiverged` when the loss stops being finite.
    """
    rng = np.random.default_rng(seed)
    return fit(
        loss,
        init_autoencoder(rng),
        (x,),
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        beta=0.9,
        rng=rng,
        loss_is_sum=True,
        description=description,
    )


def count_parameters(params) -> int:
    return int(sum(leaf.size for leaf in tg.tree_leaves(params)))


def load_autoencoder(path):
    """(params, info) from a checkpoint; a missing layer or a wrong shape is one clear line."""
    return load_checkpoint(path, lambda info: init_autoencoder(np.random.default_rng(0)))
