"""The bias fused into every elementwise function (bias=, axis=) and the bias gradient
summed in the backward's pass (grad_bias=True): against the plain-NumPy twins (which
add the bias as NumPy does and sum in float64), fused against unfused bit for bit, on
every level, thread count, layout, dtype and special value; the errors; PyTorch's
autograd of a linear layer's bias; dask."""
import importlib

import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _api, _dispatch
from relu_fast import _reference as ref
from relu_fast._functions import ELEMENTWISE, FUNCTIONS
from conftest import (HALF_DTYPES, assert_same, assert_ulp, finfo, is_half, rand, special)

LEVELS = _dispatch.available_levels()
ALL_DTYPES = (np.float32, np.float64) + HALF_DTYPES
FORWARD = tuple(n for n in ELEMENTWISE if FUNCTIONS[n].kind == "unary")
BACKWARD = tuple(n for n in ELEMENTWISE if FUNCTIONS[n].kind == "binary")
BIAS_ARGS = ("bias", "axis", "grad_bias", "is_result")
# (shape, axis): channel runs (NCHW), long runs across blocks, channels-last rows,
# rows longer than a block, (batch, features), the first axis, 1-D (one value)
GEOMETRIES = (((3, 5, 7, 11), 1), ((2, 3, 1100), 1), ((37, 19), -1), ((3, 1500), 1),
              ((64, 33), 1), ((9, 4), 0), ((5, 6, 7), -2), ((700,), 0))


def _values(name):
    return {p.name: p.sample() for p in FUNCTIONS[name].params if p.name not in BIAS_ARGS}


def _bias_for(x, axis, seed=3):
    if x.ndim < 2:
        return x.dtype.type(0.375)
    b = np.random.default_rng(seed).uniform(-2, 2, x.shape[axis]).astype(x.dtype)
    b[0] = 0.0
    return b


def _check(name, got, want):
    ulps = FUNCTIONS[name].ulps
    if ulps:
        assert_ulp(got, want, 1 if is_half(got.dtype) else ulps)
    else:
        assert_same(got, want)


def _check_sums(gb, rgb, gx, axis, one, ulps=0):
    """grad_bias: float64 sums that differ from the twin's in their order only (and by
    the `ulps` that each grad_input may differ by)."""
    gb, rgb = np.asarray(gb), np.asarray(rgb)
    assert gb.shape == rgb.shape and gb.dtype == rgb.dtype
    mag = np.abs(np.asarray(gx, np.float64))
    if one or mag.ndim < 2:
        scale = np.asarray(mag.sum())
    else:
        ax = axis % mag.ndim
        scale = mag.sum(axis=tuple(k for k in range(mag.ndim) if k != ax))
    scale = scale.reshape(rgb.shape)
    with np.errstate(invalid="ignore"):
        ok = ((np.abs(gb.astype(np.float64) - rgb.astype(np.float64))
               <= (1 + ulps) * finfo(gb.dtype).eps * scale + 1e-300)
              | (np.isnan(gb) & np.isnan(rgb)) | (gb == rgb))
    assert ok.all(), f"grad_bias {gb} vs the twin's {rgb}"


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", FORWARD)
def test_forward_with_bias_matches_the_twin(name, dtype):
    kw = _values(name)
    for shape, axis in GEOMETRIES:
        x = rand(shape, dtype, seed=len(shape), zeros=True)
        x.reshape(-1)[::7] = np.resize(special(dtype), x.reshape(-1)[::7].size)
        b = _bias_for(x, axis)
        before = x.copy()
        with np.errstate(all="ignore"):
            want = getattr(ref, name)(x, bias=b, axis=axis, **kw)
        got = getattr(rf, name)(x, bias=b, axis=axis, **kw)
        assert got.dtype == x.dtype and got.shape == x.shape
        _check(name, got, want)
        assert_same(x, before)                   # x is not modified


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", BACKWARD)
def test_backward_with_bias_and_its_gradient_match_the_twin(name, dtype):
    kw = _values(name)
    for shape, axis in GEOMETRIES:
        x = rand(shape, dtype, seed=len(shape), zeros=True)
        g = rand(shape, dtype, seed=len(shape) + 1)
        x.reshape(-1)[::7] = np.resize(special(dtype), x.reshape(-1)[::7].size)
        b = _bias_for(x, axis)
        for bias in (b, None):
            with np.errstate(all="ignore"):
                rgx, rgb = getattr(ref, name)(g, x, bias=bias, axis=axis, grad_bias=True, **kw)
            gx, gb = getattr(rf, name)(g, x, bias=bias, axis=axis, grad_bias=True, **kw)
            _check(name, gx, rgx)
            _check_sums(gb, rgb, rgx, axis, one=np.size(b) == 1, ulps=FUNCTIONS[name].ulps)
            if bias is not None:                 # without grad_bias: grad_input alone
                alone = getattr(rf, name)(g, x, bias=bias, axis=axis, **kw)
                assert_same(alone, gx)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", ("relu", "leaky_relu", "hardtanh", "gelu", "silu", "rrelu"))
