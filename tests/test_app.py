"""The application layer: the training loop, the checkpoint format and the command-line conventions."""

import argparse
import json

import numpy as np
import pytest

import tinygrad_hw as tg
from tinygrad_hw.app.cache import cache_dir
from tinygrad_hw.app.checkpoint import load_checkpoint, save_checkpoint
from tinygrad_hw.app.cli import UserError, Verb, command_parser, run_verb
from tinygrad_hw.app.training import TrainingDiverged, fit


def test_fit_stops_with_a_clear_error_when_the_loss_stops_being_finite():
    params = {"w": np.array([1.0])}
    x = np.ones((8, 1))
    loss = lambda p, xb: tg.sum(tg.exp(p["w"] * xb * 1e3))  # noqa: E731  (overflows at once)
    with pytest.raises(TrainingDiverged, match="the loss became inf in epoch 1"):
        fit(loss, params, (x,), epochs=2, lr=0.1, rng=np.random.default_rng(0), progress=False)


def test_fit_reports_the_loss_per_row_for_summed_and_averaged_losses():
    x = np.ones((10, 1))
    params = {"w": np.array([0.0])}
    rng = np.random.default_rng(0)
    summed = lambda p, xb: tg.sum(p["w"] * 0 + xb)  # noqa: E731  (1 per row, summed)
    averaged = lambda p, xb: tg.mean(p["w"] * 0 + xb)  # noqa: E731  (1 per row, averaged)
    for fn, is_sum in ((summed, True), (averaged, False)):
        _, history = fit(
            fn, params, (x,), epochs=1, lr=0.1, batch_size=4, rng=rng, loss_is_sum=is_sum, progress=False
        )
        assert history["train_loss"] == [pytest.approx(1.0)]


# -- checkpoints ---------------------------------------------------------------------------------


def _params(rng):
    return {"layer": {"W": rng.random((3, 2)), "b": np.zeros(2, np.float32)}, "stack": [rng.random(4)]}


def test_any_pytree_round_trips_with_its_info(tmp_path):
    params = _params(np.random.default_rng(0))
    path = save_checkpoint(tmp_path / "c.npz", params, {"note": [1, 2]})
    assert sorted(np.load(path).files) == ["meta/info", "param/layer/W", "param/layer/b", "param/stack/0"]
    loaded, info = load_checkpoint(path, lambda info: _params(np.random.default_rng(1)))
    assert info == {"note": [1, 2]}
    assert np.array_equal(loaded["layer"]["W"], params["layer"]["W"]) and isinstance(loaded["stack"], list)
    assert loaded["layer"]["b"].dtype == np.float32


@pytest.mark.parametrize(
    "change, problem",
    [
        (lambda p: p["layer"].pop("b"), r"no parameter layer/b \(shape \(2,\)\)"),
        (
            lambda p: p["layer"].update(W=p["layer"]["W"][:, :1]),
            r"layer/W should have shape \(3, 2\), found \(3, 1\)",
        ),
        (lambda p: p["stack"].__setitem__(0, np.arange(4)), "stack/0 holds int64 values, not floating-point"),
        (lambda p: p["stack"][0].__setitem__(1, np.nan), "stack/0 holds values that are not finite"),
    ],
)
def test_a_checkpoint_that_does_not_fit_the_expected_structure_is_one_line(tmp_path, change, problem):
    params = _params(np.random.default_rng(0))
    change(params)
    path = save_checkpoint(tmp_path / "c.npz", params, {})
    with pytest.raises(UserError, match=problem):
        load_checkpoint(path, lambda info: _params(np.random.default_rng(1)))


