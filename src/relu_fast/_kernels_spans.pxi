# Included by _kernels.pxi: the math of each elementwise function over one contiguous run.

# ---------------------------------------------------------------------------
# Spans: the math of each function over one contiguous run.
# ---------------------------------------------------------------------------

# The piecewise-linear functions are written per element, f(x, a, b) and f(g, x, a, b)
# with their parameters a and b: the spans below loop over them, and the 16-bit
# types compute the same functions in registers between their loads and stores
# (_kernels_half.pxi).

cdef inline floating relu_e(floating v, floating a, floating b) noexcept nogil:
    # x < 0 ? 0 : x  -- a single max instruction (keeps NaN; -0.0 stays -0.0)
    return 0 if v < 0 else v


cdef inline floating leaky_e(floating v, floating slope, floating b) noexcept nogil:
    # x > 0 ? x : slope * x
    return v if v > 0 else slope * v


cdef inline floating hardtanh_e(floating v, floating lo, floating hi) noexcept nogil:
    # x < lo ? lo : (x > hi ? hi : x)  (keeps NaN, and -0.0 inside the range)
    return lo if v < lo else (hi if v > hi else v)


cdef inline floating threshold_e(floating v, floating th, floating value) noexcept nogil:
    # x <= th ? value : x  (PyTorch's test: NaN fails it and stays NaN)
    return value if v <= th else v


cdef inline floating relu6_of_shift(floating v) noexcept nogil:
    # min(max(x + 3, 0), 6), as PyTorch's hardsigmoid/hardswish kernels (NaN stays NaN;
    # x = -3 gives +0).  The constants are cast: Cython writes a bare 3 as the double
    # 3.0, which would do float32 arithmetic in float64 and round differently.
    cdef floating c = v + <floating>3
    c = 0 if c < 0 else c
    return <floating>6 if c > 6 else c


cdef inline floating hardsigmoid_e(floating v, floating a, floating b) noexcept nogil:
    # min(max(x + 3, 0), 6) / 6: PyTorch's order of operations, so the same bits
    # (x / 6 + 0.5 differs in the last bit for some x)
    return relu6_of_shift(v) / <floating>6


cdef inline floating hardswish_e(floating v, floating a, floating b) noexcept nogil:
    # (x * min(max(x + 3, 0), 6)) / 6 in PyTorch's order.  Where the clip is 0 (x <= -3)
    # the product is -0 for every finite x, so -inf gets that limit too instead of
    # -inf * 0 = NaN.
    cdef floating c = relu6_of_shift(v)
    cdef floating nz = 0
    nz = -nz
    return nz if c == 0 else (v * c) / <floating>6


cdef inline floating relu_bwd_e(floating gv, floating v, floating a, floating b) noexcept nogil:
    # x <= 0 ? 0 : g  (NaN in x passes the gradient)
    return 0 if v <= 0 else gv


cdef inline floating leaky_bwd_e(floating gv, floating v, floating slope, floating b) noexcept nogil:
    # x > 0 ? g : slope * g
    return gv if v > 0 else slope * gv


cdef inline floating hardtanh_bwd_e(floating gv, floating v, floating lo, floating hi) noexcept nogil:
    # lo < x < hi ? g : 0  (0 at the ends and for NaN x, as PyTorch)
    return gv if (v > lo) & (v < hi) else 0


cdef inline floating threshold_bwd_e(floating gv, floating v, floating th, floating b) noexcept nogil:
    # x <= th ? 0 : g  (NaN x passes the gradient, as PyTorch and relu_backward)
    return 0 if v <= th else gv


cdef inline floating hardsigmoid_bwd_e(floating gv, floating v, floating lo, floating hi) noexcept nogil:
    # lo < x < hi ? g * (1/6) : 0 (lo, hi: -3, 3 on x, 0, 1 on the output), 1/6 rounded
    # to x's dtype: PyTorch's arithmetic in float32; its float64 kernel multiplies by
    # float32's 1/6, relu_fast by float64's (docs/semantics.rst).
    return gv * <floating>(1.0 / 6.0) if (v > lo) & (v < hi) else 0


cdef inline floating hardswish_bwd_e(floating gv, floating v, floating a, floating b) noexcept nogil:
    # x <= -3 ? 0 : (x >= 3 ? g : g * (x / 3 + 0.5)): PyTorch's ends (0 at -3, g at 3)
    # and arithmetic, each step rounded to x's dtype (typed constants: see
    # relu6_of_shift); NaN x gives NaN (the middle piece), as PyTorch's vector loop
    cdef floating three = 3, half = 0.5
    return 0 if v <= -three else (gv if v >= three else gv * (v / three + half))


