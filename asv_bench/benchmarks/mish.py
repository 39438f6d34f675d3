"""mish and mish_backward, beside NumPy's x * tanh(logaddexp(0, x)) and PyTorch's gradient formula."""
from .suite import benchmarks

globals().update(benchmarks("mish", "mish_backward"))
