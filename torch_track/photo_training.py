"""Photo classifiers trained on an image-folder dataset: the course's from-scratch network, and
SqueezeNet 1.1 with its ImageNet weights, fine-tuned (`finetune --backbone squeezenet1_1`; the
default backbone, EfficientNet-Lite0, is in torch_track.efficientnet).

From scratch: `PhotoConvNet` (3 conv + 2 fc) with AdamW and a cosine schedule; with only a few
hundred training images, the random crops, flips and colour changes of every epoch are what keep
it from memorising them. Images are kept at 80 x 80 and the network sees random 64 x 64 crops;
smaller images (CIFAR-10's 32 x 32) are kept at their own size.

Fine-tuned: SqueezeNet 1.1's classifier's 1 x 1 convolution replaced by one for the dataset's
classes, every feature layer frozen, only that new layer trained. The weights come from a file or
from torchvision's cache (`$TORCH_HOME/hub/checkpoints/`); nothing can be downloaded here.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision
from torch import nn

from tinygrad_hw.app.cli import UserError

from .cnn import PhotoConvNet
from .common import adamw, load_state, run_summary, seed_everything, train
from .image_folders import image_loaders, typical_side

SIDE, STORED_SIDE = 64, 80  # pixels the from-scratch network sees, and kept in memory for random crops
WEIGHTS = torchvision.models.SqueezeNet1_1_Weights.IMAGENET1K_V1
PRETRAINED_SIDE, STORED_PRETRAINED_SIDE = 224, 256  # ImageNet's input size, and its usual resize


def train_from_scratch(splits, classes, *, epochs, device, seed, side=SIDE, description="scratch"):
    """Train a PhotoConvNet; the model, its history and its summary with the test results."""
    seed_everything(seed)
    *loaders, test_loader = image_loaders(splits, side, batch_size=32, seed=seed)
    model = PhotoConvNet(len(classes)).to(device)
    history = train(model, adamw(model.parameters(), weight_decay=5e-4), loaders, epochs, device, description)
    name = "3 conv + 2 fc, from scratch"
    return (
        model,
        history,
        run_summary(name, model, history, test_loader, device, epochs=epochs, image_side=side),
    )


def sides(folder: Path) -> tuple[int, int]:
    """(side kept in memory, side the network sees): 80 and 64, or the images' own size if smaller
    (CIFAR-10's 32 x 32 are not blown up)."""
    stored = max(32, min(STORED_SIDE, typical_side(folder) or STORED_SIDE))
    return stored, min(SIDE, stored)


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
    return load_state(weights_file, torchvision.models.squeezenet1_1(weights=None), "SqueezeNet 1.1 weights")


def replace_head(model: nn.Module, classes: int) -> nn.Module:
    """The classifier's final 1 x 1 convolution (512 -> 1000 ImageNet classes) becomes 512 -> classes."""
    model.classifier[1] = nn.Conv2d(model.classifier[1].in_channels, classes, kernel_size=1)
    model.num_classes = classes
    return model


def freeze_features(model: nn.Module) -> nn.Module:
    for parameter in model.features.parameters():
        parameter.requires_grad_(False)
    return model


def finetune(model, splits, classes, *, epochs, device, seed):
    """Train only the new head of a frozen pretrained SqueezeNet (`pretrained_squeezenet`); the model,
    history and summary."""
    seed_everything(seed)
    model = freeze_features(replace_head(model, len(classes))).to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    *loaders, test_loader = image_loaders(splits, PRETRAINED_SIDE, batch_size=32, seed=seed)
    history = train(model, adamw(trainable, lr=1e-3), loaders, epochs, device, "finetune squeezenet")
    name = "SqueezeNet 1.1, ImageNet weights, new head only"
    trained = sum(p.numel() for p in trainable)
    details = {"trained_parameters": trained, "epochs": epochs, "image_side": PRETRAINED_SIDE}
    return model, history, run_summary(name, model, history, test_loader, device, **details)
