# Included by _kernels.pxi: the math of each elementwise function over one contiguous run.

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
    # y = x < lo ? lo : (x > hi ? hi : x)  (keeps NaN, and -0.0 inside the range)
    cdef Py_ssize_t i
    cdef floating v
    for i in range(n):
        v = x[i]
        y[i] = lo if v < lo else (hi if v > hi else v)


cdef inline void threshold_span(const floating* x, floating* y, Py_ssize_t n, floating th,
                                floating value) noexcept nogil:
    # y = x <= th ? value : x  (PyTorch's test: NaN fails it and stays NaN)
    cdef Py_ssize_t i
    cdef floating v
    for i in range(n):
        v = x[i]
        y[i] = value if v <= th else v


cdef inline floating relu6_of_shift(floating v) noexcept nogil:
    # min(max(x + 3, 0), 6), as PyTorch's hardsigmoid/hardswish kernels (NaN stays NaN;
    # x = -3 gives +0).  The constants are cast: Cython writes a bare 3 as the double
    # 3.0, which would do float32 arithmetic in float64 and round differently.
    cdef floating c = v + <floating>3
    c = 0 if c < 0 else c
    return <floating>6 if c > 6 else c


cdef inline void hardsigmoid_span(const floating* x, floating* y, Py_ssize_t n) noexcept nogil:
    # y = min(max(x + 3, 0), 6) / 6: PyTorch's order of operations, so the same bits
    # (x / 6 + 0.5 differs in the last bit for some x)
    cdef Py_ssize_t i
    for i in range(n):
        y[i] = relu6_of_shift(x[i]) / <floating>6


cdef inline void hardswish_span(const floating* x, floating* y, Py_ssize_t n) noexcept nogil:
    # y = (x * min(max(x + 3, 0), 6)) / 6 in PyTorch's order.  Where the clip is 0 (x <= -3)
    # the product is -0 for every finite x, so -inf gets that limit too instead of
    # -inf * 0 = NaN.
    cdef Py_ssize_t i
    cdef floating v, c, nz = 0
    nz = -nz
    for i in range(n):
        v = x[i]
        c = relu6_of_shift(v)
        y[i] = nz if c == 0 else (v * c) / <floating>6


cdef inline void gelu_span(const floating* x, floating* y, Py_ssize_t n, bint tanh_form) noexcept nogil:
    # y = x Phi(x) (or the tanh form), in float64 for both dtypes, rounded once
    # (gelu_erf_lane / gelu_tanh_lane in _kernels_math.pxi)
    cdef Py_ssize_t i
    if tanh_form:
        for i in range(n):
            y[i] = <floating>gelu_tanh_lane(<double>x[i])
    else:
        for i in range(n):
            y[i] = <floating>gelu_erf_lane(<double>x[i])


cdef inline void gelu_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                               bint tanh_form) noexcept nogil:
    # gx = g * gelu'(x), the derivative and the product in float64 (g joining a
    # subnormal derivative before its last scaling), rounded once
    cdef Py_ssize_t i
    if tanh_form:
        for i in range(n):
            gx[i] = <floating>gelu_tanh_bwd_lane(<double>g[i], <double>x[i])
    else:
        for i in range(n):
            gx[i] = <floating>gelu_erf_bwd_lane(<double>g[i], <double>x[i])


cdef inline void relu_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n) noexcept nogil:
    # gx = x <= 0 ? 0 : g  (NaN in x passes the gradient)
    cdef Py_ssize_t i
    cdef floating v, gv
    for i in range(n):
        v = x[i]
        gv = g[i]
        gx[i] = 0 if v <= 0 else gv


cdef inline void leaky_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                                floating slope) noexcept nogil:
    # gx = x > 0 ? g : slope * g
    cdef Py_ssize_t i
    cdef floating v
    for i in range(n):
        v = g[i]
        gx[i] = v if x[i] > 0 else slope * v


cdef inline void hardtanh_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                                   floating lo, floating hi) noexcept nogil:
    # gx = lo < x < hi ? g : 0  (0 at the ends and for NaN x, as PyTorch)
    cdef Py_ssize_t i
    cdef floating v
    for i in range(n):
        v = x[i]
        gx[i] = g[i] if (v > lo) & (v < hi) else 0


cdef inline void threshold_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                                    floating th) noexcept nogil:
    # gx = x <= th ? 0 : g  (NaN x passes the gradient, as PyTorch and relu_backward)
    cdef Py_ssize_t i
    cdef floating v
    for i in range(n):
        v = x[i]
        gx[i] = 0 if v <= th else g[i]


cdef inline void hardsigmoid_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                                      bint from_result) noexcept nogil:
    # gx = -3 < x < 3 ? g * (1/6) : 0, or from the output y: 0 < y < 1 ? g * (1/6) : 0,
    # with 1/6 rounded to x's dtype: PyTorch's arithmetic in float32; its float64 kernel
    # multiplies by float32's 1/6, relu_fast by float64's (docs/semantics.rst).
    cdef Py_ssize_t i
    cdef floating v, lo, hi
    cdef floating sixth = <floating>(1.0 / 6.0)
    lo, hi = (0, 1) if from_result else (-3, 3)
    for i in range(n):
        v = x[i]
        gx[i] = g[i] * sixth if (v > lo) & (v < hi) else 0


cdef inline void hardswish_bwd_span(const floating* g, const floating* x, floating* gx, Py_ssize_t n) noexcept nogil:
    # gx = x <= -3 ? 0 : (x >= 3 ? g : g * (x / 3 + 0.5)): PyTorch's ends (0 at -3, g at 3)
    # and arithmetic, each step rounded to x's dtype (typed constants: see
    # relu6_of_shift); NaN x gives NaN (the middle piece), as PyTorch's vector loop
    cdef Py_ssize_t i
    cdef floating v, gv
    cdef floating three = 3, half = 0.5
    for i in range(n):
        v = x[i]
        gv = g[i]
        gx[i] = 0 if v <= -three else (gv if v >= three else gv * (v / three + half))


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


cdef inline void unary_span(int op, const floating* x, floating* y, Py_ssize_t n, const double* p) noexcept nogil:
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
    elif op == OP_GELU:
        gelu_span(x, y, n, False)
    elif op == OP_GELU_TANH:
        gelu_span(x, y, n, True)
    else:
        elu_span(x, y, n, p[0])


cdef inline void binary_span(int op, const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                             const double* p) noexcept nogil:
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
    elif op == OP_GELU_BWD:
        gelu_bwd_span(g, x, gx, n, False)
    elif op == OP_GELU_TANH_BWD:
        gelu_bwd_span(g, x, gx, n, True)
    else:
        elu_bwd_result_span(g, x, gx, n, p[0])
