"""Command line: `python -m ocr VERB` (train; more verbs come with the OCR)."""

from __future__ import annotations

import argparse
import sys

from tinygrad_hw.runs import add_common_arguments, keep_freed_memory, run_command

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
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    keep_freed_memory()
    if args.verb == "train":
        train_command.run(args)


if __name__ == "__main__":
    sys.exit(run_command(main))
