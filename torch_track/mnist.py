"""MNIST through torchvision, and the CNN `cnn-mnist` trains on it.

The 60,000 training images are split into 55,000 for training and 5,000 for validation (seeded);
the 10,000 test images are only used for the final accuracy.
"""

from __future__ import annotations

from pathlib import Path

import torchvision
from torch.utils.data import DataLoader

from .cnn import CharCNN
from .common import adamw, evaluate, held_out_loaders, seed_everything, train


def train_mnist(root: Path, *, epochs, device, seed):
    """Train the CNN with AdamW (its learning rate on a cosine schedule); the model, its history,
    and its run's details with the test results."""
    to_tensor = torchvision.transforms.ToTensor()
    full = torchvision.datasets.MNIST(root, train=True, transform=to_tensor, download=False)
    test = torchvision.datasets.MNIST(root, train=False, transform=to_tensor, download=False)
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
