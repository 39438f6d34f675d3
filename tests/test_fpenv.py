"""issue 12 item 3: the caller's floating-point control state does not change any result.

Another library may turn on flush-to-zero / denormals-are-zero on the calling thread
(torch.set_flush_denormal(True) sets MXCSR's FTZ and DAZ); relu_fast's kernels clear
them for their work on every thread that computes and put them back afterwards, so
every result is the documented one (denormals kept), the same for 1 and 2 threads.
"""
import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _api
from relu_fast import _reference as ref
from conftest import CALLS, FUNCS, GRAIN, assert_same, compare

HAVE_FLUSH = _api._flush_denormals() == 0 and (_api._flush_denormals(True) != 0)
_api._flush_denormals(False)
needs_flush = pytest.mark.skipif(not HAVE_FLUSH, reason="no flush-to-zero control on this CPU")


def denormal_data(dtype, n=3 * GRAIN + 5, seed=0):
    """Mostly subnormal values of both signs, some normal ones, zeros."""
    rng = np.random.default_rng(seed)
    tiny = np.finfo(dtype).tiny
    x = (rng.uniform(-1, 1, n) * tiny).astype(dtype)          # subnormal
    x[::7] = rng.standard_normal(x[::7].size).astype(dtype)   # normal
    x[::11] = 0
    return x


@pytest.fixture
def flushing():
    """FTZ and DAZ set on this thread and on every thread of a 2-thread team."""
    _api._flush_denormals(True, 2)
    try:
        yield
    finally:
        _api._flush_denormals(False, 2)


def _run(name, x, g):
    w = np.linspace(-0.5, 1.5, x.shape[1]).astype(x.dtype) if x.ndim > 1 else x.dtype.type(0.25)
    return CALLS[name](rf, x, g, w, 1, 0.2, 1.5)


@needs_flush
@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("shape", [(3 * GRAIN + 5,), (3 * GRAIN // 100 + 1, 100), (7,)])
def test_flush_to_zero_set_by_the_caller_changes_nothing(name, shape, dtype, flushing):
    n = int(np.prod(shape))
    x = denormal_data(dtype, n, seed=1).reshape(shape)
    g = denormal_data(dtype, n, seed=2).reshape(shape)
    g[::5] = 1.5
    _api._flush_denormals(False, 2)
    with rf.limit_threads(1):
        want = _run(name, x, g)
    # the flags off, the results are the reference's (denormals kept)
    if name in ("relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "prelu",
                "hardtanh", "hardtanh_backward", "relu6", "relu6_backward", "threshold",
                "threshold_backward", "hardsigmoid", "hardsigmoid_backward", "hardswish",
                "hardswish_backward", "selu", "selu_backward", "celu", "celu_backward", "silu",
                "silu_backward", "rrelu", "rrelu_backward", "softplus", "softplus_backward", "mish",
                "mish_backward", "gelu", "gelu_backward"):
        compare(name, x, g, slope=0.2, w=np.linspace(-0.5, 1.5, shape[1]).astype(dtype)
                if len(shape) > 1 else dtype(0.25))
    _api._flush_denormals(True, 2)
    for nthreads in (1, 2):
        with rf.limit_threads(nthreads):
            got = _run(name, x, g)
        assert _api._flush_denormals() != 0, "the caller's flags were not put back"
        for a, b in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            assert_same(a, b)


@needs_flush
def test_relu_of_a_negative_denormal_is_zero(flushing):
    """The issue's case: relu(-1e-40) was -1e-40 (DAZ made the compare see -0)."""
    _api._flush_denormals(False, 2)          # NumPy itself flushes while they are set
    x = np.full(3 * GRAIN, -1e-40, np.float32)
    half = np.float32(-5e-41).view(np.uint32)
    _api._flush_denormals(True, 2)
    for nthreads in (1, 2):
        with rf.limit_threads(nthreads):
            assert rf.relu(x).view(np.uint32).max() == 0          # +0 everywhere
            assert rf.relu(x[:1]).view(np.uint32)[0] == 0
            assert np.all(rf.leaky_relu(x, 0.5).view(np.uint32) == half)


@needs_flush
@pytest.mark.parametrize("nthreads", [1, 2])
def test_training_kernels_keep_denormals(nthreads, dtype, flushing):
    x = denormal_data(dtype, 3 * GRAIN + 5, seed=3)
    g = denormal_data(dtype, x.size, seed=4)
    _api._flush_denormals(False, 2)
    want_y = ref.relu(x)
    want_gx = ref.relu_backward(g, x)
    _api._flush_denormals(True, 2)
    with rf.limit_threads(nthreads):
        y, m = rf.relu_mask(x)
        gx = rf.relu_backward_mask(g, m)
        y2, frac = rf.relu_stats(x.reshape(-1, 5) if x.size % 5 == 0 else x.reshape(1, -1), axis=1)
    assert _api._flush_denormals() != 0
    _api._flush_denormals(False, 2)
    assert_same(y, want_y)
    assert_same(gx, want_gx)
    assert_same(y2.reshape(-1), want_y)
    xs = x.reshape(-1, 5) if x.size % 5 == 0 else x.reshape(1, -1)
    np.testing.assert_array_equal(frac, (xs > 0).mean(axis=0))


def test_flags_clear_after_the_fixture():
    assert _api._flush_denormals() == 0
