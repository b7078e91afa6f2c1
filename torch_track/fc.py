"""`fc-nist36`: the engine's 1024 -> 64 sigmoid -> 36 network, in PyTorch.

The same architecture and the same input convention as `ocr.models.mlp` (the network sees
1 - x: ink high, paper zero), so weights carry over either way and, from the same weights and
batch, the two frameworks compute the same gradients (a test checks it to 1e-9 in float64).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class FC(nn.Module):
    def __init__(self, hidden=64, classes=36):
        super().__init__()
        self.hidden = nn.Linear(1024, hidden)
        self.output = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.output(torch.sigmoid(self.hidden(1 - x)))


def from_engine(params, dtype=torch.float64) -> FC:
    """An FC with the engine MLP's weights (engine W is (in, out); torch's Linear is (out, in))."""
    model = FC(hidden=params["W1"].shape[1]).to(dtype)
    with torch.no_grad():
        model.hidden.weight.copy_(torch.from_numpy(np.ascontiguousarray(params["W1"].T)))
        model.hidden.bias.copy_(torch.from_numpy(params["b1"]))
        model.output.weight.copy_(torch.from_numpy(np.ascontiguousarray(params["W2"].T)))
        model.output.bias.copy_(torch.from_numpy(params["b2"]))
    return model


def engine_gradients(model) -> dict:
    """The model's .grad fields in the engine's naming and layout."""
    return {
        "W1": model.hidden.weight.grad.numpy().T,
        "b1": model.hidden.bias.grad.numpy(),
        "W2": model.output.weight.grad.numpy().T,
        "b2": model.output.bias.grad.numpy(),
    }
