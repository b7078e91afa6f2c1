"""The parts of `python -m benchmarks`: speed, parity, OCR and compression, each a function.

`SETTINGS` says how large each part is, quick and full; every part returns the numbers that go
into results.json (see `benchmarks/commands/compare.py` for the run that puts them together).
"""

from __future__ import annotations

import importlib.util
import os
import platform

import numpy as np

from compression.experiment import compare, save_comparison
from ocr.model_store import best_checkpoint, load_model
from ocr.scoring import error_rates
from ocr.training import DEFAULTS, train_model
from tinygrad_hw.app.cli import message

from . import autoencoder_epoch, cnn_step, mlp_epoch, ocr_table, parity, primitive_overhead

# what each part does, quick and full
SETTINGS = {
    "quick": {
        "mlp_rows": 2_160,
        "mlp_repeats": 2,
        "mlp_min_seconds": 0.0,
        "ae_rows": 2_016,
        "ae_repeats": 2,
        "cnn_repeats": 3,
        "primitive_repeats": 5,
        "parity_epochs": 1,
        "parity_rows": 3_200,
        "mlp_epochs": 10,
        "engine_cnn_epochs": 2,
        "torch_cnn_epochs": 2,
        "ae_epochs": 15,
    },
    "full": {
        "mlp_rows": 10_800,
        "mlp_repeats": 5,
        "mlp_min_seconds": 1.0,
        "ae_rows": 10_152,
        "ae_repeats": 5,
        "cnn_repeats": 10,
        "primitive_repeats": 30,
        "parity_epochs": 5,
        "parity_rows": None,
        "mlp_epochs": 40,
        "engine_cnn_epochs": 15,
        "torch_cnn_epochs": 15,
        "ae_epochs": 100,
    },
}
BATCH_SIZES, DTYPES = (1, 32, 128, 1024), ("float32", "float64")


def speed(settings, with_torch, bar):
    mlp = []
    for batch in BATCH_SIZES:
        for dtype in DTYPES:
            bar.set_postfix_str(f"MLP epoch, batch {batch} {dtype}")
            seconds, difference = mlp_epoch.time_epochs(
                batch,
                np.dtype(dtype).type,
                settings["mlp_rows"],
                settings["mlp_repeats"],
                with_torch=with_torch,
                min_seconds=settings["mlp_min_seconds"],
            )
            mlp.append(
                {"batch": batch, "dtype": dtype, "seconds": seconds, "max_weight_difference": difference}
            )
    bar.set_postfix_str("autoencoder epoch")
    autoencoder = {}
    for dtype in DTYPES:
        seconds, difference = autoencoder_epoch.time_epochs(
            settings["ae_rows"], settings["ae_repeats"], dtype=np.dtype(dtype).type, with_torch=with_torch
        )
        autoencoder[dtype] = {"seconds": seconds, "max_weight_difference": difference}
    bar.set_postfix_str("CNN step")
    seconds, losses = cnn_step.time_steps(settings["cnn_repeats"], with_torch=with_torch)
    bar.set_postfix_str("primitives")
    return {
        "mlp_epoch": {
            "rows": settings["mlp_rows"],
            "repeats": settings["mlp_repeats"],
            "min_seconds": settings["mlp_min_seconds"],
            "table": mlp,
        },
        "autoencoder_epoch": {"rows": settings["ae_rows"], "batch": autoencoder_epoch.BATCH, **autoencoder},
        "cnn_step": {"batch": cnn_step.BATCH, "seconds": seconds, "first_loss": losses},
        "primitive_in_chain_seconds": mlp_epoch.primitive_overhead(),
        "per_primitive": primitive_overhead.per_primitive(settings["primitive_repeats"]),
    }


def parity_part(splits, settings):
    x, y = splits["train"].x, splits["train"].y
    if settings["parity_rows"]:
        x, y = x[: settings["parity_rows"]], y[: settings["parity_rows"]]
    curves = parity.loss_curves(x, y, settings["parity_epochs"])
    difference = np.abs(curves["engine"] - curves["torch"])
    return {
        "steps": len(difference),
        "epochs": settings["parity_epochs"],
        "rows": len(x),
        "max_abs_difference": float(difference.max()),
        "max_relative_difference": float((difference / np.abs(curves["torch"])).max()),
        "engine": curves["engine"].tolist(),
        "torch": curves["torch"].tolist(),
    }


def ocr_part(data_dir, splits, settings, seed, with_torch):
    """The readers' error rates; trains what is not cached, with the part's epochs."""
    photos, source = ocr_table.sample_photos(data_dir, seed)
    readers = {}
    mlp_config = {**DEFAULTS["mlp"], "epochs": settings["mlp_epochs"]}
    _, mlp_params, _ = train_model("mlp", splits, seed=seed, progress=False, **mlp_config)
    readers[f"engine MLP ({settings['mlp_epochs']} epochs)"] = ocr_table.engine_reader("mlp", mlp_params)
    best = best_checkpoint()
    if best is not None:
        name, params, _ = load_model(best)
        readers[f"best engine model ({name}, {best})"] = ocr_table.engine_reader(name, params)
    else:
        config = {**DEFAULTS["cnn"], "epochs": settings["engine_cnn_epochs"]}
        _, params, _ = train_model("cnn", splits, seed=seed, progress=False, **config)
        readers[f"engine CNN ({config['epochs']} epochs)"] = ocr_table.engine_reader("cnn", params)
    if with_torch:  # PyTorch is optional here: its modules are imported only when it is installed
        from torch_track.recipes import train_recipe

        epochs = settings["torch_cnn_epochs"]
        model = train_recipe("cnn", splits, "cpu", seed, epochs, description="torch CNN for the OCR table")[0]
        readers[f"PyTorch CNN ({epochs} epochs)"] = ocr_table.torch_reader(model)
    tesseract = ocr_table.tesseract_reader()
    if tesseract is not None:
        readers[ocr_table.tesseract_version()] = tesseract
    rows = {name: error_rates(reader, photos) for name, reader in readers.items()}
    return {"photos": source, "readers": rows, "tesseract": tesseract is not None}


def compression_part(splits, source, out, settings, seed):
    """The compression run (its files in `out`) with the part's epochs: its PSNRs and curve."""
    comparison = compare(splits, source, epochs=settings["ae_epochs"], lr=3e-5, batch_size=36, seed=seed)
    save_comparison(out, comparison, splits)
    kept = ("epochs", "train_seconds", "psnr_autoencoder", "psnr_pca", "psnr_autoencoder_test")
    return {k: comparison.metrics[k] for k in (*kept, "rate_distortion")}


def torch_available():
    if importlib.util.find_spec("torch") is None:
        message("PyTorch is not installed (pip install -e '.[torch]'): the engine and numpy only")
        return False
    return True


def machine():
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpus": cpus,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "processor": platform.processor() or platform.machine(),
    }
