"""Image-classification folders in torchvision's ImageFolder layout, read once into memory.

A dataset folder holds `train/`, `val/` (or `valid/`) and `test/`, each with one subfolder per
class. torchvision's ImageFolder finds the classes and files; every image is decoded once (Pillow),
its shorter side resized and centre-cropped to a square (images already of that size are kept as
they are), and kept as uint8. An epoch then costs only the random crops and flips, not JPEG
decoding, which on two cores would dominate the training.

Bad input is one line: a missing split, a split without class folders, an empty class folder, or
splits whose classes differ are errors, found before anything is written. An image that cannot be
decoded is skipped with one line naming it, and the run goes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2
from tqdm import tqdm

from tinygrad_hw.app.cli import UserError, first_line, message

SPLIT_FOLDERS = {"train": ("train",), "valid": ("val", "valid", "validation"), "test": ("test",)}
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
UNREADABLE = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)


class ImageFolders(NamedTuple):
    """{split: (uint8 images N x 3 x side x side, int64 labels)}, the class names, the skipped files."""

    root: Path
    splits: dict
    classes: list
    skipped: list

    def sizes(self) -> dict:
        return {name: len(labels) for name, (_, labels) in self.splits.items()}

    def describe(self) -> str:
        """One line: where, which classes, how many images per split (and per class, when equal)."""
        names = ", ".join(self.classes) if len(self.classes) <= 20 else ", ".join(self.classes[:20]) + ", ..."
        counts = []
        for split, (_, labels) in self.splits.items():
            per_class = np.bincount(labels.numpy(), minlength=len(self.classes))
            each = f" ({per_class[0]} per class)" if len(set(per_class.tolist())) == 1 else ""
            counts.append(f"{split} {len(labels)}{each}")
        skipped = f"; {len(self.skipped)} unreadable images skipped" if self.skipped else ""
        return f"{self.root}: {len(self.classes)} classes ({names}); images: {', '.join(counts)}{skipped}"


def dataset_folder(images: Path | None, data_dir: Path | None) -> Path:
    """The dataset: `--images DIR`, else Flowers-17 in the data folder."""
    if images is not None:
        return images
    if data_dir is None:
        raise UserError("give --images DIR (an ImageFolder dataset) or --data-dir with flowers17/ in it")
    return Path(data_dir) / "flowers17"


def find_splits(root: Path) -> dict[str, Path]:
    """The train / valid / test folders of a dataset, or one line saying which is missing."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: no such folder (an ImageFolder dataset with train/, val/ and test/)")
    splits = {}
    for split, names in SPLIT_FOLDERS.items():
        found = [root / name for name in names if (root / name).is_dir()]
        if not found:
            raise UserError(f"{root}: no {' or '.join(n + '/' for n in names)} folder")
        splits[split] = found[0]
    return splits


def list_split(folder: Path, classes=None) -> torchvision.datasets.ImageFolder:
    """torchvision's listing of one split, checked: class folders exist, none is empty, and (given
    the training split's `classes`) the classes are the same."""
    try:
        dataset = torchvision.datasets.ImageFolder(folder, allow_empty=True)
    except FileNotFoundError:
        raise UserError(
            f"{folder}: no class folders in it (ImageFolder layout: one folder per class)"
        ) from None
    if classes is not None and dataset.classes != classes:
        missing = sorted(set(classes) - set(dataset.classes))
        extra = sorted(set(dataset.classes) - set(classes))
        parts = [
            f"{label} {', '.join(names)}"
            for label, names in (("missing", missing), ("extra", extra))
            if names
        ]
        detail = "; ".join(parts)
        raise UserError(f"{folder}: its classes differ from the training split's ({detail or 'other order'})")
    counts = np.bincount(np.array(dataset.targets, dtype=np.int64), minlength=len(dataset.classes))
    empty = [name for name, count in zip(dataset.classes, counts) if count == 0]
    if empty:
        plural = "s" if len(empty) > 1 else ""
        names = ", ".join(n + "/" for n in empty)
        raise UserError(f"{folder}: empty class folder{plural} {names} (no image files)")
    return dataset


