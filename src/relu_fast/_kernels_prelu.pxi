# Included by _kernels.pxi: PReLU's forward and backward kernels.

# ---------------------------------------------------------------------------
# PReLU.  x is viewed as (outer, channels, inner), C order; alpha = w[channel] (w is
# float32 for the 16-bit types: the leaves in _kernels_half.pxi convert x's blocks).
# inner == 1: rows of `channels` values (channels-last), vectorised across channels.
# inner > 1: units are (row, segment) runs of one channel, segments of <= SEG.
# ---------------------------------------------------------------------------

cdef inline void prelu_row(const floating* x, const floating* w, floating* y, Py_ssize_t C) noexcept nogil:
    cdef Py_ssize_t c
    cdef floating v, a
    for c in range(C):
        v = x[c]
        a = w[c]
        y[c] = v if v > 0 else a * v


cdef inline void prelu_rows(int dt, const elem* x, const void* w, elem* y, Py_ssize_t o0,
                            Py_ssize_t o1, Py_ssize_t C) noexcept nogil:
    cdef Py_ssize_t o
    if elem is uint16_t:
        if prelu_rows_h16(dt, x, <const float*>w, y, o0, o1, C):
            return
    for o in range(o0, o1):
        prelu_row_any(dt, x + o * C, w, y + o * C, C)


cdef inline void next_unit(Py_ssize_t* sg, Py_ssize_t* r, Py_ssize_t* c, Py_ssize_t nseg,
                           Py_ssize_t C) noexcept nogil:
    # from unit (segment sg of run r, channel c) to the next: segments of a run first
    sg[0] += 1
    if sg[0] == nseg:
        sg[0] = 0
        r[0] += 1
        c[0] = c[0] + 1 if c[0] + 1 < C else 0


cdef inline void prelu_units(int dt, const elem* x, const void* w, elem* y, Py_ssize_t u0,
                             Py_ssize_t u1, Py_ssize_t C, Py_ssize_t inner, Py_ssize_t nseg) noexcept nogil:
    # units u0 .. u1-1 (unit u: segment u % nseg of run u // nseg, channel run % C),
    # the position carried from unit to unit: no divisions per unit
    cdef Py_ssize_t u, r, sg, c, lo, hi
    if u0 >= u1:                             # nothing to do (and nseg may be 0: empty x)
        return
    r = u0 // nseg
    sg = u0 % nseg
    c = r % C
    for u in range(u0, u1):
        lo = sg * SEG
        hi = lo + SEG
        if hi > inner:
            hi = inner
        prelu_run_any(dt, x + r * inner + lo, y + r * inner + lo, hi - lo, w, c)
        next_unit(&sg, &r, &c, nseg, C)


