# Included by _kernels.pxi: the elementwise drivers (threads, streaming stores).

# ---------------------------------------------------------------------------
# Drivers: split a contiguous array over threads.  nthreads <= 1 never enters an
# OpenMP region (a forked child must not touch the parent's thread pool).
# ---------------------------------------------------------------------------

cdef extern from "_stream.h":
    void stream_copy "relu_fast_stream_copy"(void* dst, const void* src, size_t nbytes) noexcept nogil
    void store_fence "relu_fast_store_fence"() noexcept nogil


cdef extern from "_stream.h":
    bint relu_stream_f32 "relu_fast_relu_stream_f32"(const float* x, float* y, size_t n) noexcept nogil
    bint relu_stream_f64 "relu_fast_relu_stream_f64"(const double* x, double* y, size_t n) noexcept nogil
    bint leaky_stream_f32 "relu_fast_leaky_stream_f32"(const float* x, float* y, size_t n, float s) noexcept nogil
    bint leaky_stream_f64 "relu_fast_leaky_stream_f64"(const double* x, double* y, size_t n, double s) noexcept nogil
    bint relu_bwd_stream_f32 "relu_fast_relu_bwd_stream_f32"(const float* g, const float* x, float* y,
                                                            size_t n) noexcept nogil
    bint relu_bwd_stream_f64 "relu_fast_relu_bwd_stream_f64"(const double* g, const double* x, double* y,
                                                            size_t n) noexcept nogil
    bint leaky_bwd_stream_f32 "relu_fast_leaky_bwd_stream_f32"(const float* g, const float* x, float* y,
                                                              size_t n, float s) noexcept nogil
    bint leaky_bwd_stream_f64 "relu_fast_leaky_bwd_stream_f64"(const double* g, const double* x, double* y,
                                                              size_t n, double s) noexcept nogil

# Outputs at least this large (and not written in place) are written with
# streaming stores: from the registers (above), else through a small L1 buffer
# (why and when: docs/isa.rst).
cdef Py_ssize_t STREAM_BYTES = 16 * 1024 * 1024
cdef enum:
    STREAM_BLOCK = 512      # elements computed into L1 before each streamed copy
                            # (smaller buffers were slower on huge arrays: loads and stores take turns)
    PAGE = 4096
    PAGE_SLACK = 1024       # elements after the buffer: a page of float32 (two of float64)
# Where the L1 buffer sits relative to the block of input it is computed from: this
# many bytes further on, modulo a 4 KiB page.  At the inputs' own page offset the
# loads wait behind the buffer's stores (4K aliasing), and where the stack happened to
# put the buffer decided a call's speed; half a page away is the farthest from that
# (docs/isa.rst).  -1: wherever the stack puts it (benchmarks compare).
cdef Py_ssize_t STREAM_SKEW = 2048
# ELU streams too: off, it was slower so through the buffer on the Zen 5 machine and
# ten times slower on the Zen 3 one (docs/isa.rst)
cdef bint STREAM_ELU = False
# relu, leaky_relu and their gradients with a bias: straight from the registers (off:
# through the L1 buffer, as the other functions; benchmarks and tests compare)
cdef bint BIAS_REGISTERS = True
# the other piecewise-linear functions (hardtanh, threshold, hardsigmoid, hardswish and
# their gradients) streamed from the registers through their element functions too
cdef bint STREAM_ELEMS = True
# ordinary-store spans of PEEL_MIN elements or more start their body on the output's
# cache line (line_head; off: benchmarks compare)
cdef bint PEEL = True


cdef inline floating* skewed(floating* base, const floating* near) noexcept nogil:
    """The buffer (PAGE_SLACK elements of slack after `base`'s STREAM_BLOCK) placed STREAM_SKEW
    bytes after `near`'s page offset, on a cache line."""
    cdef Py_ssize_t off
    if STREAM_SKEW < 0:
        return base
    off = (<Py_ssize_t>near + STREAM_SKEW - <Py_ssize_t>base) & (PAGE - 1)
    return <floating*>(<char*>base + (off & ~63))


cdef inline Py_ssize_t chunk_size(Py_ssize_t n, int nthreads) noexcept nogil:
    cdef Py_ssize_t c = (n + nthreads - 1) // nthreads
    return (c + 63) // 64 * 64


cdef enum:
    PEEL_MIN = 256          # elements from which a span's head is peeled to the output's line


cdef inline Py_ssize_t line_head(const void* y, Py_ssize_t n, Py_ssize_t size) noexcept nogil:
    """Elements before `y` + head starts a 64-byte line (0 below PEEL_MIN): NumPy aligns
    to 16 bytes, and the widest vectors' stores that straddle two lines cost Intel cores
    up to a third of a cache-resident call (docs/isa.rst)."""
    cdef Py_ssize_t h
    if n < PEEL_MIN or not PEEL:
        return 0
    h = ((-<Py_ssize_t>y) & 63) // size
    return h if h < n else n


