"""Every bad input raises the documented exception, with every input unchanged and a
refused `out` untouched."""
import re

import numpy as np
import pytest

import relu_fast as rf
from conftest import assert_same

SENTINEL = 7.25

# (name, call(x, g, out) -> result) for every function that takes `out`
WITH_OUT = {
    "relu": lambda x, g, out: rf.relu(x, out=out),
    "relu_backward": lambda x, g, out: rf.relu_backward(g, x, out=out),
    "leaky_relu": lambda x, g, out: rf.leaky_relu(x, 0.1, out=out),
    "leaky_relu_backward": lambda x, g, out: rf.leaky_relu_backward(g, x, 0.1, out=out),
    "prelu": lambda x, g, out: rf.prelu(x, np.full(x.shape[1], 0.25, x.dtype) if x.ndim > 1 else 0.25,
                                        out=out),
    "elu": lambda x, g, out: rf.elu(x, 1.0, out=out),
    "elu_backward": lambda x, g, out: rf.elu_backward(g, x, 1.0, out=out),
    "elu_backward_result": lambda x, g, out: rf.elu_backward(g, x, 1.0, is_result=True, out=out),
    "hardtanh": lambda x, g, out: rf.hardtanh(x, -0.5, 0.5, out=out),
    "hardtanh_backward": lambda x, g, out: rf.hardtanh_backward(g, x, -0.5, 0.5, out=out),
    "hardtanh_backward_result": lambda x, g, out: rf.hardtanh_backward(g, x, -0.5, 0.5, is_result=True,
                                                                        out=out),
    "relu6": lambda x, g, out: rf.relu6(x, out=out),
    "relu6_backward": lambda x, g, out: rf.relu6_backward(g, x, out=out),
    "relu6_backward_result": lambda x, g, out: rf.relu6_backward(g, x, is_result=True, out=out),
    "threshold": lambda x, g, out: rf.threshold(x, 0.25, -1.0, out=out),
    "threshold_backward": lambda x, g, out: rf.threshold_backward(g, x, 0.25, out=out),
    "hardsigmoid": lambda x, g, out: rf.hardsigmoid(x, out=out),
    "hardsigmoid_backward": lambda x, g, out: rf.hardsigmoid_backward(g, x, out=out),
    "hardsigmoid_backward_result": lambda x, g, out: rf.hardsigmoid_backward(g, x, is_result=True, out=out),
    "hardswish": lambda x, g, out: rf.hardswish(x, out=out),
    "hardswish_backward": lambda x, g, out: rf.hardswish_backward(g, x, out=out),
    "selu": lambda x, g, out: rf.selu(x, out=out),
    "selu_backward": lambda x, g, out: rf.selu_backward(g, x, out=out),
    "selu_backward_result": lambda x, g, out: rf.selu_backward(g, x, is_result=True, out=out),
    "celu": lambda x, g, out: rf.celu(x, 0.5, out=out),
    "celu_backward": lambda x, g, out: rf.celu_backward(g, x, 0.5, out=out),
    "celu_backward_result": lambda x, g, out: rf.celu_backward(g, x, 0.5, is_result=True, out=out),
    "silu": lambda x, g, out: rf.silu(x, out=out),
    "silu_backward": lambda x, g, out: rf.silu_backward(g, x, out=out),
    "rrelu": lambda x, g, out: rf.rrelu(x, out=out),
    "rrelu_backward": lambda x, g, out: rf.rrelu_backward(g, x, out=out),
    "rrelu_training": lambda x, g, out: rf.rrelu(x, 0.1, 0.3, True, seed=5, out=out),
    "rrelu_backward_training": lambda x, g, out: rf.rrelu_backward(g, x, 0.1, 0.3, True, seed=5,
                                                                   out=out),
    "softplus": lambda x, g, out: rf.softplus(x, 1.5, 4.0, out=out),
    "softplus_backward": lambda x, g, out: rf.softplus_backward(g, x, 1.5, 4.0, out=out),
    "mish": lambda x, g, out: rf.mish(x, out=out),
    "mish_backward": lambda x, g, out: rf.mish_backward(g, x, out=out),
    "gelu": lambda x, g, out: rf.gelu(x, out=out),
    "gelu_tanh": lambda x, g, out: rf.gelu(x, "tanh", out=out),
    "gelu_backward": lambda x, g, out: rf.gelu_backward(g, x, out=out),
    "gelu_backward_tanh": lambda x, g, out: rf.gelu_backward(g, x, "tanh", out=out),
}
ALL = dict(WITH_OUT)
ALL["prelu_backward"] = lambda x, g, out: rf.prelu_backward(
    g, x, np.full(x.shape[1], 0.25, x.dtype) if x.ndim > 1 else 0.25)
