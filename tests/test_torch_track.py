"""torch_track: the PyTorch counterparts agree with the engine and follow the project's conventions."""

import json
import shutil

import numpy as np
import pytest
import scipy.io

import tinygrad_hw as tg
from ocr.models import init_mlp, mlp
from ocr.nist36 import make_split

torch = pytest.importorskip("torch")

from tests.in_process import run_module  # noqa: E402
from torch_track.common import load_state  # noqa: E402
from torch_track.fc import FC, engine_gradients, from_engine  # noqa: E402


def test_fc_gradients_equal_the_engines_from_the_same_weights_and_batch():
    rng = np.random.default_rng(0)
    params = {k: v.astype(np.float64) + rng.normal(0, 0.05, v.shape) for k, v in init_mlp(rng).items()}
    x, y = rng.random((32, 1024)), rng.integers(0, 36, 32)

    loss, grads = tg.value_and_grad(lambda p: tg.softmax_cross_entropy(mlp(p, x), y))(params)
    model = from_engine(params)
    theirs = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
    theirs.backward()

    assert theirs.item() == pytest.approx(float(loss), rel=1e-12)
    for name, g in engine_gradients(model).items():
        np.testing.assert_allclose(g, grads[name], rtol=1e-9, atol=1e-15, err_msg=name)


def _tiny_nist36(root):
    data = root / "nist36"
    data.mkdir(parents=True)
    for split, seed in (("train", 0), ("valid", 1), ("test", 2)):
        rows = make_split(split, seed, size=72)
        labels = np.eye(36, dtype=np.uint8)[rows.y]
        scipy.io.savemat(data / f"nist36_{split}.mat", {f"{split}_data": rows.x, f"{split}_labels": labels})
    return root


def _task(*args):
    return run_module("torch_track", *args)


def test_fc_nist36_task_trains_saves_a_state_dict_and_writes_metrics(tmp_path):
    _tiny_nist36(tmp_path / "data")
    out = tmp_path / "out"
    command = [
        "fc-nist36",
        "--data-dir",
        str(tmp_path / "data"),
        "--out",
        str(out),
        "--epochs",
        "2",
        "--device",
        "cpu",
    ]
    result = _task(*command)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and len(metrics["history"]["valid_accuracy"]) == 2
    assert 0 <= metrics["test_accuracy"] <= 1 and (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    model = load_state(out / "model.pt", FC())
    assert model.hidden.weight.shape == (64, 1024)


def test_cnn_nist36_task_prints_a_table_against_the_fc_network(tmp_path):
    from torch_track.cnn import CharCNN

    data, out = _tiny_nist36(tmp_path / "data"), tmp_path / "out"
    result = _task(
        "cnn-nist36", "--data-dir", str(data), "--out", str(out), "--epochs", "1", "--device", "cpu"
    )
    assert result.returncode == 0, result.stderr
    table = [
        line for line in result.stdout.splitlines() if line.startswith("| cnn |") or line.startswith("| fc |")
    ]
    assert len(table) == 2
    metrics = json.loads((out / "metrics.json").read_text())
    assert [row["model"] for row in metrics["table"]] == ["cnn", "fc"]
    assert [row["epochs"] for row in metrics["table"]] == [1, 1]  # --epochs shortens the comparison too
    assert load_state(out / "model.pt", CharCNN()).classifier[-1].out_features == 36


def test_asking_for_cuda_without_it_is_one_line(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = _task("fc-nist36", "--out", str(tmp_path), "--device", "cuda")
    assert result.returncode == 2 and "no CUDA device" in result.stderr and "Traceback" not in result.stderr


def _write_idx(path, array, magic):
    import gzip
    import struct

    header = struct.pack(">i", magic) + b"".join(struct.pack(">i", n) for n in array.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _write_mnist(raw, rng, train, test):
    """Random MNIST-format gzip IDX files: `train` and `test` images with their labels."""
    for prefix, n in (("train", train), ("t10k", test)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)), 2051)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n), 2049)


