"""The command-line conventions every command of the project follows.

Every command is `python -m <package> <verb>`. A verb that reads data or writes results takes
`--data-dir` (default `$TINYGRAD_HW_DATA`, else the embedded default), `--out DIR` and `--seed`,
writes its numbers to `DIR/metrics.json` and its figures as PNG beside it. Results go to stdout;
progress and messages go to stderr. A mistake the user can fix ends the command with one line on
stderr and exit status 2, never a traceback.

A verb's function receives the parsed options as keyword arguments named like the options
(`--data-dir` arrives as `data_dir`), so it is an ordinary typed function: nothing below the
command line ever sees an argparse Namespace.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from .errors import UserError as UserError  # re-exported: the error every command module raises
from .errors import first_line as first_line
from .files import run_contents, run_folder

DATA_ENV = "TINYGRAD_HW_DATA"


def message(text: str) -> None:
    """A progress or status line, for the human watching: stderr."""
    print(text, file=sys.stderr, flush=True)


# -- options -------------------------------------------------------------------------------------


def add_common_arguments(parser: argparse.ArgumentParser, default_out: str) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,  # $TINYGRAD_HW_DATA, read when the command runs (see run_verb)
        help=f"data root (default: ${DATA_ENV}, else the embedded default generated locally)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(default_out),
        help=f"folder for metrics.json and figures (default: {default_out})",
    )
    parser.add_argument("--seed", type=seed_int, default=0, help=f"random seed, 0 to {MAX_SEED} (default: 0)")


MAX_SEED = 2**32 - 1  # what every generator the project seeds (numpy, PyTorch) accepts


def seed_int(text):
    value = int(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to {MAX_SEED}, got {text}")
    return value


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or a positive integer, got {text}")
    return value


def non_negative_float(text):
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or a positive number, got {text}")
    return value


def positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def note_unused_data_dir(data_dir: Path | None, command: str) -> None:
    """Say so when `--data-dir` was given to a command that makes its own data (not when it
    only came from `$TINYGRAD_HW_DATA`, which every command sees)."""
    if data_dir is not None and str(data_dir) != os.environ.get(DATA_ENV):
        message(f"{command} generates its own data; --data-dir is not used")


# -- verbs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verb:
    """One `python -m <package> <verb>`: its help, its own options, and the function it runs.

    `run` is called with the parsed options as keyword arguments. `default_out` gives the verb
    the common `--data-dir`, `--out` and `--seed` options; `add_arguments(parser)` adds its own.
    A `preformatted` description (a module docstring) keeps its line breaks in `--help`.
    """

    name: str
    help: str
    run: Callable[..., int | None]
    description: str | None = None
    default_out: str | None = None
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
    preformatted: bool = False


class OneLineParser(argparse.ArgumentParser):
    """argparse's parser, but a bad argument is a UserError (one line, exit status 2, through
    `run_command`) instead of the usage text and an exit from inside the parser."""

    def error(self, message):
        raise UserError(f"{self.prog}: {message} (see --help)")


def command_parser(prog: str, description: str, verbs: list[Verb], default: Verb | None = None):
    """The parser of `python -m <package>`: one sub-command per verb. With a `default` verb, the
    command without a verb runs it, and its options are the top level's."""
    parser = OneLineParser(prog=prog, description=description, **_layout(default))
    if default is not None:
        _add_options(parser, default)
    subparsers = parser.add_subparsers(
        dest="verb",
        required=default is None,
        metavar="VERB",
        help=None if default is None else f"default: {default.help}",
    )
    for verb in verbs:
        sub = subparsers.add_parser(
            verb.name, help=verb.help, description=verb.description or verb.help, **_layout(verb)
        )
        _add_options(sub, verb)
    return parser


def _layout(verb):
    preformatted = verb is not None and verb.preformatted
    return {"formatter_class": argparse.RawDescriptionHelpFormatter} if preformatted else {}


def _add_options(parser, verb):
    if verb.default_out is not None:
        add_common_arguments(parser, default_out=verb.default_out)
    if verb.add_arguments is not None:
        verb.add_arguments(parser)
    parser.set_defaults(run=verb.run)


def lazy(module: str, function: str) -> Callable[..., int | None]:
    """A verb's function that is imported only when the verb runs (for modules slow to import)."""

    def run(**options):
        return getattr(importlib.import_module(module), function)(**options)

    return run


def command_line(prog: str, description: str, verbs: list[Verb], default: Verb | None = None, prepare=None):
    """The `main(argv)` of `python -m <package>`: parse the arguments, call `prepare()` (a setting
    every verb of the package needs, such as `memory.keep_freed_memory`), then run the verb."""
    return partial(run_verb, command_parser(prog, description, verbs, default), prepare=prepare)


def run_verb(parser: argparse.ArgumentParser, argv=None, prepare=None):
    """Parse `argv` and call the chosen verb's function with the options as keyword arguments.

    An option the function does not take (one of the top level's, given before a verb that has
    no such option) is a one-line error, not a traceback. A verb with an `--out` folder writes its
    run into a fresh folder that replaces `--out` only when the verb returns (`files.run_folder`):
    an error or an interrupt leaves the previous run as it was."""
    options = vars(parser.parse_args(argv))
    if "data_dir" in options and options["data_dir"] is None and os.environ.get(DATA_ENV):
        options["data_dir"] = Path(os.environ[DATA_ENV])
    verb = options.pop("verb", None)
    run = options.pop("run")
    accepted = inspect.signature(run).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    unknown = [] if takes_any else [name for name in options if name not in accepted]
    if unknown:
        names = ", ".join("--" + name.replace("_", "-") for name in unknown)
        raise UserError(f"{names}: not an option of this verb (options go after the verb)")
    if prepare is not None:
        prepare()
    if not isinstance(options.get("out"), Path):
        return run(**options)
    out, command = options["out"], parser.prog + (f" {verb}" if verb else "")
    inputs = [p for name, value in options.items() if name != "out" for p in _paths(value)]
    with run_folder(out, command, inputs) as staging:
        status = run(**{**options, "out": staging})
        written = run_contents(staging)
    shown = ", ".join(written[:8]) + (f" and {len(written) - 8} more" if len(written) > 8 else "")
    message(f"wrote {out}: {shown or 'nothing'}")
    return status


def _paths(value):
    if isinstance(value, Path):
        return [value]
    return [v for v in value if isinstance(v, Path)] if isinstance(value, (list, tuple)) else []


def run_command(main, argv=None) -> int:
    """Run `main(argv)`, turning a UserError (or an unwritable output) into one line and exit 2.

    An int that `main` returns is the exit status (a report with a failed part returns 1)."""
    try:
        status = main(argv)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing of this run was kept (--out holds the previous run)", file=sys.stderr)
        return 130
    except MemoryError:
        print("error: not enough memory for this run (try smaller sizes or fewer rows)", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error.strerror or error}: {error.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    return status if isinstance(status, int) else 0
