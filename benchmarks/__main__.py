"""Command line for the benchmarks.

python -m benchmarks [--quick] --out DIR      every comparison with PyTorch (see benchmarks.suite)
python -m benchmarks report [--quick] --out DIR   every part of the homework, in one HTML page
python -m benchmarks mlp-epoch | autoencoder  one measurement on its own
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from tqdm import tqdm

from tinygrad_hw.app.cli import add_common_arguments, message, positive_int, run_command
from tinygrad_hw.app.files import save_figure, write_json
from tinygrad_hw.app.memory import keep_freed_memory

from . import mlp_epoch, suite
from . import report as report_module
from .figures import mlp_ratio_figure, mlp_table
from .targets import mlp_targets


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
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=suite.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_arguments(parser, default_out="runs/benchmarks")
    parser.add_argument("--quick", action="store_true", help="a smaller run, about 3 minutes on 2 cores")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", help="default: the whole comparison")
    report = verbs.add_parser(
        "report",
        help="run every part of the homework and write one HTML page of all its results",
        description=report_module.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_arguments(report, default_out="runs/report")
    report.add_argument(
        "--quick", action="store_true", help="fewer epochs everywhere (a preview, not the results)"
    )
    report.add_argument(
        "--parts",
        type=report_module.part_list,
        help=f"only these parts, comma-separated ({report_module.PART_NAMES})",
    )
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
        "for every version; by default the run keeps it, see tinygrad_hw.app.memory.keep_freed_memory)",
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
    from tinygrad_hw.app.training import fit

    if args.data_dir is not None:
        from ocr.nist36 import load_nist36

        x, source = load_nist36(args.data_dir)["train"].x, "NIST36 training split"
    else:
        x, source = np.random.default_rng(args.seed).random((10_152, 1024)).astype(np.float32), "random data"
    rng = np.random.default_rng(args.seed)
    _, history = fit(loss, init_autoencoder(rng), (x,), epochs=args.epochs, lr=3e-5, batch_size=36,
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
    if args.verb is None:
        keep_freed_memory()
        return suite.run(args)
    if args.verb == "report":
        return report_module.run(args)
    if args.verb == "autoencoder":
        keep_freed_memory()
        return autoencoder_benchmark(args)
    with_torch = not args.no_torch and suite.torch_available()
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

    print(mlp_table(rows))
    print()
    print(_overhead_line(overhead))
    verdicts = mlp_targets(rows) if with_torch else []
    for name, met, detail in verdicts:
        print(f"{'met    ' if met else 'NOT met'}  {name}  ({detail})")
    write_json(
        args.out / "metrics.json",
        {
            "rows_per_epoch": args.rows,
            "repeats": args.repeats,
            "malloc_keeps_freed_memory": tuned,
            "machine": suite.machine(),
            "epochs": rows,
            "seconds_per_primitive": overhead,
            "targets": [{"target": n, "met": m, "detail": d} for n, m, d in verdicts],
        },
    )
    save_figure(args.out / "ratios.png", mlp_ratio_figure(rows))
    message(f"wrote {args.out / 'metrics.json'} and ratios.png")


def _overhead_line(overhead):
    parts = [f"{name} {seconds * 1e6:.2f} us" for name, seconds in overhead.items()]
    return "one small primitive with its VJP (forward + backward, per op in a chain): " + ", ".join(parts)


if __name__ == "__main__":
    sys.exit(run_command(main))
