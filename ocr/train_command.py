"""`python -m ocr train`: train a classifier and write its checkpoint, metrics and figures."""

from __future__ import annotations

import time

import numpy as np

from tinygrad_hw import nn
from tinygrad_hw.app.cli import UserError, message, positive_float, positive_int
from tinygrad_hw.app.figures import training_curves
from tinygrad_hw.app.files import save_figure, write_json
from tinygrad_hw.app.training import TrainingDiverged

from . import figures
from .models import MODELS
from .nist36 import SPLITS, load_dataset
from .training import DEFAULTS, confusion_matrix, most_confused, save_checkpoint, train_model

CHECKPOINT = "model.npz"


def add_arguments(parser):
    parser.add_argument("--model", choices=sorted(MODELS), default="mlp",
                        help="mlp: the homework's 1024-hidden-36 sigmoid network (default); "
                        "cnn: the stronger convolutional network the OCR uses")  # fmt: skip
    parser.add_argument(
        "--hidden", type=positive_int, default=64, help="hidden units of the mlp (default: 64)"
    )
    parser.add_argument("--epochs", type=positive_int, help="epochs (default: mlp 40, cnn 15)")
    parser.add_argument(
        "--lr", type=positive_float, help="initial learning rate (default: mlp 0.1, cnn 0.05)"
    )
    parser.add_argument("--batch-size", type=positive_int, help="rows per batch (default: mlp 32, cnn 64)")
    parser.add_argument(
        "--momentum", type=float, default=0.9, help="momentum beta; 0 for plain SGD (default: 0.9)"
    )
    parser.add_argument(
        "--no-augment", action="store_true", help="do not shift training images by up to 2 px"
    )
    parser.add_argument("--lr-sweep", action="store_true",
                        help="also train with 10x and 0.1x the learning rate, keep the best by validation "
                        "accuracy, and plot all three")  # fmt: skip


def run(args):
    config = {**DEFAULTS[args.model], **{k: v for k, v in _given(args).items() if v is not None}}
    if not 0 <= args.momentum < 1:
        raise UserError(f"--momentum must be in [0, 1), got {args.momentum}")
    args.out.mkdir(parents=True, exist_ok=True)  # fail now, not after training
    splits, source = load_dataset(args.data_dir, seed=args.seed)

    def train(lr, description):
        return train_model(
            args.model, splits, epochs=config["epochs"], lr=lr, batch_size=config["batch_size"],
            beta=args.momentum, augment=not args.no_augment, seed=args.seed, hidden=args.hidden,
            description=description,
        )  # fmt: skip

    start = time.perf_counter()
    try:
        initial, params, history = train(config["lr"], f"training {args.model}")
        sweep = _sweep(train, config["lr"], history, params, initial) if args.lr_sweep else None
    except TrainingDiverged as error:
        raise UserError(f"training diverged: {error}") from None
    if sweep is not None:
        config["lr"], initial, params, history = sweep["best_lr"], *sweep["best_run"]
    seconds = time.perf_counter() - start

    model = MODELS[args.model][1]
    results = {split: nn.evaluate(model, params, splits[split].x, splits[split].y) for split in SPLITS}
    predicted = np.argmax(nn.predict(model, params, splits["test"].x), axis=1)
    confusion = confusion_matrix(splits["test"].y, predicted)
    metrics = {
        "model": args.model,
        "data": source,
        "config": {
            **config,
            "momentum": args.momentum,
            "augment": not args.no_augment,
            "seed": args.seed,
            **({"hidden": args.hidden} if args.model == "mlp" else {}),
        },  # fmt: skip
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
    info = {
        "test_accuracy": results["test"][1],
        "data": source,
        "hidden": args.hidden,
        "config": metrics["config"],
    }
    save_checkpoint(args.out / CHECKPOINT, args.model, params, info)
    _write_figures(args, initial, params, history, splits, confusion, sweep)
    write_json(args.out / "metrics.json", metrics)

    print(f"model {args.model} trained on {source} in {seconds:.1f} s ({config['epochs']} epochs)")
    for split in SPLITS:
        print(f"{split:5s} accuracy {results[split][1]:.4f}  loss {results[split][0]:.4f}")
    if sweep is not None:
        accs = ", ".join(
            f"lr {lr:g}: {h['valid_accuracy'][-1]:.4f}" for lr, h in sorted(sweep["histories"].items())
        )
        print(f"learning-rate sweep (final validation accuracy): {accs}; best lr {sweep['best_lr']:g}")
    pairs = ", ".join(f"{t}->{p} ({c})" for t, p, c in most_confused(confusion, 5))
    print(f"most confused on test: {pairs}")
    message(f"wrote {args.out / CHECKPOINT}, metrics.json and figures to {args.out}")


def _given(args):
    return {"epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size}


def _sweep(train, lr, history, params, initial):
    """Train at 0.1x and 10x `lr` too; the best final validation accuracy wins."""
    runs = {lr: (initial, params, history)}
    for other in (lr / 10, lr * 10):
        try:
            runs[other] = train(other, f"sweep lr {other:g}")
        except TrainingDiverged as error:
            message(f"lr {other:g} diverged ({error}); it is left out of the sweep")
    best = max(runs, key=lambda k: runs[k][2]["valid_accuracy"][-1])
    return {"histories": {k: r[2] for k, r in runs.items()}, "best_lr": best, "best_run": runs[best]}


def _write_figures(args, initial, params, history, splits, confusion, sweep):
    out, name = args.out, args.model
    save_figure(out / "curves.png", training_curves(history, name))
    save_figure(out / "confusion.png", figures.confusion(confusion, f"{name}: test confusion matrix"))
    if sweep is not None:
        save_figure(out / "lr_sweep.png", figures.lr_sweep(sweep["histories"], sweep["best_lr"]))
    if name == "mlp":
        save_figure(
            out / "weights_initial.png", figures.first_layer_weights(initial["W1"], "W1 at initialisation")
        )
        save_figure(
            out / "weights_trained.png", figures.first_layer_weights(params["W1"], "W1 after training")
        )
        save_figure(
            out / "second_layer.png", figures.second_layer(params, splits["valid"], model=MODELS[name][1])
        )