cdef inline void relu_span(const floating* x, floating* y, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        y[i] = relu_e(x[i], 0, 0)


cdef inline void leaky_span(const floating* x, floating* y, Py_ssize_t n, floating slope) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        y[i] = leaky_e(x[i], slope, 0)


cdef inline void elu_span(const floating* x, floating* y, Py_ssize_t n, double alpha) noexcept nogil:
    # y = x > 0 ? x : alpha * expm1(x), expm1 evaluated for every lane (in x's
    # dtype), the product with alpha in float64
    cdef Py_ssize_t i
    cdef floating v
    cdef double t, e
    cdef float tf
    if fma_alpha_ok(alpha):
        elu_fma_span(x, y, n, alpha)
        return
    for i in range(n):
        v = x[i]
        if floating is float:
            tf = 0 if v > 0 else v          # NaN stays NaN
            tf = EXPM1_FLOOR_F if tf < EXPM1_FLOOR_F else tf
            e = alpha * expm1_neg_f(tf)     # every lane: the select below has no call
            y[i] = v if v > 0 else <float>e
        else:
            t = 0.0 if v > 0 else v
            t = EXPM1_FLOOR if t < EXPM1_FLOOR else t
            e = alpha * expm1_neg(t, 13)
            y[i] = v if v > 0 else e


cdef inline void hardtanh_span(const floating* x, floating* y, Py_ssize_t n, floating lo,
                               floating hi) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        y[i] = hardtanh_e(x[i], lo, hi)


cdef inline void threshold_span(const floating* x, floating* y, Py_ssize_t n, floating th,
                                floating value) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        y[i] = threshold_e(x[i], th, value)


cdef inline void hardsigmoid_span(const floating* x, floating* y, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        y[i] = hardsigmoid_e(x[i], 0, 0)


cdef inline void hardswish_span(const floating* x, floating* y, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        y[i] = hardswish_e(x[i], 0, 0)


cdef enum:
    LANE_BLOCK = 256        # float32 lanes: results into L1 first, the rare rest fixed there
                            # (x is read twice before y is written: in place stays right)


cdef inline void softplus_span(const floating* x, floating* y, Py_ssize_t n, double beta,
                               double threshold) noexcept nogil:
    # y = beta x > threshold ? x : log(1 + e^(beta x)) / beta, PyTorch's test in x's dtype
    # (beta and threshold rounded to it); the rest in float64 (softplus_wide), beta x
    # exact there (float32: the product of two floats; float64: with its Dekker low part)
    cdef Py_ssize_t i, lo0, k
    cdef floating v, t
    cdef floating bf = <floating>beta, thf = <floating>threshold
    cdef double bd = <double>bf, td, lo
    cdef double ibd = 1.0 / bd
    cdef float buf[LANE_BLOCK]
    if floating is float:
        if not (2.0 ** -100 <= bd <= 2.0 ** 100):    # (softplus_f32's range needs such a beta)
            for i in range(n):
                v = x[i]
                t = v * bf
                y[i] = v if t > thf else <float>softplus_wide(<double>v * bd, 0.0, bd)
            return
        lo0 = 0
        while lo0 < n:
            k = n - lo0 if n - lo0 < LANE_BLOCK else LANE_BLOCK
            for i in range(k):                 # the float32 lane (vectorised)
                v = x[lo0 + i]
                t = v * bf
                buf[i] = v if t > thf else <float>softplus_f32(<double>v * bd, ibd)
            for i in range(k):                 # the rare rest: the pair lane
                v = x[lo0 + i]
                td = <double>v * bd
                if not (fabs(td) <= F32_LANE_MAX) and not (v * bf > thf):
                    buf[i] = <float>softplus_wide(td, 0.0, bd)
            for i in range(k):
                y[lo0 + i] = buf[i]
            lo0 += k
        return
    for i in range(n):
        v = x[i]
        t = v * bf
        lo = two_prod_lo(v, bd, t)
        y[i] = v if t > thf else softplus_wide(t, lo, bd)


cdef inline void mish_span(const floating* x, floating* y, Py_ssize_t n) noexcept nogil:
    # y = x tanh(softplus(x)) in float64 (mish_wide; float32: mish_f32 where it holds),
    # rounded once
    cdef Py_ssize_t i, lo0, k
    cdef double v
    cdef float buf[LANE_BLOCK]
    if floating is double:
        for i in range(n):
            y[i] = mish_wide(x[i])
        return
    lo0 = 0
    while lo0 < n:
        k = n - lo0 if n - lo0 < LANE_BLOCK else LANE_BLOCK
        for i in range(k):
            buf[i] = <float>mish_f32(<double>x[lo0 + i])
        for i in range(k):
            v = x[lo0 + i]
            if not (fabs(v) <= F32_LANE_MAX):
                buf[i] = <float>mish_wide(v)
        for i in range(k):
            y[lo0 + i] = buf[i]
        lo0 += k
cdef inline void gelu_span(const floating* x, floating* y, Py_ssize_t n, bint tanh_form) noexcept nogil:
    # y = x Phi(x) (or the tanh form), in float64 for both dtypes, rounded once
    # (gelu_erf_lane / gelu_tanh_lane in _kernels_math.pxi; float32: their _f32 lanes)
    cdef Py_ssize_t i, lo0, k
    cdef double v
    cdef float buf[LANE_BLOCK]
    if tanh_form:
        for i in range(n):
            if floating is float:
                y[i] = <float>gelu_tanh_f32(<double>x[i])
            else:
                y[i] = gelu_tanh_lane(x[i])
    elif floating is double:
        for i in range(n):
            y[i] = gelu_erf_lane(x[i])
    else:                                      # float32: gelu_f32 where it holds
        lo0 = 0
        while lo0 < n:
            k = n - lo0 if n - lo0 < LANE_BLOCK else LANE_BLOCK
            for i in range(k):
                buf[i] = <float>gelu_f32(<double>x[lo0 + i])
            for i in range(k):
                v = x[lo0 + i]
                if not (fabs(v) <= GELU_F32_MAX):
                    buf[i] = <float>gelu_erf_lane(v)
            for i in range(k):
                y[lo0 + i] = buf[i]
            lo0 += k


cdef inline void gelu_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                               bint tanh_form) noexcept nogil:
    # gx = g * gelu'(x), the derivative and the product in float64 (g joining a
    # subnormal derivative before its last scaling), rounded once
    cdef Py_ssize_t i, lo0, k
    cdef double v, gv
    cdef float buf[LANE_BLOCK]
    if tanh_form:
        for i in range(n):
            if floating is float:
                gx[i] = <float>gelu_tanh_bwd_f32(<double>g[i], <double>x[i])
            else:
                gx[i] = gelu_tanh_bwd_lane(g[i], x[i])
    elif floating is double:
        for i in range(n):
            gx[i] = gelu_erf_bwd_lane(g[i], x[i])
    else:                                      # float32: gelu_bwd_f32 where it holds
        lo0 = 0
        while lo0 < n:
            k = n - lo0 if n - lo0 < LANE_BLOCK else LANE_BLOCK
            for i in range(k):
                buf[i] = <float>gelu_bwd_f32(<double>g[lo0 + i], <double>x[lo0 + i])
            for i in range(k):
                v = x[lo0 + i]
                gv = g[lo0 + i]
                if not ((fabs(v) <= GELU_F32_MAX) & (fabs(gv) < INFINITY)):
                    buf[i] = <float>gelu_erf_bwd_lane(gv, v)
            for i in range(k):
                gx[lo0 + i] = buf[i]
            lo0 += k


cdef inline void relu_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        gx[i] = relu_bwd_e(g[i], x[i], 0, 0)


cdef inline void leaky_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                                floating slope) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        gx[i] = leaky_bwd_e(g[i], x[i], slope, 0)


cdef inline void hardtanh_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                                   floating lo, floating hi) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        gx[i] = hardtanh_bwd_e(g[i], x[i], lo, hi)


