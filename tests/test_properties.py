"""Hypothesis property tests (modest example counts; the big fuzz run is test_fuzz.py):
any finite or special float array, any shape up to 3-D, sliced views, any real
parameter: relu_fast equals the reference."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import relu_fast as rf
from conftest import FUNCS, assert_same, compare

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def pairs(draw):
    """(x, g, view slices) of one float dtype, with NaN, inf, zeros and denormals."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    width = 32 if dtype == np.float32 else 64
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=7))
    elems = st.floats(width=width, allow_nan=True, allow_infinity=True, allow_subnormal=True)
    x = draw(hnp.arrays(dtype, shape, elements=elems))
    g = draw(hnp.arrays(dtype, shape, elements=elems))
    if x.ndim:
        idx = tuple(slice(None, None, draw(st.sampled_from([1, 2, -1, -2]))) for _ in range(x.ndim))
        x, g = x[idx], g[idx]
        if draw(st.booleans()):
            x, g = x.T, g.T
    return x, g


@pytest.mark.parametrize("name", FUNCS)
@SETTINGS
@given(data=pairs(), param=st.floats(-4, 4, allow_nan=False))
def test_matches_reference(name, data, param):
    x, g = data
    if name == "elu_backward_result":
        param = abs(param)
    if name.startswith("celu"):
        param = abs(param) or 1.0               # alpha > 0
    if name == "elu_backward" and x.dtype == np.float64:
        x = np.where(x < -700, np.float64(-700), x)  # long double reference: see test_reference
    if x.ndim >= 2 and name.startswith("prelu"):
        w = np.linspace(-1.0, 1.0, x.shape[1]).astype(x.dtype) if x.shape[1] else x.dtype.type(param)
    else:
        w = x.dtype.type(param)
    compare(name, x, g, w=w, slope=param, alpha=param)


@SETTINGS
@given(data=pairs())
def test_relu_backward_from_output(data):
    x, g = data
    assert_same(rf.relu_backward(g, rf.relu(x)), rf.relu_backward(g, x))


@SETTINGS
@given(data=pairs(), slope=st.floats(-4, 4, allow_nan=False))
def test_prelu_single_alpha_is_leaky_relu(data, slope):
    x, g = data
    s = x.dtype.type(slope)
    assert_same(rf.prelu(x, s), rf.leaky_relu(x, slope))
    gi, _ = rf.prelu_backward(g, x, s)
    assert_same(gi, rf.leaky_relu_backward(g, x, slope))


@SETTINGS
@given(data=pairs())
def test_leaky_slope_one_is_identity_and_zero_is_relu_away_from_inf(data):
    x, g = data
    assert_same(rf.leaky_relu(x, 1.0), x.astype(x.dtype.newbyteorder("=")))
    assert_same(rf.leaky_relu_backward(g, x, 1.0), g)
    finite = np.isfinite(x)
    assert_same(rf.leaky_relu(x, 0.0)[finite], rf.relu(x)[finite], signed_zero=False)
