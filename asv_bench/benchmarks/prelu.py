"""prelu and prelu_backward with 64 channels on (batch, C, spatial), axis=1, beside NumPy."""
import numpy as np

import relu_fast

from .common import (DTYPES, MODES, PRELU_SHAPES, SIZES, THREADS, Threaded, Timed, arrays,
                     channel_view, forward_io, prelu_weight)

PARAMS = [DTYPES, SIZES, MODES, THREADS]
NAMES = ["dtype", "size", "mode", "threads"]


def numpy_prelu(x, w, out):
    """x where x > 0 else w[c] * x, w broadcast along axis 1."""
    wb = channel_view(w)
    if out is None:
        return np.where(x > 0, x, wb * x)
    if out is not x:
        np.copyto(out, x)
    return np.multiply(x, wb, out=out, where=x < 0)


def numpy_prelu_backward(g, x, w):
    """(g where x > 0 else w[c] * g, per-channel sum of x * g where x <= 0)."""
    neg = x <= 0
    gx = np.where(neg, channel_view(w) * g, g)
    gw = np.sum(x * g, axis=(0, 2), where=neg, dtype=np.float64).astype(w.dtype)
    return gx, gw


class Prelu(Threaded):
    params, param_names = PARAMS, NAMES

    def setup(self, dtype, size, mode, threads):
        self.x, self.out = forward_io(dtype, size, mode, PRELU_SHAPES[size])
        self.w = prelu_weight(dtype)
        self.enter_threads(threads)

    def time_prelu(self, dtype, size, mode, threads):
        relu_fast.prelu(self.x, self.w, axis=1, out=self.out)


class PreluNumPy(Timed):
    """NumPy reference (one thread)."""

    params, param_names = PARAMS[:3], NAMES[:3]

    def setup(self, dtype, size, mode):
        self.x, self.out = forward_io(dtype, size, mode, PRELU_SHAPES[size])
        self.w = prelu_weight(dtype)

    def time_where(self, dtype, size, mode):
        numpy_prelu(self.x, self.w, self.out)


class PreluBackward(Threaded):
    """prelu_backward always allocates (grad_input and grad_weight): no mode."""

    params = [DTYPES, SIZES, THREADS]
    param_names = ["dtype", "size", "threads"]

    def setup(self, dtype, size, threads):
        self.x, self.g, _, _ = arrays(dtype, size, PRELU_SHAPES[size])
        self.w = prelu_weight(dtype)
        self.enter_threads(threads)

    def time_prelu_backward(self, dtype, size, threads):
        relu_fast.prelu_backward(self.g, self.x, self.w, axis=1)


class PreluBackwardNumPy(Timed):
    params, param_names = [DTYPES, SIZES], ["dtype", "size"]

    def setup(self, dtype, size):
        self.x, self.g, _, _ = arrays(dtype, size, PRELU_SHAPES[size])
        self.w = prelu_weight(dtype)

    def time_where_sum(self, dtype, size):
        numpy_prelu_backward(self.g, self.x, self.w)


class PreluPeakMem:
    """Peak memory of the allocating calls (whole process, inputs included)."""

    params, param_names = [DTYPES, SIZES], ["dtype", "size"]

    def setup(self, dtype, size):
        self.x, self.g, _, _ = arrays(dtype, size, PRELU_SHAPES[size])
        self.w = prelu_weight(dtype)

    def peakmem_prelu(self, dtype, size):
        relu_fast.prelu(self.x, self.w, axis=1)

    def peakmem_numpy_where(self, dtype, size):
        numpy_prelu(self.x, self.w, None)

    def peakmem_prelu_backward(self, dtype, size):
        relu_fast.prelu_backward(self.g, self.x, self.w, axis=1)

    def peakmem_numpy_backward(self, dtype, size):
        numpy_prelu_backward(self.g, self.x, self.w)
