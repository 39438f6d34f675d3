"""prelu and prelu_backward with 64 channels on (batch, C, spatial), axis=1, beside NumPy."""
from .suite import benchmarks

globals().update(benchmarks("prelu", "prelu_backward"))