cdef inline void threshold_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                                    floating th) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        gx[i] = threshold_bwd_e(g[i], x[i], th, 0)


cdef inline void hardsigmoid_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                                      bint from_result) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating lo, hi
    lo, hi = (0, 1) if from_result else (-3, 3)
    for i in range(n):
        gx[i] = hardsigmoid_bwd_e(g[i], x[i], lo, hi)


cdef inline void hardswish_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        gx[i] = hardswish_bwd_e(g[i], x[i], 0, 0)


cdef inline floating elu_bwd_wide_lane(floating gv, floating v, double alpha) noexcept nogil:
    # x > 0 ? g : g * (alpha * exp(x)), evaluated in float64 (exp over float64's
    # whole range: a large g can bring a tiny exp(x) back)
    cdef double t, e
    t = 0.0 if v > 0 else <double>v          # NaN stays NaN
    t = EXP_FLOOR if t < EXP_FLOOR else t
    if floating is float:
        e = galpha_exp_neg(t, gv, alpha, 8)
    else:
        e = galpha_exp_neg(t, gv, alpha, 13)
    return gv if v > 0 else <floating>e


cdef inline floating elu_bwd_fma_lane(floating gv, floating v, floating af, floating alo,
                                      bint unit) noexcept nogil:
    # gv * alpha * exp(v) for v in [EXP_FAST_FLOOR, 0] or NaN (else gv for v > 0):
    # alpha (1 + s) as an exact pair Th + Tl, then fma(g, Th, g Tl), one rounding.
    # Lanes with v below the floor or |g| > gmax go to the wide path instead.
    cdef floating t, s, slo, scale, P, Plo, Th, Tl, y, e
    t = 0 if v > 0 else v                    # NaN stays NaN (and so does the result)
    if floating is float:
        t = EXP_FAST_FLOOR_F if v < EXP_FAST_FLOOR_F else t
    else:
        t = EXP_FAST_FLOOR if v < EXP_FAST_FLOOR else t
    s = expm1_reduced_fma(t, &scale, &slo)   # exp(t) = scale (1 + s)
    if unit:
        y = fmadd(gv, s, gv)                 # g (1 + s), one rounding
    else:
        P = af * s
        Plo = fmadd(af, s, -P)               # af s = P + Plo exactly
        Th = af + P
        Tl = (((af - Th) + P) + fmadd(alo, s, alo)) + Plo
        y = fmadd(gv, Th, gv * Tl)
    e = y * scale                            # exact unless the result is subnormal
    # the sign is sign(g) sign(alpha), zeros included (fma(-0, s, -0) would be +0)
    if floating is float:
        e = copysignf(e, gv if unit else gv * af)
    else:
        e = copysign(e, gv if unit else gv * af)
    return gv if v > 0 else e


cdef inline bint elu_bwd_slow_lane(floating gv, floating v, floating floor, floating gmax) noexcept nogil:
    # x below the floor, |g| > gmax, or g NaN: the FMA lane would be wrong
    return (v < floor) | (not (fabs(gv) <= gmax))


