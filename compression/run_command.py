"""`python -m compression run`: train the autoencoder, fit PCA, and compare them (and JPEG)."""

from __future__ import annotations

import time

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from ocr.nist36 import CLASS_NAMES, load_dataset, upright
from tinygrad_hw import nn
from tinygrad_hw.app.checkpoint import save_checkpoint
from tinygrad_hw.app.cli import UserError, message
from tinygrad_hw.app.files import save_figure, write_json
from tinygrad_hw.app.training import TrainingDiverged, fit

from . import rate_distortion
from .autoencoder import autoencoder, count_parameters, decode, encode, init_autoencoder, loss
from .pca import fit_pca

CODE_SIZE = 32
SHOWN_CLASSES = (0, 7, 18, 26, 30)  # A, H, S, 0, 4


def add_arguments(parser):
    from tinygrad_hw.app.cli import positive_float, positive_int

    parser.add_argument("--epochs", type=positive_int, default=100,
                        help="training epochs (default: 100)")  # fmt: skip
    parser.add_argument("--lr", type=positive_float, default=3e-5,
                        help="learning rate for a batch's total squared error (default: 3e-5)")  # fmt: skip
    parser.add_argument("--batch-size", type=positive_int, default=36, help="rows per batch (default: 36)")


def run(args):
    args.out.mkdir(parents=True, exist_ok=True)  # fail now, not after training
    splits, source = load_dataset(args.data_dir, seed=args.seed)
    train, valid, test = (splits[s].x for s in ("train", "valid", "test"))
    if len(train) < CODE_SIZE:
        raise UserError(
            f"PCA with {CODE_SIZE} components needs at least {CODE_SIZE} training images, got {len(train)}"
        )

    rng = np.random.default_rng(args.seed)
    params = init_autoencoder(rng)
    start = time.perf_counter()
    try:
        params, history = fit(loss, params, (train,), epochs=args.epochs, lr=args.lr,
                                 batch_size=args.batch_size, beta=0.9, rng=rng, loss_is_sum=True,
                                 description="training the autoencoder")  # fmt: skip
    except TrainingDiverged as error:
        raise UserError(f"training diverged, no model written: {error}") from None
    seconds = time.perf_counter() - start

    pca = fit_pca(train, CODE_SIZE)
    ae_valid = nn.predict(autoencoder, params, valid)
    psnr_autoencoder = rate_distortion.mean_psnr(valid, ae_valid)
    psnr_pca = rate_distortion.mean_psnr(test, pca.reconstruct(test))
    points = rate_distortion.curve(
        test,
        lambda k: fit_pca(train, k),
        lambda x: nn.predict(encode, params, x),
        lambda c: nn.predict(decode, params, c),
        max_components=min(train.shape),
    )
    metrics = {
        "data": source,
        "epochs": args.epochs,
        "learning_rate": args.lr,
        "batch_size": args.batch_size,
        "train_seconds": seconds,
        "loss_history": history["train_loss"],
        "psnr_autoencoder": psnr_autoencoder,
        "psnr_autoencoder_on": "validation set",
        "psnr_pca": psnr_pca,
        "psnr_pca_on": "test set",
        "psnr_autoencoder_test": rate_distortion.mean_psnr(test, nn.predict(autoencoder, params, test)),
        "psnr_pca_valid": rate_distortion.mean_psnr(valid, pca.reconstruct(valid)),
        "params_autoencoder": count_parameters(params),
        "params_pca": pca.parameters,
        "projection_shape": list(pca.components.shape),
        "projection_rank": int(np.linalg.matrix_rank(pca.components)),
        "rate_distortion": points,
    }
    save_checkpoint(args.out / "autoencoder.npz", params, {"data": source, "psnr_valid": psnr_autoencoder})
    save_figure(args.out / "loss.png", _loss_figure(history["train_loss"]))
    save_figure(args.out / "reconstructions.png",
                _reconstructions(splits, ae_valid, pca.reconstruct(test)))  # fmt: skip
    save_figure(args.out / "rate_distortion.png", rate_distortion_figure(points))
    write_json(args.out / "metrics.json", metrics)

    print(f"autoencoder trained on {source}: {args.epochs} epochs in {seconds:.1f} s")
    print(
        f"PSNR autoencoder (validation) {psnr_autoencoder:.2f} dB, "
        f"{metrics['params_autoencoder']:,} parameters"
    )
    rows, cols = pca.components.shape
    print(f"PSNR PCA, {CODE_SIZE} components (test) {psnr_pca:.2f} dB, {metrics['params_pca']:,} parameters "
          f"(projection {rows} x {cols}, rank {metrics['projection_rank']})")  # fmt: skip
    for p in points:
        print(f"  {p['method']:20s} {p['setting']:12s} {p['bytes']:7.1f} bytes  {p['psnr']:6.2f} dB")
    message(f"wrote autoencoder.npz, metrics.json and figures to {args.out}")


def _loss_figure(losses):
    fig = Figure(figsize=(5.5, 3.5))
    ax = fig.subplots()
    ax.plot(np.arange(1, len(losses) + 1), losses)
    ax.set(xlabel="epoch", ylabel="squared error per image", title="autoencoder training loss", yscale="log")
    return fig


def _examples(split, classes, per_class=2):
    return [i for c in classes for i in np.flatnonzero(split.y == c)[:per_class]]


def _reconstructions(splits, ae_valid, pca_test):
    """Originals beside reconstructions: the autoencoder on validation images, PCA on test images."""
    valid_rows, test_rows = (
        _examples(splits["valid"], SHOWN_CLASSES),
        _examples(splits["test"], SHOWN_CLASSES),
    )
    fig = Figure(figsize=(8, 2 * len(valid_rows) / 2.5))
    axes = fig.subplots(len(valid_rows), 4)
    titles = ("valid image", "autoencoder", "test image", "PCA (32)")
    for row, (v, t) in enumerate(zip(valid_rows, test_rows)):
        images = (splits["valid"].x[v], ae_valid[v], splits["test"].x[t], pca_test[t])
        for col, image in enumerate(images):
            ax = axes[row, col]
            ax.imshow(upright(np.clip(image, 0, 1)), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(titles[col], fontsize=9)
        axes[row, 0].set_ylabel(CLASS_NAMES[splits["valid"].y[v]], rotation=0, labelpad=12)
    return fig


def rate_distortion_figure(points):
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for method in dict.fromkeys(p["method"] for p in points):
        series = sorted((p for p in points if p["method"] == method), key=lambda p: p["bytes"])
        style = "o-" if len(series) > 2 else "s"
        ax.plot([p["bytes"] for p in series], [p["psnr"] for p in series], style, label=method)
    ax.set(xscale="log", xlabel="bytes per 32 x 32 image", ylabel="PSNR on the test set (dB)",
           title="rate-distortion: PCA, autoencoder, JPEG")  # fmt: skip
    ticks = [16, 32, 64, 128, 256, 512, 1024]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return fig
