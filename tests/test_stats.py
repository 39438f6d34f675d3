"""relu_stats: relu plus the per-channel fraction of x > 0, against NumPy counts."""
import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _api, _dispatch, _threads
from relu_fast import _reference as ref

DTYPES = [np.float32, np.float64]
GRAIN = _threads._grain()


def numpy_fraction(x, axis):
    """count of x > 0 per index along axis, divided by the elements per index."""
    x = np.asarray(x)
    ax = axis % x.ndim
    others = tuple(k for k in range(x.ndim) if k != ax)
    count = np.count_nonzero(x > 0, axis=others)
    return count / float(x.size // x.shape[ax])


def make(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    # channels with very different activity, including dead ones
    x += np.linspace(-4, 1, shape[-1])
    flat = x.reshape(-1)
    flat[:: 17] = 0.0
    flat[5:: 101] = np.nan
    return x.astype(dtype)


def check(x, axis):
    y, frac = rf.relu_stats(x, axis=axis)
    np.testing.assert_array_equal(y, ref.relu(x))
    assert y.shape == x.shape and y.dtype == x.dtype
    assert frac.dtype == np.float64 and frac.shape == (x.shape[axis],)
    np.testing.assert_array_equal(frac, numpy_fraction(x, axis))
    np.testing.assert_array_equal(frac, ref.relu_stats(x, axis=axis)[1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (13,), (7, 5), (4, 6, 9), (2, 3, 4, 5), (300, 1), (1, 300)])
def test_every_axis(dtype, shape):
    x = make(shape, dtype)
    for axis in range(-x.ndim, x.ndim):
        check(x, axis)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["F", "strided", "transposed"])
def test_layouts(dtype, layout):
    x = make((12, 10, 14), dtype)
    if layout == "F":
        x = np.asfortranarray(x)
    elif layout == "strided":
        x = x[::2, :, 1::3]
    else:
        x = x.transpose(2, 0, 1)
    for axis in range(x.ndim):
        check(x, axis)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape,axis", [((2 * 32768 // 64 + 3, 64), -1), ((40, 3, 1100), 1),
                                        ((5, 40000), 0), ((3, 7, 70000), 1)])
def test_threads_above_grain(dtype, threads, shape, axis):
    x = make(shape, dtype, seed=threads)
    assert x.size >= GRAIN
    with rf.limit_threads(threads):
        check(x, axis)


def test_every_level():
    x = make((50, 3, 400), np.float32)
    before = rf.kernel_level()
    try:
        for level in _dispatch.available_levels():
            _api._use_level(level)
            check(x, 1)
            check(x, -1)
    finally:
        _api._use_level(before)


def test_dead_channel_and_full_channel():
    x = np.ones((100, 4))
    x[:, 1] = -1.0
    x[::2, 2] = 0.0
    y, frac = rf.relu_stats(x)
    assert frac.tolist() == [1.0, 0.0, 0.5, 1.0]


def test_out_and_empty():
    x = make((6, 8), np.float64)
    out = np.empty_like(x)
    y, frac = rf.relu_stats(x, axis=0, out=out)
    assert y is out
    np.testing.assert_array_equal(out, ref.relu(x))
    xc = x.copy()
    rf.relu_stats(xc, out=xc)
    np.testing.assert_array_equal(xc, ref.relu(x))
    y, frac = rf.relu_stats(np.empty((0, 3)))
    assert y.shape == (0, 3) and frac.shape == (3,) and np.all(np.isnan(frac))
    y, frac = rf.relu_stats(np.empty((3, 0)))
    assert frac.shape == (0,)


def test_errors_write_nothing():
    x = make((6, 8), np.float32)
    out = np.full((6, 8), 5.0, dtype=np.float32)
    with pytest.raises(ValueError, match="axis"):
        rf.relu_stats(x, axis=2, out=out)
    with pytest.raises(ValueError, match="axis"):
        rf.relu_stats(x, axis=-3, out=out)
    with pytest.raises(TypeError, match="axis"):
        rf.relu_stats(x, axis=1.0, out=out)
    with pytest.raises(TypeError, match="axis"):
        rf.relu_stats(x, axis=True, out=out)
    with pytest.raises(ValueError, match="0-D"):
        rf.relu_stats(np.float32(1.0))
    with pytest.raises(TypeError, match="dtype"):
        rf.relu_stats(np.arange(6))
    with pytest.raises(TypeError, match="dtype"):
        rf.relu_stats(x, out=np.empty((6, 8)))
    with pytest.raises(ValueError, match="shape"):
        rf.relu_stats(x, out=np.empty((8, 6), np.float32))
    assert np.all(out == 5.0)


@pytest.mark.parametrize("axis", [10**30, -(10**30), 2**63, np.uint64(2**63), np.int64(-2**63)])
def test_huge_axis_is_a_value_error(axis):
    """issue 12 item 8: relu_stats(x, axis=10**30) (also 2**63, np.uint64(2**63)) raised
    OverflowError where prelu raises the documented ValueError; so did the layers."""
    from relu_fast import nn
    x = make((6, 8), np.float32)
    out = np.full_like(x, 5.0)
    with pytest.raises(ValueError, match="out of range"):
        rf.relu_stats(x, axis=axis, out=out)
    assert np.all(out == 5.0)
    for layer in (nn.ReLU(track_activity=True, activity_axis=axis),
                  nn.ReLU(mask=False, track_activity=True, activity_axis=axis),
                  nn.LeakyReLU(track_activity=True, activity_axis=axis),
                  nn.ELU(track_activity=True, activity_axis=axis),
                  nn.PReLU(track_activity=True, activity_axis=axis)):
        with pytest.raises(ValueError, match="out of range"):
            layer(x)


def test_default_axis_is_the_nchw_channel():
    """issue 12 item 12: one channel-axis default for the whole library, axis=1 (PyTorch's),
    as prelu's; relu_stats counted over the last axis before."""
    x = make((4, 3, 5, 6), np.float32)
    x[:, 1] = -np.abs(x[:, 1])           # channel 1 is dead
    y, frac = rf.relu_stats(x)
    assert frac.shape == (3,)
    np.testing.assert_array_equal(frac, (x > 0).mean(axis=(0, 2, 3)))
    assert frac[1] == 0.0
