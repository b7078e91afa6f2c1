"""Command line: `python -m tinygrad_hw demo` (the engine demo) and `python -m tinygrad_hw primitives`."""

from __future__ import annotations

import argparse
import os
import sys

from .runs import DATA_ENV, add_common_arguments, message, positive_float, positive_int, run_command


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_hw",
        description="The tinygrad_hw autodiff engine: a demo and a listing of its primitives.",
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    demo = verbs.add_parser(
        "demo",
        help="train a small network on generated spirals and check its gradients",
        description="Train a 2-64-3 tanh network on generated spirals (no data needed), print the "
        "loss as it falls, and check the model's gradients (first and second order) against "
        "central differences. Writes metrics.json, loss.png and decision_regions.png to --out.",
    )
    add_common_arguments(demo, default_out="runs/engine-demo")
    demo.add_argument("--epochs", type=positive_int, default=100, help="training epochs (default: 100)")
    demo.add_argument("--lr", type=positive_float, default=0.1, help="learning rate (default: 0.1)")
    demo.add_argument("--batch-size", type=positive_int, default=32, help="batch size (default: 32)")
    verbs.add_parser("primitives", help="list the registered primitives with their summaries")
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.verb == "primitives":
        from .primitive import REGISTRY

        for name, prim in sorted(REGISTRY.items()):
            summary = (prim.__doc__ or "").strip().splitlines()[0] if prim.__doc__ else ""
            print(f"{name:24s} {summary}")
        return
    from .demo import run

    if args.data_dir is not None and str(args.data_dir) != os.environ.get(DATA_ENV):
        message("the engine demo generates its own data; --data-dir is not used")
    run(args.out, seed=args.seed, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size)


if __name__ == "__main__":
    sys.exit(run_command(main))
