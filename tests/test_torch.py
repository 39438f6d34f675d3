"""Agreement with PyTorch's CPU functions and autograd, value for value, wherever the
semantics table and PyTorch agree (the sign of a zero result is ignored).

Where they differ (documented): torch's elu_backward passes the gradient for a NaN
input (it tests x <= 0), relu_fast gives NaN (NaN in, NaN out); softplus, mish and their
gradients where PyTorch gives NaN or inf for a limit, refuse beta <= 0, and keep tiny
results PyTorch's float32 exp flushes.
"""
import numpy as np
import pytest

import relu_fast as rf
from conftest import assert_same, assert_ulp, special

torch = pytest.importorskip("torch")
F = torch.nn.functional

TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


def data(shape, dtype, seed=0, specials=True):
    r = np.random.default_rng(seed)
    x = (r.standard_normal(shape) * 3).astype(dtype)
    flat = x.reshape(-1)
    flat[::9] = 0.0
    flat[1::9] = -0.0
    if specials:
        s = special(dtype)
        k = min(s.size, flat.size // 4)
        flat[5:5 + 4 * k:4] = s[:k]
    return x


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def n(tensor):
    return tensor.detach().numpy()


def same_ignoring_zero_sign(a, b):
    assert_same(a, b, signed_zero=False)


SHAPES = [(1000,), (8, 16, 5, 5)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_relu(shape, dtype):
    x = data(shape, dtype)
    same_ignoring_zero_sign(rf.relu(x), n(torch.relu(t(x))))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_relu_backward_is_threshold_backward(shape, dtype):
    x = data(shape, dtype)
    g = data(shape, dtype, seed=1)
    want = n(torch.ops.aten.threshold_backward(t(g), t(x), 0))
    same_ignoring_zero_sign(rf.relu_backward(g, x), want)
    # torch's relu backward works from the output: same answer
    y = n(torch.relu(t(x)))
    same_ignoring_zero_sign(rf.relu_backward(g, y), n(torch.ops.aten.threshold_backward(t(g), t(y), 0)))


def test_relu_autograd(dtype):
    x = data((500,), dtype, specials=False)
    g = data((500,), dtype, seed=1, specials=False)
    xt = t(x).requires_grad_()
    torch.relu(xt).backward(t(g))
    same_ignoring_zero_sign(rf.relu_backward(g, x), n(xt.grad))


@pytest.mark.parametrize("slope", [0.01, 0.2, -0.5, 0.0, 1.5])
def test_leaky_relu(slope, dtype):
    x = data((1000,), dtype)
    g = data((1000,), dtype, seed=1)
    same_ignoring_zero_sign(rf.leaky_relu(x, slope), n(F.leaky_relu(t(x), slope)))
    want = n(torch.ops.aten.leaky_relu_backward(t(g), t(x), slope, False))
    same_ignoring_zero_sign(rf.leaky_relu_backward(g, x, slope), want)
    xt = t(data((300,), dtype, specials=False)).requires_grad_()
    gg = data((300,), dtype, seed=2, specials=False)
    F.leaky_relu(xt, slope).backward(t(gg))
    same_ignoring_zero_sign(rf.leaky_relu_backward(gg, n(xt), slope), n(xt.grad))


@pytest.mark.parametrize("lo, hi", [(-1.0, 1.0), (0.0, 6.0), (-0.5, 0.25), (2.0, 2.0), (-3.0, -1.0)])
def test_hardtanh(lo, hi, dtype):
    x = data((1000,), dtype)
    g = data((1000,), dtype, seed=1)
    x[:6] = [lo, hi, np.nextafter(dtype(lo), dtype(-np.inf)), np.nextafter(dtype(hi), dtype(np.inf)),
             -0.0, 0.0]                           # the ends and their neighbours
    assert_same(rf.hardtanh(x, lo, hi), n(F.hardtanh(t(x), lo, hi)))      # -0.0 kept, as torch
    want = n(torch.ops.aten.hardtanh_backward(t(g), t(x), lo, hi))
    same_ignoring_zero_sign(rf.hardtanh_backward(g, x, lo, hi), want)
    # autograd
    xs = data((300,), dtype, specials=False)
    gs = data((300,), dtype, seed=2, specials=False)
    xt = t(xs).requires_grad_()
    F.hardtanh(xt, lo, hi).backward(t(gs))
    same_ignoring_zero_sign(rf.hardtanh_backward(gs, xs, lo, hi), n(xt.grad))
    if (lo, hi) == (0.0, 6.0):
        assert_same(rf.hardtanh(x, 0.0, 6.0), n(F.relu6(t(x))))


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_elu(alpha, dtype):
    x = data((2000,), dtype)
    ulps = 4 if dtype == np.float32 else 2       # torch's float32 expm1 is itself ~1 ulp
    got = rf.elu(x, alpha)
    want = n(F.elu(t(x), alpha))
    assert_ulp(np.where(got == 0, 0, got).astype(dtype), np.where(want == 0, 0, want).astype(dtype), ulps)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_elu_backward(alpha, dtype):
    x = data((2000,), dtype)
    x = x[~np.isnan(x)]                          # torch passes the gradient at NaN; we give NaN
    if dtype == np.float64:
        x = x[~(x < -700)]                       # both underflow exp; fine, but keep it simple
    g = data(x.shape, dtype, seed=1, specials=False)
    ulps = 4 if dtype == np.float32 else 2
    want = n(torch.ops.aten.elu_backward(t(g), alpha, 1, 1, False, t(x)))
    assert_ulp(rf.elu_backward(g, x, alpha), want, ulps)
    y = rf.elu(x, alpha)
    want_r = n(torch.ops.aten.elu_backward(t(g), alpha, 1, 1, True, t(y)))
    assert_ulp(rf.elu_backward(g, y, alpha, is_result=True), want_r, ulps)
    # autograd
    xs = data((500,), dtype, specials=False)
    gs = data((500,), dtype, seed=3, specials=False)
    xt = t(xs).requires_grad_()
    F.elu(xt, alpha).backward(t(gs))
    assert_ulp(rf.elu_backward(gs, xs, alpha), n(xt.grad), ulps)


def test_elu_backward_nan_differs_from_torch_as_documented():
    x = np.array([np.nan], np.float32)
    g = np.array([2.0], np.float32)
    assert np.isnan(rf.elu_backward(g, x)[0])
    assert n(torch.ops.aten.elu_backward(t(g), 1.0, 1, 1, False, t(x)))[0] == 2.0


@pytest.mark.parametrize("layout", ["nchw", "nc", "single", "nhwc"])
def test_prelu_and_autograd(layout, dtype):
    shape = {"nchw": (4, 6, 5, 7), "nc": (50, 6), "single": (4, 6, 5, 7), "nhwc": (4, 5, 7, 6)}[layout]
    x = data(shape, dtype, specials=False)
    g = data(shape, dtype, seed=1, specials=False)
    C = 1 if layout == "single" else 6
    w = np.random.default_rng(2).uniform(-0.5, 1.5, C).astype(dtype)
    if layout == "nhwc":
        wt = t(w).requires_grad_()
        xt = t(np.moveaxis(x, -1, 1)).requires_grad_()
        F.prelu(xt, wt).backward(t(np.moveaxis(g, -1, 1)))
        want_y = np.moveaxis(n(F.prelu(t(np.moveaxis(x, -1, 1)), t(w))), 1, -1)
        want_gx = np.moveaxis(n(xt.grad), 1, -1)
        axis = -1
    else:
        wt = t(w).requires_grad_()
        xt = t(x).requires_grad_()
        F.prelu(xt, wt).backward(t(g))
        want_y = n(F.prelu(t(x), t(w)))
        want_gx = n(xt.grad)
        axis = 1
    same_ignoring_zero_sign(rf.prelu(x, w, axis=axis), want_y)
    gx, gw = rf.prelu_backward(g, x, w, axis=axis)
    same_ignoring_zero_sign(gx, want_gx)
    assert gw.shape == tuple(wt.grad.shape)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(gw, n(wt.grad), rtol=tol, atol=tol * np.abs(x * g).sum())


def test_torch_set_flush_denormal_changes_nothing():
    """issue 12 item 3, with PyTorch itself: torch.set_flush_denormal(True) sets FTZ/DAZ on
    the calling thread; relu_fast's results stay the flag-free ones for 1 and 2 threads."""
    from relu_fast import _api
    from conftest import GRAIN
    x = np.full(3 * GRAIN, -1e-40, np.float32)
    x[1::3] = 1e-40
    want = (rf.relu(x), rf.leaky_relu(x, 0.5), rf.elu(x), rf.relu_backward(x, x))
    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU has no flush-to-zero control")
    try:
        for nthreads in (1, 2):
            with rf.limit_threads(nthreads):
                got = (rf.relu(x), rf.leaky_relu(x, 0.5), rf.elu(x), rf.relu_backward(x, x))
            for a, b in zip(got, want):
                assert_same(a, b)
            assert _api._flush_denormals() != 0          # torch's setting is left as it was
    finally:
        torch.set_flush_denormal(False)


def test_torch_set_num_threads_then_relu_fast_setting_wins():
    """issue 12 item 10, with PyTorch itself (same libgomp): torch.set_num_threads(1) lowers
    relu_fast's default, and an explicit relu_fast setting made after it wins."""
    import os
    from relu_fast import _api
    from conftest import python_lines
    if not _api.HAVE_OPENMP or (os.cpu_count() or 1) < 2:
        pytest.skip("serial build or 1 CPU")
    code = ("import torch, relu_fast as rf\n"
            "torch.set_num_threads(1); print(rf.get_num_threads())\n"
            "rf.set_num_threads(2); print(rf.get_num_threads())")
    got = python_lines(code, unset=("OMP_NUM_THREADS",), timeout=300)
    if got[0] != "1":
        pytest.skip("this torch does not share relu_fast's OpenMP runtime")
    assert got == ["1", "2"]


# ---------------------------------------------------------------------------
# relu6, threshold, hardsigmoid, hardswish: bit for bit, the ends of each piece included
# ---------------------------------------------------------------------------

def ends(dtype, points):
    """Each point, its neighbours on both sides, and the specials (NaN, ±inf, ±0, denormals)."""
    p = np.array(points, dtype)
    s = np.finfo(dtype).smallest_subnormal
    return np.concatenate([p, np.nextafter(p, dtype(-np.inf)), np.nextafter(p, dtype(np.inf)),
                           np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, s, -s, 1e-40, -1e-40], dtype)])