def test_fused_equals_unfused_bit_for_bit(name, dtype):
    """f(x, bias=b) is f(x + b), and its gradient the gradient at x + b (the sum
    rounded to x's dtype both ways; the 16-bit types through float32)."""
    kw = _values(name)
    x = rand((6, 50, 9), dtype, seed=5)
    g = rand((6, 50, 9), dtype, seed=6)
    b = _bias_for(x, 1)
    wide = np.float32 if is_half(dtype) else dtype
    z = (x.astype(wide) + b.astype(wide)[:, None]).astype(dtype)
    assert_same(getattr(rf, name)(x, bias=b, **kw), getattr(rf, name)(z, **kw))
    gx, gb = getattr(rf, name + "_backward")(g, x, bias=b, grad_bias=True, **kw)
    gz = getattr(rf, name + "_backward")(g, z, **kw)
    assert_same(gx, gz)
    gz64 = gz.astype(np.float64)
    # the sums of the same values; in another order, so within the rounding of float64
    _check_sums(gb, gz64.sum(axis=(0, 2)).astype(gb.dtype), gz, 1, one=False)


@pytest.mark.parametrize("name", ("relu", "elu", "gelu", "rrelu", "hardswish"))
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_level_and_thread_count_gives_the_same_bits(name, dtype):
    """Large enough for many parts and for threads; grad_bias's order is the shape's."""
    kw = _values(name)
    original = rf.kernel_level()
    for shape, axis in (((8, 16, 4099), 1), ((20001, 24), -1)):
        x = rand(shape, dtype, seed=11)
        g = rand(shape, dtype, seed=12)
        b = _bias_for(x, axis)
        results = []
        try:
            for level in LEVELS:
                _api._use_level(level)
                for nthreads in (1, 2, 3):
                    with rf.limit_threads(nthreads):
                        y = getattr(rf, name)(x, bias=b, axis=axis, **kw)
                        gx, gb = getattr(rf, name + "_backward")(g, x, bias=b, axis=axis,
                                                                 grad_bias=True, **kw)
                    results.append((level, nthreads, y, gx, gb))
        finally:
            _api._use_level(original)
        fma = FUNCTIONS[name].fma
        first = results[0]
        for level, nthreads, y, gx, gb in results[1:]:
            if fma and level != first[0]:
                continue                       # the last bit may differ with FMA (documented)
            assert_same(y, first[2])
            assert_same(gx, first[3])
            assert_same(gb, first[4])
        with np.errstate(all="ignore"):
            rgx, rgb = getattr(ref, name + "_backward")(g, x, bias=b, axis=axis, grad_bias=True,
                                                        **kw)
        _check_sums(first[4], rgb, rgx, axis, one=False, ulps=FUNCTIONS[name].ulps)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_streamed_stores_with_bias(level, dtype):
    module = importlib.import_module(f"relu_fast._kernels_{level}")
    original = rf.kernel_level()
    before = module._stream_threshold(0)
    _api._use_level(level)
    try:
        for n in (1, 17, 511, 512, 513, 3 * 512 + 29):
            x = rand((3, n), dtype, seed=n)
            g = rand((3, n), dtype, seed=n + 1)
            b = _bias_for(x, 0)
            for name in ("relu", "leaky_relu", "elu", "softplus"):
                kw = _values(name)
                _check(name, getattr(rf, name)(x, bias=b, axis=0, **kw),
                       getattr(ref, name)(x, bias=b, axis=0, **kw))
                gx, gb = getattr(rf, name + "_backward")(g, x, bias=b, axis=0, grad_bias=True, **kw)
                rgx, rgb = getattr(ref, name + "_backward")(g, x, bias=b, axis=0, grad_bias=True,
                                                            **kw)
                _check(name, gx, rgx)
                _check_sums(gb, rgb, rgx, 0, one=False, ulps=FUNCTIONS[name].ulps)
    finally:
        module._stream_threshold(before)
        _api._use_level(original)


