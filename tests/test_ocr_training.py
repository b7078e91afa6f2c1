"""The classifier: its loss is gradient-checked, it learns, and `python -m ocr train` delivers."""

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io

import tinygrad_hw as tg
from ocr.model_store import load_model, save_model
from ocr.models import cnn, init_cnn, init_mlp, mlp
from ocr.nist36 import distort_images, load_nist36, make_split
from ocr.training import confusion_matrix, most_confused, train_model
from tests.in_process import run_module
from tinygrad_hw.app.cli import UserError


def test_the_whole_mlp_loss_passes_the_numerical_gradient_check():
    # The homework's Q2.5: central differences against backprop on every parameter of 1024-64-36.
    rng = np.random.default_rng(0)
    params = init_mlp(rng, dtype=np.float64)
    params = {k: v + rng.normal(0, 0.05, v.shape) for k, v in params.items()}  # nonzero biases too
    x, y = rng.random((5, 1024)), rng.integers(0, 36, 5)
    loss = lambda p: tg.softmax_cross_entropy(mlp(p, x), y)  # noqa: E731
    summary = tg.check_grads(loss, params, directions=12, modes=["rev"])
    assert summary["comparisons"] == 12 + 64 + 12 + 36  # W1 and W2 by directions, biases elementwise


def test_the_cnn_loss_passes_the_numerical_gradient_check():
    rng = np.random.default_rng(1)
    params = {k: v.astype(np.float64) for k, v in init_cnn(rng, channels=(2, 3), hidden=8).items()}
    x, y = rng.random((2, 1024)), np.array([3, 30])
    tg.check_grads(lambda p: tg.softmax_cross_entropy(cnn(p, x), y), params, directions=6)


def _synthetic_splits(per_class_train=20, seed=0):
    return {
        "train": make_split("train", seed, size=36 * per_class_train),
        "valid": make_split("valid", seed, size=36 * 5),
        "test": make_split("test", seed, size=36 * 5),
    }


def test_a_few_seeded_mlp_epochs_on_a_small_set_clear_a_floor():
    splits = _synthetic_splits()
    _, _, history = train_model("mlp", splits, epochs=15, lr=0.1, batch_size=32, seed=0, progress=False)
    assert history["valid_accuracy"][-1] > 0.6  # chance is 1/36
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]


def test_a_few_seeded_cnn_epochs_on_a_small_set_clear_a_floor():
    splits = _synthetic_splits()
    _, _, history = train_model("cnn", splits, epochs=4, lr=0.05, batch_size=32, seed=0, progress=False)
    assert history["valid_accuracy"][-1] > 0.5


def test_the_mlp_learns_the_shared_stand_in(shared_data):
    splits = load_nist36(shared_data)
    rng = np.random.default_rng(0)
    keep = rng.permutation(len(splits["train"]))[:3000]
    splits["train"] = type(splits["train"])(splits["train"].x[keep], splits["train"].y[keep])
    _, _, history = train_model("mlp", splits, epochs=8, lr=0.1, batch_size=32, seed=0, progress=False)
    assert history["valid_accuracy"][-1] > 0.65


def test_distortion_moves_each_image_by_its_own_small_map_and_leaves_blank_paper_behind():
    rows = np.ones((200, 1024), dtype=np.float32)
    rows[:, 15 * 32 + 15 : 15 * 32 + 17] = 0.0  # a small ink mark near the middle of every image
    rows[:, 16 * 32 + 15 : 16 * 32 + 17] = 0.0
    out = distort_images(np.random.default_rng(0), rows)
    assert out.shape == rows.shape and out.dtype == rows.dtype
    assert out.min() >= 0 and out.max() <= 1 and np.all(out[:, :32] == 1)  # the border stays paper
    images = out.reshape(-1, 32, 32)
    centres = np.array([np.argwhere(i < 0.5).mean(axis=0) for i in images])
    assert np.abs(centres - 15.5).max() <= 3.5  # moved a little...
    assert len({tuple(np.round(c, 1)) for c in centres}) > 20  # ...each image its own way
    identity = distort_images(
        np.random.default_rng(0), rows, max_shift=0, max_degrees=0, scale_range=0, max_shear=0
    )
    np.testing.assert_allclose(identity, rows, atol=1e-6)


def test_resampling_reads_what_scipys_interpolation_over_the_whole_batch_reads():
    from scipy import ndimage

    from ocr.nist36.augment import resample

    rng = np.random.default_rng(0)
    images = rng.random((6, 32, 32)).astype(np.float32)
    y, x = rng.uniform(-2.5, 33.5, (2, 6, 3000))  # inside, on the edges' far side, and far outside
    y[:, :4], x[:, :4] = [0, 31, 31, 0], [0, 0, 31, 31]  # the corners themselves
    batch = np.broadcast_to(np.arange(6)[:, None], y.shape)
    expected = ndimage.map_coordinates(images, np.stack([batch, y, x]), order=1, cval=1.0)
    np.testing.assert_allclose(resample(images, y, x), expected, atol=1e-6)


def test_confusion_matrix_and_most_confused_pairs():
    true = np.array([14, 14, 14, 8, 0])  # O, O, O, I, A
    predicted = np.array([26, 26, 14, 27, 0])  # 0, 0, O, 1, A
    counts = confusion_matrix(true, predicted)
    assert counts[14, 26] == 2 and counts.sum() == 5 and np.trace(counts) == 2
    assert most_confused(counts) == [("O", "0", 2), ("I", "1", 1)]


