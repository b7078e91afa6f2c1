"""Command line: `python -m torch_track TASK` (fc-nist36, cnn-nist36, cnn-mnist, cnn-emnist so far)."""

from __future__ import annotations

import argparse
import sys

from tinygrad_hw.runs import add_common_arguments, keep_freed_memory, positive_int, run_command

# task -> (one-line help, description, default epochs)
TASKS = {
    "fc-nist36": (
        "the engine's 1024-64-36 sigmoid network, trained in PyTorch",
        "Train the 1024 -> 64 sigmoid -> 36 network on NIST36 (--data-dir, or the embedded default) with "
        "PyTorch: momentum 0.9, cosine learning rate from 0.1, batch 32, the same random distortions as the "
        "engine. Writes model.pt (a state_dict), curves.png and metrics.json.",
        40,
    ),
    "cnn-nist36": (
        "a CNN on NIST36, with a table against the FC network",
        "Train a CNN (three blocks of a 3x3 convolution with batch norm, ReLU and max pooling; dropout; "
        "AdamW with a cosine schedule) on NIST36, then the FC network the same way, and print a table of "
        "both. Writes the CNN's model.pt, curves.png and metrics.json.",
        15,
    ),
    "cnn-mnist": (
        "a CNN on MNIST (all 60,000 training images)",
        "Train a CNN on MNIST from DATA_DIR/MNIST/raw (gzip IDX, decompressed once into the cache for "
        "torchvision; nothing is downloaded). Writes model.pt, curves.png and metrics.json.",
        5,
    ),
    "cnn-emnist": (
        "a CNN on EMNIST digits and capitals, then the sample photos read with it",
        "Train a CNN on the digits and uppercase letters of EMNIST's byclass test split (the only split "
        "here), leaving out the rows of the NIST36 stand-in and splitting the rest 85/5/10; then read the "
        "photos in DATA_DIR/images with it and report the character error rate beside the best engine "
        "model's. Writes model.pt, curves.png and metrics.json.",
        6,
    ),
}


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m torch_track",
        description="The engine's models and their bigger siblings in PyTorch, for comparison.",
    )
    tasks = parser.add_subparsers(dest="task", required=True, metavar="TASK")
    for name, (summary, description, epochs) in TASKS.items():
        task = tasks.add_parser(name, help=summary, description=description)
        add_common_arguments(task, default_out=f"runs/torch-{name}")
        task.add_argument("--epochs", type=positive_int, help=f"epochs (default: {epochs})")
        task.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available, else cpu")
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    keep_freed_memory()
    if args.task in ("fc-nist36", "cnn-nist36"):
        from .nist36_tasks import run

        run(args, args.task.split("-")[0])
    elif args.task == "cnn-mnist":
        from .mnist_task import run

        run(args)
    elif args.task == "cnn-emnist":
        from .emnist_task import run

        run(args)


if __name__ == "__main__":
    sys.exit(run_command(main))
