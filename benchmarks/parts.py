"""The parts of the report: every part of the homework, each the project's own command.

Each part is a command with its default settings (or fewer epochs with --quick), run in a child
process into DIR/<part>/, its stdout, stderr and metrics kept for the page. A part whose data or
weights are missing is skipped with the reason; a part that fails keeps its last error line.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

# With --quick, the PyTorch tasks see this many images of each split at most: a preview of the
# page, its figures and tables, in minutes.
QUICK_LIMIT = ("--limit", "500")

# name -> (heading, module, arguments, arguments with --quick, what it needs)
PARTS = {
    "engine": (
        "Q2: the engine, its gradient checks and a first network",
        "tinygrad_hw",
        ["demo"],
        ["demo", "--epochs", "100"],
        (),
    ),
    "classifier": (
        "Q3: training the NIST36 classifier (MLP, learning rates, weights, confusion)",
        "ocr",
        ["train", "--model", "mlp", "--lr-sweep"],
        ["train", "--model", "mlp", "--lr-sweep", "--epochs", "4"],
        (),
    ),
    "engine-cnn": (
        "Q3, further: the engine's CNN on NIST36",
        "ocr",
        ["train", "--model", "cnn"],
        ["train", "--model", "cnn", "--epochs", "1"],
        (),
    ),
    "reading": (
        "Q4: extracting text from images",
        "ocr",
        ["demo", "--model", "{engine-cnn}/model.npz"],
        ["demo", "--model", "{engine-cnn}/model.npz"],
        (),
    ),
    "compression": (
        "Q5 and Q6: image compression with an autoencoder, against PCA",
        "compression",
        ["run"],
        ["run", "--epochs", "10"],
        (),
    ),
    "fc-nist36": (
        "Q7.1.1: the fully connected network in PyTorch",
        "torch_track",
        ["fc-nist36"],
        ["fc-nist36", *QUICK_LIMIT, "--epochs", "2"],
        ("torch",),
    ),
    "cnn-nist36": (
        "Q7.1.2: a CNN on NIST36",
        "torch_track",
        ["cnn-nist36"],
        ["cnn-nist36", *QUICK_LIMIT, "--epochs", "1"],
        ("torch",),
    ),
    "cnn-mnist": (
        "Q7.1.2: a CNN on MNIST",
        "torch_track",
        ["cnn-mnist"],
        ["cnn-mnist", *QUICK_LIMIT, "--epochs", "1"],
        ("torch", "MNIST/raw"),
    ),
    "cnn-emnist": (
        "Q7.1.2: a CNN on EMNIST, reading the photos",
        "torch_track",
        ["cnn-emnist"],
        ["cnn-emnist", *QUICK_LIMIT, "--epochs", "1"],
        ("torch", "EMNIST/raw"),
    ),
    "cnn-cifar10": (
        "Q7.1.3: a CNN on CIFAR-10",
        "torch_track",
        ["cnn-cifar10"],
        ["cnn-cifar10", *QUICK_LIMIT, "--epochs", "1"],
        ("torch", "cifar10"),
    ),
    "imagefolder": (
        "Q7.1.4: scene classification: a CNN from scratch on an ImageFolder tree (no SUN subset here: "
        "Flowers-17, or --images DIR)",
        "torch_track",
        ["imagefolder"],
        ["imagefolder", *QUICK_LIMIT, "--epochs", "2"],
        ("torch", "flowers17"),
    ),
    "resnet-variants": (
        "Q7.1, further: skip, residual and gated residual CNNs",
        "torch_track",
        ["resnet-variants"],
        ["resnet-variants", *QUICK_LIMIT, "--epochs", "1"],
        ("torch",),
    ),
    "finetune": (
        "Q7.2: fine-tuning a pretrained EfficientNet-Lite0, against a network from scratch",
        "torch_track",
        ["finetune"],
        ["finetune", *QUICK_LIMIT, "--epochs", "1", "--unfreeze-epochs", "1", "--scratch-epochs", "2"],
        ("torch", "flowers17"),
    ),
    "benchmarks": ("Benchmarks: the engine against numpy and PyTorch", "benchmarks", [], ["--quick"], ()),
}
PART_NAMES = ",".join(PARTS)
CIFAR_FOLDERS = (
    "cifar10/cifar-10-batches-py",
    "CIFAR10/cifar-10-batches-py",
    "cifar-10-batches-py",
    "cifar10/train",
    "CIFAR10/train",
)  # the python batches, or an ImageFolder tree
IMAGE_FOLDER_PARTS = ("imagefolder", "finetune")  # the parts that take --images DIR


def skip_reason(needs, data_dir) -> str | None:
    """Why a part cannot run here, or None."""
    for need in needs:
        if need == "torch" and importlib.util.find_spec("torch") is None:
            return "PyTorch is not installed (pip install -e '.[torch]')"
        if need == "torch":
            continue
        if data_dir is None:
            return f"no data folder (--data-dir or $TINYGRAD_HW_DATA) with {need}/"
        if need == "cifar10":
            if not any((Path(data_dir) / f).is_dir() for f in CIFAR_FOLDERS):
                return f"CIFAR-10 is not in {data_dir} (it cannot be downloaded here; see cnn-cifar10 --help)"
        elif not (Path(data_dir) / need).is_dir():
            return f"{Path(data_dir) / need} is missing"
    return None


def part_arguments(template, parts_out) -> list[str]:
    """A part's arguments, with "{part}" replaced by that part's folder. An option whose value names
    a file of another part that does not exist (that part was not run) is left out, name and value."""
    argv = []
    for argument in template:
        value = argument.format(**parts_out)
        if "{" in argument and not Path(value).exists():
            argv.pop()
            continue
        argv.append(value)
    return argv


def run_part(name, out, data_dir, seed, quick, parts_out, images=None) -> dict:
    """Run one part (or say why it is skipped); `images`, an ImageFolder tree, replaces Flowers-17 in
    the parts that take one."""
    heading, module, arguments, quick_arguments, needs = PARTS[name]
    folder = out / name
    argv = part_arguments(quick_arguments if quick else arguments, parts_out)
    argv += ["--out", str(folder), "--seed", str(seed)] + (["--data-dir", str(data_dir)] if data_dir else [])
    if images is not None and name in IMAGE_FOLDER_PARTS:  # any ImageFolder tree instead of Flowers-17
        argv += ["--images", str(images)]
        needs = tuple(need for need in needs if need != "flowers17")
    result = {
        "name": name,
        "heading": heading,
        "command": f"python -m {module} " + " ".join(argv),
        "folder": name,
    }
    reason = skip_reason(needs, data_dir)
    if reason is not None:
        return {**result, "status": "skipped", "reason": reason}
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", module, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    (out / name).mkdir(parents=True, exist_ok=True)
    (out / name / "stdout.txt").write_text(stdout)
    (out / name / "stderr.txt").write_text(stderr)
    if process.returncode != 0:
        last = [line for line in stderr.splitlines() if line.strip()][-1:] or ["(no message)"]
        return {**result, "status": "failed", "reason": last[0], "seconds": seconds, "stdout": stdout}
    return {**result, "status": "ok", "seconds": seconds, "stdout": stdout, "metrics": _metrics(folder)}


def _metrics(folder: Path) -> dict:
    for name in ("metrics.json", "results.json"):
        if (folder / name).exists():
            return json.loads((folder / name).read_text())
    return {}
