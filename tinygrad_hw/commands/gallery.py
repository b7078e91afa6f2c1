"""`python -m tinygrad_hw gallery`: train each gallery model at a small size and show its loss falling.

The models (tinygrad_hw/gallery): logistic regression, a residual MLP with layer norm trained with
Adam, a CNN with batch norm, and a character-level tanh RNN. Each trains for its default number of
steps on data it generates, with a progress bar; the table gives its first and final loss and its
accuracy before and after. Writes metrics.json, losses.png (the four curves) and the recorded tape
of the logistic regression's loss, drawn as tape.png and tape.svg.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from tqdm import tqdm

from tinygrad_hw import gallery
from tinygrad_hw.app.cli import UserError, note_unused_data_dir
from tinygrad_hw.app.files import save_figure, write_json
from tinygrad_hw.graph import graph


def run(
    *,
    out: Path,
    data_dir: Path | None = None,
    seed: int = 0,
    steps: int | None = None,
    models: list[str] | None = None,
) -> dict:
    note_unused_data_dir(data_dir, "the gallery")
    names = models or list(gallery.EXAMPLES)
    unknown = [n for n in names if n not in gallery.EXAMPLES]
    if unknown:
        raise UserError(
            f"unknown gallery model {', '.join(unknown)}; the models are {', '.join(gallery.EXAMPLES)}"
        )
    out.mkdir(parents=True, exist_ok=True)  # fail before training, not after
    results = {}
    print("| model | steps | first loss | final loss | accuracy before | after | seconds |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        example = gallery.EXAMPLES[name]
        total = steps or example.STEPS
        start = time.perf_counter()
        with tqdm(total=total, desc=name, unit="step", leave=False, disable=None) as bar:
            history = gallery.train(example, total, seed, on_step=lambda step, loss, bar=bar: bar.update())
        seconds = time.perf_counter() - start
        final = float(np.mean(history["loss"][-10:]))
        results[name] = {
            "steps": total,
            "first_loss": history["loss"][0],
            "final_loss": final,
            "accuracy_before": history["accuracy_before"],
            "accuracy_after": history["accuracy_after"],
            "seconds": seconds,
            "loss_history": history["loss"],
        }
        before, after = history["accuracy_before"], history["accuracy_after"]
        row = f"{history['loss'][0]:.4f} | {final:.4f} | {before:.3f} | {after:.3f} | {seconds:.1f}"
        print(f"| {name} | {total} | {row} |", flush=True)
    metrics = {"task": "engine gallery", "seed": seed, "models": results}
    write_json(out / "metrics.json", metrics)
    save_figure(out / "losses.png", _losses_figure(results))
    tape = _logistic_tape(seed)
    tape.draw(out / "tape.png")
    tape.draw(out / "tape.svg")
    return metrics


def _losses_figure(results):
    fig = Figure(figsize=(4 * len(results), 3.2))
    for ax, (name, result) in zip(np.atleast_1d(fig.subplots(1, len(results))), results.items()):
        ax.plot(result["loss_history"], lw=0.8)
        ax.set(title=name, xlabel="step", ylabel="training loss", yscale="log")
    fig.tight_layout()
    return fig


def _logistic_tape(seed):
    """The recorded graph of the logistic regression's loss on a batch, with cotangent norms."""
    example = gallery.EXAMPLES["logistic"]
    rng = np.random.default_rng(seed)
    x, y = example.data(rng)
    params, state = example.init(rng)
    return graph(gallery.training_loss(example, state, x[:8], y[:8], rng), params)
