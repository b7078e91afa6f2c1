"""`python -m benchmarks mlp-epoch`: one MLP training epoch, engine vs hand-written numpy vs PyTorch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from tinygrad_hw.app.cli import note_unused_data_dir
from tinygrad_hw.app.files import save_figure, write_json
from tinygrad_hw.app.memory import keep_freed_memory

from .. import mlp_epoch, suite
from ..figures import mlp_ratio_figure, mlp_table
from ..targets import mlp_targets


def run(
    *,
    out: Path,
    data_dir: Path | None,
    seed: int,
    rows: int,
    batch_sizes: list[int],
    dtypes: list[str],
    repeats: int,
    min_seconds: float,
    no_torch: bool,
    system_malloc: bool,
) -> None:
    with_torch = not no_torch and suite.torch_available()
    tuned = False if system_malloc else keep_freed_memory()
    note_unused_data_dir(data_dir, "this benchmark")
    out.mkdir(parents=True, exist_ok=True)

    table = []
    configurations = [(b, d) for b in batch_sizes for d in dtypes]
    for batch, dtype in tqdm(configurations, desc="mlp epoch", unit="config", disable=None):
        seconds, difference = mlp_epoch.time_epochs(
            batch, np.dtype(dtype).type, rows, repeats, with_torch=with_torch, min_seconds=min_seconds
        )
        table.append(
            {"batch": batch, "dtype": dtype, "seconds": seconds, "max_weight_difference": difference}
        )
    overhead = mlp_epoch.primitive_overhead()

    print(mlp_table(table))
    print()
    print(_overhead_line(overhead))
    verdicts = mlp_targets(table) if with_torch else []
    for name, met, detail in verdicts:
        print(f"{'met    ' if met else 'NOT met'}  {name}  ({detail})")
    metrics = {
        "rows_per_epoch": rows,
        "repeats": repeats,
        "min_seconds": min_seconds,
        "malloc_keeps_freed_memory": tuned,
        "machine": suite.machine(),
        "epochs": table,
        "seconds_per_primitive": overhead,
        "targets": [{"target": n, "met": m, "detail": d} for n, m, d in verdicts],
    }
    write_json(out / "metrics.json", metrics)
    save_figure(out / "ratios.png", mlp_ratio_figure(table))


def _overhead_line(overhead):
    parts = [f"{name} {seconds * 1e6:.2f} us" for name, seconds in overhead.items()]
    return "one small primitive with its VJP (forward + backward, per op in a chain): " + ", ".join(parts)
