"""`python -m torch_track finetune`: SqueezeNet 1.1 fine-tuned on Flowers-17, against a network from scratch.

The pretrained half loads torchvision's SqueezeNet 1.1 with its ImageNet weights, replaces its
classifier's 1 x 1 convolution by one for the dataset's classes, freezes every feature layer and
trains only that new layer. The other half trains `PhotoConvNet` (3 conv + 2 fc) from scratch on the
same images. The weights come from `--weights FILE` or from torchvision's cache
(`$TORCH_HOME/hub/checkpoints/squeezenet1_1-b8a52dc0.pth`); nothing can be downloaded here, so when
neither exists the task says so and runs the from-scratch half alone.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision
from torch import nn

from tinygrad_hw.app.cli import UserError, message
from tinygrad_hw.app.files import write_json

from .common import evaluate, pick_device, save_state, seed_everything, train, write_curves
from .image_folders import image_loaders, load_image_folders
from .imagefolder_task import STORED_SIDE, dataset_folder, train_from_scratch

WEIGHTS = torchvision.models.SqueezeNet1_1_Weights.IMAGENET1K_V1
SIDE, STORED_PRETRAINED_SIDE = 224, 256  # ImageNet's input size, and its usual resize before cropping


def cached_weights() -> Path:
    """Where torchvision keeps the weights once downloaded."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(WEIGHTS.url).name


def find_weights(given: Path | None) -> Path | None:
    if given is not None:
        if not given.is_file():
            raise UserError(f"{given}: no such weights file")
        return given
    return cached_weights() if cached_weights().is_file() else None


def pretrained_squeezenet(weights_file: Path) -> nn.Module:
    """SqueezeNet 1.1 with the 1000-class ImageNet weights from a state_dict file."""
    model = torchvision.models.squeezenet1_1(weights=None)
    try:
        model.load_state_dict(torch.load(weights_file, map_location="cpu", weights_only=True))
    except Exception as error:
        raise UserError(
            f"{weights_file}: not SqueezeNet 1.1 weights ({str(error).splitlines()[0]})"
        ) from None
    return model


def replace_head(model: nn.Module, classes: int) -> nn.Module:
    """The classifier's final 1 x 1 convolution (512 -> 1000 ImageNet classes) becomes 512 -> classes."""
    model.classifier[1] = nn.Conv2d(model.classifier[1].in_channels, classes, kernel_size=1)
    model.num_classes = classes
    return model


def freeze_features(model: nn.Module) -> nn.Module:
    for parameter in model.features.parameters():
        parameter.requires_grad_(False)
    return model


def finetune(weights_file, splits, classes, *, epochs, device, seed):
    """Train only the new head of a frozen pretrained SqueezeNet; the model, history and summary."""
    seed_everything(seed)
    model = freeze_features(replace_head(pretrained_squeezenet(weights_file), len(classes))).to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-3, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    train_loader, valid_loader, test_loader = image_loaders(splits, SIDE, batch_size=32, seed=seed)
    history = train(model, optimizer, train_loader, valid_loader, epochs=epochs, device=device,
                    scheduler=scheduler, description="finetune squeezenet")  # fmt: skip
    test_loss, test_accuracy = evaluate(model, test_loader, device)
    summary = {"model": "SqueezeNet 1.1, ImageNet weights, new head only",
               "parameters": sum(p.numel() for p in model.parameters()),
               "trained_parameters": sum(p.numel() for p in trainable), "epochs": epochs, "image_side": SIDE,
               "train_seconds": history["seconds"][-1], "valid_accuracy": history["valid_accuracy"][-1],
               "test_accuracy": test_accuracy, "test_loss": test_loss}  # fmt: skip
    return model, history, summary


def run(args):
    device = pick_device(args.device)
    folder = dataset_folder(args)
    weights = find_weights(args.weights)
    args.out.mkdir(parents=True, exist_ok=True)
    rows, skipped = [], None
    if weights is None:
        skipped = (
            f"no SqueezeNet 1.1 weights: pass --weights FILE or put {Path(WEIGHTS.url).name} "
            f"(from {WEIGHTS.url}) in {cached_weights().parent}; ran the from-scratch half only"
        )
        message(skipped)
    else:
        splits, classes = load_image_folders(folder, STORED_PRETRAINED_SIDE)
        model, history, summary = finetune(weights, splits, classes, epochs=args.epochs or 10, device=device,
                                           seed=args.seed)  # fmt: skip
        save_state(args.out / "finetuned.pt", model)
        write_curves(args.out / "finetune_curves.png", history, "SqueezeNet 1.1, fine-tuned head")
        rows.append({**summary, "history": history})
    splits, classes = load_image_folders(folder, STORED_SIDE)
    model, history, summary = train_from_scratch(splits, classes, epochs=args.scratch_epochs, device=device,
                                                 seed=args.seed, description="from scratch")  # fmt: skip
    save_state(args.out / "scratch.pt", model)
    write_curves(args.out / "scratch_curves.png", history, "3 conv + 2 fc, from scratch")
    rows.append({**summary, "history": history})
    metrics = {"task": "finetune", "dataset": str(folder), "classes": classes, "device": str(device),
               "weights": str(weights) if weights else None, "skipped": skipped, "table": rows}  # fmt: skip
    write_json(args.out / "metrics.json", metrics)
    print(f"finetune on {folder} ({device})")
    print("| model | parameters trained | epochs | train s | test accuracy |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r.get('trained_parameters', r['parameters']):,} | {r['epochs']} | "
              f"{r['train_seconds']:.1f} | {r['test_accuracy']:.4f} |")  # fmt: skip
    message(f"wrote the checkpoints, curves and metrics.json to {args.out}")
