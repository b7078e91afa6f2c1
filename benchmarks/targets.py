"""The engine's speed targets against hand-written numpy and PyTorch, checked on measured ratios."""

from __future__ import annotations

# (target, baseline, which batch sizes it applies to, largest allowed engine / baseline time)
TARGETS = (
    ("engine <= 1.10x hand-written numpy at batch >= 32", "numpy", lambda b: b >= 32, 1.10),
    ("engine faster than PyTorch CPU at batch <= 128", "torch", lambda b: b <= 128, 1.0),
    ("engine within 1.1x of PyTorch CPU at batch 1024", "torch", lambda b: b == 1024, 1.1),
)


def mlp_targets(rows) -> list[tuple[str, bool, str]]:
    """(target, met, worst case) for each target that applies to the measured MLP epoch rows."""
    verdicts = []
    for name, baseline, applies, limit in TARGETS:
        ratios = [
            (r["batch"], r["dtype"], r["seconds"]["engine"] / r["seconds"][baseline])
            for r in rows
            if applies(r["batch"]) and baseline in r["seconds"]
        ]
        if not ratios:
            continue
        worst = max(ratios, key=lambda t: t[2])
        met = all(q <= limit if limit != 1.0 else q < limit for _, _, q in ratios)
        verdicts.append((name, met, f"worst {worst[2]:.2f} at batch {worst[0]} {worst[1]}"))
    return verdicts


def speed_targets(speed) -> list[dict]:
    return [{"target": n, "met": m, "detail": d} for n, m, d in mlp_targets(speed["mlp_epoch"]["table"])]
