"""What every torch_track task shares: the device, the training loop, checkpoints and outputs.

Each task trains with a tqdm bar, records per-epoch accuracy and loss, plots them, saves the
model's `state_dict` atomically (loaded back with `torch.load(..., weights_only=True)`), and
writes `metrics.json`. CUDA is used when it is available, unless `--device cpu` is given.
"""

from __future__ import annotations

import io
import time

import numpy as np
import torch
from tqdm import tqdm

from tinygrad_hw.app.cli import UserError
from tinygrad_hw.app.figures import training_curves
from tinygrad_hw.app.files import save_figure, write_bytes_atomic


def pick_device(requested: str | None) -> torch.device:
    if requested == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for, but PyTorch sees no CUDA device here")
    return torch.device(requested or ("cuda" if torch.cuda.is_available() else "cpu"))


def save_state(path, model):
    """The model's state_dict, written atomically."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return write_bytes_atomic(path, buffer.getvalue())


def load_state(path, model):
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except Exception as error:
        raise UserError(f"{path}: not a PyTorch state_dict ({error})") from None
    model.load_state_dict(state)
    return model


def evaluate(model, loader, device):
    """Mean cross-entropy and accuracy over a loader."""
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            total += float(torch.nn.functional.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(dim=1) == y).sum())
            count += len(y)
    return total / count, correct / count


def train(
    model, optimizer, train_loader, valid_loader, *, epochs, device, scheduler=None, description="training"
):
    """Train with cross-entropy (a learning-rate `scheduler` steps once per epoch); the history has,
    per epoch, train and valid loss (per sample) and accuracy, and the seconds so far."""
    history = {k: [] for k in ("train_loss", "train_accuracy", "valid_loss", "valid_accuracy", "seconds")}
    start = time.perf_counter()
    rows = len(train_loader.dataset)
    with tqdm(
        total=epochs * rows, desc=description, unit="row", unit_scale=True, leave=False, disable=None
    ) as bar:
        for _ in range(epochs):
            model.train()
            total, correct = 0.0, 0
            for x, y in train_loader:
                x, y = x.to(device), y.to(device)
                optimizer.zero_grad(set_to_none=True)
                logits = model(x)
                loss = torch.nn.functional.cross_entropy(logits, y)
                if not torch.isfinite(loss):
                    raise UserError(
                        f"training diverged (the loss became {loss.item()}); try a smaller learning rate"
                    )
                loss.backward()
                optimizer.step()
                total += loss.item() * len(y)
                correct += int((logits.argmax(dim=1) == y).sum())
                bar.update(len(y))
            if scheduler is not None:
                scheduler.step()
            valid_loss, valid_accuracy = evaluate(model, valid_loader, device)
            for key, value in (("train_loss", total / rows), ("train_accuracy", correct / rows),
                               ("valid_loss", valid_loss), ("valid_accuracy", valid_accuracy),
                               ("seconds", time.perf_counter() - start)):  # fmt: skip
                history[key].append(value)
            bar.set_postfix(valid_acc=f"{valid_accuracy:.3f}")
    return history


def write_curves(path, history, title):
    save_figure(path, training_curves(history, title))


def seed_everything(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)
