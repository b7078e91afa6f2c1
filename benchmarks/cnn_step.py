"""One CNN training step on the engine and in PyTorch, from the same weights, side by side.

Two networks, both with softmax cross-entropy and one plain SGD step:
  * `ocr`: the OCR's CNN, `ocr.models.cnn`: two 5 x 5 convolutions (24 and 48 filters) with 2 x 2
    max pooling and ReLU, a 256-unit ReLU layer and 36 outputs, on 32 x 32 characters;
  * `cifar`: the shape CIFAR-10 work uses: 3 x 3 convolutions with padding 1 (32 then 64 filters),
    each with 2 x 2 max pooling and ReLU, then one linear layer to 10 classes, on 3 x 32 x 32 images.
Both networks pool before the ReLU (the same function as ReLU then pooling, cheaper), in both
frameworks alike.
The engine's convolution is one GEMM per layer over the whole batch; PyTorch's CPU convolution is
oneDNN's. The loss of the first step is returned by both, as a check that the two compute the
same function.

`compare(config)` times the two interleaved in one process (blocks of steps, alternating, each
after a pause that lets the other library's idle worker threads stop spinning; the first step of
each block is dropped, since it refills the caches), next to the machine's float32 GEMM rate
measured in the same run; `peak_memory` runs one framework's steps in a fresh process and reports
its peak memory. On a shared machine, compare ratios from one run: best against best, median
against median, and paired (each round's engine block against the PyTorch block beside it, the
median over rounds), which a slow spell over one library's blocks moves least. On its own:

    python -m benchmarks cnn-step                          # every configuration, as a table
    python -m benchmarks cnn-step --configs ocr-64 --repeats 40
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

import tinygrad_hw as tg
from ocr.models import cnn, init_cnn
from tinygrad_hw import nn

from .mlp_epoch import _seconds

BATCH = 64
CONFIGS = {"ocr-8": ("ocr", 8), "ocr-64": ("ocr", 64), "ocr-256": ("ocr", 256), "cifar-64": ("cifar", 64)}


# -- the OCR CNN -------------------------------------------------------------------------------


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
    blocks = [conv1, tnn.MaxPool2d(2), tnn.ReLU(), conv2, tnn.MaxPool2d(2), tnn.ReLU()]
    return tnn.Sequential(tnn.Unflatten(1, (1, 32, 32)), *blocks, tnn.Flatten(), dense, tnn.ReLU(), logits)


def torch_step(model, optimizer, x, y):
    import torch

    optimizer.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(model(1 - x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


# -- the CIFAR-shaped CNN ----------------------------------------------------------------------


def make_cifar_problem(batch=BATCH, seed=0, channels=(32, 64)):
    rng = np.random.default_rng(seed)

    def he(shape, fan_in):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    c1, c2 = channels
    params = {
        "conv1": he((c1, 3, 3, 3), 27),
        "bias1": np.zeros(c1, np.float32),
        "conv2": he((c2, c1, 3, 3), c1 * 9),
        "bias2": np.zeros(c2, np.float32),
        "W3": nn.xavier_uniform(rng, c2 * 64, 10, np.float32),
        "b3": np.zeros(10, np.float32),
    }
    return rng.standard_normal((batch, 3, 32, 32)).astype(np.float32), rng.integers(0, 10, batch), params


def cifar_cnn(params, x):
    """(3x3 conv with padding 1 and its bias, 2x2 max pool, ReLU) twice, then a linear layer to 10 classes."""
    h = x
    for w, b in (("conv1", "bias1"), ("conv2", "bias2")):
        h = tg.relu(tg.max_pool2d(tg.conv2d(h, params[w], params[b], padding=1), size=2))
    return tg.affine(tg.reshape(h, (h.shape[0], -1)), params["W3"], params["b3"])


def cifar_engine_step(params, x, y, lr=0.01):
    loss, grads = tg.value_and_grad(lambda p: tg.softmax_cross_entropy(cifar_cnn(p, x), y))(params)
    return float(loss), nn.sgd(params, grads, lr)


def cifar_torch_model(params):
    import torch
    from torch import nn as tnn

    c1, c2 = params["conv1"].shape[0], params["conv2"].shape[0]
    conv1, conv2, linear = (
        tnn.Conv2d(3, c1, 3, padding=1),
        tnn.Conv2d(c1, c2, 3, padding=1),
        tnn.Linear(c2 * 64, 10),
    )
    with torch.no_grad():
        for layer, w, b in ((conv1, "conv1", "bias1"), (conv2, "conv2", "bias2")):
            layer.weight.copy_(torch.from_numpy(params[w]))
            layer.bias.copy_(torch.from_numpy(params[b]))
        linear.weight.copy_(torch.from_numpy(params["W3"].T.copy()))
        linear.bias.copy_(torch.from_numpy(params["b3"]))
    blocks = [conv1, tnn.MaxPool2d(2), tnn.ReLU(), conv2, tnn.MaxPool2d(2), tnn.ReLU()]
    return tnn.Sequential(*blocks, tnn.Flatten(), linear)


def cifar_torch_step(model, optimizer, x, y):
    import torch

    optimizer.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


# -- one configuration: its problem, both steps, its arithmetic --------------------------------


def step_flops(network, batch):
    """Multiply-adds x 2 of one training step: every layer's forward, filter (weight) gradient and
    input gradient products, except the first layer's input gradient, which nobody needs."""
    if network == "ocr":
        layers = [(784, 24, 25), (100, 48, 600), (1, 256, 1200), (1, 36, 256)]  # (positions, out, in)
    else:
        layers = [(1024, 32, 27), (256, 64, 288), (1, 10, 4096)]
    total = sum(3 * 2 * batch * p * f * k for p, f, k in layers)
    p, f, k = layers[0]
    return total - 2 * batch * p * f * k


