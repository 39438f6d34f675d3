# Included by _kernels.pxi: the 16-bit storage types.  float16 and bfloat16 arrays are
# computed by the float32 math: the memory-bound functions' element functions in
# registers (loaded, converted, computed, rounded and stored in one pass: _half.h), the
# others by the float32 spans over blocks of HALF_BLOCK elements converted into an L1
# buffer (exactly), computed there in place, and rounded once back.  So every function
# has its float32 arithmetic and its float32 rules, and a 16-bit type costs no kernel of
# its own, only these adapters between the drivers and the spans.

from libc.stdint cimport uint16_t

cdef extern from "_half.h":
    void f16_load "relu_fast_f16_load"(const uint16_t* src, float* dst, Py_ssize_t n) noexcept nogil
    void f16_store "relu_fast_f16_store"(const float* src, uint16_t* dst, Py_ssize_t n) noexcept nogil
    void bf16_load "relu_fast_bf16_load"(const uint16_t* src, float* dst, Py_ssize_t n) noexcept nogil
    void bf16_store "relu_fast_bf16_store"(const float* src, uint16_t* dst, Py_ssize_t n) noexcept nogil
    const char* RELU_FAST_F16_PATH
    bint RELU_FAST_F16_REGS
    ctypedef float (*h16_un "relu_fast_h16_un")(float, float, float) noexcept nogil
    ctypedef float (*h16_bin "relu_fast_h16_bin")(float, float, float, float) noexcept nogil
    void h16_unary "relu_fast_h16_unary"(h16_un f, bint bf, const uint16_t* x, uint16_t* y, Py_ssize_t n,
                                    float a, float b, bint stream) noexcept nogil
    void h16_binary "relu_fast_h16_binary"(h16_bin f, bint bf, const uint16_t* g, const uint16_t* x,
                                      uint16_t* y, Py_ssize_t n, float a, float b, bint stream) noexcept nogil
    void h16_prelu_row "relu_fast_h16_prelu_row"(h16_un f, bint bf, const uint16_t* x, const float* w,
                                                uint16_t* y, Py_ssize_t n) noexcept nogil
    double h16_prelu_bwd_run "relu_fast_h16_prelu_bwd_run"(bint bf, const uint16_t* g, const uint16_t* x,
                                                          uint16_t* gx, Py_ssize_t n, float a) noexcept nogil
    void h16_prelu_bwd_row "relu_fast_h16_prelu_bwd_row"(bint bf, const uint16_t* g, const uint16_t* x,
                                                        const float* w, uint16_t* gx, double* acc,
                                                        Py_ssize_t n) noexcept nogil

# What the drivers store: float, double, or the bits of a 16-bit type (the call's
# dtype code, `dt`, says which).
ctypedef fused elem:
    float
    double
    uint16_t

cdef enum:
    HALF_BLOCK = 512        # elements per conversion block (a multiple of 8: mask bytes)
    PRELU_TILE = 2048       # weights tiled over whole short rows (16-bit PReLU, channels last)
# the piecewise-linear functions converted in registers (off: through the L1 block, as
# the others; benchmarks and tests compare)
cdef bint REGS_16 = True


cdef inline void h_load(int dt, const uint16_t* s, float* d, Py_ssize_t n) noexcept nogil:
    if dt == DT_F16:
        f16_load(s, d, n)
    else:
        bf16_load(s, d, n)


cdef inline void h_store(int dt, const float* s, uint16_t* d, Py_ssize_t n) noexcept nogil:
    if dt == DT_F16:
        f16_store(s, d, n)
    else:
        bf16_store(s, d, n)


cdef inline Py_ssize_t h_block(Py_ssize_t lo, Py_ssize_t n) noexcept nogil:
    return n - lo if n - lo < HALF_BLOCK else HALF_BLOCK


cdef inline bint h_regs(int dt) noexcept nogil:
    # whether dt converts in registers on this level (float16 only where it converts natively)
    return REGS_16 and (dt == DT_BF16 or RELU_FAST_F16_REGS)


cdef extern from "_half.h":
    ctypedef double (*un_f64 "relu_fast_un_f64")(double, double, double) noexcept nogil
    ctypedef double (*bin_f64 "relu_fast_bin_f64")(double, double, double, double) noexcept nogil
    # one element function in registers (16-bit, or float32/float64 streamed; _half.h)
    bint run_un "relu_fast_run_un"(h16_un ff, un_f64 fd, int dt, const void* x, void* y, Py_ssize_t n,
                                   double a, double b, bint stream) noexcept nogil
    bint run_bin "relu_fast_run_bin"(h16_bin ff, bin_f64 fd, int dt, const void* g, const void* x,
                                     void* y, Py_ssize_t n, double a, double b, bint stream) noexcept nogil


