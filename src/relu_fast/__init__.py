"""relu_fast: the ReLU family and its gradients for NumPy arrays, compiled and threaded.

    relu, relu_backward, leaky_relu, leaky_relu_backward,
    prelu, prelu_backward, elu, elu_backward
    relu_mask, relu_backward_mask, relu_stats     (training: 1-bit masks, activity)

Layers for NumPy training loops are in relu_fast.nn.

Names follow torch.nn.functional; conventions follow NumPy (array-likes in,
ndarray out, ``out=``).  Thread control: set_num_threads, get_num_threads,
limit_threads.  Large outputs reuse freed memory (set_cache_limit, cache_info;
RELU_FAST_CACHE_MB).  ``python -m relu_fast`` prints the build and a self-check.
"""
from ._version import __version__
from ._api import (
    elu,
    elu_backward,
    kernel_level,
    leaky_relu,
    leaky_relu_backward,
    prelu,
    prelu_backward,
    relu,
    relu_backward,
)
from ._memory import cache_info, set_cache_limit
from ._api_train import relu_backward_mask, relu_mask, relu_stats
from ._threads import get_num_threads, limit_threads, set_num_threads

__all__ = [
    "__version__",
    "relu",
    "relu_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "prelu",
    "prelu_backward",
    "elu",
    "elu_backward",
    "relu_mask",
    "relu_backward_mask",
    "relu_stats",
    "set_num_threads",
    "get_num_threads",
    "limit_threads",
    "kernel_level",
    "set_cache_limit",
    "cache_info",
]
