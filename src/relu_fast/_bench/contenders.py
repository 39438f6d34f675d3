"""What is timed: one row per (function, mode) with relu_fast's call, the NumPy baseline and
the PyTorch peer, each with the label the tables print.

A factory takes the operands it names (x, g, o, s, w; T and tx, tg, to, F for PyTorch) and
returns the zero-argument callable that is timed, so whatever can be looked up once is
looked up outside the timing.  The operands follow the mode: for "out" o is a buffer of its
own, for "inplace" o is the array the call overwrites (x forward, g backward), for "alloc"
there is no o.  So one factory serves "out" and "inplace", and only the label differs.

`python -m relu_fast bench` times the rows of MODES; asv_bench/benchmarks times every row
(relu_fast and NumPy, all three modes) from this same table.  This module imports NumPy and
relu_fast's public API only: asv loads it from the source tree by path, so that today's
suite also runs against older builds of relu_fast.
"""
import inspect
from typing import Callable, NamedTuple, Optional

import numpy as np

import relu_fast as rf

FUNCTIONS = ("relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "elu", "elu_backward",
             "hardtanh", "hardtanh_backward", "relu6", "relu6_backward", "threshold",
             "threshold_backward", "hardsigmoid", "hardsigmoid_backward", "hardswish",
             "hardswish_backward", "selu", "selu_backward", "celu", "celu_backward", "silu",
             "silu_backward", "gelu", "gelu_backward", "softplus", "softplus_backward", "mish",
             "mish_backward", "rrelu", "rrelu_backward", "rrelu_eval", "prelu")
# Modes each function is timed in by bench: out= a preallocated array, in place (out=x),
# or allocating its result.  leaky_relu in place would drive x into subnormals
# (x * 0.01**k), which would time the FPU's slow path, so it is left out.
MODES = {
    "relu": ("out", "inplace", "alloc"),
    "relu_backward": ("out", "alloc"),
    "leaky_relu": ("out", "alloc"),
    "leaky_relu_backward": ("out", "alloc"),
    "elu": ("out", "inplace", "alloc"),
    "elu_backward": ("out", "alloc"),
    "hardtanh": ("out", "inplace", "alloc"),
    "hardtanh_backward": ("out", "alloc"),
    "relu6": ("out", "inplace", "alloc"),
    "relu6_backward": ("out", "alloc"),
    "threshold": ("out", "inplace", "alloc"),
    "threshold_backward": ("out", "alloc"),
    "hardsigmoid": ("out", "inplace", "alloc"),
    "hardsigmoid_backward": ("out", "alloc"),
    # hardswish in place would halve small x on every call (x (x + 3) / 6 ~ x / 2) down
    # into subnormals, as leaky_relu's would
    "hardswish": ("out", "alloc"),
    "hardswish_backward": ("out", "alloc"),
    # selu in place would scale positive x by 1.05 per call up to inf, silu's would
    # shrink negative x into subnormals
    "selu": ("out", "alloc"),
    "selu_backward": ("out", "alloc"),
    "celu": ("out", "inplace", "alloc"),
    "celu_backward": ("out", "alloc"),
    "silu": ("out", "alloc"),
    "silu_backward": ("out", "alloc"),
    # rrelu: training mode (a seed per call; in place would shrink x call after call, as
    # leaky_relu's); rrelu_eval: training=False, leaky_relu with the mean slope
    "rrelu": ("out", "alloc"),
    "rrelu_backward": ("out", "alloc"),
    "rrelu_eval": ("out", "alloc"),
    "softplus": ("out", "inplace", "alloc"),
    "softplus_backward": ("out", "alloc"),
    # mish in place would take small negative x to 0.6 x on every call, into subnormals
    "mish": ("out", "alloc"),
    "mish_backward": ("out", "alloc"),
    # gelu in place would halve small x on every call too
    "gelu": ("out", "alloc"),
    "gelu_backward": ("out", "alloc"),
    "prelu": ("alloc",),
}
MODE_TITLE = {"out": "out= given", "inplace": "in place", "alloc": "allocating"}
DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16}
try:                        # bfloat16 where ml_dtypes is installed (relu_fast[bfloat16])
    import ml_dtypes
    DTYPES["bfloat16"] = ml_dtypes.bfloat16
except ImportError:
    pass
# timed unless asked for (--dtypes): the 16-bit types on request
DEFAULT_DTYPES = ("float32", "float64")
FAMILIES = ("relu_fast", "numpy", "torch")
SLOPE = 0.01            # leaky_relu's negative_slope
ALPHA = 1.0             # elu's alpha
LO, HI = -1.0, 1.0      # hardtanh's min_val, max_val
TH, VAL = 0.5, -1.0     # threshold's threshold, value
CELU_ALPHA = 0.5        # celu's alpha (1 would be elu)
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805   # PyTorch's selu constants
RR_LO, RR_HI = 1.0 / 8.0, 1.0 / 3.0     # rrelu's lower, upper (PyTorch's defaults)
RR_SEED = 12345                         # rrelu's seed in training mode
CHANNELS = 100          # bench's prelu channels, x shaped (batch, CHANNELS, inner)


class Call(NamedTuple):
    label: str
    make: Callable              # operands (by parameter name) -> the callable that is timed
    bench: bool = True          # False: asv times it, bench does not show it (see the row)


class Row(NamedTuple):
    """The contenders of one (function, mode), in FAMILIES order."""
    relu_fast: Call
    numpy: Optional[Call] = None
    torch: Optional[Call] = None


def build(call, operands):
    """call's timed callable, made from the operands its factory names."""
    names = inspect.signature(call.make).parameters
    return call.make(**{name: operands[name] for name in names})


# ---------------------------------------------------------------------------
# NumPy baselines that need more than one expression.  With out=, the
# elementwise ones copy the positive branch and write the other one where the
# mask holds, so no temporary of the full size is made; in place the copy is
# skipped.
# ---------------------------------------------------------------------------

def _np_leaky_into(x, s, out):
    if out is not x:
        np.copyto(out, x)
    return np.multiply(x, s, out=out, where=x < 0)


def _np_leaky_backward_into(g, x, s, out):
    if out is not g:
        np.copyto(out, g)
    return np.multiply(g, s, out=out, where=x <= 0)


def _np_elu_into(x, out):
    # alpha = 1, so the negative branch is expm1(x) itself
    if out is not x:
        np.copyto(out, x)
    return np.expm1(x, out=out, where=x < 0)


def _np_elu_backward_into(g, x, alpha, out):
    neg = x <= 0
    if out is not g:
        np.copyto(out, g)
    return np.multiply(g, np.exp(x) * alpha, out=out, where=neg)


