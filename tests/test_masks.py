"""The 1-bit masks of every two-form gradient (relu_fast._functions.MASKED): each
<name>_mask against its plain-NumPy twin (y and the bits), and its backward from the
mask equal to <name>_backward on the x the mask came from, bit for bit -- on every
dtype, size, layout, special value, level, thread count, with the bias fused and the
bias gradient summed; the errors; the memory a mask holds."""
import importlib

import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _api, _dispatch
from relu_fast import _reference as ref
from relu_fast._functions import FUNCTIONS, MASKED
from conftest import HALF_DTYPES, assert_same, rand, special

LEVELS = _dispatch.available_levels()
ALL_DTYPES = (np.float32, np.float64) + HALF_DTYPES
NAMES = tuple(MASKED)
SIZES = (0, 1, 7, 8, 9, 63, 64, 65, 511, 512, 513, 1025, 4099)
# the forward's arguments other than the bias, as the self-check samples them, and the
# gradient's (from the full backward: threshold_backward takes the threshold)
NOT_SCALARS = ("bias", "axis", "grad_bias", "is_result")


def _forward_kw(name):
    return {p.name: p.sample() for p in FUNCTIONS[name].params if p.name not in NOT_SCALARS}


def _mask_grad_kw(name):
    return {p.name: p.sample() for p in FUNCTIONS[name + "_backward_mask"].params
            if p.name not in NOT_SCALARS}


def _full_grad_kw(name):
    fkw = _forward_kw(name)
    return {p.name: fkw[p.name] for p in FUNCTIONS[name + "_backward"].params if p.name in fkw}


def _data(shape, dtype, seed):
    x = rand(shape, dtype, seed=seed, scale=5.0, zeros=True)
    flat = x.reshape(-1)
    sp = special(dtype)
    flat[: min(flat.size, sp.size)] = sp[: min(flat.size, sp.size)]
    # the ends of every range: relu6's 0 and 6, hardtanh's sampled -0.5 and 0.75,
    # hardsigmoid's -3 and 3, threshold's 0.25
    ends = np.array([0, 6, -0.5, 0.75, -1, 1, -3, 3, 0.25], dtype=np.float64).astype(dtype)
    if flat.size > 40:
        flat[20:20 + ends.size] = ends
    g = rand(shape, dtype, seed=seed + 1)
    if g.size:
        g.reshape(-1)[::11] = np.inf
    return x, g


def _bits_of(mask, n):
    return np.unpackbits(mask, count=n, bitorder="little")


