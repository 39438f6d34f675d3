# Included by _kernels.pxi (after _kernels_expm1.pxi): float64 math helpers of the
# kernels, one self-contained section per helper family.

# ---------------------------------------------------------------------------
# softplus / mish: log1p on [0, 1], the exact low part of a product, and the
# float64 lanes of softplus, its gradient, mish and its gradient.  Branch-free
# (selects only), no libm call; float32 inputs are evaluated here in float64 and
# rounded once by the spans.
# ---------------------------------------------------------------------------

# fdlibm's log coefficients: log(1+f) = f - hfsq + s (hfsq + R(s^2)), s = f / (2 + f),
# hfsq = f^2 / 2, |s| <= 0.1716, |R - exact| <= 2^-58.45 (used by log1p01_pair)
cdef double SP_LG1 = 6.666666666666735130e-01
cdef double SP_LG2 = 3.999999999940941908e-01
cdef double SP_LG3 = 2.857142874366239149e-01
cdef double SP_LG4 = 2.222219843214978396e-01
cdef double SP_LG5 = 1.818357216161805012e-01
cdef double SP_LG6 = 1.531383769920937332e-01
cdef double SP_LG7 = 1.479819860511658591e-01
cdef double SP_SQRT2 = 1.4142135623730951
cdef double SP_LN2_HI = 6.93147180369123816490e-01
cdef double SP_LN2_LO = 1.90821492927058770002e-10
cdef double SP_SPLIT = 134217729.0              # 2^27 + 1: Veltkamp's split
cdef double SP_SPLIT_MAX = 2.0 ** 960           # below it the split cannot overflow
cdef double SP_SMALL = 2.0 ** -300              # factors below it are scaled by SP_UP
cdef double SP_UP = 2.0 ** 600
cdef double SP_DOWN = 2.0 ** -600
cdef double MISH_ZERO = -800.0                  # |x| e^x rounds to 0 in float64 below this
cdef double SP_EXP_ZERO = -745.1332191019412    # ln(2^-1075): float64 e^t rounds to 0 below


cdef inline double two_prod_lo(double a, double b, double p) noexcept nogil:
    # a * b - p exactly for p = fl(a * b) (Dekker, no FMA: the same bits on every
    # level); 0 where a split could overflow (|a| or |b| >= 2^960)
    cdef double ca = SP_SPLIT * a
    cdef double ah = ca - (ca - a)
    cdef double al = a - ah
    cdef double cb = SP_SPLIT * b
    cdef double bh = cb - (cb - b)
    cdef double bl = b - bh
    cdef double lo = (((ah * bh - p) + ah * bl) + al * bh) + al * bl
    return lo if (fabs(a) < SP_SPLIT_MAX) & (fabs(b) < SP_SPLIT_MAX) else 0.0



# Pairs hi + lo (|lo| <= ulp(hi) / 2): float64 with about 100 bits, for the few steps
# whose roundings would add up past 1 ulp.  Every step is ordinary IEEE arithmetic
# (no FMA): the same bits on every level, and in _reference.py's NumPy twin.

ctypedef struct dd:
    double hi
    double lo


ctypedef struct exp_dd:
    double hi                                   # e^t = (hi + lo) s2
    double lo
    double s2                                   # 1, or 2^j < 1 when e^t < 2^-1000


cdef inline dd dd_make(double h, double l) noexcept nogil:
    cdef dd r
    r.hi = h
    r.lo = l
    return r


cdef inline dd fast_two_sum(double a, double b) noexcept nogil:
    # a + b exactly, for |a| >= |b| (or a = 0)
    cdef double s = a + b
    return dd_make(s, (a - s) + b)


cdef inline dd two_sum(double a, double b) noexcept nogil:
    cdef double s = a + b
    cdef double bb = s - a
    return dd_make(s, (a - (s - bb)) + (b - bb))


cdef inline dd dd_add(dd a, dd b) noexcept nogil:
    cdef dd s = two_sum(a.hi, b.hi)
    return fast_two_sum(s.hi, s.lo + (a.lo + b.lo))


cdef inline dd dd_mul(dd a, dd b) noexcept nogil:
    cdef double p = a.hi * b.hi
    return fast_two_sum(p, two_prod_lo(a.hi, b.hi, p) + (a.hi * b.lo + a.lo * b.hi))


cdef inline dd dd_div(dd a, dd b) noexcept nogil:
    # b.hi >= 1 here
    cdef double q = a.hi / b.hi
    cdef double P = q * b.hi
    cdef double Pl = two_prod_lo(q, b.hi, P)
    return fast_two_sum(q, (((a.hi - P) - Pl) + (a.lo - q * b.lo)) / b.hi)


cdef inline double dd_scale(double g, dd s) noexcept nogil:
    # g (s.hi + s.lo), rounded once (g s.hi for g = +-inf or a zero product, signs kept);
    # g and s below 2^-300 are scaled by 2^600 first and the result back last (exact but
    # for a subnormal result's rounding), so that Dekker's low part never underflows
    cdef bint sg = fabs(g) < SP_SMALL
    cdef bint ss = fabs(s.hi) < SP_SMALL
    cdef double gs = g * (SP_UP if sg else 1.0)
    cdef double hs = s.hi * (SP_UP if ss else 1.0)
    cdef double ls = s.lo * (SP_UP if ss else 1.0)
    cdef double p = gs * hs
    cdef double r = p + (two_prod_lo(gs, hs, p) + gs * ls)
    r = p if (fabs(g) == INFINITY) | (p == 0) else r
    return (r * (SP_DOWN if sg else 1.0)) * (SP_DOWN if ss else 1.0)


cdef inline exp_dd exp_pair(double t) noexcept nogil:
    # e^t for t <= 0 (or NaN) as (hi + lo) s2, hi + lo within about 2^-56 relative
    # (exp_neg's reduction and degree-13 Taylor, with r's and the sum's rounding kept)
    cdef exp_dd E
    cdef double m, k, rh, kl, r, rl, q, u, ph, pl, k1, s1, sp
    t = EXP_FLOOR if t < EXP_FLOOR else t       # NaN stays NaN
    m = t * LOG2E + MAGIC
    k = m - MAGIC
    rh = t - k * LN2_HI                         # exact
    kl = k * LN2_LO
    r = rh - kl
    rl = (rh - r) - kl
    q = 1.0 / 6227020800.0
    q = 1.0 / 479001600.0 + r * q
    q = 1.0 / 39916800.0 + r * q
    q = 1.0 / 3628800.0 + r * q
    q = 1.0 / 362880.0 + r * q
    q = 1.0 / 40320.0 + r * q
    q = 1.0 / 5040.0 + r * q
    q = 1.0 / 720.0 + r * q
    q = 1.0 / 120.0 + r * q
    q = 1.0 / 24.0 + r * q
    q = 1.0 / 6.0 + r * q
    q = 0.5 + r * q
    u = (r * r) * q
    ph = r + u                                  # expm1(r + rl) = ph + pl
    pl = ((r - ph) + u) + rl * (1.0 + ph)
    k1 = k if k > -1000.0 else -1000.0
    s1 = pow2_from_magic(k1 + MAGIC)
    sp = s1 * ph                                # exact
    E.hi = s1 + sp
    E.lo = ((s1 - E.hi) + sp) + s1 * pl
    E.s2 = pow2_from_magic((k - k1) + MAGIC)
    return E