def _channels(w):
    """w shaped to broadcast over (batch, C, spatial)."""
    return w.reshape(1, -1, 1)


def _np_prelu_into(x, w, out):
    wb = _channels(w)
    if out is not x:
        np.copyto(out, x)
    return np.multiply(x, wb, out=out, where=x < 0)


def _np_prelu_backward(g, x, w):
    """(g where x > 0 else w[c] * g, per-channel sum of x * g where x <= 0)."""
    neg = x <= 0
    gx = np.where(neg, _channels(w) * g, g)
    gw = np.sum(x * g, axis=(0, 2), where=neg, dtype=np.float64).astype(w.dtype)
    return gx, gw


# ---------------------------------------------------------------------------
# bench's prelu cell: forward and backward together, with C=100 channels on axis 1
# ---------------------------------------------------------------------------

def _rf_prelu_both(x, g, w):
    def rf_prelu():
        rf.prelu(x, w)
        return rf.prelu_backward(g, x, w)
    return rf_prelu


def _np_prelu_both(x, g, w):
    a = w[:, None]

    def np_prelu():
        pos = x > 0
        y = np.where(pos, x, a * x)
        gx = np.where(pos, g, a * g)
        gw = np.where(pos, 0, x * g).sum(axis=(0, 2))
        return y, gx, gw
    return np_prelu


def tensor(T, a):
    """The torch tensor sharing a's memory (bfloat16 through its bits: torch.from_numpy
    knows no ml_dtypes.bfloat16)."""
    if a.dtype.name == "bfloat16":
        return T.from_numpy(a.view(np.int16)).view(T.bfloat16)
    return T.from_numpy(a)


def _torch_prelu_both(T, x, g, w):
    F = T.nn.functional
    tx = tensor(T, x).requires_grad_()
    tw = tensor(T, w.copy()).requires_grad_()
    tg = tensor(T, g)

    def torch_prelu():
        with T.enable_grad():
            y = F.prelu(tx, tw)
            return T.autograd.grad(y, (tx, tw), tg)
    return torch_prelu


# ---------------------------------------------------------------------------
# PyTorch peers calling an aten overload, looked up once
# ---------------------------------------------------------------------------

def _aten_threshold_backward_out(T, tx, tg, to):
    op = T.ops.aten.threshold_backward.grad_input
    return lambda: op(tg, tx, 0, grad_input=to)


def _aten_threshold_backward(T, tx, tg):
    op = T.ops.aten.threshold_backward.default
    return lambda: op(tg, tx, 0)


def _aten_leaky_relu_out(T, tx, to):
    op = T.ops.aten.leaky_relu.out
    return lambda: op(tx, SLOPE, out=to)


def _aten_leaky_relu_backward_out(T, tx, tg, to):
    op = T.ops.aten.leaky_relu_backward.grad_input
    return lambda: op(tg, tx, SLOPE, False, grad_input=to)


def _aten_leaky_relu_backward(T, tx, tg):
    op = T.ops.aten.leaky_relu_backward.default
    return lambda: op(tg, tx, SLOPE, False)


def _aten_hardtanh_backward_out(T, tx, tg, to):
    op = T.ops.aten.hardtanh_backward.grad_input
    return lambda: op(tg, tx, LO, HI, grad_input=to)


def _aten_hardtanh_backward(T, tx, tg):
    op = T.ops.aten.hardtanh_backward.default
    return lambda: op(tg, tx, LO, HI)


def _aten_out(name, *args):
    """aten.<name> writing into `to` (.out, or .grad_input where a gradient has it), the
    scalars after the tensors; build() passes the operands the factory names."""
    if not name.endswith("_backward"):
        return lambda T, tx, to: (lambda op: lambda: op(tx, *args, out=to))(
            getattr(T.ops.aten, name).out)
    def make(T, tx, tg, to):
        packet = getattr(T.ops.aten, name)
        if "grad_input" in packet.overloads():
            return lambda: packet.grad_input(tg, tx, *args, grad_input=to)
        return lambda: packet.out(tg, tx, *args, out=to)
    return make


def _aten(name, *args):
    """aten.<name>.default, allocating."""
    if not name.endswith("_backward"):
        return lambda T, tx: (lambda op: lambda: op(tx, *args))(getattr(T.ops.aten, name).default)
    return lambda T, tx, tg: (lambda op: lambda: op(tg, tx, *args))(getattr(T.ops.aten, name).default)


def _np_rrelu(x):
    """What a NumPy user would write: slopes from a Generator, then a where."""
    rng = np.random.default_rng(RR_SEED)
    return lambda: np.where(x > 0, x, x * rng.uniform(RR_LO, RR_HI, x.shape).astype(x.dtype))


def _np_rrelu_into(x, o):
    rng = np.random.default_rng(RR_SEED)

    def run():
        np.copyto(o, x)
        return np.multiply(x, rng.uniform(RR_LO, RR_HI, x.shape).astype(x.dtype), out=o,
                           where=x <= 0)
    return run


def _np_rrelu_backward_into(g, x, o):
    kept = np.where(x > 0, 1, np.random.default_rng(RR_SEED).uniform(RR_LO, RR_HI, x.shape)
                    ).astype(x.dtype)
    return lambda: np.multiply(g, kept, out=o)


def _np_rrelu_backward(g, x):
    # the slopes were kept from the forward (PyTorch's noise tensor): a where and a product
    noise = np.where(x > 0, 1, np.random.default_rng(RR_SEED).uniform(RR_LO, RR_HI, x.shape)
                     ).astype(x.dtype)
    return lambda: g * noise


def _torch_rrelu_noise(T, tx):
    noise = T.empty_like(tx)
    T.ops.aten.rrelu_with_noise(tx, noise, RR_LO, RR_HI, True)
    return noise


def _torch_rrelu_into(T, tx, to):
    noise = T.empty_like(tx)
    op = T.ops.aten.rrelu_with_noise.out
    return lambda: op(tx, noise, RR_LO, RR_HI, True, out=to)


def _torch_rrelu_backward(T, tx, tg):
    noise = _torch_rrelu_noise(T, tx)
    op = T.ops.aten.rrelu_with_noise_backward.default
    return lambda: op(tg, tx, noise, RR_LO, RR_HI, True, False)


def _torch_rrelu_backward_into(T, tx, tg, to):
    noise = _torch_rrelu_noise(T, tx)
    op = T.ops.aten.rrelu_with_noise_backward.out
    return lambda: op(tg, tx, noise, RR_LO, RR_HI, True, False, out=to)


def _np_threshold_into(x, out):
    if out is not x:
        np.copyto(out, x)
    return np.copyto(out, x.dtype.type(VAL), where=x <= TH)


