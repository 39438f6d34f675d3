# Included by _kernels.pxi: a per-channel bias fused into any elementwise function, and
# the bias gradient summed in the same pass.
#
# x is viewed as (outer, channels, inner), C order, and element i belongs to channel
# (i // inner) % channels.  Each block of BIAS_BLOCK elements gets z = x + b[channel]
# in an L1 buffer (rounded to x's dtype, as x + b is; the 16-bit types through float32,
# exact, then rounded once), and the function's span runs on z: x is read once and
# the output written once.  b is x's dtype, float32 for the 16-bit types.
#
# grad_bias[c] = sum over channel c of the stored grad_input, in float64: per block,
# channel runs by fixed 16-lane trees and channel rows element by element, in fixed
# parts whose bounds depend on the shape only (their sums added in part order), so
# every thread count and level adds the same values in the same order.

cdef extern from "_stream.h":
    bint relu_bias_stream_f32 "relu_fast_relu_bias_stream_f32"(
        const float* x, const float* b, size_t C, size_t c0, size_t inner, size_t pos0, float* y, size_t n) noexcept nogil
    bint leaky_bias_stream_f32 "relu_fast_leaky_bias_stream_f32"(
        const float* x, const float* b, size_t C, size_t c0, size_t inner, size_t pos0, float* y, size_t n, float s) noexcept nogil
    bint relu_bwd_bias_stream_f32 "relu_fast_relu_bwd_bias_stream_f32"(
        const float* g, const float* x, const float* b, size_t C, size_t c0, size_t inner, size_t pos0, float* y, size_t n) noexcept nogil
    bint leaky_bwd_bias_stream_f32 "relu_fast_leaky_bwd_bias_stream_f32"(
        const float* g, const float* x, const float* b, size_t C, size_t c0, size_t inner, size_t pos0, float* y, size_t n, float s) noexcept nogil
    bint relu_bias_stream_f64 "relu_fast_relu_bias_stream_f64"(
        const double* x, const double* b, size_t C, size_t c0, size_t inner, size_t pos0, double* y, size_t n) noexcept nogil
    bint leaky_bias_stream_f64 "relu_fast_leaky_bias_stream_f64"(
        const double* x, const double* b, size_t C, size_t c0, size_t inner, size_t pos0, double* y, size_t n, double s) noexcept nogil
    bint relu_bwd_bias_stream_f64 "relu_fast_relu_bwd_bias_stream_f64"(
        const double* g, const double* x, const double* b, size_t C, size_t c0, size_t inner, size_t pos0, double* y, size_t n) noexcept nogil
    bint leaky_bwd_bias_stream_f64 "relu_fast_leaky_bwd_bias_stream_f64"(
        const double* g, const double* x, const double* b, size_t C, size_t c0, size_t inner, size_t pos0, double* y, size_t n, double s) noexcept nogil
    bint relu_bias_store_f32 "relu_fast_relu_bias_store_f32"(
        const float* x, const float* b, size_t C, size_t c0, size_t inner, size_t pos0, float* y, size_t n) noexcept nogil
    bint leaky_bias_store_f32 "relu_fast_leaky_bias_store_f32"(
        const float* x, const float* b, size_t C, size_t c0, size_t inner, size_t pos0, float* y, size_t n, float s) noexcept nogil
    bint relu_bwd_bias_store_f32 "relu_fast_relu_bwd_bias_store_f32"(
        const float* g, const float* x, const float* b, size_t C, size_t c0, size_t inner, size_t pos0, float* y, size_t n) noexcept nogil
    bint leaky_bwd_bias_store_f32 "relu_fast_leaky_bwd_bias_store_f32"(
        const float* g, const float* x, const float* b, size_t C, size_t c0, size_t inner, size_t pos0, float* y, size_t n, float s) noexcept nogil
    bint relu_bias_store_f64 "relu_fast_relu_bias_store_f64"(
        const double* x, const double* b, size_t C, size_t c0, size_t inner, size_t pos0, double* y, size_t n) noexcept nogil
    bint leaky_bias_store_f64 "relu_fast_leaky_bias_store_f64"(
        const double* x, const double* b, size_t C, size_t c0, size_t inner, size_t pos0, double* y, size_t n, double s) noexcept nogil
    bint relu_bwd_bias_store_f64 "relu_fast_relu_bwd_bias_store_f64"(
        const double* g, const double* x, const double* b, size_t C, size_t c0, size_t inner, size_t pos0, double* y, size_t n) noexcept nogil
    bint leaky_bwd_bias_store_f64 "relu_fast_leaky_bwd_bias_store_f64"(
        const double* g, const double* x, const double* b, size_t C, size_t c0, size_t inner, size_t pos0, double* y, size_t n, double s) noexcept nogil

