"""softplus and softplus_backward, beside NumPy's logaddexp(0, x) and g / (1 + exp(-x))."""
from .suite import benchmarks

globals().update(benchmarks("softplus", "softplus_backward"))
