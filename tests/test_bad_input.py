"""Every command against a table of bad inputs, as a hostile user would try them (issue 16).

Each case generates its input here (empty, truncated, wrong type, wrong shape, wrong range, NaN,
16-bit, EXIF-rotated, non-UTF-8, pickles whose `__reduce__` would create a marker file), runs the
command in this process through its `main(argv)` (as `python -m` does), and asserts: the exit
status is not 0 and stderr is one line, `error: ...`, with no traceback (or, for inputs that are
valid but unusual, the output is the right one); no marker file appeared; the inputs are as they
were; and `--out`, which holds a previous run, is byte for byte what it was, with no temporary
beside it. A few cases at the end run a true subprocess, to show the same end to end.
"""

from __future__ import annotations

import gzip
import importlib.util
import itertools
import json
import os
import pickle
import signal
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse
from PIL import Image

from compression.autoencoder import init_autoencoder
from ocr.model_store import save_model
from ocr.models import init_mlp
from ocr.nist36 import PIXELS
from ocr.page import make_page
from tests.in_process import run_module
from tinygrad_hw.app.checkpoint import save_checkpoint
from tinygrad_hw.app.cli import UserError
from tinygrad_hw.app.files import RUN_MARKER

ROOT = Path(__file__).resolve().parents[1]
TEXT = "HELLO 42\nWORLD OF INK"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Each case in its own folder: no runs/ or model cache of the developer's is seen."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TINYGRAD_HW_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("TINYGRAD_HW_DATA", raising=False)


# -- running a command in this process ----------------------------------------------------------------


@dataclass
class Result:
    status: int
    stdout: str
    stderr: str


def run(package, *argv) -> Result:
    """`python -m package argv` run in this process, in the current folder."""
    result = run_module(package, *argv, cwd=None)
    return Result(result.returncode, result.stdout, result.stderr)


def assert_refused(result: Result, *expected: str, progress=False):
    """Exit status 2, and stderr exactly one line, `error: ...` holding each of `expected` (after
    progress lines, with `progress`: lines such as "decompressing X")."""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert result.status == 2, result.stderr
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors == lines[-1:] and (progress or len(lines) == 1), result.stderr
    for text in expected:
        assert text in lines[-1], lines[-1]


def snapshot(folder: Path) -> dict:
    """Every file under `folder` (hidden ones too), by relative path, with its bytes."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def previous_run(out: Path, command: str) -> dict:
    """`out` holding a previous run of `command`, as `run_folder` leaves it; its snapshot."""
    out.mkdir(parents=True)
    (out / "metrics.json").write_text('{"previous": true}\n')
    (out / "model.npz").write_bytes(b"the previous run's model")
    (out / RUN_MARKER).write_text(json.dumps({"command": command}))
    return snapshot(out)


def leftovers(out: Path) -> list[str]:
    """Temporaries of `out` beside it (a staging folder, a .tmp file)."""
    return [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


# -- inputs -------------------------------------------------------------------------------------------


def write_split(path: Path, split: str, data=None, labels=None, rows=72):
    rng = np.random.default_rng(len(split))
    data = rng.random((rows, PIXELS)) if data is None else data
    labels = np.eye(36)[np.arange(rows) % 36] if labels is None else labels
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {f"{split}_data": data, f"{split}_labels": labels})
    return path


def nist_folder(root: Path, **valid_split) -> Path:
    """root/nist36/nist36_{train,valid,test}.mat, the valid split written with `valid_split`."""
    for split in ("train", "valid", "test"):
        write_split(
            root / "nist36" / f"nist36_{split}.mat", split, **(valid_split if split == "valid" else {})
        )
    return root


class Payload:
    """An object whose unpickling creates `marker` (what `os.system('touch ...')` would do)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def pickle_bomb(path: Path, marker: Path, wrap=lambda payload: payload) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(wrap(Payload(marker)), protocol=2))
    return path


@pytest.fixture
def mlp_checkpoint(tmp_path):
    """A small MLP checkpoint (random weights: only the reading's structure matters here)."""
    params = init_mlp(np.random.default_rng(0), hidden=16)
    return save_model(tmp_path / "inputs" / "mlp.npz", "mlp", params, {"hidden": 16, "data": "test"})


@pytest.fixture(scope="module")
def page():
    return make_page(np.random.default_rng(7), TEXT)