def pieces(dtype, points):
    """The ends first, then data: PyTorch's kernels take the first elements in their
    vector loop (its last few, in the scalar tail, can treat NaN otherwise)."""
    return np.concatenate([ends(dtype, points), data((2000,), dtype, specials=False)])


def not_nan(x, *arrays):
    keep = ~np.isnan(x)
    return [a[keep] for a in arrays]


def autograd(f, x, g):
    xt = t(x).requires_grad_()
    f(xt).backward(t(g))
    return n(xt.grad)


def test_relu6(dtype):
    x = pieces(dtype, [0.0, 6.0, 3.0])
    g = data(x.shape, dtype, seed=1, specials=False)
    assert_same(rf.relu6(x), n(F.relu6(t(x))))
    got = rf.relu6_backward(g, x)
    assert_same(got, n(torch.ops.aten.hardtanh_backward(t(g), t(x), 0.0, 6.0)))
    assert_same(got, autograd(F.relu6, x, g))       # autograd: 0 at 0 and at 6
    assert_same(rf.relu6_backward(g, rf.relu6(x), is_result=True), got)


@pytest.mark.parametrize("th, value", [(0.0, 0.0), (1.0, -2.0), (-0.5, 7.0), (0.1, 0.1)])
def test_threshold(th, value, dtype):
    x = pieces(dtype, [th, value])
    g = data(x.shape, dtype, seed=1, specials=False)
    assert_same(rf.threshold(x, th, value), n(F.threshold(t(x), th, value)))
    got = rf.threshold_backward(g, x, th)
    assert_same(got, n(torch.ops.aten.threshold_backward(t(g), t(x), th)))   # NaN passes g, as here
    assert_same(got, autograd(lambda a: F.threshold(a, th, value), x, g))


