# The contract between the kernel modules (one per instruction-set level, all built
# from _kernels.pxi) and the API layer: a table of plain C entry points handed over
# in a PyCapsule.  Arrays are contiguous; dtype is DT_F32, DT_F64, or one of the 16-bit
# storage types (computed in float32: _half.h), whose parameters are float32's.

cdef enum:
    TABLE_ABI = 10
    DT_F32 = 0
    DT_F64 = 1
    DT_F16 = 2                  # IEEE binary16 (numpy.float16)
    DT_BF16 = 3                 # bfloat16 (ml_dtypes.bfloat16)
    # unary ops: y = f(x)
    OP_RELU = 0
    OP_LEAKY = 1
    OP_ELU = 2
    OP_HARDTANH = 3             # also relu6, with (0, 6)
    OP_THRESHOLD = 4
    OP_HARDSIGMOID = 5
    OP_HARDSWISH = 6
    OP_SELU = 7
    OP_CELU = 8
    OP_SILU = 9
    OP_GELU = 10
    OP_GELU_TANH = 11
    OP_SOFTPLUS = 12
    OP_MISH = 13
    OP_RRELU = 14               # eval mode is OP_LEAKY; this is training mode
    # binary ops: gx = f'(x) * g
    OP_RELU_BWD = 0
    OP_LEAKY_BWD = 1
    OP_ELU_BWD = 2
    OP_ELU_BWD_RESULT = 3
    OP_HARDTANH_BWD = 4         # also relu6_backward, and both from the result
    OP_THRESHOLD_BWD = 5
    OP_HARDSIGMOID_BWD = 6
    OP_HARDSIGMOID_BWD_RESULT = 7
    OP_HARDSWISH_BWD = 8
    OP_SELU_BWD = 9
    OP_SELU_BWD_RESULT = 10
    OP_CELU_BWD = 11
    OP_CELU_BWD_RESULT = 12
    OP_SILU_BWD = 13
    OP_GELU_BWD = 14
    OP_GELU_TANH_BWD = 15
    OP_SOFTPLUS_BWD = 16
    OP_MISH_BWD = 17
    OP_RRELU_BWD = 18           # training mode

# the ops with an exp (or more) per element: they weigh more in the thread choice, and
# their spans are not split for alignment (a scalar head costs more than a line split)
cdef inline bint heavy_unary(int op) noexcept nogil:
    return op == OP_ELU or OP_SELU <= op <= OP_MISH


cdef inline bint heavy_binary(int op) noexcept nogil:
    return op == OP_ELU_BWD or OP_SELU_BWD <= op <= OP_MISH_BWD


# params: the op's scalar arguments in declaration order (relu_fast._functions)
# (OP_RRELU, OP_RRELU_BWD: lower, upper, the seed's low and high 32 bits, and the C-order
# index of the call's first element: five values, the integers exact in a double)
ctypedef void (*unary_fn)(int op, int dtype, const void* x, void* y,
                          Py_ssize_t n, const double* params, int nthreads) noexcept nogil
ctypedef void (*binary_fn)(int op, int dtype, const void* g, const void* x, void* gx,
                           Py_ssize_t n, const double* params, int nthreads) noexcept nogil
# PReLU's w: x's dtype, float32 for the 16-bit types
ctypedef void (*prelu_fwd_fn)(int dtype, const void* x, const void* w, void* y,
                              Py_ssize_t outer, Py_ssize_t channels, Py_ssize_t inner,
                              int nthreads) noexcept nogil
# returns 0, or -1 when its scratch memory could not be allocated
ctypedef int (*prelu_bwd_fn)(int dtype, const void* g, const void* x, const void* w,
                             void* gx, double* gw, Py_ssize_t outer, Py_ssize_t channels,
                             Py_ssize_t inner, int nthreads) noexcept nogil

# an elementwise op on z = x + b[channel], x viewed as (outer, channels, inner); b of
# x's dtype (float32 for the 16-bit types).  binary_bias: b NULL takes the derivative at
# x; gb non-NULL receives the float64 sums of gx per channel; returns 0, or -1 when its
# scratch memory could not be allocated
ctypedef void (*unary_bias_fn)(int op, int dtype, const void* x, const void* b, void* y,
                               Py_ssize_t outer, Py_ssize_t channels, Py_ssize_t inner,
                               const double* params, int nthreads) noexcept nogil
ctypedef int (*binary_bias_fn)(int op, int dtype, const void* g, const void* x, const void* b,
                               void* gx, double* gb, Py_ssize_t outer, Py_ssize_t channels,
                               Py_ssize_t inner, const double* params, int nthreads) noexcept nogil

# the calling thread's last parallel region: its wall time and its pieces' work in
# all, in ns (0, 0 when no region ran since the last call); then forgotten
ctypedef void (*team_report_fn)(long long* region_ns, long long* work_ns) noexcept nogil

# ---------------------------------------------------------------------------
# Training kernels (_kernels_train.pxi).
# mask: ceil(n/8) bytes, element i in bit i % 8 of byte i // 8, bit = !(x <= 0).
# counts: per channel of x viewed as (outer, channels, inner), the number of x > 0.
# ---------------------------------------------------------------------------
from libc.stdint cimport uint8_t, int64_t

ctypedef void (*mask_fwd_fn)(int dtype, const void* x, void* y, uint8_t* mask,
                             Py_ssize_t n, int nthreads) noexcept nogil
ctypedef void (*mask_bwd_fn)(int dtype, const void* g, const uint8_t* mask, void* gx,
                             Py_ssize_t n, int nthreads) noexcept nogil
# any two-form gradient's mask (_kernels_masks.pxi), x viewed as (outer, channels,
# inner) for the bias b (NULL: none) and the sums gb (NULL: none) as in unary_bias and
# binary_bias: bit = (bop's gradient of 1 at x + b equals its gradient of 1 at rep_in);
# the backward takes the gradient at rep_in where the bit is 1, at rep_out where it is 0
ctypedef void (*mask_unary_fn)(int op, int bop, int dtype, const void* x, const void* b, void* y,
                               uint8_t* mask, Py_ssize_t outer, Py_ssize_t channels,
                               Py_ssize_t inner, const double* params, double rep_in,
                               int nthreads) noexcept nogil
ctypedef int (*mask_binary_fn)(int bop, int dtype, const void* g, const uint8_t* mask, void* gx,
                               double* gb, Py_ssize_t outer, Py_ssize_t channels,
                               Py_ssize_t inner, const double* params, double rep_in,
                               double rep_out, int nthreads) noexcept nogil
# returns 0, or -1 when its scratch memory could not be allocated
ctypedef int (*stats_fn)(int dtype, const void* x, void* y, int64_t* counts,
                         Py_ssize_t outer, Py_ssize_t channels, Py_ssize_t inner,
                         int nthreads) noexcept nogil

ctypedef struct KernelTable:
    int abi
    const char* level
    unary_fn unary
    binary_fn binary
    prelu_fwd_fn prelu_forward
    prelu_bwd_fn prelu_backward
    team_report_fn team_report
    unary_bias_fn unary_bias
    binary_bias_fn binary_bias
    # training kernels
    mask_fwd_fn relu_mask
    mask_bwd_fn relu_backward_mask
    stats_fn relu_stats
    mask_unary_fn mask_unary
    mask_binary_fn mask_binary