def checkpoint_with(path: Path, change) -> Path:
    """An MLP checkpoint whose named arrays went through `change(arrays)` before being saved."""
    params = init_mlp(np.random.default_rng(0), hidden=16)
    arrays = {f"param/{k}": v for k, v in params.items()}
    arrays["meta/info"] = np.array(json.dumps({"model": "mlp", "hidden": 16}))
    change(arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def _npy(path: Path):
    with open(path, "wb") as f:
        np.save(f, np.zeros(3))


def truncated(path: Path, keep=0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


# -- the table: each case writes its bad input and gives the command line ---------------------------------


def _mat_cases():
    """(id, damage of the valid split's .mat, expected words): for every command reading NIST36."""
    return [
        ("empty .mat", lambda p: p.write_bytes(b""), "not a readable MATLAB .mat file"),
        ("truncated .mat", lambda p: truncated(p, 0.3), "not a readable MATLAB .mat file"),
        ("text as .mat", lambda p: p.write_text("hello"), "not a readable MATLAB .mat file"),
        ("wrong shape", lambda p: write_split(p, "valid", data=np.zeros((72, 1000))), "must be N x 1024"),
        ("0..255", lambda p: write_split(p, "valid", data=np.full((72, PIXELS), 255.0)), "divide by 255"),
        ("NaN pixel", lambda p: _with_nan(p), "not finite numbers"),
        ("0 rows", lambda p: write_split(p, "valid", rows=0), "no images"),
        ("string labels", lambda p: write_split(p, "valid", labels=np.array(["a"] * 72)), "labels"),
        ("complex pixels", lambda p: write_split(p, "valid", data=np.ones((72, PIXELS)) * 1j), "complex"),
        ("complex flag alone", _complex_flag, "the reader crashed on it (SIGSEGV)"),  # killed the process
    ]


def _complex_flag(path):
    """The first array's "complex" flag set, without its imaginary part: scipy reads past its data."""
    data = bytearray(path.read_bytes())
    data[145] |= 0x08  # the flags byte of the first element's array flags (after the 128-byte header)
    path.write_bytes(bytes(data))


def _with_nan(path):
    data = np.random.default_rng(0).random((72, PIXELS))
    data[3, 5] = np.nan
    write_split(path, "valid", data=data)


MAT_CASES = _mat_cases()
IMAGE_CASES = [case for case in MAT_CASES if "labels" not in case[2]]  # for readers of images only
NIST_COMMANDS = [
    ("ocr", ["train", "--epochs", "1", "--hidden", "4"], "python -m ocr train"),
    ("compression", ["run", "--epochs", "1"], "python -m compression run"),
]


@pytest.mark.parametrize("package, verb, command", NIST_COMMANDS, ids=[c[2] for c in NIST_COMMANDS])
@pytest.mark.parametrize("damage, expected", [c[1:] for c in MAT_CASES], ids=[c[0] for c in MAT_CASES])
def test_nist36_commands_refuse_a_bad_mat_file_in_one_line(
    tmp_path, package, verb, command, damage, expected
):
    data = nist_folder(tmp_path / "data")
    damage(data / "nist36" / "nist36_valid.mat")
    inputs, out = snapshot(data), tmp_path / "out"
    before = previous_run(out, command)
    result = run(package, *verb, "--data-dir", data, "--out", out)
    assert_refused(result, "nist36_valid.mat", expected)
    assert snapshot(out) == before and leftovers(out) == [] and snapshot(data) == inputs


def test_a_sparse_mat_file_loads_as_its_dense_values(tmp_path):
    data = nist_folder(tmp_path / "data")
    dense = np.random.default_rng(1).random((72, PIXELS)) * (
        np.random.default_rng(2).random((72, PIXELS)) < 0.1
    )
    write_split(data / "nist36" / "nist36_valid.mat", "valid", data=scipy.sparse.csc_matrix(dense))
    from ocr.nist36 import load_split_file

    np.testing.assert_allclose(
        load_split_file(data / "nist36" / "nist36_valid.mat", "valid").x, dense, atol=1e-7
    )
    result = run("ocr", "train", "--epochs", "1", "--hidden", "4", "--data-dir", data, "--out", "o")
    assert result.status == 0 and "Traceback" not in result.stderr
    assert json.loads(Path("o/metrics.json").read_text())["epochs"] == 1


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--seed", "-1"], "--seed: must be an integer from 0"),
        (["--seed", "99999999999"], "--seed: must be an integer from 0"),
        (["--hidden", "1000000000"], "hidden units must be a whole number from 1 to 10,000"),
        (["--hidden", "0"], "--hidden: must be a positive integer"),
        (["--momentum", "1"], "--momentum must be in [0, 1)"),
        (["--lr", "nan"], "--lr: must be a positive number"),
    ],
    ids=["seed -1", "seed too large", "hidden 1e9", "hidden 0", "momentum 1", "lr nan"],
)
def test_ocr_train_refuses_bad_options_before_loading_anything(tmp_path, argv, expected):
    out = tmp_path / "out"
    before = previous_run(out, "python -m ocr train")
    result = run("ocr", "train", "--data-dir", tmp_path / "absent", "--out", out, *argv)
    assert_refused(result, expected)
    assert snapshot(out) == before and leftovers(out) == []


