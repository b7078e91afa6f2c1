"""`python -m benchmarks report --out DIR`: every part of the homework, run, in one HTML page.

Each part is the project's own command with its default settings, run in a child process into
DIR/<part>/: the engine's demo, the NIST36 classifier with all its figures and the learning-rate
sweep, the engine's CNN, reading every sample photo with overlays, compression against PCA, each
PyTorch task whose data is present, and the benchmarks. DIR/index.html then shows every figure,
table and number under its homework question's heading, and says which parts were skipped and why
(missing data or weights). A part that fails is reported on the page with its last error line; the
others still run. When Chromium is installed, the page is opened headless at the end and the
number of images that loaded is checked and printed.

`--quick` gives every command fewer epochs: a preview of the page in minutes, not the results.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

from tqdm import tqdm

from tinygrad_hw.app.cli import message
from tinygrad_hw.app.files import write_json

from .html_page import check_render, write_page

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
        ["fc-nist36", "--epochs", "2"],
        ("torch",),
    ),
    "cnn-nist36": (
        "Q7.1.2: a CNN on NIST36",
        "torch_track",
        ["cnn-nist36"],
        ["cnn-nist36", "--epochs", "1"],
        ("torch",),
    ),
    "cnn-mnist": (
        "Q7.1.2: a CNN on MNIST",
        "torch_track",
        ["cnn-mnist"],
        ["cnn-mnist", "--epochs", "1"],
        ("torch", "MNIST/raw"),
    ),
    "cnn-emnist": (
        "Q7.1.2: a CNN on EMNIST, reading the photos",
        "torch_track",
        ["cnn-emnist"],
        ["cnn-emnist", "--epochs", "1"],
        ("torch", "EMNIST/raw"),
    ),
    "cnn-cifar10": (
        "Q7.1.3: a CNN on CIFAR-10",
        "torch_track",
        ["cnn-cifar10"],
        ["cnn-cifar10", "--epochs", "1"],
        ("torch", "cifar10"),
    ),
    "imagefolder": (
        "Q7.1.4: scene classification, on Flowers-17 (no SUN subset here)",
        "torch_track",
        ["imagefolder"],
        ["imagefolder", "--epochs", "2"],
        ("torch", "flowers17"),
    ),
    "resnet-variants": (
        "Q7.1, further: skip, residual and gated residual CNNs",
        "torch_track",
        ["resnet-variants"],
        ["resnet-variants", "--epochs", "1"],
        ("torch",),
    ),
    "finetune": (
        "Q7.2: fine-tuning SqueezeNet 1.1, against a network from scratch",
        "torch_track",
        ["finetune"],
        ["finetune", "--epochs", "1", "--scratch-epochs", "2"],
        ("torch", "flowers17"),
    ),
    "benchmarks": ("Benchmarks: the engine against numpy and PyTorch", "benchmarks", [], ["--quick"], ()),
}
PART_NAMES = ",".join(PARTS)
CIFAR_FOLDERS = ("cifar10/cifar-10-batches-py", "CIFAR10/cifar-10-batches-py", "cifar-10-batches-py")


def part_list(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in PARTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown part {', '.join(unknown) or repr(text)}; the parts are {PART_NAMES}"
        )
    return names


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


def run_part(name, out, data_dir, seed, quick, parts_out) -> dict:
    heading, module, arguments, quick_arguments, needs = PARTS[name]
    folder = out / name
    argv = part_arguments(quick_arguments if quick else arguments, parts_out)
    argv += ["--out", str(folder), "--seed", str(seed)] + (["--data-dir", str(data_dir)] if data_dir else [])
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
    process = subprocess.Popen([sys.executable, "-m", module, *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
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


def run(args):
    names = args.parts or list(PARTS)
    args.out.mkdir(parents=True, exist_ok=True)
    parts_out = {name: str(args.out / name) for name in PARTS}
    results = []
    with tqdm(names, desc="report", unit="part", disable=None) as bar:
        for name in bar:
            bar.set_postfix_str(name)
            message(f"[{name}] {PARTS[name][0]}")
            results.append(run_part(name, args.out, args.data_dir, args.seed, args.quick, parts_out))
            if results[-1]["status"] != "ok":
                message(f"[{name}] {results[-1]['status']}: {results[-1]['reason']}")
    index = write_page(args.out, results, quick=args.quick)
    render = check_render(index)
    summary = {"quick": args.quick, "parts": [{k: v for k, v in r.items() if k not in ("stdout", "metrics")}
                                               for r in results], "render": render}  # fmt: skip
    write_json(args.out / "metrics.json", summary)
    for r in results:
        detail = f"{r['seconds']:.0f} s" if r["status"] == "ok" else r["reason"]
        print(f"{r['status']:8s} {r['name']:16s} {detail}")
    if render is None:
        print("render check: Chromium is not installed (Debian: apt install chromium); not checked")
    else:
        print(f"render check (headless Chromium): {render['loaded']} of {render['images']} images loaded")
    message(f"wrote {index}")
    failed = [r["name"] for r in results if r["status"] == "failed"]
    if failed or (render is not None and render["loaded"] != render["images"]):
        return 1
    return 0
