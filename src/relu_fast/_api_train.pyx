"""Training helpers: the activations whose gradient takes one of two forms with a 1-bit
backward mask, their backward from the mask, and relu with per-channel activity counts.  Same checks, layouts and threads as relu_fast._api,
whose kernel table it uses, with the argument checks of relu_fast._args.
"""
import numbers

import numpy as np

cimport numpy as cnp
from libc.stdint cimport uint8_t, int64_t

from relu_fast._api cimport (kernel_table, _check_flag, _check_range, _mask_array, _mask_backward,
                             _mask_forward, _rrelu_scalars)
from relu_fast._args cimport (C_ORDER, F_ORDER, as_array, deliver, destination, direct, dtype_code,
                              empty_like, order_of, real)
from relu_fast._threads cimport give_threads, take_threads, threads_for
from relu_fast._table cimport *
from relu_fast._fpenv cimport fpstate, fp_enter, fp_leave

from relu_fast._args import _DaskInput, _dask_call

cnp.import_array()

cdef inline Py_ssize_t mask_bytes(Py_ssize_t n) noexcept:
    return (n + 7) // 8


cdef void _check_axis_type(object axis) except *:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an int, got {type(axis).__name__}")


def _no_dask(name):
    base = name.replace("_backward_mask", "").replace("_mask", "")
    return TypeError(f"{name} does not take dask arrays (its mask packs the whole array in C "
                     f"order); use {base} / {base}_backward on dask arrays")


def relu_mask(x, *, bias=None, axis=1, out=None):
    r"""Apply relu and return the 1-bit mask of where its gradient passes.

    The mask is all that `relu_fast.relu_backward_mask` needs: one bit per element
    instead of keeping x (32 times less memory than float32, 64 than float64).

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`).  Dask
        arrays are refused.
    bias : array_like, optional
        A bias added to x in the same pass, one value per channel along `axis`
        (1-D) or one for all, with the rules of `relu_fast.relu`'s: y and the
        mask are those of x + bias.
    axis : int
        The channel axis of x that `bias` runs along (negative counts from the
        end).
    out : ndarray, optional
        Writeable array of x's shape and dtype (any layout) to write y into;
        ``out=x`` works in place.

    Returns
    -------
    y : ndarray
        ``relu(x)``, of x's shape and dtype; `out` if given.
    mask : ndarray
        1-D uint8 array of ceil(x.size / 8) bytes, the bits of
        :math:`\lnot (x \le 0)`.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, or is a dask array,
        `bias` or `axis` is of the wrong type, or `out` is not an ndarray or has
        another dtype.
    ValueError
        If `bias` does not fit x's channels, `axis` is out of range, or `out`
        has another shape or is read-only.

    See Also
    --------
    relu_fast.relu_backward_mask : The gradient from the mask.
    relu_fast.relu : Without the mask.

    Notes
    -----
    y is `relu_fast.relu`'s result (:math:`y = 0` where x < 0, else x).  Element
    i of x in C order is bit ``i % 8`` (little bit order) of byte ``i // 8``; the
    bit is 1 where x > 0 or x is NaN, exactly where `relu_fast.relu_backward`
    passes the gradient, and the unused high bits of the last byte are 0.
    ``np.unpackbits(mask, count=x.size, bitorder="little")`` unpacks it.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([[-1.0, 2.0, 0.0], [3.0, np.nan, -4.0]], dtype=np.float32)
    >>> y, mask = rf.relu_mask(x)
    >>> y
    array([[ 0.,  2.,  0.],
           [ 3., nan,  0.]], dtype=float32)
    >>> mask
    array([26], dtype=uint8)
    >>> np.unpackbits(mask, count=x.size, bitorder="little")
    array([0, 1, 0, 1, 1, 0], dtype=uint8)
    """
    cdef const KernelTable* tt = kernel_table()
    cdef cnp.ndarray xa
    cdef double params[5]
    try:
        if bias is not None:
            return _mask_forward(OP_RELU, OP_RELU_BWD, x, out, params, None, None, 1.0, bias,
                                 axis, False)
        xa = as_array(x, "x")
    except _DaskInput:
        raise _no_dask("relu_mask") from None
    if type(axis) is not int:
        _check_axis_type(axis)
    cdef int dt = dtype_code(xa)
    cdef cnp.ndarray dst
    xa = direct(xa, C_ORDER, dt)
    dst = destination(out, xa, dt, C_ORDER, xa, None)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef cnp.ndarray mask = np.empty(mask_bytes(n), dtype=np.uint8)
    cdef int nt = threads_for(n)
    cdef const void* px = cnp.PyArray_DATA(xa)
    cdef void* py = cnp.PyArray_DATA(dst)
    cdef uint8_t* pm = <uint8_t*>cnp.PyArray_DATA(mask)
    cdef fpstate fps = fp_enter()            # this thread's FTZ/DAZ cleared for the call
    take_threads(nt)
    with nogil:
        tt.relu_mask(dt, px, py, pm, n, nt)
    give_threads(nt)
    fp_leave(fps)
    return deliver(out, dst), mask


