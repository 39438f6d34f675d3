"""Plain NumPy versions of every function: the definition the compiled kernels are
tested against (bottleneck keeps the same twins in ``slow/``).

Written for clarity, not speed.  Leaky slopes and PReLU weights are in x's
dtype, as in the kernels; ELU's alpha stays float64.  ELU's exp/expm1 are evaluated wider than the data
(float64 for float32, long double where it is wider for float64) and rounded
once, so the kernels' ELU is tested to within 2 ulp of a more exact answer.
The PReLU weight gradient is summed in float64.
"""
import functools
import inspect

import numpy as np

from relu_fast._functions import ARRAYS, FUNCTIONS    # pure Python: what each twin takes


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def _wide(a):
    """float32 -> float64; float64 -> long double where it is wider (x86), for the
    transcendental parts, so that the reference is closer to exact than the kernels."""
    a = np.asarray(a)
    return a.astype(np.float64 if a.dtype == np.float32 else np.longdouble)


def relu(x):
    """x where x > 0, else 0; NaN stays NaN (x < 0 -> 0 leaves NaN and -0.0 as they are)."""
    x = np.asarray(x)
    return np.where(x < 0, x.dtype.type(0), x)


def relu_backward(grad_output, x):
    """0 where x <= 0, grad_output elsewhere (NaN x passes the gradient)."""
    g, x = np.asarray(grad_output), np.asarray(x)
    return np.where(x <= 0, g.dtype.type(0), g)


def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, else negative_slope * x."""
    x = np.asarray(x)
    s = x.dtype.type(negative_slope)
    return np.where(x > 0, x, s * x)


def leaky_relu_backward(grad_output, x, negative_slope=0.01):
    """grad_output where x > 0, else negative_slope * grad_output."""
    g, x = np.asarray(grad_output), np.asarray(x)
    s = g.dtype.type(negative_slope)
    return np.where(x > 0, g, s * g)


def elu(x, alpha=1.0):
    """x where x > 0, else alpha * expm1(x) (float64, rounded once)."""
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        neg = (float(alpha) * np.expm1(_wide(x))).astype(x.dtype)
    return np.where(x > 0, x, neg)


def elu_backward(grad_output, x, alpha=1.0, is_result=False):
    """grad where x > 0, else grad * alpha * exp(x); from the output y: grad * (y + alpha)."""
    g, x = np.asarray(grad_output), np.asarray(x)
    with np.errstate(all="ignore"):
        if is_result:
            neg = (_wide(g) * (_wide(x) + float(alpha))).astype(g.dtype)
        else:
            # (g alpha) exp(x): exp(x) underflows to 0 below ln(2^-1075) in float64
            # (so an infinite g gives NaN there), but g alpha times a subnormal exp stays
            neg = ((_wide(g) * float(alpha)) * np.exp(_wide(x))).astype(g.dtype)
    return np.where(x > 0, g, neg)


def hardtanh(x, min_val=-1.0, max_val=1.0):
    """min_val where x < min_val, max_val where x > max_val, else x (NaN stays NaN);
    the ends in x's dtype."""
    x = np.asarray(x)
    lo, hi = x.dtype.type(min_val), x.dtype.type(max_val)
    return np.where(x < lo, lo, np.where(x > hi, hi, x))


def hardtanh_backward(grad_output, x, min_val=-1.0, max_val=1.0, is_result=False):
    """grad_output where min_val < x < max_val, else 0 (the ends and NaN x give 0);
    from the output y the same test on y (y is x inside the range, an end or NaN outside)."""
    g, x = np.asarray(grad_output), np.asarray(x)
    lo, hi = x.dtype.type(min_val), x.dtype.type(max_val)
    return np.where((x > lo) & (x < hi), g, g.dtype.type(0))


def relu6(x):
    """hardtanh(x, 0, 6): 0 where x < 0, 6 where x > 6, else x (NaN and -0.0 kept)."""
    return hardtanh(x, 0.0, 6.0)


def relu6_backward(grad_output, x, is_result=False):
    """grad_output where 0 < x < 6 (or 0 < y < 6 from the output), else 0."""
    return hardtanh_backward(grad_output, x, 0.0, 6.0)


def threshold(x, threshold, value):
    """x where x > threshold, else value (NaN stays NaN); both in x's dtype."""
    x = np.asarray(x)
    t, v = x.dtype.type(threshold), x.dtype.type(value)
    return np.where(x <= t, v, x)


def threshold_backward(grad_output, x, threshold):
    """0 where x <= threshold, else grad_output (NaN x passes the gradient)."""
    g, x = np.asarray(grad_output), np.asarray(x)
    return np.where(x <= x.dtype.type(threshold), g.dtype.type(0), g)


def _relu6_shifted(x):
    """min(max(x + 3, 0), 6) in x's dtype, NaN kept (PyTorch's first steps)."""
    t = x.dtype.type
    c = x + t(3)
    c = np.where(c < 0, t(0), c)
    return np.where(c > 6, t(6), c)


def hardsigmoid(x):
    """min(max(x + 3, 0), 6) / 6 in x's dtype, in that order (PyTorch's)."""
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        return _relu6_shifted(x) / x.dtype.type(6)


