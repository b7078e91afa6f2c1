"""Learning-rate schedules: functions from a step (or epoch) number, counted from 0, to a rate.

Large steps early explore; small steps late settle into a minimum instead of bouncing around it;
a short warmup keeps the first steps of a freshly initialised network (or of Adam, whose moment
estimates start at zero) from overshooting.
"""

from __future__ import annotations

import math


def constant_schedule(lr):
    return lambda step: lr


def cosine_schedule(lr, steps, final_lr=0.0):
    """From `lr` at step 0 down to `final_lr` at `steps` along half a cosine (then flat)."""

    def rate(step):
        progress = min(step, steps) / steps
        return final_lr + (lr - final_lr) * 0.5 * (1 + math.cos(math.pi * progress))

    return rate


def step_schedule(lr, step_size, gamma=0.1):
    """`lr` multiplied by `gamma` every `step_size` steps (PyTorch's StepLR)."""
    return lambda step: lr * gamma ** (step // step_size)


def warmup(schedule, warmup_steps, start_factor=0.0):
    """Rise linearly from start_factor * schedule(0) to schedule(0) over `warmup_steps`, then
    follow `schedule` (shifted, so that it starts where the warmup ends)."""

    def rate(step):
        if step < warmup_steps:
            fraction = start_factor + (1 - start_factor) * step / warmup_steps
            return fraction * schedule(0)
        return schedule(step - warmup_steps)

    return rate


def one_cycle_schedule(max_lr, steps, warmup_fraction=0.25, start_divisor=25.0, final_divisor=1e4):
    """Leslie Smith's one-cycle policy, with cosine phases as PyTorch's OneCycleLR: up from
    max_lr / start_divisor to max_lr over the first `warmup_fraction` of the steps, then down to
    max_lr / (start_divisor * final_divisor)."""
    peak = max(1, int(warmup_fraction * steps))
    start, final = max_lr / start_divisor, max_lr / (start_divisor * final_divisor)

    def rate(step):
        if step < peak:
            return _cosine_between(start, max_lr, step / peak)
        return _cosine_between(max_lr, final, min(1.0, (step - peak) / max(1, steps - peak)))

    return rate


def _cosine_between(begin, end, progress):
    return end + (begin - end) * 0.5 * (1 + math.cos(math.pi * progress))
