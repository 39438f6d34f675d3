"""rrelu and rrelu_backward in training mode (beside NumPy's Generator.uniform slopes and a
where), and rrelu in eval mode (beside NumPy's where with the mean slope)."""
from .suite import benchmarks

globals().update(benchmarks("rrelu", "rrelu_backward", "rrelu_eval"))