def hardsigmoid_backward(grad_output, x, is_result=False):
    """grad_output * (1/6 in x's dtype) where -3 < x < 3, else 0 (ends and NaN give 0);
    from the output y: where 0 < y < 1."""
    g, x = np.asarray(grad_output), np.asarray(x)
    t = x.dtype.type
    lo, hi = (t(0), t(1)) if is_result else (t(-3), t(3))
    with np.errstate(all="ignore"):
        return np.where((x > lo) & (x < hi), g * t(1 / 6), t(0))


def hardswish(x):
    """(x * min(max(x + 3, 0), 6)) / 6 in x's dtype, in that order (PyTorch's); -0 where
    the clip is 0 (x <= -3), -inf included (PyTorch: -inf * 0 = NaN)."""
    x = np.asarray(x)
    t = x.dtype.type
    c = _relu6_shifted(x)
    with np.errstate(all="ignore"):
        return np.where(c == 0, t(-0.0), (x * c) / t(6))


def hardswish_backward(grad_output, x):
    """0 where x <= -3, grad_output where x >= 3, else grad_output * (x / 3 + 0.5)
    (NaN x gives NaN)."""
    g, x = np.asarray(grad_output), np.asarray(x)
    t = x.dtype.type
    with np.errstate(all="ignore"):
        mid = g * (x / t(3) + t(0.5))
    return np.where(x <= -3, t(0), np.where(x >= 3, g, mid))


# SELU's constants, beyond float64 (the kernels carry them as float64 pairs)
_SELU_ALPHA = "1.6732632423543772848170429916717"
_SELU_SCALE = "1.0507009873554804934193349852946"


def _exp64(w):
    """exp(w) evaluated wide, but 0 where float64's exp underflows to 0 (the kernels'
    rule: a large gradient does not bring back an exp below 2^-1075)."""
    return np.where(w < -745.1332191019412, 0, np.exp(w))


def _ld(a):
    """As long double: wider than float64 on x86, for the functions whose float32
    kernels already work in float64."""
    return np.asarray(a).astype(np.longdouble)


def selu(x):
    """scale * x where x > 0, else (scale * alpha) * expm1(x), evaluated wide and
    rounded once."""
    x = np.asarray(x)
    scale = np.longdouble(_SELU_SCALE)
    neg_coef = scale * np.longdouble(_SELU_ALPHA)
    with np.errstate(all="ignore"):
        w = _ld(x)
        return np.where(w > 0, scale * w, neg_coef * np.expm1(w)).astype(x.dtype)


def selu_backward(grad_output, x, is_result=False):
    """grad * scale where x > 0, else grad * (scale * alpha) * exp(x) (exp 0 below
    float64's underflow); from the output y: grad * (y + scale * alpha) where y <= 0."""
    g, x = np.asarray(grad_output), np.asarray(x)
    scale = np.longdouble(_SELU_SCALE)
    neg_coef = scale * np.longdouble(_SELU_ALPHA)
    with np.errstate(all="ignore"):
        gw, w = _ld(g), _ld(x)
        neg = gw * (w + neg_coef) if is_result else (gw * neg_coef) * _exp64(w)
        return np.where(w > 0, gw * scale, neg).astype(g.dtype)


def celu(x, alpha=1.0):
    """x where x > 0, else alpha * expm1(x / alpha), evaluated wide and rounded once."""
    x = np.asarray(x)
    a = np.longdouble(float(alpha))
    with np.errstate(all="ignore"):
        w = _ld(x)
        return np.where(w > 0, w, a * np.expm1(w / a)).astype(x.dtype)


def celu_backward(grad_output, x, alpha=1.0, is_result=False):
    """grad where x > 0, else grad * exp(x / alpha) (exp 0 below float64's underflow);
    from the output y: grad * (y / alpha + 1) where y <= 0."""
    g, x = np.asarray(grad_output), np.asarray(x)
    a = np.longdouble(float(alpha))
    with np.errstate(all="ignore"):
        gw, w = _ld(g), _ld(x)
        neg = gw * (w / a + 1) if is_result else gw * _exp64(w / a)
        return np.where(w > 0, gw, neg).astype(g.dtype)


def silu(x):
    """x / (1 + exp(-x)), evaluated wide and rounded once; -inf gives -0 (the limit)."""
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        w = _ld(x)
        y = w / (1 + np.exp(-w))
        return np.where(np.isneginf(w), -0.0, y).astype(x.dtype)


# silu's gradient near its zero x0 = -1.27846... (a float64 pair): Taylor coefficients
# of s (1 + x (1 - s)) in x - x0, from mpmath at 200 bits
_SILU_X0 = (-1.2784645427610737, -1.0946994183093437e-16)
_SILU_SERIES = (0.0, 0.2178117057198001, 0.1466487969969469, 0.018874814223782312,
                -0.015222655223188032, -0.006606589138356696, 0.000126627410081122,
                0.0007985218818397998, 0.00018570724361186496, -4.090534237428612e-05,
                -2.9733542213263917e-05, -2.942631888842464e-06, 2.346029682463866e-06)


def silu_backward(grad_output, x):
    """grad * s * (1 + x * (1 - s)), s = 1 / (1 + exp(-x)), evaluated wide; grad at
    +inf, grad * -0 below x = -1000 (the kernels' rule, -inf included)."""
    g, x = np.asarray(grad_output), np.asarray(x)
    with np.errstate(all="ignore"):
        gw, w = _ld(g), _ld(x)
        e = np.exp(-np.abs(w))
        s = np.where(w >= 0, 1 / (1 + e), e / (1 + e))
        d = s * (1 + w * (1 - s))
        # near its zero x0 that formula cancels (even in long double): its Taylor series
        u = (w - np.longdouble(_SILU_X0[0])) - np.longdouble(_SILU_X0[1])
        series = np.polynomial.polynomial.polyval(u, np.array(_SILU_SERIES, dtype=np.longdouble))
        d = np.where(np.abs(u) < 0.0625, series, d)
        r = np.where(np.isposinf(w), gw, gw * d)
        return np.where(w < -1000, gw * -0.0, r).astype(g.dtype)
