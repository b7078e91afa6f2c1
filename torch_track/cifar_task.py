"""`python -m torch_track cnn-cifar10`: a CNN on CIFAR-10 through torchvision.

CIFAR-10 is read by torchvision's `CIFAR10` from the python version of the dataset
(`cifar-10-batches-py/`, under DATA_DIR/cifar10, DATA_DIR/CIFAR10 or DATA_DIR itself), which checks
every file against the published MD5 sums. It is not available here and cannot be downloaded: the
task says so in one line. `--skip-checksums` reads files in the same format that are not the
official ones (a subset, or the small folder the tests write).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision
from torch.utils.data import DataLoader, random_split
from torchvision.transforms import v2

from tinygrad_hw.app.cli import UserError, message
from tinygrad_hw.app.files import write_json

from .cnn import PhotoConvNet
from .common import evaluate, pick_device, save_state, seed_everything, train, write_curves

FOLDER = torchvision.datasets.CIFAR10.base_folder
MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


class UncheckedCIFAR10(torchvision.datasets.CIFAR10):
    """torchvision's reader without the MD5 comparison: files need only exist."""

    train_list = [[name, None] for name, _ in torchvision.datasets.CIFAR10.train_list]
    test_list = [[name, None] for name, _ in torchvision.datasets.CIFAR10.test_list]
    meta = {**torchvision.datasets.CIFAR10.meta, "md5": None}


def cifar_root(data_dir) -> Path:
    """The folder holding cifar-10-batches-py/, or one line saying what to provide."""
    if data_dir is not None:
        for root in (Path(data_dir) / "cifar10", Path(data_dir) / "CIFAR10", Path(data_dir)):
            if (root / FOLDER).is_dir():
                return root
    raise UserError(f"CIFAR-10 is not here and cannot be downloaded: put the python version ({FOLDER}/ from "
                    f"{torchvision.datasets.CIFAR10.url}) in DATA_DIR/cifar10")  # fmt: skip


def load_cifar10(root: Path, train: bool, transform, verify=True):
    names = [
        name for name, _ in torchvision.datasets.CIFAR10.train_list + torchvision.datasets.CIFAR10.test_list
    ]
    missing = [n for n in [*names, "batches.meta"] if not (root / FOLDER / n).is_file()]
    if missing:
        raise UserError(f"{root / FOLDER}: missing {', '.join(missing)}")
    reader = torchvision.datasets.CIFAR10 if verify else UncheckedCIFAR10
    try:
        return reader(root, train=train, transform=transform, download=False)
    except RuntimeError:
        raise UserError(f"{root / FOLDER}: the files differ from the official CIFAR-10 "
                        "(MD5 mismatch); --skip-checksums reads them anyway") from None  # fmt: skip
    except Exception as error:
        raise UserError(f"{root / FOLDER}: not in the CIFAR-10 python format ({error})") from None


def transforms():
    to_input = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(MEAN, STD)]
    augment = [v2.RandomCrop(32, padding=4), v2.RandomHorizontalFlip()]
    return v2.Compose(augment + to_input), v2.Compose(to_input)


def run(args):
    device = pick_device(args.device)
    root = cifar_root(args.data_dir)
    augmented, plain = transforms()
    full = load_cifar10(root, True, augmented, verify=not args.skip_checksums)
    full_plain = load_cifar10(root, True, plain, verify=not args.skip_checksums)
    test = load_cifar10(root, False, plain, verify=not args.skip_checksums)
    args.out.mkdir(parents=True, exist_ok=True)
    seed_everything(args.seed)
    held_out = max(1, min(5000, len(full) // 10))
    generator = torch.Generator().manual_seed(args.seed)
    training, validation = random_split(
        range(len(full)), [len(full) - held_out, held_out], generator=generator
    )
    train_loader = DataLoader(torch.utils.data.Subset(full, training.indices), batch_size=128, shuffle=True,
                              generator=generator)  # fmt: skip
    valid_loader = DataLoader(torch.utils.data.Subset(full_plain, validation.indices), batch_size=512)
    epochs = args.epochs or 30
    model = PhotoConvNet(10, channels=(64, 128, 256)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    history = train(model, optimizer, train_loader, valid_loader, epochs=epochs, device=device,
                    scheduler=scheduler, description="cnn-cifar10")  # fmt: skip
    test_loss, test_accuracy = evaluate(model, DataLoader(test, batch_size=512), device)
    save_state(args.out / "model.pt", model)
    write_curves(args.out / "curves.png", history, "cnn-cifar10 (PyTorch)")
    write_json(args.out / "metrics.json", {"task": "cnn-cifar10", "device": str(device), "epochs": epochs,
                                           "train_images": len(training), "test_images": len(test),
                                           "test_accuracy": test_accuracy, "test_loss": test_loss,
                                           "train_seconds": history["seconds"][-1], "classes": full.classes,
                                           "history": history})  # fmt: skip
    print(
        f"cnn-cifar10 ({device}): {epochs} epochs on {len(training)} images in {history['seconds'][-1]:.1f} s"
    )
    print(f"valid accuracy {history['valid_accuracy'][-1]:.4f}, test accuracy {test_accuracy:.4f}")
    message(f"wrote model.pt, curves.png and metrics.json to {args.out}")
