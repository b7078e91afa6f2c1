"""`python -m tinygrad_hw primitives`: every registered primitive with the first line of its docstring."""

from __future__ import annotations

from tinygrad_hw.primitive import REGISTRY


def run() -> None:
    for name, prim in sorted(REGISTRY.items()):
        summary = (prim.__doc__ or "").strip().splitlines()[0] if prim.__doc__ else ""
        print(f"{name:24s} {summary}")
