"""One training epoch of the compression autoencoder in three versions, timed side by side.

The network is `compression.autoencoder`: 1024 -> 32 -> 32 -> 32 -> 1024, ReLU layers and a
sigmoid output, with the summed squared error, trained by plain SGD in batches of 36 (its default
batch size). The versions see the same initial weights and batches:
  * engine: `value_and_grad` of the model's own loss function and `nn.sgd`;
  * numpy: forward and backward written out by hand, updated in place;
  * torch: the same layers in PyTorch on the CPU, autograd and `torch.optim.SGD`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

import tinygrad_hw as tg
from compression.autoencoder import LAYERS, init_autoencoder, loss
from tinygrad_hw import nn

from .mlp_epoch import _seconds

BATCH = 36


def make_problem(rows, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((rows, 1024)).astype(dtype)
    return x, init_autoencoder(rng, dtype), nn.random_batches(rng, x, batch_size=BATCH)


def engine_epoch(params, batches, lr):
    step = tg.value_and_grad(loss)
    for (xb,) in batches:
        _, grads = step(params, xb)
        params = nn.sgd(params, grads, lr)
    return params


def numpy_epoch(params, batches, lr):
    p = {name: {k: v.copy() for k, v in layer.items()} for name, layer in params.items()}
    layers = [p[name] for name in LAYERS]
    for (xb,) in batches:
        activations = [xb]
        for layer in layers[:-1]:
            activations.append(np.maximum(activations[-1] @ layer["W"] + layer["b"], 0))
        out = expit(activations[-1] @ layers[-1]["W"] + layers[-1]["b"])
        delta = 2 * (out - xb) * out * (1 - out)  # d(sum of squared errors) / d(pre-sigmoid)
        for layer, a in zip(reversed(layers), reversed(activations)):
            below = (delta @ layer["W"].T) * (a > 0)
            layer["W"] -= lr * (a.T @ delta)
            layer["b"] -= lr * delta.sum(axis=0)
            delta = below
    return p


def torch_setup(params):
    import torch

    dtype = torch.float64 if params["encode1"]["W"].dtype == np.float64 else torch.float32
    layers = []
    for name in LAYERS:
        w, b = params[name]["W"], params[name]["b"]
        linear = torch.nn.Linear(*w.shape).to(dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, torch.nn.ReLU()]
    layers[-1] = torch.nn.Sigmoid()
    return torch.nn.Sequential(*layers)


def torch_epoch(model, batches, lr):
    import torch

    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for (xb,) in batches:
        optimizer.zero_grad(set_to_none=True)
        x = torch.from_numpy(xb)
        torch.sum((model(x) - x) ** 2).backward()
        optimizer.step()
    return model


def torch_params(model):
    linears = [m for m in model if hasattr(m, "weight")]
    return {
        name: {"W": m.weight.detach().numpy().T, "b": m.bias.detach().numpy()}
        for name, m in zip(LAYERS, linears)
    }


def time_epochs(rows, repeats, lr=3e-5, dtype=np.float32, with_torch=True):
    """Best-of-`repeats` seconds per epoch for each version, and the largest weight difference."""
    _, params, batches = make_problem(rows, dtype)
    versions = {
        "engine": lambda: engine_epoch(params, batches, lr),
        "numpy": lambda: numpy_epoch(params, batches, lr),
    }
    times = {name: [] for name in versions}
    for repeat in range(repeats):
        for name in ["engine", "numpy"] if repeat % 2 == 0 else ["numpy", "engine"]:
            times[name].append(_seconds(versions[name]))
    final = {name: version() for name, version in versions.items()}
    if with_torch:  # in a block of its own, as in mlp_epoch
        times["torch"] = []
        for _ in range(repeats):
            model = torch_setup(params)
            times["torch"].append(_seconds(lambda m=model: torch_epoch(m, batches, lr)))
        final["torch"] = torch_params(model)
    difference = max(
        float(np.max(np.abs(final[v][n][k] - final["engine"][n][k])))
        for v in final
        for n in LAYERS
        for k in ("W", "b")
    )
    return {name: min(t) for name, t in times.items()}, difference
