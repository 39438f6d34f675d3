# Included by _kernels.pxi: the exp/expm1 library of the ELU kernels.

# ---------------------------------------------------------------------------
# exp and expm1 for t <= 0 (or NaN), branch-free so that loops vectorise.
# t = k ln2 + r, |r| <= ln2/2; expm1(r) = r + r^2 (1/2! + r/3! + ... ), Taylor
# to degree 13 (float64 results: error < 1 ulp) or 8 (float32 results, still
# evaluated in float64); 2^k is built from the bits of t/ln2 + 1.5*2^52.
# ---------------------------------------------------------------------------

cdef extern from "_target.h":
    const bint HAS_FMA "RELU_FAST_HAS_FMA"

cdef extern from "_bits.h":
    double pow2_from_magic "relu_fast_pow2_from_magic"(double m) noexcept nogil

cdef extern from "_bits.h":
    float pow2f_from_magic "relu_fast_pow2f_from_magic"(float m) noexcept nogil

cdef double MAGIC = 6755399441055744.0         # 1.5 * 2^52: adding it rounds to an integer
cdef double LOG2E = 1.4426950408889634
cdef double LN2_HI = 6.93147180369123816490e-01  # 0x3fe62e42fee00000: k * LN2_HI is exact
cdef double LN2_LO = 1.90821492927058770002e-10
cdef double EXPM1_FLOOR = -50.0                # expm1(t) rounds to -1 below this
cdef double EXP_FLOOR = -1000.0                # exp(t) is exactly 0 in float64 below this
cdef double EXP_ZERO = -745.1332191019412      # ln(2^-1075): float64 exp(t) rounds to 0 below


cdef float MAGIC_F = 12582912.0               # 1.5 * 2^23
cdef float LOG2E_F = 1.44269502
cdef float LN2_HI_F = 0.693359375              # 355/512: k * LN2_HI_F is exact for |k| < 2^15
cdef float LN2_LO_F = -2.12194440e-4
cdef float EXPM1_FLOOR_F = -20.0               # expm1(t) rounds to -1 in float32 below this


cdef inline double expm1_reduced_f(float r) noexcept nogil:
    # expm1(r), |r| <= ln2/2: the tail q = sum_{j=2..7} r^(j-2)/j! in float32 (16
    # lanes), then r + r^2 q in float64, where it is exact but for q's rounding
    cdef float q = <float>(1.0 / 5040.0)
    q = <float>(1.0 / 720.0) + r * q
    q = <float>(1.0 / 120.0) + r * q
    q = <float>(1.0 / 24.0) + r * q
    q = <float>(1.0 / 6.0) + r * q
    q = <float>0.5 + r * q
    cdef double rd = r
    return rd + (rd * rd) * <double>q


cdef inline double expm1_neg_f(float t) noexcept nogil:
    # expm1(t) for float32 t in [EXPM1_FLOOR_F, 0] or NaN, returned in float64
    # (< 1 ulp of float32 before the caller's rounding); keeps the sign of a zero t
    cdef float m = t * LOG2E_F + MAGIC_F
    cdef float k = m - MAGIC_F
    cdef float r = (t - k * LN2_HI_F) - k * LN2_LO_F
    cdef double s = pow2f_from_magic(m)
    cdef double e = s * expm1_reduced_f(r) + (s - 1.0)
    return t if t == 0 else e


cdef inline double expm1_poly(double r, int degree) noexcept nogil:
    # r + r^2 * sum_{j=2..degree} r^(j-2) / j!
    cdef double q
    if degree == 13:
        q = 1.0 / 6227020800.0
        q = 1.0 / 479001600.0 + r * q
        q = 1.0 / 39916800.0 + r * q
        q = 1.0 / 3628800.0 + r * q
        q = 1.0 / 362880.0 + r * q
        q = 1.0 / 40320.0 + r * q
    else:
        q = 1.0 / 40320.0
    q = 1.0 / 5040.0 + r * q
    q = 1.0 / 720.0 + r * q
    q = 1.0 / 120.0 + r * q
    q = 1.0 / 24.0 + r * q
    q = 1.0 / 6.0 + r * q
    q = 0.5 + r * q
    return r + (r * r) * q


