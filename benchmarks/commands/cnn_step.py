"""`python -m benchmarks cnn-step`: one CNN training step, engine vs PyTorch, per configuration."""

from __future__ import annotations

import os
from pathlib import Path

import openblas_kernels
from tinygrad_hw.app.cli import UserError, message, note_unused_data_dir
from tinygrad_hw.app.files import write_json
from tinygrad_hw.app.memory import keep_freed_memory

from .. import cnn_step, suite


def run(
    *,
    out: Path,
    data_dir: Path | None,
    seed: int,
    configs: list[str],
    repeats: int,
    no_memory: bool,
    system_malloc: bool,
) -> None:
    if not suite.torch_available():
        raise UserError(
            "this benchmark compares with PyTorch, which is not installed (pip install -e '.[torch]')"
        )
    note_unused_data_dir(data_dir, "this benchmark")
    out.mkdir(parents=True, exist_ok=True)
    tuned = False if system_malloc else keep_freed_memory()
    results = []
    for config in configs:
        result = cnn_step.compare(config, repeats)
        if not no_memory:
            result["memory"] = {name: cnn_step.peak_memory(name, config) for name in ("engine", "torch")}
        results.append(result)
        cnn_step.print_row(result, header=len(results) == 1)
    kernels = openblas_kernels.kernels_in_use()
    message(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; the engine's BLAS: {kernels}")
    metrics = {"configs": results, "kept_freed_memory": tuned, "blas_kernels": kernels, "seed": seed}
    write_json(out / "metrics.json", metrics)
