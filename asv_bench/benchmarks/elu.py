"""elu and elu_backward, beside NumPy's where(x > 0, x, alpha * expm1(x)) and friends."""
import numpy as np

import relu_fast

from .common import (ALPHA, DTYPES, MODES, SIZES, THREADS, Threaded, Timed, arrays, backward_io,
                     forward_io)

PARAMS = [DTYPES, SIZES, MODES, THREADS]
NAMES = ["dtype", "size", "mode", "threads"]


def numpy_elu(x, alpha, out):
    """x where x > 0 else alpha * expm1(x) (alpha = 1 in the masked form)."""
    if out is None:
        return np.where(x > 0, x, alpha * np.expm1(x))
    if out is not x:
        np.copyto(out, x)
    return np.expm1(x, out=out, where=x < 0)


def numpy_elu_backward(g, x, alpha, out):
    """g where x > 0 else g * alpha * exp(x)."""
    if out is None:
        return np.where(x > 0, g, g * (alpha * np.exp(x)))
    neg = x <= 0
    if out is not g:
        np.copyto(out, g)
    return np.multiply(g, np.exp(x) * alpha, out=out, where=neg)


class Elu(Threaded):
    params, param_names = PARAMS, NAMES

    def setup(self, dtype, size, mode, threads):
        self.x, self.out = forward_io(dtype, size, mode)
        self.enter_threads(threads)

    def time_elu(self, dtype, size, mode, threads):
        relu_fast.elu(self.x, ALPHA, out=self.out)


class EluNumPy(Timed):
    """NumPy reference (one thread)."""

    params, param_names = PARAMS[:3], NAMES[:3]

    def setup(self, dtype, size, mode):
        self.x, self.out = forward_io(dtype, size, mode)

    def time_where_expm1(self, dtype, size, mode):
        numpy_elu(self.x, ALPHA, self.out)


class EluBackward(Threaded):
    params, param_names = PARAMS, NAMES

    def setup(self, dtype, size, mode, threads):
        self.g, self.x, self.out = backward_io(dtype, size, mode)
        self.enter_threads(threads)

    def time_elu_backward(self, dtype, size, mode, threads):
        relu_fast.elu_backward(self.g, self.x, ALPHA, out=self.out)


class EluBackwardNumPy(Timed):
    params, param_names = PARAMS[:3], NAMES[:3]

    def setup(self, dtype, size, mode):
        self.g, self.x, self.out = backward_io(dtype, size, mode)

    def time_where_exp(self, dtype, size, mode):
        numpy_elu_backward(self.g, self.x, ALPHA, self.out)


class EluPeakMem:
    """Peak memory of the allocating calls (whole process, inputs included)."""

    params, param_names = [DTYPES, SIZES], ["dtype", "size"]

    def setup(self, dtype, size):
        self.x, self.g, _, _ = arrays(dtype, size)

    def peakmem_elu(self, dtype, size):
        relu_fast.elu(self.x, ALPHA)

    def peakmem_numpy_where_expm1(self, dtype, size):
        numpy_elu(self.x, ALPHA, None)

    def peakmem_elu_backward(self, dtype, size):
        relu_fast.elu_backward(self.g, self.x, ALPHA)

    def peakmem_numpy_backward_where_exp(self, dtype, size):
        numpy_elu_backward(self.g, self.x, ALPHA, None)
