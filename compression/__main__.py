"""Command line: `python -m compression run | encode | decode`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tinygrad_hw.app.cli import add_common_arguments, run_command
from tinygrad_hw.app.memory import keep_freed_memory

from . import run_command as run_verb


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m compression",
        description="Compress 32 x 32 character images: an autoencoder on the tinygrad_hw engine "
        "against PCA and JPEG.",
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    run = verbs.add_parser(
        "run",
        help="train the autoencoder, fit PCA, compare both and JPEG",
        description="Train the 1024-32-32-32-1024 autoencoder (total squared error, momentum) on the "
        "NIST36 training split (or the embedded default), fit PCA with 32 components, and write "
        "autoencoder.npz, metrics.json (PSNR, parameter counts, projection shape and rank, "
        "rate-distortion points), loss.png, reconstructions.png and rate_distortion.png to --out.",
    )
    add_common_arguments(run, default_out="runs/compression")
    run_verb.add_arguments(run)

    encode = verbs.add_parser("encode", help="images (or a NIST36 .mat split) -> 32-number codes",
                              description="Encode images with a trained autoencoder.")  # fmt: skip
    encode.add_argument(
        "inputs", nargs="+", type=Path, metavar="INPUT", help="image files or NIST36 .mat files"
    )
    encode.add_argument("--model", type=Path, default=Path("runs/compression/autoencoder.npz"),
                        help="checkpoint from `run` (default: runs/compression/autoencoder.npz)")  # fmt: skip
    encode.add_argument(
        "--output", type=Path, default=Path("codes.npz"), help="codes file (default: codes.npz)"
    )
    encode.add_argument("--float32", action="store_true", help="store codes as float32 (default: float16)")

    decode = verbs.add_parser("decode", help="codes -> images",
                              description="Decode codes.npz into decoded.npz (NIST36 rows) and "
                              "decoded.png.")  # fmt: skip
    decode.add_argument("codes", type=Path, help="a codes file written by encode")
    decode.add_argument("--model", type=Path, default=Path("runs/compression/autoencoder.npz"),
                        help="checkpoint from `run` (default: runs/compression/autoencoder.npz)")  # fmt: skip
    decode.add_argument("--out", type=Path, default=Path("runs/compression-decoded"), help="output folder")
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    keep_freed_memory()
    if args.verb == "run":
        run_verb.run(args)
    else:
        from . import codec

        (codec.run_encode if args.verb == "encode" else codec.run_decode)(args)


if __name__ == "__main__":
    sys.exit(run_command(main))
