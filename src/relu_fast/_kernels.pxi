# The kernels: one source for float32 and float64 (fused `floating`) and for every
# instruction-set level.  Each _kernels_<level>.pyx (a shell setup.py writes from the
# levels declared in _levels.py) includes this file and is compiled with that level's
# flags; _dispatch picks one at import.  Its sections are files of their own: the
# exp/expm1 library (_kernels_expm1.pxi), the math helpers of the transcendental
# activations (_kernels_math.pxi), the math of each function over a run
# (_kernels_spans.pxi), the threaded drivers and streaming stores (_kernels_drivers.pxi),
# PReLU (_kernels_prelu.pxi), the bias fused into any of them (_kernels_bias.pxi), the
# training kernels (_kernels_train.pxi); C helpers are in
# _bits.h, _target.h and _stream.h; the roofline benchmark's floor loop in _floor.h.
#
# Rules for code in these files:
# - no Python objects; everything is nogil and works on contiguous buffers;
# - inner loops are branch-free selects the compiler vectorises (`c ? a : b` over
#   values that are all computed), never early exits;
# - transcendental results are rounded once: from exact fma-built pairs on levels
#   with FMA, from float64 elsewhere;
# - a loop's result never depends on the thread count; nor on the level (no FMA
#   contraction: setup.py passes -ffp-contract=off), except where fma() is called
#   explicitly on levels that have it: ELU's lanes (expm1_reduced_fma and its users)
#   and the float32 lanes in float64 (mad, recip_f32w): Function.fma says which.

from cython cimport floating
from cython.parallel cimport prange
from libc.stdlib cimport calloc, free
from libc.math cimport fma, fmaf, fabs, copysign, copysignf, INFINITY, nextafter, nextafterf
from libc.stdint cimport uint32_t, uint64_t
from cpython.pycapsule cimport PyCapsule_New

from relu_fast._table cimport *
from relu_fast._fpenv cimport fpstate, fp_enter, fp_leave
from relu_fast._team cimport (now_ns, piece_begin, piece_end, team_done, team_report,
                              team_set_worker_delay, team_work, work_init)

# Work is split into pieces of at least this many elements (a multiple of 64 so
# that two threads never write the same cache line).
cdef Py_ssize_t SEG = 16384
# PReLU's weight gradient is summed in at most this many fixed parts, independent
# of the thread count, so the result does not depend on it; a part has at least
# PART_ELEMENTS elements (fewer parts: less to zero and reduce for small x).
cdef Py_ssize_t MAX_PARTS = 64
cdef Py_ssize_t PART_ELEMENTS = 4096


include "_kernels_expm1.pxi"
include "_kernels_math.pxi"
include "_kernels_spans.pxi"
include "_kernels_half.pxi"
include "_kernels_drivers.pxi"
include "_kernels_prelu.pxi"
include "_kernels_bias.pxi"


# ---------------------------------------------------------------------------
# Entry points (dtype switch; the 16-bit types reach the drivers as uint16_t bits) and
# the table handed to the API layer.
# ---------------------------------------------------------------------------

cdef void unary(int op, int dtype, const void* x, void* y, Py_ssize_t n, const double* p, int nthreads) noexcept nogil:
    if dtype == DT_F32:
        unary_t(op, dtype, <const float*>x, <float*>y, n, p, nthreads)
    elif dtype == DT_F64:
        unary_t(op, dtype, <const double*>x, <double*>y, n, p, nthreads)
    else:
        unary_t(op, dtype, <const uint16_t*>x, <uint16_t*>y, n, p, nthreads)


cdef void binary(int op, int dtype, const void* g, const void* x, void* gx, Py_ssize_t n, const double* p,
                 int nthreads) noexcept nogil:
    if dtype == DT_F32:
        binary_t(op, dtype, <const float*>g, <const float*>x, <float*>gx, n, p, nthreads)
    elif dtype == DT_F64:
        binary_t(op, dtype, <const double*>g, <const double*>x, <double*>gx, n, p, nthreads)
    else:
        binary_t(op, dtype, <const uint16_t*>g, <const uint16_t*>x, <uint16_t*>gx, n, p, nthreads)