def test_gzip_idx_files_are_prepared_for_torchvisions_mnist_and_emnist(tmp_path):
    import torchvision

    from torch_track.idx_cache import prepare

    rng = np.random.default_rng(0)
    _write_mnist(tmp_path / "data" / "MNIST" / "raw", rng, train=5, test=3)
    root = prepare(tmp_path / "data", tmp_path / "cache", "MNIST")
    train = torchvision.datasets.MNIST(root, train=True, download=False)
    assert len(train) == 5 and train.data.shape == (5, 28, 28)
    assert len(torchvision.datasets.MNIST(root, train=False, download=False)) == 3

    eraw = tmp_path / "data" / "EMNIST" / "raw"
    _write_idx(eraw / "emnist-byclass-test-images-idx3-ubyte.gz", rng.integers(0, 256, (4, 28, 28)), 2051)
    _write_idx(eraw / "emnist-byclass-test-labels-idx1-ubyte.gz", np.array([0, 10, 36, 61]), 2049)
    root = prepare(tmp_path / "data", tmp_path / "cache", "EMNIST")
    emnist = torchvision.datasets.EMNIST(root, split="byclass", train=False, download=False)
    assert emnist.targets.tolist() == [0, 10, 36, 61]


def test_missing_idx_data_is_one_line_that_says_it_cannot_be_downloaded(tmp_path):
    from tinygrad_hw.app.cli import UserError
    from torch_track.idx_cache import prepare

    with pytest.raises(UserError, match="no gzip IDX files of MNIST there.*cannot be downloaded"):
        prepare(tmp_path, tmp_path / "cache", "MNIST")
    with pytest.raises(UserError, match="needs a data folder"):
        prepare(None, tmp_path / "cache", "MNIST")


def test_the_shared_mnist_files_load_through_torchvision(shared_data, tmp_path):
    import torchvision

    from torch_track.idx_cache import prepare

    root = prepare(shared_data, tmp_path, "MNIST")
    assert len(torchvision.datasets.MNIST(root, train=True, download=False)) == 60000
    root = prepare(shared_data, tmp_path, "EMNIST")
    assert len(torchvision.datasets.EMNIST(root, split="byclass", train=False, download=False)) == 116323


def _one_epoch_on_the_cpu(task, data, tmp_path, monkeypatch, *options):
    """The metrics of `task` run for one epoch on `data`, its cache in `tmp_path`."""
    monkeypatch.setenv("TINYGRAD_HW_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    result = _task(
        task, "--data-dir", str(data), "--out", str(out), "--epochs", "1", "--device", "cpu", *options
    )
    assert result.returncode == 0, result.stderr
    return json.loads((out / "metrics.json").read_text())


def test_cnn_mnist_task_trains_from_gzip_idx_files(tmp_path, monkeypatch):
    _write_mnist(tmp_path / "data" / "MNIST" / "raw", np.random.default_rng(0), train=40, test=10)
    metrics = _one_epoch_on_the_cpu("cnn-mnist", tmp_path / "data", tmp_path, monkeypatch, "--limit", "30")
    assert metrics["train_images"] == 27 and 0 <= metrics["test_accuracy"] <= 1  # 30 less a held-out tenth
    assert [*(tmp_path / "cache" / "torchvision").glob("MNIST-*/MNIST/raw/train-images-idx3-ubyte")]


def test_limit_keeps_a_seeded_random_subset_of_every_split_in_order():
    from ocr.nist36 import Split
    from torch_track.common import at_most

    splits = {
        "train": Split(np.arange(100)[:, None], np.arange(100) % 7),
        "test": (torch.arange(5), torch.zeros(5)),
    }
    cut = at_most(splits, 10, seed=3)
    assert isinstance(cut["train"], Split) and cut["train"].x.shape == (10, 1)
    assert np.all(np.diff(cut["train"].x[:, 0]) > 0) and np.all(cut["train"].y == cut["train"].x[:, 0] % 7)
    assert torch.equal(cut["test"][0], torch.arange(5))  # fewer rows than the limit: all of them
    assert np.array_equal(at_most(splits, 10, seed=3)["train"].x, cut["train"].x)
    assert not np.array_equal(at_most(splits, 10, seed=4)["train"].x, cut["train"].x)
    assert at_most(splits, None, seed=3) is splits


def test_emnist_rows_are_made_exactly_like_the_nist36_stand_in(shared_data, tmp_path):
    from ocr.nist36 import load_nist36
    from torch_track.emnist import emnist_rows, stand_in_rows
    from torch_track.idx_cache import prepare

    rows, classes, byclass = emnist_rows(prepare(shared_data, tmp_path, "EMNIST"))
    stand_in = load_nist36(shared_data)["test"]
    listed = [int(n) for n in (shared_data / "nist36" / "test_emnist_byclass_rows.txt").read_text().split()]
    position = {b: k for k, b in enumerate(byclass)}
    for k in (0, 500, 1799):
        mine = position[listed[k]]
        np.testing.assert_array_equal(rows[mine], stand_in.x[k])
        assert classes[mine] == stand_in.y[k]
    assert len(stand_in_rows(shared_data)) == 13752


