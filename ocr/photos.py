"""Photos on disk: one image file read and checked, and the sample photos with their true text.

A missing, unreadable, tiny or huge image is one line saying so (UserError); 16-bit and float
images keep their grey levels, and a phone photo is turned upright by its EXIF orientation; files
are only read, never modified.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from tinygrad_hw.app.arrays import checked_pixels
from tinygrad_hw.app.cli import UserError, first_line

from .scoring import normalise

MIN_SIDE = 16  # pixels: anything smaller cannot hold a legible character
MAX_PIXELS = 80_000_000  # a 80-megapixel page is far beyond any phone photo; refuse, don't thrash
WIDE_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N"}  # Pillow's modes of grey levels wider than 8 bits
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".gif", ".webp"}


def load_image(path: Path) -> np.ndarray:
    """The pixels of an image file the right way up, or UserError in one line saying why not.

    Turned as its EXIF Orientation says (a phone's portrait photo is stored sideways with that
    tag). 8-bit images come back as uint8 (grey, RGB, or RGBA when there is transparency);
    16-bit and floating-point grey images as float64 grey levels in [0, 1] (a 16-bit image
    divided by 65535; a float image must already be in [0, 1], and is refused otherwise, as is
    any NaN), checked by the project's one pixel check. The file is only read, never modified.
    """
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
            return _pixels(path, ImageOps.exif_transpose(image))
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise UserError(f"{path}: not an image this reader understands") from None
    except (OSError, ValueError, SyntaxError) as error:  # truncated data, broken tags, odd modes
        reason = first_line(error)
        raise UserError(f"{path}: unreadable image ({reason})") from None


def _pixels(path, image) -> np.ndarray:
    if image.mode in WIDE_MODES:  # 16-bit and 32-bit integer grey levels
        values = np.asarray(image)
        if values.min() < 0 or values.max() > 65535:
            low, high = values.min(), values.max()
            raise UserError(f"{path}: 32-bit grey levels from {low} to {high}; expected 16-bit ones")
        return checked_pixels(values / 65535, path).astype(np.float64)
    if image.mode == "F":  # 32-bit floating point grey levels
        return checked_pixels(np.asarray(image), path).astype(np.float64)
    transparent = "A" in image.getbands() or image.has_transparency_data
    return np.asarray(image.convert("RGBA" if transparent else "RGB"))


def labelled_photos(folder: Path) -> list[tuple[str, np.ndarray, str]]:
    """[(file name, pixels, true text)] of the photos in `folder` that have a .txt of their text.

    The text must be UTF-8 and hold at least one letter or digit (an empty text scores nothing).
    """
    images = [p for p in sorted(Path(folder).iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    labelled = [image for image in images if image.with_suffix(".txt").exists()]
    return [(image.name, load_image(image), true_text(image.with_suffix(".txt"))) for image in labelled]


def true_text(path: Path) -> str:
    """The text of a photo's .txt, or UserError: not UTF-8, or nothing in it to score against."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise UserError(f"{path}: unreadable ({error.strerror or error})") from None
    if not normalise(text):
        raise UserError(f"{path}: holds no letter or digit to score a reading against")
    return text
