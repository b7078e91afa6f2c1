"""One training epoch of the NIST36 MLP in three versions, timed side by side in one run.

The model is 1024 -> 64 sigmoid -> 36 softmax cross-entropy, trained with plain SGD on 10,800
rows (the size of the NIST36 training split). The three versions see the same initial weights and
the same batches:
  * engine: the model as a plain function, `value_and_grad`, and the functional `nn.sgd`; its
    layers use `affine` (x @ W + b in one primitive), as PyTorch's nn.Linear uses addmm;
  * numpy: forward and backward written out by hand, updated in place (the homework's way);
  * torch: the same network in PyTorch on the CPU, autograd, `torch.optim.SGD`.
Each is timed for one whole epoch, the best of at least `repeats` epochs and of at least
`min_seconds` of epochs: the engine and numpy interleaved (in alternating order) so that they
share the machine's state, then PyTorch in a block of its own.
The engine and numpy versions use the same numpy kernels (`scipy.special.expit`, the same stable
log-softmax), so their ratio is the engine's overhead.

A second measurement isolates the engine's cost per primitive: a chain of small multiplications
differentiated by the engine, by hand in numpy, and by PyTorch, divided by the chain's length.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.special import expit

import tinygrad_hw as tg
from tinygrad_hw import nn
from tinygrad_hw.primitives.activations import log_softmax_np, softmax_np

SIZES = (1024, 64, 36)


def make_problem(rows, dtype, seed=0):
    """Random data shaped like NIST36 (pixels in [0, 1], 36 classes) and Xavier initial weights."""
    rng = np.random.default_rng(seed)
    x = rng.random((rows, SIZES[0])).astype(dtype)
    y = rng.integers(0, SIZES[2], rows)
    params = {
        "W1": nn.xavier_uniform(rng, SIZES[0], SIZES[1], dtype),
        "b1": np.zeros(SIZES[1], dtype),
        "W2": nn.xavier_uniform(rng, SIZES[1], SIZES[2], dtype),
        "b2": np.zeros(SIZES[2], dtype),
    }
    return x, y, params


def make_batches(x, y, batch_size, seed=0):
    return nn.random_batches(np.random.default_rng(seed), x, y, batch_size=batch_size)


# -- the engine ------------------------------------------------------------------------------


def engine_loss(params, x, y):
    hidden = tg.sigmoid(tg.affine(x, params["W1"], params["b1"]))
    return tg.softmax_cross_entropy(tg.affine(hidden, params["W2"], params["b2"]), y)


def engine_epoch(params, batches, lr):
    step = tg.value_and_grad(engine_loss)
    for xb, yb in batches:
        _, grads = step(params, xb, yb)
        params = nn.sgd(params, grads, lr)
    return params


# -- hand-written numpy ----------------------------------------------------------------------


def numpy_epoch(params, batches, lr):
    p = {k: _aligned_copy(v) for k, v in params.items()}
    W1, b1, W2, b2 = p["W1"], p["b1"], p["W2"], p["b2"]
    for xb, yb in batches:
        n = len(xb)
        hidden = expit(xb @ W1 + b1)
        logits = hidden @ W2 + b2
        _loss = -log_softmax_np(logits)[np.arange(n), yb].sum() / n
        delta2 = softmax_np(logits)
        delta2[np.arange(n), yb] -= 1
        delta2 /= n
        delta1 = (delta2 @ W2.T) * hidden * (1 - hidden)
        W2 -= lr * (hidden.T @ delta2)
        b2 -= lr * delta2.sum(axis=0)
        W1 -= lr * (xb.T @ delta1)
        b1 -= lr * delta1.sum(axis=0)
    return p


def _aligned_copy(a, alignment=64):
    """A copy of `a` whose data starts on a 64-byte boundary (a cache line).

    The hand-written epoch updates its weights in place, and how fast depends on where malloc put
    them. With W1 (1024 x 64 float32) 16 or 48 bytes past a cache line, its update took 44 us per
    step instead of 24 (the epoch at batch 32 float32: 0.061 s instead of 0.054), and a process
    kept one placement for all its epochs, so the ratio flipped between runs. Aligned copies give
    numpy its fast case in every run: the ratio measures the engine, not the allocator.
    """
    buffer = np.empty(a.nbytes + alignment, np.uint8)
    start = -buffer.ctypes.data % alignment
    out = buffer[start : start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


# -- PyTorch ---------------------------------------------------------------------------------


def torch_setup(params, batches):
    """The network as torch modules with the same weights, and the batches as tensors (no copy)."""
    import torch

    dtype = torch.float64 if params["W1"].dtype == np.float64 else torch.float32
    model = torch.nn.Sequential(
        torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.Sigmoid(), torch.nn.Linear(SIZES[1], SIZES[2])
    ).to(dtype)
    with torch.no_grad():
        for layer, w, b in ((model[0], "W1", "b1"), (model[2], "W2", "b2")):
            layer.weight.copy_(torch.from_numpy(params[w].T.copy()))
            layer.bias.copy_(torch.from_numpy(params[b]))
    tensors = [(torch.from_numpy(xb), torch.from_numpy(yb)) for xb, yb in batches]
    return model, tensors


def torch_epoch(model, tensors, lr):
    import torch

    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for xb, yb in tensors:
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
    return model


def torch_params(model):
    return {
        "W1": model[0].weight.detach().numpy().T,
        "b1": model[0].bias.detach().numpy(),
        "W2": model[2].weight.detach().numpy().T,
        "b2": model[2].bias.detach().numpy(),
    }


# -- timing ----------------------------------------------------------------------------------


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def time_epochs(batch_size, dtype, rows, repeats, lr=0.01, with_torch=True, min_seconds=0.0, max_rounds=60):
    """Best epoch times for each version, and how far apart their final weights are.

    Each version is timed for `repeats` epochs, then for more until its epochs add up to
    `min_seconds`, up to `max_rounds` epochs (or `repeats`, if more): at batch 32 three epochs are
    0.2 s of measurement, which one of a shared machine's slow spells can cover entirely.
    """
    x, y, params = make_problem(rows, dtype)
    batches = make_batches(x, y, batch_size)
    versions = {
        "engine": lambda: engine_epoch(params, batches, lr),
        "numpy": lambda: numpy_epoch(params, batches, lr),
    }

    def enough(timed):
        return len(timed) >= max(repeats, max_rounds) or (len(timed) >= repeats and sum(timed) >= min_seconds)

    times = {name: [] for name in versions}
    while not all(enough(t) for t in times.values()):
        order = ["engine", "numpy"] if len(times["engine"]) % 2 == 0 else ["numpy", "engine"]
        for name in order:
            times[name].append(_seconds(versions[name]))
    if with_torch:
        # PyTorch's worker threads keep spinning for a moment after each epoch, slowing whatever
        # runs next; timing its epochs in a block of their own keeps that off the other two.
        times["torch"] = []
        while not enough(times["torch"]):
            model, tensors = torch_setup(params, batches)
            times["torch"].append(_seconds(lambda m=model, t=tensors: torch_epoch(m, t, lr)))
    final = {"engine": engine_epoch(params, batches, lr), "numpy": numpy_epoch(params, batches, lr)}
    if with_torch:
        final["torch"] = torch_params(model)
    return {name: min(t) for name, t in times.items()}, _max_difference(final)


def _max_difference(final):
    """Largest difference between any version's final weights and the engine's (a sanity check)."""
    return max(
        float(np.max(np.abs(final[name][k] - final["engine"][k]))) for name in final for k in final["engine"]
    )


def primitive_overhead(length=200, size=16, repeats=200):
    """Seconds per primitive (forward and VJP) along a chain of `length` small multiplications."""
    rng = np.random.default_rng(0)
    x, c = rng.standard_normal(size), rng.standard_normal(size)

    def engine():
        def chain(x):
            for _ in range(length):
                x = x * c
            return tg.sum(x)

        tg.grad(chain)(x)

    def numpy():
        h = x
        for _ in range(length):
            h = h * c
        g = np.ones(size)
        for _ in range(length):
            g = g * c

    results = {"engine": engine, "numpy": numpy}
    try:
        import torch

        xt, ct = torch.tensor(x, requires_grad=True), torch.tensor(c)

        def torch_chain():
            h = xt
            for _ in range(length):
                h = h * ct
            h.sum().backward()
            xt.grad = None

        results["torch"] = torch_chain
    except ImportError:
        pass
    return {name: min(_seconds(fn) for _ in range(repeats)) / length for name, fn in results.items()}
