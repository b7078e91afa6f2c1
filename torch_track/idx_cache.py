"""MNIST and EMNIST for torchvision, from gzip IDX files that are already on disk.

torchvision's MNIST and EMNIST classes read *uncompressed* IDX files from `<root>/<NAME>/raw/`, and
would download them if absent, which cannot happen here. The data folder holds the files as NIST
published them (gzip), so `prepare` decompresses them once into a cache folder and returns the root
to hand to torchvision with `download=False`. The cache is keyed by the archives' contents (a
SHA-256 of them all), not their names: a bad copy, later replaced by a good one, is never read
again. Each decompressed file is checked to be IDX (its header and length agree) before it is
written, atomically.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np

from tinygrad_hw.app.cli import UserError, message
from tinygrad_hw.app.files import write_bytes_atomic

_IDX_TYPES = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}  # IDX type code -> bytes per value
MAX_UNPACKED = 2 << 30  # bytes: no IDX file of these datasets comes near 2 GiB


def prepare(data_dir: Path | None, cache_root: Path, name: str) -> Path:
    """Decompress `<data_dir>/<name>/raw/*.gz` into a folder of the cache named for their contents,
    as `<root>/<name>/raw/`; return that root."""
    if data_dir is None:
        raise UserError(
            f"{name} needs a data folder (--data-dir or $TINYGRAD_HW_DATA) with {name}/raw/*.gz; "
            "it cannot be downloaded here"
        )
    source = Path(data_dir) / name / "raw"
    archives = sorted(source.glob("*.gz")) if source.is_dir() else []
    if not archives:
        raise UserError(f"{source}: no gzip IDX files of {name} there (they cannot be downloaded here)")
    root = Path(cache_root) / f"{name}-{_contents_key(archives)}"
    target = root / name / "raw"
    for archive in archives:
        unpacked = target / archive.stem
        if unpacked.exists():
            continue
        message(f"decompressing {archive.name} into {target}")
        write_bytes_atomic(unpacked, checked_idx(archive, _gunzip(archive)))
    for extra in source.glob("*.txt"):  # label mappings travel along
        if not (target / extra.name).exists():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(extra, target / extra.name)
    return root


def _contents_key(archives) -> str:
    digest = hashlib.sha256()
    for archive in archives:
        digest.update(archive.name.encode() + b"\0")
        with open(archive, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()[:16]


def _gunzip(archive: Path) -> bytes:
    try:
        with gzip.open(archive) as f:
            data = f.read(MAX_UNPACKED + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise UserError(f"{archive}: not a readable gzip file ({error})") from None
    if len(data) > MAX_UNPACKED:
        raise UserError(f"{archive}: unpacks to more than 2 GiB; not an IDX file of these datasets")
    return data


def checked_idx(archive: Path, data: bytes) -> bytes:
    """`data` when it is an IDX file (magic number, dimensions, and a length that matches them)."""
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in _IDX_TYPES or data[3] == 0:
        raise UserError(f"{archive}: does not hold an IDX file (no IDX magic number)")
    dims = data[3]
    if len(data) < 4 + 4 * dims:
        raise UserError(f"{archive}: its IDX header is cut short")
    shape = struct.unpack(f">{dims}I", data[4 : 4 + 4 * dims])
    expected = 4 + 4 * dims + int(np.prod(shape, dtype=np.int64)) * _IDX_TYPES[data[2]]
    if len(data) != expected:
        raise UserError(
            f"{archive}: its IDX header says {' x '.join(map(str, shape))} values ({expected} bytes), "
            f"but it holds {len(data)} bytes"
        )
    return data
