"""Every function on dask arrays, computed by a LocalCluster with worker processes,
equals the NumPy result; results stay lazy and keep the input's chunks."""
import logging

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")

import relu_fast as rf  # noqa: E402
from relu_fast import _reference as ref  # noqa: E402

CHUNKS = (7, 3, 8)


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        with distributed.Client(cluster) as c:
            yield c


@pytest.fixture(scope="module", params=[np.float32, np.float64])
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
    np.testing.assert_allclose(gw, ref.prelu_backward(g, x, w, axis=axis)[1],
                               rtol=1e-5 if x.dtype == np.float32 else 1e-12)


def test_prelu_one_alpha(client, arrays):
    x, g, X, G = arrays
    for w in (np.asarray(0.3, dtype=x.dtype), np.array([0.3], dtype=x.dtype)):
        y, (gx, gw) = client.compute([rf.prelu(X, w), rf.prelu_backward(G, X, w)], sync=True)
        np.testing.assert_array_equal(y, rf.prelu(x, w))
        want_gx, want_gw = rf.prelu_backward(g, x, w)
        np.testing.assert_array_equal(gx, want_gx)
        assert gw.shape == w.shape
        np.testing.assert_allclose(gw, want_gw, rtol=1e-5 if x.dtype == np.float32 else 1e-12)


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
