"""The embedded default dataset: NIST36-style characters rendered from matplotlib's own fonts.

A machine with no data still needs something to train on. Every uppercase letter and digit is
rendered once per font that ships with matplotlib (DejaVu, STIX and Computer Modern faces), and
each sample is one of those glyphs pushed through random distortions that imitate handwriting in
the NIST36 files: a random affine map (rotation, shear, anisotropic scale, offset), an elastic
warp (a smooth random displacement field), a random stroke width, and paper noise. Samples are
framed like the NIST36 stand-in (the longer side 18-24 px of 32, centred), stored the same way
(white background 1, ink 0, rows in the NIST36 storage), and cached on disk after the first run.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.font_manager import FontProperties
from matplotlib.path import Path as GlyphPath
from matplotlib.textpath import TextPath
from scipy import ndimage

from tinygrad_hw.app.arrays import checked_pixels
from tinygrad_hw.app.cache import cache_dir
from tinygrad_hw.app.cli import message
from tinygrad_hw.app.files import load_arrays, save_arrays

from .augment import affine_matrices
from .layout import CLASS_NAMES, PIXELS, SIDE, SPLITS, Split, stored

VERSION = 1  # bump when the generator changes, so stale caches are not reused
SPLIT_SIZES = {"train": 10_800, "valid": 3_600, "test": 1_800}  # the course's NIST36 sizes
FONT_FILES = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf",
    "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf",
    "cmr10.ttf", "cmss10.ttf", "cmtt10.ttf", "cmb10.ttf",
)  # fmt: skip
_RENDER = 64  # glyphs are rasterised at this size, then sampled down to 32


def font_paths() -> list[Path]:
    """The font files used, from matplotlib's own data folder (always installed with it)."""
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return [folder / name for name in FONT_FILES if (folder / name).exists()]


@cache
def glyph(font: Path, char: str) -> np.ndarray:
    """Ink coverage in [0, 1] of `char` in `font`, cropped to its bounding box, about 64 px tall."""
    path = TextPath((0, 0), char, size=_RENDER, prop=FontProperties(fname=str(font)))
    (x0, y0), (x1, y1) = path.get_extents().get_points()
    supersample = 2  # 2 x 2 points per pixel give anti-aliased edges
    step = 1 / supersample
    xs = np.arange(np.floor(x0) - 1, np.ceil(x1) + 1, step) + step / 2
    ys = np.arange(np.ceil(y1) + 1, np.floor(y0) - 1, -step) - step / 2
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    inside = _contains(path, grid).reshape(len(ys), len(xs)).astype(np.float32)
    h, w = (len(ys) // supersample) * supersample, (len(xs) // supersample) * supersample
    return inside[:h, :w].reshape(h // supersample, supersample, w // supersample, supersample).mean((1, 3))


def _contains(path, points):
    """Even-odd inside test over all of a glyph's closed outlines (holes in A, B, 0 stay open)."""
    inside = np.zeros(len(points), dtype=bool)
    for polygon in path.to_polygons(closed_only=True):
        inside ^= GlyphPath(polygon).contains_points(points)
    return inside


def render(rng: np.random.Generator, font: Path, char: str) -> np.ndarray:
    """One distorted 32 x 32 sample of `char`: background 1, ink 0, upright (not yet transposed)."""
    source = glyph(font, char)
    h, w = source.shape
    longest = rng.uniform(18, 24)
    scale = longest / max(h, w) * rng.uniform(0.85, 1.1, size=2)  # per axis: anisotropic
    angle, shear = np.deg2rad(rng.normal(0, 6)), rng.normal(0, 0.12)
    forward = affine_matrices(np.asarray(angle), np.asarray(shear), scale)  # source -> output
    inverse = np.linalg.inv(forward)

    out = np.mgrid[0:SIDE, 0:SIDE].reshape(2, -1).astype(np.float64)
    centre = SIDE / 2 - 0.5 + rng.normal(0, 0.8, size=2)
    out += _elastic_field(rng).reshape(2, -1)
    coords = inverse @ (out - centre[:, None]) + np.array([(h - 1) / 2, (w - 1) / 2])[:, None]
    blurred = ndimage.gaussian_filter(source, sigma=0.4 / min(scale))  # no aliasing when shrinking
    ink = ndimage.map_coordinates(blurred, coords, order=1, cval=0.0).reshape(SIDE, SIDE)
    ink = _stroke_width(rng, ink)
    paper = 1 - ink + rng.normal(0, rng.uniform(0, 0.05), ink.shape)
    return np.clip(paper, 0, 1).astype(np.float32)


def _elastic_field(rng):
    """A smooth random displacement of every output pixel, 1-2.5 px at most (elastic warping)."""
    field = ndimage.gaussian_filter(rng.normal(size=(2, SIDE, SIDE)), sigma=(0, 5, 5))
    return field / (np.abs(field).max() + 1e-12) * rng.uniform(1.0, 2.5)


def _stroke_width(rng, ink):
    """Thicken or thin strokes: blur, then a soft threshold at a random level."""
    spread = ndimage.gaussian_filter(ink, sigma=rng.uniform(0.6, 1.2))
    level = rng.uniform(0.2, 0.45)  # lower levels give thicker strokes
    return 1 / (1 + np.exp(-(spread - level) / 0.05))


def make_split(name: str, seed: int = 0, size: int | None = None) -> Split:
    """`size` samples (default: the course's split size), classes in equal shares, sorted by class."""
    size = SPLIT_SIZES[name] if size is None else size
    rng = np.random.default_rng([seed, SPLITS.index(name), VERSION])
    fonts = font_paths()
    labels = np.sort(np.arange(size) % len(CLASS_NAMES))
    images = np.empty((size, PIXELS), dtype=np.float32)
    for i, label in enumerate(labels):
        font = fonts[rng.integers(len(fonts))]
        images[i] = stored(render(rng, font, CLASS_NAMES[label]))
    return Split(images, labels)


def synthetic_cache_file(seed: int = 0) -> Path:
    """Where `load_synthetic(seed)` keeps the embedded default it generated."""
    return cache_dir() / f"synthetic-nist36-v{VERSION}-seed{seed}.npz"


def load_synthetic(seed: int = 0) -> dict[str, Split]:
    """The embedded default: train, valid and test splits, generated once and cached on disk."""
    path = synthetic_cache_file(seed)
    if path.exists():
        try:
            arrays = load_arrays(path)
            return {s: _cached_split(path, arrays, s) for s in SPLITS}
        except Exception:  # a damaged cache is regenerated, not trusted
            message(f"ignoring an unreadable cache file {path}")
    message(f"generating the embedded default dataset (characters from matplotlib's fonts) into {path}")
    splits = {s: make_split(s, seed) for s in SPLITS}
    try:
        save_arrays(path, {f"{s}_{k}": getattr(splits[s], k) for s in SPLITS for k in ("x", "y")})
    except OSError as error:
        message(f"could not cache the dataset ({error}); it will be generated again next time")
    return splits


def _cached_split(path, arrays, split) -> Split:
    """One split of the cache file, checked like any data file (a damaged cache is not trusted)."""
    x = checked_pixels(arrays[f"{split}_x"], path, f"{split} images")
    y = arrays[f"{split}_y"]
    classes = np.arange(len(CLASS_NAMES))
    if x.shape != (SPLIT_SIZES[split], PIXELS) or y.shape != (len(x),) or not np.isin(y, classes).all():
        raise ValueError(f"{path}: the {split} split is not what the generator writes")
    return Split(x, y.astype(np.int64))
