"""float16 and bfloat16: conversions checked on every value at every level, and every
function computed in float32 from the 16-bit values and rounded once (the reference's
16-bit twins, relu_fast._reference), for every level, thread count, layout, size and
special value; PReLU's weight rules, masks, stats, streaming stores and out=.  PyTorch's
16-bit results: tests/test_torch.py."""
import importlib
import subprocess
import sys

import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _api, _dispatch
from relu_fast import _reference as ref
from relu_fast._functions import ARRAYS, ELEMENTWISE, FUNCTIONS
from conftest import (BFLOAT16, FUNCS, GRAIN, HALF_DTYPES, assert_same, assert_ulp, compare, finfo,
                      rand, special, weight_for, with_specials)

LEVELS = _dispatch.available_levels()
DT_CODE = {np.dtype(np.float16): 2, np.dtype(BFLOAT16) if BFLOAT16 else None: 3}


@pytest.fixture(params=HALF_DTYPES, ids=lambda d: np.dtype(d).name)
def half(request):
    return request.param


def kernels(level):
    return importlib.import_module(f"relu_fast._kernels_{level}")


def bits(a):
    return np.asarray(a).view(np.uint16)


# ---------------------------------------------------------------------------
# Conversions, every value
# ---------------------------------------------------------------------------

def _all16(half):
    return np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(half)


def _float32_inputs(half):
    """Every 16-bit value, every midpoint between neighbours and the float32 values next
    to them, float32's specials and subnormals, and a million random float32 patterns."""
    with np.errstate(invalid="ignore"):
        v = _all16(half).astype(np.float64)
    v = np.sort(v[np.isfinite(v)])
    mids = ((v[:-1] + v[1:]) / 2).astype(np.float32)        # exact: 16-bit + 1 bit
    top = finfo(half).max.astype(np.float64)
    # past the largest value: its midpoint with the next power of two's spacing
    over = np.float32(top + (top - np.nextafter(np.float32(top), np.float32(0))) / 2
                      if half == np.float16 else top)
    parts = [v.astype(np.float32), mids, np.nextafter(mids, np.float32(np.inf)),
             np.nextafter(mids, np.float32(-np.inf)), np.array([over, -over], np.float32),
             np.array([np.inf, -np.inf, np.nan, -np.nan, 3e38, -3e38, 1e-45, -1e-45, 1e-40,
                       65520.0, 65519.996, -65520.0, 2.0 ** -25, 2.0 ** -25 * 1.0000001,
                       2.0 ** -24 * 1.5, 2.0 ** -26], np.float32),
             np.random.default_rng(0).integers(0, 1 << 32, 1 << 20, dtype=np.uint64)
             .astype(np.uint32).view(np.float32)]
    return np.concatenate(parts)


@pytest.mark.parametrize("level", LEVELS)
def test_from_16bit_every_value(level, half):
    src = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
    got = np.empty(1 << 16, np.float32)
    kernels(level)._half_convert(DT_CODE[np.dtype(half)], src, got)
    want = src.view(half).astype(np.float32)        # NumPy's / ml_dtypes' own conversion
    nan = np.isnan(want)
    assert nan.sum() == (2046 if half == np.float16 else 254)
    np.testing.assert_array_equal(got.view(np.uint32)[~nan], want.view(np.uint32)[~nan])
    # NaN stays NaN, its sign and top payload kept, made quiet
    g, w = got.view(np.uint32)[nan], want.view(np.uint32)[nan]
    assert np.isnan(got[nan]).all()
    np.testing.assert_array_equal(g, w | 0x00400000)


