"""`python -m compression encode / decode`: images to 32-number codes, and codes back to images.

decode writes the images as an .npz of rows in the NIST36 layout and a PNG sheet of them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinygrad_hw import nn
from tinygrad_hw.app.cli import UserError, message
from tinygrad_hw.app.files import save_arrays, save_figure

from .. import figures
from ..autoencoder import decode, encode, load_autoencoder
from ..codec import load_codes, read_rows


def run_encode(*, inputs: list[Path], model: Path, output: Path, float32: bool) -> None:
    if output.resolve() in {Path(p).resolve() for p in [*inputs, model]}:
        raise UserError(f"--output {output}: is one of the inputs; write the codes to another file")
    rows = read_rows(inputs)
    params, _ = load_autoencoder(model)
    codes = nn.predict(encode, params, rows).astype(np.float32 if float32 else np.float16)
    if not np.all(np.isfinite(codes)):  # float16 overflows past 65504
        raise UserError("some codes overflow float16 (over 65504); use --float32; nothing was written")
    save_arrays(output, {"codes": codes})
    print(f"{len(rows)} images -> {output}: {codes.shape[1]} numbers, {codes[0].nbytes} bytes each")


def run_decode(*, codes: Path, model: Path, out: Path) -> None:
    params, _ = load_autoencoder(model)
    rows = nn.predict(decode, params, load_codes(codes))
    out.mkdir(parents=True, exist_ok=True)
    save_arrays(out / "decoded.npz", {"rows": rows})
    save_figure(out / "decoded.png", figures.decoded(rows))
    print(f"{len(rows)} codes -> decoded.npz and decoded.png")
    message("rows are in the NIST36 layout: row.reshape(32, 32).T is upright")
