"""torch_track on photos: ImageFolder trees and their bad inputs, CIFAR-10 in both of its forms, and
fine-tuning a pretrained network.

Each test writes its own small dataset (a few images per class) or checkpoint in the real format and
runs the real loading path; the tasks run in this process (`run_command(main, argv)`, exactly what
`python -m torch_track` does), so that torch is imported once for all of them. The shared CIFAR-10
tree is used when it is there, through a small subset of its files.
"""

import io
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from tinygrad_hw.app.cli import UserError, run_command  # noqa: E402
from torch_track import cifar_recipe as recipe  # noqa: E402
from torch_track.__main__ import main  # noqa: E402
from torch_track.cifar import BatchUnpickler, read_batches, train_cifar  # noqa: E402
from torch_track.cnn import CifarNet, PhotoConvNet  # noqa: E402
from torch_track.common import load_state  # noqa: E402
from torch_track.efficientnet import Top, efficientnet_packages, folded_trunk, pretrained_efficientnet  # noqa: E402
from torch_track.image_folders import list_split, load_image_folders  # noqa: E402
from torch_track.photo_training import freeze_features, replace_head  # noqa: E402

COLOURS = {"red": (200, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 200)}
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _task(capsys, *argv):
    """(exit status, stdout, stderr) of `python -m torch_track ARGV --device cpu`, run in this process."""
    status = run_command(main, [*argv, "--device", "cpu"])
    out, err = capsys.readouterr()
    return status, out, err


def _one_line_error(status, err, *needles):
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    for needle in needles:
        assert needle in lines[0], lines[0]