def _np_hardswish_backward_into(g, x, out):
    np.multiply(g, x / 3 + 0.5, out=out)
    np.copyto(out, 0, where=x <= -3)
    return np.copyto(out, g, where=x >= 3)


def _np_mish_backward(g, x, out=None):
    # PyTorch's formula as a NumPy user writes it: t = tanh(softplus(x)),
    # g * (t + x * sigmoid(x) * (1 - t * t))
    t = np.tanh(np.logaddexp(0, x))
    return np.multiply(g, t + x / (1 + np.exp(-x)) * (1 - t * t), out=out)
def _scipy_ndtr():
    """scipy.special.ndtr (the normal distribution function) if SciPy is installed (not a
    dependency of relu_fast: without it, gelu's NumPy rows are left out), else None."""
    try:
        from scipy.special import ndtr
    except ImportError:
        return None
    return ndtr


_NDTR = _scipy_ndtr()


def _np_gelu_row(label, make):
    return Call(label, make) if _NDTR is not None else None


def _np_gelu_backward(g, x):
    # g * (Phi(x) + x phi(x)), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
    return g * (_NDTR(x) + x * (np.exp(-0.5 * x * x) * (1 / np.sqrt(2 * np.pi))))


def _aten_elu_out(T, tx, to):
    op = T.ops.aten.elu.out
    return lambda: op(tx, ALPHA, 1, 1, out=to)


def _aten_elu_backward_out(T, tx, tg, to):
    op = T.ops.aten.elu_backward.grad_input
    return lambda: op(tg, ALPHA, 1, 1, False, tx, grad_input=to)


def _aten_elu_backward(T, tx, tg):
    op = T.ops.aten.elu_backward.default
    return lambda: op(tg, ALPHA, 1, 1, False, tx)


def _np_selu(x):
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))


def _np_selu_backward(g, x):
    return g * (SELU_SCALE * np.where(x > 0, 1, SELU_ALPHA * np.exp(x)))


def _np_celu_into(x, out):
    # out = x, then the negative part alpha * expm1(x / alpha) where x <= 0
    if out is not x:
        np.copyto(out, x)
    neg = x <= 0
    np.multiply(np.expm1(np.divide(x, CELU_ALPHA), where=neg, out=np.empty_like(x)), CELU_ALPHA,
                out=out, where=neg)
    return out


def _np_silu_backward(g, x):
    s = 1 / (1 + np.exp(-x))
    return g * s * (1 + x * (1 - s))


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

# factories shared by a function's "out" and "inplace" rows (the operands alias for inplace)
_rf_relu_into = lambda x, o: lambda: rf.relu(x, out=o)
_np_relu_into = lambda x, o: lambda: np.maximum(x, 0, out=o)
_rf_relu_backward_into = lambda g, x, o: lambda: rf.relu_backward(g, x, out=o)
_np_relu_backward_into = lambda g, x, o: lambda: np.multiply(g, x > 0, out=o)
_rf_leaky_into = lambda x, o: lambda: rf.leaky_relu(x, SLOPE, out=o)
_np_leaky = lambda x, s, o: lambda: _np_leaky_into(x, s, o)
_rf_leaky_backward_into = lambda g, x, o: lambda: rf.leaky_relu_backward(g, x, SLOPE, out=o)
_np_leaky_backward = lambda g, x, s, o: lambda: _np_leaky_backward_into(g, x, s, o)
_rf_elu_into = lambda x, o: lambda: rf.elu(x, ALPHA, out=o)
_np_elu = lambda x, o: lambda: _np_elu_into(x, o)
_rf_elu_backward_into = lambda g, x, o: lambda: rf.elu_backward(g, x, ALPHA, out=o)
_np_elu_backward = lambda g, x, o: lambda: _np_elu_backward_into(g, x, ALPHA, o)
_rf_hardtanh_into = lambda x, o: lambda: rf.hardtanh(x, LO, HI, out=o)
_np_hardtanh_into = lambda x, o: lambda: np.clip(x, LO, HI, out=o)
_rf_relu6_into = lambda x, o: lambda: rf.relu6(x, out=o)
_np_relu6_into = lambda x, o: lambda: np.clip(x, 0.0, 6.0, out=o)
_rf_threshold_into = lambda x, o: lambda: rf.threshold(x, TH, VAL, out=o)
_np_threshold = lambda x, o: lambda: _np_threshold_into(x, o)
_rf_hardsigmoid_into = lambda x, o: lambda: rf.hardsigmoid(x, out=o)
_np_hardsigmoid_into = lambda x, o: lambda: np.divide(np.clip(x + 3, 0, 6), 6, out=o)
_rf_prelu_into = lambda x, w, o: lambda: rf.prelu(x, w, axis=1, out=o)
_np_prelu = lambda x, w, o: lambda: _np_prelu_into(x, w, o)

# Two steps (a copy, then a masked write) are not one NumPy idiom bench could print
# beside the others, so bench leaves these out; asv times them.
_MASKED = False

