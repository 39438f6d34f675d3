# Kernels compiled for the 'baseline' instruction-set level (flags in setup.py).
include "_kernels.pxi"
include "_kernels_train.pxi"

LEVEL = "baseline"
TABLE = _make_table(b"baseline")
TRAIN_TABLE = _make_train_table()