def philox4x32_10(counter, key):
    """Philox4x32-10 of counters (..., 4) and keys (..., 2) as uint32 arrays: the
    published algorithm (Salmon et al., SC11), in NumPy's uint64 arithmetic."""
    c = [np.asarray(w, dtype=np.uint64) for w in np.moveaxis(np.asarray(counter, np.uint64), -1, 0)]
    k = [np.asarray(w, dtype=np.uint64) for w in np.moveaxis(np.asarray(key, np.uint64), -1, 0)]
    m0, m1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
    w0, w1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
    lo32, s32 = np.uint64(0xFFFFFFFF), np.uint64(32)
    for _ in range(10):
        p0, p1 = m0 * c[0], m1 * c[2]          # 32 x 32 -> 64 bits: no overflow
        c = [(p1 >> s32) ^ c[1] ^ k[0], p1 & lo32, (p0 >> s32) ^ c[3] ^ k[1], p0 & lo32]
        k = [(k[0] + w0) & lo32, (k[1] + w1) & lo32]
    return np.stack(np.broadcast_arrays(*c), axis=-1).astype(np.uint32)


def _rrelu_slopes(shape, dtype, lower, upper, seed):
    """Each element's training-mode slope: lower + (upper - lower) * u in x's dtype, capped
    below upper, u the top 24 bits of word i % 4 of Philox4x32-10(counter i // 4, key seed)
    for the element of C-order index i."""
    n = int(np.prod(shape, dtype=np.int64))
    i = np.arange(n, dtype=np.uint64)
    block = i >> np.uint64(2)
    counter = np.stack([block & np.uint64(0xFFFFFFFF), block >> np.uint64(32),
                        np.zeros_like(block), np.zeros_like(block)], axis=-1)
    key = np.array([seed & 0xFFFFFFFF, seed >> 32], dtype=np.uint64)
    words = philox4x32_10(counter, key).reshape(n, 4) if n else np.zeros((0, 4), np.uint32)
    w = words[np.arange(n), (i & np.uint64(3)).astype(np.intp)]
    u = (w >> np.uint32(8)).astype(dtype) * dtype(2.0 ** -24)
    lo, hi = dtype(lower), dtype(upper)
    s = lo + (hi - lo) * u
    top = np.nextafter(hi, lo) if lo < hi else hi
    return np.minimum(s, top).reshape(shape)


def _rrelu_scalars(lower, upper, training, seed):
    if training and seed is None:
        raise TypeError("training=True needs seed=")
    return float(lower), float(upper)


def rrelu(x, lower=0.125, upper=0.3333333333333333, training=False, *, seed=None):
    """Eval: leaky_relu with (lower + upper) / 2 (float64, then x's dtype).  Training: x
    where x > 0 or NaN, else slope * x with each element's slope (_rrelu_slopes)."""
    x = np.asarray(x)
    lower, upper = _rrelu_scalars(lower, upper, training, seed)
    if not training:
        return leaky_relu(x, (lower + upper) / 2)
    s = _rrelu_slopes(x.shape, x.dtype.newbyteorder("=").type, lower, upper, int(seed))
    with np.errstate(all="ignore"):
        return np.where(x <= 0, x * s, x)


def rrelu_backward(grad_output, x, lower=0.125, upper=0.3333333333333333, training=False, *, seed=None):
    """Eval: leaky_relu_backward with the mean slope (NaN x: slope * g).  Training:
    grad_output times the slope where x <= 0, else grad_output (NaN x: g)."""
    g, x = np.asarray(grad_output), np.asarray(x)
    lower, upper = _rrelu_scalars(lower, upper, training, seed)
    if not training:
        return leaky_relu_backward(g, x, (lower + upper) / 2)
    s = _rrelu_slopes(x.shape, x.dtype.newbyteorder("=").type, lower, upper, int(seed))
    with np.errstate(all="ignore"):
        return np.where(x <= 0, g * s, g)
# ---------------------------------------------------------------------------
# softplus and mish: the kernels' float64 steps (_kernels_math.pxi) one for one, so
# the results agree bit for bit (float32 inputs widened, rounded once at the end)
# ---------------------------------------------------------------------------

_SP_LG = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
          2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
          1.479819860511658591e-01)
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_LOG2E, _MAGIC = 1.4426950408889634, 6755399441055744.0
_SPLIT, _SPLIT_MAX = 134217729.0, 2.0 ** 960
_EXP_ZERO = -745.1332191019412


def _pow2_from_magic(m):
    b = (np.asarray(m, np.float64).view(np.int64) + 1023) << 52
    return b.view(np.float64)


def _two_prod_lo(a, b, p):
    """a * b - p exactly (Dekker's split), 0 where a split could overflow."""
    ca = _SPLIT * a
    ah = ca - (ca - a)
    al = a - ah
    cb = _SPLIT * b
    bh = cb - (cb - b)
    bl = b - bh
    lo = (((ah * bh - p) + ah * bl) + al * bh) + al * bl
    return np.where((np.abs(a) < _SPLIT_MAX) & (np.abs(b) < _SPLIT_MAX), lo, 0.0)