def _image_folder(root, per_class=4, classes=COLOURS, side=None, splits=("train", "val", "test")):
    """train/val/test folders of noisy single-colour JPEGs, one class per colour; of varied sizes, or
    all `side` x `side`."""
    rng = np.random.default_rng(0)
    colours = list(COLOURS.values())
    for split in splits:
        for k, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(per_class):
                h, w = (side, side) if side else rng.integers(40, 90, 2)
                noise = rng.normal(0, 20, (h, w, 3))
                shade = np.array(colours[k % 3]) * (1 - 0.2 * (k // 3))  # classes past 3: darker
                pixels = np.clip(shade + noise, 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.jpg")
    return root


# -- ImageFolder trees --------------------------------------------------------------------------------------


def test_image_folders_load_every_split_as_squares_with_the_training_classes(tmp_path):
    data = load_image_folders(_image_folder(tmp_path / "flowers"), side=24)
    assert data.classes == sorted(COLOURS) and data.skipped == []
    for images, labels in data.splits.values():
        assert images.shape == (12, 3, 24, 24) and images.dtype == torch.uint8
        assert sorted(labels.tolist()) == [0] * 4 + [1] * 4 + [2] * 4
    blue = (
        data.splits["test"][0][data.splits["test"][1] == data.classes.index("blue")]
        .float()
        .mean(dim=(0, 2, 3))
    )
    assert blue[2] > 150 and blue[0] < 80  # the images are the files' pixels, channels in RGB order
    assert data.describe().endswith(
        "3 classes (blue, green, red); images: train 12 (4 per class), "
        "valid 12 (4 per class), test 12 (4 per class)"
    )


def test_bad_image_folder_trees_are_one_line_each_and_nothing_is_written(tmp_path, capsys):
    def attempt(root):
        out = tmp_path / "out"
        status, _, err = _task(
            capsys, "imagefolder", "--images", str(root), "--out", str(out), "--epochs", "1"
        )
        assert not out.exists()  # every check comes before the first file
        return status, err

    root = _image_folder(tmp_path / "missing-split", per_class=1)
    shutil.rmtree(root / "val")
    _one_line_error(*attempt(root), "no val/ or valid/ or validation/ folder")

    root = _image_folder(tmp_path / "empty-class", per_class=1)
    (root / "test" / "purple").mkdir()
    (root / "train" / "purple").mkdir()
    (root / "val" / "purple").mkdir()
    (root / "train" / "purple" / "a.jpg").write_bytes((root / "train" / "red" / "0.jpg").read_bytes())
    (root / "val" / "purple" / "a.jpg").write_bytes((root / "train" / "red" / "0.jpg").read_bytes())
    _one_line_error(*attempt(root), "test: empty class folder purple/")

    root = _image_folder(tmp_path / "mismatch", per_class=1)
    (root / "test" / "green").rename(root / "test" / "yellow")
    _one_line_error(*attempt(root), "classes differ from the training split's (missing green; extra yellow)")

    root = tmp_path / "no-classes"
    for split in ("train", "val", "test"):
        (root / split).mkdir(parents=True)
    _one_line_error(*attempt(root), "no class folders")

    _one_line_error(*attempt(tmp_path / "nowhere"), "no such folder")


def test_an_unreadable_image_is_skipped_with_one_line_naming_it_and_the_rest_is_read(tmp_path, capsys):
    root = _image_folder(tmp_path / "flowers", per_class=2)
    (root / "train" / "red" / "broken.jpg").write_bytes(b"not a jpeg")
    whole = (root / "val" / "blue" / "0.jpg").read_bytes()
    (root / "val" / "blue" / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    data = load_image_folders(root, side=24)
    assert data.sizes() == {"train": 6, "valid": 6, "test": 6}
    assert [Path(p).name for p in data.skipped] == ["broken.jpg", "truncated.jpg"]
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and "broken.jpg: not a readable image" in lines[0] and "truncated" in lines[1]
    for path in (root / "train" / "red").glob("[0-9].jpg"):  # a class of unreadable files only
        path.write_bytes(b"garbage")
    with pytest.raises(UserError, match="no readable image in class folder red/"):
        load_image_folders(root, side=24)


def test_imagefolder_task_says_what_it_found_trains_and_saves_a_loadable_state_dict(tmp_path, capsys):
    root, out = _image_folder(tmp_path / "flowers"), tmp_path / "out"
    status, stdout, err = _task(
        capsys, "imagefolder", "--images", str(root), "--out", str(out), "--epochs", "2"
    )
    assert status == 0, err
    assert "3 classes (blue, green, red); images: train 12 (4 per class), valid 12" in stdout.splitlines()[0]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["classes"] == sorted(COLOURS) and metrics["splits"] == {
        "train": 12,
        "valid": 12,
        "test": 12,
    }
    assert len(metrics["history"]["train_loss"]) == 2 and 0 <= metrics["test_accuracy"] <= 1
    assert 40 <= metrics["stored_side"] == metrics["image_side"] < 64  # images of 40-90 pixels: not blown up
    model = load_state(out / "model.pt", PhotoConvNet(3))
    assert model.classifier[-1].out_features == 3 and (out / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_imagefolder_keeps_small_images_at_their_own_size(tmp_path, capsys):
    root, out = _image_folder(tmp_path / "tiny", per_class=2, side=32), tmp_path / "out"
    status, _, err = _task(capsys, "imagefolder", "--images", str(root), "--out", str(out), "--epochs", "1")
    assert status == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["stored_side"] == 32 and metrics["image_side"] == 32


# -- CIFAR-10 -----------------------------------------------------------------------------------------------


def test_the_one_cycle_schedule_rises_to_its_peak_and_falls_to_zero():
    lrs = [recipe.learning_rate(step, 100, peak=0.4, warmup=0.2) for step in range(101)]
    assert lrs[0] == 0 and lrs[20] == pytest.approx(0.4) and lrs[100] == 0 and max(lrs) == pytest.approx(0.4)
    assert lrs[10] == pytest.approx(0.2) and lrs[60] == pytest.approx(0.2)
    assert all(a <= b for a, b in zip(lrs[:20], lrs[1:21])) and all(
        a >= b for a, b in zip(lrs[20:], lrs[21:])
    )


def test_each_augmented_image_is_a_crop_of_the_reflect_padded_image_or_its_mirror():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (64, 3, 8, 8), dtype=np.uint8)
    out = recipe.random_crops_and_flips(images, rng, pad=2)
    assert out.shape == images.shape and out.dtype == np.uint8
    flipped = 0
    for image, crop in zip(images, out):
        padded = np.pad(image, ((0, 0), (2, 2), (2, 2)), mode="reflect")
        crops = [padded[:, y : y + 8, x : x + 8] for y in range(5) for x in range(5)]
        plain = any(np.array_equal(crop, c) for c in crops)
        mirrored = any(np.array_equal(crop, c[:, :, ::-1]) for c in crops)
        assert plain or mirrored
        flipped += mirrored and not plain
    assert 16 < flipped < 48
    x = recipe.normalize(np.full((1, 3, 2, 2), 255, np.uint8))
    assert x.dtype == np.float32 and np.allclose(x[0, :, 0, 0], (1 - recipe.MEAN) / recipe.STD)


def test_cifarnet_has_only_engine_friendly_layers_and_the_stated_size():
    model = CifarNet()
    kinds = {type(m).__name__ for m in model.modules()} - {"CifarNet"}
    assert kinds == {"Conv2d", "MaxPool2d", "BatchNorm2d", "ReLU", "AdaptiveAvgPool2d", "Flatten", "Linear"}
    assert all(
        m.kernel_size == (3, 3) and m.padding == (1, 1) and m.groups == 1
        for m in model.modules()
        if isinstance(m, torch.nn.Conv2d)
    )
    assert sum(p.numel() for p in model.parameters()) == 647_386
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 10)


def _cifar_pickles(root, per_batch=4, labels=None):
    """The CIFAR-10 python format: five training batches, a test batch and batches.meta, as pickles."""
    folder = root / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]:
        batch = {
            "data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            "labels": (labels or rng.integers(0, 10, per_batch).tolist()),
        }
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": CIFAR_CLASSES}))
    return root


class _Planted:
    """Unpickling this calls Path.touch: what a malicious batch file would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (Path(self.marker),)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_the_restricted_unpickler_reads_arrays_at_every_protocol(protocol):
    batch = {"data": np.arange(6, dtype=np.uint8).reshape(2, 3), "labels": [1, 2], b"batch_label": b"x"}
    loaded = BatchUnpickler(io.BytesIO(pickle.dumps(batch, protocol=protocol)), encoding="latin1").load()
    assert np.array_equal(loaded["data"], batch["data"]) and loaded["labels"] == [1, 2]


def test_a_malicious_cifar_pickle_never_runs_checksums_or_not(tmp_path, capsys):
    _cifar_pickles(tmp_path)
    marker = tmp_path / "pwned"
    batch = tmp_path / "cifar10" / "cifar-10-batches-py" / "data_batch_3"
    batch.write_bytes(pickle.dumps({"data": _Planted(marker), "labels": [0]}))
    with pytest.raises(pickle.UnpicklingError):  # the planted call is refused before it is looked up
        BatchUnpickler(io.BytesIO(batch.read_bytes())).load()
    for extra in ([], ["--skip-checksums"]):
        status, _, err = _task(
            capsys,
            "cnn-cifar10",
            "--data-dir",
            str(tmp_path),
            "--out",
            str(tmp_path / "out"),
            "--epochs",
            "1",
            *extra,
        )
        assert status == 2 and "Traceback" not in err and not marker.exists()
    _one_line_error(status, err, "data_batch_3: not a CIFAR-10 python batch", "pathlib")
    assert not (tmp_path / "out").exists()


def test_cifar_batches_are_checked_against_the_official_checksums(tmp_path, capsys):
    root = _cifar_pickles(tmp_path)
    _one_line_error(
        *_task(capsys, "cnn-cifar10", "--data-dir", str(root), "--out", str(tmp_path / "out"))[::2],
        "MD5 mismatch",
        "--skip-checksums",
    )
    status, _, err = _task(capsys, "cnn-cifar10", "--data-dir", str(tmp_path / "nothing"), "--out", "x")
    _one_line_error(status, err, "cannot be downloaded", "ImageFolder tree")


def test_cifar_batches_hold_out_the_last_tenth_of_each_class(tmp_path):
    labels = [k % 10 for k in range(20)]
    root = _cifar_pickles(tmp_path, per_batch=20, labels=labels)
    data = read_batches(root / "cifar10" / "cifar-10-batches-py", verify=False)
    assert data.classes == CIFAR_CLASSES and data.sizes() == {"train": 90, "valid": 10, "test": 20}
    assert data.splits["valid"][1].tolist() == list(range(10))  # one per class: each class's last
    assert data.splits["train"][0].shape == (90, 3, 32, 32) and data.splits["train"][0].dtype == torch.uint8


def test_training_is_reproducible_with_the_seed(tmp_path):
    data = load_image_folders(_image_folder(tmp_path / "c", per_class=3, side=32), 32)
    states = []
    for _ in range(2):
        torch.manual_seed(0)
        model = CifarNet(3).to(memory_format=torch.channels_last)
        train_cifar(model, data, epochs=2, device=torch.device("cpu"), precision="fp32", seed=3, batch=4)
        states.append(model.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_cnn_cifar10_trains_on_an_image_folder_tree_and_writes_every_figure(tmp_path, capsys):
    _image_folder(tmp_path / "cifar10", per_class=2, classes=CIFAR_CLASSES, side=32)
    out = tmp_path / "out"
    status, stdout, err = _task(
        capsys, "cnn-cifar10", "--data-dir", str(tmp_path), "--out", str(out), "--epochs", "1"
    )
    assert status == 0, err
    assert stdout.startswith("data (ImageFolder tree): ") and "| truck |" in stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["splits"] == {"train": 20, "valid": 20, "test": 20} and metrics["parameters"] == 647_386
    assert set(metrics["per_class_test_accuracy"]) == set(CIFAR_CLASSES)
    assert np.array(metrics["confusion"]).sum() == 20 and metrics["recipe"]["epochs"] == 1
    for figure in ("curves.png", "confusion.png", "predictions.png"):
        assert (out / figure).read_bytes()[:4] == b"\x89PNG", figure
    assert load_state(out / "model.pt", CifarNet())


def test_cnn_cifar10_trains_on_the_python_batches(tmp_path, capsys):
    root, out = _cifar_pickles(tmp_path, per_batch=10), tmp_path / "out"
    status, stdout, err = _task(
        capsys, "cnn-cifar10", "--data-dir", str(root), "--out", str(out), "--epochs", "1", "--skip-checksums"
    )
    assert status == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data_format"] == "batches" and sum(metrics["splits"].values()) == 60
    assert metrics["classes"][9] == "truck" and stdout.startswith("data (python batches): ")


def test_the_shared_cifar10_tree_lists_completely_and_trains_on_a_subset(shared_data, tmp_path, capsys):
    tree = shared_data / "cifar10"
    if not (tree / "train").is_dir():
        pytest.skip(f"needs the CIFAR-10 ImageFolder tree in {tree}")
    train = list_split(tree / "train")
    assert train.classes == CIFAR_CLASSES and len(train.samples) == 45_000
    assert len(list_split(tree / "val", CIFAR_CLASSES).samples) == 5_000
    assert len(list_split(tree / "test", CIFAR_CLASSES).samples) == 10_000
    for split in ("train", "val", "test"):  # a few of the real files, in the same layout
        for name in CIFAR_CLASSES:
            (tmp_path / "cifar10" / split / name).mkdir(parents=True)
            for path in sorted((tree / split / name).iterdir())[:3]:
                (tmp_path / "cifar10" / split / name / path.name).symlink_to(path)
    out = tmp_path / "out"
    status, stdout, err = _task(
        capsys, "cnn-cifar10", "--data-dir", str(tmp_path), "--out", str(out), "--epochs", "1"
    )
    assert status == 0, err
    assert "train 30 (3 per class), valid 30 (3 per class), test 30 (3 per class)" in stdout
    assert 0 <= json.loads((out / "metrics.json").read_text())["test_accuracy"] <= 1


# -- fine-tuning --------------------------------------------------------------------------------------------

needs_efficientnet = pytest.mark.skipif(
    efficientnet_packages() is None, reason="needs the optional packages: pip install -e '.[pretrained]'"
)


def test_replacing_the_head_and_freezing_leaves_only_the_new_layer_to_train():
    model = freeze_features(replace_head(torchvision.models.squeezenet1_1(weights=None), 17))
    logits = model(torch.rand(2, 3, 64, 64))
    assert logits.shape == (2, 17)
    logits.sum().backward()
    trained = {name for name, p in model.named_parameters() if p.grad is not None}
    assert trained == {"classifier.1.weight", "classifier.1.bias"}
    assert all(not p.requires_grad for p in model.features.parameters())


def test_squeezenet_keeps_its_weights_path_and_its_features_frozen(tmp_path, capsys):
    torch.manual_seed(0)
    imagenet_like = torchvision.models.squeezenet1_1(weights=None)  # stands in for the ImageNet weights
    torch.save(imagenet_like.state_dict(), tmp_path / "squeezenet.pth")
    root, out = _image_folder(tmp_path / "flowers", per_class=1), tmp_path / "out"
    status, stdout, err = _task(
        capsys,
        "finetune",
        "--backbone",
        "squeezenet1_1",
        "--images",
        str(root),
        "--weights",
        str(tmp_path / "squeezenet.pth"),
        "--out",
        str(out),
        "--epochs",
        "1",
        "--scratch-epochs",
        "1",
    )
    assert status == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert [row["trained_parameters"] for row in metrics["table"][:1]] == [512 * 3 + 3]
    assert len(metrics["table"]) == 2 and metrics["skipped"] is None
    tuned = load_state(out / "finetuned.pt", replace_head(torchvision.models.squeezenet1_1(weights=None), 3))
    for before, after in zip(
        imagenet_like.features.state_dict().values(), tuned.features.state_dict().values()
    ):
        assert torch.equal(before, after)
    assert "| SqueezeNet 1.1" in stdout and "| 3 conv + 2 fc" in stdout


def test_squeezenet_without_weights_or_with_other_weights_is_one_line(tmp_path, capsys, monkeypatch):
    root, out = _image_folder(tmp_path / "flowers", per_class=1), tmp_path / "out"
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-cache"))
    argv = ["finetune", "--backbone", "squeezenet1_1", "--images", str(root), "--out", str(out)]
    status, _, err = _task(capsys, *argv, "--scratch-epochs", "1")
    assert status == 0 and "no SqueezeNet 1.1 weights" in err and "squeezenet1_1-b8a52dc0.pth" in err
    assert [row["model"] for row in json.loads((out / "metrics.json").read_text())["table"]] == [
        "3 conv + 2 fc, from scratch"
    ]
    torch.save({"weight": torch.zeros(3)}, tmp_path / "other.pth")
    _one_line_error(
        *_task(capsys, *argv, "--weights", str(tmp_path / "other.pth"))[::2], "not SqueezeNet 1.1 weights"
    )


@needs_efficientnet
def test_efficientnet_finetune_trains_the_head_then_the_last_block_and_tabulates_both(tmp_path, capsys):
    model_class, _ = efficientnet_packages()
    torch.manual_seed(0)
    imagenet_like = model_class.from_name("efficientnet-lite0")  # random weights stand in for ImageNet's
    torch.save(imagenet_like.state_dict(), tmp_path / "lite0.pth")
    root, out = _image_folder(tmp_path / "flowers", per_class=1), tmp_path / "out"
    status, stdout, err = _task(
        capsys,
        "finetune",
        "--images",
        str(root),
        "--weights",
        str(tmp_path / "lite0.pth"),
        "--out",
        str(out),
        "--epochs",
        "1",
        "--unfreeze-epochs",
        "1",
        "--scratch-epochs",
        "1",
    )
    assert status == 0, err
    rows = json.loads((out / "metrics.json").read_text())["table"]
    assert [row["trained_parameters"] for row in rows[:2]] == [1280 * 3 + 3, 1_021_443]
    assert [row["parameters"] for row in rows[:2]] == [3_374_851] * 2  # 4.65 M with ImageNet's 1000 classes
    tuned = load_state(out / "finetuned.pt", model_class.from_name("efficientnet-lite0", num_classes=3))
    before, after = imagenet_like.state_dict(), tuned.state_dict()
    changed = {
        k.split(".")[0] + ("." + k.split(".")[1] if k.startswith("_blocks") else "")
        for k in before
        if k in after and not torch.equal(before[k], after[k])
    }
    assert changed == {"_blocks.15", "_conv_head", "_bn1", "_fc"}  # the last block, the top and the new head
    assert all(
        torch.equal(before[k], after[k]) for k in before if "running" in k
    )  # ImageNet's statistics stay
    assert "| EfficientNet-Lite0 (ImageNet), then its last block unfrozen | 3,374,851 | 1,021,443 |" in stdout


def test_efficientnet_without_its_packages_says_what_to_install_and_runs_the_scratch_half(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(__import__("sys").modules, "efficientnet_lite_pytorch", None)  # as if not installed
    root, out = _image_folder(tmp_path / "flowers", per_class=1), tmp_path / "out"
    status, stdout, err = _task(
        capsys, "finetune", "--images", str(root), "--out", str(out), "--scratch-epochs", "1"
    )
    assert status == 0, err
    assert "pip install -e '.[pretrained]'" in err and "ran the from-scratch half only" in err
    assert [row["model"] for row in json.loads((out / "metrics.json").read_text())["table"]] == [
        "3 conv + 2 fc, from scratch"
    ]


@needs_efficientnet
def test_the_packaged_imagenet_weights_load_and_fold_exactly():
    model_class, weights = efficientnet_packages()
    model = pretrained_efficientnet(model_class, weights)
    assert sum(p.numel() for p in model.parameters()) == 4_652_008
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        unfolded = model._swish(model._bn0(model._conv_stem(x)))
        for block in model._blocks[:-1]:
            unfolded = block(unfolded)
        torch.testing.assert_close(folded_trunk(model)(x), unfolded, rtol=1e-4, atol=1e-4)
    top = Top(model).train()
    assert top.model._dropout.training and not top.model._bn1.training  # dropout on, statistics kept
