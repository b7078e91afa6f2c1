"""The benchmark results as Markdown tables and matplotlib figures (one function per table or figure)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from compression.figures import rate_distortion


def _ratio(seconds, baseline):
    return seconds["engine"] / seconds[baseline] if baseline in seconds else float("nan")


def mlp_table(rows) -> str:
    with_torch = "torch" in rows[0]["seconds"]
    head = "| batch | dtype | engine s | numpy s |" + (" torch s |" if with_torch else "")
    head += " engine/numpy |" + (" engine/torch |" if with_torch else "")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        s = r["seconds"]
        line = f"| {r['batch']} | {r['dtype']} | {s['engine']:.4f} | {s['numpy']:.4f} |"
        line += f" {s['torch']:.4f} |" if with_torch else ""
        line += f" {_ratio(s, 'numpy'):.2f} |" + (f" {_ratio(s, 'torch'):.2f} |" if with_torch else "")
        lines.append(line)
    return "\n".join(lines)


def mlp_ratio_figure(rows):
    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    baselines = [b for b in ("numpy", "torch") if b in rows[0]["seconds"]]
    x, width = np.arange(len(rows)), 0.8 / len(baselines)
    for i, baseline in enumerate(baselines):
        ax.bar(
            x + i * width, [_ratio(r["seconds"], baseline) for r in rows], width, label=f"engine / {baseline}"
        )
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(x + width * (len(baselines) - 1) / 2, [f"{r['batch']}\n{r['dtype'][5:]}" for r in rows])
    ax.set(xlabel="batch size / float bits", ylabel="time ratio (lower is faster)", title="MLP epoch")
    ax.legend()
    return fig


def other_speed_table(speed) -> str:
    lines = [
        "| workload | engine s | numpy s | torch s | engine/numpy | engine/torch |",
        "|---|---|---|---|---|---|",
    ]
    workloads = [
        (
            f"autoencoder epoch, {dtype} ({speed['autoencoder_epoch']['rows']} rows, batch 36)",
            speed["autoencoder_epoch"][dtype]["seconds"],
        )
        for dtype in ("float32", "float64")
    ]
    workloads.append(
        (f"CNN training step (batch {speed['cnn_step']['batch']}, float32)", speed["cnn_step"]["seconds"])
    )
    workloads.append(("one primitive in a chain of 200 (forward + VJP)", speed["primitive_in_chain_seconds"]))
    for name, s in workloads:
        cells = [f"{s[k]:.6f}" if k in s else "-" for k in ("engine", "numpy", "torch")]
        ratios = [f"{_ratio(s, b):.2f}" if b in s else "-" for b in ("numpy", "torch")]
        lines.append(f"| {name} | {' | '.join(cells)} | {' | '.join(ratios)} |")
    return "\n".join(lines)


def primitive_table(rows) -> str:
    lines = ["| primitive | engine us | kernels us | overhead us |", "|---|---|---|---|"]
    lines += [
        f"| {r['primitive']} | {r['engine_us']:.1f} | {r['kernels_us']:.1f} | {r['overhead_us']:.1f} |"
        for r in rows
    ]
    return "\n".join(lines)


def ocr_table(ocr) -> str:
    names = list(next(iter(ocr["readers"].values()))["per_photo"])
    lines = [
        "| reader | " + " | ".join(names) + " | overall CER | seconds per photo |",
        "|---|" + "---|" * (len(names) + 2),
    ]
    for reader, r in ocr["readers"].items():
        cells = " | ".join(f"{r['per_photo'][n]:.3f}" for n in names)
        lines.append(
            f"| {reader} | {cells} | {r['cer']:.3f} ({r['errors']}/{r['characters']}) | "
            f"{r['seconds_per_photo']:.2f} |"
        )
    return "\n".join(lines)


def compression_table(compression) -> str:
    lines = ["| method | setting | bytes per image | PSNR dB |", "|---|---|---|---|"]
    lines += [
        f"| {p['method']} | {p['setting']} | {p['bytes']:.1f} | {p['psnr']:.2f} |"
        for p in compression["rate_distortion"]
    ]
    return "\n".join(lines)


def parity_figure(parity):
    fig = Figure(figsize=(9, 3.5))
    left, right = fig.subplots(1, 2)
    steps = np.arange(1, parity["steps"] + 1)
    left.plot(steps, parity["engine"], label="engine MLP", linewidth=2)
    left.plot(steps, parity["torch"], "--", label="PyTorch FC")
    left.set(xlabel="step", ylabel="cross-entropy", title="same weights, same batches, float64")
    left.legend()
    difference = np.abs(np.array(parity["engine"]) - np.array(parity["torch"]))
    right.semilogy(steps, np.maximum(difference, 1e-18))
    right.set(xlabel="step", ylabel="|engine - torch|", title=f"largest difference {difference.max():.1e}")
    fig.tight_layout()
    return fig


def ocr_figure(ocr):
    fig = Figure(figsize=(7, 0.6 + 0.5 * len(ocr["readers"])))
    ax = fig.subplots()
    names = list(ocr["readers"])
    ax.barh(np.arange(len(names)), [100 * ocr["readers"][n]["cer"] for n in names])
    ax.set_yticks(np.arange(len(names)), [n[:45] for n in names], fontsize=8)
    ax.invert_yaxis()
    ax.set(xlabel="character error rate (%)", title=f"reading {ocr['photos'][:60]}")
    fig.tight_layout()
    return fig


def speed_figure(speed):
    fig = Figure(figsize=(7, 3.2))
    ax = fig.subplots()
    workloads = {
        "AE epoch f32": speed["autoencoder_epoch"]["float32"]["seconds"],
        "AE epoch f64": speed["autoencoder_epoch"]["float64"]["seconds"],
        "CNN step": speed["cnn_step"]["seconds"],
        "primitive in chain": speed["primitive_in_chain_seconds"],
    }
    x = np.arange(len(workloads))
    for i, baseline in enumerate(("numpy", "torch")):
        ratios = [_ratio(s, baseline) for s in workloads.values()]
        bars = ax.bar(x + 0.4 * i, ratios, 0.4, label=f"engine / {baseline}")
        ax.bar_label(bars, [f"{r:.2f}" if np.isfinite(r) else "" for r in ratios], fontsize=8)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(x + 0.2, list(workloads))
    ax.set(ylabel="time ratio (lower is faster)", title="engine time relative to numpy and PyTorch")
    ax.legend()
    return fig


def all_figures(results) -> dict:
    figures = {"mlp_ratios.png": mlp_ratio_figure(results["speed"]["mlp_epoch"]["table"])}
    if results["torch"]:
        figures["speed_ratios.png"] = speed_figure(results["speed"])
        figures["parity.png"] = parity_figure(results["parity"])
    figures["ocr_cer.png"] = ocr_figure(results["ocr"])
    figures["rate_distortion.png"] = rate_distortion(results["compression"]["rate_distortion"])
    return figures


def _mlp_timing(mlp_epoch):
    """How each MLP epoch's time was taken: best of so many epochs, or of at least so many seconds."""
    text = f"best of at least {mlp_epoch['repeats']} epochs"
    if mlp_epoch.get("min_seconds"):  # results written before the time budget have none
        text += f" and of at least {mlp_epoch['min_seconds']:g} s of epochs"
    return text


