"""Optimisers, schedules and layers: the formulas, and step-for-step parity with PyTorch.

From the same float64 weights and the same gradients, each optimiser's parameters must equal
torch.optim's after every step to 1e-12; batch norm's output and running statistics must equal
torch's BatchNorm in training and evaluation.
"""

import numpy as np
import pytest

import tinygrad_hw as tg
from tinygrad_hw import layers, optimizers, schedules

torch = pytest.importorskip("torch")

OPTIMISERS = {  # name -> (init, update, torch class, keyword arguments for both)
    "adam": (optimizers.adam_init, optimizers.adam, "Adam", {"lr": 0.01}),
    "adam weight decay": (optimizers.adam_init, optimizers.adam, "Adam", {"lr": 0.02, "weight_decay": 0.1}),
    "adamw": (optimizers.adamw_init, optimizers.adamw, "AdamW", {"lr": 0.01, "weight_decay": 0.05}),
    "rmsprop": (optimizers.rmsprop_init, optimizers.rmsprop, "RMSprop", {"lr": 0.01}),
    "sgd momentum weight decay": (
        optimizers.sgd_momentum_init,
        optimizers.sgd_momentum,
        "SGD",
        {"lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4},
    ),
    "sgd nesterov": (
        optimizers.sgd_momentum_init,
        optimizers.sgd_momentum,
        "SGD",
        {"lr": 0.05, "momentum": 0.8, "nesterov": True},
    ),
    "rmsprop momentum centred": (
        lambda p: optimizers.rmsprop_init(p, momentum=0.9, centered=True),
        optimizers.rmsprop,
        "RMSprop",
        {"lr": 0.005, "momentum": 0.9, "centered": True, "weight_decay": 0.01},
    ),
}


@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_each_optimiser_matches_torch_optim_step_for_step(name):
    init, update, torch_class, options = OPTIMISERS[name]
    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    theirs = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    optimiser = getattr(torch.optim, torch_class)(list(theirs.values()), **options)
    state = init(params)
    for _ in range(6):
        grads = {"b": rng.standard_normal(2), "W": rng.standard_normal((3, 2))}  # other key order
        params, state = update(params, grads, state, **options)
        for key, tensor in theirs.items():
            tensor.grad = torch.tensor(grads[key])
        optimiser.step()
        for key in params:
            np.testing.assert_allclose(params[key], theirs[key].detach().numpy(), rtol=1e-12, atol=1e-14)


def test_optimisers_mutate_nothing():
    params = {"W": np.ones(3)}
    grads = {"W": np.full(3, 0.5)}
    state = optimizers.adam_init(params)
    new_params, new_state = optimizers.adam(params, grads, state)
    assert (
        params["W"].tolist() == [1.0, 1.0, 1.0]
        and state["step"] == 0
        and state["m"]["W"].tolist() == [0, 0, 0]
    )
    assert new_state["step"] == 1 and not np.array_equal(new_params["W"], params["W"])


def test_clip_by_global_norm_matches_torch():
    rng = np.random.default_rng(1)
    grads = {"a": rng.standard_normal(4) * 3, "b": [rng.standard_normal((2, 2))]}
    clipped, norm = optimizers.clip_by_global_norm(grads, 1.0)
    tensors = [torch.tensor(grads["a"]), torch.tensor(grads["b"][0])]
    for t in tensors:
        t.grad = t.clone()
    torch_norm = torch.nn.utils.clip_grad_norm_(tensors, 1.0)
    assert norm == pytest.approx(float(torch_norm), rel=1e-12)
    np.testing.assert_allclose(clipped["a"], tensors[0].grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(clipped["b"][0], tensors[1].grad.numpy(), rtol=1e-12)
    assert optimizers.global_norm(clipped) == pytest.approx(1.0, rel=1e-5)
    same, _ = optimizers.clip_by_global_norm(grads, 100.0)
    assert same is grads


def test_schedules_follow_their_formulas():
    cosine = schedules.cosine_schedule(0.1, 10)
    assert (
        cosine(0) == pytest.approx(0.1)
        and cosine(5) == pytest.approx(0.05)
        and cosine(10) == pytest.approx(0.0)
    )
    step = schedules.step_schedule(1.0, 3, gamma=0.5)
    assert [step(i) for i in (0, 2, 3, 6)] == [1.0, 1.0, 0.5, 0.25]
    warm = schedules.warmup(schedules.constant_schedule(0.2), 4)
    assert [warm(i) for i in (0, 2, 4, 9)] == pytest.approx([0.0, 0.1, 0.2, 0.2])
    cycle = schedules.one_cycle_schedule(1.0, 100, warmup_fraction=0.3)
    assert cycle(0) == pytest.approx(0.04) and cycle(30) == pytest.approx(1.0)
    assert cycle(99) < 1e-3 and max(cycle(i) for i in range(100)) == pytest.approx(1.0)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5, 5)])
