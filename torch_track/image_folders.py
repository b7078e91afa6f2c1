"""Image-classification folders in torchvision's ImageFolder layout, read once into memory.

A dataset folder holds `train/`, `val/` (or `valid/`) and `test/`, each with one subfolder per
class. torchvision's ImageFolder finds the classes and files; every image is decoded once, its
shorter side resized and centre-cropped to a square, and kept as uint8. An epoch then costs only
the random crops and flips, not JPEG decoding, which on two cores would dominate the training.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2
from tqdm import tqdm

from tinygrad_hw.app.cli import UserError

SPLIT_FOLDERS = {"train": ("train",), "valid": ("val", "valid", "validation"), "test": ("test",)}
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


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


def load_split(folder: Path, side: int, classes=None):
    """(uint8 images N x 3 x side x side, labels, class names) of one split folder."""
    square = v2.Compose([v2.Resize(side), v2.CenterCrop(side), v2.PILToTensor()])
    try:
        dataset = torchvision.datasets.ImageFolder(folder, transform=square)
    except (FileNotFoundError, RuntimeError) as error:
        raise UserError(f"{folder}: {error}") from None
    if classes is not None and dataset.classes != classes:
        raise UserError(f"{folder}: its class folders differ from the training split's")
    images = []
    for path, _ in tqdm(
        dataset.samples, desc=f"reading {folder.name}", unit="image", leave=False, disable=None
    ):
        try:
            images.append(square(dataset.loader(path)))
        except OSError as error:
            raise UserError(f"{path}: not a readable image ({error})") from None
    return torch.stack(images), torch.tensor(dataset.targets), dataset.classes


def load_image_folders(root: Path, side: int):
    """{split: (images, labels)} and the class names, every split checked against train's classes."""
    folders = find_splits(root)
    images, labels, classes = load_split(folders["train"], side)
    splits = {"train": (images, labels)}
    for name in ("valid", "test"):
        splits[name] = load_split(folders[name], side, classes)[:2]
    return splits, classes


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
