"""The NIST36 tasks: `fc-nist36` (the engine's network in PyTorch), `cnn-nist36` (a CNN, with a
table against the FC network) and `resnet-variants` (the CNN with skip, residual and gated residual
stages, in a table). All train on the same data as the engine (`--data-dir`, or the embedded
default), with the same random distortions, and write model.pt, curves and metrics."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from ocr.nist36 import distort_images, load_dataset
from tinygrad_hw.app.cli import message
from tinygrad_hw.app.files import write_json

from .cnn import CharCNN
from .common import evaluate, pick_device, save_state, seed_everything, train, write_curves
from .fc import FC
from .variants import STAGES, ShortcutCNN


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


def adamw(parameters):
    return torch.optim.AdamW(parameters, lr=2e-3, weight_decay=1e-4)


# name -> (model factory, optimiser factory, default epochs, batch size)
RECIPES = {
    "fc": (FC, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), 40, 32),
    "cnn": (CharCNN, adamw, 15, 64),
    **{kind: (lambda kind=kind: ShortcutCNN(kind), adamw, 15, 64) for kind in STAGES},
}
VARIANTS = ("cnn", *STAGES)  # the plain CNN first, as the baseline


def train_recipe(name, splits, device, seed, epochs=None, description=None):
    """Train one recipe with a cosine schedule; returns the model, its history and test results."""
    make_model, make_optimizer, default_epochs, batch_size = RECIPES[name]
    epochs = epochs or default_epochs
    seed_everything(seed)
    train_loader, valid_loader, test_loader = loaders(splits, batch_size, seed)
    model = make_model().to(device)
    optimizer = make_optimizer(model.parameters())
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    history = train(model, optimizer, train_loader, valid_loader, epochs=epochs, device=device,
                    scheduler=scheduler, description=description or f"{name}-nist36")  # fmt: skip
    test_loss, test_accuracy = evaluate(model, test_loader, device)
    summary = {"model": name, "parameters": sum(p.numel() for p in model.parameters()), "epochs": epochs,
               "train_seconds": history["seconds"][-1], "valid_accuracy": history["valid_accuracy"][-1],
               "test_accuracy": test_accuracy, "test_loss": test_loss}  # fmt: skip
    return model, history, summary


def print_table(rows):
    print("| model | parameters | epochs | train s | valid accuracy | test accuracy |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['parameters']:,} | {r['epochs']} | {r['train_seconds']:.1f} | "
              f"{r['valid_accuracy']:.4f} | {r['test_accuracy']:.4f} |")  # fmt: skip


def run(args, name):
    device = pick_device(args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    splits, source = load_dataset(args.data_dir, seed=args.seed)
    model, history, summary = train_recipe(name, splits, device, args.seed, args.epochs)
    rows = [summary]
    if name == "cnn":  # the table against the FC network, trained the same way
        rows.append(train_recipe("fc", splits, device, args.seed, description="fc-nist36 (for the table)")[2])
    save_state(args.out / "model.pt", model)
    write_curves(args.out / "curves.png", history, f"{name}-nist36 (PyTorch)")
    write_json(args.out / "metrics.json", {"task": f"{name}-nist36", "data": source, "device": str(device),
                                           **summary, "history": history, "table": rows})  # fmt: skip
    print(f"{name}-nist36 on {source} ({device})")
    print_table(rows)
    message(f"wrote model.pt, curves.png and metrics.json to {args.out}")


def run_fc(args):
    run(args, "fc")


def run_cnn(args):
    run(args, "cnn")


def run_variants(args):
    """Train the plain CNN and each shortcut variant the same way; one table, one curve figure each."""
    device = pick_device(args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    splits, source = load_dataset(args.data_dir, seed=args.seed)
    rows, histories = [], {}
    for name in VARIANTS:
        model, history, summary = train_recipe(name, splits, device, args.seed, args.epochs,
                                               description=f"resnet-variants: {name}")  # fmt: skip
        rows.append(summary)
        histories[name] = history
        save_state(args.out / f"{name}.pt", model)
        write_curves(args.out / f"curves_{name}.png", history, f"{name} on NIST36 (PyTorch)")
    write_json(args.out / "metrics.json", {"task": "resnet-variants", "data": source, "device": str(device),
                                           "table": rows, "histories": histories})  # fmt: skip
    print(f"resnet-variants on {source} ({device})")
    print_table(rows)
    message(f"wrote a checkpoint and curves per variant, and metrics.json, to {args.out}")
