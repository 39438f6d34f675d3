"""Streaming (non-temporal) stores: outputs of 16 MiB or more not written in place
go through them (the piecewise-linear functions straight from the registers, the others
through a 512-element buffer).  Here the threshold is lowered to 0 so that small
arrays take that path, on every level, with outputs at every alignment."""
import importlib

import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _api, _dispatch
from relu_fast import _reference as ref
from relu_fast._functions import ARRAYS, ELEMENTWISE, FUNCTIONS
from conftest import assert_same, assert_ulp, rand, special

LEVELS = _dispatch.available_levels()
SIZES = (1, 7, 16, 17, 511, 512, 513, 1000, 3 * 512 + 29, 40_000)

CALLS = {
    "relu": (lambda x, g, o: rf.relu(x, out=o), lambda x, g: ref.relu(x)),
    "leaky_relu": (lambda x, g, o: rf.leaky_relu(x, 0.1, out=o), lambda x, g: ref.leaky_relu(x, 0.1)),
    "elu": (lambda x, g, o: rf.elu(x, 0.7, out=o), lambda x, g: ref.elu(x, 0.7)),
    "relu_backward": (lambda x, g, o: rf.relu_backward(g, x, out=o), lambda x, g: ref.relu_backward(g, x)),
    "leaky_relu_backward": (lambda x, g, o: rf.leaky_relu_backward(g, x, 0.1, out=o),
                            lambda x, g: ref.leaky_relu_backward(g, x, 0.1)),
    "elu_backward": (lambda x, g, o: rf.elu_backward(g, x, 1.0, out=o), lambda x, g: ref.elu_backward(g, x, 1.0)),
    # streamed through their element functions (_stream.h; 16-bit: _half.h)
    "hardtanh": (lambda x, g, o: rf.hardtanh(x, -0.5, 2.0, out=o), lambda x, g: ref.hardtanh(x, -0.5, 2.0)),
    "hardsigmoid": (lambda x, g, o: rf.hardsigmoid(x, out=o), lambda x, g: ref.hardsigmoid(x)),
    "threshold_backward": (lambda x, g, o: rf.threshold_backward(g, x, 0.25, out=o),
                           lambda x, g: ref.threshold_backward(g, x, 0.25)),
    "hardswish_backward": (lambda x, g, o: rf.hardswish_backward(g, x, out=o),
                           lambda x, g: ref.hardswish_backward(g, x)),
}


@pytest.fixture
def stream_everything(request):
    """Lower the streaming threshold of `level`'s kernel module to 0 bytes."""
    level = request.param
    module = importlib.import_module(f"relu_fast._kernels_{level}")
    before_level = rf.kernel_level()
    before = module._stream_threshold(0)
    _api._use_level(level)
    yield level
    module._stream_threshold(before)
    _api._use_level(before_level)


@pytest.mark.parametrize("stream_everything", LEVELS, indirect=True)
@pytest.mark.parametrize("name", sorted(CALLS))
def test_streamed_outputs_match_the_reference(stream_everything, name, dtype):
    call, want_of = CALLS[name]
    s = special(dtype)
    for n in SIZES:
        # the special values (NaN, infinities, signed zeros, denormals) spread through
        # the array, so that vector bodies, heads and tails all meet them
        x = rand(n, dtype, seed=n, zeros=True)
        g = rand(n, dtype, seed=n + 1)
        x[::3] = np.resize(s, x[::3].size)
        g[1::4] = np.resize(s[::-1], g[1::4].size)
        with np.errstate(all="ignore"):
            want = want_of(x, g)
        for offset in (0, 1, 3, 8):              # out starts 0/1/3/8 elements into a 64-byte line
            base = np.full(n + 32, 7.0, dtype)
            start = (-base.ctypes.data // base.itemsize) % (64 // base.itemsize) + offset
            o = base[start:start + n]
            for threads in (1, 2):
                o.fill(7.0)
                with rf.limit_threads(threads):
                    got = call(x, g, o)
                assert got is o
                if name.startswith("elu"):
                    assert_ulp(o, want, 2)
                else:
                    assert_same(o, want)
            assert (base[:start] == 7.0).all() and (base[start + n:] == 7.0).all(), "wrote outside out"


def _with_samples(name, x, g, out):
    f = FUNCTIONS[name]
    arrays = {"x": x, "grad_output": g}
    values = {p.name: p.sample() for p in f.params if p.name != "is_result"}
    return getattr(rf, name)(*(arrays[a] for a in ARRAYS[f.kind]), **values, out=out)


@pytest.mark.parametrize("stream_everything", LEVELS, indirect=True)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_every_function_streams_the_bits_it_stores(stream_everything, name, dtype):
    """Streamed through the L1 buffer at every placement against the inputs' page offset
    (and ELU streamed too), every elementwise function writes the bits it writes with
    ordinary stores (those are tested against the reference everywhere else)."""
    module = importlib.import_module(f"relu_fast._kernels_{stream_everything}")
    n = 3 * 512 + 29
    x = rand(n, dtype, seed=5, zeros=True)
    g = rand(n, dtype, seed=6)
    x[::7] = np.resize(special(dtype), x[::7].size)
    layout = module._stream_layout()
    threshold = module._stream_threshold(1 << 60)
    try:
        with np.errstate(all="ignore"):
            want = _with_samples(name, x, g, np.empty_like(x))
            module._stream_threshold(0)
            for skew in (-1, 0, 64, 2048, 4032, 4095):
                module._stream_layout(skew, elu=True)
                for threads in (1, 2):
                    o = np.full_like(x, 7.0)
                    with rf.limit_threads(threads):
                        assert _with_samples(name, x, g, o) is o
                    assert_same(o, want)
    finally:
        module._stream_threshold(threshold)
        module._stream_layout(*layout)


def test_threshold_and_layout_are_restored():
    module = importlib.import_module(f"relu_fast._kernels_{rf.kernel_level()}")
    assert module._stream_threshold() == 16 * 1024 * 1024
    assert module._stream_layout() == (2048, False, True, True, True)