def test_unreadable_files_are_one_line(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(UserError, match="not a readable .npz"):
        load_checkpoint(tmp_path / "junk.npz", lambda info: {})
    with pytest.raises(UserError, match="absent.npz: no such file"):
        load_checkpoint(tmp_path / "absent.npz", lambda info: {})


def test_checkpoints_in_the_two_layouts_before_this_format_still_load(tmp_path):
    rng = np.random.default_rng(0)
    W1, W2 = rng.random((4, 3)), rng.random((3, 2))
    ocr_info = {"hidden": 3, "test_accuracy": 0.5}
    old_ocr = {"param/W1": W1, "param/W2": W2, "meta/model": np.array("mlp")}
    np.savez(tmp_path / "ocr.npz", **old_ocr, **{"meta/info": np.array(json.dumps(ocr_info))})
    params, info = load_checkpoint(tmp_path / "ocr.npz", lambda info: {"W1": W1 * 0, "W2": W2 * 0})
    assert info == {**ocr_info, "model": "mlp"} and np.array_equal(params["W2"], W2)
    np.savez(tmp_path / "ae.npz", **{"encode1/W": W1, "encode1/b": W1[0], "meta/info": np.array("{}")})
    params, info = load_checkpoint(tmp_path / "ae.npz", lambda info: {"encode1": {"W": W1, "b": W1[0]}})
    assert info == {} and np.array_equal(params["encode1"]["W"], W1)


# -- command line --------------------------------------------------------------------------------


def _parser(calls):
    def train(*, out, data_dir, seed, epochs):
        calls.append({"out": out, "data_dir": data_dir, "seed": seed, "epochs": epochs})

    def report(*, quick=False):
        calls.append({"quick": quick})

    def add_epochs(parser):
        parser.add_argument("--epochs", type=int, default=3)

    def add_quick(parser):  # the default verb's own option is absent unless given
        parser.add_argument("--quick", action="store_true", default=argparse.SUPPRESS)

    verbs = [Verb("train", "train it", train, default_out="runs/x", add_arguments=add_epochs)]
    default = Verb("report", "the report", report, add_arguments=add_quick)
    return command_parser("prog", "a test command", verbs, default=default)


def test_a_verb_gets_its_options_as_keyword_arguments(monkeypatch, tmp_path):
    monkeypatch.delenv("TINYGRAD_HW_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    calls = []
    run_verb(_parser(calls), ["train", "--epochs", "5", "--seed", "2"])
    run_verb(_parser(calls), ["--quick"])
    run_verb(_parser(calls), [])
    assert calls[0]["epochs"] == 5 and calls[0]["seed"] == 2 and calls[0]["data_dir"] is None
    assert calls[1:] == [{"quick": True}, {"quick": False}]
    # the verb wrote into a fresh sibling of runs/x, which then became runs/x
    staging = calls[0]["out"]
    assert staging.parent == (tmp_path / "runs").resolve() and staging.name.startswith(".x.")
    assert not staging.exists() and (tmp_path / "runs" / "x" / ".run.json").is_file()


def test_an_option_of_the_top_level_before_a_verb_without_it_is_one_line():
    with pytest.raises(UserError, match="--quick: not an option of this verb"):
        run_verb(_parser([]), ["--quick", "train"])


def test_the_cache_folder_follows_its_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYGRAD_HW_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path


def test_running_out_of_memory_or_an_interrupt_is_one_line(capsys):
    from tinygrad_hw.app.cli import run_command

    def raises(error):
        def main(argv):
            raise error

        return main

    assert run_command(raises(MemoryError())) == 2  # was a traceback (--hidden 1000000000)
    assert capsys.readouterr().err.startswith("error: not enough memory for this run")
    assert run_command(raises(KeyboardInterrupt())) == 130
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize(
    "values, expected",
    [
        (np.array(["a", "b"]), "the pixels hold text, not real numbers"),
        (np.array([1 + 2j]), "hold complex numbers"),
        (np.array([True]), "hold booleans"),
        (np.zeros((0, 1024)), "no pixels (shape (0, 1024))"),
        (np.array([0.5, np.nan, np.inf]), "2 of the 3 values of the pixels are not finite numbers"),
        (np.array([0.0, 255.0]), "run from 0 to 255, not 0 to 1 (8-bit levels? divide by 255)"),
        (np.array([-3.0, 2.0]), "run from -3 to 2, not 0 to 1"),
    ],
    ids=["text", "complex", "booleans", "no rows", "NaN and infinity", "8-bit", "another scale"],
)
def test_the_one_pixel_check_refuses_in_one_line_what_is_not_grey_levels(values, expected):
    from tinygrad_hw.app.arrays import checked_pixels

    with pytest.raises(UserError) as error:
        checked_pixels(values, "file.mat")
    assert str(error.value).startswith("file.mat: ") and expected in str(error.value)
    assert "\n" not in str(error.value)


def test_the_pixel_check_makes_sparse_dense_clips_rounding_and_gives_float32():
    import scipy.sparse

    from tinygrad_hw.app.arrays import checked_pixels

    sparse = scipy.sparse.csr_matrix(np.array([[0.0, 1.0005], [-0.0004, 0.25]]))
    pixels = checked_pixels(sparse, "file.mat")
    assert pixels.dtype == np.float32 and pixels.tolist() == [[0.0, 1.0], [0.0, 0.25]]