BACKWARD = [n for n in ALL if "backward" in n]


class Guard:
    """Snapshots of arrays; .check() asserts none changed (bytes, flags, shape)."""

    def __init__(self, *arrays):
        self.arrays = [a for a in arrays if isinstance(a, np.ndarray)]
        self.copies = [a.copy() for a in self.arrays]
        self.flags = [(a.flags.writeable, a.shape, a.dtype) for a in self.arrays]

    def check(self):
        for a, c, f in zip(self.arrays, self.copies, self.flags):
            assert (a.flags.writeable, a.shape, a.dtype) == f
            assert a.tobytes() == c.tobytes(), "an input or a refused out was modified"


def data(dtype=np.float32, shape=(3, 4)):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    g = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    return x, g


def sentinel_out(shape, dtype):
    return np.full(shape, SENTINEL, dtype)


# ---------------------------------------------------------------------------
# dtypes
# ---------------------------------------------------------------------------

BAD_DTYPES = [np.int32, np.int64, np.uint8, np.int16, np.bool_, np.complex64, np.complex128, object,
              np.longdouble, "U3", "S3", "datetime64[s]"]
if np.dtype(np.longdouble) == np.dtype(np.float64):
    BAD_DTYPES.remove(np.longdouble)


def bad_array(dtype, shape=(3, 4)):
    dt = np.dtype(dtype)
    if dt.kind in "US":
        return np.full(shape, "1.5", dtype=dt)
    if dt.kind == "M":
        return np.zeros(shape, dtype=dt)
    return np.ones(shape, dtype=dt)