def _fast_two_sum(a, b):
    s = a + b
    return s, (a - s) + b


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _dd_add(a, b):
    s, sl = _two_sum(a[0], b[0])
    return _fast_two_sum(s, sl + (a[1] + b[1]))


def _dd_mul(a, b):
    p = a[0] * b[0]
    return _fast_two_sum(p, _two_prod_lo(a[0], b[0], p) + (a[0] * b[1] + a[1] * b[0]))


def _dd_div(a, b):
    q = a[0] / b[0]
    P = q * b[0]
    Pl = _two_prod_lo(q, b[0], P)
    return _fast_two_sum(q, (((a[0] - P) - Pl) + (a[1] - q * b[1])) / b[0])


def _dd_scale(g, s):
    sg, ss = np.abs(g) < 2.0 ** -300, np.abs(s[0]) < 2.0 ** -300
    up = 2.0 ** 600
    gs = g * np.where(sg, up, 1.0)
    hs, ls = s[0] * np.where(ss, up, 1.0), s[1] * np.where(ss, up, 1.0)
    p = gs * hs
    r = p + (_two_prod_lo(gs, hs, p) + gs * ls)
    r = np.where((np.abs(g) == np.inf) | (p == 0), p, r)
    return (r * np.where(sg, 2.0 ** -600, 1.0)) * np.where(ss, 2.0 ** -600, 1.0)


def _exp_pair(t):
    """e^t for t <= 0 as (hi + lo) * s2 (the kernels' exp_pair)."""
    t = np.where(t < -1000.0, -1000.0, t)
    m = t * _LOG2E + _MAGIC
    k = m - _MAGIC
    rh = t - k * _LN2_HI
    kl = k * _LN2_LO
    r = rh - kl
    rl = (rh - r) - kl
    q = np.full_like(r, 1.0 / 6227020800.0)
    for c in (479001600.0, 39916800.0, 3628800.0, 362880.0, 40320.0, 5040.0, 720.0, 120.0,
              24.0, 6.0):
        q = 1.0 / c + r * q
    q = 0.5 + r * q
    u = (r * r) * q
    ph = r + u
    pl = ((r - ph) + u) + rl * (1.0 + ph)
    k1 = np.where(k > -1000.0, k, -1000.0)
    s1 = _pow2_from_magic(k1 + _MAGIC)
    sp = s1 * ph
    hi = s1 + sp
    lo = ((s1 - hi) + sp) + s1 * pl
    return hi, lo, _pow2_from_magic((k - k1) + _MAGIC)


def _beta_x(x, beta):
    """PyTorch's test value beta * x in x's dtype, and beta x in float64 as t + tlo."""
    bf = x.dtype.type(beta)
    t = x * bf
    bd = np.float64(bf)
    if x.dtype.type == np.float32:          # (any byte order)
        return t, bd, x.astype(np.float64) * bd, np.zeros(x.shape)
    return t, bd, t, _two_prod_lo(x, bd, t)


def _log1p01_pair(u):
    w = 1.0 + u
    c = (u - (w - 1.0)) / w
    big = w > 1.4142135623730951
    k = np.where(big, 1.0, 0.0)
    f = np.where(big, w * 0.5, w) - 1.0
    S = _dd_div((f, np.zeros_like(f)), _fast_two_sum(2.0, f))
    z = S[0] * S[0]
    L1, L2, L3, L4, L5, L6, L7 = _SP_LG
    R = z * (L1 + z * (L2 + z * (L3 + z * (L4 + z * (L5 + z * (L6 + z * L7))))))
    ff = f * f
    H = (0.5 * ff, 0.5 * _two_prod_lo(f, f, ff))
    A = _fast_two_sum(H[0], R)
    A = (A[0], A[1] + H[1])
    P = _dd_add(_dd_add((f, np.zeros_like(f)), (-H[0], -H[1])), _dd_mul(S, A))
    return _dd_add(P, (k * _LN2_HI, k * _LN2_LO + c))


def _softplus_wide(t, tlo, beta):
    hi, lo, s2 = _exp_pair(-np.abs(t))
    m = np.where(t > 0, t, 0.0)
    d = 1.0 + hi
    L = _log1p01_pair(hi)
    sig = np.where(t > 0, 1.0, hi) / d
    Y = _dd_add((m, np.zeros_like(m)), (L[0], L[1] + (lo / d + tlo * sig)))
    y = Y[0] if beta == 1.0 else _dd_div(Y, (np.float64(beta), 0.0))[0]
    deep = ((hi + (lo + hi * tlo)) / beta) * s2
    y = np.where((s2 != 1.0) & (t < 0), deep, y)
    return np.where(t < _EXP_ZERO, 0.0, y)


def softplus(x, beta=1.0, threshold=20.0):
    """x where beta * x > threshold (in x's dtype, PyTorch's test), else
    (max(t, 0) + log1p(exp(-|t|))) / beta with t = beta x in float64."""
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        t, bd, td, tlo = _beta_x(x, beta)
        y = _softplus_wide(td, tlo, bd).astype(x.dtype)
        return np.where(t > x.dtype.type(threshold), x, y)