def test_an_exploding_loss_is_divergence_even_while_it_stays_finite(tmp_path):
    # the MLP's sigmoid keeps the loss finite at --lr 1e30 (it was 3e31, exit 0, model written)
    data = nist_folder(tmp_path / "data")
    out = tmp_path / "out"
    before = previous_run(out, "python -m ocr train")
    result = run("ocr", "train", "--lr", "1e30", "--hidden", "8", "--data-dir", data, "--out", out)
    assert_refused(result, "training diverged", "the loss grew from", progress=True)
    assert snapshot(out) == before and leftovers(out) == []


@pytest.mark.parametrize(
    "make_out, expected",
    [
        (lambda t: (t / "file").write_text("x") and t / "file" / "sub", "file is a file, not a folder"),
        (lambda t: (t / "file").write_text("x") and t / "file", "is a file, not a folder"),
        (lambda t: _foreign_folder(t / "mine"), "holds files that no run of this project wrote"),
        (
            lambda t: _run_of(t / "runs" / "read", "python -m ocr read"),
            "holds the results of `python -m ocr read`",
        ),
        (lambda t: t, "is the current folder"),
    ],
    ids=["under a file", "a file", "a folder of other files", "another verb's run", "the current folder"],
)
def test_an_unusable_out_is_refused_before_any_work(tmp_path, make_out, expected):
    out = make_out(tmp_path)
    before = snapshot(tmp_path / "mine")
    result = run("ocr", "train", "--data-dir", tmp_path / "absent", "--out", out)
    assert_refused(result, expected)  # before the data folder is looked at: checked first
    assert snapshot(tmp_path / "mine") == before


def _foreign_folder(folder):
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    return folder


def _run_of(folder, command):
    previous_run(folder, command)
    return folder


def test_a_read_only_out_is_refused_before_training(tmp_path, monkeypatch):
    if os.geteuid() == 0:  # root writes anywhere: make the permission check see a read-only folder
        monkeypatch.setattr(os, "access", lambda path, mode, **kw: Path(path).name != "out")
    out = tmp_path / "out"
    before = previous_run(out, "python -m ocr train")
    out.chmod(0o555)
    try:
        result = run("ocr", "train", "--data-dir", tmp_path / "absent", "--out", out)
    finally:
        out.chmod(0o755)
    assert_refused(result, "out: not writable")
    assert snapshot(out) == before


# -- reading photos --------------------------------------------------------------------------------------


def _reading(image, model, out="read-out"):
    result = run("ocr", "read", image, "--model", model, "--out", out)
    assert result.status == 0 and "Traceback" not in result.stderr, result.stderr
    return result


def _sixteen_bit(page):
    """The page as 16-bit grey levels from 2000 to 62000 (8-bit clipping turns all of it white)."""
    grey = page.mean(axis=2)
    return (2000 + grey / 255 * 60000).astype(np.uint16)


def test_a_16_bit_png_and_tiff_read_like_their_8_bit_copy(tmp_path, page, mlp_checkpoint):
    wide = _sixteen_bit(page)
    Image.fromarray(np.round(wide / 257).astype(np.uint8)).save(tmp_path / "eight.png")
    expected = _reading(tmp_path / "eight.png", mlp_checkpoint).stdout
    assert expected.strip()
    for name in ("wide.png", "wide.tif"):
        Image.fromarray(wide).save(tmp_path / name)
        assert Image.open(tmp_path / name).mode.startswith("I;16")
        assert _reading(tmp_path / name, mlp_checkpoint).stdout == expected  # was empty text


def test_a_float_tiff_reads_like_its_8_bit_copy_and_nan_or_another_scale_is_refused(
    tmp_path, page, mlp_checkpoint
):
    grey = np.round(page.mean(axis=2)).astype(np.uint8)
    Image.fromarray(grey).save(tmp_path / "eight.png")
    expected = _reading(tmp_path / "eight.png", mlp_checkpoint).stdout
    Image.fromarray((grey / 255).astype(np.float32)).save(tmp_path / "float.tif")
    assert _reading(tmp_path / "float.tif", mlp_checkpoint).stdout == expected
    nan = (grey / 255).astype(np.float32)
    nan[10, 10] = np.nan
    Image.fromarray(nan).save(tmp_path / "nan.tif")
    Image.fromarray(grey.astype(np.float32)).save(tmp_path / "levels.tif")
    for name, expected_error in (("nan.tif", "not finite numbers"), ("levels.tif", "divide by 255")):
        out = tmp_path / "out"
        result = run("ocr", "read", tmp_path / name, "--model", mlp_checkpoint, "--out", out)
        assert_refused(result, name, expected_error)
        assert not out.exists() and leftovers(out) == []