@pytest.mark.parametrize("bad", BAD_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", list(ALL))
def test_unsupported_dtype_x(name, bad):
    x = bad_array(bad)
    g = np.ones((3, 4), np.float32)
    out = sentinel_out((3, 4), np.float32)
    guard = Guard(x, g, out)
    with pytest.raises(TypeError, match=re.escape(str(np.dtype(bad)))) as info:
        ALL[name](x, g, out)
    assert "float32" in str(info.value) and "float64" in str(info.value)
    guard.check()


@pytest.mark.parametrize("bad", [np.int64, np.bool_, np.float16, np.complex128, object],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", BACKWARD)
def test_unsupported_dtype_grad(name, bad):
    x = np.ones((3, 4), np.float32)
    g = bad_array(bad)
    guard = Guard(x, g)
    with pytest.raises(TypeError, match=re.escape(str(np.dtype(bad)))):
        ALL[name](x, g, None)
    guard.check()


@pytest.mark.parametrize("value", [[1, 2, 3], 5, True, [True, False], 1 + 2j, ["a"], [1.0, None]])
def test_array_likes_of_other_dtypes(value):
    with pytest.raises(TypeError, match="dtype"):
        rf.relu(value)
    with pytest.raises(TypeError, match="dtype"):
        rf.elu_backward(value, value)


@pytest.mark.parametrize("name", BACKWARD)
def test_grad_dtype_mismatch(name):
    x, g = data(np.float32)
    g64 = g.astype(np.float64)
    guard = Guard(x, g64)
    with pytest.raises(TypeError, match="dtype"):
        ALL[name](x, g64, None)
    with pytest.raises(TypeError, match="dtype"):
        ALL[name](x.astype(np.float64), g, None)
    guard.check()


@pytest.mark.parametrize("name", BACKWARD)
@pytest.mark.parametrize("gshape", [(4, 3), (3, 4, 1), (12,), (1, 4), ()])
def test_grad_shape_mismatch(name, gshape):
    x = np.ones((3, 4), np.float64)
    g = np.ones(gshape, np.float64)
    guard = Guard(x, g)
    with pytest.raises(ValueError, match="shape"):
        ALL[name](x, g, None)
    guard.check()


# ---------------------------------------------------------------------------
# out=
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("bad_out", [[0.0] * 12, 3.0, "out", memoryview(bytearray(48))])
@pytest.mark.parametrize("name", list(WITH_OUT))
def test_out_not_ndarray(name, bad_out):
    x, g = data()
    guard = Guard(x, g)
    with pytest.raises(TypeError, match="ndarray"):
        WITH_OUT[name](x, g, bad_out)
    guard.check()


@pytest.mark.parametrize("oshape", [(4, 3), (12,), (3, 4, 1), (), (3, 5)])
@pytest.mark.parametrize("name", list(WITH_OUT))
def test_out_wrong_shape(name, oshape, dtype):
    x, g = data(dtype)
    out = sentinel_out(oshape, dtype)
    guard = Guard(x, g, out)
    with pytest.raises(ValueError, match="shape"):
        WITH_OUT[name](x, g, out)
    guard.check()


@pytest.mark.parametrize("odtype", [np.float64, np.float16, np.int32, np.complex64, np.bool_])
@pytest.mark.parametrize("name", list(WITH_OUT))
def test_out_wrong_dtype(name, odtype):
    x, g = data(np.float32)
    out = np.zeros((3, 4), odtype)
    guard = Guard(x, g, out)
    with pytest.raises(TypeError, match="dtype"):
        WITH_OUT[name](x, g, out)
    guard.check()


@pytest.mark.parametrize("name", list(WITH_OUT))
def test_out_read_only(name, dtype):
    x, g = data(dtype)
    out = sentinel_out((3, 4), dtype)
    out.flags.writeable = False
    guard = Guard(x, g, out)
    with pytest.raises(ValueError, match="read-only"):
        WITH_OUT[name](x, g, out)
    guard.check()
    # a read-only x as its own out
    x.flags.writeable = False
    guard = Guard(x, g)
    with pytest.raises(ValueError, match="read-only"):
        WITH_OUT[name](x, g, x)
    guard.check()
    # a read-only view of a writeable buffer
    base = sentinel_out((3, 4), dtype)
    view = base.view()
    view.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        WITH_OUT[name](x, g, view)
    assert (base == SENTINEL).all()


@pytest.mark.parametrize("name", list(WITH_OUT))
def test_bad_input_with_good_out_leaves_out_untouched(name):
    x = np.ones((3, 4), np.int64)
    out = sentinel_out((3, 4), np.float64)
    with pytest.raises(TypeError):
        WITH_OUT[name](x, x.astype(np.float64), out)
    assert (out == SENTINEL).all()


def test_prelu_out_left_untouched_on_weight_error():
    x, _ = data(np.float32)
    out = sentinel_out((3, 4), np.float32)
    with pytest.raises(ValueError):
        rf.prelu(x, np.ones(3, np.float32), out=out)
    assert (out == SENTINEL).all()


def test_out_keyword_only():
    x, g = data()
    out = np.empty_like(x)
    with pytest.raises(TypeError):
        rf.relu(x, out)
    with pytest.raises(TypeError):
        rf.relu_backward(g, x, out)
    with pytest.raises(TypeError):
        rf.prelu(x, np.ones(4, np.float32), 1)


# ---------------------------------------------------------------------------
# PReLU weight and axis
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("weight, axis", [
    (np.ones(3), 1),              # 4 channels along axis 1
    (np.ones(5), -1),             # 6 channels along the last axis
    (np.ones(4), 0),              # 2 along axis 0
    (np.ones((2, 2)), 1),         # 2-D weight
    (np.ones((4, 1)), 1),         # 2-D weight, even with the right count
    (np.ones(0), 1),              # empty
    (np.ones((0,)), -1),
])
def test_prelu_weight_mismatch(weight, axis, backward, dtype):
    x = np.random.default_rng(0).standard_normal((2, 4, 6)).astype(dtype)
    g = np.ones_like(x)
    w = weight.astype(dtype)
    guard = Guard(x, g, w)
    with pytest.raises(ValueError, match="weight"):
        if backward:
            rf.prelu_backward(g, x, w, axis=axis)
        else:
            rf.prelu(x, w, axis=axis)
    guard.check()


@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("shape", [(), (5,)])
def test_prelu_several_alphas_need_a_channel_axis(shape, backward, dtype):
    x = np.ones(shape, dtype)
    w = np.ones(2, dtype)
    with pytest.raises(ValueError, match="alpha"):
        if backward:
            rf.prelu_backward(x, x, w)
        else:
            rf.prelu(x, w)


@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("axis", [3, -4, 100, -100])
def test_prelu_axis_out_of_range(axis, backward):
    x = np.ones((2, 4, 6), np.float32)
    w = np.ones(4, np.float32)
    with pytest.raises(ValueError, match="axis"):
        if backward:
            rf.prelu_backward(x, x, w, axis=axis)
        else:
            rf.prelu(x, w, axis=axis)
    with pytest.raises(ValueError, match="axis"):           # also with a single alpha
        rf.prelu(x, np.float32(0.5), axis=axis)


@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("axis", [1.0, "1", None, True, [1], np.float64(1)])
def test_prelu_axis_not_int(axis, backward):
    for x in (np.ones((2, 4, 6), np.float32), np.ones(5, np.float32)):
        w = np.float32(0.5)
        with pytest.raises(TypeError, match="axis"):
            if backward:
                rf.prelu_backward(x, x, w, axis=axis)
            else:
                rf.prelu(x, w, axis=axis)


def test_prelu_axis_numpy_int_accepted():
    x = np.random.default_rng(0).standard_normal((2, 4, 6)).astype(np.float32)
    w = np.linspace(-1, 1, 4).astype(np.float32)
    np.testing.assert_array_equal(rf.prelu(x, w, axis=np.int64(1)), rf.prelu(x, w, axis=1))


@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("weight", [np.ones(4, np.int64), np.ones(4, np.bool_), [True] * 4, [1j] * 4,
                                    ["a"] * 4, "0.5", np.ones(4, np.complex64), None])
def test_prelu_weight_not_real(weight, backward):
    x = np.ones((2, 4), np.float32)
    with pytest.raises(TypeError, match="weight"):
        if backward:
            rf.prelu_backward(x, x, weight)
        else:
            rf.prelu(x, weight)


def test_prelu_weight_ndarray_dtype_must_match():
    x = np.ones((2, 4), np.float32)
    with pytest.raises(TypeError, match="weight"):
        rf.prelu(x, np.ones(4, np.float64))
    with pytest.raises(TypeError, match="weight"):
        rf.prelu_backward(x, x, np.ones(4, np.float16))


# ---------------------------------------------------------------------------
# Scalar parameters
# ---------------------------------------------------------------------------

BAD_REALS = ["0.1", 1j, True, False, None, [0.1], np.array([0.1]), np.complex128(1)]


@pytest.mark.parametrize("bad", BAD_REALS, ids=repr)
def test_slope_and_alpha_must_be_real(bad):
    x, g = data()
    guard = Guard(x, g)
    for call in (lambda: rf.leaky_relu(x, bad), lambda: rf.leaky_relu_backward(g, x, bad),
                 lambda: rf.elu(x, bad), lambda: rf.elu_backward(g, x, bad)):
        with pytest.raises(TypeError):
            call()
    guard.check()


@pytest.mark.parametrize("ok", [1, np.float32(0.5), np.float64(0.5), np.int64(2), 0.5])
def test_slope_and_alpha_accept_real_numbers(ok):
    x = np.array([-2.0, 2.0])
    assert rf.leaky_relu(x, ok)[0] == -2.0 * float(ok)
    assert rf.elu(x, ok)[0] == pytest.approx(float(ok) * np.expm1(-2.0), rel=1e-15)


@pytest.mark.parametrize("alpha", [-0.5, -1e-300, float("nan"), float("-inf")])
def test_elu_backward_is_result_needs_nonnegative_alpha(alpha):
    x, g = data()
    out = sentinel_out((3, 4), np.float32)
    guard = Guard(x, g, out)
    with pytest.raises(ValueError, match="alpha"):
        rf.elu_backward(g, x, alpha, is_result=True, out=out)
    guard.check()
    if np.isfinite(alpha):
        rf.elu_backward(g, x, alpha, is_result=False)      # fine from the input


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), np.float32("inf"), 10**400],
                         ids=["nan", "inf", "-inf", "f32inf", "10**400"])
