"""The one check of arrays read from users' files: numbers, finite, not empty, pixels in [0, 1].

Every loader of the project (NIST36 `.mat` files, image files, codes, cached datasets) passes what
it read through `checked_numbers` or `checked_pixels`, so that a file of strings, of NaN, of no
rows, or of 8-bit levels (0..255) where 0..1 is expected is one line naming the file, never a
traceback and never a model trained silently on the wrong scale.
"""

from __future__ import annotations

import numpy as np

from .errors import UserError

PIXEL_SLACK = 1e-3  # rounding of stored or resampled values just outside [0, 1] is clipped, not refused


def checked_numbers(values, source, what="values") -> np.ndarray:
    """`values` as a non-empty array of finite real numbers, or a UserError naming `source`.

    A sparse matrix (as scipy reads from a `.mat` file) is made dense; booleans, complex numbers,
    strings and objects are refused.
    """
    if hasattr(values, "toarray"):  # scipy.sparse, without importing scipy here
        values = values.toarray()
    values = np.asarray(values)
    kind = values.dtype.kind
    if kind not in "fiu":
        described = {"b": "booleans", "c": "complex numbers", "U": "text", "S": "bytes", "O": "objects"}
        raise UserError(f"{source}: the {what} hold {described.get(kind, values.dtype)}, not real numbers")
    if values.size == 0:
        raise UserError(f"{source}: no {what} (shape {values.shape})")
    if kind == "f" and not np.all(np.isfinite(values)):
        count = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        raise UserError(
            f"{source}: {count} of the {values.size} values of the {what} are not finite numbers "
            "(NaN or infinity)"
        )
    return values


def checked_pixels(values, source, what="pixels") -> np.ndarray:
    """Grey levels as float32 in [0, 1] (0 black, 1 white), or a UserError saying what is wrong.

    Values on another scale are refused rather than guessed at: 0..255 is named as 8-bit levels
    (divide by 255), anything else by its range.
    """
    values = checked_numbers(values, source, what)
    low, high = float(values.min()), float(values.max())
    if low < -PIXEL_SLACK or high > 1 + PIXEL_SLACK:
        hint = " (8-bit levels? divide by 255)" if low >= 0 and high <= 255 else ""
        raise UserError(f"{source}: the {what} run from {low:g} to {high:g}, not 0 to 1{hint}")
    return np.clip(values, 0, 1).astype(np.float32, copy=False)
