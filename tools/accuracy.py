"""Measure the transcendental functions' errors in ulp against an exact reference.

    python tools/accuracy.py [--points N] [--mp-points M] [--json docs/accuracy.json]

For each function, dtype and kernel level: float32 over N points (every float32 in
[-2, 2] sampled densely, and log-spaced tails out to the overflow/underflow ends),
against the float64 reference formulas evaluated in long double (exact to far below
float32's ulp); float64 over M points against mpmath at 160 bits.  The error of a value
is |got - exact| / ulp(exact), ulp of the exact value rounded to the dtype (subnormal
results in units of the smallest subnormal).  Gradients use grad_output = 1.

The table in docs/semantics.rst (Accuracy) is made from the JSON this writes.
"""
import argparse
import os
import sys
import json
import time

import mpmath as mp
import numpy as np

import relu_fast as rf
from relu_fast import _api
from relu_fast._bench.cli import _cpu_name

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

mp.mp.prec = 160
SELU_A = mp.mpf("1.6732632423543772848170429916717")
SELU_L = mp.mpf("1.0507009873554804934193349852946")
CELU_ALPHA = 0.5


def _sig(v):
    return 1 / (1 + mp.exp(-v))


# name: (call on arrays, exact value at one mpf x)
FUNCTIONS = {
    "selu": (lambda x: rf.selu(x), lambda v: SELU_L * (v if v > 0 else SELU_A * mp.expm1(v))),
    "selu_backward": (lambda x: rf.selu_backward(np.ones_like(x), x),
                      lambda v: SELU_L * (1 if v > 0 else SELU_A * mp.exp(v))),
    "celu": (lambda x: rf.celu(x, CELU_ALPHA),
             lambda v: v if v > 0 else CELU_ALPHA * mp.expm1(v / CELU_ALPHA)),
    "celu_backward": (lambda x: rf.celu_backward(np.ones_like(x), x, CELU_ALPHA),
                      lambda v: 1 if v > 0 else mp.exp(v / CELU_ALPHA)),
    "silu": (lambda x: rf.silu(x), lambda v: v * _sig(v)),
    "silu_backward": (lambda x: rf.silu_backward(np.ones_like(x), x),
                      lambda v: _sig(v) * (1 + v * (1 - _sig(v)))),
}


def _softplus(v, beta=1.0, threshold=20.0):
    t = beta * v
    return v if t > threshold else mp.log1p(mp.exp(t)) / beta


def _tsp(v):
    return mp.tanh(mp.log1p(mp.exp(v)))


def _mish_bwd(v):
    s = _tsp(v)
    return s + v * _sig(v) * (1 - s * s)


FUNCTIONS.update({
    "softplus": (lambda x: rf.softplus(x), _softplus),
    "softplus(beta=1.5, threshold=4)": (lambda x: rf.softplus(x, 1.5, 4.0),
                                        lambda v: _softplus(v, 1.5, 4.0)),
    "softplus_backward": (lambda x: rf.softplus_backward(np.ones_like(x), x),
                          lambda v: 1 if v > 20 else _sig(v)),
    "mish": (lambda x: rf.mish(x), lambda v: v * _tsp(v)),
    "mish_backward": (lambda x: rf.mish_backward(np.ones_like(x), x), _mish_bwd),
})
from accuracy_gelu import exact_ld as _gelu_ld, exact_mp as _gelu_mp   # noqa: E402  (tools/)

for _name, _form in (("gelu", "none"), ("gelu(approximate='tanh')", "tanh"),
                     ("gelu_backward", "none"), ("gelu_backward(approximate='tanh')", "tanh")):
    _fn = "gelu_backward" if _name.startswith("gelu_backward") else "gelu"
    FUNCTIONS[_name] = (
        (lambda x, f=_fn, a=_form: rf.gelu(x, a) if f == "gelu" else rf.gelu_backward(np.ones_like(x), x, a)),
        (lambda v, f=_fn, a=_form: _gelu_mp(f, a, v)))
# where each function's values are not trivially x, a constant or 0 (its domain of work)
RANGE = {"gelu": 40, "gelu(approximate='tanh')": 40, "gelu_backward": 40,
         "gelu_backward(approximate='tanh')": 40, "selu": 110, "selu_backward": 110, "celu": 60, "celu_backward": 60, "silu": 110,
         "silu_backward": 110, "softplus": 110, "softplus(beta=1.5, threshold=4)": 80,
         "softplus_backward": 110, "mish": 110, "mish_backward": 110}
RANGE64 = {"gelu": 40, "gelu(approximate='tanh')": 40, "gelu_backward": 40,
           "gelu_backward(approximate='tanh')": 40, "selu": 750, "selu_backward": 750, "celu": 380, "celu_backward": 380, "silu": 760,
           "silu_backward": 760, "softplus": 760, "softplus(beta=1.5, threshold=4)": 510,
           "softplus_backward": 760, "mish": 800, "mish_backward": 800}
# points left out, as (centre, half-width): mish' has a zero at -1.19243 where its two
# terms cancel, so that only its absolute error is bounded there (docs/semantics.rst)
EXCLUDE = {"mish_backward": (-1.1924, 0.01)}


def points(dtype, n, bound, seed):
    """Dense near 0 (uniform in [-4, 4]), log-spaced out to +-bound, tiny magnitudes."""
    r = np.random.default_rng(seed)
    k = n // 3
    mid = r.uniform(-4, 4, k)
    tails = np.exp(r.uniform(np.log(4), np.log(bound), k)) * r.choice([-1, 1], k)
    tiny_lo = -300 if dtype == np.float64 else -40
    tiny = 10.0 ** r.uniform(tiny_lo, 0, n - 2 * k) * r.choice([-1, 1], n - 2 * k)
    x = np.concatenate([mid, tails, tiny]).astype(dtype)
    return x[np.isfinite(x)]


