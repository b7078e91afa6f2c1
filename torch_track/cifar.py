"""CIFAR-10 in either of its forms, and CifarNet trained on it with the recipe of `cnn-cifar10`.

The data is found as DATA_DIR/cifar10 (or DATA_DIR/CIFAR10), in either form:
- an ImageFolder tree, `train/`, `val/` and `test/` with one folder per class (the shared data's
  JPEGs), read by torchvision's ImageFolder and decoded once into uint8 (torch_track.image_folders);
- the official python batches, `cifar-10-batches-py/`, checked against the published MD5 sums
  (`verify=False`, the command's `--skip-checksums`, reads other files in that format). They are
  pickles, so they are read by a restricted unpickler that builds only dicts, lists, strings,
  numbers and numpy arrays: a file that asks for anything else is refused, checksums or not, and no
  code of it runs. The last tenth of each class of the training batches is held out for validation
  (the ImageFolder tree's `val/` is the same split: the last 500 of each class).

The network, schedule and augmentation are in torch_track.cifar_recipe (numpy only, so the engine
can share them). On a CPU with native bfloat16 (AVX512-BF16 or AMX) the convolutions run under
bfloat16 autocast, about twice as fast as float32 there; precision "fp32" turns that off.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import pickle
import time
from pathlib import Path

import numpy as np
import torch
import torchvision
from tqdm import tqdm

from ocr.training import confusion_matrix
from tinygrad_hw.app.cli import UserError, first_line
from tinygrad_hw.app.files import save_figure

from . import cifar_recipe as recipe
from .cnn import CifarNet
from .common import seed_everything
from .figures import confusion, grid_indices, prediction_grid
from .image_folders import ImageFolders, load_image_folders

FOLDER = "cifar-10-batches-py"
OFFICIAL = torchvision.datasets.CIFAR10  # only for its file names and MD5 sums: its reader unpickles freely
TRAIN_FILES = [name for name, _ in OFFICIAL.train_list]
TEST_FILES = [name for name, _ in OFFICIAL.test_list]
META_FILE = OFFICIAL.meta["filename"]
MD5 = {**dict(OFFICIAL.train_list), **dict(OFFICIAL.test_list), META_FILE: OFFICIAL.meta["md5"]}


def find_cifar(data_dir) -> tuple[str, Path]:
    """("batches", the cifar-10-batches-py folder) or ("folders", the ImageFolder root)."""
    if data_dir is not None:
        data_dir = Path(data_dir)
        for root in (data_dir / "cifar10", data_dir / "CIFAR10", data_dir):
            if (root / FOLDER).is_dir():
                return "batches", root / FOLDER
        for root in (data_dir / "cifar10", data_dir / "CIFAR10"):
            if root.is_dir():
                return "folders", root
    raise UserError(
        "CIFAR-10 is not here and cannot be downloaded: put an ImageFolder tree (train/, val/, test/) "
        f"or the python version ({FOLDER}/ from {OFFICIAL.url}) in DATA_DIR/cifar10"
    )


# -- the official python batches, unpickled safely -----------------------------------------------------------


def _numpy_builders():
    """What numpy's own pickles of arrays and dtypes call, found from numpy itself (its module moved
    between numpy 1 and 2): {(module, name): function}."""
    reconstruct = np.array(0).__reduce__()[0]
    frombuffer = np.arange(2).__reduce_ex__(5)[0]
    builders = {}
    for function in (reconstruct, frombuffer):
        for module in (function.__module__, function.__module__.replace("numpy._core", "numpy.core")):
            builders[(module, function.__name__)] = function
    return builders


class BatchUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, tuples, strings, bytes, numbers and numpy arrays, nothing else: every
    other global a pickle names (a function to call, a class to build) is refused before it is touched."""

    ALLOWED = {**_numpy_builders(), ("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    ALLOWED[("_codecs", "encode")] = codecs.encode  # how Python 3 writes bytes at protocol 2

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return self.ALLOWED[(module, name)]
        raise pickle.UnpicklingError(f"it asks for {module}.{name}, which a CIFAR-10 batch never needs")


def read_pickle(path: Path):
    """A batch file's content, built as data only (BatchUnpickler), or one line saying why not."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise UserError(f"{path}: unreadable ({error.strerror or error})") from None
    try:
        return BatchUnpickler(io.BytesIO(content), encoding="latin1").load()
    except Exception as error:  # a refused name, or bytes that are no pickle
        reason = first_line(error)
        raise UserError(f"{path}: not a CIFAR-10 python batch ({reason}); nothing in it was run") from None


def _field(batch, key, path):
    if isinstance(batch, dict):
        for k in (key, key.encode()):
            if k in batch:
                return batch[k]
    raise UserError(f"{path}: not a CIFAR-10 python batch (no '{key}' in it)")


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images N x 3 x 32 x 32, int64 labels) of one batch file."""
    batch = read_pickle(path)
    data, labels = _field(batch, "data", path), _field(batch, "labels", path)
    if not (
        isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2 and data.shape[1] == 3072
    ):
        raise UserError(f"{path}: not a CIFAR-10 python batch ('data' is not N x 3072 uint8)")
    labels = np.asarray(labels)
    if labels.shape != (len(data),) or not np.issubdtype(labels.dtype, np.integer):
        raise UserError(f"{path}: not a CIFAR-10 python batch ('labels' is not one integer per row)")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def hold_out_last_tenth(labels: np.ndarray) -> np.ndarray:
    """A mask of the last tenth (at least one, when a class has two) of each class, in file order."""
    held = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        count = max(1, round(len(rows) / 10)) if len(rows) >= 2 else 0
        held[rows[len(rows) - count :]] = True
    return held


def read_batches(folder: Path, verify: bool = True) -> ImageFolders:
    """The train / valid / test splits of the python batches in `folder` (valid: the last tenth of
    each class of the training batches), checked against the official MD5 sums when `verify`."""
    missing = [name for name in [*TRAIN_FILES, *TEST_FILES, META_FILE] if not (folder / name).is_file()]
    if missing:
        raise UserError(f"{folder}: missing {', '.join(missing)}")
    if verify:
        differ = [
            name for name, md5 in MD5.items() if hashlib.md5((folder / name).read_bytes()).hexdigest() != md5
        ]
        if differ:
            raise UserError(
                f"{folder}: the files differ from the official CIFAR-10 (MD5 mismatch: "
                f"{', '.join(differ)}); --skip-checksums reads them anyway"
            )
    names = _field(read_pickle(folder / META_FILE), "label_names", folder / META_FILE)
    classes = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
    train = [read_batch(folder / name) for name in TRAIN_FILES]
    images, labels = np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])
    test_images, test_labels = read_batch(folder / TEST_FILES[0])
    if max(labels.max(), test_labels.max()) >= len(classes) or min(labels.min(), test_labels.min()) < 0:
        raise UserError(f"{folder}: labels outside the {len(classes)} classes of {META_FILE}")
    held = hold_out_last_tenth(labels)

    def split(x, y):
        return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)

    splits = {
        "train": split(images[~held], labels[~held]),
        "valid": split(images[held], labels[held]),
        "test": split(test_images, test_labels),
    }
    return ImageFolders(folder, splits, classes, [])


