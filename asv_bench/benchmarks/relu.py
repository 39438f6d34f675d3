"""relu and relu_backward, beside NumPy's maximum(x, 0) and g * (x > 0)."""
from .suite import benchmarks

globals().update(benchmarks("relu", "relu_backward"))
