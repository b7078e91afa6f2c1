"""PCA by singular value decomposition: the linear baseline for the autoencoder.

The rows of x, centred on their mean, factor as U S V^T; the first k rows of V^T are the
directions of largest variance. Projecting onto them keeps k numbers per image (the code), and
mapping the code back gives the best reconstruction any rank-k linear map can give, in squared
error, on the data it was fitted to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PCA:
    mean: np.ndarray  # (1024,)
    components: np.ndarray  # (k, 1024): the projection matrix, orthonormal rows

    def encode(self, x):
        return (x - self.mean) @ self.components.T

    def decode(self, code):
        return code @ self.components + self.mean

    def reconstruct(self, x):
        return self.decode(self.encode(x))

    @property
    def parameters(self) -> int:
        return int(self.components.size + self.mean.size)

    def first(self, k) -> PCA:
        """The PCA of the first k of these components (what fit_pca(x, k) gives, without a new SVD)."""
        if not 0 < k <= len(self.components):
            raise ValueError(f"PCA: k must be between 1 and {len(self.components)}, got {k}")
        return PCA(self.mean, self.components[:k])


def fit_pca(x, k) -> PCA:
    """The first k principal components of the rows of x (k at most min(x.shape), the SVD's)."""
    mean = x.mean(axis=0)
    _, _, vt = np.linalg.svd(np.asarray(x - mean, dtype=np.float64), full_matrices=False)
    return PCA(mean.astype(np.float64), vt).first(k)
