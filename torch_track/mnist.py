"""MNIST through torchvision, and the CNN `cnn-mnist` trains on it.

The 60,000 training images are split into 55,000 for training and 5,000 for validation (seeded);
the 10,000 test images are only used for the final accuracy.
"""

from __future__ import annotations

from pathlib import Path

import torchvision
from torch.utils.data import DataLoader, Subset

from .cnn import CharCNN
from .common import evaluate, held_out_split, seed_everything, train_adamw


def train_mnist(root: Path, *, epochs, device, seed):
    """Train the CNN with AdamW and a cosine schedule; the model, its history, and its run's details
    with the test results."""
    to_tensor = torchvision.transforms.ToTensor()
    full = torchvision.datasets.MNIST(root, train=True, transform=to_tensor, download=False)
    test = torchvision.datasets.MNIST(root, train=False, transform=to_tensor, download=False)
    seed_everything(seed)
    training, validation, generator = held_out_split(len(full), seed)
    model = CharCNN(classes=10, channels=(32, 64), side=28, invert=False).to(device)
    train_loader = DataLoader(Subset(full, training), batch_size=128, shuffle=True, generator=generator)
    valid_loader = DataLoader(Subset(full, validation), batch_size=1024)
    history = train_adamw(
        model,
        train_loader,
        valid_loader,
        epochs=epochs,
        device=device,
        weight_decay=1e-4,
        description="cnn-mnist",
    )
    test_loss, test_accuracy = evaluate(model, DataLoader(test, batch_size=1024), device)
    details = {
        "train_images": len(training),
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
        "train_seconds": history["seconds"][-1],
    }
    return model, history, details
