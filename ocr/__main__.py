"""Command line: `python -m ocr VERB` with VERB one of demo, read, eval, train."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tinygrad_hw.app.cli import add_common_arguments, run_command
from tinygrad_hw.app.memory import keep_freed_memory

from . import train_command


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m ocr",
        description="Handwritten character recognition on the tinygrad_hw engine.",
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    train = verbs.add_parser(
        "train",
        help="train a NIST36 classifier; write its checkpoint, metrics and figures",
        description="Train a character classifier on NIST36 (from --data-dir, or the embedded default "
        "when none is given) and write model.npz, metrics.json and PNG figures to --out: "
        "accuracy and loss curves, the test confusion matrix, and for the mlp its first-layer "
        "weights before and after training and a view of its second layer.",
    )
    add_common_arguments(train, default_out="runs/ocr-train")
    train_command.add_arguments(train)

    read = verbs.add_parser(
        "read",
        help="print the text of photos of handwriting",
        description="Find the handwritten characters in each photo, group them into lines and words, "
        "classify them, and print the text on stdout (a header line per image when there are "
        "several). Writes, per image, IMAGE_boxes.png (the photo with boxes and predictions) and "
        "IMAGE_crops.png (the 32 x 32 crops) to --out. The model is --model, else the best one "
        "trained so far (runs/*/model.npz or the model cache), else a CNN trained first.",
    )
    read.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="photos to read")
    add_common_arguments(read, default_out="runs/ocr-read")
    read.add_argument("--model", type=Path, help="checkpoint written by `python -m ocr train`")

    evaluate = verbs.add_parser(
        "eval",
        help="character error rate on photos with their text beside them",
        description="Read every image in --images that has a .txt of its text beside it, and report "
        "the character error rate (edit distance over A-Z and 0-9, uppercased, spaces and "
        "punctuation ignored) per image and overall, with the time per photo.",
    )
    evaluate.add_argument("--images", type=Path, help="folder of photos (default: DATA_DIR/images)")
    add_common_arguments(evaluate, default_out="runs/ocr-eval")
    evaluate.add_argument("--model", type=Path, help="checkpoint written by `python -m ocr train`")

    demo = verbs.add_parser(
        "demo",
        help="the main job: train if needed, then read (a generated page, or the sample photos)",
        description="Without data: train on the embedded default (unless a model exists), write a "
        "page of handwriting-like text, read it back and print its character error rate. With "
        "--data-dir: use the real data and read the sample photos in DATA_DIR/images.",
    )
    add_common_arguments(demo, default_out="runs/ocr-demo")
    demo.add_argument("--model", type=Path, help="checkpoint written by `python -m ocr train`")
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    keep_freed_memory()
    if args.verb == "train":
        train_command.run(args)
    elif args.verb == "read":
        from .read_command import run_read

        run_read(args)
    elif args.verb == "eval":
        from .read_command import run_eval

        run_eval(args)
    elif args.verb == "demo":
        from .demo import run

        run(args)


if __name__ == "__main__":
    sys.exit(run_command(main))
