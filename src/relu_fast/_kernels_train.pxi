# Training kernels: relu with a 1-bit backward mask, backward from that mask, and
# relu with a per-channel count of active (x > 0) elements.  Included by every
# _kernels_<level>.pyx after _kernels.pxi; their slots of the kernel table
# (_table.pxd) are filled by fill_train_table.  Same rules as _kernels.pxi: nogil,
# contiguous buffers, branch-free selects, results independent of the thread count.
#
# Mask layout: byte k holds elements 8k..8k+7, element 8k+j in bit j (little bit
# order); bit = 1 where relu_backward passes the gradient (not x <= 0: x > 0 or NaN);
# the unused high bits of the last byte are 0.

from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport uint8_t, int32_t, uint32_t, uint64_t, int64_t
from libc.string cimport memcpy
from libc.stdlib cimport calloc, free
from cpython.pycapsule cimport PyCapsule_New

from relu_fast._table cimport *
from relu_fast._fpenv cimport fpstate, fp_enter, fp_leave
from relu_fast._team cimport (now_ns, piece_begin, piece_end, team_done, team_report,
                              team_set_worker_delay, team_work, work_init)

cdef enum:
    # Threads split the elements in chunks that are multiples of TR_ALIGN elements
    # (a multiple of 8 so two threads never write the same mask byte, and of 64 so
    # they never write the same cache line of y).
    TR_ALIGN = 512
    # relu_stats: runs of one channel are cut in segments of at most TR_SEG elements,
    # and per-channel counts are kept in at most TR_MAX_PARTS parts, merged at the end.
    TR_SEG = 16384
    TR_MAX_PARTS = 64
    # Elements per block: flags are made for a block, then packed 8 per byte.
    TR_BLOCK = 64
    # channels-last rows counted in 32-bit lanes at most this many rows at a time
    TR_ROWS32 = 1 << 30
# b0..b7 (each 0 or 1) in the bytes of a word, b0 lowest -> b0 | b1<<1 | ... | b7<<7
cdef extern from "_bits.h":
    const uint64_t TR_PACK "RELU_FAST_TR_PACK"
# With AVX2 and up (x86, so little-endian), spans work on 32-element words: bit i of
# a uint32 is element i, stored as 4 little-endian bytes (= the byte layout above);
# the compiler vectorises these loops with per-lane variable shifts.  Baseline x86-64
# (SSE2, no such shifts) packs bytes with a multiply and unpacks from a table.
cdef extern from "_target.h":
    bint RELU_FAST_TR_WORDS
# mask byte -> eight all-ones/all-zeros words, word j all ones where bit j is set
# (filled by fill_train_table)
cdef uint32_t tr_lut32[256][8]
cdef uint64_t tr_lut64[256][8]


# ---------------------------------------------------------------------------
# Spans (one contiguous run starting at a multiple of 8 elements)
# ---------------------------------------------------------------------------

cdef inline uint8_t tr_pack8(const uint8_t* f) noexcept nogil:
    # eight 0/1 flags -> one byte, flag j in bit j (the shifts make one 8-byte load
    # on little-endian machines and stay right on big-endian ones)
    cdef uint64_t w = ((<uint64_t>f[0]) | (<uint64_t>f[1] << 8) | (<uint64_t>f[2] << 16)
                       | (<uint64_t>f[3] << 24) | (<uint64_t>f[4] << 32) | (<uint64_t>f[5] << 40)
                       | (<uint64_t>f[6] << 48) | (<uint64_t>f[7] << 56))
    return <uint8_t>((w * TR_PACK) >> 56)