def test_hardsigmoid(dtype):
    x = pieces(dtype, [-3.0, 3.0, 0.0])
    g = data(x.shape, dtype, seed=1, specials=False)
    assert_same(rf.hardsigmoid(x), n(F.hardsigmoid(t(x))))      # (x + 3) / 6: the same bits
    got = rf.hardsigmoid_backward(g, x)
    want = n(torch.ops.aten.hardsigmoid_backward(t(g), t(x)))
    assert_same(want, autograd(F.hardsigmoid, x, g))
    if dtype == np.float32:
        assert_same(got, want)
    else:
        test_hardsigmoid_backward_float64_differs_from_torch_as_documented()
        # the same mask; the values differ by PyTorch's float32 1/6 only
        inside = (x > -3) & (x < 3)
        assert_same(got, np.where(inside, g * (1 / 6), 0.0))
        assert_same(want, np.where(inside, g * np.float64(np.float32(1 / 6)), 0.0))


def test_hardsigmoid_backward_float64_differs_from_torch_as_documented():
    x, g = np.zeros(70), np.full(70, 6.0)
    assert rf.hardsigmoid_backward(g, x)[0] == 1.0          # 6 * (1/6 in float64)
    assert n(torch.ops.aten.hardsigmoid_backward(t(g), t(x)))[0] == 6.0 * float(np.float32(1 / 6))


def test_hardswish(dtype):
    x = pieces(dtype, [-3.0, 3.0, -1.5, 0.0])
    g = data(x.shape, dtype, seed=1, specials=False)
    got, want = rf.hardswish(x), n(F.hardswish(t(x)))
    keep = x != -np.inf
    assert_same(got[keep], want[keep])                          # x (x + 3 clipped) / 6: the same bits
    test_hardswish_minus_inf_differs_from_torch_as_documented(dtype)
    grad = rf.hardswish_backward(g, x)
    assert_same(grad, n(torch.ops.aten.hardswish_backward(t(g), t(x))))   # 0 at -3, g at 3, NaN -> NaN
    assert_same(grad, autograd(F.hardswish, x, g))


def test_hardswish_minus_inf_differs_from_torch_as_documented(dtype=np.float32):
    # PyTorch: -inf * clip(-inf + 3, 0, 6) = -inf * 0 = NaN; relu_fast: the limit, -0
    x = np.full(70, -np.inf, dtype)
    assert np.isnan(n(F.hardswish(t(x)))).all()
    assert_same(rf.hardswish(x), np.full(70, -0.0, dtype))


def test_nan_in_the_gradients_follows_torchs_vector_loop(dtype):
    # PyTorch's scalar tail (the last elements) passes g for a NaN x in hardtanh_backward
    # and hardswish_backward; its vector loop gives 0 and NaN: relu_fast does the latter
    x = np.full(70, np.nan, dtype)
    g = np.full(70, 1.5, dtype)
    for ours, theirs in [(rf.relu6_backward(g, x), torch.ops.aten.hardtanh_backward(t(g), t(x), 0.0, 6.0)),
                         (rf.hardswish_backward(g, x), torch.ops.aten.hardswish_backward(t(g), t(x)))]:
        assert_same(ours[:16], n(theirs)[:16])
    assert_same(rf.hardswish_backward(g, x), x)


# ---------------------------------------------------------------------------
# selu, celu, silu: within a few ulp of PyTorch (both are within ~1 ulp of the exact
# value; PyTorch's float32 exp/expm1 and its float64 selu constant differ in the last
# bit), and the documented differences
# ---------------------------------------------------------------------------

def _finite_close(got, want, dtype):
    ulps = 4 if dtype == np.float32 else 3
    assert_ulp(np.where(got == 0, 0, got).astype(dtype), np.where(want == 0, 0, want).astype(dtype), ulps)