@pytest.mark.parametrize("call", ["leaky_relu", "leaky_relu_backward", "elu", "elu_backward"])
def test_parameters_must_be_finite(call, bad):
    x, g = data()
    out = sentinel_out((3, 4), np.float32)
    guard = Guard(x, g, out)
    args = (x, bad) if call in ("leaky_relu", "elu") else (g, x, bad)
    with pytest.raises(ValueError, match="finite"):
        getattr(rf, call)(*args, out=out)
    guard.check()


HARDTANH_CALLS = {
    "hardtanh": lambda x, g, lo, hi, out: rf.hardtanh(x, lo, hi, out=out),
    "hardtanh_backward": lambda x, g, lo, hi, out: rf.hardtanh_backward(g, x, lo, hi, out=out),
}


@pytest.mark.parametrize("which", ["min_val", "max_val"])
@pytest.mark.parametrize("bad, exc, match", [
    ("0.1", TypeError, "real number"), (True, TypeError, "real number"), (None, TypeError, "real number"),
    (1j, TypeError, "real number"), ([0.1], TypeError, "real number"),
    (float("nan"), ValueError, "finite"), (float("inf"), ValueError, "finite"),
    (10**400, ValueError, "finite"), (1e300, ValueError, "overflow")], ids=repr)
@pytest.mark.parametrize("name", list(HARDTANH_CALLS))
def test_hardtanh_range_arguments(name, which, bad, exc, match):
    x, g = data()
    out = sentinel_out((3, 4), np.float32)
    guard = Guard(x, g, out)
    lo, hi = (bad, 1.0) if which == "min_val" else (-1.0, bad)
    if match == "overflow" and which == "min_val":
        lo = -bad                      # -1e300 <= 1.0: only the dtype refuses it
    with pytest.raises(exc, match=match if match != "real number" else which):
        HARDTANH_CALLS[name](x, g, lo, hi, out)
    guard.check()


