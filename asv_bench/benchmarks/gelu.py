"""gelu and gelu_backward (the erf form), beside x * scipy.special.ndtr(x) (when SciPy is installed)."""
from .suite import benchmarks

globals().update(benchmarks("gelu", "gelu_backward"))