cdef inline void elu_bwd_fma_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                                  double alpha) noexcept nogil:
    # Blocks of FMA_BLOCK lanes.  Out of place, a block is computed and screened in
    # one pass, then its slow lanes are redone on the wide path; in place (gx is x
    # or g) it is screened first.  Each lane's result depends on that lane only.
    cdef Py_ssize_t lo, hi, i
    cdef floating v, gv, fast, wide, af, alo, gmax, floor
    cdef int bad
    cdef bint unit = alpha == 1.0
    cdef bint inplace = <const floating*>gx == x or <const floating*>gx == g
    af = <floating>alpha
    alo = <floating>(alpha - <double>af)
    if floating is float:
        floor = EXP_FAST_FLOOR_F
        gmax = <float>(2.0 ** 126 / (fabs(alpha) if fabs(alpha) > 1 else 1.0))
    else:
        floor = EXP_FAST_FLOOR
        gmax = 2.0 ** 1022 / (fabs(alpha) if fabs(alpha) > 1 else 1.0)
    lo = 0
    while lo < n:
        hi = lo + FMA_BLOCK if n - lo > FMA_BLOCK else n
        bad = 0
        if inplace:
            for i in range(lo, hi):
                bad = bad | elu_bwd_slow_lane(g[i], x[i], floor, gmax)
            if bad:
                for i in range(lo, hi):
                    v = x[i]
                    gv = g[i]
                    fast = elu_bwd_fma_lane(gv, v, af, alo, unit)
                    wide = elu_bwd_wide_lane(gv, v, alpha)
                    gx[i] = wide if elu_bwd_slow_lane(gv, v, floor, gmax) else fast
                lo = hi
                continue
        if unit:
            for i in range(lo, hi):
                v = x[i]
                gv = g[i]
                gx[i] = elu_bwd_fma_lane(gv, v, af, alo, True)
                bad = bad | elu_bwd_slow_lane(gv, v, floor, gmax)
        else:
            for i in range(lo, hi):
                v = x[i]
                gv = g[i]
                gx[i] = elu_bwd_fma_lane(gv, v, af, alo, False)
                bad = bad | elu_bwd_slow_lane(gv, v, floor, gmax)
        if bad and not inplace:
            for i in range(lo, hi):
                if elu_bwd_slow_lane(g[i], x[i], floor, gmax):
                    gx[i] = elu_bwd_wide_lane(g[i], x[i], alpha)
        lo = hi


cdef inline void elu_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                              double alpha) noexcept nogil:
    # gx = x > 0 ? g : g * alpha * exp(x)
    cdef Py_ssize_t i
    if fma_alpha_ok(alpha):
        elu_bwd_fma_span(g, x, gx, n, alpha)
        return
    for i in range(n):
        gx[i] = elu_bwd_wide_lane(g[i], x[i], alpha)


cdef inline void elu_bwd_result_span(const floating* g, const floating* y, floating* gx, Py_ssize_t n,
                                     double alpha) noexcept nogil:
    # from the output y = elu(x): gx = y > 0 ? g : g * (y + alpha), evaluated in float64
    cdef Py_ssize_t i
    cdef floating v
    cdef floating gv
    for i in range(n):
        v = y[i]
        gv = g[i]
        gx[i] = gv if v > 0 else <floating>(<double>gv * (<double>v + alpha))


# SELU's constants (Klambauer et al.), and scale * alpha, as float64 pairs hi + lo
cdef double SELU_SCALE = 1.0507009873554805
cdef double SELU_SCALE_LO = 3.9874847667154144e-17
cdef double SELU_NEG = 1.7580993408473768           # scale * alpha
cdef double SELU_NEG_LO = 1.41535193800845e-17


cdef inline floating selu_pos(floating v) noexcept nogil:
    # scale * x: float32 from the float64 product; float64 with scale as a pair (FMA)
    if floating is float:
        return <float>(<double>v * SELU_SCALE)
    elif HAS_FMA:
        return fma(v, SELU_SCALE, v * SELU_SCALE_LO)
    else:
        return v * SELU_SCALE


cdef inline void selu_span(const floating* x, floating* y, Py_ssize_t n) noexcept nogil:
    # y = x > 0 ? scale * x : (scale * alpha) * expm1(x): ELU's lanes with scale * alpha
    # as an exact pair on FMA levels, the plain ones elsewhere
    cdef Py_ssize_t i
    cdef floating v, e, af, alo
    cdef double t
    cdef float tf
    if HAS_FMA:
        af = <floating>SELU_NEG
        alo = <floating>((SELU_NEG - <double>af) + SELU_NEG_LO)
        for i in range(n):
            v = x[i]
            e = elu_fma_lane(v, af, alo, False)
            y[i] = selu_pos(v) if v > 0 else e
        return
    for i in range(n):
        v = x[i]
        if floating is float:
            tf = 0 if v > 0 else v
            tf = EXPM1_FLOOR_F if tf < EXPM1_FLOOR_F else tf
            e = <float>(SELU_NEG * expm1_neg_f(tf))
        else:
            t = 0.0 if v > 0 else v
            t = EXPM1_FLOOR if t < EXPM1_FLOOR else t
            e = SELU_NEG * expm1_neg(t, 13)
        y[i] = selu_pos(v) if v > 0 else e


cdef inline void celu_fma_span(const double* x, double* y, Py_ssize_t n, double alpha) noexcept nogil:
    # float64 on FMA levels: alpha * expm1(t) from ELU's exact-pair lane
    cdef Py_ssize_t i
    cdef double v, t, e
    for i in range(n):
        v = x[i]
        t = 0.0 if v > 0 else v / alpha
        e = elu_fma_lane(t, alpha, 0.0, False)
        e = v if fabs(t) < 2.0 ** -54 else e
        y[i] = v if v > 0 else e


cdef inline void celu_span(const floating* x, floating* y, Py_ssize_t n, double alpha) noexcept nogil:
    # y = x > 0 ? x : alpha * expm1(x / alpha), alpha > 0; the quotient in float64.
    # Where |x / alpha| < 2^-54 the result is x (expm1(t) = t to within half an ulp),
    # so a quotient that underflowed (alpha huge) does not lose x's bits.
    cdef Py_ssize_t i
    cdef floating v, e
    cdef double t
    if alpha == 1.0:
        elu_span(x, y, n, 1.0)              # the same function
        return
    if floating is double:
        if fma_alpha_ok(alpha):
            celu_fma_span(x, y, n, alpha)
            return
    for i in range(n):
        v = x[i]
        t = 0.0 if v > 0 else <double>v / alpha     # NaN stays NaN
        t = EXPM1_FLOOR if t < EXPM1_FLOOR else t
        if floating is float:
            e = <float>(alpha * expm1_neg(t, 8))
        else:
            e = alpha * expm1_neg(t, 13)
        e = v if fabs(t) < 2.0 ** -54 else e
        y[i] = v if v > 0 else e