cdef inline double expm1_neg(double t, int degree) noexcept nogil:
    # expm1(t) for t in [EXPM1_FLOOR, 0] or NaN; keeps the sign of a zero t
    cdef double m = t * LOG2E + MAGIC
    cdef double k = m - MAGIC
    cdef double r = (t - k * LN2_HI) - k * LN2_LO
    cdef double s = pow2_from_magic(m)
    cdef double e = s * expm1_poly(r, degree) + (s - 1.0)
    return t if t == 0 else e


cdef inline double exp_neg(double t) noexcept nogil:
    # exp(t) for t <= 0 (any, -inf included) or NaN, in float64, within 1 ulp; subnormal
    # results through 2^k = 2^k1 2^k2 (k1 = max(k, -1000)), 0 below EXP_ZERO
    cdef double m, k, r, p, k1, s1, s2
    t = EXP_FLOOR if t < EXP_FLOOR else t    # NaN stays NaN
    m = t * LOG2E + MAGIC
    k = m - MAGIC
    r = (t - k * LN2_HI) - k * LN2_LO
    p = expm1_poly(r, 13)
    k1 = k if k > -1000.0 else -1000.0
    s1 = pow2_from_magic(k1 + MAGIC)
    s2 = pow2_from_magic((k - k1) + MAGIC)
    return (s1 * p + s1) * s2


cdef inline double mad(double a, double b, double c) noexcept nogil:
    # a b + c: one rounding on levels with FMA, two elsewhere.  For the float32 lanes
    # in float64, whose error bounds hold either way (their last float32 bit may
    # differ between levels: Function.fma)
    if HAS_FMA:
        return fma(a, b, c)
    return a * b + c


cdef inline double recip_f32w(double d) noexcept nogil:
    # 1 / d for 1 <= d <= 2^100, relative error about 2^-46: float32's quotient (cheaper
    # per element than float64's division) and one Newton step
    cdef double r = <double>(<float>1.0 / <float>d)
    return mad(r, mad(-d, r, 1.0), r)


cdef inline double exp_neg_f32(double t) noexcept nogil:
    # exp(t) for t <= 0 or NaN, to float32's needs (Taylor degree 8: 2^-32 relative), t
    # clamped at -200 (2^k stays normal; float32 results that small are 0 anyway)
    cdef double m, k, r, p
    t = -200.0 if t < -200.0 else t           # NaN stays NaN
    m = mad(t, LOG2E, MAGIC)
    k = m - MAGIC
    r = mad(-k, LN2_LO, mad(-k, LN2_HI, t))   # the inner product exact either way
    p = mad(1.0 / 40320.0, r, 1.0 / 5040.0)
    p = mad(p, r, 1.0 / 720.0)
    p = mad(p, r, 1.0 / 120.0)
    p = mad(p, r, 1.0 / 24.0)
    p = mad(p, r, 1.0 / 6.0)
    p = mad(p, r, 0.5)
    p = mad(p, r, 1.0)
    return pow2_from_magic(m) * mad(p, r, 1.0)


cdef inline double exp_neg_pair(double t, double* lo, double* s2) noexcept nogil:
    # exp(t) = (hi + lo) * s2 for t <= 0 or NaN, the pair good to about 2^-58 (the
    # reduction's and the polynomial's last roundings kept), hi >= 2^-1000 normal, s2 a
    # power of two <= 1: a product with hi scaled by s2 last rounds once where exp(t)
    # itself would be subnormal
    cdef double m, k, rh, r, rl, q, w, p, pl, k1, s1, hi
    t = EXP_FLOOR if t < EXP_FLOOR else t    # NaN stays NaN
    m = t * LOG2E + MAGIC
    k = m - MAGIC
    rh = t - k * LN2_HI                       # exact
    r = rh - k * LN2_LO
    rl = (rh - r) - k * LN2_LO                # what r's rounding lost
    q = expm1_poly(r, 13) - r                 # r^2 (1/2 + r/6 + ...)
    p = r + q
    pl = ((r - p) + q) + rl * (1.0 + r)       # expm1(r + rl) = p + pl
    k1 = k if k > -1000.0 else -1000.0
    s1 = pow2_from_magic(k1 + MAGIC)
    s2[0] = pow2_from_magic((k - k1) + MAGIC)
    hi = s1 + s1 * p
    lo[0] = ((s1 - hi) + s1 * p) + s1 * pl
    return hi


