# The kernels: one source for float32 and float64 (fused `floating`) and for every
# instruction-set level.  Each _kernels_<level>.pyx includes this file and is compiled
# with that level's flags; _dispatch picks one at import.
#
# Rules for code in this file:
# - no Python objects; everything is nogil and works on contiguous buffers;
# - inner loops are branch-free selects the compiler vectorises (`c ? a : b` over
#   values that are all computed), never early exits;
# - float32 transcendental work is done in float64 and rounded once;
# - a loop's result never depends on the thread count or the level (no FMA
#   contraction: setup.py passes -ffp-contract=off), except where noted.

from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport expm1, exp
from libc.stdlib cimport calloc, free
from cpython.pycapsule cimport PyCapsule_New

from relu_fast._table cimport *

# Work is split into pieces of at least this many elements (a multiple of 64 so
# that two threads never write the same cache line).
cdef Py_ssize_t SEG = 16384
# PReLU's weight gradient is summed in at most this many fixed parts, independent
# of the thread count, so the result does not depend on it.
cdef Py_ssize_t MAX_PARTS = 64


# ---------------------------------------------------------------------------
# Spans: the math of each function over one contiguous run.
# ---------------------------------------------------------------------------

cdef inline void relu_span(const floating* x, floating* y, Py_ssize_t n) noexcept nogil:
    # y = x < 0 ? 0 : x  -- a single max instruction (keeps NaN; -0.0 stays -0.0)
    cdef Py_ssize_t i
    for i in range(n):
        y[i] = 0 if x[i] < 0 else x[i]


cdef inline void leaky_span(const floating* x, floating* y, Py_ssize_t n, floating slope) noexcept nogil:
    # y = x > 0 ? x : slope * x
    cdef Py_ssize_t i
    cdef floating v
    for i in range(n):
        v = x[i]
        y[i] = v if v > 0 else slope * v


cdef inline void elu_span(const floating* x, floating* y, Py_ssize_t n, double alpha) noexcept nogil:
    # y = x > 0 ? x : alpha * expm1(x), evaluated in float64
    cdef Py_ssize_t i
    cdef floating v
    for i in range(n):
        v = x[i]
        y[i] = v if v > 0 else <floating>(alpha * expm1(<double>v))


cdef inline void relu_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n) noexcept nogil:
    # gx = x <= 0 ? 0 : g  (NaN in x passes the gradient)
    cdef Py_ssize_t i
    for i in range(n):
        gx[i] = 0 if x[i] <= 0 else g[i]


cdef inline void leaky_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                                floating slope) noexcept nogil:
    # gx = x > 0 ? g : slope * g
    cdef Py_ssize_t i
    cdef floating v
    for i in range(n):
        v = g[i]
        gx[i] = v if x[i] > 0 else slope * v


cdef inline void elu_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                              double alpha) noexcept nogil:
    # gx = x > 0 ? g : g * (alpha * exp(x)), evaluated in float64
    cdef Py_ssize_t i
    cdef floating v
    for i in range(n):
        v = x[i]
        gx[i] = g[i] if v > 0 else <floating>(<double>g[i] * (alpha * exp(<double>v)))


cdef inline void elu_bwd_result_span(const floating* g, const floating* y, floating* gx, Py_ssize_t n,
                                     double alpha) noexcept nogil:
    # from the output y = elu(x): gx = y > 0 ? g : g * (y + alpha), evaluated in float64
    cdef Py_ssize_t i
    cdef floating v
    for i in range(n):
        v = y[i]
        gx[i] = g[i] if v > 0 else <floating>(<double>g[i] * (<double>v + alpha))


cdef inline void unary_span(int op, const floating* x, floating* y, Py_ssize_t n, double p) noexcept nogil:
    if op == OP_RELU:
        relu_span(x, y, n)
    elif op == OP_LEAKY:
        leaky_span(x, y, n, <floating>p)
    else:
        elu_span(x, y, n, p)


cdef inline void binary_span(int op, const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                             double p) noexcept nogil:
    if op == OP_RELU_BWD:
        relu_bwd_span(g, x, gx, n)
    elif op == OP_LEAKY_BWD:
        leaky_bwd_span(g, x, gx, n, <floating>p)
    elif op == OP_ELU_BWD:
        elu_bwd_span(g, x, gx, n, p)
    else:
        elu_bwd_result_span(g, x, gx, n, p)


# ---------------------------------------------------------------------------
# Drivers: split a contiguous array over threads.  nthreads <= 1 never enters an
# OpenMP region (a forked child must not touch the parent's thread pool).
# ---------------------------------------------------------------------------

cdef inline Py_ssize_t chunk_size(Py_ssize_t n, int nthreads) noexcept nogil:
    cdef Py_ssize_t c = (n + nthreads - 1) // nthreads
    return (c + 63) // 64 * 64


