"""`python -m ocr train`: train a classifier and write its checkpoint, metrics and figures."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tinygrad_hw import nn
from tinygrad_hw.app.cli import UserError
from tinygrad_hw.app.figures import training_curves
from tinygrad_hw.app.files import save_figure, write_json
from tinygrad_hw.app.training import TrainingDiverged

from .. import figures
from ..model_store import save_model
from ..models import MODELS, model_options
from ..nist36 import SPLITS, load_dataset
from ..training import DEFAULTS, confusion_matrix, most_confused, sweep_learning_rates, train_model

CHECKPOINT = "model.npz"


def run(
    *,
    model: str,
    hidden: int,
    epochs: int | None,
    lr: float | None,
    batch_size: int | None,
    momentum: float,
    no_augment: bool,
    lr_sweep: bool,
    data_dir: Path | None,
    out: Path,
    seed: int,
) -> None:
    given = {"epochs": epochs, "lr": lr, "batch_size": batch_size}
    config = {**DEFAULTS[model], **{k: v for k, v in given.items() if v is not None}}
    if not 0 <= momentum < 1:
        raise UserError(f"--momentum must be in [0, 1), got {momentum}")
    options = model_options(model, {"hidden": hidden})
    out.mkdir(parents=True, exist_ok=True)  # fail now, not after training
    splits, source = load_dataset(data_dir, seed=seed)

    def train(rate, description):
        return train_model(
            model,
            splits,
            epochs=config["epochs"],
            lr=rate,
            batch_size=config["batch_size"],
            beta=momentum,
            augment=not no_augment,
            seed=seed,
            hidden=hidden,
            description=description,
        )

    start = time.perf_counter()
    try:
        initial, params, history = first = train(config["lr"], f"training {model}")
        sweep = sweep_learning_rates(train, config["lr"], first) if lr_sweep else None
    except TrainingDiverged as error:
        raise UserError(f"training diverged: {error}") from None
    if sweep is not None:
        config["lr"], (initial, params, history) = sweep["best_lr"], sweep["best_run"]
    seconds = time.perf_counter() - start

    apply = MODELS[model].apply
    results = {split: nn.evaluate(apply, params, splits[split].x, splits[split].y) for split in SPLITS}
    predicted = np.argmax(nn.predict(apply, params, splits["test"].x), axis=1)
    confusion = confusion_matrix(splits["test"].y, predicted)
    metrics = {
        "model": model,
        "data": source,
        "config": {**config, "momentum": momentum, "augment": not no_augment, "seed": seed, **options},
        **{f"{split}_accuracy": results[split][1] for split in SPLITS},
        **{f"{split}_loss": results[split][0] for split in SPLITS},
        "epochs": config["epochs"],
        "train_seconds": seconds,
        "history": history,
        "most_confused": [{"true": t, "predicted": p, "count": c} for t, p, c in most_confused(confusion)],
    }
    if sweep is not None:
        metrics["lr_sweep"] = {
            "learning_rates": sorted(sweep["histories"]),
            "valid_accuracy": {f"{lr:g}": h["valid_accuracy"][-1] for lr, h in sweep["histories"].items()},
            "best_lr": sweep["best_lr"],
            "test_accuracy_of_best": results["test"][1],
        }
    info = {"test_accuracy": results["test"][1], "data": source, **options, "config": metrics["config"]}
    save_model(out / CHECKPOINT, model, params, info)
    _write_figures(out, model, initial, params, history, splits, confusion, sweep)
    write_json(out / "metrics.json", metrics)

    print(f"model {model} trained on {source} in {seconds:.1f} s ({config['epochs']} epochs)")
    for split in SPLITS:
        print(f"{split:5s} accuracy {results[split][1]:.4f}  loss {results[split][0]:.4f}")
    if sweep is not None:
        accs = ", ".join(
            f"lr {lr:g}: {h['valid_accuracy'][-1]:.4f}" for lr, h in sorted(sweep["histories"].items())
        )
        print(f"learning-rate sweep (final validation accuracy): {accs}; best lr {sweep['best_lr']:g}")
    pairs = ", ".join(f"{t}->{p} ({c})" for t, p, c in most_confused(confusion, 5))
    print(f"most confused on test: {pairs}")


def _write_figures(out, name, initial, params, history, splits, confusion, sweep):
    save_figure(out / "curves.png", training_curves(history, name))
    save_figure(out / "confusion.png", figures.confusion(confusion, f"{name}: test confusion matrix"))
    if sweep is not None:
        save_figure(out / "lr_sweep.png", figures.lr_sweep(sweep["histories"], sweep["best_lr"]))
    if name == "mlp":  # its first layer's weights are images, and its second layer maps them to classes
        save_figure(
            out / "weights_initial.png", figures.first_layer_weights(initial["W1"], "W1 at initialisation")
        )
        save_figure(
            out / "weights_trained.png", figures.first_layer_weights(params["W1"], "W1 after training")
        )
        save_figure(
            out / "second_layer.png", figures.second_layer(params, splits["valid"], model=MODELS[name].apply)
        )