cdef void prelu_forward(int dtype, const void* x, const void* w, void* y, Py_ssize_t outer, Py_ssize_t C,
                        Py_ssize_t inner, int nthreads) noexcept nogil:
    if dtype == DT_F32:
        prelu_fwd_t(dtype, <const float*>x, w, <float*>y, outer, C, inner, nthreads)
    elif dtype == DT_F64:
        prelu_fwd_t(dtype, <const double*>x, w, <double*>y, outer, C, inner, nthreads)
    else:
        prelu_fwd_t(dtype, <const uint16_t*>x, w, <uint16_t*>y, outer, C, inner, nthreads)


cdef int prelu_backward(int dtype, const void* g, const void* x, const void* w, void* gx, double* gw,
                        Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, int nthreads) noexcept nogil:
    cdef int status
    if dtype == DT_F32:
        status = prelu_bwd_t(dtype, <const float*>g, <const float*>x, w, <float*>gx, gw,
                             outer, C, inner, nthreads)
    elif dtype == DT_F64:
        status = prelu_bwd_t(dtype, <const double*>g, <const double*>x, w, <double*>gx, gw,
                             outer, C, inner, nthreads)
    else:
        status = prelu_bwd_t(dtype, <const uint16_t*>g, <const uint16_t*>x, w, <uint16_t*>gx, gw,
                             outer, C, inner, nthreads)
    return status


cdef void unary_bias(int op, int dtype, const void* x, const void* b, void* y, Py_ssize_t outer,
                     Py_ssize_t C, Py_ssize_t inner, const double* p, int nthreads) noexcept nogil:
    if dtype == DT_F32:
        bias_unary_t(op, dtype, <const float*>x, b, <float*>y, outer, C, inner, p, nthreads)
    elif dtype == DT_F64:
        bias_unary_t(op, dtype, <const double*>x, b, <double*>y, outer, C, inner, p, nthreads)
    else:
        bias_unary_t(op, dtype, <const uint16_t*>x, b, <uint16_t*>y, outer, C, inner, p, nthreads)


cdef int binary_bias(int op, int dtype, const void* g, const void* x, const void* b, void* gx,
                     double* gb, Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, const double* p,
                     int nthreads) noexcept nogil:
    if dtype == DT_F32:
        return bias_binary_t(op, dtype, <const float*>g, <const float*>x, b, <float*>gx, gb,
                             outer, C, inner, p, nthreads)
    elif dtype == DT_F64:
        return bias_binary_t(op, dtype, <const double*>g, <const double*>x, b, <double*>gx, gb,
                             outer, C, inner, p, nthreads)
    return bias_binary_t(op, dtype, <const uint16_t*>g, <const uint16_t*>x, b, <uint16_t*>gx, gb,
                         outer, C, inner, p, nthreads)


cdef extern from "_target.h":
    const char* RELU_FAST_COMPILED_FOR

cdef KernelTable _table
cdef bytes _level_name


def _make_table(bytes level):
    """Fill this module's kernel table and return it in a capsule."""
    global _level_name
    _level_name = level
    _table.abi = TABLE_ABI
    _table.level = _level_name
    _table.unary = unary
    _table.binary = binary
    _table.prelu_forward = prelu_forward
    _table.prelu_backward = prelu_backward
    _table.team_report = team_report
    _table.unary_bias = unary_bias
    _table.binary_bias = binary_bias
    fill_train_table(&_table)
    return PyCapsule_New(<void*>&_table, b"relu_fast.KernelTable", NULL)


COMPILED_FOR = RELU_FAST_COMPILED_FOR.decode()
# How this level converts float16 (_half.h): "F16C", "AVX-512F", "NEON" or "software"
F16_PATH = RELU_FAST_F16_PATH.decode()
# Whether float16's memory-bound functions convert in registers here (bfloat16's always
# do; the software float16 conversion keeps the L1 blocks)
F16_REGS = bool(RELU_FAST_F16_REGS)
# Whether this level has hardware fused multiply-add: elu and elu_backward then take
# elu_fma_span / elu_bwd_fma_span, whose last bit can differ (<= 1 ulp, both within
# 1 ulp of the exact value) from the float64 paths that levels without FMA use.
USES_FMA = bool(HAS_FMA)


