"""Shared parameters, seeded data and thread control for the benchmark modules.

Every timed benchmark sets ``number = 1``: asv re-runs ``setup`` before each
sample, so each timed call sees freshly set-up data (an in-place call never
works on its own previous output).  ``setup`` only copies from a per-process
cache, so it stays cheap next to the call at 1e7 elements.
"""
import os

import numpy as np

import relu_fast

DTYPES = ["float32", "float64"]
SIZES = [10**3, 10**5, 10**7]
# The modes are the table's (relu_fast/_bench/contenders.py), made here by forward_io and backward_io:
#   out:     result written into a preallocated array (``out=buf``)
#   inplace: result written over an input (forward: ``out=x``; backward: ``out=grad_output``)
#   alloc:   a new array is returned
#   "1": relu_fast.limit_threads(1); "all": limit_threads(os.cpu_count())
THREADS = ["1", "all"]

CHANNELS = 64           # PReLU channels, NCHW-like layout (batch, C, spatial), axis=1
# (batch, C, spatial) for each size: 1024, 99968 and 10**7 elements.
PRELU_SHAPES = {10**3: (1, CHANNELS, 16), 10**5: (2, CHANNELS, 781), 10**7: (10, CHANNELS, 15625)}

_cache = {}


def arrays(dtype, size, shape=None):
    """(x, grad_output, out_buffer, work_buffer) for this dtype and size, seeded.

    x and grad_output are uniform in [-4, 4) (half the signs negative).  Only the
    last key asked for is kept, so a process holds one size at a time.
    """
    key = (dtype, size, shape)
    if key not in _cache:
        _cache.clear()
        rng = np.random.default_rng(20240607 + size)
        shape = shape or (size,)
        x = _signed_uniform(rng, shape, dtype)
        g = _signed_uniform(rng, shape, dtype)
        _cache[key] = (x, g, np.empty_like(x), np.empty_like(x))
    return _cache[key]


def _signed_uniform(rng, shape, dtype):
    a = rng.random(shape, dtype=np.dtype(dtype).type)   # made in dtype: no wide temporary
    a *= 8
    a -= 4
    return a


def prelu_weight(dtype):
    """One alpha per channel, seeded, in (0.01, 0.3)."""
    return np.random.default_rng(7).uniform(0.01, 0.3, CHANNELS).astype(dtype)


class Timed:
    """Timing attributes shared by every time_ benchmark: a full run of the suite
    takes minutes.  Each sample is one call (``number = 1``) with fresh set-up data."""

    number = 1
    repeat = (5, 50, 1.0)       # at least 5 samples, at most 50, stop after ~1 s
    warmup_time = 0.05
    timeout = 120


class Threaded(Timed):
    """Runs each benchmark under relu_fast.limit_threads(1 or all cores)."""

    def enter_threads(self, threads):
        n = 1 if threads == "1" else (os.cpu_count() or 1)
        self._threads = relu_fast.limit_threads(n)
        self._threads.__enter__()

    def teardown(self, *params):
        threads = getattr(self, "_threads", None)
        if threads is not None:
            self._threads = None
            threads.__exit__(None, None, None)


def forward_io(dtype, size, mode, shape=None):
    """(x, out) for a forward call in `mode`; inplace: out is x, a fresh copy."""
    x, _, buf, work = arrays(dtype, size, shape)
    if mode == "inplace":
        np.copyto(work, x)
        return work, work
    return x, (buf if mode == "out" else None)


def backward_io(dtype, size, mode, shape=None):
    """(grad_output, x, out) for a backward call; inplace: out is grad_output, a fresh copy."""
    x, g, buf, work = arrays(dtype, size, shape)
    if mode == "inplace":
        np.copyto(work, g)
        return work, x, work
    return g, x, (buf if mode == "out" else None)
