"""Command line: `python -m tinygrad_hw VERB`, the engine's own verbs.

A verb is a module in `tinygrad_hw/commands/` with a `run` function, and one `Verb` below that
names it, says what it does and adds its options.
"""

from __future__ import annotations

import sys

from .app.cli import Verb, command_line, positive_float, positive_int, run_command
from .app.memory import keep_freed_memory
from .commands import demo, gallery, primitives, profile

DESCRIPTION = (
    "The tinygrad_hw autodiff engine: a demo, a gallery of models, a profiler, a listing of its primitives."
)


def _demo_arguments(parser):
    parser.add_argument("--epochs", type=positive_int, default=100, help="training epochs (default: 100)")
    parser.add_argument("--lr", type=positive_float, default=0.1, help="learning rate (default: 0.1)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="batch size (default: 32)")


def _model_list(text):
    return [name.strip() for name in text.split(",") if name.strip()]


def _gallery_arguments(parser):
    parser.add_argument(
        "--steps", type=positive_int, help="training steps per model (default: each model's own)"
    )
    parser.add_argument(
        "--models", type=_model_list, help="comma-separated, from " + ", ".join(gallery.gallery.EXAMPLES)
    )


def _profile_arguments(parser):
    parser.add_argument(
        "--model", choices=sorted(profile.WORKLOADS), default="cnn", help="the workload (default: cnn)"
    )
    parser.add_argument("--batch", type=positive_int, default=64, help="batch size (default: 64)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="default: float32")
    parser.add_argument("--repeat", type=positive_int, default=10, help="steps timed (default: 10)")


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
    Verb(
        "gallery",
        help="train each gallery model (logistic regression, residual MLP, batch-norm CNN, char RNN)",
        description=gallery.__doc__,
        run=gallery.run,
        default_out="runs/engine-gallery",
        add_arguments=_gallery_arguments,
        preformatted=True,
    ),
    Verb(
        "profile",
        help="time one training step per primitive (forward, backward, share), like PyTorch's profiler",
        description=profile.__doc__,
        run=profile.run,
        default_out="runs/engine-profile",
        add_arguments=_profile_arguments,
        preformatted=True,
    ),
    Verb("primitives", help="list the registered primitives with their summaries", run=primitives.run),
]

main = command_line("python -m tinygrad_hw", DESCRIPTION, VERBS, prepare=keep_freed_memory)


if __name__ == "__main__":
    sys.exit(run_command(main))