def check(name, x, g, **bias):
    """The mask pair against the twins and against the full backward on x."""
    fkw, mkw, gkw = _forward_kw(name), _mask_grad_kw(name), _full_grad_kw(name)
    before = x.copy()
    y, mask = getattr(rf, name + "_mask")(x, **fkw, **bias)
    assert_same(x, before)                    # x is not written
    with np.errstate(all="ignore"):
        ry, rmask = getattr(ref, name + "_mask")(x, **fkw, **bias)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert mask.dtype == np.uint8 and mask.shape == ((x.size + 7) // 8,)
    assert_same(y, ry)
    assert np.array_equal(mask, rmask), (_bits_of(mask, x.size), _bits_of(rmask, x.size))
    if x.size % 8:
        assert mask[-1] >> (x.size % 8) == 0, "the last byte's unused bits must be 0"
    gx = getattr(rf, name + "_backward_mask")(g, mask, **mkw)
    z = x if not bias else ref._add_bias(x, bias["bias"], bias.get("axis", 1))
    with np.errstate(all="ignore"):
        assert_same(gx, getattr(rf, name + "_backward")(g, z, **gkw))
        assert_same(gx, getattr(ref, name + "_backward")(g, z, **gkw))
        assert_same(gx, getattr(ref, name + "_backward_mask")(g, mask, **mkw))
    return mask


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", NAMES)
def test_sizes_and_special_values(name, dtype):
    for n in SIZES:
        x, g = _data((n,), dtype, seed=n)
        check(name, x, g)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("layout", ["F", "strided", "transposed", "3d", "0d"])
def test_layouts_give_the_bits_in_c_order(name, layout):
    x, g = _data((6, 35), np.float32, seed=3)
    if layout == "F":
        x, g = np.asfortranarray(x), np.asfortranarray(g)
    elif layout == "strided":
        x, g = x[:, ::2], g[:, ::2]
    elif layout == "transposed":
        x, g = x.T, g.T
    elif layout == "3d":
        x, g = x.reshape(2, 3, 35), g.reshape(2, 3, 35)
    else:
        x, g = x[0, 1].copy().reshape(()), g[0, 1].copy().reshape(())
    mask = check(name, x, g)
    c = np.ascontiguousarray(x)
    assert np.array_equal(mask, getattr(rf, name + "_mask")(c, **_forward_kw(name))[1])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_level_and_thread_count_gives_the_same_bits(name, dtype):
    x, g = _data((7, 3000), dtype, seed=5)
    b = rand((3000,), dtype, seed=6)
    fkw, mkw = _forward_kw(name), _mask_grad_kw(name)
    original = rf.kernel_level()
    results = []
    try:
        for level in LEVELS:
            _api._use_level(level)
            for nthreads in (1, 2, 3):
                with rf.limit_threads(nthreads):
                    y, mask = getattr(rf, name + "_mask")(x, **fkw, bias=b, axis=-1)
                    gx, gb = getattr(rf, name + "_backward_mask")(g, mask, **mkw, axis=-1,
                                                                 grad_bias=True)
                results.append((y, mask, gx, gb))
    finally:
        _api._use_level(original)
    for y, mask, gx, gb in results[1:]:
        assert_same(y, results[0][0])
        assert np.array_equal(mask, results[0][1])
        assert_same(gx, results[0][2])
        assert_same(gb, results[0][3])
    check(name, x, g, bias=b, axis=-1)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_bias_and_bias_gradient(name, dtype):
    fkw, mkw = _forward_kw(name), _mask_grad_kw(name)
    for shape, axis in (((3, 5, 7, 11), 1), ((37, 19), -1), ((2, 3, 1100), 1), ((700,), 0)):
        x, g = _data(shape, dtype, seed=len(shape))
        b = (rand((shape[axis],), dtype, seed=9) if len(shape) > 1 else dtype(0.375))
        mask = check(name, x, g, bias=b, axis=axis)
        # fused == unfused: the mask of x + bias, bit for bit
        z = ref._add_bias(x, b, axis)
        y0, m0 = getattr(rf, name + "_mask")(z, **fkw)
        assert np.array_equal(mask, m0)
        assert_same(getattr(rf, name + "_mask")(x, **fkw, bias=b, axis=axis)[0], y0)
        gx, gb = getattr(rf, name + "_backward_mask")(g, mask, **mkw, axis=axis, grad_bias=True)
        rgx, rgb = getattr(ref, name + "_backward_mask")(g, mask, **mkw, axis=axis, grad_bias=True)
        assert_same(gx, rgx)
        assert gb.dtype == x.dtype and gb.shape == rgb.shape
        wide = np.asarray(rgx, np.float64)
        others = tuple(k for k in range(x.ndim) if k != axis % x.ndim) if x.ndim > 1 else None
        scale = np.abs(wide).sum(axis=others)
        with np.errstate(invalid="ignore"):
            err = np.abs(np.asarray(gb, np.float64) - np.asarray(rgb, np.float64))
            ok = (err <= np.finfo(np.float64).eps * 4 * scale + 1e-300) | (gb == rgb) | (
                np.isnan(np.asarray(gb, np.float64)) & np.isnan(np.asarray(rgb, np.float64)))
        assert np.all(ok), (gb, rgb)


@pytest.mark.parametrize("level", LEVELS)
def test_streamed_stores(level):
    module = importlib.import_module(f"relu_fast._kernels_{level}")
    original = rf.kernel_level()
    before = module._stream_threshold(0)
    _api._use_level(level)
    try:
        for dtype in ALL_DTYPES:
            for n in (9, 512, 513, 3 * 512 + 29, 5000):
                x, g = _data((n,), dtype, seed=n)
                for name in NAMES:
                    check(name, x, g)
                    check(name, x.reshape(1, n), g.reshape(1, n), bias=dtype(0.5))
    finally:
        module._stream_threshold(before)
        _api._use_level(original)


@pytest.mark.parametrize("name", NAMES)
def test_out_and_in_place(name):
    fkw, mkw = _forward_kw(name), _mask_grad_kw(name)
    x, g = _data((4, 700), np.float64, seed=1)
    y, mask = getattr(rf, name + "_mask")(x, **fkw)
    x2 = x.copy()
    y2, mask2 = getattr(rf, name + "_mask")(x2, **fkw, out=x2)
    assert y2 is x2
    assert_same(y2, y)
    assert np.array_equal(mask2, mask)
    o = np.empty_like(g)
    assert getattr(rf, name + "_backward_mask")(g, mask, **mkw, out=o) is o
    g2 = g.copy()
    r = getattr(rf, name + "_backward_mask")(g2, mask, **mkw, out=g2)
    assert r is g2
    assert_same(o, g2)
    # a Fortran-ordered out gets the C-order result
    of = np.asfortranarray(np.empty_like(x))
    assert_same(getattr(rf, name + "_mask")(x, **fkw, out=of)[0], y)


def test_slope_of_one_sets_every_bit():
    # both forms are g: the bit cannot tell them apart, and every bit is 1 (documented)
    x = np.array([-1.0, 0.0, 2.0, np.nan])
    y, mask = rf.leaky_relu_mask(x, 1.0)
    assert np.array_equal(_bits_of(mask, 4), [1, 1, 1, 1])
    g = np.array([3.0, -2.0, np.inf, 5.0])
    assert_same(rf.leaky_relu_backward_mask(g, mask, 1.0), rf.leaky_relu_backward(g, x, 1.0))


def test_rrelu_mask_regenerates_the_slopes():
    x, g = _data((3, 1000), np.float32, seed=2)
    y, mask = rf.rrelu_mask(x, 0.1, 0.4, True, seed=99)
    assert_same(y, rf.rrelu(x, 0.1, 0.4, True, seed=99))
    gx = rf.rrelu_backward_mask(g, mask, 0.1, 0.4, True, seed=99)
    assert_same(gx, rf.rrelu_backward(g, x, 0.1, 0.4, True, seed=99))
    other = rf.rrelu_backward_mask(g, mask, 0.1, 0.4, True, seed=100)
    assert not np.array_equal(other, gx)     # the slopes do come from the seed


def test_memory_held_is_one_bit_per_element():
    x = rand((256, 1000), np.float32, seed=4)
    for name in NAMES:
        _, mask = getattr(rf, name + "_mask")(x, **_forward_kw(name))
        assert mask.nbytes * 32 == x.nbytes


BAD = [
    (lambda: rf.leaky_relu_mask([1.0], "0.1"), TypeError, "negative_slope"),
    (lambda: rf.leaky_relu_mask(np.ones(3), np.inf), ValueError, "negative_slope"),
    (lambda: rf.hardtanh_mask(np.ones(3), 1.0, -1.0), ValueError, "min_val"),
    (lambda: rf.threshold_mask(np.ones(3, np.float32), 1e300, 0.0), ValueError, "threshold"),
    (lambda: rf.rrelu_mask(np.ones(3), training=True), TypeError, "seed"),
    (lambda: rf.rrelu_mask(np.ones(3), 0.5, 0.25), ValueError, "lower"),
    (lambda: rf.relu6_mask(np.ones(3, np.int32)), TypeError, "int32"),
    (lambda: rf.hardsigmoid_mask(np.ones((2, 3)), bias=np.ones(4)), ValueError, "bias"),
    (lambda: rf.hardsigmoid_mask(np.ones((2, 3)), bias=np.ones(3), axis=2), ValueError, "axis"),
    (lambda: rf.relu6_mask(np.ones((2, 3)), axis=1.0), TypeError, "axis"),
    (lambda: rf.leaky_relu_backward_mask(np.ones(9), np.zeros(1, np.uint8)), ValueError, "bytes"),
    (lambda: rf.hardtanh_backward_mask(np.ones(9), np.zeros(2, np.int8)), TypeError, "uint8"),
    (lambda: rf.threshold_backward_mask(np.ones(9), [0, 0]), TypeError, "mask"),
    (lambda: rf.relu6_backward_mask(np.ones(9), np.zeros(2, np.uint8), grad_bias=1),
     TypeError, "grad_bias"),
    (lambda: rf.relu_backward_mask(np.ones((3, 3)), np.zeros(2, np.uint8), grad_bias=True, axis=5),
     ValueError, "axis"),
]


@pytest.mark.parametrize("call, error, match", BAD)
def test_bad_arguments_raise(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_bad_out_writes_nothing():
    x = np.linspace(-2, 2, 24).reshape(4, 6)
    out = np.full((4, 5), 7.0)
    with pytest.raises(ValueError):
        rf.hardtanh_mask(x, out=out)
    assert np.all(out == 7.0)
    y, mask = rf.hardtanh_mask(x)
    with pytest.raises(ValueError):
        rf.hardtanh_backward_mask(x, mask[:-1], out=np.full_like(x, 7.0))


def test_dask_is_refused():
    da = pytest.importorskip("dask.array")
    x = da.ones((4, 6), chunks=2)
    for name in NAMES:
        with pytest.raises(TypeError, match=f"use {name} / {name}_backward"):
            getattr(rf, name + "_mask")(x, **_forward_kw(name))