def relu_backward_mask(grad_output, mask, *, axis=1, grad_bias=False, out=None):
    r"""Compute the gradient of relu from the mask of `relu_fast.relu_mask`.

    The result equals ``relu_backward(grad_output, x)`` for the x the mask came
    from.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to relu's output, float32, float64,
        float16 or bfloat16, normally of x's shape: its elements in C order
        meet the mask's bits in order.  Dask arrays are refused.
    mask : ndarray
        The mask `relu_fast.relu_mask` returned: uint8, exactly
        ceil(grad_output.size / 8) bytes.
    axis : int
        The channel axis for `grad_bias` (negative counts from the end).
    grad_bias : bool
        Also return the bias gradient: grad_input summed per channel along
        `axis` in the same pass, in float64, rounded once to its dtype (0-D for
        an array with no channel axis).
    out : ndarray, optional
        Writeable array of grad_output's shape and dtype (any layout) to write
        the result into; ``out=grad_output`` works in place.

    Returns
    -------
    grad_input : ndarray
        The gradient with respect to x, of grad_output's shape and dtype; `out`
        if given.
    grad_bias : ndarray
        Only with ``grad_bias=True``: one sum per channel along `axis`.

    Raises
    ------
    TypeError
        If grad_output is not float32, float64, float16 or bfloat16, or is a
        dask array; if `mask` is not an ndarray or not uint8; if `axis` is not
        an int or `grad_bias` not a bool; or if `out` is not an ndarray or has
        another dtype.
    ValueError
        If `mask` does not have ceil(grad_output.size / 8) bytes, `axis` is out
        of range (with grad_bias), or `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.relu_mask : The forward function that makes the mask.
    relu_fast.relu_backward : The same from x.

    Notes
    -----
    With :math:`b_i` bit ``i % 8`` of byte ``i // 8`` of the mask and i the
    element's index in C order:

    .. math:: \frac{\partial L}{\partial x_i} = \begin{cases} g_i & b_i = 1 \\
              0 & b_i = 0 \end{cases}

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([[-1.0, 2.0, 0.0], [3.0, np.nan, -4.0]], dtype=np.float32)
    >>> y, mask = rf.relu_mask(x)
    >>> rf.relu_backward_mask(np.ones_like(x), mask)
    array([[0., 1., 0.],
           [1., 1., 0.]], dtype=float32)
    """
    cdef const KernelTable* tt = kernel_table()
    cdef cnp.ndarray ga
    cdef double params[5]
    try:
        if grad_bias is not False:
            return _mask_backward(OP_RELU_BWD, grad_output, mask, out, params, None, None, 1.0, -1.0,
                                  axis, grad_bias, False, "relu_mask")
        ga = as_array(grad_output, "grad_output")
    except _DaskInput:
        raise _no_dask("relu_backward_mask") from None
    if type(axis) is not int:
        _check_axis_type(axis)
    cdef int dt = dtype_code(ga)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(ga)
    cdef cnp.ndarray m = _mask_array(mask, n, "relu_mask")
    cdef cnp.ndarray dst
    ga = direct(ga, C_ORDER, dt)
    dst = destination(out, ga, dt, C_ORDER, ga, m)      # out may not share the mask's bytes
    cdef int nt = threads_for(n)
    cdef const void* pg = cnp.PyArray_DATA(ga)
    cdef const uint8_t* pm = <const uint8_t*>cnp.PyArray_DATA(m)
    cdef void* pd = cnp.PyArray_DATA(dst)
    cdef fpstate fps = fp_enter()
    take_threads(nt)
    with nogil:
        tt.relu_backward_mask(dt, pg, pm, pd, n, nt)
    give_threads(nt)
    fp_leave(fps)
    return deliver(out, dst)


cdef tuple _channel_geometry(cnp.ndarray xa, object axis, int order):
    """(outer, channels, inner) of x's memory block with `axis` as the channel axis."""
    cdef int nd = cnp.PyArray_NDIM(xa)
    cdef Py_ssize_t ax, k, outer = 1, inner = 1
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an int, got {type(axis).__name__}")
    axis = int(axis)                      # numpy integers (uint64 too) as Python ints
    if nd == 0:
        raise ValueError("x is 0-D: it has no channel axis")
    if axis < -nd or axis >= nd:          # compared as Python ints: any size is a ValueError
        raise ValueError(f"axis {axis} is out of range for x with {nd} dimensions")
    ax = axis
    if ax < 0:
        ax += nd
    dims = (<object>xa).shape
    if order == F_ORDER:
        ax = nd - 1 - ax
        dims = dims[::-1]
    for k in range(ax):
        outer *= dims[k]
    for k in range(ax + 1, nd):
        inner *= dims[k]
    return (outer, dims[ax], inner)


