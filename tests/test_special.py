"""The semantics table, value by value: NaN, +-inf, +-0, denormals, negative slopes.

Expected values are written out by hand (or from math.expm1/math.exp), not taken from
relu_fast or its reference.  Zeros are compared with their sign.
"""
import math

import numpy as np
import pytest

import relu_fast as rf
from conftest import GRAIN, assert_same, assert_ulp

nan, inf = np.nan, np.inf


def den(dtype):
    """A denormal of `dtype` (float32 1e-40, float64 1e-310)."""
    d = dtype(1e-40) if dtype == np.float32 else dtype(1e-310)
    assert 0 < d < np.finfo(dtype).tiny
    return d


def arr(values, dtype):
    return np.array(values, dtype=dtype)


# ---------------------------------------------------------------------------
# relu
# ---------------------------------------------------------------------------

def test_relu_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, 2.5, -2.5, d, -d], dtype)
    want = arr([nan, inf, 0.0, 0.0, -0.0, 2.5, 0.0, d, 0.0], dtype)
    assert_same(rf.relu(x), want)


def test_relu_backward_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, 2.5, -2.5, d, -d], dtype)
    g = np.full(x.shape, 1.5, dtype)
    want = arr([1.5, 1.5, 0.0, 0.0, 0.0, 1.5, 0.0, 1.5, 0.0], dtype)
    assert_same(rf.relu_backward(g, x), want)
    # relu'(0) = 0; a NaN x passes the gradient; the gradient's own specials pass through
    gs = arr([nan, inf, -inf, -0.0, d, nan, inf, -d], dtype)
    xs = arr([1.0, 1.0, 1.0, 1.0, 1.0, -1.0, 0.0, nan], dtype)
    assert_same(rf.relu_backward(gs, xs), arr([nan, inf, -inf, -0.0, d, 0.0, 0.0, -d], dtype))


def test_relu_backward_from_output_equals_from_input(dtype):
    d = den(dtype)
    x = np.concatenate([arr([nan, inf, -inf, 0.0, -0.0, d, -d], dtype),
                        np.random.default_rng(0).standard_normal(1000).astype(dtype)])
    g = np.random.default_rng(1).standard_normal(x.size).astype(dtype)
    assert_same(rf.relu_backward(g, rf.relu(x)), rf.relu_backward(g, x))


# ---------------------------------------------------------------------------
# leaky_relu
# ---------------------------------------------------------------------------

def test_leaky_relu_table(dtype):
    d = den(dtype)
    s = dtype(0.125)
    x = arr([nan, inf, -inf, 0.0, -0.0, 2.5, -2.5, d, -8 * d], dtype)
    want = arr([nan, inf, -inf, 0.0, -0.0, 2.5, -0.3125, d, -d], dtype)
    got = rf.leaky_relu(x, 0.125)
    assert_same(got, want)
    assert got[-1] != 0             # slope * denormal: not flushed to zero
    assert s * x[-1] == got[-1]


def test_leaky_relu_negative_and_zero_slope(dtype):
    x = arr([nan, inf, -inf, 0.0, -0.0, 2.0, -2.0], dtype)
    assert_same(rf.leaky_relu(x, -0.5), arr([nan, inf, inf, -0.0, 0.0, 2.0, 1.0], dtype))
    # slope 0: 0 * x, so -inf -> NaN (0 * -inf) and negatives -> -0.0
    assert_same(rf.leaky_relu(x, 0.0), arr([nan, inf, nan, 0.0, -0.0, 2.0, -0.0], dtype))
    assert_same(rf.leaky_relu(x, 1.0), x)


def test_leaky_relu_default_slope_is_0_01(dtype):
    x = arr([-3.0, 3.0], dtype)
    assert_same(rf.leaky_relu(x), arr([dtype(0.01) * dtype(-3.0), 3.0], dtype))
    assert_same(rf.leaky_relu_backward(arr([2.0, 2.0], dtype), x),
                arr([dtype(0.01) * dtype(2.0), 2.0], dtype))


def test_leaky_relu_slope_is_rounded_to_dtype():
    x = np.array([-1.0], np.float32)
    assert rf.leaky_relu(x, 0.1)[0] == -np.float32(0.1)
    assert rf.leaky_relu(x.astype(np.float64), 0.1)[0] == -0.1


def test_leaky_relu_backward_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, 2.5, -2.5, d, -d], dtype)
    g = np.full(x.shape, 4.0, dtype)
    s = 0.125
    want = arr([0.5, 4.0, 0.5, 0.5, 0.5, 4.0, 0.5, 4.0, 0.5], dtype)   # leaky'(0) = slope
    assert_same(rf.leaky_relu_backward(g, x, s), want)
    assert_same(rf.leaky_relu_backward(g, x, -2.0),
                arr([-8.0, 4.0, -8.0, -8.0, -8.0, 4.0, -8.0, 4.0, -8.0], dtype))
    gs = arr([nan, inf, -inf, 8 * d], dtype)
    xs = arr([-1.0, -1.0, -1.0, -1.0], dtype)
    assert_same(rf.leaky_relu_backward(gs, xs, s), arr([nan, inf, -inf, d], dtype))


# ---------------------------------------------------------------------------
# prelu
# ---------------------------------------------------------------------------

def test_prelu_table(dtype):
    d = den(dtype)
    w = arr([0.5, -2.0, 0.0], dtype)
    x = arr([[nan, -4.0, 4.0, 0.0, -0.0, -2 * d],
             [nan, -4.0, 4.0, 0.0, -0.0, -inf],
             [nan, -4.0, 4.0, 0.0, -0.0, -inf]], dtype)[None]          # (1, 3, 6): channels on axis 1
    want = arr([[nan, -2.0, 4.0, 0.0, -0.0, -d],
                [nan, 8.0, 4.0, -0.0, 0.0, inf],
                [nan, -0.0, 4.0, 0.0, -0.0, nan]], dtype)[None]
    assert_same(rf.prelu(x, w), want)
    xt = np.ascontiguousarray(np.moveaxis(x, 1, -1))                 # channels-last
    assert_same(rf.prelu(xt, w, axis=-1), np.moveaxis(want, 1, -1))
    # one alpha is leaky_relu with that slope, for any rank
    for shape in [(), (5,), (2, 3), (2, 3, 4)]:
        xs = np.random.default_rng(1).standard_normal(shape).astype(dtype)
        assert_same(rf.prelu(xs, dtype(-0.75)), rf.leaky_relu(xs, -0.75))
        assert_same(rf.prelu(xs, arr([-0.75], dtype)), rf.leaky_relu(xs, -0.75))