def test_a_phone_photo_is_turned_upright_by_its_exif_orientation(tmp_path, page, mlp_checkpoint):
    from ocr.photos import load_image

    Image.fromarray(page).save(tmp_path / "upright.jpg", quality=95)
    upright = np.asarray(Image.open(tmp_path / "upright.jpg"))
    sideways = Image.fromarray(np.ascontiguousarray(np.rot90(upright, 1)))  # stored as a phone does
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turn 90 degrees clockwise to show
    sideways.save(tmp_path / "phone.jpg", quality=95, exif=exif)
    assert load_image(tmp_path / "phone.jpg").shape == page.shape  # was page.shape turned
    expected = _reading(tmp_path / "upright.jpg", mlp_checkpoint).stdout
    result = _reading(tmp_path / "phone.jpg", mlp_checkpoint)
    assert result.stdout.count("\n") == expected.count("\n") == 2  # two lines of text, not columns
    assert "turned" not in result.stderr  # upright from its tag, not from a guess


def test_a_page_written_light_on_dark_is_read_inverted_and_said_so(tmp_path, page, mlp_checkpoint):
    Image.fromarray(page).save(tmp_path / "page.png")
    Image.fromarray(255 - page).save(tmp_path / "negative.png")
    expected = _reading(tmp_path / "page.png", mlp_checkpoint).stdout
    result = _reading(tmp_path / "negative.png", mlp_checkpoint, out="negative-out")
    assert result.stdout == expected  # was garbage
    assert "negative.png: the page looks written light on dark" in result.stderr


@pytest.mark.parametrize(
    "write, expected",
    [
        (lambda p: p.write_bytes(b""), "not an image"),
        (lambda p: p.write_bytes(_png_bytes()[:200]), "unreadable image"),
        (lambda p: p.write_text("not an image"), "not an image"),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: None, "no such file"),
    ],
    ids=["empty", "truncated", "text", "a folder", "missing"],
)
def test_read_refuses_a_bad_image_and_keeps_the_previous_run(tmp_path, mlp_checkpoint, write, expected):
    image, out = tmp_path / "inputs" / "photo.png", tmp_path / "out"
    image.parent.mkdir(exist_ok=True)
    write(image)
    before = previous_run(out, "python -m ocr read")
    result = run("ocr", "read", image, "--model", mlp_checkpoint, "--out", out)
    assert_refused(result, "photo.png", expected)
    assert snapshot(out) == before and leftovers(out) == []  # metrics.json was rewritten with no images


def _png_bytes():
    import io

    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_two_inputs_with_one_name_keep_both_sets_of_figures(tmp_path, page, mlp_checkpoint):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        Image.fromarray(page if folder == "a" else 255 - page).save(tmp_path / folder / "scan.png")
    Image.fromarray(page).save(tmp_path / "a" / "scan.jpg")
    inputs = [tmp_path / "a" / "scan.png", tmp_path / "b" / "scan.png", tmp_path / "a" / "scan.jpg"]
    result = run("ocr", "read", *inputs, "--model", mlp_checkpoint, "--out", "out")
    assert result.status == 0, result.stderr
    figures = sorted(p.name for p in Path("out").glob("*_boxes.png"))
    assert figures == ["scan-2_boxes.png", "scan-3_boxes.png", "scan_boxes.png"]  # was one, overwritten
    metrics = json.loads(Path("out/metrics.json").read_text())
    assert [r["figures"] for r in metrics["images"]] == ["scan", "scan-2", "scan-3"]


# -- checkpoints: --model and discovery -------------------------------------------------------------------


def _marker_bomb(arrays, marker):
    arrays["param/W1"] = np.array([Payload(marker)], dtype=object)


def _nan_weight(arrays):
    arrays["param/W1"][0, 0] = np.nan


def _int8_weights(arrays):
    arrays["param/W1"] = arrays["param/W1"].astype(np.int8)


def _info(stored):
    return lambda arrays: arrays.update({"meta/info": np.array(stored)})


