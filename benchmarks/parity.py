"""Parity: the engine's MLP and PyTorch's FC network, trained side by side, give the same loss curve.

Both start from the same Xavier weights (float64), see the same batches in the same order and take
plain SGD steps with momentum 0.9 and the same learning rate; the loss of every step is recorded.
In float64 the two curves should agree to rounding error over the whole run: any difference in
a gradient would compound from step to step and show.
"""

from __future__ import annotations

import numpy as np

import tinygrad_hw as tg
from ocr.models import init_mlp, mlp
from tinygrad_hw import nn


def engine_curve(params, batches, lr, beta):
    step = tg.value_and_grad(lambda p, x, y: tg.softmax_cross_entropy(mlp(p, x), y))
    velocity, losses = nn.momentum_init(params), []
    for xb, yb in batches:
        loss, grads = step(params, xb, yb)
        params, velocity = nn.momentum(params, grads, velocity, lr, beta)
        losses.append(float(loss))
    return np.array(losses)


def torch_curve(params, batches, lr, beta):
    import torch

    from torch_track.fc import from_engine

    model = from_engine(params, torch.float64)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=beta)
    losses = []
    for xb, yb in batches:
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(xb)), torch.from_numpy(yb))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return np.array(losses)


def loss_curves(x, y, epochs, seed=0, lr=0.05, beta=0.9, batch_size=32):
    """{"engine": losses, "torch": losses} per step, from the same weights and batches, in float64."""
    rng = np.random.default_rng(seed)
    params = {k: v.astype(np.float64) for k, v in init_mlp(rng).items()}
    x = x.astype(np.float64)
    batches = [b for _ in range(epochs) for b in nn.random_batches(rng, x, y, batch_size=batch_size)]
    return {
        "engine": engine_curve(params, batches, lr, beta),
        "torch": torch_curve(params, batches, lr, beta),
    }
