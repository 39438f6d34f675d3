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

KERNEL_LEVELS = _dispatch.LEVELS   # every declared level (stubs are generated for all)
COMPILED = ["relu_fast._api", "relu_fast._api_train", "relu_fast._cpu", "relu_fast._threads", "relu_fast._args"] + [f"relu_fast._kernels_{lv}" for lv in KERNEL_LEVELS]

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


def _runs_here(module):
    """Built, and (a kernel module) of a level this CPU can run: stubtest imports the
    module, and a level's own code (its module init included) may use instructions
    that this CPU lacks (the AVX-512 module on an AVX2 CPU dies of SIGILL)."""
    level = module.rpartition("_kernels_")[2] if "_kernels_" in module else None
    return _built(module) and (level is None or level in _dispatch.available_levels())


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
    # platform (avx2/avx512 off x86-64), or that this CPU cannot run, are not checked.
    allow = tmp_path / "allowlist.txt"
    allow.write_text("relu_fast\\..*\\.__test__\nrelu_fast\\..*\\.__pyx_capi__\n"
                     + "".join(f"{m}\n" for m in COMPILED if not _runs_here(m)))
    modules = [m for m in COMPILED if _runs_here(m)]
    assert "relu_fast._api" in modules and _dispatch.load("baseline")
    cmd = [sys.executable, "-m", "mypy.stubtest", *modules, "--mypy-config-file", str(config),
           "--allowlist", str(allow), "--ignore-unused-allowlist"]
    env = dict(os.environ, MYPY_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, f"stubtest found differences:\n{proc.stdout}\n{proc.stderr}"


USER_SCRIPT = '''\
import numpy as np
import numpy.typing as npt

import relu_fast as rf
from relu_fast import nn

x: npt.NDArray[np.float32] = np.linspace(-1, 1, 8, dtype=np.float32)
y: npt.NDArray[np.float32] = rf.relu(x)
o = np.empty_like(x)
rf.relu(x, out=o)
g64: npt.NDArray[np.float64] = rf.relu_backward(np.ones(8), np.ones(8))
gx, gw = rf.prelu_backward(x, x, np.ones(1, np.float32))
keep: npt.NDArray[np.float32] = gx
a: npt.NDArray[np.float32] = rf.elu(x, 1.0)
ym, mask = rf.relu_mask(x)
kept: npt.NDArray[np.float32] = ym
layer = nn.PReLU(num_parameters=1)
h = layer(x.reshape(2, 4))
d = layer.backward(h)
for p, q in zip(layer.parameters(), layer.grads()):
    p -= 0.1 * q
dead = nn.never_active(nn.ReLU(track_activity=True))
'''


def _mypy_strict(tmp_path, source):
    script = tmp_path / "user.py"
    script.write_text(source)
    env = dict(os.environ, MYPY_CACHE_DIR=str(tmp_path / "cache"))
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", str(script)], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=600)


def test_a_user_script_is_clean_under_mypy_strict(tmp_path):
    """float32 in, float32 out in the stubs (overloads), and typed layers: a user script
    with annotated arrays passes mypy --strict; a wrong dtype in it does not."""
    proc = _mypy_strict(tmp_path, USER_SCRIPT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wrong = USER_SCRIPT + "bad: npt.NDArray[np.float64] = rf.relu(x)\n"
    proc = _mypy_strict(tmp_path, wrong)
    assert proc.returncode != 0 and "Incompatible types in assignment" in proc.stdout, proc.stdout


DASK_SCRIPT = '''\
import numpy as np
import numpy.typing as npt
import dask.array as da

import relu_fast as rf

xd: da.Array = da.from_array(np.ones((2, 4), np.float32))  # type: ignore[no-untyped-call]
y: da.Array = rf.relu(xd)
g: da.Array = rf.leaky_relu_backward(xd, xd, 0.1)
h: da.Array = rf.hardtanh(xd, 0.0, 6.0)
p: da.Array = rf.prelu(xd, 0.25)
gi, gw = rf.prelu_backward(xd, xd, 0.25)
k: da.Array = gw
ys, frac = rf.relu_stats(xd)
f: da.Array = frac
x: npt.NDArray[np.float32] = np.ones(4, np.float32)
yx: npt.NDArray[np.float32] = rf.relu(x)
'''


def test_dask_arrays_in_give_dask_arrays_out_in_the_stubs(tmp_path):
    pytest.importorskip("dask.array")
    proc = _mypy_strict(tmp_path, DASK_SCRIPT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wrong = DASK_SCRIPT + "bad: npt.NDArray[np.float32] = rf.relu(xd)\n"
    proc = _mypy_strict(tmp_path, wrong)
    assert proc.returncode != 0 and "Incompatible types in assignment" in proc.stdout, proc.stdout