def relu_stats(x, *, axis=1, out=None):
    r"""Apply relu and count, in the same pass, the active share of each channel.

    A unit whose fraction stays 0 over a run of inputs is a dead ReLU.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16 with at least one
        dimension, any layout (a list goes through `numpy.asarray`).  A dask
        array gives lazy dask arrays for both results.
    axis : int
        The channel axis (negative counts from the end): 1 for NCHW and
        (batch, features), as for `relu_fast.prelu`; -1 for channels-last.
    out : ndarray, optional
        Writeable array of x's shape and dtype (any layout) to write y into;
        ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    y : ndarray
        ``relu(x)``, of x's shape and dtype; `out` if given.
    active_fraction : ndarray
        The fraction of x > 0 in each channel: float64, of length x.shape[axis].

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, `axis` is not an int
        (a bool, float or str), or `out` is not an ndarray, has another dtype,
        or is given with a dask array.
    ValueError
        If x is 0-D, `axis` is out of range, or `out` has another shape or is
        read-only.
    MemoryError
        If the per-part counts cannot be allocated.

    See Also
    --------
    relu_fast.relu : Without the counts.
    relu_fast.nn.never_active : The channels of a layer never active.

    Notes
    -----
    For channel c (the elements with index c along `axis`), :math:`N_c` of
    them:

    .. math:: \mathrm{active\_fraction}_c = \frac{\#\{i \in c : x_i > 0\}}{N_c}

    NaN is not active here (it is in `relu_fast.relu_mask`); a channel with no
    elements (:math:`N_c = 0`) gets NaN.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([[-1.0, 2.0, 0.0], [3.0, 5.0, -4.0]], dtype=np.float32)
    >>> y, active = rf.relu_stats(x)         # 3 channels along axis 1
    >>> active
    array([0.5, 1. , 0. ])
    >>> rf.relu_stats(x, axis=0)[1]          # 2 channels along axis 0
    array([0.33333333, 0.66666667])
    """
    try:
        o, counts, per_channel = _relu_counts(x, axis, out)
    except _DaskInput:
        return _dask_call("relu_stats", x, axis=axis, out=out)
    if per_channel == 0:
        return o, np.full(counts.shape[0], np.nan)
    return o, counts / float(per_channel)


def _relu_counts(x, axis=1, out=None):
    """relu_stats' pass with the raw counts: (y, counts (int64 per channel), elements
    per channel).  dask adds the chunks' counts and elements before dividing."""
    cdef const KernelTable* tt = kernel_table()
    cdef cnp.ndarray xa = as_array(x, "x")    # a dask x: _DaskInput, to relu_stats
    cdef int dt = dtype_code(xa)
    cdef int order = order_of(xa)
    cdef Py_ssize_t outer, C, inner
    cdef cnp.ndarray dst
    outer, C, inner = _channel_geometry(xa, axis, order)
    xa = direct(xa, order, dt)
    dst = destination(out, xa, dt, order, xa, None)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef cnp.ndarray counts = np.zeros(C, dtype=np.int64)
    cdef int nt = threads_for(n)
    cdef int status = 0
    cdef const void* px = cnp.PyArray_DATA(xa)
    cdef void* py = cnp.PyArray_DATA(dst)
    cdef int64_t* pc = <int64_t*>cnp.PyArray_DATA(counts)
    cdef fpstate fps
    if n > 0:
        fps = fp_enter()
        take_threads(nt)
        with nogil:
            status = tt.relu_stats(dt, px, py, pc, outer, C, inner, nt)
        give_threads(nt)
        fp_leave(fps)
    if status != 0:
        raise MemoryError("relu_stats could not allocate its per-part counts")
    return deliver(out, dst), counts, outer * inner


# ---------------------------------------------------------------------------
# The other two-form gradients' masks (relu_fast._functions.MASKED): the kernels
# recompute each element's gradient from an input of its form (_kernels_masks.pxi);
# the values below are such inputs (where the bit is 1, where it is 0)
# ---------------------------------------------------------------------------

cdef double NAN = float("nan")


