"""The NIST36 tasks: `fc-nist36` (the engine's network in PyTorch), `cnn-nist36` (a CNN, with a
table against the FC network) and `resnet-variants` (the CNN with skip, residual and gated residual
stages, in a table). All train on the same data as the engine (`--data-dir`, or the embedded
default), with the same random distortions (`torch_track.recipes`), and write model.pt, curves
and metrics."""

from __future__ import annotations

from pathlib import Path

from ocr.nist36 import load_dataset
from tinygrad_hw.app.files import write_json

from ..common import at_most, pick_device, save_run, save_state, write_curves
from ..recipes import VARIANTS, train_recipe


def run(
    name: str,
    *,
    data_dir: Path | None,
    out: Path,
    seed: int,
    epochs: int | None,
    device: str | None,
    limit: int | None = None,
) -> None:
    """Train recipe `name` (`fc` or `cnn`); the CNN's table has the FC network, trained the same way
    (for `epochs` epochs too, when given: a short run is compared with an equally short one)."""
    device = pick_device(device)
    out.mkdir(parents=True, exist_ok=True)
    splits, source = load_dataset(data_dir, seed=seed)
    splits = at_most(splits, limit, seed)
    model, history, summary = train_recipe(name, splits, device, seed, epochs)
    rows = [summary]
    if name == "cnn":
        fc = train_recipe("fc", splits, device, seed, epochs, description="fc-nist36 (for the table)")
        rows.append(fc[2])
    metrics = {
        "task": f"{name}-nist36",
        "data": source,
        "device": str(device),
        **summary,
        "history": history,
        "table": rows,
    }
    save_run(out, model, history, f"{name}-nist36 (PyTorch)", metrics)
    print(f"{name}-nist36 on {source} ({device})")
    print_table(rows)


def run_fc(**options) -> None:
    run("fc", **options)


def run_cnn(**options) -> None:
    run("cnn", **options)


def run_variants(
    *,
    data_dir: Path | None,
    out: Path,
    seed: int,
    epochs: int | None,
    device: str | None,
    limit: int | None = None,
) -> None:
    """Train the plain CNN and each shortcut variant the same way; one table, one curve figure each."""
    device = pick_device(device)
    out.mkdir(parents=True, exist_ok=True)
    splits, source = load_dataset(data_dir, seed=seed)
    splits = at_most(splits, limit, seed)
    rows, histories = [], {}
    for name in VARIANTS:
        description = f"resnet-variants: {name}"
        model, history, summary = train_recipe(name, splits, device, seed, epochs, description=description)
        rows.append(summary)
        histories[name] = history
        save_state(out / f"{name}.pt", model)
        write_curves(out / f"curves_{name}.png", history, f"{name} on NIST36 (PyTorch)")
    metrics = {
        "task": "resnet-variants",
        "data": source,
        "device": str(device),
        "table": rows,
        "histories": histories,
    }
    write_json(out / "metrics.json", metrics)
    print(f"resnet-variants on {source} ({device})")
    print_table(rows)


def print_table(rows):
    print("| model | parameters | epochs | train s | valid accuracy | test accuracy |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['model']} | {r['parameters']:,} | {r['epochs']} | {r['train_seconds']:.1f} | "
            f"{r['valid_accuracy']:.4f} | {r['test_accuracy']:.4f} |"
        )