cdef void unary_t(int op, const floating* x, floating* y, Py_ssize_t n, double p, int nthreads) noexcept nogil:
    cdef Py_ssize_t k, lo, hi, chunk, nchunks
    if nthreads <= 1 or n <= 128:
        unary_span(op, x, y, n, p)
        return
    chunk = chunk_size(n, nthreads)
    nchunks = (n + chunk - 1) // chunk
    for k in prange(nchunks, nogil=True, num_threads=nthreads, schedule="static"):
        lo = k * chunk
        hi = lo + chunk
        if hi > n:
            hi = n
        unary_span(op, x + lo, y + lo, hi - lo, p)


cdef void binary_t(int op, const floating* g, const floating* x, floating* gx, Py_ssize_t n, double p,
                   int nthreads) noexcept nogil:
    cdef Py_ssize_t k, lo, hi, chunk, nchunks
    if nthreads <= 1 or n <= 128:
        binary_span(op, g, x, gx, n, p)
        return
    chunk = chunk_size(n, nthreads)
    nchunks = (n + chunk - 1) // chunk
    for k in prange(nchunks, nogil=True, num_threads=nthreads, schedule="static"):
        lo = k * chunk
        hi = lo + chunk
        if hi > n:
            hi = n
        binary_span(op, g + lo, x + lo, gx + lo, hi - lo, p)


# ---------------------------------------------------------------------------
# PReLU.  x is viewed as (outer, channels, inner), C order; alpha = w[channel].
# inner == 1: rows of `channels` values (channels-last), vectorised across channels.
# inner > 1: units are (row, segment) runs of one channel, segments of <= SEG.
# ---------------------------------------------------------------------------

cdef inline void prelu_row(const floating* x, const floating* w, floating* y, Py_ssize_t C) noexcept nogil:
    cdef Py_ssize_t c
    cdef floating v
    for c in range(C):
        v = x[c]
        y[c] = v if v > 0 else w[c] * v


cdef inline void prelu_unit(const floating* x, const floating* w, floating* y, Py_ssize_t u,
                            Py_ssize_t C, Py_ssize_t inner, Py_ssize_t nseg) noexcept nogil:
    cdef Py_ssize_t r = u // nseg
    cdef Py_ssize_t lo = (u % nseg) * SEG
    cdef Py_ssize_t hi = lo + SEG
    if hi > inner:
        hi = inner
    leaky_span(x + r * inner + lo, y + r * inner + lo, hi - lo, w[r % C])


cdef void prelu_fwd_t(const floating* x, const floating* w, floating* y, Py_ssize_t outer, Py_ssize_t C,
                      Py_ssize_t inner, int nthreads) noexcept nogil:
    cdef Py_ssize_t o, u, units, nseg
    if inner == 1:
        if nthreads <= 1 or outer < 2:
            for o in range(outer):
                prelu_row(x + o * C, w, y + o * C, C)
        else:
            for o in prange(outer, nogil=True, num_threads=nthreads, schedule="static"):
                prelu_row(x + o * C, w, y + o * C, C)
        return
    nseg = (inner + SEG - 1) // SEG
    units = outer * C * nseg
    if nthreads <= 1 or units < 2:
        for u in range(units):
            prelu_unit(x, w, y, u, C, inner, nseg)
    else:
        for u in prange(units, nogil=True, num_threads=nthreads, schedule="static"):
            prelu_unit(x, w, y, u, C, inner, nseg)


cdef inline double weight_grad_sum(const floating* g, const floating* x, Py_ssize_t n) noexcept nogil:
    # sum of (x > 0 ? 0 : x * g) in float64, in 8 fixed lanes (vectorisable, and the
    # same order on every level)
    # g is read unconditionally: with g read only where x <= 0, GCC 12 at -march=x86-64-v3
    # emitted masked loads of g[i+4:i+8] under the mask of x[i:i+4] (wrong sums, 2 threads)
    cdef double lanes[8]
    cdef Py_ssize_t i, j, m = n // 8 * 8
    cdef floating v, gv
    for j in range(8):
        lanes[j] = 0.0
    for i in range(0, m, 8):
        for j in range(8):
            v = x[i + j]
            gv = g[i + j]
            lanes[j] += 0.0 if v > 0 else <double>v * <double>gv
    for i in range(m, n):
        v = x[i]
        lanes[i - m] += 0.0 if v > 0 else <double>v * <double>g[i]
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))