def leaky_relu_mask(x, negative_slope=0.01, *, bias=None, axis=1, out=None):
    r"""Apply leaky_relu and return the 1-bit mask of its gradient's form.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        layout.  Dask arrays are refused.
    negative_slope : float
        Slope for x <= 0, as for `relu_fast.leaky_relu`.
    bias : array_like, optional
        A bias added to x in the same pass (the rules of
        `relu_fast.leaky_relu`'s): y and the mask are those of x + bias.
    axis : int
        The channel axis of x that `bias` runs along.
    out : ndarray, optional
        Writeable array of x's shape and dtype to write y into; ``out=x``
        works in place.

    Returns
    -------
    y : ndarray
        ``leaky_relu(x, negative_slope)``; `out` if given.
    mask : ndarray
        1-D uint8 array of ceil(x.size / 8) bytes: the bits of x > 0 (every bit
        1 if `negative_slope` is 1, where both forms are the same).

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16 or is a dask array,
        an argument is of the wrong type, or `out` has another dtype.
    ValueError
        If `negative_slope` is not finite or overflows x's dtype, `bias` does
        not fit x's channels, or `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.leaky_relu_backward_mask : The gradient from the mask.
    relu_fast.relu_mask : The mask layout.

    Notes
    -----
    Bit i of the mask (element i in C order, bit ``i % 8`` of byte ``i // 8``)
    says which form the gradient takes there: g where it is 1, s g where it is
    0.  NaN x has bit 0, as `relu_fast.leaky_relu_backward` gives it s g.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> y, mask = rf.leaky_relu_mask(np.array([-2.0, 0.0, 3.0]), 0.1)
    >>> y, np.unpackbits(mask, count=3, bitorder="little")
    (array([-0.2,  0. ,  3. ]), array([0, 0, 1], dtype=uint8))
    """
    cdef double params[5]
    params[0] = real(negative_slope, "negative_slope")
    try:
        return _mask_forward(OP_LEAKY, OP_LEAKY_BWD, x, out, params, "negative_slope", None, 1.0,
                             bias, axis, False)
    except _DaskInput:
        raise _no_dask("leaky_relu_mask") from None


def leaky_relu_backward_mask(grad_output, mask, negative_slope=0.01, *, axis=1, grad_bias=False,
                             out=None):
    r"""Compute the gradient of leaky_relu from the mask of `relu_fast.leaky_relu_mask`.

    The result equals ``leaky_relu_backward(grad_output, x, negative_slope)`` for
    the x (plus bias) the mask came from, bit for bit.

    Parameters
    ----------
    grad_output : array_like
        Gradient with respect to the output, float32, float64, float16 or
        bfloat16; its elements in C order meet the mask's bits in order.
    mask : ndarray
        The mask `relu_fast.leaky_relu_mask` returned (uint8,
        ceil(grad_output.size / 8) bytes).
    negative_slope : float
        The forward's slope for x <= 0.
    axis : int
        The channel axis for `grad_bias`.
    grad_bias : bool
        Also return the bias gradient: grad_input summed per channel along
        `axis` in the same pass, in float64, rounded once.
    out : ndarray, optional
        Writeable array of grad_output's shape and dtype for the result.

    Returns
    -------
    grad_input : ndarray
        The gradient with respect to x; `out` if given.
    grad_bias : ndarray
        Only with ``grad_bias=True``: one sum per channel along `axis`.

    Raises
    ------
    TypeError
        If grad_output is not float32, float64, float16 or bfloat16 or is a
        dask array, `mask` is not a uint8 ndarray, or an argument is of the
        wrong type.
    ValueError
        If `mask` has the wrong number of bytes, `negative_slope` is not finite,
        or `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.leaky_relu_mask : The forward function that makes the mask.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x_i} = \begin{cases} g_i & b_i = 1 \\
              s g_i & b_i = 0 \end{cases}

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> y, mask = rf.leaky_relu_mask(np.array([-2.0, 0.0, 3.0]), 0.1)
    >>> rf.leaky_relu_backward_mask(np.ones(3), mask, 0.1)
    array([0.1, 0.1, 1. ])
    """
    cdef double params[5]
    params[0] = real(negative_slope, "negative_slope")
    try:
        return _mask_backward(OP_LEAKY_BWD, grad_output, mask, out, params, "negative_slope", None,
                              1.0, -1.0, axis, grad_bias, False, "leaky_relu_mask")
    except _DaskInput:
        raise _no_dask("leaky_relu_backward_mask") from None


cdef int _rrelu_params(double* params, object lower, object upper, object training,
                       object seed) except -1:
    """rrelu's kernel parameters (as relu_fast._api._rrelu): 1 for training mode."""
    lo, hi, seed = _rrelu_scalars(lower, upper, training, seed)
    if training:
        params[0], params[1] = lo, hi
        params[2] = <double>(seed & 0xFFFFFFFF)
        params[3] = <double>(seed >> 32)
        params[4] = 0.0
        return 1
    params[0] = (lo + hi) / 2
    return 0