@pytest.mark.parametrize("name", list(HARDTANH_CALLS))
def test_hardtanh_min_above_max_is_refused(name):
    x, g = data()
    out = sentinel_out((3, 4), np.float32)
    guard = Guard(x, g, out)
    with pytest.raises(ValueError, match="min_val must not exceed max_val"):
        HARDTANH_CALLS[name](x, g, 1.0, -1.0, out)
    guard.check()
    equal = HARDTANH_CALLS[name](x, g, 0.5, 0.5, None)     # an empty range is fine
    assert equal.shape == x.shape


@pytest.mark.parametrize("bad", [1, 0, "yes", None, 1.0])
def test_elu_backward_is_result_must_be_bool(bad):
    x, g = data()
    with pytest.raises(TypeError, match="is_result"):
        rf.elu_backward(g, x, is_result=bad)


THRESHOLD_CALLS = {
    "threshold": lambda x, g, t, v, out: rf.threshold(x, t, v, out=out),
    "threshold_backward": lambda x, g, t, v, out: rf.threshold_backward(g, x, t, out=out),
}


@pytest.mark.parametrize("which", ["threshold", "value"])
@pytest.mark.parametrize("bad, exc, match", [
    ("0.1", TypeError, "real number"), (True, TypeError, "real number"), (None, TypeError, "real number"),
    (1j, TypeError, "real number"), ([0.1], TypeError, "real number"),
    (float("nan"), ValueError, "finite"), (float("-inf"), ValueError, "finite"),
    (10**400, ValueError, "finite"), (1e300, ValueError, "overflow")], ids=repr)
@pytest.mark.parametrize("name", list(THRESHOLD_CALLS))
def test_threshold_arguments(name, which, bad, exc, match):
    if name == "threshold_backward" and which == "value":
        pytest.skip("threshold_backward takes no value")
    x, g = data()
    out = sentinel_out((3, 4), np.float32)
    guard = Guard(x, g, out)
    t, v = (bad, 1.0) if which == "threshold" else (0.5, bad)
    with pytest.raises(exc, match=match if match != "real number" else which):
        THRESHOLD_CALLS[name](x, g, t, v, out)
    guard.check()


@pytest.mark.parametrize("alpha", [0.0, -0.0, -1.0, -1e-300, np.float32(-2)])
@pytest.mark.parametrize("backward", [False, True])
def test_celu_alpha_must_be_positive(alpha, backward):
    x, g = data()
    out = sentinel_out((3, 4), np.float32)
    guard = Guard(x, g, out)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        if backward:
            rf.celu_backward(g, x, alpha, out=out)
        else:
            rf.celu(x, alpha, out=out)
    guard.check()


@pytest.mark.parametrize("bad, exc", [(np.nan, ValueError), (np.inf, ValueError), (1e39, ValueError),
                                      (True, TypeError), ("1", TypeError), (None, TypeError),
                                      (1j, TypeError), ([1.0], TypeError)])
def test_celu_alpha_type_and_range(bad, exc):
    x, g = data()             # float32: 1e39 overflows it
    for call in (lambda: rf.celu(x, bad), lambda: rf.celu_backward(g, x, bad)):
        with pytest.raises(exc, match="alpha"):
            call()


def test_threshold_arguments_are_required_and_backward_takes_no_value():
    x, g = data()
    with pytest.raises(TypeError):
        rf.threshold(x, 0.5)                  # value has no default, as PyTorch's
    with pytest.raises(TypeError):
        rf.threshold_backward(g, x)
    with pytest.raises(TypeError):
        rf.threshold_backward(g, x, 0.5, -1.0)


IS_RESULT_CALLS = {
    "hardtanh_backward": lambda g, x, r: rf.hardtanh_backward(g, x, is_result=r),
    "relu6_backward": lambda g, x, r: rf.relu6_backward(g, x, is_result=r),
    "hardsigmoid_backward": lambda g, x, r: rf.hardsigmoid_backward(g, x, is_result=r),
    "selu_backward": lambda g, x, r: rf.selu_backward(g, x, is_result=r),
    "celu_backward": lambda g, x, r: rf.celu_backward(g, x, is_result=r),
}


@pytest.mark.parametrize("bad", [1, 0, "yes", None, 1.0])
@pytest.mark.parametrize("name", list(IS_RESULT_CALLS))
def test_is_result_must_be_bool(name, bad):
    x, g = data()
    out = sentinel_out((3, 4), np.float32)
    guard = Guard(x, g, out)
    with pytest.raises(TypeError, match="is_result"):
        IS_RESULT_CALLS[name](g, x, bad)
    guard.check()
    assert IS_RESULT_CALLS[name](g, x, np.True_).shape == x.shape     # NumPy's bool is a bool