TABLE = {
    ("relu", "out"): Row(
        Call("relu(x, out=o)", _rf_relu_into),
        Call("np.maximum(x, 0, out=o)", _np_relu_into),
        Call("torch.clamp_min(x, 0, out=o)", lambda T, tx, to: lambda: T.clamp_min(tx, 0, out=to))),
    ("relu", "inplace"): Row(
        Call("relu(x, out=x)", _rf_relu_into),
        Call("np.maximum(x, 0, out=x)", _np_relu_into),
        Call("torch.relu_(x)", lambda T, tx: lambda: T.relu_(tx))),
    ("relu", "alloc"): Row(
        Call("relu(x)", lambda x: lambda: rf.relu(x)),
        Call("np.maximum(x, 0)", lambda x: lambda: np.maximum(x, 0)),
        Call("torch.relu(x)", lambda T, tx: lambda: T.relu(tx))),

    ("relu_backward", "out"): Row(
        Call("relu_backward(g, x, out=o)", _rf_relu_backward_into),
        Call("np.multiply(g, x > 0, out=o)", _np_relu_backward_into),
        Call("aten.threshold_backward(g, x, 0, grad_input=o)", _aten_threshold_backward_out)),
    ("relu_backward", "inplace"): Row(
        Call("relu_backward(g, x, out=g)", _rf_relu_backward_into),
        Call("np.multiply(g, x > 0, out=g)", _np_relu_backward_into)),
    ("relu_backward", "alloc"): Row(
        Call("relu_backward(g, x)", lambda g, x: lambda: rf.relu_backward(g, x)),
        Call("g * (x > 0)", lambda g, x: lambda: g * (x > 0)),
        Call("aten.threshold_backward(g, x, 0)", _aten_threshold_backward)),

    ("leaky_relu", "out"): Row(
        Call("leaky_relu(x, 0.01, out=o)", _rf_leaky_into),
        Call("np.copyto(o, x); np.multiply(x, 0.01, out=o, where=x < 0)", _np_leaky, _MASKED),
        Call("aten.leaky_relu(x, 0.01, out=o)", _aten_leaky_relu_out)),
    ("leaky_relu", "inplace"): Row(
        Call("leaky_relu(x, 0.01, out=x)", _rf_leaky_into),
        Call("np.multiply(x, 0.01, out=x, where=x < 0)", _np_leaky, _MASKED)),
    ("leaky_relu", "alloc"): Row(
        Call("leaky_relu(x, 0.01)", lambda x: lambda: rf.leaky_relu(x, SLOPE)),
        Call("np.where(x > 0, x, 0.01 * x)", lambda x, s: lambda: np.where(x > 0, x, s * x)),
        Call("F.leaky_relu(x, 0.01)", lambda F, tx: lambda: F.leaky_relu(tx, SLOPE))),

    ("leaky_relu_backward", "out"): Row(
        Call("leaky_relu_backward(g, x, 0.01, out=o)", _rf_leaky_backward_into),
        Call("np.copyto(o, g); np.multiply(g, 0.01, out=o, where=x <= 0)", _np_leaky_backward,
             _MASKED),
        Call("aten.leaky_relu_backward(g, x, 0.01, False, grad_input=o)",
             _aten_leaky_relu_backward_out)),
    ("leaky_relu_backward", "inplace"): Row(
        Call("leaky_relu_backward(g, x, 0.01, out=g)", _rf_leaky_backward_into),
        Call("np.multiply(g, 0.01, out=g, where=x <= 0)", _np_leaky_backward, _MASKED)),
    ("leaky_relu_backward", "alloc"): Row(
        Call("leaky_relu_backward(g, x, 0.01)",
             lambda g, x: lambda: rf.leaky_relu_backward(g, x, SLOPE)),
        Call("np.where(x > 0, g, 0.01 * g)", lambda g, x, s: lambda: np.where(x > 0, g, s * g)),
        Call("aten.leaky_relu_backward(g, x, 0.01, False)", _aten_leaky_relu_backward)),

    ("elu", "out"): Row(
        Call("elu(x, out=o)", _rf_elu_into),
        Call("np.copyto(o, x); np.expm1(x, out=o, where=x < 0)", _np_elu, _MASKED),
        Call("aten.elu(x, 1, 1, 1, out=o)", _aten_elu_out)),
    ("elu", "inplace"): Row(
        Call("elu(x, out=x)", _rf_elu_into),
        Call("np.expm1(x, out=x, where=x < 0)", _np_elu, _MASKED),
        Call("F.elu_(x)", lambda F, tx: lambda: F.elu_(tx, ALPHA))),
    ("elu", "alloc"): Row(
        Call("elu(x)", lambda x: lambda: rf.elu(x, ALPHA)),
        Call("np.where(x > 0, x, np.expm1(x))",
             lambda x: lambda: np.where(x > 0, x, ALPHA * np.expm1(x))),
        Call("F.elu(x)", lambda F, tx: lambda: F.elu(tx, ALPHA))),

    ("elu_backward", "out"): Row(
        Call("elu_backward(g, x, out=o)", _rf_elu_backward_into),
        Call("np.copyto(o, g); np.multiply(g, np.exp(x), out=o, where=x <= 0)", _np_elu_backward,
             _MASKED),
        Call("aten.elu_backward(g, 1, 1, 1, False, x, grad_input=o)", _aten_elu_backward_out)),
    ("elu_backward", "inplace"): Row(
        Call("elu_backward(g, x, out=g)", _rf_elu_backward_into),
        Call("np.multiply(g, np.exp(x), out=g, where=x <= 0)", _np_elu_backward, _MASKED)),
    ("elu_backward", "alloc"): Row(
        Call("elu_backward(g, x)", lambda g, x: lambda: rf.elu_backward(g, x, ALPHA)),
        Call("np.where(x > 0, g, g * np.exp(x))",
             lambda g, x: lambda: np.where(x > 0, g, g * (ALPHA * np.exp(x)))),
        Call("aten.elu_backward(g, 1, 1, 1, False, x)", _aten_elu_backward)),

    ("hardtanh", "out"): Row(
        Call("hardtanh(x, out=o)", _rf_hardtanh_into),
        Call("np.clip(x, -1, 1, out=o)", _np_hardtanh_into),
        Call("torch.clamp(x, -1, 1, out=o)", lambda T, tx, to: lambda: T.clamp(tx, LO, HI, out=to))),
    ("hardtanh", "inplace"): Row(
        Call("hardtanh(x, out=x)", _rf_hardtanh_into),
        Call("np.clip(x, -1, 1, out=x)", _np_hardtanh_into),
        Call("F.hardtanh_(x)", lambda F, tx: lambda: F.hardtanh_(tx, LO, HI))),
    ("hardtanh", "alloc"): Row(
        Call("hardtanh(x)", lambda x: lambda: rf.hardtanh(x, LO, HI)),
        Call("np.clip(x, -1, 1)", lambda x: lambda: np.clip(x, LO, HI)),
        Call("F.hardtanh(x)", lambda F, tx: lambda: F.hardtanh(tx, LO, HI))),

    ("hardtanh_backward", "out"): Row(
        Call("hardtanh_backward(g, x, out=o)",
             lambda g, x, o: lambda: rf.hardtanh_backward(g, x, LO, HI, out=o)),
        Call("np.multiply(g, (x > -1) & (x < 1), out=o)",
             lambda g, x, o: lambda: np.multiply(g, (x > LO) & (x < HI), out=o)),
        Call("aten.hardtanh_backward(g, x, -1, 1, grad_input=o)", _aten_hardtanh_backward_out)),
    ("hardtanh_backward", "alloc"): Row(
        Call("hardtanh_backward(g, x)", lambda g, x: lambda: rf.hardtanh_backward(g, x, LO, HI)),
        Call("g * ((x > -1) & (x < 1))", lambda g, x: lambda: g * ((x > LO) & (x < HI))),
        Call("aten.hardtanh_backward(g, x, -1, 1)", _aten_hardtanh_backward)),

    ("relu6", "out"): Row(
        Call("relu6(x, out=o)", _rf_relu6_into),
        Call("np.clip(x, 0, 6, out=o)", _np_relu6_into),
        Call("torch.clamp(x, 0, 6, out=o)", lambda T, tx, to: lambda: T.clamp(tx, 0.0, 6.0, out=to))),
    ("relu6", "inplace"): Row(
        Call("relu6(x, out=x)", _rf_relu6_into),
        Call("np.clip(x, 0, 6, out=x)", _np_relu6_into),
        Call("F.relu6(x, inplace=True)", lambda F, tx: lambda: F.relu6(tx, inplace=True))),
    ("relu6", "alloc"): Row(
        Call("relu6(x)", lambda x: lambda: rf.relu6(x)),
        Call("np.clip(x, 0, 6)", lambda x: lambda: np.clip(x, 0.0, 6.0)),
        Call("F.relu6(x)", lambda F, tx: lambda: F.relu6(tx))),

    ("relu6_backward", "out"): Row(
        Call("relu6_backward(g, x, out=o)", lambda g, x, o: lambda: rf.relu6_backward(g, x, out=o)),
        Call("np.multiply(g, (x > 0) & (x < 6), out=o)",
             lambda g, x, o: lambda: np.multiply(g, (x > 0) & (x < 6), out=o)),
        Call("aten.hardtanh_backward(g, x, 0, 6, grad_input=o)", _aten_out("hardtanh_backward", 0.0, 6.0))),
    ("relu6_backward", "alloc"): Row(
        Call("relu6_backward(g, x)", lambda g, x: lambda: rf.relu6_backward(g, x)),
        Call("g * ((x > 0) & (x < 6))", lambda g, x: lambda: g * ((x > 0) & (x < 6))),
        Call("aten.hardtanh_backward(g, x, 0, 6)", _aten("hardtanh_backward", 0.0, 6.0))),

    ("threshold", "out"): Row(
        Call("threshold(x, 0.5, -1, out=o)", _rf_threshold_into),
        Call("np.copyto(o, x); np.copyto(o, -1, where=x <= 0.5)", _np_threshold, _MASKED),
        Call("aten.threshold(x, 0.5, -1, out=o)", _aten_out("threshold", TH, VAL))),
    ("threshold", "inplace"): Row(
        Call("threshold(x, 0.5, -1, out=x)", _rf_threshold_into),
        Call("np.copyto(x, -1, where=x <= 0.5)", _np_threshold),
        Call("F.threshold_(x, 0.5, -1)", lambda F, tx: lambda: F.threshold_(tx, TH, VAL))),
    ("threshold", "alloc"): Row(
        Call("threshold(x, 0.5, -1)", lambda x: lambda: rf.threshold(x, TH, VAL)),
        Call("np.where(x > 0.5, x, -1)", lambda x: lambda: np.where(x > TH, x, x.dtype.type(VAL))),
        Call("F.threshold(x, 0.5, -1)", lambda F, tx: lambda: F.threshold(tx, TH, VAL))),

    ("threshold_backward", "out"): Row(
        Call("threshold_backward(g, x, 0.5, out=o)",
             lambda g, x, o: lambda: rf.threshold_backward(g, x, TH, out=o)),
        Call("np.multiply(g, x > 0.5, out=o)", lambda g, x, o: lambda: np.multiply(g, x > TH, out=o)),
        Call("aten.threshold_backward(g, x, 0.5, grad_input=o)", _aten_out("threshold_backward", TH))),
    ("threshold_backward", "alloc"): Row(
        Call("threshold_backward(g, x, 0.5)", lambda g, x: lambda: rf.threshold_backward(g, x, TH)),
        Call("g * (x > 0.5)", lambda g, x: lambda: g * (x > TH)),
        Call("aten.threshold_backward(g, x, 0.5)", _aten("threshold_backward", TH))),

    ("hardsigmoid", "out"): Row(
        Call("hardsigmoid(x, out=o)", _rf_hardsigmoid_into),
        Call("np.divide(np.clip(x + 3, 0, 6), 6, out=o)", _np_hardsigmoid_into),
        Call("aten.hardsigmoid(x, out=o)", _aten_out("hardsigmoid"))),
    ("hardsigmoid", "inplace"): Row(
        Call("hardsigmoid(x, out=x)", _rf_hardsigmoid_into),
        Call("np.divide(np.clip(x + 3, 0, 6), 6, out=x)", _np_hardsigmoid_into),
        Call("F.hardsigmoid(x, inplace=True)", lambda F, tx: lambda: F.hardsigmoid(tx, inplace=True))),
    ("hardsigmoid", "alloc"): Row(
        Call("hardsigmoid(x)", lambda x: lambda: rf.hardsigmoid(x)),
        Call("np.clip(x + 3, 0, 6) / 6", lambda x: lambda: np.clip(x + 3, 0, 6) / 6),
        Call("F.hardsigmoid(x)", lambda F, tx: lambda: F.hardsigmoid(tx))),

    ("hardsigmoid_backward", "out"): Row(
        Call("hardsigmoid_backward(g, x, out=o)",
             lambda g, x, o: lambda: rf.hardsigmoid_backward(g, x, out=o)),
        Call("np.multiply(g / 6, (x > -3) & (x < 3), out=o)",
             lambda g, x, o: lambda: np.multiply(g / 6, (x > -3) & (x < 3), out=o)),
        Call("aten.hardsigmoid_backward(g, x, grad_input=o)", _aten_out("hardsigmoid_backward"))),
    ("hardsigmoid_backward", "alloc"): Row(
        Call("hardsigmoid_backward(g, x)", lambda g, x: lambda: rf.hardsigmoid_backward(g, x)),
        Call("g / 6 * ((x > -3) & (x < 3))", lambda g, x: lambda: g / 6 * ((x > -3) & (x < 3))),
        Call("aten.hardsigmoid_backward(g, x)", _aten("hardsigmoid_backward"))),

    ("hardswish", "out"): Row(
        Call("hardswish(x, out=o)", lambda x, o: lambda: rf.hardswish(x, out=o)),
        Call("np.divide(x * np.clip(x + 3, 0, 6), 6, out=o)",
             lambda x, o: lambda: np.divide(x * np.clip(x + 3, 0, 6), 6, out=o)),
        Call("aten.hardswish(x, out=o)", _aten_out("hardswish"))),
    ("hardswish", "alloc"): Row(
        Call("hardswish(x)", lambda x: lambda: rf.hardswish(x)),
        Call("x * np.clip(x + 3, 0, 6) / 6", lambda x: lambda: x * np.clip(x + 3, 0, 6) / 6),
        Call("F.hardswish(x)", lambda F, tx: lambda: F.hardswish(tx))),

    ("hardswish_backward", "out"): Row(
        Call("hardswish_backward(g, x, out=o)",
             lambda g, x, o: lambda: rf.hardswish_backward(g, x, out=o)),
        Call("np.multiply(g, x / 3 + 0.5, out=o); two masked copies",
             lambda g, x, o: lambda: _np_hardswish_backward_into(g, x, o), _MASKED),
        Call("aten.hardswish_backward(g, x, out=o)", _aten_out("hardswish_backward"))),
    ("hardswish_backward", "alloc"): Row(
        Call("hardswish_backward(g, x)", lambda g, x: lambda: rf.hardswish_backward(g, x)),
        Call("np.where(x <= -3, 0, np.where(x >= 3, g, g * (x / 3 + 0.5)))",
             lambda g, x: lambda: np.where(x <= -3, 0, np.where(x >= 3, g, g * (x / 3 + 0.5)))),
        Call("aten.hardswish_backward(g, x)", _aten("hardswish_backward"))),

    ("selu", "out"): Row(
        Call("selu(x, out=o)", lambda x, o: lambda: rf.selu(x, out=o)),
        Call("np.multiply(1.0507, np.where(x > 0, x, 1.6733 * np.expm1(x)), out=o)",
             lambda x, o: lambda: np.multiply(SELU_SCALE, np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
                                              out=o)),
        Call("aten.elu(x, 1.6733, 1.0507, 1, out=o)", _aten_out("elu", SELU_ALPHA, SELU_SCALE, 1.0))),
    ("selu", "alloc"): Row(
        Call("selu(x)", lambda x: lambda: rf.selu(x)),
        Call("1.0507 * np.where(x > 0, x, 1.6733 * np.expm1(x))", lambda x: lambda: _np_selu(x)),
        Call("F.selu(x)", lambda F, tx: lambda: F.selu(tx))),

    ("selu_backward", "out"): Row(
        Call("selu_backward(g, x, out=o)", lambda g, x, o: lambda: rf.selu_backward(g, x, out=o)),
        Call("np.multiply(g, 1.0507 * np.where(x > 0, 1, 1.6733 * np.exp(x)), out=o)",
             lambda g, x, o: lambda: np.multiply(
                 g, SELU_SCALE * np.where(x > 0, 1, SELU_ALPHA * np.exp(x)), out=o)),
        Call("aten.elu_backward(g, 1.6733, 1.0507, 1, False, x, grad_input=o)",
             lambda T, tx, tg, to: (lambda op: lambda: op(tg, SELU_ALPHA, SELU_SCALE, 1.0, False, tx,
                                                          grad_input=to))(
                 T.ops.aten.elu_backward.grad_input))),
    ("selu_backward", "alloc"): Row(
        Call("selu_backward(g, x)", lambda g, x: lambda: rf.selu_backward(g, x)),
        Call("g * (1.0507 * np.where(x > 0, 1, 1.6733 * np.exp(x)))",
             lambda g, x: lambda: _np_selu_backward(g, x)),
        Call("aten.elu_backward(g, 1.6733, 1.0507, 1, False, x)",
             lambda T, tx, tg: (lambda op: lambda: op(tg, SELU_ALPHA, SELU_SCALE, 1.0, False, tx))(
                 T.ops.aten.elu_backward.default))),

    ("celu", "out"): Row(
        Call("celu(x, 0.5, out=o)", lambda x, o: lambda: rf.celu(x, CELU_ALPHA, out=o)),
        Call("np.copyto(o, x); 0.5 * np.expm1(x / 0.5) where x <= 0",
             lambda x, o: lambda: _np_celu_into(x, o), _MASKED),
        Call("aten.elu(x, 0.5, 1, 2, out=o)", _aten_out("elu", CELU_ALPHA, 1.0, 1 / CELU_ALPHA))),
    ("celu", "inplace"): Row(
        Call("celu(x, 0.5, out=x)", lambda x, o: lambda: rf.celu(x, CELU_ALPHA, out=o)),
        Call("0.5 * np.expm1(x / 0.5) into x where x <= 0",
             lambda x, o: lambda: _np_celu_into(x, o), _MASKED),
        Call("F.celu_(x, 0.5)", lambda F, tx: lambda: F.celu_(tx, CELU_ALPHA))),
    ("celu", "alloc"): Row(
        Call("celu(x, 0.5)", lambda x: lambda: rf.celu(x, CELU_ALPHA)),
        Call("np.where(x > 0, x, 0.5 * np.expm1(x / 0.5))",
             lambda x: lambda: np.where(x > 0, x, CELU_ALPHA * np.expm1(x / CELU_ALPHA))),
        Call("F.celu(x, 0.5)", lambda F, tx: lambda: F.celu(tx, CELU_ALPHA))),

    ("celu_backward", "out"): Row(
        Call("celu_backward(g, x, 0.5, out=o)",
             lambda g, x, o: lambda: rf.celu_backward(g, x, CELU_ALPHA, out=o)),
        Call("np.multiply(g, np.where(x > 0, 1, np.exp(x / 0.5)), out=o)",
             lambda g, x, o: lambda: np.multiply(g, np.where(x > 0, 1, np.exp(x / CELU_ALPHA)), out=o)),
        Call("aten.elu_backward(g, 0.5, 1, 2, False, x, grad_input=o)",
             lambda T, tx, tg, to: (lambda op: lambda: op(tg, CELU_ALPHA, 1.0, 1 / CELU_ALPHA, False,
                                                          tx, grad_input=to))(
                 T.ops.aten.elu_backward.grad_input))),
    ("celu_backward", "alloc"): Row(
        Call("celu_backward(g, x, 0.5)", lambda g, x: lambda: rf.celu_backward(g, x, CELU_ALPHA)),
        Call("g * np.where(x > 0, 1, np.exp(x / 0.5))",
             lambda g, x: lambda: g * np.where(x > 0, 1, np.exp(x / CELU_ALPHA))),
        Call("aten.elu_backward(g, 0.5, 1, 2, False, x)",
             lambda T, tx, tg: (lambda op: lambda: op(tg, CELU_ALPHA, 1.0, 1 / CELU_ALPHA, False, tx))(
                 T.ops.aten.elu_backward.default))),

    ("silu", "out"): Row(
        Call("silu(x, out=o)", lambda x, o: lambda: rf.silu(x, out=o)),
        Call("np.divide(x, 1 + np.exp(-x), out=o)",
             lambda x, o: lambda: np.divide(x, 1 + np.exp(-x), out=o)),
        Call("aten.silu(x, out=o)", _aten_out("silu"))),
    ("silu", "alloc"): Row(
        Call("silu(x)", lambda x: lambda: rf.silu(x)),
        Call("x / (1 + np.exp(-x))", lambda x: lambda: x / (1 + np.exp(-x))),
        Call("F.silu(x)", lambda F, tx: lambda: F.silu(tx))),

    ("silu_backward", "out"): Row(
        Call("silu_backward(g, x, out=o)", lambda g, x, o: lambda: rf.silu_backward(g, x, out=o)),
        Call("s = 1 / (1 + np.exp(-x)); np.multiply(g * s, 1 + x * (1 - s), out=o)",
             lambda g, x, o: lambda: np.copyto(o, _np_silu_backward(g, x))),
        Call("aten.silu_backward(g, x, grad_input=o)", _aten_out("silu_backward"))),
    ("silu_backward", "alloc"): Row(
        Call("silu_backward(g, x)", lambda g, x: lambda: rf.silu_backward(g, x)),
        Call("s = 1 / (1 + np.exp(-x)); g * s * (1 + x * (1 - s))",
             lambda g, x: lambda: _np_silu_backward(g, x)),
        Call("aten.silu_backward(g, x)", _aten("silu_backward"))),
    ("rrelu", "out"): Row(
        Call("rrelu(x, training=True, seed=s, out=o)",
             lambda x, o: lambda: rf.rrelu(x, RR_LO, RR_HI, True, seed=RR_SEED, out=o)),
        Call("np.copyto(o, x); np.multiply(x, rng.uniform(l, u, x.shape), out=o, where=x <= 0)",
             _np_rrelu_into, _MASKED),
        Call("aten.rrelu_with_noise(x, noise, training=True, out=o)", _torch_rrelu_into)),
    ("rrelu", "alloc"): Row(
        Call("rrelu(x, training=True, seed=s)",
             lambda x: lambda: rf.rrelu(x, RR_LO, RR_HI, True, seed=RR_SEED)),
        Call("np.where(x > 0, x, x * rng.uniform(l, u, x.shape))", _np_rrelu),
        Call("F.rrelu(x, training=True)",
             lambda F, tx: lambda: F.rrelu(tx, RR_LO, RR_HI, training=True))),
    ("rrelu_backward", "out"): Row(
        Call("rrelu_backward(g, x, training=True, seed=s, out=o)",
             lambda g, x, o: lambda: rf.rrelu_backward(g, x, RR_LO, RR_HI, True, seed=RR_SEED,
                                                       out=o)),
        Call("np.multiply(g, noise, out=o) (the slopes kept)", _np_rrelu_backward_into),
        Call("aten.rrelu_with_noise_backward(g, x, noise, .., True, False, out=o)",
             _torch_rrelu_backward_into)),
    ("rrelu_backward", "alloc"): Row(
        Call("rrelu_backward(g, x, training=True, seed=s)",
             lambda g, x: lambda: rf.rrelu_backward(g, x, RR_LO, RR_HI, True, seed=RR_SEED)),
        Call("g * noise (the slopes kept)", _np_rrelu_backward),
        Call("aten.rrelu_with_noise_backward(g, x, noise, .., True, False)",
             _torch_rrelu_backward)),
    ("rrelu_eval", "out"): Row(
        Call("rrelu(x, out=o)", lambda x, o: lambda: rf.rrelu(x, out=o)),
        Call("np.copyto(o, x); np.multiply(x, (l + u) / 2, out=o, where=x < 0)",
             lambda x, o: lambda: _np_leaky_into(x, x.dtype.type((RR_LO + RR_HI) / 2), o),
             _MASKED),
        Call("aten.rrelu_with_noise(x, noise, training=False, out=o)",
             lambda T, tx, to: (lambda noise, op: lambda: op(tx, noise, RR_LO, RR_HI, False,
                                                              out=to))(
                 T.empty_like(tx), T.ops.aten.rrelu_with_noise.out))),
    ("rrelu_eval", "alloc"): Row(
        Call("rrelu(x)", lambda x: lambda: rf.rrelu(x)),
        Call("np.where(x > 0, x, (l + u) / 2 * x)",
             lambda x: lambda: np.where(x > 0, x, x.dtype.type((RR_LO + RR_HI) / 2) * x)),
        Call("F.rrelu(x, training=False)", lambda F, tx: lambda: F.rrelu(tx))),
    ("softplus", "out"): Row(
        Call("softplus(x, out=o)", lambda x, o: lambda: rf.softplus(x, out=o)),
        Call("np.logaddexp(0, x, out=o)", lambda x, o: lambda: np.logaddexp(0, x, out=o)),
        Call("aten.softplus(x, 1, 20, out=o)", _aten_out("softplus", 1.0, 20.0))),
    ("softplus", "inplace"): Row(
        Call("softplus(x, out=x)", lambda x, o: lambda: rf.softplus(x, out=o)),
        Call("np.logaddexp(0, x, out=x)", lambda x, o: lambda: np.logaddexp(0, x, out=o)),
        Call("aten.softplus(x, 1, 20, out=x)", _aten_out("softplus", 1.0, 20.0))),
    ("softplus", "alloc"): Row(
        Call("softplus(x)", lambda x: lambda: rf.softplus(x)),
        Call("np.logaddexp(0, x)", lambda x: lambda: np.logaddexp(0, x)),
        Call("F.softplus(x)", lambda F, tx: lambda: F.softplus(tx))),

    ("softplus_backward", "out"): Row(
        Call("softplus_backward(g, x, out=o)",
             lambda g, x, o: lambda: rf.softplus_backward(g, x, out=o)),
        Call("np.divide(g, 1 + np.exp(-x), out=o)",
             lambda g, x, o: lambda: np.divide(g, 1 + np.exp(-x), out=o)),
        Call("aten.softplus_backward(g, x, 1, 20, grad_input=o)",
             _aten_out("softplus_backward", 1.0, 20.0))),
    ("softplus_backward", "alloc"): Row(
        Call("softplus_backward(g, x)", lambda g, x: lambda: rf.softplus_backward(g, x)),
        Call("g / (1 + np.exp(-x))", lambda g, x: lambda: g / (1 + np.exp(-x))),
        Call("aten.softplus_backward(g, x, 1, 20)", _aten("softplus_backward", 1.0, 20.0))),

    ("mish", "out"): Row(
        Call("mish(x, out=o)", lambda x, o: lambda: rf.mish(x, out=o)),
        Call("np.multiply(x, np.tanh(np.logaddexp(0, x)), out=o)",
             lambda x, o: lambda: np.multiply(x, np.tanh(np.logaddexp(0, x)), out=o)),
        Call("aten.mish(x, out=o)", _aten_out("mish"))),
    ("mish", "alloc"): Row(
        Call("mish(x)", lambda x: lambda: rf.mish(x)),
        Call("x * np.tanh(np.logaddexp(0, x))", lambda x: lambda: x * np.tanh(np.logaddexp(0, x))),
        Call("F.mish(x)", lambda F, tx: lambda: F.mish(tx))),

    # aten.mish_backward has no out= overload: its peer allocates in both modes
    ("mish_backward", "out"): Row(
        Call("mish_backward(g, x, out=o)", lambda g, x, o: lambda: rf.mish_backward(g, x, out=o)),
        Call("g * (t + x * sigmoid(x) * (1 - t * t)), out=o",
             lambda g, x, o: lambda: _np_mish_backward(g, x, o)),
        Call("aten.mish_backward(g, x)", _aten("mish_backward"))),
    ("mish_backward", "alloc"): Row(
        Call("mish_backward(g, x)", lambda g, x: lambda: rf.mish_backward(g, x)),
        Call("g * (t + x * sigmoid(x) * (1 - t * t))", lambda g, x: lambda: _np_mish_backward(g, x)),
        Call("aten.mish_backward(g, x)", _aten("mish_backward"))),
    ("gelu", "out"): Row(
        Call("gelu(x, out=o)", lambda x, o: lambda: rf.gelu(x, out=o)),
        _np_gelu_row("np.multiply(x, scipy.special.ndtr(x), out=o)",
                     lambda x, o: lambda: np.multiply(x, _NDTR(x), out=o)),
        Call("aten.gelu(x, out=o)", _aten_out("gelu"))),
    ("gelu", "alloc"): Row(
        Call("gelu(x)", lambda x: lambda: rf.gelu(x)),
        _np_gelu_row("x * scipy.special.ndtr(x)", lambda x: lambda: x * _NDTR(x)),
        Call("F.gelu(x)", lambda F, tx: lambda: F.gelu(tx))),

    ("gelu_backward", "out"): Row(
        Call("gelu_backward(g, x, out=o)", lambda g, x, o: lambda: rf.gelu_backward(g, x, out=o)),
        _np_gelu_row("np.multiply(g, ndtr(x) + x * exp(-x*x/2) / sqrt(2 pi), out=o)",
                     lambda g, x, o: lambda: np.multiply(g, _np_gelu_backward(1, x), out=o)),
        Call("aten.gelu_backward(g, x, grad_input=o)", _aten_out("gelu_backward"))),
    ("gelu_backward", "alloc"): Row(
        Call("gelu_backward(g, x)", lambda g, x: lambda: rf.gelu_backward(g, x)),
        _np_gelu_row("g * (ndtr(x) + x * exp(-x*x/2) / sqrt(2 pi))",
                     lambda g, x: lambda: _np_gelu_backward(g, x)),
        Call("aten.gelu_backward(g, x)", _aten("gelu_backward"))),

    # bench's prelu: forward and backward in one call
    ("prelu", "alloc"): Row(
        Call("prelu(x, w); prelu_backward(g, x, w)", _rf_prelu_both),
        Call("np.where(x > 0, x, w*x), np.where(.., g, w*g), sums", _np_prelu_both),
        Call("F.prelu(x, w) + autograd.grad(y, (x, w), g)", _torch_prelu_both)),

    # asv's prelu: forward and backward timed apart, on axis 1
    ("prelu_forward", "out"): Row(
        Call("prelu(x, w, axis=1, out=o)", _rf_prelu_into),
        Call("np.copyto(o, x); np.multiply(x, w[c], out=o, where=x < 0)", _np_prelu, _MASKED)),
    ("prelu_forward", "inplace"): Row(
        Call("prelu(x, w, axis=1, out=x)", _rf_prelu_into),
        Call("np.multiply(x, w[c], out=x, where=x < 0)", _np_prelu, _MASKED)),
    ("prelu_forward", "alloc"): Row(
        Call("prelu(x, w, axis=1)", lambda x, w: lambda: rf.prelu(x, w, axis=1)),
        Call("np.where(x > 0, x, w[c] * x)",
             lambda x, w: lambda: np.where(x > 0, x, _channels(w) * x))),
    ("prelu_backward", "alloc"): Row(
        Call("prelu_backward(g, x, w, axis=1)",
             lambda g, x, w: lambda: rf.prelu_backward(g, x, w, axis=1)),
        Call("np.where(x <= 0, w[c] * g, g), np.sum(x * g, where=x <= 0)",
             lambda g, x, w: lambda: _np_prelu_backward(g, x, w))),
}