def rrelu_mask(x, lower=0.125, upper=0.3333333333333333, training=False, *, seed=None, bias=None,
               axis=1, out=None):
    r"""Apply rrelu and return the 1-bit mask of its gradient's form.

    With the seed, the mask is all `relu_fast.rrelu_backward_mask` needs: the
    random slopes are drawn again from the seed, never stored.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        layout.  Dask arrays are refused.
    lower : float
        Lower end of the slopes' range, as for `relu_fast.rrelu`.
    upper : float
        Upper end of the slopes' range.
    training : bool
        Random slopes (True) or their mean (False, leaky_relu).
    seed : int, optional
        The slopes' key in training mode (required there).
    bias : array_like, optional
        A bias added to x in the same pass (the rules of `relu_fast.rrelu`'s):
        y and the mask are those of x + bias.
    axis : int
        The channel axis of x that `bias` runs along.
    out : ndarray, optional
        Writeable array of x's shape and dtype to write y into; ``out=x``
        works in place.

    Returns
    -------
    y : ndarray
        ``rrelu(x, lower, upper, training, seed=seed)``; `out` if given.
    mask : ndarray
        1-D uint8 array of ceil(x.size / 8) bytes: where the gradient is g (x > 0;
        in training mode NaN x too, as `relu_fast.rrelu_backward`), every bit 1
        where the slope is 1.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16 or is a dask array,
        an argument is of the wrong type, or training=True comes without a
        seed.
    ValueError
        If lower or upper are not finite, lower < 0 or lower > upper, the seed
        is out of range, `bias` does not fit x's channels, or `out` has another
        shape or is read-only.

    See Also
    --------
    relu_fast.rrelu_backward_mask : The gradient from the mask.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-2.0, 0.5, 3.0])
    >>> y, mask = rf.rrelu_mask(x, training=True, seed=7)
    >>> np.array_equal(y, rf.rrelu(x, training=True, seed=7))
    True
    >>> np.unpackbits(mask, count=3, bitorder="little")
    array([0, 1, 1], dtype=uint8)
    """
    cdef double params[5]
    cdef int train = _rrelu_params(params, lower, upper, training, seed)
    try:
        return _mask_forward(OP_RRELU if train else OP_LEAKY, OP_RRELU_BWD if train else OP_LEAKY_BWD,
                             x, out, params, "lower" if train else None,
                             "upper" if train else None, 1.0, bias, axis, train)
    except _DaskInput:
        raise _no_dask("rrelu_mask") from None


def rrelu_backward_mask(grad_output, mask, lower=0.125, upper=0.3333333333333333, training=False, *,
                        seed=None, axis=1, grad_bias=False, out=None):
    r"""Compute the gradient of rrelu from the mask of `relu_fast.rrelu_mask`.

    The result equals ``rrelu_backward(grad_output, x, lower, upper, training,
    seed=seed)`` for the x (plus bias) the mask came from, bit for bit: the
    slopes are drawn again from the seed.

    Parameters
    ----------
    grad_output : array_like
        Gradient with respect to the output, float32, float64, float16 or
        bfloat16, of x's shape (the slopes follow the C-order index).
    mask : ndarray
        The mask `relu_fast.rrelu_mask` returned.
    lower : float
        The forward's lower end.
    upper : float
        The forward's upper end.
    training : bool
        The forward's mode.
    seed : int, optional
        The forward's seed (required in training mode).
    axis : int
        The channel axis for `grad_bias`.
    grad_bias : bool
        Also return the bias gradient, summed per channel along `axis` in the
        same pass, in float64, rounded once.
    out : ndarray, optional
        Writeable array of grad_output's shape and dtype for the result.

    Returns
    -------
    grad_input : ndarray
        The gradient with respect to x; `out` if given.
    grad_bias : ndarray
        Only with ``grad_bias=True``: one sum per channel along `axis`.

    Raises
    ------
    TypeError
        If grad_output is not float32, float64, float16 or bfloat16 or is a
        dask array, `mask` is not a uint8 ndarray, an argument is of the wrong
        type, or training=True comes without a seed.
    ValueError
        If `mask` has the wrong number of bytes, a scalar is out of range, or
        `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.rrelu_mask : The forward function that makes the mask.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x_i} = \begin{cases} g_i & b_i = 1 \\
              s_i g_i & b_i = 0 \end{cases}

    with :math:`s_i` element i's slope (training) or (lower + upper) / 2.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x, g = np.array([-2.0, 0.5, 3.0]), np.ones(3)
    >>> y, mask = rf.rrelu_mask(x, training=True, seed=7)
    >>> np.array_equal(rf.rrelu_backward_mask(g, mask, training=True, seed=7),
    ...                rf.rrelu_backward(g, x, training=True, seed=7))
    True
    """
    cdef double params[5]
    cdef int train = _rrelu_params(params, lower, upper, training, seed)
    try:
        return _mask_backward(OP_RRELU_BWD if train else OP_LEAKY_BWD, grad_output, mask, out,
                              params, "lower" if train else None, "upper" if train else None,
                              1.0, -1.0, axis, grad_bias, train, "rrelu_mask")
    except _DaskInput:
        raise _no_dask("rrelu_backward_mask") from None


cdef object _pass_or_zero(str name, object grad_output, object mask, object axis, object grad_bias,
                          object out):
    """g where the bit is 1, 0 where it is 0: hardtanh's gradient at 0 and at NaN."""
    cdef double params[5]
    params[0], params[1] = -1.0, 1.0
    try:
        return _mask_backward(OP_HARDTANH_BWD, grad_output, mask, out, params, None, None, 0.0, NAN,
                              axis, grad_bias, False, name.replace("_backward", ""))
    except _DaskInput:
        raise _no_dask(name) from None


