"""The .pyi stubs of the compiled modules match the modules (mypy.stubtest).

Runs against the installed relu_fast, from a scratch directory, so the stubs
checked are the ones that ship.  Skipped when mypy is not installed.
"""
import importlib.util
import os
import subprocess
import sys

import pytest

pytest.importorskip("mypy.stubtest")

import relu_fast
from relu_fast import _dispatch

KERNEL_LEVELS = ("baseline", "avx2", "avx512")
COMPILED = ["relu_fast._api", "relu_fast._api_train", "relu_fast._cpu"] + [f"relu_fast._kernels_{lv}" for lv in KERNEL_LEVELS]

MYPY_INI = """\
[mypy]
ignore_missing_imports = True
follow_imports = silent
"""


def _built(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def test_every_compiled_module_has_a_stub():
    pkg_dir = os.path.dirname(relu_fast.__file__)
    assert os.path.exists(os.path.join(pkg_dir, "py.typed"))
    for module in COMPILED:
        name = module.split(".")[1]
        if _built(module):
            assert os.path.exists(os.path.join(pkg_dir, name + ".pyi")), f"{name}.pyi is missing"


def test_stubtest(tmp_path):
    config = tmp_path / "mypy.ini"
    config.write_text(MYPY_INI)
    # Cython's own module attributes need no stub; kernel levels not built on this
    # platform (avx2/avx512 off x86-64) may have a stub without a module.
    allow = tmp_path / "allowlist.txt"
    allow.write_text("relu_fast\\..*\\.__test__\nrelu_fast\\..*\\.__pyx_capi__\n"
                     + "".join(f"{m}\n" for m in COMPILED if not _built(m)))
    modules = [m for m in COMPILED if _built(m)]
    assert "relu_fast._api" in modules and _dispatch.load("baseline")
    cmd = [sys.executable, "-m", "mypy.stubtest", *modules, "--mypy-config-file", str(config),
           "--allowlist", str(allow), "--ignore-unused-allowlist"]
    env = dict(os.environ, MYPY_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, f"stubtest found differences:\n{proc.stdout}\n{proc.stderr}"
