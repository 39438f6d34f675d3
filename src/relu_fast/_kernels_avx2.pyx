# Kernels compiled for the 'avx2' instruction-set level (flags in setup.py).
include "_kernels.pxi"
include "_kernels_train.pxi"

LEVEL = "avx2"
TABLE = _make_table(b"avx2")
TRAIN_TABLE = _make_train_table()
