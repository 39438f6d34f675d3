"""relu_fast on dask arrays: every public function returns a lazy dask array, chunk
for chunk (each chunk goes through the compiled function on its worker; no rechunk,
no extra pass).  relu_fast._api hands dask inputs over to the functions here.

prelu: the weight is split along `axis` like x's chunks, so each chunk sees its own
channels' alphas.  prelu_backward: each chunk yields its grad_input block and its
partial weight gradient in one call; the partials are summed across chunks (in
float64) into grad_weight.  out= is not supported (dask arrays are immutable).
dask is an optional dependency: ``pip install relu_fast[dask]``.
"""
import numpy as np
import dask.array as da

from . import _api, _api_train

# -- per-chunk functions (module level, so workers import them by name) -----------


def _relu(x):
    return _api.relu(x)


def _relu_backward(g, x):
    return _api.relu_backward(g, x)


def _leaky(x, s):
    return _api.leaky_relu(x, s)


def _leaky_backward(g, x, s):
    return _api.leaky_relu_backward(g, x, s)


def _elu(x, a):
    return _api.elu(x, a)


def _elu_backward(g, x, a, is_result):
    return _api.elu_backward(g, x, a, is_result=is_result)


def _prelu(x, w, axis):
    return _api.prelu(x, w, axis=axis)


def _prelu_backward_pair(g, x, w, axis, keep):
    # (grad_input block, partial weight gradient in float64 shaped to sum across chunks)
    gx, gw = _api.prelu_backward(g, x, w, axis=axis)
    return gx, np.asarray(gw, dtype=np.float64).reshape(keep(x.shape))


