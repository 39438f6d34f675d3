"""The output cache (relu_fast._memory, _pool.h): large outputs reuse freed blocks.

A reused block must give exactly the reference result whatever it held before;
the cache must stay within its limit and block count; arrays from it behave like
any array (own their data, resize, tracemalloc sees them); the limit comes from
RELU_FAST_CACHE_MB or set_cache_limit; a forked child can use it.
"""
import multiprocessing as mp
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _memory
from relu_fast import _reference as ref
from conftest import DTYPES, assert_same, assert_ulp

MIB = 1 << 20


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with nothing kept and a 256 MiB limit (whatever RELU_FAST_CACHE_MB
    says); the process's limit comes back afterwards, with nothing kept."""
    limit = rf.set_cache_limit(0)
    rf.set_cache_limit(256 * MIB)
    yield
    rf.set_cache_limit(0)
    rf.set_cache_limit(limit)


def _elements(nbytes, dtype):
    return nbytes // np.dtype(dtype).itemsize


def _calls(dtype, n):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(n) * 3).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    x2, g2 = x.reshape(-1, 4), g.reshape(-1, 4)
    w = np.array([0.25, -0.5, 0.0, 2.0], dtype=dtype)
    return [
        ("relu", lambda: rf.relu(x), lambda: ref.relu(x)),
        ("relu_backward", lambda: rf.relu_backward(g, x), lambda: ref.relu_backward(g, x)),
        ("leaky_relu", lambda: rf.leaky_relu(x, 0.1), lambda: ref.leaky_relu(x, 0.1)),
        ("leaky_relu_backward", lambda: rf.leaky_relu_backward(g, x, 0.1),
         lambda: ref.leaky_relu_backward(g, x, 0.1)),
        ("elu", lambda: rf.elu(x, 1.5), lambda: ref.elu(x, 1.5)),
        ("elu_backward", lambda: rf.elu_backward(g, x, 1.5), lambda: ref.elu_backward(g, x, 1.5)),
        ("prelu", lambda: rf.prelu(x2, w, axis=-1), lambda: ref.prelu(x2, w, axis=-1)),
        ("prelu_backward", lambda: rf.prelu_backward(g2, x2, w, axis=-1)[0],
         lambda: ref.prelu_backward(g2, x2, w, axis=-1)[0]),
    ]


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_function_reuses_a_dirty_block_and_is_exact(dtype):
    n = _elements(3 * MIB, dtype)
    calls = _calls(dtype, n)
    for name, fn, want in calls:
        first = fn()
        address = first.__array_interface__["data"][0]
        first[...] = np.nan                    # what the next call must overwrite
        del first
        hits = rf.cache_info()["hits"]
        got = fn()
        assert got.__array_interface__["data"][0] == address, f"{name}: the freed block was not reused"
        assert rf.cache_info()["hits"] == hits + 1
        if name.startswith("elu"):
            assert_ulp(got, want(), 2)
        else:
            assert_same(got, want())


def test_a_block_serves_another_dtype_of_the_same_bytes():
    n = _elements(2 * MIB, np.float64)
    x64 = np.linspace(-3, 3, n)
    x32 = np.linspace(-3, 3, 2 * n, dtype=np.float32)
    a = rf.relu(x64)
    address = a.__array_interface__["data"][0]
    del a
    b = rf.elu(x32)
    assert b.__array_interface__["data"][0] == address
    assert_ulp(b, ref.elu(x32, 1.0), 2)


def test_small_outputs_do_not_use_the_cache():
    x = np.ones(_elements(MIB, np.float32) - 1, dtype=np.float32)
    before = rf.cache_info()
    for _ in range(3):
        rf.relu(x)
    after = rf.cache_info()
    assert (after["hits"], after["misses"], after["kept_bytes"]) == (before["hits"], before["misses"], 0)


def test_limit_zero_keeps_nothing_and_reuses_nothing():
    rf.set_cache_limit(0)
    x = np.ones(_elements(4 * MIB, np.float32), dtype=np.float32)
    hits = rf.cache_info()["hits"]
    for _ in range(3):
        y = rf.relu(x)
        del y
        assert rf.cache_info()["kept_bytes"] == 0
    assert rf.cache_info()["hits"] == hits


def test_kept_bytes_stay_within_the_limit_oldest_dropped():
    rf.set_cache_limit(7 * MIB)
    a2, a3, a4 = (rf.relu(np.ones(_elements(k * MIB, np.float32), dtype=np.float32)) for k in (2, 3, 4))
    del a2, a3
    assert rf.cache_info()["kept_bytes"] == 5 * MIB
    del a4              # 2 + 3 + 4 > 7: the oldest (2 MiB) goes, 3 + 4 are kept
    info = rf.cache_info()
    assert (info["kept_blocks"], info["kept_bytes"]) == (2, 7 * MIB)
    rf.set_cache_limit(4 * MIB)                       # lowering the limit frees blocks now
    info = rf.cache_info()
    assert (info["kept_blocks"], info["kept_bytes"]) == (1, 4 * MIB)


