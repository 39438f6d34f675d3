# The contract between the kernel modules (one per instruction-set level, all built
# from _kernels.pxi) and the API layer: a table of plain C entry points handed over
# in a PyCapsule.  Arrays are contiguous; dtype is DT_F32 or DT_F64.

cdef enum:
    TABLE_ABI = 1
    DT_F32 = 0
    DT_F64 = 1
    # unary ops: y = f(x)
    OP_RELU = 0
    OP_LEAKY = 1
    OP_ELU = 2
    # binary ops: gx = f'(x) * g
    OP_RELU_BWD = 0
    OP_LEAKY_BWD = 1
    OP_ELU_BWD = 2
    OP_ELU_BWD_RESULT = 3

ctypedef void (*unary_fn)(int op, int dtype, const void* x, void* y,
                          Py_ssize_t n, double param, int nthreads) noexcept nogil
ctypedef void (*binary_fn)(int op, int dtype, const void* g, const void* x, void* gx,
                           Py_ssize_t n, double param, int nthreads) noexcept nogil
ctypedef void (*prelu_fwd_fn)(int dtype, const void* x, const void* w, void* y,
                              Py_ssize_t outer, Py_ssize_t channels, Py_ssize_t inner,
                              int nthreads) noexcept nogil
# returns 0, or -1 when its scratch memory could not be allocated
ctypedef int (*prelu_bwd_fn)(int dtype, const void* g, const void* x, const void* w,
                             void* gx, double* gw, Py_ssize_t outer, Py_ssize_t channels,
                             Py_ssize_t inner, int nthreads) noexcept nogil

ctypedef struct KernelTable:
    int abi
    const char* level
    unary_fn unary
    binary_fn binary
    prelu_fwd_fn prelu_forward
    prelu_bwd_fn prelu_backward
