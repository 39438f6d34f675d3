"""Arrays past 2**31 elements (opt-in: RELU_FAST_RUN_HUGE=1, needs ~9 GB free).

In-place relu and relu_backward on 2**31 + 17 float32 elements, with 1 thread and
with all of them: values planted on both sides of index 2**31 (and at both ends)
come out as the reference says, and every other element was processed (an index
that wrapped at 2**31 would leave elements untouched or write out of bounds).
"""
import os

import numpy as np
import pytest

import relu_fast
from relu_fast import _reference as ref
from conftest import available_bytes

N = 2**31 + 17
BOUNDARY = 2**31

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("RELU_FAST_RUN_HUGE") != "1",
                       reason="opt-in: RELU_FAST_RUN_HUGE=1 (needs ~9 GB)"),
]


@pytest.fixture(scope="module")
def huge():
    free = available_bytes()
    if free is not None and free < N * 4 + (1 << 30):
        pytest.skip(f"needs {N * 4 / 2**30:.1f} GB + 1 GB free, have {free / 2**30:.1f} GB")
    x = np.empty(N, dtype=np.float32)
    yield x
    del x


def _positions():
    near = np.arange(BOUNDARY - 40, BOUNDARY + 17)                 # up to the last element
    return np.concatenate([np.arange(0, 40), np.arange(BOUNDARY // 2 - 5, BOUNDARY // 2 + 5), near])


def _planted(pos):
    """Values at the planted positions: positive, negative, -0.0, NaN, inf, in turn."""
    k = pos % 5
    v = np.where(k == 0, 1.0 + (pos % 1000), -(1.0 + (pos % 7)))
    v = np.where(k == 2, -0.0, v)
    v = np.where(k == 3, np.nan, v)
    v = np.where(k == 4, np.inf, v)
    return v.astype(np.float32)


def _same(got, want):
    assert np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("threads", [1, 0])
def test_relu_in_place_past_2_31(huge, threads):
    x = huge
    pos = _positions()
    vals = _planted(pos)
    x.fill(-1.0)
    x[pos] = vals
    limit = relu_fast.limit_threads(threads) if threads else relu_fast.limit_threads(1 << 16)
    with limit:
        assert relu_fast.relu(x, out=x) is x
    _same(x[pos], ref.relu(vals))
    # every -1.0 became 0: the nonzeros left are exactly the planted positives, NaNs and infs
    assert np.count_nonzero(x) == np.count_nonzero(ref.relu(vals))
    assert np.array_equal(x[-17:], ref.relu(_planted(np.arange(BOUNDARY, N))), equal_nan=True)


@pytest.mark.parametrize("threads", [1, 0])
def test_relu_backward_in_place_past_2_31(huge, threads):
    x = huge
    pos = _positions()
    vals = _planted(pos)
    x.fill(-2.0)
    x[pos] = vals
    limit = relu_fast.limit_threads(threads) if threads else relu_fast.limit_threads(1 << 16)
    with limit:
        assert relu_fast.relu_backward(x, x, out=x) is x      # grad_output = x, in place
    _same(x[pos], ref.relu_backward(vals, vals))
    assert np.count_nonzero(x) == np.count_nonzero(ref.relu_backward(vals, vals))
