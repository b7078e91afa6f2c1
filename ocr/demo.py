"""`python -m ocr demo`: the main job, end to end, on whatever this machine has.

Without data it trains the OCR model on the embedded default (unless one is already trained),
writes a page of handwriting-like text whose content it knows, reads it, and prints the text
and its character error rate. With a data dir it trains on the real NIST36 data and reads the
sample photos in `<data dir>/images` instead, scoring each against the text beside it.
"""

from __future__ import annotations

import time

import numpy as np

from tinygrad_hw.app.cli import message
from tinygrad_hw.app.files import save_figure, write_json

from .model_store import load_model
from .models import MODELS
from .page import make_page, random_text
from .read_command import boxes_figure, crops_figure, run_eval
from .reading import read
from .scoring import character_errors


def run(args):
    args.out.mkdir(parents=True, exist_ok=True)
    if args.data_dir is not None and (args.data_dir / "images").is_dir():
        args.images = args.data_dir / "images"
        message(f"reading the sample photos in {args.images}")
        run_eval(args)
        return
    name, params, checkpoint = load_model(args.model, args.data_dir, args.seed)
    rng = np.random.default_rng(args.seed)
    truth = random_text(rng)
    page = make_page(rng, truth)
    start = time.perf_counter()
    text, boxes, rows, predicted = read(page, MODELS[name][1], params)
    seconds = time.perf_counter() - start
    errors, length = character_errors(text, truth)
    print("written on the page:")
    print(truth)
    print("\nread back:")
    print(text)
    print(
        f"\ncharacter error rate {errors / length:.3f} ({errors} of {length} characters) in {seconds:.2f} s"
    )
    save_figure(args.out / "page_boxes.png", boxes_figure(page, boxes, predicted))
    save_figure(args.out / "page_crops.png", crops_figure(rows, predicted))
    write_json(args.out / "metrics.json", {"model": str(checkpoint), "truth": truth, "text": text,
                                           "cer": errors / length, "seconds": seconds})  # fmt: skip
    message(f"wrote page_boxes.png, page_crops.png and metrics.json to {args.out}")
