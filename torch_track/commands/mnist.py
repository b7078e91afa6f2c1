"""`python -m torch_track cnn-mnist`: a CNN on MNIST's 60,000 training images (see `torch_track.mnist`)."""

from __future__ import annotations

from pathlib import Path

from tinygrad_hw.app.cache import cache_dir
from tinygrad_hw.app.cli import message

from ..common import pick_device, save_run
from ..idx_cache import prepare
from ..mnist import train_mnist


def run(*, data_dir: Path | None, out: Path, seed: int, epochs: int | None, device: str | None) -> None:
    device = pick_device(device)
    root = prepare(data_dir, cache_dir() / "torchvision", "MNIST")
    out.mkdir(parents=True, exist_ok=True)
    epochs = epochs or 5
    model, history, details = train_mnist(root, epochs=epochs, device=device, seed=seed)
    metrics = {"task": "cnn-mnist", "device": str(device), "epochs": epochs, **details, "history": history}
    save_run(out, model, history, "cnn-mnist (PyTorch)", metrics)
    images, seconds = details["train_images"], details["train_seconds"]
    print(f"cnn-mnist ({device}): {epochs} epochs on {images} images in {seconds:.1f} s")
    print(f"valid accuracy {history['valid_accuracy'][-1]:.4f}, test accuracy {details['test_accuracy']:.4f}")
    message(f"wrote model.pt, curves.png and metrics.json to {out}")