def setup(config):
    """(engine step, torch step factory) for one configuration, on the same data and weights."""
    network, batch = CONFIGS[config]
    if network == "ocr":
        x, y, params = make_problem(batch)
        engine, model_of, torch_fn = engine_step, torch_model, torch_step
    else:
        x, y, params = make_cifar_problem(batch)
        engine, model_of, torch_fn = cifar_engine_step, cifar_torch_model, cifar_torch_step

    def run_engine():
        return engine(params, x, y)[0]

    def make_torch():
        import torch

        model = model_of(params)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        return lambda: torch_fn(model, optimizer, xt, yt)

    return run_engine, make_torch


def gemm_rate(size=1024, repeats=5):
    """The machine's float32 matrix-product rate (FLOP/s), best of `repeats`, as numpy's BLAS gets it."""
    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    a @ a
    return 2 * size**3 / min(_seconds(lambda: a @ a) for _ in range(repeats))


# After its last product, OpenBLAS's worker thread keeps spinning for about 0.1 s, and PyTorch's
# OpenMP workers for a few milliseconds: whatever runs next on the two cores shares one of them.
# Measured here (OCR CNN, batch 64): PyTorch's first step right after engine steps 36 ms, 16.5 ms
# after a 0.2 s pause; the engine's right after PyTorch steps 24 ms, 17.8 ms after a 0.01 s pause.
# Dropping the first step of a block did not cover it: the second still started inside the spin.
_SETTLE_SECONDS = 0.25


def time_steps(repeats, with_torch=True):
    """Best-of-`repeats` seconds per step of the OCR CNN at batch 64, and both first losses."""
    run_engine, make_torch = setup(f"ocr-{BATCH}")
    losses = {"engine": run_engine()}  # the first step, from the initial weights (the step is pure)
    times = {"engine": min(_seconds(run_engine) for _ in range(repeats))}
    if with_torch:
        run_torch = make_torch()
        time.sleep(_SETTLE_SECONDS)
        losses["torch"] = run_torch()  # the first step, from the same weights
        times["torch"] = min(_seconds(run_torch) for _ in range(repeats))
    return times, losses