cdef inline double prod_err(double a, double b, double p) noexcept nogil:
    # a b - p for p = a b rounded, exactly: one FMA, or Dekker's product (Veltkamp
    # halves of 26 bits) without (|a|, |b| < 2^995 here)
    cdef double c, ah, al, bh, bl
    if HAS_FMA:
        return fma(a, b, -p)
    c = 134217729.0 * a
    ah = c - (c - a)
    al = a - ah
    c = 134217729.0 * b
    bh = c - (c - b)
    bl = b - bh
    return (((ah * bh - p) + ah * bl) + al * bh) + al * bl


cdef inline double quot_rem(double n, double q, double d) noexcept nogil:
    # n - q d exactly, for q = n / d rounded
    cdef double p = q * d
    return (n - p) - prod_err(q, d, p)


cdef inline double silu_f64(double v) noexcept nogil:
    # float64 silu from exp(-|x|) = (eh + el) s2 as a pair and 1 + E as a pair dh + dl:
    # x >= 0: x / (1 + E); x < 0: (x E) / (1 + E) with s2 applied last, each quotient
    # corrected by its exact residual (FMA, or Dekker's product without)
    cdef double el, s2, eh, dh, dl, q, n, nl, y, xc
    eh = exp_neg_pair(-fabs(v), &el, &s2)
    dh = 1.0 + eh * s2
    dl = ((1.0 - dh) + eh * s2) + el * s2     # s2 < 1 only where E < 2^-1000: dh = 1
    xc = -1000.0 if v < -1000.0 else v       # x e^x rounds to -0 below (-inf too)
    if v >= 0:
        n, nl = v, 0.0
    else:
        n = xc * eh
        nl = xc * el + prod_err(xc, eh, n)
    q = n / dh
    y = q + ((quot_rem(n, q, dh) + nl) - q * dl) / dh
    y = q if (q == 0) | (fabs(q) > 1e290) else y    # keeps -0; huge x: q is x (and no split)
    return y if v >= 0 else y * s2


cdef inline void silu_span(const floating* x, floating* y, Py_ssize_t n) noexcept nogil:
    # y = x / (1 + exp(-x)) as x >= 0 ? x / (1 + e) : (x e) / (1 + e), e = exp(-|x|) <= 1
    # (no overflow, no NaN at -inf: the limit -0); float32 in float64 (the quotient from
    # recip_f32w), float64 with pairs (silu_f64): e = e1 s2 with s2 applied last, so that
    # subnormal results round once.
    cdef Py_ssize_t i
    cdef double v, e1, s2, d, neg
    for i in range(n):
        v = x[i]
        if floating is double:
            y[i] = silu_f64(v)
        else:
            # float32 results: e^-200 is below their range, so no split
            e1 = exp_neg_f32(-fabs(v))
            v = -200.0 if v < -200.0 else v     # x e^x rounds to -0 there: -inf gives -0
            neg = v * e1
            y[i] = <float>((v if v >= 0 else neg) * recip_f32w(1.0 + e1))


# RReLU's training mode: element e (its C-order index among all the elements of the
# call, the base index p[4] plus `start` plus its place in the run) gets the slope
# s = lower + (upper - lower) * u in x's dtype, u from Philox4x32-10 keyed by the seed
# (_philox.h), capped at the largest value below upper (rounding can reach upper).
cdef extern from "_philox.h":
    void philox_u24 "relu_fast_philox_u24"(uint64_t seed, uint64_t first, size_t nblocks,
                                           float* u) noexcept nogil
    void philox4x32_10 "relu_fast_philox4x32_10"(const uint32_t* ctr, const uint32_t* key,
                                                 uint32_t* out) noexcept nogil

cdef enum:
    RRELU_BLOCK = 256           # elements per batch of uniforms (a multiple of 4)


cdef inline floating rrelu_top(floating lo, floating hi) noexcept nogil:
    # the largest slope allowed: below upper, or upper itself when lower == upper
    if lo < hi:
        if floating is float:
            return nextafterf(hi, lo)
        else:
            return nextafter(hi, lo)
    return hi


cdef inline int rrelu_uniforms(const double* p, Py_ssize_t start, Py_ssize_t done, Py_ssize_t k,
                               float* u) noexcept nogil:
    # u[lead + i] for the elements done .. done + k - 1 of the run; returns lead
    cdef uint64_t seed = <uint64_t>p[2] | (<uint64_t>p[3] << 32)
    cdef uint64_t e0 = <uint64_t>p[4] + <uint64_t>start + <uint64_t>done
    cdef int lead = <int>(e0 & 3)
    philox_u24(seed, e0 >> 2, <size_t>((lead + k + 3) >> 2), u)
    return lead


cdef inline void rrelu_span(const floating* x, floating* y, Py_ssize_t n, const double* p,
                            Py_ssize_t start) noexcept nogil:
    # y = x <= 0 ? s * x : x  (PyTorch's test: NaN and x > 0 pass unchanged)
    cdef float u[RRELU_BLOCK + 4]
    cdef floating lo = <floating>p[0]
    cdef floating hi = <floating>p[1]
    cdef floating d = hi - lo
    cdef floating top = rrelu_top(lo, hi)
    cdef floating s, v
    cdef Py_ssize_t i, k, done = 0
    cdef int lead
    while done < n:
        k = n - done
        if k > RRELU_BLOCK:
            k = RRELU_BLOCK
        lead = rrelu_uniforms(p, start, done, k, u)
        for i in range(k):
            v = x[done + i]
            s = lo + d * <floating>u[lead + i]
            s = s if s <= top else top
            y[done + i] = v * s if v <= 0 else v
        done += k