def softplus_backward(grad_output, x, beta=1.0, threshold=20.0):
    """grad_output where beta * x > threshold, else grad_output * sigmoid(beta x)."""
    g, x = np.asarray(grad_output), np.asarray(x)
    with np.errstate(all="ignore"):
        t, bd, td, tlo = _beta_x(x, beta)
        gd = g.astype(np.float64)
        hi, lo, s2 = _exp_pair(-np.abs(td))
        D = _fast_two_sum(1.0, hi)
        D = (D[0], D[1] + lo)
        num = (np.where(td > 0, 1.0, hi), np.where(td > 0, 0.0, lo))
        S = _dd_div(num, D)
        S = (S[0], S[1] + tlo * (hi / (D[0] * D[0])))
        y = _dd_scale(gd, S)
        deep = _dd_scale(gd, (hi, lo + hi * tlo)) * s2
        y = np.where((s2 != 1.0) & (td < 0), deep, y)
        y = np.where(td < _EXP_ZERO, gd * 0.0, y).astype(x.dtype)
        return np.where(t > x.dtype.type(threshold), g, y)


def _mish_parts(v):
    hi, lo, s2 = _exp_pair(-np.abs(v))
    eh, el = hi * s2, lo * s2
    A = _fast_two_sum(1.0, 2.0 * eh)
    A = (A[0], A[1] + 2.0 * el)
    E2 = _dd_mul((eh, el), (eh, el))
    B = _dd_add(A, (2.0 * E2[0], 2.0 * E2[1]))
    F = _fast_two_sum(1.0, eh)
    F = (F[0], F[1] + el)
    F2 = _dd_mul(F, F)
    D = _fast_two_sum(F2[0], 1.0)
    D = (D[0], D[1] + F2[1])
    return hi, lo, s2, eh, el, A, E2, B, D


def mish(x):
    """x tanh(softplus(x)) from e = exp(-|x|) without a log: x (1 + 2e) / (1 + 2e + 2e^2)
    for x >= 0, x e (e + 2) / (e^2 + 2e + 2) below, in the kernels' float64 pair steps;
    -0 below -800 (-inf included)."""
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        v = x.astype(np.float64)
        hi, lo, s2, eh, el, A, E2, B, D = _mish_parts(v)
        pos = np.where(eh == 0, v, _dd_scale(v, _dd_div(A, B)))
        N = _fast_two_sum(2.0, eh)
        N = (N[0], N[1] + el)
        small = np.abs(v) < 2.0 ** -300
        vs = v * np.where(small, 2.0 ** 600, 1.0)
        xh = vs * hi
        Y = _dd_mul((xh, _two_prod_lo(vs, hi, xh) + vs * lo), _dd_div(N, D))
        neg = np.where(v < -800.0, -0.0, (Y[0] * s2) * np.where(small, 2.0 ** -600, 1.0))
        return np.where(v >= 0, pos, neg).astype(x.dtype)


def mish_backward(grad_output, x):
    """grad_output * (s + x sigmoid(x) (1 - s^2)), s = tanh(softplus(x)), in the kernels'
    cancellation-free forms and float64 pair steps; g at +inf, g * 0 below -800."""
    g, x = np.asarray(grad_output), np.asarray(x)
    with np.errstate(all="ignore"):
        v, gd = x.astype(np.float64), g.astype(np.float64)
        hi, lo, s2, eh, el, A, E2, B, D = _mish_parts(v)
        T = _dd_div(A, B)
        F = _fast_two_sum(1.0, eh)
        F = (F[0], F[1] + el)
        U = _dd_div(_dd_mul(_dd_mul((4.0 * v, np.zeros_like(v)), E2), F), _dd_mul(B, B))
        U = (np.where(eh == 0, 0.0, U[0]), np.where(eh == 0, 0.0, U[1]))
        pos = _dd_scale(gd, _dd_add(T, U))
        x4 = 4.0 * v
        c4 = _fast_two_sum(4.0, eh)
        c4 = (c4[0], c4[1] + el)
        e = (eh, el)
        P = _dd_add(_two_sum(4.0, x4), _dd_mul(e, _dd_add(_two_sum(6.0, x4), _dd_mul(e, c4))))
        G = _dd_div(_dd_mul((hi, lo), P), _dd_mul(D, D))
        neg = np.where(v < -800.0, gd * 0.0, _dd_scale(gd, G) * s2)
        return np.where(v >= 0, pos, neg).astype(x.dtype)


def _alpha_along(x, weight, axis):
    """weight broadcast against x: one alpha, or one per index along `axis`."""
    w = np.asarray(weight, dtype=x.dtype).reshape(-1)
    if w.size == 1 or x.ndim < 2:
        return w.reshape(()) if w.size == 1 else w
    shape = [1] * x.ndim
    shape[axis] = w.size
    return w.reshape(shape)


def prelu(x, weight, axis=1):
    """x where x > 0, else weight[c] * x with c the index along `axis`."""
    x = np.asarray(x)
    a = _alpha_along(x, weight, axis)
    return np.where(x > 0, x, a * x).astype(x.dtype)


def prelu_backward(grad_output, x, weight, axis=1):
    """(grad_input, grad_weight): grad_input = g if x > 0 else weight[c] * g;
    grad_weight[c] = sum over channel c of (x > 0 ? 0 : x * g), in float64."""
    g, x = np.asarray(grad_output), np.asarray(x)
    a = _alpha_along(x, weight, axis)
    grad_input = np.where(x > 0, g, a * g).astype(x.dtype)
    with np.errstate(all="ignore"):
        contrib = np.where(x > 0, 0.0, _f64(x) * _f64(g))
    wshape = np.shape(weight)
    if np.size(weight) == 1 or x.ndim < 2:
        grad_weight = np.asarray(contrib.sum())
    else:
        ax = axis % x.ndim
        others = tuple(k for k in range(x.ndim) if k != ax)
        grad_weight = contrib.sum(axis=others)
    return grad_input, grad_weight.astype(x.dtype).reshape(wshape)


