"""Command line: `python -m compression run | encode | decode`.

Each verb's options are defined here and arrive as keyword arguments at its function in
`compression/commands/`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import openblas_kernels  # noqa: F401 (before anything loads numpy: it picks OpenBLAS's kernels)
from tinygrad_hw.app.cli import Verb, command_line, positive_float, positive_int, run_command
from tinygrad_hw.app.memory import keep_freed_memory

from .commands import codec, run

DESCRIPTION = (
    "Compress 32 x 32 character images: an autoencoder on the tinygrad_hw engine against PCA and JPEG."
)
DEFAULT_MODEL = Path("runs/compression/autoencoder.npz")


def _run_arguments(parser):
    parser.add_argument("--epochs", type=positive_int, default=100, help="training epochs (default: 100)")
    parser.add_argument(
        "--lr",
        type=positive_float,
        default=3e-5,
        help="learning rate for a batch's total squared error (default: 3e-5)",
    )
    parser.add_argument("--batch-size", type=positive_int, default=36, help="rows per batch (default: 36)")


def _model_argument(parser):
    parser.add_argument(
        "--model", type=Path, default=DEFAULT_MODEL, help=f"checkpoint from `run` (default: {DEFAULT_MODEL})"
    )


def _encode_arguments(parser):
    parser.add_argument(
        "inputs", nargs="+", type=Path, metavar="INPUT", help="image files or NIST36 .mat files"
    )
    _model_argument(parser)
    parser.add_argument(
        "--output", type=Path, default=Path("codes.npz"), help="codes file (default: codes.npz)"
    )
    parser.add_argument("--float32", action="store_true", help="store codes as float32 (default: float16)")


def _decode_arguments(parser):
    parser.add_argument("codes", type=Path, help="a codes file written by encode")
    _model_argument(parser)
    parser.add_argument("--out", type=Path, default=Path("runs/compression-decoded"), help="output folder")


VERBS = [
    Verb(
        "run",
        help="train the autoencoder, fit PCA, compare both and JPEG",
        description="Train the 1024-32-32-32-1024 autoencoder (total squared error, momentum) on the "
        "NIST36 training split (or the embedded default), fit PCA with 32 components, and write "
        "autoencoder.npz, metrics.json (PSNR, parameter counts, projection shape and rank, "
        "rate-distortion points), loss.png, reconstructions.png and rate_distortion.png to --out.",
        run=run.run,
        default_out="runs/compression",
        add_arguments=_run_arguments,
    ),
    Verb(
        "encode",
        help="images (or a NIST36 .mat split) -> 32-number codes",
        description="Encode images with a trained autoencoder.",
        run=codec.run_encode,
        add_arguments=_encode_arguments,
    ),
    Verb(
        "decode",
        help="codes -> images",
        description="Decode codes.npz into decoded.npz (NIST36 rows) and decoded.png.",
        run=codec.run_decode,
        add_arguments=_decode_arguments,
    ),
]

main = command_line("python -m compression", DESCRIPTION, VERBS, prepare=keep_freed_memory)


if __name__ == "__main__":
    sys.exit(run_command(main))