def test_prelu_backward_table(dtype):
    w = arr([0.5, -2.0], dtype)
    x = arr([[[-1.0, 2.0, 0.0, -3.0]], [[-1.0, 2.0, 0.0, -3.0]]], dtype).reshape(1, 2, 4)
    g = arr([[[2.0, 3.0, 5.0, 7.0]], [[2.0, 3.0, 5.0, 7.0]]], dtype).reshape(1, 2, 4)
    gi, gw = rf.prelu_backward(g, x, w)
    assert_same(gi, arr([[1.0, 3.0, 2.5, 3.5], [-4.0, 3.0, -10.0, -14.0]], dtype).reshape(1, 2, 4))
    # grad_weight[c] = sum over x <= 0 of x * g = -1*2 + 0*5 + -3*7 = -23 for both channels
    assert gw.shape == (2,) and gw.dtype == dtype
    assert_same(gw, arr([-23.0, -23.0], dtype))
    gi1, gw1 = rf.prelu_backward(g, x, dtype(0.5))
    assert gw1.shape == () and gw1 == -46.0
    gi2, gw2 = rf.prelu_backward(g, x, arr([0.5], dtype))
    assert gw2.shape == (1,) and gw2[0] == -46.0
    assert_same(gi1, gi2)
    # NaN in x gives a NaN weight gradient in that channel only
    xn = x.copy()
    xn[0, 1, 0] = nan
    assert_same(rf.prelu_backward(g, xn, w)[1], arr([-23.0, nan], dtype))


def test_prelu_weight_gradient_sums_float32_in_float64():
    """-2^25 then 4099 times -1: a float32 running sum stays at -2^25 (spacing 4)."""
    x2 = np.concatenate([[-2.0 ** 25], -np.ones(4099)]).astype(np.float32)
    _, gw2 = rf.prelu_backward(np.ones_like(x2), x2, np.float32(0.1))
    # exact in float64, then rounded once (2^25 + 4100); a float32 running sum stays at 2^25
    assert gw2 == np.float32(-(2.0 ** 25 + 4099)) and gw2 != np.float32(-2.0 ** 25)


# ---------------------------------------------------------------------------
# elu
# ---------------------------------------------------------------------------

def expm1_ref(x, alpha, dtype):
    return dtype(alpha * math.expm1(float(x)))


def test_elu_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, 2.5, d, -d], dtype)
    want = arr([nan, inf, -1.5, 0.0, -0.0, 2.5, d, dtype(1.5 * float(-d))], dtype)
    got = rf.elu(x, 1.5)
    assert_same(got, want)
    assert got[-1] != 0 and got[-2] == d


def test_elu_values_are_expm1(dtype):
    xs = [-1e-8, -1e-5, -0.1, -0.5, -1.0, -3.0, -20.0, -100.0]
    x = arr(xs, dtype)
    for alpha in (1.0, 0.5, 2.0, -1.5):
        want = arr([expm1_ref(v, alpha, dtype) for v in x], dtype)
        assert_ulp(rf.elu(x, alpha), want, 2)
    # accurate for tiny x: exp(x) - 1 in float32 would give 0 (or -1.19e-7)
    assert rf.elu(arr([-1e-8], dtype))[0] != 0
    assert abs(rf.elu(arr([-1e-8], dtype))[0] + 1e-8) < 1e-15


def test_elu_alpha_zero_and_negative(dtype):
    x = arr([-1.0, -inf, 0.0, 2.0, nan], dtype)
    assert_same(rf.elu(x, 0.0), arr([-0.0, -0.0, 0.0, 2.0, nan], dtype))
    assert_same(rf.elu(x, -2.0), arr([dtype(-2.0 * math.expm1(-1.0)), 2.0, -0.0, 2.0, nan], dtype))


def test_elu_backward_table(dtype):
    d = den(dtype)
    a = 1.5
    x = arr([nan, inf, -inf, 0.0, -0.0, 2.5, d, -d, -1.0], dtype)
    g = np.full(x.shape, 2.0, dtype)
    want = arr([nan, 2.0, 0.0, 3.0, 3.0, 2.0, 2.0, 3.0, dtype(2.0 * (a * math.exp(-1.0)))], dtype)
    assert_ulp(rf.elu_backward(g, x, a), want, 2)
    assert_same(rf.elu_backward(g, x, a)[:8], want[:8])


def test_elu_backward_underflow_of_exp():
    """float64 x < -745: exp(x) is 0 in float64, so the gradient is g * alpha * 0 (NaN for inf g)."""
    x = np.array([-1000.0, -1000.0, -1000.0], np.float64)
    g = np.array([1.0, np.finfo(np.float64).max, np.inf])
    assert_same(rf.elu_backward(g, x, 1.0), np.array([0.0, 0.0, nan]))


def test_elu_backward_from_result_table(dtype):
    a = 1.5
    y = arr([nan, inf, 0.0, -0.0, 2.5, -a, -1.0], dtype)
    g = np.full(y.shape, 2.0, dtype)
    want = arr([nan, 2.0, 3.0, 3.0, 2.0, 0.0, 1.0], dtype)
    assert_same(rf.elu_backward(g, y, a, is_result=True), want)
    assert_same(rf.elu_backward(g, y, a, is_result=np.True_), want)


def test_elu_backward_from_result_agrees_with_from_input(dtype):
    """Where both are defined (alpha >= 0), gradient from y = elu(x) matches gradient from x.

    x in [-4, 4] away from nothing in particular: y + alpha loses about
    ulp(alpha) / (alpha * exp(x)) relative precision, at most ~55 ulp of the dtype at x = -4.
    """
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.uniform(-4, 4, 5000), [0.0, -0.0, 1e-30, -1e-30, nan, inf]]).astype(dtype)
    g = rng.standard_normal(x.size).astype(dtype)
    for a in (1.0, 0.3, 2.0, 0.0):
        y = rf.elu(x, a)
        from_x = rf.elu_backward(g, x, a)
        from_y = rf.elu_backward(g, y, a, is_result=True)
        assert_ulp(from_y, from_x, 64)


def test_elu_nan_in_nan_out(dtype):
    x = arr([nan, -nan], dtype)
    assert np.isnan(rf.elu(x)).all()
    assert np.isnan(rf.elu_backward(arr([1.0, 1.0], dtype), x)).all()
    assert np.isnan(rf.elu_backward(arr([1.0, 1.0], dtype), x, is_result=True)).all()