def test_selu(dtype):
    x = pieces(dtype, [0.0, -1.0, 1.0])
    _finite_close(rf.selu(x), n(F.selu(t(x))), dtype)
    x, = not_nan(x, x)
    x = x[np.abs(x) < 700]                               # exp underflow rules differ (below)
    g = data(x.shape, dtype, seed=1, specials=False)
    _finite_close(rf.selu_backward(g, x), autograd(F.selu, x, g), dtype)
    # from the output, y + scale alpha cancels as x -> -inf (PyTorch's in x's dtype, ours in
    # float64): compare where it does not
    x = x[x > -3]
    g = g[:x.size]
    y = rf.selu(x)
    want = n(torch.ops.aten.elu_backward(t(g), 1.6732632423543772, 1.0507009873554805, 1, True, t(y)))
    np.testing.assert_allclose(rf.selu_backward(g, y, is_result=True), want,
                               rtol=64 * np.finfo(dtype).eps, atol=0)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 3.0])
def test_celu(alpha, dtype):
    x = pieces(dtype, [0.0, -1.0, 1.0])
    _finite_close(rf.celu(x, alpha), n(F.celu(t(x), alpha)), dtype)
    x, = not_nan(x, x)
    x = x[np.abs(x) < 200]
    g = data(x.shape, dtype, seed=1, specials=False)
    _finite_close(rf.celu_backward(g, x, alpha), autograd(lambda v: F.celu(v, alpha), x, g), dtype)


def test_celu_negative_alpha_differs_from_torch_as_documented():
    x = np.array([-1.0])
    assert np.isfinite(n(F.celu(t(x), -1.0))).all()      # PyTorch computes -(e - 1)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        rf.celu(x, -1.0)


def test_silu(dtype):
    x = pieces(dtype, [0.0, -1.0, 1.0, -1.2784645427610737])
    finite = ~np.isneginf(x)
    _finite_close(rf.silu(x)[finite], n(F.silu(t(x)))[finite], dtype)
    x = x[np.isfinite(x)]
    g = data(x.shape, dtype, seed=1, specials=False)
    got, want = rf.silu_backward(g, x), autograd(F.silu, x, g)
    # PyTorch's formula s (1 + x (1 - s)) loses up to ~20 ulp (1 - s cancels for large x,
    # the sum near the gradient's zero; ours is measured against mpmath by
    # tools/accuracy.py, and its value table is in test_special): compare within 64 ulp, away from the zero
    far = np.abs(x.astype(np.float64) + 1.2784645427610737) > 0.05
    for w in (want, n(torch.ops.aten.silu_backward(t(g), t(x)))):
        np.testing.assert_allclose(got[far], w[far], rtol=64 * np.finfo(dtype).eps,
                                   atol=np.finfo(dtype).tiny)


def test_silu_infinities_differ_from_torch_as_documented(dtype):
    x = np.full(70, -np.inf, dtype)
    assert np.isnan(n(F.silu(t(x)))).all()
    assert_same(rf.silu(x), np.full(70, -0.0, dtype))
    g = np.full(70, 2.0, dtype)
    for v, want in ((-np.inf, -0.0), (np.inf, 2.0)):
        xv = np.full(70, v, dtype)
        assert np.isnan(n(torch.ops.aten.silu_backward(t(g), t(xv)))).all()
        assert_same(rf.silu_backward(g, xv), np.full(70, want, dtype))
# rrelu: eval mode bit for bit; training mode by structure and with relu_fast's slopes
# given to PyTorch as its noise
# ---------------------------------------------------------------------------

RRELU_RANGES = [(1 / 8, 1 / 3), (0.0, 1.0), (0.3, 0.3), (0.01, 0.99), (0.0, 0.0), (2.0, 5.5)]


def tails(dtype):
    """The specials first (PyTorch's vector loop) and last (its scalar tail)."""
    e = ends(dtype, [0.0])
    return np.concatenate([e, data((2003,), dtype, specials=False), e])


@pytest.mark.parametrize("lower, upper", RRELU_RANGES)
def test_rrelu_eval_mode_is_torchs_bit_for_bit(lower, upper, dtype):
    x = tails(dtype)
    g = data(x.shape, dtype, seed=1, specials=False)
    assert_same(rf.rrelu(x, lower, upper), n(F.rrelu(t(x), lower, upper, training=False)))
    assert_same(rf.rrelu(x, lower, upper), n(torch.ops.aten.rrelu_with_noise(
        t(x), torch.empty(x.shape, dtype=TORCH_DTYPE[dtype]), lower, upper, False)))
    noise = torch.empty(x.shape, dtype=TORCH_DTYPE[dtype])      # unused in eval mode
    want = n(torch.ops.aten.rrelu_with_noise_backward(t(g), t(x), noise, lower, upper, False, False))
    assert_same(rf.rrelu_backward(g, x, lower, upper), want)
    assert_same(rf.rrelu_backward(g, x, lower, upper), autograd(
        lambda xt: F.rrelu(xt, lower, upper, training=False), x, g))


@pytest.mark.parametrize("lower, upper", RRELU_RANGES)
def test_rrelu_training_backward_is_torchs_with_our_slopes_as_noise(lower, upper, dtype):
    x = tails(dtype)
    g = data(x.shape, dtype, seed=1, specials=False)
    s = -rf.rrelu(-np.ones(x.shape, dtype), lower, upper, True, seed=31)    # the slopes
    noise = np.where(x <= 0, s, dtype(1))                                  # PyTorch's noise
    want = n(torch.ops.aten.rrelu_with_noise_backward(t(g), t(x), t(noise), lower, upper,
                                                       True, False))
    assert_same(rf.rrelu_backward(g, x, lower, upper, True, seed=31), want)
    # the forward is PyTorch's product x * noise
    assert_same(rf.rrelu(x, lower, upper, True, seed=31), n(torch.mul(t(x), t(noise))))


