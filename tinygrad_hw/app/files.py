"""Output files written atomically, a run's outputs written as a unit, and arrays read back safely.

A file is written to a temporary file in the same folder, then renamed over the old one: it is
either the old one or the new one, never half of either. A command's whole `--out` folder is
written the same way (`run_folder`): into a hidden sibling folder, swapped in by a rename when the
run is complete, so that the folder always holds one whole run, the old one or the new one, never
a model from one run beside metrics from another. A temporary that an interrupted process left
behind (its process is gone) is removed the next time the same file or folder is written.

Arrays are stored as uncompressed `.npz` without pickle, figures as PNG, numbers as strict JSON:
a value that is not a finite number (NaN, infinity) is never written into a JSON file; the write
fails before anything is written, naming the value (JSON has no NaN, and a null would hide that
the computation went wrong).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import io
import json
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import UserError, first_line

RUN_MARKER = ".run.json"  # in every folder `run_folder` wrote: which command wrote it, and when
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.(?:tmp|staging|old)$")
_OLD_STYLE_AGE = 3600  # seconds: a temporary without its process id (older versions) counts as stale


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to `path` through a temporary file in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def remove_stale_temporaries(path: Path) -> None:
    """Remove the temporaries of `path` (files or folders beside it) whose process has ended.

    A folder left by a run interrupted in the middle of swapping itself in holds the previous
    run: it is put back when `path` is missing, instead of being removed.
    """
    path = Path(path)
    if not path.parent.is_dir():
        return
    prefix = f".{path.name}."
    for entry in path.parent.iterdir():
        if not entry.name.startswith(prefix) or not _is_stale(entry, path.name):
            continue
        if entry.name.endswith(".old") and not path.exists():
            os.rename(entry, path)
        elif entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _is_stale(entry: Path, name: str) -> bool:
    match = _TEMPORARY.match(entry.name)
    if match is not None and match["name"] == name:
        return not _process_alive(int(match["pid"]))
    if entry.name.endswith(".tmp"):  # written before temporaries carried their process id
        try:
            return time.time() - entry.lstat().st_mtime > _OLD_STYLE_AGE
        except FileNotFoundError:
            return False
    return False


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


# -- a run's outputs as a unit ----------------------------------------------------------------------


@contextmanager
def run_folder(out: Path, command: str, inputs=()) -> Iterator[Path]:
    """A fresh folder to write a run's outputs into, swapped in for `out` when the block ends.

    The block writes into the folder it is given (a hidden sibling of `out`). When it ends
    normally, the folder becomes `out` in one rename (the previous run is then deleted); when it
    raises (an error, an interrupt), the folder is deleted and `out` keeps the previous run.
    `out` must be new, empty, or a folder this same `command` wrote before (its `.run.json` says
    so): a folder of other files, the current folder, or one holding any of `inputs` (paths the
    command reads) is refused in one line before anything runs, since swapping it would delete
    what is in it. A read-only or impossible `--out` fails here too, before any work.
    """
    out = Path(out)
    _check_replaceable(out, command, inputs)
    target = out.resolve()
    created = _make_parents(out, target.parent)
    if out.exists() and not os.access(out, os.W_OK | os.X_OK):
        raise UserError(f"{out}: not writable")
    try:
        remove_stale_temporaries(target)
        prefix = f".{target.name}.{os.getpid()}."
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=prefix, suffix=".staging"))
    except OSError as error:
        raise UserError(f"{out}: cannot write there ({error.strerror or error})") from None
    try:
        yield staging
        marker = {"command": command, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        (staging / RUN_MARKER).write_text(json.dumps(marker) + "\n")
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created:  # the folders made for a run that left nothing
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _make_parents(out: Path, parent: Path) -> list[Path]:
    """Create `parent` and the folders above it that are missing; those created, deepest first."""
    missing = [p for p in [parent, *parent.parents] if not p.exists()]
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserError(f"{out}: {parent} is a file, not a folder") from None
    except OSError as error:
        raise UserError(f"{out}: cannot create the folder ({error.strerror or error})") from None
    return missing


def run_contents(out: Path) -> list[str]:
    """The names of what a run wrote in `out` (without the marker), sorted."""
    return sorted(p.name for p in Path(out).iterdir() if p.name != RUN_MARKER)


def _check_replaceable(out: Path, command: str, inputs) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: is a file, not a folder for the results")
    target = out.resolve()
    if Path.cwd().resolve().is_relative_to(target):
        raise UserError(f"{out}: is the current folder (or holds it); give --out a folder of its own")
    for path in inputs:
        if Path(path).resolve().is_relative_to(target):
            raise UserError(
                f"{out}: holds {path}, which this command reads; the results replace the whole "
                "folder, so give --out a folder of its own"
            )
    if not out.is_dir() or not any(out.iterdir()):
        return
    try:
        previous = json.loads((out / RUN_MARKER).read_text())["command"]
    except (OSError, ValueError, KeyError, TypeError):
        raise UserError(
            f"{out}: holds files that no run of this project wrote (it has no {RUN_MARKER}); the "
            "results replace the whole folder, so give --out a new or empty folder"
        ) from None
    if previous != command:
        raise UserError(
            f"{out}: holds the results of `{previous}`, which `{command}` would replace; "
            "give --out another folder"
        )


_RENAME_EXCHANGE, _AT_FDCWD = 2, -100  # Linux renameat2: swap two paths in one step


def _swap_in(staging: Path, target: Path) -> None:
    """Make `staging` the folder `target`: one rename when there is nothing there, an atomic
    exchange of the two (Linux) when there is, or (elsewhere) two renames with the old run kept
    aside until the new one is in place."""
    try:
        os.rename(staging, target)  # succeeds when target is absent or an empty folder
        return
    except OSError as error:
        if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # it now holds the previous run
        return
    aside = staging.with_name(staging.name.removesuffix(".staging") + ".old")
    os.rename(target, aside)
    os.rename(staging, target)
    shutil.rmtree(aside, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    done = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0
    if not done and ctypes.get_errno() not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))
    return done


# -- JSON, figures, arrays ----------------------------------------------------------------------------


def write_json(path: Path, obj) -> Path:
    """Write `obj` as JSON, atomically; a NaN or infinite value anywhere is a UserError naming it,
    raised before anything is written."""
    plain = _plain(obj)
    problem = _first_non_finite(plain)
    if problem is not None:
        where, value = problem
        raise UserError(f"{Path(path).name}: {where} is {value}, not a finite number; nothing was written")
    return write_bytes_atomic(path, (json.dumps(plain, indent=2, allow_nan=False) + "\n").encode())


def _plain(x):
    """`x` with numpy values, tuples and paths turned into what `json` writes."""
    if isinstance(x, dict):
        return {k.item() if isinstance(k, np.generic) else k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return _plain(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, Path):
        return str(x)
    if x is None or isinstance(x, (str, int, float, bool)):
        return x
    raise TypeError(f"cannot store {type(x).__name__} in JSON")


def _first_non_finite(x, where="the value"):
    if isinstance(x, float) and not math.isfinite(x):
        return where, x
    children = x.items() if isinstance(x, dict) else enumerate(x) if isinstance(x, list) else ()
    for key, value in children:
        found = _first_non_finite(value, f"{where}[{key!r}]" if where != "the value" else repr(key))
        if found is not None:
            return found
    return None


def save_figure(path: Path, figure) -> Path:
    """Save a matplotlib Figure as PNG, atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    return write_bytes_atomic(path, buffer.getvalue())


def save_arrays(path: Path, arrays: dict) -> Path:
    """Save named arrays as an uncompressed .npz (no pickle), atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return write_bytes_atomic(path, buffer.getvalue())


def load_arrays(path: Path) -> dict:
    """The arrays of an .npz file, or a UserError in one line: a missing, empty, truncated or
    foreign file, or one holding pickled objects (never unpickled: that could run code)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path}: is a folder, not an .npz file")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("a single .npy array, not an .npz archive of named arrays")
        with data:
            return {k: data[k] for k in data.files}
    except Exception as error:  # numpy and zipfile raise many types for damaged bytes; none runs code
        reason = first_line(error)
        raise UserError(f"{path}: not a readable .npz file ({reason})") from None
