"""`python -m torch_track imagefolder`: a CNN trained from scratch on any ImageFolder dataset.

The course trains it on a subset of SUN scenes, which is not available here; the default dataset is
Flowers-17 (`DATA_DIR/flowers17`, 40 / 20 / 20 images per class). The network is three convolution
blocks and two fully connected layers (`PhotoConvNet`, see `torch_track.photo_training`).
"""

from __future__ import annotations

from pathlib import Path

from tinygrad_hw.app.cli import message

from ..common import pick_device, save_run
from ..image_folders import dataset_folder, load_image_folders
from ..photo_training import STORED_SIDE, train_from_scratch


def run(
    *,
    images: Path | None,
    data_dir: Path | None,
    out: Path,
    seed: int,
    epochs: int | None,
    device: str | None,
) -> None:
    device = pick_device(device)
    folder = dataset_folder(images, data_dir)
    splits, classes = load_image_folders(folder, STORED_SIDE)
    out.mkdir(parents=True, exist_ok=True)
    sizes = {name: len(labels) for name, (_, labels) in splits.items()}
    message(f"{folder}: {len(classes)} classes, {sizes}")
    model, history, summary = train_from_scratch(
        splits, classes, epochs=epochs or 60, device=device, seed=seed, description="imagefolder"
    )
    metrics = {
        "task": "imagefolder",
        "dataset": str(folder),
        "classes": classes,
        "splits": sizes,
        "device": str(device),
        **summary,
        "history": history,
    }
    save_run(out, model, history, f"imagefolder: {folder.name} (PyTorch)", metrics)
    print(
        f"imagefolder on {folder} ({device}): {len(classes)} classes, {summary['epochs']} epochs in "
        f"{summary['train_seconds']:.1f} s"
    )
    print(f"valid accuracy {summary['valid_accuracy']:.4f}, test accuracy {summary['test_accuracy']:.4f}")