# ---------------------------------------------------------------------------
# Denormals survive in threads too (no flush-to-zero in the OpenMP workers)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("nthreads", [1, 2])
def test_denormals_not_flushed_in_parallel(dtype, nthreads):
    d = den(dtype)
    n = 3 * GRAIN + 6
    x = np.full(n, -d, dtype)
    x[::2] = d
    g = np.full(n, d, dtype)
    with rf.limit_threads(nthreads):
        assert_same(rf.relu(x), np.where(x > 0, x, dtype(0)))
        assert_same(rf.relu_backward(g, x), np.where(x > 0, g, dtype(0)))
        assert_same(rf.leaky_relu(x, 0.5), np.where(x > 0, x, x * dtype(0.5)))
        assert (rf.leaky_relu(x, 0.5) != 0).all()
        assert (rf.leaky_relu_backward(g, x, 0.5) != 0).all()
        assert (rf.prelu(x.reshape(1, 1, n), dtype(0.5)) != 0).all()
        assert (rf.prelu(x.reshape(-1, 5), np.full(5, 0.5, dtype), axis=-1) != 0).all()
        assert (rf.elu(x) != 0).all()
        assert (rf.elu_backward(g, x) != 0).all()


# ---------------------------------------------------------------------------
# hardtanh
# ---------------------------------------------------------------------------

def test_hardtanh_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5, d, -d], dtype)
    want = arr([nan, 1.0, -1.0, 0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.0, -1.0, d, -d], dtype)
    assert_same(rf.hardtanh(x), want)
    # ReLU6: -0.0 stays -0.0 (inside [0, 6] as 0 == -0), negatives clip to +0
    x6 = arr([-0.0, -3.0, 3.0, 6.0, 7.0, -inf, inf, nan, -d], dtype)
    assert_same(rf.hardtanh(x6, 0.0, 6.0), arr([-0.0, 0.0, 3.0, 6.0, 6.0, 0.0, 6.0, nan, 0.0], dtype))
    # the ends are rounded to x's dtype: 0.1 in float32 is 0.100000001...
    assert_same(rf.hardtanh(arr([1.0], dtype), -1.0, 0.1), arr([0.1], dtype))
    # a range of one point
    assert_same(rf.hardtanh(arr([-2.0, 2.0, nan], dtype), 0.5, 0.5), arr([0.5, 0.5, nan], dtype))


def test_hardtanh_backward_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5, d, -d], dtype)
    g = np.full(x.shape, 1.5, dtype)
    want = arr([0.0, 0.0, 0.0, 1.5, 1.5, 1.5, 1.5, 0.0, 0.0, 0.0, 0.0, 1.5, 1.5], dtype)
    assert_same(rf.hardtanh_backward(g, x), want)
    # the gradient's own specials pass inside the range, and give 0 outside
    gs = arr([nan, inf, -inf, -0.0, d, nan, inf], dtype)
    xs = arr([0.0, 0.0, 0.0, 0.0, 0.0, 2.0, -2.0], dtype)
    assert_same(rf.hardtanh_backward(gs, xs), arr([nan, inf, -inf, -0.0, d, 0.0, 0.0], dtype))


@pytest.mark.parametrize("n", [7, 3 * GRAIN + 5])
def test_hardtanh_threads_and_levels_agree_on_specials(n, dtype):
    x = np.resize(arr([nan, inf, -inf, 0.0, -0.0, 0.99, -0.99, 1.01, -1.01], dtype), n)
    want = np.resize(arr([nan, 1.0, -1.0, 0.0, -0.0, 0.99, -0.99, 1.0, -1.0], dtype), n)
    for t in (1, 2):
        with rf.limit_threads(t):
            assert_same(rf.hardtanh(x), want)


# ---------------------------------------------------------------------------
# hardtanh_backward from the output; relu6, threshold, hardsigmoid, hardswish
# ---------------------------------------------------------------------------

def tiny(dtype):
    """The smallest denormal: x (x + 3) / 6 rounds it to 0 (a tie, to even)."""
    return np.finfo(dtype).smallest_subnormal


def hexes(values, dtype):
    return arr([float.fromhex(v) for v in values], dtype)


@pytest.mark.parametrize("lo, hi", [(-1.0, 1.0), (0.0, 6.0), (0.5, 0.5), (-0.0, 0.0), (-3.0, -1.0)])
def test_hardtanh_backward_from_output_equals_from_input(lo, hi, dtype):
    d = den(dtype)
    x = np.concatenate([arr([nan, inf, -inf, 0.0, -0.0, d, -d, lo, hi], dtype),
                        np.nextafter(arr([lo, hi], dtype), dtype(-inf)),
                        np.nextafter(arr([lo, hi], dtype), dtype(inf)),
                        np.random.default_rng(0).standard_normal(1000).astype(dtype) * 4])
    g = np.random.default_rng(1).standard_normal(x.size).astype(dtype)
    want = rf.hardtanh_backward(g, x, lo, hi)
    assert_same(rf.hardtanh_backward(g, rf.hardtanh(x, lo, hi), lo, hi, is_result=True), want)
    # the table on y itself: inside (a, b) g passes, the ends and NaN give 0
    y = arr([nan, -1.0, 1.0, 0.5, -0.0], dtype)
    assert_same(rf.hardtanh_backward(np.full(5, 1.5, dtype), y, is_result=True),
                arr([0.0, 0.0, 0.0, 1.5, 1.5], dtype))


def test_relu6_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, 3.0, 6.0, 6.5, -2.0, d, -d], dtype)
    want = arr([nan, 6.0, 0.0, 0.0, -0.0, 3.0, 6.0, 6.0, 0.0, d, 0.0], dtype)
    assert_same(rf.relu6(x), want)


def test_relu6_backward_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, 3.0, 6.0, 6.5, -2.0, d, -d], dtype)
    g = np.full(x.shape, 1.5, dtype)
    # 0 at both ends (PyTorch's autograd: hardtanh_backward with 0 and 6), and for NaN x
    want = arr([0.0, 0.0, 0.0, 0.0, 0.0, 1.5, 0.0, 0.0, 0.0, 1.5, 0.0], dtype)
    assert_same(rf.relu6_backward(g, x), want)
    # from the output: y = 0, -0, 6, NaN give 0, and y inside passes g
    assert_same(rf.relu6_backward(g, rf.relu6(x), is_result=True), want)
    gs = arr([nan, inf, -inf, -0.0, d, nan, inf], dtype)
    xs = arr([1.0, 1.0, 1.0, 1.0, 1.0, 7.0, 0.0], dtype)
    assert_same(rf.relu6_backward(gs, xs), arr([nan, inf, -inf, -0.0, d, 0.0, 0.0], dtype))


