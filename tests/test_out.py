"""out= (fresh, in place, partly overlapping, non-contiguous, misaligned, byte-swapped),
result types, and array-likes."""
import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _reference as ref
from conftest import GRAIN, assert_same, assert_ulp

SLOPE, ALPHA = 0.2, 1.5

# name -> (relu_fast call(x, g, out), reference call(x, g))
CALLS = {
    "relu": (lambda x, g, out: rf.relu(x, out=out), lambda x, g: ref.relu(x)),
    "relu_backward": (lambda x, g, out: rf.relu_backward(g, x, out=out), lambda x, g: ref.relu_backward(g, x)),
    "leaky_relu": (lambda x, g, out: rf.leaky_relu(x, SLOPE, out=out), lambda x, g: ref.leaky_relu(x, SLOPE)),
    "leaky_relu_backward": (lambda x, g, out: rf.leaky_relu_backward(g, x, SLOPE, out=out),
                            lambda x, g: ref.leaky_relu_backward(g, x, SLOPE)),
    "prelu": (lambda x, g, out: rf.prelu(x, _w(x), out=out), lambda x, g: ref.prelu(x, _w(x))),
    "elu": (lambda x, g, out: rf.elu(x, ALPHA, out=out), lambda x, g: ref.elu(x, ALPHA)),
    "elu_backward": (lambda x, g, out: rf.elu_backward(g, x, ALPHA, out=out),
                     lambda x, g: ref.elu_backward(g, x, ALPHA)),
    "elu_backward_result": (lambda x, g, out: rf.elu_backward(g, x, ALPHA, is_result=True, out=out),
                            lambda x, g: ref.elu_backward(g, x, ALPHA, is_result=True)),
}
BINARY = {n for n in CALLS if "backward" in n}


def _w(x):
    x = np.asarray(x)
    if x.ndim < 2:
        return x.dtype.type(0.3)
    return np.linspace(-0.5, 1.0, x.shape[1]).astype(x.dtype)


def check(name, got, want):
    with np.errstate(all="ignore"):
        if name.startswith("elu"):
            assert_ulp(got, want, 2)
        else:
            assert_same(got, want)


def data(shape, dtype, seed=0):
    r = np.random.default_rng(seed)
    x = (r.standard_normal(shape) * 2).astype(dtype)
    x.reshape(-1)[::5] = 0.0
    g = r.standard_normal(shape).astype(dtype)
    return x, g


SIZES = [(5, 7), (GRAIN + 33,)]


@pytest.mark.parametrize("shape", SIZES, ids=str)
@pytest.mark.parametrize("name", list(CALLS))
def test_out_fresh_array_is_returned(name, shape, dtype):
    x, g = data(shape, dtype)
    fast, slow = CALLS[name]
    want = slow(x, g)
    out = np.full(shape, np.nan, dtype)
    res = fast(x, g, out)
    assert res is out
    check(name, out, want)


@pytest.mark.parametrize("nthreads", [1, 2])
@pytest.mark.parametrize("shape", SIZES, ids=str)
@pytest.mark.parametrize("name", list(CALLS))
def test_out_is_x_in_place(name, shape, nthreads, dtype):
    x, g = data(shape, dtype)
    fast, slow = CALLS[name]
    want = slow(x, g)
    with rf.limit_threads(nthreads):
        res = fast(x, g, x)
    assert res is x
    check(name, x, want)


