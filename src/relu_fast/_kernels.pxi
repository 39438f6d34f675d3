# The kernels: one source for float32 and float64 (fused `floating`) and for every
# instruction-set level.  Each _kernels_<level>.pyx (a shell setup.py writes from the
# levels declared in _levels.py) includes this file and is compiled with that level's
# flags; _dispatch picks one at import.  C helpers live in _bits.h, _target.h, _stream.h.
#
# Rules for code in this file:
# - no Python objects; everything is nogil and works on contiguous buffers;
# - inner loops are branch-free selects the compiler vectorises (`c ? a : b` over
#   values that are all computed), never early exits;
# - transcendental results are rounded once: from exact fma-built pairs on levels
#   with FMA, from float64 elsewhere;
# - a loop's result never depends on the thread count; nor on the level (no FMA
#   contraction: setup.py passes -ffp-contract=off), except ELU, which calls fma()
#   explicitly on levels that have it (see expm1_reduced_fma and its users).

from cython cimport floating
from cython.parallel cimport prange
from libc.stdlib cimport calloc, free
from libc.math cimport fma, fmaf, fabs, copysign, copysignf, INFINITY
from cpython.pycapsule cimport PyCapsule_New

from relu_fast._table cimport *
from relu_fast._fpenv cimport fpstate, fp_enter, fp_leave
from relu_fast._team cimport (now_ns, piece_begin, piece_end, team_done, team_report,
                              team_set_worker_delay, team_work, work_init)

# Work is split into pieces of at least this many elements (a multiple of 64 so
# that two threads never write the same cache line).
cdef Py_ssize_t SEG = 16384
# PReLU's weight gradient is summed in at most this many fixed parts, independent
# of the thread count, so the result does not depend on it; a part has at least
# PART_ELEMENTS elements (fewer parts: less to zero and reduce for small x).
cdef Py_ssize_t MAX_PARTS = 64
cdef Py_ssize_t PART_ELEMENTS = 4096


# ---------------------------------------------------------------------------
# exp and expm1 for t <= 0 (or NaN), branch-free so that loops vectorise.
# t = k ln2 + r, |r| <= ln2/2; expm1(r) = r + r^2 (1/2! + r/3! + ... ), Taylor
# to degree 13 (float64 results: error < 1 ulp) or 8 (float32 results, still
# evaluated in float64); 2^k is built from the bits of t/ln2 + 1.5*2^52.
# ---------------------------------------------------------------------------

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

cdef extern from "_target.h":
    const bint HAS_FMA "RELU_FAST_HAS_FMA"

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
    else:
        elu_bwd_result_span(g, x, gx, n, p[0])


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
# (measured: see README, "Instruction sets").
cdef Py_ssize_t STREAM_BYTES = 16 * 1024 * 1024
cdef enum:
    STREAM_BLOCK = 512      # elements computed into L1 before each streamed copy
                            # (smaller buffers were slower on huge arrays: loads and stores take turns)


cdef inline Py_ssize_t chunk_size(Py_ssize_t n, int nthreads) noexcept nogil:
    cdef Py_ssize_t c = (n + nthreads - 1) // nthreads
    return (c + 63) // 64 * 64


cdef inline void unary_piece(int op, const floating* x, floating* y, Py_ssize_t n, const double* p,
                             bint stream) noexcept nogil:
    cdef floating buf[STREAM_BLOCK]
    cdef Py_ssize_t lo = 0, k
    cdef bint done
    if not stream:
        unary_span(op, x, y, n, p)
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
    if done:
        store_fence()
        return
    while lo < n:
        k = n - lo
        if k > STREAM_BLOCK:
            k = STREAM_BLOCK
        unary_span(op, x + lo, buf, k, p)
        stream_copy(y + lo, buf, k * sizeof(floating))
        lo += k
    store_fence()


cdef inline void binary_piece(int op, const floating* g, const floating* x, floating* gx, Py_ssize_t n,
                              const double* p, bint stream) noexcept nogil:
    cdef floating buf[STREAM_BLOCK]
    cdef Py_ssize_t lo = 0, k
    cdef bint done = False
    if not stream:
        binary_span(op, g, x, gx, n, p)
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
    if done:
        store_fence()
        return
    while lo < n:
        k = n - lo
        if k > STREAM_BLOCK:
            k = STREAM_BLOCK
        binary_span(op, g + lo, x + lo, buf, k, p)
        stream_copy(gx + lo, buf, k * sizeof(floating))
        lo += k
    store_fence()