def _delay_workers(double microseconds):
    """Make every thread but the calling one start each piece of a parallel region this
    late (tests of the thread policy; 0 turns it off)."""
    team_set_worker_delay(<long long>(microseconds * 1000.0))


def _stream_threshold(nbytes=None):
    """Get, or set, the output size in bytes from which streaming stores are used
    (tests lower it to cover that path on small arrays; benchmarks compare)."""
    global STREAM_BYTES
    previous = STREAM_BYTES
    if nbytes is not None:
        STREAM_BYTES = max(0, int(nbytes))
    return previous


cdef extern from "_floor.h":
    uint64_t rf_floor(const void* x, const void* g, void* y, size_t nbytes, int stream, int sum,
                      int nthreads, unsigned char k) noexcept nogil


def _floor(const unsigned char[::1] x, const unsigned char[::1] g, unsigned char[::1] y,
           bint stream=False, bint sum=False, int nthreads=1, unsigned char k=0):
    """The roofline benchmark's memory floor at this level (_floor.h): y = x | g | k over
    the bytes (g None: x alone; y may be x), with streaming or ordinary stores, on
    nthreads threads; with `sum`, returns a checksum of g's (or x's) bytes, the
    stand-in for a reduction (its value means nothing), else 0."""
    if x.shape[0] != y.shape[0] or (g is not None and g.shape[0] != y.shape[0]):
        raise ValueError("x, g and y must have the same number of bytes")
    if nthreads < 1:
        raise ValueError("nthreads must be at least 1")
    cdef size_t n = y.shape[0]
    cdef const void* pg = NULL if g is None else <const void*>&g[0]
    cdef uint64_t total
    if n == 0:
        return 0
    with nogil:
        total = rf_floor(&x[0], pg, &y[0], n, stream, sum, nthreads, k)
    return total


def _stream_layout(skew=None, elu=None, bias=None, peel=None, regs16=None):
    """Get, or set, where the streaming L1 buffer sits (bytes past the input's page
    offset, -1: where the stack puts it), whether ELU streams, whether relu and
    leaky_relu with a bias go from the registers, whether ordinary-store spans peel
    their head to the output's cache line, and whether the 16-bit piecewise-linear
    functions convert in registers (benchmarks compare; tests cover each)."""
    global STREAM_SKEW, STREAM_ELU, BIAS_REGISTERS, PEEL, REGS_16
    previous = (STREAM_SKEW, bool(STREAM_ELU), bool(BIAS_REGISTERS), bool(PEEL), bool(REGS_16))
    if skew is not None:
        STREAM_SKEW = -1 if skew < 0 else int(skew) % PAGE
    if elu is not None:
        STREAM_ELU = bool(elu)
    if bias is not None:
        BIAS_REGISTERS = bool(bias)
    if peel is not None:
        PEEL = bool(peel)
    if regs16 is not None:
        REGS_16 = bool(regs16)
    return previous


def _half_convert(int dt, src, dst):
    """Convert, as this level does (_half.h): float32 src -> the 16-bit type's bits in
    uint16 dst, or uint16 bits src -> float32 dst (dt: 2 float16, 3 bfloat16; tests
    check every value)."""
    cdef const float[::1] f32
    cdef const uint16_t[::1] b16
    cdef float[::1] o32
    cdef uint16_t[::1] o16
    if dt != DT_F16 and dt != DT_BF16:
        raise ValueError("dt must be 2 (float16) or 3 (bfloat16)")
    if len(src) != len(dst):
        raise ValueError("src and dst must have the same length")
    if len(src) == 0:
        return
    if src.dtype.itemsize == 4:
        f32 = src
        o16 = dst
        h_store(dt, &f32[0], &o16[0], f32.shape[0])
    else:
        b16 = src
        o32 = dst
        h_load(dt, &b16[0], &o32[0], b16.shape[0])


def _philox4x32_10(counter, key):
    """Philox4x32-10 of a counter (4 words) and a key (2 words), as compiled at this level
    (_philox.h; tests check it against Random123's known-answer vectors)."""
    cdef uint32_t c[4]
    cdef uint32_t k[2]
    cdef uint32_t o[4]
    cdef int i
    for i in range(4):
        c[i] = counter[i]
    for i in range(2):
        k[i] = key[i]
    philox4x32_10(c, k, o)
    return (o[0], o[1], o[2], o[3])
