"""hardsigmoid and hardsigmoid_backward, beside NumPy's clip(x + 3, 0, 6) / 6 and g / 6 * ((x > -3) & (x < 3))."""
from .suite import benchmarks

globals().update(benchmarks("hardsigmoid", "hardsigmoid_backward"))