def load_cifar(data_dir, verify=True) -> tuple[str, ImageFolders]:
    """("batches" or "folders", the splits of 32 x 32 uint8 images) from DATA_DIR/cifar10."""
    kind, where = find_cifar(data_dir)
    data = read_batches(where, verify) if kind == "batches" else load_image_folders(where, 32)
    if data.splits["train"][0].shape[1:] != (3, 32, 32):
        raise UserError(f"{where}: CIFAR-10 images are 32 x 32 RGB")
    return kind, data


# -- training ------------------------------------------------------------------------------------------


def pick_precision(requested: str, device: torch.device) -> str:
    """bf16 where the hardware computes it natively (CUDA with bf16; a CPU with AVX512-BF16 or AMX)."""
    if requested != "auto":
        return requested
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    native = [
        getattr(torch.cpu, f, lambda: False)()
        for f in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    ]
    return "bf16" if any(native) else "fp32"


def _inputs(images_uint8: np.ndarray, device) -> torch.Tensor:
    x = torch.from_numpy(recipe.normalize(images_uint8)).to(device)
    return x.contiguous(memory_format=torch.channels_last)


def predict(model, images: torch.Tensor, device, precision, flip=False, batch=1000) -> torch.Tensor:
    """float32 logits of uint8 images; with `flip`, the mean of the image's and its mirror's."""
    model.eval()
    outputs = []
    with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
        for start in range(0, len(images), batch):
            x = _inputs(images[start : start + batch].numpy(), device)
            logits = model(x).float()
            if flip:
                logits = (logits + model(x.flip(3)).float()) / 2
            outputs.append(logits.cpu())
    return torch.cat(outputs) if outputs else torch.zeros(0, 10)


