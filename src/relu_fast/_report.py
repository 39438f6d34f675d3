"""The report `python -m relu_fast` prints: build, self-check, short timing table."""
import importlib
import importlib.util
import os
import platform
import time

import numpy as np

import relu_fast as rf
from . import _api, _dispatch, _memory, _reference as ref, _threads
from ._functions import ARRAYS, ELEMENTWISE, FUNCTIONS


def _cases(rng, dtype):
    special = np.array([0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e-40, -1e-40, 1e-310, -1e-310],
                       dtype=np.float64)
    x = np.concatenate([rng.standard_normal(100_003) * 3, special]).astype(dtype)
    g = rng.standard_normal(x.size).astype(dtype)
    return x, g


def _ordered16(a):
    bits = a.view(np.uint16).astype(np.int32)
    return np.where(bits & 0x8000, -(bits & 0x7FFF), bits)


def _same(a, b, ulps=0):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.itemsize == 2:            # 16-bit: at most one representable value apart
        fa, fb = a.astype(np.float32), b.astype(np.float32)
        nan = np.isnan(fa) & np.isnan(fb)
        apart = np.abs(_ordered16(a) - _ordered16(b))
        return bool(np.all(nan | (apart <= min(ulps, 1)) & (np.isnan(fa) == np.isnan(fb))))
    both_nan = np.isnan(a) & np.isnan(b)
    if ulps == 0:
        return bool(np.all((a == b) | both_nan))
    tol = ulps * np.spacing(np.maximum(np.abs(a), np.abs(b)).astype(a.dtype))
    with np.errstate(invalid="ignore"):
        close = (a == b) | (np.abs(a - b) <= tol)
    return bool(np.all(close | both_nan))


def sixteen_bit_dtypes():
    """float16, and ml_dtypes.bfloat16 where ml_dtypes is installed (imported here only)."""
    try:
        import ml_dtypes
    except ImportError:
        return (np.float16,)
    return (np.float16, ml_dtypes.bfloat16)


def self_check():
    """Compare every function with the NumPy reference; returns [(name, ok)]."""
    rng = np.random.default_rng(0)
    results = []
    for dtype in (np.float32, np.float64) + sixteen_bit_dtypes():
        x, g = _cases(rng, dtype)
        x2 = x[:100_000].reshape(1000, 4, 25)
        g2 = g[:100_000].reshape(1000, 4, 25)
        w = np.array([0.25, -0.5, 0.0, 2.0], dtype=dtype)
        gx, gw = rf.prelu_backward(g2, x2, w)
        rgx, rgw = ref.prelu_backward(g2, x2, w)
        args = {"x": x, "grad_output": g}
        checks = []
        for name in ELEMENTWISE:                  # as declared (relu_fast._functions)
            f = FUNCTIONS[name]
            a = [args[k] for k in ARRAYS[f.kind]]
            kw = {p.name: p.sample() for p in f.params if p.name != "is_result"}
            checks.append((name, _same(getattr(rf, name)(*a, **kw), getattr(ref, name)(*a, **kw),
                                       ulps=f.ulps)))
        checks += [
            ("prelu", _same(rf.prelu(x2, w), ref.prelu(x2, w))),
            ("prelu_backward", _same(gx, rgx) and np.allclose(
                gw.astype(np.float64), rgw.astype(np.float64),
                rtol={2: 1e-2, 4: 1e-6, 8: 1e-12}[np.dtype(dtype).itemsize])),
        ]
        results += [(f"{name}[{np.dtype(dtype).name}]", ok) for name, ok in checks]
    return results


def _median_us(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e6 * float(np.median(times))


def timing_table(sizes=(100, 10_000, 1_000_000, 10_000_000)):
    rng = np.random.default_rng(1)
    rows = []
    for n in sizes:
        x = rng.standard_normal(n).astype(np.float32)
        out = np.empty_like(x)
        repeat = 200 if n <= 10_000 else (30 if n <= 1_000_000 else 7)
        t_np = _median_us(lambda: np.maximum(x, 0, out=out), repeat)
        t_rf = _median_us(lambda: rf.relu(x, out=out), repeat)
        t_np = _median_us(lambda: np.maximum(x, 0, out=out), repeat)  # again, alternating
        rows.append((n, t_np, t_rf))
    return rows


def main():
    print(f"relu_fast {rf.__version__}  (Python {platform.python_version()}, NumPy {np.__version__}, "
          f"{platform.machine()})")
    print(f"  kernels      : {_api.kernel_level()}  (available here: {', '.join(_dispatch.available_levels())}; "
          f"cap with {_dispatch.ENV_VAR})")
    print(f"  OpenMP       : {'on' if _api.HAVE_OPENMP else 'off (serial build)'}")
    fixed = _threads._get_user_threads()[0] > 0
    print(f"  threads      : {rf.get_num_threads()} (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; "
          f"serial below {_threads._grain()} elements; "
          + ("fixed by set_num_threads)" if fixed else
             "one thread for a while when other processes hold the cores)"))
    module = importlib.import_module(f"relu_fast._kernels_{_api.kernel_level()}")
    bf16 = ("ml_dtypes installed" if importlib.util.find_spec("ml_dtypes")
            else "needs ml_dtypes: pip install relu_fast[bfloat16]")
    regs = "float16 and bfloat16" if module.F16_REGS else "bfloat16 (float16: through L1 blocks)"
    print(f"  16-bit       : float16 converted by {module.F16_PATH}, bfloat16 by integer code ({bf16}); "
          "computed in float32, rounded once")
    print(f"                 piecewise-linear functions and PReLU in registers: {regs}")
    info = _memory.cache_info()
    print(f"  output cache : up to {info['limit'] >> 20} MiB of freed outputs >= {info['min_bytes'] >> 20} MiB "
          f"kept for reuse (RELU_FAST_CACHE_MB; 0 turns it off)")
    results = self_check()
    bad = [name for name, ok in results if not ok]
    print(f"  self-check   : {'PASS' if not bad else 'FAIL'} ({len(results) - len(bad)}/{len(results)} "
          f"functions agree with the NumPy reference{'; failed: ' + ', '.join(bad) if bad else ''})")
    print()
    print("relu, float32, out= given (median microseconds per call):")
    print(f"  {'n':>10}  {'np.maximum(x, 0)':>17}  {'relu_fast.relu':>15}  {'speed-up':>8}")
    for n, t_np, t_rf in timing_table():
        print(f"  {n:>10}  {t_np:>17.2f}  {t_rf:>15.2f}  {t_np / t_rf:>7.1f}x")
    return 0 if not bad else 1