@pytest.mark.parametrize("lower, upper", RRELU_RANGES)
def test_rrelu_training_has_torchs_structure(lower, upper, dtype):
    x = tails(dtype)
    torch.manual_seed(0)
    tnoise = torch.empty(x.shape, dtype=TORCH_DTYPE[dtype])
    ty = n(torch.ops.aten.rrelu_with_noise(t(x), tnoise, lower, upper, True))
    y = rf.rrelu(x, lower, upper, True, seed=5)
    tnoise = n(tnoise)
    # the same elements keep their value (PyTorch's noise 1: x > 0 and NaN)
    kept = ~(x <= 0)
    assert np.array_equal(tnoise == 1, kept) or lower <= 1 <= upper
    assert_same(y[kept], ty[kept])
    assert_same(y[kept], x[kept])
    # the others are x times a slope in [lower, upper): PyTorch's too (it may reach upper)
    neg = (x < 0) & np.isfinite(x) & (np.abs(x) > 1e-30)
    lo, hi = dtype(lower), dtype(upper)
    with np.errstate(all="ignore"):
        ours, theirs = y[neg] / x[neg], ty[neg] / x[neg]
    tol = 4 * np.finfo(dtype).eps * max(hi, 1)
    assert np.all((ours >= lo - tol) & (ours <= hi + tol))
    assert np.all((theirs >= lo - tol) & (theirs <= hi + tol))
    assert np.all(tnoise[~kept] >= lo) and np.all(tnoise[~kept] <= hi)
    # signed zeros and infinities as PyTorch
    zero_or_inf = (x == 0) | np.isinf(x)
    if lower > 0:
        assert_same(y[zero_or_inf], ty[zero_or_inf])


def test_rrelu_upper_differs_from_torch_as_documented():
    """float32 [1, 1 + 2**-23): PyTorch's slopes round up to upper about half the time;
    relu_fast's stay below it (capped at the float below upper, here lower)."""
    up = float(np.nextafter(np.float32(1), np.float32(2)))
    x = -np.ones(10**4, np.float32)
    torch.manual_seed(0)
    noise = torch.empty(x.shape)
    torch.ops.aten.rrelu_with_noise(t(x), noise, 1.0, up, True)
    assert (n(noise) == np.float32(up)).mean() > 0.3
    assert np.all(-rf.rrelu(x, 1.0, up, True, seed=1) < np.float32(up))


def test_rrelu_negative_lower_differs_from_torch_as_documented():
    """PyTorch accepts lower < 0; relu_fast refuses it (slopes in [lower, upper) >= 0)."""
    assert n(F.rrelu(-torch.ones(3), -0.5, 0.2, training=True)).shape == (3,)
    with pytest.raises(ValueError, match="lower must be >= 0"):
        rf.rrelu(-np.ones(3, np.float32), -0.5, 0.2, True, seed=1)
    with pytest.raises(RuntimeError, match="Lower bound"):
        F.rrelu(torch.ones(3), 0.5, 0.2)
    with pytest.raises(ValueError, match="lower must not exceed upper"):
        rf.rrelu(np.ones(3), 0.5, 0.2)


def test_rrelu_nan_gradient_differs_between_modes_as_torch():
    x = np.array([np.nan, -1.0])
    g = np.array([2.0, 2.0])
    noise = t(np.array([1.0, 0.25]))
    assert n(torch.ops.aten.rrelu_with_noise_backward(t(g), t(x), noise, 0.25, 0.25, True, False))[0] == 2.0
    assert n(torch.ops.aten.rrelu_with_noise_backward(t(g), t(x), noise, 0.25, 0.25, False, False))[0] == 0.5
    assert rf.rrelu_backward(g, x, 0.25, 0.25, True, seed=1)[0] == 2.0
    assert rf.rrelu_backward(g, x, 0.25, 0.25, False)[0] == 0.5


def test_rrelu_signature_is_torchs():
    import inspect
    theirs = inspect.signature(F.rrelu).parameters
    ours = inspect.signature(rf.rrelu).parameters
    for name in ("lower", "upper", "training"):
        assert ours[name].default == theirs[name].default
    assert list(ours)[1:4] == list(theirs)[1:4]
# softplus and mish: within a few ulp of PyTorch (its float32 exp/log1p/tanh are ~1-3 ulp
# themselves; relu_fast's results are within 1 ulp of exact, docs/semantics.rst), the
# documented differences each a test of their own
# ---------------------------------------------------------------------------

SP_ULPS = {np.float32: 4, np.float64: 4}


def finite_range(x, lo, hi):
    return x[(x > lo) & (x < hi)]


def close_to_torch(got, want, dtype):
    got, want = np.asarray(got, dtype), np.asarray(want, dtype)
    assert_ulp(np.where(got == 0, 0, got).astype(dtype), np.where(want == 0, 0, want).astype(dtype),
               SP_ULPS[dtype])


