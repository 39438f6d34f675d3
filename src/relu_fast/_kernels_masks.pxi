# Included by _kernels_train.pxi: the 1-bit mask of any activation whose gradient takes
# one of two forms (g times one slope, or g times another; 0 counts as one), and the
# gradient from that mask, with the bias of _kernels_bias.pxi fused into both.
#
# The bit is read off the function's own gradient span: d = f'(z) * 1 at z = x + bias,
# bit = (d == f'(r_in) * 1) for a representative input r_in of the "inside" form.  From
# the mask, the gradient span runs on z' = bit ? r_in : r_out, so it computes exactly
# what it computes from z (the same code on an input of the same form; rrelu's random
# slopes follow the element's index, which is kept).  Where both forms give the same d
# the bit does not matter.  The pieces split at multiples of MK_BLOCK elements, so a
# mask byte is never written by two threads.

cdef enum:
    MK_BLOCK = 512          # elements per block (a multiple of 64: cache lines of every dtype)


cdef inline void mk_pack(const floating* d, floating din, uint8_t* m, Py_ssize_t k) noexcept nogil:
    # bits of d[j] == din, j < k, packed 8 per byte (the last byte's unused bits 0)
    cdef uint8_t f[MK_BLOCK]
    cdef Py_ssize_t j
    for j in range(k):
        f[j] = d[j] == din
    for j in range(k, (k + 7) // 8 * 8):
        f[j] = 0
    for j in range((k + 7) // 8):
        m[j] = tr_pack8(f + 8 * j)


cdef inline void mk_unpack(const uint8_t* m, floating rin, floating rout, floating* z,
                           Py_ssize_t k) noexcept nogil:
    # z[j] = bit j ? rin : rout, for j < k rounded up to whole bytes, as bit patterns
    # and'ed with all-ones/all-zeros words from the byte's table row: no branch (a
    # branch on random bits mispredicted every other element, 7x slower)
    cdef Py_ssize_t b, j
    cdef uint32_t ri32, ro32
    cdef uint64_t ri64, ro64
    cdef const uint32_t* w32
    cdef const uint64_t* w64
    cdef uint32_t* z32 = <uint32_t*>z
    cdef uint64_t* z64 = <uint64_t*>z
    if floating is float:
        memcpy(&ri32, &rin, 4)
        memcpy(&ro32, &rout, 4)
        for b in range((k + 7) // 8):
            w32 = tr_lut32[m[b]]
            for j in range(8):
                z32[8 * b + j] = (ri32 & w32[j]) | (ro32 & ~w32[j])
    else:
        memcpy(&ri64, &rin, 8)
        memcpy(&ro64, &rout, 8)
        for b in range((k + 7) // 8):
            w64 = tr_lut64[m[b]]
            for j in range(8):
                z64[8 * b + j] = (ri64 & w64[j]) | (ro64 & ~w64[j])


cdef extern from "_stream.h":
    ctypedef struct rf_bits:
        uint8_t* m
        uint32_t acc
        int nb
    void bits_flush "relu_fast_bits_flush"(rf_bits* st) noexcept nogil
    bint relu_bwd_bits_f32 "relu_fast_relu_bwd_bits_f32"(const float* g, const uint8_t* m, float* o,
                                                        size_t k) noexcept nogil
    bint relu_bwd_bits_f64 "relu_fast_relu_bwd_bits_f64"(const double* g, const uint8_t* m, double* o,
                                                        size_t k) noexcept nogil
    bint relu_mask_stream_f32 "relu_fast_relu_mask_stream_f32"(
        const float* x, const float* b, size_t C, size_t c0, size_t inner, size_t pos0, float* y, rf_bits* st, size_t n) noexcept nogil
    bint relu_mask_store_f32 "relu_fast_relu_mask_store_f32"(
        const float* x, const float* b, size_t C, size_t c0, size_t inner, size_t pos0, float* y, rf_bits* st, size_t n) noexcept nogil
    bint relu_mask_stream_f64 "relu_fast_relu_mask_stream_f64"(
        const double* x, const double* b, size_t C, size_t c0, size_t inner, size_t pos0, double* y, rf_bits* st,
        size_t n) noexcept nogil
    bint relu_mask_store_f64 "relu_fast_relu_mask_store_f64"(
        const double* x, const double* b, size_t C, size_t c0, size_t inner, size_t pos0, double* y, rf_bits* st,
        size_t n) noexcept nogil
    bint leaky_bwd_bits_f32 "relu_fast_leaky_bwd_bits_f32"(const float* g, const uint8_t* m, float* o,
                                                          size_t k, float s) noexcept nogil
    bint leaky_bwd_bits_f64 "relu_fast_leaky_bwd_bits_f64"(const double* g, const uint8_t* m, double* o,
                                                          size_t k, double s) noexcept nogil
    bint leaky_mask_stream_f32 "relu_fast_leaky_mask_stream_f32"(
        const float* x, const float* b, size_t C, size_t c0, size_t inner, size_t pos0, float* y, rf_bits* st, size_t n,
        float s) noexcept nogil
    bint leaky_mask_store_f32 "relu_fast_leaky_mask_store_f32"(
        const float* x, const float* b, size_t C, size_t c0, size_t inner, size_t pos0, float* y, rf_bits* st, size_t n,
        float s) noexcept nogil
    bint leaky_mask_stream_f64 "relu_fast_leaky_mask_stream_f64"(
        const double* x, const double* b, size_t C, size_t c0, size_t inner, size_t pos0, double* y, rf_bits* st,
        size_t n, double s) noexcept nogil
    bint leaky_mask_store_f64 "relu_fast_leaky_mask_store_f64"(
        const double* x, const double* b, size_t C, size_t c0, size_t inner, size_t pos0, double* y, rf_bits* st,
        size_t n, double s) noexcept nogil


cdef inline bint mask_piece(bint leaky, floating s, const floating* x, const floating* b, size_t C,
                            size_t c0, size_t inner, size_t pos0, floating* y, rf_bits* st,
                            Py_ssize_t n, bint stream) noexcept nogil:
    if leaky:
        if floating is float:
            return (leaky_mask_stream_f32(x, b, C, c0, inner, pos0, y, st, n, s) if stream
                    else leaky_mask_store_f32(x, b, C, c0, inner, pos0, y, st, n, s))
        else:
            return (leaky_mask_stream_f64(x, b, C, c0, inner, pos0, y, st, n, s) if stream
                    else leaky_mask_store_f64(x, b, C, c0, inner, pos0, y, st, n, s))
    if floating is float:
        return (relu_mask_stream_f32(x, b, C, c0, inner, pos0, y, st, n) if stream
                else relu_mask_store_f32(x, b, C, c0, inner, pos0, y, st, n))
    else:
        return (relu_mask_stream_f64(x, b, C, c0, inner, pos0, y, st, n) if stream
                else relu_mask_store_f64(x, b, C, c0, inner, pos0, y, st, n))


cdef inline bint mask_registers(bint leaky, floating s, const floating* x, const floating* b,
                                floating* y, uint8_t* m, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t C,
                                Py_ssize_t inner, bint stream) noexcept nogil:
    # relu (or leaky_relu with slope s) and its mask over elements lo .. hi-1 (lo a
    # multiple of 8) in one pass from the registers (_stream.h), the bias as in
    # bias_registers; False (nothing written) where there is no such kernel or the
    # rows/runs are too short for it
    cdef rf_bits st
    cdef floating* bext
    cdef bint done
    st.m = m + lo // 8
    st.acc = 0
    st.nb = 0
    if not BIAS_REGISTERS:
        return False
    if b == NULL:
        done = mask_piece(leaky, s, x + lo, b, 0, 0, 0, 0, y + lo, &st, hi - lo, stream)
    elif (C if inner == 1 else inner) < BIAS_RUN_MIN:
        return False
    elif inner == 1:
        bext = rows_bias(b, C)
        if bext == NULL:
            return False
        done = mask_piece(leaky, s, x + lo, bext, C, lo % C, 0, 0, y + lo, &st, hi - lo, stream)
        free(bext)
    else:                                    # channel runs, as one stream
        done = mask_piece(leaky, s, x + lo, b, C, (lo // inner) % C, inner, lo % inner, y + lo, &st,
                          hi - lo, stream)
    if done:
        bits_flush(&st)
    return done


cdef void mask_unary_piece(int op, int bop, int dt, const elem* x, const void* b, elem* y,
                           uint8_t* m, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t C,
                           Py_ssize_t inner, const double* p, double rep_in,
                           bint stream) noexcept nogil:
    # elements lo .. hi-1 of the call (x, y, m point at element 0; lo a multiple of 8)
    cdef elem zmem[MK_BLOCK + PAGE_SLACK]
    cdef elem ones[MK_BLOCK]
    cdef elem dmem[MK_BLOCK]
    cdef elem* z
    cdef elem din, rin
    cdef float a[MK_BLOCK]
    cdef float onef[MK_BLOCK]
    cdef float df[MK_BLOCK]
    cdef float dinf, rinf
    cdef uint16_t s[MK_BLOCK]
    cdef Py_ssize_t i = lo, k, j
    if elem is not uint16_t:                 # relu (bit: z > 0 or NaN), leaky (z > 0): one pass
        if ((op == OP_RELU and bop == OP_RELU_BWD and rep_in > 0
                and mask_registers(False, 0, x, <const elem*>b, y, m, lo, hi, C, inner, stream))
                or (op == OP_LEAKY and bop == OP_LEAKY_BWD and rep_in > 0 and <elem>p[0] != 1
                    and mask_registers(True, <elem>p[0], x, <const elem*>b, y, m, lo, hi, C, inner,
                                       stream))):
            if stream:
                store_fence()
            return
    if elem is uint16_t:
        for j in range(MK_BLOCK):
            onef[j] = 1.0
        rinf = <float>rep_in
        binary_span(bop, onef, &rinf, &dinf, 1, p, 0)
    else:
        for j in range(MK_BLOCK):
            ones[j] = 1.0
        rin = <elem>rep_in
        binary_span(bop, ones, &rin, &din, 1, p, 0)
    while i < hi:
        k = hi - i if hi - i < MK_BLOCK else MK_BLOCK
        if elem is uint16_t:
            h_load(dt, x + i, a, k)
            if b != NULL:
                add_bias(a, <const float*>b, a, i, k, C, inner)
                h_round(dt, a, s, k)
            binary_span(bop, onef, a, df, k, p, i)
            mk_pack(df, dinf, m + i // 8, k)
            unary_span(op, a, a, k, p, i)
            if stream:
                h_store(dt, a, s, k)
                stream_copy(y + i, s, k * 2)
            else:
                h_store(dt, a, y + i, k)
        else:
            if b != NULL or stream:
                z = skewed(zmem, x + i)
            if b != NULL:
                add_bias(x + i, <const elem*>b, z, i, k, C, inner)
                binary_span(bop, ones, z, dmem, k, p, i)
                mk_pack(dmem, din, m + i // 8, k)
                unary_span(op, z, z if stream else y + i, k, p, i)
            else:                            # the bits before y (it may be x) is written
                binary_span(bop, ones, x + i, dmem, k, p, i)
                mk_pack(dmem, din, m + i // 8, k)
                unary_span(op, x + i, z if stream else y + i, k, p, i)
            if stream:
                stream_copy(y + i, z, k * sizeof(elem))
        i += k
    if stream:
        store_fence()


cdef void mask_binary_piece(int bop, int dt, const elem* g, const uint8_t* m, elem* gx,
                            double* acc, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t C,
                            Py_ssize_t inner, const double* p, double rep_in, double rep_out,
                            bint stream) noexcept nogil:
    # acc NULL: no sums
    cdef elem zmem[MK_BLOCK]
    cdef elem omem[MK_BLOCK + PAGE_SLACK]
    cdef elem* o
    cdef float a[MK_BLOCK]
    cdef float zf[MK_BLOCK]
    cdef float r[MK_BLOCK]
    cdef uint16_t s[MK_BLOCK]
    cdef Py_ssize_t i = lo, k
    cdef bint done
    # from the bits in registers: bit ? g : +0 where the gradient at the representatives
    # is 1 and +0 (relu's, hardtanh's, relu6's, threshold's), leaky's bit ? g : slope g
    cdef elem one = 1, zin, zout, din = 0, dout = 1
    cdef bint zero_bits = False
    cdef bint slope_bits = BIAS_REGISTERS and bop == OP_LEAKY_BWD and rep_in > 0 and rep_out <= 0
    if elem is not uint16_t:
        zin = <elem>rep_in
        zout = <elem>rep_out
        if BIAS_REGISTERS and (bop == OP_RELU_BWD or bop == OP_HARDTANH_BWD or bop == OP_THRESHOLD_BWD):
            binary_span(bop, &one, &zin, &din, 1, p, 0)
            binary_span(bop, &one, &zout, &dout, 1, p, 0)
            zero_bits = din == 1 and dout == 0 and copysign(1, dout) > 0
    while i < hi:
        k = hi - i if hi - i < MK_BLOCK else MK_BLOCK
        if elem is uint16_t:
            h_load(dt, g + i, a, k)
            mk_unpack(m + i // 8, <float>rep_in, <float>rep_out, zf, k)
            binary_span(bop, a, zf, r, k, p, i)
            if stream:
                h_store(dt, r, s, k)
                stream_copy(gx + i, s, k * 2)
            else:
                h_store(dt, r, gx + i, k)
            if acc != NULL:                  # the sums are of the values stored
                h_round(dt, r, s, k)
                sum_bias(r, acc, i, k, C, inner)
        else:
            o = placed(omem, g + i, gx + i, g + i) if stream else gx + i
            done = False
            if zero_bits:
                if elem is float:
                    done = relu_bwd_bits_f32(g + i, m + i // 8, o, k)
                else:
                    done = relu_bwd_bits_f64(g + i, m + i // 8, o, k)
            elif slope_bits:
                if elem is float:
                    done = leaky_bwd_bits_f32(g + i, m + i // 8, o, k, <float>p[0])
                else:
                    done = leaky_bwd_bits_f64(g + i, m + i // 8, o, k, p[0])
            if not done:
                mk_unpack(m + i // 8, <elem>rep_in, <elem>rep_out, zmem, k)
                binary_span(bop, g + i, zmem, o, k, p, i)
            if acc != NULL:
                sum_bias(o, acc, i, k, C, inner)
            if stream:
                stream_copy(gx + i, o, k * sizeof(elem))
        i += k
    if stream:
        store_fence()


cdef inline Py_ssize_t mk_chunk(Py_ssize_t n, int nthreads) noexcept nogil:
    cdef Py_ssize_t c = (n + nthreads - 1) // nthreads
    return (c + MK_BLOCK - 1) // MK_BLOCK * MK_BLOCK


cdef void mask_unary_t(int op, int bop, int dt, const elem* x, const void* b, elem* y, uint8_t* m,
                       Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, const double* p,
                       double rep_in, int nthreads) noexcept nogil:
    cdef Py_ssize_t n = outer * C * inner, k, lo, hi, chunk, nchunks
    cdef fpstate fps
    cdef long long t0, tb
    cdef team_work work
    cdef bint stream = (<const elem*>y != x and n * <Py_ssize_t>sizeof(elem) >= STREAM_BYTES)
    if nthreads <= 1 or n <= 2 * MK_BLOCK:
        mask_unary_piece(op, bop, dt, x, b, y, m, 0, n, C, inner, p, rep_in, stream)
        return
    chunk = mk_chunk(n, nthreads)
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
        mask_unary_piece(op, bop, dt, x, b, y, m, lo, hi, C, inner, p, rep_in, stream)
        piece_end(&work, tb)
        fp_leave(fps)
    team_done(t0, &work)


cdef int mask_binary_t(int bop, int dt, const elem* g, const uint8_t* m, elem* gx, double* gb,
                       Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, const double* p,
                       double rep_in, double rep_out, int nthreads) noexcept nogil:
    cdef Py_ssize_t n = outer * C * inner, k, lo, hi, chunk, nchunks, parts, q, c, stride
    cdef double* partial
    cdef void* block
    cdef fpstate fps
    cdef long long t0, tb
    cdef team_work work
    cdef bint stream = (<const elem*>gx != g and n * <Py_ssize_t>sizeof(elem) >= STREAM_BYTES)
    if gb == NULL:                           # elementwise: any split on whole blocks
        if nthreads <= 1 or n <= 2 * MK_BLOCK:
            mask_binary_piece(bop, dt, g, m, gx, NULL, 0, n, C, inner, p, rep_in, rep_out, stream)
            return 0
        chunk = mk_chunk(n, nthreads)
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
            mask_binary_piece(bop, dt, g, m, gx, NULL, lo, hi, C, inner, p, rep_in, rep_out,
                              stream)
            piece_end(&work, tb)
            fp_leave(fps)
        team_done(t0, &work)
        return 0
    # the sums: the same parts as bias_binary_t's (their bounds are multiples of 64)
    for c in range(C):
        gb[c] = 0.0
    parts = n // PART_ELEMENTS
    if parts > MAX_PARTS:
        parts = MAX_PARTS
    if parts * C > (1 << 22):
        parts = (1 << 22) // C
    if parts <= 1:
        mask_binary_piece(bop, dt, g, m, gx, gb, 0, n, C, inner, p, rep_in, rep_out, stream)
        return 0
    stride = (C + 7) // 8 * 8
    block = calloc(parts * stride + 8, sizeof(double))
    if block == NULL:
        return -1
    partial = <double*>((<size_t>block + 63) // 64 * 64)
    if nthreads <= 1:
        for q in range(parts):
            mask_binary_piece(bop, dt, g, m, gx, partial + q * stride, part_bound(q, parts, n),
                              part_bound(q + 1, parts, n), C, inner, p, rep_in, rep_out, stream)
    else:
        t0 = now_ns()
        work_init(&work)
        for q in prange(parts, nogil=True, num_threads=nthreads, schedule="dynamic"):
            fps = fp_enter()
            tb = piece_begin()
            mask_binary_piece(bop, dt, g, m, gx, partial + q * stride, part_bound(q, parts, n),
                              part_bound(q + 1, parts, n), C, inner, p, rep_in, rep_out, stream)
            piece_end(&work, tb)
            fp_leave(fps)
        team_done(t0, &work)
    for q in range(parts):
        for c in range(C):
            gb[c] += partial[q * stride + c]
    free(block)
    return 0


cdef void mask_unary(int op, int bop, int dtype, const void* x, const void* b, void* y,
                     uint8_t* m, Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner,
                     const double* p, double rep_in, int nthreads) noexcept nogil:
    if dtype == DT_F32:
        mask_unary_t(op, bop, dtype, <const float*>x, b, <float*>y, m, outer, C, inner, p,
                     rep_in, nthreads)
    elif dtype == DT_F64:
        mask_unary_t(op, bop, dtype, <const double*>x, b, <double*>y, m, outer, C, inner, p,
                     rep_in, nthreads)
    else:
        mask_unary_t(op, bop, dtype, <const uint16_t*>x, b, <uint16_t*>y, m, outer, C, inner, p,
                     rep_in, nthreads)


cdef int mask_binary(int bop, int dtype, const void* g, const uint8_t* m, void* gx, double* gb,
                     Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, const double* p,
                     double rep_in, double rep_out, int nthreads) noexcept nogil:
    if dtype == DT_F32:
        return mask_binary_t(bop, dtype, <const float*>g, m, <float*>gx, gb, outer, C, inner, p,
                             rep_in, rep_out, nthreads)
    elif dtype == DT_F64:
        return mask_binary_t(bop, dtype, <const double*>g, m, <double*>gx, gb, outer, C, inner, p,
                             rep_in, rep_out, nthreads)
    return mask_binary_t(bop, dtype, <const uint16_t*>g, m, <uint16_t*>gx, gb, outer, C, inner, p,
                         rep_in, rep_out, nthreads)
