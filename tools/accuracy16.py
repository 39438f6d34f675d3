"""Measure the 16-bit functions' errors against the correctly rounded value, on every
input: each float16 and bfloat16 value x (and, for gradients, g = 1 and g = a spread of
values) at every kernel level this CPU runs, relu_fast's result against the float64 reference (relu_fast._reference, wider
than float64 where it matters) rounded once to the 16-bit type.  Prints the table the
semantics page includes (docs/accuracy16.txt) and exits 1 if any error exceeds 1 ulp.

    python tools/accuracy16.py > docs/accuracy16.txt
"""
import platform
import sys
import time

import numpy as np

import relu_fast as rf
from relu_fast import _api, _dispatch, _reference as ref
from relu_fast._functions import ARRAYS, ELEMENTWISE, FUNCTIONS


def _dtypes():
    out = [np.float16]
    try:
        import ml_dtypes
        out.append(ml_dtypes.bfloat16)
    except ImportError:
        pass
    return out


def _ordered(a):
    bits = a.view(np.uint16).astype(np.int32)
    return np.where(bits & 0x8000, -(bits & 0x7FFF), bits)


def ulps(got, want):
    """Representable values between got and want (NaN == NaN; a NaN against a number is
    reported as 99)."""
    fg, fw = got.astype(np.float32), want.astype(np.float32)
    d = np.abs(_ordered(got) - _ordered(want))
    d = np.where(np.isnan(fg) & np.isnan(fw), 0, d)
    return np.where(np.isnan(fg) != np.isnan(fw), 99, d)


def measure(name, dt):
    f = FUNCTIONS[name]
    x = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(dt)
    with np.errstate(all="ignore"):
        x = x[~np.isnan(x.astype(np.float32))]
    kw = {p.name: p.sample() for p in f.params if p.name != "is_result"}
    worst = 0
    for gval in ((None,) if f.kind == "unary" else (1.0, "spread")):
        if gval == "spread":
            g = np.random.default_rng(0).standard_normal(x.size).astype(np.float32) * 4
            g = g.astype(dt)
        else:
            g = np.ones(x.size, dt)
        args = {"x": x, "grad_output": g}
        arrays = [args[a] for a in ARRAYS[f.kind]]
        with np.errstate(all="ignore"):
            want = getattr(ref, name)(*(a.astype(np.float64) for a in arrays), **kw).astype(dt)
        for level in _dispatch.available_levels():
            _api._use_level(level)
            got = getattr(rf, name)(*arrays, **kw)
            worst = max(worst, int(ulps(got, want).max()))
    return worst


def main():
    dts = _dtypes()
    names = [n for n in ELEMENTWISE if FUNCTIONS[n].ulps]      # the transcendental ones
    print(f"relu_fast {rf.__version__}, every kernel level of {', '.join(_dispatch.available_levels())}, "
          f"{platform.machine()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("max ulp of the 16-bit result against the correctly rounded value, every input x")
    print("(gradients: g = 1 and g spread over +-4), the declared example parameters")
    print()
    header = f"  {'function':<22}" + "".join(f"{np.dtype(d).name:>10}" for d in dts)
    print(header)
    bad = 0
    for n in names:
        row = [measure(n, d) for d in dts]
        bad += sum(v > 1 for v in row)
        print(f"  {n:<22}" + "".join(f"{v:>10}" for v in row))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