def test_block_count_is_bounded():
    arrays = [rf.relu(np.ones(_elements(MIB + 64 * k, np.float32), dtype=np.float32)) for k in range(40)]
    del arrays
    info = rf.cache_info()
    assert info["kept_blocks"] == info["max_blocks"]
    assert info["kept_bytes"] <= info["limit"]


def test_a_block_is_reused_only_for_a_close_size():
    big = np.ones(_elements(8 * MIB, np.float32), dtype=np.float32)
    a = rf.relu(big)
    address = a.__array_interface__["data"][0]
    del a
    half = rf.relu(big[: big.size // 2])               # 4 MiB: not from the 8 MiB block
    assert half.__array_interface__["data"][0] != address
    near = rf.relu(big[: big.size - big.size // 10])   # 10% smaller: may use it
    assert near.__array_interface__["data"][0] == address
    assert_same(near, ref.relu(big[: near.size]))


def test_arrays_from_the_cache_own_their_data_and_resize():
    x = np.arange(_elements(2 * MIB, np.float64), dtype=np.float64) - 1000
    y = rf.relu(x)
    assert y.flags.owndata and y.flags.writeable and y.flags.c_contiguous
    want = ref.relu(x)
    y.resize(2 * x.size, refcheck=False)              # numpy reallocates through the handler
    assert_same(y[: x.size], want)
    y.resize(10, refcheck=False)
    assert_same(y, want[:10])
    del y


def test_tracemalloc_sees_outputs_while_they_live():
    x = np.ones(_elements(16 * MIB, np.float32), dtype=np.float32)
    rf.relu(x)                       # warm: the block is kept from here on
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        y = rf.relu(x)
        live = tracemalloc.get_traced_memory()[0]
        del y
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert live - base >= 16 * MIB
    assert after - base < MIB


@pytest.mark.parametrize("value, want", [("0", 0), ("7", 7 * MIB), (" 64 ", 64 * MIB)])
def test_limit_from_the_environment(value, want):
    assert _memory._initial_limit({"RELU_FAST_CACHE_MB": value}) == want


@pytest.mark.parametrize("value", ["-1", "lots", "1.5"])
def test_bad_environment_value_warns_and_uses_the_default(value):
    with pytest.warns(RuntimeWarning, match="RELU_FAST_CACHE_MB"):
        got = _memory._initial_limit({"RELU_FAST_CACHE_MB": value})
    assert got == _memory._initial_limit({})


def test_default_limit_is_bounded_by_memory():
    default = _memory._initial_limit({})
    assert 0 < default <= _memory.DEFAULT_LIMIT_MB * MIB
    phys = _memory._physical_bytes()
    if phys:
        assert default <= phys // 16


def test_environment_reaches_a_fresh_process():
    code = "import relu_fast as rf; print(rf.cache_info()['limit'])"
    env = dict(os.environ, RELU_FAST_CACHE_MB="3")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == 3 * MIB


@pytest.mark.parametrize("bad, exc", [(1.5, TypeError), (True, TypeError), ("1", TypeError), (-1, ValueError)])
def test_set_cache_limit_refuses_bad_values(bad, exc):
    before = rf.cache_info()["limit"]
    with pytest.raises(exc, match="set_cache_limit"):
        rf.set_cache_limit(bad)
    assert rf.cache_info()["limit"] == before


def test_set_cache_limit_returns_the_previous_limit():
    first = rf.set_cache_limit(5 * MIB)
    assert rf.set_cache_limit(np.int64(first)) == 5 * MIB
    assert rf.cache_info()["limit"] == first


def _child_uses_cache(queue):
    x = np.linspace(-1, 1, _elements(4 * MIB, np.float32), dtype=np.float32)
    a = rf.relu(x)
    address = a.__array_interface__["data"][0]
    del a
    b = rf.relu(x)
    queue.put((b.__array_interface__["data"][0] == address, bool(np.array_equal(b, ref.relu(x)))))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_uses_the_cache():
    x = np.ones(_elements(4 * MIB, np.float32), dtype=np.float32)
    kept = rf.relu(x)
    del kept                                  # the parent keeps a block when it forks
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child_uses_cache, args=(queue,))
    proc.start()
    reused, exact = queue.get(timeout=60)
    proc.join(60)
    assert proc.exitcode == 0 and reused and exact


@pytest.mark.parametrize("mb", [2**44, 2**60, 10**30])
def test_huge_environment_value_clamps(mb):
    """issue 12 item 6: RELU_FAST_CACHE_MB of 2^44 or more made `import relu_fast` fail
    with OverflowError; a huge valid value clamps to the address space, as
    set_cache_limit does."""
    assert _memory._initial_limit({"RELU_FAST_CACHE_MB": str(mb)}) == _memory.SIZE_MAX
    code = "import relu_fast as rf; print(rf.cache_info()['limit'])"
    env = dict(os.environ, RELU_FAST_CACHE_MB=str(mb))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == _memory.SIZE_MAX
