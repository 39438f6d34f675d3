"""relu and relu_backward, beside NumPy's maximum(x, 0) and g * (x > 0)."""
import numpy as np

import relu_fast

from .common import DTYPES, MODES, SIZES, THREADS, Threaded, Timed, arrays, backward_io, forward_io

PARAMS = [DTYPES, SIZES, MODES, THREADS]
NAMES = ["dtype", "size", "mode", "threads"]


class Relu(Threaded):
    params, param_names = PARAMS, NAMES

    def setup(self, dtype, size, mode, threads):
        self.x, self.out = forward_io(dtype, size, mode)
        self.enter_threads(threads)

    def time_relu(self, dtype, size, mode, threads):
        relu_fast.relu(self.x, out=self.out)


class ReluNumPy(Timed):
    """NumPy reference (one thread: NumPy's elementwise ufuncs do not thread)."""

    params, param_names = PARAMS[:3], NAMES[:3]

    def setup(self, dtype, size, mode):
        self.x, self.out = forward_io(dtype, size, mode)

    def time_maximum(self, dtype, size, mode):
        np.maximum(self.x, 0, out=self.out)


class ReluBackward(Threaded):
    params, param_names = PARAMS, NAMES

    def setup(self, dtype, size, mode, threads):
        self.g, self.x, self.out = backward_io(dtype, size, mode)
        self.enter_threads(threads)

    def time_relu_backward(self, dtype, size, mode, threads):
        relu_fast.relu_backward(self.g, self.x, out=self.out)


class ReluBackwardNumPy(Timed):
    params, param_names = PARAMS[:3], NAMES[:3]

    def setup(self, dtype, size, mode):
        self.g, self.x, self.out = backward_io(dtype, size, mode)

    def time_multiply_mask(self, dtype, size, mode):
        np.multiply(self.g, self.x > 0, out=self.out)


class ReluPeakMem:
    """Peak memory of the allocating calls (whole process, inputs included)."""

    params, param_names = [DTYPES, SIZES], ["dtype", "size"]

    def setup(self, dtype, size):
        self.x, self.g, _, _ = arrays(dtype, size)

    def peakmem_relu(self, dtype, size):
        relu_fast.relu(self.x)

    def peakmem_numpy_maximum(self, dtype, size):
        np.maximum(self.x, 0)

    def peakmem_relu_backward(self, dtype, size):
        relu_fast.relu_backward(self.g, self.x)

    def peakmem_numpy_multiply_mask(self, dtype, size):
        self.g * (self.x > 0)