cdef void unary_t(int op, const floating* x, floating* y, Py_ssize_t n, const double* p, int nthreads) noexcept nogil:
    cdef Py_ssize_t k, lo, hi, chunk, nchunks
    cdef fpstate fps
    cdef long long t0, tb
    cdef team_work work
    # ELU is compute-bound: streaming through the buffer made it slower (README,
    # "Instruction sets"), so its stores stay ordinary
    cdef bint stream = (<const floating*>y != x and op != OP_ELU
                        and n * <Py_ssize_t>sizeof(floating) >= STREAM_BYTES)
    if nthreads <= 1 or n <= 128:
        unary_piece(op, x, y, n, p, stream)
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
        unary_piece(op, x + lo, y + lo, hi - lo, p, stream)
        piece_end(&work, tb)
        fp_leave(fps)
    team_done(t0, &work)


cdef void binary_t(int op, const floating* g, const floating* x, floating* gx, Py_ssize_t n, const double* p,
                   int nthreads) noexcept nogil:
    cdef Py_ssize_t k, lo, hi, chunk, nchunks
    cdef fpstate fps
    cdef long long t0, tb
    cdef team_work work
    cdef bint stream = (<const floating*>gx != x and <const floating*>gx != g
                        and n * <Py_ssize_t>sizeof(floating) >= STREAM_BYTES)
    if nthreads <= 1 or n <= 128:
        binary_piece(op, g, x, gx, n, p, stream)
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
        binary_piece(op, g + lo, x + lo, gx + lo, hi - lo, p, stream)
        piece_end(&work, tb)
        fp_leave(fps)
    team_done(t0, &work)


# ---------------------------------------------------------------------------
# PReLU.  x is viewed as (outer, channels, inner), C order; alpha = w[channel].
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


cdef inline void prelu_rows(const floating* x, const floating* w, floating* y, Py_ssize_t o0,
                            Py_ssize_t o1, Py_ssize_t C) noexcept nogil:
    cdef Py_ssize_t o
    for o in range(o0, o1):
        prelu_row(x + o * C, w, y + o * C, C)


cdef inline void next_unit(Py_ssize_t* sg, Py_ssize_t* r, Py_ssize_t* c, Py_ssize_t nseg,
                           Py_ssize_t C) noexcept nogil:
    # from unit (segment sg of run r, channel c) to the next: segments of a run first
    sg[0] += 1
    if sg[0] == nseg:
        sg[0] = 0
        r[0] += 1
        c[0] = c[0] + 1 if c[0] + 1 < C else 0


