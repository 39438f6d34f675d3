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
# coefficients from mpmath) in long double instead.
_GELU_ROOTS = {
    "none": ("-0.7517915246935644574579049", "-5.2308032900779160973e-21",
             ("0.4314939923140469197865", "0.3882849829905519978581", "-0.01819967639867108710057",
              "-0.1140082332972217085524", "-0.01477152214824433771784", "0.01942167983818906588903",
              "0.004539228379125415573634", "-0.002239538068073497151279")),
    "tanh": ("-0.7524614220710162185581739", "1.1762815078565207294e-20",
             ("0.4304000910248585229136", "0.3875184461357889731191", "-0.01578285352184801393458",
              "-0.1139444830809590153933", "-0.01661932834305257909341", "0.01968230945983312383087",
              "0.005261059254921918448408", "-0.00242273184587509761238")),
}


def _near_root(xl, approximate):
    x0, x0_lo, coefs = _GELU_ROOTS[approximate]
    t = (xl - np.longdouble(x0)) - np.longdouble(x0_lo)    # x0 as a long double pair
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