def test_relu6_backward_from_output_equals_from_input(dtype):
    d = den(dtype)
    x = np.concatenate([arr([nan, inf, -inf, 0.0, -0.0, d, -d, 6.0], dtype),
                        np.nextafter(arr([0.0, 6.0], dtype), dtype(inf)),
                        np.nextafter(arr([0.0, 6.0], dtype), dtype(-inf)),
                        np.random.default_rng(0).standard_normal(1000).astype(dtype) * 4 + 3])
    g = np.random.default_rng(1).standard_normal(x.size).astype(dtype)
    assert_same(rf.relu6_backward(g, rf.relu6(x), is_result=True), rf.relu6_backward(g, x))


def test_threshold_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, 1.0, 1.5, -3.0, d], dtype)
    want = arr([nan, inf, -2.0, -2.0, -2.0, -2.0, 1.5, -2.0, -2.0], dtype)   # x = t gives v
    assert_same(rf.threshold(x, 1.0, -2.0), want)
    # threshold and value are rounded to x's dtype: x = 0.1 is not above 0.1 in either
    assert_same(rf.threshold(arr([0.1, 0.2], dtype), 0.1, 0.1), arr([0.1, 0.2], dtype))
    # a NaN value is refused, a -0.0 value is kept as -0.0
    assert_same(rf.threshold(arr([-1.0, 1.0], dtype), 0.0, -0.0), arr([-0.0, 1.0], dtype))


def test_threshold_backward_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, 1.0, 1.5, -3.0, d], dtype)
    g = np.full(x.shape, 1.5, dtype)
    # 0 at x = t; NaN x passes g (x <= t fails), as PyTorch
    want = arr([1.5, 1.5, 0.0, 0.0, 0.0, 0.0, 1.5, 0.0, 0.0], dtype)
    assert_same(rf.threshold_backward(g, x, 1.0), want)
    # threshold_backward(g, x, 0) is relu_backward
    assert_same(rf.threshold_backward(g, x, 0.0), arr([1.5, 1.5, 0.0, 0.0, 0.0, 1.5, 1.5, 0.0, 1.5], dtype))


def test_hardsigmoid_table(dtype):
    d, s = den(dtype), tiny(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, -3.0, 3.0, -4.0, 4.0, 1.5, -1.5, d, -d, s], dtype)
    want = arr([nan, 1.0, 0.0, 0.5, 0.5, 0.0, 1.0, 0.0, 1.0, 0.75, 0.25, 0.5, 0.5, 0.5], dtype)
    assert_same(rf.hardsigmoid(x), want)
    # (x + 3) / 6, not x / 6 + 0.5: these x give PyTorch's bits, one ulp above the other
    # formula's (x / 6 + 0.5 gives ...1c p-2 and ...992 p-1)
    if dtype == np.float32:
        xs, ys = ["-0x1.490254p+0"], ["0x1.24a91ep-2"]
    else:
        xs, ys = ["0x1.d8ff3ede22cb8p+0"], ["0x1.9daa6a4a0b993p-1"]
    assert_same(rf.hardsigmoid(hexes(xs, dtype)), hexes(ys, dtype))
    # the largest float below 3: x + 3 rounds to 6 (a tie, to even), so y is exactly 1
    assert_same(rf.hardsigmoid(np.nextafter(arr([3.0], dtype), dtype(0))), arr([1.0], dtype))


def test_hardsigmoid_backward_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, -3.0, 3.0, -2.5, 2.5, d, -d], dtype)
    g = np.full(x.shape, 6.0, dtype)
    # g * (1/6 rounded to x's dtype): 6 * fl(1/6) is 1 + 3e-8 in float32, 1 - 2**-54 (a tie)
    # in float64, both rounding to 1; 0 at -3 and 3 and for NaN x
    want = arr([0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0], dtype)
    assert_same(rf.hardsigmoid_backward(g, x), want)
    # the product's rounding: 1/6 in x's dtype, not PyTorch's float32 constant in float64
    one_sixth = "0x1.555556p-3" if dtype == np.float32 else "0x1.5555555555555p-3"
    assert_same(rf.hardsigmoid_backward(arr([1.0], dtype), arr([0.0], dtype)), hexes([one_sixth], dtype))
    # from the output y: 0 < y < 1 passes g / 6; y = 0, 1 and NaN give 0
    y = arr([nan, 0.0, 1.0, 0.5, 0.25, d, inf], dtype)
    assert_same(rf.hardsigmoid_backward(np.full(7, 6.0, dtype), y, is_result=True),
                arr([0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0], dtype))


def test_hardsigmoid_backward_from_output_equals_from_input_but_below_3(dtype):
    d = den(dtype)
    below3 = np.nextafter(dtype(3), dtype(0))
    x = np.concatenate([arr([nan, inf, -inf, 0.0, -0.0, d, -d, -3.0, 3.0], dtype),
                        np.nextafter(arr([-3.0, 3.0], dtype), dtype(inf)),
                        np.nextafter(arr([-3.0], dtype), dtype(0)),
                        np.random.default_rng(0).standard_normal(1000).astype(dtype) * 3])
    g = np.random.default_rng(1).standard_normal(x.size).astype(dtype)
    assert below3 not in x
    assert_same(rf.hardsigmoid_backward(g, rf.hardsigmoid(x), is_result=True),
                rf.hardsigmoid_backward(g, x))
    # the one x whose y cannot tell: y = 1 there, so 0 from y, g / 6 from x
    x3 = arr([below3], dtype)
    assert_same(rf.hardsigmoid_backward(arr([6.0], dtype), x3), arr([1.0], dtype))
    assert_same(rf.hardsigmoid_backward(arr([6.0], dtype), rf.hardsigmoid(x3), is_result=True),
                arr([0.0], dtype))


def test_hardswish_table(dtype):
    s = tiny(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, -3.0, 3.0, -4.0, 4.0, -1.5, 1.5, s, -s], dtype)
    # -inf: the limit -0 (PyTorch: -inf * 0 = NaN); x <= -3: x * 0 = -0
    want = arr([nan, inf, -0.0, 0.0, -0.0, -0.0, 3.0, -0.0, 4.0, -0.375, 1.125, 0.0, -0.0], dtype)
    assert_same(rf.hardswish(x), want)
    # above 3, (x * 6) / 6 is rounded twice: one ulp below x here, as PyTorch
    if dtype == np.float32:
        xs, ys = ["0x1.86693cp+1"], ["0x1.86693ap+1"]
    else:
        xs, ys = ["0x1.97875b83be3bep+1"], ["0x1.97875b83be3bdp+1"]
    assert_same(rf.hardswish(hexes(xs, dtype)), hexes(ys, dtype))
    # x * 6 overflows above max / 6, as PyTorch
    assert_same(rf.hardswish(arr([np.finfo(dtype).max / 2], dtype)), arr([inf], dtype))


