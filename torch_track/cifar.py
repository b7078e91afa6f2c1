"""CIFAR-10, read safely, and the CNN `cnn-cifar10` trains on it.

CIFAR-10 is read from the python version of the dataset (`cifar-10-batches-py/`, under
DATA_DIR/cifar10, DATA_DIR/CIFAR10 or DATA_DIR itself), whose batches are pickles. A pickle can
name any function to call while it is read, so these are never read with a plain `pickle.load`
(torchvision's reader does that): `read_pickle` builds only dicts, lists, strings, numbers and
numpy arrays, and refuses a file that names anything else, before calling it. By default each
file is first compared with the published MD5 sums as well; `--skip-checksums` reads files in the
same format that are not the official ones (a subset, or the small folder the tests write), still
as data only. The data is not available here and cannot be downloaded: the task says so in one line.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

from tinygrad_hw.app.cli import UserError

from .cnn import PhotoConvNet
from .common import adamw, evaluate, held_out_loaders, seed_everything, train

FOLDER = torchvision.datasets.CIFAR10.base_folder
MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


class CIFAR10Arrays(Dataset):
    """CIFAR-10 images (N x 32 x 32 x 3 uint8) and labels as a Dataset that returns
    `(transform(PIL image), label)`, as torchvision's CIFAR10 does."""

    def __init__(self, images, labels, classes, transform=None):
        self.data, self.targets, self.classes, self.transform = images, labels, classes, transform

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        image = Image.fromarray(self.data[index])
        return (self.transform(image) if self.transform else image), int(self.targets[index])


class _DataOnly(pickle.Unpickler):
    """An unpickler that builds only what the CIFAR-10 batches hold: dicts, lists, strings, bytes,
    numbers and numpy arrays. Anything else a pickle names (a function to call, such as a shell
    command in a crafted `__reduce__`) is refused before it is looked up, so it never runs."""

    ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),  # pickled by numpy 1 (the official files)
        ("numpy._core.multiarray", "_reconstruct"),  # and by numpy 2
        ("numpy.core.numeric", "_frombuffer"),  # protocol 5
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),  # bytes pickled by Python 3 at protocol 2
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"it names {module}.{name}, which a data file has no use for")
        return super().find_class(module, name)


def read_pickle(path: Path) -> dict:
    """A CIFAR-10 batch file's dict, unpickled as data only (`_DataOnly`), or UserError."""
    try:
        with open(path, "rb") as f:
            content = _DataOnly(f, encoding="latin1").load()
    except OSError as error:
        raise UserError(f"{path}: unreadable ({error.strerror or error})") from None
    except Exception as error:  # a refused global, or anything malformed: data that is not CIFAR's
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise UserError(f"{path}: not a CIFAR-10 python batch ({reason}); nothing in it was run") from None
    if not isinstance(content, dict):
        raise UserError(f"{path}: not a CIFAR-10 python batch (it holds a {type(content).__name__})")
    return content


def _batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    content = read_pickle(path)
    data, labels = content.get("data"), content.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise UserError(f"{path}: its 'data' is not N x 3072 bytes (32 x 32 x 3 images)")
    labels = np.asarray(labels if isinstance(labels, list) else [], dtype=object)
    if len(labels) != len(data) or not all(type(k) is int and 0 <= k < 10 for k in labels):
        raise UserError(f"{path}: its 'labels' are not {len(data)} classes from 0 to 9")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels.astype(np.int64)


def _class_names(path: Path) -> list[str]:
    names = read_pickle(path).get("label_names")
    if not (isinstance(names, list) and len(names) == 10 and all(isinstance(n, str) for n in names)):
        raise UserError(f"{path}: its 'label_names' are not the 10 class names")
    return names


def _checked_md5(path: Path, expected: str) -> None:
    with open(path, "rb") as f:
        found = hashlib.md5(f.read()).hexdigest()
    if found != expected:
        raise UserError(
            f"{path}: differs from the official CIFAR-10 (MD5 mismatch); --skip-checksums reads such "
            "files anyway, as data only"
        )


def cifar_root(data_dir) -> Path:
    """The folder holding cifar-10-batches-py/, or one line saying what to provide."""
    if data_dir is not None:
        for root in (Path(data_dir) / "cifar10", Path(data_dir) / "CIFAR10", Path(data_dir)):
            if (root / FOLDER).is_dir():
                return root
    raise UserError(
        f"CIFAR-10 is not here and cannot be downloaded: put the python version ({FOLDER}/ from "
        f"{torchvision.datasets.CIFAR10.url}) in DATA_DIR/cifar10"
    )


def load_cifar10(root: Path, train: bool, transform, verify=True) -> CIFAR10Arrays:
    """The training (five batches) or test set of CIFAR-10's python version under `root`.

    The batches are pickles; they are read as data only (never with a plain `pickle.load`, which
    would run whatever a crafted file asks), and with `verify` first compared with the published
    MD5 sums."""
    official = torchvision.datasets.CIFAR10
    files = official.train_list if train else official.test_list
    needed = [*official.train_list, *official.test_list, [official.meta["filename"], official.meta["md5"]]]
    missing = [name for name, _ in needed if not (root / FOLDER / name).is_file()]
    if missing:
        raise UserError(f"{root / FOLDER}: missing {', '.join(missing)}")
    meta = root / FOLDER / official.meta["filename"]
    if verify:
        for name, md5 in [*files, [meta.name, official.meta["md5"]]]:
            _checked_md5(root / FOLDER / name, md5)
    batches = [_batch(root / FOLDER / name) for name, _ in files]
    images = np.concatenate([images for images, _ in batches])
    labels = np.concatenate([labels for _, labels in batches])
    return CIFAR10Arrays(images, labels, _class_names(meta), transform)


def transforms():
    to_input = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(MEAN, STD)]
    augment = [v2.RandomCrop(32, padding=4), v2.RandomHorizontalFlip()]
    return v2.Compose(augment + to_input), v2.Compose(to_input)


def train_cifar(root: Path, *, epochs, device, seed, verify=True):
    """Train the CNN on CIFAR-10's training set less a held-out tenth (5,000 images at most) with
    AdamW and a cosine schedule; the model, its history, and its run's details with the test results."""
    augmented, plain = transforms()
    full = load_cifar10(root, True, augmented, verify=verify)
    full_plain = load_cifar10(root, True, plain, verify=verify)
    test = load_cifar10(root, False, plain, verify=verify)
    seed_everything(seed)
    loaders = held_out_loaders(full, seed, 128, 512, unaugmented=full_plain)
    model = PhotoConvNet(10, channels=(64, 128, 256)).to(device)
    history = train(
        model, adamw(model.parameters(), weight_decay=5e-4), loaders, epochs, device, "cnn-cifar10"
    )
    test_loss, test_accuracy = evaluate(model, DataLoader(test, batch_size=512), device)
    details = {
        "train_images": len(loaders[0].dataset),
        "test_images": len(test),
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
        "train_seconds": history["seconds"][-1],
        "classes": full.classes,
    }
    return model, history, details
