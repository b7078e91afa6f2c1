"""The CIFAR-10 network of `torch_track cnn-cifar10`, written on the engine, and its training.

The same network (CifarNet: three blocks of a 3 x 3 convolution without bias, 2 x 2 max pooling,
batch norm and ReLU, then a second 3 x 3 convolution, batch norm and ReLU; global average pooling
and one linear layer), the same recipe (torch_track.cifar_recipe: SGD with momentum 0.9 and weight
decay 5e-4, batch 512, a one-cycle learning rate, label smoothing 0.1, random crops with reflected
padding and flips, flip test-time augmentation) and the same data, as plain functions of
parameters and state: the engine's proof at a real scale, set beside PyTorch's run.

Initialisation follows PyTorch's defaults (uniform, bound 1/sqrt(fan_in), for convolutions and the
linear layer; batch norm's scale 1 and shift 0), so that both start from the same distribution.
"""

from __future__ import annotations

import time

import numpy as np

import tinygrad_hw as tg
from tinygrad_hw import nn
from tinygrad_hw.app.cli import UserError, first_line
from torch_track import cifar_recipe as recipe


def _uniform(rng, shape, fan_in, dtype):
    bound = 1 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(dtype)


def init_cifarnet(rng, widths=recipe.WIDTHS, classes=10, channels=3, dtype=np.float32):
    """Parameters and batch-norm state of CifarNet, PyTorch's default initialisation."""
    params, state = {}, {}
    c_in = channels
    for i, c in enumerate(widths):
        params[f"conv{i}a"] = _uniform(rng, (c, c_in, 3, 3), c_in * 9, dtype)
        params[f"bn{i}a"], state[f"bn{i}a"] = nn.batch_norm_init(c, dtype)
        params[f"conv{i}b"] = _uniform(rng, (c, c, 3, 3), c * 9, dtype)
        params[f"bn{i}b"], state[f"bn{i}b"] = nn.batch_norm_init(c, dtype)
        c_in = c
    params["head"] = {
        "W": _uniform(rng, (c_in, classes), c_in, dtype),
        "b": _uniform(rng, (classes,), c_in, dtype),
    }
    return params, state


def cifarnet(params, state, x, training):
    """Logits of (N, 3, 32, 32) images, and the new batch-norm state."""
    new_state = {}
    h = x
    blocks = sum(1 for name in params if name.startswith("conv") and name.endswith("a"))
    for i in range(blocks):
        h = tg.max_pool2d(tg.conv2d(h, params[f"conv{i}a"], padding=1), 2)
        h, new_state[f"bn{i}a"] = nn.batch_norm(params[f"bn{i}a"], state[f"bn{i}a"], h, training)
        h = tg.conv2d(tg.relu(h), params[f"conv{i}b"], padding=1)
        h, new_state[f"bn{i}b"] = nn.batch_norm(params[f"bn{i}b"], state[f"bn{i}b"], h, training)
        h = tg.relu(h)
    return nn.dense(params["head"], tg.global_avg_pool(h), activation=None), new_state


def smoothed_targets(labels, classes=10, smoothing=recipe.LABEL_SMOOTHING, dtype=np.float32):
    """One-hot rows mixed with the uniform distribution: (1 - s) onehot + s / classes."""
    rows = np.full((len(labels), classes), smoothing / classes, dtype)
    rows[np.arange(len(labels)), labels] += 1 - smoothing
    return rows


def loss(params, state, x, targets):
    logits, new_state = cifarnet(params, state, x, training=True)
    return tg.softmax_cross_entropy(logits, targets), (logits, new_state)


def predict(params, state, images, flip=False, batch=500):
    """Logits of uint8 images (evaluation mode); with `flip`, the mean with the mirror images'."""
    outputs = []
    for start in range(0, len(images), batch):
        x = recipe.normalize(images[start : start + batch])
        logits = cifarnet(params, state, x, training=False)[0]
        if flip:
            logits = (logits + cifarnet(params, state, x[..., ::-1], training=False)[0]) / 2
        outputs.append(logits)
    return np.concatenate(outputs) if outputs else np.zeros((0, 10), np.float32)


def scores(logits, labels):
    """Mean cross-entropy and accuracy."""
    return float(tg.softmax_cross_entropy(logits, labels)), nn.accuracy(logits, labels)


