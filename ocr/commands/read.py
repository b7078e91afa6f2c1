"""`python -m ocr read` and `python -m ocr eval`: read photos of handwriting, and score the reading."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tinygrad_hw.app.cli import UserError, message
from tinygrad_hw.app.files import save_figure, write_json

from .. import figures
from ..model_store import best_checkpoint, classifier, load_model, train_default
from ..photos import labelled_photos, load_image
from ..reading import read
from ..scoring import overall, score_photos


def run_read(*, images: list[Path], model: Path | None, data_dir: Path | None, out: Path, seed: int) -> int:
    """Print the text of each image (a header line each when there are several); a bad image is
    one line on stderr, the others are still read, and the exit status is then 2. When no image
    could be read, nothing is written."""
    images = [Path(p) for p in images]
    pixels_of, problems = {}, []
    for image_path in images:
        try:
            pixels_of[image_path] = load_image(image_path)
        except UserError as error:
            problems.append(error)
    if not pixels_of and len(images) == 1:
        raise problems[0]
    for problem in problems:
        message(f"error: {problem}")
    if not pixels_of:
        raise UserError(f"none of the {len(images)} images could be read; nothing was written")
    path = model_for_reading(model, data_dir, seed)
    classify = classifier(*load_model(path)[:2])
    stems = figure_stems(list(pixels_of))
    results = []
    for image_path, pixels in pixels_of.items():
        start = time.perf_counter()
        reading = read(pixels, classify)
        seconds = time.perf_counter() - start
        for note in reading.notes:
            message(f"{image_path}: {note}")
        if len(images) > 1:
            print(f"== {image_path} ==")
        print(reading.text, flush=True)
        write_figures(out, stems[image_path], pixels, reading)
        results.append(
            {
                "image": str(image_path),
                "text": reading.text,
                "characters": len(reading.boxes),
                "seconds": seconds,
                "figures": stems[image_path],
                "notes": list(reading.notes),
            }
        )
    failed = [str(p) for p in images if p not in pixels_of]
    write_json(out / "metrics.json", {"model": str(path), "images": results, "unreadable": failed})
    return 2 if failed else 0


def figure_stems(paths: list[Path]) -> dict[Path, str]:
    """A distinct file-name stem for each image's figures: its own stem, followed by -2, -3, ...
    when two inputs share one (photo.jpg and photo.png, or a/scan.jpg and b/scan.jpg)."""
    stems, taken = {}, set()
    for path in paths:
        stem, count = path.stem, 1
        while stem in taken:
            count += 1
            stem = f"{path.stem}-{count}"
        taken.add(stem)
        stems[path] = stem
    return stems


def run_eval(
    *, images: Path | None, model: Path | None, data_dir: Path | None, out: Path, seed: int
) -> float:
    folder = images or (data_dir / "images" if data_dir else None)
    if folder is None:
        raise UserError("no images to evaluate: give --images DIR (or --data-dir with an images/ folder)")
    photos = photos_to_evaluate(folder)
    out.mkdir(parents=True, exist_ok=True)
    return evaluate_photos(photos, model_for_reading(model, data_dir, seed), out)


def model_for_reading(model: Path | None, data_dir: Path | None, seed: int) -> Path:
    """`--model`, else the best checkpoint found, else the default CNN, trained now (and said so)."""
    if model is not None:
        return model
    best = best_checkpoint()
    if best is not None:
        message(f"using the model {best}")
        return best
    how_long = "about a minute" if data_dir is None else "some minutes on 2 cores"
    message(f"no trained model found: training the default CNN first ({how_long})")
    return train_default(data_dir, seed)


def photos_to_evaluate(folder: Path) -> list[tuple[str, np.ndarray, str]]:
    """The labelled photos of `folder`, or one line saying why there are none."""
    if not Path(folder).is_dir():
        raise UserError(f"{folder}: no such folder")
    photos = labelled_photos(folder)
    if not photos:
        raise UserError(f"{folder}: no image with a .txt of its text beside it")
    return photos


def evaluate_photos(photos, model_path: Path, out: Path) -> float:
    """Read each labelled photo with the model and score it: a table on stdout, the figures of
    each photo and metrics.json in `out`. Returns the character error rate over all photos."""
    name, params, _ = load_model(model_path)
    classify = classifier(name, params)
    readings = []

    def read_text(pixels):
        readings.append(read(pixels, classify))
        return readings[-1].text

    scores = score_photos(read_text, photos)
    stems = figure_stems([Path(file_name) for file_name, _, _ in photos])
    for (file_name, pixels, _), reading, score in zip(photos, readings, scores):
        for note in reading.notes:
            message(f"{file_name}: {note}")
        write_figures(out, stems[Path(file_name)], pixels, reading)
        score["notes"] = list(reading.notes)
    total = overall(scores)
    print(f"model: {model_path} ({name})")
    print("| image | CER | errors / characters | seconds |")
    print("|---|---|---|---|")
    for s in scores:
        print(f"| {s['image']} | {s['cer']:.3f} | {s['errors']} / {s['characters']} | {s['seconds']:.2f} |")
    counts, seconds = f"{total['errors']} / {total['characters']}", np.mean([s["seconds"] for s in scores])
    print(f"| overall | {total['cer']:.3f} | {counts} | {seconds:.2f} per photo |")
    write_json(
        out / "metrics.json", {"model": str(model_path), "model_kind": name, **total, "images": scores}
    )
    return total["cer"]


def write_figures(out: Path, stem: str, pixels, reading) -> None:
    """The photo with its boxes and predictions (turned as it was read), and the crops the
    classifier saw."""
    page = np.rot90(pixels, reading.turns) if reading.turns else pixels
    save_figure(out / f"{stem}_boxes.png", figures.boxes(page, reading.boxes, reading.predicted))
    save_figure(out / f"{stem}_crops.png", figures.crops(reading.rows, reading.predicted))
