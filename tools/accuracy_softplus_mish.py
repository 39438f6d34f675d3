#!/usr/bin/env python3
"""Measure softplus, softplus_backward, mish and mish_backward against wider references.

float32: every kernel level, a few million points over the whole interesting range
(uniform near 0, log-uniform magnitudes of both signs from 1e-45 to 1e38, the threshold
and the underflow ends), against np.longdouble (x86's 64-bit-significand long double,
exact for these float32 inputs; 11 bits beyond float64).  float64: >= 1e5 points against
mpmath at 40 digits.  Error in units in the last place of the result's dtype, measured
with the exact reference value (so 0.5 is correctly rounded):
|got - ref| / spacing(ref) in that dtype (subnormal spacing below the normal range).

mish_backward has a zero at x ~ -1.1924: in float64 its relative error there is
unbounded for any float64 evaluation (the two terms cancel); the float64 row gives the
ulp maximum away from it (|x + 1.1924| > 0.01) and the largest absolute error, relative
to |g|, near it.  float32 rows cover every point (the float64 evaluation has bits to
spare).

    python tools/accuracy_softplus_mish.py [--n32 4000000] [--n64 100000] [-o table.txt]

Prints the table and writes it to -o if given.  No timing.
"""
import argparse
import sys

import mpmath
import numpy as np

import relu_fast as rf
from relu_fast import _api, _dispatch

ROOT = -1.1924


def points(n, dtype, seed):
    """n points of `dtype`: a quarter uniform on [-30, 30], a quarter log-uniform
    magnitudes of both signs over the dtype's range (subnormals included), a quarter
    uniform on [-120, 25] (float32 underflow end) or [-760, 40] (float64), the rest
    uniform on [-3, 3]."""
    r = np.random.default_rng(seed)
    q = n // 4
    lo, hi = (-45.5, 38.5) if dtype == np.float32 else (-323.5, 308.2)
    mags = 10.0 ** r.uniform(lo, hi, q) * r.choice([-1.0, 1.0], q)
    end = (-120.0, 25.0) if dtype == np.float32 else (-760.0, 40.0)
    with np.errstate(over="ignore"):
        x = np.concatenate([r.uniform(-30, 30, q), mags, r.uniform(*end, q),
                            r.uniform(-3, 3, n - 3 * q)]).astype(dtype)
    x = x[np.isfinite(x)]
    g = r.uniform(0.5, 2.0, x.size).astype(dtype)
    return x, g


def spacing_of(ref, dtype):
    """ulp of the exact value ref (float64/longdouble array) in `dtype`."""
    f = np.finfo(dtype)
    a = np.abs(ref).astype(dtype)                     # its rounding, for the binade
    sp = np.spacing(np.where(a == 0, f.smallest_subnormal, a)).astype(np.float64)
    return np.maximum(np.abs(sp), float(f.smallest_subnormal))


# ---- float32: long double references ---------------------------------------------

def ld_softplus(x, beta=1.0, threshold=20.0):
    L = np.longdouble
    b = L(np.float32(beta))
    t = x.astype(L) * b
    sp = np.maximum(t, L(0)) + np.log1p(np.exp(-np.abs(t)))
    tf = x * np.float32(beta)
    return np.where(tf > np.float32(threshold), x.astype(L), sp / b)


def ld_softplus_bwd(g, x, beta=1.0, threshold=20.0):
    L = np.longdouble
    b = L(np.float32(beta))
    t = x.astype(L) * b
    e = np.exp(-np.abs(t))
    sig = np.where(t > 0, L(1), e) / (L(1) + e)
    tf = x * np.float32(beta)
    return np.where(tf > np.float32(threshold), g.astype(L), g.astype(L) * sig)


def ld_tsp(x):
    L = np.longdouble
    e = np.exp(-np.abs(x.astype(L)))
    pos = (L(1) + 2 * e) / (L(1) + 2 * e + 2 * e * e)
    neg = e * (e + 2) / (e * (e + 2) + 2)
    return np.where(x >= 0, pos, neg), e


def ld_mish(x):
    t, _ = ld_tsp(x)
    return x.astype(np.longdouble) * t


def ld_mish_bwd(g, x):
    L = np.longdouble
    t, e = ld_tsp(x)
    xl = x.astype(L)
    sig = np.where(x >= 0, L(1), e) / (L(1) + e)
    return g.astype(L) * (t + xl * sig * (L(1) - t * t))


# ---- float64: mpmath references ----------------------------------------------------

def mp_softplus(v, beta=1.0, threshold=20.0):
    t = v * beta                                    # the test in float64, as the kernel
    if t > threshold:
        return mpmath.mpf(v)
    tm = mpmath.mpf(v) * mpmath.mpf(beta)
    return mpmath.log1p(mpmath.exp(tm)) / mpmath.mpf(beta)