def test_hardswish_backward_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, -3.0, 3.0, -4.0, 4.0, -1.5, 1.5, -2.25, 2.25, d], dtype)
    g = np.full(x.shape, 3.0, dtype)
    # g (x / 3 + 1/2) inside; 0 at x = -3, g at x = 3 (PyTorch's ends); NaN x gives NaN
    want = arr([nan, 3.0, 0.0, 1.5, 1.5, 0.0, 3.0, 0.0, 3.0, 0.0, 3.0, -0.75, 3.75, 1.5], dtype)
    assert_same(rf.hardswish_backward(g, x), want)
    gs = arr([nan, inf, -inf, -0.0, nan, inf], dtype)
    xs = arr([0.0, 0.0, 4.0, 4.0, -4.0, -1.5], dtype)
    # inf * (x / 3 + 1/2) = inf * 0 is NaN at x = -1.5, as PyTorch
    assert_same(rf.hardswish_backward(gs, xs), arr([nan, inf, -inf, -0.0, 0.0, nan], dtype))


@pytest.mark.parametrize("n", [7, 3 * GRAIN + 5])
def test_piecewise_threads_agree_on_specials(n, dtype):
    x = np.resize(arr([nan, inf, -inf, 0.0, -0.0, -3.0, 3.0, 6.0, -1.5], dtype), n)
    want = {
        "relu6": arr([nan, 6.0, 0.0, 0.0, -0.0, 0.0, 3.0, 6.0, 0.0], dtype),
        "hardsigmoid": arr([nan, 1.0, 0.0, 0.5, 0.5, 0.0, 1.0, 1.0, 0.25], dtype),
        "hardswish": arr([nan, inf, -0.0, 0.0, -0.0, -0.0, 3.0, 6.0, -0.375], dtype),
    }
    for t in (1, 2):
        with rf.limit_threads(t):
            for name, w in want.items():
                assert_same(getattr(rf, name)(x), np.resize(w, n))
            assert_same(rf.threshold(x, 0.0, 9.0),
                        np.resize(arr([nan, inf, 9.0, 9.0, 9.0, 9.0, 3.0, 6.0, 9.0], dtype), n))


# ---------------------------------------------------------------------------
# selu, celu, silu (values from math.expm1/math.exp with SELU's published constants)
# ---------------------------------------------------------------------------

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
SELU_LA = 1.7580993408473768    # scale * alpha correctly rounded (1.75809934084737685994...);
                                # the float64 product of the two above rounds to ...766


def test_selu_table(dtype):
    d = den(dtype)
    la = SELU_LA
    x = arr([nan, inf, -inf, 0.0, -0.0, 2.0, -1.0, -30.0, 1e-30], dtype)
    want = arr([nan, inf, -la, 0.0, -0.0, 2.0 * SELU_SCALE, la * math.expm1(-1.0),
                la * math.expm1(-30.0), 1e-30 * SELU_SCALE], dtype)
    assert_ulp(rf.selu(x), want, 1)
    assert_same(rf.selu(x)[:5], want[:5])
    # tiny negative x: scale alpha x, not 0 (expm1, not exp - 1)
    assert_ulp(rf.selu(arr([-1e-8, -d], dtype)), arr([la * math.expm1(-1e-8), float(-d) * la], dtype), 1)


def test_selu_backward_table(dtype):
    la = SELU_LA
    x = arr([nan, inf, -inf, 0.0, -0.0, 2.0, -1.0], dtype)
    g = np.full(x.shape, 2.0, dtype)
    want = arr([nan, 2 * SELU_SCALE, 0.0, 2 * la, 2 * la, 2 * SELU_SCALE, 2 * la * math.exp(-1.0)], dtype)
    assert_ulp(rf.selu_backward(g, x), want, 1)
    y = arr([nan, inf, 0.0, -0.0, 2.0, -1.0], dtype)
    want_y = arr([nan, 2 * SELU_SCALE, 2 * la, 2 * la, 2 * SELU_SCALE, 2 * (la - 1.0)], dtype)
    assert_ulp(rf.selu_backward(g[:6], y, is_result=True), want_y, 1)


def test_celu_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, 2.5, -1.0, -50.0, d, -d], dtype)
    want = arr([nan, inf, -0.5, 0.0, -0.0, 2.5, 0.5 * math.expm1(-2.0), 0.5 * math.expm1(-100.0), d,
                -d], dtype)
    assert_ulp(rf.celu(x, 0.5), want, 1)
    assert_same(rf.celu(x, 0.5)[[0, 1, 2, 3, 4, 5, 8, 9]], want[[0, 1, 2, 3, 4, 5, 8, 9]])
    # alpha = 1 is elu; a huge alpha leaves x (x / alpha underflows, the result does not)
    assert_same(rf.celu(x, 1.0), rf.elu(x, 1.0))
    big = 1e30 if dtype == np.float32 else 1e300
    assert_ulp(rf.celu(arr([-1.0, -1e-5], dtype), big), arr([-1.0, -1e-5], dtype), 1)


def test_celu_backward_table(dtype):
    x = arr([nan, inf, -inf, 0.0, -0.0, 2.0, -1.0, -300.0], dtype)
    g = np.full(x.shape, 2.0, dtype)
    want = arr([nan, 2.0, 0.0, 2.0, 2.0, 2.0, 2 * math.exp(-1.0 / 0.75), 2 * math.exp(-400.0)], dtype)
    assert_ulp(rf.celu_backward(g, x, 0.75), want, 2)
    y = arr([nan, inf, 0.0, -0.0, 2.0, -0.75, -0.375], dtype)
    want_y = arr([nan, 2.0, 2.0, 2.0, 2.0, 0.0, 1.0], dtype)
    assert_same(rf.celu_backward(g[:7], y, 0.75, is_result=True), want_y)


def test_silu_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, 1.0, -1.0, 30.0, -30.0, -100.0, d, -d], dtype)
    want = arr([nan, inf, -0.0, 0.0, -0.0, 1 / (1 + math.exp(-1.0)), -1 / (1 + math.e),
                30 / (1 + math.exp(-30.0)), -30 * math.exp(-30.0) / (1 + math.exp(-30.0)),
                -100 * math.exp(-100.0), float(d) / 2, -float(d) / 2], dtype)
    assert_ulp(rf.silu(x), want, 1)
    assert_same(rf.silu(x)[:5], want[:5])
    if dtype == np.float64:
        # x e^x in float64's subnormal range is rounded once, not after exp(x) lost its bits
        # (-740 e^-740 / (1 + e^-740) = -62737.97 times 2^-1074, from mpmath)
        assert_same(rf.silu(arr([-740.0], dtype)), arr([-62738 * 2.0 ** -1074], dtype))


