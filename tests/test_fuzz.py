"""Property-based fuzzing of the whole public API against relu_fast._reference.

Every call gets random functions, dtypes (unsupported ones too), shapes, layouts
(C, F, any axis order, steps of +-1/+-2, misaligned, byte-swapped, broadcast,
read-only, nested lists), out= choices (None, fresh, x or grad_output itself, the
same memory through another view, partial overlap, read-only, wrong shape, wrong
dtype, not an ndarray), parameters and thread counts (1, 2; some arrays above the
grain so that threads really run).  It must give the reference's answer or one
of the documented exceptions (TypeError/ValueError), and it must write nothing but
its result: every array is a view into a raw buffer with random slack around it,
and the whole buffer is compared before and after.

RELU_FAST_FUZZ_EXAMPLES sets the number of examples (default 250, ~15 s).
"""
import numbers
import os
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import relu_fast
from relu_fast import _reference as ref
from relu_fast._functions import FUNCTIONS

MAX_EXAMPLES = int(os.environ.get("RELU_FAST_FUZZ_EXAMPLES", "250"))
FUNCS = ("relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "elu", "elu_backward",
         "hardtanh", "hardtanh_backward", "relu6", "relu6_backward", "threshold", "threshold_backward",
         "hardsigmoid", "hardsigmoid_backward", "hardswish", "hardswish_backward", "selu", "selu_backward",
         "celu", "celu_backward", "silu", "silu_backward", "rrelu", "rrelu_backward", "softplus",
         "softplus_backward", "mish", "mish_backward", "gelu", "gelu_backward", "prelu",
         "prelu_backward")
BINARY = {"relu_backward", "leaky_relu_backward", "elu_backward", "hardtanh_backward", "relu6_backward",
          "threshold_backward", "hardsigmoid_backward", "hardswish_backward", "selu_backward",
          "celu_backward", "silu_backward", "rrelu_backward", "softplus_backward", "mish_backward",
          "gelu_backward", "prelu_backward"}
UNSUPPORTED = ("int16", "int32", "int64", "uint8", "bool", "complex64", "complex128", "longdouble")
BAD_REALS = (True, "0.1", None, 1j, [0.1])
OUT_KINDS = ("none", "none", "none", "fresh", "fresh", "fresh_swapped", "fresh_strided", "alias_x", "alias_x",
             "alias_g", "same_view", "partial", "partial", "readonly", "wrong_shape", "wrong_dtype", "list")
BIG_SHAPES = ((40000,), (33000,), (3, 12000), (2, 5, 3500), (70001,), (4, 9000))


# ---------------------------------------------------------------------------
# Arrays: views into raw byte buffers
# ---------------------------------------------------------------------------

def layout_view(raw, shape, dtype, perm, steps, offset):
    """View of `raw`: axes laid out in memory in order `perm` (outermost first),
    axis k stepping steps[k] elements (negative: reversed), starting at byte `offset`."""
    dtype = np.dtype(dtype)
    strides = [0] * len(shape)
    acc = dtype.itemsize
    for ax in reversed(perm):
        strides[ax] = acc * steps[ax]
        acc *= max(shape[ax], 1) * abs(steps[ax])
    start = offset
    if all(s > 0 for s in shape):
        start += sum((shape[ax] - 1) * -strides[ax] for ax in range(len(shape)) if strides[ax] < 0)
    return np.ndarray(shape, dtype, buffer=raw, offset=start, strides=strides)


def span_bytes(shape, dtype, steps):
    n = np.dtype(dtype).itemsize
    for s, step in zip(shape, steps):
        n *= max(s, 1) * abs(step)
    return n


def fill(a, rng):
    """Normals at several scales, a quarter of them NaN, +-inf, +-0, subnormals, extremes."""
    if a.size == 0 or a.dtype.kind != "f":
        return
    info = np.finfo(a.dtype)
    n = a.size
    v = rng.standard_normal(n) * rng.choice([1e-3, 1.0, 30.0], size=n)
    pool = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, float(info.smallest_subnormal),
                     -float(info.smallest_subnormal), float(info.tiny), float(info.max), -float(info.max),
                     1.0, -1.0])
    pick = rng.random(n) < 0.25
    v[pick] = rng.choice(pool, size=int(pick.sum()))
    with np.errstate(all="ignore"):
        a[...] = v.reshape(a.shape).astype(a.dtype)