cdef inline double galpha_exp_neg(double t, double g, double alpha, int degree) noexcept nogil:
    # g * alpha * exp(t) for t in [EXP_FLOOR, 0] or NaN; exp(t) = 2^k (1 + p), split as
    # 2^k1 2^k2 with k1 = max(k, -1000), so that the gradient joins before the last
    # scaling (a large g brings back an exp(t) that alone would be subnormal).  Two
    # orders, both computed: (g alpha) first while |g alpha| <= 2^1000, else
    # alpha 2^k1 (1 + p) first (no intermediate overflow that the result does not have)
    cdef double m = t * LOG2E + MAGIC
    cdef double k = m - MAGIC
    cdef double r = (t - k * LN2_HI) - k * LN2_LO
    cdef double p = expm1_poly(r, degree)
    cdef double k1 = k if k > -1000.0 else -1000.0
    cdef double s1 = pow2_from_magic(k1 + MAGIC)
    cdef double s2 = pow2_from_magic((k - k1) + MAGIC)
    cdef double ga = g * alpha
    cdef double a1 = ga * s1
    cdef double e_ga = (a1 * p + a1) * s2
    cdef double A = alpha * s1
    cdef double e_g = ((A * p + A) * g) * s2
    cdef double e
    e_ga = a1 * s2 if a1 == 0 else e_ga      # the zero's sign (-0 p + -0 would be +0)
    e = e_ga if fabs(ga) <= 2.0 ** 1000 else e_g
    e = ga if fabs(g) == INFINITY else e     # inf times a positive exp
    # below EXP_ZERO exp(t) is 0 in float64: g alpha 0 (0, or NaN for an infinite g)
    e = (g * 0.0) * alpha if t < EXP_ZERO else e
    return t if t != t else e



# ---------------------------------------------------------------------------
# The same exp/expm1 with fused multiply-adds, in x's own dtype (16 float32 lanes
# per AVX-512 vector instead of 8 float64 ones), for levels with hardware FMA.
# ELU's results there are rounded once from exact pairs (see elu_fma_lane and
# elu_bwd_fma_lane) and measured within 1 ulp of a float64/long-double reference;
# their last bit can differ from the levels without FMA, which use the code above.
# ---------------------------------------------------------------------------

cdef enum:
    FMA_BLOCK = 512           # elements screened for slow lanes at a time

cdef float EXP_FAST_FLOOR_F = -87.0           # 2^k >= 2^-126 for t >= this
cdef double EXP_FAST_FLOOR = -708.0            # 2^k >= 2^-1021


cdef inline floating fmadd(floating a, floating b, floating c) noexcept nogil:
    if floating is float:
        return fmaf(a, b, c)
    else:
        return fma(a, b, c)


cdef inline bint fma_alpha_ok(double alpha) noexcept nogil:
    # the FMA paths need alpha's pair (af, alo) and alpha (1 + s) well inside range
    return HAS_FMA and alpha != 0 and 2.0 ** -60 <= fabs(alpha) <= 2.0 ** 60