def test_batch_norm_matches_torch_in_training_and_evaluation(shape):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape) * 2 + 1
    params, state = layers.batch_norm_init(3)
    params = {"gamma": rng.standard_normal(3), "beta": rng.standard_normal(3)}
    module = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(3, dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(torch.tensor(params["gamma"]))
        module.bias.copy_(torch.tensor(params["beta"]))
    for _ in range(2):
        y, state = layers.batch_norm(params, state, x, training=True)
        expected = module.train()(torch.tensor(x)).detach().numpy()
        np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(state["mean"], module.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(state["var"], module.running_var.numpy(), rtol=1e-12)
    y, same = layers.batch_norm(params, state, x, training=False)
    np.testing.assert_allclose(y, module.eval()(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)
    assert same is state
    tg.check_grads(lambda p, x: layers.batch_norm(p, state, x, training=True)[0], params, x, order=2)


def test_layer_norm_matches_torch_and_differentiates():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6))
    params = {"gamma": rng.standard_normal(6), "beta": rng.standard_normal(6)}
    expected = torch.nn.functional.layer_norm(
        torch.tensor(x), (6,), torch.tensor(params["gamma"]), torch.tensor(params["beta"])
    )
    np.testing.assert_allclose(layers.layer_norm(params, x), expected.numpy(), rtol=1e-10)
    tg.check_grads(layers.layer_norm, params, x, order=2)


def test_dropout_keeps_the_expected_value_and_is_the_identity_in_evaluation():
    rng = np.random.default_rng(4)
    x = np.ones((200, 100))
    y = layers.dropout(rng, x, 0.3)
    assert abs((y == 0).mean() - 0.3) < 0.02 and np.allclose(y[y != 0], 1 / 0.7) and abs(y.mean() - 1) < 0.03
    assert layers.dropout(rng, x, 0.3, training=False) is x
    a = layers.dropout(np.random.default_rng(5), x, 0.5)
    b = layers.dropout(np.random.default_rng(5), x, 0.5)
    np.testing.assert_array_equal(a, b)  # reproducible from the generator


def test_embedding_gradient_adds_up_every_use_of_a_row():
    table = np.arange(12.0).reshape(4, 3)
    ids = np.array([[1, 3], [1, 1]])
    np.testing.assert_array_equal(layers.embedding(table, ids), table[ids])
    g = tg.grad(lambda t: tg.sum(layers.embedding(t, ids)))(table)
    np.testing.assert_array_equal(g[:, 0], [0, 3, 0, 1])


def test_conv2d_layer_adds_its_bias_per_channel_and_matches_torch():
    rng = np.random.default_rng(6)
    params = layers.conv2d_init(rng, 2, 3, 3)
    params["b"] = rng.standard_normal(3)
    x = rng.standard_normal((2, 2, 5, 5))
    expected = torch.nn.functional.conv2d(
        torch.tensor(x), torch.tensor(params["W"]), torch.tensor(params["b"]), padding=1
    )
    np.testing.assert_allclose(layers.conv2d(params, x, padding=1), expected.numpy(), rtol=1e-10)
    np.testing.assert_allclose(tg.global_avg_pool(x), x.mean(axis=(2, 3)))
