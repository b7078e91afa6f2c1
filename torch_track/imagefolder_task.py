"""`python -m torch_track imagefolder`: a CNN trained from scratch on any ImageFolder dataset.

The course trains it on a subset of SUN scenes, which is not available here; the default dataset is
Flowers-17 (`DATA_DIR/flowers17`, 40 / 20 / 20 images per class). The network is three convolution
blocks and two fully connected layers (`PhotoConvNet`); with only a few hundred training images,
the random crops, flips and colour changes of every epoch are what keep it from memorising them.
"""

from __future__ import annotations

from pathlib import Path

import torch

from tinygrad_hw.app.cli import UserError, message
from tinygrad_hw.app.files import write_json

from .cnn import PhotoConvNet
from .common import evaluate, pick_device, save_state, seed_everything, train, write_curves
from .image_folders import image_loaders, load_image_folders

SIDE = 64  # pixels the network sees
STORED_SIDE = 80  # pixels kept in memory, so that random crops have room


def dataset_folder(args) -> Path:
    if args.images is not None:
        return args.images
    if args.data_dir is None:
        raise UserError("give --images DIR (an ImageFolder dataset) or --data-dir with flowers17/ in it")
    return Path(args.data_dir) / "flowers17"


def train_from_scratch(splits, classes, *, epochs, device, seed, side=SIDE, description="scratch"):
    """Train a PhotoConvNet with AdamW and a cosine schedule; the model, its history and its test results."""
    seed_everything(seed)
    train_loader, valid_loader, test_loader = image_loaders(splits, side, batch_size=32, seed=seed)
    model = PhotoConvNet(len(classes)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    history = train(model, optimizer, train_loader, valid_loader, epochs=epochs, device=device,
                    scheduler=scheduler, description=description)  # fmt: skip
    test_loss, test_accuracy = evaluate(model, test_loader, device)
    parameters = sum(p.numel() for p in model.parameters())
    summary = {"model": "3 conv + 2 fc, from scratch", "parameters": parameters,
               "epochs": epochs, "image_side": side, "train_seconds": history["seconds"][-1],
               "valid_accuracy": history["valid_accuracy"][-1], "test_accuracy": test_accuracy,
               "test_loss": test_loss}  # fmt: skip
    return model, history, summary


def run(args):
    device = pick_device(args.device)
    folder = dataset_folder(args)
    splits, classes = load_image_folders(folder, STORED_SIDE)
    args.out.mkdir(parents=True, exist_ok=True)
    sizes = {name: len(labels) for name, (_, labels) in splits.items()}
    message(f"{folder}: {len(classes)} classes, {sizes}")
    model, history, summary = train_from_scratch(splits, classes, epochs=args.epochs or 60, device=device,
                                                 seed=args.seed, description="imagefolder")  # fmt: skip
    save_state(args.out / "model.pt", model)
    write_curves(args.out / "curves.png", history, f"imagefolder: {folder.name} (PyTorch)")
    write_json(args.out / "metrics.json", {"task": "imagefolder", "dataset": str(folder), "classes": classes,
                                           "splits": sizes, "device": str(device), **summary,
                                           "history": history})  # fmt: skip
    print(f"imagefolder on {folder} ({device}): {len(classes)} classes, {summary['epochs']} epochs in "
          f"{summary['train_seconds']:.1f} s")  # fmt: skip
    print(f"valid accuracy {summary['valid_accuracy']:.4f}, test accuracy {summary['test_accuracy']:.4f}")
    message(f"wrote model.pt, curves.png and metrics.json to {args.out}")