def compare(config, repeats=20, block=3, with_torch=True):
    """Engine and PyTorch step times (best and median, seconds), interleaved block by block.

    Each round times `block` engine steps then `block` PyTorch steps, each block after a pause of
    _SETTLE_SECONDS (the other library's idle threads stop spinning) and without its first step
    (which refills the caches). Three ratios, engine over PyTorch: best over best, median over
    median, and the paired ratio, the median over rounds of the two blocks' best steps. On a
    shared machine a slow spell of a second or more can hold all of one library's steps and none
    of the other's, which moves the first two; in the paired ratio both blocks of a round share
    the spell. Also returns the GEMM rate, measured between rounds, and the step's FLOPs.
    """
    network, batch = CONFIGS[config]
    run_engine, make_torch = setup(config)
    run_torch = make_torch() if with_torch else None
    steps = {"engine": run_engine} | ({"torch": run_torch} if with_torch else {})
    times = {name: [] for name in steps}
    round_bests = {name: [] for name in steps}
    rates = []
    for step in steps.values():
        step()  # warm up
    for _ in range(repeats):
        for name, step in steps.items():
            time.sleep(_SETTLE_SECONDS)
            kept = [_seconds(step) for _ in range(block)][1:]
            times[name] += kept
            round_bests[name].append(min(kept))
        rates.append(gemm_rate(repeats=2))
    flops = step_flops(network, batch)
    result = {"config": config, "flops": flops, "gemm_flops_per_s": max(rates)}
    for name, seconds in times.items():
        best = min(seconds)
        result[name] = {
            "best_s": best,
            "median_s": float(np.median(seconds)),
            "gemm_fraction": flops / best / max(rates),
        }
    if with_torch:
        result["ratio"] = result["engine"]["best_s"] / result["torch"]["best_s"]
        result["median_ratio"] = result["engine"]["median_s"] / result["torch"]["median_s"]
        result["paired_ratio"] = paired_ratio(round_bests["engine"], round_bests["torch"])
    return result


def paired_ratio(engine_seconds, torch_seconds):
    """The median, over rounds, of the engine's time over PyTorch's in the same round."""
    return float(np.median(np.asarray(engine_seconds) / np.asarray(torch_seconds)))


# -- peak memory -------------------------------------------------------------------------------


def _status(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return None


def _measure_peak(framework, config, steps=3):
    """In this process: resident memory growth over a few steps (and tracemalloc's peak for the engine)."""
    import tracemalloc

    run_engine, make_torch = setup(config)
    step = run_engine if framework == "engine" else make_torch()
    result = {}
    rss = _status("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # reset the high-water mark VmHWM to the current resident size
    except OSError:
        pass
    for _ in range(steps):
        step()
    peak = _status("VmHWM")
    if rss is not None and peak is not None:
        result["rss_peak_bytes"] = peak - rss
    if framework == "engine":
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        step()
        result["traced_peak_bytes"] = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    return result


def peak_memory(framework, config):
    """Peak memory of `framework`'s training step in a fresh process: growth of the resident set
    over the steps (the high-water mark minus the resident size before them), and for the engine
    tracemalloc's peak of numpy allocations. Bytes; {} where /proc is not available."""
    code = (
        "import json; from benchmarks.cnn_step import _measure_peak; "
        f"print(json.dumps(_measure_peak({framework!r}, {config!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- printing ----------------------------------------------------------------------------------


def print_row(r, header):
    if header:
        print(
            "config    GFLOP  engine ms (median)  torch ms (median)  ratio (median)  paired  GEMM frac e/t"
            "  GEMM GF/s  peak MB engine rss/traced  torch rss"
        )
    e, t = r["engine"], r["torch"]
    mb = {k: {m: v / 2**20 for m, v in d.items()} for k, d in r.get("memory", {}).items()}
    em, tm = mb.get("engine", {}), mb.get("torch", {})
    nan = float("nan")
    print(
        f"{r['config']:9s} {r['flops'] / 1e9:5.2f}  {1e3 * e['best_s']:7.2f} ({1e3 * e['median_s']:6.2f})"
        f"  {1e3 * t['best_s']:7.2f} ({1e3 * t['median_s']:6.2f})"
        f"  {r['ratio']:5.2f} ({r['median_ratio']:4.2f})  {r['paired_ratio']:6.2f}"
        f"  {e['gemm_fraction']:.2f} / {t['gemm_fraction']:.2f}  {r['gemm_flops_per_s'] / 1e9:9.0f}"
        f"  {em.get('rss_peak_bytes', nan):7.1f} / {em.get('traced_peak_bytes', nan):5.1f}"
        f"  {tm.get('rss_peak_bytes', nan):7.1f}",
        flush=True,
    )
