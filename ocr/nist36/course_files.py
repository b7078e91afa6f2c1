"""The course's NIST36 files: found under a data folder, read, and checked.

The course ships `nist36_{train,valid,test}.mat` with keys `<split>_data` (N x 1024 floats, each
row a 32 x 32 image stored transposed: `row.reshape(32, 32).T` is upright) and `<split>_labels`
(N x 36 one-hot, classes A..Z then 0..9), sorted by class. Some copies use the layout
`data1/nist36_<split>_set1.mat` or `data2/nist36_<split>_set2.mat` instead. Every file is checked
as it is read (`tinygrad_hw.app.arrays`: numbers, finite, not empty, grey levels in [0, 1]), and a
missing, truncated or foreign file, or one on another scale (0..255), is one line naming it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse

from tinygrad_hw.app.arrays import checked_numbers, checked_pixels
from tinygrad_hw.app.cli import UserError
from tinygrad_hw.app.isolated import ReadingFailed, read_in_child

from .layout import CLASS_NAMES, PIXELS, SPLITS, Split


class DataError(UserError):
    """A data file is missing or is not what it should be."""


# -- finding the files -------------------------------------------------------------------------


def _layouts(split):
    """Relative paths a split may have, in order of preference."""
    return [
        Path(f"nist36_{split}.mat"),
        Path("data1") / f"nist36_{split}_set1.mat",
        Path("data2") / f"nist36_{split}_set2.mat",
    ]


def find_split_files(root: Path) -> dict[str, Path]:
    """The three split files under `root/nist36/` or `root/` itself, in one consistent layout."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such data folder")
    for folder in (root / "nist36", root):
        for layout in range(3):
            paths = {s: folder / _layouts(s)[layout] for s in SPLITS}
            if any(p.exists() for p in paths.values()):
                missing = [str(p) for p in paths.values() if not p.exists()]
                if missing:
                    raise DataError(f"{missing[0]}: missing (the other NIST36 splits are beside it)")
                return paths
    raise DataError(
        f"{root}: no NIST36 files (looked for nist36/nist36_train.mat, nist36_train.mat and "
        "data1/nist36_train_set1.mat there)"
    )


# -- reading and checking one file --------------------------------------------------------------


def load_split_file(path: Path, split: str) -> Split:
    """Read one split's `.mat` file and check it; DataError names the file and the problem."""
    contents = _read_mat(path)
    data = _checked_images(path, _pick(contents, path, "data", split))
    labels = _pick(contents, path, "labels", split)
    return _checked(path, data, labels)


def load_images(path: Path) -> np.ndarray:
    """The images (N x 1024 rows, float32) of any one NIST36 `.mat` file, without its labels."""
    return _checked_images(path, _pick(_read_mat(path), path, "data"))


def _read_mat(path):
    """The named arrays of a `.mat` file, read by scipy in a child process (`read_in_child`): a
    damaged file can crash scipy's compiled reader, and that must be one line, not the end."""
    if not Path(path).exists():
        raise DataError(f"{path}: missing")
    try:
        return read_in_child(_mat_arrays, path)
    except ReadingFailed as error:
        raise DataError(f"{path}: not a readable MATLAB .mat file ({error})") from None


def _mat_arrays(path) -> dict[str, np.ndarray]:
    contents = scipy.io.loadmat(path)
    return {
        key: value.toarray() if scipy.sparse.issparse(value) else np.asarray(value)
        for key, value in contents.items()
        if not key.startswith("__")
    }


def _pick(contents, path, kind, split=None):
    """The array `<split>_<kind>`, or the only `*_<kind>` array of the file."""
    key = f"{split or '<split>'}_{kind}"
    if key in contents:
        return contents[key]
    candidates = [k for k in contents if k.endswith(f"_{kind}")]
    if len(candidates) == 1:
        return contents[candidates[0]]
    found = ", ".join(k for k in contents if not k.startswith("__")) or "nothing"
    raise DataError(f"{path}: no '{key}' array (found {found}); is this a NIST36 file?")


def _checked_images(path, data) -> np.ndarray:
    """N x 1024 grey levels in [0, 1] (the shared check: numbers, finite, not empty, in range)."""
    data = _as_data_error(checked_numbers, data, path, "images")
    if data.ndim != 2 or data.shape[1] != PIXELS:
        raise DataError(f"{path}: images must be N x {PIXELS} (32 x 32 each), got shape {data.shape}")
    return np.ascontiguousarray(_as_data_error(checked_pixels, data, path, "image values"))


def _checked(path, data, labels) -> Split:
    labels = _as_data_error(checked_numbers, labels, path, "labels")
    if labels.ndim != 2 or labels.shape[1] != len(CLASS_NAMES):
        raise DataError(f"{path}: labels must be N x {len(CLASS_NAMES)} one-hot rows, got {labels.shape}")
    if len(labels) != len(data):
        raise DataError(f"{path}: {len(data)} images but {len(labels)} labels")
    if not (np.all((labels == 0) | (labels == 1)) and np.all(labels.sum(axis=1) == 1)):
        raise DataError(f"{path}: labels are not one-hot (each row must hold a single 1)")
    return Split(data, labels.argmax(axis=1).astype(np.int64))


def _as_data_error(check, *args):
    try:
        return check(*args)
    except UserError as error:
        raise DataError(str(error)) from None


# -- the entry point -----------------------------------------------------------------------------


def load_nist36(root: Path) -> dict[str, Split]:
    """The train, valid and test splits from a data folder."""
    return {split: load_split_file(path, split) for split, path in find_split_files(root).items()}
