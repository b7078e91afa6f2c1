"""`python -m torch_track cnn-emnist`: a CNN on EMNIST's digits and uppercase letters, then the photos
read with it, beside the best engine model (see `torch_track.emnist` for how the data is made)."""

from __future__ import annotations

import time
from pathlib import Path

from ocr.model_store import best_checkpoint, classifier, load_model
from tinygrad_hw.app.cache import cache_dir
from tinygrad_hw.app.cli import UserError, message

from ..common import at_most, numpy_classifier, pick_device, save_run
from ..emnist import GLYPHS_PER_CLASS, emnist_splits, photo_error_rates
from ..idx_cache import prepare
from ..recipes import train_recipe


def run(
    *,
    data_dir: Path | None,
    out: Path,
    seed: int,
    epochs: int | None,
    device: str | None,
    limit: int | None = None,
) -> None:
    if data_dir is None:
        raise UserError(
            "cnn-emnist needs --data-dir (or $TINYGRAD_HW_DATA) with EMNIST/raw; it cannot be downloaded"
        )
    device = pick_device(device)
    root = prepare(data_dir, cache_dir() / "torchvision", "EMNIST")
    out.mkdir(parents=True, exist_ok=True)
    splits, rows = emnist_splits(root, data_dir, seed)
    splits = at_most(splits, limit, seed)
    sizes = {k: len(v) for k, v in splits.items()}
    message(f"EMNIST digits and capitals without the stand-in's rows: {rows} rows; using {sizes}")
    message(f"the training split includes {GLYPHS_PER_CLASS} embedded default glyphs of each class")
    model, history, summary = train_recipe("cnn", splits, device, seed, epochs or 6, description="cnn-emnist")

    start = time.perf_counter()
    images = Path(data_dir) / "images"
    reading = {}
    if images.is_dir():
        reading["torch cnn-emnist"] = photo_error_rates(images, numpy_classifier(model, device))
    seconds = time.perf_counter() - start
    engine = best_checkpoint()
    if engine is not None and reading:
        name, params, _ = load_model(engine)
        reading[f"engine {name} ({engine})"] = photo_error_rates(images, classifier(name, params))
    metrics = {
        "task": "cnn-emnist",
        "device": str(device),
        "splits": sizes,
        "emnist_rows": rows,
        "embedded_glyphs_per_class": GLYPHS_PER_CLASS,
        **summary,
        "history": history,
        "photo_cer": reading,
        "photo_seconds": seconds,
    }
    save_run(out, model, history, "cnn-emnist (PyTorch)", metrics)
    print(
        f"cnn-emnist ({device}): test accuracy {summary['test_accuracy']:.4f} on {sizes['test']} rows, "
        f"{summary['epochs']} epochs in {summary['train_seconds']:.1f} s"
    )
    for label, rates in reading.items():
        per_image = ", ".join(f"{k} {v:.3f}" for k, v in rates.items() if k != "overall")
        print(f"photo CER, {label}: overall {rates['overall']:.3f} ({per_image})")