CHECKPOINT_CASES = [
    ("empty", lambda p, m: p.write_bytes(b""), "not a readable .npz file"),
    ("truncated", lambda p, m: truncated(checkpoint_with(p, lambda a: None)), "not a readable .npz file"),
    ("text", lambda p, m: p.write_text("weights"), "not a readable .npz file"),
    ("a .npy", lambda p, m: _npy(p), "not an .npz archive"),
    ("pickled object", lambda p, m: checkpoint_with(p, lambda a: _marker_bomb(a, m)), "not a readable .npz"),
    ("NaN weights", lambda p, m: checkpoint_with(p, _nan_weight), "not finite"),
    ("int8 weights", lambda p, m: checkpoint_with(p, _int8_weights), "int8"),
    ("hidden -5", lambda p, m: checkpoint_with(p, _info('{"model": "mlp", "hidden": -5}')), "got -5"),
    ("info not JSON", lambda p, m: checkpoint_with(p, _info("{model")), "is not JSON"),
    ("info a list", lambda p, m: checkpoint_with(p, _info("[1, 2]")), "not a JSON object"),
    ("info numbers", lambda p, m: checkpoint_with(p, _info([1, 2, 3])), "not one JSON string"),
]
CASE_IDS = [c[0] for c in CHECKPOINT_CASES]


@pytest.mark.parametrize("write, expected", [c[1:] for c in CHECKPOINT_CASES], ids=CASE_IDS)
def test_read_with_a_bad_model_file_is_one_line(tmp_path, page, write, expected):
    model, marker, out = tmp_path / "inputs" / "model.npz", tmp_path / "marker", tmp_path / "out"
    model.parent.mkdir()
    write(model, marker)
    Image.fromarray(page).save(tmp_path / "inputs" / "page.png")
    inputs, before = snapshot(tmp_path / "inputs"), previous_run(out, "python -m ocr read")
    result = run("ocr", "read", tmp_path / "inputs" / "page.png", "--model", model, "--out", out)
    assert_refused(result, "model.npz", expected)
    assert not marker.exists() and snapshot(out) == before and snapshot(tmp_path / "inputs") == inputs


@pytest.mark.parametrize("verb", ["read", "eval", "demo"])
def test_an_unreadable_candidate_is_skipped_with_one_line_and_the_good_one_used(
    tmp_path, page, mlp_checkpoint, verb
):
    for name in ("a-empty", "b-truncated"):
        (tmp_path / "runs" / name).mkdir(parents=True)
    (tmp_path / "runs" / "a-empty" / "model.npz").write_bytes(b"")
    (tmp_path / "runs" / "b-truncated" / "model.npz").write_bytes(mlp_checkpoint.read_bytes()[:500])
    (tmp_path / "runs" / "c-good").mkdir()
    (tmp_path / "runs" / "c-good" / "model.npz").write_bytes(mlp_checkpoint.read_bytes())
    (tmp_path / "images").mkdir()
    Image.fromarray(page).save(tmp_path / "images" / "page.png")
    (tmp_path / "images" / "page.txt").write_text("THE PAGE")
    inputs = {"read": ["images/page.png"], "eval": ["--images", "images"], "demo": []}[verb]
    result = run("ocr", verb, *inputs, "--out", "out")
    assert result.status == 0 and "Traceback" not in result.stderr, result.stderr
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipping the model")]
    assert len(skipped) == 2 and "using the model runs/c-good/model.npz" in result.stderr


# -- eval and demo ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [(b"\xff\xfe\x00H\x00I", "not UTF-8 text"), (b"", "holds no letter or digit"), (b" .,!\n", "no letter")],
    ids=["not UTF-8", "empty", "punctuation only"],
)
def test_eval_refuses_a_text_it_cannot_score_against(tmp_path, page, mlp_checkpoint, text, expected):
    images, out = tmp_path / "images", tmp_path / "out"
    images.mkdir()
    Image.fromarray(page).save(images / "page.png")
    (images / "page.txt").write_bytes(text)
    before = previous_run(out, "python -m ocr eval")
    result = run("ocr", "eval", "--images", images, "--model", mlp_checkpoint, "--out", out)
    assert_refused(result, "page.txt", expected)  # an empty text was scored: CER 54.0, exit 0
    assert snapshot(out) == before and leftovers(out) == []


def test_demo_with_a_data_dir_without_images_says_so(tmp_path, mlp_checkpoint):
    data = nist_folder(tmp_path / "data")
    result = run("ocr", "demo", "--data-dir", data, "--model", mlp_checkpoint, "--out", "out")
    assert_refused(result, "images: no such folder")  # it read the generated page instead, exit 0
    assert not Path("out").exists()


# -- compression ------------------------------------------------------------------------------------------


@pytest.fixture
def autoencoder_checkpoint(tmp_path):
    path = tmp_path / "inputs" / "autoencoder.npz"
    return save_checkpoint(path, init_autoencoder(np.random.default_rng(0)), {"data": "test"})


