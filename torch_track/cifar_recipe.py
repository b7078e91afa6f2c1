"""The CIFAR-10 recipe in plain numpy: the schedule, the augmentation and the input scaling.

Nothing here imports torch, so that the same recipe can drive a network written on the engine:
`cnn-cifar10` trains `CifarNet` (torch_track.cnn) from exactly these numbers and functions.

- Network: three blocks, each a 3 x 3 convolution (padding 1, no bias), 2 x 2 max pooling, batch
  norm and ReLU, then a second 3 x 3 convolution, batch norm and ReLU at the pooled size; widths
  48, 96, 192 (32 -> 16 -> 8 -> 4 pixels); global average pooling and one linear layer to 10 classes.
- Training: SGD with momentum 0.9 (not Nesterov) and weight decay 5e-4 on every parameter, batch
  512, label smoothing 0.1; the learning rate rises linearly from 0 to 0.4 over the first 20% of
  the steps and falls linearly to 0 at the last one (a one-cycle schedule), set before every step.
- Augmentation: every training image, every epoch, is padded by 4 pixels (reflecting its border),
  cropped back to 32 x 32 at a uniformly random offset and mirrored left-right with probability 1/2.
- Evaluation: the mean of the logits of each image and of its mirror image (flip test-time
  augmentation).
"""

from __future__ import annotations

import numpy as np

WIDTHS = (48, 96, 192)
EPOCHS = 16
BATCH = 512
PEAK_LR = 0.4
WARMUP = 0.2  # fraction of the steps over which the learning rate rises
MOMENTUM = 0.9
WEIGHT_DECAY = 5e-4
LABEL_SMOOTHING = 0.1
PAD = 4
# per-channel mean and standard deviation of CIFAR-10's training images (RGB, in [0, 1])
MEAN = np.array([0.4914, 0.4822, 0.4465], np.float32)
STD = np.array([0.2470, 0.2435, 0.2616], np.float32)


def learning_rate(step: int, total_steps: int, peak: float = PEAK_LR, warmup: float = WARMUP) -> float:
    """The one-cycle schedule: 0 -> peak linearly over the first `warmup` of the steps, then -> 0."""
    rise = max(1, round(warmup * total_steps))
    if step < rise:
        return peak * step / rise
    return peak * max(0.0, (total_steps - step) / max(1, total_steps - rise))


def epoch_batches(count: int, batch: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One epoch's shuffled index batches. The last partial batch is dropped (batch norm is then
    never fed a handful of images); the next epoch's shuffle gives those images their turn."""
    order = rng.permutation(count)
    full = max(1, count // batch)
    return [order[k * batch : (k + 1) * batch] for k in range(full)]


def random_crops_and_flips(images: np.ndarray, rng: np.random.Generator, pad: int = PAD) -> np.ndarray:
    """uint8 images N x C x H x W, each padded by `pad` (reflected), cropped back to H x W at a random
    offset and mirrored left-right with probability 1/2; a new uint8 array."""
    n, _, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="reflect")
    dy = rng.integers(0, 2 * pad + 1, n)
    dx = rng.integers(0, 2 * pad + 1, n)
    flip = rng.random(n) < 0.5
    columns = dx[:, None] + np.arange(w)
    columns[flip] = columns[flip, ::-1]  # reading the columns backwards mirrors the crop
    rows = dy[:, None] + np.arange(h)
    return padded[
        np.arange(n)[:, None, None, None],
        np.arange(images.shape[1])[None, :, None, None],
        rows[:, None, :, None],
        columns[:, None, None, :],
    ]


def normalize(images: np.ndarray) -> np.ndarray:
    """uint8 N x 3 x H x W -> float32, each channel minus its mean over its standard deviation."""
    return ((images.astype(np.float32) / 255 - MEAN[:, None, None]) / STD[:, None, None]).astype(np.float32)


HISTORY = ("train_loss", "train_accuracy", "valid_loss", "valid_accuracy", "learning_rate", "seconds")


def new_history() -> dict[str, list]:
    """What both frameworks' runs record per epoch: train loss (label-smoothed, on augmented images)
    and accuracy, valid loss and accuracy (no flip averaging), the learning rate, the seconds."""
    return {key: [] for key in HISTORY}


def record_epoch(history, *, loss_sum, correct, seen, valid, learning_rate, seconds) -> None:
    """Append one epoch's numbers to `history`; `valid` is (loss, accuracy)."""
    values = (loss_sum / seen, correct / seen, *valid, learning_rate, seconds)
    for key, value in zip(HISTORY, values):
        history[key].append(value)


def describe(epochs: int = EPOCHS) -> dict:
    """The recipe's numbers, for metrics.json."""
    return {
        "network": f"CifarNet {'-'.join(map(str, WIDTHS))}",
        "epochs": epochs,
        "batch": BATCH,
        "optimizer": f"SGD, momentum {MOMENTUM} (not Nesterov), weight decay {WEIGHT_DECAY} on all weights",
        "schedule": f"per step: 0 -> {PEAK_LR} linearly over the first {WARMUP:.0%} of the steps, then -> 0",
        "label_smoothing": LABEL_SMOOTHING,
        "augmentation": f"pad {PAD} (reflect), random 32 x 32 crop, left-right flip with p = 0.5",
        "test_time": "mean of the logits of the image and of its mirror image",
    }
