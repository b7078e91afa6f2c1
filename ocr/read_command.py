"""`python -m ocr read` and `python -m ocr eval`: read photos of handwriting, and score the reading."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image, UnidentifiedImageError

from tinygrad_hw.app.cli import UserError, message
from tinygrad_hw.app.figures import image_grid
from tinygrad_hw.app.files import save_figure, write_json

from .model_store import load_model
from .models import MODELS
from .nist36 import upright
from .reading import read
from .scoring import character_errors

MIN_SIDE = 16  # pixels: anything smaller cannot hold a legible character
MAX_PIXELS = 80_000_000  # a 80-megapixel page is far beyond any phone photo; refuse, don't thrash
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".gif", ".webp"}


def load_image(path: Path) -> np.ndarray:
    """The pixels of an image file, or UserError in one line saying why not (never modifies it)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path}: is a folder, not an image")
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_PIXELS:
                raise UserError(
                    f"{path}: {image.width} x {image.height} pixels is too large (limit 80 megapixels)"
                )
            if min(image.width, image.height) < MIN_SIDE:
                raise UserError(f"{path}: {image.width} x {image.height} pixels is too small to hold text")
            pixels = np.asarray(image.convert("RGBA" if "A" in image.getbands() else "RGB"))
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise UserError(f"{path}: not an image this reader understands") from None
    except OSError as error:
        raise UserError(f"{path}: unreadable image ({error})") from None
    return pixels


def labelled_photos(folder: Path) -> list[tuple[str, np.ndarray, str]]:
    """[(file name, pixels, true text)] of the photos in `folder` that have a .txt of their text."""
    pairs = [(p, p.with_suffix(".txt")) for p in sorted(Path(folder).iterdir())
             if p.suffix.lower() in IMAGE_SUFFIXES and p.with_suffix(".txt").exists()]  # fmt: skip
    return [(image.name, load_image(image), text.read_text()) for image, text in pairs]


def read_file(path, name, params):
    """Read one image file: its text and what the figures need."""
    image = load_image(path)
    start = time.perf_counter()
    text, boxes, rows, predicted = read(image, MODELS[name][1], params)
    return {"image": image, "text": text, "boxes": boxes, "rows": rows, "predicted": predicted,
            "seconds": time.perf_counter() - start}  # fmt: skip


def run_read(args):
    args.out.mkdir(parents=True, exist_ok=True)
    name, params, checkpoint = load_model(args.model, args.data_dir, args.seed)
    results, failures = [], 0
    for path in args.images:
        try:
            result = read_file(path, name, params)
        except UserError as error:
            message(f"error: {error}")
            failures += 1
            continue
        if len(args.images) > 1:
            print(f"== {path} ==")
        print(result["text"], flush=True)
        _write_figures(args.out, Path(path), result)
        results.append({"image": str(path), "text": result["text"], "characters": len(result["boxes"]),
                        "seconds": result["seconds"]})  # fmt: skip
    write_json(args.out / "metrics.json", {"model": str(checkpoint), "images": results})
    message(f"wrote boxes and crops figures and metrics.json to {args.out}")
    if failures:
        raise SystemExit(2)


def run_eval(args):
    folder = args.images or (args.data_dir / "images" if args.data_dir else None)
    if folder is None:
        raise UserError("no images to evaluate: give --images DIR (or --data-dir with an images/ folder)")
    if not Path(folder).is_dir():
        raise UserError(f"{folder}: no such folder")
    pairs = [(p, p.with_suffix(".txt")) for p in sorted(Path(folder).iterdir())
             if p.suffix.lower() in IMAGE_SUFFIXES and p.with_suffix(".txt").exists()]  # fmt: skip
    if not pairs:
        raise UserError(f"{folder}: no image with a .txt of its text beside it")
    args.out.mkdir(parents=True, exist_ok=True)
    name, params, checkpoint = load_model(args.model, args.data_dir, args.seed)
    rows, total_errors, total_chars = [], 0, 0
    for image_path, text_path in pairs:
        result = read_file(image_path, name, params)
        errors, length = character_errors(result["text"], text_path.read_text())
        total_errors, total_chars = total_errors + errors, total_chars + length
        rows.append({"image": image_path.name, "cer": errors / max(length, 1), "errors": errors,
                     "characters": length, "seconds": result["seconds"], "text": result["text"]})  # fmt: skip
        _write_figures(args.out, image_path, result)
    overall = total_errors / max(total_chars, 1)
    print(f"model: {checkpoint} ({name})")
    print("| image | CER | errors / characters | seconds |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['image']} | {r['cer']:.3f} | {r['errors']} / {r['characters']} | {r['seconds']:.2f} |")
    print(f"| overall | {overall:.3f} | {total_errors} / {total_chars} | "
          f"{np.mean([r['seconds'] for r in rows]):.2f} per photo |")  # fmt: skip
    summary = {"model": str(checkpoint), "model_kind": name, "cer": overall, "errors": total_errors,
               "characters": total_chars, "images": rows}  # fmt: skip
    write_json(args.out / "metrics.json", summary)
    return overall


def _write_figures(out, path, result):
    stem = path.stem
    save_figure(
        out / f"{stem}_boxes.png", boxes_figure(result["image"], result["boxes"], result["predicted"])
    )
    save_figure(out / f"{stem}_crops.png", crops_figure(result["rows"], result["predicted"]))


def boxes_figure(image, boxes, predicted):
    """The photo with each box and its predicted character drawn on it."""
    h, w = image.shape[:2]
    fig = Figure(figsize=(10, 10 * h / w))
    ax = fig.subplots()
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
    size = max(6, min(16, 600 / max(len(boxes), 1) ** 0.5))
    for (y1, x1, y2, x2), char in zip(boxes, predicted):
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color="red", linewidth=1))
        ax.text(x1, y1, char, color="blue", fontsize=size, va="bottom", fontweight="bold")
    ax.axis("off")
    return fig


def crops_figure(rows, predicted):
    """Every 32 x 32 crop the classifier saw, upright, titled with its prediction."""
    return image_grid(upright(rows), titles=predicted)
