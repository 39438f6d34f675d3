"""selu and selu_backward, beside NumPy's scale * where(x > 0, x, alpha * expm1(x)) and its gradient."""
from .suite import benchmarks

globals().update(benchmarks("selu", "selu_backward"))