cdef inline void prelu_bwd_part(const floating* g, const floating* x, const floating* w, floating* gx,
                                double* acc, Py_ssize_t u0, Py_ssize_t u1, Py_ssize_t C, Py_ssize_t inner,
                                Py_ssize_t nseg) noexcept nogil:
    cdef Py_ssize_t u, c, r, lo, hi, off
    cdef floating v, gv
    if inner == 1:
        for u in range(u0, u1):
            off = u * C
            for c in range(C):
                v = x[off + c]
                gv = g[off + c]
                gx[off + c] = gv if v > 0 else w[c] * gv
                acc[c] += 0.0 if v > 0 else <double>v * <double>gv
        return
    for u in range(u0, u1):
        r = u // nseg
        lo = (u % nseg) * SEG
        hi = lo + SEG
        if hi > inner:
            hi = inner
        off = r * inner + lo
        c = r % C
        leaky_bwd_span(g + off, x + off, gx + off, hi - lo, w[c])
        acc[c] += weight_grad_sum(g + off, x + off, hi - lo)


cdef int prelu_bwd_t(const floating* g, const floating* x, const floating* w, floating* gx, double* gw,
                     Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, int nthreads) noexcept nogil:
    cdef Py_ssize_t units, nseg, parts, p, c
    cdef double* partial
    if inner == 1:
        nseg = 1
        units = outer
    else:
        nseg = (inner + SEG - 1) // SEG
        units = outer * C * nseg
    parts = MAX_PARTS
    if parts > units:
        parts = units
    if parts * C > (1 << 22):
        parts = (1 << 22) // C
    if parts < 1:
        parts = 1
    partial = <double*>calloc(parts * C, sizeof(double))
    if partial == NULL:
        return -1
    if nthreads <= 1 or parts < 2:
        for p in range(parts):
            prelu_bwd_part(g, x, w, gx, partial + p * C, p * units // parts, (p + 1) * units // parts,
                           C, inner, nseg)
    else:
        for p in prange(parts, nogil=True, num_threads=nthreads, schedule="dynamic"):
            prelu_bwd_part(g, x, w, gx, partial + p * C, p * units // parts, (p + 1) * units // parts,
                           C, inner, nseg)
    for c in range(C):
        gw[c] = 0.0
    for p in range(parts):
        for c in range(C):
            gw[c] += partial[p * C + c]
    free(partial)
    return 0


# ---------------------------------------------------------------------------
# Entry points (dtype switch) and the table handed to the API layer.
# ---------------------------------------------------------------------------

cdef void unary(int op, int dtype, const void* x, void* y, Py_ssize_t n, double p, int nthreads) noexcept nogil:
    if dtype == DT_F32:
        unary_t(op, <const float*>x, <float*>y, n, p, nthreads)
    else:
        unary_t(op, <const double*>x, <double*>y, n, p, nthreads)


cdef void binary(int op, int dtype, const void* g, const void* x, void* gx, Py_ssize_t n, double p,
                 int nthreads) noexcept nogil:
    if dtype == DT_F32:
        binary_t(op, <const float*>g, <const float*>x, <float*>gx, n, p, nthreads)
    else:
        binary_t(op, <const double*>g, <const double*>x, <double*>gx, n, p, nthreads)


cdef void prelu_forward(int dtype, const void* x, const void* w, void* y, Py_ssize_t outer, Py_ssize_t C,
                        Py_ssize_t inner, int nthreads) noexcept nogil:
    if dtype == DT_F32:
        prelu_fwd_t(<const float*>x, <const float*>w, <float*>y, outer, C, inner, nthreads)
    else:
        prelu_fwd_t(<const double*>x, <const double*>w, <double*>y, outer, C, inner, nthreads)


cdef int prelu_backward(int dtype, const void* g, const void* x, const void* w, void* gx, double* gw,
                        Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, int nthreads) noexcept nogil:
    if dtype == DT_F32:
        return prelu_bwd_t(<const float*>g, <const float*>x, <const float*>w, <float*>gx, gw,
                           outer, C, inner, nthreads)
    return prelu_bwd_t(<const double*>g, <const double*>x, <const double*>w, <double*>gx, gw,
                       outer, C, inner, nthreads)


cdef extern from *:
    """
    #if defined(__AVX512F__)
    #define RELU_FAST_COMPILED_FOR "AVX512F"
    #elif defined(__AVX2__)
    #define RELU_FAST_COMPILED_FOR "AVX2"
    #elif defined(__SSE2__) || defined(_M_X64)
    #define RELU_FAST_COMPILED_FOR "SSE2"
    #elif defined(__ARM_NEON) || defined(__aarch64__)
    #define RELU_FAST_COMPILED_FOR "NEON"
    #else
    #define RELU_FAST_COMPILED_FOR "generic"
    #endif
    """
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
    return PyCapsule_New(<void*>&_table, b"relu_fast.KernelTable", NULL)


COMPILED_FOR = RELU_FAST_COMPILED_FOR.decode()