@pytest.mark.parametrize("level", LEVELS)
def test_to_16bit_rounds_to_nearest_even(level, half):
    src = _float32_inputs(half)
    got = np.empty(src.size, np.uint16)
    kernels(level)._half_convert(DT_CODE[np.dtype(half)], src, got)
    with np.errstate(over="ignore", invalid="ignore"):
        want = src.astype(half).view(np.uint16)
    nan = np.isnan(src)
    assert nan.sum() > 100
    np.testing.assert_array_equal(got[~nan], want[~nan])
    out = got[nan].view(half).astype(np.float32)
    assert np.isnan(out).all()
    quiet = 0x0200 if half == np.float16 else 0x0040
    assert np.all(got[nan] & quiet)
    np.testing.assert_array_equal(got[nan] >> 15, src[nan].view(np.uint32) >> 31)   # sign kept


def test_every_level_converts_to_the_same_bits(half):
    """Hardware (F16C, AVX-512) and the portable code: the same bits for every input,
    NaN payloads included."""
    src32 = _float32_inputs(half)
    src16 = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
    results = {}
    for level in LEVELS:
        a, b = np.empty(src32.size, np.uint16), np.empty(1 << 16, np.float32)
        kernels(level)._half_convert(DT_CODE[np.dtype(half)], src32, a)
        kernels(level)._half_convert(DT_CODE[np.dtype(half)], src16, b)
        results[level] = (a, b.view(np.uint32))
    for level in LEVELS:
        np.testing.assert_array_equal(results[level][0], results[LEVELS[0]][0])
        np.testing.assert_array_equal(results[level][1], results[LEVELS[0]][1])


def test_conversion_paths_reported():
    for level in LEVELS:
        assert kernels(level).F16_PATH in ("F16C", "AVX-512F", "NEON", "software")
    assert kernels("baseline").F16_PATH in ("software", "NEON")
    for level in LEVELS:        # float16 in registers exactly where it converts natively
        assert kernels(level).F16_REGS == (kernels(level).F16_PATH != "software")


def test_half_convert_checks_its_arguments():
    k = kernels(LEVELS[0])
    with pytest.raises(ValueError, match="dt"):
        k._half_convert(0, np.zeros(2, np.float32), np.zeros(2, np.uint16))
    with pytest.raises(ValueError, match="length"):
        k._half_convert(2, np.zeros(2, np.float32), np.zeros(3, np.uint16))


