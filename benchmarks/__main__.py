"""Command line for the benchmarks: `python -m benchmarks mlp-epoch --out DIR`."""

from __future__ import annotations

import argparse
import platform
import sys

import numpy as np
from matplotlib.figure import Figure
from tqdm import tqdm

from tinygrad_hw.runs import (
    add_common_arguments,
    keep_freed_memory,
    message,
    positive_int,
    run_command,
    save_figure,
    write_json,
)

from . import mlp_epoch

TARGETS = (
    ("engine <= 1.15x hand-written numpy at batch >= 32", "numpy", lambda b: b >= 32, 1.15),
    ("engine faster than PyTorch CPU at batch <= 128", "torch", lambda b: b <= 128, 1.0),
    ("engine within 1.1x of PyTorch CPU at batch 1024", "torch", lambda b: b == 1024, 1.1),
)


def _int_list(text):
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"batch sizes must be positive, got {text!r}")
    return values


def _dtype_list(text):
    names = text.split(",")
    unknown = [n for n in names if n not in ("float32", "float64")]
    if unknown:
        raise argparse.ArgumentTypeError(f"dtypes are float32 and float64, got {', '.join(unknown)}")
    return names


def _parser():
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    mlp = verbs.add_parser(
        "mlp-epoch",
        help="time one MLP training epoch: engine vs hand-written numpy vs PyTorch",
        description=mlp_epoch.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_arguments(mlp, default_out="runs/bench-mlp-epoch")
    mlp.add_argument("--rows", type=positive_int, default=10_800, help="rows per epoch (default: 10800)")
    mlp.add_argument(
        "--batch-sizes", type=_int_list, default=[1, 32, 128, 1024], help="default: 1,32,128,1024"
    )
    mlp.add_argument(
        "--dtypes", type=_dtype_list, default=["float32", "float64"], help="default: float32,float64"
    )
    mlp.add_argument(
        "--repeats", type=positive_int, default=3, help="epochs timed per version; the best counts"
    )
    mlp.add_argument("--no-torch", action="store_true", help="leave PyTorch out (it is optional)")
    mlp.add_argument(
        "--system-malloc",
        action="store_true",
        help="keep glibc's default of returning freed memory to the system (slower and noisier "
        "for every version; by default the run keeps it, see tinygrad_hw.runs.keep_freed_memory)",
    )
    auto = verbs.add_parser(
        "autoencoder",
        help="time the autoencoder's 100 training epochs (target: under 60 s on 2 cores)",
        description="Train the compression autoencoder for its default 100 epochs on the NIST36 "
        "training split (--data-dir) or on random data of the same shape, and report the time.",
    )
    add_common_arguments(auto, default_out="runs/bench-autoencoder")
    auto.add_argument("--epochs", type=positive_int, default=100, help="epochs (default: 100)")
    return parser


def autoencoder_benchmark(args):
    from compression.autoencoder import init_autoencoder, loss
    from tinygrad_hw import nn

    if args.data_dir is not None:
        from ocr.data import load_nist36

        x, source = load_nist36(args.data_dir)["train"].x, "NIST36 training split"
    else:
        x, source = np.random.default_rng(args.seed).random((10_152, 1024)).astype(np.float32), "random data"
    rng = np.random.default_rng(args.seed)
    _, history = nn.fit(loss, init_autoencoder(rng), (x,), epochs=args.epochs, lr=3e-5, batch_size=36,
                        rng=rng, loss_is_sum=True, description="autoencoder")  # fmt: skip
    seconds = history["seconds"][-1]
    verdict = "met" if seconds < 60 else "NOT met"
    print(f"autoencoder: {args.epochs} epochs on {len(x)} rows of {source} in {seconds:.1f} s "
          f"({seconds / args.epochs * 1000:.0f} ms per epoch); target under 60 s: {verdict}")  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {"epochs": args.epochs, "rows": len(x), "data": source, "seconds": seconds,
               "final_loss_per_image": history["train_loss"][-1]}  # fmt: skip
    write_json(args.out / "metrics.json", summary)


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.verb == "autoencoder":
        keep_freed_memory()
        return autoencoder_benchmark(args)
    with_torch = not args.no_torch and _torch_available()
    if not args.no_torch and not with_torch:
        message("PyTorch is not installed (pip install -e '.[torch]'); timing the engine and numpy only")
    tuned = False if args.system_malloc else keep_freed_memory()
    if args.data_dir is not None:
        message("this benchmark generates its own data; --data-dir is not used")
    args.out.mkdir(parents=True, exist_ok=True)

    rows = []
    configurations = [(b, d) for b in args.batch_sizes for d in args.dtypes]
    for batch, dtype in tqdm(configurations, desc="mlp epoch", unit="config", disable=None):
        seconds, difference = mlp_epoch.time_epochs(
            batch, np.dtype(dtype).type, args.rows, args.repeats, with_torch=with_torch
        )
        rows.append({"batch": batch, "dtype": dtype, "seconds": seconds, "max_weight_difference": difference})
    overhead = mlp_epoch.primitive_overhead()

    print(_table(rows, with_torch))
    print()
    print(_overhead_line(overhead))
    verdicts = _targets(rows) if with_torch else []
    for name, met, detail in verdicts:
        print(f"{'met    ' if met else 'NOT met'}  {name}  ({detail})")
    write_json(
        args.out / "metrics.json",
        {
            "rows_per_epoch": args.rows,
            "repeats": args.repeats,
            "malloc_keeps_freed_memory": tuned,
            "machine": {"cpus": _cpu_count(), "python": platform.python_version(), "numpy": np.__version__},
            "epochs": rows,
            "seconds_per_primitive": overhead,
            "targets": [{"target": n, "met": m, "detail": d} for n, m, d in verdicts],
        },
    )
    save_figure(args.out / "ratios.png", _ratio_figure(rows, with_torch))
    message(f"wrote {args.out / 'metrics.json'} and ratios.png")


def _torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _cpu_count():
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _table(rows, with_torch):
    head = "| batch | dtype | engine s | numpy s |" + (" torch s |" if with_torch else "")
    head += " engine/numpy |" + (" engine/torch |" if with_torch else "")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        s = r["seconds"]
        line = f"| {r['batch']} | {r['dtype']} | {s['engine']:.4f} | {s['numpy']:.4f} |"
        if with_torch:
            line += f" {s['torch']:.4f} |"
        line += f" {s['engine'] / s['numpy']:.2f} |"
        if with_torch:
            line += f" {s['engine'] / s['torch']:.2f} |"
        lines.append(line)
    return "\n".join(lines)


def _overhead_line(overhead):
    parts = [f"{name} {seconds * 1e6:.2f} us" for name, seconds in overhead.items()]
    return "one small primitive with its VJP (forward + backward, per op in a chain): " + ", ".join(parts)


def _targets(rows):
    verdicts = []
    for name, baseline, applies, limit in TARGETS:
        ratios = [(r["batch"], r["dtype"], r["seconds"]["engine"] / r["seconds"][baseline]) for r in rows]
        ratios = [(b, d, q) for b, d, q in ratios if applies(b)]
        if not ratios:
            continue
        worst = max(ratios, key=lambda t: t[2])
        met = all(q <= limit if limit != 1.0 else q < limit for _, _, q in ratios)
        verdicts.append((name, met, f"worst {worst[2]:.2f} at batch {worst[0]} {worst[1]}"))
    return verdicts


def _ratio_figure(rows, with_torch):
    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    labels = [f"{r['batch']}\n{r['dtype'][5:]}" for r in rows]
    x = np.arange(len(rows))
    baselines = ["numpy", "torch"] if with_torch else ["numpy"]
    width = 0.8 / len(baselines)
    for i, baseline in enumerate(baselines):
        ratios = [r["seconds"]["engine"] / r["seconds"][baseline] for r in rows]
        ax.bar(x + i * width, ratios, width, label=f"engine / {baseline}")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(x + width * (len(baselines) - 1) / 2, labels)
    ax.set(xlabel="batch size / float bits", ylabel="time ratio (lower is faster)", title="MLP epoch")
    ax.legend()
    return fig


if __name__ == "__main__":
    sys.exit(run_command(main))
