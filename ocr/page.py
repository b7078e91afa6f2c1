"""A page of handwriting-like text whose content is known: what the demo reads on a machine
without photos.

Each character is one of the embedded default's distorted glyphs, drawn larger and placed with
uneven spacing along lines of words; the page is then tilted by a few degrees, lit unevenly and
speckled with paper noise, so that the reader meets the same difficulties as with a photo.
"""

from __future__ import annotations

import numpy as np
from skimage import transform

from .nist36 import font_paths, render

WORDS = (
    "THE QUICK BROWN FOX JUMPS OVER LAZY DOG PACK MY BOX WITH FIVE DOZEN LIQUOR JUGS HANDWRITING "
    "READS WELL WHEN EVERY LETTER IS CLEAR NEURAL NETWORKS LEARN FROM DATA GRADIENT DESCENT"
).split()


def random_text(rng, lines=4, words_per_line=(2, 4)):
    """Lines of random words, with a number now and then."""
    text = []
    for _ in range(lines):
        words = [
            WORDS[i] for i in rng.integers(len(WORDS), size=rng.integers(*words_per_line, endpoint=True))
        ]
        if rng.random() < 0.5:
            words.insert(int(rng.integers(len(words) + 1)), str(int(rng.integers(10, 1000))))
        text.append(" ".join(words))
    return "\n".join(text)


def make_page(rng, text, char_height=56):
    """An RGB page (uint8) with `text` written on it, one line of the page per line of text."""
    fonts = font_paths()
    lines = text.split("\n")
    pitch = int(char_height * 1.1)
    width = int(max(len(line) for line in lines) * pitch + 4 * char_height)
    height = int(len(lines) * char_height * 1.9 + 3 * char_height)
    paper = np.ones((height, width))
    y = int(1.5 * char_height)
    for line in lines:
        x = int(1.5 * char_height + rng.integers(0, char_height))
        for char in line:
            if char == " ":
                x += int(pitch * rng.uniform(0.7, 1.0))
                continue
            glyph = _ink_only(render(rng, fonts[rng.integers(len(fonts))], char))
            h = int(char_height * rng.uniform(0.9, 1.1))
            w = max(2, int(glyph.shape[1] * h / glyph.shape[0]))
            glyph = transform.resize(glyph, (h, w))
            top = y + int(rng.integers(-3, 4)) + (char_height - h) // 2
            paper[top : top + h, x : x + w] = np.minimum(paper[top : top + h, x : x + w], glyph)
            x += w + int(char_height * rng.uniform(0.15, 0.3))
        y += int(char_height * 1.9)
    return _photograph(rng, paper)


def _ink_only(sample):
    """A rendered sample cropped to its ink, so every character can be drawn at the line's height."""
    rows, cols = np.nonzero(sample < 0.6)
    if len(rows) == 0:
        return sample
    return sample[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _photograph(rng, paper):
    """Tilt, uneven light and noise, as a phone photo of the page would have."""
    tilted = transform.rotate(paper, rng.uniform(-3, 3), resize=False, cval=1.0, mode="constant")
    h, w = tilted.shape
    yy, xx = np.mgrid[0:h, 0:w]
    light = 0.75 + 0.2 * (xx / w) + 0.05 * np.sin(yy / h * np.pi)
    page = tilted * light + rng.normal(0, 0.02, tilted.shape)
    tint = np.array([1.0, 0.97, 0.92])  # slightly warm paper
    return (np.clip(page[..., None] * tint, 0, 1) * 255).astype(np.uint8)
