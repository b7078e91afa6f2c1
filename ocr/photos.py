"""Photos on disk: one image file read and checked, and the sample photos with their true text.

A missing, unreadable, tiny or huge image is one line saying so (UserError); files are only read,
never modified.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from tinygrad_hw.app.cli import UserError

MIN_SIDE = 16  # pixels: anything smaller cannot hold a legible character
MAX_PIXELS = 80_000_000  # a 80-megapixel page is far beyond any phone photo; refuse, don't thrash
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".gif", ".webp"}


def load_image(path: Path) -> np.ndarray:
    """The pixels of an image file, or UserError in one line saying why not (never modifies it)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path}: is a folder, not an image")
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_PIXELS:
                raise UserError(
                    f"{path}: {image.width} x {image.height} pixels is too large (limit 80 megapixels)"
                )
            if min(image.width, image.height) < MIN_SIDE:
                raise UserError(f"{path}: {image.width} x {image.height} pixels is too small to hold text")
            pixels = np.asarray(image.convert("RGBA" if "A" in image.getbands() else "RGB"))
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise UserError(f"{path}: not an image this reader understands") from None
    except OSError as error:
        raise UserError(f"{path}: unreadable image ({error})") from None
    return pixels


def labelled_photos(folder: Path) -> list[tuple[str, np.ndarray, str]]:
    """[(file name, pixels, true text)] of the photos in `folder` that have a .txt of their text."""
    images = [p for p in sorted(Path(folder).iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    labelled = [image for image in images if image.with_suffix(".txt").exists()]
    return [(image.name, load_image(image), image.with_suffix(".txt").read_text()) for image in labelled]
