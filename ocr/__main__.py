"""Command line: `python -m ocr VERB` with VERB one of train, read, eval, demo.

Each verb's options are defined here and arrive as keyword arguments at its function in
`ocr/commands/`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import openblas_kernels  # noqa: F401 (before anything loads numpy: it picks OpenBLAS's kernels)
from tinygrad_hw.app.cli import Verb, command_line, positive_float, positive_int, run_command
from tinygrad_hw.app.memory import keep_freed_memory

from .commands import demo, read, train
from .models import MODELS

DESCRIPTION = "Handwritten character recognition on the tinygrad_hw engine."


def _train_arguments(parser):
    parser.add_argument(
        "--model",
        choices=sorted(MODELS),
        default="mlp",
        help="mlp: the homework's 1024-hidden-36 sigmoid network (default); "
        "cnn: the stronger convolutional network the OCR uses",
    )
    parser.add_argument(
        "--hidden", type=positive_int, default=64, help="hidden units of the mlp (default: 64)"
    )
    parser.add_argument("--epochs", type=positive_int, help="epochs (default: mlp 40, cnn 15)")
    parser.add_argument(
        "--lr", type=positive_float, help="initial learning rate (default: mlp 0.1, cnn 0.05)"
    )
    parser.add_argument("--batch-size", type=positive_int, help="rows per batch (default: mlp 32, cnn 64)")
    parser.add_argument(
        "--momentum", type=float, default=0.9, help="momentum beta; 0 for plain SGD (default: 0.9)"
    )
    parser.add_argument(
        "--no-augment", action="store_true", help="do not shift training images by up to 2 px"
    )
    parser.add_argument(
        "--lr-sweep",
        action="store_true",
        help="also train with 10x and 0.1x the learning rate, keep the best by validation "
        "accuracy, and plot all three",
    )


def _model_argument(parser):
    parser.add_argument("--model", type=Path, help="checkpoint written by `python -m ocr train`")


def _read_arguments(parser):
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="photos to read")
    _model_argument(parser)


def _eval_arguments(parser):
    parser.add_argument("--images", type=Path, help="folder of photos (default: DATA_DIR/images)")
    _model_argument(parser)


VERBS = [
    Verb(
        "train",
        help="train a NIST36 classifier; write its checkpoint, metrics and figures",
        description="Train a character classifier on NIST36 (from --data-dir, or the embedded default "
        "when none is given) and write model.npz, metrics.json and PNG figures to --out: "
        "accuracy and loss curves, the test confusion matrix, and for the mlp its first-layer "
        "weights before and after training and a view of its second layer.",
        run=train.run,
        default_out="runs/ocr-train",
        add_arguments=_train_arguments,
    ),
    Verb(
        "read",
        help="print the text of photos of handwriting",
        description="Find the handwritten characters in each photo, group them into lines and words, "
        "classify them, and print the text on stdout (a header line per image when there are "
        "several). Writes, per image, IMAGE_boxes.png (the photo with boxes and predictions) and "
        "IMAGE_crops.png (the 32 x 32 crops) to --out. The model is --model, else the best one "
        "trained so far (runs/*/model.npz or the model cache), else a CNN trained first.",
        run=read.run_read,
        default_out="runs/ocr-read",
        add_arguments=_read_arguments,
    ),
    Verb(
        "eval",
        help="character error rate on photos with their text beside them",
        description="Read every image in --images that has a .txt of its text beside it, and report "
        "the character error rate (edit distance over A-Z and 0-9, uppercased, spaces and "
        "punctuation ignored) per image and overall, with the time per photo.",
        run=read.run_eval,
        default_out="runs/ocr-eval",
        add_arguments=_eval_arguments,
    ),
    Verb(
        "demo",
        help="the main job: train if needed, then read (a generated page, or the sample photos)",
        description="Without data: train on the embedded default (unless a model exists), write a "
        "page of handwriting-like text, read it back and print its character error rate. With "
        "--data-dir: use the real data and read the sample photos in DATA_DIR/images.",
        run=demo.run,
        default_out="runs/ocr-demo",
        add_arguments=_model_argument,
    ),
]

main = command_line("python -m ocr", DESCRIPTION, VERBS, prepare=keep_freed_memory)


if __name__ == "__main__":
    sys.exit(run_command(main))