def _with_specials(shape, dtype, seed):
    """Random values with every special value sprinkled through (both arrays' tails
    not a multiple of any vector width)."""
    a = rand(shape, dtype, seed=seed).reshape(-1)
    sp = special(dtype)
    a[seed % 7::13] = np.resize(sp, a[seed % 7::13].size)
    return a.reshape(shape)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", (np.float32, np.float64), ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("stream", (True, False), ids=("streamed", "stored"))
def test_from_registers_with_bias(level, dtype, stream):
    """relu, leaky_relu and their gradients with a bias go from the registers to the
    output (no buffer), with streaming or ordinary stores: channel runs and rows of channels, pieces that start and end anywhere
    in a vector, outputs at every element offset from a vector boundary, pieces too
    short for it (through the buffer instead), special values in x and in the bias,
    1 and 2 threads -- the same bits as the twins."""
    module = importlib.import_module(f"relu_fast._kernels_{level}")
    original = rf.kernel_level()
    before = module._stream_threshold(0 if stream else 1 << 62)
    _api._use_level(level)
    try:
        for shape, axis in (((3, 1001), 0), ((2, 3, 97), 1), ((13, 1000), -1), ((9, 67), -1),
                            ((40, 5), -1), ((4, 7, 9), 1),
                            ((2, 300, 131), 1)):   # runs split between threads mid-run
            x = _with_specials(shape, dtype, seed=shape[-1])
            g = rand(shape, dtype, seed=shape[-1] + 1)   # (huge values: sums that depend
            g.reshape(-1)[5::17] = -0.0                 # on their order, as NumPy's do)
            b = _with_specials((shape[axis],), dtype, seed=shape[0])
            n = x.size
            for name in ("relu", "leaky_relu"):
                kw = _values(name)
                with np.errstate(all="ignore"):
                    want = getattr(ref, name)(x, bias=b, axis=axis, **kw)
                    gwant = getattr(ref, name + "_backward")(g, x, bias=b, axis=axis, **kw)
                    _, gbwant = getattr(ref, name + "_backward")(g, x, bias=b, axis=axis,
                                                                 grad_bias=True, **kw)
                for shift in (0, 1, 3):        # the output's offset from a 64-byte line
                    buf = np.full(n + 8, 7.0, dtype)
                    out = buf[shift:shift + n].reshape(shape)
                    for nthreads in (1, 2):
                        with rf.limit_threads(nthreads):
                            buf[:] = 7.0
                            getattr(rf, name)(x, bias=b, axis=axis, out=out, **kw)
                            assert_same(out, want)
                            assert (buf[:shift] == 7).all() and (buf[shift + n:] == 7).all()
                            buf[:] = 7.0
                            getattr(rf, name + "_backward")(g, x, bias=b, axis=axis, out=out,
                                                            **kw)
                            assert_same(out, gwant)
                            assert (buf[:shift] == 7).all() and (buf[shift + n:] == 7).all()
                            buf[:] = 7.0
                            _, gb = getattr(rf, name + "_backward")(g, x, bias=b, axis=axis, out=out,
                                                                    grad_bias=True, **kw)
                            assert_same(out, gwant)
                            assert (buf[:shift] == 7).all() and (buf[shift + n:] == 7).all()
                            _check_sums(gb, gbwant, gwant, axis, one=False)
                            if nthreads == 1 and shift == 0:
                                first_gb = gb
                            assert_same(gb, first_gb)   # any thread count, any placement
                            layout = module._stream_layout(bias=False)   # through the buffer:
                            try:                                         # the same bits
                                y2 = getattr(rf, name)(x, bias=b, axis=axis, **kw)
                                gx2, gb2 = getattr(rf, name + "_backward")(
                                    g, x, bias=b, axis=axis, grad_bias=True, **kw)
                            finally:
                                module._stream_layout(*layout)
                            assert_same(y2, want)
                            assert_same(gx2, gwant)
                            assert_same(gb2, gb)
                            # relu_mask, leaky_relu_mask: the function and its bits in the
                            # same pass, with and without the bias, against NumPy's bits
                            # and the buffer path
                            shp = [1] * x.ndim
                            shp[axis] = b.size
                            with np.errstate(all="ignore"):
                                z = x + b.reshape(shp)
                            for bias, zz in ((b, z), (None, x)):
                                want_y, want_m = getattr(ref, name + "_mask")(zz, **kw)
                                buf[:] = 7.0
                                y3, m3 = getattr(rf, name + "_mask")(x, bias=bias, axis=axis, out=out,
                                                                     **kw)
                                assert y3 is out
                                assert_same(out, want_y)
                                assert (buf[:shift] == 7).all() and (buf[shift + n:] == 7).all()
                                assert np.array_equal(m3, want_m)
                                layout = module._stream_layout(bias=False)
                                try:
                                    y4, m4 = getattr(rf, name + "_mask")(x, bias=bias, axis=axis, **kw)
                                finally:
                                    module._stream_layout(*layout)
                                assert_same(y4, want_y)
                                assert np.array_equal(m4, want_m)
                                # and the gradient from the mask, with the bias gradient
                                gref, gbref = getattr(rf, name + "_backward")(
                                    g, x, bias=bias, axis=axis, grad_bias=True, **kw)
                                buf[:] = 7.0
                                _, gb5 = getattr(rf, name + "_backward_mask")(
                                    g, m3, axis=axis, grad_bias=True, out=out, **kw)
                                assert_same(out, gref)
                                assert (buf[:shift] == 7).all() and (buf[shift + n:] == 7).all()
                                assert_same(gb5, gbref)
                                layout = module._stream_layout(bias=False)
                                try:
                                    gx6, gb6 = getattr(rf, name + "_backward_mask")(
                                        g, m3, axis=axis, grad_bias=True, **kw)
                                finally:
                                    module._stream_layout(*layout)
                                assert_same(gx6, gref)
                                assert_same(gb6, gbref)
    finally:
        module._stream_threshold(before)
        _api._use_level(original)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", (np.float32, np.float64), ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", ("hardtanh", "relu6", "threshold", "leaky_relu", "rrelu"))
