"""Character error rate: edit distance over A-Z and 0-9, after uppercasing, spaces and punctuation
ignored, divided by the number of such characters in the true text."""

from __future__ import annotations

import string
import time

_KEPT = set(string.ascii_uppercase + string.digits)


def normalise(text: str) -> str:
    return "".join(c for c in text.upper() if c in _KEPT)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions turning a into b."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def character_errors(predicted: str, truth: str) -> tuple[int, int]:
    """(edit distance, number of true characters), both over the kept characters."""
    truth = normalise(truth)
    return edit_distance(normalise(predicted), truth), len(truth)


def score_photos(reader, photos) -> list[dict]:
    """Read each of `photos` [(name, pixels, true text)] with `reader(pixels) -> text`: per photo
    its name, character error rate, errors, characters, seconds taken and the text read."""
    scores = []
    for name, pixels, truth in photos:
        start = time.perf_counter()
        text = reader(pixels)
        seconds = time.perf_counter() - start
        errors, length = character_errors(text, truth)
        cer = errors / max(length, 1)
        scores.append(
            {
                "image": name,
                "cer": cer,
                "errors": errors,
                "characters": length,
                "seconds": seconds,
                "text": text,
            }
        )
    return scores


def overall(scores) -> dict:
    """The character error rate over all photos together, with its error and character counts."""
    errors, characters = sum(s["errors"] for s in scores), sum(s["characters"] for s in scores)
    return {"cer": errors / max(characters, 1), "errors": errors, "characters": characters}


def error_rates(reader, photos) -> dict:
    """The CER of each photo and overall, the counts, and the mean seconds per photo (see
    `score_photos`)."""
    scores = score_photos(reader, photos)
    seconds = sum(s["seconds"] for s in scores) / max(len(scores), 1)
    return {
        "per_photo": {s["image"]: s["cer"] for s in scores},
        **overall(scores),
        "seconds_per_photo": seconds,
    }
