"""`python -m torch_track finetune`: SqueezeNet 1.1 fine-tuned on Flowers-17, against a network from scratch.

Without the SqueezeNet weights (`--weights FILE`, or torchvision's cache; nothing can be downloaded
here) the task says so and runs the from-scratch half alone (see `torch_track.photo_training`).
"""

from __future__ import annotations

from pathlib import Path

from tinygrad_hw.app.cli import message
from tinygrad_hw.app.files import write_json

from ..common import pick_device, save_state, write_curves
from ..image_folders import dataset_folder, load_image_folders
from ..photo_training import (
    STORED_PRETRAINED_SIDE,
    STORED_SIDE,
    WEIGHTS,
    cached_weights,
    find_weights,
    finetune,
    train_from_scratch,
)


def run(
    *,
    images: Path | None,
    weights: Path | None,
    data_dir: Path | None,
    out: Path,
    seed: int,
    epochs: int | None,
    scratch_epochs: int,
    device: str | None,
) -> None:
    device = pick_device(device)
    folder = dataset_folder(images, data_dir)
    weights = find_weights(weights)
    out.mkdir(parents=True, exist_ok=True)
    rows, skipped = [], None
    if weights is None:
        skipped = (
            f"no SqueezeNet 1.1 weights: pass --weights FILE or put {Path(WEIGHTS.url).name} "
            f"(from {WEIGHTS.url}) in {cached_weights().parent}; ran the from-scratch half only"
        )
        message(skipped)
    else:
        splits, classes = load_image_folders(folder, STORED_PRETRAINED_SIDE)
        model, history, summary = finetune(
            weights, splits, classes, epochs=epochs or 10, device=device, seed=seed
        )
        save_state(out / "finetuned.pt", model)
        write_curves(out / "finetune_curves.png", history, "SqueezeNet 1.1, fine-tuned head")
        rows.append({**summary, "history": history})
    splits, classes = load_image_folders(folder, STORED_SIDE)
    model, history, summary = train_from_scratch(
        splits, classes, epochs=scratch_epochs, device=device, seed=seed, description="from scratch"
    )
    save_state(out / "scratch.pt", model)
    write_curves(out / "scratch_curves.png", history, "3 conv + 2 fc, from scratch")
    rows.append({**summary, "history": history})
    metrics = {
        "task": "finetune",
        "dataset": str(folder),
        "classes": classes,
        "device": str(device),
        "weights": str(weights) if weights else None,
        "skipped": skipped,
        "table": rows,
    }
    write_json(out / "metrics.json", metrics)
    print(f"finetune on {folder} ({device})")
    print("| model | parameters trained | epochs | train s | test accuracy |")
    print("|---|---|---|---|---|")
    for r in rows:
        trained = r.get("trained_parameters", r["parameters"])
        timing = f"{r['epochs']} | {r['train_seconds']:.1f}"
        print(f"| {r['model']} | {trained:,} | {timing} | {r['test_accuracy']:.4f} |")
