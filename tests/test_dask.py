"""Every function on dask arrays, computed by a LocalCluster with worker processes,
equals the NumPy result; results stay lazy and keep the input's chunks."""
import logging

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")

import relu_fast as rf  # noqa: E402
from relu_fast import _reference as ref  # noqa: E402
from conftest import HALF_DTYPES  # noqa: E402

CHUNKS = (7, 3, 8)


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        with distributed.Client(cluster) as c:
            yield c


# the sums' tolerance: partial sums in another order, rounded to the dtype
RTOL = {4: 1e-5, 8: 1e-12, 2: 1e-2}


@pytest.fixture(scope="module", params=(np.float32, np.float64) + HALF_DTYPES,
                ids=lambda d: np.dtype(d).name)
def arrays(request):
    dtype = request.param
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 6, 17)).astype(dtype)
    x[0, 0, :4] = [0.0, -0.0, np.nan, -np.inf]
    g = rng.standard_normal(x.shape).astype(dtype)
    return x, g, da.from_array(x, chunks=CHUNKS), da.from_array(g, chunks=CHUNKS)


def lazy(a, like):
    assert isinstance(a, da.Array)
    assert a.chunks == like.chunks            # chunk for chunk, no rechunk
    return a


def test_elementwise(client, arrays):
    x, g, X, G = arrays
    cases = [
        (rf.relu(X), rf.relu(x)),
        (rf.relu_backward(G, X), rf.relu_backward(g, x)),
        (rf.relu_backward(G, x), rf.relu_backward(g, x)),          # NumPy x beside dask grad
        (rf.leaky_relu(X, 0.2), rf.leaky_relu(x, 0.2)),
        (rf.leaky_relu_backward(G, X, 0.2), rf.leaky_relu_backward(g, x, 0.2)),
        (rf.elu(X, 1.5), rf.elu(x, 1.5)),
        (rf.elu_backward(G, X, 1.5), rf.elu_backward(g, x, 1.5)),
        (rf.elu_backward(G, rf.elu(X), 1.5, is_result=True), rf.elu_backward(g, rf.elu(x), 1.5, is_result=True)),
    ]
    got = client.compute([lazy(c[0], X) for c in cases], sync=True)
    for r, (_, want) in zip(got, cases):
        assert r.dtype == x.dtype
        np.testing.assert_array_equal(r, want)
    np.testing.assert_array_equal(got[0], ref.relu(x))


@pytest.mark.parametrize("axis", [1, -1, 0])
def test_prelu(client, arrays, axis):
    x, g, X, G = arrays
    w = np.linspace(-0.5, 2.0, x.shape[axis]).astype(x.dtype)
    y = lazy(rf.prelu(X, w, axis=axis), X)
    gx, gw = rf.prelu_backward(G, X, w, axis=axis)
    lazy(gx, X)
    y, gx, gw = client.compute([y, gx, gw], sync=True)
    np.testing.assert_array_equal(y, rf.prelu(x, w, axis=axis))
    want_gx, want_gw = rf.prelu_backward(g, x, w, axis=axis)
    np.testing.assert_array_equal(gx, want_gx)
    # per-chunk partial sums in another order: equal up to the rounding of the sums
    assert gw.shape == w.shape and gw.dtype == x.dtype
    np.testing.assert_allclose(gw.astype(np.float64),
                               ref.prelu_backward(g, x, w, axis=axis)[1].astype(np.float64),
                               rtol=RTOL[x.dtype.itemsize])
    if x.dtype.itemsize == 2:            # a float32 weight for 16-bit x: float32 gradient
        w32 = w.astype(np.float32)
        gx, gw = client.compute(list(rf.prelu_backward(G, X, w32, axis=axis)), sync=True)
        np.testing.assert_array_equal(gx, want_gx)
        assert gw.dtype == np.float32
        np.testing.assert_allclose(gw, ref.prelu_backward(g, x, w32, axis=axis)[1], rtol=1e-5)