def test_emnist_splits_are_capped_per_class_and_disjoint():
    from torch_track.emnist import make_splits

    classes = np.repeat(np.arange(36), 30)
    rows = np.arange(len(classes), dtype=np.float32)[:, None].repeat(4, axis=1)
    splits = make_splits(rows, classes, seed=0, per_class=20)
    assert sum(len(s) for s in splits.values()) == 36 * 20
    seen = np.concatenate([s.x[:, 0] for s in splits.values()])
    assert len(np.unique(seen)) == len(seen)  # no row in two splits
    assert abs(len(splits["train"]) - 0.85 * 720) <= 1 and abs(len(splits["test"]) - 0.10 * 720) <= 1


def test_cnn_emnist_task_leaves_out_the_listed_rows_and_trains(tmp_path, monkeypatch, embedded_default_file):
    (tmp_path / "cache").mkdir()
    shutil.copy(embedded_default_file, tmp_path / "cache")  # its glyphs are mixed into training
    rng = np.random.default_rng(0)
    raw = tmp_path / "data" / "EMNIST" / "raw"
    labels = np.concatenate([np.arange(62), np.arange(36)])  # lowercase (36-61) must be dropped
    _write_idx(
        raw / "emnist-byclass-test-images-idx3-ubyte.gz", rng.integers(0, 256, (len(labels), 28, 28)), 2051
    )
    _write_idx(raw / "emnist-byclass-test-labels-idx1-ubyte.gz", labels, 2049)
    (tmp_path / "data" / "nist36").mkdir()
    (tmp_path / "data" / "nist36" / "test_emnist_byclass_rows.txt").write_text("0\n1\n2\n")
    metrics = _one_epoch_on_the_cpu("cnn-emnist", tmp_path / "data", tmp_path, monkeypatch, "--limit", "200")
    assert metrics["emnist_rows"] == 72 - 3  # 36 capitals and 36 digits, less the 3 listed rows
    assert metrics["splits"]["train"] == 200  # the embedded glyphs mixed in, then --limit


def test_embedded_glyphs_are_mixed_in_equally_for_every_class():
    from ocr.nist36 import Split
    from torch_track.emnist import mix_in_glyphs

    labels = np.concatenate([np.repeat(np.arange(36), 5), np.full(20, 7)])  # class 7 (H) has 25 rows
    train = Split(np.zeros((len(labels), 1024), np.float32), labels)
    mixed = mix_in_glyphs(train, seed=0, per_class=10)
    assert (np.bincount(mixed.y) - np.bincount(labels)).tolist() == [10] * 36
    assert np.all(mixed.x[: len(labels)] == 0) and mixed.x[len(labels) :].std() > 0  # the real rows first


@pytest.mark.parametrize("kind", ["skip", "residual", "gated-residual"])
def test_shortcut_stages_keep_the_cnns_shape_and_pass_gradients_to_every_layer(kind):
    from torch_track.variants import ShortcutCNN

    torch.manual_seed(0)
    model = ShortcutCNN(kind)
    logits = model(torch.rand(4, 1024))
    assert logits.shape == (4, 36)
    logits.square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    stage = model.features[0]
    x = torch.rand(2, 1, 32, 32)
    if kind == "skip":  # the stage's input comes out unchanged as its first channel
        assert torch.equal(stage(x)[:, :1], x)


def test_resnet_variants_task_tabulates_the_plain_cnn_and_three_variants(tmp_path):
    from torch_track.variants import ShortcutCNN

    data, out = _tiny_nist36(tmp_path / "data"), tmp_path / "out"
    result = _task(
        "resnet-variants", "--data-dir", str(data), "--out", str(out), "--epochs", "1", "--device", "cpu"
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    rows = metrics["table"]
    assert [r["model"] for r in rows] == ["cnn", "skip", "residual", "gated-residual"]
    assert len({r["parameters"] for r in rows}) == 4 and all(0 <= r["test_accuracy"] <= 1 for r in rows)
    assert sum(line.startswith("|") for line in result.stdout.splitlines()) == 6  # header, rule, 4 rows
    assert load_state(out / "gated-residual.pt", ShortcutCNN("gated-residual"))