class Arrays:
    """Makes arrays of a drawn layout and remembers their raw buffers."""

    def __init__(self, rng):
        self.rng = rng
        self.raws = []

    def raw(self, nbytes):
        raw = np.frombuffer(bytearray(self.rng.bytes(nbytes)), dtype=np.uint8)
        self.raws.append(raw)
        return raw

    def make(self, shape, dtype, lay):
        kind, perm, steps, misalign, readonly = lay
        if kind == "list":
            a = np.empty(shape)
            fill(a, self.rng)
            return a.tolist()
        if kind == "broadcast" and len(shape) > 0 and shape[0] > 1:
            small = self.make((1,) + tuple(shape[1:]), dtype, ("plain", tuple(range(len(shape))),
                                                               (1,) * len(shape), 0, False))
            return np.broadcast_to(small, shape)
        nbytes = span_bytes(shape, dtype, steps)
        raw = self.raw(2 * nbytes + 160)
        a = layout_view(raw, shape, dtype, perm, steps, 64 + misalign)
        fill(a, self.rng)
        if readonly:
            a.flags.writeable = False
        return a


@st.composite
def layouts(draw, ndim, itemsize_hint=8):
    kind = draw(st.sampled_from(("plain",) * 14 + ("list", "broadcast")))
    perm = tuple(draw(st.permutations(range(ndim))))
    steps = tuple(draw(st.sampled_from((1, 1, 1, -1, 2, -2))) if draw(st.integers(0, 3)) == 0 else 1
                  for _ in range(ndim))
    misalign = draw(st.sampled_from((0,) * 6 + (1, 2, 3)))
    readonly = draw(st.integers(0, 14)) == 0
    return kind, perm, steps, misalign, readonly


@st.composite
def reals(draw):
    k = draw(st.integers(0, 19))
    if k == 0:
        return draw(st.sampled_from(BAD_REALS))
    if k <= 2:
        return draw(st.sampled_from((np.float32(0.2), np.float64(-0.3), np.int64(3), Fraction(1, 3), 0, 7,
                                     np.nan, np.inf, -np.inf, 1e30, 1e-30, -0.0)))
    return draw(st.floats(-10, 10, allow_nan=False))


