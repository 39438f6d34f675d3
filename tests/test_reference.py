"""Every public function against relu_fast._reference (the plain NumPy spec): both
dtypes, every shape and memory layout, thread counts 1 and 2, sizes around the grain.

Exact (bit-for-bit, NaN == NaN, signs of zeros) except ELU (<= 2 ulp of a wider
reference) and PReLU's weight gradient (a float64 sum: tight relative tolerance).
"""
import numpy as np
import pytest

import relu_fast as rf
from conftest import FUNCS, GRAIN, assert_same, compare, rand, special

# ---------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------

SHAPES = [(), (0,), (3, 0, 2), (1,), (7,), (1003,), (4, 5), (2, 3, 4, 5), (1, 1, 1), (3, 1, 2)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", FUNCS)
def test_shapes(name, shape, dtype):
    x = rand(shape, dtype, seed=1, zeros=True)
    g = rand(shape, dtype, seed=2)
    got = compare(name, x, g)
    if shape == ():
        got = got[0] if isinstance(got, tuple) else got
        assert isinstance(got, np.ndarray) and got.ndim == 0


@pytest.mark.parametrize("name", FUNCS)
def test_special_values_against_reference(name, dtype):
    s = special(dtype)
    if name == "elu_backward" and dtype == np.float64:
        # the reference's exp is long double: for x < -745 exp(x) underflows in float64
        # (the kernel's precision) but not in the reference; test_special covers it
        s = s[~(s < -700)]
    x = np.repeat(s, s.size)            # every special x ...
    g = np.tile(s, s.size)              # ... against every special grad
    compare(name, x, g)
    compare(name, x.reshape(s.size, s.size), g.reshape(s.size, s.size), axis=1)
    compare(name, x.reshape(s.size, s.size), g.reshape(s.size, s.size), axis=-1)


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("slope_alpha", [0.0, -0.3, 1.0, 2.5, 1e-30])
def test_parameters(name, slope_alpha, dtype):
    x = rand((257,), dtype, seed=3, zeros=True)
    g = rand((257,), dtype, seed=4)
    if name == "elu_backward_result" and slope_alpha < 0:
        pytest.skip("is_result needs alpha >= 0 (tested in test_errors)")
    if name.startswith("celu") and slope_alpha <= 0:
        pytest.skip("celu needs alpha > 0 (tested in test_errors)")
    w = np.array(slope_alpha, dtype=dtype)
    compare(name, x, g, w=w, slope=slope_alpha, alpha=slope_alpha)


# ---------------------------------------------------------------------------
# Layouts
# ---------------------------------------------------------------------------

def misaligned(a):
    """A copy of `a` whose data pointer is odd (np.frombuffer on bytes offset by 1)."""
    a = np.ascontiguousarray(a)
    buf = bytearray(a.nbytes + 1)
    b = np.frombuffer(buf, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    b[...] = a
    assert not b.flags.aligned
    return b


def misaligned_readonly(a):
    a = np.ascontiguousarray(a)
    b = np.frombuffer(b"\0" + a.tobytes(), dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    assert not b.flags.aligned and not b.flags.writeable
    return b


SHAPE = (6, 5, 7)


def layout(kind, dtype, seed):
    """An array of SHAPE in memory layout `kind`, with the values of rand(SHAPE)."""
    base = rand(SHAPE, dtype, seed=seed, zeros=True)
    if kind == "C":
        a = base
    elif kind == "F":
        a = np.asfortranarray(base)
        assert a.flags.f_contiguous and not a.flags.c_contiguous
    elif kind == "strided":
        big = np.zeros((12, 5, 21), dtype)
        big[::2, :, ::3] = base
        a = big[::2, :, ::3]
    elif kind == "negative":
        big = np.zeros((6, 5, 14), dtype)
        big[::-1, :, ::-2] = base
        a = big[::-1, :, ::-2]
    elif kind == "transposed":
        a = np.ascontiguousarray(base.transpose(2, 0, 1)).transpose(1, 2, 0)
    elif kind == "misaligned":
        a = misaligned(base)
    elif kind == "misaligned_ro":
        a = misaligned_readonly(base)
    elif kind == "bigendian":
        a = base.astype(np.dtype(dtype).newbyteorder(">"))
        assert not a.dtype.isnative
    elif kind == "broadcast":
        # a zero-stride view: every row is the same
        a = np.broadcast_to(base[:1], SHAPE)
        return a
    else:
        raise AssertionError(kind)
    np.testing.assert_array_equal(a, base)
    return a


LAYOUTS = ["C", "F", "strided", "negative", "transposed", "misaligned", "misaligned_ro", "bigendian",
           "broadcast"]


@pytest.mark.parametrize("kind", LAYOUTS)
@pytest.mark.parametrize("name", FUNCS)
def test_layouts(name, kind, dtype):
    x = layout(kind, dtype, seed=5)
    g = layout(kind, dtype, seed=6)
    keep_x, keep_g = np.array(x), np.array(g)
    compare(name, x, g)
    if name.startswith("prelu"):
        compare(name, x, g, axis=-1)
        compare(name, x, g, axis=0)
    np.testing.assert_array_equal(x, keep_x)       # inputs untouched
    np.testing.assert_array_equal(g, keep_g)


@pytest.mark.parametrize("kx, kg", [("C", "F"), ("F", "C"), ("F", "negative"), ("misaligned", "bigendian"),
                                    ("bigendian", "strided"), ("transposed", "F")])
@pytest.mark.parametrize("name", [n for n in FUNCS if "backward" in n])
def test_mixed_layouts(name, kx, kg, dtype):
    x = layout(kx, dtype, seed=5)
    g = layout(kg, dtype, seed=6)
    compare(name, x, g)
    if name.startswith("prelu"):
        compare(name, x, g, axis=-1)


@pytest.mark.parametrize("name", FUNCS)
def test_fortran_prelu_channels(name, dtype):
    """F order with a channel axis in the middle and at either end."""
    x = np.asfortranarray(rand((3, 4, 5, 6), dtype, seed=8, zeros=True))
    g = np.asfortranarray(rand((3, 4, 5, 6), dtype, seed=9))
    for axis in (0, 1, 2, 3, -1, -4):
        compare(name, x, g, axis=axis)


# ---------------------------------------------------------------------------
# Around the grain, with 1 and 2 threads
# ---------------------------------------------------------------------------

GRAIN_SHAPES = [(GRAIN - 1,), (GRAIN,), (GRAIN + 1,), (GRAIN + 130,), (3, 4, (GRAIN // 12) + 5),
                ((GRAIN // 3) + 7, 3)]


@pytest.mark.parametrize("nthreads", [1, 2])
@pytest.mark.parametrize("shape", GRAIN_SHAPES, ids=str)
@pytest.mark.parametrize("name", FUNCS)
def test_around_grain(name, shape, nthreads, dtype):
    x = rand(shape, dtype, seed=10, zeros=True)
    x.reshape(-1)[::1001] = np.nan
    g = rand(shape, dtype, seed=11)
    with rf.limit_threads(nthreads):
        assert rf.get_num_threads() <= nthreads
        compare(name, x, g, axis=1 if len(shape) != 2 else -1)


@pytest.mark.parametrize("name", FUNCS)
def test_thread_count_does_not_change_results(name, dtype):
    """Bit-identical results (PReLU's weight gradient included) for 1 and 2 threads."""
    shape = (2, 5, 2 * GRAIN // 5 + 3)
    x = rand(shape, dtype, seed=12, zeros=True)
    g = rand(shape, dtype, seed=13)
    results = []
    for n in (1, 2, 1):
        with rf.limit_threads(n):
            r = compare(name, x, g)
        results.append(r if isinstance(r, tuple) else (r,))
    for r in results[1:]:
        for a, b in zip(results[0], r):
            assert_same(a, b)


@pytest.mark.parametrize("nthreads", [1, 2])
@pytest.mark.parametrize("shape, axis", [((1, 2, 16383), 1), ((1, 2, 16384), 1), ((2, 3, 16385), 1),
                                         ((1, 1, 3 * 16384 + 1), 1), ((2, 16385, 2), -1),
                                         ((16385, 3), 0)], ids=str)
@pytest.mark.parametrize("name", ["prelu", "prelu_backward"])
def test_prelu_segment_boundaries(name, shape, axis, nthreads, dtype):
    """PReLU splits a channel's run into segments of 16384: lengths around that."""
    x = rand(shape, dtype, seed=14, zeros=True)
    g = rand(shape, dtype, seed=15)
    with rf.limit_threads(nthreads):
        compare(name, x, g, axis=axis)


@pytest.mark.parametrize("nthreads", [1, 2])
@pytest.mark.parametrize("shape, axis", [((3, 4, 15), 1), ((3, 4, 16), 1), ((3, 4, 17), 1), ((2, 5, 33), 1),
                                         ((8191, 1), 0), ((2, 4096, 1), 1), ((2, 4097, 1), 1),
                                         ((40, 256), -1), ((40, 257), -1), ((4, 300, 7), 1)], ids=str)
def test_prelu_backward_run_lengths_and_parts(shape, axis, nthreads, dtype):
    """Runs shorter / longer than the 16 summing lanes, one part or several (from 8192
    elements), float32 sums on the stack (<= 256 channels) or in an array."""
    x = rand(shape, dtype, seed=16, zeros=True)
    g = rand(shape, dtype, seed=17)
    with rf.limit_threads(nthreads):
        compare("prelu_backward", x, g, axis=axis)


@pytest.mark.parametrize("shape, axis", [((600, 7, 2), 1), ((100, 10, 3, 3), 1), ((40, 15, 15), 1),
                                         ((30, 2, 10, 14), 2), ((2, 300, 15), 1), ((1, 1000, 9), 1),
                                         ((600, 7, 16), 1), ((455, 6, 3), 1), ((330, 3, 3, 3), 1),
                                         ((331, 3, 3, 3), 1), ((3000, 4), -1), ((1000, 10), 1),
                                         ((9000, 2), -1), ((500, 63), -1), ((500, 64), -1),
                                         ((2, 5000), 1)], ids=str)
def test_prelu_as_rows(shape, axis, dtype):
    """From 8192 elements, channel runs of 2-15 elements and rows of fewer than 64 values
    go to the kernels as rows of k source rows with the weights repeated, the rows left
    over (outer % k) in a second call (levels with AVX2 and up); runs of 16, rows of 64,
    8190 elements and fewer than two rows stay as they are.  Each agrees with the
    reference, and grad_weight is the same bit for bit with one thread or two."""
    x = rand(shape, dtype, seed=18, zeros=True)
    g = rand(shape, dtype, seed=19)
    w = rand((shape[axis],), dtype, seed=20)
    results = []
    for n in (1, 2):
        with rf.limit_threads(n):
            compare("prelu", x, g, w=w, axis=axis)
            results.append(compare("prelu_backward", x, g, w=w, axis=axis))
    for a, b in zip(results[0], results[1]):
        assert_same(a, b)


@pytest.mark.parametrize("shape, axis", [((2, 3, 0), 1), ((0, 3, 4), 1), ((0, 3), 1), ((4, 0, 3), 0), ((0,), 0)],
                         ids=str)
@pytest.mark.parametrize("name", ["prelu", "prelu_backward"])
def test_prelu_empty_inputs(name, shape, axis, dtype):
    """No elements: empty results and a zero weight gradient (no runs, no segments)."""
    x = np.zeros(shape, dtype)
    g = np.zeros(shape, dtype)
    for nthreads in (1, 2):
        with rf.limit_threads(nthreads):
            compare(name, x, g, axis=axis)
