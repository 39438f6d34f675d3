"""Kernel levels (baseline/avx2/avx512): every level gives bit-identical results
(setup.py builds with -ffp-contract=off) that agree with the reference, and
RELU_FAST_MAX_LEVEL caps the choice.  One exception: elu and elu_backward on levels with
hardware FMA uses it, and may differ in the last bit from levels without (all identical
within each group)."""
import importlib
import os
import platform
import subprocess
import sys
import warnings

import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _api, _dispatch
from relu_fast import _reference as reference
from relu_fast._functions import FUNCTIONS
from conftest import FUNCS, GRAIN, assert_same, assert_ulp, compare, rand, with_specials

LEVELS = _dispatch.available_levels()


def test_available_levels():
    assert LEVELS, "no kernel level can run here"
    assert LEVELS[0] == "baseline"
    assert all(lv in _dispatch.LEVELS for lv in LEVELS)
    assert LEVELS == sorted(LEVELS, key=_dispatch.LEVELS.index)
    assert rf.kernel_level() in LEVELS


def test_default_choice_is_best_available():
    assert _dispatch.choose_level(env={}) == LEVELS[-1]
    assert _dispatch.choose_level(env={"RELU_FAST_MAX_LEVEL": ""}) == LEVELS[-1]


@pytest.mark.parametrize("cap", _dispatch.LEVELS)
def test_max_level_caps_the_choice(cap):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = _dispatch.choose_level(env={"RELU_FAST_MAX_LEVEL": cap})
        assert got == _dispatch.choose_level(env={"RELU_FAST_MAX_LEVEL": f" {cap.upper()} "})
    assert got in LEVELS
    assert _dispatch.LEVELS.index(got) <= _dispatch.LEVELS.index(cap)
    if cap in LEVELS:
        assert got == cap


@pytest.mark.parametrize("bad", ["sse9", "avx-512", "fastest", "1"])
def test_unknown_max_level_warns(bad):
    with pytest.warns(RuntimeWarning, match="RELU_FAST_MAX_LEVEL"):
        got = _dispatch.choose_level(env={"RELU_FAST_MAX_LEVEL": bad})
    assert got == LEVELS[-1]


def test_native_cap_without_native_build_warns():
    if _dispatch._built("native"):
        pytest.skip("this build has native kernels")
    with pytest.warns(RuntimeWarning, match="native"):
        assert _dispatch.choose_level(env={"RELU_FAST_MAX_LEVEL": "native"}) == LEVELS[-1]


def test_unknown_level_cannot_be_loaded():
    before = rf.kernel_level()
    with pytest.raises(ValueError, match="unknown kernel level"):
        _api._use_level("avx1024")
    assert rf.kernel_level() == before