@st.composite
def cases(draw):
    name = draw(st.sampled_from(FUNCS))
    big = draw(st.integers(0, 11)) == 0
    if big:
        shape = draw(st.sampled_from(BIG_SHAPES))
    else:
        ndim = draw(st.integers(0, 4))
        shape = tuple(draw(st.integers(0, 5)) for _ in range(ndim))
    ndim = len(shape)
    if draw(st.integers(0, 12)) == 0:
        xdt = draw(st.sampled_from(UNSUPPORTED))
    else:
        xdt = draw(st.sampled_from(("float32", "float64", "float16")))
        if draw(st.integers(0, 5)) == 0:
            xdt = np.dtype(xdt).newbyteorder(">").str
    case = dict(name=name, shape=shape, xdt=xdt, xlay=draw(layouts(ndim)),
                seed=draw(st.integers(0, 2**32 - 1)), threads=draw(st.sampled_from((1, 2))))
    if name in BINARY:
        k = draw(st.integers(0, 23))
        case["gdt"] = xdt if k > 1 else draw(st.sampled_from(("float32", "float64", "float16", ">f8")))
        case["gshape"] = shape if k != 1 else shape + (1,)
        case["glay"] = draw(layouts(len(case["gshape"])))
    if name.startswith(("leaky", "elu", "celu")):
        case["param"] = draw(reals())
    if name.startswith("hardtanh"):
        # (min_val, max_val): mostly ordered, sometimes reversed, equal or not real
        case["param"], case["param2"] = sorted((draw(st.floats(-10, 10)), draw(st.floats(-10, 10))),
                                               reverse=draw(st.integers(0, 7)) == 0)
        if draw(st.integers(0, 5)) == 0:
            case[draw(st.sampled_from(("param", "param2")))] = draw(reals())
    if name.startswith("threshold"):
        # threshold (and value for the forward): finite, sometimes not real
        case["param"] = draw(st.floats(-10, 10)) if draw(st.integers(0, 5)) else draw(reals())
        if name == "threshold":
            case["param2"] = draw(st.floats(-10, 10)) if draw(st.integers(0, 5)) else draw(reals())
    if name.startswith("rrelu"):
        # (lower, upper): mostly 0 <= lower <= upper, sometimes reversed, negative, not
        # finite or not real; training mostly a bool; the seed mostly a valid int
        case["lower"], case["upper"] = sorted((draw(st.floats(0, 2)), draw(st.floats(0, 2))),
                                              reverse=draw(st.integers(0, 7)) == 0)
        if draw(st.integers(0, 7)) == 0:
            case[draw(st.sampled_from(("lower", "upper")))] = draw(st.sampled_from(
                BAD_REALS + (-0.5, np.inf, np.nan, Fraction(1, 5), np.float32(0.25))))
        case["training"] = draw(st.sampled_from((True,) * 4 + (False, np.True_, 1, None)))
        case["rseed"] = draw(st.sampled_from(("int",) * 8 + ("np", "none", "neg", "big", "float",
                                                           "bool")))
        case["rseed_value"] = draw(st.integers(0, 2**64 - 1))
    if name.startswith("softplus"):
        # (beta, threshold): mostly beta in (0, 10], sometimes any real (<= 0 refused) or not real
        case["param"] = draw(st.floats(0.01, 10)) if draw(st.integers(0, 5)) else draw(reals())
        case["param2"] = draw(st.floats(-30, 30)) if draw(st.integers(0, 5)) else draw(reals())
    if name in ("hardtanh_backward", "relu6_backward", "hardsigmoid_backward"):
        case["is_result"] = draw(st.sampled_from((False, True) * 3 + (np.True_, np.False_, 1, None)))
    if name.startswith("gelu"):
        case["approximate"] = draw(st.sampled_from(("none", "tanh") * 4 + ("None", "", 1, None, b"tanh")))
    if name in ("elu_backward", "selu_backward", "celu_backward"):
        case["is_result"] = draw(st.sampled_from((False, True) * 3 + (np.True_, np.False_, 1, None)))
    if name.startswith("prelu"):
        k = draw(st.integers(0, 11))
        if k == 0:
            case["axis"] = draw(st.sampled_from((-ndim - 1, ndim, True, 1.0, None)))
        elif k == 1:
            case["axis"] = np.int64(draw(st.integers(-max(ndim, 1), max(ndim - 1, 0))))
        else:
            case["axis"] = draw(st.integers(-max(ndim, 1), max(ndim - 1, 0)))
        case["weight"] = draw(st.sampled_from(("scalar", "one", "list", "int_list", "zero_d", "swapped",
                                               "strided") + ("per_channel",) * 10
                                              + ("other_dtype", "two_d", "empty", "wrong_count", "strings")))
    if name != "prelu_backward":
        case["out"] = draw(st.sampled_from(OUT_KINDS))
        case["olay"] = draw(layouts(ndim))
        if case["out"] == "partial":
            # overlap the out with x or grad_output, mostly laid out so that the kernel
            # could write it directly (C order, aligned): the case that needs care
            of = draw(st.sampled_from(("xlay", "glay") if name in BINARY else ("xlay",)))
            case["partial_of"] = of
            if draw(st.integers(0, 3)) > 0:
                case[of] = ("plain", tuple(range(len(case[of][1]))), (1,) * len(case[of][1]), 0, False)
    return case


# ---------------------------------------------------------------------------
# The documented behaviour
# ---------------------------------------------------------------------------

def _type_of(a):
    return (a.dtype if isinstance(a, np.ndarray) else np.asarray(a).dtype).type


def _supported(a):
    return _type_of(a) in (np.float32, np.float64, np.float16)


def _real_ok(v):
    return not isinstance(v, bool) and isinstance(v, numbers.Real)


def _channels(x, axis):
    x = np.asarray(x)
    if x.ndim < 2 or isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        return None
    if not -x.ndim <= axis < x.ndim:
        return None
    return x.shape[axis]