cdef void prelu_fwd_t(int dt, const elem* x, const void* w, elem* y, Py_ssize_t outer, Py_ssize_t C,
                      Py_ssize_t inner, int nthreads) noexcept nogil:
    cdef Py_ssize_t o, p, parts, units, nseg
    cdef fpstate fps
    cdef long long t0, tb
    cdef team_work work
    if inner == 1:
        if nthreads <= 1 or outer < 2:
            prelu_rows(dt, x, w, y, 0, outer, C)
        else:
            # each thread a contiguous range of rows
            parts = nthreads if outer >= nthreads else outer
            t0 = now_ns()
            work_init(&work)
            for p in prange(parts, nogil=True, num_threads=nthreads, schedule="static"):
                fps = fp_enter()
                tb = piece_begin()
                prelu_rows(dt, x, w, y, p * outer // parts, (p + 1) * outer // parts, C)
                piece_end(&work, tb)
                fp_leave(fps)
            team_done(t0, &work)
        return
    nseg = (inner + SEG - 1) // SEG
    units = outer * C * nseg
    if nthreads <= 1 or units < 2:
        prelu_units(dt, x, w, y, 0, units, C, inner, nseg)
    else:
        # each thread a contiguous range of units (elementwise: any split gives the same result)
        parts = nthreads if units >= nthreads else units
        t0 = now_ns()
        work_init(&work)
        for p in prange(parts, nogil=True, num_threads=nthreads, schedule="static"):
            fps = fp_enter()
            tb = piece_begin()
            prelu_units(dt, x, w, y, p * units // parts, (p + 1) * units // parts, C, inner, nseg)
            piece_end(&work, tb)
            fp_leave(fps)
        team_done(t0, &work)


cdef enum:
    SUM_LANES = 16      # two AVX-512 vectors of float64: two add chains


cdef inline double prelu_bwd_run(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                                 floating a) noexcept nogil:
    # One channel's run, in one pass: gx = x > 0 ? g : a g, and returns the sum of
    # (x > 0 ? 0 : x g) in float64, element i into lane i % SUM_LANES, the lanes then
    # added in a fixed tree (runs shorter than SUM_LANES: in element order): the same
    # order on every level and thread count.  Every lane index is a constant after
    # unrolling, so the lanes stay in registers.
    cdef double lanes[SUM_LANES]
    cdef double tail[SUM_LANES]
    cdef Py_ssize_t i, j, m = n // SUM_LANES * SUM_LANES
    cdef floating v, gv
    cdef double p, total = 0.0
    if n < SUM_LANES:                        # short runs: in element order
        for i in range(n):
            v = x[i]
            gv = g[i]
            gx[i] = gv if v > 0 else a * gv
            p = <double>v * <double>gv
            total += 0.0 if v > 0 else p
        return total
    for j in range(SUM_LANES):
        lanes[j] = 0.0
        tail[j] = -0.0                       # x + (-0.0) == x for every x, zeros too
    for i in range(0, m, 16):                # 16 = SUM_LANES (a literal step for Cython)
        for j in range(SUM_LANES):
            v = x[i + j]
            gv = g[i + j]
            gx[i + j] = gv if v > 0 else a * gv
            p = <double>v * <double>gv
            lanes[j] += 0.0 if v > 0 else p
    for i in range(m, n):
        v = x[i]
        gv = g[i]
        gx[i] = gv if v > 0 else a * gv
        p = <double>v * <double>gv
        tail[i - m] = 0.0 if v > 0 else p
    for j in range(SUM_LANES):
        lanes[j] += tail[j]
    for j in range(8):                       # the tree: 16 -> 8 -> 4 -> 2 -> 1
        lanes[j] = lanes[j] + lanes[j + 8]
    for j in range(4):
        lanes[j] = lanes[j] + lanes[j + 4]
    for j in range(2):
        lanes[j] = lanes[j] + lanes[j + 2]
    return lanes[0] + lanes[1]


cdef inline void prelu_bwd_row(const floating* g, const floating* x, const floating* w, floating* gx,
                               double* acc, Py_ssize_t C) noexcept nogil:
    # a row of C channels, one pass: gx, and acc[c] += term (vectorised across channels)
    cdef Py_ssize_t c
    cdef floating v, gv
    cdef double p
    for c in range(C):
        v = x[c]
        gv = g[c]
        gx[c] = gv if v > 0 else w[c] * gv
        p = <double>v * <double>gv
        acc[c] += 0.0 if v > 0 else p


cdef inline void prelu_bwd_part(int dt, const elem* g, const elem* x, const void* w, elem* gx,
                                double* acc, Py_ssize_t u0, Py_ssize_t u1, Py_ssize_t C, Py_ssize_t inner,
                                Py_ssize_t nseg) noexcept nogil:
    cdef Py_ssize_t u, c, r, sg, lo, hi, off
    if inner == 1:
        if elem is uint16_t:
            if prelu_bwd_rows_h16(dt, g, x, <const float*>w, gx, acc, u0, u1, C):
                return
        for u in range(u0, u1):
            prelu_bwd_row_any(dt, g + u * C, x + u * C, w, gx + u * C, acc, C)
        return
    if u0 >= u1:                             # nothing to do (and nseg may be 0: empty x)
        return
    r = u0 // nseg                           # position carried from unit to unit
    sg = u0 % nseg
    c = r % C
    for u in range(u0, u1):
        lo = sg * SEG
        hi = lo + SEG
        if hi > inner:
            hi = inner
        off = r * inner + lo
        acc[c] += prelu_bwd_run_any(dt, g + off, x + off, gx + off, hi - lo, w, c)
        next_unit(&sg, &r, &c, nseg, C)


cdef int prelu_bwd_t(int dt, const elem* g, const elem* x, const void* w, elem* gx, double* gw,
                     Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, int nthreads) noexcept nogil:
    cdef Py_ssize_t units, nseg, parts, p, c, stride
    cdef double* partial
    cdef void* block
    cdef fpstate fps
    cdef long long t0, tb
    cdef team_work work
    if inner == 1:
        nseg = 1
        units = outer
    else:
        nseg = (inner + SEG - 1) // SEG
        units = outer * C * nseg
    parts = outer * C * inner // PART_ELEMENTS
    if parts > MAX_PARTS:
        parts = MAX_PARTS
    if parts > units:
        parts = units
    if parts * C > (1 << 22):
        parts = (1 << 22) // C
    if parts < 1:
        parts = 1
    if parts == 1:                           # small x: sum straight into gw
        for c in range(C):
            gw[c] = 0.0
        prelu_bwd_part(dt, g, x, w, gx, gw, 0, units, C, inner, nseg)
        return 0
    # each part's sums in whole cache lines of their own: parts next to each other run
    # on different threads, and a line they shared would bounce between the cores
    stride = (C + 7) // 8 * 8
    block = calloc(parts * stride + 8, sizeof(double))
    if block == NULL:
        return -1
    partial = <double*>((<size_t>block + 63) // 64 * 64)
    if nthreads <= 1:
        for p in range(parts):
            prelu_bwd_part(dt, g, x, w, gx, partial + p * stride, p * units // parts,
                           (p + 1) * units // parts, C, inner, nseg)
    else:
        t0 = now_ns()
        work_init(&work)
        for p in prange(parts, nogil=True, num_threads=nthreads, schedule="dynamic"):
            fps = fp_enter()
            tb = piece_begin()
            prelu_bwd_part(dt, g, x, w, gx, partial + p * stride, p * units // parts,
                           (p + 1) * units // parts, C, inner, nseg)
            piece_end(&work, tb)
            fp_leave(fps)
        team_done(t0, &work)
    for c in range(C):
        gw[c] = 0.0
    for p in range(parts):
        for c in range(C):
            gw[c] += partial[p * stride + c]
    free(block)
    return 0
