"""`python -m compression encode / decode`: compress images to 32-number codes and back.

encode reads images (any size or colour; each becomes a 32 x 32 grey character image the way the
training data looks: dark ink on white) or the rows of a NIST36 `.mat` split, and writes their
codes to an .npz (float16 by default: 64 bytes an image). decode turns such a file back into
images: an .npz of rows in the NIST36 layout and a PNG sheet of them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from skimage import transform

from ocr.letters import to_gray
from ocr.nist36 import SIDE, load_images, stored, upright
from ocr.photos import load_image
from tinygrad_hw import nn
from tinygrad_hw.app.cli import UserError, message
from tinygrad_hw.app.figures import image_grid
from tinygrad_hw.app.files import load_arrays, save_arrays, save_figure

from .autoencoder import decode, encode, load_autoencoder


def read_rows(paths):
    """Rows of 1024 values in [0, 1] (NIST36 layout) from image files or NIST36 .mat files."""
    rows = []
    for path in map(Path, paths):
        if not path.exists():
            raise UserError(f"{path}: no such file")
        if path.suffix.lower() == ".mat":
            rows.append(load_images(path))
        else:
            image = transform.resize(to_gray(load_image(path)), (SIDE, SIDE), anti_aliasing=True)
            rows.append(stored(image)[None])
    return np.concatenate(rows).astype(np.float32)


def run_encode(args):
    params, _ = load_autoencoder(args.model)
    rows = read_rows(args.inputs)
    codes = nn.predict(encode, params, rows).astype(np.float32 if args.float32 else np.float16)
    save_arrays(args.output, {"codes": codes})
    print(f"{len(rows)} images -> {args.output}: {codes.shape[1]} numbers, {codes[0].nbytes} bytes each")


def run_decode(args):
    params, _ = load_autoencoder(args.model)
    arrays = load_arrays(args.codes)
    codes = arrays.get("codes")
    if codes is None or codes.ndim != 2 or codes.shape[1] != 32:
        raise UserError(f"{args.codes}: expected a 'codes' array of N x 32 (written by encode)")
    rows = nn.predict(decode, params, codes.astype(np.float32))
    args.out.mkdir(parents=True, exist_ok=True)
    save_arrays(args.out / "decoded.npz", {"rows": rows})
    save_figure(args.out / "decoded.png", _sheet(rows))
    print(f"{len(rows)} codes -> {args.out / 'decoded.npz'} and decoded.png")
    message("rows are in the NIST36 layout: row.reshape(32, 32).T is upright")


def _sheet(rows):
    """The first 100 decoded images, upright, ten to a line."""
    return image_grid(upright(rows[:100]), columns=10, cell=(0.6, 0.6))