# ---------------------------------------------------------------------------
# The 1-bit masks: bit i (C order, 8 per byte, little bit order, the last byte's high
# bits 0) is 1 where the gradient at z = x + bias takes its first form (g; g / 6 for
# hardsigmoid) -- and everywhere when both forms are the same (a slope of 1); the
# backward from the mask is that form where the bit is 1, the other where it is 0.
# ---------------------------------------------------------------------------

def _pack(bits):
    return np.packbits(np.asarray(bits).reshape(-1), bitorder="little")


def _bits(mask, g):
    return np.unpackbits(np.asarray(mask, dtype=np.uint8), count=g.size,
                         bitorder="little").reshape(g.shape).astype(bool)


def relu_mask(x):
    z = np.asarray(x)
    return relu(z), _pack(~(z <= 0))


def relu_backward_mask(grad_output, mask):
    g = np.asarray(grad_output)
    return np.where(_bits(mask, g), g, g.dtype.type(0))


def leaky_relu_mask(x, negative_slope=0.01):
    z = np.asarray(x)
    one = z.dtype.type(negative_slope) == 1
    return leaky_relu(z, negative_slope), _pack((z > 0) | one)


def leaky_relu_backward_mask(grad_output, mask, negative_slope=0.01):
    g = np.asarray(grad_output)
    s = g.dtype.type(negative_slope)
    return np.where(_bits(mask, g), g, s * g)


def rrelu_mask(x, lower=0.125, upper=0.3333333333333333, training=False, *, seed=None):
    z = np.asarray(x)
    if not training:
        return leaky_relu_mask(z, (float(lower) + float(upper)) / 2)
    s = _rrelu_slopes(z.shape, z.dtype.newbyteorder("=").type, float(lower), float(upper), int(seed))
    return rrelu(z, lower, upper, True, seed=seed), _pack(~(z <= 0) | (s == 1))


def rrelu_backward_mask(grad_output, mask, lower=0.125, upper=0.3333333333333333, training=False,
                        *, seed=None):
    g = np.asarray(grad_output)
    if not training:
        return leaky_relu_backward_mask(g, mask, (float(lower) + float(upper)) / 2)
    s = _rrelu_slopes(g.shape, g.dtype.newbyteorder("=").type, float(lower), float(upper), int(seed))
    with np.errstate(all="ignore"):
        return np.where(_bits(mask, g), g, g * s)


def hardtanh_mask(x, min_val=-1.0, max_val=1.0):
    z = np.asarray(x)
    lo, hi = z.dtype.type(min_val), z.dtype.type(max_val)
    return hardtanh(z, min_val, max_val), _pack((z > lo) & (z < hi))


def _pass_or_zero(grad_output, mask):
    g = np.asarray(grad_output)
    return np.where(_bits(mask, g), g, g.dtype.type(0))


def hardtanh_backward_mask(grad_output, mask):
    return _pass_or_zero(grad_output, mask)


def relu6_mask(x):
    return hardtanh_mask(x, 0.0, 6.0)


def relu6_backward_mask(grad_output, mask):
    return _pass_or_zero(grad_output, mask)


def threshold_mask(x, threshold, value):
    z = np.asarray(x)
    return globals()["threshold"](z, threshold, value), _pack(~(z <= z.dtype.type(threshold)))


def threshold_backward_mask(grad_output, mask):
    return _pass_or_zero(grad_output, mask)


def hardsigmoid_mask(x):
    z = np.asarray(x)
    return hardsigmoid(z), _pack((z > -3) & (z < 3))


def hardsigmoid_backward_mask(grad_output, mask):
    g = np.asarray(grad_output)
    t = g.dtype.type
    with np.errstate(all="ignore"):
        return np.where(_bits(mask, g), g * t(1 / 6), t(0))


def relu_stats(x, axis=-1):
    """(relu(x), active_fraction): active_fraction[c] = mean over channel c (index c
    along axis) of x > 0, as float64."""
    x = np.asarray(x)
    ax = axis % x.ndim
    others = tuple(k for k in range(x.ndim) if k != ax)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.count_nonzero(x > 0, axis=others) / (x.size / x.shape[ax] if x.shape[ax] else 0)
    return relu(x), np.asarray(frac, dtype=np.float64).reshape(x.shape[ax])


_PI = np.longdouble("3.14159265358979323846264338327950288")   # pi in long double


def _gelu_tail(xc):
    """xc Phi(-xc) and phi(xc) for xc >= 0, in long double: Phi(-x) = 1/2 - phi(x) (x +
    x^3/3 + x^5/15 + ...) below 2, phi(x) / (x + 1/(x + 2/(x + 3/(x + ...)))) (Laplace's
    continued fraction, 400 terms) from 2 on."""
    xl = np.asarray(xc, np.longdouble)
    phi = np.exp(-xl * xl / 2) / np.sqrt(2 * _PI)
    small = np.where(xl < 2, xl, 0)
    term = small.copy()
    total = small.copy()
    for k in range(1, 90):
        term = term * small * small / (2 * k + 1)
        total = total + term
    lower = 0.5 - phi * total
    big = np.where(xl >= 2, xl, 2)
    t = np.zeros_like(big)
    for k in range(400, 0, -1):
        t = k / (big + t)
    lower = np.where(xl < 2, lower, phi / (big + t))
    return xl * lower, phi