def train(
    params,
    state,
    train_images,
    train_labels,
    valid,
    *,
    epochs,
    seed,
    batch=recipe.BATCH,
    on_step=None,
    on_epoch=None,
):
    """Train with the recipe; returns params, state and the history per epoch (as the torch run's:
    train loss and accuracy on the augmented batches, valid loss and accuracy, learning rate,
    seconds). `valid` is (uint8 images, labels); `on_step(count)` (the images of a step) and
    `on_epoch(record)` report."""
    rng = np.random.default_rng(seed)
    step_fn = tg.value_and_grad(loss, has_aux=True)
    opt_state = nn.sgd_momentum_init(params)
    steps_per_epoch = max(1, len(train_labels) // batch)
    total_steps, step = epochs * steps_per_epoch, 0
    history = recipe.new_history()
    start = time.perf_counter()
    for _ in range(epochs):
        total, correct, seen = 0.0, 0, 0
        for rows in recipe.epoch_batches(len(train_labels), batch, rng):
            lr = recipe.learning_rate(step, total_steps)
            x = recipe.normalize(recipe.random_crops_and_flips(train_images[rows], rng))
            y = train_labels[rows]
            (value, (logits, state)), grads = step_fn(params, state, x, smoothed_targets(y))
            if not np.isfinite(value):
                raise UserError(f"training diverged (the loss became {value})")
            params, opt_state = nn.sgd_momentum(
                params, grads, opt_state, lr, recipe.MOMENTUM, recipe.WEIGHT_DECAY
            )
            step += 1
            total += float(value) * len(rows)
            correct += int(np.sum(logits.argmax(1) == y))
            seen += len(rows)
            if on_step is not None:
                on_step(len(rows))
        recipe.record_epoch(
            history,
            loss_sum=total,
            correct=correct,
            seen=seen,
            valid=scores(predict(params, state, valid[0]), valid[1]),
            learning_rate=lr,
            seconds=time.perf_counter() - start,
        )
        if on_epoch is not None:
            on_epoch({key: values[-1] for key, values in history.items()})
    return params, state, history


# -- the data: the ImageFolder tree, decoded once into uint8 (no PyTorch needed) ---------------

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")
SPLITS = {"train": ("train",), "valid": ("val", "valid"), "test": ("test",)}


def load_cifar_tree(root, limit=None, on_image=None):
    """{split: (uint8 images N x 3 x 32 x 32, labels)} and the class names, from `root`'s train/,
    val/ and test/ folders: the classes are the sorted subfolders (torchvision's ImageFolder rule),
    each image decoded once by Pillow as RGB. `limit` keeps the first images of each class (a
    smoke test). Errors are one line (UserError), before anything is decoded."""
    from PIL import Image

    folders = {}
    for split, names in SPLITS.items():
        found = [root / name for name in names if (root / name).is_dir()]
        if not found:
            raise UserError(f"{root}: no {' or '.join(n + '/' for n in names)} folder (an ImageFolder tree)")
        folders[split] = found[0]
    classes = sorted(p.name for p in folders["train"].iterdir() if p.is_dir())
    if not classes:
        raise UserError(f"{folders['train']}: no class folders (an ImageFolder tree has one per class)")
    data = {}
    for split, folder in folders.items():
        split_classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
        if split_classes != classes:
            raise UserError(f"{folder}: its classes differ from train/'s ({', '.join(classes)})")
        images, labels = [], []
        for label, name in enumerate(classes):
            files = sorted(f for f in (folder / name).iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise UserError(f"{folder / name}: no images in this class folder")
            for path in files[:limit]:
                try:
                    with Image.open(path) as image:
                        pixels = np.asarray(image.convert("RGB"))
                except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
                    raise UserError(f"{path}: not a readable image ({first_line(error)})") from None
                if pixels.shape != (32, 32, 3):
                    raise UserError(
                        f"{path}: a {pixels.shape[1]} x {pixels.shape[0]} image; CIFAR-10's are 32 x 32"
                    )
                images.append(pixels)
                labels.append(label)
                if on_image is not None:
                    on_image()
        data[split] = (np.stack(images).transpose(0, 3, 1, 2).copy(), np.array(labels))
    return data, classes