def test_mask_gradients_from_the_bits(level, dtype, name):
    """The gradients from a mask whose two values are g and +0 (the clamps) or g and
    slope g (leaky_relu, rrelu in eval mode) select g by the bits in registers: the same
    bits as the buffer path (_stream_layout(bias=False)) and as the gradient at x + b,
    with the bias gradient, 1 and 2 threads, outputs off a line."""
    module = importlib.import_module(f"relu_fast._kernels_{level}")
    original = rf.kernel_level()
    _api._use_level(level)
    kw = _values(name)
    if name == "rrelu":
        kw["training"] = False
    fkw = {k: v for k, v in kw.items() if k != "value"}     # threshold's gradient takes none
    bkw = {} if name in ("hardtanh", "relu6", "threshold") else fkw
    try:
        for shape, axis in (((3, 1001), 0), ((13, 1000), -1), ((4, 7, 9), 1)):
            x = _with_specials(shape, dtype, seed=shape[-1])
            g = rand(shape, dtype, seed=shape[-1] + 1)
            g.reshape(-1)[5::17] = -0.0
            b = _with_specials((shape[axis],), dtype, seed=shape[0])
            n = x.size
            _, m = getattr(rf, name + "_mask")(x, bias=b, axis=axis, **kw)
            gref, gbref = getattr(rf, name + "_backward")(g, x, bias=b, axis=axis, grad_bias=True,
                                                          **fkw)
            buf = np.full(n + 8, 7.0, dtype)
            out = buf[3:3 + n].reshape(shape)
            for nthreads in (1, 2):
                with rf.limit_threads(nthreads):
                    buf[:] = 7.0
                    _, gb = getattr(rf, name + "_backward_mask")(g, m, axis=axis, grad_bias=True,
                                                                 out=out, **bkw)
                assert_same(out, gref)
                assert (buf[:3] == 7).all() and (buf[3 + n:] == 7).all()
                assert_same(gb, gbref)
            layout = module._stream_layout(bias=False)
            try:
                gx2, gb2 = getattr(rf, name + "_backward_mask")(g, m, axis=axis, grad_bias=True,
                                                                **bkw)
            finally:
                module._stream_layout(*layout)
            assert_same(gx2, gref)
            assert_same(gb2, gbref)
    finally:
        _api._use_level(original)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_layouts_out_and_in_place(dtype):
    base = rand((7, 12, 9), dtype, seed=1)
    g = rand((7, 12, 9), dtype, seed=2)
    b = _bias_for(base, 1)
    want = ref.leaky_relu(base, 0.2, bias=b)
    rgx, rgb = ref.leaky_relu_backward(g, base, 0.2, bias=b, grad_bias=True)
    for x in (base, np.asfortranarray(base), base.transpose(2, 1, 0).copy().transpose(2, 1, 0),
              np.repeat(base, 2, axis=2)[:, :, ::2], base.astype(base.dtype.newbyteorder(">"))
              if not is_half(dtype) or dtype == np.float16 else base):
        assert_same(rf.leaky_relu(x, 0.2, bias=b), want)
        gx, gb = rf.leaky_relu_backward(g, x, 0.2, bias=b, grad_bias=True)
        assert_same(gx, rgx)
        _check_sums(gb, rgb, rgx, 1, one=False)
    # channels-last: the same numbers along axis -1
    xl = np.moveaxis(base, 1, -1)
    assert_same(rf.leaky_relu(xl, 0.2, bias=b, axis=-1), np.moveaxis(want, 1, -1))
    for o in (np.empty_like(base), np.empty_like(base, order="F"), np.empty((7, 12, 18), dtype)[:, :, ::2]):
        got = rf.leaky_relu(base, 0.2, bias=b, out=o)
        assert got is o
        assert_same(o, want)
        got, gb = rf.leaky_relu_backward(g, base, 0.2, bias=b, grad_bias=True, out=o)
        assert got is o
        assert_same(o, rgx)
    x = base.copy()
    assert rf.leaky_relu(x, 0.2, bias=b, out=x) is x    # in place
    assert_same(x, want)
    gg = g.copy()
    gx, _ = rf.leaky_relu_backward(gg, base, 0.2, bias=b, grad_bias=True, out=gg)
    assert gx is gg
    assert_same(gg, rgx)


