"""Every gallery model learns (its loss falls) and its gradients pass the numerical check."""

import numpy as np
import pytest

import tinygrad_hw as tg
from tinygrad_hw import gallery


@pytest.mark.parametrize("name", sorted(gallery.EXAMPLES))
def test_each_gallery_model_trains_and_its_loss_falls(name):
    example = gallery.EXAMPLES[name]
    history = gallery.train(example, steps=40, seed=1)
    first, last = history["loss"][0], np.mean(history["loss"][-5:])
    assert last < 0.7 * first, f"{name}: loss {first:.3f} -> {last:.3f}"
    assert history["accuracy_after"] > history["accuracy_before"]


@pytest.mark.parametrize("name", sorted(gallery.EXAMPLES))
def test_each_gallery_model_passes_the_gradient_check(name):
    example = gallery.EXAMPLES[name]
    rng = np.random.default_rng(2)
    x, y = example.data(rng)
    params, state = example.init(rng)
    rows = rng.choice(len(x), size=6, replace=False)
    tg.check_grads(
        gallery.training_loss(example, state, x[rows], y[rows], rng),
        params,
        probes="directions",
        directions=4,
    )


def test_the_gallery_command_trains_writes_its_figures_and_the_tape(tmp_path, capsys):
    from tinygrad_hw.__main__ import main
    from tinygrad_hw.app.cli import run_command

    argv = ["gallery", "--out", str(tmp_path), "--steps", "20", "--models", "logistic,char-rnn"]
    assert run_command(main, argv) == 0
    table = capsys.readouterr().out
    assert "| logistic | 20 |" in table and "| char-rnn | 20 |" in table
    for name in ("metrics.json", "losses.png", "tape.png", "tape.svg"):
        assert (tmp_path / name).stat().st_size > 0
    assert run_command(main, ["gallery", "--out", str(tmp_path), "--models", "nope"]) == 2
    assert "unknown gallery model nope" in capsys.readouterr().err


def test_the_profile_command_prints_a_table_of_primitives(tmp_path, capsys):
    from tinygrad_hw.__main__ import main

    main(["profile", "--out", str(tmp_path), "--model", "cifar-cnn", "--batch", "2", "--repeat", "1"])
    table = capsys.readouterr().out
    assert "conv2d" in table and "max_pool2d" in table and "engine and Python" in table
    assert (tmp_path / "profile.png").stat().st_size > 0
