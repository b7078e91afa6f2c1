"""Command line: `python -m tinygrad_hw VERB`, the engine's own verbs.

A verb is a module in `tinygrad_hw/commands/` with a `run` function, and one `Verb` below that
names it, says what it does and adds its options.
"""

from __future__ import annotations

import sys

from .app.cli import Verb, command_line, positive_float, positive_int, run_command
from .commands import demo, primitives

DESCRIPTION = "The tinygrad_hw autodiff engine: a demo and a listing of its primitives."


def _demo_arguments(parser):
    parser.add_argument("--epochs", type=positive_int, default=100, help="training epochs (default: 100)")
    parser.add_argument("--lr", type=positive_float, default=0.1, help="learning rate (default: 0.1)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="batch size (default: 32)")


VERBS = [
    Verb(
        "demo",
        help="train a small network on generated spirals and check its gradients",
        description="Train a 2-64-3 tanh network on generated spirals (no data needed), print the "
        "loss as it falls, and check the model's gradients (first and second order) against "
        "central differences. Writes metrics.json, loss.png and decision_regions.png to --out.",
        run=demo.run,
        default_out="runs/engine-demo",
        add_arguments=_demo_arguments,
    ),
    Verb("primitives", help="list the registered primitives with their summaries", run=primitives.run),
]

main = command_line("python -m tinygrad_hw", DESCRIPTION, VERBS)


if __name__ == "__main__":
    sys.exit(run_command(main))
