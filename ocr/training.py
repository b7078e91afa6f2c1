"""Training the character classifiers: augmentation, the learning-rate sweep, checkpoints.

The loop itself is the engine's `nn.train_classifier`; this module adds what is specific to
characters: random shifts of the training images (the same character a pixel or two off-centre is
still the same character, and seeing it so keeps a small model from memorising pixel positions).
"""

from __future__ import annotations

import numpy as np

SIDE = 32


def shift_images(rng, rows, max_shift=2):
    """The batch's images moved together by up to `max_shift` px along each axis, borders blank."""
    images = rows.reshape(-1, SIDE, SIDE)
    out = np.ones_like(images)  # blank paper
    dy, dx = rng.integers(-max_shift, max_shift + 1, size=2)
    out[:, _dest(dy), _dest(dx)] = images[:, _dest(-dy), _dest(-dx)]
    return out.reshape(len(rows), -1)


def _dest(d):
    """The slice that receives a shift by d along one axis."""
    return slice(max(d, 0), SIDE + min(d, 0))