# ---------------------------------------------------------------------------
# bench's cells
# ---------------------------------------------------------------------------

def prelu_shape(n):
    """(batch, CHANNELS, inner) with inner <= 1000, about n elements (at least CHANNELS)."""
    inner = min(max(n // CHANNELS, 1), 1000)
    return (max(n // (CHANNELS * inner), 1), CHANNELS, inner)


def _operands(func, mode, x, g, T):
    """The operands of one bench cell.  Buffers are made here and live as long as the
    callables built from them."""
    if func == "prelu":
        shape = prelu_shape(x.size)
        w = np.linspace(0.05, 0.3, CHANNELS).astype(x.dtype)
        return {"x": x.reshape(shape), "g": g.reshape(shape), "w": w, "T": T}
    o = None
    if mode == "out":
        o = np.empty_like(x)
        o.fill(0)  # touch the pages now, outside the timing
    elif mode == "inplace":
        x = o = x.copy()   # overwritten call after call, so never the cell's shared input
    ops = {"x": x, "g": g, "o": o, "s": x.dtype.type(SLOPE), "T": T}
    if T is not None:
        ops.update(F=T.nn.functional, tx=tensor(T, x), tg=tensor(T, g),
                   to=None if o is None else tensor(T, o))
    return ops


def _runs_on_16bit(family, fn, x):
    """Whether a peer's call runs on x's 16-bit dtype as written: NumPy has no bfloat16
    of its own (ml_dtypes' loops are not NumPy), and a SciPy or out= call may refuse or
    change float16; PyTorch lacks some CPU kernels for Half/BFloat16."""
    if family == "numpy" and x.dtype.name == "bfloat16":
        return False
    try:
        with np.errstate(all="ignore"):
            r = fn()
    except (TypeError, ValueError, RuntimeError, NotImplementedError):
        return False
    first = r[0] if isinstance(r, tuple) else r
    return family != "numpy" or getattr(first, "dtype", x.dtype) == x.dtype


def contenders(func, mode, x, g, T):
    """[(family, label, fn)] for one bench cell; `T` is the torch module or None."""
    if func not in FUNCTIONS:
        raise ValueError(f"unknown function {func!r}")
    ops = _operands(func, mode, x, g, T)
    calls = [(family, call) for family, call in zip(FAMILIES, TABLE[func, mode])
             if call is not None and call.bench and (family != "torch" or T is not None)]
    if x.dtype.itemsize != 2:
        return [(family, call.label, build(call, ops)) for family, call in calls]
    built = []
    for family, call in calls:
        if family == "relu_fast":
            built.append((family, call.label, build(call, ops)))
            continue
        try:                                 # a peer's factory may already refuse the dtype
            fn = build(call, ops)
        except (TypeError, ValueError, RuntimeError, NotImplementedError):
            continue
        if _runs_on_16bit(family, fn, x):
            built.append((family, call.label, fn))
    return built