@pytest.mark.parametrize("damage, expected", [c[1:] for c in IMAGE_CASES], ids=[c[0] for c in IMAGE_CASES])
def test_compression_encode_refuses_a_bad_mat_file(tmp_path, autoencoder_checkpoint, damage, expected):
    mat = write_split(tmp_path / "inputs" / "images.mat", "valid")
    damage(mat)
    codes = tmp_path / "codes.npz"
    codes.write_bytes(b"the previous codes")
    result = run("compression", "encode", mat, "--model", autoencoder_checkpoint, "--output", codes)
    assert_refused(result, "images.mat", expected)  # a NaN pixel wrote NaN codes, exit 0
    assert codes.read_bytes() == b"the previous codes" and leftovers(codes) == []


def test_compression_encode_never_writes_over_its_input(tmp_path, autoencoder_checkpoint):
    mat = write_split(tmp_path / "inputs" / "images.mat", "valid")
    before = mat.read_bytes()
    result = run("compression", "encode", mat, "--model", autoencoder_checkpoint, "--output", mat)
    assert_refused(result, "is one of the inputs")
    assert mat.read_bytes() == before


def _codes(path, codes):
    np.savez(path, codes=codes)
    return path


CODES_CASES = [
    ("strings", lambda p: _codes(p, np.array([["a"] * 32])), "hold text"),
    ("0 rows", lambda p: _codes(p, np.zeros((0, 32))), "no codes"),
    ("NaN", lambda p: _codes(p, np.full((2, 32), np.nan)), "not finite"),
    ("wrong width", lambda p: _codes(p, np.zeros((2, 31))), "N x 32"),
    ("truncated", lambda p: truncated(_codes(p, np.zeros((50, 32)))), "not a readable .npz"),
    ("empty", lambda p: p.write_bytes(b""), "not a readable .npz"),
]


@pytest.mark.parametrize("write, expected", [c[1:] for c in CODES_CASES], ids=[c[0] for c in CODES_CASES])
def test_compression_decode_refuses_bad_codes(tmp_path, autoencoder_checkpoint, write, expected):
    codes, out = tmp_path / "inputs" / "codes.npz", tmp_path / "out"
    write(codes)
    before = previous_run(out, "python -m compression decode")
    result = run("compression", "decode", codes, "--model", autoencoder_checkpoint, "--out", out)
    assert_refused(result, "codes.npz", expected)
    assert snapshot(out) == before and leftovers(out) == []


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda p: truncated(p), "not a readable .npz"),
        (lambda p: _with_info(p, "not json"), "is not JSON"),
        (lambda p: _with_info(p, "[]"), "not a JSON object"),
    ],
    ids=["truncated", "metadata not JSON", "metadata a list"],
)
@pytest.mark.parametrize("verb", ["decode", "encode"])
def test_compression_refuses_a_bad_autoencoder_file(tmp_path, autoencoder_checkpoint, change, expected, verb):
    change(autoencoder_checkpoint)
    if verb == "decode":
        codes = _codes(tmp_path / "codes.npz", np.zeros((2, 32), np.float16))
        argv = ["decode", codes, "--out", "out"]
    else:
        Image.fromarray(np.full((32, 32), 200, np.uint8)).save(tmp_path / "page.png")
        argv = ["encode", tmp_path / "page.png", "--output", tmp_path / "codes.npz"]
    result = run("compression", *argv, "--model", autoencoder_checkpoint)
    assert_refused(result, "autoencoder.npz", expected)
    if verb == "encode":
        assert not (tmp_path / "codes.npz").exists()  # nothing written for a model it could not read
    else:
        assert not Path("out").exists()


def _with_info(path, info):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["meta/info"] = np.array(info)
    np.savez(path, **arrays)


# -- the PyTorch tasks ------------------------------------------------------------------------------------


def test_fc_nist36_refuses_a_mat_file_of_no_rows_or_of_another_scale(tmp_path):
    pytest.importorskip("torch")
    for name, damage in (("rows", dict(rows=0)), ("scale", dict(data=np.full((72, PIXELS), 255.0)))):
        data = nist_folder(tmp_path / name, **damage)
        result = run("torch_track", "fc-nist36", "--data-dir", data, "--out", "out", "--epochs", "1")
        assert_refused(result, "nist36_valid.mat")
        assert not Path("out").exists()


def _cifar_folder(root: Path, marker: Path, bomb: str) -> Path:
    """The CIFAR-10 python format, one of whose files (`bomb`) is a pickle that creates `marker`."""
    folder = root / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), "labels": [0, 1, 2, 3]}
        (folder / name).write_bytes(pickle.dumps(batch))
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": names}))
    pickle_bomb(folder / bomb, marker, wrap=lambda payload: {"data": payload, "labels": [0]})
    return root


