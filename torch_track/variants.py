"""The NIST36 CNN with three kinds of shortcut past its convolutions, for `resnet-variants`.

Every variant has the CharCNN's shape: three stages of 32, 64 and 128 channels, each ending in a
2 x 2 max pool (32 -> 16 -> 8 -> 4 pixels), then dropout and one linear layer. A stage holds two
3 x 3 convolutions with batch norm, and differs only in how its input reaches its output:

- skip: the input is concatenated to the convolutions' output (DenseNet's way): the stage's
  convolutions only add new channels, and every earlier feature stays visible to later stages;
- residual: the input is added to the convolutions' output (ResNet's way, with a 1 x 1
  convolution where the channel count changes), so each stage learns a correction to the identity;
- gated residual (our design): a residual stage whose correction is scaled per channel by a gate
  computed from the whole image (squeeze-and-excitation), so a stage can turn off the channels that
  do not help for this character.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_bn(c_in, c_out, relu=True):
    layers = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out)]
    return nn.Sequential(*layers, nn.ReLU(inplace=True)) if relu else nn.Sequential(*layers)


class SkipStage(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.new_features = nn.Sequential(conv_bn(c_in, c_out - c_in), conv_bn(c_out - c_in, c_out - c_in))

    def forward(self, x):
        return torch.cat([x, self.new_features(x)], dim=1)


class ResidualStage(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.correction = nn.Sequential(conv_bn(c_in, c_out), conv_bn(c_out, c_out, relu=False))
        self.shortcut = (
            nn.Identity()
            if c_in == c_out
            else nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
        )

    def forward(self, x):
        return torch.relu(self.shortcut(x) + self.correction(x))


class GatedResidualStage(ResidualStage):
    def __init__(self, c_in, c_out, reduction=8):
        super().__init__(c_in, c_out)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(c_out, c_out // reduction, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out // reduction, c_out, 1),
            nn.Sigmoid(),
        )

    def forward(self, x):
        correction = self.correction(x)
        return torch.relu(self.shortcut(x) + self.gate(correction) * correction)


STAGES = {"skip": SkipStage, "residual": ResidualStage, "gated-residual": GatedResidualStage}


class ShortcutCNN(nn.Module):
    """NIST36 rows (ink dark) in, class scores out, through three stages of one kind."""

    def __init__(self, kind, classes=36, channels=(32, 64, 128)):
        super().__init__()
        stages, c_in = [], 1
        for c_out in channels:
            stages += [STAGES[kind](c_in, c_out), nn.MaxPool2d(2)]
            c_in = c_out
        self.features = nn.Sequential(*stages)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(c_in * 4 * 4, classes))

    def forward(self, x):
        return self.classifier(self.features((1 - x).reshape(len(x), 1, 32, 32)))
