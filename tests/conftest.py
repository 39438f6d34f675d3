"""Shared fixtures and comparison helpers for the relu_fast tests.

Helpers (import them with ``from conftest import ...``):
  assert_same(a, b)        bit-for-bit: same shape, same dtype, equal values, NaN == NaN,
                           and (signed_zero=True) the same sign on zeros
  assert_ulp(a, b, ulps)   |a - b| <= ulps * spacing(max(|a|, |b|)), NaN == NaN, inf == inf
  rand(shape, dtype, ...)  seeded data with both signs and no exact zeros unless asked
  special(dtype)           the special values of the semantics table
  available_bytes()        MemAvailable from /proc/meminfo, or None where unknown

Every test runs with relu_fast's thread setting and kernel level restored afterwards.
"""
import functools
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _api, _threads
from relu_fast import _reference as ref
from relu_fast._functions import ARRAYS, FUNCTIONS

DTYPES = (np.float32, np.float64)
try:
    import ml_dtypes
    BFLOAT16 = ml_dtypes.bfloat16
except ImportError:                 # the bfloat16 tests skip
    ml_dtypes = BFLOAT16 = None
# the 16-bit storage types (tests/test_half.py); bfloat16 needs ml_dtypes
HALF_DTYPES = (np.float16,) + ((BFLOAT16,) if BFLOAT16 is not None else ())
GRAIN = _threads._grain()


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run tests marked slow (long or memory-hungry)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow") or os.environ.get("RELU_FAST_RUN_HUGE") == "1":
        return
    skip = pytest.mark.skip(reason="slow: opt in with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    from relu_fast import _dispatch
    return (f"relu_fast {rf.__version__} from {os.path.dirname(rf.__file__)}; "
            f"kernels {rf.kernel_level()} (available {', '.join(_dispatch.available_levels())}); "
            f"OpenMP {'on' if _api.HAVE_OPENMP else 'off'}; threads {rf.get_num_threads()}")


@pytest.fixture(autouse=True)
def _restore_threads_and_level():
    """No test leaks a thread setting, a kernel level or a fallback of the shared-core
    policy into the next one."""
    state = _threads._get_user_threads()
    level = rf.kernel_level()
    _threads._policy(reset=True)
    yield
    _threads._policy(reset=True)
    _threads._restore_user_threads(state)
    if rf.kernel_level() != level:
        _api._use_level(level)


@pytest.fixture(params=DTYPES, ids=lambda d: np.dtype(d).name)
def dtype(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def rand(shape, dtype, seed=0, scale=3.0, zeros=False):
    """Standard normal * scale in `dtype` (both signs); exact zeros only if asked."""
    r = np.random.default_rng(seed)
    a = np.asarray(r.standard_normal(shape) * scale).astype(dtype)
    if not zeros:
        a[a == 0] = dtype(0.5)
    else:
        flat = a.reshape(-1)
        flat[::7] = 0.0
        flat[3::11] = -0.0
    return a


def finfo(dtype):
    """np.finfo, or ml_dtypes.finfo for bfloat16."""
    return ml_dtypes.finfo(dtype) if BFLOAT16 is not None and np.dtype(dtype) == BFLOAT16 else np.finfo(dtype)


def is_half(dtype):
    return np.dtype(dtype).itemsize == 2


def special(dtype):
    """NaN, +-inf, +-0, +-1, +-tiny normal, +-denormal, +-max of `dtype`."""
    f = finfo(dtype)
    den = {4: 1e-40, 8: 1e-310}.get(np.dtype(dtype).itemsize,
                                    1e-6 if np.dtype(dtype) == np.float16 else 1e-40)
    vals = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, f.tiny, -f.tiny, den, -den,
            f.max, -f.max, 0.5, -0.5, 1e-8, -1e-8, -30.0, -1000.0]
    return np.array(vals, dtype=dtype)


def with_specials(dtype):
    """(x, g): random values (tails not a multiple of any vector width), then every
    special value of `dtype` against every other (test_levels, test_half)."""
    s = special(dtype)
    x = np.concatenate([rand(4104, dtype, seed=20, zeros=True), np.repeat(s, s.size)])
    g = np.concatenate([rand(4104, dtype, seed=21), np.tile(s, s.size)])
    return x, g


# ---------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------

def _prep(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"shape {a.shape} != {b.shape}"
    assert a.dtype.newbyteorder("=") == b.dtype.newbyteorder("="), f"dtype {a.dtype} != {b.dtype}"
    if is_half(a.dtype):                 # compared as their (exact) float32 values
        assert a.dtype.kind == "f" or a.dtype == BFLOAT16
        return a.astype(np.float32), b.astype(np.float32)
    assert a.dtype.kind == "f" and b.dtype.kind == "f"
    return a, b


def _ordered16(a):
    """16-bit floats' bits as integers in the order of their values (+-0 both 0)."""
    bits = a.astype(a.dtype.newbyteorder("=")).view(np.uint16).astype(np.int32)
    return np.where(bits & 0x8000, -(bits & 0x7FFF), bits)


def _where(mask, a, b):
    idx = np.argwhere(~mask)[:5]
    return ", ".join(f"{tuple(int(v) for v in i)}: {a[tuple(i)]!r} vs {b[tuple(i)]!r}" for i in idx)


def assert_same(a, b, signed_zero=True):
    """a and b bit-for-bit equal as values (NaN matches NaN; zeros' signs match)."""
    a, b = _prep(a, b)
    ok = (a == b) | (np.isnan(a) & np.isnan(b))
    if signed_zero:
        ok &= (np.signbit(a) == np.signbit(b)) | np.isnan(a)
    assert ok.all(), f"{int((~ok).sum())} of {ok.size} differ; first: {_where(ok, a, b)}"


def assert_ulp(a, b, ulps=2):
    """|a - b| <= ulps * spacing(max(|a|, |b|)) in a's dtype; NaN == NaN, infinities equal.
    16-bit types: at most `ulps` representable values apart."""
    if is_half(np.asarray(a).dtype):
        fa, fb = _prep(a, b)
        ok = (np.abs(_ordered16(np.asarray(a)) - _ordered16(np.asarray(b))) <= ulps) \
            | (np.isnan(fa) & np.isnan(fb))
        ok &= np.isnan(fa) == np.isnan(fb)
        assert ok.all(), f"{int((~ok).sum())} of {ok.size} beyond {ulps} ulp; first: {_where(ok, fa, fb)}"
        return
    a, b = _prep(a, b)
    dt = a.dtype.newbyteorder("=")
    a, b = a.astype(dt), b.astype(dt)
    with np.errstate(invalid="ignore", over="ignore"):
        big = np.maximum(np.abs(a), np.abs(b))
        tol = ulps * np.spacing(big)
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64)) if dt == np.float32 else np.abs(a - b)
        ok = (a == b) | (np.isnan(a) & np.isnan(b)) | (diff <= tol)
    assert ok.all(), f"{int((~ok).sum())} of {ok.size} beyond {ulps} ulp; first: {_where(ok, a, b)}"


