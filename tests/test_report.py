"""The report: which parts run where, and an HTML page that renders with every image loaded."""

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from benchmarks import html_page, parts
from benchmarks.__main__ import part_list


def _figure(path):
    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([0, 1], [1, 0])
    fig.savefig(path)


def _page(tmp_path):
    (tmp_path / "classifier").mkdir()
    _figure(tmp_path / "classifier" / "curves.png")
    _figure(tmp_path / "classifier" / "confusion.png")
    parts = [
        {
            "name": "classifier",
            "heading": "Q3: training",
            "command": "python -m ocr train",
            "folder": "classifier",
            "status": "ok",
            "seconds": 3.0,
            "stdout": "trained\n| model | test |\n|---|---|\n| mlp | 0.84 |\ndone",
            "metrics": {"test_accuracy": 0.84, "history": [1, 2, 3]},
        },
        {
            "name": "cnn-cifar10",
            "heading": "Q7.1.3: CIFAR-10",
            "command": "python -m torch_track cnn-cifar10",
            "folder": "cnn-cifar10",
            "status": "skipped",
            "reason": "CIFAR-10 is not in data",
        },
    ]
    return html_page.write_page(tmp_path, parts)


def test_page_has_each_parts_heading_tables_numbers_figures_and_skips(tmp_path):
    text = _page(tmp_path).read_text()
    assert '<h2 id="classifier">Q3: training</h2>' in text and "Q7.1.3: CIFAR-10" in text
    assert "<th>model</th>" in text and "<td>0.84</td>" in text and "---" not in text
    assert "<td>test_accuracy</td><td>0.84</td>" in text and "history" not in text
    assert 'src="classifier/confusion.png"' in text and 'src="classifier/curves.png"' in text
    assert "skipped</span> (CIFAR-10 is not in data)" in text


def test_parts_without_their_data_or_torch_are_skipped_with_the_reason(tmp_path):
    assert parts.skip_reason(("torch", "flowers17"), None).startswith("no data folder")
    assert parts.skip_reason(("torch", "MNIST/raw"), tmp_path) == f"{tmp_path / 'MNIST/raw'} is missing"
    assert "cannot be downloaded" in parts.skip_reason(("torch", "cifar10"), tmp_path)
    (tmp_path / "cifar10" / "cifar-10-batches-py").mkdir(parents=True)
    assert parts.skip_reason(("torch", "cifar10"), tmp_path) is None
    assert parts.skip_reason((), None) is None
    (tmp_path / "tree" / "cifar10" / "train").mkdir(parents=True)  # the ImageFolder form of CIFAR-10
    assert parts.skip_reason(("torch", "cifar10"), tmp_path / "tree") is None


def test_the_imagefolder_parts_take_any_tree_given_with_images(tmp_path):
    pytest.importorskip("torch")
    result = parts.run_part("imagefolder", tmp_path, None, 0, True, {}, images=tmp_path / "nowhere")
    assert result["command"].endswith(f"--images {tmp_path / 'nowhere'}")  # no flowers17 needed, none used
    assert result["status"] == "failed" and "nowhere: no such folder" in result["reason"]


def test_a_part_uses_another_parts_model_only_when_that_part_made_one(tmp_path):
    folders = {"engine-cnn": str(tmp_path / "engine-cnn")}
    reading = ["demo", "--model", "{engine-cnn}/model.npz"]
    assert parts.part_arguments(reading, folders) == ["demo"]
    assert parts.part_arguments(["train", "--model", "cnn"], folders) == ["train", "--model", "cnn"]
    (tmp_path / "engine-cnn").mkdir()
    (tmp_path / "engine-cnn" / "model.npz").write_bytes(b"")
    assert parts.part_arguments(reading, folders) == [
        "demo",
        "--model",
        str(tmp_path / "engine-cnn" / "model.npz"),
    ]


def test_unknown_parts_are_refused_with_the_list():
    assert part_list("engine,compression") == ["engine", "compression"]
    with pytest.raises(argparse.ArgumentTypeError, match="unknown part nope.*engine,classifier"):
        part_list("engine,nope")


@pytest.mark.skipif(
    html_page.chromium() is None, reason="Chromium is not installed (Debian: apt install chromium)"
)
def test_page_renders_in_headless_chromium_with_every_image_loaded(tmp_path):
    index = _page(tmp_path)
    assert html_page.check_render(index) == {"images": 2, "loaded": 2}
    shutil.copy(tmp_path / "classifier" / "curves.png", tmp_path / "spare.png")
    (tmp_path / "classifier" / "curves.png").unlink()  # a missing figure must be noticed
    assert html_page.check_render(index) == {"images": 2, "loaded": 1}


def test_report_command_runs_a_part_and_writes_the_page_and_its_metrics(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TINYGRAD_HW_DATA"}
    out = tmp_path / "report"
    command = ["report", "--parts", "engine,cnn-mnist", "--quick", "--out", str(out)]
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", *command],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert [(p["name"], p["status"]) for p in metrics["parts"]] == [
        ("engine", "ok"),
        ("cnn-mnist", "skipped"),
    ]
    page = (out / "index.html").read_text()
    assert 'src="engine/loss.png"' in page and "no data folder" in page
    if html_page.chromium() is not None:
        assert metrics["render"]["images"] == metrics["render"]["loaded"] >= 2
