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


cdef inline double mish_bwd_wide(double gv, double v) noexcept nogil:
    # g mish'(x), mish' = s + x sigmoid(x) (1 - s^2), s = tanh(softplus(x)), e = e^-|x|:
    #   x >= 0: A / B + 4 x e^2 (1 + e) / B^2       (A, B as mish_wide; both terms >= 0)
    #   x < 0:  e P / D^2, P = (4 + 4x) + e ((6 + 4x) + e (4 + e))
    # in pair arithmetic, rounded once; P cancels only at mish's minimum, x ~ -1.1924.
    # g at +inf, g * 0 below -800 (-inf included); PyTorch: NaN at both infinities
    cdef exp_dd E = exp_pair(-fabs(v))
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
    cdef double pos = dd_scale(gv, dd_add(T, U))
    cdef dd F2 = dd_mul(F, F)
    cdef dd D = fast_two_sum(F2.hi, 1.0)
    D.lo = D.lo + F2.lo
    cdef double x4 = 4.0 * v
    cdef dd c4 = fast_two_sum(4.0, eh)
    c4.lo = c4.lo + el
    cdef dd P = dd_add(two_sum(4.0, x4), dd_mul(e, dd_add(two_sum(6.0, x4), dd_mul(e, c4))))
    cdef dd G = dd_div(dd_mul(dd_make(E.hi, E.lo), P), dd_mul(D, D))
    cdef double neg = dd_scale(gv, G) * E.s2
    neg = gv * 0.0 if v < MISH_ZERO else neg
    return pos if v >= 0 else neg