@pytest.mark.parametrize("beta, th", [(1.0, 20.0), (2.0, 10.0), (0.5, 3.0), (0.25, -1.0)])
def test_softplus(beta, th, dtype):
    # PyTorch's float32 exp underflows to 0 early: compare where it does not
    x = pieces(dtype, [th / beta, 0.0])
    x = x[~(x * beta < -80)]
    g = data(x.shape, dtype, seed=1, specials=False)
    close_to_torch(rf.softplus(x, beta, th), n(F.softplus(t(x), beta, th)), dtype)
    # the switch: at the same elements as PyTorch's (beta x > threshold: x itself)
    above = (x * dtype(beta)) > dtype(th)
    assert_same(rf.softplus(x, beta, th)[above], x[above])
    assert_same(n(F.softplus(t(x), beta, th))[above], x[above])
    x = x[~np.isnan(x)]
    g = g[:x.size]
    want = n(torch.ops.aten.softplus_backward(t(g), t(x), beta, th))
    close_to_torch(rf.softplus_backward(g, x, beta, th), want, dtype)
    close_to_torch(rf.softplus_backward(g, x, beta, th),
                   autograd(lambda a: F.softplus(a, beta, th), x, g), dtype)


def test_softplus_beta_not_a_power_of_two_differs_from_torch_as_documented(dtype):
    # PyTorch rounds beta x before exp: an error of about |beta x| / 2 ulp in the result
    # where beta x < 0; relu_fast keeps the product exact (within 1 ulp of mpmath)
    beta = 1.5
    x = np.linspace(-40, 10, 2001).astype(dtype)
    got, want = rf.softplus(x, beta, 4.0), n(F.softplus(t(x), beta, 4.0))
    ulps = (4 + np.abs(x.astype(np.float64) * beta)) * np.spacing(np.abs(got))
    assert (np.abs(got.astype(np.float64) - want) <= ulps).all()
    # e^-30 / 1.5 (mpmath): relu_fast rounds it correctly
    assert rf.softplus(np.array([-20.0], dtype), beta)[0] == dtype(6.2384153125598245196e-14)


def test_softplus_overflow_below_the_threshold_differs_from_torch_as_documented(dtype):
    x = np.array([100.0, 1000.0], dtype) if dtype == np.float32 else np.array([800.0, 1000.0], dtype)
    x = x[np.isfinite(x)]
    g = np.full(x.shape, 1.5, dtype)
    assert np.isinf(n(F.softplus(t(x), 1.0, 1e30))).all()                  # exp overflows
    assert_same(rf.softplus(x, 1.0, 1e30), x)                              # the limit
    assert np.isnan(n(torch.ops.aten.softplus_backward(t(g), t(x), 1.0, 1e30))).all()
    assert_same(rf.softplus_backward(g, x, 1.0, 1e30), g)


def test_softplus_beta_not_positive_differs_from_torch_as_documented():
    x = np.array([-1.0, 0.0, 2.0])
    assert np.isinf(n(F.softplus(t(x), 0.0))).all()                         # PyTorch: log(2) / 0
    assert np.isfinite(n(F.softplus(t(x), -1.0))).all()                     # PyTorch: computed
    for beta in (0.0, -1.0):
        with pytest.raises(ValueError, match="beta"):
            rf.softplus(x, beta)
        with pytest.raises(ValueError, match="beta"):
            rf.softplus_backward(x, x, beta)


def test_softplus_tiny_float32_results_differ_from_torch_as_documented():
    # PyTorch's float32 vector exp loses a subnormal result's bits below about -87 (0 below
    # about -103.3; its scalar tail rounds right); relu_fast rounds exp(x) once: e^-100 = 3.72e-44 (27 subnormal steps; PyTorch 28)
    x = np.full(70, -100.0, np.float32)
    assert (n(F.softplus(t(x)))[:16] != np.float32(3.720075976020836e-44)).all()   # its vector loop
    assert_same(rf.softplus(x), np.full(70, 3.720075976020836e-44, np.float32))
    assert (n(F.mish(t(x)))[:16] != np.float32(-3.720075976020836e-42)).all()
    assert_same(rf.mish(x), np.full(70, -3.720075976020836e-42, np.float32))


def test_mish(dtype):
    x = pieces(dtype, [0.0, -1.1924, 20.0, -20.0])
    x = x[~(x < -80)]                            # PyTorch's float32 exp underflows below
    got, want = rf.mish(x), n(F.mish(t(x)))
    close_to_torch(got, want, dtype)


def test_mish_backward(dtype):
    x = pieces(dtype, [0.0, 20.0, -20.0, 3.0])
    x = x[np.isfinite(x) & (x > -80)]
    g = data(x.shape, dtype, seed=1, specials=False)
    got = rf.mish_backward(g, x)
    # PyTorch's s + x sigmoid(x) (1 - s^2) adds terms of opposite signs for x < 0: its
    # error is a few ulp of the larger term, so compare within 4 ulp of the result or
    # 8 eps times the terms' size (computed here in float64 from NumPy's functions)
    xd, gd = x.astype(np.float64), g.astype(np.float64)
    s = np.tanh(np.logaddexp(0, xd))
    size = np.abs(gd) * (np.abs(s) + np.abs(xd / (1 + np.exp(-xd)) * (1 - s * s)))
    eps = np.finfo(dtype).eps
    for want in (n(torch.ops.aten.mish_backward(t(g), t(x))), autograd(F.mish, x, g)):
        err = np.abs(got.astype(np.float64) - want)
        ok = (err <= 4 * np.spacing(np.abs(got)).astype(np.float64)) | (err <= 8 * eps * size)
        assert ok.all(), (x[~ok][:5], got[~ok][:5], want[~ok][:5])


