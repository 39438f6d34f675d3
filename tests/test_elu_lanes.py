"""elu_backward's two paths: on levels with FMA, lanes are computed in x's dtype
and a lane the fast path cannot do (x below exp's normal range, |g| near overflow,
NaN/inf g) is redone on the float64 path.  Each lane's result must depend on that
lane only, and agree with the reference, whether it shares its block with slow
lanes or not, in place or not."""
import importlib

import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _api, _dispatch
from relu_fast import _reference as ref
from conftest import assert_same, assert_ulp

LEVELS = _dispatch.available_levels()


def _uses_fma(level):
    return importlib.import_module(f"relu_fast._kernels_{level}").USES_FMA
BLOCK = 512     # _kernels.pxi FMA_BLOCK


def _slow_values(dtype):
    """(x, g) pairs the FMA path must hand over: x under the floor, huge or odd g."""
    big = np.finfo(dtype).max
    floor = -87.0 if dtype == np.float32 else -708.0
    # (float64 x < -745: exp underflows to 0 in float64, documented; see test_reference)
    xs = [floor - 0.5, floor * 1.1 if dtype == np.float32 else -740.0, -100.0, -1e4, -np.inf, -0.5, -0.5, -2.0, -0.5, -1.0]
    gs = [1.0, 3e37, 2.5, 1e30, 1.0, big, -big / 3, np.inf, np.nan, -np.inf]
    return np.array(xs, dtype), np.array(gs, dtype)


def _data(dtype, seed):
    rng = np.random.default_rng(seed)
    n = 3 * BLOCK + 77
    x = (rng.standard_normal(n) * 4).astype(dtype)
    g = (rng.standard_normal(n) * 2).astype(dtype)
    sx, sg = _slow_values(dtype)
    where = rng.choice(np.arange(BLOCK, 2 * BLOCK), size=sx.size, replace=False)  # all in block 2
    x[where], g[where] = sx, sg
    x[-5:], g[-5:] = sx[:5], sg[:5]           # and in the short last block
    return x, g


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("alpha", [1.0, 0.3, 2.5])
def test_each_lane_on_its_own(level, alpha, dtype):
    before = rf.kernel_level()
    try:
        _api._use_level(level)
        x, g = _data(dtype, seed=int(alpha * 10))
        with np.errstate(all="ignore"):
            want = ref.elu_backward(g, x, alpha)
        got = rf.elu_backward(g, x, alpha)
        assert_ulp(got, want, 2)
        alone = np.array([rf.elu_backward(g[i:i + 1], x[i:i + 1], alpha)[0] for i in range(x.size)])
        assert_same(got, alone)                 # no lane depends on its neighbours
        for target in ("x", "g"):               # in place: screened before computing
            xx, gg = x.copy(), g.copy()
            rf.elu_backward(gg, xx, alpha, out=xx if target == "x" else gg)
            assert_same(xx if target == "x" else gg, got)
    finally:
        _api._use_level(before)


@pytest.mark.parametrize("level", LEVELS)
def test_fast_path_extremes_against_reference(level, dtype):
    """Lanes just inside the fast path's limits: x at the floor, |g| at gmax,
    subnormal results, signed zeros of g."""
    before = rf.kernel_level()
    try:
        _api._use_level(level)
        floor = -87.0 if dtype == np.float32 else -708.0
        gmax = 2.0 ** (126 if dtype == np.float32 else 1022)
        x = np.array([floor, floor + 1e-3, floor + 0.3, -80.0, -30.0, -0.0, -1e-30, -1.0, -1.0, -0.7, -3.0],
                     dtype)
        g = np.array([1.0, 1e-3, 7.0, 1e-5, -1e-30, -0.0, 0.0, -0.0, gmax, -gmax, 5e-39], dtype)
        for alpha in (1.0, 0.7, 3.0, 2.0 ** -50, 2.0 ** 50, -1.5):
            with np.errstate(all="ignore"):
                want = ref.elu_backward(g, x, alpha)
            got = rf.elu_backward(g, x, alpha)
            assert_ulp(got, want, 1 if _uses_fma(level) else 2)
            same_sign = np.isnan(want) | (np.signbit(got) == np.signbit(want))
            assert same_sign.all(), (alpha, got[~same_sign], want[~same_sign])
    finally:
        _api._use_level(before)


@pytest.mark.parametrize("level", LEVELS)
def test_elu_forward_fma_extremes(level, dtype):
    """elu's FMA path: alpha (2^k - 1 + 2^k s) from exact pairs; the cases where
    s's own rounding or the zero's sign would show: k = 0 (|x| <= ln2/2, result
    alpha s), tiny and subnormal x, signed zeros, x where 2^k - 1 is inexact."""
    before = rf.kernel_level()
    try:
        _api._use_level(level)
        tiny = np.finfo(dtype).smallest_subnormal
        x = np.concatenate([-np.linspace(0, 0.4, 4001), -np.geomspace(1e-30, 60, 3000),
                            [0.0, -0.0, -tiny, -1e-8, -17.3, -17.4, -18.1, -36.7, -37.5, -80.0, 1.0, np.nan]])
        x = x.astype(dtype)
        for alpha in (1.0, 0.3, 1.7, 1.999, -2.2, 2.0 ** -50, 2.0 ** 50):
            with np.errstate(all="ignore"):
                want = ref.elu(x, alpha)
            got = rf.elu(x, alpha)
            assert_ulp(got, want, 1 if _uses_fma(level) else 2)   # FMA: measured <= 0.85 ulp
            same_sign = np.isnan(want) | (np.signbit(got) == np.signbit(want))
            assert same_sign.all(), (alpha, x[~same_sign], got[~same_sign], want[~same_sign])
    finally:
        _api._use_level(before)


@pytest.mark.parametrize("level", LEVELS)
def test_wide_path_extremes(level):
    """The float64 path (every lane on the baseline, slow lanes elsewhere): results near
    the largest double, huge g times a subnormal exp, infinite and zero g, tiny alpha."""
    before = rf.kernel_level()
    try:
        _api._use_level(level)
        big = np.finfo(np.float64).max
        cases = [(-1.6, 0.95 * big, 5.0), (-0.3, big, 1.2), (-0.1, -big, 1.0), (-720.0, 1e300, 1.0),
                 (-740.0, 3e37, 0.5), (-1.0, np.inf, 2.2250738585072014e-308), (-1.0, -np.inf, 3.0),
                 (-2.0, -0.0, 1.5), (-700.0, 1e-300, 1e300), (-5.0, 1e-310, 0.25)]
        for x, g, alpha in cases:
            xs, gs = np.array([x]), np.array([g])
            with np.errstate(all="ignore"):
                want = ref.elu_backward(gs, xs, alpha)
            got = rf.elu_backward(gs, xs, alpha)
            assert_ulp(got, want, 2)
            assert np.isnan(want[0]) or np.signbit(got[0]) == np.signbit(want[0]), (x, g, alpha, got, want)
        # documented: float64 x < -745 (exp underflows in float64) gives 0, NaN for infinite g
        got = rf.elu_backward(np.array([np.inf, 1e300, -2.0]), np.array([-800.0, -800.0, -1e4]), 1.0)
        assert np.isnan(got[0]) and got[1] == 0 and got[2] == 0 and np.signbit(got[2])
    finally:
        _api._use_level(before)