cdef enum:
    BIAS_BLOCK = 512        # elements per block (a multiple of 16: the lanes' phase)
    BIAS_RUN_MIN = 64       # pieces at least this long (on average) stream from the registers


cdef inline bint bias_reg_piece(int op, const floating* g, const floating* x, const floating* b,
                                floating* y, Py_ssize_t n, size_t C, size_t c0, size_t inner,
                                size_t pos0, const double* p, bint stream) noexcept nogil:
    # rows of C channels from channel c0 (inner 0; b: C + 64 values, b[k] = bias[k % C]),
    # or runs of `inner` elements per channel from position pos0 of channel c0's (b: the
    # C values) (_stream.h); from the registers, with
    # streaming or ordinary stores; g NULL: the forward op, else the gradient op (the
    # two sets of op codes overlap); False: no such kernel here (nothing written)
    cdef float sf = <float>p[0] if (op == OP_LEAKY if g == NULL else op == OP_LEAKY_BWD) else 0
    if g == NULL and op == OP_RELU:
        if floating is float:
            return (relu_bias_stream_f32(x, b, C, c0, inner, pos0, y, n) if stream
                    else relu_bias_store_f32(x, b, C, c0, inner, pos0, y, n))
        else:
            return (relu_bias_stream_f64(x, b, C, c0, inner, pos0, y, n) if stream
                    else relu_bias_store_f64(x, b, C, c0, inner, pos0, y, n))
    elif g == NULL and op == OP_LEAKY:
        if floating is float:
            return (leaky_bias_stream_f32(x, b, C, c0, inner, pos0, y, n, sf) if stream
                    else leaky_bias_store_f32(x, b, C, c0, inner, pos0, y, n, sf))
        else:
            return (leaky_bias_stream_f64(x, b, C, c0, inner, pos0, y, n, p[0]) if stream
                    else leaky_bias_store_f64(x, b, C, c0, inner, pos0, y, n, p[0]))
    elif g != NULL and op == OP_RELU_BWD:
        if floating is float:
            return (relu_bwd_bias_stream_f32(g, x, b, C, c0, inner, pos0, y, n) if stream
                    else relu_bwd_bias_store_f32(g, x, b, C, c0, inner, pos0, y, n))
        else:
            return (relu_bwd_bias_stream_f64(g, x, b, C, c0, inner, pos0, y, n) if stream
                    else relu_bwd_bias_store_f64(g, x, b, C, c0, inner, pos0, y, n))
    elif g != NULL and op == OP_LEAKY_BWD:
        if floating is float:
            return (leaky_bwd_bias_stream_f32(g, x, b, C, c0, inner, pos0, y, n, sf) if stream
                    else leaky_bwd_bias_store_f32(g, x, b, C, c0, inner, pos0, y, n, sf))
        else:
            return (leaky_bwd_bias_stream_f64(g, x, b, C, c0, inner, pos0, y, n, p[0]) if stream
                    else leaky_bwd_bias_store_f64(g, x, b, C, c0, inner, pos0, y, n, p[0]))
    return False


cdef inline bint bias_registers(int op, const floating* g, const floating* x, const floating* b,
                                floating* y, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t C,
                                Py_ssize_t inner, const double* p, bint stream) noexcept nogil:
    # elements lo .. hi-1 (g, x, y at element 0) through bias_pieces.  False (nothing
    # written) where the op has no such kernel, the rows or runs are too short for it to
    # pay, or no memory for the rows' bias.
    cdef floating* bext = NULL
    cdef bint done
    if not bias_in_registers(op, g != NULL, C, inner):
        return False
    if inner == 1:
        bext = rows_bias(b, C)
        if bext == NULL:
            return False
    done = bias_pieces(op, g + lo if g != NULL else g, x + lo, bext if inner == 1 else b, y + lo,
                       lo, hi - lo, C, inner, p, stream)
    free(bext)
    return done


