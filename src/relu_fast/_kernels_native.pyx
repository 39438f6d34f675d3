# Kernels compiled for the 'native' instruction-set level (flags in setup.py).
include "_kernels.pxi"
include "_kernels_train.pxi"

LEVEL = "native"
TABLE = _make_table(b"native")
TRAIN_TABLE = _make_train_table()
