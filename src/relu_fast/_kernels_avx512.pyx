# Kernels compiled for the 'avx512' instruction-set level (flags in setup.py).
include "_kernels.pxi"
include "_kernels_train.pxi"

LEVEL = "avx512"
TABLE = _make_table(b"avx512")
TRAIN_TABLE = _make_train_table()
