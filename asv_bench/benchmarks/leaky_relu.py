"""leaky_relu and its backward, beside NumPy's where(x > 0, x, s * x) and friends."""
from .suite import benchmarks

globals().update(benchmarks("leaky_relu", "leaky_relu_backward"))