# ---------------------------------------------------------------------------
# Every function against the reference: levels, threads, sizes, specials
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", FUNCS)
def test_every_level_and_thread_count(name, half):
    original = rf.kernel_level()
    x, g = with_specials(half)
    big_x = rand((4, 3, GRAIN // 6 + 17), half, seed=22, zeros=True)
    big_g = rand((4, 3, GRAIN // 6 + 17), half, seed=23)
    results = {}
    try:
        for level in LEVELS:
            _api._use_level(level)
            for nthreads in (1, 2):
                r = []
                with rf.limit_threads(nthreads):
                    for xx, gg in ((x, g), (x.reshape(-1, 19), g.reshape(-1, 19)), (big_x, big_g)):
                        for axis in ((1, -1) if name.startswith("prelu") else (1,)):
                            out = compare(name, xx, gg, axis=axis)
                            r.extend(out if isinstance(out, tuple) else (out,))
                results[level, nthreads] = r
    finally:
        _api._use_level(original)
    fma = FUNCTIONS[name.replace("_result", "")].fma
    first = results[LEVELS[0], 1]
    for (level, nthreads), r in results.items():
        for a, b in zip(results[level, 1], r):
            assert_same(a, b)                       # the thread count never matters
        for a, b in zip(first, r):
            # levels agree bit for bit but where FMA may move a float32 result by an ulp
            (assert_ulp(a, b, 1) if fma and a.dtype.itemsize == 2 else assert_same(a, b))


SIZES = (0, 1, 7, 8, 9, 511, 512, 513, 1025, GRAIN - 1, GRAIN + 3, 2 * GRAIN + 511)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_sizes_and_offsets(name, half):
    """Every size around the conversion block and the thread grain, at an offset of one
    element (2-byte aligned only), out= given."""
    for n in SIZES:
        base_x = rand(n + 1, half, seed=n, zeros=True)
        base_g = rand(n + 1, half, seed=n + 1)
        x, g = base_x[1:], base_g[1:]
        for nthreads in (1, 2):
            with rf.limit_threads(nthreads):
                compare(name, x, g)


LAYOUTS = ("F", "strided", "negative", "transposed", "bigendian")   # (bfloat16: unaligned)


def _layout(kind, half, seed):
    base = rand((6, 5, 7), half, seed=seed, zeros=True)
    if kind == "F":
        return np.asfortranarray(base)
    if kind == "strided":
        big = np.zeros((12, 5, 21), half)
        big[::2, :, ::3] = base
        return big[::2, :, ::3]
    if kind == "negative":
        return base[::-1, :, ::-1]
    if kind == "transposed":
        return np.ascontiguousarray(base.transpose(2, 0, 1)).transpose(1, 2, 0)
    if np.dtype(half) == np.float16:
        return base.astype(np.dtype(half).newbyteorder(">"))
    # bfloat16 has no big-endian dtype: an unaligned one instead (an odd address)
    raw = np.zeros(base.nbytes + 1, np.uint8)[1:].view(half).reshape(base.shape)
    raw[...] = base
    assert not raw.flags.aligned
    return raw


@pytest.mark.parametrize("kind", LAYOUTS)
@pytest.mark.parametrize("name", FUNCS)
def test_layouts(name, kind, half):
    x, g = _layout(kind, half, 5), _layout(kind, half, 6)
    keep_x, keep_g = x.copy(), g.copy()
    compare(name, x, g)
    if name.startswith("prelu"):
        compare(name, x, g, axis=-1)
    np.testing.assert_array_equal(x, keep_x)
    np.testing.assert_array_equal(g, keep_g)


def _args(name, x, g):
    f = FUNCTIONS[name]
    arrays = {"x": x, "grad_output": g}
    values = {p.name: p.sample() for p in f.params if p.name != "is_result"}
    return [arrays[a] for a in ARRAYS[f.kind]], values


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_out_and_in_place(name, half):
    x, g = rand(3000, half, seed=1, zeros=True), rand(3000, half, seed=2)
    arrays, values = _args(name, x, g)
    want = getattr(rf, name)(*arrays, **values)
    out = np.full_like(x, 7.0)
    assert getattr(rf, name)(*arrays, **values, out=out) is out
    assert_same(out, want)
    # in place (the argument the result overwrites: x, or grad_output)
    arrays = [a.copy() for a in arrays]
    assert getattr(rf, name)(*arrays, **values, out=arrays[0]) is arrays[0]
    assert_same(arrays[0], want)
    # out of another dtype: refused, nothing written
    wrong = np.full(3000, 7.0, np.float32)
    with pytest.raises(TypeError, match="dtype"):
        getattr(rf, name)(*arrays, **values, out=wrong)
    assert (wrong == 7.0).all()


def test_mixed_dtypes_are_refused(half):
    x = rand(10, half)
    with pytest.raises(TypeError, match="must match"):
        rf.relu_backward(x.astype(np.float32), x)
    with pytest.raises(TypeError, match="must match"):
        rf.relu_backward(x, x.astype(np.float32))
    if BFLOAT16 is not None:
        other = BFLOAT16 if np.dtype(half) == np.float16 else np.float16
        with pytest.raises(TypeError, match="must match"):
            rf.gelu_backward(x.astype(other), x)


def test_parameters_are_checked_in_float32(half):
    """Parameters are float32 for the 16-bit types (the arithmetic's dtype): a slope past
    float16's range is fine, one past float32's is refused."""
    x = np.array([-1.0, 2.0], half)
    y = rf.leaky_relu(x, 1e5)
    with np.errstate(over="ignore"):
        assert_same(y, np.array([-1e5, 2.0], np.float32).astype(half))
    with pytest.raises(ValueError, match="float32"):
        rf.leaky_relu(x, 1e300)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_streamed_outputs(level, name, half):
    """Outputs past the streaming threshold (lowered to 0 here): the same bits."""
    module = kernels(level)
    x, g = rand(3 * 512 + 29, half, seed=5, zeros=True), rand(3 * 512 + 29, half, seed=6)
    arrays, values = _args(name, x, g)
    original = rf.kernel_level()
    _api._use_level(level)
    before = module._stream_threshold(1 << 60)
    try:
        want = getattr(rf, name)(*arrays, **values)
        module._stream_threshold(0)
        for nthreads in (1, 2):
            with rf.limit_threads(nthreads):
                out = np.full_like(x, 7.0)
                getattr(rf, name)(*arrays, **values, out=out)
                assert_same(out, want)
    finally:
        module._stream_threshold(before)
        _api._use_level(original)


# ---------------------------------------------------------------------------
# PReLU's weight
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape, axis", [((3, 5, 700), 1), ((40, 600), 1), ((700, 3, 9), -1),
                                         ((2, 1100), 1), ((5000,), 0)])
def test_prelu_weight_of_x_dtype_or_float32(shape, axis, half):
    x, g = rand(shape, half, seed=1, zeros=True), rand(shape, half, seed=2)
    w16 = weight_for(x, axis)
    for w in (w16, w16.astype(np.float32)):
        y = rf.prelu(x, w, axis=axis)
        assert y.dtype == np.dtype(half)
        assert_same(y, ref.prelu(x, w, axis=axis))
        runs = []
        for nthreads in (1, 2):
            with rf.limit_threads(nthreads):
                gi, gw = rf.prelu_backward(g, x, w, axis=axis)
            assert gi.dtype == np.dtype(half) and gw.dtype == w.dtype
            rgi, rgw = ref.prelu_backward(g, x, w, axis=axis)
            assert_same(gi, rgi)
            assert_ulp(gw, rgw, 1) if gw.dtype.itemsize == 2 else None
            runs.append((gi, gw))
        assert_same(runs[0][1], runs[1][1])        # the weight gradient: any thread count


def test_prelu_weight_gradient_is_rounded_once(half):
    """The float64 sum rounded to the 16-bit weight directly, not through float32."""
    mant = 11 if np.dtype(half) == np.float16 else 8
    # three terms: -1, -2^-mant (a midpoint between 1 and 1 + 2^(1-mant)), -2^-40
    x = np.array([-1.0, -(2.0 ** -mant), -(2.0 ** -20)], half).reshape(3, 1)
    g = np.array([1.0, 1.0, 2.0 ** -20], half).reshape(3, 1)
    _, gw = rf.prelu_backward(g, x, np.ones(1, half), axis=1)
    exact = -(1 + 2.0 ** -mant + 2.0 ** -40)
    up = -(1 + 2.0 ** (1 - mant))                 # the nearest 16-bit value to the exact sum
    assert float(gw[0]) == up, (float(gw[0]), exact)
    # through float32 the sum would be the midpoint itself, and go to 1 (even)
    assert float(np.float32(exact).astype(half)) == -1.0


def test_prelu_weight_dtypes_refused(half):
    x = rand((2, 4), half)
    with pytest.raises(TypeError, match="x's dtype or float32"):
        rf.prelu(x, np.ones(4, np.float64))
    with pytest.raises(TypeError, match="x's dtype or float32"):
        rf.prelu_backward(x, x, np.ones(4, np.float64))
    if BFLOAT16 is not None:
        other = BFLOAT16 if np.dtype(half) == np.float16 else np.float16
        with pytest.raises(TypeError, match="weight"):
            rf.prelu(x, np.ones(4, other))
    # numbers are rounded to x's dtype (as a weight of x's dtype would hold them)
    y = rf.prelu(np.array([-1.0], half), 0.1)
    assert_same(y, (-np.float32(np.array(0.1).astype(half))).reshape(1).astype(half))


# ---------------------------------------------------------------------------
# Masks and stats
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 8, 513, 3 * 512 + 7, 2 * GRAIN + 9])
def test_relu_mask_and_backward(n, half):
    x = rand(n, half, seed=3, zeros=True)
    x[::5] = np.resize(special(half), x[::5].size)
    g = rand(n, half, seed=4)
    for nthreads in (1, 2):
        with rf.limit_threads(nthreads):
            y, mask = rf.relu_mask(x)
            ry, rmask = ref.relu_mask(x)
            assert_same(y, ry)
            np.testing.assert_array_equal(mask, rmask)
            assert_same(rf.relu_backward_mask(g, mask), ref.relu_backward_mask(g, mask))
            assert_same(rf.relu_backward_mask(g, mask), rf.relu_backward(g, x))


