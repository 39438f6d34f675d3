"""relu_fast on dask arrays: every public function returns a lazy dask array, chunk
for chunk (each chunk goes through the compiled function on its worker; no extra
pass).  relu_fast._api hands dask inputs over to the functions here; the elementwise
ones are made from their declarations (relu_fast._functions).

Rules:
- grad_output and x chunked differently: grad_output is rechunked to x's chunks
  (a NumPy operand is chunked like the dask one).  If they differ and either has
  unknown chunk sizes (NaN, as boolean indexing leaves them), a ValueError asks for
  compute_chunk_sizes().
- prelu: the weight is split along `axis` like x's chunks, so each chunk sees its own
  channels' alphas; a chunk with no channels yields an empty block.  Unknown chunk
  sizes along the channel axis are refused at call time (they cannot be matched
  with the weight); along the other axes they are fine.
- prelu_backward: each chunk yields its grad_input block and its float64 partial
  weight sums, unrounded; the partials are added across chunks and rounded to x's
  dtype once, at the end.
- relu_stats: each chunk yields its active counts and elements per channel (int64);
  both are added across chunks and divided at the end (NaN where a channel has no
  elements), so empty chunks and unknown chunk sizes count right.
- rrelu, rrelu_backward in training mode: each chunk is computed with its elements'
  C-order indices in the whole array (from dask's block_info), so the result equals
  NumPy's for any chunking; unknown chunk sizes are refused.
- Chunks of size 0 along any axis are fine.  out= is not supported (dask arrays are
  immutable).
dask is an optional dependency: ``pip install relu_fast[dask]``.
"""
import inspect

import numpy as np
import dask.array as da

from . import _api, _api_train
from ._functions import ARRAYS, ELEMENTWISE, FUNCTIONS

# -- per-chunk functions (module level, so workers import them by name) -----------


def _apply(*blocks, fn, params):
    """An elementwise function on one chunk (or a chunk of each operand)."""
    return fn(*blocks, **params)


def _keep(shape, ax):
    """Shape of a chunk's per-channel partial: 1 everywhere but the channel axis."""
    return tuple(s if k == ax else 1 for k, s in enumerate(shape))


def _prelu(x, w, axis):
    if w.size == 0:                      # a chunk with no channels
        return np.empty_like(x)
    return _api.prelu(x, w, axis=axis)


def _prelu_backward_parts(g, x, w, axis, ax):
    # (grad_input block, float64 partial weight sums shaped to add across chunks)
    if w.size == 0:
        gx, sums = np.empty_like(x), np.zeros(0)
    else:
        gx, sums = _api._prelu_backward_sums(g, x, w, axis)
    return gx, sums.reshape(_keep(x.shape, ax))


def _stats_parts(x, axis):
    # (relu block, active counts, elements per channel), the last two shaped to add
    y, counts, per_channel = _api_train._relu_counts(x, axis)
    shape = _keep(x.shape, axis)
    return y, counts.reshape(shape), np.full(shape, per_channel, dtype=np.int64)


def _fraction(counts, elements):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(elements > 0, counts / elements, np.nan)


def _part(parts, i):
    return parts[i]


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


def _meta(a, dtype=None):
    """An empty NumPy array with a's ndim and dtype (or `dtype`)."""
    return np.empty((0,) * a.ndim, dtype=a.dtype if dtype is None else dtype)


def _check_float(name, a):
    dt = np.dtype(a.dtype)
    if dt not in (np.float32, np.float64, np.float16) and not (
            dt.name == "bfloat16" and dt.type.__module__ == "ml_dtypes"):
        raise TypeError(f"{name} has dtype {a.dtype}; relu_fast supports float32, float64, "
                        f"float16 and bfloat16 (convert with .astype(numpy.float32))")


def _unknown(sizes):
    return any(s != s for s in sizes)       # NaN: an unknown chunk size


def _agree(a, b):
    """Same sizes, an unknown size agreeing with any (as dask's own elementwise does)."""
    return len(a) == len(b) and all(p == q or p != p or q != q for p, q in zip(a, b))


def _as_dask(a, like):
    """`a` as a dask array chunked like `like` (a NumPy operand beside a dask one)."""
    if isinstance(a, da.Array):
        return a
    a = np.asarray(a)
    if a.shape != like.shape:
        return da.from_array(a)   # the shape or chunk error comes from the checks below
    return da.from_array(a, chunks=like.chunks)