cdef inline Py_ssize_t page_distance(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    cdef Py_ssize_t d = (a - b) & (PAGE - 1)
    return d if d < PAGE - d else PAGE - d


cdef inline floating* placed(floating* base, const floating* a, const floating* b,
                             const floating* c) noexcept nogil:
    """The buffer (PAGE_SLACK elements of slack after `base`'s block) at the page offset
    farthest from a's, b's and c's, so that its stores and loads do not 4K-alias those
    of the three streams beside it (STREAM_SKEW -1: wherever the stack puts it)."""
    cdef Py_ssize_t k, off, d, best = 0, bestd = -1
    if STREAM_SKEW < 0:
        return base
    for k in range(16):
        off = k * 256
        d = min(page_distance(off, <Py_ssize_t>a), page_distance(off, <Py_ssize_t>b))
        d = min(d, page_distance(off, <Py_ssize_t>c))
        if d > bestd:
            bestd = d
            best = off
    return <floating*>(<char*>base + ((best - <Py_ssize_t>base) & (PAGE - 1)))


cdef inline bint bias_pieces(int op, const floating* g, const floating* x, const floating* b,
                             floating* y, Py_ssize_t i0, Py_ssize_t k, Py_ssize_t C,
                             Py_ssize_t inner, const double* p, bint stream) noexcept nogil:
    # elements i0 .. i0+k-1 (g, x, y at element i0; g NULL: the forward op) from the
    # registers, as one stream: rows of channels (b: rows_bias) or channel runs (b: the
    # bias; a run's edges mid-vector, so they cost no scalar stores into half-streamed
    # lines).  False: no such kernel here, nothing written.
    if inner == 1:
        return bias_reg_piece(op, g, x, b, y, k, C, i0 % C, 0, 0, p, stream)
    return bias_reg_piece(op, g, x, b, y, k, C, (i0 // inner) % C, inner, i0 % inner, p, stream)


cdef inline bint bias_in_registers(int op, bint gradient, Py_ssize_t C, Py_ssize_t inner) noexcept nogil:
    # whether bias_registers takes this op (gradient: the gradient op codes) and geometry:
    # rows or runs at least BIAS_RUN_MIN long (shorter ones through the buffer)
    if not BIAS_REGISTERS:
        return False
    if not ((op == OP_RELU_BWD or op == OP_LEAKY_BWD) if gradient else (op == OP_RELU or op == OP_LEAKY)):
        return False
    return (C if inner == 1 else inner) >= BIAS_RUN_MIN


cdef inline floating* rows_bias(const floating* b, Py_ssize_t C) noexcept nogil:
    # b repeated to C + 64 values (_stream.h: a vector at any channel reads it whole);
    # NULL: no memory
    cdef floating* bext = <floating*>calloc(C + 64, sizeof(floating))
    cdef Py_ssize_t c
    if bext != NULL:
        for c in range(C + 64):
            bext[c] = b[c % C]
    return bext


cdef inline void add_bias(const floating* x, const floating* b, floating* z, Py_ssize_t i0,
                          Py_ssize_t k, Py_ssize_t C, Py_ssize_t inner) noexcept nogil:
    # z[j] = x[j] + b[channel of element i0 + j], j < k, one channel's piece at a time
    cdef Py_ssize_t j = 0, c, pos, m, t
    cdef floating bv
    if inner == 1:                           # rows of channels: a slice of b per piece
        c = i0 % C
        while j < k:
            m = C - c if C - c < k - j else k - j
            for t in range(m):
                z[j + t] = x[j + t] + b[c + t]
            j += m
            c = 0
        return
    c = (i0 // inner) % C
    pos = i0 % inner
    while j < k:
        m = inner - pos if inner - pos < k - j else k - j
        bv = b[c]
        for t in range(m):
            z[j + t] = x[j + t] + bv
        j += m
        pos = 0
        c = c + 1 if c + 1 < C else 0


cdef inline double lane_sum(const floating* v, Py_ssize_t n) noexcept nogil:
    # sum in float64: element i into lane i % 16, the lanes added in a fixed tree
    # (fewer than 16 elements: in element order)
    cdef double lanes[16]
    cdef Py_ssize_t i, j, m = n // 16 * 16
    cdef double total = 0.0
    if n < 16:
        for i in range(n):
            total += <double>v[i]
        return total
    for j in range(16):
        lanes[j] = 0.0
    for i in range(0, m, 16):
        for j in range(16):
            lanes[j] += <double>v[i + j]
    for i in range(m, n):
        lanes[i - m] += <double>v[i]
    for j in range(8):
        lanes[j] = lanes[j] + lanes[j + 8]
    for j in range(4):
        lanes[j] = lanes[j] + lanes[j + 4]
    for j in range(2):
        lanes[j] = lanes[j] + lanes[j + 2]
    return lanes[0] + lanes[1]


cdef inline void sum_bias(const floating* v, double* acc, Py_ssize_t i0, Py_ssize_t k,
                          Py_ssize_t C, Py_ssize_t inner) noexcept nogil:
    # acc[channel] += the block's values of that channel (the pieces of add_bias)
    cdef Py_ssize_t j = 0, c, pos, m, t
    if inner == 1:
        c = i0 % C
        while j < k:
            m = C - c if C - c < k - j else k - j
            for t in range(m):
                acc[c + t] += <double>v[j + t]
            j += m
            c = 0
        return
    c = (i0 // inner) % C
    pos = i0 % inner
    while j < k:
        m = inner - pos if inner - pos < k - j else k - j
        acc[c] += lane_sum(v + j, m)
        j += m
        pos = 0
        c = c + 1 if c + 1 < C else 0


cdef inline void h_round(int dt, float* a, uint16_t* s, Py_ssize_t k) noexcept nogil:
    # a rounded to the 16-bit type in place (through s)
    h_store(dt, a, s, k)
    h_load(dt, s, a, k)


cdef void bias_unary_piece(int op, int dt, const elem* x, const void* b, elem* y, Py_ssize_t lo,
                           Py_ssize_t hi, Py_ssize_t C, Py_ssize_t inner, const double* p,
                           bint stream) noexcept nogil:
    # elements lo .. hi-1 of the call (x, y point at element 0)
    cdef elem zmem[BIAS_BLOCK + PAGE_SLACK]
    cdef elem* z
    cdef float a[BIAS_BLOCK]
    cdef uint16_t s[BIAS_BLOCK]
    cdef Py_ssize_t i = lo, k
    if elem is not uint16_t:
        if bias_registers(op, <const elem*>NULL, x, <const elem*>b, y, lo, hi, C, inner, p, stream):
            if stream:
                store_fence()
            return
    while i < hi:
        k = hi - i if hi - i < BIAS_BLOCK else BIAS_BLOCK
        if elem is uint16_t:
            h_load(dt, x + i, a, k)
            add_bias(a, <const float*>b, a, i, k, C, inner)
            h_round(dt, a, s, k)
            unary_span(op, a, a, k, p, i)
            if stream:
                h_store(dt, a, s, k)
                stream_copy(y + i, s, k * 2)
            else:
                h_store(dt, a, y + i, k)
        else:
            z = skewed(zmem, x + i)
            add_bias(x + i, <const elem*>b, z, i, k, C, inner)
            if stream:
                unary_span(op, z, z, k, p, i)
                stream_copy(y + i, z, k * sizeof(elem))
            else:
                unary_span(op, z, y + i, k, p, i)
        i += k
    if stream:
        store_fence()


cdef void bias_binary_piece(int op, int dt, const elem* g, const elem* x, const void* b, elem* gx,
                            double* acc, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t C,
                            Py_ssize_t inner, const double* p, bint stream) noexcept nogil:
    # b NULL: the derivative at x itself; acc NULL: no sums
    cdef elem zmem[BIAS_BLOCK + PAGE_SLACK]
    cdef elem omem[BIAS_BLOCK + PAGE_SLACK]
    cdef elem* z
    cdef elem* o
    cdef float a[BIAS_BLOCK]
    cdef float bb[BIAS_BLOCK]
    cdef float r[BIAS_BLOCK]
    cdef uint16_t s[BIAS_BLOCK]
    cdef Py_ssize_t i = lo, k
    cdef elem* bext
    cdef bint done
    if elem is not uint16_t:
        if b != NULL and acc == NULL and bias_registers(op, g, x, <const elem*>b, gx, lo, hi, C,
                                                        inner, p, stream):
            if stream:
                store_fence()
            return
        if b != NULL and acc != NULL and bias_in_registers(op, True, C, inner):
            # block by block into an L1 buffer, summed from there in sum_bias's order
            bext = rows_bias(<const elem*>b, C) if inner == 1 else NULL
            done = inner != 1 or bext != NULL
            while done and i < hi:
                k = hi - i if hi - i < BIAS_BLOCK else BIAS_BLOCK
                o = placed(omem, g + i, x + i, gx + i) if stream else gx + i
                if not bias_pieces(op, g + i, x + i, bext if inner == 1 else <const elem*>b, o, i, k, C,
                                   inner, p, False):
                    done = False             # only ever the first block: nothing written
                    break
                sum_bias(o, acc, i, k, C, inner)
                if stream:
                    stream_copy(gx + i, o, k * sizeof(elem))
                i += k
            free(bext)
            if done:
                if stream:
                    store_fence()
                return
    while i < hi:
        k = hi - i if hi - i < BIAS_BLOCK else BIAS_BLOCK
        if elem is uint16_t:
            h_load(dt, g + i, a, k)
            h_load(dt, x + i, bb, k)
            if b != NULL:
                add_bias(bb, <const float*>b, bb, i, k, C, inner)
                h_round(dt, bb, s, k)
            binary_span(op, a, bb, r, k, p, i)
            if stream:
                h_store(dt, r, s, k)
                stream_copy(gx + i, s, k * 2)
            else:
                h_store(dt, r, gx + i, k)
            if acc != NULL:                  # the sums are of the values stored
                h_round(dt, r, s, k)
                sum_bias(r, acc, i, k, C, inner)
        else:
            if b != NULL:
                z = skewed(zmem, x + i)
                add_bias(x + i, <const elem*>b, z, i, k, C, inner)
            else:
                z = <elem*>(x + i)
            o = skewed(omem, g + i) if stream else gx + i
            binary_span(op, g + i, z, o, k, p, i)
            if acc != NULL:
                sum_bias(o, acc, i, k, C, inner)
            if stream:
                stream_copy(gx + i, o, k * sizeof(elem))
        i += k
    if stream:
        store_fence()


cdef void bias_unary_t(int op, int dt, const elem* x, const void* b, elem* y, Py_ssize_t outer,
                       Py_ssize_t C, Py_ssize_t inner, const double* p, int nthreads) noexcept nogil:
    cdef Py_ssize_t n = outer * C * inner, k, lo, hi, chunk, nchunks
    cdef fpstate fps
    cdef long long t0, tb
    cdef team_work work
    cdef bint stream = (<const elem*>y != x and (op != OP_ELU or STREAM_ELU)
                        and n * <Py_ssize_t>sizeof(elem) >= STREAM_BYTES)
    if nthreads <= 1 or n <= 128:
        bias_unary_piece(op, dt, x, b, y, 0, n, C, inner, p, stream)
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
        bias_unary_piece(op, dt, x, b, y, lo, hi, C, inner, p, stream)
        piece_end(&work, tb)
        fp_leave(fps)
    team_done(t0, &work)


cdef inline Py_ssize_t part_bound(Py_ssize_t q, Py_ssize_t parts, Py_ssize_t n) noexcept nogil:
    # where part q starts: on a 64-element boundary (no cache line written by two parts)
    if q >= parts:
        return n
    return q * (n // 64) // parts * 64


cdef int bias_binary_t(int op, int dt, const elem* g, const elem* x, const void* b, elem* gx,
                       double* gb, Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, const double* p,
                       int nthreads) noexcept nogil:
    cdef Py_ssize_t n = outer * C * inner, k, lo, hi, chunk, nchunks, parts, q, c, stride
    cdef double* partial
    cdef void* block
    cdef fpstate fps
    cdef long long t0, tb
    cdef team_work work
    cdef bint stream = (<const elem*>gx != x and <const elem*>gx != g
                        and n * <Py_ssize_t>sizeof(elem) >= STREAM_BYTES)
    if gb == NULL:                           # elementwise: any split
        if nthreads <= 1 or n <= 128:
            bias_binary_piece(op, dt, g, x, b, gx, NULL, 0, n, C, inner, p, stream)
            return 0
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
            bias_binary_piece(op, dt, g, x, b, gx, NULL, lo, hi, C, inner, p, stream)
            piece_end(&work, tb)
            fp_leave(fps)
        team_done(t0, &work)
        return 0
    for c in range(C):
        gb[c] = 0.0
    parts = n // PART_ELEMENTS
    if parts > MAX_PARTS:
        parts = MAX_PARTS
    if parts * C > (1 << 22):
        parts = (1 << 22) // C
    if parts <= 1:                           # small x: sum straight into gb
        bias_binary_piece(op, dt, g, x, b, gx, gb, 0, n, C, inner, p, stream)
        return 0
    stride = (C + 7) // 8 * 8                # each part's sums in cache lines of their own
    block = calloc(parts * stride + 8, sizeof(double))
    if block == NULL:
        return -1
    partial = <double*>((<size_t>block + 63) // 64 * 64)
    if nthreads <= 1:
        for q in range(parts):
            bias_binary_piece(op, dt, g, x, b, gx, partial + q * stride, part_bound(q, parts, n),
                              part_bound(q + 1, parts, n), C, inner, p, stream)
    else:
        t0 = now_ns()
        work_init(&work)
        for q in prange(parts, nogil=True, num_threads=nthreads, schedule="dynamic"):
            fps = fp_enter()
            tb = piece_begin()
            bias_binary_piece(op, dt, g, x, b, gx, partial + q * stride, part_bound(q, parts, n),
                              part_bound(q + 1, parts, n), C, inner, p, stream)
            piece_end(&work, tb)
            fp_leave(fps)
        team_done(t0, &work)
    for q in range(parts):
        for c in range(C):
            gb[c] += partial[q * stride + c]
    free(block)
    return 0