@pytest.mark.parametrize("shape, axis", [((4, 3, 100), 1), ((300, 17), -1), ((3, 20000), 0)])
def test_relu_stats(shape, axis, half):
    x = rand(shape, half, seed=9, zeros=True)
    for nthreads in (1, 2):
        with rf.limit_threads(nthreads):
            y, frac = rf.relu_stats(x, axis=axis)
            ry, rfrac = ref.relu_stats(x, axis=axis)
            assert_same(y, ry)
            np.testing.assert_array_equal(frac, rfrac)


# ---------------------------------------------------------------------------
# Without ml_dtypes
# ---------------------------------------------------------------------------

def test_works_without_ml_dtypes():
    code = ("import sys; sys.modules['ml_dtypes'] = None\n"
            "import numpy as np, relu_fast as rf\n"
            "x = np.array([-1.5, 2.5], np.float16)\n"
            "print(rf.relu(x).tolist(), rf.gelu(x).dtype, 'ml_dtypes' in sys.modules and "
            "sys.modules['ml_dtypes'] is not None)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[0.0,", "2.5]", "float16", "False"]


def test_relu_fast_does_not_import_ml_dtypes():
    code = "import sys, relu_fast, numpy as np; relu_fast.relu(np.ones(3, np.float16)); " \
           "print('ml_dtypes' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False"]


