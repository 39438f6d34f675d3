"""The float32 lanes of the transcendental functions (float64 arithmetic with FMA where
the level has it, quotients from a float32 reciprocal and one Newton step) on every
level, where their pieces change -- around the gradients' zeros (the fits' windows and
their edges), where exp is taken as 0, at the hand-over to the wide lanes -- and with g
near float32's overflow: within 0.51 ulp of the exact value (the reference on the same
numbers in float64, rounded from long double: exact to far below a float32 ulp).  The
lanes' error bound is 0.5 ulp plus about 2^-28 relative (docs/accuracy.json measures
0.503-0.507); 1 ulp is the contract."""
import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _api, _dispatch
from relu_fast import _reference as ref

LEVELS = _dispatch.available_levels()
F32 = np.float32
BIG = float(np.finfo(F32).max)

# name: (call, reference), gradients with g as a second array
CASES = {
    "gelu": (lambda g, x: rf.gelu(x), lambda g, x: ref.gelu(x)),
    "gelu_tanh": (lambda g, x: rf.gelu(x, "tanh"), lambda g, x: ref.gelu(x, "tanh")),
    "gelu_backward": (lambda g, x: rf.gelu_backward(g, x), lambda g, x: ref.gelu_backward(g, x)),
    "gelu_backward_tanh": (lambda g, x: rf.gelu_backward(g, x, "tanh"),
                           lambda g, x: ref.gelu_backward(g, x, "tanh")),
    "silu": (lambda g, x: rf.silu(x), lambda g, x: ref.silu(x)),
    "silu_backward": (lambda g, x: rf.silu_backward(g, x), lambda g, x: ref.silu_backward(g, x)),
    "softplus": (lambda g, x: rf.softplus(x, 0.5), lambda g, x: ref.softplus(x, 0.5)),
    "softplus_backward": (lambda g, x: rf.softplus_backward(g, x, 0.5),
                          lambda g, x: ref.softplus_backward(g, x, 0.5)),
    "mish": (lambda g, x: rf.mish(x), lambda g, x: ref.mish(x)),
    "mish_backward": (lambda g, x: rf.mish_backward(g, x), lambda g, x: ref.mish_backward(g, x)),
}
ERF_ROOT, TANH_ROOT = -0.7517915246935645, -0.7524614220710162


def _around(c, w, n=4001):
    """Every float32 within w of c, thinned to about n, plus c's neighbours."""
    lo, hi = F32(c - w), F32(c + w)
    xs = np.linspace(lo, hi, n, dtype=np.float64).astype(F32)
    near = [np.nextafter(F32(c), F32(-np.inf)), F32(c), np.nextafter(F32(c), F32(np.inf))]
    return np.concatenate([xs, np.array(near, F32)])


def _points():
    parts = [
        _around(ERF_ROOT, 0.3), _around(TANH_ROOT, 0.3),
        # the fits' window edges (0.2 from each zero), each side
        _around(ERF_ROOT - 0.2, 1e-4, 201), _around(ERF_ROOT + 0.2, 1e-4, 201),
        _around(TANH_ROOT - 0.2, 1e-4, 201), _around(TANH_ROOT + 0.2, 1e-4, 201),
        # the tanh lane takes e = 0 past 2u = 200 (x ~ -14.3); the erf lane hands
        # |x| > 20 to the wide lane; exp's clamp at -200 (silu, softplus, mish)
        np.linspace(-14.6, -13.9, 2001, dtype=F32), np.linspace(-20.5, -19.5, 501, dtype=F32),
        np.linspace(-200.5, -199.5, 101, dtype=F32), np.linspace(-110, -85, 501, dtype=F32),
        np.linspace(-30, 30, 20001, dtype=F32),
        np.geomspace(1e-30, 1e3, 2001).astype(F32), -np.geomspace(1e-30, 1e3, 2001).astype(F32),
    ]
    return np.concatenate(parts)


def _ulp_errors(got, exact):
    """|got - exact| in units of the float32 ulp at exact (subnormal: the smallest
    subnormal); where exact rounds past float32's range, 0 if got is that infinity."""
    exact = np.asarray(exact, np.float64)
    over = np.abs(exact) >= 2.0 ** 128 * (1 - 2.0 ** -25)
    with np.errstate(all="ignore"):
        ulp = np.spacing(np.abs(np.where(over, 1.0, exact)).astype(F32)).astype(np.float64)
        err = np.abs(got.astype(np.float64) - exact) / np.maximum(ulp, 2.0 ** -149)
        return np.where(over, np.where(got == np.sign(exact) * np.inf, 0.0, np.inf), err)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", CASES)
def test_float32_lanes_within_half_an_ulp(level, name):
    call, want = CASES[name]
    x = _points()
    before = rf.kernel_level()
    try:
        _api._use_level(level)
        for gv in ((1.0,) if "backward" not in name else (1.0, -2.5, BIG / 2, -BIG)):
            g = np.full_like(x, gv)
            with np.errstate(all="ignore"):
                exact = want(g.astype(np.float64), x.astype(np.float64))
            got = call(g, x)
            assert got.dtype == F32
            err = _ulp_errors(got, exact)
            worst = int(np.argmax(err))
            assert err[worst] <= 0.51, (f"{name} g={gv}: {err[worst]:.3f} ulp at x={x[worst]!r}: "
                                        f"{got[worst]!r} vs exact {exact[worst]!r}")
    finally:
        _api._use_level(before)
