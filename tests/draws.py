"""A hypothesis-backed `draw` for the primitives' `sample` recipes.

Shapes, choices and integers come from hypothesis (so failures shrink to small shapes and the
edge cases of broadcasting, size-1 axes and scalars come up); array values come from a numpy
generator seeded by hypothesis, so they stay in the well-conditioned ranges the recipes ask for.
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_hw.sampling import _distinct, _values


class HypothesisDraw:
    def __init__(self, data):
        self.data = data
        self.rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="value seed"))

    def integer(self, low, high):
        return self.data.draw(st.integers(low, high))

    def choice(self, options):
        return self.data.draw(st.sampled_from(options))

    def shape(self, min_dims=0, max_dims=3, min_side=1, max_side=4):
        return self.data.draw(
            hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)
        )

    def broadcastable_shapes(self, count, min_dims=0, max_dims=3, max_side=4):
        shapes = self.data.draw(
            hnp.mutually_broadcastable_shapes(
                num_shapes=count, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side
            )
        )
        return list(shapes.input_shapes)

    def array(self, shape, low=-2.0, high=2.0, away_from=None, margin=0.1):
        return _values(self.rng, shape, low, high, away_from, margin)

    def distinct(self, shape, spacing=0.1):
        return _distinct(self.rng, shape, spacing)
