# What other Cython modules of relu_fast use from the API layer: the kernel table of the
# level in use (it can switch: _use_level).  Argument checks are in _args.pxd.
from relu_fast._table cimport KernelTable

cdef const KernelTable* kernel_table() noexcept nogil
