"""`python -m torch_track cnn-mnist`: a CNN on MNIST through torchvision.

The 60,000 training images are split into 55,000 for training and 5,000 for validation (seeded);
the 10,000 test images are only used for the final accuracy.
"""

from __future__ import annotations

import torch
import torchvision
from torch.utils.data import DataLoader, random_split

from tinygrad_hw.app.cache import cache_dir
from tinygrad_hw.app.cli import message
from tinygrad_hw.app.files import write_json

from .cnn import CharCNN
from .common import evaluate, pick_device, save_state, seed_everything, train, write_curves
from .idx_cache import prepare


def run(args):
    device = pick_device(args.device)
    root = prepare(args.data_dir, cache_dir() / "torchvision", "MNIST")
    args.out.mkdir(parents=True, exist_ok=True)
    seed_everything(args.seed)
    to_tensor = torchvision.transforms.ToTensor()
    full = torchvision.datasets.MNIST(root, train=True, transform=to_tensor, download=False)
    test = torchvision.datasets.MNIST(root, train=False, transform=to_tensor, download=False)
    held_out = min(5000, len(full) // 10)
    generator = torch.Generator().manual_seed(args.seed)
    training, validation = random_split(full, [len(full) - held_out, held_out], generator=generator)
    epochs = args.epochs or 5
    model = CharCNN(classes=10, channels=(32, 64), side=28, invert=False).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    train_loader = DataLoader(training, batch_size=128, shuffle=True, generator=generator)
    history = train(model, optimizer, train_loader, DataLoader(validation, batch_size=1024), epochs=epochs,
                    device=device, scheduler=scheduler, description="cnn-mnist")  # fmt: skip
    test_loss, test_accuracy = evaluate(model, DataLoader(test, batch_size=1024), device)
    save_state(args.out / "model.pt", model)
    write_curves(args.out / "curves.png", history, "cnn-mnist (PyTorch)")
    write_json(args.out / "metrics.json", {"task": "cnn-mnist", "device": str(device), "epochs": epochs,
                                           "train_images": len(training), "test_accuracy": test_accuracy,
                                           "test_loss": test_loss, "train_seconds": history["seconds"][-1],
                                           "history": history})  # fmt: skip
    print(
        f"cnn-mnist ({device}): {epochs} epochs on {len(training)} images in {history['seconds'][-1]:.1f} s"
    )
    print(f"valid accuracy {history['valid_accuracy'][-1]:.4f}, test accuracy {test_accuracy:.4f}")
    message(f"wrote model.pt, curves.png and metrics.json to {args.out}")