# the tanh form's constants: PyTorch's float64 values, taken as exact
_KBETA = np.longdouble(0.7978845608028654)        # sqrt(2/pi) rounded to float64
_KKAPPA = np.longdouble(0.044715)


def gelu(x, approximate="none"):
    """x Phi(x) (approximate="none") or x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3)
    ("tanh"), wider than x and rounded once; x for x = +inf, -0 for -inf."""
    x = np.asarray(x)
    xl = np.asarray(x, np.longdouble)
    xc = np.minimum(np.abs(xl), 40)
    with np.errstate(all="ignore"):
        if approximate == "tanh":
            xc = np.minimum(xc, 26)
            e = np.exp(-2 * _KBETA * (xc + _KKAPPA * xc ** 3))
            y = np.where(xl >= 0, xl / (1 + e), -(xc * e) / (1 + e))
        else:
            n, _ = _gelu_tail(xc)
            y = np.where(xl >= 0, xl - n, -n)
    return np.where(np.isnan(x), x, y.astype(x.dtype))


# Near the zero x0 of each derivative the formulas cancel even in long double (a few
# float64 ulp within 1e-3 of x0): within 2e-3 of it, the Taylor series at x0 (x0 and the
# coefficients from mpmath) in long double instead.  x0 is a pair of float64s (hi, lo),
# x0 - hi - lo < 1e-32: the same root whatever long double is (80-bit on x86, IEEE quad
# on aarch64, float64 elsewhere); x - hi is exact near x0 for a float64 x.
_GELU_ROOTS = {
    "none": (-0.7517915246935645, 1.4956759177009883e-17,
             ("0.4314939923140469197865", "0.3882849829905519978581", "-0.01819967639867108710057",
              "-0.1140082332972217085524", "-0.01477152214824433771784", "0.01942167983818906588903",
              "0.004539228379125415573634", "-0.002239538068073497151279")),
    "tanh": (-0.7524614220710162, -3.473691681308185e-17,
             ("0.4304000910248585229136", "0.3875184461357889731191", "-0.01578285352184801393458",
              "-0.1139444830809590153933", "-0.01661932834305257909341", "0.01968230945983312383087",
              "0.005261059254921918448408", "-0.00242273184587509761238")),
}


def _near_root(xl, approximate):
    x0, x0_lo, coefs = _GELU_ROOTS[approximate]
    t = (xl - np.longdouble(x0)) - np.longdouble(x0_lo)
    d = np.zeros_like(t)
    for c in reversed(coefs):
        d = (d + np.longdouble(c)) * t
    return np.abs(t) < 0.002, d


def gelu_backward(grad_output, x, approximate="none"):
    """grad * gelu'(x) (wider than x, rounded once): Phi(x) + x phi(x), or for "tanh"
    S + 2 x S (1 - S) u'(x), S = sigmoid(2u); 1 at +inf, 0 at -inf."""
    g, x = np.asarray(grad_output), np.asarray(x)
    xl = np.asarray(x, np.longdouble)
    xc = np.minimum(np.abs(xl), 40)
    with np.errstate(all="ignore"):
        if approximate == "tanh":
            xc = np.minimum(xc, 26)
            c0, k = _KBETA, _KKAPPA
            e = np.exp(-2 * c0 * (xc + k * xc ** 3))
            D = 2 * xc * c0 * (1 + 3 * k * xc ** 2)
            f = 1 / (1 + e)
            d = np.where(xl >= 0, f + D * e * f * f, e * f * (1 - D * f))
        else:
            n, phi = _gelu_tail(xc)
            safe = np.where(xc > 0, xc, 1)
            q = np.where(xc > 0, n / safe, 0.5) - xc * phi
            d = np.where(xl >= 0, 1 - q, q)
        near, dn = _near_root(xl, approximate)
        d = np.where(near, dn, d)
        # the product in long double (a large g brings back a derivative that is
        # subnormal in float64); an infinite g times the derivative rounded to float64
        # (NaN where that is 0)
        gl = np.asarray(g, np.longdouble)
        gx = np.where(np.isinf(gl), gl * d.astype(np.float64), gl * d)
        # below -40 (erf) or -26 (tanh) the derivative is taken as -0
        gx = np.where(xl < (-26 if approximate == "tanh" else -40), gl * -0.0, gx).astype(g.dtype)
    return np.where(np.isnan(x) | np.isnan(g), np.asarray(x + g), gx)


# ---------------------------------------------------------------------------
# The 16-bit types (float16, ml_dtypes.bfloat16): every function computed in float32
# from the exact float32 values and rounded once to the 16-bit type (NumPy's and
# ml_dtypes' own conversions, round to nearest even); PReLU's weight: x's 16-bit dtype
# or float32, numbers rounded to x's dtype; its gradient is the float64 sum rounded
# once to the weight's dtype.  relu_mask's mask and relu_stats' fractions unchanged.
# ---------------------------------------------------------------------------

def _is_16bit(a):
    return isinstance(a, np.ndarray) and a.dtype.itemsize == 2 and a.dtype.kind in "fV"


