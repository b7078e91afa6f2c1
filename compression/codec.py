"""What the codec reads: images to compress, and the codes `encode` wrote.

Images are any image file (any size or colour; each becomes a 32 x 32 grey character image the
way the training data looks: dark ink on white) or the rows of a NIST36 `.mat` split. Codes are
an .npz holding one `codes` array of N x 32 (float16 by default: 64 bytes an image).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from skimage import transform

from ocr.letters import to_gray
from ocr.nist36 import SIDE, load_images, stored
from ocr.photos import load_image
from tinygrad_hw.app.arrays import checked_numbers, checked_pixels
from tinygrad_hw.app.cli import UserError
from tinygrad_hw.app.files import load_arrays

from .autoencoder import CODE_SIZE


def read_rows(paths) -> np.ndarray:
    """Rows of 1024 values in [0, 1] (NIST36 layout) from image files or NIST36 .mat files, each
    checked by the project's one pixel check (a NaN, a 0..255 file, no rows: one line naming it)."""
    rows = []
    for path in map(Path, paths):
        if not path.exists():
            raise UserError(f"{path}: no such file")
        if path.suffix.lower() == ".mat":
            rows.append(load_images(path))
        else:
            image = transform.resize(to_gray(load_image(path)), (SIDE, SIDE), anti_aliasing=True)
            rows.append(checked_pixels(stored(image)[None], path))
    return np.concatenate(rows).astype(np.float32)


def load_codes(path: Path) -> np.ndarray:
    """The codes of a file written by `encode`, or one line saying what is wrong with it."""
    codes = load_arrays(path).get("codes")
    if codes is None or codes.ndim != 2 or codes.shape[1] != CODE_SIZE:
        raise UserError(f"{path}: expected a 'codes' array of N x {CODE_SIZE} (written by encode)")
    return checked_numbers(codes, path, "codes").astype(np.float32)
