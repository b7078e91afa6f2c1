"""What every torch_track task shares: the device, the optimiser and training loop, a held-out
validation split, checkpoints and outputs.

Each task trains with a tqdm bar, records per-epoch accuracy and loss, plots them, saves the
model's `state_dict` atomically (loaded back with `torch.load(..., weights_only=True)`), and
writes `metrics.json`. CUDA is used when it is available, unless `--device cpu` is given.
"""

from __future__ import annotations

import io
import pickle
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, Subset, random_split
from tqdm import tqdm

from ocr.nist36 import Split
from tinygrad_hw.app.cli import UserError, first_line
from tinygrad_hw.app.figures import training_curves
from tinygrad_hw.app.files import save_figure, write_bytes_atomic, write_json


def at_most(splits: dict, limit: int | None, seed: int) -> dict:
    """Each split, a pair (images, labels) of tensors or a Split, cut to `limit` rows picked at random
    (seeded), in their order; all of it when `limit` is None. For `--limit`: a preview, not a result."""
    if limit is None:
        return splits
    rng = np.random.default_rng(seed)
    cut = {}
    for name, split in splits.items():
        if isinstance(split, Split):
            rows = random_rows(len(split), limit, rng)
            cut[name] = Split(split.x[rows], split.y[rows])
        else:
            images, labels = split
            rows = torch.from_numpy(random_rows(len(labels), limit, rng))
            cut[name] = (images[rows], labels[rows])
    return cut


def random_rows(count: int, limit: int, rng: np.random.Generator) -> np.ndarray:
    """At most `limit` of the row indices 0 .. count - 1, picked at random, in increasing order."""
    return np.sort(rng.permutation(count)[:limit])


def pick_device(requested: str | None) -> torch.device:
    if requested == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for, but PyTorch sees no CUDA device here")
    return torch.device(requested or ("cuda" if torch.cuda.is_available() else "cpu"))


def save_state(path, model):
    """The model's state_dict, written atomically."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return write_bytes_atomic(path, buffer.getvalue())


def read_state_dict(path, what: str = "a PyTorch state_dict") -> dict:
    """The tensors of a `torch.save`d file, read with weights_only=True: a file that asks for any
    other object (a pickle that would run code) is refused, and said so in one line, not with
    torch's advice on how to load it anyway. `what` names the expected content in the error."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except pickle.UnpicklingError:
        raise UserError(
            f"{path}: not {what} (it holds objects other than tensors, which are never loaded; "
            "nothing in it was run)"
        ) from None
    except Exception as error:  # empty, truncated or foreign bytes
        raise UserError(f"{path}: not {what} ({first_line(error)})") from None


def load_state(path, model, what: str = "a PyTorch state_dict"):
    """`model` with the weights of `path` (read_state_dict); weights of other shapes or names are
    one line too."""
    try:
        model.load_state_dict(read_state_dict(path, what))
    except RuntimeError as error:  # torch lists missing, unexpected and mis-shaped keys over several lines
        lines = str(error).splitlines()  # the first: "Error(s) in loading state_dict for Model:"
        details = " ".join(" ".join(lines[1:]).split()) or first_line(error)
        raise UserError(f"{path}: not {what} ({details[:240]})") from None
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


def adamw(parameters, lr=2e-3, weight_decay=1e-4):
    """AdamW, the optimiser of every task but `fc-nist36` (whose recipe is SGD with momentum)."""
    return torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay)


def train(model, optimizer, loaders, epochs, device, description="training"):
    """Train with cross-entropy on `loaders` (train, valid), the learning rate following a cosine
    schedule over the epochs; the history has, per epoch, train and valid loss (per sample) and
    accuracy, and the seconds so far."""
    train_loader, valid_loader = loaders
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
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
            scheduler.step()
            valid_loss, valid_accuracy = evaluate(model, valid_loader, device)
            measured = {
                "train_loss": total / rows,
                "train_accuracy": correct / rows,
                "valid_loss": valid_loss,
                "valid_accuracy": valid_accuracy,
                "seconds": time.perf_counter() - start,
            }
            for key, value in measured.items():
                history[key].append(value)
            bar.set_postfix(valid_acc=f"{valid_accuracy:.3f}")
    return history


def held_out_loaders(dataset, seed, batch_size, eval_batch_size, unaugmented=None, limit=5000):
    """DataLoaders of `dataset` less a held-out tenth (`limit` images at most) chosen at random
    (seeded), and of that held-out part, read from `unaugmented` when given (the same images without
    random changes). The training batches are shuffled."""
    size = len(dataset)
    held_out = max(1, min(limit, size // 10))
    generator = torch.Generator().manual_seed(seed)
    training, validation = random_split(range(size), [size - held_out, held_out], generator=generator)
    train_loader = DataLoader(
        Subset(dataset, training.indices), batch_size, shuffle=True, generator=generator
    )
    source = dataset if unaugmented is None else unaugmented
    return train_loader, DataLoader(Subset(source, validation.indices), batch_size=eval_batch_size)


def run_summary(name, model, history, test_loader, device, **details) -> dict:
    """A trained network's row of a table: its size, the `details` of its run (epochs, image side),
    its training time, and its accuracy on the validation set and on the test loader."""
    test_loss, test_accuracy = evaluate(model, test_loader, device)
    return {
        "model": name,
        "parameters": sum(p.numel() for p in model.parameters()),
        **details,
        "train_seconds": history["seconds"][-1],
        "valid_accuracy": history["valid_accuracy"][-1],
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
    }


def save_run(out, model, history, title, metrics):
    """A task's outputs in `out`: model.pt (the state_dict), curves.png and metrics.json."""
    save_state(out / "model.pt", model)
    write_curves(out / "curves.png", history, title)
    write_json(out / "metrics.json", metrics)


def write_curves(path, history, title):
    save_figure(path, training_curves(history, title))


def seed_everything(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


def numpy_classifier(model, device="cpu"):
    """The function `rows -> logits` (numpy arrays) that a trained model computes, in eval mode."""
    model.eval()

    def logits(rows):
        with torch.no_grad():
            return model(torch.from_numpy(rows.astype(np.float32)).to(device)).cpu().numpy()

    return logits
