"""Quality against size: PSNR (scikit-image) against bytes per image, for each way to compress.

* PCA with k components: k numbers per image, stored as float32 (4k bytes) or float16 (2k bytes);
* the autoencoder: its 32-number code as float32 (128 bytes) or float16 (64 bytes);
* JPEG (Pillow) at several qualities, on the same 32 x 32 grey images: the file's size. A blank
  32 x 32 JPEG already takes 343 bytes of headers and tables, which so small an image cannot amortise.
The learned decoders themselves (the PCA basis, the decoder's weights) are shared by all images
and not counted per image.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio

from tinygrad_hw.app.cli import message

PCA_COMPONENTS = (8, 16, 32, 64, 128)
JPEG_QUALITIES = (5, 10, 25, 50, 75, 90)


def mean_psnr(original, reconstructed) -> float:
    """PSNR in dB with data range 1, averaged over images (rows)."""
    reconstructed = np.clip(reconstructed, 0, 1)
    return float(
        np.mean([peak_signal_noise_ratio(o, r, data_range=1.0) for o, r in zip(original, reconstructed)])
    )


def quantised(codes, dtype):
    """Codes as they come back after being stored with `dtype`."""
    return codes.astype(dtype).astype(np.float64)


def jpeg_point(rows, quality):
    """(mean bytes, mean PSNR) of JPEG at `quality` on 32 x 32 images given as rows."""
    sizes, decoded = [], []
    for row in rows:
        image = Image.fromarray(np.round(np.clip(row, 0, 1) * 255).astype(np.uint8).reshape(32, 32))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)
        sizes.append(buffer.tell())
        buffer.seek(0)
        decoded.append(np.asarray(Image.open(buffer), dtype=np.float64).ravel() / 255)
    return float(np.mean(sizes)), mean_psnr(rows, np.array(decoded))


def curve(rows, fit_pca, encode, decode, max_components):
    """All rate-distortion points on `rows`: a list of {method, setting, bytes, psnr}.

    PCA needs more training images than components: larger k than `max_components` are skipped.
    """
    points = []
    for k in PCA_COMPONENTS:
        if k > max_components:
            message(f"PCA with {k} components needs more than {max_components} training images; skipped")
            continue
        pca = fit_pca(k)
        codes = pca.encode(rows)
        for dtype, size in ((np.float32, 4), (np.float16, 2)):
            psnr = mean_psnr(rows, pca.decode(quantised(codes, dtype)))
            points.append(
                {
                    "method": f"PCA {np.dtype(dtype).name}",
                    "setting": f"k={k}",
                    "bytes": k * size,
                    "psnr": psnr,
                }
            )
    codes = encode(rows)
    for dtype, size in ((np.float32, 4), (np.float16, 2)):
        psnr = mean_psnr(rows, decode(quantised(codes, dtype).astype(codes.dtype)))
        points.append(
            {
                "method": f"autoencoder {np.dtype(dtype).name}",
                "setting": "32 numbers",
                "bytes": codes.shape[1] * size,
                "psnr": psnr,
            }
        )
    for quality in JPEG_QUALITIES:
        size, psnr = jpeg_point(rows, quality)
        points.append({"method": "JPEG", "setting": f"quality {quality}", "bytes": size, "psnr": psnr})
    return points
