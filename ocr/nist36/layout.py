"""How NIST36 stores a character: 36 classes, and each 32 x 32 image as a row of 1024, transposed.

The course's files keep every image as `image.T.ravel()` (column by column), so a row comes
back upright as `row.reshape(32, 32).T`. Everything in the project that makes rows (the embedded
default, the reader's crops, the codec) and everything that draws them goes through `stored` and
`upright` below, so that the convention lives in one place.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np

CLASS_NAMES = tuple(string.ascii_uppercase + string.digits)
SPLITS = ("train", "valid", "test")
SIDE = 32
PIXELS = SIDE * SIDE


def upright(rows) -> np.ndarray:
    """Rows (..., 1024) in the NIST36 storage as images (..., 32, 32) the right way up."""
    rows = np.asarray(rows)
    return rows.reshape(*rows.shape[:-1], SIDE, SIDE).swapaxes(-1, -2)


def stored(images) -> np.ndarray:
    """Upright images (..., 32, 32) as rows (..., 1024) in the NIST36 storage."""
    images = np.asarray(images)
    return images.swapaxes(-1, -2).reshape(*images.shape[:-2], PIXELS)


@dataclass(frozen=True)
class Split:
    """Images as rows (N x 1024, float32, stored transposed) and their class indices (N,)."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self):
        return len(self.y)

    def upright(self, i):
        """Image i as a 32 x 32 array the right way up."""
        return upright(self.x[i])
