"""`python -m benchmarks [--quick] --out DIR`: the engine against hand-written numpy and PyTorch.

Four parts, measured side by side in one process, written to `results.json`, `report.md` and PNGs:
  * speed: the MLP epoch (batch 1, 32, 128, 1024; float32 and float64), the autoencoder epoch, a
    CNN training step, and the engine's overhead per primitive, as times and ratios;
  * parity: the engine's MLP and PyTorch's FC network trained from the same weights on the same
    batches in float64, and the largest difference between their loss curves;
  * OCR: the character error rate on the sample photos of the engine's MLP, the best engine model,
    a PyTorch CNN, and Tesseract when installed, with the time per photo;
  * compression: the rate-distortion points of PCA, the autoencoder and JPEG.
`--quick` shrinks every part (fewer rows, repeats and epochs) to finish in about 3 minutes.
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from ocr.nist36 import load_dataset
from tinygrad_hw.app.files import save_figure, write_bytes_atomic, write_json
from tinygrad_hw.app.memory import keep_freed_memory

from .. import figures
from ..suite import SETTINGS, compression_part, machine, ocr_part, parity_part, speed, torch_available
from ..targets import speed_targets


def run(*, out: Path, data_dir: Path | None, seed: int, quick: bool = False) -> dict:
    keep_freed_memory()
    settings = SETTINGS["quick" if quick else "full"]
    with_torch = torch_available()
    out.mkdir(parents=True, exist_ok=True)
    splits, source = load_dataset(data_dir, seed=seed)
    results = {
        "mode": "quick" if quick else "full",
        "data": source,
        "settings": settings,
        "machine": machine(),
        "torch": with_torch,
    }
    # Compression (numpy only) runs before the parts that train PyTorch models: PyTorch's idle
    # worker threads keep spinning for a while after its work and slow numpy code timed next.
    parts = ("speed", "compression", "parity", "ocr")
    with tqdm(total=len(parts), desc="benchmarks", unit="part", disable=None) as bar:
        results["speed"] = speed(settings, with_torch, bar)
        bar.update()
        bar.set_postfix_str("compression")
        results["compression"] = compression_part(splits, source, out / "compression", settings, seed)
        bar.update()
        if with_torch:
            bar.set_postfix_str("parity")
            results["parity"] = parity_part(splits, settings)
        bar.update()
        bar.set_postfix_str("OCR")
        results["ocr"] = ocr_part(data_dir, splits, settings, seed, with_torch)
        bar.update()
    results["targets"] = speed_targets(results["speed"]) if with_torch else []
    write_json(out / "results.json", results)
    for name, figure in figures.all_figures(results).items():
        save_figure(out / name, figure)
    report = figures.markdown(results)
    write_bytes_atomic(out / "report.md", report.encode())
    print(report)
    return results
