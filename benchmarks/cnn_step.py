"""One training step of the OCR's CNN, on the engine and in PyTorch, from the same weights.

The network is `ocr.models.cnn`: two 5 x 5 convolutions (24 and 48 filters) with ReLU and 2 x 2
max pooling, a 256-unit ReLU layer and 36 outputs, softmax cross-entropy, one plain SGD step on a
batch of 64 characters. The engine's convolution is im2col and one matmul per batch; PyTorch's
CPU convolution is oneDNN's. The loss of the first step is returned by both, as a check that the
two compute the same function.
"""

from __future__ import annotations

import numpy as np

import tinygrad_hw as tg
from ocr.models import cnn, init_cnn
from tinygrad_hw import nn

from .mlp_epoch import _seconds

BATCH = 64


def make_problem(batch=BATCH, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((batch, 1024)).astype(np.float32), rng.integers(0, 36, batch), init_cnn(rng)


def engine_step(params, x, y, lr=0.01):
    loss, grads = tg.value_and_grad(lambda p: tg.softmax_cross_entropy(cnn(p, x), y))(params)
    return float(loss), nn.sgd(params, grads, lr)


def torch_model(params):
    """The same network as torch modules, holding copies of the engine's weights."""
    import torch
    from torch import nn as tnn

    conv1, conv2 = tnn.Conv2d(1, 24, 5), tnn.Conv2d(24, 48, 5)
    dense, logits = tnn.Linear(48 * 25, 256), tnn.Linear(256, 36)
    with torch.no_grad():
        for layer, w, b in ((conv1, "conv1", "bias1"), (conv2, "conv2", "bias2")):
            layer.weight.copy_(torch.from_numpy(params[w]))
            layer.bias.copy_(torch.from_numpy(params[b]))
        for layer, w, b in ((dense, "W3", "b3"), (logits, "W4", "b4")):
            layer.weight.copy_(torch.from_numpy(params[w].T.copy()))
            layer.bias.copy_(torch.from_numpy(params[b]))
    blocks = [conv1, tnn.ReLU(), tnn.MaxPool2d(2), conv2, tnn.ReLU(), tnn.MaxPool2d(2)]
    return tnn.Sequential(tnn.Unflatten(1, (1, 32, 32)), *blocks, tnn.Flatten(), dense, tnn.ReLU(), logits)


def torch_step(model, optimizer, x, y):
    import torch

    optimizer.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(model(1 - x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def time_steps(repeats, with_torch=True):
    """Best-of-`repeats` seconds per step for each version, and their first losses."""
    x, y, params = make_problem()
    times = {"engine": min(_seconds(lambda: engine_step(params, x, y)) for _ in range(repeats))}
    losses = {"engine": engine_step(params, x, y)[0]}
    if with_torch:
        import torch

        model = torch_model(params)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        losses["torch"] = torch_step(model, optimizer, xt, yt)  # the first step, from the same weights
        times["torch"] = min(_seconds(lambda: torch_step(model, optimizer, xt, yt)) for _ in range(repeats))
    return times, losses