def test_bias_dtypes_shapes_and_gradient_dtypes():
    x = rand((4, 3, 5), np.float32, seed=1)
    g = rand((4, 3, 5), np.float32, seed=2)
    # numbers and lists take x's dtype; the gradient too
    for bias in ([0.5, -1.0, 2.0], (0.5, -1, 2), np.array([0.5, -1.0, 2.0], np.float32)):
        gx, gb = rf.relu_backward(g, x, bias=bias, grad_bias=True)
        assert gb.dtype == np.float32 and gb.shape == (3,)
    # a scalar bias: a 0-D gradient, the sum of everything; a size-1 array: shape (1,)
    _, gb = rf.relu_backward(g, x, bias=0.25, grad_bias=True)
    assert gb.shape == ()
    _, gb = rf.relu_backward(g, x, bias=np.array([0.25], np.float32), grad_bias=True)
    assert gb.shape == (1,)
    # no bias: one sum per channel; 1-D x: one sum
    _, gb = rf.relu_backward(g, x, grad_bias=True, axis=-1)
    assert gb.shape == (5,) and gb.dtype == np.float32
    _, gb = rf.relu_backward(g.ravel(), x.ravel(), grad_bias=True)
    assert gb.shape == ()
    # 16-bit x: a float32 bias (master weights) is allowed, and its gradient is float32
    for dt in HALF_DTYPES:
        xh, gh = x.astype(dt), g.astype(dt)
        for bdt in (dt, np.float32):
            b = np.array([0.5, -1.0, 2.0], bdt)
            gx, gb = rf.gelu_backward(gh, xh, bias=b, grad_bias=True)
            assert gx.dtype == dt and gb.dtype == bdt
            rgx, rgb = ref.gelu_backward(gh, xh, bias=b, grad_bias=True)
            _check_sums(gb, rgb, rgx, 1, one=False, ulps=FUNCTIONS["gelu_backward"].ulps)
    # empty arrays and empty channels
    e = np.empty((0, 3), np.float32)
    gx, gb = rf.relu_backward(e, e, bias=np.ones(3, np.float32), grad_bias=True)
    assert gx.shape == (0, 3) and np.array_equal(gb, np.zeros(3, np.float32))
    e = np.empty((4, 0), np.float32)
    gx, gb = rf.relu_backward(e, e, grad_bias=True)
    assert gb.shape == (0,)


