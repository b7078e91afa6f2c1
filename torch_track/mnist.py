"""MNIST through torchvision, and the CNN `cnn-mnist` trains on it.

The 60,000 training images are split into 55,000 for training and 5,000 for validation (seeded);
the 10,000 test images are only used for the final accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torchvision
from torch.utils.data import DataLoader, Subset

from tinygrad_hw.app.cli import UserError, first_line

from .cnn import CharCNN
from .common import adamw, evaluate, held_out_loaders, random_rows, seed_everything, train


def read_mnist(root: Path, train: bool, transform=None):
    """torchvision's MNIST from the prepared root, checked: 28 x 28 images, as many labels, 0 to 9."""
    split = "training" if train else "test"
    try:
        data = torchvision.datasets.MNIST(root, train=train, transform=transform, download=False)
    except Exception as error:  # torchvision raises several types for missing or foreign files
        reason = first_line(error)
        raise UserError(f"the MNIST {split} files are not readable ({reason})") from None
    if data.data.ndim != 3 or tuple(data.data.shape[1:]) != (28, 28) or len(data.data) == 0:
        raise UserError(f"the MNIST {split} images are {tuple(data.data.shape)}, not N x 28 x 28")
    if len(data.targets) != len(data.data) or not bool(((data.targets >= 0) & (data.targets < 10)).all()):
        raise UserError(f"the MNIST {split} labels are not one class from 0 to 9 per image")
    return data


def train_mnist(root: Path, *, epochs, device, seed, limit=None):
    """Train the CNN with AdamW (its learning rate on a cosine schedule); the model, its history,
    and its run's details with the test results. `limit`: at most that many images of each split."""
    to_tensor = torchvision.transforms.ToTensor()
    full = read_mnist(root, True, to_tensor)
    test = read_mnist(root, False, to_tensor)
    if limit is not None:
        rng = np.random.default_rng(seed)
        full, test = (Subset(d, random_rows(len(d), limit, rng).tolist()) for d in (full, test))
    seed_everything(seed)
    loaders = held_out_loaders(full, seed, 128, 1024)
    model = CharCNN(classes=10, channels=(32, 64), side=28, invert=False).to(device)
    history = train(model, adamw(model.parameters()), loaders, epochs, device, "cnn-mnist")
    test_loss, test_accuracy = evaluate(model, DataLoader(test, batch_size=1024), device)
    details = {
        "train_images": len(loaders[0].dataset),
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
        "train_seconds": history["seconds"][-1],
    }
    return model, history, details
