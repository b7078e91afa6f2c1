"""`python -m benchmarks autoencoder`: the time of the autoencoder's training epochs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from compression.autoencoder import train_autoencoder
from ocr.nist36 import load_nist36
from tinygrad_hw.app.files import write_json
from tinygrad_hw.app.memory import keep_freed_memory

TARGET_SECONDS = 60  # for the default 100 epochs on 2 cores


def run(*, out: Path, data_dir: Path | None, seed: int, epochs: int) -> None:
    keep_freed_memory()
    if data_dir is not None:
        x, source = load_nist36(data_dir)["train"].x, "NIST36 training split"
    else:
        x, source = np.random.default_rng(seed).random((10_152, 1024)).astype(np.float32), "random data"
    _, history = train_autoencoder(x, epochs=epochs, seed=seed, description="autoencoder")
    seconds = history["seconds"][-1]
    verdict = "met" if seconds < TARGET_SECONDS else "NOT met"
    print(
        f"autoencoder: {epochs} epochs on {len(x)} rows of {source} in {seconds:.1f} s "
        f"({seconds / epochs * 1000:.0f} ms per epoch); target under {TARGET_SECONDS} s: {verdict}"
    )
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "epochs": epochs,
        "rows": len(x),
        "data": source,
        "seconds": seconds,
        "final_loss_per_image": history["train_loss"][-1],
    }
    write_json(out / "metrics.json", summary)
