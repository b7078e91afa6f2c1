"""Where a training step's time goes: a per-primitive table, like PyTorch's profiler.

`profile(f, *args)` times `value_and_grad(f)(*args)`: for each primitive, how often it ran and how
long its forward computations and its VJPs took (a primitive called inside another's forward or
rule counts for the outer one), and what is left over, the engine's own bookkeeping and the
model's Python. Profile before optimising: the table says which kernel is worth a faster path and
whether the per-operation overhead matters at all.

It works by wrapping, for the duration of the measurement only, every registered primitive's
forward function and VJPs with timers. The table's times and shares are of those instrumented
runs; the timers' own cost (measured on an empty function, times the number of timed calls) is
shown on a line of its own, and the step's time without timers below it.
"""

from __future__ import annotations

import dataclasses
import time
import timeit

from .autodiff import value_and_grad
from .primitive import REGISTRY


@dataclasses.dataclass
class PrimitiveTime:
    name: str
    forward_calls: int = 0
    forward_seconds: float = 0.0
    backward_calls: int = 0
    backward_seconds: float = 0.0

    @property
    def seconds(self):
        return self.forward_seconds + self.backward_seconds


@dataclasses.dataclass
class Profile:
    """Per-primitive times of one step, the step as profiled (both averaged over the same
    instrumented repeats, so that the parts add up to the whole) and the step without timers."""

    primitives: list[PrimitiveTime]
    step_seconds: float  # median of the plain runs: the step's real time
    profiled_seconds: float = 0.0  # mean of the instrumented runs the table's times come from
    timer_seconds: float = 0.0  # what the timers themselves add to a profiled step (an estimate)

    @property
    def other_seconds(self):
        """Time in no primitive: recording, the backward walk, the model's Python."""
        parts = sum(p.seconds for p in self.primitives) + self.timer_seconds
        return max(0.0, self.profiled_seconds - parts)

    def table(self):
        rows = sorted(self.primitives, key=lambda p: -p.seconds)
        width = max([24] + [len(p.name) for p in rows])
        head = (
            f"{'primitive':<{width}} {'calls':>6} {'forward ms':>11} {'backward ms':>12} "
            f"{'total ms':>9} {'share':>7}"
        )
        lines = [head, "-" * len(head)]
        for p in rows:
            lines.append(
                f"{p.name:<{width}} {p.forward_calls:>6} {1e3 * p.forward_seconds:>11.3f} "
                f"{1e3 * p.backward_seconds:>12.3f} {1e3 * p.seconds:>9.3f} {self._share(p.seconds):>7}"
            )
        lines.append("-" * len(head))
        lines.append(
            f"{'engine and Python':<{width}} {'':>6} {'':>11} {'':>12} "
            f"{1e3 * self.other_seconds:>9.3f} {self._share(self.other_seconds):>7}"
        )
        lines.append(
            f"{'timers (estimated)':<{width}} {'':>6} {'':>11} {'':>12} "
            f"{1e3 * self.timer_seconds:>9.3f} {self._share(self.timer_seconds):>7}"
        )
        lines.append(
            f"{'step, as profiled':<{width}} {'':>6} {'':>11} {'':>12} "
            f"{1e3 * self.profiled_seconds:>9.3f} {'100%':>7}"
        )
        plain = f"{1e3 * self.step_seconds:>9.3f}"
        lines.append(f"{'step without timers':<{width}} {'':>6} {'':>11} {'':>12} {plain}")
        return "\n".join(lines)

    def _share(self, seconds):
        return f"{100 * seconds / self.profiled_seconds:.1f}%" if self.profiled_seconds else "-"


def profile(f, *args, argnums=0, repeat=5):
    """Profile `value_and_grad(f, argnums)(*args)`: returns a Profile (print `.table()`).

    The step runs once to warm up, `repeat` times plain (its time is the median of those) and
    `repeat` times instrumented: the per-primitive times, and the profiled step they are shares
    of, are the means of those (a median beside means read 0 ms outside the primitives, whatever
    the engine's overhead, whenever one instrumented run was slow).
    """
    step = value_and_grad(f, argnums)
    step(*args)
    plain = []
    for _ in range(repeat):
        start = time.perf_counter()
        step(*args)
        plain.append(time.perf_counter() - start)
    stats = {name: PrimitiveTime(name) for name in REGISTRY}
    profiled = 0.0
    with _instrumented(stats):
        for _ in range(repeat):
            start = time.perf_counter()
            step(*args)
            profiled += time.perf_counter() - start
    used = []
    for p in stats.values():
        if p.forward_calls or p.backward_calls:
            used.append(
                PrimitiveTime(
                    p.name,
                    p.forward_calls // repeat,
                    p.forward_seconds / repeat,
                    p.backward_calls // repeat,
                    p.backward_seconds / repeat,
                )
            )
    calls = sum(p.forward_calls + p.backward_calls for p in used)
    return Profile(used, sorted(plain)[len(plain) // 2], profiled / repeat, calls * _timer_cost())


def _timer_cost(calls=2000):
    """Seconds one timing wrapper adds to a call, measured around an empty function."""

    def empty():
        return None

    timed = _instrumented({})._timed(empty, PrimitiveTime("empty"), backward=False)
    plain = min(timeit.repeat(empty, number=calls, repeat=3))
    wrapped = min(timeit.repeat(timed, number=calls, repeat=3))
    return max(0.0, (wrapped - plain) / calls)


class _instrumented:
    """Wrap every primitive's forward and VJPs with self-timing wrappers, and undo it on exit."""

    def __init__(self, stats):
        self.stats = stats
        self.depth = 0  # how many timed calls are open: only the outermost is timed
        self.saved = []

    def __enter__(self):
        for prim in REGISTRY.values():
            self.saved.append((prim, prim.forward, prim.forward_saving, dict(prim.vjps), prim.vjp_argnum))
            stats = self.stats[prim.name]
            prim.forward = self._timed(prim.forward, stats, backward=False)
            if prim.forward_saving is not None:  # what a first-order trace calls instead of forward
                prim.forward_saving = self._timed(prim.forward_saving, stats, backward=False)
            prim.vjps = {i: self._timed(v, stats, backward=True) for i, v in prim.vjps.items()}
            if prim.vjp_argnum is not None:
                prim.vjp_argnum = self._timed(prim.vjp_argnum, stats, backward=True)
        return self

    def __exit__(self, *exc):
        for prim, forward, forward_saving, vjps, vjp_argnum in self.saved:
            prim.forward, prim.forward_saving = forward, forward_saving
            prim.vjps, prim.vjp_argnum = vjps, vjp_argnum
        return False

    def _timed(self, function, stats, backward):
        def timed(*args, **kwargs):
            if self.depth:  # a primitive inside another's forward or VJP counts for that one
                return function(*args, **kwargs)
            self.depth += 1
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                self.depth -= 1
                if backward:
                    stats.backward_calls += 1
                    stats.backward_seconds += elapsed
                else:
                    stats.forward_calls += 1
                    stats.forward_seconds += elapsed

        return timed