def mp_softplus_bwd(gv, v, beta=1.0, threshold=20.0):
    if v * beta > threshold:
        return mpmath.mpf(gv)
    tm = mpmath.mpf(v) * mpmath.mpf(beta)
    return mpmath.mpf(gv) / (1 + mpmath.exp(-tm))


def mp_tsp(v):
    return mpmath.tanh(mpmath.log1p(mpmath.exp(mpmath.mpf(v))))


def mp_mish(v):
    return mpmath.mpf(v) * mp_tsp(v)


def mp_mish_bwd(gv, v):
    xm = mpmath.mpf(v)
    s = mp_tsp(v)
    sig = 1 / (1 + mpmath.exp(-xm))
    return mpmath.mpf(gv) * (s + xm * sig * (1 - s * s))


def ulps(got, ref, dtype):
    """|got - ref| in ulps of the exact ref (float64 for float32 data, mpf for float64)."""
    if dtype == np.float32:
        refd = ref
        err = np.abs(got.astype(np.longdouble) - ref)
        out = (err / spacing_of(refd.astype(np.float64), dtype).astype(np.longdouble)).astype(np.float64)
    else:
        out = np.empty(got.size)
        for i, (a, b) in enumerate(zip(got.tolist(), ref)):
            if mpmath.isinf(b) or (a != a and mpmath.isnan(b)):
                out[i] = 0.0 if a == b or (a != a) else np.inf
                continue
            bf = float(b)
            sp = spacing_of(np.array([bf]), dtype)[0]
            out[i] = float(abs(mpmath.mpf(a) - b) / sp)
    bad_inf = ~np.isfinite(got) & np.isfinite(out)
    out[bad_inf & (got.astype(np.float64) != ref.astype(np.float64) if dtype == np.float32 else bad_inf)] = np.inf
    return out


def measure(n32, n64):
    rows = []
    levels = _dispatch.available_levels()
    x32, g32 = points(n32, np.float32, 1)
    x64, g64 = points(n64, np.float64, 2)
    far32 = np.abs(x32.astype(np.float64) - ROOT) > 0.01
    far64 = np.abs(x64 - ROOT) > 0.01
    with mpmath.workdps(40):
        r64 = {
            "softplus": [mp_softplus(v) for v in x64.tolist()],
            "softplus beta=1.5 thr=4": [mp_softplus(v, 1.5, 4.0) for v in x64.tolist()],
            "softplus_backward": [mp_softplus_bwd(a, v) for a, v in zip(g64.tolist(), x64.tolist())],
            "mish": [mp_mish(v) for v in x64.tolist()],
            "mish_backward": [mp_mish_bwd(a, v) for a, v in zip(g64.tolist(), x64.tolist())],
        }
    r64 = {k: np.array(v, dtype=object) for k, v in r64.items()}
    with np.errstate(all="ignore"):
        r32 = {
            "softplus": ld_softplus(x32),
            "softplus beta=1.5 thr=4": ld_softplus(x32, 1.5, 4.0),
            "softplus_backward": ld_softplus_bwd(g32, x32),
            "mish": ld_mish(x32),
            "mish_backward": ld_mish_bwd(g32, x32),
        }
    calls = {
        "softplus": lambda g, x: rf.softplus(x),
        "softplus beta=1.5 thr=4": lambda g, x: rf.softplus(x, 1.5, 4.0),
        "softplus_backward": lambda g, x: rf.softplus_backward(g, x),
        "mish": lambda g, x: rf.mish(x),
        "mish_backward": lambda g, x: rf.mish_backward(g, x),
    }
    start = rf.kernel_level()
    try:
        for level in levels:
            _api._use_level(level)
            for name, call in calls.items():
                for dtype, x, g, ref, far in ((np.float32, x32, g32, r32, far32),
                                              (np.float64, x64, g64, r64, far64)):
                    got = call(g, x)
                    u = ulps(got, ref[name], dtype)
                    if name == "mish_backward" and dtype == np.float64:
                        near = ~far
                        refd = ref[name].astype(np.float64)
                        absn = np.abs(got.astype(np.float64) - refd)[near] / np.abs(g[near].astype(np.float64))
                        rows.append((level, name, dtype.__name__, x.size, float(u[far].max()),
                                     f"near the zero: abs err <= {absn.max():.2g} |g|"))
                    else:
                        rows.append((level, name, dtype.__name__, x.size, float(u.max()), ""))
    finally:
        _api._use_level(start)
    return rows


def table(rows):
    lines = [f"{'level':<9} {'function':<24} {'dtype':<8} {'points':>8} {'max ulp':>8}  note",
             "-" * 88]
    for level, name, dt, n, m, note in rows:
        lines.append(f"{level:<9} {name:<24} {dt:<8} {n:>8} {m:>8.3f}  {note}")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n32", type=int, default=4_000_000)
    ap.add_argument("--n64", type=int, default=100_000)
    ap.add_argument("-o", "--output")
    a = ap.parse_args(argv)
    text = table(measure(a.n32, a.n64))
    print(text)
    if a.output:
        with open(a.output, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
