"""The report's HTML page, and the check that it renders in headless Chromium with every image.

The page is one self-contained file (`index.html`: its style inline, no scripts or fonts from
elsewhere) with the figures beside it in each part's folder, linked relatively, so the folder can
be copied or zipped whole. Each part shows its command, its tables (the Markdown tables the
command printed, as HTML tables), its other output, its numbers from metrics.json and its figures.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

from tinygrad_hw.app.files import write_bytes_atomic

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .9em; }
td, th { border: 1px solid #ccc; padding: .25em .6em; text-align: left; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; font-size: .85em; }
figure { display: inline-block; margin: .5em; vertical-align: top; }
figure img { max-width: 520px; border: 1px solid #eee; }
figcaption { font-size: .8em; color: #555; }
.skipped { color: #8a6d00; } .failed { color: #b00020; } .ok { color: #1b6e20; }
"""
# Counts the images that loaded once the page has; the render check reads the counts off the DOM.
IMAGE_CHECK = """
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const loaded = images.filter((i) => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.images = images.length;
  document.body.dataset.loaded = loaded;
});
"""
_SCALAR = (int, float, str, bool)


def _table(lines) -> str:
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]
    rows = [r for r in rows if not all(re.fullmatch(r":?-+:?", c) for c in r)]  # the |---| rule
    head, body = rows[0], rows[1:]
    out = ["<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in head) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in body]
    return "\n".join(out) + "</table>"


def output_html(text: str) -> str:
    """A command's stdout: runs of Markdown table lines become tables, the rest preformatted text."""
    blocks, table, plain = [], [], []

    def flush():
        if table:
            blocks.append(_table(table))
            table.clear()
        if any(line.strip() for line in plain):
            blocks.append(f"<pre>{html.escape(chr(10).join(plain).strip())}</pre>")
        plain.clear()

    for line in text.splitlines():
        if line.lstrip().startswith("|"):
            if plain:
                flush()
            table.append(line)
        else:
            if table:
                flush()
            plain.append(line)
    flush()
    return "\n".join(blocks)


def numbers_html(metrics: dict) -> str:
    """The scalar numbers of a metrics.json (lists and nested results stay in the file)."""
    rows = [(k, v) for k, v in metrics.items() if isinstance(v, _SCALAR) and len(str(v)) < 120]
    if not rows:
        return ""
    cells = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(_format(v))}</td></tr>" for k, v in rows)
    return f"<details><summary>numbers (metrics.json)</summary><table>{cells}</table></details>"


def _format(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def figures_html(out: Path, folder: str) -> str:
    images = sorted((out / folder).glob("*.png")) if (out / folder).is_dir() else []
    return "\n".join(
        f'<figure><img src="{html.escape(folder)}/{html.escape(p.name)}" alt="{html.escape(p.stem)}">'
        f"<figcaption>{html.escape(p.name)}</figcaption></figure>"
        for p in images
    )


def part_html(out: Path, part: dict) -> str:
    status = part["status"]
    lines = [
        f'<h2 id="{part["name"]}">{html.escape(part["heading"])}</h2>',
        f'<p><code>{html.escape(part["command"])}</code> &middot; <span class="{status}">{status}</span>',
    ]
    if status == "ok":
        lines[-1] += f" in {part['seconds']:.0f} s</p>"
        lines += [
            output_html(part.get("stdout", "")),
            numbers_html(part.get("metrics", {})),
            figures_html(out, part["folder"]),
        ]
    else:
        lines[-1] += f": {html.escape(part['reason'])}</p>"
    return "\n".join(lines)


def write_page(out: Path, parts: list[dict], quick=False) -> Path:
    not_run = [p for p in parts if p["status"] != "ok"]
    summary = "".join(
        f'<li><a href="#{p["name"]}">{html.escape(p["name"])}</a>: <span class="{p["status"]}">'
        f"{p['status']}</span> ({html.escape(p['reason'])})</li>"
        for p in not_run
    )
    contents = "".join(f'<li><a href="#{p["name"]}">{html.escape(p["heading"])}</a></li>' for p in parts)
    page = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>tinygrad_hw: every result of the homework</title>",
        f"<style>{STYLE}</style><script>{IMAGE_CHECK}</script></head><body>",
        "<h1>tinygrad_hw: every result of the homework</h1>",
        "<p><strong>Quick run: fewer epochs everywhere; a preview, not the results.</strong></p>" * quick,
        f"<ul>{contents}</ul>",
        f"<h3>Skipped or failed</h3><ul>{summary}</ul>" if not_run else "<p>Every part ran.</p>",
        *[part_html(out, p) for p in parts],
        "</body></html>",
    ]
    return write_bytes_atomic(out / "index.html", "\n".join(page).encode())


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def check_render(index: Path, screenshot: Path | None = None) -> dict | None:
    """Open the page in headless Chromium; {images, loaded} from the page's own count, or None
    when Chromium is not installed."""
    browser = chromium()
    if browser is None:
        return None
    url = Path(index).resolve().as_uri()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000"]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120
    ).stdout
    counts = re.search(r'data-images="(\d+)" data-loaded="(\d+)"', dom)
    if counts is None:
        return {"images": -1, "loaded": 0, "error": "the page did not finish loading"}
    if screenshot is not None:
        subprocess.run(
            [browser, *flags, "--window-size=1200,2400", f"--screenshot={screenshot}", url],
            capture_output=True,
            timeout=120,
        )
    return {"images": int(counts[1]), "loaded": int(counts[2])}