def scores(logits: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy."""
    if len(labels) == 0:
        return float("nan"), float("nan")
    loss = float(torch.nn.functional.cross_entropy(logits, labels))
    return loss, float((logits.argmax(1) == labels).float().mean())


def train_cifar(
    model,
    data: ImageFolders,
    *,
    epochs,
    device,
    precision,
    seed,
    batch=recipe.BATCH,
):
    """Train with the recipe; the history has, per epoch, train loss (label-smoothed, augmented images)
    and accuracy, valid loss and accuracy (no flip averaging), the learning rate and the seconds."""
    rng = np.random.default_rng(seed)
    images, labels = data.splits["train"]
    pixels = images.numpy()
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.0, momentum=recipe.MOMENTUM, weight_decay=recipe.WEIGHT_DECAY
    )
    steps_per_epoch = max(1, len(labels) // batch)
    total_steps, step = epochs * steps_per_epoch, 0
    history = recipe.new_history()
    start = time.perf_counter()
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
    images_per_epoch = steps_per_epoch * min(batch, len(labels))
    with tqdm(
        total=epochs * images_per_epoch,
        desc="cnn-cifar10",
        unit="image",
        unit_scale=True,
        leave=False,
        disable=None,
    ) as bar:
        for _ in range(epochs):
            model.train()
            total, correct, seen = 0.0, 0, 0
            for rows in recipe.epoch_batches(len(labels), batch, rng):
                lr = recipe.learning_rate(step, total_steps)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                x = _inputs(recipe.random_crops_and_flips(pixels[rows], rng), device)
                y = labels[rows].to(device)
                with autocast:
                    logits = model(x)
                loss = torch.nn.functional.cross_entropy(
                    logits.float(), y, label_smoothing=recipe.LABEL_SMOOTHING
                )
                if not torch.isfinite(loss):
                    raise UserError(f"training diverged (the loss became {loss.item()})")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                step += 1
                total += loss.item() * len(rows)
                correct += int((logits.argmax(1) == y).sum())
                seen += len(rows)
                bar.update(len(rows))
            valid_images, valid_labels = data.splits["valid"]
            valid = scores(predict(model, valid_images, device, precision), valid_labels)
            recipe.record_epoch(
                history,
                loss_sum=total,
                correct=correct,
                seen=seen,
                valid=valid,
                learning_rate=lr,
                seconds=time.perf_counter() - start,
            )
            bar.set_postfix(valid_acc=f"{valid[1]:.3f}")
    return history


# -- testing -------------------------------------------------------------------------------------------


def train_and_test(data: ImageFolders, *, epochs, device, precision, seed):
    """CifarNet trained on `data` with the recipe, then scored on the valid and test splits with and
    without flip averaging: the model, its history, its results (for metrics.json) and its test
    predictions (class indices)."""
    seed_everything(seed)
    model = CifarNet(len(data.classes), recipe.WIDTHS).to(device).to(memory_format=torch.channels_last)
    parameters = sum(p.numel() for p in model.parameters())
    cpu_before = time.process_time()
    history = train_cifar(model, data, epochs=epochs, device=device, precision=precision, seed=seed)
    train_cpu_seconds = time.process_time() - cpu_before
    scored = {}
    for split in ("valid", "test"):
        images, labels = data.splits[split]
        plain = predict(model, images, device, precision)
        flipped = predict(model, images, device, precision, flip=True)
        scored[split] = {"plain": scores(plain, labels), "flip": scores(flipped, labels), "logits": flipped}
    predicted = scored["test"]["logits"].argmax(1).numpy()
    counts = confusion_matrix(data.splits["test"][1].numpy(), np.asarray(predicted), len(data.classes))
    per_class = {name: float(counts[c, c] / max(1, counts[c].sum())) for c, name in enumerate(data.classes)}
    results = {
        "model": recipe.describe()["network"],
        "parameters": parameters,
        "recipe": recipe.describe(epochs),
        "epochs": epochs,
        "train_seconds": history["seconds"][-1],
        "train_cpu_seconds": train_cpu_seconds,
        "valid_accuracy": scored["valid"]["flip"][1],
        "valid_accuracy_no_flip": scored["valid"]["plain"][1],
        "test_accuracy": scored["test"]["flip"][1],
        "test_accuracy_no_flip": scored["test"]["plain"][1],
        "test_loss": scored["test"]["flip"][0],
        "per_class_test_accuracy": per_class,
        "confusion": counts,
    }
    return model, history, results, predicted


def save_test_figures(out: Path, data: ImageFolders, counts, predicted, seed) -> None:
    """confusion.png (the test set's confusion matrix) and predictions.png (a few test images of
    every class, labelled with the prediction; errors in red with the true class)."""
    test_images, test_labels = data.splits["test"]
    save_figure(out / "confusion.png", confusion(counts, data.classes, "CIFAR-10 test set (flip TTA)"))
    per_class = max(1, 40 // len(data.classes))
    shown = grid_indices(test_labels.numpy(), len(data.classes), per_class=per_class, seed=seed)
    grid = prediction_grid(
        test_images[shown].numpy(), test_labels[shown].numpy(), predicted[shown], data.classes, "test images"
    )
    save_figure(out / "predictions.png", grid)
