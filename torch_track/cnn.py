"""Convolutional networks in PyTorch: `CharCNN` for 32 x 32 characters, `PhotoConvNet` for photos,
`CifarNet` for CIFAR-10.

Three blocks of a 3 x 3 convolution with batch normalisation and ReLU, each halving the image by
max pooling (32 -> 16 -> 8 -> 4), then dropout and one linear layer to the classes. For NIST36
rows it sees 1 - x (ink high, paper zero), like the engine's models; `invert=False` takes images
that are already bright ink on dark (MNIST), and `side` sets their size.
"""

from __future__ import annotations

from torch import nn


def conv_block(c_in, c_out):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class CharCNN(nn.Module):
    def __init__(self, classes=36, channels=(32, 64, 128), side=32, invert=True):
        super().__init__()
        self.side, self.invert = side, invert
        blocks, c_in = [], 1
        for c_out in channels:
            blocks.append(conv_block(c_in, c_out))
            c_in = c_out
        self.features = nn.Sequential(*blocks)
        reduced = side // 2 ** len(channels)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(0.3), nn.Linear(c_in * reduced * reduced, classes)
        )

    def forward(self, x):
        images = (1 - x if self.invert else x).reshape(len(x), 1, self.side, self.side)
        return self.classifier(self.features(images))


class PhotoConvNet(nn.Module):
    """Three convolution blocks and two fully connected layers: the course's from-scratch network
    for colour photos. An adaptive average pool after the blocks fixes the size the fully connected
    layers see (channels x 4 x 4), so the same network takes any image size from 32 pixels up."""

    def __init__(self, classes, channels=(32, 64, 128), hidden=256, in_channels=3):
        super().__init__()
        blocks, c_in = [], in_channels
        for c_out in channels:
            blocks.append(conv_block(c_in, c_out))
            c_in = c_out
        self.features = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(4))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.5),
            nn.Linear(c_in * 16, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(hidden, classes),
        )

    def forward(self, images):
        return self.classifier(self.features(images))


class CifarNet(nn.Sequential):
    """The CIFAR-10 network of `cnn-cifar10` (torch_track.cifar_recipe describes it and its training).

    Three blocks, each: 3 x 3 convolution (padding 1, no bias) -> 2 x 2 max pooling -> batch norm ->
    ReLU -> 3 x 3 convolution at the pooled size -> batch norm -> ReLU; then global average pooling and
    one linear layer. Pooling before the batch norm normalises a quarter of the values (a cheaper
    order than conv, batch norm, ReLU, pool, and not the same function: the statistics are those of
    the pooled values). Only operations the engine has or can have: no depthwise convolutions, no
    residuals."""

    def __init__(self, classes=10, widths=(48, 96, 192), in_channels=3):
        layers, c_in = [], in_channels
        for c in widths:
            layers += [
                nn.Conv2d(c_in, c, 3, padding=1, bias=False),
                nn.MaxPool2d(2),
                nn.BatchNorm2d(c),
                nn.ReLU(inplace=True),
                nn.Conv2d(c, c, 3, padding=1, bias=False),
                nn.BatchNorm2d(c),
                nn.ReLU(inplace=True),
            ]
            c_in = c
        super().__init__(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, classes))