cdef inline dd log1p01_pair(double u) noexcept nogil:
    # log1p(u) for u in [0, 1] (or NaN) as a pair, within about 2^-58 relative: log1p01's
    # steps with f^2 / 2, s = f / (2 + f), s (f^2 / 2 + R) and the sums kept exact
    cdef double w = 1.0 + u
    cdef double c = (u - (w - 1.0)) / w
    cdef bint big = w > SP_SQRT2
    cdef double k = 1.0 if big else 0.0
    cdef double f = (w * 0.5 if big else w) - 1.0
    cdef dd S = dd_div(dd_make(f, 0.0), fast_two_sum(2.0, f))
    cdef double z = S.hi * S.hi
    cdef double R = z * (SP_LG1 + z * (SP_LG2 + z * (SP_LG3 + z * (SP_LG4 + z * (SP_LG5
                    + z * (SP_LG6 + z * SP_LG7))))))
    cdef double ff = f * f
    cdef dd H = dd_make(0.5 * ff, 0.5 * two_prod_lo(f, f, ff))     # f^2 / 2 exactly
    cdef dd A = fast_two_sum(H.hi, R)
    A.lo = A.lo + H.lo
    cdef dd P = dd_add(dd_add(dd_make(f, 0.0), dd_make(-H.hi, -H.lo)), dd_mul(S, A))
    return dd_add(P, dd_make(k * SP_LN2_HI, k * SP_LN2_LO + c))


cdef inline double softplus_wide(double t, double tlo, double beta) noexcept nogil:
    # log(1 + e^(t + tlo)) / beta: max(t, 0) + log1p(e) + tlo sigmoid(t), e = e^-|t|, tlo
    # the low part of t, as a pair divided by beta (one rounding); below about -693
    # (e < 2^-1000) it is e itself, scaled last (subnormal results rounded once), 0 below
    # ln(2^-1075).  +inf gives +inf, -inf 0, NaN NaN
    cdef exp_dd E = exp_pair(-fabs(t))
    cdef double m = t if t > 0 else 0.0
    cdef double d = 1.0 + E.hi
    cdef dd L = log1p01_pair(E.hi)
    cdef double sig = (1.0 if t > 0 else E.hi) / d
    cdef dd Y = dd_add(dd_make(m, 0.0), dd_make(L.hi, L.lo + (E.lo / d + tlo * sig)))
    cdef double y = Y.hi if beta == 1.0 else dd_div(Y, dd_make(beta, 0.0)).hi
    cdef double deep = ((E.hi + (E.lo + E.hi * tlo)) / beta) * E.s2
    y = deep if (E.s2 != 1.0) & (t < 0) else y
    return 0.0 if t < SP_EXP_ZERO else y        # e^t rounds to 0 (and tlo e^t must not show)


cdef inline double softplus_bwd_wide(double gv, double t, double tlo) noexcept nogil:
    # g sigmoid(t + tlo), sigmoid = (t > 0 ? 1 : e) / (1 + e) as a pair (+ tlo e / (1 + e)^2),
    # rounded once; below -693 g e, scaled last; g * 0 where e^t rounds to 0 (-inf included)
    cdef exp_dd E = exp_pair(-fabs(t))
    cdef dd D = fast_two_sum(1.0, E.hi)
    D.lo = D.lo + E.lo
    cdef dd num = dd_make(1.0, 0.0) if t > 0 else dd_make(E.hi, E.lo)
    cdef dd S = dd_div(num, D)
    S.lo = S.lo + tlo * (E.hi / (D.hi * D.hi))
    cdef double y = dd_scale(gv, S)
    cdef double deep = dd_scale(gv, dd_make(E.hi, E.lo + E.hi * tlo)) * E.s2
    y = deep if (E.s2 != 1.0) & (t < 0) else y
    return gv * 0.0 if t < SP_EXP_ZERO else y


cdef inline double mish_wide(double v) noexcept nogil:
    # x tanh(softplus(x)) with e = e^-|x| (a pair; no log, no overflow):
    #   x >= 0: x A / B, A = 1 + 2e, B = A + 2e^2
    #   x < 0:  x e N / D, N = 2 + e, D = 1 + (1 + e)^2  (x e unscaled, times s2 last)
    # in pair arithmetic, rounded once; x where e = 0 (+inf included), -0 below -800
    # (-inf included; PyTorch: NaN)
    cdef exp_dd E = exp_pair(-fabs(v))          # NaN stays NaN
    cdef bint small = fabs(v) < SP_SMALL        # x e's low part must not underflow
    cdef double vs = v * (SP_UP if small else 1.0)
    cdef double eh = E.hi * E.s2, el = E.lo * E.s2
    cdef dd e = dd_make(eh, el)
    cdef dd A = fast_two_sum(1.0, 2.0 * eh)
    A.lo = A.lo + 2.0 * el
    cdef dd E2 = dd_mul(e, e)
    cdef dd B = dd_add(A, dd_make(2.0 * E2.hi, 2.0 * E2.lo))
    cdef double pos = dd_scale(v, dd_div(A, B))
    pos = v if eh == 0 else pos                 # (dd_scale scales a tiny x itself)
    cdef dd N = fast_two_sum(2.0, eh)
    N.lo = N.lo + el
    cdef dd F = fast_two_sum(1.0, eh)
    F.lo = F.lo + el
    cdef dd F2 = dd_mul(F, F)
    cdef dd D = fast_two_sum(F2.hi, 1.0)
    D.lo = D.lo + F2.lo
    cdef double xh = vs * E.hi
    cdef dd X = dd_make(xh, two_prod_lo(vs, E.hi, xh) + vs * E.lo)
    cdef dd Y = dd_mul(X, dd_div(N, D))
    cdef double nz = 0.0
    nz = -nz                                   # (a literal -0.0 may fold to +0.0)
    cdef double neg = nz if v < MISH_ZERO else (Y.hi * E.s2) * (SP_DOWN if small else 1.0)
    return pos if v >= 0 else neg


