"""MNIST and EMNIST for torchvision, from gzip IDX files that are already on disk.

torchvision's MNIST and EMNIST classes read *uncompressed* IDX files from `<root>/<NAME>/raw/`, and
would download them if absent, which cannot happen here. The data folder holds the files as NIST
published them (gzip), so `prepare` decompresses them once into a cache folder (each file written
atomically, and skipped when already there) and returns the root to hand to torchvision with
`download=False`.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from tinygrad_hw.app.cli import UserError, message
from tinygrad_hw.app.files import write_bytes_atomic


def prepare(data_dir: Path | None, cache_root: Path, name: str) -> Path:
    """Decompress `<data_dir>/<name>/raw/*.gz` into `<cache_root>/<name>/raw/`; return cache_root."""
    if data_dir is None:
        raise UserError(
            f"{name} needs a data folder (--data-dir or $TINYGRAD_HW_DATA) with {name}/raw/*.gz; "
            "it cannot be downloaded here"
        )
    source = Path(data_dir) / name / "raw"
    archives = sorted(source.glob("*.gz")) if source.is_dir() else []
    if not archives:
        raise UserError(f"{source}: no gzip IDX files of {name} there (they cannot be downloaded here)")
    target = Path(cache_root) / name / "raw"
    for archive in archives:
        unpacked = target / archive.stem
        if unpacked.exists():
            continue
        message(f"decompressing {archive.name} into {target}")
        try:
            with gzip.open(archive) as f:
                write_bytes_atomic(unpacked, f.read())
        except (OSError, EOFError) as error:
            raise UserError(f"{archive}: not a readable gzip file ({error})") from None
    for extra in source.glob("*.txt"):  # label mappings travel along
        if not (target / extra.name).exists():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(extra, target / extra.name)
    return Path(cache_root)
