"""Command line for the benchmarks.

python -m benchmarks [--quick] --out DIR      every comparison with PyTorch (benchmarks/commands/compare.py)
python -m benchmarks report [--quick] --out DIR   every part of the homework, in one HTML page
python -m benchmarks mlp-epoch | autoencoder  one measurement on its own
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import openblas_kernels  # noqa: F401 (before anything loads numpy: it picks OpenBLAS's kernels)
from tinygrad_hw.app.cli import Verb, command_line, non_negative_float, positive_int, run_command

from . import cifar_engine, cnn_step, hvp_cost, mlp_epoch
from .commands import autoencoder, cifar10_engine, compare, report
from .commands import cnn_step as cnn_step_verb
from .commands import hvp as hvp_verb
from .commands import mlp_epoch as mlp_epoch_verb
from .parts import PART_NAMES, PARTS


def _int_list(text):
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"batch sizes must be positive, got {text!r}")
    return values


def _dtype_list(text):
    names = [n.strip() for n in text.split(",")]
    unknown = [n for n in names if n not in ("float32", "float64")]
    if unknown:
        raise argparse.ArgumentTypeError(f"dtypes are float32 and float64, got {', '.join(unknown)}")
    return names


def part_list(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in PARTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown part {', '.join(unknown) or repr(text)}; the parts are {PART_NAMES}"
        )
    return names


def _compare_arguments(parser):
    # The top level's own option: absent unless given, so that it never reaches another verb.
    parser.add_argument(
        "--quick",
        action="store_true",
        default=argparse.SUPPRESS,
        help="a smaller run, about 3 minutes on 2 cores",
    )


def _report_arguments(parser):
    parser.add_argument(
        "--quick", action="store_true", help="fewer epochs everywhere (a preview, not the results)"
    )
    parser.add_argument(
        "--images",
        type=Path,
        help="an ImageFolder tree (train/, val/, test/) for the imagefolder and finetune parts "
        "(default: DATA_DIR/flowers17)",
    )
    parser.add_argument("--parts", type=part_list, help=f"only these parts, comma-separated ({PART_NAMES})")


def _mlp_arguments(parser):
    parser.add_argument("--rows", type=positive_int, default=10_800, help="rows per epoch (default: 10800)")
    parser.add_argument(
        "--batch-sizes", type=_int_list, default=[1, 32, 128, 1024], help="default: 1,32,128,1024"
    )
    parser.add_argument(
        "--dtypes", type=_dtype_list, default=["float32", "float64"], help="default: float32,float64"
    )
    parser.add_argument(
        "--repeats", type=positive_int, default=3, help="epochs timed per version; the best counts"
    )
    parser.add_argument(
        "--min-seconds",
        type=non_negative_float,
        default=1.0,
        help="time more epochs until each version's add up to this (default: 1.0; 0: exactly "
        "--repeats; a fast epoch's best of 3 is a fraction of a second, which a slow spell of a "
        "shared machine can cover)",
    )
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out (it is optional)")
    parser.add_argument(
        "--system-malloc",
        action="store_true",
        help="keep glibc's default of returning freed memory to the system (slower and noisier "
        "for every version; by default the run keeps it, see tinygrad_hw.app.memory.keep_freed_memory)",
    )


def _config_list(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in cnn_step.CONFIGS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown configuration {', '.join(unknown) or repr(text)}; "
            f"the configurations are {', '.join(cnn_step.CONFIGS)}"
        )
    return names


def _cnn_step_arguments(parser):
    names = ", ".join(cnn_step.CONFIGS)
    parser.add_argument(
        "--configs", type=_config_list, default=list(cnn_step.CONFIGS), help=f"from {names} (default: all)"
    )
    parser.add_argument(
        "--repeats", type=positive_int, default=20, help="rounds of interleaved blocks (default: 20)"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    parser.add_argument(
        "--system-malloc", action="store_true", help="glibc's default allocator (see mlp-epoch)"
    )


def _cifar_arguments(parser):
    epochs = cifar_engine.recipe.EPOCHS
    parser.add_argument(
        "--epochs", type=positive_int, default=epochs, help=f"epochs of the recipe (default: {epochs})"
    )
    parser.add_argument(
        "--limit", type=positive_int, help="only the first LIMIT images of each class (a smoke test)"
    )


def _hvp_arguments(parser):
    parser.add_argument(
        "--repeats", type=positive_int, default=5, help="timings per version; the best counts"
    )


def _autoencoder_arguments(parser):
    parser.add_argument("--epochs", type=positive_int, default=100, help="epochs (default: 100)")


COMPARE = Verb(
    "compare",
    help="the whole comparison",
    description=compare.__doc__,
    run=compare.run,
    default_out="runs/benchmarks",
    add_arguments=_compare_arguments,
    preformatted=True,
)
VERBS = [
    Verb(
        "report",
        help="run every part of the homework and write one HTML page of all its results",
        description=report.__doc__,
        run=report.run,
        default_out="runs/report",
        add_arguments=_report_arguments,
        preformatted=True,
    ),
    Verb(
        "mlp-epoch",
        help="time one MLP training epoch: engine vs hand-written numpy vs PyTorch",
        description=mlp_epoch.__doc__,
        run=mlp_epoch_verb.run,
        default_out="runs/bench-mlp-epoch",
        add_arguments=_mlp_arguments,
        preformatted=True,
    ),
    Verb(
        "cnn-step",
        help="time one CNN training step: engine vs PyTorch (OCR CNN at batch 8/64/256, a CIFAR-shaped net)",
        description=cnn_step.__doc__,
        run=cnn_step_verb.run,
        default_out="runs/bench-cnn-step",
        add_arguments=_cnn_step_arguments,
        preformatted=True,
    ),
    Verb(
        "cifar10-engine",
        help="train torch_track's CIFAR-10 network on the engine, with the same recipe and data",
        description=cifar_engine.__doc__,
        run=cifar10_engine.run,
        default_out="runs/cifar10-engine",
        add_arguments=_cifar_arguments,
        preformatted=True,
    ),
    Verb(
        "hvp",
        help="time a Hessian-vector product against one gradient (target: at most 3x)",
        description=hvp_cost.__doc__,
        run=hvp_verb.run,
        default_out="runs/bench-hvp",
        add_arguments=_hvp_arguments,
        preformatted=True,
    ),
    Verb(
        "autoencoder",
        help="time the autoencoder's 100 training epochs (target: under 60 s on 2 cores)",
        description="Train the compression autoencoder for its default 100 epochs on the NIST36 "
        "training split (--data-dir) or on random data of the same shape, and report the time.",
        run=autoencoder.run,
        default_out="runs/bench-autoencoder",
        add_arguments=_autoencoder_arguments,
    ),
]

main = command_line("python -m benchmarks", compare.__doc__, VERBS, default=COMPARE)


if __name__ == "__main__":
    sys.exit(run_command(main))