def test_special_bias_values_propagate_as_in_x_plus_b():
    x = np.array([[1.0, -1.0, 0.0, np.inf]] * 3, np.float64)
    b = np.array([np.nan, np.inf, -np.inf])
    with np.errstate(all="ignore"):
        want = ref.relu(x, bias=b, axis=0)
        assert_same(rf.relu(x, bias=b, axis=0), want)
        gx, gb = rf.relu_backward(np.ones_like(x), x, bias=b, axis=0, grad_bias=True)
        rgx, rgb = ref.relu_backward(np.ones_like(x), x, bias=b, axis=0, grad_bias=True)
    assert_same(gx, rgx)
    assert_same(gb, rgb)


@pytest.mark.parametrize("call, error, match", [
    (lambda x, g, o: rf.relu(x, bias=np.ones(3), out=o), TypeError, "bias has dtype float64"),
    (lambda x, g, o: rf.relu(x, bias=np.ones(4, np.float32), out=o), ValueError,
     "bias has 4 values but x has 3 channels along axis 1"),
    (lambda x, g, o: rf.relu(x, bias=np.ones((3, 1), np.float32), out=o), ValueError,
     "bias must be a scalar or 1-D"),
    (lambda x, g, o: rf.relu(x, bias=[], out=o), ValueError, "bias is empty"),
    (lambda x, g, o: rf.relu(x, bias=["a"], out=o), TypeError, "bias must be real numbers"),
    (lambda x, g, o: rf.relu(x, bias=[True, False, True], out=o), TypeError, "bias must be real"),
    (lambda x, g, o: rf.relu(x, bias=[1e300, 0, 0], out=o), ValueError, "bias holds values that overflow"),
    (lambda x, g, o: rf.relu(x, bias=np.ones(3, np.float32), axis=3, out=o), ValueError,
     "axis 3 is out of range"),
    (lambda x, g, o: rf.relu(x, bias=np.ones(3, np.float32), axis=1.0, out=o), TypeError,
     "axis must be an int"),
    (lambda x, g, o: rf.relu(x, axis="1", out=o), TypeError, "axis must be an int"),
    (lambda x, g, o: rf.relu_backward(g, x, grad_bias=1, out=o), TypeError,
     "grad_bias must be a bool"),
    (lambda x, g, o: rf.elu_backward(g, x, is_result=True, bias=np.ones(3, np.float32), out=o),
     ValueError, "bias cannot be given with is_result=True"),
    (lambda x, g, o: rf.relu_backward(g, x, bias=np.ones(5, np.float32), grad_bias=True, out=o),
     ValueError, "bias has 5 values"),
    (lambda x, g, o: rf.relu(x.ravel(), bias=np.ones(3, np.float32), out=o.ravel()), ValueError,
     "x is 1-D: it has no channel axis, so bias must hold one value"),
])
def test_bad_bias_arguments_raise_and_write_nothing(call, error, match):
    x = rand((4, 3), np.float32, seed=1)
    g = rand((4, 3), np.float32, seed=2)
    o = np.full((4, 3), 7.0, np.float32)
    with pytest.raises(error, match=match):
        call(x, g, o)
    assert (o == 7.0).all()