def square(image: Image.Image, side: int) -> np.ndarray:
    """The image's shorter side resized to `side` and its centre cropped square: uint8 side x side x 3."""
    if image.size != (side, side):
        image = v2.CenterCrop(side)(v2.Resize(side)(image))
    return np.asarray(image, dtype=np.uint8)


def decode_split(dataset: torchvision.datasets.ImageFolder, side: int):
    """(uint8 images N x 3 x side x side, int64 labels, skipped files) of one listed split."""
    folder = Path(dataset.root)
    images, labels, skipped = [], [], []
    for path, label in tqdm(
        dataset.samples, desc=f"reading {folder.name}", unit="image", leave=False, disable=None
    ):
        try:
            images.append(square(dataset.loader(path), side))
        except UNREADABLE as error:
            message(f"skipped {path}: not a readable image ({first_line(error)})")
            skipped.append(str(path))
            continue
        labels.append(label)
    labels = np.array(labels, dtype=np.int64)
    left = np.bincount(labels, minlength=len(dataset.classes))
    unreadable = [name for name, count in zip(dataset.classes, left) if count == 0]
    if unreadable:
        raise UserError(
            f"{folder}: no readable image in class folder {', '.join(n + '/' for n in unreadable)}"
        )
    pixels = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    return pixels, torch.from_numpy(labels), skipped


def load_image_folders(root: Path, side: int) -> ImageFolders:
    """Every split of a dataset folder, decoded at `side` x `side`, checked against train's classes.
    All three splits are listed and checked before any image is decoded."""
    folders = find_splits(root)
    listed = {"train": list_split(folders["train"])}
    for name in ("valid", "test"):
        listed[name] = list_split(folders[name], listed["train"].classes)
    splits, skipped = {}, []
    for name, dataset in listed.items():
        images, labels, missed = decode_split(dataset, side)
        splits[name] = (images, labels)
        skipped += missed
    return ImageFolders(Path(root), splits, listed["train"].classes, skipped)


def typical_side(root: Path, samples: int = 25) -> int:
    """The median shorter side of a few training images (read from their headers), for choosing the
    size to keep them at: small images (CIFAR's 32 x 32) are not blown up."""
    files = list_split(find_splits(root)["train"]).samples
    sides = []
    for path, _ in files[:: max(1, len(files) // samples)][:samples]:
        try:
            with Image.open(path) as image:
                sides.append(min(image.size))
        except UNREADABLE:
            continue
    return int(np.median(sides)) if sides else 0


class TransformedImages(Dataset):
    """uint8 images passed through a transform on the way out, with their labels."""

    def __init__(self, images, labels, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.transform(self.images[i]), self.labels[i]


def training_transform(size, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """Random crops of at least a third of the image, flips and a little colour change."""
    return v2.Compose(
        [
            v2.RandomResizedCrop(size, scale=(0.35, 1.0), antialias=True),
            v2.RandomHorizontalFlip(),
            v2.ColorJitter(0.2, 0.2, 0.2),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(mean, std),
        ]
    )


def evaluation_transform(size, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    return v2.Compose(
        [v2.Resize(size, antialias=True), v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)]
    )


def image_loaders(splits, size, batch_size, seed):
    """Train (augmented, shuffled), valid and test DataLoaders over the in-memory splits."""
    generator = torch.Generator().manual_seed(seed)
    train = DataLoader(
        TransformedImages(*splits["train"], training_transform(size)),
        batch_size=batch_size,
        shuffle=True,
        generator=generator,
    )
    evaluate = [
        DataLoader(TransformedImages(*splits[name], evaluation_transform(size)), batch_size=128)
        for name in ("valid", "test")
    ]
    return train, *evaluate