cdef inline double mish_bwd_pos_wide(double gv, double v, exp_dd E) noexcept nogil:
    # x >= 0 (E = e^-|x|): g (A / B + 4 x e^2 (1 + e) / B^2), A, B as mish_wide's (both
    # terms >= 0).  mish_bwd_wide's halves are two functions so that the compiler
    # inlines each into the span (one would be past its size limit: a call per element)
    cdef double eh = E.hi * E.s2, el = E.lo * E.s2
    cdef dd e = dd_make(eh, el)
    cdef dd A = fast_two_sum(1.0, 2.0 * eh)
    A.lo = A.lo + 2.0 * el
    cdef dd E2 = dd_mul(e, e)
    cdef dd B = dd_add(A, dd_make(2.0 * E2.hi, 2.0 * E2.lo))
    cdef dd T = dd_div(A, B)
    cdef dd F = fast_two_sum(1.0, eh)
    F.lo = F.lo + el
    cdef dd U = dd_div(dd_mul(dd_mul(dd_make(4.0 * v, 0.0), E2), F), dd_mul(B, B))
    U = dd_make(0.0, 0.0) if eh == 0 else U    # +inf * 0
    return dd_scale(gv, dd_add(T, U))


cdef inline double mish_bwd_neg_wide(double gv, double v, exp_dd E) noexcept nogil:
    # x < 0: g e P / D^2, P = (4 + 4x) + e ((6 + 4x) + e (4 + e)), D = 1 + (1 + e)^2;
    # P cancels only at mish's minimum, x ~ -1.1924.  g * 0 below -800 (-inf included)
    cdef double eh = E.hi * E.s2, el = E.lo * E.s2
    cdef dd e = dd_make(eh, el)
    cdef dd F = fast_two_sum(1.0, eh)
    F.lo = F.lo + el
    cdef dd F2 = dd_mul(F, F)
    cdef dd D = fast_two_sum(F2.hi, 1.0)
    D.lo = D.lo + F2.lo
    cdef double x4 = 4.0 * v
    cdef dd c4 = fast_two_sum(4.0, eh)
    c4.lo = c4.lo + el
    cdef dd P = dd_add(two_sum(4.0, x4), dd_mul(e, dd_add(two_sum(6.0, x4), dd_mul(e, c4))))
    cdef dd G = dd_div(dd_mul(dd_make(E.hi, E.lo), P), dd_mul(D, D))
    cdef double neg = dd_scale(gv, G) * E.s2
    return gv * 0.0 if v < MISH_ZERO else neg


cdef inline double mish_bwd_wide(double gv, double v) noexcept nogil:
    # g mish'(x), mish' = s + x sigmoid(x) (1 - s^2), s = tanh(softplus(x)), e = e^-|x|,
    # in pair arithmetic, rounded once (the halves above); g at +inf, g * 0 below -800
    # (-inf included); PyTorch: NaN at both infinities.  For the float32 span's rare rest
    cdef exp_dd E = exp_pair(-fabs(v))
    return mish_bwd_pos_wide(gv, v, E) if v >= 0 else mish_bwd_neg_wide(gv, v, E)



# float32 lanes of softplus, mish and their gradients: plain float64 (no pairs: a
# float32 result needs about 30 of float64's 53 bits), for |t| <= F32_LANE_MAX and a
# finite g, which keeps every intermediate in range; the spans send the rest (NaN,
# infinities, the far tails) to the pair lanes above, which define those cases.
cdef double F32_LANE_MAX = 200.0


cdef inline double log1p01(double u) noexcept nogil:
    # log1p(u) for u in [0, 1] in plain float64 (fdlibm's steps, under 1 ulp; the
    # quotients from recip_f32w)
    cdef double w = 1.0 + u
    cdef double c = (u - (w - 1.0)) * recip_f32w(w)
    cdef bint big = w > SP_SQRT2
    cdef double k = 1.0 if big else 0.0
    cdef double f = (w * 0.5 if big else w) - 1.0
    cdef double s = f * recip_f32w(2.0 + f)
    cdef double z = s * s
    cdef double R = mad(SP_LG7, z, SP_LG6)
    R = mad(R, z, SP_LG5)
    R = mad(R, z, SP_LG4)
    R = mad(R, z, SP_LG3)
    R = mad(R, z, SP_LG2)
    R = mad(R, z, SP_LG1)
    R = R * z
    cdef double hfsq = 0.5 * f * f
    return k * SP_LN2_HI - ((hfsq - (s * (hfsq + R) + (k * SP_LN2_LO + c))) - f)


cdef inline double softplus_f32(double t, double inv_beta) noexcept nogil:
    # log(1 + e^t) / beta = (max(t, 0) + log1p(e^-|t|)) / beta
    cdef double m = t if t > 0 else 0.0
    return (m + log1p01(exp_neg_f32(-fabs(t)))) * inv_beta


cdef inline double softplus_bwd_f32(double gv, double t) noexcept nogil:
    # g sigmoid(t) = g (t > 0 ? 1 : e) / (1 + e), e = e^-|t|
    cdef double e = exp_neg_f32(-fabs(t))
    return gv * ((1.0 if t > 0 else e) * recip_f32w(1.0 + e))


cdef inline double mish_f32(double v) noexcept nogil:
    # mish_wide's forms in plain float64: x A / B (x >= 0), x e N / D (x < 0)
    cdef double e = exp_neg_f32(-fabs(v))
    cdef double A = mad(2.0, e, 1.0)
    cdef double f = 1.0 + e
    cdef double pos = (v * A) * recip_f32w(mad(2.0 * e, e, A))
    cdef double neg = ((v * e) * (2.0 + e)) * recip_f32w(mad(f, f, 1.0))
    return pos if v >= 0 else neg


cdef inline double mish_bwd_f32(double gv, double v) noexcept nogil:
    # mish_bwd_wide's forms in plain float64: A / B + 4 x e^2 (1 + e) / B^2 (x >= 0),
    # e P / D^2 (x < 0); P's cancellation at mish's minimum costs absolute error only
    cdef double e = exp_neg_f32(-fabs(v))
    cdef double A = mad(2.0, e, 1.0)
    cdef double e2 = e * e
    cdef double rB = recip_f32w(mad(2.0, e2, A))
    cdef double f = 1.0 + e
    cdef double pos = mad((4.0 * v) * e2 * f, rB * rB, A * rB)
    cdef double x4 = 4.0 * v
    cdef double P = (4.0 + x4) + e * ((6.0 + x4) + e * (4.0 + e))
    cdef double rD = recip_f32w(mad(f, f, 1.0))
    cdef double neg = (e * P) * (rD * rD)
    return gv * (pos if v >= 0 else neg)

