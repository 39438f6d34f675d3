# Kernels compiled for the 'baseline' instruction-set level (flags in setup.py).
include "_kernels.pxi"

LEVEL = "baseline"
TABLE = _make_table(b"baseline")
