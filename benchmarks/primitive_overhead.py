"""What the engine adds to each registered primitive: its cost beyond the numpy kernels it runs.

For every primitive, on the small inputs of its own gradient-check recipe (sides of 1 to 4, so
that the kernels cost next to nothing and the bookkeeping shows), two things are timed:
  * engine: `tg.vjp` of the primitive and its pullback: a trace, a Tensor, the tape, the backward
    walk, and the checks on inputs and outputs;
  * kernels: the same forward function and VJP rules called directly on arrays.
The difference is the engine's overhead per primitive, forward and backward together. It includes
the fixed cost of one `vjp` call; inside a larger function that cost is shared by all its
primitives (`mlp_epoch.primitive_overhead` measures a primitive inside a chain of 200).
"""

from __future__ import annotations

import numpy as np

import tinygrad_hw as tg
from tinygrad_hw.sampling import RandomDraw

from .mlp_epoch import _seconds


def _floating(args):
    """Positions of the arguments that are differentiated (a condition or an order is not)."""
    return [i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f"]


def _engine(prim, args, params):
    varying = _floating(args)

    def f(*xs):
        full = list(args)
        for i, x in zip(varying, xs):
            full[i] = x
        return prim(*full, **params)

    def run():
        value, pullback = tg.vjp(f, *[args[i] for i in varying])
        pullback(np.ones_like(value))

    return run


def _kernels(prim, args, params):
    varying = _floating(args)

    def run():
        ans = prim.forward(*args, **params)
        g = np.ones_like(ans)
        for i in varying:
            rule = prim.vjp_for(i)
            if rule is not None:
                rule(g, ans, *args, **params)

    return run


def _best_of_interleaved(engine, kernels, repeats, inner=20):
    """Best seconds per call of each, their repeats alternating so that both meet the same machine."""
    times = {"engine": [], "kernels": []}
    for _ in range(repeats):
        for name, fn in (("engine", engine), ("kernels", kernels)):
            times[name].append(_seconds(lambda fn=fn: [fn() for _ in range(inner)]) / inner)
    return min(times["engine"]), min(times["kernels"])


def per_primitive(repeats=30) -> list[dict]:
    """One row per registered primitive: microseconds on the engine, in the bare kernels, and the
    difference."""
    rows = []
    for name, prim in sorted(tg.REGISTRY.items()):
        args, params = prim.sample(RandomDraw(0))
        engine, kernels = _best_of_interleaved(
            _engine(prim, args, params), _kernels(prim, args, params), repeats
        )
        rows.append(
            {
                "primitive": name,
                "engine_us": engine * 1e6,
                "kernels_us": kernels * 1e6,
                "overhead_us": (engine - kernels) * 1e6,
            }
        )
    return rows