# ---------------------------------------------------------------------------
# GELU: x Phi(x) (erf form) and x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3)
# (tanh form), and their derivatives.  Everything is evaluated in float64 for both
# dtypes (float32 results are rounded once at the end), branch-free: every lane
# evaluates every piece and the result is selected.  No libm call.
#
# Erf form.  With a = |x| / sqrt(2), N = |x| Phi(-|x|) = |x| erfc(a) / 2 >= 0, and
# gelu(x) = x - N for x >= 0, -N for x < 0 (no cancellation on either side).
# erfc(a) uses the rational approximations of fdlibm's s_erf.c on its intervals
# [0, 0.84375), [0.84375, 1.25), [1.25, 1/0.35), [1/0.35, inf), the interval's
# numerator and denominator selected before one division.  Two changes keep the
# result within 2 ulp (measured: tools/accuracy_gelu.py) where erfc is steep:
#  - a = ah + al exactly (Dekker's product); the first two intervals add the first-
#    order term -al * 2/sqrt(pi) exp(-a^2) that evaluating at ah leaves out;
#  - the tail intervals compute erfc(a) = exp(-a^2 - 0.5625 + R/S) / a, so
#    N = exp(-x^2/2 - 0.5625 + R/S) / sqrt(2): x^2 / 2 is split as hi^2 / 2 (exact,
#    hi = x with 21 bits) plus a small rest, and the exponential reduces the pair
#    (hi part, small part) without rounding their sum; 2^k is applied as two
#    factors (the second rounding once into subnormals), so N underflows gracefully.
# |x| is clamped to 40 (N is 0 in float64 beyond 38.6), so +-inf and huge x give the
# limits x and -0 (x - 0 and -0), with no overflow; NaN stays NaN.
#
# The coefficients (pp*, qq*, pa*, qa*, ra*, sa*, rb*, sb*, erx) are fdlibm's:
#   ====================================================
#   Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
#
#   Developed at SunPro, a Sun Microsystems, Inc. business.
#   Permission to use, copy, modify, and distribute this
#   software is freely granted, provided that this notice
#   is preserved.
#   ====================================================
# ---------------------------------------------------------------------------

cdef double GELU_SPLIT27 = 134217729.0          # 2^27 + 1: Veltkamp split into 26 + 26 bits
cdef double GELU_SPLIT32 = 4294967297.0         # 2^32 + 1: a 21-bit high part
cdef double GELU_INV_SQRT2 = 0.7071067811865476
cdef double GELU_INV_SQRT2_LO = -4.833646656726457e-17
cdef double GELU_INV_SQRT_2PI = 0.3989422804014327
cdef double GELU_INV_SQRT_2PI_LO = -2.49232720227773e-17
cdef double GELU_SQRT_PI = 1.7724538509055159
cdef double GELU_TWO_OVER_SQRTPI = 1.1283791670955126
cdef double GELU_ERF_CLAMP = 40.0
cdef double GELU_EXP_LOW = -1400.0               # exp(t) is 0 well above this

cdef double GELU_ERX = 8.45062911510467529297e-01
cdef double GELU_PP0 = 1.28379167095512558561e-01
cdef double GELU_PP1 = -3.25042107247001499370e-01
cdef double GELU_PP2 = -2.84817495755985104766e-02
cdef double GELU_PP3 = -5.77027029648944159157e-03
cdef double GELU_PP4 = -2.37630166566501626084e-05
cdef double GELU_QQ1 = 3.97917223959155352819e-01
cdef double GELU_QQ2 = 6.50222499887672944485e-02
cdef double GELU_QQ3 = 5.08130628187576562776e-03
cdef double GELU_QQ4 = 1.32494738004321644526e-04
cdef double GELU_QQ5 = -3.96022827877536812320e-06
cdef double GELU_PA0 = -2.36211856075265944077e-03
cdef double GELU_PA1 = 4.14856118683748331666e-01
cdef double GELU_PA2 = -3.72207876035701323847e-01
cdef double GELU_PA3 = 3.18346619901161753674e-01
cdef double GELU_PA4 = -1.10894694282396677476e-01
cdef double GELU_PA5 = 3.54783043256182359371e-02
cdef double GELU_PA6 = -2.16637559486879084300e-03
cdef double GELU_QA1 = 1.06420880400844228286e-01
cdef double GELU_QA2 = 5.40397917702171048937e-01
cdef double GELU_QA3 = 7.18286544141962662868e-02
cdef double GELU_QA4 = 1.26171219808761642112e-01
cdef double GELU_QA5 = 1.36370839120290507362e-02
cdef double GELU_QA6 = 1.19844998467991074170e-02
cdef double GELU_RA0 = -9.86494403484714822705e-03
cdef double GELU_RA1 = -6.93858572707181764372e-01
cdef double GELU_RA2 = -1.05586262253232909814e+01
cdef double GELU_RA3 = -6.23753324503260060396e+01
cdef double GELU_RA4 = -1.62396669462573470355e+02
cdef double GELU_RA5 = -1.84605092906711035994e+02
cdef double GELU_RA6 = -8.12874355063065934246e+01
cdef double GELU_RA7 = -9.81432934416914548592e+00
cdef double GELU_SA1 = 1.96512716674392571292e+01
cdef double GELU_SA2 = 1.37657754143519042600e+02
cdef double GELU_SA3 = 4.34565877475229228821e+02
cdef double GELU_SA4 = 6.45387271733267880336e+02
cdef double GELU_SA5 = 4.29008140027567833386e+02
cdef double GELU_SA6 = 1.08635005541779435134e+02
cdef double GELU_SA7 = 6.57024977031928170135e+00
cdef double GELU_SA8 = -6.04244152148580987438e-02
cdef double GELU_RB0 = -9.86494292470009928597e-03
cdef double GELU_RB1 = -7.99283237680523006574e-01
cdef double GELU_RB2 = -1.77579549177547519889e+01
cdef double GELU_RB3 = -1.60636384855821916062e+02
cdef double GELU_RB4 = -6.37566443368389627722e+02
cdef double GELU_RB5 = -1.02509513161107724954e+03
cdef double GELU_RB6 = -4.83519191608651397019e+02
cdef double GELU_SB1 = 3.03380607434824582924e+01
cdef double GELU_SB2 = 3.25792512996573918826e+02
cdef double GELU_SB3 = 1.53672958608443695994e+03
cdef double GELU_SB4 = 3.19985821950859553908e+03
cdef double GELU_SB5 = 2.55305040643316442583e+03
cdef double GELU_SB6 = 4.74528541206955367215e+02
cdef double GELU_SB7 = -2.24409524465858183362e+01


