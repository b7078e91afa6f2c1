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


def error_rates(reader, photos) -> dict:
    """Read each of `photos` [(name, pixels, true text)] with `reader(pixels) -> text`: the CER per
    photo and overall, the error and character counts, and the mean seconds per photo."""
    per_photo, errors, total, seconds = {}, 0, 0, []
    for name, pixels, truth in photos:
        start = time.perf_counter()
        text = reader(pixels)
        seconds.append(time.perf_counter() - start)
        e, n = character_errors(text, truth)
        per_photo[name], errors, total = e / max(n, 1), errors + e, total + n
    return {"per_photo": per_photo, "cer": errors / max(total, 1), "errors": errors, "characters": total,
            "seconds_per_photo": sum(seconds) / max(len(seconds), 1)}  # fmt: skip
