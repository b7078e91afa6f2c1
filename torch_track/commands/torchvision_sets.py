"""`python -m torch_track cnn-mnist` and `cnn-cifar10`: a CNN on a dataset torchvision reads (see
`torch_track.mnist` and `torch_track.cifar` for the data and the networks)."""

from __future__ import annotations

from pathlib import Path

from tinygrad_hw.app.cache import cache_dir

from ..cifar import cifar_root, train_cifar
from ..common import pick_device, save_run
from ..idx_cache import prepare
from ..mnist import train_mnist


def run_mnist(*, data_dir: Path | None, out: Path, seed: int, epochs: int | None, device: str | None) -> None:
    device = pick_device(device)
    root = prepare(data_dir, cache_dir() / "torchvision", "MNIST")
    out.mkdir(parents=True, exist_ok=True)
    epochs = epochs or 5
    _finish("cnn-mnist", out, device, epochs, *train_mnist(root, epochs=epochs, device=device, seed=seed))


def run_cifar(
    *,
    data_dir: Path | None,
    out: Path,
    seed: int,
    epochs: int | None,
    device: str | None,
    skip_checksums: bool,
) -> None:
    device = pick_device(device)
    root = cifar_root(data_dir)
    out.mkdir(parents=True, exist_ok=True)
    epochs = epochs or 30
    trained = train_cifar(root, epochs=epochs, device=device, seed=seed, verify=not skip_checksums)
    _finish("cnn-cifar10", out, device, epochs, *trained)


def _finish(task, out, device, epochs, model, history, details):
    """Write the model, its curves and metrics.json, and print the run's numbers."""
    metrics = {"task": task, "device": str(device), "epochs": epochs, **details, "history": history}
    save_run(out, model, history, f"{task} (PyTorch)", metrics)
    images, seconds = details["train_images"], details["train_seconds"]
    print(f"{task} ({device}): {epochs} epochs on {images} images in {seconds:.1f} s")
    print(f"valid accuracy {history['valid_accuracy'][-1]:.4f}, test accuracy {details['test_accuracy']:.4f}")