def test_mish_infinities_differ_from_torch_as_documented(dtype):
    x = np.array([-np.inf] * 40 + [np.inf] * 40, dtype)
    g = np.full(x.shape, 1.5, dtype)
    assert np.isnan(n(F.mish(t(x)))[:40]).all()                               # -inf * 0
    assert_same(rf.mish(x), np.array([-0.0] * 40 + [np.inf] * 40, dtype))     # the limits
    assert np.isnan(n(torch.ops.aten.mish_backward(t(g), t(x)))).all()
    assert_same(rf.mish_backward(g, x), np.array([0.0] * 40 + [1.5] * 40, dtype))


def test_mish_backward_subnormal_sign_differs_from_torch_as_documented():
    x = np.full(40, -740.0)
    g = np.ones(40)
    assert (n(torch.ops.aten.mish_backward(t(g), t(x))) > 0).all()          # the wrong sign
    assert_same(rf.mish_backward(g, x), np.full(40, -3.0954787713555081663e-319))
# gelu: PyTorch computes x/2 (1 + erf(x/sqrt2)) (and the tanh form) in x's dtype, so near
# the result's zero and in the negative tail its error is absolute, about |x| eps (1 + erf
# cancels); relu_fast is within 1-2 ulp of the exact value (docs/semantics.rst).  The two
# agree to within a few ulp of the result plus PyTorch's |x| eps, away from PyTorch's NaNs
# at the infinities (the documented differences below).

def _gelu_close(ours, theirs, x, dtype, ulps):
    eps = np.finfo(dtype).eps
    big = np.maximum(np.abs(ours), np.abs(theirs)).astype(np.float64)
    tol = ulps * np.spacing(big.astype(dtype)).astype(np.float64) + 4 * eps * np.abs(x.astype(np.float64))
    both_nan = np.isnan(ours) & np.isnan(theirs)
    diff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
    ok = both_nan | (ours == theirs) | (diff <= tol)
    assert ok.all(), f"{(~ok).sum()} differ: x {x[~ok][:5]}, ours {ours[~ok][:5]}, torch {theirs[~ok][:5]}"


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(dtype, approximate):
    r = np.random.default_rng(3)
    x = np.concatenate([r.standard_normal(4000) * 3, r.uniform(-20, 20, 4000),
                        np.array([0.0, -0.0, 1e-30, -1e-30, 1e-40, -1e-40, 5.0, -5.0, -0.7518, -0.7525])])
    x = x.astype(dtype)
    g = data(x.shape, dtype, seed=1, specials=False)
    g[g == 0] = dtype(1.5)                   # the comparison divides by g
    _gelu_close(rf.gelu(x, approximate), n(F.gelu(t(x), approximate=approximate)), x, dtype, 4)
    # the gradient: aten's gelu_backward and autograd (the same kernel)
    theirs = n(torch.ops.aten.gelu_backward(t(g), t(x), approximate=approximate))
    ours = rf.gelu_backward(g, x, approximate)
    _gelu_close(ours / g, theirs / g, x, dtype, 8)
    assert_same(theirs, autograd(lambda v: F.gelu(v, approximate=approximate), x, g))
    # alone in a short array (PyTorch's scalar loop) the same
    for i in range(0, x.size, 997):
        one = x[i:i + 1]
        _gelu_close(rf.gelu(one, approximate), n(F.gelu(t(one), approximate=approximate)), one, dtype, 4)


def test_gelu_infinities_differ_from_torch_as_documented(dtype):
    x = np.array([np.inf, -np.inf] * 35, dtype)
    g = np.ones_like(x)
    # PyTorch: NaN for gelu(+-inf) (erf form, float32/float64 vector loop), gelu_tanh(-inf),
    # and NaN gradients at +-inf; relu_fast: the limits
    assert np.isnan(n(F.gelu(t(x)))[1])
    assert np.isnan(n(F.gelu(t(x), approximate="tanh"))[1])
    assert np.isnan(n(torch.ops.aten.gelu_backward(t(g), t(x)))).all()
    for approximate in ("none", "tanh"):
        assert_same(rf.gelu(x, approximate), np.resize(np.array([np.inf, -0.0], dtype), 70))
        assert_same(rf.gelu_backward(g, x, approximate), np.resize(np.array([1.0, -0.0], dtype), 70))


def test_gelu_tanh_gradient_at_huge_x_differs_from_torch_as_documented(dtype):
    # PyTorch's tanh-form gradient is NaN at |x| = 1e30 (x^3 overflows in float32; in
    # float64 at 1e300): relu_fast gives the limits 1 and 0
    big = 1e30 if dtype == np.float32 else 1e300
    x = np.array([big, -big] * 35, dtype)
    g = np.ones_like(x)
    assert np.isnan(n(torch.ops.aten.gelu_backward(t(g), t(x), approximate="tanh"))).all()
    assert_same(rf.gelu_backward(g, x, "tanh"), np.resize(np.array([1.0, -0.0], dtype), 70))
    # and the values agree (x and -0)
    assert_same(rf.gelu(x, "tanh"), n(F.gelu(t(x), approximate="tanh")))


def test_gelu_float32_near_max_differs_from_torch_as_documented():
    # PyTorch's float32 AVX-512 vector loop computes x (1 + erf) first: inf above max / 2
    # (its AVX2 loop gives x); relu_fast gives x on every level
    x = np.full(70, 3e38, np.float32)
    theirs = n(F.gelu(t(x)))[0]
    if torch.backends.cpu.get_cpu_capability() == "AVX512":
        assert np.isinf(theirs)
    else:
        assert theirs in (x[0], np.inf)
    assert_same(rf.gelu(x), x)