@pytest.mark.parametrize("name", ["hardtanh_backward", "relu6_backward", "hardsigmoid_backward",
                                  "threshold_backward", "hardswish_backward", "selu_backward",
                                  "celu_backward", "silu_backward", "softplus_backward",
                                  "mish_backward"])
def test_is_result_is_keyword_only_or_absent(name):
    x, g = data()
    f = getattr(rf, name)
    if name in IS_RESULT_CALLS:
        with pytest.raises(TypeError):
            f(g, x, *([-1.0, 1.0] if name == "hardtanh_backward" else [1.0] if name == "celu_backward"
                      else []), True)
    else:
        with pytest.raises(TypeError, match="is_result"):
            f(g, x, *([0.5] if name == "threshold_backward" else []), is_result=True)


SOFTPLUS_CALLS = {
    "softplus": lambda x, g, b, t, out: rf.softplus(x, b, t, out=out),
    "softplus_backward": lambda x, g, b, t, out: rf.softplus_backward(g, x, b, t, out=out),
}


@pytest.mark.parametrize("which", ["beta", "threshold"])
@pytest.mark.parametrize("bad, exc, match", [
    ("0.1", TypeError, "real number"), (True, TypeError, "real number"), (None, TypeError, "real number"),
    (1j, TypeError, "real number"), ([0.1], TypeError, "real number"),
    (float("nan"), ValueError, "finite"), (float("-inf"), ValueError, "finite"),
    (float("inf"), ValueError, "finite"), (10**400, ValueError, "finite"),
    (1e300, ValueError, "overflow")], ids=repr)
@pytest.mark.parametrize("name", list(SOFTPLUS_CALLS))
def test_softplus_arguments(name, which, bad, exc, match):
    x, g = data()
    out = sentinel_out((3, 4), np.float32)
    guard = Guard(x, g, out)
    b, t = (bad, 20.0) if which == "beta" else (1.0, bad)
    with pytest.raises(exc, match=match if match != "real number" else which):
        SOFTPLUS_CALLS[name](x, g, b, t, out)
    guard.check()


@pytest.mark.parametrize("beta", [0.0, -0.0, -1.0, -1e-30, np.float32(-2.0)], ids=repr)
@pytest.mark.parametrize("name", list(SOFTPLUS_CALLS))
def test_softplus_beta_must_be_positive(name, beta):
    # PyTorch accepts beta <= 0 (inf for beta = 0); relu_fast refuses it (docs/semantics.rst)
    x, g = data()
    out = sentinel_out((3, 4), np.float32)
    guard = Guard(x, g, out)
    with pytest.raises(ValueError, match="beta must be > 0"):
        SOFTPLUS_CALLS[name](x, g, beta, 20.0, out)
    guard.check()
    # a negative threshold, an int beta, NumPy scalars and a Fraction are fine
    assert SOFTPLUS_CALLS[name](x, g, 2, -5.0, None).shape == x.shape
    assert SOFTPLUS_CALLS[name](x, g, np.float64(0.5), np.int64(3), None).shape == x.shape


def test_softplus_and_mish_arguments_as_pytorch():
    x, g = data()
    with pytest.raises(TypeError):
        rf.softplus(x, 1.0, 20.0, 1.0)        # nothing after threshold
    with pytest.raises(TypeError):
        rf.mish(x, 1.0)                       # mish takes no scalar
    with pytest.raises(TypeError):
        rf.mish_backward(g, x, 1.0)
    # keywords by PyTorch's names
    assert rf.softplus(x, beta=2.0, threshold=1.0).shape == x.shape
    assert rf.softplus_backward(grad_output=g, x=x, beta=2.0, threshold=1.0).shape == x.shape
@pytest.mark.parametrize("bad, exc", [("exact", ValueError), ("", ValueError), ("None", ValueError),
                                      ("Tanh", ValueError), (" tanh", ValueError),
                                      (None, TypeError), (1, TypeError), (True, TypeError),
                                      (b"tanh", TypeError), (["tanh"], TypeError)])
@pytest.mark.parametrize("name", ["gelu", "gelu_backward"])
def test_gelu_approximate_is_none_or_tanh(name, bad, exc):
    x, g = data()
    out = sentinel_out((3, 4), np.float32)
    guard = Guard(x, g, out)
    f = (lambda a, **kw: rf.gelu(x, a, **kw)) if name == "gelu" else \
        (lambda a, **kw: rf.gelu_backward(g, x, a, **kw))
    with pytest.raises(exc, match="approximate"):
        f(bad, out=out)
    with pytest.raises(exc, match="approximate"):
        f(bad)
    guard.check()


