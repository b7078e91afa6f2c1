"""The nn toolkit: initialisation statistics, optimiser formulas, batching, and a short training run."""

import numpy as np
import pytest

import tinygrad_hw as tg
from tinygrad_hw import nn
from tinygrad_hw.commands.demo import init_classifier, loss, make_spirals, train
from tinygrad_hw.pytree import tree_map


def test_xavier_uniform_has_variance_two_over_fan_in_plus_fan_out():
    w = nn.xavier_uniform(np.random.default_rng(0), 400, 600)
    limit = np.sqrt(6 / 1000)
    assert w.shape == (400, 600) and np.abs(w).max() <= limit
    assert w.var() == pytest.approx(2 / 1000, rel=0.02)
    assert nn.xavier_uniform(np.random.default_rng(0), 3, 3, np.float32).dtype == np.float32


def test_sgd_and_momentum_follow_their_update_rules_without_mutating_inputs():
    params = {"W": np.array([1.0, 2.0])}
    grads = {"W": np.array([0.5, -1.0])}
    np.testing.assert_allclose(nn.sgd(params, grads, lr=0.1)["W"], [0.95, 2.1])

    velocity = {"W": np.array([0.2, 0.0])}
    new_params, new_velocity = nn.momentum(params, grads, velocity, lr=0.1)
    np.testing.assert_allclose(new_velocity["W"], [0.9 * 0.2 - 0.05, 0.1])  # M = 0.9 M - lr g
    np.testing.assert_allclose(new_params["W"], params["W"] + new_velocity["W"])  # W = W + M
    assert params["W"].tolist() == [1.0, 2.0] and velocity["W"].tolist() == [0.2, 0.0]
    assert nn.momentum_init(params)["W"].tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("params", "grads", "expected"),
    [
        ({"W": [1.0], "b": [2.0]}, {"b": [10.0], "W": [-10.0]}, {"W": [2.0], "b": [1.0]}),  # by key
        ({"W": [1.0], "b": 2.0}, {"W": [-10.0], "b": 10.0}, {"W": [2.0], "b": 1.0}),  # a 0-d leaf
        (
            {"layer": {"W": [1.0]}, "b": [2.0]},
            {"b": [10.0], "layer": {"W": [-10.0]}},
            {"layer": {"W": [2.0]}, "b": [1.0]},
        ),
    ],
    ids=["flat dict", "0-d leaf", "nested dict"],
)
def test_sgd_pairs_every_leaf_with_its_own_gradient(params, grads, expected):
    as_arrays = lambda tree: tree_map(np.asarray, tree)  # noqa: E731
    updated = nn.sgd(as_arrays(params), as_arrays(grads), lr=0.1)
    assert tree_map(lambda x: x.tolist(), updated) == expected


def test_random_batches_cover_every_row_once_per_epoch_in_a_new_order():
    rng = np.random.default_rng(0)
    x, y = np.arange(10)[:, None], np.arange(10)
    batches = nn.random_batches(rng, x, y, batch_size=4)
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen) == list(range(10)) and list(seen) != list(range(10))
    assert all((xb[:, 0] == yb).all() for xb, yb in batches)
    with pytest.raises(ValueError, match="arrays of 10, 9 rows"):
        nn.random_batches(rng, x, y[:9], batch_size=4)


def test_accuracy_accepts_integer_and_one_hot_labels():
    logits = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert nn.accuracy(logits, np.array([0, 1, 1])) == pytest.approx(2 / 3)
    assert nn.accuracy(logits, np.eye(2)[[0, 1, 1]]) == pytest.approx(2 / 3)


def test_a_seeded_training_run_learns_and_its_loss_passes_a_gradient_check():

    rng = np.random.default_rng(3)
    x, y = make_spirals(rng, points_per_class=60)
    params = init_classifier(rng, hidden=32)
    tg.check_grads(loss, params, x[:8], y[:8], order=2)
    start = float(loss(params, x, y))
    params, history = train(params, x, y, epochs=80, lr=0.1, batch_size=16, rng=rng, report_every=1000)
    assert history[-1] < 0.5 * start
    assert nn.accuracy(nn.dense(params["output"], nn.dense(params["hidden"], x, tg.tanh), None), y) > 0.85
