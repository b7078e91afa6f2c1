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
        lambda p: example.loss(p, state, x[rows], y[rows], rng, True)[0],
        params,
        probes="directions",
        directions=4,
    )
