"""`python -m benchmarks report --out DIR`: every part of the homework, run, in one HTML page.

Each part is the project's own command with its default settings, run in a child process into
DIR/<part>/: the engine's demo, the NIST36 classifier with all its figures and the learning-rate
sweep, the engine's CNN, reading every sample photo with overlays, compression against PCA, each
PyTorch task whose data is present, and the benchmarks. DIR/index.html then shows every figure,
table and number under its homework question's heading, and says which parts were skipped and why
(missing data or weights). A part that fails is reported on the page with its last error line; the
others still run. When Chromium is installed, the page is opened headless at the end and the
number of images that loaded is checked and printed.

`--quick` gives every command fewer epochs, and the PyTorch tasks at most 500 images per split: a
preview of the page in minutes, not the results.
`--images DIR` gives the imagefolder and finetune parts another ImageFolder tree than Flowers-17.
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from tinygrad_hw.app.cli import message
from tinygrad_hw.app.files import write_json

from ..html_page import check_render, write_page
from ..parts import PARTS, run_part


def run(
    *,
    out: Path,
    data_dir: Path | None,
    seed: int,
    quick: bool,
    parts: list[str] | None,
    images: Path | None = None,
) -> int:
    """Run the parts, write the page and metrics.json; exit status 1 when a part failed or the page
    did not render with every image. `images`: an ImageFolder tree for the imagefolder and finetune
    parts instead of Flowers-17."""
    names = parts or list(PARTS)
    out.mkdir(parents=True, exist_ok=True)
    parts_out = {name: str(out / name) for name in PARTS}
    results = []
    with tqdm(names, desc="report", unit="part", disable=None) as bar:
        for name in bar:
            bar.set_postfix_str(name)
            message(f"[{name}] {PARTS[name][0]}")
            results.append(run_part(name, out, data_dir, seed, quick, parts_out, images))
            if results[-1]["status"] != "ok":
                message(f"[{name}] {results[-1]['status']}: {results[-1]['reason']}")
    index = write_page(out, results, quick=quick)
    render = check_render(index)
    listed = [{k: v for k, v in r.items() if k not in ("stdout", "metrics")} for r in results]
    write_json(out / "metrics.json", {"quick": quick, "parts": listed, "render": render})
    for r in results:
        detail = f"{r['seconds']:.0f} s" if r["status"] == "ok" else r["reason"]
        print(f"{r['status']:8s} {r['name']:16s} {detail}")
    if render is None:
        print("render check: Chromium is not installed (Debian: apt install chromium); not checked")
    else:
        print(f"render check (headless Chromium): {render['loaded']} of {render['images']} images loaded")
    failed = [r["name"] for r in results if r["status"] == "failed"]
    if failed or (render is not None and render["loaded"] != render["images"]):
        return 1
    return 0