def _rrelu_seed(case):
    kind, v = case["rseed"], case["rseed_value"]
    return {"int": v, "np": np.uint64(v), "none": None, "neg": -1 - v % 5, "big": 2**64 + v % 5,
            "float": 3.0, "bool": True}[kind]


def _rrelu_errors(case):
    errs, lo, hi, tr = set(), case["lower"], case["upper"], case["training"]
    finite = True
    for v in (lo, hi):
        if not _real_ok(v):
            errs.add(TypeError)
            finite = False
        elif not np.isfinite(float(v)):
            errs.add(ValueError)
            finite = False
    if finite and (float(lo) < 0 or float(lo) > float(hi)):
        errs.add(ValueError)
    is_bool = isinstance(tr, (bool, np.bool_))
    if not is_bool:
        errs.add(TypeError)
    seed = _rrelu_seed(case)
    if seed is None:
        if is_bool and tr:
            errs.add(TypeError)           # training needs a seed
    elif isinstance(seed, (bool, float)):
        errs.add(TypeError)
    elif not 0 <= int(seed) < 2**64:
        errs.add(ValueError)
    return errs


def expected_errors(case, x, g, out, weight):
    """Exception types the call may raise (empty: it must succeed)."""
    name, errs = case["name"], set()
    if not _supported(x):
        errs.add(TypeError)
    if g is not None:
        if not _supported(g) or _type_of(g) != _type_of(x):
            errs.add(TypeError)
        if np.shape(g) != np.shape(x):
            errs.add(ValueError)
    if "param" in case:
        if not _real_ok(case["param"]):
            errs.add(TypeError)
        elif not np.isfinite(float(case["param"])):
            errs.add(ValueError)      # slopes and alphas must be finite
        elif name.startswith("celu") and not float(case["param"]) > 0:
            errs.add(ValueError)      # celu's alpha must be > 0
        elif name.startswith("softplus") and not float(case["param"]) > 0:
            errs.add(ValueError)      # beta <= 0
    if "param2" in case:
        if not _real_ok(case["param2"]):
            errs.add(TypeError)
        elif not np.isfinite(float(case["param2"])):
            errs.add(ValueError)
        elif case["name"].startswith("hardtanh") and _real_ok(case["param"]) \
                and np.isfinite(float(case["param"])) and float(case["param"]) > float(case["param2"]):
            errs.add(ValueError)      # min_val > max_val
    if name.startswith("rrelu"):
        errs |= _rrelu_errors(case)
    if "is_result" in case:
        if not isinstance(case["is_result"], (bool, np.bool_)):
            errs.add(TypeError)
        elif name == "elu_backward" and case["is_result"] and _real_ok(case["param"]) \
                and not float(case["param"]) >= 0:
            errs.add(ValueError)      # elu from its output needs alpha >= 0
    if "approximate" in case:
        if not isinstance(case["approximate"], str):
            errs.add(TypeError)
        elif case["approximate"] not in ("none", "tanh"):
            errs.add(ValueError)
    if name.startswith("prelu"):
        axis, nd = case["axis"], np.ndim(x)
        if isinstance(weight, np.ndarray):
            if _type_of(weight) != _type_of(x) and not (
                    _type_of(x) == np.float16 and _type_of(weight) == np.float32):
                errs.add(TypeError)
        else:
            wdt = np.asarray(weight).dtype
            if wdt.kind not in "fiu" or wdt == np.bool_:
                errs.add(TypeError)
        nw = np.size(weight)
        if np.ndim(weight) > 1 or nw == 0:
            errs.add(ValueError)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            errs.add(TypeError)
        elif nd < 2:
            if nw != 1:
                errs.add(ValueError)
        elif not -nd <= axis < nd or nw not in (1, np.shape(x)[axis]):
            errs.add(ValueError)
    if case.get("out", "none") != "none" and _supported(x):
        if not isinstance(out, np.ndarray) or out.dtype.type != _type_of(x):
            errs.add(TypeError)
        else:
            if out.shape != np.shape(x):
                errs.add(ValueError)
            if not out.flags.writeable:
                errs.add(ValueError)
    return errs


