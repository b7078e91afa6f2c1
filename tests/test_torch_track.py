"""torch_track: the PyTorch counterparts agree with the engine and follow the project's conventions."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io

import tinygrad_hw as tg
from ocr.models import init_mlp, mlp
from ocr.synthetic import make_split

torch = pytest.importorskip("torch")

from torch_track.common import load_state  # noqa: E402
from torch_track.fc import FC, engine_gradients, from_engine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_fc_gradients_equal_the_engines_from_the_same_weights_and_batch():
    rng = np.random.default_rng(0)
    params = {k: v.astype(np.float64) + rng.normal(0, 0.05, v.shape) for k, v in init_mlp(rng).items()}
    x, y = rng.random((32, 1024)), rng.integers(0, 36, 32)

    loss, grads = tg.value_and_grad(lambda p: tg.softmax_cross_entropy(mlp(p, x), y))(params)
    model = from_engine(params)
    theirs = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
    theirs.backward()

    assert theirs.item() == pytest.approx(float(loss), rel=1e-12)
    for name, g in engine_gradients(model).items():
        np.testing.assert_allclose(g, grads[name], rtol=1e-9, atol=1e-15, err_msg=name)


def test_fc_nist36_task_trains_saves_a_state_dict_and_writes_metrics(tmp_path):
    data = tmp_path / "data" / "nist36"
    data.mkdir(parents=True)
    for split, seed in (("train", 0), ("valid", 1), ("test", 2)):
        rows = make_split(split, seed, size=72)
        labels = np.eye(36, dtype=np.uint8)[rows.y]
        scipy.io.savemat(data / f"nist36_{split}.mat", {f"{split}_data": rows.x, f"{split}_labels": labels})
    out = tmp_path / "out"
    command = [
        "fc-nist36",
        "--data-dir",
        str(tmp_path / "data"),
        "--out",
        str(out),
        "--epochs",
        "2",
        "--device",
        "cpu",
    ]
    result = subprocess.run([sys.executable, "-m", "torch_track", *command], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and len(metrics["history"]["valid_accuracy"]) == 2
    assert 0 <= metrics["test_accuracy"] <= 1 and (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    model = load_state(out / "model.pt", FC())
    assert model.hidden.weight.shape == (64, 1024)