cdef object _hardtanh_mask(str name, object x, double lo, double hi, object bias, object axis,
                           object out):
    cdef double params[5]
    params[0], params[1] = lo, hi
    try:
        # the middle of the range is inside it (where any value is)
        return _mask_forward(OP_HARDTANH, OP_HARDTANH_BWD, x, out, params, "min_val", "max_val",
                             lo / 2 + hi / 2, bias, axis, False)
    except _DaskInput:
        raise _no_dask(name) from None


def hardtanh_mask(x, min_val=-1.0, max_val=1.0, *, bias=None, axis=1, out=None):
    r"""Apply hardtanh and return the 1-bit mask of where its gradient passes.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        layout.  Dask arrays are refused.
    min_val : float
        Lower end of the linear region, as for `relu_fast.hardtanh`.
    max_val : float
        Upper end of the linear region (min_val <= max_val).
    bias : array_like, optional
        A bias added to x in the same pass (the rules of
        `relu_fast.hardtanh`'s): y and the mask are those of x + bias.
    axis : int
        The channel axis of x that `bias` runs along.
    out : ndarray, optional
        Writeable array of x's shape and dtype to write y into; ``out=x``
        works in place.

    Returns
    -------
    y : ndarray
        ``hardtanh(x, min_val, max_val)``; `out` if given.
    mask : ndarray
        1-D uint8 array of ceil(x.size / 8) bytes: the bits of
        min_val < x < max_val (0 at the ends and for NaN, as the gradient).

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16 or is a dask array,
        an argument is of the wrong type, or `out` has another dtype.
    ValueError
        If min_val or max_val is not finite or min_val > max_val, `bias` does
        not fit x's channels, or `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.hardtanh_backward_mask : The gradient from the mask.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> y, mask = rf.hardtanh_mask(np.array([-2.0, 0.5, 1.0]))
    >>> y, np.unpackbits(mask, count=3, bitorder="little")
    (array([-1. ,  0.5,  1. ]), array([0, 1, 0], dtype=uint8))
    """
    cdef double lo = real(min_val, "min_val")
    cdef double hi = real(max_val, "max_val")
    _check_range(lo, hi)
    return _hardtanh_mask("hardtanh_mask", x, lo, hi, bias, axis, out)


def hardtanh_backward_mask(grad_output, mask, *, axis=1, grad_bias=False, out=None):
    r"""Compute the gradient of hardtanh from the mask of `relu_fast.hardtanh_mask`.

    The result equals ``hardtanh_backward(grad_output, x, min_val, max_val)`` for
    the x (plus bias) and range the mask came from.

    Parameters
    ----------
    grad_output : array_like
        Gradient with respect to the output, float32, float64, float16 or
        bfloat16; its elements in C order meet the mask's bits in order.
    mask : ndarray
        The mask `relu_fast.hardtanh_mask` returned.
    axis : int
        The channel axis for `grad_bias`.
    grad_bias : bool
        Also return the bias gradient, summed per channel along `axis` in the
        same pass, in float64, rounded once.
    out : ndarray, optional
        Writeable array of grad_output's shape and dtype for the result.

    Returns
    -------
    grad_input : ndarray
        The gradient: grad_output where the bit is 1, else 0; `out` if given.
    grad_bias : ndarray
        Only with ``grad_bias=True``: one sum per channel along `axis`.

    Raises
    ------
    TypeError
        If grad_output is not float32, float64, float16 or bfloat16 or is a
        dask array, `mask` is not a uint8 ndarray, or an argument is of the
        wrong type.
    ValueError
        If `mask` has the wrong number of bytes or `out` has another shape or
        is read-only.

    See Also
    --------
    relu_fast.hardtanh_mask : The forward function that makes the mask.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> y, mask = rf.hardtanh_mask(np.array([-2.0, 0.5, 1.0]))
    >>> rf.hardtanh_backward_mask(np.full(3, 2.0), mask)
    array([0., 2., 0.])
    """
    return _pass_or_zero("hardtanh_backward_mask", grad_output, mask, axis, grad_bias, out)