def test_checkpoint_round_trip_and_a_wrong_shape_is_named(tmp_path):
    params = init_mlp(np.random.default_rng(0), hidden=16)
    path = save_model(tmp_path / "m.npz", "mlp", params, {"hidden": 16, "test_accuracy": 0.5})
    name, loaded, info = load_model(path)
    assert name == "mlp" and info["test_accuracy"] == 0.5
    assert all(np.array_equal(loaded[k], params[k]) for k in params)
    params["W2"] = params["W2"][:, :10]
    save_model(tmp_path / "bad.npz", "mlp", params, {"hidden": 16})
    with pytest.raises(UserError, match=r"parameter W2 should have shape \(16, 36\), found \(16, 10\)"):
        load_model(tmp_path / "bad.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(UserError, match="not a readable .npz"):
        load_model(tmp_path / "junk.npz")
    np.savez(tmp_path / "codes.npz", codes=np.zeros((2, 32)))
    with pytest.raises(UserError, match="not a checkpoint written by `python -m ocr train`"):
        load_model(tmp_path / "codes.npz")


def test_a_model_npz_written_before_the_shared_checkpoint_format_still_loads(tmp_path):
    # The OCR's own format until then: `param/<name>`, the model's name in `meta/model`, and the
    # MLP's width in the info (the CNN's checkpoints also carried an unused "hidden").
    rng = np.random.default_rng(0)
    for name, params, hidden in (("mlp", init_mlp(rng, hidden=16), 16), ("cnn", init_cnn(rng), 64)):
        info = {"hidden": hidden, "test_accuracy": 0.5, "data": "NIST36 from x"}
        arrays = {f"param/{k}": v for k, v in params.items()}
        arrays.update({"meta/model": np.array(name), "meta/info": np.array(json.dumps(info))})
        np.savez(tmp_path / f"{name}.npz", **arrays)
        loaded_name, loaded, loaded_info = load_model(tmp_path / f"{name}.npz")
        assert loaded_name == name and loaded_info["test_accuracy"] == 0.5
        assert all(np.array_equal(loaded[k], params[k]) for k in params)


def _tiny_nist36(root, per_class=6):
    for split, seed in (("train", 0), ("valid", 1), ("test", 2)):
        data = make_split(split, seed, size=36 * per_class)
        (root / "nist36").mkdir(parents=True, exist_ok=True)
        scipy.io.savemat(
            root / "nist36" / f"nist36_{split}.mat",
            {f"{split}_data": data.x, f"{split}_labels": np.eye(36, dtype=np.uint8)[data.y]},
        )
    return root


def _train(*args):
    return run_module("ocr", "train", *args)


def test_train_command_writes_checkpoint_metrics_and_every_figure(tmp_path):
    data = _tiny_nist36(tmp_path / "data")
    out = tmp_path / "out"
    result = _train("--data-dir", str(data), "--out", str(out), "--epochs", "3", "--lr-sweep")
    assert result.returncode == 0, result.stderr
    assert "test  accuracy" in result.stdout and "learning-rate sweep" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    for key in (
        "train_accuracy",
        "valid_accuracy",
        "test_accuracy",
        "train_loss",
        "test_loss",
        "epochs",
        "train_seconds",
        "most_confused",
    ):
        assert key in metrics
    assert len(metrics["history"]["valid_accuracy"]) == 3
    sweep = metrics["lr_sweep"]
    assert sweep["learning_rates"] == pytest.approx([0.01, 0.1, 1.0])
    assert sweep["test_accuracy_of_best"] == metrics["test_accuracy"]
    for figure in ("curves", "confusion", "lr_sweep", "weights_initial", "weights_trained", "second_layer"):
        assert (out / f"{figure}.png").read_bytes()[:4] == b"\x89PNG"
    name, params, info = load_model(out / "model.npz")
    assert name == "mlp" and params["W1"].shape == (1024, 64)


def test_train_command_reports_bad_data_in_one_line(tmp_path):
    data = _tiny_nist36(tmp_path / "data")
    (data / "nist36" / "nist36_test.mat").write_bytes(b"\x00" * 50)
    result = _train("--data-dir", str(data), "--out", str(tmp_path / "out"), "--epochs", "1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "nist36_test.mat: not a readable MATLAB .mat file" in result.stderr


def test_the_reader_picks_real_data_then_the_cnn_then_the_most_accurate_model(tmp_path, monkeypatch):
    from ocr.model_store import best_checkpoint

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TINYGRAD_HW_CACHE", str(tmp_path / "cache"))
    assert best_checkpoint() is None
    mlp_params = init_mlp(np.random.default_rng(0))
    cnn_params = init_cnn(np.random.default_rng(0))
    save_model(
        tmp_path / "runs/a/model.npz", "cnn", cnn_params, {"data": "embedded default", "test_accuracy": 0.99}
    )
    save_model(
        tmp_path / "runs/b/model.npz", "mlp", mlp_params, {"data": "NIST36 from x", "test_accuracy": 0.84}
    )
    assert best_checkpoint() == Path("runs/b/model.npz")  # real handwriting first
    save_model(
        tmp_path / "cache/models/c.npz", "cnn", cnn_params, {"data": "NIST36 from x", "test_accuracy": 0.9}
    )
    assert best_checkpoint() == tmp_path / "cache/models/c.npz"  # then the CNN
    (tmp_path / "runs/d").mkdir()
    (tmp_path / "runs/d/model.npz").write_bytes(b"broken")  # unreadable checkpoints are passed over
    assert best_checkpoint() == tmp_path / "cache/models/c.npz"