@pytest.mark.parametrize("shape", SIZES, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_out_is_grad_in_place(name, shape, dtype):
    x, g = data(shape, dtype)
    fast, slow = CALLS[name]
    want = slow(x, g)
    res = fast(x, g, g)
    assert res is g
    check(name, g, want)


@pytest.mark.parametrize("n, shift", [(50, 1), (50, -1), (50, 3), (50, -17), (GRAIN + 40, 1), (GRAIN + 40, -3)],
                         ids=["small+1", "small-1", "small+3", "small-17", "grain+1", "grain-3"])
@pytest.mark.parametrize("name", list(CALLS))
def test_out_partly_overlapping_input(name, n, shift, dtype):
    """out = buf[shift:], x = buf[:-shift] (and the like): same answer as without overlap."""
    x0, g0 = data((n + abs(shift),), dtype, seed=3)
    fast, slow = CALLS[name]
    for which in (("x",) if name not in BINARY else ("x", "g")):
        buf = x0.copy() if which == "x" else g0.copy()
        a = buf[:n] if shift > 0 else buf[-shift:]
        o = buf[shift:] if shift > 0 else buf[:n]
        assert np.shares_memory(a, o) and a.ctypes.data != o.ctypes.data
        x = a if which == "x" else x0[:n].copy()
        g = a if which == "g" else g0[:n].copy()
        want = slow(x.copy(), g.copy())
        res = fast(x, g, o)
        assert res is o
        check(name, o, want)


@pytest.mark.parametrize("name", list(CALLS))
def test_out_overlapping_2d_views(name, dtype):
    """x = buf[:, :-1], out = buf[:, 1:]: interleaved, not one flat block."""
    buf, g0 = data((40, 41), dtype, seed=4)
    fast, slow = CALLS[name]
    x, out = buf[:, :-1], buf[:, 1:]
    g = g0[:, :-1].copy()
    want = slow(x.copy(), g)
    fast(x, g, out)
    check(name, out, want)


def _noncontig(shape, dtype, kind):
    if kind == "strided":
        big = np.full((shape[0] * 2, shape[1] * 3), 99.0, dtype)
        return big[::2, ::3], big
    if kind == "negative":
        big = np.full((shape[0], shape[1] * 2), 99.0, dtype)
        return big[::-1, ::-2], big
    if kind == "F":
        a = np.full(shape, 99.0, dtype, order="F")
        return a, a
    if kind == "misaligned":
        buf = bytearray(int(np.prod(shape)) * np.dtype(dtype).itemsize + 1)
        a = np.frombuffer(buf, dtype, offset=1).reshape(shape)
        assert not a.flags.aligned
        return a, a
    if kind == "bigendian":
        a = np.full(shape, 99.0, np.dtype(dtype).newbyteorder(">"))
        return a, a
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["strided", "negative", "F", "misaligned", "bigendian"])
@pytest.mark.parametrize("name", list(CALLS))
def test_out_non_contiguous(name, kind, dtype):
    x, g = data((6, 9), dtype, seed=5)
    fast, slow = CALLS[name]
    out, base = _noncontig((6, 9), dtype, kind)
    want = slow(x, g)
    res = fast(x, g, out)
    assert res is out
    check(name, out, want)
    if base is not out:                       # the gaps between the strided elements untouched
        mask = np.ones(base.shape, bool)
        if kind == "strided":
            mask[::2, ::3] = False
        else:
            mask[::-1, ::-2] = False
        assert (base[mask] == 99.0).all()


@pytest.mark.parametrize("name", list(CALLS))
def test_in_place_on_views(name, dtype):
    """out=x where x is a strided / Fortran / negative-stride view."""
    fast, slow = CALLS[name]
    for kind in ("strided", "negative", "F"):
        x, base = _noncontig((6, 9), dtype, kind)
        x[...], g = data((6, 9), dtype, seed=6)
        want = slow(x.copy(), g)
        fast(x, g, x)
        check(name, x, want)


@pytest.mark.parametrize("dtype_", [np.float32, np.float64])
def test_prelu_out_and_in_place(dtype_):
    x, g = data((3, 4, 5), dtype_)
    w = np.array([0.1, -0.2, 0.0, 2.0], dtype_)
    want = ref.prelu(x, w)
    assert_same(rf.prelu(x.copy(), w, out=np.empty_like(x)), want)
    y = x.copy()
    assert rf.prelu(y, w, out=y) is y
    assert_same(y, want)
    xt = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    o = np.empty_like(xt)
    rf.prelu(xt, w, axis=-1, out=o)
    assert_same(o, np.moveaxis(want, 1, -1))


# ---------------------------------------------------------------------------
# Result types and array-likes
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CALLS))
def test_zero_d_in_zero_d_ndarray_out(name, dtype):
    fast, slow = CALLS[name]
    for v in (-1.5, 0.0, 2.0):
        x, g = np.array(v, dtype), np.array(0.75, dtype)
        r = fast(x, g, None)
        assert type(r) is np.ndarray and r.shape == () and r.dtype == dtype
        check(name, r, slow(x, g))
        for xs, gs in ((dtype(v), dtype(0.75)), (x, g)):
            r = fast(xs, gs, None)
            assert type(r) is np.ndarray and r.shape == ()


