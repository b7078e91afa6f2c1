"""How commands that train ask the C library to keep freed memory (never done on import)."""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory instead of returning it to the system.

    Training allocates and frees the same large arrays every step (a 1024 x 64 float64 weight
    matrix is 512 KiB). By default glibc hands such blocks back to the kernel and takes them
    again, so every step pays hundreds of page faults: on the 2-core machines here that doubled
    the time of a hand-written numpy epoch. Commands (never the library on import) call this
    once; it returns False where the C library is not glibc.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    limit = 1 << 30
    return bool(mallopt(_M_TRIM_THRESHOLD, limit)) and bool(mallopt(_M_MMAP_THRESHOLD, 32 << 20))
