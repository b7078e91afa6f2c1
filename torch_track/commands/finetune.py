"""`python -m torch_track finetune`: a pretrained ImageNet network fine-tuned, against a network from scratch.

The default backbone is EfficientNet-Lite0 (`torch_track.efficientnet`: a new head on cached frozen
features, then its last block unfrozen); `--backbone squeezenet1_1` trains a new head on SqueezeNet
1.1 instead (`torch_track.photo_training`). The other half trains `PhotoConvNet` (3 conv + 2 fc)
from scratch on the same images, reduced to 80 x 80, and a table compares all of them: accuracy,
parameters in all and trained, time. Without the pretrained network (the optional packages, or the
SqueezeNet weights, which cannot be downloaded here) one line says what to provide and the
from-scratch half runs alone.
"""

from __future__ import annotations

from pathlib import Path

from torchvision.transforms import v2

from tinygrad_hw.app.cli import UserError, message
from tinygrad_hw.app.files import write_json

from ..common import at_most, pick_device, save_state, write_curves
from ..efficientnet import INSTALL, efficientnet_packages, finetune_efficientnet, pretrained_efficientnet
from ..efficientnet import SIDE as EFFICIENTNET_SIDE
from ..image_folders import dataset_folder, load_image_folders
from ..photo_training import (
    STORED_PRETRAINED_SIDE,
    STORED_SIDE,
    WEIGHTS,
    cached_weights,
    find_weights,
    finetune,
    pretrained_squeezenet,
    train_from_scratch,
)


def _pretrained(backbone: str, weights: Path | None):
    """(the pretrained model or None, the weights file or None, why it is missing or None, the side to
    decode the images at): every check on the weights comes before any image is read."""
    if backbone == "squeezenet1_1":
        weights = find_weights(weights)
        if weights is None:
            why = (
                f"no SqueezeNet 1.1 weights: pass --weights FILE or put {Path(WEIGHTS.url).name} "
                f"(from {WEIGHTS.url}) in {cached_weights().parent}; ran the from-scratch half only"
            )
            return None, None, why, STORED_SIDE
        return pretrained_squeezenet(weights), weights, None, STORED_PRETRAINED_SIDE
    packages = efficientnet_packages()
    if packages is None:
        why = f"EfficientNet-Lite0 needs the optional packages: {INSTALL}; ran the from-scratch half only"
        return None, None, why, STORED_SIDE
    weights = weights or packages[1]
    if not Path(weights).is_file():
        raise UserError(f"{weights}: no such weights file")
    return pretrained_efficientnet(packages[0], weights), weights, None, EFFICIENTNET_SIDE


def run(
    *,
    images: Path | None,
    backbone: str,
    weights: Path | None,
    data_dir: Path | None,
    out: Path,
    seed: int,
    epochs: int | None,
    unfreeze_epochs: int,
    scratch_epochs: int,
    device: str | None,
    limit: int | None = None,
) -> None:
    device = pick_device(device)
    folder = dataset_folder(images, data_dir)
    model, weights, skipped, side = _pretrained(backbone, weights)
    data = load_image_folders(folder, side)
    data = data._replace(splits=at_most(data.splits, limit, seed))
    print(f"data: {data.describe()}")
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    if skipped:
        message(skipped)
    elif backbone == "squeezenet1_1":
        model, history, summary = finetune(
            model, data.splits, data.classes, epochs=epochs or 10, device=device, seed=seed
        )
        save_state(out / "finetuned.pt", model)
        write_curves(out / "finetune_curves.png", history, "SqueezeNet 1.1, fine-tuned head")
        rows.append({**summary, "history": history})
    else:
        model, tuned_rows = finetune_efficientnet(
            model,
            data.splits,
            data.classes,
            epochs=epochs or 30,
            unfreeze_epochs=unfreeze_epochs,
            device=device,
            seed=seed,
        )
        save_state(out / "finetuned.pt", model)
        for row, name in zip(tuned_rows, ("finetune_curves.png", "unfreeze_curves.png")):
            title = row["model"].replace("EfficientNet-Lite0 (ImageNet), ", "")
            write_curves(out / name, row["history"], title)
        rows += tuned_rows
    splits = data.splits
    if side != STORED_SIDE:  # the scratch network sees the same images, reduced
        reduce = v2.Compose([v2.Resize(STORED_SIDE, antialias=True), v2.CenterCrop(STORED_SIDE)])
        splits = {name: (reduce(pixels), labels) for name, (pixels, labels) in splits.items()}
    model, history, summary = train_from_scratch(
        splits, data.classes, epochs=scratch_epochs, device=device, seed=seed, description="from scratch"
    )
    save_state(out / "scratch.pt", model)
    write_curves(out / "scratch_curves.png", history, "3 conv + 2 fc, from scratch")
    rows.append({**summary, "trained_parameters": summary["parameters"], "history": history})
    metrics = {
        "task": "finetune",
        "backbone": backbone,
        "dataset": str(folder),
        "classes": data.classes,
        "splits": data.sizes(),
        "skipped_images": data.skipped,
        "device": str(device),
        "weights": str(weights) if weights else None,
        "skipped": skipped,
        "table": rows,
    }
    write_json(out / "metrics.json", metrics)
    print(f"finetune on {folder} ({device})")
    print("| model | parameters | parameters trained | epochs | train s | test accuracy |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        seconds = f"{r['train_seconds']:.1f}"
        if "frozen_pass_seconds" in r:
            seconds += f" (+ {r['frozen_pass_seconds']:.0f} once, frozen layers)"
        print(
            f"| {r['model']} | {r['parameters']:,} | {r['trained_parameters']:,} | {r['epochs']} | "
            f"{seconds} | {r['test_accuracy']:.4f} |"
        )
