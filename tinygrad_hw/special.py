"""scipy.special's counterparts: the error and Gamma function families, logit and expit, logsumexp."""

from .primitives.activations import sigmoid as expit
from .primitives.elementwise import digamma, erf, erfc, erfinv, gamma, gammaln, logit, polygamma, psi
from .primitives.reductions import logsumexp

__all__ = [
    "erf",
    "erfc",
    "erfinv",
    "gamma",
    "gammaln",
    "digamma",
    "psi",
    "polygamma",
    "logit",
    "expit",
    "logsumexp",
]
