"""Agreement with PyTorch's CPU functions and autograd, value for value, wherever the
semantics table and PyTorch agree (the sign of a zero result is ignored).

Where they differ (documented): torch's elu_backward passes the gradient for a NaN
input (it tests x <= 0), relu_fast gives NaN (NaN in, NaN out).
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
