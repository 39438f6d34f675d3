"""Training helpers: relu with a 1-bit backward mask, backward from the mask, and relu
with per-channel activity counts.  Same checks, layouts and threads as relu_fast._api,
whose kernel table it uses, with the argument checks of relu_fast._args.
"""
import numbers

import numpy as np

cimport numpy as cnp
from libc.stdint cimport uint8_t, int64_t

from relu_fast._api cimport kernel_table
from relu_fast._args cimport (C_ORDER, F_ORDER, as_array, deliver, destination, direct, dtype_code,
                              empty_like, order_of)
from relu_fast._threads cimport give_threads, take_threads, threads_for
from relu_fast._table cimport *
from relu_fast._fpenv cimport fpstate, fp_enter, fp_leave

from relu_fast._args import _DaskInput, _dask_call

cnp.import_array()

cdef inline Py_ssize_t mask_bytes(Py_ssize_t n) noexcept:
    return (n + 7) // 8


def _no_dask(name):
    return TypeError(f"{name} does not take dask arrays (its mask packs the whole array in C "
                     f"order); use relu / relu_backward on dask arrays")


def relu_mask(x, *, out=None):
    r"""Apply relu and return the 1-bit mask of where its gradient passes.

    The mask is all that `relu_fast.relu_backward_mask` needs: one bit per element
    instead of keeping x (32 times less memory than float32, 64 than float64).

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`).  Dask
        arrays are refused.
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
        or `out` is not an ndarray or has another dtype.
    ValueError
        If `out` has another shape or is read-only.

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
    try:
        xa = as_array(x, "x")
    except _DaskInput:
        raise _no_dask("relu_mask") from None
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


def relu_backward_mask(grad_output, mask, *, out=None):
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
    out : ndarray, optional
        Writeable array of grad_output's shape and dtype (any layout) to write
        the result into; ``out=grad_output`` works in place.

    Returns
    -------
    ndarray
        The gradient with respect to x (grad_input), of grad_output's shape and
        dtype; `out` if given.

    Raises
    ------
    TypeError
        If grad_output is not float32, float64, float16 or bfloat16, or is a
        dask array; if `mask` is not an ndarray or not uint8; or if `out` is
        not an ndarray or has another dtype.
    ValueError
        If `mask` does not have ceil(grad_output.size / 8) bytes, or `out` has
        another shape or is read-only.

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
    try:
        ga = as_array(grad_output, "grad_output")
    except _DaskInput:
        raise _no_dask("relu_backward_mask") from None
    cdef int dt = dtype_code(ga)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(ga)
    cdef cnp.ndarray m, dst
    if not cnp.PyArray_Check(mask):
        raise TypeError(f"mask must be the numpy.ndarray relu_mask returned, got {type(mask).__name__}")
    m = <cnp.ndarray>mask
    if cnp.PyArray_TYPE(m) != cnp.NPY_UINT8:
        raise TypeError(f"mask has dtype {m.dtype}; it must be uint8 (as relu_mask returns)")
    if cnp.PyArray_SIZE(m) != mask_bytes(n):
        raise ValueError(f"mask has {cnp.PyArray_SIZE(m)} bytes but grad_output has {n} elements, "
                         f"which need ceil({n}/8) = {mask_bytes(n)}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(m):
        m = np.ascontiguousarray(m)
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