@pytest.mark.parametrize("bomb", ["data_batch_3", "test_batch", "batches.meta"])
def test_a_cifar_batch_whose_unpickling_runs_code_is_refused_and_nothing_runs(tmp_path, bomb):
    pytest.importorskip("torchvision")
    marker = tmp_path / "marker"
    root = _cifar_folder(tmp_path / "data", marker, bomb)
    pickle.loads((root / "cifar10" / "cifar-10-batches-py" / bomb).read_bytes())  # the payload is real:
    assert marker.exists()  # a plain pickle.load runs it (what --skip-checksums did)
    marker.unlink()
    out = tmp_path / "out"
    before = previous_run(out, "python -m torch_track cnn-cifar10")
    argv = ["cnn-cifar10", "--data-dir", root, "--out", out, "--epochs", "1", "--skip-checksums"]
    result = run("torch_track", *argv)
    assert_refused(result, bomb, "io.open", "nothing in it was run")
    assert not marker.exists() and snapshot(out) == before and leftovers(out) == []
    result = run("torch_track", *argv[:-1])  # without the flag: the checksums refuse it first
    assert_refused(result, "MD5 mismatch")
    assert not marker.exists()


def _idx_gz(path: Path, payload: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        f.write(payload)


def _idx(array, magic):
    return struct.pack(">i", magic) + b"".join(struct.pack(">i", n) for n in array.shape) + array.tobytes()


def _mnist(raw: Path, garbage_in=None):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 20), ("t10k", 10)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        _idx_gz(raw / f"{prefix}-images-idx3-ubyte.gz", _idx(images, 2051))
        _idx_gz(raw / f"{prefix}-labels-idx1-ubyte.gz", _idx(labels, 2049))
    if garbage_in:
        _idx_gz(raw / garbage_in, b"this is no IDX file at all")


def test_mnist_garbage_inside_a_good_gzip_is_one_line_and_does_not_stay_in_the_cache(tmp_path):
    pytest.importorskip("torchvision")
    from torch_track.idx_cache import prepare

    raw = tmp_path / "data" / "MNIST" / "raw"
    _mnist(raw, garbage_in="train-images-idx3-ubyte.gz")
    result = run("torch_track", "cnn-mnist", "--data-dir", tmp_path / "data", "--out", "out")
    assert_refused(result, "train-images-idx3-ubyte.gz", "does not hold an IDX file", progress=True)
    _mnist(raw)  # the good file put in its place: read, not the bad copy (the cache was keyed by name)
    import torchvision

    root = prepare(tmp_path / "data", tmp_path / "cache", "MNIST")
    assert len(torchvision.datasets.MNIST(root, train=True, download=False)) == 20


def test_finetune_with_an_empty_or_malicious_weights_file_is_one_line(tmp_path):
    pytest.importorskip("torchvision")
    for split in ("train", "val", "test"):
        for name, colour in (("red", 200), ("blue", 40)):
            (tmp_path / "flowers" / split / name).mkdir(parents=True)
            for k in range(2):
                Image.fromarray(np.full((40, 40, 3), colour + k, np.uint8)).save(
                    tmp_path / "flowers" / split / name / f"{k}.jpg"
                )
    marker = tmp_path / "marker"
    (tmp_path / "empty.pth").write_bytes(b"")
    pickle_bomb(tmp_path / "bomb.pth", marker)
    backbones = {"squeezenet1_1": "not SqueezeNet 1.1 weights"}
    if importlib.util.find_spec("efficientnet_lite_pytorch"):  # the optional '.[pretrained]' packages
        backbones["efficientnet-lite0"] = "not EfficientNet-Lite0 weights"
    for (backbone, refusal), weights in itertools.product(backbones.items(), ("empty.pth", "bomb.pth")):
        argv = ["finetune", "--images", tmp_path / "flowers", "--weights", tmp_path / weights, "--out", "out"]
        options = ["--backbone", backbone, "--epochs", "1", "--scratch-epochs", "1", "--device", "cpu"]
        result = run("torch_track", *argv, *options)
        said = [refusal, "nothing in it was run"] if weights == "bomb.pth" else [refusal]
        assert_refused(result, weights, *said)
        assert "\x1b" not in result.stderr  # no terminal escapes from torch's own message
        assert not marker.exists() and not Path("out").exists()


# -- interrupts: a run's outputs are a unit -----------------------------------------------------------------