cdef inline void tr_relu_mask_bytes(const floating* x, floating* y, uint8_t* m, Py_ssize_t n) noexcept nogil:
    # y = x < 0 ? 0 : x (as relu); bit = !(x <= 0); flags of 64 elements packed 8 per byte
    cdef uint8_t f[TR_BLOCK]
    cdef Py_ssize_t b, i, k, nb = n // TR_BLOCK, rest
    cdef floating v
    cdef const floating* xb
    cdef floating* yb
    for b in range(nb):
        xb = x + b * TR_BLOCK
        yb = y + b * TR_BLOCK
        for i in range(TR_BLOCK):
            v = xb[i]
            yb[i] = 0 if v < 0 else v
            f[i] = not (v <= 0)
        for k in range(TR_BLOCK // 8):
            m[b * (TR_BLOCK // 8) + k] = tr_pack8(f + 8 * k)
    rest = n - nb * TR_BLOCK
    if rest == 0:
        return
    xb = x + nb * TR_BLOCK
    yb = y + nb * TR_BLOCK
    for i in range(TR_BLOCK):
        f[i] = 0
    for i in range(rest):
        v = xb[i]
        yb[i] = 0 if v < 0 else v
        f[i] = not (v <= 0)
    for k in range((rest + 7) // 8):
        m[nb * (TR_BLOCK // 8) + k] = tr_pack8(f + 8 * k)


cdef inline void tr_relu_mask_words(const floating* x, floating* y, uint8_t* m, Py_ssize_t n) noexcept nogil:
    # as tr_relu_mask_bytes, 32 elements per mask word
    cdef Py_ssize_t b, nw = n // 32
    cdef uint32_t w, i
    cdef floating v
    for b in range(nw):
        w = 0
        for i in range(32):
            v = x[32 * b + i]
            y[32 * b + i] = 0 if v < 0 else v
            w |= (<uint32_t>(not (v <= 0))) << i
        memcpy(m + 4 * b, &w, 4)
    if n > 32 * nw:
        tr_relu_mask_bytes(x + 32 * nw, y + 32 * nw, m + 4 * nw, n - 32 * nw)


cdef inline void tr_relu_mask_span(const floating* x, floating* y, uint8_t* m, Py_ssize_t n) noexcept nogil:
    if RELU_FAST_TR_WORDS:
        tr_relu_mask_words(x, y, m, n)
    else:
        tr_relu_mask_bytes(x, y, m, n)


cdef inline void tr_bwd_mask_table(const floating* g, const uint8_t* m, floating* gx, Py_ssize_t n) noexcept nogil:
    # gx = bit ? g : 0, as g's bits AND an all-ones/all-zeros word per element from a
    # 256-entry table (so inf/NaN in g where the bit is 0 give +0.0)
    cdef Py_ssize_t k, j, nbytes = n // 8, rest = n - n // 8 * 8
    cdef const uint32_t* g32
    cdef uint32_t* o32
    cdef const uint64_t* g64
    cdef uint64_t* o64
    cdef const uint32_t* w32
    cdef const uint64_t* w64
    if floating is float:
        g32 = <const uint32_t*>g
        o32 = <uint32_t*>gx
        for k in range(nbytes):
            w32 = tr_lut32[m[k]]
            for j in range(8):
                o32[8 * k + j] = g32[8 * k + j] & w32[j]
        if rest:
            w32 = tr_lut32[m[nbytes]]
            for j in range(rest):
                o32[8 * nbytes + j] = g32[8 * nbytes + j] & w32[j]
    else:
        g64 = <const uint64_t*>g
        o64 = <uint64_t*>gx
        for k in range(nbytes):
            w64 = tr_lut64[m[k]]
            for j in range(8):
                o64[8 * k + j] = g64[8 * k + j] & w64[j]
        if rest:
            w64 = tr_lut64[m[nbytes]]
            for j in range(rest):
                o64[8 * nbytes + j] = g64[8 * nbytes + j] & w64[j]


cdef inline void tr_bwd_mask_words(const floating* g, const uint8_t* m, floating* gx, Py_ssize_t n) noexcept nogil:
    # gx = bit ? g : 0, 32 elements per mask word (a select: inf/NaN in g give 0 where the bit is 0)
    cdef Py_ssize_t b, nw = n // 32
    cdef uint32_t w, i
    for b in range(nw):
        memcpy(&w, m + 4 * b, 4)
        for i in range(32):
            gx[32 * b + i] = g[32 * b + i] if (w >> i) & 1 else 0
    if n > 32 * nw:
        tr_bwd_mask_table(g + 32 * nw, m + 4 * nw, gx + 32 * nw, n - 32 * nw)


cdef inline void tr_bwd_mask_span(const floating* g, const uint8_t* m, floating* gx, Py_ssize_t n) noexcept nogil:
    if RELU_FAST_TR_WORDS:
        tr_bwd_mask_words(g, m, gx, n)
    else:
        tr_bwd_mask_table(g, m, gx, n)


cdef inline int32_t tr_relu_count_span(const floating* x, floating* y, Py_ssize_t n) noexcept nogil:
    # y = relu(x); returns the number of x > 0 (n <= TR_SEG, so 32 bits suffice and
    # the sum vectorises in 32-bit lanes)
    cdef Py_ssize_t i
    cdef int32_t s = 0
    cdef floating v
    for i in range(n):
        v = x[i]
        y[i] = 0 if v < 0 else v
        s += v > 0
    return s


cdef inline void tr_relu_count_row(const floating* x, floating* y, int32_t* cnt, Py_ssize_t C) noexcept nogil:
    # one row of C channels (channels-last): cnt[c] += x[c] > 0 (32-bit lanes vectorise
    # better; the caller flushes them into the 64-bit counts)
    cdef Py_ssize_t c
    cdef floating v
    for c in range(C):
        v = x[c]
        y[c] = 0 if v < 0 else v
        cnt[c] += v > 0


# ---------------------------------------------------------------------------
# The 16-bit types: each span's blocks converted to float32 and back (_kernels_half.pxi)
# ---------------------------------------------------------------------------

cdef inline void tr_relu_mask_any(int dt, const elem* x, elem* y, uint8_t* m, Py_ssize_t n) noexcept nogil:
    cdef float a[HALF_BLOCK]
    cdef Py_ssize_t lo = 0, k
    if elem is uint16_t:
        while lo < n:                        # blocks start at multiples of 8: whole mask bytes
            k = h_block(lo, n)
            h_load(dt, x + lo, a, k)
            tr_relu_mask_span(a, a, m + lo // 8, k)
            h_store(dt, a, y + lo, k)
            lo += k
    else:
        tr_relu_mask_span(x, y, m, n)


cdef inline void tr_bwd_mask_any(int dt, const elem* g, const uint8_t* m, elem* gx, Py_ssize_t n) noexcept nogil:
    cdef float a[HALF_BLOCK]
    cdef Py_ssize_t lo = 0, k
    if elem is uint16_t:
        while lo < n:
            k = h_block(lo, n)
            h_load(dt, g + lo, a, k)
            tr_bwd_mask_span(a, m + lo // 8, a, k)
            h_store(dt, a, gx + lo, k)
            lo += k
    else:
        tr_bwd_mask_span(g, m, gx, n)


cdef inline int32_t tr_relu_count_any(int dt, const elem* x, elem* y, Py_ssize_t n) noexcept nogil:
    cdef float a[HALF_BLOCK]
    cdef Py_ssize_t lo = 0, k
    cdef int32_t s = 0
    if elem is uint16_t:
        while lo < n:
            k = h_block(lo, n)
            h_load(dt, x + lo, a, k)
            s += tr_relu_count_span(a, a, k)
            h_store(dt, a, y + lo, k)
            lo += k
        return s
    else:
        return tr_relu_count_span(x, y, n)


cdef inline void tr_relu_count_row_any(int dt, const elem* x, elem* y, int32_t* cnt, Py_ssize_t C) noexcept nogil:
    cdef float a[HALF_BLOCK]
    cdef Py_ssize_t lo = 0, k
    if elem is uint16_t:
        while lo < C:
            k = h_block(lo, C)
            h_load(dt, x + lo, a, k)
            tr_relu_count_row(a, a, cnt + lo, k)
            h_store(dt, a, y + lo, k)
            lo += k
    else:
        tr_relu_count_row(x, y, cnt, C)


# ---------------------------------------------------------------------------
# Drivers.  nthreads <= 1 never enters an OpenMP region.
# ---------------------------------------------------------------------------

cdef inline Py_ssize_t tr_chunk(Py_ssize_t n, int nthreads) noexcept nogil:
    cdef Py_ssize_t c = (n + nthreads - 1) // nthreads
    return (c + TR_ALIGN - 1) // TR_ALIGN * TR_ALIGN


cdef void tr_relu_mask_t(int dt, const elem* x, elem* y, uint8_t* m, Py_ssize_t n, int nthreads) noexcept nogil:
    cdef Py_ssize_t k, lo, hi, chunk, nchunks
    cdef fpstate fps
    cdef long long t0, tb
    cdef team_work work
    if nthreads <= 1 or n <= 2 * TR_ALIGN:
        tr_relu_mask_any(dt, x, y, m, n)
        return
    chunk = tr_chunk(n, nthreads)
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
        tr_relu_mask_any(dt, x + lo, y + lo, m + lo // 8, hi - lo)
        piece_end(&work, tb)
        fp_leave(fps)
    team_done(t0, &work)


cdef void tr_bwd_mask_t(int dt, const elem* g, const uint8_t* m, elem* gx, Py_ssize_t n, int nthreads) noexcept nogil:
    cdef Py_ssize_t k, lo, hi, chunk, nchunks
    cdef fpstate fps
    cdef long long t0, tb
    cdef team_work work
    if nthreads <= 1 or n <= 2 * TR_ALIGN:
        tr_bwd_mask_any(dt, g, m, gx, n)
        return
    chunk = tr_chunk(n, nthreads)
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
        tr_bwd_mask_any(dt, g + lo, m + lo // 8, gx + lo, hi - lo)
        piece_end(&work, tb)
        fp_leave(fps)
    team_done(t0, &work)


cdef inline int tr_stats_part(int dt, const elem* x, elem* y, int64_t* acc, Py_ssize_t u0, Py_ssize_t u1,
                              Py_ssize_t C, Py_ssize_t inner, Py_ssize_t nseg) noexcept nogil:
    # returns 0, or -1 when its 32-bit row counters could not be allocated
    cdef Py_ssize_t u, r, lo, hi, off, c, u1b
    cdef int32_t* acc32
    if inner == 1:
        acc32 = <int32_t*>calloc(C, sizeof(int32_t))
        if acc32 == NULL:
            return -1
        while u0 < u1:
            u1b = u1 if u1 - u0 <= TR_ROWS32 else u0 + TR_ROWS32
            for u in range(u0, u1b):
                tr_relu_count_row_any(dt, x + u * C, y + u * C, acc32, C)
            for c in range(C):
                acc[c] += acc32[c]
                acc32[c] = 0
            u0 = u1b
        free(acc32)
        return 0
    for u in range(u0, u1):
        r = u // nseg
        lo = (u % nseg) * TR_SEG
        hi = lo + TR_SEG
        if hi > inner:
            hi = inner
        off = r * inner + lo
        acc[r % C] += tr_relu_count_any(dt, x + off, y + off, hi - lo)
    return 0


cdef int tr_stats_t(int dt, const elem* x, elem* y, int64_t* counts, Py_ssize_t outer, Py_ssize_t C,
                    Py_ssize_t inner, int nthreads) noexcept nogil:
    # x viewed as (outer, C, inner) in memory order; units are rows (inner == 1) or
    # (row, segment of <= SEG) runs of one channel; each part counts into its own row.
    cdef Py_ssize_t units, nseg, parts, p, c, stride
    cdef int failed = 0
    cdef int64_t* partial
    cdef void* block
    cdef fpstate fps
    cdef long long t0, tb
    cdef team_work work
    if inner == 1:
        nseg = 1
        units = outer
    else:
        nseg = (inner + TR_SEG - 1) // TR_SEG
        units = outer * C * nseg
    parts = TR_MAX_PARTS
    if parts > units:
        parts = units
    if parts * C > (1 << 22):
        parts = (1 << 22) // C
    if parts < 1:
        parts = 1
    for c in range(C):
        counts[c] = 0
    if nthreads <= 1 or parts < 2:
        # one part: count straight into the result
        return tr_stats_part(dt, x, y, counts, 0, units, C, inner, nseg)
    # each part's counts in whole cache lines of their own (parts next to each other
    # run on different threads)
    stride = (C + 7) // 8 * 8
    block = calloc(parts * stride + 8, sizeof(int64_t))
    if block == NULL:
        return -1
    partial = <int64_t*>((<size_t>block + 63) // 64 * 64)
    t0 = now_ns()
    work_init(&work)
    for p in prange(parts, nogil=True, num_threads=nthreads, schedule="dynamic"):
        fps = fp_enter()
        tb = piece_begin()
        failed += tr_stats_part(dt, x, y, partial + p * stride, p * units // parts, (p + 1) * units // parts,
                                C, inner, nseg)
        piece_end(&work, tb)
        fp_leave(fps)
    team_done(t0, &work)
    if failed != 0:
        free(block)
        return -1
    for p in range(parts):
        for c in range(C):
            counts[c] += partial[p * stride + c]
    free(block)
    return 0


include "_kernels_masks.pxi"


# ---------------------------------------------------------------------------
# Entry points and the table
# ---------------------------------------------------------------------------

cdef void tr_relu_mask(int dtype, const void* x, void* y, uint8_t* mask, Py_ssize_t n,
                       int nthreads) noexcept nogil:
    if dtype == DT_F32:
        tr_relu_mask_t(dtype, <const float*>x, <float*>y, mask, n, nthreads)
    elif dtype == DT_F64:
        tr_relu_mask_t(dtype, <const double*>x, <double*>y, mask, n, nthreads)
    else:
        tr_relu_mask_t(dtype, <const uint16_t*>x, <uint16_t*>y, mask, n, nthreads)


cdef void tr_relu_backward_mask(int dtype, const void* g, const uint8_t* mask, void* gx, Py_ssize_t n,
                                int nthreads) noexcept nogil:
    if dtype == DT_F32:
        tr_bwd_mask_t(dtype, <const float*>g, mask, <float*>gx, n, nthreads)
    elif dtype == DT_F64:
        tr_bwd_mask_t(dtype, <const double*>g, mask, <double*>gx, n, nthreads)
    else:
        tr_bwd_mask_t(dtype, <const uint16_t*>g, mask, <uint16_t*>gx, n, nthreads)


cdef int tr_relu_stats(int dtype, const void* x, void* y, int64_t* counts, Py_ssize_t outer, Py_ssize_t C,
                       Py_ssize_t inner, int nthreads) noexcept nogil:
    cdef int status
    if dtype == DT_F32:
        status = tr_stats_t(dtype, <const float*>x, <float*>y, counts, outer, C, inner, nthreads)
    elif dtype == DT_F64:
        status = tr_stats_t(dtype, <const double*>x, <double*>y, counts, outer, C, inner, nthreads)
    else:
        status = tr_stats_t(dtype, <const uint16_t*>x, <uint16_t*>y, counts, outer, C, inner, nthreads)
    return status


cdef void fill_train_table(KernelTable* t) noexcept:
    """Put the training kernels into this module's kernel table (from _make_table)."""
    cdef int b, j
    for b in range(256):
        for j in range(8):
            tr_lut32[b][j] = 0xFFFFFFFFU if (b >> j) & 1 else 0
            tr_lut64[b][j] = 0xFFFFFFFFFFFFFFFFULL if (b >> j) & 1 else 0
    t.relu_mask = tr_relu_mask
    t.relu_backward_mask = tr_relu_backward_mask
    t.relu_stats = tr_relu_stats
    t.mask_unary = mask_unary
    t.mask_binary = mask_binary
