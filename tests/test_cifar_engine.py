"""The engine's CIFAR-10 network: its shapes, its training step, and its command on a tiny tree."""

import shutil

import numpy as np
import pytest
from PIL import Image

import tinygrad_hw as tg
from benchmarks import cifar_engine
from benchmarks.__main__ import main
from tinygrad_hw.app.cli import run_command


def test_cifarnet_has_torch_tracks_shapes_and_passes_the_gradient_check():
    rng = np.random.default_rng(0)
    params, state = cifar_engine.init_cifarnet(rng, dtype=np.float64)
    assert sum(p.size for p in tg.tree_leaves(params)) == 647_386  # as torch_track's CifarNet
    small, small_state = cifar_engine.init_cifarnet(rng, widths=(2, 3, 4), dtype=np.float64)
    x = rng.standard_normal((3, 3, 32, 32))
    logits, new_state = cifar_engine.cifarnet(small, small_state, x, training=True)
    assert logits.shape == (3, 10) and set(new_state) == set(small_state)
    targets = cifar_engine.smoothed_targets(np.array([0, 3, 9]), dtype=np.float64)
    np.testing.assert_allclose(targets.sum(1), 1.0)
    np.testing.assert_allclose(targets[0, 0], 0.91)
    tg.check_grads(lambda p: cifar_engine.loss(p, small_state, x, targets)[0], small, probes="directions",
                   directions=2, modes=["rev"])  # fmt: skip


def _tree(root, per_class=2, size=32):
    rng = np.random.default_rng(0)
    for split in ("train", "val", "test"):
        for c in range(10):
            folder = root / split / f"class{c}"
            folder.mkdir(parents=True)
            for i in range(per_class):
                Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(
                    folder / f"{i}.png"
                )


def test_the_command_trains_one_epoch_on_a_tiny_tree_and_writes_its_metrics(tmp_path, capsys):
    _tree(tmp_path / "data" / "cifar10")
    argv = [
        "cifar10-engine",
        "--data-dir",
        str(tmp_path / "data"),
        "--epochs",
        "1",
        "--out",
        str(tmp_path / "out"),
    ]
    assert run_command(main, argv) == 0
    assert "test accuracy" in capsys.readouterr().out
    assert (tmp_path / "out" / "metrics.json").exists() and (tmp_path / "out" / "model.npz").exists()


@pytest.mark.parametrize("damage", ["no val", "other classes", "wrong size", "truncated image"])
def test_a_bad_tree_is_one_line(tmp_path, capsys, damage):
    root = tmp_path / "data" / "cifar10"
    _tree(root, per_class=1, size=16 if damage == "wrong size" else 32)
    if damage == "no val":
        shutil.rmtree(root / "val")
    if damage == "other classes":
        (root / "test" / "class9").rename(root / "test" / "extra")
    if damage == "truncated image":
        image = root / "train" / "class3" / "0.png"
        image.write_bytes(image.read_bytes()[:60])
    argv = ["cifar10-engine", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "out")]
    assert run_command(main, argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and len(err.splitlines()) == 1
    if damage == "truncated image":
        assert "0.png: not a readable image" in err
    assert not (tmp_path / "out" / "metrics.json").exists()
