# What other Cython modules of relu_fast may use from the API layer: the kernel table
# and the argument checks, so every public function behaves the same.
cimport numpy as cnp

cdef enum:
    C_ORDER = 0
    F_ORDER = 1

from relu_fast._table cimport KernelTable

# the kernel table of the level in use (it can switch: _use_level)
cdef const KernelTable* kernel_table() noexcept nogil
cdef int dtype_code(cnp.ndarray a) noexcept
cdef cnp.ndarray as_array(object x, str name)
cdef int order_of(cnp.ndarray a) noexcept
cdef cnp.ndarray direct(cnp.ndarray a, int order, int dt)
cdef cnp.ndarray empty_like(cnp.ndarray a, int dt, int order)
cdef cnp.ndarray destination(object out, cnp.ndarray like, int dt, int order, cnp.ndarray a,
                             cnp.ndarray b)
cdef cnp.ndarray deliver(object out, cnp.ndarray dst)
cdef double real(object v, str name) except? -1.0
