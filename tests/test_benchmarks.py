"""The benchmark compares like with like: the three versions train the same model identically."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import mlp_epoch

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("batch_size", [1, 7, 32])
def test_engine_and_hand_written_numpy_reach_the_same_weights(batch_size):
    _, difference = mlp_epoch.time_epochs(batch_size, np.float64, rows=64, repeats=1, with_torch=False)
    assert difference < 1e-12


def test_pytorch_version_reaches_the_same_weights():
    pytest.importorskip("torch")
    _, difference = mlp_epoch.time_epochs(16, np.float64, rows=64, repeats=1, with_torch=True)
    assert difference < 1e-12


def test_benchmark_command_writes_its_table_and_metrics(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "mlp-epoch", "--out", str(tmp_path), "--rows", "96",
         "--batch-sizes", "32", "--dtypes", "float64", "--repeats", "1", "--no-torch"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "| 32 | float64 |" in result.stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["epochs"][0]["max_weight_difference"] < 1e-12
    assert set(metrics["epochs"][0]["seconds"]) == {"engine", "numpy"}
    assert (tmp_path / "ratios.png").stat().st_size > 1000