def test_an_interrupt_after_the_model_is_written_keeps_the_previous_run_whole(tmp_path, monkeypatch):
    import ocr.commands.train as train

    data = nist_folder(tmp_path / "data")
    out = tmp_path / "out"
    before = previous_run(out, "python -m ocr train")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "_write_figures", interrupted)  # model.npz is written by then
    result = run("ocr", "train", "--epochs", "1", "--hidden", "4", "--data-dir", data, "--out", out)
    assert result.status == 130 and "nothing of this run was kept" in result.stderr
    assert snapshot(out) == before and leftovers(out) == []  # was: the new model beside old metrics


KILLED_RUN = """
import os, signal, sys
import ocr.commands.train as train
from ocr.__main__ import main
from tinygrad_hw.app.cli import run_command
train._write_figures = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
run_command(main, sys.argv[1:])
"""


def test_a_killed_run_leaves_the_previous_run_and_its_temporaries_are_cleaned_next_time(tmp_path):
    data = nist_folder(tmp_path / "data")
    out = tmp_path / "out"
    before = previous_run(out, "python -m ocr train")
    argv = ["train", "--epochs", "1", "--hidden", "4", "--data-dir", str(data), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, *argv], cwd=tmp_path, env=env, capture_output=True
    )
    assert killed.returncode == -signal.SIGKILL
    assert snapshot(out) == before
    stale = leftovers(out)
    assert len(stale) == 1 and stale[0].endswith(".staging")  # with the new model.npz in it
    again = subprocess.run(
        [sys.executable, "-m", "ocr", *argv], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert leftovers(out) == [] and json.loads((out / "metrics.json").read_text())["epochs"] == 1


def test_stale_temporaries_of_a_file_are_removed_when_it_is_written_again(tmp_path):
    from tinygrad_hw.app.files import write_json

    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = int(ended.stdout)
    (tmp_path / f".metrics.json.{dead}.abcd1234.tmp").write_bytes(b"")
    (tmp_path / f".metrics.json.{os.getpid()}.efgh5678.tmp").write_bytes(b"")  # a live process's: kept
    write_json(tmp_path / "metrics.json", {"x": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f".metrics.json.{os.getpid()}.efgh5678.tmp",
        "metrics.json",
    ]


def test_no_nan_is_ever_written_into_json(tmp_path):
    from tinygrad_hw.app.files import write_json

    (tmp_path / "metrics.json").write_text('{"old": 1}')
    for bad in (
        {"psnr": float("nan")},
        {"points": [{"psnr": np.float32("inf")}]},
        {"a": np.array([1.0, np.nan])},
    ):
        with pytest.raises(UserError, match="not a finite number; nothing was written"):
            write_json(tmp_path / "metrics.json", bad)
        assert (tmp_path / "metrics.json").read_text() == '{"old": 1}'
    write_json(tmp_path / "metrics.json", {"a": np.float32(0.5), "b": (1, 2), "c": np.arange(2)})
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"a": 0.5, "b": [1, 2], "c": [0, 1]}


# -- end to end: a true subprocess per package ---------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["ocr", "read", "missing.png"], "missing.png: no such file"),
        (["compression", "encode", "nothing.mat"], "nothing.mat: no such file"),
        (["tinygrad_hw", "demo", "--seed", "-1"], "--seed: must be an integer from 0"),
        (["ocr", "train", "--hidden", "1000000000"], "hidden units must be a whole number"),
    ],
    ids=["ocr read", "compression encode", "tinygrad_hw demo", "ocr train"],
)
def test_a_real_process_prints_one_line_and_no_traceback(tmp_path, argv, expected):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TINYGRAD_HW_CACHE": str(tmp_path / "cache")}
    env.pop("TINYGRAD_HW_DATA", None)
    result = subprocess.run(
        [sys.executable, "-m", *argv], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and expected in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_state_dict_file_holding_a_pickle_payload_is_refused_in_one_line_and_never_run(tmp_path):
    pytest.importorskip("torch")
    from torch_track.cnn import CharCNN
    from torch_track.common import load_state

    marker = tmp_path / "marker"
    bomb = pickle_bomb(tmp_path / "model.pt", marker)
    with pytest.raises(UserError) as refused:
        load_state(bomb, CharCNN())
    message = str(refused.value)
    assert "model.pt: not a PyTorch state_dict" in message and "nothing in it was run" in message
    assert "\n" not in message and "\x1b" not in message and not marker.exists()


def test_a_state_dict_of_another_network_is_one_line_naming_the_missing_keys(tmp_path):
    torch = pytest.importorskip("torch")
    from torch_track.cnn import CharCNN
    from torch_track.common import load_state

    path = tmp_path / "other.pt"
    torch.save({"features.0.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(UserError) as refused:
        load_state(path, CharCNN())
    message = str(refused.value)
    assert "other.pt: not a PyTorch state_dict (Missing key(s)" in message and "\n" not in message
