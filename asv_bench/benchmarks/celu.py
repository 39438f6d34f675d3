"""celu and celu_backward, beside NumPy's where(x > 0, x, alpha * expm1(x / alpha)) and its gradient."""
from .suite import benchmarks

globals().update(benchmarks("celu", "celu_backward"))
