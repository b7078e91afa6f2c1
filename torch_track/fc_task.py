"""Running `python -m torch_track fc-nist36`: train the FC network on NIST36 in PyTorch."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from ocr.data import load_dataset
from ocr.training import distort_images
from tinygrad_hw.runs import message, write_json

from .common import evaluate, pick_device, save_state, seed_everything, train, write_curves
from .fc import FC


def loaders(splits, batch_size, seed, augment=True):
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


def run(args):
    seed_everything(args.seed)
    device = pick_device(args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    splits, source = load_dataset(args.data_dir, seed=args.seed)
    epochs = args.epochs or 40
    train_loader, valid_loader, test_loader = loaders(splits, 32, args.seed)
    model = FC().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

    history = train(model, optimizer, train_loader, valid_loader, epochs=epochs, device=device,
                    scheduler=scheduler, description="fc-nist36")  # fmt: skip
    test_loss, test_accuracy = evaluate(model, test_loader, device)
    save_state(args.out / "model.pt", model)
    write_curves(args.out / "curves.png", history, "fc-nist36 (PyTorch)")
    metrics = {"task": "fc-nist36", "data": source, "device": str(device), "epochs": epochs,
               "train_seconds": history["seconds"][-1], "valid_accuracy": history["valid_accuracy"][-1],
               "test_accuracy": test_accuracy, "test_loss": test_loss, "history": history}  # fmt: skip
    write_json(args.out / "metrics.json", metrics)
    print(f"fc-nist36 on {source} ({device}): {epochs} epochs in {history['seconds'][-1]:.1f} s")
    print(f"valid accuracy {history['valid_accuracy'][-1]:.4f}, test accuracy {test_accuracy:.4f}")
    message(f"wrote model.pt, curves.png and metrics.json to {args.out}")
