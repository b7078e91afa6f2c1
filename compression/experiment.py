"""The comparison `python -m compression run` makes: the autoencoder trained, PCA fitted with as
many components as the code has numbers, and both measured against JPEG.

`compare` computes (a `Comparison`: the trained parameters, their history, the PCA and every
number of metrics.json); `save_comparison` writes it: the checkpoint, the figures, metrics.json.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ocr.nist36 import Split
from tinygrad_hw import nn
from tinygrad_hw.app.checkpoint import save_checkpoint
from tinygrad_hw.app.cli import UserError
from tinygrad_hw.app.files import save_figure, write_json
from tinygrad_hw.app.training import TrainingDiverged

from . import figures, rate_distortion
from .autoencoder import CODE_SIZE, autoencoder, count_parameters, decode, encode, train_autoencoder
from .pca import PCA, fit_pca


@dataclass(frozen=True)
class Comparison:
    params: dict  # the trained autoencoder
    history: dict
    pca: PCA
    metrics: dict  # everything metrics.json holds


def compare(splits: dict[str, Split], source: str, *, epochs, lr, batch_size, seed) -> Comparison:
    """Train the autoencoder on the training split, fit PCA to it, and measure both (and JPEG):
    the autoencoder on the validation split, PCA and the rate-distortion curve on the test split."""
    train, valid, test = (splits[s].x for s in ("train", "valid", "test"))
    if len(train) < CODE_SIZE:
        raise UserError(
            f"PCA with {CODE_SIZE} components needs at least {CODE_SIZE} training images, got {len(train)}"
        )
    start = time.perf_counter()
    try:
        params, history = train_autoencoder(train, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)
    except TrainingDiverged as error:
        raise UserError(f"training diverged, no model written: {error}") from None
    seconds = time.perf_counter() - start

    every_component = fit_pca(train, min(train.shape))  # one SVD serves every k below
    pca = every_component.first(CODE_SIZE)
    psnr_autoencoder = rate_distortion.mean_psnr(valid, nn.predict(autoencoder, params, valid))
    points = rate_distortion.curve(
        test,
        every_component.first,
        lambda x: nn.predict(encode, params, x),
        lambda c: nn.predict(decode, params, c),
        max_components=min(train.shape),
    )
    metrics = {
        "data": source,
        "epochs": epochs,
        "learning_rate": lr,
        "batch_size": batch_size,
        "train_seconds": seconds,
        "loss_history": history["train_loss"],
        "psnr_autoencoder": psnr_autoencoder,
        "psnr_autoencoder_on": "validation set",
        "psnr_pca": rate_distortion.mean_psnr(test, pca.reconstruct(test)),
        "psnr_pca_on": "test set",
        "psnr_autoencoder_test": rate_distortion.mean_psnr(test, nn.predict(autoencoder, params, test)),
        "psnr_pca_valid": rate_distortion.mean_psnr(valid, pca.reconstruct(valid)),
        "params_autoencoder": count_parameters(params),
        "params_pca": pca.parameters,
        "projection_shape": list(pca.components.shape),
        "projection_rank": int(np.linalg.matrix_rank(pca.components)),
        "rate_distortion": points,
    }
    return Comparison(params, history, pca, metrics)


def save_comparison(out: Path, comparison: Comparison, splits: dict[str, Split]) -> None:
    """autoencoder.npz, loss.png, reconstructions.png, rate_distortion.png and metrics.json in `out`."""
    params, metrics = comparison.params, comparison.metrics
    info = {"data": metrics["data"], "psnr_valid": metrics["psnr_autoencoder"]}
    save_checkpoint(out / "autoencoder.npz", params, info)
    save_figure(out / "loss.png", figures.loss(comparison.history["train_loss"]))
    ae_valid = nn.predict(autoencoder, params, splits["valid"].x)
    pca_test = comparison.pca.reconstruct(splits["test"].x)
    save_figure(out / "reconstructions.png", figures.reconstructions(splits, ae_valid, pca_test))
    save_figure(out / "rate_distortion.png", figures.rate_distortion(metrics["rate_distortion"]))
    write_json(out / "metrics.json", metrics)
