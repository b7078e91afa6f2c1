"""EMNIST's digits and uppercase letters as NIST36 rows, for `cnn-emnist`, and reading the photos.

Only the byclass *test* split of EMNIST exists here. Its digits and uppercase letters are turned
into NIST36 rows exactly as the NIST36 stand-in was made (28 x 28 padded to 32 x 32, ink dark,
stored transposed; the byclass labels 10-35 are A-Z and 0-9 are the digits), the rows listed in
`nist36/*_emnist_byclass_rows.txt` are left out (they are the stand-in, on which the engine's
models were trained and tested), each class is capped so digits do not swamp letters, and the rest
is split 85 / 5 / 10 into train, valid and test. The trained network then reads the sample photos
through the same `find_letters` pipeline as the engine's models, and its character error rate is
reported beside theirs.

What is left of the split after the stand-in's rows is lopsided: no K at all (all 382 went into the
stand-in), and fewer than 100 of G, Q, X and Z, against thousands of each digit. A network trained
on it alone cannot read a K. So the embedded default's training glyphs (characters rendered from
matplotlib's fonts with random distortions, which the project generates itself) are mixed into
the training split, the same number for every class, so that their printed style says nothing
about the class; valid and test stay pure EMNIST. (Adding glyphs only to the short classes taught
the network that a printed-looking round letter is a Q.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torchvision

from ocr.models import CLASSES
from ocr.nist36 import Split, load_synthetic
from ocr.photos import labelled_photos
from ocr.reading import read
from ocr.scoring import error_rates
from tinygrad_hw.app.cli import UserError, first_line, message

PER_CLASS = 2000  # at most this many rows of each class
GLYPHS_PER_CLASS = 300  # embedded default glyphs mixed into the training split, per class


def emnist_rows(root) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows in the NIST36 layout, NIST36 class indices, byclass row numbers) of digits and capitals."""
    try:
        data = torchvision.datasets.EMNIST(root, split="byclass", train=False, download=False)
    except Exception as error:  # torchvision raises several types for missing or foreign files
        reason = first_line(error)
        raise UserError(f"the EMNIST byclass test files are not readable ({reason})") from None
    labels = data.targets.numpy()
    if data.data.ndim != 3 or tuple(data.data.shape[1:]) != (28, 28) or len(labels) != len(data.data):
        raise UserError(f"the EMNIST images are {tuple(data.data.shape)} with {len(labels)} labels")
    keep = np.flatnonzero(labels < 36)
    images = data.data.numpy()[keep].astype(np.float32) / 255
    rows = 1 - np.pad(images, ((0, 0), (2, 2), (2, 2))).reshape(len(keep), -1)
    classes = np.where(labels[keep] >= 10, labels[keep] - 10, labels[keep] + 26)
    return rows, classes, keep


def stand_in_rows(data_dir) -> set[int]:
    files = sorted((Path(data_dir) / "nist36").glob("*_emnist_byclass_rows.txt"))
    if not files:
        message("no nist36/*_emnist_byclass_rows.txt: no rows are left out")
    return {int(line) for f in files for line in f.read_text().split()}


def make_splits(rows, classes, seed, per_class=PER_CLASS) -> dict[str, Split]:
    """Capped per class, shuffled, split 85 / 5 / 10."""
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([rng.permutation(np.flatnonzero(classes == c))[:per_class] for c in range(36)])
    chosen = rng.permutation(chosen)
    a, b = int(0.85 * len(chosen)), int(0.90 * len(chosen))
    parts = {"train": chosen[:a], "valid": chosen[a:b], "test": chosen[b:]}
    return {name: Split(rows[i], classes[i].astype(np.int64)) for name, i in parts.items()}


def mix_in_glyphs(train: Split, seed, per_class=GLYPHS_PER_CLASS) -> Split:
    """`train` with `per_class` of the embedded default's training glyphs of every class added."""
    glyphs = load_synthetic(seed)["train"]
    chosen = np.concatenate([np.flatnonzero(glyphs.y == c)[:per_class] for c in range(CLASSES)])
    return Split(np.concatenate([train.x, glyphs.x[chosen]]), np.concatenate([train.y, glyphs.y[chosen]]))


def emnist_splits(root, data_dir, seed) -> tuple[dict[str, Split], int]:
    """The splits of `make_splits` without the stand-in's rows, embedded glyphs mixed into train;
    and how many EMNIST rows were left to split."""
    rows, classes, byclass = emnist_rows(root)
    keep = ~np.isin(byclass, list(stand_in_rows(data_dir)))
    splits = make_splits(rows[keep], classes[keep], seed)
    splits["train"] = mix_in_glyphs(splits["train"], seed)
    return splits, int(keep.sum())


def photo_error_rates(images_dir, predict) -> dict:
    """CER per photo (with its .txt beside it) and overall, reading with `predict(rows) -> logits`."""
    rates = error_rates(lambda pixels: read(pixels, predict).text, labelled_photos(images_dir))
    return {**rates["per_photo"], "overall": rates["cer"]}
