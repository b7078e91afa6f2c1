"""The project-wide cache folder: generated data, trained models, decompressed downloads.

`$TINYGRAD_HW_CACHE` when set, else `tinygrad_hw` under `$XDG_CACHE_HOME` or `~/.cache`.
Everything in it can be made again; deleting it only costs time.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "TINYGRAD_HW_CACHE"


def cache_dir() -> Path:
    root = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "tinygrad_hw"
    )
    return Path(root)