cdef inline bint unary_regs(int op, int dt, const void* x, void* y, Py_ssize_t n, const double* p,
                            bint stream) noexcept nogil:
    # the piecewise-linear functions in registers (_half.h, _stream.h); False for the
    # others.  Each call passes its element functions as constants, so each compiles to
    # its own loop.
    cdef double a = p[0] if op == OP_LEAKY or op == OP_HARDTANH or op == OP_THRESHOLD else 0
    cdef double b = p[1] if op == OP_HARDTANH or op == OP_THRESHOLD else 0
    if op == OP_RELU:
        return run_un(relu_e[float], relu_e[double], dt, x, y, n, a, b, stream)
    elif op == OP_LEAKY:
        return run_un(leaky_e[float], leaky_e[double], dt, x, y, n, a, b, stream)
    elif op == OP_HARDTANH:
        return run_un(hardtanh_e[float], hardtanh_e[double], dt, x, y, n, a, b, stream)
    elif op == OP_THRESHOLD:
        return run_un(threshold_e[float], threshold_e[double], dt, x, y, n, a, b, stream)
    elif op == OP_HARDSIGMOID:
        return run_un(hardsigmoid_e[float], hardsigmoid_e[double], dt, x, y, n, a, b, stream)
    elif op == OP_HARDSWISH:
        return run_un(hardswish_e[float], hardswish_e[double], dt, x, y, n, a, b, stream)
    return False


cdef inline bint binary_regs(int op, int dt, const void* g, const void* x, void* gx, Py_ssize_t n,
                             const double* p, bint stream) noexcept nogil:
    # as unary_regs, for the gradients
    cdef double a = 0, b = 0
    if op == OP_LEAKY_BWD or op == OP_THRESHOLD_BWD:
        a = p[0]
    elif op == OP_HARDTANH_BWD:
        a, b = p[0], p[1]
    elif op == OP_HARDSIGMOID_BWD:
        a, b = -3, 3
    elif op == OP_HARDSIGMOID_BWD_RESULT:
        a, b = 0, 1
    if op == OP_RELU_BWD:
        return run_bin(relu_bwd_e[float], relu_bwd_e[double], dt, g, x, gx, n, a, b, stream)
    elif op == OP_LEAKY_BWD:
        return run_bin(leaky_bwd_e[float], leaky_bwd_e[double], dt, g, x, gx, n, a, b, stream)
    elif op == OP_HARDTANH_BWD:
        return run_bin(hardtanh_bwd_e[float], hardtanh_bwd_e[double], dt, g, x, gx, n, a, b, stream)
    elif op == OP_THRESHOLD_BWD:
        return run_bin(threshold_bwd_e[float], threshold_bwd_e[double], dt, g, x, gx, n, a, b, stream)
    elif op == OP_HARDSIGMOID_BWD or op == OP_HARDSIGMOID_BWD_RESULT:
        return run_bin(hardsigmoid_bwd_e[float], hardsigmoid_bwd_e[double], dt, g, x, gx, n, a, b, stream)
    elif op == OP_HARDSWISH_BWD:
        return run_bin(hardswish_bwd_e[float], hardswish_bwd_e[double], dt, g, x, gx, n, a, b, stream)
    return False


cdef void unary_half(int op, int dt, const uint16_t* x, uint16_t* y, Py_ssize_t n, const double* p,
                     bint stream, Py_ssize_t start) noexcept nogil:
    cdef float a[HALF_BLOCK]
    cdef uint16_t s[HALF_BLOCK]
    cdef Py_ssize_t lo = 0, k
    if h_regs(dt) and unary_regs(op, dt, x, y, n, p, stream):
        return
    while lo < n:
        k = h_block(lo, n)
        h_load(dt, x + lo, a, k)
        unary_span(op, a, a, k, p, start + lo)
        if stream:
            h_store(dt, a, s, k)
            stream_copy(y + lo, s, k * 2)
        else:
            h_store(dt, a, y + lo, k)
        lo += k
    if stream:
        store_fence()


cdef void binary_half(int op, int dt, const uint16_t* g, const uint16_t* x, uint16_t* gx, Py_ssize_t n,
                      const double* p, bint stream, Py_ssize_t start) noexcept nogil:
    cdef float a[HALF_BLOCK]
    cdef float b[HALF_BLOCK]
    cdef uint16_t s[HALF_BLOCK]
    cdef Py_ssize_t lo = 0, k
    if h_regs(dt) and binary_regs(op, dt, g, x, gx, n, p, stream):
        return
    while lo < n:
        k = h_block(lo, n)
        h_load(dt, g + lo, a, k)
        h_load(dt, x + lo, b, k)
        binary_span(op, a, b, a, k, p, start + lo)
        if stream:
            h_store(dt, a, s, k)
            stream_copy(gx + lo, s, k * 2)
        else:
            h_store(dt, a, gx + lo, k)
        lo += k
    if stream:
        store_fence()


# PReLU's leaves: a run of one channel, a row of channels, and the backward's two
# (w is float32 for the 16-bit types; the weight-gradient sums are float64 either way),
# forward in registers where the type converts there (_half.h), else through L1 blocks;
# backward in registers everywhere (one order for the weight gradient's sums).