def test_env_var_caps_at_import():
    """A fresh interpreter with RELU_FAST_MAX_LEVEL=baseline runs the baseline kernels."""
    env = dict(os.environ, RELU_FAST_MAX_LEVEL="baseline")
    out = subprocess.run([sys.executable, "-c", "import relu_fast; print(relu_fast.kernel_level())"],
                         env=env, capture_output=True, text=True, timeout=120, cwd=os.path.expanduser("~"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "baseline"


@pytest.mark.parametrize("name", FUNCS)
def test_every_level_identical_and_correct(name, dtype):
    original = rf.kernel_level()
    x, g = with_specials(dtype)
    big_x = rand((4, 3, GRAIN // 6 + 17), dtype, seed=22, zeros=True)
    big_g = rand((4, 3, GRAIN // 6 + 17), dtype, seed=23)
    results = {}
    try:
        for level in LEVELS:
            _api._use_level(level)
            assert rf.kernel_level() == level
            r = []
            for nthreads in (1, 2):
                with rf.limit_threads(nthreads):
                    for xx, gg in ((x, g), (x.reshape(-1, 19), g.reshape(-1, 19)), (big_x, big_g)):
                        for axis in ((1, -1) if name.startswith("prelu") else (1,)):
                            if name == "elu_backward" and dtype == np.float64 and xx is not big_x:
                                keep = ~(xx < -700)     # see test_reference: long double reference
                                out = compare(name, xx[keep], gg[keep])
                            else:
                                out = compare(name, xx, gg, axis=axis)
                            r.extend(out if isinstance(out, tuple) else (out,))
            results[level] = r
    finally:
        _api._use_level(original)
    assert rf.kernel_level() == original
    first = results[LEVELS[0]]
    fma_first = {}
    for level in LEVELS:
        fma = uses_fma(level) and FUNCTIONS[name.replace("_result", "")].fma
        fma_first.setdefault(fma, results[level])
        for a, b in zip(fma_first[fma], results[level]):
            assert_same(a, b)
        for a, b in zip(first, results[level]):
            # each is within 1 ulp of the exact value, or within its declared bound
            assert_ulp(a, b, max(2, FUNCTIONS[name.replace("_result", "")].ulps))


def uses_fma(level):
    return importlib.import_module(f"relu_fast._kernels_{level}").USES_FMA


def test_fma_levels():
    """x86-64-v3 and v4 have FMA; the x86 baseline (SSE2) does not."""
    if platform.machine().lower() in ("x86_64", "amd64"):
        assert not uses_fma("baseline")
    for level in LEVELS[1:]:
        assert uses_fma(level)


@pytest.mark.parametrize("name", FUNCS)
def test_every_level_small_sizes_and_offsets(name, dtype):
    """Vector tails and peels: every length 0..70 and a few more, at 4 start offsets."""
    original = rf.kernel_level()
    xs = rand(300, dtype, seed=24, zeros=True)
    gs = rand(300, dtype, seed=25)
    sizes = list(range(71)) + [127, 128, 129, 255, 257]
    try:
        for level in LEVELS:
            _api._use_level(level)
            for off in range(4):
                for n in sizes:
                    compare(name, xs[off:off + n], gs[off:off + n])
    finally:
        _api._use_level(original)


@pytest.mark.parametrize("name", ["prelu", "prelu_backward"])
def test_every_level_prelu_channel_tails(name, dtype):
    """Channels-last rows of 1..19 channels, and channel-major rows of odd lengths."""
    original = rf.kernel_level()
    try:
        for level in LEVELS:
            _api._use_level(level)
            for C in range(1, 20):
                x = rand((7, C), dtype, seed=C, zeros=True)
                g = rand((7, C), dtype, seed=C + 100)
                compare(name, x, g, axis=-1)
                compare(name, x.T.copy(), g.T.copy(), axis=0)
                compare(name, x.reshape(7, C, 1), g.reshape(7, C, 1), axis=1)
    finally:
        _api._use_level(original)


@pytest.mark.parametrize("shape, axis", [
    ((100, 100, 10), 1),        # channel runs shorter than 16: the rows plan
    ((200, 100, 3, 3), 1),      # 3x3 feature maps
    ((3000, 10), -1),           # channels-last, few channels: grouped rows
    ((331, 27), -1),            # grouped rows with rows left over
    ((40, 100, 64), 1),         # runs long enough: no plan
    ((500, 100), -1),           # rows long enough: no plan
])
def test_every_level_prelu_backward_same_sums(shape, axis, dtype):
    """issue 12 item 4: prelu_backward's grad_weight is bit-identical on every kernel level
    and thread count for shapes that reach every plan (short runs and short rows as rows,
    grouped or not), since the plan depends on the shape only."""
    original = rf.kernel_level()
    x = rand(shape, dtype, seed=31, zeros=True)
    g = rand(shape, dtype, seed=32)
    w = rand(shape[axis], dtype, seed=33)
    results = {}
    try:
        for level in LEVELS:
            _api._use_level(level)
            for nthreads in (1, 2):
                with rf.limit_threads(nthreads):
                    results[level, nthreads] = rf.prelu_backward(g, x, w, axis=axis)
    finally:
        _api._use_level(original)
    first = results[LEVELS[0], 1]
    gw_ref = reference.prelu_backward(g, x, w, axis=axis)[1]
    np.testing.assert_allclose(first[1], gw_ref, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-3 if dtype == np.float32 else 1e-9)
    for gx, gw in results.values():
        assert_same(gx, first[0])
        assert_same(gw, first[1])