def test_silu_backward_table(dtype):
    x = arr([nan, inf, -inf, 0.0, -0.0, 1.0, -1.0, 40.0, -1e4], dtype)
    g = np.full(x.shape, 2.0, dtype)
    s1 = 1 / (1 + math.exp(-1.0))
    sm = 1 / (1 + math.e)
    want = arr([nan, 2.0, -0.0, 1.0, 1.0, 2 * s1 * (1 + (1 - s1)), 2 * sm * (1 - (1 - sm)),
                2.0, -0.0], dtype)
    assert_ulp(rf.silu_backward(g, x), want, 1)
    assert_same(rf.silu_backward(g, x)[[0, 1, 2, 3, 4, 8]], want[[0, 1, 2, 3, 4, 8]])
    # below x = -1000 the gradient is g * -0: NaN for an infinite g
    assert_same(rf.silu_backward(arr([inf, -inf, 1.0], dtype), arr([-inf, -inf, -2000.0], dtype)
                                 if dtype == np.float64 else arr([-inf, -inf, -inf], dtype)),
                arr([nan, nan, -0.0], dtype))
# rrelu
# ---------------------------------------------------------------------------

def test_rrelu_eval_table(dtype):
    # eval mode: slope (lower + upper) / 2 = 0.5 for (0.25, 0.75)
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, 2.5, -2.5, d, -2 * d], dtype)
    want = arr([nan, inf, -inf, 0.0, -0.0, 2.5, -1.25, d, -d], dtype)
    assert_same(rf.rrelu(x, 0.25, 0.75), want)
    assert_same(rf.rrelu(x, 0.25, 0.75, False, seed=3), want)     # the seed is ignored
    # the defaults: (1/8 + 1/3) / 2 = 11/48, rounded to x's dtype
    assert_same(rf.rrelu(arr([-48.0, 48.0], dtype)), arr([-48 * dtype(11 / 48), 48.0], dtype))


def test_rrelu_backward_eval_table(dtype):
    # eval mode: leaky_relu_backward with 0.5: a NaN x gives s * g (as PyTorch)
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, 2.5, -2.5, d, -d], dtype)
    g = np.full(x.shape, 1.5, dtype)
    want = arr([0.75, 1.5, 0.75, 0.75, 0.75, 1.5, 0.75, 1.5, 0.75], dtype)
    assert_same(rf.rrelu_backward(g, x, 0.25, 0.75), want)


def test_rrelu_training_table_with_one_slope(dtype):
    # lower == upper: every slope is 0.5, so the values are known by hand
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, 2.5, -2.5, d, -2 * d], dtype)
    assert_same(rf.rrelu(x, 0.5, 0.5, True, seed=1),
                arr([nan, inf, -inf, 0.0, -0.0, 2.5, -1.25, d, -d], dtype))
    g = np.full(x.shape, 1.5, dtype)
    # training mode: a NaN x passes g (PyTorch's noise is 1 there); x = +-0 takes the slope
    assert_same(rf.rrelu_backward(g, x, 0.5, 0.5, True, seed=1),
                arr([1.5, 1.5, 0.75, 0.75, 0.75, 1.5, 0.75, 1.5, 0.75], dtype))
    gs = arr([nan, inf, -inf, -0.0, d, nan, inf, -d], dtype)
    xs = arr([1.0, 1.0, 1.0, 1.0, 1.0, -1.0, 0.0, -1.0], dtype)
    assert_same(rf.rrelu_backward(gs, xs, 0.5, 0.5, True, seed=1),
                arr([nan, inf, -inf, -0.0, d, nan, inf, -d / 2], dtype))


def test_rrelu_training_slope_zero(dtype):
    # lower = upper = 0: 0 * x, so negatives give -0.0 and -inf gives NaN (0 * -inf), as
    # leaky_relu with slope 0
    x = arr([nan, inf, -inf, 0.0, -0.0, 2.0, -2.0], dtype)
    assert_same(rf.rrelu(x, 0.0, 0.0, True, seed=2), arr([nan, inf, nan, 0.0, -0.0, 2.0, -0.0], dtype))


@pytest.mark.parametrize("n", [7, 3 * GRAIN + 5])
def test_rrelu_threads_agree_on_specials(n, dtype):
    d = den(dtype)
    x = np.resize(arr([nan, inf, -inf, 0.0, -0.0, 2.5, -2.5, d, -d], dtype), n)
    g = np.resize(arr([1.5, nan, -inf, 2.0], dtype), n)
    with rf.limit_threads(1):
        want = rf.rrelu(x, 0.1, 0.9, True, seed=9), rf.rrelu_backward(g, x, 0.1, 0.9, True, seed=9)
    for nt in (2, 3):
        with rf.limit_threads(nt):
            assert_same(rf.rrelu(x, 0.1, 0.9, True, seed=9), want[0])
            assert_same(rf.rrelu_backward(g, x, 0.1, 0.9, True, seed=9), want[1])
# softplus, mish and their gradients: expected values from mpmath (40 digits),
# written here as literals, rounded once to the dtype
# ---------------------------------------------------------------------------

LN2 = 0.69314718055994530942


def f64(dtype):
    return dtype == np.float64


def close(got, want):
    """float32: bit for bit (the kernels round a float64 value once); float64: within the
    measured 2 ulp (docs/semantics.rst), zeros' signs and NaN alike."""
    got, want = np.asarray(got), np.asarray(want)
    if got.dtype == np.float32:
        assert_same(got, want)
    else:
        assert_ulp(got, want, 2)
        z = (want == 0) | (got == 0)
        assert_same(got[z], want[z])


def test_softplus_table(dtype):
    d = den(dtype)
    x = [nan, inf, -inf, 0.0, -0.0, d, -d, 1.0, -1.0, -20.0, 20.0, -100.0, 1e30, -1e30,
         float(np.finfo(dtype).max), -float(np.finfo(dtype).max)]
    want = [nan, inf, 0.0, LN2, LN2, LN2, LN2, 1.313261687518222834, 0.31326168751822283405,
            2.0611536203143807032e-9, 20.00000000206115362, 3.720075976020835963e-44, 1e30, 0.0,
            float(np.finfo(dtype).max), 0.0]
    close(rf.softplus(arr(x, dtype)), arr(want, dtype))
    # the threshold: beta x > threshold gives x itself; at beta x = threshold the formula
    up = float(np.nextafter(dtype(20), dtype(inf)))
    close(rf.softplus(arr([up], dtype)), arr([up], dtype))
    close(rf.softplus(arr([5.0, 5.5, 3.0], dtype), beta=2.0, threshold=10.0),
                arr([5.0000226994496084323, 5.5, 3.0012378425688652248], dtype))
    # a threshold so high that exp(beta x) overflows: the limit x (PyTorch: inf)
    close(rf.softplus(arr([1000.0, 100.0], dtype), threshold=1e30),
                arr([1000.0, 100.0], dtype))


