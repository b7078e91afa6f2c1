"""The project's contract: commands, layering, and the README's promises that CI relies on."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args, env=None):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env
    )


def test_engine_demo_prints_a_falling_loss_passes_its_gradient_check_and_writes_results(tmp_path):
    result = _run("-m", "tinygrad_hw", "demo", "--out", str(tmp_path), "--epochs", "40", "--seed", "1")
    assert result.returncode == 0, result.stderr
    losses = [float(v) for v in re.findall(r"loss (\d+\.\d+)", result.stdout)]
    assert len(losses) >= 3 and losses[-1] < 0.5 * losses[0]
    assert "gradient check passed" in result.stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["final_loss"] < metrics["initial_loss"] and metrics["epochs"] == 40
    for figure in ("loss.png", "decision_regions.png"):
        assert (tmp_path / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "wrote" in result.stderr and "wrote" not in result.stdout


def test_demo_is_reproducible_with_a_seed(tmp_path):
    runs = [
        _run("-m", "tinygrad_hw", "demo", "--out", str(tmp_path / str(i)), "--epochs", "5") for i in (1, 2)
    ]
    assert runs[0].stdout == runs[1].stdout


def test_bad_arguments_give_one_line_and_no_traceback(tmp_path):
    result = _run("-m", "tinygrad_hw", "demo", "--epochs", "0", "--out", str(tmp_path))
    assert result.returncode == 2 and "must be a positive integer" in result.stderr
    assert "Traceback" not in result.stderr
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    result = _run("-m", "tinygrad_hw", "demo", "--epochs", "2", "--out", str(blocked / "sub"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert [line.startswith("error: ") for line in result.stderr.strip().splitlines()] == [True]


def test_help_explains_every_option():
    result = _run("-m", "tinygrad_hw", "demo", "--help")
    for option in ("--data-dir", "--out", "--seed", "--epochs", "--lr", "--batch-size", "TINYGRAD_HW_DATA"):
        assert option in result.stdout


def test_engine_and_pipeline_packages_import_without_torch():
    code = "import sys; sys.modules['torch'] = None; import tinygrad_hw, ocr, compression; print('ok')"
    result = _run("-c", code)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr  # and see test_layering


def test_ci_runs_exactly_the_readme_test_command_with_the_shared_data():
    readme = (ROOT / "README.md").read_text().splitlines()
    commands = [line.strip() for line in readme[:12] if line.startswith("    ")]
    assert len(commands) == 2, "the README opens with two commands: the main job and the tests"
    assert "python -m ocr demo" in commands[0]
    test_command = commands[1]
    assert "pytest" in test_command and "[torch,pretrained,dev]" in test_command
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()
    assert "TINYGRAD_HW_DATA" in ci and "../shared/data" in ci and "ruff check" in ci
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
