"""`python -m torch_track cnn-mnist` and `cnn-cifar10`: a CNN on a dataset torchvision knows (see
`torch_track.mnist` and `torch_track.cifar` for the data and the networks, and
`torch_track.cifar_recipe` for how CifarNet is trained)."""

from __future__ import annotations

import time
from pathlib import Path

from tinygrad_hw.app.cache import cache_dir
from tinygrad_hw.app.files import write_json

from .. import cifar_recipe
from ..cifar import load_cifar, pick_precision, save_test_figures, train_and_test
from ..common import at_most, pick_device, save_run, save_state, write_curves
from ..idx_cache import prepare
from ..mnist import train_mnist


def run_mnist(
    *,
    data_dir: Path | None,
    out: Path,
    seed: int,
    epochs: int | None,
    device: str | None,
    limit: int | None = None,
) -> None:
    device = pick_device(device)
    root = prepare(data_dir, cache_dir() / "torchvision", "MNIST")
    out.mkdir(parents=True, exist_ok=True)
    epochs = epochs or 5
    trained = train_mnist(root, epochs=epochs, device=device, seed=seed, limit=limit)
    _finish("cnn-mnist", out, device, epochs, *trained)


def _finish(task, out, device, epochs, model, history, details):
    """Write the model, its curves and metrics.json, and print the run's numbers."""
    metrics = {"task": task, "device": str(device), "epochs": epochs, **details, "history": history}
    save_run(out, model, history, f"{task} (PyTorch)", metrics)
    images, seconds = details["train_images"], details["train_seconds"]
    print(f"{task} ({device}): {epochs} epochs on {images} images in {seconds:.1f} s")
    print(f"valid accuracy {history['valid_accuracy'][-1]:.4f}, test accuracy {details['test_accuracy']:.4f}")


def run_cifar(
    *,
    data_dir: Path | None,
    out: Path,
    seed: int,
    epochs: int | None,
    device: str | None,
    skip_checksums: bool,
    precision: str,
    limit: int | None = None,
) -> None:
    device = pick_device(device)
    precision = pick_precision(precision, device)
    began, began_cpu = time.perf_counter(), time.process_time()
    kind, data = load_cifar(data_dir, verify=not skip_checksums)
    data = data._replace(splits=at_most(data.splits, limit, seed))
    decode_seconds = time.perf_counter() - began
    print(f"data ({'ImageFolder tree' if kind == 'folders' else 'python batches'}): {data.describe()}")
    out.mkdir(parents=True, exist_ok=True)
    epochs = epochs or cifar_recipe.EPOCHS
    model, history, results, predicted = train_and_test(
        data, epochs=epochs, device=device, precision=precision, seed=seed
    )
    save_state(out / "model.pt", model)
    write_curves(out / "curves.png", history, "cnn-cifar10 (train: augmented, label-smoothed)")
    save_test_figures(out, data, results["confusion"], predicted, seed)
    metrics = {
        "task": "cnn-cifar10",
        "device": str(device),
        "precision": precision,
        "data": str(data.root),
        "data_format": kind,
        "classes": data.classes,
        "splits": data.sizes(),
        "skipped_images": data.skipped,
        "decode_seconds": decode_seconds,
        **results,
        "total_seconds": time.perf_counter() - began,
        "total_cpu_seconds": time.process_time() - began_cpu,
        "history": history,
    }
    write_json(out / "metrics.json", metrics)
    images, seconds = len(data.splits["train"][1]), results["train_seconds"]
    print(
        f"cnn-cifar10 ({device}, {precision}): {results['model']}, {results['parameters']:,} parameters, "
        f"{epochs} epochs on {images:,} images in {seconds:.0f} s "
        f"(process CPU time {results['train_cpu_seconds']:.0f} s)"
    )
    print(
        f"test accuracy {results['test_accuracy']:.4f} averaging each image with its mirror "
        f"({results['test_accuracy_no_flip']:.4f} without); valid {results['valid_accuracy']:.4f}"
    )
    print("| class | test accuracy |")
    print("|---|---|")
    for name, accuracy in results["per_class_test_accuracy"].items():
        print(f"| {name} | {accuracy:.3f} |")
