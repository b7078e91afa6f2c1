"""Character error rate on the sample photos for every reader: the engine's MLP, the best engine
model, a PyTorch CNN, and Tesseract when the `tesseract` command is installed.

The engine's and PyTorch's models all read through the same pipeline (`find_letters`, lines,
classification), so their rows differ only in the classifier. Tesseract reads the whole photo its
own way (page segmentation mode 6: one block of text); its output is scored like the others, over
A-Z and 0-9 after uppercasing. Without the sample photos (no DATA_DIR/images), two generated pages
with known text stand in for them.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from ocr.model_store import classifier
from ocr.page import make_page, random_text
from ocr.photos import labelled_photos
from ocr.reading import read


def sample_photos(data_dir, seed=0) -> tuple[list[tuple[str, np.ndarray, str]], str]:
    """[(name, pixels, true text)] of the photos in DATA_DIR/images, else of two generated pages."""
    folder = Path(data_dir) / "images" if data_dir is not None else None
    if folder is not None and folder.is_dir():
        photos = labelled_photos(folder)
        if photos:
            return photos, f"the sample photos in {folder}"
    rng = np.random.default_rng(seed)
    pages = []
    for k in range(2):
        text = random_text(rng)
        pages.append((f"generated_page_{k + 1}", make_page(rng, text), text))
    return pages, "two generated pages (no DATA_DIR/images)"


def classifier_reader(classify):
    """A reader `pixels -> text` that classifies each found letter with `classify(rows) -> scores`."""
    return lambda pixels: read(pixels, classify).text


def engine_reader(name, params):
    return classifier_reader(classifier(name, params))


def torch_reader(model):
    """A reader through a trained PyTorch model (imported only then: PyTorch is optional here)."""
    from torch_track.common import numpy_classifier

    return classifier_reader(numpy_classifier(model))


def tesseract_reader():
    """Tesseract as a reader, or None when the `tesseract` command is not installed."""
    command = shutil.which("tesseract")
    if command is None:
        return None

    def reader(pixels):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "page.png"
            Image.fromarray(pixels).save(path)
            result = subprocess.run(
                [command, str(path), "stdout", "--psm", "6"], capture_output=True, text=True, timeout=120
            )
            return result.stdout

    return reader


def tesseract_version() -> str | None:
    command = shutil.which("tesseract")
    if command is None:
        return None
    output = subprocess.run([command, "--version"], capture_output=True, text=True).stdout
    return output.splitlines()[0] if output else "tesseract"
