"""Command line: `python -m torch_track TASK` (fc-nist36, cnn-nist36, cnn-mnist so far)."""

from __future__ import annotations

import argparse
import sys

from tinygrad_hw.runs import add_common_arguments, keep_freed_memory, positive_int, run_command


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m torch_track",
        description="The engine's models and their bigger siblings in PyTorch, for comparison.",
    )
    tasks = parser.add_subparsers(dest="task", required=True, metavar="TASK")
    fc = tasks.add_parser(
        "fc-nist36",
        help="the engine's 1024-64-36 sigmoid network, trained in PyTorch",
        description="Train the 1024 -> 64 sigmoid -> 36 network on NIST36 (--data-dir, or the embedded "
        "default) with PyTorch: momentum 0.9, cosine learning rate from 0.1, batch 32, the same "
        "random distortions as the engine. Writes model.pt (a state_dict), curves.png and metrics.json.",
    )
    add_common_arguments(fc, default_out="runs/torch-fc-nist36")
    fc.add_argument("--epochs", type=positive_int, help="epochs (default: 40)")
    fc.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available, else cpu")
    cnn = tasks.add_parser(
        "cnn-nist36",
        help="a CNN on NIST36, with a table against the FC network",
        description="Train a CNN (three blocks of a 3x3 convolution with batch norm, ReLU and max "
        "pooling; dropout; AdamW with a cosine schedule) on NIST36, then the FC network the same way, "
        "and print a table of both. Writes the CNN's model.pt, curves.png and metrics.json.",
    )
    add_common_arguments(cnn, default_out="runs/torch-cnn-nist36")
    cnn.add_argument("--epochs", type=positive_int, help="epochs for the CNN (default: 15)")
    cnn.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available, else cpu")
    mnist = tasks.add_parser(
        "cnn-mnist",
        help="a CNN on MNIST (all 60,000 training images)",
        description="Train a CNN on MNIST from DATA_DIR/MNIST/raw (gzip IDX, decompressed once into the "
        "cache for torchvision; nothing is downloaded). Writes model.pt, curves.png and metrics.json.",
    )
    add_common_arguments(mnist, default_out="runs/torch-cnn-mnist")
    mnist.add_argument("--epochs", type=positive_int, help="epochs (default: 5)")
    mnist.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available, else cpu")
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


if __name__ == "__main__":
    sys.exit(run_command(main))