def _binary_inputs(grad_output, x):
    """(grad_output, x) as dask arrays of one shape and the same chunks."""
    for name, a in (("grad_output", grad_output), ("x", x)):
        if hasattr(a, "__dask_graph__"):
            _array(a, name)
    x = _as_dask(x, grad_output) if isinstance(grad_output, da.Array) else x
    g = _as_dask(grad_output, x)
    x = _as_dask(x, g)
    if not _agree(g.shape, x.shape):
        raise ValueError(f"grad_output has shape {g.shape} but x has shape {x.shape}; "
                         "they must match")
    if not all(_agree(c, d) for c, d in zip(g.chunks, x.chunks)):
        if _unknown(sum(g.chunks + x.chunks, ())):
            raise ValueError("grad_output and x are chunked differently and have unknown chunk "
                             "sizes; call compute_chunk_sizes() on them first")
        # bfloat16 through the task graph: distributed's P2P rechunk packs buffers with
        # the buffer protocol, which knows no ml_dtypes.bfloat16 ('E')
        g = g.rechunk(x.chunks, **({"method": "tasks"} if g.dtype.name == "bfloat16" else {}))
    return g, x


def _check_binary(fn, g, x, *args, **kw):
    """Run the eager checks of `fn` on empty arrays shaped like the inputs' metadata."""
    fn(_meta(g), _meta(x), *args, **kw)


# -- public functions ---------------------------------------------------------------


