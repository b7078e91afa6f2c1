"""`python -m benchmarks hvp`: a Hessian-vector product (forward over reverse) against one gradient."""

from __future__ import annotations

from pathlib import Path

from tinygrad_hw.app.cli import note_unused_data_dir
from tinygrad_hw.app.files import write_json

from .. import hvp_cost


def run(*, out: Path, data_dir: Path | None, seed: int, repeats: int) -> None:
    note_unused_data_dir(data_dir, "this benchmark")
    out.mkdir(parents=True, exist_ok=True)
    rows = hvp_cost.time_hvp(repeats=repeats, seed=seed)
    print("| problem | gradient ms | hvp ms | hvp / gradient |\n|---|---|---|---|")
    for row in rows:
        times = f"{1e3 * row['gradient_s']:.2f} | {1e3 * row['hvp_s']:.2f}"
        print(f"| {row['problem']} | {times} | {row['ratio']:.2f} |")
    worst = max(row["ratio"] for row in rows)
    print(f"- {'met' if worst <= 3 else '**NOT met**'}: hvp <= 3x one gradient (worst {worst:.2f})")
    write_json(out / "metrics.json", {"rows": rows, "target": 3.0, "met": worst <= 3, "seed": seed})
