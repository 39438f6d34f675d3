"""The head of a span is peeled so that the output's stores start a 64-byte line:
every elementwise function must write the same bits wherever its arrays sit relative to
a cache line, on every level and thread count (the head runs as a span of its own)."""
import importlib

import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _api, _dispatch
from relu_fast._functions import ARRAYS, ELEMENTWISE, FUNCTIONS
from conftest import GRAIN, assert_same, rand, special

LEVELS = _dispatch.available_levels()


def placed(a, offset):
    """A copy of `a` starting `offset` elements after a 64-byte line."""
    base = np.empty(a.size + 64, a.dtype)
    start = (-base.ctypes.data // a.itemsize) % (64 // a.itemsize) + offset
    out = base[start:start + a.size]
    out[...] = a
    assert out.ctypes.data % 64 == offset * a.itemsize
    return out


def call(name, x, g, out):
    f = FUNCTIONS[name]
    arrays = {"x": x, "grad_output": g}
    values = {p.name: p.sample() for p in f.params if p.name != "is_result"}
    if "training" in values:                      # rrelu: the drawn slopes follow the index
        values.update(training=True, seed=11)
    return getattr(rf, name)(*(arrays[a] for a in ARRAYS[f.kind]), **values, out=out)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_same_bits_at_every_line_offset(level, name, dtype):
    _api._use_level(level)
    for n in (300, max(2 * GRAIN, 70_000) + 13):
        x = rand(n, dtype, seed=3, zeros=True)
        g = rand(n, dtype, seed=4)
        x[::5] = np.resize(special(dtype), x[::5].size)
        with np.errstate(all="ignore"):
            want = call(name, placed(x, 0), placed(g, 0), placed(np.zeros_like(x), 0))
            per_line = 64 // x.itemsize
            for out_offset in (1, 3, per_line // 2, per_line - 1):
                for in_offset in (0, 1, out_offset):
                    xs, gs = placed(x, in_offset), placed(g, (in_offset + 2) % per_line)
                    for threads in (1, 2):
                        o = placed(np.full_like(x, 7.0), out_offset)
                        with rf.limit_threads(threads):
                            assert call(name, xs, gs, o) is o
                        assert_same(o, want)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_unpeeled_spans_write_the_same_bits(level, name, dtype):
    """_stream_layout(peel=False) (benchmarks' A/B) runs each span whole from the output's
    first element: the bits must not change."""
    _api._use_level(level)
    module = importlib.import_module(f"relu_fast._kernels_{level}")
    x = placed(rand(1000, dtype, seed=8, zeros=True), 1)
    g = placed(rand(1000, dtype, seed=9), 2)
    x[::5] = np.resize(special(dtype), x[::5].size)
    with np.errstate(all="ignore"):
        want = call(name, x, g, placed(np.zeros_like(x), 3))
        layout = module._stream_layout(peel=False)
        try:
            got = call(name, x, g, placed(np.zeros_like(x), 3))
        finally:
            module._stream_layout(*layout)
    assert layout[3] is True
    assert_same(got, want)
