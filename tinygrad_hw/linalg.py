"""numpy.linalg's counterparts: `tinygrad_hw.linalg.inv`, `det`, `slogdet`, `solve` and `norm`."""

from .primitives.linalg import det, inv, logabsdet, slogdet, solve
from .primitives.reductions import norm

__all__ = ["det", "inv", "logabsdet", "slogdet", "solve", "norm"]
