"""`python -m torch_track cnn-cifar10`: a CNN on CIFAR-10 (see `torch_track.cifar` for the data)."""

from __future__ import annotations

from pathlib import Path

from tinygrad_hw.app.cli import message

from ..cifar import cifar_root, train_cifar
from ..common import pick_device, save_run


def run(
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
    model, history, details = train_cifar(
        root, epochs=epochs, device=device, seed=seed, verify=not skip_checksums
    )
    metrics = {"task": "cnn-cifar10", "device": str(device), "epochs": epochs, **details, "history": history}
    save_run(out, model, history, "cnn-cifar10 (PyTorch)", metrics)
    images, seconds = details["train_images"], details["train_seconds"]
    print(f"cnn-cifar10 ({device}): {epochs} epochs on {images} images in {seconds:.1f} s")
    print(f"valid accuracy {history['valid_accuracy'][-1]:.4f}, test accuracy {details['test_accuracy']:.4f}")
    message(f"wrote model.pt, curves.png and metrics.json to {out}")