def relu6_mask(x, *, bias=None, axis=1, out=None):
    r"""Apply relu6 and return the 1-bit mask of where its gradient passes.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        layout.  Dask arrays are refused.
    bias : array_like, optional
        A bias added to x in the same pass (the rules of `relu_fast.relu6`'s):
        y and the mask are those of x + bias.
    axis : int
        The channel axis of x that `bias` runs along.
    out : ndarray, optional
        Writeable array of x's shape and dtype to write y into; ``out=x``
        works in place.

    Returns
    -------
    y : ndarray
        ``relu6(x)``; `out` if given.
    mask : ndarray
        1-D uint8 array of ceil(x.size / 8) bytes: the bits of 0 < x < 6.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16 or is a dask array,
        an argument is of the wrong type, or `out` has another dtype.
    ValueError
        If `bias` does not fit x's channels, or `out` has another shape or is
        read-only.

    See Also
    --------
    relu_fast.relu6_backward_mask : The gradient from the mask.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> y, mask = rf.relu6_mask(np.array([-1.0, 3.0, 7.0]))
    >>> y, np.unpackbits(mask, count=3, bitorder="little")
    (array([0., 3., 6.]), array([0, 1, 0], dtype=uint8))
    """
    return _hardtanh_mask("relu6_mask", x, 0.0, 6.0, bias, axis, out)


def relu6_backward_mask(grad_output, mask, *, axis=1, grad_bias=False, out=None):
    r"""Compute the gradient of relu6 from the mask of `relu_fast.relu6_mask`.

    The result equals ``relu6_backward(grad_output, x)`` for the x (plus bias)
    the mask came from.

    Parameters
    ----------
    grad_output : array_like
        Gradient with respect to the output, float32, float64, float16 or
        bfloat16; its elements in C order meet the mask's bits in order.
    mask : ndarray
        The mask `relu_fast.relu6_mask` returned.
    axis : int
        The channel axis for `grad_bias`.
    grad_bias : bool
        Also return the bias gradient, summed per channel along `axis` in the
        same pass, in float64, rounded once.
    out : ndarray, optional
        Writeable array of grad_output's shape and dtype for the result.

    Returns
    -------
    grad_input : ndarray
        The gradient: grad_output where the bit is 1, else 0; `out` if given.
    grad_bias : ndarray
        Only with ``grad_bias=True``: one sum per channel along `axis`.

    Raises
    ------
    TypeError
        If grad_output is not float32, float64, float16 or bfloat16 or is a
        dask array, `mask` is not a uint8 ndarray, or an argument is of the
        wrong type.
    ValueError
        If `mask` has the wrong number of bytes or `out` has another shape or
        is read-only.

    See Also
    --------
    relu_fast.relu6_mask : The forward function that makes the mask.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> y, mask = rf.relu6_mask(np.array([-1.0, 3.0, 7.0]))
    >>> rf.relu6_backward_mask(np.ones(3), mask)
    array([0., 1., 0.])
    """
    return _pass_or_zero("relu6_backward_mask", grad_output, mask, axis, grad_bias, out)


def threshold_mask(x, threshold, value, *, bias=None, axis=1, out=None):
    r"""Apply threshold and return the 1-bit mask of where its gradient passes.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        layout.  Dask arrays are refused.
    threshold : float
        The threshold, as for `relu_fast.threshold`.
    value : float
        The value where x <= threshold.
    bias : array_like, optional
        A bias added to x in the same pass (the rules of
        `relu_fast.threshold`'s): y and the mask are those of x + bias.
    axis : int
        The channel axis of x that `bias` runs along.
    out : ndarray, optional
        Writeable array of x's shape and dtype to write y into; ``out=x``
        works in place.

    Returns
    -------
    y : ndarray
        ``threshold(x, threshold, value)``; `out` if given.
    mask : ndarray
        1-D uint8 array of ceil(x.size / 8) bytes: the bits of
        :math:`\lnot (x \le \mathrm{threshold})` (NaN passes).

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16 or is a dask array,
        an argument is of the wrong type, or `out` has another dtype.
    ValueError
        If `threshold` or `value` is not finite or overflows x's dtype, `bias`
        does not fit x's channels, or `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.threshold_backward_mask : The gradient from the mask.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> y, mask = rf.threshold_mask(np.array([0.5, 1.0, 2.0]), 1.0, -5.0)
    >>> y, np.unpackbits(mask, count=3, bitorder="little")
    (array([-5., -5.,  2.]), array([0, 0, 1], dtype=uint8))
    """
    cdef double params[5]
    params[0] = real(threshold, "threshold")
    params[1] = real(value, "value")
    try:
        # NaN passes the gradient; -inf is below any threshold
        return _mask_forward(OP_THRESHOLD, OP_THRESHOLD_BWD, x, out, params, "threshold", "value",
                             NAN, bias, axis, False)
    except _DaskInput:
        raise _no_dask("threshold_mask") from None