def ulp_of(exact, dtype):
    e = np.abs(np.asarray(exact, dtype=np.float64 if dtype == np.float32 else np.longdouble))
    f = np.abs(e.astype(dtype))
    return np.maximum(np.spacing(f).astype(e.dtype), np.finfo(dtype).smallest_subnormal)


def exact_values(fn, x, prec_dtype):
    return np.array([float(fn(mp.mpf(float(v)))) for v in x], dtype=prec_dtype)


def measure(points32, points64, seed=1):
    rows = []
    levels = [lv for lv in ("baseline", "avx2", "avx512") if _available(lv)]
    original = rf.kernel_level()
    try:
        for name, (call, exact) in FUNCTIONS.items():
            for dtype, n in ((np.float32, points32), (np.float64, points64)):
                bound = RANGE[name] if dtype == np.float32 else RANGE64[name]
                x = points(dtype, n, bound, seed)
                if name in EXCLUDE:
                    c, w = EXCLUDE[name]
                    x = x[~(np.abs(x.astype(np.float64) - c) < w)]
                # float32: the exact value to float64 precision is plenty (mpmath is slow):
                # the long-double formulas of relu_fast._reference, cross-checked on a
                # sample against mpmath below
                if dtype == np.float32:
                    wide = x.astype(np.longdouble)
                    want = _wide_reference(name, wide)
                    sample = x[:: max(1, x.size // 2000)]
                    check = exact_values(exact, sample, np.float64)
                    w_s = _wide_reference(name, sample.astype(np.longdouble)).astype(np.float64)
                    assert np.all(np.abs(w_s - check) <= 1e-12 * np.abs(check) + 1e-300), name
                else:
                    want = [exact(mp.mpf(float(v))) for v in x]       # mpf: exact enough
                    ulps = ulp_of(np.array([float(w) for w in want]), dtype)
                for level in levels:
                    _api._use_level(level)
                    got = call(x)
                    if dtype == np.float32:
                        err = np.abs(got.astype(want.dtype) - want) / ulp_of(want, dtype)
                    else:
                        err = np.array([float(abs(mp.mpf(float(g)) - w) / mp.mpf(float(u)))
                                        for g, w, u in zip(got, want, ulps)])
                    rows.append(dict(function=name, dtype=np.dtype(dtype).name, level=level,
                                     points=int(x.size), max_ulp=float(np.max(err)),
                                     p99_ulp=float(np.percentile(err, 99)),
                                     worst_x=float(x[np.argmax(err)])))
    finally:
        _api._use_level(original)
    return rows


def _wide_reference(name, w):
    """The exact formulas in long double (float32 results: exact far below their ulp)."""
    if name.startswith("gelu"):
        return _gelu_ld("gelu_backward" if "backward" in name else "gelu",
                        "tanh" if "tanh" in name else "none", w)
    e = np.exp(-np.abs(w))
    with np.errstate(all="ignore"):
        if name == "selu":
            return np.where(w > 0, float(SELU_L) * w, np.longdouble(float(SELU_L * SELU_A)) * np.expm1(w))
        if name == "selu_backward":
            return np.where(w > 0, np.longdouble(float(SELU_L)),
                            np.longdouble(float(SELU_L * SELU_A)) * np.exp(w))
        if name == "celu":
            return np.where(w > 0, w, CELU_ALPHA * np.expm1(w / CELU_ALPHA))
        if name == "celu_backward":
            return np.where(w > 0, 1, np.exp(w / CELU_ALPHA))
        s = np.where(w >= 0, 1 / (1 + e), e / (1 + e))
        if name.startswith("softplus"):
            beta, th = (1.5, 4.0) if "beta" in name else (1.0, 20.0)
            t = beta * w
            ep = np.exp(-np.abs(t))
            if name == "softplus_backward":
                return np.where(t > th, 1, np.where(t >= 0, 1 / (1 + ep), ep / (1 + ep)))
            return np.where(t > th, w, (np.maximum(t, 0) + np.log1p(ep)) / beta)
        if name.startswith("mish"):
            # tanh(softplus(x)) from e = exp(-|x|), no log (mish's kernel form, exact algebra)
            tsp = np.where(w >= 0, (1 + 2 * e) / (1 + 2 * e + 2 * e * e), e * (e + 2) / (e * (e + 2) + 2))
            if name == "mish":
                return w * tsp
            return tsp + w * s * (1 - tsp * tsp)
        if name == "silu":
            return w * s
        return s * (1 + w * (1 - s))


def _available(level):
    try:
        _api._use_level(level)
        return True
    except Exception:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=3_000_000, help="float32 points per function")
    ap.add_argument("--mp-points", type=int, default=100_000, help="float64 points (mpmath)")
    ap.add_argument("--json", default=None)
    ap.add_argument("--functions", default=None, help="';'-separated (default: all)")
    a = ap.parse_args()
    if a.functions:
        for name in set(FUNCTIONS) - set(a.functions.split(";")):
            del FUNCTIONS[name]
    t0 = time.time()
    rows = measure(a.points, a.mp_points)
    print(f"{'function':32} {'dtype':8} {'level':9} {'points':>9} {'max ulp':>8} {'p99 ulp':>8}  worst x")
    for r in rows:
        print(f"{r['function']:32} {r['dtype']:8} {r['level']:9} {r['points']:9d} {r['max_ulp']:8.3f} "
              f"{r['p99_ulp']:8.3f}  {r['worst_x']!r}")
    meta = dict(machine=_cpu_name(), excluded={k: list(v) for k, v in EXCLUDE.items()}, numpy=np.__version__,
                relu_fast=rf.__version__, seconds=round(time.time() - t0),
                date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(meta=meta, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