cdef inline void rrelu_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                                const double* p, Py_ssize_t start) noexcept nogil:
    # gx = x <= 0 ? g * s : g, with the forward's slopes (the same seed and indices)
    cdef float u[RRELU_BLOCK + 4]
    cdef floating lo = <floating>p[0]
    cdef floating hi = <floating>p[1]
    cdef floating d = hi - lo
    cdef floating top = rrelu_top(lo, hi)
    cdef floating s, gv
    cdef Py_ssize_t i, k, done = 0
    cdef int lead
    while done < n:
        k = n - done
        if k > RRELU_BLOCK:
            k = RRELU_BLOCK
        lead = rrelu_uniforms(p, start, done, k, u)
        for i in range(k):
            gv = g[done + i]
            s = lo + d * <floating>u[lead + i]
            s = s if s <= top else top
            gx[done + i] = gv * s if x[done + i] <= 0 else gv
        done += k


cdef inline void softplus_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                                   double beta, double threshold) noexcept nogil:
    # gx = beta x > threshold ? g : g sigmoid(beta x) (the test as softplus_span), the
    # product in float64 (float32: rounded once)
    cdef Py_ssize_t i, lo0, k
    cdef floating v, t, gv
    cdef floating bf = <floating>beta, thf = <floating>threshold
    cdef double bd = <double>bf, td, lo
    cdef float buf[LANE_BLOCK]
    if floating is float:
        lo0 = 0
        while lo0 < n:
            k = n - lo0 if n - lo0 < LANE_BLOCK else LANE_BLOCK
            for i in range(k):                 # the float32 lane (vectorised)
                v = x[lo0 + i]
                gv = g[lo0 + i]
                t = v * bf
                buf[i] = gv if t > thf else <float>softplus_bwd_f32(<double>gv, <double>v * bd)
            for i in range(k):                 # the rare rest: the pair lane
                v = x[lo0 + i]
                gv = g[lo0 + i]
                td = <double>v * bd
                if not ((fabs(td) <= F32_LANE_MAX) & (fabs(gv) < INFINITY)) and not (v * bf > thf):
                    buf[i] = <float>softplus_bwd_wide(<double>gv, td, 0.0)
            for i in range(k):
                gx[lo0 + i] = buf[i]
            lo0 += k
        return
    for i in range(n):
        v = x[i]
        gv = g[i]
        t = v * bf
        lo = two_prod_lo(v, bd, t)
        gx[i] = gv if t > thf else softplus_bwd_wide(gv, t, lo)


cdef inline void mish_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n) noexcept nogil:
    # gx = g mish'(x) in float64 (mish_bwd_wide's halves; float32: mish_bwd_f32 where it
    # holds), rounded once
    cdef Py_ssize_t i, lo0, k
    cdef double v, gv, pos, neg
    cdef exp_dd E
    cdef float buf[LANE_BLOCK]
    if floating is double:
        for i in range(n):
            v = x[i]
            E = exp_pair(-fabs(v))
            pos = mish_bwd_pos_wide(g[i], v, E)
            neg = mish_bwd_neg_wide(g[i], v, E)
            gx[i] = pos if v >= 0 else neg
        return
    lo0 = 0
    while lo0 < n:
        k = n - lo0 if n - lo0 < LANE_BLOCK else LANE_BLOCK
        for i in range(k):
            buf[i] = <float>mish_bwd_f32(<double>g[lo0 + i], <double>x[lo0 + i])
        for i in range(k):
            v = x[lo0 + i]
            gv = g[lo0 + i]
            if not ((fabs(v) <= F32_LANE_MAX) & (fabs(gv) < INFINITY)):
                buf[i] = <float>mish_bwd_wide(gv, v)
        for i in range(k):
            gx[lo0 + i] = buf[i]
        lo0 += k


cdef inline void unary_span(int op, const floating* x, floating* y, Py_ssize_t n, const double* p,
                            Py_ssize_t start) noexcept nogil:
    # start: the index of x[0] among the call's elements (only OP_RRELU uses it)
    if op == OP_RELU:
        relu_span(x, y, n)
    elif op == OP_LEAKY:
        leaky_span(x, y, n, <floating>p[0])
    elif op == OP_HARDTANH:
        hardtanh_span(x, y, n, <floating>p[0], <floating>p[1])
    elif op == OP_THRESHOLD:
        threshold_span(x, y, n, <floating>p[0], <floating>p[1])
    elif op == OP_HARDSIGMOID:
        hardsigmoid_span(x, y, n)
    elif op == OP_HARDSWISH:
        hardswish_span(x, y, n)
    elif op == OP_SELU:
        selu_span(x, y, n)
    elif op == OP_CELU:
        celu_span(x, y, n, p[0])
    elif op == OP_SILU:
        silu_span(x, y, n)
    elif op == OP_RRELU:
        rrelu_span(x, y, n, p, start)
    elif op == OP_SOFTPLUS:
        softplus_span(x, y, n, p[0], p[1])
    elif op == OP_MISH:
        mish_span(x, y, n)
    elif op == OP_GELU:
        gelu_span(x, y, n, False)
    elif op == OP_GELU_TANH:
        gelu_span(x, y, n, True)
    else:
        elu_span(x, y, n, p[0])