def reference(case, x, g, weight):
    name = case["name"]
    x = np.array(x, copy=True)
    g = None if g is None else np.array(g, copy=True)
    with np.errstate(all="ignore"):
        if name == "relu":
            return ref.relu(x)
        if name == "relu_backward":
            return ref.relu_backward(g, x)
        if name == "leaky_relu":
            return ref.leaky_relu(x, case["param"])
        if name == "leaky_relu_backward":
            return ref.leaky_relu_backward(g, x, case["param"])
        if name == "elu":
            return ref.elu(x, case["param"])
        if name == "elu_backward":
            return ref.elu_backward(g, x, case["param"], is_result=bool(case["is_result"]))
        if name == "hardtanh":
            return ref.hardtanh(x, case["param"], case["param2"])
        if name == "hardtanh_backward":
            return ref.hardtanh_backward(g, x, case["param"], case["param2"])
        if name == "relu6":
            return ref.relu6(x)
        if name in ("relu6_backward", "hardsigmoid_backward"):
            return getattr(ref, name)(g, x, is_result=bool(case["is_result"]))
        if name == "threshold":
            return ref.threshold(x, case["param"], case["param2"])
        if name == "threshold_backward":
            return ref.threshold_backward(g, x, case["param"])
        if name in ("hardsigmoid", "hardswish", "selu", "silu"):
            return getattr(ref, name)(x)
        if name in ("selu_backward",):
            return ref.selu_backward(g, x, is_result=bool(case["is_result"]))
        if name == "celu":
            return ref.celu(x, case["param"])
        if name == "celu_backward":
            return ref.celu_backward(g, x, case["param"], is_result=bool(case["is_result"]))
        if name == "silu_backward":
            return ref.silu_backward(g, x)
        if name == "hardswish_backward":
            return ref.hardswish_backward(g, x)
        if name == "rrelu":
            return ref.rrelu(x, case["lower"], case["upper"], case["training"], seed=_rrelu_seed(case))
        if name == "rrelu_backward":
            return ref.rrelu_backward(g, x, case["lower"], case["upper"], case["training"],
                                      seed=_rrelu_seed(case))
        if name.startswith("softplus"):
            xs = (x,) if name == "softplus" else (g, x)
            return getattr(ref, name)(*xs, float(case["param"]), float(case["param2"]))
        if name == "mish":
            return ref.mish(x)
        if name == "mish_backward":
            return ref.mish_backward(g, x)
        if name == "gelu":
            return ref.gelu(x, case["approximate"])
        if name == "gelu_backward":
            return ref.gelu_backward(g, x, case["approximate"])
        if name == "prelu":
            return ref.prelu(x, weight, axis=case["axis"])
        return ref.prelu_backward(g, x, weight, axis=case["axis"])


def assert_same(got, want, ulps=0, extra=None):
    """Equal bit for bit (NaN == NaN), or within `ulps` units in the last place
    (plus an absolute `extra` array, for reordered sums)."""
    want = np.asarray(want).astype(got.dtype.newbyteorder("="))
    got = got.astype(got.dtype.newbyteorder("="))
    assert got.shape == want.shape
    gn, wn = np.isnan(got), np.isnan(want)
    assert np.array_equal(gn, wn), f"NaN at different places: got {got[gn != wn]}, want {want[gn != wn]}"
    uint = {2: np.uint16, 4: np.uint32}.get(got.dtype.itemsize, np.uint64)
    if got.dtype.itemsize == 2:
        ulps = min(ulps, 1)     # float32 results within a few ulp round to 16-bit neighbours
    gb, wb = got.view(uint), want.view(uint)
    same = (gb == wb) | gn
    if ulps == 0 and extra is None:
        bad = ~same
    else:
        info = np.finfo(got.dtype)
        with np.errstate(all="ignore"):
            tol = ulps * np.spacing(np.maximum(np.abs(got), np.abs(want)).astype(got.dtype))
            if extra is not None:
                tol = tol + extra
            close = np.abs(got.astype(np.float64) - want.astype(np.float64)) <= tol
            # a value at the edge of the range may round to +-max in one and +-inf in the other
            edge = (np.isinf(got) | np.isinf(want)) & (np.minimum(np.abs(got), np.abs(want)) >= info.max) \
                & (np.sign(got) == np.sign(want))
        bad = ~(same | close | edge)
    assert not bad.any(), f"{bad.sum()} of {bad.size} differ: got {got[bad][:5]}, want {want[bad][:5]}"


