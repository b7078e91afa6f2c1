"""Differential test: random compositions of primitives agree with PyTorch autograd in float64.

Hypothesis draws a program (a sequence of shape-preserving steps, then a loss); the same program
runs on the engine and in PyTorch, and values and gradients must agree to a relative 1e-9.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
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
    # the numpy-breadth operations
    "sin_cos": (lambda h, p: tg.sin(h) + tg.cos(2 * h), lambda h, p: torch.sin(h) + torch.cos(2 * h)),
    "abs": (lambda h, p: tg.abs(h), lambda h, p: torch.abs(h)),
    "sqrt": (lambda h, p: tg.sqrt(1 + h * h), lambda h, p: torch.sqrt(1 + h * h)),
    "log1p_expm1": (
        lambda h, p: tg.log1p(tg.expm1(0.2 * h) + 1.5),
        lambda h, p: torch.log1p(torch.expm1(0.2 * h) + 1.5),
    ),
    "arctan_sinh": (lambda h, p: tg.arctan(tg.sinh(h)), lambda h, p: torch.atan(torch.sinh(h))),
    "maximum": (lambda h, p: tg.maximum(h, p["c"]), lambda h, p: torch.maximum(h, p["c"])),
    "minimum": (lambda h, p: tg.minimum(h, p["W"][0]), lambda h, p: torch.minimum(h, p["W"][0])),
    "where": (lambda h, p: tg.where(h > 0, h * p["b"], h), lambda h, p: torch.where(h > 0, h * p["b"], h)),
    "clip": (lambda h, p: tg.clip(h, -0.5, 0.8), lambda h, p: torch.clamp(h, -0.5, 0.8)),
    "softplus": (lambda h, p: tg.softplus(h), lambda h, p: F.softplus(h)),
    "leaky_relu": (lambda h, p: tg.leaky_relu(h, 0.1), lambda h, p: F.leaky_relu(h, 0.1)),
    "elu": (lambda h, p: tg.elu(h), lambda h, p: F.elu(h)),
    "gelu": (lambda h, p: tg.gelu(h), lambda h, p: F.gelu(h, approximate="tanh")),
    "gelu_exact": (lambda h, p: tg.gelu(h, approximate=False), lambda h, p: F.gelu(h)),
    "logaddexp": (lambda h, p: tg.logaddexp(h, p["c"]), lambda h, p: torch.logaddexp(h, p["c"])),
    "hypot_arctan2": (
        lambda h, p: tg.hypot(h, 1.0) + tg.arctan2(h, p["c"] * p["c"] + 0.5),
        lambda h, p: torch.hypot(h, torch.ones_like(h)) + torch.atan2(h, p["c"] * p["c"] + 0.5),
    ),
    "power": (lambda h, p: (1.5 + tg.sigmoid(h)) ** p["c"], lambda h, p: (1.5 + torch.sigmoid(h)) ** p["c"]),
    "cumsum": (lambda h, p: 0.5 * tg.cumsum(h, axis=0), lambda h, p: 0.5 * torch.cumsum(h, 0)),
    "flip_roll": (
        lambda h, p: tg.roll(tg.flip(h, 1), 1, axis=0),
        lambda h, p: torch.roll(torch.flip(h, [1]), 1, 0),
    ),
    "max_keepdims": (
        lambda h, p: h - tg.max(h, axis=1, keepdims=True),
        lambda h, p: h - h.max(1, keepdim=True).values,
    ),
    "logsumexp": (
        lambda h, p: h - tg.logsumexp(h, axis=0, keepdims=True),
        lambda h, p: h - torch.logsumexp(h, 0, True),
    ),
    "prod": (
        lambda h, p: h * tg.prod(tg.tanh(h), axis=1, keepdims=True),
        lambda h, p: h * torch.prod(torch.tanh(h), 1, keepdim=True),
    ),
    "standardise": (
        lambda h, p: (h - tg.mean(h, axis=0)) / tg.std(h, axis=0, ddof=1),
        lambda h, p: (h - h.mean(0)) / h.std(0, unbiased=True),
    ),
    "var": (
        lambda h, p: h * tg.var(h, axis=1, keepdims=True),
        lambda h, p: h * h.var(1, unbiased=False, keepdim=True),
    ),
    "norm": (
        lambda h, p: h / tg.norm(h, axis=1, keepdims=True),
        lambda h, p: h / torch.linalg.norm(h, dim=1, keepdim=True),
    ),
    "einsum": (
        lambda h, p: tg.einsum("ij,jk->ik", h, p["W"]),
        lambda h, p: torch.einsum("ij,jk->ik", h, p["W"]),
    ),
    "einsum_diag": (
        lambda h, p: h * tg.einsum("ii->i", p["W"]),
        lambda h, p: h * torch.einsum("ii->i", p["W"]),
    ),
    "tensordot": (
        lambda h, p: tg.tensordot(h, p["W"], axes=1),
        lambda h, p: torch.tensordot(h, p["W"], dims=1),
    ),
    "tril": (lambda h, p: h @ tg.triu(p["W"]), lambda h, p: h @ torch.triu(p["W"])),
    "sort": (lambda h, p: tg.sort(h, axis=1), lambda h, p: torch.sort(h, 1).values),
    "stack_split": (
        lambda h, p: tg.concatenate(tg.split(h, [1], axis=1)[::-1], axis=1),
        lambda h, p: torch.cat(torch.split(h, [1, 2], 1)[::-1], 1),
    ),
    "pad_crop": (
        lambda h, p: tg.pad(h, 1, mode="reflect")[1:-1, 1:-1] * 2,
        lambda h, p: F.pad(h[None], (1, 1, 1, 1), mode="reflect")[0, 1:-1, 1:-1] * 2,
    ),
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
    "logsumexp": (lambda h, t: tg.logsumexp(h), lambda h, t: torch.logsumexp(h.reshape(-1), 0)),
    "norm": (lambda h, t: tg.norm(h - t["target"]), lambda h, t: torch.linalg.norm(h - t["target"])),
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
    # A row that relu zeroes makes `norm` divide 0 by 0: a NaN loss has no gradient worth comparing
    # (torch's relu masks the NaN to 0, the engine's passes it on; both are defensible).
    assume(np.isfinite(value))

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


# -- Jacobians and Hessians against torch.func ---------------------------------------------------

PROGRAMS = {  # name -> (engine f, torch f), each from a vector of 4 to a vector of 3
    "affine_tanh": (lambda x, A: tg.tanh(A @ x), lambda x, A: torch.tanh(A @ x)),
    "softmax_of_sin": (
        lambda x, A: tg.softmax(A @ tg.sin(x)),
        lambda x, A: torch.softmax(A @ torch.sin(x), 0),
    ),
    "products": (
        lambda x, A: tg.stack([tg.prod(x), tg.sum(x**3), tg.logsumexp(A @ x)]),
        lambda x, A: torch.stack([torch.prod(x), torch.sum(x**3), torch.logsumexp(A @ x, 0)]),
    ),
    "einsum_norm": (
        lambda x, A: tg.einsum("ij,j->i", A, x) / tg.norm(x),
        lambda x, A: torch.einsum("ij,j->i", A, x) / torch.linalg.norm(x),
    ),
}


@settings(max_examples=12)
@given(name=st.sampled_from(sorted(PROGRAMS)), seed=st.integers(0, 2**16))
def test_jacobian_and_hessian_match_torch_func(name, seed):
    rng = np.random.default_rng(seed)
    x, A = rng.uniform(0.3, 1.5, 4), rng.standard_normal((3, 4))
    ours, theirs = PROGRAMS[name]
    xt, At = torch.tensor(x), torch.tensor(A)
    jacobian = tg.jacobian(lambda x: ours(x, A))(x)
    _assert_close(jacobian, torch.func.jacrev(lambda x: theirs(x, At))(xt), f"jacobian of {name}")
    scalar = lambda x: tg.sum(ours(x, A) * np.arange(1.0, 4.0))  # noqa: E731
    torch_scalar = lambda x: (theirs(x, At) * torch.arange(1.0, 4.0, dtype=torch.float64)).sum()  # noqa: E731
    _assert_close(tg.hessian(scalar)(x), torch.func.hessian(torch_scalar)(xt), f"hessian of {name}")
    v = rng.standard_normal(4)
    _assert_close(
        tg.hvp(scalar, (x,), (v,)), torch.func.hessian(torch_scalar)(xt) @ torch.tensor(v), f"hvp of {name}"
    )
    _, jv = tg.jvp(lambda x: ours(x, A), (x,), (v,))
    _assert_close(jv, torch.func.jvp(lambda x: theirs(x, At), (xt,), (torch.tensor(v),))[1], f"jvp of {name}")