def markdown(results) -> str:
    speed, machine = results["speed"], results["machine"]
    parts = [
        f"# Benchmarks ({results['mode']} run)",
        f"Machine: {machine['cpus']} CPUs, Python {machine['python']}, numpy {machine['numpy']}. "
        f"Data: {results['data']}.",
        f"## Speed: MLP epoch ({speed['mlp_epoch']['rows']} rows, {_mlp_timing(speed['mlp_epoch'])})",
        mlp_table(speed["mlp_epoch"]["table"]),
    ]
    if results["targets"]:
        parts.append(
            "\n".join(
                f"- {'met' if t['met'] else '**NOT met**'}: {t['target']} ({t['detail']})"
                for t in results["targets"]
            )
        )
    parts += [
        "## Speed: other workloads (seconds)",
        other_speed_table(speed),
        "## Engine overhead per primitive (one `vjp` call and its pullback, tiny inputs)",
        primitive_table(speed["per_primitive"]),
    ]
    if "parity" in results:
        p = results["parity"]
        parts += [
            "## Parity: engine MLP vs PyTorch FC, float64",
            f"{p['steps']} SGD steps ({p['epochs']} epoch(s) of {p['rows']} rows) from the same weights on"
            f" the same batches: largest loss difference {p['max_abs_difference']:.2e} "
            f"(relative {p['max_relative_difference']:.2e}).",
        ]
    parts += [f"## OCR: character error rate ({results['ocr']['photos']})", ocr_table(results["ocr"])]
    if not results["ocr"]["tesseract"]:
        parts.append("Tesseract: not installed (Debian: `apt install tesseract-ocr`), so not measured.")
    c = results["compression"]
    parts += [
        "## Compression: rate-distortion on the test set",
        f"Autoencoder {c['epochs']} epochs in {c['train_seconds']:.1f} s: {c['psnr_autoencoder']:.2f} dB "
        f"(validation); PCA with 32 components {c['psnr_pca']:.2f} dB (test).",
        compression_table(c),
    ]
    return "\n\n".join(parts) + "\n"