def test_softplus_tiny_results_are_not_flushed(dtype):
    # exp(x) down to the smallest subnormal, then 0
    if f64(dtype):
        x = [-700.0, -740.0, -745.0, -746.0]
        want = [9.8596765437597708567e-305, 4.1887398800480489395e-322, 2.8223507304719370764e-324, 0.0]
    else:
        x = [-100.0, -103.9, -104.0]
        want = [3.720075976020835963e-44, 7.5301448478277663228e-46, 6.8135568215452985134e-46]
    got = rf.softplus(arr(x, dtype))
    close(got, arr(want, dtype))
    assert got[-2] != 0                      # not flushed early


def test_softplus_backward_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, d, 1.0, -1.0, 20.0, -20.0, 1e30, -1e30], dtype)
    g = np.full(x.shape, 2.0, dtype)
    want = [nan, 2.0, 0.0, 1.0, 1.0, 1.0, 2 * 0.73105857863000487925,
            2 * 0.26894142136999512075, 2 * 0.99999999793884638181,
            2 * 2.0611536181902035814e-9, 2.0, 0.0]
    close(rf.softplus_backward(g, x), arr(want, dtype))
    # just above the threshold: g itself
    up = np.nextafter(arr([20.0], dtype), dtype(inf))
    close(rf.softplus_backward(arr([1.5], dtype), up), arr([1.5], dtype))
    # g * 0 where the sigmoid rounds to 0: NaN for an infinite g (as PyTorch), NaN g gives NaN
    gs = arr([inf, -inf, inf, nan, -0.0], dtype)
    xs = arr([-inf, -inf, 0.0, 1.0, 1.0], dtype)
    close(rf.softplus_backward(gs, xs), arr([nan, nan, inf, nan, -0.0], dtype))
    # beyond exp's range below the threshold: the limit g (PyTorch: NaN, z / (z + 1) = inf / inf)
    close(rf.softplus_backward(arr([1.5, 1.5], dtype), arr([1000.0, 100.0], dtype), threshold=1e30),
                arr([1.5, 1.5], dtype))
    if f64(dtype):
        close(rf.softplus_backward(arr([2.0], dtype), arr([-740.0], dtype)),
                    arr([2 * 4.1887398800480489395e-322], dtype))


def test_mish_table(dtype):
    d = den(dtype)
    x = [nan, inf, -inf, 0.0, -0.0, d, -d, 1.0, -1.0, 2.0, -2.0, 30.0, -30.0, -100.0, 1e30, -1e30,
         float(np.finfo(dtype).max), -float(np.finfo(dtype).max)]
    # mish(x) = 0.6 x + O(x^2) at 0 (tanh(ln 2) = 3/5); -0 at -inf (PyTorch: NaN)
    want = [nan, inf, -0.0, 0.0, -0.0, float(dtype(d)) * 0.6, -float(dtype(d)) * 0.6,
            0.86509838826731034612, -0.30340146137410891807, 1.9439589595339945203,
            -0.25250148269570886364, 30.0, -2.8072868906519210338e-12, -3.720075976020835963e-42, 1e30,
            -0.0, float(np.finfo(dtype).max), -0.0]
    close(rf.mish(arr(x, dtype)), arr(want, dtype))
    if f64(dtype):
        close(rf.mish(arr([-700.0, -740.0, -800.0], dtype)),
                    arr([-6.9017735806318395997e-302, -3.0996675112355562152e-319, -0.0], dtype))


def test_mish_backward_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, d, 1.0, -1.0, 2.0, -2.0, 30.0, -30.0, -100.0, 1e30, -1e30], dtype)
    g = np.full(x.shape, 2.0, dtype)
    want = [nan, 2.0, 0.0, 1.2, 1.2, 1.2, 2 * 1.0490362200997921591, 2 * 0.059216755877394948006,
            2 * 1.0693179342794896846, 2 * -0.10835509242039394283, 2.0,
            2 * -2.7137106609633923184e-12, 2 * -3.6828752162606276033e-42, 2.0, 0.0]
    close(rf.mish_backward(g, x), arr(want, dtype))
    # the limits times g: NaN for an infinite g at -inf; NaN g gives NaN
    gs = arr([inf, inf, -inf, nan], dtype)
    xs = arr([-inf, inf, 0.0, 1.0], dtype)
    close(rf.mish_backward(gs, xs), arr([nan, inf, -inf, nan], dtype))
    if f64(dtype):
        close(rf.mish_backward(np.ones(2), arr([-700.0, -740.0], dtype)),
                    arr([-6.8919139040880798288e-302, -3.0954787713555081663e-319], dtype))


@pytest.mark.parametrize("n", [1, 7, 64, 1000])
def test_softplus_mish_long_and_short_arrays_agree(n, dtype):
    # the same value at the start of a long array and alone in a short one
    vals = arr([nan, inf, -inf, 0.0, -0.0, den(dtype), -1.1924, 20.0, -20.0, -104.0], dtype)
    x = np.concatenate([vals, np.full(n, 0.5, dtype)])
    g = np.full(x.shape, 1.25, dtype)
    for f in (rf.softplus, rf.mish):
        assert_same(f(x)[:vals.size], np.concatenate([f(vals[i:i + 1]) for i in range(vals.size)]))
    for f in (rf.softplus_backward, rf.mish_backward):
        assert_same(f(g, x)[:vals.size],
                    np.concatenate([f(g[i:i + 1], vals[i:i + 1]) for i in range(vals.size)]))
# gelu (erf and tanh forms) and gelu_backward.  Expected values: mpmath at 50 digits
# (x Phi(x), Phi(x) + x phi(x); the tanh form with PyTorch's float64 constants
# sqrt(2/pi) = 0.7978845608028654 and 0.044715), rounded to float64 and written here;
# the tolerances are the measured bounds of docs/semantics.rst.
# ---------------------------------------------------------------------------