@pytest.mark.parametrize("name", ["gelu", "gelu_backward"])
def test_gelu_has_no_is_result_and_keyword_out(name):
    x, g = data()
    args = (x,) if name == "gelu" else (g, x)
    with pytest.raises(TypeError, match="is_result"):
        getattr(rf, name)(*args, is_result=True)
    with pytest.raises(TypeError):
        getattr(rf, name)(*args, "none", np.empty_like(x))     # out is keyword-only
    assert getattr(rf, name)(*args, approximate="tanh").shape == x.shape


# ---------------------------------------------------------------------------
# Threads
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("bad, exc", [(0, ValueError), (-1, ValueError), (-(2 ** 70), ValueError),
                                      (1.5, TypeError), (2.0, TypeError), ("2", TypeError),
                                      (True, TypeError), (False, TypeError), (None, TypeError),
                                      (np.float64(2), TypeError)])
def test_set_num_threads_rejects(bad, exc):
    before = rf.get_num_threads()
    with pytest.raises(exc):
        rf.set_num_threads(bad)
    assert rf.get_num_threads() == before
    with pytest.raises(exc):
        with rf.limit_threads(bad):
            pass                      # pragma: no cover
    assert rf.get_num_threads() == before


@pytest.mark.parametrize("big", [1e300, -1e300, 3.5e38, np.float64(1e39)], ids=repr)
@pytest.mark.parametrize("call", ["leaky_relu", "leaky_relu_backward", "elu", "elu_backward",
                                  "prelu", "prelu_backward", "prelu_list", "prelu_fraction_list"])
def test_finite_parameter_that_overflows_the_dtype_is_refused(call, big):
    """issue 12 item 11: a finite slope/alpha/weight that overflows x's dtype (1e300 for
    float32) was accepted and gave NaN where the math gives 0 (0 * inf); refused with
    ValueError, as PyTorch does, and nothing is written.  float64 takes it."""
    from fractions import Fraction
    x, g = data()
    x[0, 0] = 0.0
    out = sentinel_out((3, 4), np.float32)
    guard = Guard(x, g, out)
    weight = {"prelu_list": [big] * 4, "prelu_fraction_list": [Fraction(big)] * 4}.get(call, big)
    with pytest.raises(ValueError, match="overflow"):
        if call in ("leaky_relu", "elu"):
            getattr(rf, call)(x, big, out=out)
        elif call in ("leaky_relu_backward", "elu_backward"):
            getattr(rf, call)(g, x, big, out=out)
        elif call == "prelu_backward":
            rf.prelu_backward(g, x, weight)
        else:
            rf.prelu(x, weight, out=out)
    guard.check()
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        if call.startswith("leaky"):
            assert rf.leaky_relu(x64, big)[0, 0] == 0.0
        elif call.startswith("prelu"):
            assert rf.prelu(x64, np.full(4, big))[0, 0] == 0.0


@pytest.mark.parametrize("weight", ["fraction", "fraction_list", "decimal_like_int"])
def test_prelu_takes_every_real_number_as_leaky_relu_does(weight):
    """issue 12 item 11: leaky_relu took a fractions.Fraction slope but prelu refused a
    Fraction weight although one alpha is exactly leaky_relu; numbers.Real alike."""
    from fractions import Fraction
    x, g = data()
    w = {"fraction": Fraction(1, 4), "fraction_list": [Fraction(1, 4)] * 4,
         "decimal_like_int": [np.int64(1), 1, Fraction(1, 1), 1.0]}[weight]
    slope = 0.25 if weight != "decimal_like_int" else 1.0
    assert_same(rf.prelu(x, w), rf.leaky_relu(x, Fraction(slope)))
    gx, gw = rf.prelu_backward(g, x, w)
    assert_same(gx, rf.leaky_relu_backward(g, x, slope))
    assert np.shape(gw) == np.shape(w)
    with pytest.raises(TypeError):
        rf.prelu(x, [True, False, True, True])
    with pytest.raises(TypeError):
        rf.prelu(x, [Fraction(1, 4), "a", 1, 1])


RRELU_CALLS = {
    "rrelu": lambda x, g, lo, hi, tr, seed, out: rf.rrelu(x, lo, hi, tr, seed=seed, out=out),
    "rrelu_backward": lambda x, g, lo, hi, tr, seed, out: rf.rrelu_backward(g, x, lo, hi, tr, seed=seed,
                                                                            out=out),
}