def make_weight(case, arrays, x, xtype):
    kind, axis = case["weight"], case["axis"]
    nd = np.ndim(x)
    C = _channels(x, axis) if nd >= 2 else 1
    C = C if C else 1
    rng = arrays.rng
    vals = np.round(rng.standard_normal(C) * 0.5, 3)
    if kind == "scalar":
        return float(vals[0])
    if kind == "one":
        return np.array([vals[0]], dtype=xtype)
    if kind == "per_channel":
        return vals.astype(xtype)
    if kind == "list":
        return vals.tolist()
    if kind == "int_list":
        return [int(v) for v in rng.integers(-2, 3, size=C)]
    if kind == "zero_d":
        return np.array(vals[0], dtype=xtype)
    if kind == "swapped":
        return vals.astype(np.dtype(xtype).newbyteorder(">"))
    if kind == "strided":
        return np.repeat(vals, 2).astype(xtype)[::2]
    if kind == "other_dtype":
        return vals.astype(np.float64 if xtype == np.float32 else np.float32)
    if kind == "two_d":
        return vals.astype(xtype).reshape(1, C)
    if kind == "empty":
        return np.empty(0, dtype=xtype)
    if kind == "wrong_count":
        return np.arange(C + 1, dtype=xtype)
    return ["a"] * C


def make_out(case, arrays, x, g):
    kind, shape = case.get("out", "none"), np.shape(x)
    if len(case.get("olay", ((), ()))[1]) != len(shape):   # x was a list that numpy reshaped
        case = dict(case, olay=("plain", tuple(range(len(shape))), (1,) * len(shape), 0, False))
    xtype = _type_of(x)
    if not _supported(x):
        xtype = np.float32
    if kind == "none":
        return None
    if kind == "alias_x":
        return x
    if kind == "alias_g":
        return g if g is not None else x
    if kind == "list":
        return np.zeros(shape).tolist()
    if kind == "same_view":
        if isinstance(x, np.ndarray):
            return x.view()
        return None
    if kind == "partial":
        a = g if case.get("partial_of") == "glay" else x
        if isinstance(a, np.ndarray) and a.flags.c_contiguous and a.size > 1 and isinstance(a.base, np.ndarray) \
                and a.base.dtype == np.uint8 and a.base.flags.writeable:
            shift = int(arrays.rng.integers(-a.size + 1, a.size)) * a.itemsize or a.itemsize
            raw = a.base
            start = a.__array_interface__["data"][0] - raw.__array_interface__["data"][0]
            if 0 <= start + shift and start + shift + a.nbytes <= raw.size:
                return np.ndarray(shape, a.dtype, buffer=raw, offset=start + shift)
        return arrays.make(shape, xtype, case["olay"])
    if kind == "fresh":
        return arrays.make(shape, xtype, ("plain",) + case["olay"][1:4] + (False,))
    if kind == "fresh_swapped":
        return arrays.make(shape, np.dtype(xtype).newbyteorder(">"), ("plain",) + case["olay"][1:4] + (False,))
    if kind == "fresh_strided":
        return arrays.make(shape, xtype, ("plain", tuple(range(len(shape))), (2,) * len(shape), 0, False))
    if kind == "readonly":
        return arrays.make(shape, xtype, ("plain",) + case["olay"][1:4] + (True,))
    if kind == "wrong_shape":
        return np.zeros(shape + (2,), dtype=xtype)
    return np.zeros(shape, dtype=np.float64 if xtype == np.float32 else np.float32)  # wrong_dtype


