"""relu_mask / relu_backward_mask: the 1-bit mask path against NumPy and relu_backward."""
import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _api, _dispatch, _threads
from relu_fast import _reference as ref

DTYPES = [np.float32, np.float64]
GRAIN = _threads._grain()
SIZES = [0, 1, 7, 8, 9, 63, 64, 65, 511, 512, 513, 4099]
SPECIAL = [0.0, -0.0, 1.0, -1.0, np.nan, -np.nan, np.inf, -np.inf, 1e-45, -1e-45, 1e-310, -1e-310]


def data(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    x[: min(n, len(SPECIAL))] = SPECIAL[: min(n, len(SPECIAL))]
    if n > 20:
        x[rng.integers(0, n, n // 10)] = 0.0
    g = rng.standard_normal(n)
    if n:
        g[rng.integers(0, n, n // 7 + 1)] = np.inf
    return x.astype(dtype), g.astype(dtype)


def expected_bits(x):
    """1 where relu_backward passes the gradient: not x <= 0 (x > 0 or NaN), C order."""
    with np.errstate(invalid="ignore"):
        return (~(np.asarray(x) <= 0)).reshape(-1).astype(np.uint8)


def check_pair(x, g):
    y, mask = rf.relu_mask(x)
    n = x.size
    assert mask.dtype == np.uint8 and mask.shape == ((n + 7) // 8,)
    assert np.array_equal(np.unpackbits(mask, count=n, bitorder="little"), expected_bits(x))
    if n % 8:
        assert mask[-1] >> (n % 8) == 0, "unused bits of the last byte must be 0"
    assert y.shape == x.shape and y.dtype == x.dtype
    np.testing.assert_array_equal(y, ref.relu(x))
    assert np.array_equal(np.signbit(y), np.signbit(ref.relu(x)))
    gx = rf.relu_backward_mask(g, mask)
    want = rf.relu_backward(g, x)
    assert gx.dtype == g.dtype and gx.shape == g.shape
    np.testing.assert_array_equal(gx, want)
    np.testing.assert_array_equal(gx, ref.relu_backward(g, x))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_sizes(dtype, n):
    x, g = data(n, dtype, seed=n)
    check_pair(x, g)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["C", "F", "strided", "transposed", "3d"])
def test_layouts(dtype, layout):
    x, g = data(3 * 5 * 7 * 11, dtype)
    if layout == "C":
        x, g = x.reshape(33, 35), g.reshape(33, 35)
    elif layout == "F":
        x, g = np.asfortranarray(x.reshape(33, 35)), np.asfortranarray(g.reshape(33, 35))
    elif layout == "strided":
        x, g = x[::3], g[1::3]
    elif layout == "transposed":
        x, g = x.reshape(15, 77).T, g.reshape(77, 15)
    else:
        x, g = x.reshape(5, 7, 33), np.asfortranarray(g.reshape(5, 7, 33))
    check_pair(x, g)
    # the mask follows x's C order whatever its memory layout
    _, mask = rf.relu_mask(x)
    np.testing.assert_array_equal(mask, ref.relu_mask(np.ascontiguousarray(x))[1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("extra", [0, 1, 13, 511])
def test_threads_above_grain(dtype, threads, extra):
    n = 2 * GRAIN + extra
    x, g = data(n, dtype, seed=extra)
    with rf.limit_threads(threads):
        check_pair(x, g)
        y, mask = rf.relu_mask(x)
    np.testing.assert_array_equal(mask, ref.relu_mask(x)[1])


def test_every_level():
    x, g = data(GRAIN + 77, np.float32)
    before = rf.kernel_level()
    try:
        for level in _dispatch.available_levels():
            _api._use_level(level)
            check_pair(x, g)
            check_pair(x[:1001].astype(np.float64), g[:1001].astype(np.float64))
    finally:
        _api._use_level(before)


def test_reference_agrees():
    x, g = data(1001, np.float64)
    y, mask = ref.relu_mask(x)
    np.testing.assert_array_equal(rf.relu_mask(x)[1], mask)
    np.testing.assert_array_equal(ref.relu_backward_mask(g, mask), rf.relu_backward(g, x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_out_and_inplace(dtype):
    x, g = data(1000, dtype)
    want_y, want_mask = ref.relu_mask(x)
    out = np.empty_like(x)
    y, mask = rf.relu_mask(x, out=out)
    assert y is out
    np.testing.assert_array_equal(out, want_y)
    xc = x.copy()
    y, mask = rf.relu_mask(xc, out=xc)
    assert y is xc
    np.testing.assert_array_equal(xc, want_y)
    np.testing.assert_array_equal(mask, want_mask)
    # mask of the output = mask of the input
    np.testing.assert_array_equal(rf.relu_mask(want_y)[1], want_mask)
    gc = g.copy()
    r = rf.relu_backward_mask(gc, mask, out=gc)
    assert r is gc
    np.testing.assert_array_equal(gc, rf.relu_backward(g, x))
    fout = np.empty((25, 40), dtype=dtype, order="F")
    rf.relu_backward_mask(g.reshape(25, 40), mask, out=fout)
    np.testing.assert_array_equal(fout, rf.relu_backward(g, x).reshape(25, 40))


def test_memory_is_one_bit_per_element():
    for dtype in DTYPES:
        x = np.ones((100, 33), dtype=dtype)
        _, mask = rf.relu_mask(x)
        assert mask.nbytes == (x.size + 7) // 8
        assert x.nbytes // mask.nbytes >= 31


def test_errors_write_nothing():
    x, g = data(100, np.float32)
    _, mask = rf.relu_mask(x)
    out = np.full(100, 7.0, dtype=np.float32)
    with pytest.raises(TypeError, match="uint8"):
        rf.relu_backward_mask(g, mask.astype(np.int8), out=out)
    with pytest.raises(TypeError, match="uint8"):
        rf.relu_backward_mask(g, mask.view(bool), out=out)
    with pytest.raises(ValueError, match="bytes"):
        rf.relu_backward_mask(g, mask[:-1], out=out)
    with pytest.raises(ValueError, match="bytes"):
        rf.relu_backward_mask(g, np.concatenate([mask, mask[:1]]), out=out)
    with pytest.raises(TypeError, match="mask"):
        rf.relu_backward_mask(g, list(mask), out=out)
    with pytest.raises(TypeError, match="dtype"):
        rf.relu_backward_mask(np.arange(100, dtype=np.int32), mask, out=out)
    with pytest.raises(TypeError, match="out"):
        rf.relu_backward_mask(g, mask, out=np.empty(100, np.float64))
    with pytest.raises(ValueError, match="shape"):
        rf.relu_backward_mask(g, mask, out=np.empty(99, np.float32))
    assert np.all(out == 7.0)
    with pytest.raises(TypeError, match="dtype"):
        rf.relu_mask(np.arange(10))
    with pytest.raises(TypeError, match="dtype"):
        rf.relu_mask(x, out=np.empty(100, np.float64))
    with pytest.raises(ValueError, match="shape"):
        rf.relu_mask(x, out=out[:50])
    ro = np.zeros(100, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        rf.relu_mask(x, out=ro)
    assert np.all(out == 7.0) and np.all(ro == 0)


def test_array_likes():
    y, mask = rf.relu_mask([1.0, -2.0, float("nan")])
    assert y.dtype == np.float64
    assert np.unpackbits(mask, count=3, bitorder="little").tolist() == [1, 0, 1]
    np.testing.assert_array_equal(rf.relu_backward_mask([3.0, 4.0, 5.0], mask), [3.0, 0.0, 5.0])


def _child(n, q):
    x, g = data(n, np.float32, seed=3)
    y, mask = rf.relu_mask(x)
    q.put(bool(np.array_equal(rf.relu_backward_mask(g, mask), rf.relu_backward(g, x))))


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_forked_child_after_threads():
    import multiprocessing as mp
    n = 4 * GRAIN
    x, _ = data(n, np.float32)
    with rf.limit_threads(2):
        rf.relu_mask(x)                   # the parent has run a parallel region
        ctx = mp.get_context("fork")
        q = ctx.Queue()
        p = ctx.Process(target=_child, args=(n, q))
        p.start()
        p.join(60)
    if p.is_alive():
        p.kill()
        pytest.fail("relu_mask hung in a forked child")
    assert p.exitcode == 0 and q.get(timeout=5) is True


def test_backward_mask_out_sharing_the_masks_bytes():
    """An out that overlaps the mask's memory gets the same answer as a separate one."""
    r = np.random.default_rng(7)
    x = r.standard_normal(64).astype(np.float32)
    g = r.standard_normal(64).astype(np.float32)
    _, mask = rf.relu_mask(x)
    buf = np.zeros(8 + 64 * 4, dtype=np.uint8)
    m2 = buf[:8]
    m2[:] = mask
    out = buf[4:4 + 64 * 4].view(np.float32)   # out[0] covers mask bytes 4..7
    got = rf.relu_backward_mask(g, m2, out=out)
    assert got is out
    assert np.array_equal(out, rf.relu_backward(g, x))