@pytest.mark.parametrize("which", ["lower", "upper"])
@pytest.mark.parametrize("bad, exc, match", [
    ("0.1", TypeError, "real number"), (True, TypeError, "real number"), (None, TypeError, "real number"),
    (1j, TypeError, "real number"), ([0.1], TypeError, "real number"),
    (float("nan"), ValueError, "finite"), (float("inf"), ValueError, "finite"),
    (10**400, ValueError, "finite"), (1e300, ValueError, "overflow")], ids=repr)
@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("name", list(RRELU_CALLS))
def test_rrelu_range_arguments(name, training, which, bad, exc, match):
    x, g = data()
    out = sentinel_out((3, 4), np.float32)
    guard = Guard(x, g, out)
    lo, hi = (bad, 1e301) if which == "lower" else (0.1, bad)
    if match == "overflow" and which == "lower":
        hi = 2e300                      # 1e300 <= 2e300: only float32 refuses lower
    with pytest.raises(exc, match=match if match != "real number" else which):
        RRELU_CALLS[name](x, g, lo, hi, training, 3, out)
    guard.check()


@pytest.mark.parametrize("lo, hi, match", [(0.5, 0.25, "lower must not exceed upper"),
                                           (-0.1, 0.25, "lower must be >= 0"),
                                           (-1.0, -0.5, "lower must be >= 0")])
@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("name", list(RRELU_CALLS))
def test_rrelu_range_order_and_sign(name, training, lo, hi, match):
    x, g = data()
    out = sentinel_out((3, 4), np.float32)
    guard = Guard(x, g, out)
    with pytest.raises(ValueError, match=match):
        RRELU_CALLS[name](x, g, lo, hi, training, 3, out)
    guard.check()
    # an empty range and lower = 0 are fine
    assert RRELU_CALLS[name](x, g, 0.25, 0.25, training, 3, None).shape == x.shape
    assert RRELU_CALLS[name](x, g, 0, 0, training, 3, None).shape == x.shape


@pytest.mark.parametrize("bad", [1, 0, "yes", None, 1.0, np.float64(1.0)], ids=repr)
@pytest.mark.parametrize("name", list(RRELU_CALLS))
def test_rrelu_training_must_be_bool(name, bad):
    x, g = data()
    out = sentinel_out((3, 4), np.float32)
    guard = Guard(x, g, out)
    with pytest.raises(TypeError, match="training must be a bool"):
        RRELU_CALLS[name](x, g, 0.1, 0.3, bad, 3, out)
    guard.check()
    assert RRELU_CALLS[name](x, g, 0.1, 0.3, np.True_, 3, None).shape == x.shape


@pytest.mark.parametrize("bad, exc, match", [
    (None, TypeError, "needs seed="), (-1, ValueError, r"seed must be in \[0, 2\*\*64\)"),
    (2**64, ValueError, "seed must be in"), (-(2**70), ValueError, "seed must be in"),
    (3.0, TypeError, "seed must be an int"), (True, TypeError, "seed must be an int"),
    (np.True_, TypeError, "seed must be an int"), ("3", TypeError, "seed must be an int"),
    (np.float64(3), TypeError, "seed must be an int")], ids=repr)
@pytest.mark.parametrize("name", list(RRELU_CALLS))
def test_rrelu_seed_in_training(name, bad, exc, match):
    x, g = data()
    out = sentinel_out((3, 4), np.float32)
    guard = Guard(x, g, out)
    with pytest.raises(exc, match=match):
        RRELU_CALLS[name](x, g, 0.1, 0.3, True, bad, out)
    guard.check()
    if bad is not None:
        # eval mode ignores the seed, but refuses a bad one just the same
        with pytest.raises(exc, match=match):
            RRELU_CALLS[name](x, g, 0.1, 0.3, False, bad, out)
        guard.check()


@pytest.mark.parametrize("seed", [0, 2**64 - 1, np.uint64(2**64 - 1), np.int8(3)], ids=repr)
@pytest.mark.parametrize("name", list(RRELU_CALLS))
def test_rrelu_seed_accepts_ints_up_to_2_to_64(name, seed):
    x, g = data()
    assert RRELU_CALLS[name](x, g, 0.1, 0.3, True, seed, None).shape == x.shape
    assert_same(RRELU_CALLS[name](x, g, 0.1, 0.3, True, seed, None),
                RRELU_CALLS[name](x, g, 0.1, 0.3, True, int(seed), None))


def test_rrelu_seed_is_keyword_only():
    x, g = data()
    with pytest.raises(TypeError):
        rf.rrelu(x, 0.1, 0.3, True, 5)
    with pytest.raises(TypeError):
        rf.rrelu_backward(g, x, 0.1, 0.3, True, 5)