cdef inline void selu_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                               bint from_result) noexcept nogil:
    # gx = x > 0 ? g * scale : g * (scale * alpha) * exp(x), exp in float64 (ELU's wide
    # lanes); from the output y: y > 0 ? g * scale : g * (y + scale * alpha)
    cdef Py_ssize_t i, lo, k
    cdef floating v, gv, e
    cdef double t
    if HAS_FMA and not from_result and <const floating*>gx != x:
        # ELU's FMA gradient with alpha = scale * alpha, a block at a time, then scale
        # where x > 0 (there ELU's gradient left g in gx)
        lo = 0
        while lo < n:
            k = n - lo if n - lo < FMA_BLOCK else FMA_BLOCK
            elu_bwd_fma_span(g + lo, x + lo, gx + lo, k, SELU_NEG)
            for i in range(lo, lo + k):
                gx[i] = selu_pos(gx[i]) if x[i] > 0 else gx[i]
            lo += k
        return
    for i in range(n):
        v = x[i]
        gv = g[i]
        if from_result:
            e = <floating>(<double>gv * (<double>v + SELU_NEG))
        else:
            t = 0.0 if v > 0 else <double>v
            t = EXP_FLOOR if t < EXP_FLOOR else t
            if floating is float:
                e = <float>galpha_exp_neg(t, gv, SELU_NEG, 8)
            else:
                e = galpha_exp_neg(t, gv, SELU_NEG, 13)
        gx[i] = selu_pos(gv) if v > 0 else e


cdef inline double div_rem(double v, double q, double alpha, double ahi, double alo) noexcept nogil:
    # (v - q alpha) / alpha for q = v / alpha rounded: the quotient's lost part, so that
    # exp(v / alpha) = exp(q) (1 + rem) (ahi + alo = alpha, ahi with 26 bits; |q| <= 1000)
    cdef double r, p, c, qh, ql
    if HAS_FMA:
        r = fma(-q, alpha, v)
    else:
        p = q * alpha
        c = q * 134217729.0                  # Veltkamp: q = qh + ql, 26 bits each
        qh = c - (c - q)
        ql = q - qh
        r = (v - p) - ((((qh * ahi - p) + qh * alo) + ql * ahi) + ql * alo)
    return r / alpha


cdef inline void celu_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                               double alpha, bint from_result) noexcept nogil:
    # gx = x > 0 ? g : g * exp(x / alpha); from the output y: y > 0 ? g : g * (y / alpha + 1).
    # float64: exp(q + rem), q = x / alpha rounded and rem what the rounding lost, as
    # exp(q) (1 + rem) (a rounded quotient alone costs up to |q| 2^-53 of the result)
    cdef Py_ssize_t i
    cdef floating v, gv, e
    cdef double t, q, rem, ahi, alo, c
    c = alpha * 134217729.0
    ahi = c - (c - alpha) if fabs(alpha) < 1e300 else alpha
    alo = alpha - ahi
    for i in range(n):
        v = x[i]
        gv = g[i]
        if from_result:
            e = <floating>(<double>gv * (<double>v / alpha + 1.0))
        else:
            q = 0.0 if v > 0 else <double>v / alpha
            q = EXP_FLOOR if q < EXP_FLOOR else q
            if floating is float:
                e = <float>galpha_exp_neg(q, gv, 1.0, 8)
            else:
                rem = div_rem(v, q, alpha, ahi, alo)
                rem = rem if q > EXP_FLOOR else 0.0     # exp is 0 there (and -inf, NaN)
                e = galpha_exp_neg(q, gv, 1.0, 13)
                e = e + e * rem if fabs(e) < INFINITY else e
        gx[i] = gv if v > 0 else e


# silu's gradient has a zero at x0 = -1.27846...; within 1/16 of it, its Taylor series in
# u = x - x0 (degree 11: 2^-60 of the value at |u| = 1/16), x0 as a float64 pair
cdef double SILU_X0 = -1.2784645427610737
cdef double SILU_X0_LO = -1.0946994183093437e-16
cdef double SILU_C1 = 0.2178117057198001             # the slope at x0, as a pair
cdef double SILU_C1_LO = -3.974332795880862e-18


cdef inline double silu_bwd_near_zero(double uh, double ul) noexcept nogil:
    # the series at u = uh + ul (uh exact, ul x0's low part): u (c1 + u q), the leading
    # product c1 u kept exact, c1 = SILU_C1 + SILU_C1_LO
    cdef double u = uh + ul
    cdef double q = -2.942631888842464e-06
    cdef double t, p
    q = -2.9733542213263917e-05 + u * q
    q = -4.090534237428612e-05 + u * q
    q = 0.00018570724361186496 + u * q
    q = 0.0007985218818397998 + u * q
    q = 0.000126627410081122 + u * q
    q = -0.006606589138356696 + u * q
    q = -0.015222655223188032 + u * q
    q = 0.018874814223782312 + u * q
    q = 0.1466487969969469 + u * q
    t = u * q
    p = SILU_C1 * uh
    return p + (((prod_err(SILU_C1, uh, p) + SILU_C1_LO * uh) + SILU_C1 * ul) + u * t)