def _stats_pair(x, axis):
    y, frac = _api_train.relu_stats(x, axis=axis)
    ax = axis % x.ndim
    count = np.rint(frac * (x.size // x.shape[ax] if x.shape[ax] else 0)).astype(np.int64)
    shape = [1] * x.ndim
    shape[ax] = x.shape[ax]
    return y, count.reshape(shape)


def _first(pair):
    return pair[0]


def _second(pair):
    return pair[1]


# -- helpers ------------------------------------------------------------------------


def _no_out(out, name):
    if out is not None:
        raise TypeError(f"{name} does not take out= with dask arrays (they are immutable); "
                        "assign the returned lazy array instead")


def _array(a, name="x"):
    """Only dask arrays (not other dask collections) are handed over here."""
    if not isinstance(a, da.Array):
        raise TypeError(f"{name} is a {type(a).__name__}; relu_fast takes dask.array.Array among "
                        "dask collections (use .to_dask_array() or .values)")
    return a


def _meta(a):
    """An empty NumPy array with a's dtype and ndim, to run the checks eagerly."""
    return np.empty((0,) * a.ndim, dtype=a.dtype)


def _check_float(name, a):
    if np.dtype(a.dtype) not in (np.float32, np.float64):
        raise TypeError(f"{name} has dtype {a.dtype}; relu_fast supports float32 and float64 "
                        f"(convert with .astype(numpy.float32) or numpy.float64)")


def _as_dask(a, like):
    """`a` as a dask array chunked like `like` (a NumPy operand beside a dask one)."""
    if isinstance(a, da.Array):
        return a
    a = np.asarray(a)
    if a.shape != like.shape:
        return da.from_array(a)   # the shape error comes from the eager check
    return da.from_array(a, chunks=like.chunks)


def _binary_inputs(grad_output, x):
    for name, a in (("grad_output", grad_output), ("x", x)):
        if hasattr(a, "__dask_graph__"):
            _array(a, name)
    x = _as_dask(x, grad_output) if isinstance(grad_output, da.Array) else x
    grad_output = _as_dask(grad_output, x)
    x = _as_dask(x, grad_output)
    return grad_output, x


def _check_binary(fn, g, x, *args, **kw):
    """Run the eager checks of `fn` on empty arrays shaped like the inputs' metadata."""
    if g.shape != x.shape:
        raise ValueError(f"grad_output has shape {g.shape} but x has shape {x.shape}; they must match")
    fn(_meta(g), _meta(x), *args, **kw)


# -- public functions ---------------------------------------------------------------


def relu(x, *, out=None):
    _no_out(out, "relu")
    x = _array(x)
    _api.relu(_meta(x))
    return x.map_blocks(_relu, dtype=x.dtype)


def relu_backward(grad_output, x, *, out=None):
    _no_out(out, "relu_backward")
    g, x = _binary_inputs(grad_output, x)
    _check_binary(_api.relu_backward, g, x)
    return da.map_blocks(_relu_backward, g, x, dtype=g.dtype)


def leaky_relu(x, negative_slope=0.01, *, out=None):
    _no_out(out, "leaky_relu")
    x = _array(x)
    _api.leaky_relu(_meta(x), negative_slope)
    return x.map_blocks(_leaky, negative_slope, dtype=x.dtype)


def leaky_relu_backward(grad_output, x, negative_slope=0.01, *, out=None):
    _no_out(out, "leaky_relu_backward")
    g, x = _binary_inputs(grad_output, x)
    _check_binary(_api.leaky_relu_backward, g, x, negative_slope)
    return da.map_blocks(_leaky_backward, g, x, negative_slope, dtype=g.dtype)


def elu(x, alpha=1.0, *, out=None):
    _no_out(out, "elu")
    x = _array(x)
    _api.elu(_meta(x), alpha)
    return x.map_blocks(_elu, alpha, dtype=x.dtype)


def elu_backward(grad_output, x, alpha=1.0, *, is_result=False, out=None):
    _no_out(out, "elu_backward")
    g, x = _binary_inputs(grad_output, x)
    _check_binary(_api.elu_backward, g, x, alpha, is_result=is_result)
    return da.map_blocks(_elu_backward, g, x, alpha, is_result, dtype=g.dtype)


def _channel_axis(x, weight, axis):
    """(weight as a NumPy array of x's dtype, channel axis or None for one alpha),
    after prelu's own checks on an empty array with x's channel count."""
    ax = None
    if x.ndim >= 2 and isinstance(axis, (int, np.integer)) and not isinstance(axis, bool) \
            and -x.ndim <= axis < x.ndim:
        ax = int(axis) % x.ndim
    probe = np.empty(tuple(x.shape[k] if k == ax else 0 for k in range(x.ndim)), dtype=x.dtype)
    _api.prelu(probe, weight, axis=axis)   # raises what prelu raises
    w = np.asarray(weight, dtype=x.dtype).reshape(-1)
    if w.size == 1:
        return w, None
    return w, ax


def _index(nd):
    return tuple(range(nd))


def prelu(x, weight, *, axis=1, out=None):
    _no_out(out, "prelu")
    x = _array(x)
    w, ax = _channel_axis(x, weight, axis)
    if ax is None:
        return x.map_blocks(_prelu, w, axis, dtype=x.dtype)
    wd = da.from_array(w, chunks=(x.chunks[ax],))
    ind = _index(x.ndim)
    return da.blockwise(_prelu, ind, x, ind, wd, (ax,), axis=ax, dtype=x.dtype)


class _Keep:
    """Shape of a chunk's partial weight gradient: 1 everywhere but the channel axis."""

    def __init__(self, ax):
        self.ax = ax

    def __call__(self, shape):
        return tuple(s if k == self.ax else 1 for k, s in enumerate(shape))


def prelu_backward(grad_output, x, weight, *, axis=1):
    g, x = _binary_inputs(grad_output, x)
    if g.shape != x.shape:
        raise ValueError(f"grad_output has shape {g.shape} but x has shape {x.shape}; they must match")
    _check_float("grad_output", g)
    _check_float("x", x)
    if np.dtype(g.dtype) != np.dtype(x.dtype):
        raise TypeError(f"grad_output has dtype {g.dtype} but x has dtype {x.dtype}; they must match")
    w, ax = _channel_axis(x, weight, axis)
    weight_shape = np.shape(weight)
    ind = _index(x.ndim)
    if ax is None:
        pair = da.blockwise(_prelu_backward_pair, ind, g, ind, x, ind, w, None, axis=axis,
                            keep=_Keep(-1), dtype=object, meta=np.empty((0,) * x.ndim, dtype=object))
        part_chunks = tuple((1,) * len(c) for c in x.chunks)
    else:
        wd = da.from_array(w, chunks=(x.chunks[ax],))
        pair = da.blockwise(_prelu_backward_pair, ind, g, ind, x, ind, wd, (ax,), axis=ax,
                            keep=_Keep(ax), dtype=object, meta=np.empty((0,) * x.ndim, dtype=object))
        part_chunks = tuple(c if k == ax else (1,) * len(c) for k, c in enumerate(x.chunks))
    grad_input = pair.map_blocks(_first, dtype=x.dtype, meta=np.empty((0,) * x.ndim, dtype=x.dtype))
    parts = pair.map_blocks(_second, chunks=part_chunks, dtype=np.float64,
                            meta=np.empty((0,) * x.ndim, dtype=np.float64))
    others = tuple(k for k in range(x.ndim) if k != ax)
    grad_weight = parts.sum(axis=others).astype(x.dtype).reshape(weight_shape)
    return grad_input, grad_weight


def relu_stats(x, *, axis=-1, out=None):
    _no_out(out, "relu_stats")
    x = _array(x)
    if x.ndim == 0:
        raise ValueError("x is 0-D: it has no channel axis")
    _api_train.relu_stats(_meta(x), axis=axis)   # raises what relu_stats raises
    ax = axis % x.ndim
    ind = _index(x.ndim)
    pair = da.blockwise(_stats_pair, ind, x, ind, axis=ax, dtype=object,
                        meta=np.empty((0,) * x.ndim, dtype=object))
    y = pair.map_blocks(_first, dtype=x.dtype, meta=np.empty((0,) * x.ndim, dtype=x.dtype))
    part_chunks = tuple(c if k == ax else (1,) * len(c) for k, c in enumerate(x.chunks))
    counts = pair.map_blocks(_second, chunks=part_chunks, dtype=np.int64,
                             meta=np.empty((0,) * x.ndim, dtype=np.int64))
    others = tuple(k for k in range(x.ndim) if k != ax)
    per_channel = x.size // x.shape[ax] if x.shape[ax] else 0
    frac = counts.sum(axis=others) / per_channel if per_channel else da.full(x.shape[ax], np.nan)
    return y, frac
