"""The OpenBLAS kernels that numpy's matrix products run on: chosen by the commands, before numpy loads.

OpenBLAS picks its kernels once, when numpy loads it, from the CPU or else from the environment
variable OPENBLAS_CORETYPE. On AMD Zen 4 (family 19h with AVX-512) it picks its AVX-512 "SkylakeX"
kernels, and its AVX2 "Zen" kernels ran the engine's convolutions faster there. One CNN training
step on this project's 2-core Zen 4 machine, best of 40, SkylakeX -> Zen kernels: the OCR CNN at
batch 64 17.5 -> 16.1 ms, at batch 256 69.6 -> 62.6 ms, the CIFAR-shaped 3x3 network 27.9 -> 24.4 ms
(its convolution's forward product 6.6 -> 5.4 ms, its input gradient 6.0 -> 4.9 ms).

Every `python -m` command of the project imports this module before anything imports numpy (it is
the first import of their `__main__.py`); importing it calls `prefer_zen_kernels()`, which does
nothing where OPENBLAS_CORETYPE is already set, where numpy is already loaded, or on another CPU.
Your own scripts get the same by exporting OPENBLAS_CORETYPE=Zen before Python starts.
`python -m tinygrad_hw` cannot choose: the engine loads numpy before its command line runs.

Standard library only: this module must be importable before numpy.
"""

from __future__ import annotations

import os
import sys

VARIABLE = "OPENBLAS_CORETYPE"
ZEN = "Zen"


def is_zen4(cpuinfo: str) -> bool:
    """Whether the text of /proc/cpuinfo describes an AMD family 19h CPU with AVX-512: Zen 4.

    (Zen 3 is family 19h without AVX-512; OpenBLAS already picks its Zen kernels there.)
    """
    fields = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            break  # the first processor's block describes them all
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return (
        fields.get("vendor_id") == "AuthenticAMD"
        and fields.get("cpu family") == "25"
        and "avx512f" in fields.get("flags", "").split()
    )


def prefer_zen_kernels(environ=os.environ, cpuinfo_path="/proc/cpuinfo", modules=sys.modules) -> str | None:
    """Set OPENBLAS_CORETYPE=Zen on Zen 4 if nobody chose and numpy has not loaded OpenBLAS yet.

    Returns the value set, or None where it left things as they were.
    """
    if VARIABLE in environ or "numpy" in modules:
        return None
    try:
        with open(cpuinfo_path) as cpuinfo:
            text = cpuinfo.read()
    except OSError:
        return None
    if not is_zen4(text):
        return None
    environ[VARIABLE] = ZEN
    return ZEN


def kernels_in_use(environ=os.environ) -> str:
    """A line for reports: the kernels that were asked for, or OpenBLAS's own choice."""
    chosen = environ.get(VARIABLE)
    return f"{VARIABLE}={chosen}" if chosen else "OpenBLAS's own choice of kernels"


prefer_zen_kernels()