def test_prelu_one_alpha(client, arrays):
    x, g, X, G = arrays
    for w in (np.asarray(0.3, dtype=x.dtype), np.array([0.3], dtype=x.dtype)):
        y, (gx, gw) = client.compute([rf.prelu(X, w), rf.prelu_backward(G, X, w)], sync=True)
        np.testing.assert_array_equal(y, rf.prelu(x, w))
        want_gx, want_gw = rf.prelu_backward(g, x, w)
        np.testing.assert_array_equal(gx, want_gx)
        assert gw.shape == w.shape
        np.testing.assert_allclose(gw.astype(np.float64), want_gw.astype(np.float64),
                                   rtol=RTOL[x.dtype.itemsize])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_relu_stats(client, arrays, axis):
    x, g, X, G = arrays
    y, frac = rf.relu_stats(X, axis=axis)
    lazy(y, X)
    y, frac = client.compute([y, frac], sync=True)
    np.testing.assert_array_equal(y, ref.relu(x))
    others = tuple(k for k in range(3) if k != axis % 3)
    np.testing.assert_array_equal(frac, np.count_nonzero(x > 0, axis=others) / (x.size / x.shape[axis]))


def test_errors_are_eager():
    X = da.from_array(np.arange(12).reshape(3, 4), chunks=2)
    F = da.from_array(np.ones((3, 4), np.float32), chunks=2)
    with pytest.raises(TypeError, match="float32"):
        rf.relu(X)
    with pytest.raises(TypeError, match="out="):
        rf.relu(F, out=np.empty((3, 4), np.float32))
    with pytest.raises(ValueError, match="shape"):
        rf.relu_backward(F, da.ones((4, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="negative_slope"):
        rf.leaky_relu(F, "0.1")
    with pytest.raises(ValueError, match="channels"):
        rf.prelu(F, np.ones(3, np.float32), axis=1)
    with pytest.raises(ValueError, match="axis"):
        rf.relu_stats(F, axis=2)
    with pytest.raises(TypeError, match="dask"):
        rf.relu_mask(F)


def test_other_dask_collections_are_refused():
    bag = pytest.importorskip("dask.bag")
    b = bag.from_sequence([1.0, 2.0])
    with pytest.raises(TypeError, match="dask.array.Array"):
        rf.relu(b)


# -- issue 12 ---------------------------------------------------------------------

def rows_where(x, keep, chunks):
    """(x[keep] eagerly, X[keep] lazily: unknown row chunk sizes) with X chunked by `chunks`."""
    X = da.from_array(x, chunks=chunks)
    Y = X[da.from_array(keep, chunks=(X.chunks[0],))]
    assert np.isnan(Y.shape[0])
    return x[keep], Y


def sample(shape, dtype=np.float64, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("axis", [1, -1, 0])
def test_relu_stats_chunk_of_zero_rows(client, axis):
    """issue 12 item 1: a chunk of zero rows (compute_chunk_sizes after boolean
    indexing) gives the NumPy fractions, not a NaN count cast to int64."""
    x = sample((12, 5))
    keep = np.ones(12, bool)
    keep[4:8] = False                         # the middle chunk keeps no rows
    want_x, Y = rows_where(x, keep, (4, 2))
    Y = Y.compute_chunk_sizes()
    assert Y.chunks[0] == (4, 0, 4)
    y, frac = client.compute(list(rf.relu_stats(Y, axis=axis)), sync=True)
    np.testing.assert_array_equal(y, ref.relu(want_x))
    want = rf.relu_stats(want_x, axis=axis)[1]
    assert np.all((want >= 0) & (want <= 1))
    np.testing.assert_array_equal(frac, want)


@pytest.mark.parametrize("axis", [1, -1, 0])
def test_relu_stats_unknown_chunk_sizes(client, axis):
    """issue 12 item 1: unknown chunk sizes (X[mask]) give the NumPy fractions, not NaN."""
    x = sample((12, 5))
    want_x, Y = rows_where(x, x[:, 0] > 0, (4, 2))
    y, frac = client.compute(list(rf.relu_stats(Y, axis=axis)), sync=True)
    np.testing.assert_array_equal(y, ref.relu(want_x))
    want = rf.relu_stats(want_x, axis=axis)[1]
    assert not np.isnan(want).any()
    np.testing.assert_array_equal(frac, want)
    np.testing.assert_array_equal(frac, ref.relu_stats(want_x, axis=axis)[1])


def test_relu_stats_all_rows_dropped(client):
    """issue 12 item 1 (a guard: the old code gave NaN here too): no rows left (known
    or unknown chunk sizes) gives NaN per channel, as NumPy does."""
    x = sample((12, 5))
    want_x, Y = rows_where(x, np.zeros(12, bool), (4, 2))
    want = rf.relu_stats(want_x, axis=1)[1]
    assert want.shape == (5,) and np.isnan(want).all()
    for lazy_y in (Y, Y.compute_chunk_sizes()):
        y, frac = client.compute(list(rf.relu_stats(lazy_y, axis=1)), sync=True)
        assert y.shape == (0, 5)
        np.testing.assert_array_equal(frac, want)


def test_relu_stats_default_axis_is_1(client, arrays):
    """issue 12 item 1: the default channel axis is 1, as for the NumPy relu_stats
    (relu_fast._dask.relu_stats' own default too, not only through rf.relu_stats)."""
    from relu_fast import _dask
    x, g, X, G = arrays
    want = ref.relu_stats(x, axis=1)[1]
    np.testing.assert_array_equal(rf.relu_stats(x)[1], want)
    for frac in (rf.relu_stats(X)[1], _dask.relu_stats(X)[1]):
        assert frac.shape == (x.shape[1],)
        np.testing.assert_array_equal(frac.compute(), want)


def two_row_chunks(x0, g0):
    """float32 (g, x, G, X): 4 rows in 2 row chunks, 2 channels; channel 0 holds x0 and
    g0, channel 1 positive x (no weight gradient)."""
    x = np.array([[a, 2.0] for a in x0], dtype=np.float32)
    g = np.array([[b, 1.0] for b in g0], dtype=np.float32)
    return g, x, da.from_array(g, chunks=(2, 2)), da.from_array(x, chunks=(2, 2))


def check_prelu_grad_weight(client, g, x, G, X, want0):
    for w in (np.array([0.25, 0.5], np.float32), np.float32(0.25)):
        gx, gw = client.compute(list(rf.prelu_backward(G, X, w)), sync=True)
        want_gx, want_gw = rf.prelu_backward(g, x, w)
        assert want_gw.reshape(-1)[0] == want0
        np.testing.assert_array_equal(ref.prelu_backward(g, x, w)[1], want_gw)
        np.testing.assert_array_equal(gx, want_gx)
        assert gw.dtype == np.float32 and gw.shape == np.shape(w)
        np.testing.assert_array_equal(gw, want_gw)


def test_prelu_backward_float32_sums_cancel(client):
    """issue 12 item 5: float32 grad_weight from float64 partials rounded once: the
    chunks' sums 2**25 + 1 and -(2**25 + 2) (2**25 and -2**25 in float32) add up to
    -1, not 0."""
    g, x, G, X = two_row_chunks([-1.0] * 4, [-2.0**25, -1.0, 2.0**25, 2.0])
    check_prelu_grad_weight(client, g, x, G, X, -1.0)


def test_prelu_backward_float32_partials_do_not_overflow(client):
    """issue 12 item 5: chunk sums beyond float32 (6e38 and -6e38) add up to 0 as in
    NumPy, not inf - inf = NaN."""
    g, x, G, X = two_row_chunks([-3e38] * 4, [-1.0, -1.0, 1.0, 1.0])
    check_prelu_grad_weight(client, g, x, G, X, 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chunks_of_zero_size(client, dtype):
    """issue 12 item 7a: chunks with no channels along the axis (and zero-size chunks
    on the other axis) give the NumPy results for prelu, prelu_backward, relu_stats
    and the elementwise functions."""
    x, g = sample((4, 5), dtype), sample((4, 5), dtype, seed=2)
    chunkings = [((4,), (0, 5)), ((0, 2, 0, 2), (0, 3, 0, 2))]
    for chunks in chunkings:
        X, G = da.from_array(x, chunks=chunks), da.from_array(g, chunks=chunks)
        for axis, w in ((1, np.linspace(-0.5, 2, 5)), (0, np.linspace(-0.5, 2, 4)),
                        (1, 0.3)):
            w = np.asarray(w, dtype)
            y, gx, gw = client.compute([rf.prelu(X, w, axis=axis),
                                        *rf.prelu_backward(G, X, w, axis=axis)], sync=True)
            np.testing.assert_array_equal(y, rf.prelu(x, w, axis=axis))
            want_gx, want_gw = rf.prelu_backward(g, x, w, axis=axis)
            np.testing.assert_array_equal(gx, want_gx)
            np.testing.assert_allclose(gw, want_gw, rtol=1e-6 if dtype == np.float32 else 1e-14)
        for axis in (0, 1):
            y, frac = client.compute(list(rf.relu_stats(X, axis=axis)), sync=True)
            np.testing.assert_array_equal(y, ref.relu(x))
            np.testing.assert_array_equal(frac, rf.relu_stats(x, axis=axis)[1])
        got = client.compute([rf.relu(X), rf.relu_backward(G, X), rf.leaky_relu_backward(G, X, 0.2),
                              rf.elu_backward(G, X, 1.5)], sync=True)
        for r, want in zip(got, [rf.relu(x), rf.relu_backward(g, x),
                                 rf.leaky_relu_backward(g, x, 0.2), rf.elu_backward(g, x, 1.5)]):
            np.testing.assert_array_equal(r, want)


def test_prelu_refuses_unknown_channel_chunks():
    """issue 12 item 7b: unknown chunk sizes along the channel axis raise a clear
    ValueError at call time (prelu and prelu_backward)."""
    x = sample((12, 5))
    _, Y = rows_where(x, x[:, 0] > 0, (4, 5))
    w = np.ones(3)                            # the channel count is unknown
    msg = r"unknown chunk sizes along the channel axis 0; call x.compute_chunk_sizes\(\) first"
    with pytest.raises(ValueError, match=msg):
        rf.prelu(Y, w, axis=0)
    with pytest.raises(ValueError, match=msg):
        rf.prelu_backward(Y, Y, w, axis=0)
    # after compute_chunk_sizes it computes, and one alpha needs no channel count
    Yk = Y.compute_chunk_sizes()
    w = np.linspace(-0.5, 2, Yk.shape[0])
    np.testing.assert_array_equal(rf.prelu(Yk, w, axis=0).compute(),
                                  rf.prelu(Yk.compute(), w, axis=0))
    np.testing.assert_array_equal(rf.prelu(Y, 0.3, axis=0).compute(), rf.prelu(Yk.compute(), 0.3))


def test_prelu_unknown_row_chunks(client):
    """issue 12 item 7b: unknown chunk sizes along other axes than the channel axis
    (boolean row indexing) keep working."""
    x, g = sample((12, 5)), sample((12, 5), seed=2)
    keep = x[:, 0] > 0
    want_x, Y = rows_where(x, keep, (4, 2))
    want_g, H = rows_where(g, keep, (4, 2))
    w = np.linspace(-0.5, 2, 5)
    for axis, ww in ((1, w), (-1, w), (1, 0.3)):
        y, gx, gw = client.compute([rf.prelu(Y, ww, axis=axis),
                                    *rf.prelu_backward(H, Y, ww, axis=axis)], sync=True)
        np.testing.assert_array_equal(y, rf.prelu(want_x, ww, axis=axis))
        want_gx, want_gw = rf.prelu_backward(want_g, want_x, ww, axis=axis)
        np.testing.assert_array_equal(gx, want_gx)
        np.testing.assert_allclose(gw, want_gw, rtol=1e-14)


def test_backward_with_differently_chunked_grad(client, arrays):
    """issue 12 item 7c: grad_output and x chunked differently (as dask's own G * X
    accepts) give the NumPy gradients."""
    x, g, X, G = arrays
    G = da.from_array(g, chunks=(5, 4, 6))
    assert G.chunks != X.chunks and (G * X).shape == x.shape
    w = np.linspace(-0.5, 2.0, x.shape[1]).astype(x.dtype)
    cases = [
        (rf.relu_backward(G, X), rf.relu_backward(g, x)),
        (rf.leaky_relu_backward(G, X, 0.2), rf.leaky_relu_backward(g, x, 0.2)),
        (rf.elu_backward(G, X, 1.5), rf.elu_backward(g, x, 1.5)),
        (rf.elu_backward(G, rf.elu(X), 1.5, is_result=True),
         rf.elu_backward(g, rf.elu(x), 1.5, is_result=True)),
        (rf.prelu_backward(G, X, w)[0], rf.prelu_backward(g, x, w)[0]),
        (rf.prelu_backward(X, G, w)[0], rf.prelu_backward(x, g, w)[0]),   # x chunked like G
    ]
    got = client.compute([c[0] for c in cases], sync=True)
    for r, (_, want) in zip(got, cases):
        np.testing.assert_array_equal(r, want)
    gw = rf.prelu_backward(G, X, w)[1].compute()
    np.testing.assert_allclose(gw, ref.prelu_backward(g, x, w)[1],
                               rtol=1e-5 if x.dtype == np.float32 else 1e-12)


def test_backward_differently_chunked_unknown_sizes_refused(client):
    """issue 12 item 7c: differing chunks with unknown sizes raise a ValueError asking
    for compute_chunk_sizes(); equal unknown chunkings compute."""
    x, g = sample((12, 5)), sample((12, 5), seed=2)
    keep = x[:, 0] > 0
    want_x, Y = rows_where(x, keep, (4, 2))
    want_g, H = rows_where(g, keep, (4, 2))
    _, H6 = rows_where(g, keep, (6, 2))               # 2 row chunks against 3
    for grad in (H6, want_g, da.from_array(want_g, chunks=(2, 2))):
        with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
            rf.relu_backward(grad, Y)
        with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
            rf.prelu_backward(grad, Y, np.ones(5))
    np.testing.assert_array_equal(rf.relu_backward(H, Y).compute(),
                                  rf.relu_backward(want_g, want_x))


@pytest.mark.parametrize("chunks", [CHUNKS, (20, 6, 17), (1, 6, 17), (20, 1, 1), (3, 2, 5),
                                    ((5, 15), (1, 5), (16, 1)), (20, 6, 4)], ids=str)
def test_rrelu_training_equals_numpy_for_any_chunking(client, arrays, chunks):
    """Each chunk computes its elements' slopes at their C-order indices in the whole
    array: bit for bit the NumPy result, whatever the chunks."""
    x, g, _, _ = arrays
    X, G = da.from_array(x, chunks=chunks), da.from_array(g, chunks=chunks)
    kw = dict(lower=0.1, upper=0.4, training=True, seed=2**40 + 3)
    y = lazy(rf.rrelu(X, **kw), X)
    gx = lazy(rf.rrelu_backward(G, X, **kw), X)
    y_eval = lazy(rf.rrelu(X, 0.1, 0.4), X)
    gx_eval = lazy(rf.rrelu_backward(G, X, 0.1, 0.4), X)
    got = client.compute([y, gx, y_eval, gx_eval], sync=True)
    want = [rf.rrelu(x, **kw), rf.rrelu_backward(g, x, **kw), rf.rrelu(x, 0.1, 0.4),
            rf.rrelu_backward(g, x, 0.1, 0.4)]
    for r, w in zip(got, want):
        assert r.dtype == x.dtype
        np.testing.assert_array_equal(r, w)
    np.testing.assert_array_equal(got[0], ref.rrelu(x, **kw))
    # a NumPy operand beside a dask one; a different chunking of grad_output
    G2 = da.from_array(g, chunks=(4, 3, 17))
    np.testing.assert_array_equal(client.compute(rf.rrelu_backward(G2, X, **kw), sync=True), want[1])
    np.testing.assert_array_equal(client.compute(rf.rrelu_backward(g, X, **kw), sync=True), want[1])


def test_rrelu_dask_errors_are_eager_and_unknown_chunks_refused():
    F = da.from_array(-np.ones((3, 4), np.float32), chunks=2)
    with pytest.raises(TypeError, match="seed"):
        rf.rrelu(F, training=True)
    with pytest.raises(ValueError, match="lower"):
        rf.rrelu(F, 0.5, 0.2)
    with pytest.raises(TypeError, match="out="):
        rf.rrelu(F, out=np.empty((3, 4), np.float32))
    with pytest.raises(TypeError, match="training"):
        rf.rrelu_backward(F, F, 0.1, 0.2, 1, seed=1)
    U = F[F[:, 0] < 0]                              # unknown chunk sizes
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        rf.rrelu(U, training=True, seed=1)
    assert rf.rrelu(U).compute().shape == (3, 4)   # eval mode needs no indices
    np.testing.assert_array_equal(rf.rrelu(U.compute_chunk_sizes(), training=True, seed=1).compute(),
                                  rf.rrelu(-np.ones((3, 4), np.float32), training=True, seed=1))
