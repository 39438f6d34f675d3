# Kernels compiled for the 'native' instruction-set level (flags in setup.py).
include "_kernels.pxi"

LEVEL = "native"
TABLE = _make_table(b"native")