def test_results_are_fresh_ndarrays(dtype):
    x, g = data((4, 5), dtype)
    for r in (rf.relu(x), rf.leaky_relu(x), rf.elu(x), rf.relu_backward(g, x),
              rf.leaky_relu_backward(g, x), rf.elu_backward(g, x), rf.prelu(x, np.ones(5, dtype)),
              *rf.prelu_backward(g, x, np.ones(5, dtype))):
        assert type(r) is np.ndarray
        assert r.flags.writeable
        assert not np.shares_memory(r, x) and not np.shares_memory(r, g)
    assert rf.relu(x).sum() == pytest.approx(float(np.maximum(x, 0).sum()), rel=1e-5)


def test_order_of_result_follows_input():
    x, _ = data((4, 5), np.float64)
    assert rf.relu(x).flags.c_contiguous
    assert rf.relu(np.asfortranarray(x)).flags.f_contiguous


def test_array_likes():
    assert_same(rf.relu([-1.0, 0.5, -0.0]), np.array([0.0, 0.5, -0.0]))
    assert_same(rf.relu([[-1.0, 2.0], [3.0, -4.0]]), np.array([[0.0, 2.0], [3.0, 0.0]]))
    assert_same(rf.relu(-2.5), np.array(0.0))
    assert_same(rf.relu(np.float32(-2.5)), np.array(0.0, np.float32))
    assert_same(rf.leaky_relu((-1.0, 1.0), 0.5), np.array([-0.5, 1.0]))
    assert_same(rf.relu_backward([1.0, 2.0], [-1.0, 1.0]), np.array([0.0, 2.0]))
    assert_same(rf.leaky_relu_backward([1.0, 2.0], [-1.0, 1.0], 0.5), np.array([0.5, 2.0]))
    assert_ulp(rf.elu([-1.0, 1.0]), np.array([np.expm1(-1.0), 1.0]))
    assert_ulp(rf.elu_backward([2.0, 2.0], [-1.0, 1.0]), np.array([2 * np.exp(-1.0), 2.0]))
    assert_same(rf.prelu([[-1.0, -1.0], [2.0, -4.0]], [0.5, 0.25]), np.array([[-0.5, -0.25], [2.0, -1.0]]))
    gi, gw = rf.prelu_backward([[1.0, 1.0]], [[-1.0, -3.0]], [0.5, 0.25])
    assert_same(gi, np.array([[0.5, 0.25]]))
    assert_same(gw, np.array([-1.0, -3.0]))
    # an ndarray grad with a list x of the same dtype
    assert_same(rf.relu_backward(np.array([1.0, 2.0]), [-1.0, 1.0]), np.array([0.0, 2.0]))


def test_weight_shapes_are_kept():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    g = np.ones_like(x)
    for w, shape in ((0.5, ()), (np.float64(0.5), ()), (np.array(0.5), ()), (np.array([0.5]), (1,)),
                     ([0.5], (1,)), (np.ones(3), (3,)), ([0.1, 0.2, 0.3], (3,))):
        gi, gw = rf.prelu_backward(g, x, w)
        assert type(gw) is np.ndarray and gw.shape == shape and gw.dtype == np.float64


def test_prelu_weight_list_follows_x_dtype():
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    y = rf.prelu(x, [0.1, 0.2, 0.3])
    assert y.dtype == np.float32
    assert_same(y, ref.prelu(x, np.array([0.1, 0.2, 0.3], np.float32)))
    gi, gw = rf.prelu_backward(np.ones_like(x), x, [0.1, 0.2, 0.3])
    assert gi.dtype == np.float32 and gw.dtype == np.float32


def test_prelu_weight_is_a_view_of_out(dtype):
    """The alphas live inside the array being overwritten (out=x): read before written."""
    x = np.random.default_rng(1).standard_normal((2, 3, 40)).astype(dtype)
    w = x[0, 0, :3]
    want = ref.prelu(x, w.copy())
    rf.prelu(x, w, out=x)
    assert_same(x, want)
