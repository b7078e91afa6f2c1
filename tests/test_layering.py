"""The layering, read from the source with `ast`: who may import whom.

  * the engine (`tinygrad_hw` but for its application layer `app/`, its own verbs `commands/` and
    `__main__.py`) imports nothing of the project outside itself, and no argparse, tqdm or pathlib,
    and reads no environment variable;
  * the application layer imports the engine only, never an application package;
  * a command module (a package's `__main__.py` or a module under its `commands/`) is imported by no
    module of another package, and by no library module at all;
  * argparse is the command line's: only command modules and `tinygrad_hw/app/cli.py` import it;
  * the NIST36 data (`ocr/nist36/`) imports nothing of `ocr` outside itself;
  * no function below the command line reads an argparse Namespace (`args.something`);
  * only `torch_track` and `benchmarks` import torch;
  * no two modules import each other, directly or around a longer cycle.
Each failure names the file, the line and what it imports.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tinygrad_hw", "ocr", "compression", "torch_track", "benchmarks")
PROJECT = (*PACKAGES, "tests")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {_module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def _is_package(name):
    return SOURCES[name].name == "__init__.py"


def _imports(name):
    """(line, imported module) for every import statement of module `name`, relative ones resolved;
    `from package import module` counts as importing that module."""
    tree = ast.parse(SOURCES[name].read_text(), filename=str(SOURCES[name]))
    here = name if _is_package(name) else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{a.name}") for a in node.names if f"{base}.{a.name}" in SOURCES]
    return found


IMPORTS = {name: _imports(name) for name in SOURCES}


def _within(module, prefix):
    return module == prefix or module.startswith(prefix + ".")


def _is_command(name):
    parts = name.split(".")
    return parts[-1] == "__main__" or "commands" in parts[1:]


def _is_engine(name):
    return _within(name, "tinygrad_hw") and not (_within(name, "tinygrad_hw.app") or _is_command(name))


def _where(name, line):
    return f"{SOURCES[name].relative_to(ROOT)}:{line}"


def _violations(modules, forbidden):
    """'file:line imports X (why)' for each import of `modules` that `forbidden(name, target)` names."""
    found = []
    for name in modules:
        for line, target in IMPORTS[name]:
            why = forbidden(name, target)
            if why:
                found.append(f"{_where(name, line)} imports {target} ({why})")
    return found


def _none_of(problems):
    assert not problems, "\n" + "\n".join(problems)


def test_the_source_tree_is_what_these_rules_read():
    assert "tinygrad_hw.nn" in SOURCES and "tinygrad_hw.app.cli" in SOURCES and "ocr.nist36.layout" in SOURCES
    assert _is_engine("tinygrad_hw.nn") and _is_engine("tinygrad_hw.primitives.arithmetic")
    assert not _is_engine("tinygrad_hw.app.training") and not _is_engine("tinygrad_hw.commands.demo")
    assert _is_command("ocr.__main__") and _is_command("ocr.commands.read") and not _is_command("ocr.reading")
    assert "tinygrad_hw.app.cli" in {t for _, t in IMPORTS["ocr.commands.read"]}  # relative imports resolve


def test_the_engine_imports_nothing_of_the_project_outside_itself():
    def forbidden(name, target):
        if any(_within(target, p) for p in PROJECT) and not _is_engine(target):
            return "the engine depends on nothing of the project outside itself"
        if target.split(".")[0] in ("argparse", "tqdm", "pathlib"):
            return "command-line, progress-bar and path plumbing belong to the application layer"
        return None

    _none_of(_violations([n for n in SOURCES if _is_engine(n)], forbidden))


def test_the_engine_reads_no_environment_variable():
    found = []
    for name in (n for n in SOURCES if _is_engine(n)):
        for node in ast.walk(ast.parse(SOURCES[name].read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                found.append(f"{_where(name, node.lineno)} reads os.{node.attr}")
    _none_of(found)


def test_the_application_layer_uses_the_engine_and_no_application_package():
    def forbidden(name, target):
        if any(_within(target, p) for p in ("ocr", "compression", "torch_track", "benchmarks", "tests")):
            return "the shared layer sits below the applications"
        if _is_command(target):
            return "the shared layer sits below every command"
        return None

    _none_of(_violations([n for n in SOURCES if _within(n, "tinygrad_hw.app")], forbidden))


def test_command_modules_are_imported_only_by_their_own_package_s_commands():
    def forbidden(name, target):
        if target not in SOURCES or not _is_command(target):
            return None
        if target.split(".")[0] != name.split(".")[0]:
            return "a command module of another package"
        if not _is_command(name):
            return "a library module must not depend on a command"
        return None

    _none_of(_violations(SOURCES, forbidden))


def test_only_the_command_line_imports_argparse():
    def forbidden(name, target):
        if target == "argparse" and not (_is_command(name) or name == "tinygrad_hw.app.cli"):
            return "argument parsing belongs to the command modules and tinygrad_hw.app.cli"
        return None

    _none_of(_violations(SOURCES, forbidden))


def test_the_nist36_data_depends_on_no_other_part_of_ocr():
    def forbidden(name, target):
        if _within(target, "ocr") and target != "ocr" and not _within(target, "ocr.nist36"):
            return "the data group is below the rest of ocr, for every package to use"
        return None

    _none_of(_violations([n for n in SOURCES if _within(n, "ocr.nist36")], forbidden))


def test_no_function_below_the_command_line_reads_an_argparse_namespace():
    found = []
    for name in SOURCES:
        if name == "tinygrad_hw.app.cli":
            continue
        for node in ast.walk(ast.parse(SOURCES[name].read_text())):
            if isinstance(node, (ast.FunctionDef, ast.Lambda)) and "args" in [a.arg for a in node.args.args]:
                reads = [
                    n
                    for n in ast.walk(node)
                    if isinstance(n, ast.Attribute) and getattr(n.value, "id", "") == "args"
                ]
                found += [f"{_where(name, n.lineno)} reads args.{n.attr}" for n in reads]
    _none_of(found)


@pytest.mark.parametrize("package", [p for p in PACKAGES if p not in ("torch_track", "benchmarks")])
def test_only_torch_track_and_benchmarks_import_torch(package):
    def forbidden(name, target):
        return "PyTorch is optional" if target.split(".")[0] in ("torch", "torchvision") else None

    _none_of(_violations([n for n in SOURCES if _within(n, package)], forbidden))


def test_no_module_imports_itself_around_a_cycle():
    graph = {name: {t for _, t in IMPORTS[name] if t in SOURCES and t != name} for name in SOURCES}
    cycles, state = [], {}

    def visit(name, path):
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(path[path.index(target) :] + [target]))
            elif target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    _none_of(cycles)