cdef inline floating expm1_reduced_fma(floating t, floating* scale, floating* slo) noexcept nogil:
    # t = k ln2 + r, |r| <= ln2/2 (t <= 0, 2^k normal): returns s = expm1(r), one
    # rounding, and sets *scale = 2^k, so exp(t) = 2^k (1 + s), and *slo to the
    # rounding error of s (r + rq r = s + slo; unused by most callers, and dropped)
    cdef floating m, k, r, q, rq, s, w
    if floating is float:
        m = fmaf(t, LOG2E_F, MAGIC_F)
        k = m - MAGIC_F
        r = fmaf(-k, LN2_HI_F, t)
        r = fmaf(-k, LN2_LO_F, r)
        q = fmaf(<float>(1.0 / 5040.0), r, <float>(1.0 / 720.0))
        q = fmaf(q, r, <float>(1.0 / 120.0))
        q = fmaf(q, r, <float>(1.0 / 24.0))
        q = fmaf(q, r, <float>(1.0 / 6.0))
        q = fmaf(q, r, <float>0.5)
        scale[0] = pow2f_from_magic(m)
    else:
        m = fma(t, LOG2E, MAGIC)
        k = m - MAGIC
        r = fma(-k, LN2_HI, t)
        r = fma(-k, LN2_LO, r)
        # (expm1(r) - r) / r^2 on |r| <= ln2/2: Chebyshev interpolant of degree 9,
        # 0.15 ulp of exp(r) at most (Taylor needs degree 11)
        q = fma(2.5100472505694996e-08, r, 2.7620201591031547e-07)
        q = fma(q, r, 2.7557268276905696e-06)
        q = fma(q, r, 2.4801521057868204e-05)
        q = fma(q, r, 0.00019841269863171557)
        q = fma(q, r, 0.0013888888917367081)
        q = fma(q, r, 0.008333333333330039)
        q = fma(q, r, 0.041666666666623824)
        q = fma(q, r, 0.16666666666666669)
        q = fma(q, r, 0.5000000000000001)
        scale[0] = pow2_from_magic(m)
    rq = r * q
    s = fmadd(rq, r, r)                      # expm1(r) = r + r^2 q
    w = rq * r
    slo[0] = ((r - s) + w) + fmadd(rq, r, -w)
    return s


cdef inline floating elu_fma_lane(floating v, floating af, floating alo, bint unit) noexcept nogil:
    # x > 0 ? x : alpha * expm1(x), expm1(x) = a + b with a = 2^k - 1 and b = 2^k s
    # (both exact for k >= -24 / -53; below, a's rounding is under 2^-25 of -1)
    cdef floating t, s, slo, scale, a, b, p, pe, Q, Qe, H, Hlo, y
    t = 0 if v > 0 else v                    # NaN stays NaN (and so does the result)
    if floating is float:
        t = EXPM1_FLOOR_F if t < EXPM1_FLOOR_F else t
    else:
        t = EXPM1_FLOOR if t < EXPM1_FLOOR else t
    s = expm1_reduced_fma(t, &scale, &slo)
    a = scale - 1
    if unit:
        y = fmadd(scale, s, a)               # a + b, one rounding
    else:
        b = scale * s
        p = af * a
        pe = fmadd(af, a, -p)                # af a = p + pe exactly
        Q = af * b
        Qe = fmadd(af, b, -Q)                # af b = Q + Qe exactly
        H = p + Q                            # |p| >= |Q| (or p = 0): Fast2Sum
        Hlo = (p - H) + Q
        # s's own rounding matters here (at k = 0 the result is alpha s): slo
        y = H + (Hlo + ((pe + Qe) + (af * (scale * slo) + alo * (a + b))))
    # the sign is sign(x) sign(alpha), zeros included (expm1(-0) = -0)
    if floating is float:
        y = copysignf(y, v * af)
    else:
        y = copysign(y, v * af)
    return v if v > 0 else y


cdef inline void elu_fma_span(const floating* x, floating* y, Py_ssize_t n, double alpha) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating af = <floating>alpha
    cdef floating alo = <floating>(alpha - <double>af)
    if alpha == 1.0:
        for i in range(n):
            y[i] = elu_fma_lane(x[i], af, alo, True)
    else:
        for i in range(n):
            y[i] = elu_fma_lane(x[i], af, alo, False)
