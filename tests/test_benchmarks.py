"""The benchmark compares like with like: the three versions train the same model identically."""

import json

import numpy as np
import pytest

from benchmarks import mlp_epoch
from tests.in_process import run_module


@pytest.mark.parametrize("batch_size", [1, 7, 32])
def test_engine_and_hand_written_numpy_reach_the_same_weights(batch_size):
    _, difference = mlp_epoch.time_epochs(batch_size, np.float64, rows=64, repeats=1, with_torch=False)
    assert difference < 1e-12


def test_hand_written_numpy_gets_cache_line_aligned_copies_of_the_weights():
    # its in-place update runs at one speed in every run, whatever malloc returned
    for a in (np.arange(12.0).reshape(3, 4), np.ones(5, np.float32), np.zeros((1, 3), np.float32)):
        copy = mlp_epoch._aligned_copy(a)
        assert copy.ctypes.data % 64 == 0 and copy.flags.writeable and copy.flags.c_contiguous
        assert copy.dtype == a.dtype and copy.shape == a.shape and not np.shares_memory(copy, a)
        np.testing.assert_array_equal(copy, a)


def test_fast_epochs_are_timed_until_they_add_up_to_the_time_asked_for(monkeypatch):
    timed = []
    monkeypatch.setattr(mlp_epoch, "_seconds", lambda epoch: timed.append(epoch) or 0.1)  # 0.1 s each
    for min_seconds, max_rounds, rounds in ((0.0, 60, 2), (0.75, 60, 8), (100.0, 5, 5)):
        timed.clear()
        budget = {"min_seconds": min_seconds, "max_rounds": max_rounds}
        mlp_epoch.time_epochs(16, np.float64, rows=64, repeats=2, with_torch=False, **budget)
        assert len(timed) == 2 * rounds  # the engine and numpy, round after round


def test_the_time_budget_option_takes_zero_and_refuses_what_is_not_a_duration():
    import argparse

    from tinygrad_hw.app.cli import non_negative_float

    assert non_negative_float("0") == 0.0 and non_negative_float("1.5") == 1.5
    for text in ("-1", "nan", "inf"):
        with pytest.raises(argparse.ArgumentTypeError, match="must be 0 or a positive number"):
            non_negative_float(text)


def test_pytorch_version_reaches_the_same_weights():
    pytest.importorskip("torch")
    _, difference = mlp_epoch.time_epochs(16, np.float64, rows=64, repeats=1, with_torch=True)
    assert difference < 1e-12


def test_benchmark_command_writes_its_table_and_metrics(tmp_path):
    result = run_module(
        "benchmarks",
        "mlp-epoch",
        "--out",
        tmp_path,
        "--rows",
        "96",
        "--batch-sizes",
        "32",
        "--dtypes",
        "float64",
        "--repeats",
        "1",
        "--no-torch",
    )
    assert result.returncode == 0, result.stderr
    assert "| 32 | float64 |" in result.stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["epochs"][0]["max_weight_difference"] < 1e-12
    assert set(metrics["epochs"][0]["seconds"]) == {"engine", "numpy"}
    assert (tmp_path / "ratios.png").stat().st_size > 1000


def test_hand_written_autoencoder_epoch_matches_the_engines_in_float64():
    from benchmarks import autoencoder_epoch

    _, params, batches = autoencoder_epoch.make_problem(144, np.float64)
    engine = autoencoder_epoch.engine_epoch(params, batches, 1e-4)
    by_hand = autoencoder_epoch.numpy_epoch(params, batches, 1e-4)
    for layer in engine:
        for k in ("W", "b"):
            np.testing.assert_allclose(by_hand[layer][k], engine[layer][k], rtol=1e-10, atol=1e-14)
    assert not np.allclose(engine["decode2"]["W"], params["decode2"]["W"])  # it did train


def test_cnn_step_computes_the_same_first_loss_on_the_engine_and_in_pytorch():
    pytest.importorskip("torch")
    from benchmarks import cnn_step

    seconds, losses = cnn_step.time_steps(repeats=1)
    assert losses["engine"] == pytest.approx(losses["torch"], rel=1e-5)
    assert seconds["engine"] > 0 and seconds["torch"] > 0


def test_the_paired_ratio_compares_each_round_with_itself():
    from benchmarks import cnn_step

    # A slow spell over the first rounds: best against best would read 10 / 5 = 2.
    engine = [10.0, 10.0, 10.0, 10.0, 10.0]
    torch = [5.0, 5.0, 10.0, 10.0, 10.0]
    assert cnn_step.paired_ratio(engine, torch) == 1.0
    assert cnn_step.paired_ratio([2.0, 4.0, 6.0], [1.0, 4.0, 2.0]) == 2.0


def test_engine_mlp_and_pytorch_fc_give_the_same_loss_curve_in_float64():
    pytest.importorskip("torch")
    from benchmarks import parity

    rng = np.random.default_rng(0)
    curves = parity.loss_curves(rng.random((96, 1024)), rng.integers(0, 36, 96), epochs=2)
    assert len(curves["engine"]) == 6
    np.testing.assert_allclose(curves["engine"], curves["torch"], rtol=1e-12)
    assert curves["engine"][-1] < curves["engine"][0]


def test_per_primitive_overhead_covers_every_registered_primitive():
    import tinygrad_hw as tg
    from benchmarks.primitive_overhead import per_primitive

    rows = per_primitive(repeats=1)
    assert [r["primitive"] for r in rows] == sorted(tg.REGISTRY)
    assert all(r["engine_us"] > 0 and r["kernels_us"] > 0 for r in rows)


def test_ocr_error_rates_score_each_photo_and_the_whole(tmp_path):
    from ocr.scoring import error_rates

    photos = [("a", np.zeros((4, 4)), "AB CD"), ("b", np.zeros((4, 4)), "12")]
    answers = iter(["AB CX", "12"])
    rates = error_rates(lambda pixels: next(answers), photos)
    assert rates["per_photo"] == {"a": 0.25, "b": 0.0} and rates["cer"] == pytest.approx(1 / 6)


def test_without_sample_photos_generated_pages_stand_in():
    from benchmarks.ocr_table import sample_photos

    photos, source = sample_photos(None)
    assert len(photos) == 2 and "generated" in source
    assert all(pixels.ndim == 3 and truth.strip() for _, pixels, truth in photos)


def test_speed_targets_are_judged_on_the_measured_ratios():
    from benchmarks.targets import mlp_targets

    rows = [
        {"batch": 32, "dtype": "float32", "seconds": {"engine": 1.2, "numpy": 1.0, "torch": 2.0}},
        {"batch": 1024, "dtype": "float32", "seconds": {"engine": 1.0, "numpy": 1.0, "torch": 0.8}},
    ]
    verdicts = {name: met for name, met, _ in mlp_targets(rows)}
    assert verdicts == {
        "engine <= 1.10x hand-written numpy at batch >= 32": False,
        "engine faster than PyTorch CPU at batch <= 128": True,
        "engine within 1.1x of PyTorch CPU at batch 1024": False,
    }
