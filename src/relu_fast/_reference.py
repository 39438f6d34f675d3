"""Plain NumPy versions of every function: the definition the compiled kernels are
tested against (bottleneck keeps the same twins in ``slow/``).

Written for clarity, not speed.  Leaky slopes and PReLU weights are in x's
dtype, as in the kernels; ELU's alpha stays float64.  ELU's exp/expm1 are evaluated wider than the data
(float64 for float32, long double where it is wider for float64) and rounded
once, so the kernels' ELU is tested to within 2 ulp of a more exact answer.
The PReLU weight gradient is summed in float64.
"""
import numpy as np


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


def relu_mask(x):
    """(relu(x), mask): mask packs (not x <= 0) over x in C order, 8 per byte, little
    bit order, ceil(x.size / 8) bytes (the high bits of the last byte are 0)."""
    x = np.asarray(x)
    bits = ~(x.reshape(-1, order="C") <= 0)
    return relu(x), np.packbits(bits, bitorder="little")


def relu_backward_mask(grad_output, mask):
    """grad_output where the mask bit of its element (C order) is 1, else 0."""
    g = np.asarray(grad_output)
    bits = np.unpackbits(np.asarray(mask, dtype=np.uint8), count=g.size, bitorder="little")
    return np.where(bits.reshape(g.shape).astype(bool), g, g.dtype.type(0))


def relu_stats(x, axis=-1):
    """(relu(x), active_fraction): active_fraction[c] = mean over channel c (index c
    along axis) of x > 0, as float64."""
    x = np.asarray(x)
    ax = axis % x.ndim
    others = tuple(k for k in range(x.ndim) if k != ax)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.count_nonzero(x > 0, axis=others) / (x.size / x.shape[ax] if x.shape[ax] else 0)
    return relu(x), np.asarray(frac, dtype=np.float64).reshape(x.shape[ax])