cdef inline void unary_piece(int op, const floating* x, floating* y, Py_ssize_t n, const double* p,
                             bint stream, Py_ssize_t start) noexcept nogil:
    # start: the index of x[0] among the call's elements (unary_span)
    cdef floating bufmem[STREAM_BLOCK + PAGE_SLACK]
    cdef floating* buf
    cdef Py_ssize_t lo = 0, k
    cdef bint done
    if not stream:
        k = 0 if heavy_unary(op) else line_head(y, n, sizeof(floating))
        if k:
            unary_span(op, x, y, k, p, start)
        unary_span(op, x + k, y + k, n - k, p, start + k)
        return
    done = False
    if op == OP_RELU:
        if floating is float:
            done = relu_stream_f32(x, y, n)
        else:
            done = relu_stream_f64(x, y, n)
    elif op == OP_LEAKY:
        if floating is float:
            done = leaky_stream_f32(x, y, n, <float>p[0])
        else:
            done = leaky_stream_f64(x, y, n, p[0])
    elif STREAM_ELEMS:
        # the other piecewise-linear functions: their element functions streamed
        # (_stream.h); False for the rest, which stream through the buffer
        done = unary_regs(op, DT_F32 if floating is float else DT_F64, x, y, n, p, True)
    if done:
        store_fence()
        return
    while lo < n:
        k = n - lo
        if k > STREAM_BLOCK:
            k = STREAM_BLOCK
        buf = skewed(bufmem, x + lo)
        unary_span(op, x + lo, buf, k, p, start + lo)
        stream_copy(y + lo, buf, k * sizeof(floating))
        lo += k
    store_fence()


cdef inline void binary_piece(int op, const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                              const double* p, bint stream, Py_ssize_t start) noexcept nogil:
    cdef floating bufmem[STREAM_BLOCK + PAGE_SLACK]
    cdef floating* buf
    cdef Py_ssize_t lo = 0, k
    cdef bint done = False
    if not stream:
        k = 0 if heavy_binary(op) else line_head(gx, n, sizeof(floating))
        if k:
            binary_span(op, g, x, gx, k, p, start)
        binary_span(op, g + k, x + k, gx + k, n - k, p, start + k)
        return
    if op == OP_RELU_BWD:
        if floating is float:
            done = relu_bwd_stream_f32(g, x, gx, n)
        else:
            done = relu_bwd_stream_f64(g, x, gx, n)
    elif op == OP_LEAKY_BWD:
        if floating is float:
            done = leaky_bwd_stream_f32(g, x, gx, n, <float>p[0])
        else:
            done = leaky_bwd_stream_f64(g, x, gx, n, p[0])
    elif STREAM_ELEMS:
        done = binary_regs(op, DT_F32 if floating is float else DT_F64, g, x, gx, n, p, True)
    if done:
        store_fence()
        return
    while lo < n:
        k = n - lo
        if k > STREAM_BLOCK:
            k = STREAM_BLOCK
        buf = skewed(bufmem, x + lo)
        binary_span(op, g + lo, x + lo, buf, k, p, start + lo)
        stream_copy(gx + lo, buf, k * sizeof(floating))
        lo += k
    store_fence()


cdef inline void unary_piece_any(int op, int dt, const elem* x, elem* y, Py_ssize_t n, const double* p,
                                 bint stream, Py_ssize_t start) noexcept nogil:
    if elem is uint16_t:
        unary_half(op, dt, x, y, n, p, stream, start)
    else:
        unary_piece(op, x, y, n, p, stream, start)


cdef inline void binary_piece_any(int op, int dt, const elem* g, const elem* x, elem* gx, Py_ssize_t n,
                                  const double* p, bint stream, Py_ssize_t start) noexcept nogil:
    if elem is uint16_t:
        binary_half(op, dt, g, x, gx, n, p, stream, start)
    else:
        binary_piece(op, g, x, gx, n, p, stream, start)


cdef void unary_t(int op, int dt, const elem* x, elem* y, Py_ssize_t n, const double* p, int nthreads) noexcept nogil:
    cdef Py_ssize_t k, lo, hi, chunk, nchunks
    cdef fpstate fps
    cdef long long t0, tb
    cdef team_work work
    # ELU is compute-bound: streaming through the buffer made it slower (README,
    # "Instruction sets"), so its stores stay ordinary
    cdef bint stream = (<const elem*>y != x and (op != OP_ELU or STREAM_ELU)
                        and n * <Py_ssize_t>sizeof(elem) >= STREAM_BYTES)
    if nthreads <= 1 or n <= 128:
        unary_piece_any(op, dt, x, y, n, p, stream, 0)
        return
    chunk = chunk_size(n, nthreads)
    nchunks = (n + chunk - 1) // chunk
    t0 = now_ns()
    work_init(&work)
    for k in prange(nchunks, nogil=True, num_threads=nthreads, schedule="static"):
        fps = fp_enter()                     # each thread: the caller's FTZ/DAZ cleared
        tb = piece_begin()
        lo = k * chunk
        hi = lo + chunk
        if hi > n:
            hi = n
        unary_piece_any(op, dt, x + lo, y + lo, hi - lo, p, stream, lo)
        piece_end(&work, tb)
        fp_leave(fps)
    team_done(t0, &work)


cdef void binary_t(int op, int dt, const elem* g, const elem* x, elem* gx, Py_ssize_t n, const double* p,
                   int nthreads) noexcept nogil:
    cdef Py_ssize_t k, lo, hi, chunk, nchunks
    cdef fpstate fps
    cdef long long t0, tb
    cdef team_work work
    cdef bint stream = (<const elem*>gx != x and <const elem*>gx != g
                        and n * <Py_ssize_t>sizeof(elem) >= STREAM_BYTES)
    if nthreads <= 1 or n <= 128:
        binary_piece_any(op, dt, g, x, gx, n, p, stream, 0)
        return
    chunk = chunk_size(n, nthreads)
    nchunks = (n + chunk - 1) // chunk
    t0 = now_ns()
    work_init(&work)
    for k in prange(nchunks, nogil=True, num_threads=nthreads, schedule="static"):
        fps = fp_enter()
        tb = piece_begin()
        lo = k * chunk
        hi = lo + chunk
        if hi > n:
            hi = n
        binary_piece_any(op, dt, g + lo, x + lo, gx + lo, hi - lo, p, stream, lo)
        piece_end(&work, tb)
        fp_leave(fps)
    team_done(t0, &work)