cdef inline double gelu_two_prod(double a, double b, double* lo) noexcept nogil:
    # a b = p + lo exactly (Dekker; no FMA: the same bits on every level); |a|, |b| < 2^995
    cdef double p = a * b
    cdef double t, ah, al, bh, bl
    t = GELU_SPLIT27 * a
    ah = t - (t - a)
    al = a - ah
    t = GELU_SPLIT27 * b
    bh = t - (t - b)
    bl = b - bh
    lo[0] = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p


cdef inline double gelu_exp_pair(double th, double tl, double* s1, double* s2) noexcept nogil:
    # exp(th + tl) = (1 + p) s1 s2, returning p, for th + tl in [GELU_EXP_LOW, 1] (NaN:
    # NaN p).  The reduction works on the pair (th - k ln2_hi exact for the large th
    # of the callers), so th + tl is never rounded; s1 = 2^max(k, -1000) and
    # s2 = 2^(k - k1): multiplying by s1, then s2 last, rounds once into subnormals.
    cdef double m = (th + tl) * LOG2E + MAGIC
    cdef double k = m - MAGIC
    cdef double r = (th - k * LN2_HI) + (tl - k * LN2_LO)
    cdef double k1 = k if k > -1000.0 else -1000.0
    s1[0] = pow2_from_magic(k1 + MAGIC)
    s2[0] = pow2_from_magic((k - k1) + MAGIC)
    return expm1_poly(r, 13)


cdef inline double gelu_erf_parts(double xc, double* E, double* q, double* th, double* tl) noexcept nogil:
    # For xc = min(|x|, 40) (or NaN): returns ah = xc / sqrt(2) rounded and sets
    #  *E  = erfc(a) for a < 1.25 (intervals 1, 2; its first-order correction for al
    #        not yet applied: the caller has exp(-a^2)), else unused;
    #  *q  = R/S for a >= 1.25 (tail: erfc(a) = exp(-a^2 - 0.5625 + q) / a);
    #  *th + *tl = -x^2 / 2 (th = -hi^2 / 2 exact).
    cdef double ah, z, s, w, num, den, y, hi, t
    ah = xc * GELU_INV_SQRT2
    t = GELU_SPLIT32 * xc
    hi = t - (t - xc)
    th[0] = -0.5 * (hi * hi)
    tl[0] = -0.5 * ((xc - hi) * (xc + hi))
    # interval 1: y = P(z) / Q(z), z = a^2;  interval 2: s = a - 1 (exact)
    z = ah * ah
    s = ah - 1.0
    w = -1.0 / (th[0] + tl[0])                      # 1 / a^2 = 2 / x^2, from the exact pair
    num = GELU_PP0 + z * (GELU_PP1 + z * (GELU_PP2 + z * (GELU_PP3 + z * GELU_PP4)))
    den = 1.0 + z * (GELU_QQ1 + z * (GELU_QQ2 + z * (GELU_QQ3 + z * (GELU_QQ4 + z * GELU_QQ5))))
    cdef double num2 = GELU_PA0 + s * (GELU_PA1 + s * (GELU_PA2 + s * (GELU_PA3 + s * (
        GELU_PA4 + s * (GELU_PA5 + s * GELU_PA6)))))
    cdef double den2 = 1.0 + s * (GELU_QA1 + s * (GELU_QA2 + s * (GELU_QA3 + s * (
        GELU_QA4 + s * (GELU_QA5 + s * GELU_QA6)))))
    cdef double num3 = GELU_RA0 + w * (GELU_RA1 + w * (GELU_RA2 + w * (GELU_RA3 + w * (
        GELU_RA4 + w * (GELU_RA5 + w * (GELU_RA6 + w * GELU_RA7))))))
    cdef double den3 = 1.0 + w * (GELU_SA1 + w * (GELU_SA2 + w * (GELU_SA3 + w * (
        GELU_SA4 + w * (GELU_SA5 + w * (GELU_SA6 + w * (GELU_SA7 + w * GELU_SA8)))))))
    cdef double num4 = GELU_RB0 + w * (GELU_RB1 + w * (GELU_RB2 + w * (GELU_RB3 + w * (
        GELU_RB4 + w * (GELU_RB5 + w * GELU_RB6)))))
    cdef double den4 = 1.0 + w * (GELU_SB1 + w * (GELU_SB2 + w * (GELU_SB3 + w * (
        GELU_SB4 + w * (GELU_SB5 + w * (GELU_SB6 + w * GELU_SB7))))))
    num = num if ah < 0.84375 else (num2 if ah < 1.25 else (num3 if ah < 2.857142857142857 else num4))
    den = den if ah < 0.84375 else (den2 if ah < 1.25 else (den3 if ah < 2.857142857142857 else den4))
    y = num / den
    # erfc(a) = 1 - a - a y = 0.5 - (a y + (a - 0.5)) (fdlibm's order), or 1 - erx - y
    E[0] = (0.5 - (ah * y + (ah - 0.5))) if ah < 0.84375 else ((1.0 - GELU_ERX) - y)
    q[0] = y
    return ah


cdef inline double gelu_erf_al(double xc, double ah) noexcept nogil:
    # xc / sqrt(2) - ah: the rounding error of ah (1/sqrt(2) as a pair)
    cdef double lo
    gelu_two_prod(xc, GELU_INV_SQRT2, &lo)
    return lo + xc * GELU_INV_SQRT2_LO


cdef inline double gelu_erf_lane(double v) noexcept nogil:
    # gelu(v) = v Phi(v) in float64 (measured within 2 ulp)
    cdef double xc, ah, al, E, q, th, tl, p, s1, s2, ea, N, Nt, c
    xc = fabs(v)
    xc = GELU_ERF_CLAMP if xc > GELU_ERF_CLAMP else xc       # NaN stays NaN
    ah = gelu_erf_parts(xc, &E, &q, &th, &tl)
    al = gelu_erf_al(xc, ah)
    # a < 1.25: erfc(ah + al) = erfc(ah) - al 2/sqrt(pi) exp(-a^2); N = xc erfc / 2
    p = gelu_exp_pair(th, tl, &s1, &s2)
    ea = ((1.0 + p) * s1) * s2
    E = E - al * (GELU_TWO_OVER_SQRTPI * ea)
    N = xc * (0.5 * E)
    # a >= 1.25: N = exp(-x^2/2 - 0.5625 + q) / sqrt(2), 1/sqrt(2) as a pair, 2^k applied
    # last; th - 0.5625 is exact there (hi has 21 bits and |x| > 1.7), q joins the small part
    p = gelu_exp_pair(th - 0.5625, tl + q, &s1, &s2)
    c = GELU_INV_SQRT2 + (GELU_INV_SQRT2 * p + GELU_INV_SQRT2_LO * (1.0 + p))
    Nt = (c * s1) * s2
    N = N if ah < 1.25 else Nt
    return v - N if v >= 0 else -N


