"""Finite-difference checks of every gradient in float64 (points kept away from 0, where
the functions have a kink): d/dx for leaky_relu, elu (from x and from the result), prelu,
and PReLU's weight gradient per channel (axis=1, axis=-1) and for a single alpha."""
import numpy as np
import pytest

import relu_fast as rf

H = 1e-6


def away_from_zero(shape, seed, lo=0.05, hi=3.0):
    r = np.random.default_rng(seed)
    mag = r.uniform(lo, hi, shape)
    return np.where(r.random(shape) < 0.5, -mag, mag)


def numeric_dx(f, x, g):
    """g * df/dx elementwise by central differences (f is elementwise)."""
    return g * (f(x + H) - f(x - H)) / (2 * H)


@pytest.mark.parametrize("slope", [0.01, 0.3, -0.7, 0.0, 2.0])
def test_leaky_relu_gradient(slope):
    x = away_from_zero((40, 25), 0)
    g = np.random.default_rng(1).standard_normal(x.shape)
    num = numeric_dx(lambda v: rf.leaky_relu(v, slope), x, g)
    np.testing.assert_allclose(rf.leaky_relu_backward(g, x, slope), num, rtol=1e-7, atol=1e-9)


def test_relu_gradient():
    x = away_from_zero((1000,), 2)
    g = np.random.default_rng(3).standard_normal(x.shape)
    np.testing.assert_allclose(rf.relu_backward(g, x), numeric_dx(rf.relu, x, g), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.5, 0.0, -1.0])
def test_elu_gradient(alpha):
    x = away_from_zero((30, 30), 4, hi=6.0)
    g = np.random.default_rng(5).standard_normal(x.shape)
    num = numeric_dx(lambda v: rf.elu(v, alpha), x, g)
    np.testing.assert_allclose(rf.elu_backward(g, x, alpha), num, rtol=1e-6, atol=1e-9)
    if alpha >= 0:
        y = rf.elu(x, alpha)
        np.testing.assert_allclose(rf.elu_backward(g, y, alpha, is_result=True), num, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("axis", [1, -1, 0])
def test_prelu_gradients_per_channel(axis):
    shape = (3, 4, 5)
    x = away_from_zero(shape, 6)
    g = np.random.default_rng(7).standard_normal(shape)
    C = shape[axis]
    w = np.random.default_rng(8).uniform(-1.0, 1.5, C)
    gi, gw = rf.prelu_backward(g, x, w, axis=axis)
    # d/dx
    num = numeric_dx(lambda v: rf.prelu(v, w, axis=axis), x, g)
    np.testing.assert_allclose(gi, num, rtol=1e-7, atol=1e-9)
    # d/dw_c of L = sum(g * prelu(x, w))
    loss = lambda ww: float(np.sum(g * rf.prelu(x, ww, axis=axis)))   # noqa: E731
    num_w = np.empty(C)
    for c in range(C):
        e = np.zeros(C)
        e[c] = H
        num_w[c] = (loss(w + e) - loss(w - e)) / (2 * H)
    assert gw.shape == w.shape
    np.testing.assert_allclose(gw, num_w, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("weight", [0.25, np.array(0.25), np.array([0.25])], ids=["float", "0d", "1elem"])
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5), ()], ids=str)
def test_prelu_gradient_single_alpha(shape, weight):
    x = away_from_zero(shape, 9)
    g = np.asarray(np.random.default_rng(10).standard_normal(shape))
    gi, gw = rf.prelu_backward(g, x, weight)
    assert gw.shape == np.shape(weight)
    w0 = float(np.asarray(weight).reshape(-1)[0])
    num_w = (np.sum(g * rf.prelu(x, w0 + H)) - np.sum(g * rf.prelu(x, w0 - H))) / (2 * H)
    np.testing.assert_allclose(float(np.asarray(gw).reshape(-1)[0]), num_w, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gi, numeric_dx(lambda v: rf.prelu(v, weight), x, g), rtol=1e-7, atol=1e-9)


def test_prelu_weight_gradient_large_parallel():
    """Above the grain, 2 threads: the per-part float64 sums still give the exact gradient."""
    shape = (4, 3, 20000)
    x = away_from_zero(shape, 11)
    g = np.random.default_rng(12).standard_normal(shape)
    w = np.array([0.1, -0.4, 1.2])
    with rf.limit_threads(2):
        _, gw = rf.prelu_backward(g, x, w)
    loss = lambda ww: float(np.sum(g * rf.prelu(x, ww)))   # noqa: E731
    for c in range(3):
        e = np.zeros(3)
        e[c] = 1e-3     # loss is linear in w: a big step is exact up to rounding of the sums
        num = (loss(w + e) - loss(w - e)) / 2e-3
        assert gw[c] == pytest.approx(num, rel=1e-7, abs=1e-6)