# ---------------------------------------------------------------------------
# The piecewise-linear functions in registers (_half.h): every 16-bit value
# ---------------------------------------------------------------------------

REGISTER_FUNCS = ("relu", "leaky_relu", "hardtanh", "relu6", "threshold", "hardsigmoid", "hardswish",
                  "rrelu", "relu_backward", "leaky_relu_backward", "hardtanh_backward", "relu6_backward",
                  "threshold_backward", "hardsigmoid_backward", "hardswish_backward", "rrelu_backward")


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", [n for n in REGISTER_FUNCS if n in FUNCTIONS])
def test_registers_every_value(level, name, half):
    """Every 16-bit bit pattern as x (and, rotated, as g), the output 0-3 elements into a
    line (the head's every length class), ordinary and streamed stores, 1 and 2 threads:
    the in-register loops give the bits of the L1-block path and of the reference."""
    module = kernels(level)
    x = _all16(half)
    g = np.roll(x, 12345)
    arrays, values = _args(name, x, g)
    original = rf.kernel_level()
    _api._use_level(level)
    layout = module._stream_layout()
    before = module._stream_threshold()
    try:
        with np.errstate(all="ignore"):
            module._stream_layout(regs16=False)
            want = getattr(rf, name)(*arrays, **values)
            wanted = getattr(ref, name)(*arrays, **values)
        assert_same(want, wanted)
        module._stream_layout(regs16=True)
        for threshold in (1 << 60, 0):
            module._stream_threshold(threshold)
            for lead in range(4):
                for nthreads in (1, 2):
                    base = np.full(x.size + 4, 7.0, dtype=half)
                    out = base[lead:lead + x.size]
                    with rf.limit_threads(nthreads):
                        assert getattr(rf, name)(*arrays, **values, out=out) is out
                    assert_same(out, want)
                    assert (bits(base[:lead]) == bits(np.array(7.0, half))).all()
                    assert (bits(base[lead + x.size:]) == bits(np.array(7.0, half))).all()
    finally:
        module._stream_threshold(before)
        module._stream_layout(*layout)
        _api._use_level(original)
