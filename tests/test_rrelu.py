"""rrelu's training mode: Philox4x32-10 against Random123's published known-answer vectors,
the slopes' distribution, and their independence from thread count, layout, kernel level,
blocks (dask's chunks) and dtype; the gradient regenerates the forward's slopes.

Expected values come from the published vectors (Random123's kat_vectors, philox4x32 10),
from hand-computed statistical bounds, or from another relu_fast call on the same element
indices -- never from the code under test's own formula.
"""
import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _api, _dispatch
from relu_fast import _reference as ref
from conftest import GRAIN, assert_same

LEVELS = _dispatch.available_levels()

# Random123 kat_vectors: "philox4x32 10" counter (4 words), key (2 words), result (4 words)
KAT = [
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
    ((0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), (0xffffffff, 0xffffffff),
     (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
    ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
     (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("counter, key, want", KAT)
def test_philox_known_answers_on_every_level(level, counter, key, want):
    assert _dispatch.load(level)._philox4x32_10(counter, key) == want


@pytest.mark.parametrize("counter, key, want", KAT)
def test_reference_philox_known_answers(counter, key, want):
    assert tuple(int(w) for w in ref.philox4x32_10(counter, key)) == want


def test_numpy_philox_is_another_generator():
    """numpy.random.Philox is Philox4x64-10 (64-bit words): no oracle for 4x32.  Its raw
    output for counter 0 / key 0 is not the 4x32 vector's words."""
    bg = np.random.Philox(counter=0, key=0)
    words = bg.random_raw(2)
    halves = {int(w) & 0xFFFFFFFF for w in words} | {int(w) >> 32 for w in words}
    assert not halves & set(KAT[0][2])


def u_of_words(words):
    """u = (word >> 8) / 2**24, from hex words written out above."""
    return np.array([(w >> 8) / 2.0**24 for w in words])


@pytest.mark.parametrize("level", LEVELS)
def test_slopes_are_the_known_answer_words(level, dtype):
    """seed 0, elements 0..3: counter 0, key 0 -- the first vector's words; lower = 0 and
    upper = 1 make the slope u itself."""
    _api._use_level(level)
    try:
        y = rf.rrelu(-np.ones(4, dtype), 0.0, 1.0, True, seed=0)
        g = rf.rrelu_backward(np.ones(4, dtype), -np.ones(4, dtype), 0.0, 1.0, True, seed=0)
    finally:
        _api._use_level(_dispatch.choose_level())
    want = u_of_words(KAT[0][2]).astype(dtype)
    assert_same(-y, want)
    assert_same(g, want)
    # an x of shape (2, 2) has the same four C-order indices
    assert_same(-rf.rrelu(-np.ones((2, 2), dtype), 0.0, 1.0, True, seed=0), want.reshape(2, 2))


def test_seed_is_the_key():
    """seed = key0 + 2**32 key1: seed 0x299f31d0_a4093822 at element index 4c + w uses
    counter (c, 0, 0, 0) under the pi-digits key; its first block (c = 0) checked against
    the reference's independent Philox."""
    seed = 0x299f31d0 << 32 | 0xa4093822
    want = ref.philox4x32_10((0, 0, 0, 0), (0xa4093822, 0x299f31d0))
    y = rf.rrelu(-np.ones(4), 0.0, 1.0, True, seed=seed)
    assert_same(-y, u_of_words([int(w) for w in want]))


def test_slope_distribution(dtype):
    """u over 10**6 elements: mean and variance within 6 standard errors of a uniform's
    (mean 1/2, variance 1/12: standard errors sqrt(1/12/n) = 2.9e-4 and sqrt(1/180/n) =
    7.5e-5), min >= lower, max < upper; as slopes of (lower, upper) = (1/8, 1/3) too."""
    n = 10**6
    u = -rf.rrelu(-np.ones(n, dtype), 0.0, 1.0, True, seed=2026).astype(np.float64)
    assert abs(u.mean() - 0.5) < 6 * np.sqrt(1 / 12 / n)
    assert abs(u.var() - 1 / 12) < 6 * np.sqrt(1 / 180 / n)
    assert u.min() >= 0 and u.max() < 1
    assert np.all(u * 2**24 == np.floor(u * 2**24))          # 24-bit multiples
    assert len(np.unique(u)) > 0.96 * n                      # ~ n (1 - n / 2**25) distinct
    lo, hi = dtype(1 / 8), dtype(1 / 3)
    s = -rf.rrelu(-np.ones(n, dtype), 1 / 8, 1 / 3, True, seed=7)
    assert s.min() >= lo and s.max() < hi
    mean = (1 / 8 + 1 / 3) / 2
    assert abs(s.astype(np.float64).mean() - mean) < 6 * (1 / 3 - 1 / 8) * np.sqrt(1 / 12 / n)
    # neighbouring elements, and the same element under neighbouring seeds, are uncorrelated
    u2 = -rf.rrelu(-np.ones(n, dtype), 0.0, 1.0, True, seed=2027).astype(np.float64)
    for a, b in ((u[1:], u[:-1]), (u[4:], u[:-4]), (u, u2)):
        assert abs(np.corrcoef(a, b)[0, 1]) < 6 / np.sqrt(n)


def test_slopes_stay_below_upper_where_rounding_reaches_it():
    """float32 [1, 1 + 2**-23): 1 + 2**-23 u rounds to upper for u > 1/2; the slope is
    capped at the largest float32 below upper, which is lower: every slope is 1.  In
    float64 the same u give slopes strictly inside."""
    up = float(np.nextafter(np.float32(1), np.float32(2)))
    s32 = -rf.rrelu(-np.ones(10**5, np.float32), 1.0, up, True, seed=1)
    assert np.all(s32 == 1.0)
    s64 = -rf.rrelu(-np.ones(10**5), 1.0, up, True, seed=1)
    assert s64.min() >= 1.0 and s64.max() < up and np.mean(s64 > 1.0) > 0.99
    # lower == upper: that slope exactly
    assert np.all(rf.rrelu(-np.ones(100), 0.2, 0.2, True, seed=1) == -0.2)


def test_float32_and_float64_draw_the_same_u():
    a = -rf.rrelu(-np.ones(5000, np.float32), 0.0, 1.0, True, seed=11)
    b = -rf.rrelu(-np.ones(5000, np.float64), 0.0, 1.0, True, seed=11)
    assert np.array_equal(a.astype(np.float64), b)


def test_seeds_give_different_slopes():
    x = -np.ones(1000)
    ys = [rf.rrelu(x, training=True, seed=s) for s in (0, 1, 2**32, 2**64 - 1)]
    for i in range(len(ys)):
        for j in range(i):
            assert np.mean(ys[i] == ys[j]) < 0.01
    assert_same(rf.rrelu(x, training=True, seed=5), rf.rrelu(x, training=True, seed=5))


def slopes(shape, dtype, lo=0.1, hi=0.4, seed=99):
    """Each element's slope, read from rrelu itself at x = -1 (exact: s * -1)."""
    return -rf.rrelu(-np.ones(shape, dtype), lo, hi, True, seed=seed)


def mixed(shape, dtype, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    flat[:8] = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-40 if dtype == np.float32 else 1e-310,
                -3.0, 2.0]
    return x


def test_positive_side_unchanged_and_the_rest_times_the_slope(dtype):
    shape = (33, 101)
    x = mixed(shape, dtype)
    s = slopes(shape, dtype)
    y = rf.rrelu(x, 0.1, 0.4, True, seed=99)
    with np.errstate(all="ignore"):
        assert_same(y, np.where(x <= 0, x * s, x))
    assert_same(y[x > 0], x[x > 0])
    assert np.isnan(y.reshape(-1)[2]) and y.reshape(-1)[3] == np.inf
    assert y.reshape(-1)[4] == -np.inf and np.signbit(y.reshape(-1)[1]) and not np.signbit(y.reshape(-1)[0])
    assert np.all((s >= dtype(0.1)) & (s < dtype(0.4)))


def test_backward_is_the_slope_times_g(dtype):
    shape = (33, 101)
    x = mixed(shape, dtype)
    g = np.random.default_rng(3).standard_normal(shape).astype(dtype)
    s = slopes(shape, dtype)
    gx = rf.rrelu_backward(g, x, 0.1, 0.4, True, seed=99)
    # g * s where x <= 0; g where x > 0 or NaN (the forward passed those unchanged)
    with np.errstate(all="ignore"):
        assert_same(gx, np.where(x <= 0, g * s, g))
    assert gx.reshape(-1)[2] == g.reshape(-1)[2]
    # the gradient of a forward with this seed: y = x * (dy/dx) on finite x
    y = rf.rrelu(x, 0.1, 0.4, True, seed=99)
    ones = rf.rrelu_backward(np.ones(shape, dtype), x, 0.1, 0.4, True, seed=99)
    fin = np.isfinite(x)
    assert_same(y[fin], (x * ones)[fin])


def _layouts(x):
    yield "C", x
    yield "F", np.asfortranarray(x)
    yield "strided", np.repeat(x, 2, axis=-1)[..., ::2]
    yield "negative", x[::-1, ::-1].copy()[::-1, ::-1]
    yield "transposed_copy", np.ascontiguousarray(x.T).T
    yield "swapped", x.astype(x.dtype.newbyteorder(">"))


@pytest.mark.parametrize("training", [True, False])
def test_the_same_for_every_layout_out_and_in_place(dtype, training):
    shape = (61, 257)
    x = mixed(shape, dtype)
    g = np.random.default_rng(4).standard_normal(shape).astype(dtype)
    kw = dict(lower=0.1, upper=0.4, training=training, seed=99)
    want = rf.rrelu(x, **kw)
    want_g = rf.rrelu_backward(g, x, **kw)
    for name, xl in _layouts(x):
        assert_same(rf.rrelu(xl, **kw), want)
        assert_same(rf.rrelu_backward(g, xl, **kw), want_g)
        for _, gl in _layouts(g):
            assert_same(rf.rrelu_backward(gl, xl, **kw), want_g)
    for order in "CF":
        out = np.zeros(shape, dtype, order=order)
        assert rf.rrelu(x, out=out, **kw) is out
        assert_same(out, want)
        out = np.zeros(shape, dtype, order=order)
        assert rf.rrelu_backward(g, x, out=out, **kw) is out
        assert_same(out, want_g)
    xi = x.copy()
    rf.rrelu(xi, out=xi, **kw)
    assert_same(xi, want)
    xf = np.asfortranarray(x)
    rf.rrelu(xf, out=xf, **kw)
    assert_same(xf, want)
    gi = g.copy()
    rf.rrelu_backward(gi, x, out=gi, **kw)
    assert_same(gi, want_g)


@pytest.mark.parametrize("n", [3 * GRAIN + 5, 1_000_003])
def test_the_same_for_any_thread_count_and_level(dtype, n):
    x = mixed((n,), dtype)
    g = np.random.default_rng(5).standard_normal(n).astype(dtype)
    kw = dict(lower=0.1, upper=0.4, training=True, seed=2**63 + 12345)
    want = ref.rrelu(x, **kw)
    want_g = ref.rrelu_backward(g, x, **kw)
    try:
        for level in LEVELS:
            _api._use_level(level)
            for nt in (1, 2, 3):
                with rf.limit_threads(nt):
                    assert_same(rf.rrelu(x, **kw), want)
                    assert_same(rf.rrelu_backward(g, x, **kw), want_g)
    finally:
        _api._use_level(_dispatch.choose_level())


def test_streaming_path_keeps_the_indices(dtype):
    """Large outputs go through the buffered streaming stores; the indices carry over."""
    mod = _dispatch.load(rf.kernel_level())
    previous = mod._stream_threshold(0)
    try:
        x = mixed((10_007,), dtype)
        for nt in (1, 2):
            with rf.limit_threads(nt):
                assert_same(rf.rrelu(x, 0.1, 0.4, True, seed=3),
                            ref.rrelu(x, 0.1, 0.4, True, seed=3))
    finally:
        mod._stream_threshold(previous)


BLOCKS = [
    ((5, 7), (0, 0), (5, 7)),        # the whole array
    ((5, 7), (2, 0), (3, 7)),        # whole rows: one run
    ((5, 7), (1, 2), (3, 4)),        # a window: a run per row
    ((4, 5, 6), (1, 2, 3), (2, 2, 3)),
    ((4, 5, 6), (1, 0, 0), (2, 5, 6)),
    ((4, 5, 6), (0, 1, 0), (4, 3, 6)),
    ((4, 5, 6), (3, 4, 5), (1, 1, 1)),
    ((4, 5, 6), (0, 0, 0), (0, 5, 6)),  # empty
    ((), (), ()),
    ((9,), (3,), (5,)),
]


@pytest.mark.parametrize("shape, origin, block", BLOCKS, ids=str)
def test_a_block_has_its_indices_in_the_whole_array(shape, origin, block, dtype):
    x = mixed(shape, dtype) if np.prod(shape) >= 8 else np.full(shape, -2.0, dtype)
    g = np.random.default_rng(6).standard_normal(shape).astype(dtype)
    sl = tuple(slice(o, o + b) for o, b in zip(origin, block))
    kw = dict(lower=0.1, upper=0.4, training=True, seed=77)
    whole = rf.rrelu(x, **kw)
    whole_g = rf.rrelu_backward(g, x, **kw)
    got = _api._rrelu_block(x[sl], kw["lower"], kw["upper"], True, 77, shape, origin)
    assert_same(got, whole[sl])
    got_g = _api._rrelu_backward_block(g[sl], x[sl], 0.1, 0.4, True, 77, shape, origin)
    assert_same(got_g, whole_g[sl])


def test_a_block_far_into_a_huge_array():
    """Indices beyond 2**32 (the counter's second word) from a block's origin alone."""
    shape = (2**20, 2**20, 8)
    origin = (2**19 + 3, 2**20 - 1, 0)
    got = _api._rrelu_block(-np.ones((1, 1, 8)), 0.0, 1.0, True, 4, shape, origin)
    first = (origin[0] * 2**20 + origin[1]) * 8
    c = first // 4
    words = [ref.philox4x32_10((c + k & 0xFFFFFFFF, c + k >> 32, 0, 0), (4, 0)) for k in (0, 1)]
    want = u_of_words([int(w) for b in words for w in b])
    assert_same(-got.reshape(-1), want)


def test_a_block_must_fit():
    with pytest.raises(ValueError, match="does not fit"):
        _api._rrelu_block(np.ones((2, 3)), 0.1, 0.3, True, 1, (4, 4), (3, 0))
    with pytest.raises(ValueError, match="2\\*\\*53"):
        _api._rrelu_block(np.ones((1, 1)), 0.1, 0.3, True, 1, (2**27, 2**27), (0, 0))
