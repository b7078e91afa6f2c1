"""Example inputs for gradient checks.

Each primitive's `sample(draw)` asks a *draw* for shapes and arrays and returns `(args, params)`.
The draw decides where the randomness comes from: `RandomDraw` below uses a seeded numpy generator
(used by `check_primitive`), and the test suite supplies one backed by hypothesis, so the same
recipes get shrinking and edge-case shapes for free. The engine itself never imports hypothesis.

Values are always drawn from a numpy generator: gradient checks need values in a sensible range,
away from kinks (relu at 0) and ties (max pooling), which a recipe asks for explicitly.
"""

from __future__ import annotations

import numpy as np


class RandomDraw:
    """Shapes and arrays from a seeded numpy generator."""

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)

    def integer(self, low, high):
        """An int in [low, high]."""
        return int(self.rng.integers(low, high + 1))

    def choice(self, options):
        return options[self.integer(0, len(options) - 1)]

    def shape(self, min_dims=0, max_dims=3, min_side=1, max_side=4):
        ndim = self.integer(min_dims, max_dims)
        return tuple(self.integer(min_side, max_side) for _ in range(ndim))

    def broadcastable_shapes(self, count, min_dims=0, max_dims=3, max_side=4):
        """`count` shapes that broadcast together, with size-1 axes and missing leading axes."""
        base = self.shape(min_dims, max_dims, 1, max_side)
        shapes = []
        for _ in range(count):
            dropped = self.integer(0, len(base))
            shapes.append(tuple(1 if self.integer(0, 3) == 0 else n for n in base[dropped:]))
        return shapes

    def array(self, shape, low=-2.0, high=2.0, away_from=None, margin=0.1):
        """Floats uniform in [low, high], optionally kept `margin` away from the value `away_from`."""
        return _values(self.rng, shape, low, high, away_from, margin)

    def distinct(self, shape, spacing=0.1):
        """Floats that differ pairwise by at least `spacing` (no ties for max and argmax)."""
        return _distinct(self.rng, shape, spacing)


def _values(rng, shape, low, high, away_from, margin):
    x = rng.uniform(low, high, size=shape)
    if away_from is not None:
        near = np.abs(x - away_from) < margin
        x = np.where(near, away_from + np.where(x >= away_from, margin, -margin), x)
    return x


def _distinct(rng, shape, spacing):
    n = int(np.prod(shape, dtype=int))
    return (rng.permutation(n) * spacing - n * spacing / 2).reshape(shape).astype(np.float64)