def call(case, x, g, weight, out):
    f = getattr(relu_fast, case["name"])
    name = case["name"]
    kw = {} if case.get("out", "none") == "none" else {"out": out}
    with relu_fast.limit_threads(case["threads"]):
        if name in ("relu",):
            return f(x, **kw)
        if name == "relu_backward":
            return f(g, x, **kw)
        if name in ("leaky_relu", "elu", "celu"):
            return f(x, case["param"], **kw)
        if name == "celu_backward":
            return f(g, x, case["param"], is_result=case["is_result"], **kw)
        if name == "selu_backward":
            return f(g, x, is_result=case["is_result"], **kw)
        if name in ("selu", "silu"):
            return f(x, **kw)
        if name == "silu_backward":
            return f(g, x, **kw)
        if name == "leaky_relu_backward":
            return f(g, x, case["param"], **kw)
        if name == "elu_backward":
            return f(g, x, case["param"], is_result=case["is_result"], **kw)
        if name == "hardtanh":
            return f(x, case["param"], case["param2"], **kw)
        if name == "hardtanh_backward":
            return f(g, x, case["param"], case["param2"], is_result=case["is_result"], **kw)
        if name in ("relu6", "hardsigmoid", "hardswish"):
            return f(x, **kw)
        if name in ("relu6_backward", "hardsigmoid_backward"):
            return f(g, x, is_result=case["is_result"], **kw)
        if name == "threshold":
            return f(x, case["param"], case["param2"], **kw)
        if name == "threshold_backward":
            return f(g, x, case["param"], **kw)
        if name in ("hardswish_backward", "mish_backward"):
            return f(g, x, **kw)
        if name == "rrelu":
            return f(x, case["lower"], case["upper"], case["training"], seed=_rrelu_seed(case), **kw)
        if name == "rrelu_backward":
            return f(g, x, case["lower"], case["upper"], case["training"], seed=_rrelu_seed(case),
                     **kw)
        if name == "softplus":
            return f(x, case["param"], case["param2"], **kw)
        if name == "softplus_backward":
            return f(g, x, case["param"], case["param2"], **kw)
        if name == "mish":
            return f(x, **kw)
        if name == "gelu":
            return f(x, case["approximate"], **kw)
        if name == "gelu_backward":
            return f(g, x, case["approximate"], **kw)
        if name == "prelu":
            return f(x, weight, axis=case["axis"], **kw)
        return f(g, x, weight, axis=case["axis"])


