"""`python -m ocr demo`: the main job, end to end, on whatever this machine has.

Without data it trains the OCR model on the embedded default (unless one is already trained),
writes a page of handwriting-like text whose content it knows, reads it, and prints the text
and its character error rate. With a data dir it trains on the real NIST36 data and reads the
sample photos in `<data dir>/images` instead, scoring each against the text beside it (a data dir
without that folder is an error, not a quiet fall back to the generated page).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tinygrad_hw.app.cli import UserError, message
from tinygrad_hw.app.files import write_json

from ..model_store import classifier, load_model
from ..page import make_page, random_text
from ..reading import read
from ..scoring import character_errors
from .read import evaluate_photos, model_for_reading, photos_to_evaluate, write_figures


def run(*, model: Path | None, data_dir: Path | None, out: Path, seed: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if data_dir is not None:
        if not (data_dir / "images").is_dir():
            raise UserError(
                f"{data_dir / 'images'}: no such folder; with a data folder the demo reads the sample "
                "photos there (without --data-dir or $TINYGRAD_HW_DATA it reads a generated page)"
            )
        message(f"reading the sample photos in {data_dir / 'images'}")
        photos = photos_to_evaluate(data_dir / "images")
        evaluate_photos(photos, model_for_reading(model, data_dir, seed), out)
        return
    path = model_for_reading(model, data_dir, seed)
    classify = classifier(*load_model(path)[:2])
    rng = np.random.default_rng(seed)
    truth = random_text(rng)
    page = make_page(rng, truth)
    start = time.perf_counter()
    reading = read(page, classify)
    seconds = time.perf_counter() - start
    errors, length = character_errors(reading.text, truth)
    print("written on the page:")
    print(truth)
    print("\nread back:")
    print(reading.text)
    print(
        f"\ncharacter error rate {errors / length:.3f} ({errors} of {length} characters) in {seconds:.2f} s"
    )
    write_figures(out, "page", page, reading)
    metrics = {
        "model": str(path),
        "truth": truth,
        "text": reading.text,
        "cer": errors / length,
        "seconds": seconds,
    }
    write_json(out / "metrics.json", metrics)
