"""`python -m benchmarks cifar10-engine`: CIFAR-10's CifarNet trained on the engine (see cifar_engine)."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from tinygrad_hw import tree_leaves
from tinygrad_hw.app.checkpoint import save_checkpoint
from tinygrad_hw.app.cli import UserError, message
from tinygrad_hw.app.files import write_json
from tinygrad_hw.app.memory import keep_freed_memory

from .. import cifar_engine


def run(*, out: Path, data_dir: Path | None, seed: int, epochs: int, limit: int | None) -> dict:
    if data_dir is None or not (data_dir / "cifar10").is_dir():
        raise UserError(
            "CIFAR-10 is not here: give --data-dir with cifar10/ (train/, val/, test/ as ImageFolder trees)"
        )
    keep_freed_memory()
    start = time.perf_counter()
    with tqdm(desc="decoding", unit="image", unit_scale=True, leave=False, disable=None) as bar:
        data, classes = cifar_engine.load_cifar_tree(data_dir / "cifar10", limit=limit, on_image=bar.update)
    decode_seconds = time.perf_counter() - start
    message("CIFAR-10: " + ", ".join(f"{split} {len(labels)}" for split, (_, labels) in data.items()))
    params, state = cifar_engine.init_cifarnet(np.random.default_rng(seed))
    train_images, train_labels = data["train"]
    batch = cifar_engine.recipe.BATCH
    images_to_train = epochs * max(1, len(train_labels) // batch) * min(batch, len(train_labels))
    with tqdm(
        total=images_to_train, desc="cifar10-engine", unit="image", unit_scale=True, leave=False, disable=None
    ) as bar:
        epoch_numbers = itertools.count(1)

        def report(record):
            bar.set_postfix(valid_acc=f"{record['valid_accuracy']:.3f}")
            message(f"epoch {next(epoch_numbers)}: " + ", ".join(f"{k} {v:.4g}" for k, v in record.items()))

        params, state, history = cifar_engine.train(
            params, state, train_images, train_labels, data["valid"], epochs=epochs, seed=seed,
            on_step=bar.update, on_epoch=report,
        )  # fmt: skip
    train_seconds = time.perf_counter() - start - decode_seconds
    test_images, test_labels = data["test"]
    logits = cifar_engine.predict(params, state, test_images, flip=True)
    plain = cifar_engine.predict(params, state, test_images)
    test_loss, test_accuracy = cifar_engine.scores(logits, test_labels)
    metrics = {
        "task": "cifar10-engine", "classes": classes, "splits": {k: len(v[1]) for k, v in data.items()},
        "recipe": {**cifar_engine.recipe.describe(epochs), "precision": "float32 (numpy)"},
        "parameters": int(sum(np.size(p) for p in tree_leaves(params))), "seed": seed,
        "decode_seconds": decode_seconds, "train_seconds": train_seconds,
        "total_seconds": time.perf_counter() - start, "test_accuracy": test_accuracy,
        "test_accuracy_no_flip": cifar_engine.scores(plain, test_labels)[1], "test_loss": test_loss,
        "valid_accuracy": history["valid_accuracy"][-1], "history": history,
        "per_class_test_accuracy": {name: float(np.mean(logits[test_labels == i].argmax(1) == i))
                                    for i, name in enumerate(classes)},
    }  # fmt: skip
    no_flip = metrics["test_accuracy_no_flip"]
    print(
        f"test accuracy {test_accuracy:.4f} (without flip averaging {no_flip:.4f}); "
        f"training {train_seconds:.0f} s for {epochs} epochs"
    )
    save_checkpoint(out / "model.npz", {"params": params, "state": state}, {"model": "cifarnet-engine"})
    write_json(out / "metrics.json", metrics)
    return metrics
