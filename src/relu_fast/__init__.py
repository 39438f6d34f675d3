"""ReLU and its family (Leaky ReLU, PReLU, ELU, the piecewise-linear ones) and their gradients for NumPy arrays, compiled and threaded.

Functions (names as in ``torch.nn.functional``, conventions as in NumPy:
array-likes in, ndarray out, ``out=``):

- `relu`, `leaky_relu`, `prelu`, `elu`, `hardtanh`, `relu6`, `threshold`,
  `hardsigmoid`, `hardswish`, `selu`, `celu`, `silu`, `gelu`, `softplus`,
  `mish`, `rrelu` and their gradients `relu_backward`, `leaky_relu_backward`,
  `prelu_backward`, `elu_backward`, `hardtanh_backward`, `relu6_backward`,
  `threshold_backward`, `hardsigmoid_backward`, `hardswish_backward`,
  `selu_backward`, `celu_backward`, `silu_backward`, `gelu_backward`,
  `softplus_backward`, `mish_backward`, `rrelu_backward`;
- for training: `relu_mask` and `relu_backward_mask` (a 1-bit mask instead of
  x; also for leaky_relu, rrelu, hardtanh, relu6, threshold and hardsigmoid),
  `relu_stats` (relu and each channel's active fraction);
- threads: `set_num_threads`, `get_num_threads`, `limit_threads`;
  `kernel_level` names the instruction set in use;
- the cache of freed output memory: `set_cache_limit`, `cache_info`
  (``RELU_FAST_CACHE_MB`` sets the limit at import).

Layers for NumPy training loops are in `relu_fast.nn`.  ``python -m relu_fast``
prints the build and a self-check.
"""
from ._version import __version__
from ._api import (
    elu,
    elu_backward,
    gelu,
    gelu_backward,
    hardsigmoid,
    hardsigmoid_backward,
    hardswish,
    hardswish_backward,
    hardtanh,
    hardtanh_backward,
    kernel_level,
    leaky_relu,
    leaky_relu_backward,
    mish,
    mish_backward,
    prelu,
    prelu_backward,
    relu,
    relu6,
    relu6_backward,
    relu_backward,
    celu,
    celu_backward,
    selu,
    selu_backward,
    silu,
    silu_backward,
    rrelu,
    rrelu_backward,
    softplus,
    softplus_backward,
    threshold,
    threshold_backward,
)
from ._memory import cache_info, set_cache_limit
from ._api_train import (
    hardsigmoid_backward_mask,
    hardsigmoid_mask,
    hardtanh_backward_mask,
    hardtanh_mask,
    leaky_relu_backward_mask,
    leaky_relu_mask,
    relu6_backward_mask,
    relu6_mask,
    relu_backward_mask,
    relu_mask,
    relu_stats,
    rrelu_backward_mask,
    rrelu_mask,
    threshold_backward_mask,
    threshold_mask,
)
from ._threads import get_num_threads, limit_threads, set_num_threads

# the functions as declared in relu_fast._functions (tests/test_declarations.py checks)
__all__ = [
    "__version__",
    "relu",
    "relu_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "elu",
    "elu_backward",
    "hardtanh",
    "hardtanh_backward",
    "relu6",
    "relu6_backward",
    "threshold",
    "threshold_backward",
    "hardsigmoid",
    "hardsigmoid_backward",
    "hardswish",
    "hardswish_backward",
    "selu",
    "selu_backward",
    "celu",
    "celu_backward",
    "silu",
    "silu_backward",
    "rrelu",
    "rrelu_backward",
    "softplus",
    "softplus_backward",
    "mish",
    "mish_backward",
    "gelu",
    "gelu_backward",
    "prelu",
    "prelu_backward",
    "relu_mask",
    "relu_backward_mask",
    "leaky_relu_mask",
    "leaky_relu_backward_mask",
    "rrelu_mask",
    "rrelu_backward_mask",
    "hardtanh_mask",
    "hardtanh_backward_mask",
    "relu6_mask",
    "relu6_backward_mask",
    "threshold_mask",
    "threshold_backward_mask",
    "hardsigmoid_mask",
    "hardsigmoid_backward_mask",
    "relu_stats",
    "set_num_threads",
    "get_num_threads",
    "limit_threads",
    "kernel_level",
    "set_cache_limit",
    "cache_info",
]