def run_case(case):
    rng = np.random.default_rng(case["seed"])
    arrays = Arrays(rng)
    x = arrays.make(case["shape"], case["xdt"], case["xlay"])
    g = None
    if case["name"] in BINARY:
        g = arrays.make(case["gshape"], case["gdt"], case["glay"])
    weight = make_weight(case, arrays, x, _type_of(x) if _supported(x) else np.float32) \
        if case["name"].startswith("prelu") else None
    out = make_out(case, arrays, x, g)
    if case.get("out") == "same_view" and out is None:
        case = dict(case, out="none")
    errs = expected_errors(case, x, g, out, weight)
    before = [r.copy() for r in arrays.raws]
    lists = [a for a in (x, g, weight) if isinstance(a, list)]
    lists_before = repr(lists)
    want = None if errs else reference(case, x, g, weight)

    if errs:
        with pytest.raises(tuple(errs)):
            call(case, x, g, weight, out)
        for r, b in zip(arrays.raws, before):
            assert np.array_equal(r, b), "a refused call wrote into an array"
        return
    # the inputs' values before the call (an out= that overlaps them changes them)
    with np.errstate(all="ignore"):
        x_in = np.array(x, dtype=np.float64) if _supported(x) else None
        g_in = None if g is None or not _supported(g) else np.array(g, dtype=np.float64)
    got = call(case, x, g, weight, out)

    # where the call may have written: out's elements, nowhere else
    allowed = [np.zeros(r.shape, dtype=bool) for r in arrays.raws]
    if isinstance(out, np.ndarray):
        assert got is out
        for r, mask in zip(arrays.raws, allowed):
            if np.shares_memory(out, r):
                start = out.__array_interface__["data"][0] - r.__array_interface__["data"][0]
                mv = np.ndarray(out.shape + (out.itemsize,), np.bool_, buffer=mask, offset=start,
                                strides=out.strides + (1,))
                mv[...] = True
    for r, b, mask in zip(arrays.raws, before, allowed):
        assert np.array_equal(r[~mask], b[~mask]), "the call wrote outside its out array"
    assert repr(lists) == lists_before, "the call changed an input list"

    xtype = _type_of(x)
    if case["name"] == "prelu_backward":
        gx, gw = got
        want_gx, want_gw = want
        for a in got:
            assert isinstance(a, np.ndarray) and a.dtype == np.dtype(xtype)
        assert not np.shares_memory(gx, x) and (g is None or not np.shares_memory(gx, g))
        assert_same(gx, want_gx)
        assert gw.shape == np.shape(weight)
        xf, gf = np.asarray(x, dtype=np.float64), np.asarray(g, dtype=np.float64)
        with np.errstate(all="ignore"):
            mag = np.where(xf > 0, 0.0, np.abs(xf * gf))
            C = gw.size
            if C > 1:
                ax = case["axis"] % xf.ndim
                mag = mag.sum(axis=tuple(k for k in range(xf.ndim) if k != ax))
            else:
                mag = mag.sum()
            extra = (np.asarray(mag) * (xf.size + 1) * 2.0**-52).reshape(gw.shape)
            # where the finite terms alone overflow float64 when summed, the result
            # depends on the order of summation (inf - inf = NaN in one order, inf in
            # another): nothing to compare there
            fin = np.where(np.isfinite(xf * gf) & (xf <= 0), np.abs(xf * gf), 0.0)
            fin = fin.sum(axis=tuple(k for k in range(xf.ndim) if k != ax)) if C > 1 else fin.sum()
            unordered = ~np.isfinite(np.asarray(fin).reshape(gw.shape)) & (xtype == np.float64)
        assert_same(np.where(unordered, 0, gw), np.where(unordered, 0, want_gw), ulps=1, extra=extra)
        return
    assert isinstance(got, np.ndarray) and got.dtype.type == xtype and got.shape == np.shape(x)
    if out is None:
        for r in arrays.raws:
            assert not np.shares_memory(got, r)
    extra = None
    if case.get("is_result") is True and case["name"] in ("elu_backward", "selu_backward",
                                                         "celu_backward"):
        # from the output: g (y + c) with c = alpha (elu), lambda alpha (selu), or
        # g (y / alpha + 1) (celu), the sum taken in float64 (the reference: long double),
        # so where it cancels its error is absolute: a few ulp of the sum's larger term
        xf, gf = x_in, g_in
        with np.errstate(all="ignore"):
            if case["name"] == "celu_backward":
                big = np.abs(xf / float(case["param"])) + 1.0
            else:
                c = float(case["param"]) if case["name"] == "elu_backward" else 1.7580993408473766
                big = np.abs(xf) + abs(c)
            extra = np.abs(gf) * (4 * np.spacing(big.astype(np.dtype(xtype))))
            extra = np.where(np.isfinite(extra), extra, 0.0)
            # y / alpha past float64's range (no celu output is below -alpha): inf in
            # float64, finite in the reference's long double -- nothing to compare
            if case["name"] == "celu_backward":
                lost = ~np.isfinite(big) & np.isfinite(xf)
                got, want = np.where(lost, 0, got), np.where(lost, 0, want).astype(got.dtype)
    assert_same(got, want, ulps=FUNCTIONS[case["name"]].ulps, extra=extra)


@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
@given(case=cases())
def test_fuzz_public_api(case):
    run_case(case)


def test_fuzz_covers_refusals_and_successes():
    """The generator reaches both outcomes for each function (the fuzz test could fail)."""
    seen = set()
    rng_cases = cases()

    # about 60 examples a function: each sees both outcomes
    @settings(max_examples=80 * len(FUNCS), derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=rng_cases)
    def collect(case):
        rng = np.random.default_rng(case["seed"])
        arrays = Arrays(rng)
        x = arrays.make(case["shape"], case["xdt"], case["xlay"])
        g = arrays.make(case["gshape"], case["gdt"], case["glay"]) if case["name"] in BINARY else None
        w = make_weight(case, arrays, x, _type_of(x) if _supported(x) else np.float32) \
            if case["name"].startswith("prelu") else None
        out = make_out(case, arrays, x, g)
        seen.add((case["name"], bool(expected_errors(case, x, g, out, w))))

    collect()
    for name in FUNCS:
        assert (name, True) in seen and (name, False) in seen, name