cdef inline double silu_bwd_f64(double gv, double v) noexcept nogil:
    # d = (1 + E + x E) / (1 + E)^2 (x >= 0) or E (1 + E + x) / (1 + E)^2 (x < 0),
    # E = exp(-|x|) = (eh + el) s2, with every sum and product kept as a pair; the result g d rounded once, s2 applied last.  Near d's zero (x = -1.2785)
    # the pair's own error (about 2^-58 of E) is what remains.
    cdef double el, s2, eh, es, dh, dl, xc, a, ae, b, be, mh, ml, nh, nl, t, qh, ql, r, c, y
    eh = exp_neg_pair(-fabs(v), &el, &s2)
    es = eh * s2
    dh = 1.0 + es
    dl = ((1.0 - dh) + es) + el * s2
    xc = -1000.0 if v < -1000.0 else (1e300 if v > 1e300 else v)
    if v >= 0:
        # N = D + x E: x E = t + (its error + x el)
        t = xc * es
        nh = dh + t
        nl = (((dh - nh) + t) if dh >= t else ((t - nh) + dh)) + dl + prod_err(xc, es, t) + xc * (el * s2)
    else:
        # M = (1 + x) + E, N = E M (unscaled: s2 comes last)
        a = 1.0 + xc
        ae = ((1.0 - a) + xc) if 1.0 >= fabs(xc) else ((xc - a) + 1.0)
        b = a + es
        be = ((a - b) + es) if fabs(a) >= es else ((es - b) + a)
        mh = b
        ml = ae + be + el * s2
        nh = eh * mh
        nl = prod_err(eh, mh, nh) + (eh * ml + el * mh)
    # Q = D^2, R = N / Q, y = g R
    qh = dh * dh
    ql = prod_err(dh, dh, qh) + 2.0 * dh * dl
    r = nh / qh
    c = (quot_rem(nh, r, qh) + nl - r * ql) / qh
    y = fma(gv, r, gv * c) if HAS_FMA else gv * r + gv * c
    y = gv * r if (r == 0) | (fabs(gv * r) == INFINITY) | (gv == 0) else y   # zeros' signs, inf
    y = gv if v == INFINITY else y
    y = y if v >= 0 else y * s2
    t = v - SILU_X0                           # exact here; x - x0 = t - SILU_X0_LO
    y = gv * silu_bwd_near_zero(t, -SILU_X0_LO) if fabs(t) < 0.0625 else y
    return gv * -0.0 if v < -1000.0 else y    # e^x below 2^-1442: 0 (NaN for an infinite g)


cdef inline void silu_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n) noexcept nogil:
    # gx = g s (1 + x (1 - s)), s = sigmoid(x).  float64: silu_bwd_f64.  float32 in float64
    # (e = exp(-|x|), x clamped to [-200, 1e30] so that x e is 0 where e is): x >= 0:
    # g (1 + e + x e) / (1 + e)^2; x < 0: g e (1 + e + x) / (1 + e)^2.  Below x = -1000
    # (-inf too): g * -0, as ELU's gradient where exp underflows
    cdef Py_ssize_t i
    cdef double xv, v, gv, e1, s2, e, d, pos, neg
    for i in range(n):
        xv = x[i]
        v = xv
        gv = g[i]
        if floating is double:
            gx[i] = silu_bwd_f64(gv, v)
            continue
        e = exp_neg_f32(-fabs(v))             # as silu_span: no split
        d = recip_f32w(1.0 + e)
        d = d * d
        v = -200.0 if v < -200.0 else (1e30 if v > 1e30 else v)
        pos = mad(v, e, 1.0 + e)
        neg = e * ((1.0 + e) + v)
        pos = gv * ((pos if v >= 0 else neg) * d)
        gx[i] = <float>(gv * -0.0 if xv < -1000.0 else pos)   # as float64's rule


cdef inline void binary_span(int op, const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                             const double* p, Py_ssize_t start) noexcept nogil:
    # start: as unary_span's (only OP_RRELU_BWD uses it)
    if op == OP_RELU_BWD:
        relu_bwd_span(g, x, gx, n)
    elif op == OP_LEAKY_BWD:
        leaky_bwd_span(g, x, gx, n, <floating>p[0])
    elif op == OP_ELU_BWD:
        elu_bwd_span(g, x, gx, n, p[0])
    elif op == OP_HARDTANH_BWD:
        hardtanh_bwd_span(g, x, gx, n, <floating>p[0], <floating>p[1])
    elif op == OP_THRESHOLD_BWD:
        threshold_bwd_span(g, x, gx, n, <floating>p[0])
    elif op == OP_HARDSIGMOID_BWD:
        hardsigmoid_bwd_span(g, x, gx, n, False)
    elif op == OP_HARDSIGMOID_BWD_RESULT:
        hardsigmoid_bwd_span(g, x, gx, n, True)
    elif op == OP_HARDSWISH_BWD:
        hardswish_bwd_span(g, x, gx, n)
    elif op == OP_SELU_BWD:
        selu_bwd_span(g, x, gx, n, False)
    elif op == OP_SELU_BWD_RESULT:
        selu_bwd_span(g, x, gx, n, True)
    elif op == OP_CELU_BWD:
        celu_bwd_span(g, x, gx, n, p[0], False)
    elif op == OP_CELU_BWD_RESULT:
        celu_bwd_span(g, x, gx, n, p[0], True)
    elif op == OP_SILU_BWD:
        silu_bwd_span(g, x, gx, n)
    elif op == OP_RRELU_BWD:
        rrelu_bwd_span(g, x, gx, n, p, start)
    elif op == OP_SOFTPLUS_BWD:
        softplus_bwd_span(g, x, gx, n, p[0], p[1])
    elif op == OP_MISH_BWD:
        mish_bwd_span(g, x, gx, n)
    elif op == OP_GELU_BWD:
        gelu_bwd_span(g, x, gx, n, False)
    elif op == OP_GELU_TANH_BWD:
        gelu_bwd_span(g, x, gx, n, True)
    else:
        elu_bwd_result_span(g, x, gx, n, p[0])