def available_bytes():
    """MemAvailable from /proc/meminfo in bytes, or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def fork_and_wait(child, timeout):
    """Run child() in an os.fork child; its exit code, or None if it hung (it is killed)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = child()
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


def python_lines(code, *, set_env=None, unset=(), timeout=120):
    """Run `code` in a fresh Python (the environment edited: `set_env` added, `unset`
    removed), from the home directory; the words it printed, after checking it ran."""
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(set_env or {})
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=timeout, cwd=os.path.expanduser("~"))
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


# ---------------------------------------------------------------------------
# Every public function against its reference twin (test_reference, test_levels,
# test_properties, test_fpenv)
# ---------------------------------------------------------------------------

# every function of the kernel table (the training helpers have tests of their own), and
# elu_backward from the result
FUNCS = tuple(n for n, f in FUNCTIONS.items()
              if f.kind in ("unary", "binary", "prelu", "prelu_backward")) + ("elu_backward_result",)
SLOPE, ALPHA = 0.2, 1.5


def weight_for(x, axis=1, seed=7):
    """One alpha per channel along `axis` (some negative, one zero), or one alpha."""
    x = np.asarray(x)
    if x.ndim < 2 or x.shape[axis] == 0:
        return np.array(0.25, dtype=x.dtype.newbyteorder("="))
    w = np.random.default_rng(seed).uniform(-0.5, 1.5, x.shape[axis])
    w[0] = 0.0
    return w.astype(x.dtype.newbyteorder("="))


