"""`python -m torch_track imagefolder`: a CNN trained from scratch on any ImageFolder dataset.

The course trains it on a subset of SUN scenes, which is not available here; the default dataset is
Flowers-17 (`DATA_DIR/flowers17`, 40 / 20 / 20 images per class), and `--images DIR` takes any other
tree with train/, val/ and test/ folders (CIFAR-10's included): the task first says which classes
and how many images per split it found. The network is three convolution blocks and two fully
connected layers (`PhotoConvNet`, see `torch_track.photo_training`, which also says at what size the
images are kept).
"""

from __future__ import annotations

from pathlib import Path

from ..common import at_most, pick_device, save_run
from ..image_folders import dataset_folder, load_image_folders
from ..photo_training import sides, train_from_scratch


def run(
    *,
    images: Path | None,
    data_dir: Path | None,
    out: Path,
    seed: int,
    epochs: int | None,
    device: str | None,
    limit: int | None = None,
) -> None:
    device = pick_device(device)
    folder = dataset_folder(images, data_dir)
    stored, side = sides(folder)
    data = load_image_folders(folder, stored)
    data = data._replace(splits=at_most(data.splits, limit, seed))
    print(f"data: {data.describe()}")
    out.mkdir(parents=True, exist_ok=True)
    model, history, summary = train_from_scratch(
        data.splits,
        data.classes,
        epochs=epochs or 60,
        device=device,
        seed=seed,
        side=side,
        description="imagefolder",
    )
    metrics = {
        "task": "imagefolder",
        "dataset": str(folder),
        "classes": data.classes,
        "splits": data.sizes(),
        "skipped_images": data.skipped,
        "stored_side": stored,
        "device": str(device),
        **summary,
        "history": history,
    }
    save_run(out, model, history, f"imagefolder: {folder.name} (PyTorch)", metrics)
    print(
        f"imagefolder on {folder} ({device}): {len(data.classes)} classes, {summary['epochs']} epochs in "
        f"{summary['train_seconds']:.1f} s"
    )
    print(f"valid accuracy {summary['valid_accuracy']:.4f}, test accuracy {summary['test_accuracy']:.4f}")