# Near the zero x0 ~ -0.752 of each derivative, Phi(x) + x phi(x) (and the tanh
# form's S + ...) cancel: there the derivative is (x - x0) H(x - x0) instead, H fitted
# (mpmath.chebyfit of the exact derivative / (x - x0)), so that it keeps its relative
# accuracy down to the zero.
cdef double GELU_ERF_ROOT = -0.7517915246935645
cdef double GELU_ERF_ROOT_LO = 1.4956759177009883e-17


cdef inline double gelu_erf_bwd_near_root(double v) noexcept nogil:
    # the derivative for x - x0 in [-0.75, 0.45] around its zero x0: (x - x0) H(x - x0), H a
    # Chebyshev interpolant of degree 20 (relative error < 1e-18), x - x0 from x0's pair
    cdef double t = (v - GELU_ERF_ROOT) - GELU_ERF_ROOT_LO
    cdef double h = -4.0459914314364897e-11
    h = h * t + 1.9560191862665496e-10
    h = h * t + 1.8926547894508084e-09
    h = h * t + -1.4417328888049376e-09
    h = h * t + -3.547369187634592e-08
    h = h * t + -1.5900158308914923e-09
    h = h * t + 5.702848003366016e-07
    h = h * t + 4.328429955260303e-07
    h = h * t + -7.748463353930358e-06
    h = h * t + -1.1214380106743706e-05
    h = h * t + 8.615947888655025e-05
    h = h * t + 0.00018633974624515122
    h = h * t + -0.000744826838696102
    h = h * t + -0.002239538068075246
    h = h * t + 0.004539228379126358
    h = h * t + 0.019421679838189147
    h = h * t + -0.014771522148244358
    h = h * t + -0.1140082332972217
    h = h * t + -0.018199676398671087
    h = h * t + 0.388284982990552
    h = h * t + 0.4314939923140469
    return t * h


cdef inline double gelu_times_scaled(double g, double M, double s1, double s2, double d) noexcept nogil:
    # g M s1 s2, where d = (M s1) s2 is a derivative that may be subnormal: g joins
    # before the last scaling, so a large g brings back the bits d lost (two orders, as
    # galpha_exp_neg: g M first while |g| <= 2^1000, else M s1 first); an infinite g
    # gives g d (NaN where d is 0 in float64)
    cdef double a = ((g * M) * s1) * s2 if fabs(g) <= 2.0 ** 1000 else ((M * s1) * g) * s2
    return g * d if fabs(g) == INFINITY else a


cdef inline double gelu_erf_bwd_lane(double gv, double v) noexcept nogil:
    # g (Phi(x) + x phi(x)) in float64.  With Q = Phi(-xc) - xc phi(xc) (the
    # derivative at -xc), the derivative is 1 - Q for x >= 0 and Q for x < 0
    cdef double xc, ah, al, E, q, th, tl, p, s1, s2, ea, Q, Qt, r, br, M, res, ch, cl
    xc = fabs(v)
    xc = GELU_ERF_CLAMP if xc > GELU_ERF_CLAMP else xc
    ah = gelu_erf_parts(xc, &E, &q, &th, &tl)
    al = gelu_erf_al(xc, ah)
    p = gelu_exp_pair(th, tl, &s1, &s2)             # exp(-x^2/2) = (1 + p) s1 s2
    ea = ((1.0 + p) * s1) * s2
    E = E - al * (GELU_TWO_OVER_SQRTPI * ea)
    # xc phi(xc) = xc/sqrt(2 pi) (1 + p) 2^k with xc/sqrt(2 pi) as an exact pair
    cl = 0.0
    ch = gelu_two_prod(xc, GELU_INV_SQRT_2PI, &cl)
    cl = cl + xc * GELU_INV_SQRT_2PI_LO
    Q = 0.5 * E - ((ch + (ch * p + cl * (1.0 + p))) * s1) * s2
    # tail: Phi(-xc) / phi(xc) = sqrt(pi) exp(q - 0.5625) / xc, so
    # Q = phi(xc) (sqrt(pi) exp(q - 0.5625) / xc - xc), 2^k applied last
    r = exp_neg(q - 0.5625)
    br = GELU_SQRT_PI * r / xc - xc
    M = ((1.0 + p) * GELU_INV_SQRT_2PI) * br
    Qt = (M * s1) * s2
    Q = Q if ah < 1.25 else Qt
    Q = 1.0 - Q if v >= 0 else Q
    Q = gelu_erf_bwd_near_root(v) if -0.75 <= v - GELU_ERF_ROOT <= 0.45 else Q
    res = gv * Q
    res = gelu_times_scaled(gv, M, s1, s2, Qt) if (v < 0) & (ah >= 1.25) else res
    # below -40 the derivative (< 1e-346) is taken as -0: g -0 (NaN for an infinite g)
    return gv * -0.0 if v < -GELU_ERF_CLAMP else res



# float32 lanes of the erf form and its gradient: plain float64 (a float32 result needs
# about 30 bits) with FMA where the level has it, for |x| <= GELU_F32_MAX; the spans send
# the rest (NaN, the far tails, an infinite g) to the lanes above.  With a = |x| / sqrt(2)
# and t = 1 / (1 + a/3), erfc(a) = t H(t) exp(-a^2), H a polynomial fitted to
# erfcx(a) / t on a in [0, 14.2] (mpmath.chebyfit, degree 11: relative error 1.1e-10);
# a^2 = x^2 / 2 is exact for a float32 x, so exp(-a^2) is as good as exp_neg_f32
# (2^-32).  Beyond 20 the float32 results are x and -0, and the gradient times any
# float32 g rounds to 0.
cdef double GELU_F32_MAX = 20.0
cdef double GELU_F32_T = 0.23570226039551584       # 1 / (3 sqrt(2))


