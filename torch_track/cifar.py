"""CIFAR-10 through torchvision, and the CNN `cnn-cifar10` trains on it.

CIFAR-10 is read by torchvision's `CIFAR10` from the python version of the dataset
(`cifar-10-batches-py/`, under DATA_DIR/cifar10, DATA_DIR/CIFAR10 or DATA_DIR itself), which checks
every file against the published MD5 sums. It is not available here and cannot be downloaded: the
task says so in one line. `--skip-checksums` reads files in the same format that are not the
official ones (a subset, or the small folder the tests write).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision
from torch.utils.data import DataLoader
from torchvision.transforms import v2

from tinygrad_hw.app.cli import UserError

from .cnn import PhotoConvNet
from .common import adamw, evaluate, held_out_loaders, seed_everything, train

FOLDER = torchvision.datasets.CIFAR10.base_folder
MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


class UncheckedCIFAR10(torchvision.datasets.CIFAR10):
    """torchvision's reader without the MD5 comparison: files need only exist."""

    train_list = [[name, None] for name, _ in torchvision.datasets.CIFAR10.train_list]
    test_list = [[name, None] for name, _ in torchvision.datasets.CIFAR10.test_list]
    meta = {**torchvision.datasets.CIFAR10.meta, "md5": None}


def cifar_root(data_dir) -> Path:
    """The folder holding cifar-10-batches-py/, or one line saying what to provide."""
    if data_dir is not None:
        for root in (Path(data_dir) / "cifar10", Path(data_dir) / "CIFAR10", Path(data_dir)):
            if (root / FOLDER).is_dir():
                return root
    raise UserError(
        f"CIFAR-10 is not here and cannot be downloaded: put the python version ({FOLDER}/ from "
        f"{torchvision.datasets.CIFAR10.url}) in DATA_DIR/cifar10"
    )


def load_cifar10(root: Path, train: bool, transform, verify=True):
    names = [
        name for name, _ in torchvision.datasets.CIFAR10.train_list + torchvision.datasets.CIFAR10.test_list
    ]
    missing = [n for n in [*names, "batches.meta"] if not (root / FOLDER / n).is_file()]
    if missing:
        raise UserError(f"{root / FOLDER}: missing {', '.join(missing)}")
    reader = torchvision.datasets.CIFAR10 if verify else UncheckedCIFAR10
    try:
        return reader(root, train=train, transform=transform, download=False)
    except RuntimeError:
        raise UserError(
            f"{root / FOLDER}: the files differ from the official CIFAR-10 "
            "(MD5 mismatch); --skip-checksums reads them anyway"
        ) from None
    except Exception as error:
        raise UserError(f"{root / FOLDER}: not in the CIFAR-10 python format ({error})") from None


def transforms():
    to_input = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(MEAN, STD)]
    augment = [v2.RandomCrop(32, padding=4), v2.RandomHorizontalFlip()]
    return v2.Compose(augment + to_input), v2.Compose(to_input)


def train_cifar(root: Path, *, epochs, device, seed, verify=True):
    """Train the CNN on CIFAR-10's training set less a held-out tenth (5,000 images at most) with
    AdamW and a cosine schedule; the model, its history, and its run's details with the test results."""
    augmented, plain = transforms()
    full = load_cifar10(root, True, augmented, verify=verify)
    full_plain = load_cifar10(root, True, plain, verify=verify)
    test = load_cifar10(root, False, plain, verify=verify)
    seed_everything(seed)
    loaders = held_out_loaders(full, seed, 128, 512, unaugmented=full_plain)
    model = PhotoConvNet(10, channels=(64, 128, 256)).to(device)
    history = train(
        model, adamw(model.parameters(), weight_decay=5e-4), loaders, epochs, device, "cnn-cifar10"
    )
    test_loss, test_accuracy = evaluate(model, DataLoader(test, batch_size=512), device)
    details = {
        "train_images": len(loaders[0].dataset),
        "test_images": len(test),
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
        "train_seconds": history["seconds"][-1],
        "classes": full.classes,
    }
    return model, history, details
