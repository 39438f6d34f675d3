# Kernels compiled for the 'avx512' instruction-set level (flags in setup.py).
include "_kernels.pxi"

LEVEL = "avx512"
TABLE = _make_table(b"avx512")
