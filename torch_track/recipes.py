"""How each NIST36 network is trained in PyTorch: its model, optimiser, epochs and batch size.

Every recipe trains on the same data as the engine (the splits `ocr.nist36.load_dataset` gives)
with the same random distortions of the training images, and a cosine learning-rate schedule.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from ocr.nist36 import distort_images

from .cnn import CharCNN
from .common import adamw, run_summary, seed_everything, train
from .fc import FC
from .variants import STAGES, ShortcutCNN


def nist36_loaders(splits, batch_size, seed, augment=True):
    """Train/valid/test DataLoaders; training batches get the engine's random distortions."""
    rng = np.random.default_rng(seed)

    def distorted(batch):
        x = np.stack([row.numpy() for row, _ in batch])
        y = torch.stack([label for _, label in batch])
        return torch.from_numpy(distort_images(rng, x) if augment else x), y

    def dataset(split):
        return TensorDataset(torch.from_numpy(splits[split].x), torch.from_numpy(splits[split].y))

    generator = torch.Generator().manual_seed(seed)
    return (
        DataLoader(
            dataset("train"), batch_size=batch_size, shuffle=True, collate_fn=distorted, generator=generator
        ),
        DataLoader(dataset("valid"), batch_size=1024),
        DataLoader(dataset("test"), batch_size=1024),
    )


# name -> (model factory, optimiser factory, default epochs, batch size)
RECIPES = {
    "fc": (FC, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), 40, 32),
    "cnn": (CharCNN, adamw, 15, 64),
    **{kind: (lambda kind=kind: ShortcutCNN(kind), adamw, 15, 64) for kind in STAGES},
}
VARIANTS = ("cnn", *STAGES)  # the plain CNN first, as the baseline


def train_recipe(name, splits, device, seed, epochs=None, description=None):
    """Train one recipe (its learning rate on a cosine schedule): the model, its history and its
    summary with the test results."""
    make_model, make_optimizer, default_epochs, batch_size = RECIPES[name]
    epochs = epochs or default_epochs
    seed_everything(seed)
    *loaders, test_loader = nist36_loaders(splits, batch_size, seed)
    model = make_model().to(device)
    history = train(
        model, make_optimizer(model.parameters()), loaders, epochs, device, description or f"{name}-nist36"
    )
    return model, history, run_summary(name, model, history, test_loader, device, epochs=epochs)