GELU_X = [-38.0, -30.0, -10.0, -5.0, -3.0, -1.0, -0.5, -1e-3, 1e-3, 0.5, 1.0, 3.0, 5.0, 10.0, 1e-300]
GELU_WANT = {
    ("gelu", "none"): [
        -1.096462777e-314, -1.472014178144456e-196, -7.619853024160526e-23, -1.4332578593959695e-06,
        -0.0040496940948902835, -0.15865525393145705, -0.15426876936299344, -0.000499601057786089,
        0.000500398942213911, 0.34573123063700656, 0.8413447460685429, 2.99595030590511,
        4.999998566742141, 10.0, 5e-301],
    ("gelu_backward", "none"): [
        -4.1665545693e-313, -4.416031690708495e-195, -7.618400096464814e-22, -7.146946001792295e-06,
        -0.011945647204183927, -0.0833154705876863, 0.13250487534383715, 0.4992021157051586,
        0.5007978842948414, 0.8674951246561629, 1.0833154705876864, 1.011945647204184,
        1.000007146946002, 1.0, 0.5],
    ("gelu", "tanh"): [
        -0.0, -0.0, -1.2040923482098036e-37, -2.2917961966295047e-07, -0.0036373920817730178,
        -0.1588080093917233, -0.15428599017485609, -0.000499601057786418, 0.000500398942213582,
        0.34571400982514394, 0.8411919906082768, 2.996362607918227, 4.999999770820381, 10.0, 5e-301],
    ("gelu_backward", "tanh"): [
        -0.0, -0.0, -2.757638063854026e-36, -1.5463619875325938e-06, -0.011584166630969723,
        -0.08296408384578256, 0.13263009646535767, 0.499202115706475, 0.500797884293525,
        0.8673699035346424, 1.0829640838457826, 1.0115841666309697, 1.0000015463619876, 1.0, 0.5],
}
# float32 inputs (exact in float32), values of the same functions at them
GELU_X32 = [-14.0, -10.0, -3.0, -1.0, 1.0, 3.0]
GELU_WANT32 = {
    ("gelu", "none"): [-1.091095154686992e-43, -7.619853024160526e-23, -0.0040496940948902835,
                       -0.15865525393145705, 0.8413447460685429, 2.99595030590511],
    ("gelu_backward", "none"): [-1.527455646325367e-42, -7.618400096464814e-22, -0.011945647204183927,
                                -0.0833154705876863, 1.0833154705876864, 1.011945647204184],
    ("gelu", "tanh"): [0.0, -1.2040923482098036e-37, -0.0036373920817730178, -0.1588080093917233,
                       0.8411919906082768, 2.996362607918227],
    ("gelu_backward", "tanh"): [0.0, -2.757638063854026e-36, -0.011584166630969723,
                                -0.08296408384578256, 1.0829640838457826, 1.0115841666309697],
}
GELU_ULPS = {"gelu": 2, "gelu_backward": 4}        # float64; float32: 1


def _gelu_call(name, x, approximate):
    if name == "gelu":
        return rf.gelu(x, approximate)
    return rf.gelu_backward(np.ones_like(x), x, approximate)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("name", ["gelu", "gelu_backward"])
def test_gelu_values_against_mpmath(name, approximate):
    ulps = GELU_ULPS[name]
    x = arr(GELU_X, np.float64)
    assert_ulp(_gelu_call(name, x, approximate), arr(GELU_WANT[name, approximate], np.float64), ulps)
    x32 = arr(GELU_X32, np.float32)
    want32 = arr(GELU_WANT32[name, approximate], np.float64).astype(np.float32)
    assert_ulp(_gelu_call(name, x32, approximate), want32, 1)


def test_gelu_table(dtype):
    d, s = den(dtype), np.finfo(dtype).tiny
    big = np.finfo(dtype).max
    x = arr([nan, inf, -inf, 0.0, -0.0, big, -big, 1e30, -1e30, s, -s], dtype)
    # +inf and -inf: the limits (PyTorch: NaN); +-0 keep their sign; tiny x: x / 2
    want = arr([nan, inf, -0.0, 0.0, -0.0, big, -0.0, 1e30, -0.0, s / 2, -s / 2], dtype)
    for approximate in ("none", "tanh"):
        assert_same(rf.gelu(x, approximate), want)
        assert_same(rf.gelu(x, approximate=approximate), want)
        # denormals are not flushed: gelu(d) ~ d / 2 (within an ulp of the denormal)
        assert_ulp(rf.gelu(arr([d, -d], dtype), approximate), arr([d / 2, -d / 2], dtype), 1)
    assert_same(rf.gelu(x), rf.gelu(x, "none"))             # the default is the erf form


def test_gelu_backward_table(dtype):
    d = den(dtype)
    x = arr([nan, inf, -inf, 0.0, -0.0, 1e30, -1e30, d, -d, 1.0], dtype)
    g = np.full(x.shape, 3.0, dtype)
    # 1 at +inf and 0 at -inf (the limits; -0: the derivative is negative there), 1/2 at 0
    want = arr([nan, 3.0, -0.0, 1.5, 1.5, 3.0, -0.0, 1.5, 1.5, nan], dtype)
    for approximate in ("none", "tanh"):
        got = rf.gelu_backward(g, x, approximate)
        assert_same(got[:-1], want[:-1])
        # NaN in g gives NaN; an infinite g: inf where the derivative is not 0, NaN where
        # it is 0 in float64 (-inf, as PyTorch's inf * 0)
        gs = arr([nan, inf, -inf, inf, inf], dtype)
        xs = arr([1.0, 0.0, 0.0, inf, -inf], dtype)
        assert_same(rf.gelu_backward(gs, xs, approximate), arr([nan, inf, -inf, inf, nan], dtype))


def test_gelu_large_g_brings_back_a_subnormal_derivative():
    # float64, x = -38: the derivative -4.1665545693e-313 is subnormal, g = 1e300 times
    # it is not: relative accuracy kept (mpmath: -4.166554569300...e-13)
    x = arr([-38.0], np.float64)
    got = rf.gelu_backward(arr([1e300], np.float64), x)
    assert abs(got[0] / -4.1665545693e-13 - 1) < 1e-9
    # and the tanh form at x = -21 (derivative ~1e-300 .. subnormal range nearby)
    assert np.isfinite(rf.gelu_backward(arr([1e300], np.float64), arr([-21.0], np.float64), "tanh")).all()


@pytest.mark.parametrize("n", [7, 3 * GRAIN + 5])
def test_gelu_threads_agree_on_specials(n, dtype):
    x = np.resize(arr([nan, inf, -inf, 0.0, -0.0, -3.0, 3.0, -40.0, 1e-30], dtype), n)
    g = np.resize(arr([1.0, 2.0, -3.0], dtype), n)
    for approximate in ("none", "tanh"):
        with rf.limit_threads(1):
            want, gwant = rf.gelu(x, approximate), rf.gelu_backward(g, x, approximate)
        with rf.limit_threads(2):
            assert_same(rf.gelu(x, approximate), want)
            assert_same(rf.gelu_backward(g, x, approximate), gwant)
        assert_same(want[:5], arr([nan, inf, -0.0, 0.0, -0.0], dtype))
