"""The commands' choice of OpenBLAS kernels (`openblas_kernels.py`): Zen kernels on Zen 4 only,
never over the user's own choice, never once numpy is loaded, and made before numpy loads."""

import ast
import os
import subprocess
import sys

import pytest

import openblas_kernels
from tests.in_process import ROOT

ZEN4 = (
    "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n"
    "flags\t\t: fpu avx2 avx512f\n\n"
)
ZEN3 = ZEN4.replace(" avx512f", "")
INTEL = ZEN4.replace("AuthenticAMD", "GenuineIntel").replace(": 25", ": 6")
FIRST_BLOCK_DECIDES = (
    "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 23\nflags\t\t: avx2\n\n" + ZEN4
)


@pytest.mark.parametrize(
    "cpuinfo, zen4", [(ZEN4, True), (ZEN3, False), (INTEL, False), (FIRST_BLOCK_DECIDES, False), ("", False)]
)
def test_only_an_amd_family_19h_cpu_with_avx512_counts_as_zen4(cpuinfo, zen4):
    assert openblas_kernels.is_zen4(cpuinfo) is zen4


def test_zen_kernels_are_chosen_on_zen4_only_when_nobody_chose_and_numpy_is_not_loaded(tmp_path):
    zen4, intel = tmp_path / "zen4", tmp_path / "intel"
    zen4.write_text(ZEN4)
    intel.write_text(INTEL)
    choose = openblas_kernels.prefer_zen_kernels

    environ = {}
    assert choose(environ, zen4, modules={}) == "Zen" and environ == {"OPENBLAS_CORETYPE": "Zen"}
    environ = {"OPENBLAS_CORETYPE": "SkylakeX"}
    assert choose(environ, zen4, modules={}) is None and environ["OPENBLAS_CORETYPE"] == "SkylakeX"
    environ = {}
    assert choose(environ, zen4, modules={"numpy": object()}) is None and environ == {}
    assert choose(environ, intel, modules={}) is None and environ == {}
    assert choose(environ, tmp_path / "absent", modules={}) is None and environ == {}
    assert openblas_kernels.kernels_in_use({}) == "OpenBLAS's own choice of kernels"
    assert openblas_kernels.kernels_in_use({"OPENBLAS_CORETYPE": "Zen"}) == "OPENBLAS_CORETYPE=Zen"


@pytest.mark.parametrize("package", ["ocr", "compression", "benchmarks", "torch_track"])
def test_each_command_line_chooses_before_anything_that_loads_numpy(package):
    """Only the standard library is imported before `import openblas_kernels` in its __main__."""
    tree = ast.parse((ROOT / package / "__main__.py").read_text())
    before = []
    for node in tree.body:
        if isinstance(node, ast.Import) and node.names[0].name == "openblas_kernels":
            break
        if isinstance(node, ast.Import):
            before += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            before.append("." * node.level + (node.module or ""))
    else:
        pytest.fail(f"{package}/__main__.py does not import openblas_kernels")
    assert all(name.split(".")[0] in sys.stdlib_module_names | {"__future__"} for name in before), before


def test_a_fresh_interpreter_gets_the_choice_its_cpu_calls_for():
    environ = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    code = "import openblas_kernels, numpy, os; print(os.environ.get('OPENBLAS_CORETYPE'))"
    out = subprocess.run([sys.executable, "-c", code], env=environ, cwd=ROOT, capture_output=True, text=True)
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            expected = "Zen" if openblas_kernels.is_zen4(cpuinfo.read()) else "None"
    except OSError:
        expected = "None"
    assert out.stdout.strip() == expected, out.stderr