cdef inline void prelu_run_any(int dt, const elem* x, elem* y, Py_ssize_t n, const void* w,
                               Py_ssize_t c) noexcept nogil:
    cdef float a[HALF_BLOCK]
    cdef Py_ssize_t lo = 0, k
    if elem is uint16_t:
        if h_regs(dt):
            h16_unary(leaky_e[float], dt == DT_BF16, x, y, n, (<const float*>w)[c], 0, False)
            return
        while lo < n:
            k = h_block(lo, n)
            h_load(dt, x + lo, a, k)
            leaky_span(a, a, k, (<const float*>w)[c])
            h_store(dt, a, y + lo, k)
            lo += k
    else:
        leaky_span(x, y, n, (<const elem*>w)[c])


cdef inline void prelu_row_any(int dt, const elem* x, const void* w, elem* y, Py_ssize_t C) noexcept nogil:
    cdef float a[HALF_BLOCK]
    cdef Py_ssize_t lo = 0, k
    if elem is uint16_t:
        if h_regs(dt):
            h16_prelu_row(leaky_e[float], dt == DT_BF16, x, <const float*>w, y, C)
            return
        while lo < C:
            k = h_block(lo, C)
            h_load(dt, x + lo, a, k)
            prelu_row(a, <const float*>w + lo, a, k)
            h_store(dt, a, y + lo, k)
            lo += k
    else:
        prelu_row(x, <const elem*>w, y, C)


cdef inline double prelu_bwd_run_any(int dt, const elem* g, const elem* x, elem* gx, Py_ssize_t n,
                                     const void* w, Py_ssize_t c) noexcept nogil:
    # a 16-bit run's sum in _half.h's order (which depends on n only) on every level:
    # the software float16 too, so that the levels agree bit for bit
    if elem is uint16_t:
        return h16_prelu_bwd_run(dt == DT_BF16, g, x, gx, n, (<const float*>w)[c])
    else:
        return prelu_bwd_run(g, x, gx, n, (<const elem*>w)[c])


cdef inline void prelu_bwd_row_any(int dt, const elem* g, const elem* x, const void* w, elem* gx,
                                   double* acc, Py_ssize_t C) noexcept nogil:
    if elem is uint16_t:
        h16_prelu_bwd_row(dt == DT_BF16, g, x, <const float*>w, gx, acc, C)
    else:
        prelu_bwd_row(g, x, <const elem*>w, gx, acc, C)


# Short rows of channels (channels last) in registers: k rows at a time as one run against
# the weights tiled k times, so that the drivers' head and tail come once per k rows, not
# once per row (rows of 100 channels: 16-bit was no faster than float32 row by row).

cdef inline Py_ssize_t h_tile(const float* w, float* wt, Py_ssize_t C) noexcept nogil:
    # wt = w repeated k = PRELU_TILE // C times; returns k (< 2: rows one by one)
    cdef Py_ssize_t k = PRELU_TILE // C, j, c
    for j in range(k):
        for c in range(C):
            wt[j * C + c] = w[c]
    return k


cdef inline bint prelu_rows_h16(int dt, const uint16_t* x, const float* w, uint16_t* y, Py_ssize_t o0,
                                Py_ssize_t o1, Py_ssize_t C) noexcept nogil:
    # False where the rows go one by one (long rows, or the type through L1 blocks)
    cdef float wt[PRELU_TILE]
    cdef Py_ssize_t k, m, o = o0
    if not h_regs(dt) or C > PRELU_TILE // 2:
        return False
    k = h_tile(w, wt, C)
    while o < o1:
        m = k if o1 - o > k else o1 - o
        h16_prelu_row(leaky_e[float], dt == DT_BF16, x + o * C, wt, y + o * C, m * C)
        o += m
    return True


cdef inline bint prelu_bwd_rows_h16(int dt, const uint16_t* g, const uint16_t* x, const float* w,
                                    uint16_t* gx, double* acc, Py_ssize_t u0, Py_ssize_t u1,
                                    Py_ssize_t C) noexcept nogil:
    # The terms of rows u0 + j, u0 + j + k, ... summed (in row order) in the tile's j-th
    # copy, the copies then added into acc in order j = 0 .. k-1: an order that depends on
    # the shape only (u0 is the part's first row), the same on every level.
    cdef float wt[PRELU_TILE]
    cdef double at[PRELU_TILE]
    cdef Py_ssize_t k, m, j, c, u = u0
    if C > PRELU_TILE // 2:
        return False
    k = h_tile(w, wt, C)
    for j in range(k * C):
        at[j] = 0.0
    while u < u1:
        m = k if u1 - u > k else u1 - u
        h16_prelu_bwd_row(dt == DT_BF16, g + u * C, x + u * C, wt, gx + u * C, at, m * C)
        u += m
    for j in range(k):
        for c in range(C):
            acc[c] += at[j * C + c]
    return True
