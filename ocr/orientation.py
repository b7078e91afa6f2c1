"""Which way up a page is, and whether it is written light on dark: measured, then said and undone.

The reader assumes dark writing on light paper, in horizontal lines, the right way up. A page
photographed otherwise would read as garbage, so `ocr.reading.read` checks each page first and,
when one of these checks is sure, reads the page turned or with its tones reversed, and says so:

* polarity (`looks_inverted`): ink is the minority of a page, and it differs from the paper
  around it. Each pixel is compared with the median of its neighbourhood (a window of 1/16 of the
  page, on a copy at most 384 px wide: fast, and a median is not pulled by the ink itself);
  on a page written dark on light nearly all pixels that stand out are darker than their
  surroundings, written light on dark nearly all are lighter. The page counts as inverted when
  the lighter ones clearly win (`INVERTED`: measured on the sample photos and generated pages, a
  normal page scores -0.8 to -1, shadows and a dark desk included, an inverted one +0.8 to +1).
* sideways (`looks_sideways`): characters on a line are nearer each other than the lines are, so
  the nearest neighbour of most characters lies beside them; on a page turned by 90 degrees it
  lies above or below them (the sample photos: at most 8% of characters upright, 90% or more
  turned).
* upside down: no geometry tells 0 from 180 degrees, so the classifier does: each character crop
  is turned as the page would be, and the page is read turned when the classifier is surer of the
  turned crops, both on average (by `MARGIN`, in mean log-probability of the best class) and for
  most characters. The same comparison picks 90 or 270 degrees for a sideways page, and keeps a
  page as it is when turning would not make its characters more legible (a single column of
  characters is not a sideways line). On the sample photos and generated pages, with the MLP and
  with a CNN, turned pages were more legible by 0.05 to 0.2 and upright ones less legible by 0.03
  to 0.26; a turn the classifier is not sure of is not made (the page is read as it is), since
  turning an upright page would ruin a good reading. Symmetric characters (O, S, X, Z, N, H, I,
  0, 1, 8) tell nothing, so a page of them alone stays as it is.

Nothing is guessed on a page with fewer than `MIN_CHARACTERS` characters: it is read as it is.
"""

from __future__ import annotations

import numpy as np
from skimage.filters import rank

from .nist36 import stored, upright

INVERTED = 0.5  # balance of lighter over darker standing-out pixels above which a page is inverted
SIDEWAYS = 0.5  # share of characters whose nearest neighbour is above or below, above which: sideways
MARGIN = 0.05  # nats per character by which a turned page's crops must be more legible on average
MIN_CHARACTERS = 6
_POLARITY_SIDE = 384  # pixels: the longer side of the copy the polarity is measured on


def ink_balance(gray: np.ndarray) -> float:
    """(lighter - darker) / (lighter + darker) over the pixels that differ from their neighbourhood's
    median by more than a tenth of the page's contrast; 0 when none do (a blank page)."""
    step = max(1, int(np.ceil(max(gray.shape) / _POLARITY_SIDE)))
    small = gray[::step, ::step]
    levels = np.round(np.clip(small, 0, 1) * 255).astype(np.uint8)
    side = max(small.shape) // 16 | 1
    median = rank.median(levels, np.ones((side, side), dtype=bool)).astype(np.float64) / 255
    difference = small - median
    low, high = np.percentile(small, [1, 99])
    delta = max(0.1 * (high - low), 1 / 255)
    darker, lighter = int((difference < -delta).sum()), int((difference > delta).sum())
    return (lighter - darker) / max(lighter + darker, 1)


def looks_inverted(gray: np.ndarray) -> bool:
    """Whether a grey page (in [0, 1]) is written light on dark."""
    return ink_balance(gray) > INVERTED


def sideways_share(boxes) -> float:
    """The share of boxes whose nearest neighbour (by centre) is more above or below than beside."""
    b = np.asarray(boxes, dtype=float).reshape(-1, 4)
    if len(b) < 2:
        return 0.0
    cy, cx = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    distance = np.hypot(cy[:, None] - cy[None], cx[:, None] - cx[None])
    np.fill_diagonal(distance, np.inf)
    nearest = distance.argmin(axis=1)
    return float(np.mean(np.abs(cy - cy[nearest]) > np.abs(cx - cx[nearest])))


def looks_sideways(boxes) -> bool:
    return len(boxes) >= MIN_CHARACTERS and sideways_share(boxes) > SIDEWAYS


def turned_rows(rows, turns: int) -> np.ndarray:
    """NIST36 rows of crops, each turned by `turns` quarter turns counterclockwise (as np.rot90)."""
    return stored(np.rot90(upright(rows), turns, axes=(-2, -1)))


def legibility(scores) -> np.ndarray:
    """Per character, the classifier's log-probability of its best class (its scores may be logits
    or probabilities)."""
    scores = np.asarray(scores, dtype=np.float64)
    shifted = scores - scores.max(axis=1, keepdims=True)
    return -np.log(np.exp(shifted).sum(axis=1))


def best_turn(boxes, rows, classify) -> int:
    """The quarter turns (counterclockwise) that make a page's characters most legible: 1 or 3
    for a page that looks sideways, 2 for one that does not, and 0 (as it is) unless the turned
    crops are more legible on average by `MARGIN` and for most characters."""
    if len(boxes) < MIN_CHARACTERS:
        return 0
    candidates = (1, 3) if looks_sideways(boxes) else (2,)
    as_is = legibility(classify(rows))
    turned = {turns: legibility(classify(turned_rows(rows, turns))) for turns in candidates}
    best = max(candidates, key=lambda turns: turned[turns].mean())
    clearer = turned[best].mean() > as_is.mean() + MARGIN and np.mean(turned[best] > as_is) > 0.5
    return best if clearer else 0