cdef inline double gelu_erfc_f32(double xc, double* ez) noexcept nogil:
    # erfc(xc / sqrt(2)) / exp(-xc^2 / 2) for 0 <= xc <= 20, and *ez = exp(-xc^2 / 2)
    cdef double t = recip_f32w(mad(xc, GELU_F32_T, 1.0))
    cdef double h = mad(-0.026499775114036207, t, 0.177599792114001)
    h = mad(h, t, -0.47416097064995294)
    h = mad(h, t, 0.6357637048144117)
    h = mad(h, t, -0.522745910354845)
    h = mad(h, t, 0.3836894595876619)
    h = mad(h, t, -0.044115190236742)
    h = mad(h, t, 0.16705943589974984)
    h = mad(h, t, 0.1486945427176146)
    h = mad(h, t, 0.1786664088740355)
    h = mad(h, t, 0.18798256953582762)
    h = mad(h, t, 0.18806593278158967)
    ez[0] = exp_neg_f32(-0.5 * (xc * xc))
    return t * h


# Near the zero x0 of each derivative (erf and tanh form) the float32 lanes take
# (x - x0) H(x - x0) within 0.2 of x0 (degree 8, relative error < 2e-12; outside, the
# general formula's cancellation costs less than a factor 6).
cdef inline double gelu_erf_bwd_near_root_f32(double v) noexcept nogil:
    cdef double t = (v - GELU_ERF_ROOT) - GELU_ERF_ROOT_LO
    cdef double h = mad(-0.0007371141720509988, t, -0.002222827930419884)
    h = mad(h, t, 0.004538997392149844)
    h = mad(h, t, 0.019421179104357037)
    h = mad(h, t, -0.01477151958359597)
    h = mad(h, t, -0.11400822773623225)
    h = mad(h, t, -0.018199676406362955)
    h = mad(h, t, 0.38828498297387204)
    h = mad(h, t, 0.4314939923140469)
    return t * h


cdef inline double gelu_f32(double v) noexcept nogil:
    # x Phi(x) = x - N (x >= 0) or -N, N = |x| erfc(|x| / sqrt(2)) / 2
    cdef double ez, xc = fabs(v)
    cdef double N = (0.5 * xc) * (gelu_erfc_f32(xc, &ez) * ez)
    return v - N if v >= 0 else -N


cdef inline double gelu_bwd_f32(double gv, double v) noexcept nogil:
    # g (Phi(x) + x phi(x)) = g (1 - Q) (x >= 0) or g Q, Q = Phi(-|x|) - |x| phi(|x|)
    # = exp(-x^2 / 2) (erfcx / 2 - |x| / sqrt(2 pi)); near the zero x0 its fit
    cdef double ez, xc = fabs(v)
    cdef double c = gelu_erfc_f32(xc, &ez)
    cdef double Q = ez * mad(0.5, c, -xc * GELU_INV_SQRT_2PI)
    Q = 1.0 - Q if v >= 0 else Q
    Q = gelu_erf_bwd_near_root_f32(v) if fabs(v - GELU_ERF_ROOT) <= 0.2 else Q
    return gv * Q

# Tanh form: 2u = x (K0 + K1 x^2) with PyTorch's float64 constants taken as exact:
# K0 = 2 kBeta, kBeta = sqrt(2/pi) rounded to float64, K1 = K0 kKappa, kKappa = 0.044715
# rounded to float64 (K1 as a pair).  2u is kept as a pair
# (w, we) from exact products; e = exp(-2|u|) from the pair, so that the relative
# error of e (that of gelu's result for x < 0) stays near 1 ulp even where 2|u| is
# hundreds.  gelu = x / (1 + e) (x >= 0) or x e / (1 + e) (x < 0): no cancellation,
# and |x| is clamped to 26 first (e is 0 there): x^3 never overflows.
cdef double GELU_K0 = 1.5957691216057308
cdef double GELU_K1 = 0.07135481627260025
cdef double GELU_K1_LO = 3.3591871225076503e-19
cdef double GELU_TANH_CLAMP = 26.0               # 2u(26) = 1296: e = 0, 2^k still in reach


cdef inline double gelu_tanh_exp(double xc, double* s1, double* s2) noexcept nogil:
    # e = exp(-2u(xc)) = (1 + p) s1 s2, returning p (xc in [0, 26] or NaN)
    cdef double P, Pe, Qh, Qe, S, Se, Wh, We, t
    P = gelu_two_prod(xc, xc, &Pe)
    Qh = gelu_two_prod(GELU_K1, P, &Qe)
    Qe = Qe + (GELU_K1 * Pe + GELU_K1_LO * P)
    S = GELU_K0 + Qh                                # Knuth's TwoSum: K0 + Qh = S + Se
    t = S - GELU_K0
    Se = (GELU_K0 - (S - t)) + (Qh - t)
    Se = Se + Qe
    Wh = gelu_two_prod(xc, S, &We)
    We = We + xc * Se
    t = -Wh
    t = GELU_EXP_LOW if t < GELU_EXP_LOW else t     # NaN stays NaN
    return gelu_exp_pair(t, -We, s1, s2)


cdef inline double gelu_tanh_lane(double v) noexcept nogil:
    cdef double xc, p, s1, s2, e, yn
    xc = fabs(v)
    xc = GELU_TANH_CLAMP if xc > GELU_TANH_CLAMP else xc
    p = gelu_tanh_exp(xc, &s1, &s2)
    e = ((1.0 + p) * s1) * s2
    yn = -((((xc + xc * p) / (1.0 + e)) * s1) * s2)
    return v / (1.0 + e) if v >= 0 else yn


cdef double GELU_TANH_ROOT = -0.7524614220710162
cdef double GELU_TANH_ROOT_LO = -3.473691681308185e-17


cdef inline double gelu_tanh_bwd_near_root(double v) noexcept nogil:
    # the derivative for x - x0 in [-0.75, 0.45] around its zero x0: (x - x0) H(x - x0), H a
    # Chebyshev interpolant of degree 20 (relative error < 1e-18), x - x0 from x0's pair
    cdef double t = (v - GELU_TANH_ROOT) - GELU_TANH_ROOT_LO
    cdef double h = -7.111649988711507e-09
    h = h * t + -8.520140226157783e-09
    h = h * t + 7.593085102797512e-08
    h = h * t + 1.3555407276400415e-07
    h = h * t + -4.33762807911898e-07
    h = h * t + -9.8813882166783e-07
    h = h * t + 2.4348558672424177e-06
    h = h * t + 5.9184044030181375e-06
    h = h * t + -1.5951195766658113e-05
    h = h * t + -3.495617205670293e-05
    h = h * t + 0.0001242523169298768
    h = h * t + 0.00026392764328465526
    h = h * t + -0.0009274420260010567
    h = h * t + -0.0024227318461644337
    h = h * t + 0.005261059255052472
    h = h * t + 0.019682309459845556
    h = h * t + -0.016619328343055528
    h = h * t + -0.11394448308095922
    h = h * t + -0.015782853521847988
    h = h * t + 0.38751844613578895
    h = h * t + 0.43040009102485854
    return t * h


