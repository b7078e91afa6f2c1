"""Random affine distortions of characters: the same character a little rotated, sheared, scaled.

The embedded default draws its glyphs through such a map, and training pushes every image through
a fresh small one, so that a model learns the character rather than its pixel positions.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .layout import PIXELS, SIDE


def affine_matrices(angle, shear, scale) -> np.ndarray:
    """The 2 x 2 maps (one per angle) from a source offset to an output offset: each axis scaled
    by `scale` (..., 2), then sheared by `shear`, then rotated by `angle` (radians)."""
    cos, sin = np.cos(angle), np.sin(angle)
    ones, zeros = np.ones_like(angle), np.zeros_like(angle)
    rotation = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    shearing = np.stack([np.stack([ones, shear], -1), np.stack([zeros, ones], -1)], -2)
    return rotation @ shearing * scale[..., None, :]


def distort_images(rng, rows, max_shift=2, max_degrees=8, scale_range=0.1, max_shear=0.15):
    """Each image through its own small random affine map: rotation, scale, shear and shift.

    The same handwritten character slants, grows and leans a little from writer to writer; one
    `map_coordinates` call over the whole batch resamples every image with its own map.
    """
    n = len(rows)
    angle = np.deg2rad(rng.uniform(-max_degrees, max_degrees, n))
    shear = rng.uniform(-max_shear, max_shear, n)
    scale = rng.uniform(1 - scale_range, 1 + scale_range, (n, 2))
    forward = affine_matrices(angle, shear, scale)  # source offset -> output offset
    centre = (SIDE - 1) / 2
    grid = np.indices((SIDE, SIDE)).reshape(2, -1) - centre
    shift = rng.integers(-max_shift, max_shift + 1, (n, 2, 1))
    source = np.linalg.inv(forward) @ (grid[None] - shift) + centre  # (n, 2, 1024)
    batch = np.broadcast_to(np.arange(n)[:, None], (n, PIXELS))
    coords = np.stack([batch, source[:, 0], source[:, 1]]).reshape(3, -1)
    out = ndimage.map_coordinates(rows.reshape(n, SIDE, SIDE), coords, order=1, cval=1.0)
    return out.reshape(n, -1).astype(rows.dtype)
