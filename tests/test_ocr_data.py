"""The NIST36 loader reads both layouts, checks what it reads, and names the file that is wrong."""

import numpy as np
import pytest
import scipy.io

from ocr.nist36 import (
    CLASS_NAMES,
    SIDE,
    DataError,
    find_split_files,
    load_dataset,
    load_nist36,
    load_synthetic,
    make_split,
)


def _write_split(path, split, rows=8, data=None, labels=None):
    rng = np.random.default_rng(len(split))
    y = np.arange(rows) % 36
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(
        path,
        {
            f"{split}_data": rng.random((rows, 1024)).astype(np.float32) if data is None else data,
            f"{split}_labels": np.eye(36, dtype=np.uint8)[y] if labels is None else labels,
        },
    )
    return y


@pytest.mark.parametrize(
    "layout",
    [
        "nist36/nist36_{s}.mat",
        "nist36_{s}.mat",
        "data1/nist36_{s}_set1.mat",
        "nist36/data2/nist36_{s}_set2.mat",
    ],
)
def test_every_course_layout_loads(tmp_path, layout):
    expected = {s: _write_split(tmp_path / layout.format(s=s), s) for s in ("train", "valid", "test")}
    splits = load_nist36(tmp_path)
    for split, y in expected.items():
        assert splits[split].x.shape == (8, 1024) and splits[split].x.dtype == np.float32
        np.testing.assert_array_equal(splits[split].y, y)


def test_the_user_may_point_at_the_nist36_folder_itself(tmp_path):
    for s in ("train", "valid", "test"):
        _write_split(tmp_path / "nist36" / f"nist36_{s}.mat", s)
    assert find_split_files(tmp_path / "nist36")["test"] == tmp_path / "nist36" / "nist36_test.mat"


def _complete(tmp_path):
    for s in ("train", "valid", "test"):
        _write_split(tmp_path / "nist36" / f"nist36_{s}.mat", s)
    return tmp_path / "nist36"


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda p: p.unlink(), r"nist36_valid.mat: missing"),
        (lambda p: p.write_bytes(p.read_bytes()[:300]), r"nist36_valid.mat: not a readable MATLAB .mat file"),
        (lambda p: p.write_text("hello"), r"nist36_valid.mat: not a readable MATLAB .mat file"),
        (
            lambda p: scipy.io.savemat(p, {"images": np.zeros((2, 2))}),
            r"no 'valid_data' array \(found images\)",
        ),
        (lambda p: _write_split(p, "valid", data=np.zeros((8, 1000))), r"must be N x 1024"),
        (lambda p: _write_split(p, "valid", labels=np.eye(36)[:7]), r"8 images but 7 labels"),
        (lambda p: _write_split(p, "valid", labels=np.zeros((8, 36))), r"not one-hot"),
        (lambda p: _write_split(p, "valid", data=np.full((8, 1024), np.nan)), r"not finite"),
    ],
)
def test_a_bad_file_gets_one_line_naming_it_and_the_problem(tmp_path, damage, expected):
    folder = _complete(tmp_path)
    damage(folder / "nist36_valid.mat")
    with pytest.raises(DataError, match=expected) as error:
        load_nist36(tmp_path)
    assert "\n" not in str(error.value)


def test_a_folder_without_nist36_files_says_where_it_looked(tmp_path):
    with pytest.raises(DataError, match="no NIST36 files"):
        load_nist36(tmp_path)
    with pytest.raises(DataError, match="no such data folder"):
        load_nist36(tmp_path / "absent")


def test_the_shared_stand_in_loads_with_its_documented_sizes(shared_data):
    splits = load_nist36(shared_data)
    assert {s: len(v) for s, v in splits.items()} == {"train": 10152, "valid": 1800, "test": 1800}
    assert np.all(np.bincount(splits["test"].y) == 50)
    # stored transposed: the upright image has its ink columns where the row's reshape has ink rows
    assert np.array_equal(splits["train"].upright(0), splits["train"].x[0].reshape(32, 32).T)


def test_synthetic_split_is_seeded_balanced_and_in_the_nist36_storage_layout():
    a, b = make_split("test", seed=3, size=72), make_split("test", seed=3, size=72)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, make_split("test", seed=4, size=72).x)
    assert a.x.shape == (72, SIDE * SIDE) and a.x.dtype == np.float32
    assert np.all(np.bincount(a.y) == 2) and np.all(np.diff(a.y) >= 0)  # sorted by class
    assert a.x.min() >= 0 and a.x.max() <= 1
    border = a.x.reshape(-1, SIDE, SIDE)[:, [0, -1], :]
    assert border.mean() > 0.85  # white paper around a dark character
    assert 0.05 < (a.x < 0.5).mean() < 0.3  # ink covers some, not most, of the box


def test_synthetic_letters_are_upright_in_the_upright_view():
    # An "L" has its ink in the left column and the bottom row when the view is upright.
    split = make_split("valid", seed=0, size=360)
    ls = split.x[split.y == CLASS_NAMES.index("L")].reshape(-1, SIDE, SIDE).transpose(0, 2, 1)
    ink = (ls < 0.5).mean(axis=0)
    assert ink[:, :16].sum() > ink[:, 16:].sum() and ink[16:, :].sum() > ink[:16, :].sum()


def test_embedded_default_is_cached_and_a_damaged_cache_is_regenerated(tmp_path, monkeypatch):
    import ocr.nist36.embedded as synthetic

    monkeypatch.setenv("TINYGRAD_HW_CACHE", str(tmp_path))
    monkeypatch.setattr(synthetic, "SPLIT_SIZES", {"train": 36, "valid": 36, "test": 36})
    first = load_synthetic(seed=5)
    cached = next(tmp_path.glob("*.npz"))
    np.testing.assert_array_equal(load_synthetic(seed=5)["train"].x, first["train"].x)
    cached.write_bytes(b"garbage")
    np.testing.assert_array_equal(load_synthetic(seed=5)["valid"].x, first["valid"].x)
    splits, source = load_dataset(None, seed=5)
    assert "embedded default" in source and len(splits["test"]) == 36