def _sixteen_bit(name, f, narrays):
    @functools.wraps(f)
    def twin(*args, **kwargs):
        arrays, rest = list(args[:narrays]), args[narrays:]
        x = arrays[0]                    # x, or grad_output (of x's dtype)
        if not _is_16bit(x):
            return f(*args, **kwargs)
        dt = x.dtype
        names = ARRAYS[FUNCTIONS[name].kind]
        wide = [a.astype(np.float32) if n in ("x", "grad_output") else a
                for n, a in zip(names, arrays)]
        if "weight" in names:
            w = arrays[names.index("weight")]
            wdt = w.dtype if isinstance(w, np.ndarray) else dt
            w32 = (w if isinstance(w, np.ndarray) else np.asarray(w, np.float64).astype(dt))
            wide[names.index("weight")] = np.asarray(w32).astype(np.float32)
        result = f(*wide, *rest, **kwargs)
        if name == "prelu_backward":
            sums = f(*(a.astype(np.float64) for a in wide), *rest, **kwargs)[1]
            return result[0].astype(dt), sums.astype(wdt)
        if isinstance(result, tuple):                # relu_mask, relu_stats
            return (result[0].astype(dt),) + result[1:]
        return result.astype(dt)
    return twin


# ---------------------------------------------------------------------------
# The bias of the elementwise functions: f(z) with z = x + bias[c], c the index along
# `axis` (one value: every element), rounded to x's dtype as x + bias is (16-bit: the
# float32 sum rounded once); a bias ndarray keeps its dtype, numbers take x's.  The
# bias gradient: grad_input summed per channel (over everything for one value, or
# without a channel axis) in float64, rounded once to the bias's dtype.
# ---------------------------------------------------------------------------

def _bias_dtype(bias, x):
    return bias.dtype if isinstance(bias, np.ndarray) else x.dtype


def _channel_shape(x, n, axis):
    """The shape a 1-D array of n values broadcasts against x with, along `axis`."""
    if n == 1 or x.ndim < 2:
        return ()
    shape = [1] * x.ndim
    shape[axis % x.ndim] = n
    return tuple(shape)


def _add_bias(x, bias, axis):
    b = np.asarray(bias) if isinstance(bias, np.ndarray) else np.asarray(bias, np.float64).astype(x.dtype)
    b = b.reshape(-1)
    b = b.reshape(_channel_shape(x, b.size, axis))
    if _is_16bit(x):
        return (x.astype(np.float32) + b.astype(np.float32)).astype(x.dtype)
    return (x + b).astype(x.dtype)


def _bias_sums(gx, x, bias, axis):
    wide = gx.astype(np.float64)
    n = np.size(bias) if bias is not None else (x.shape[axis % x.ndim] if x.ndim >= 2 else 1)
    if n == 1 or x.ndim < 2:
        sums = wide.sum().reshape(1)
    else:
        others = tuple(k for k in range(x.ndim) if k != axis % x.ndim)
        sums = wide.sum(axis=others)
    sums = sums.astype(_bias_dtype(bias, x) if bias is not None else x.dtype)
    if bias is not None:
        return sums.reshape(np.shape(bias)) if np.ndim(bias) != 1 else sums
    return sums if x.ndim >= 2 else sums.reshape(())


def _biased(name, f):
    kind = FUNCTIONS[name].kind
    narrays = len(ARRAYS[kind])

    @functools.wraps(f)
    def twin(*args, bias=None, axis=1, grad_bias=False, **kwargs):
        arrays = [np.asarray(a) for a in args[:narrays]]
        x = arrays[-1]
        if bias is not None:
            arrays[-1] = _add_bias(x, bias, axis)
        result = f(*arrays, *args[narrays:], **kwargs)
        if not grad_bias:
            return result
        return result, _bias_sums(result, x, bias, axis)
    # f's signature and the declared bias arguments (grad_bias: the gradients only)
    sig = inspect.signature(f)
    extra = [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default)
             for p in FUNCTIONS[name].params if p.name in ("bias", "axis", "grad_bias")]
    twin.__signature__ = sig.replace(parameters=list(sig.parameters.values()) + extra)
    return twin


def _mask_biased(name, f):
    """A mask twin with the declared bias (forward: f(x + bias)) or bias gradient
    (backward: the sums of grad_input per channel along axis, 0-D without a channel
    axis, rounded once to its dtype), outside the 16-bit wrapper as for _biased."""
    backward = FUNCTIONS[name].kind == "mask_backward"

    @functools.wraps(f)
    def twin(*args, bias=None, axis=1, grad_bias=False, **kwargs):
        arrays = [np.asarray(a) for a in args[:2]] if backward else [np.asarray(args[0])]
        if bias is not None:
            arrays[0] = _add_bias(arrays[0], bias, axis)
        result = f(*arrays, *args[len(arrays):], **kwargs)
        return (result, _bias_sums(result, result, None, axis)) if grad_bias else result
    sig = inspect.signature(f)
    extra = [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default)
             for p in FUNCTIONS[name].params if p.name in ("bias", "axis", "grad_bias")]
    twin.__signature__ = sig.replace(parameters=list(sig.parameters.values()) + extra)
    return twin


def _wrap_all():
    for name, fn in FUNCTIONS.items():
        twin = _sixteen_bit(name, globals()[name], len(ARRAYS[fn.kind]))
        if fn.kind in ("unary", "binary"):
            twin = _biased(name, twin)
        elif fn.kind in ("mask", "mask_backward"):
            twin = _mask_biased(name, twin)
        globals()[name] = twin


_wrap_all()
