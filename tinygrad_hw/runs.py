"""What every command of the project shares: its options, its output files, its error handling.

Every command takes `--data-dir` (default `$TINYGRAD_HW_DATA`), `--out DIR` and `--seed`, writes its
numbers to `DIR/metrics.json` and its figures as PNG beside it, and writes every file atomically (a
temporary file renamed into place), so an interrupted run never leaves a half-written result.
Results go to stdout; progress and messages go to stderr. A mistake the user can fix ends the
command with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

DATA_ENV = "TINYGRAD_HW_DATA"


class UserError(Exception):
    """A problem with the user's input, reported as one line."""


def add_common_arguments(parser: argparse.ArgumentParser, default_out: str) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=os.environ.get(DATA_ENV) or None,
        help=f"data root (default: ${DATA_ENV}, else the embedded default generated locally)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(default_out),
        help=f"folder for metrics.json and figures (default: {default_out})",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def message(text: str) -> None:
    """A progress or status line, for the human watching: stderr."""
    print(text, file=sys.stderr, flush=True)


def run_command(main, argv=None) -> int:
    """Run `main(argv)`, turning a UserError (or an unwritable output) into one line and exit 2.

    An int that `main` returns is the exit status (a report with a failed part returns 1)."""
    try:
        status = main(argv)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; no partial results were written", file=sys.stderr)
        return 130
    except OSError as error:
        print(f"error: {error.strerror or error}: {error.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    return status if isinstance(status, int) else 0


# -- atomic output -----------------------------------------------------------------------------


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to `path` through a temporary file in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: Path, obj) -> Path:
    return write_bytes_atomic(path, (json.dumps(obj, indent=2, default=_jsonable) + "\n").encode())


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"cannot store {type(x).__name__} in JSON")


def save_figure(path: Path, figure) -> Path:
    """Save a matplotlib Figure as PNG, atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    return write_bytes_atomic(path, buffer.getvalue())


def save_arrays(path: Path, arrays: dict) -> Path:
    """Save named arrays as an uncompressed .npz (no pickle), atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return write_bytes_atomic(path, buffer.getvalue())


def load_arrays(path: Path) -> dict:
    """Load a .npz written by `save_arrays`, refusing pickled objects."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (ValueError, OSError) as error:
        raise UserError(f"{path}: not a readable .npz checkpoint ({error})") from None


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory instead of returning it to the system.

    Training allocates and frees the same large arrays every step (a 1024 x 64 float64 weight
    matrix is 512 KiB). By default glibc hands such blocks back to the kernel and takes them
    again, so every step pays hundreds of page faults: on the 2-core machines here that doubled
    the time of a hand-written numpy epoch. Commands (never the library on import) call this
    once; it returns False where the C library is not glibc.
    """
    import ctypes
    import ctypes.util

    m_trim_threshold, m_mmap_threshold = -1, -3
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    limit = 1 << 30
    return bool(mallopt(m_trim_threshold, limit)) and bool(mallopt(m_mmap_threshold, 32 << 20))
