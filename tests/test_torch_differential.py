"""Differential test: random compositions of primitives agree with PyTorch autograd in float64.

Hypothesis draws a program (a sequence of shape-preserving steps, then a loss); the same program
runs on the engine and in PyTorch, and values and gradients must agree to a relative 1e-9.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_hw as tg

torch = pytest.importorskip("torch")
F = torch.nn.functional

# name -> (engine step, torch step); each maps (h, params) to a new h of the same shape (n, m).
STEPS = {
    "sigmoid": (lambda h, p: tg.sigmoid(h), lambda h, p: torch.sigmoid(h)),
    "tanh": (lambda h, p: tg.tanh(h), lambda h, p: torch.tanh(h)),
    "relu": (lambda h, p: tg.relu(h), lambda h, p: torch.relu(h)),
    "neg": (lambda h, p: -h, lambda h, p: -h),
    "square": (lambda h, p: h**2, lambda h, p: h**2),
    "exp": (lambda h, p: tg.exp(0.3 * h), lambda h, p: torch.exp(0.3 * h)),
    "log1p_square": (lambda h, p: tg.log(1.0 + h * h), lambda h, p: torch.log(1.0 + h * h)),
    "softmax": (lambda h, p: tg.softmax(h), lambda h, p: torch.softmax(h, -1)),
    "log_softmax": (lambda h, p: tg.log_softmax(h, axis=0), lambda h, p: torch.log_softmax(h, 0)),
    "affine": (lambda h, p: h @ p["W"] + p["b"], lambda h, p: h @ p["W"] + p["b"]),
    "scale_rows": (lambda h, p: h * p["c"], lambda h, p: h * p["c"]),
    "divide": (lambda h, p: h / (1.0 + h * h), lambda h, p: h / (1.0 + h * h)),
    "center": (lambda h, p: h - tg.mean(h, axis=0, keepdims=True), lambda h, p: h - h.mean(0, keepdim=True)),
    "add_row_sums": (
        lambda h, p: h + 0.1 * tg.sum(h, axis=1, keepdims=True),
        lambda h, p: h + 0.1 * h.sum(1, keepdim=True),
    ),
    "transpose": (lambda h, p: (h.T * 1.5).T, lambda h, p: (h.T * 1.5).T),
    "reshape": (
        lambda h, p: tg.reshape(h, (-1,)).reshape(h.shape),
        lambda h, p: h.reshape(-1).reshape(h.shape),
    ),
    "roll_columns": (
        lambda h, p: tg.concatenate([h[:, 1:], h[:, :1]], axis=1),
        lambda h, p: torch.cat([h[:, 1:], h[:, :1]], 1),
    ),
    "pick_rows": (lambda h, p: h[np.array([1, 0, 1, 2])], lambda h, p: h[torch.tensor([1, 0, 1, 2])]),
}

# name -> (engine loss, torch loss), given the final h and fixed targets.
LOSSES = {
    "cross_entropy": (
        lambda h, t: tg.softmax_cross_entropy(h, t["labels"]),
        lambda h, t: F.cross_entropy(h, t["labels"]),
    ),
    "cross_entropy_onehot_sum": (
        lambda h, t: tg.softmax_cross_entropy(h, t["onehot"], reduction="sum"),
        lambda h, t: -(t["onehot"] * torch.log_softmax(h, 1)).sum(),
    ),
    "mse": (lambda h, t: tg.mse(h, t["target"]), lambda h, t: F.mse_loss(h, t["target"])),
    "sum_squared_error": (
        lambda h, t: tg.sum_squared_error(h, t["target"]),
        lambda h, t: ((h - t["target"]) ** 2).sum(),
    ),
    "weighted_sum": (lambda h, t: tg.sum(h * t["target"]), lambda h, t: (h * t["target"]).sum()),
}


def _to_torch(tree, requires_grad=False):
    return {k: torch.tensor(v, requires_grad=requires_grad) for k, v in tree.items()}


def _assert_close(ours, theirs, what):
    theirs = np.zeros_like(ours) if theirs is None else theirs.detach().numpy()
    np.testing.assert_allclose(
        ours, theirs, rtol=1e-9, atol=1e-12 * max(1.0, np.abs(theirs).max()), err_msg=what
    )


@given(
    steps=st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=6),
    loss=st.sampled_from(sorted(LOSSES)),
    seed=st.integers(0, 2**16),
)
def test_random_compositions_match_torch_autograd(steps, loss, seed):
    rng = np.random.default_rng(seed)
    n, m = 4, 3  # pick_rows needs n >= 3 and keeps n rows
    params = {
        "x": rng.standard_normal((n, m)),
        "W": rng.standard_normal((m, m)),
        "b": rng.standard_normal(m),
        "c": rng.standard_normal((n, 1)),
    }
    labels = rng.integers(0, m, n)
    targets = {"labels": labels, "onehot": np.eye(m)[labels], "target": rng.standard_normal((n, m))}

    def engine(p):
        h = p["x"]
        for name in steps:
            h = STEPS[name][0](h, p)
        return LOSSES[loss][0](h, targets)

    value, grads = tg.value_and_grad(engine)(params)

    theirs = _to_torch(params, requires_grad=True)
    h = theirs["x"]
    for name in steps:
        h = STEPS[name][1](h, theirs)
    torch_targets = {
        "labels": torch.tensor(labels),
        **_to_torch({k: targets[k] for k in ("onehot", "target")}),
    }
    torch_value = LOSSES[loss][1](h, torch_targets)
    torch_value.backward()

    program = f"{' -> '.join(steps)} -> {loss}"
    _assert_close(np.asarray(value), torch_value, f"value of {program}")
    for key in params:
        _assert_close(grads[key], theirs[key].grad, f"gradient of {key} in {program}")


@given(
    stride=st.integers(1, 2),
    padding=st.integers(0, 1),
    kernel=st.integers(1, 3),
    pool=st.integers(1, 2),
    seed=st.integers(0, 2**16),
)
def test_a_small_cnn_matches_torch_autograd(stride, padding, kernel, pool, seed):
    rng = np.random.default_rng(seed)
    params = {
        "x": rng.standard_normal((2, 2, 7, 7)),
        "w": rng.standard_normal((3, 2, kernel, kernel)),
        "bias": rng.standard_normal(3),
    }
    conv_side = (7 + 2 * padding - kernel) // stride + 1
    features = 3 * (conv_side // pool) ** 2
    params["dense"] = rng.standard_normal((features, 4))
    labels = rng.integers(0, 4, 2)

    def engine(p):
        h = tg.conv2d(p["x"], p["w"], stride=stride, padding=padding) + tg.reshape(p["bias"], (1, 3, 1, 1))
        h = tg.max_pool2d(tg.relu(h), size=pool)
        return tg.softmax_cross_entropy(tg.reshape(h, (2, -1)) @ p["dense"], labels)

    value, grads = tg.value_and_grad(engine)(params)

    t = _to_torch(params, requires_grad=True)
    h = F.conv2d(t["x"], t["w"], t["bias"], stride=stride, padding=padding)
    h = F.max_pool2d(torch.relu(h), pool)
    torch_value = F.cross_entropy(h.reshape(2, -1) @ t["dense"], torch.tensor(labels))
    torch_value.backward()

    _assert_close(np.asarray(value), torch_value, "value")
    for key in params:
        _assert_close(grads[key], t[key].grad, f"gradient of {key}")