# ---------------------------------------------------------------------------
# float16 and bfloat16: the piecewise-linear functions and their gradients are
# PyTorch's CPU results bit for bit (zero signs aside), on every 16-bit value
# ---------------------------------------------------------------------------

from conftest import HALF_DTYPES  # noqa: E402


def t16(a):
    """The torch tensor of a 16-bit array (bfloat16 through its bits)."""
    a = np.ascontiguousarray(a)
    if a.dtype.name == "bfloat16":
        return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(a)


def n16(tensor, like):
    """A 16-bit torch tensor back as an array of `like`'s dtype."""
    tensor = tensor.detach().contiguous()
    if tensor.dtype == torch.bfloat16:
        return tensor.view(torch.int16).numpy().view(like.dtype)
    return tensor.numpy()


HALF_PIECEWISE = {
    "relu": (lambda x, g: rf.relu(x), lambda x, g: torch.relu(x)),
    "relu_backward": (lambda x, g: rf.relu_backward(g, x),
                      lambda x, g: torch.ops.aten.threshold_backward(g, x, 0)),
    "leaky_relu": (lambda x, g: rf.leaky_relu(x, 0.2), lambda x, g: F.leaky_relu(x, 0.2)),
    "leaky_relu_backward": (lambda x, g: rf.leaky_relu_backward(g, x, 0.2),
                            lambda x, g: torch.ops.aten.leaky_relu_backward(g, x, 0.2, False)),
    "hardtanh": (lambda x, g: rf.hardtanh(x, -0.5, 0.75), lambda x, g: F.hardtanh(x, -0.5, 0.75)),
    "hardtanh_backward": (lambda x, g: rf.hardtanh_backward(g, x, -0.5, 0.75),
                          lambda x, g: torch.ops.aten.hardtanh_backward(g, x, -0.5, 0.75)),
    "relu6": (lambda x, g: rf.relu6(x), lambda x, g: F.relu6(x)),
    "relu6_backward": (lambda x, g: rf.relu6_backward(g, x),
                       lambda x, g: torch.ops.aten.hardtanh_backward(g, x, 0.0, 6.0)),
    "threshold": (lambda x, g: rf.threshold(x, 0.25, -2.5), lambda x, g: F.threshold(x, 0.25, -2.5)),
    "threshold_backward": (lambda x, g: rf.threshold_backward(g, x, 0.25),
                           lambda x, g: torch.ops.aten.threshold_backward(g, x, 0.25)),
    "hardsigmoid": (lambda x, g: rf.hardsigmoid(x), lambda x, g: F.hardsigmoid(x)),
    "hardsigmoid_backward": (lambda x, g: rf.hardsigmoid_backward(g, x),
                             lambda x, g: torch.ops.aten.hardsigmoid_backward(g, x)),
    "hardswish": (lambda x, g: rf.hardswish(x), lambda x, g: F.hardswish(x)),
    "hardswish_backward": (lambda x, g: rf.hardswish_backward(g, x),
                           lambda x, g: torch.ops.aten.hardswish_backward(g, x)),
    "rrelu_eval": (lambda x, g: rf.rrelu(x, 0.1, 0.4), lambda x, g: F.rrelu(x, 0.1, 0.4)),
}


@pytest.mark.parametrize("half", HALF_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(HALF_PIECEWISE))
def test_16bit_piecewise_linear_is_torchs(name, half):
    x = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(half)
    with np.errstate(invalid="ignore"):
        x32 = x.astype(np.float32)
    if name == "hardswish":
        x = x[x32 != -np.inf]            # PyTorch: -inf * 0 = NaN; relu_fast -0 (the limit)
    g = (np.random.default_rng(0).standard_normal(x.size) * 3).astype(np.float32).astype(half)
    ours, theirs = HALF_PIECEWISE[name]
    got = ours(x, g)
    want = n16(theirs(t16(x), t16(g)), x)
    assert got.dtype == x.dtype
    assert_same(got, want, signed_zero=False)


@pytest.mark.parametrize("half", HALF_DTYPES, ids=lambda d: np.dtype(d).name)
def test_16bit_prelu_and_autograd_are_torchs(half):
    x = data((8, 5, 33), half, specials=False)
    g = data((8, 5, 33), half, seed=1, specials=False)
    w = np.array([0.25, -0.5, 0.0, 2.0, 0.1], np.float32).astype(half)
    tx, tw = t16(x).requires_grad_(), t16(w).requires_grad_()
    y = F.prelu(tx, tw)
    gx, gw = torch.autograd.grad(y, (tx, tw), t16(g))
    assert_same(rf.prelu(x, w), n16(y, x), signed_zero=False)
    ours_gx, ours_gw = rf.prelu_backward(g, x, w)
    assert_same(ours_gx, n16(gx, x), signed_zero=False)
    # relu_fast sums the weight gradient in float64 and rounds once (the float64 sum, exact
    # here, rounded); PyTorch's 16-bit sum rounds along the way (2 ulp off in float16
    # here): relu_fast's is never the farther from the exact sum
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    exact = np.where(x64 > 0, 0.0, x64 * g64).sum(axis=(0, 2))
    assert_same(ours_gw, exact.astype(half))
    torch_gw = n16(gw, w).astype(np.float64)
    assert np.all(np.abs(ours_gw.astype(np.float64) - exact) <= np.abs(torch_gw - exact))