@pytest.mark.parametrize("name, torch_name", [
    ("relu", "relu"), ("leaky_relu", "leaky_relu"), ("elu", "elu"), ("gelu", "gelu"),
    ("silu", "silu"), ("hardtanh", "hardtanh"), ("softplus", "softplus"), ("mish", "mish")])
@pytest.mark.parametrize("dtype", (np.float32, np.float64), ids=lambda d: np.dtype(d).name)
def test_linear_layer_bias_gradient_matches_torch_autograd(name, torch_name, dtype):
    """y = f(x W^T + b): relu_fast's fused forward and grad_bias against PyTorch's
    autograd of the same layer (the matmul left to NumPy, fed to both)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    inp = rng.standard_normal((64, 20)).astype(dtype)
    W = rng.standard_normal((30, 20)).astype(dtype)
    b = rng.standard_normal(30).astype(dtype)
    g = rng.standard_normal((64, 30)).astype(dtype)
    z = inp @ W.T
    zt = torch.from_numpy(z)
    bt = torch.from_numpy(b.copy()).requires_grad_(True)
    yt = getattr(torch.nn.functional, torch_name)(zt + bt)
    yt.backward(torch.from_numpy(g))
    y = getattr(rf, name)(z, bias=b)
    gx, gb = getattr(rf, name + "_backward")(g, z, bias=b, grad_bias=True)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(gb, bt.grad.numpy(), rtol=10 * tol, atol=10 * tol)


@pytest.mark.parametrize("name", ("relu", "gelu", "rrelu"))
def test_dask_with_bias_and_grad_bias(name):
    da = pytest.importorskip("dask.array")
    kw = _values(name)
    x = rand((6, 10, 7), np.float32, seed=1)
    g = rand((6, 10, 7), np.float32, seed=2)
    b = _bias_for(x, 1)
    xd = da.from_array(x, chunks=(4, 3, 5))
    gd = da.from_array(g, chunks=(4, 3, 5))
    assert_same(getattr(rf, name)(xd, bias=b, **kw).compute(), getattr(rf, name)(x, bias=b, **kw))
    for bias in (b, None, np.float32(0.5)):
        gx, gb = getattr(rf, name + "_backward")(gd, xd, bias=bias, grad_bias=True, **kw)
        egx, egb = getattr(rf, name + "_backward")(g, x, bias=bias, grad_bias=True, **kw)
        assert_same(gx.compute(), egx)
        gbc = np.asarray(gb.compute())
        assert gbc.shape == egb.shape and gbc.dtype == egb.dtype
        _check_sums(gbc, egb, egx, 1, one=bias is not None and np.size(bias) == 1)
    with pytest.raises(ValueError, match="bias has 4 values"):
        getattr(rf, name)(xd, bias=np.ones(4, np.float32), **kw)
