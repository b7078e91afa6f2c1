"""Finding handwritten characters in a photo.

The steps, each done with scikit-image, and each sized from the photo itself (its resolution and
the height of its characters), so that other scales and resolutions work the same way:
  1. grey levels in [0, 1], with a transparent background counted as white paper;
  2. flat-fielding: divide by a smooth estimate of the paper's brightness, which removes uneven
     lighting and shadows (and turns a dark desk around the page into blank paper); then a light
     denoising blur;
  3. Otsu's threshold, chosen on the well-lit page, separates ink from paper; a closing reconnects
     broken strokes and tiny specks of paper noise are dropped;
  4. connected components become candidate boxes, except those no character could be (page edges,
     shadows, ruled lines: far taller or wider than a typical component); components that overlap
     horizontally within one line (the pieces of a broken character) are joined;
  5. what is much smaller than a typical character (dots, commas, dust) is dropped, by height,
     so thin characters such as 1 and I survive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage import color, filters, measure, morphology, transform

WORK_SIDE = 1600  # the longer side at which the page is analysed (finer detail gains nothing)


def to_gray(image) -> np.ndarray:
    """Grey levels in [0, 1] of a grayscale, RGB or RGBA image (transparent parts become white)."""
    image = np.asarray(image)
    if image.dtype.kind in "ui":
        image = image / np.iinfo(image.dtype).max
    image = image.astype(np.float64)
    if image.ndim == 3 and image.shape[2] == 4:
        alpha = image[..., 3:]
        image = image[..., :3] * alpha + (1 - alpha)
    if image.ndim == 3 and image.shape[2] == 3:
        image = color.rgb2gray(image)
    elif image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim != 2:
        raise ValueError(f"expected a grayscale, RGB or RGBA image, got shape {image.shape}")
    return np.clip(image, 0, 1)


def flatten_lighting(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Paper brought to 1 everywhere: the image divided by a smooth estimate of the paper.

    The paper's brightness is estimated with a large grey-level closing (which removes the dark,
    thin ink) followed by a blur; dividing by it cancels shading, vignetting and shadows. Returns
    the flattened image and the estimate.
    """
    side = max(gray.shape)
    paper = morphology.closing(gray, morphology.footprint_rectangle((side // 60 + 1,) * 2))
    paper = filters.gaussian(paper, sigma=side / 100)
    return np.clip(gray / np.maximum(paper, 1e-3), 0, 1), paper


def ink_mask(flat: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Boolean mask of ink on a flat-fielded page: denoise, Otsu threshold, close, drop specks.

    The threshold is chosen from the well-lit page only (where the paper estimate is at least 60%
    of its bright level): the edge of the page against a dark desk would otherwise pull it down
    below faint ink. It then applies everywhere, shadows included.
    """
    smooth = filters.gaussian(flat, sigma=max(flat.shape) / 1600)
    page = paper >= 0.6 * np.percentile(paper, 95)
    if smooth[page].max() - smooth[page].min() < 0.1:  # a blank page: no contrast to threshold
        return np.zeros(flat.shape, dtype=bool)
    threshold = filters.threshold_otsu(smooth[page])
    mask = smooth < min(threshold, 0.85)
    mask = morphology.closing(mask, morphology.disk(max(1, round(max(flat.shape) / 800))))
    return morphology.remove_small_objects(mask, max_size=max(4, (max(flat.shape) // 400) ** 2))


def _merge_pieces(boxes, members):
    """Join boxes whose horizontal extents overlap mostly and that are vertically near (one
    character), with the lists of component labels that make each of them up."""
    boxes, members = [list(b) for b in boxes], [list(m) for m in members]
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                if _same_character(boxes[i], boxes[j]):
                    boxes[i] = _union(boxes[i], boxes[j])
                    members[i] += members.pop(j)
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return boxes, members


def _same_character(a, b):
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    narrower = min(a[3] - a[1], b[3] - b[1])
    taller = max(a[2] - a[0], b[2] - b[0])
    vertical_gap = max(a[0], b[0]) - min(a[2], b[2])
    union_height = max(a[2], b[2]) - min(a[0], b[0])
    return overlap > 0.6 * narrower and vertical_gap < 0.3 * taller and union_height < 1.6 * taller


def _union(a, b):
    return [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]


@dataclass
class Letters:
    """What the reader needs beyond `find_letters`: the analysis resolution and each box's pieces."""

    boxes: np.ndarray  # (N, 4) rows [y1, x1, y2, x2] in the input's pixels
    bw: np.ndarray  # the input's size, characters 0 on white 1
    scale: float  # analysis pixels per input pixel
    labels: np.ndarray  # connected-component labels at analysis resolution
    members: list  # for each box, the labels of the components it is made of


def locate_letters(image) -> Letters:
    """Find the characters of a photo (see the module's docstring for the steps)."""
    gray = to_gray(image)
    scale = min(1.0, WORK_SIDE / max(gray.shape))
    work = transform.rescale(gray, scale, anti_aliasing=True) if scale < 1 else gray
    mask = ink_mask(*flatten_lighting(work))
    labels = measure.label(mask, connectivity=2)
    regions = _plausible(measure.regionprops(labels), mask.shape)
    boxes, members = _merge_pieces([r.bbox for r in regions], [[r.label] for r in regions])
    boxes, members = _drop_small(boxes, members)
    full = np.round(np.array(boxes, dtype=float).reshape(-1, 4) / scale).astype(int)
    full[:, 2:] = np.minimum(full[:, 2:], gray.shape)
    bw = transform.resize(~mask, gray.shape, order=0) if scale < 1 else ~mask
    return Letters(full, bw.astype(np.float64), scale, labels, members)


def find_letters(image):
    """Boxes around the handwritten characters of a photo, and the page in black and white.

    Returns `(boxes, bw)`: boxes as an (N, 4) integer array of rows `[y1, x1, y2, x2]` (top-left
    and bottom-right corners, in the input's pixel coordinates), and `bw`, a float image of the
    input's size with the characters black (0) on white (1).
    """
    letters = locate_letters(image)
    return letters.boxes, letters.bw


def _plausible(regions, shape):
    """Drop components that no character could be: far taller than a typical one (a page edge, a
    shadow, a ruled margin), or touching the photo's border while much larger than a character."""
    if not regions:
        return regions
    heights = np.array([r.bbox[2] - r.bbox[0] for r in regions])
    typical = np.median(heights)
    kept = []
    for region, height in zip(regions, heights):
        y1, x1, y2, x2 = region.bbox
        width = x2 - x1
        on_border = y1 == 0 or x1 == 0 or y2 == shape[0] or x2 == shape[1]
        if height > 3 * typical or width > 8 * typical:
            continue
        if on_border and (height > 2 * typical or width > 3 * typical):
            continue
        kept.append(region)
    return kept


def _drop_small(boxes, members):
    """Drop components far shorter than a typical character (dots, commas, dust)."""
    if not boxes:
        return boxes, members
    heights = np.array([b[2] - b[0] for b in boxes])
    typical = np.percentile(heights, 75)
    kept = [k for k, h in enumerate(heights) if h >= 0.45 * typical]
    return [boxes[k] for k in kept], [members[k] for k in kept]
