"""`python -m compression run`: train the autoencoder, fit PCA, and compare them (and JPEG)."""

from __future__ import annotations

from pathlib import Path

from ocr.nist36 import load_dataset

from ..autoencoder import CODE_SIZE
from ..experiment import compare, save_comparison


def run(*, data_dir: Path | None, out: Path, seed: int, epochs: int, lr: float, batch_size: int) -> None:
    out.mkdir(parents=True, exist_ok=True)  # fail now, not after training
    splits, source = load_dataset(data_dir, seed=seed)
    comparison = compare(splits, source, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)
    save_comparison(out, comparison, splits)

    metrics = comparison.metrics
    print(f"autoencoder trained on {source}: {epochs} epochs in {metrics['train_seconds']:.1f} s")
    print(
        f"PSNR autoencoder (validation) {metrics['psnr_autoencoder']:.2f} dB, "
        f"{metrics['params_autoencoder']:,} parameters"
    )
    (rows, cols), rank = metrics["projection_shape"], metrics["projection_rank"]
    print(
        f"PSNR PCA, {CODE_SIZE} components (test) {metrics['psnr_pca']:.2f} dB, "
        f"{metrics['params_pca']:,} parameters (projection {rows} x {cols}, rank {rank})"
    )
    for p in metrics["rate_distortion"]:
        print(f"  {p['method']:20s} {p['setting']:12s} {p['bytes']:7.1f} bytes  {p['psnr']:6.2f} dB")
