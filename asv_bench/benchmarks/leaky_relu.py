"""leaky_relu and its backward, beside NumPy's where(x > 0, x, s * x) and friends."""
import numpy as np

import relu_fast

from .common import (DTYPES, MODES, SIZES, SLOPE, THREADS, Threaded, Timed, arrays, backward_io,
                     forward_io)

PARAMS = [DTYPES, SIZES, MODES, THREADS]
NAMES = ["dtype", "size", "mode", "threads"]


def numpy_leaky(x, s, out):
    """x where x > 0 else s*x: np.where when allocating, a masked multiply into out."""
    if out is None:
        return np.where(x > 0, x, s * x)
    if out is not x:
        np.copyto(out, x)
    return np.multiply(x, s, out=out, where=x < 0)


def numpy_leaky_backward(g, x, s, out):
    """g where x > 0 else s*g."""
    if out is None:
        return np.where(x > 0, g, s * g)
    if out is not g:
        np.copyto(out, g)
    return np.multiply(g, s, out=out, where=x <= 0)


class LeakyRelu(Threaded):
    params, param_names = PARAMS, NAMES

    def setup(self, dtype, size, mode, threads):
        self.x, self.out = forward_io(dtype, size, mode)
        self.enter_threads(threads)

    def time_leaky_relu(self, dtype, size, mode, threads):
        relu_fast.leaky_relu(self.x, SLOPE, out=self.out)


class LeakyReluNumPy(Timed):
    """NumPy reference (one thread)."""

    params, param_names = PARAMS[:3], NAMES[:3]

    def setup(self, dtype, size, mode):
        self.x, self.out = forward_io(dtype, size, mode)

    def time_where(self, dtype, size, mode):
        numpy_leaky(self.x, SLOPE, self.out)


class LeakyReluBackward(Threaded):
    params, param_names = PARAMS, NAMES

    def setup(self, dtype, size, mode, threads):
        self.g, self.x, self.out = backward_io(dtype, size, mode)
        self.enter_threads(threads)

    def time_leaky_relu_backward(self, dtype, size, mode, threads):
        relu_fast.leaky_relu_backward(self.g, self.x, SLOPE, out=self.out)


class LeakyReluBackwardNumPy(Timed):
    params, param_names = PARAMS[:3], NAMES[:3]

    def setup(self, dtype, size, mode):
        self.g, self.x, self.out = backward_io(dtype, size, mode)

    def time_where(self, dtype, size, mode):
        numpy_leaky_backward(self.g, self.x, SLOPE, self.out)


class LeakyReluPeakMem:
    """Peak memory of the allocating calls (whole process, inputs included)."""

    params, param_names = [DTYPES, SIZES], ["dtype", "size"]

    def setup(self, dtype, size):
        self.x, self.g, _, _ = arrays(dtype, size)

    def peakmem_leaky_relu(self, dtype, size):
        relu_fast.leaky_relu(self.x, SLOPE)

    def peakmem_numpy_where(self, dtype, size):
        numpy_leaky(self.x, SLOPE, None)

    def peakmem_leaky_relu_backward(self, dtype, size):
        relu_fast.leaky_relu_backward(self.g, self.x, SLOPE)

    def peakmem_numpy_backward_where(self, dtype, size):
        numpy_leaky_backward(self.g, self.x, SLOPE, None)