cdef inline double gelu_tanh_one_plus_e_minus_D(double xc, double e) noexcept nogil:
    # 1 + e - D, D = xc K0 + 3 K1 xc^3, from exact products and TwoSums (xc <= 26)
    cdef double D1, D1e, P, Pe, C, Ce, K3, K3e, D2, D2e, S1, S1e, S2, S2e, t
    D1 = gelu_two_prod(xc, GELU_K0, &D1e)
    P = gelu_two_prod(xc, xc, &Pe)
    C = gelu_two_prod(P, xc, &Ce)
    Ce = Ce + Pe * xc
    K3 = gelu_two_prod(3.0, GELU_K1, &K3e)
    K3e = K3e + 3.0 * GELU_K1_LO
    D2 = gelu_two_prod(K3, C, &D2e)
    D2e = D2e + (K3 * Ce + K3e * C)
    S1 = -D1 - D2                                   # TwoSum(-D1, -D2)
    t = S1 + D1
    S1e = (-D1 - (S1 - t)) + (-D2 - t)
    S2 = S1 + 1.0                                   # TwoSum(S1, 1)
    t = S2 - S1
    S2e = (S1 - (S2 - t)) + (1.0 - t)
    return S2 + (((S1e + S2e) + e) - (D1e + D2e))


cdef inline double gelu_tanh_bwd_lane(double gv, double v) noexcept nogil:
    # d = S + 2x S (1 - S) u'(x), S = sigmoid(2u), S (1 - S) = e / (1 + e)^2,
    # D = 2 xc u'(xc) = xc (K0 + 3 K1 xc^2):
    # x >= 0: 1 / (1 + e) + D e / (1 + e)^2;  x < 0: e / (1 + e) (1 - D / (1 + e))
    cdef double xc, p, s1, s2, e, D, f, dn, M, d
    cdef bint near
    xc = fabs(v)
    xc = GELU_TANH_CLAMP if xc > GELU_TANH_CLAMP else xc
    p = gelu_tanh_exp(xc, &s1, &s2)
    e = ((1.0 + p) * s1) * s2
    D = xc * (GELU_K0 + 3.0 * GELU_K1 * (xc * xc))
    f = 1.0 / (1.0 + e)
    # x < 0: e (1 + e - D) / (1 + e)^2, with 1 + e - D summed from exact pieces
    # (D = xc K0 + 3 K1 xc^3 as pairs), so that its partial cancellation costs no bits
    M = (1.0 + p) * (gelu_tanh_one_plus_e_minus_D(xc, e) / (1.0 + (2.0 * e + e * e)))
    dn = (M * s1) * s2
    d = f + D * e * (f * f) if v >= 0 else dn
    near = -0.3 <= v - GELU_TANH_ROOT <= 0.45      # (the fit covers [-0.75, 0.45])
    d = gelu_tanh_bwd_near_root(v) if near else d
    d = gelu_times_scaled(gv, M, s1, s2, dn) if (v < 0) & (not near) else gv * d
    # below -26 the derivative (< 1e-560) is taken as -0: g -0 (NaN for an infinite g)
    return gv * -0.0 if v < -GELU_TANH_CLAMP else d


# float32 lanes of the tanh form: plain float64 with FMA where the level has it.  2u =
# x (K0 + K1 x^2) from x^2 exact (a float32 x) in a few roundings: e = exp(-2u) keeps
# 2^-43 relative error while 2u <= 200, and beyond that e is taken as 0 (every float32
# result there is x or -0, and the gradient times any float32 g rounds to 0).  Near the
# gradient's zero, its fit (as gelu_erf_bwd_near_root_f32).  No rest for wider lanes:
# |x| clamped to 26 gives the limits at +-inf, NaN stays NaN.
cdef inline double gelu_tanh_e_f32(double xc, double* D) noexcept nogil:
    # e = exp(-2u(xc)) for 0 <= xc <= 26 or NaN; *D = 2 xc u'(xc) = xc (K0 + 3 K1 xc^2)
    cdef double P = xc * xc
    cdef double W = xc * mad(GELU_K1, P, GELU_K0)
    D[0] = xc * mad(3.0 * GELU_K1, P, GELU_K0)
    cdef double e = exp_neg_f32(-W)
    return 0.0 if W > 200.0 else e


cdef inline double gelu_tanh_f32(double v) noexcept nogil:
    # x / (1 + e) (x >= 0) or -|x| e / (1 + e)
    cdef double D, xc = fabs(v)
    xc = GELU_TANH_CLAMP if xc > GELU_TANH_CLAMP else xc
    cdef double e = gelu_tanh_e_f32(xc, &D)
    cdef double r = recip_f32w(1.0 + e)
    return v * r if v >= 0 else -((xc * e) * r)


cdef inline double gelu_tanh_bwd_near_root_f32(double v) noexcept nogil:
    cdef double t = (v - GELU_TANH_ROOT) - GELU_TANH_ROOT_LO
    cdef double h = mad(-0.0009163447938714465, t, -0.002399165518168547)
    h = mad(h, t, 0.0052607271424320754)
    h = mad(h, t, 0.019681604230596072)
    h = mad(h, t, -0.01661932465674485)
    h = mad(h, t, -0.11394447525346212)
    h = mad(h, t, -0.01578285353290269)
    h = mad(h, t, 0.3875184461123158)
    h = mad(h, t, 0.43040009102485854)
    return t * h


cdef inline double gelu_tanh_bwd_f32(double gv, double v) noexcept nogil:
    # g (f + D e f^2) (x >= 0) or g e (1 + e - D) f^2, f = 1 / (1 + e) (gelu_tanh_bwd_lane's
    # forms)
    cdef double D, xc = fabs(v)
    xc = GELU_TANH_CLAMP if xc > GELU_TANH_CLAMP else xc
    cdef double e = gelu_tanh_e_f32(xc, &D)
    cdef double f = recip_f32w(1.0 + e)
    cdef double f2 = f * f
    cdef double d = mad(D * e, f2, f) if v >= 0 else e * (((1.0 + e) - D) * f2)
    d = gelu_tanh_bwd_near_root_f32(v) if fabs(v - GELU_TANH_ROOT) <= 0.2 else d
    return gv * d