def assert_grad_weight(gw, rgw, x, g, axis):
    """PReLU weight gradient: float64 sums differ only in summation order."""
    gw, rgw = np.asarray(gw), np.asarray(rgw)
    assert gw.shape == rgw.shape and gw.dtype == rgw.dtype.newbyteorder("=")
    x64, g64 = np.asarray(x, np.float64), np.asarray(g, np.float64)
    with np.errstate(all="ignore"):
        mag = np.where(x64 > 0, 0.0, np.abs(x64 * g64))
    if rgw.ndim == 0 or rgw.size == 1 or x64.ndim < 2:
        scale = np.asarray(mag.sum())
    else:
        ax = axis % x64.ndim
        scale = mag.sum(axis=tuple(k for k in range(x64.ndim) if k != ax))
    scale = scale.reshape(rgw.shape)
    eps = finfo(gw.dtype).eps
    with np.errstate(invalid="ignore"):
        ok = (np.abs(gw.astype(np.float64) - rgw.astype(np.float64)) <= 4 * eps * scale + 1e-300) \
            | (np.isnan(gw) & np.isnan(rgw)) | (gw == rgw)
    assert ok.all(), f"grad_weight {gw} vs reference {rgw}"


def compare(name, x, g, *, w=None, axis=1, slope=SLOPE, alpha=ALPHA):
    """Run `name` in relu_fast and in the reference on (g, x) and compare."""
    with np.errstate(all="ignore"):     # the reference's NumPy warns on inf * 0 etc.
        return _compare(name, x, g, w=w, axis=axis, slope=slope, alpha=alpha)


def _call(name, m, x, g, w, axis, slope, alpha):
    """Call `name` on module m (relu_fast or its plain-NumPy twin relu_fast._reference,
    same names and signatures) with the arguments its declaration names."""
    f = FUNCTIONS[name]
    arrays = {"x": x, "grad_output": g, "weight": w}
    # the declared example values (relu_fast._functions), the slope, alpha and axis the
    # calling test chose
    values = {p.name: p.sample() for p in f.params if p.name != "is_result"}
    values.update((k, v) for k, v in (("negative_slope", slope), ("alpha", alpha), ("axis", axis))
                  if k in values)
    return getattr(m, name)(*(arrays[a] for a in ARRAYS[f.kind]), **values)


# name -> its call, alike on relu_fast and on relu_fast._reference
CALLS = {name: functools.partial(_call, name) for name in FUNCS if name in FUNCTIONS}
# the gradient from elu's result y instead of x
CALLS["elu_backward_result"] = lambda m, x, g, w, axis, slope, alpha: m.elu_backward(
    g, ref.elu(x, alpha), alpha, is_result=True)
assert set(CALLS) == set(FUNCS)


def _compare(name, x, g, *, w, axis, slope, alpha):
    if name.startswith("prelu"):
        w = weight_for(x, axis) if w is None else w
    got, want = (CALLS[name](m, x, g, w, axis, slope, alpha) for m in (rf, ref))
    if name == "prelu_backward":
        (gi, gw), (rgi, rgw) = got, want
        assert isinstance(gi, np.ndarray) and gi.dtype == np.dtype(np.asarray(x).dtype.newbyteorder("="))
        assert_same(gi, rgi)
        assert_grad_weight(gw, rgw, x, g, axis)
        return gi, gw
    assert isinstance(got, np.ndarray)
    assert got.dtype == np.dtype(np.asarray(x).dtype.newbyteorder("=")), got.dtype
    assert got.shape == np.shape(x)
    ulps = FUNCTIONS[name.replace("_result", "")].ulps
    if ulps and is_half(got.dtype):
        ulps = 1         # float32 results that close round to neighbouring 16-bit values at most
    if ulps:
        assert_ulp(got, want, ulps)
    else:
        assert_same(got, want)
    return got