cdef inline void prelu_units(const floating* x, const floating* w, floating* y, Py_ssize_t u0,
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
        leaky_span(x + r * inner + lo, y + r * inner + lo, hi - lo, w[c])
        next_unit(&sg, &r, &c, nseg, C)


cdef void prelu_fwd_t(const floating* x, const floating* w, floating* y, Py_ssize_t outer, Py_ssize_t C,
                      Py_ssize_t inner, int nthreads) noexcept nogil:
    cdef Py_ssize_t o, p, parts, units, nseg
    cdef fpstate fps
    cdef long long t0, tb
    cdef team_work work
    if inner == 1:
        if nthreads <= 1 or outer < 2:
            for o in range(outer):
                prelu_row(x + o * C, w, y + o * C, C)
        else:
            # each thread a contiguous range of rows
            parts = nthreads if outer >= nthreads else outer
            t0 = now_ns()
            work_init(&work)
            for p in prange(parts, nogil=True, num_threads=nthreads, schedule="static"):
                fps = fp_enter()
                tb = piece_begin()
                prelu_rows(x, w, y, p * outer // parts, (p + 1) * outer // parts, C)
                piece_end(&work, tb)
                fp_leave(fps)
            team_done(t0, &work)
        return
    nseg = (inner + SEG - 1) // SEG
    units = outer * C * nseg
    if nthreads <= 1 or units < 2:
        prelu_units(x, w, y, 0, units, C, inner, nseg)
    else:
        # each thread a contiguous range of units (elementwise: any split gives the same result)
        parts = nthreads if units >= nthreads else units
        t0 = now_ns()
        work_init(&work)
        for p in prange(parts, nogil=True, num_threads=nthreads, schedule="static"):
            fps = fp_enter()
            tb = piece_begin()
            prelu_units(x, w, y, p * units // parts, (p + 1) * units // parts, C, inner, nseg)
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


cdef inline void prelu_bwd_part(const floating* g, const floating* x, const floating* w, floating* gx,
                                double* acc, Py_ssize_t u0, Py_ssize_t u1, Py_ssize_t C, Py_ssize_t inner,
                                Py_ssize_t nseg) noexcept nogil:
    cdef Py_ssize_t u, c, r, sg, lo, hi, off
    cdef floating v, gv
    cdef double p
    if inner == 1:
        # rows of C channels, one pass: gx, and acc[c] += term (vectorised across channels)
        for u in range(u0, u1):
            off = u * C
            for c in range(C):
                v = x[off + c]
                gv = g[off + c]
                gx[off + c] = gv if v > 0 else w[c] * gv
                p = <double>v * <double>gv
                acc[c] += 0.0 if v > 0 else p
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
        acc[c] += prelu_bwd_run(g + off, x + off, gx + off, hi - lo, w[c])
        next_unit(&sg, &r, &c, nseg, C)


cdef int prelu_bwd_t(const floating* g, const floating* x, const floating* w, floating* gx, double* gw,
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
        prelu_bwd_part(g, x, w, gx, gw, 0, units, C, inner, nseg)
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
            prelu_bwd_part(g, x, w, gx, partial + p * stride, p * units // parts,
                           (p + 1) * units // parts, C, inner, nseg)
    else:
        t0 = now_ns()
        work_init(&work)
        for p in prange(parts, nogil=True, num_threads=nthreads, schedule="dynamic"):
            fps = fp_enter()
            tb = piece_begin()
            prelu_bwd_part(g, x, w, gx, partial + p * stride, p * units // parts,
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


# ---------------------------------------------------------------------------
# Entry points (dtype switch) and the table handed to the API layer.
# ---------------------------------------------------------------------------

cdef void unary(int op, int dtype, const void* x, void* y, Py_ssize_t n, const double* p, int nthreads) noexcept nogil:
    if dtype == DT_F32:
        unary_t(op, <const float*>x, <float*>y, n, p, nthreads)
    else:
        unary_t(op, <const double*>x, <double*>y, n, p, nthreads)


cdef void binary(int op, int dtype, const void* g, const void* x, void* gx, Py_ssize_t n, const double* p,
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
    cdef int status
    if dtype == DT_F32:
        status = prelu_bwd_t(<const float*>g, <const float*>x, <const float*>w, <float*>gx, gw,
                             outer, C, inner, nthreads)
    else:
        status = prelu_bwd_t(<const double*>g, <const double*>x, <const double*>w, <double*>gx, gw,
                             outer, C, inner, nthreads)
    return status


cdef extern from "_target.h":
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
    _table.team_report = team_report
    fill_train_table(&_table)
    return PyCapsule_New(<void*>&_table, b"relu_fast.KernelTable", NULL)


COMPILED_FOR = RELU_FAST_COMPILED_FOR.decode()
# Whether this level has hardware fused multiply-add: elu and elu_backward then take
# elu_fma_span / elu_bwd_fma_span, whose last bit can differ (<= 1 ulp, both within
# 1 ulp of the exact value) from the float64 paths that levels without FMA use.
USES_FMA = bool(HAS_FMA)


def _delay_workers(double microseconds):
    """Make every thread but the calling one start each piece of a parallel region this
    late (tests of the thread policy; 0 turns it off)."""
    team_set_worker_delay(<long long>(microseconds * 1000.0))


def _stream_threshold(nbytes=None):
    """Get, or set, the output size in bytes from which streaming stores are used
    (tests lower it to cover that path on small arrays; benchmarks compare)."""
    global STREAM_BYTES
    previous = STREAM_BYTES
    if nbytes is not None:
        STREAM_BYTES = max(0, int(nbytes))
    return previous
