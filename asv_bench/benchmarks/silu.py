"""silu and silu_backward, beside NumPy's x / (1 + exp(-x)) and its gradient."""
from .suite import benchmarks

globals().update(benchmarks("silu", "silu_backward"))