def threshold_backward_mask(grad_output, mask, *, axis=1, grad_bias=False, out=None):
    r"""Compute the gradient of threshold from the mask of `relu_fast.threshold_mask`.

    The result equals ``threshold_backward(grad_output, x, threshold)`` for the x
    (plus bias) and threshold the mask came from.

    Parameters
    ----------
    grad_output : array_like
        Gradient with respect to the output, float32, float64, float16 or
        bfloat16; its elements in C order meet the mask's bits in order.
    mask : ndarray
        The mask `relu_fast.threshold_mask` returned.
    axis : int
        The channel axis for `grad_bias`.
    grad_bias : bool
        Also return the bias gradient, summed per channel along `axis` in the
        same pass, in float64, rounded once.
    out : ndarray, optional
        Writeable array of grad_output's shape and dtype for the result.

    Returns
    -------
    grad_input : ndarray
        The gradient: grad_output where the bit is 1, else 0; `out` if given.
    grad_bias : ndarray
        Only with ``grad_bias=True``: one sum per channel along `axis`.

    Raises
    ------
    TypeError
        If grad_output is not float32, float64, float16 or bfloat16 or is a
        dask array, `mask` is not a uint8 ndarray, or an argument is of the
        wrong type.
    ValueError
        If `mask` has the wrong number of bytes or `out` has another shape or
        is read-only.

    See Also
    --------
    relu_fast.threshold_mask : The forward function that makes the mask.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> y, mask = rf.threshold_mask(np.array([0.5, 1.0, 2.0]), 1.0, -5.0)
    >>> rf.threshold_backward_mask(np.ones(3), mask)
    array([0., 0., 1.])
    """
    return _pass_or_zero("threshold_backward_mask", grad_output, mask, axis, grad_bias, out)


def hardsigmoid_mask(x, *, bias=None, axis=1, out=None):
    r"""Apply hardsigmoid and return the 1-bit mask of where its gradient passes.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        layout.  Dask arrays are refused.
    bias : array_like, optional
        A bias added to x in the same pass (the rules of
        `relu_fast.hardsigmoid`'s): y and the mask are those of x + bias.
    axis : int
        The channel axis of x that `bias` runs along.
    out : ndarray, optional
        Writeable array of x's shape and dtype to write y into; ``out=x``
        works in place.

    Returns
    -------
    y : ndarray
        ``hardsigmoid(x)``; `out` if given.
    mask : ndarray
        1-D uint8 array of ceil(x.size / 8) bytes: the bits of -3 < x < 3.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16 or is a dask array,
        an argument is of the wrong type, or `out` has another dtype.
    ValueError
        If `bias` does not fit x's channels, or `out` has another shape or is
        read-only.

    See Also
    --------
    relu_fast.hardsigmoid_backward_mask : The gradient from the mask.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> y, mask = rf.hardsigmoid_mask(np.array([-4.0, 0.0, 3.0]))
    >>> y, np.unpackbits(mask, count=3, bitorder="little")
    (array([0. , 0.5, 1. ]), array([0, 1, 0], dtype=uint8))
    """
    cdef double params[5]
    try:
        return _mask_forward(OP_HARDSIGMOID, OP_HARDSIGMOID_BWD, x, out, params, None, None, 0.0,
                             bias, axis, False)
    except _DaskInput:
        raise _no_dask("hardsigmoid_mask") from None


def hardsigmoid_backward_mask(grad_output, mask, *, axis=1, grad_bias=False, out=None):
    r"""Compute the gradient of hardsigmoid from the mask of `relu_fast.hardsigmoid_mask`.

    The result equals ``hardsigmoid_backward(grad_output, x)`` for the x (plus
    bias) the mask came from, bit for bit.

    Parameters
    ----------
    grad_output : array_like
        Gradient with respect to the output, float32, float64, float16 or
        bfloat16; its elements in C order meet the mask's bits in order.
    mask : ndarray
        The mask `relu_fast.hardsigmoid_mask` returned.
    axis : int
        The channel axis for `grad_bias`.
    grad_bias : bool
        Also return the bias gradient, summed per channel along `axis` in the
        same pass, in float64, rounded once.
    out : ndarray, optional
        Writeable array of grad_output's shape and dtype for the result.

    Returns
    -------
    grad_input : ndarray
        The gradient: grad_output times 1/6 (in its dtype) where the bit is 1,
        else 0; `out` if given.
    grad_bias : ndarray
        Only with ``grad_bias=True``: one sum per channel along `axis`.

    Raises
    ------
    TypeError
        If grad_output is not float32, float64, float16 or bfloat16 or is a
        dask array, `mask` is not a uint8 ndarray, or an argument is of the
        wrong type.
    ValueError
        If `mask` has the wrong number of bytes or `out` has another shape or
        is read-only.

    See Also
    --------
    relu_fast.hardsigmoid_mask : The forward function that makes the mask.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> y, mask = rf.hardsigmoid_mask(np.array([-4.0, 0.0, 3.0]))
    >>> rf.hardsigmoid_backward_mask(np.full(3, 6.0), mask)
    array([0., 1., 0.])
    """
    cdef double params[5]
    try:
        return _mask_backward(OP_HARDSIGMOID_BWD, grad_output, mask, out, params, None, None, 0.0,
                              NAN, axis, grad_bias, False, "hardsigmoid_mask")
    except _DaskInput:
        raise _no_dask("hardsigmoid_backward_mask") from None
