"""elu and elu_backward, beside NumPy's where(x > 0, x, alpha * expm1(x)) and friends."""
from .suite import benchmarks

globals().update(benchmarks("elu", "elu_backward"))
