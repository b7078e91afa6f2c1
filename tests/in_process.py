"""Run `python -m PACKAGE ARGS` inside the test process, with what subprocess.run would return.

A new interpreter pays for its imports (numpy, scipy, matplotlib, and torch for torch_track) on
every call: one to three seconds, and the suite runs such commands dozens of times. The command's
`main` is the same either way; the tests that are about a real process (its exit status and its
output when it dies, an interrupt, no traceback) still start one.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from importlib import import_module
from pathlib import Path

from tinygrad_hw.app.cli import run_command

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def _environment(env, cwd):
    """os.environ replaced by `env` and the working directory by `cwd` (each when given), for the
    duration."""
    saved, previous = dict(os.environ), os.getcwd()
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(previous)
        os.environ.clear()
        os.environ.update(saved)


def run_module(package: str, *args, env=None, cwd=ROOT) -> subprocess.CompletedProcess:
    """`python -m package args` (from `cwd`, the repository's root unless None: the current folder,
    with environment `env` if given) run here: its exit status, stdout and stderr."""
    argv = [str(a) for a in args]
    main = import_module(f"{package}.__main__").main
    stdout, stderr = io.StringIO(), io.StringIO()
    with _environment(env, cwd), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            status = run_command(main, argv)
        except SystemExit as exit:  # argparse: --help, or a usage error
            status = exit.code if isinstance(exit.code, int) else 1
    return subprocess.CompletedProcess([package, *argv], status, stdout.getvalue(), stderr.getvalue())
