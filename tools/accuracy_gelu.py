"""Measure the accuracy of gelu and gelu_backward (both forms) on every kernel level.

    python tools/accuracy_gelu.py [--f32 N] [--f64 N] [--out FILE]

float32: about N inputs per sign (default 2 000 000), evenly spaced in the bit patterns
from the smallest denormal up to 40 (so every binade, denormals and tiny values
included), plus a uniform sample of [-30, 30]; against a long-double reference
(Phi from its series below 2 and Laplace's continued fraction above, the tanh form
directly; long double's 64-bit significand is 2^-40 finer than float32's).
float64: N points (default 100 000) over [-40, 10] uniform, log-spaced magnitudes from
1e-300 to 40 of both signs, and the neighbourhood of the derivative's zero
(x ~ -0.752); against mpmath at 40 digits.

The error of a result is |got - exact| in units of the spacing of the dtype at the
exact value (subnormals: the smallest denormal), so 0.5 means correctly rounded.
Writes a small text table (stdout, and FILE if given).  Gradients are measured with
grad_output = 1.  Levels: every level the build and this CPU support; the tool also
reports whether they agree bit for bit.
"""
import argparse
import sys

import mpmath as mp
import numpy as np

import relu_fast as rf
from relu_fast import _api, _dispatch
from relu_fast._reference import _gelu_tail, _KBETA, _KKAPPA

LD = np.longdouble


def exact_ld(name, approximate, x):
    """The exact value in long double (float32 inputs)."""
    xl = np.asarray(x, LD)
    xc = np.abs(xl)
    with np.errstate(all="ignore"):
        if approximate == "tanh":
            w = 2 * _KBETA * (xc + _KKAPPA * xc ** 3)
            e = np.exp(-w)
            f = 1 / (1 + e)
            if name == "gelu":
                return np.where(xl >= 0, xl * f, -xc * e * f)
            D = 2 * xc * _KBETA * (1 + 3 * _KKAPPA * xc * xc)
            return np.where(xl >= 0, f + D * e * f * f, e * f * (1 - D * f))
        n, phi = _gelu_tail(xc)
        if name == "gelu":
            return np.where(xl >= 0, xl - n, -n)
        q = np.where(xc > 0, n / np.where(xc > 0, xc, 1), 0.5) - xc * phi
        return np.where(xl >= 0, 1 - q, q)


KB, KK = mp.mpf(0.7978845608028654), mp.mpf(0.044715)


def exact_mp(name, approximate, v):
    x = mp.mpf(float(v))
    if approximate == "tanh":
        u = KB * (x + KK * x ** 3)
        S = 1 / (1 + mp.exp(-2 * u))
        if name == "gelu":
            return x * S
        return S + 2 * x * S * (1 - S) * KB * (1 + 3 * KK * x * x)
    if name == "gelu":
        return x * mp.ncdf(x)
    return mp.ncdf(x) + x * mp.npdf(x)


def call(name, approximate, x):
    if name == "gelu":
        return rf.gelu(x, approximate)
    return rf.gelu_backward(np.ones_like(x), x, approximate)


def ulp_at(exact, dtype):
    """The spacing of dtype at |exact| (the smallest denormal below the normal range)."""
    fi = np.finfo(dtype)
    a = np.abs(exact.astype(np.float64)) if dtype == np.float32 else np.abs(exact)
    a = np.where(a < fi.tiny, fi.tiny, a)
    e = np.floor(np.log2(a.astype(np.float64)))
    return np.ldexp(1.0, (e - fi.nmant).astype(int))


def float32_inputs(n):
    top = np.float32(40.0).view(np.uint32)
    bits = np.unique(np.linspace(1, top, n).astype(np.uint32))
    pos = bits.view(np.float32)
    uni = np.random.default_rng(0).uniform(-30, 30, n // 4).astype(np.float32)
    return np.concatenate([pos, -pos, uni, np.float32([0.0, -0.0])])


def float64_inputs(n):
    r = np.random.default_rng(1)
    k = n // 4
    mags = np.exp(r.uniform(np.log(1e-300), np.log(40.0), k))
    return np.concatenate([r.uniform(-40, 10, k), mags, -mags, -0.752 + r.uniform(-0.5, 0.5, n - 3 * k)])


def measure_f32(x, name, approximate):
    ref = np.concatenate([exact_ld(name, approximate, c) for c in np.array_split(x, 16)])
    got = call(name, approximate, x)
    ref64 = ref.astype(np.float64)
    err = np.abs(got.astype(LD) - ref).astype(np.float64) / ulp_at(ref64, np.float32)
    err[(got == ref64) | (np.isnan(got) & np.isnan(ref64))] = 0
    return got, err


def measure_f64(x, ref, name, approximate):
    got = call(name, approximate, x)
    err = np.empty(x.size)
    for i, (a, b) in enumerate(zip(got, ref)):
        if b == 0:
            err[i] = 0 if a == 0 else abs(a) / 5e-324
            continue
        fb = float(b)
        sp = float(ulp_at(np.array([fb]), np.float64)[0])
        err[i] = float(abs(mp.mpf(float(a)) - b)) / sp
    return got, err


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--f32", type=int, default=2_000_000)
    p.add_argument("--f64", type=int, default=100_000)
    p.add_argument("--out")
    a = p.parse_args(argv)
    mp.mp.dps = 40
    levels = _dispatch.available_levels()
    start = rf.kernel_level()
    cases = [(n, ap) for ap in ("none", "tanh") for n in ("gelu", "gelu_backward")]
    x32 = float32_inputs(a.f32)
    x64 = float64_inputs(a.f64)
    refs64 = {c: [exact_mp(*c, v) for v in x64] for c in cases}
    lines = [f"gelu accuracy: max error in ulp (0.5 = correctly rounded); float32 {x32.size} "
             f"inputs, float64 {x64.size} inputs; grad_output = 1",
             f"{'function':<16} {'approximate':<12} {'dtype':<8} " + " ".join(f"{lv:>10}" for lv in levels)
             + "   where (x, worst level)"]
    identical = True
    try:
        for name, ap in cases:
            for dt, x in (("float32", x32), ("float64", x64)):
                maxima, first, where = [], None, ""
                for lv in levels:
                    _api._use_level(lv)
                    if dt == "float32":
                        got, err = measure_f32(x, name, ap)
                    else:
                        got, err = measure_f64(x, refs64[name, ap], name, ap)
                    if first is None:
                        first = got
                    elif not np.array_equal(first.view(np.uint8), got.view(np.uint8)):
                        identical = False
                    i = int(np.argmax(err))
                    maxima.append(err[i])
                    if err[i] >= max(maxima):
                        where = f"x = {x[i]!r} ({lv})"
                lines.append(f"{name:<16} {ap:<12} {dt:<8} " + " ".join(f"{m:>10.3f}" for m in maxima)
                             + f"   {where}")
    finally:
        _api._use_level(start)
    lines.append(f"levels bit-identical: {identical}")
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
