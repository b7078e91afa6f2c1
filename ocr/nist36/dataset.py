"""The data a command trains on: the course's NIST36 files from a data folder, or the embedded default."""

from __future__ import annotations

from pathlib import Path

from tinygrad_hw.app.cli import message

from .course_files import load_nist36
from .embedded import load_synthetic
from .layout import SPLITS, Split


def load_dataset(data_dir: Path | None, seed: int = 0) -> tuple[dict[str, Split], str]:
    """NIST36 from `data_dir`, or the embedded default when none is given; and a description."""
    if data_dir is None:
        message("no --data-dir (and $TINYGRAD_HW_DATA unset): using the embedded default dataset")
        return load_synthetic(seed), "embedded default (characters rendered from matplotlib's fonts)"
    splits = load_nist36(data_dir)
    sizes = ", ".join(f"{s} {len(splits[s])}" for s in SPLITS)
    message(f"NIST36 from {data_dir}: {sizes}")
    return splits, f"NIST36 from {data_dir}"