def _elementwise(name):
    """The dask version of the elementwise function `name`, made from its declaration:
    the same signature; the eager checks on an empty array; then chunk by chunk."""
    f = FUNCTIONS[name]
    fn = getattr(_api, name)
    P = inspect.Parameter
    sig = inspect.Signature(
        [P(a, P.POSITIONAL_OR_KEYWORD) for a in ARRAYS[f.kind]]
        + [P(p.name, P.KEYWORD_ONLY if p.keyword else P.POSITIONAL_OR_KEYWORD, default=p.default)
           for p in f.params]
        + [P("out", P.KEYWORD_ONLY, default=None)])

    def dask_version(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        given = dict(bound.arguments)
        _no_out(given.pop("out"), name)
        params = {p.name: given[p.name] for p in f.params}
        bias = {k: params.pop(k) for k in _BIAS_ARGS if k in params}
        if f.kind == "unary":
            x = _array(given["x"])
            if bias["bias"] is not None:
                return _biased_forward(fn, x, params, **bias)
            fn(_meta(x), **params, **bias)
            return x.map_blocks(_apply, fn=fn, params=params, dtype=x.dtype)
        g, x = _binary_inputs(given["grad_output"], given["x"])
        if bias["bias"] is not None or bias["grad_bias"]:
            return _biased_backward(fn, g, x, params, **bias)
        _check_binary(fn, g, x, **params, **bias)
        return da.map_blocks(_apply, g, x, fn=fn, params=params, dtype=g.dtype)

    dask_version.__name__ = dask_version.__qualname__ = name
    dask_version.__signature__ = sig
    dask_version.__doc__ = f"{name} on dask arrays, chunk by chunk (see relu_fast.{name})."
    return dask_version


_BIAS_ARGS = ("bias", "axis", "grad_bias")


def _bias_block(*blocks, fn, params, axis):
    # the chunk's operands, then its channels' bias values
    *arrays, b = blocks
    if b.size == 0:                      # a chunk with no channels
        return np.empty_like(arrays[-1])
    return fn(*arrays, bias=b, axis=axis, **params)


def _bias_layout(fn, x, bias, axis, probe_args):
    """(bias as a 1-D NumPy array and its channel axis, as _channel_axis), after fn's
    own checks of it on empty arrays: fn(*probe_args(probe), bias=bias, axis=axis)."""
    return _channel_axis(x, bias, axis,
                         lambda probe: fn(*probe_args(probe), bias=bias, axis=axis))


def _channels_block(fn, arrays, b, ax, axis, params, dtype):
    """fn chunk by chunk on the dask `arrays` with the bias b split like their chunks
    along ax (None: its one value for every chunk, and the caller's axis)."""
    if ax is None:
        return da.map_blocks(_bias_block, *arrays, b, fn=fn, params=params, axis=axis,
                             dtype=dtype)
    ind = _index(arrays[0].ndim)
    bd = da.from_array(b, chunks=(arrays[0].chunks[ax],))
    pairs = [a for arr in arrays for a in (arr, ind)]
    return da.blockwise(_bias_block, ind, *pairs, bd, (ax,), fn=fn, params=params, axis=ax,
                        dtype=dtype)


def _biased_forward(fn, x, params, bias, axis):
    b, ax = _bias_layout(fn, x, bias, axis, lambda p: (p,) + tuple(params.values()))
    return _channels_block(fn, [x], b, ax, axis, params, x.dtype)


def _biased_backward(fn, g, x, params, bias, axis, grad_bias):
    """grad_input chunk by chunk (the derivative at x + bias), and with grad_bias its
    sums per channel (_sums)."""
    if bias is not None:
        b, ax = _bias_layout(fn, x, bias, axis,
                             lambda p: (np.empty(p.shape, g.dtype), p) + tuple(params.values()))
        gx = _channels_block(fn, [g, x], b, ax, axis, params, g.dtype)
        bias = np.asarray(bias, dtype=b.dtype)
    else:
        _check_binary(fn, g, x, **params, axis=axis, grad_bias=True)
        gx = da.map_blocks(_apply, g, x, fn=fn, params=params, dtype=g.dtype)
    return (gx, _sums(gx, x, bias, axis)) if grad_bias else gx


for _name in ELEMENTWISE:
    if FUNCTIONS[_name].dask == "elementwise":
        globals()[_name] = _elementwise(_name)
del _name


def _rrelu_chunk(*blocks, params, block_info=None):
    # the chunk's place in the whole array gives its elements' C-order indices
    info = block_info[0]
    shape = tuple(info["shape"])
    origin = tuple(lo for lo, _ in info["array-location"])
    if len(blocks) == 1:
        return _api._rrelu_block(blocks[0], shape=shape, origin=origin, **params)
    return _api._rrelu_backward_block(*blocks, shape=shape, origin=origin, **params)


def _known(x):
    if _unknown(sum(x.chunks, ())):
        raise ValueError("rrelu needs x's chunk sizes (each element's slope follows its index "
                         "in the whole array); call x.compute_chunk_sizes() first")


def _plus_bias(fn, x, bias, axis):
    """x + bias lazily (rounded to x's dtype as the fused call rounds it), after fn's
    checks of the bias: rrelu's training mode needs each chunk's place in the whole
    array, which the bias's blockwise split does not give."""
    b, ax = _bias_layout(fn, x, bias, axis, lambda p: (p,))
    if ax is not None:
        shape = [1] * x.ndim
        shape[ax] = b.size
        b = b.reshape(shape)
    wide = np.float32 if x.dtype.itemsize == 2 else x.dtype
    return (x.astype(wide) + b.astype(wide)).astype(x.dtype)


def rrelu(x, lower=0.125, upper=0.3333333333333333, training=False, *, seed=None, bias=None,
          axis=1, out=None):
    _no_out(out, "rrelu")
    x = _array(x)
    params = dict(lower=lower, upper=upper, training=training, seed=seed)
    _api.rrelu(_meta(x), **params, axis=axis)   # raises what rrelu raises
    if bias is not None:
        if not training:
            return _biased_forward(_api.rrelu, x, params, bias, axis)
        x = _plus_bias(_api.rrelu, x, bias, axis)
    if not training:
        return x.map_blocks(_apply, fn=_api.rrelu, params=params, dtype=x.dtype)
    _known(x)
    return x.map_blocks(_rrelu_chunk, params=params, dtype=x.dtype)


def rrelu_backward(grad_output, x, lower=0.125, upper=0.3333333333333333, training=False, *,
                   seed=None, bias=None, axis=1, grad_bias=False, out=None):
    _no_out(out, "rrelu_backward")
    g, x = _binary_inputs(grad_output, x)
    params = dict(lower=lower, upper=upper, training=training, seed=seed)
    _check_binary(_api.rrelu_backward, g, x, **params, axis=axis, grad_bias=grad_bias)
    if bias is not None or grad_bias:
        if not training:
            return _biased_backward(_api.rrelu_backward, g, x, params, bias, axis, grad_bias)
        xb = x if bias is None else _plus_bias(_api.rrelu, x, bias, axis)
        gx = rrelu_backward(g, xb, **params)
        if bias is not None:
            bias = np.asarray(bias, dtype=bias.dtype if isinstance(bias, np.ndarray) else x.dtype)
        return (gx, _sums(gx, x, bias, axis)) if grad_bias else gx
    if not training:
        return da.map_blocks(_apply, g, x, fn=_api.rrelu_backward, params=params, dtype=g.dtype)
    _known(x)
    return da.map_blocks(_rrelu_chunk, g, x, params=params, dtype=g.dtype)


def _sums(gx, x, bias, axis):
    """grad_bias from the dask grad_input: float64 sums per channel (over everything for
    one bias value or no channel axis), rounded once to the bias's dtype."""
    dtype = x.dtype if bias is None else bias.dtype
    if x.ndim < 2 or (bias is not None and bias.size == 1):
        total = gx.astype(np.float64).sum().astype(dtype)
        return total if bias is None else total.reshape(bias.shape)
    ax = axis % x.ndim
    others = tuple(k for k in range(x.ndim) if k != ax)
    return gx.astype(np.float64).sum(axis=others).astype(dtype)


def _channel_axis(x, weight, axis, check=None):
    """(weight -- a PReLU weight or a bias -- as a 1-D NumPy array of its dtype (an
    ndarray's own, else x's), and the channel axis or None for one value), after
    `check(probe)` (default: prelu's own checks) on an empty array with x's channel
    count."""
    ax = None
    if x.ndim >= 2 and isinstance(axis, (int, np.integer)) and not isinstance(axis, bool) \
            and -x.ndim <= axis < x.ndim:
        ax = int(axis) % x.ndim
    unknown = ax is not None and _unknown(x.chunks[ax])
    if unknown and np.size(weight) != 1:
        raise ValueError(f"x has unknown chunk sizes along the channel axis {axis}; "
                         "call x.compute_chunk_sizes() first")
    # one value fits any channel count, so an unknown one is probed as 0
    probe = np.empty(tuple(x.shape[k] if k == ax and not unknown else 0 for k in range(x.ndim)),
                     dtype=x.dtype)
    if check is None:
        _api.prelu(probe, weight, axis=axis)   # raises what prelu raises
    else:
        check(probe)
    w = np.asarray(weight, dtype=weight.dtype if isinstance(weight, np.ndarray) else x.dtype)
    w = w.reshape(-1)
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


def prelu_backward(grad_output, x, weight, *, axis=1):
    g, x = _binary_inputs(grad_output, x)
    _check_float("grad_output", g)
    _check_float("x", x)
    if np.dtype(g.dtype) != np.dtype(x.dtype):
        raise TypeError(f"grad_output has dtype {g.dtype} but x has dtype {x.dtype}; "
                        "they must match")
    w, ax = _channel_axis(x, weight, axis)
    ind = _index(x.ndim)
    wd, w_ind = (w, None) if ax is None else (da.from_array(w, chunks=(x.chunks[ax],)), (ax,))
    pair = da.blockwise(_prelu_backward_parts, ind, g, ind, x, ind, wd, w_ind,
                        axis=axis if ax is None else ax, ax=ax, dtype=object,
                        meta=_meta(x, object))
    grad_input = pair.map_blocks(_part, 0, dtype=x.dtype, meta=_meta(x))
    part_chunks = tuple(c if k == ax else (1,) * len(c) for k, c in enumerate(x.chunks))
    sums = pair.map_blocks(_part, 1, chunks=part_chunks, dtype=np.float64,
                           meta=_meta(x, np.float64))
    others = tuple(k for k in range(x.ndim) if k != ax)
    # the float64 sums rounded once to the weight's dtype (NumPy's and ml_dtypes'
    # float64 conversions round directly)
    grad_weight = sums.sum(axis=others).astype(w.dtype).reshape(np.shape(weight))
    return grad_input, grad_weight


def relu_stats(x, *, axis=1, out=None):
    _no_out(out, "relu_stats")
    x = _array(x)
    if x.ndim == 0:
        raise ValueError("x is 0-D: it has no channel axis")
    _api_train.relu_stats(_meta(x), axis=axis)   # raises what relu_stats raises
    ax = axis % x.ndim
    ind = _index(x.ndim)
    parts = da.blockwise(_stats_parts, ind, x, ind, axis=ax, dtype=object, meta=_meta(x, object))
    y = parts.map_blocks(_part, 0, dtype=x.dtype, meta=_meta(x))
    part_chunks = tuple(c if k == ax else (1,) * len(c) for k, c in enumerate(x.chunks))
    others = tuple(k for k in range(x.ndim) if k != ax)
    counts, elements = (parts.map_blocks(_part, i, chunks=part_chunks, dtype=np.int64,
                                         meta=_meta(x, np.int64)).sum(axis=others)
                        for i in (1, 2))
    return y, da.map_blocks(_fraction, counts, elements, dtype=np.float64)
