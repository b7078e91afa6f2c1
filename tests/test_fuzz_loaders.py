"""Fuzzing the loaders of users' files: random bytes, and random damage to a valid file.

Whatever the bytes, the `.mat` and `.npz` loaders either return something valid (the shapes,
dtypes and ranges their callers rely on) or raise the project's one-line error (`UserError`):
never another exception, and never a value that is silently wrong.
"""

import io
import tempfile
from pathlib import Path

import numpy as np
import scipy.io
from hypothesis import given
from hypothesis import strategies as st

from compression.autoencoder import init_autoencoder, load_autoencoder
from compression.codec import load_codes
from ocr.model_store import load_model, save_model
from ocr.models import init_mlp
from ocr.nist36 import PIXELS, load_images, load_split_file
from tinygrad_hw.app.checkpoint import save_checkpoint
from tinygrad_hw.app.cli import UserError
from tinygrad_hw.app.files import load_arrays

FOLDER = Path(tempfile.mkdtemp(prefix="fuzz-loaders-"))


def _valid_mat() -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, {"test_data": rng.random((4, PIXELS)), "test_labels": np.eye(36)[[0, 5, 9, 35]]})
    return buffer.getvalue()


def _file_bytes(write) -> bytes:
    path = FOLDER / "valid.npz"
    write(path)
    return path.read_bytes()


VALID_MAT = _valid_mat()
RNG = np.random.default_rng(0)
VALID_MODEL = _file_bytes(lambda p: save_model(p, "mlp", init_mlp(RNG, hidden=4), {"hidden": 4}))
VALID_AUTOENCODER = _file_bytes(lambda p: save_checkpoint(p, init_autoencoder(RNG), {}))
VALID_CODES = _file_bytes(lambda p: np.savez(p, codes=RNG.random((3, 32)).astype(np.float16)))


def damaged(valid: bytes):
    """Random bytes, or `valid` truncated, overwritten in places, or with bytes inserted."""
    size = len(valid)
    overwrite = st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, 255)), min_size=1, max_size=20)
    insert = st.tuples(st.integers(0, size), st.binary(min_size=1, max_size=64))
    return st.one_of(
        st.binary(max_size=4096),
        st.integers(0, size - 1).map(lambda n: valid[:n]),
        overwrite.map(lambda changes: _overwritten(valid, changes)),
        insert.map(lambda where_what: valid[: where_what[0]] + where_what[1] + valid[where_what[0] :]),
    )


def _overwritten(valid, changes):
    data = bytearray(valid)
    for where, value in changes:
        data[where] = value
    return bytes(data)


def _file(name, data) -> Path:
    path = FOLDER / name
    path.write_bytes(data)
    return path


def _one_line(error):
    assert str(error) and "\n" not in str(error)


@given(damaged(VALID_MAT))
def test_the_mat_loader_returns_a_valid_split_or_one_line(data):
    path = _file("split.mat", data)
    try:
        split = load_split_file(path, "test")
    except UserError as error:
        _one_line(error)
        return
    assert split.x.dtype == np.float32 and split.x.ndim == 2 and split.x.shape[1] == PIXELS
    assert len(split.x) > 0 and np.all((split.x >= 0) & (split.x <= 1))
    assert split.y.shape == (len(split.x),) and np.all((split.y >= 0) & (split.y < 36))


@given(damaged(VALID_MAT))
def test_the_mat_image_loader_returns_valid_rows_or_one_line(data):
    path = _file("images.mat", data)
    try:
        rows = load_images(path)
    except UserError as error:
        _one_line(error)
        return
    assert rows.dtype == np.float32 and rows.shape[1:] == (PIXELS,) and len(rows) > 0
    assert np.all(np.isfinite(rows)) and rows.min() >= 0 and rows.max() <= 1


@given(damaged(VALID_MODEL))
def test_the_npz_and_model_loaders_return_valid_arrays_or_one_line(data):
    path = _file("model.npz", data)
    try:
        arrays = load_arrays(path)
        assert all(isinstance(a, np.ndarray) and a.dtype != object for a in arrays.values())
        name, params, info = load_model(path)
    except UserError as error:
        _one_line(error)
        return
    assert name == "mlp" and isinstance(info, dict)
    expected = init_mlp(np.random.default_rng(0), hidden=info["hidden"])
    for key, value in expected.items():
        assert params[key].shape == value.shape and np.all(np.isfinite(params[key]))


@given(damaged(VALID_AUTOENCODER))
def test_the_autoencoder_loader_returns_valid_layers_or_one_line(data):
    path = _file("autoencoder.npz", data)
    try:
        params, info = load_autoencoder(path)
    except UserError as error:
        _one_line(error)
        return
    assert isinstance(info, dict) and params["encode1"]["W"].shape == (PIXELS, 32)
    assert all(np.all(np.isfinite(layer[k])) for layer in params.values() for k in ("W", "b"))


@given(damaged(VALID_CODES))
def test_the_codes_loader_returns_valid_codes_or_one_line(data):
    path = _file("codes.npz", data)
    try:
        codes = load_codes(path)
    except UserError as error:
        _one_line(error)
        return
    assert codes.dtype == np.float32 and codes.ndim == 2 and codes.shape[1] == 32 and len(codes) > 0
    assert np.all(np.isfinite(codes))
