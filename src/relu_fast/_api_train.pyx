"""Training helpers: relu with a 1-bit backward mask, backward from the mask, and relu
with per-channel activity counts.  Same checks, layouts and threads as relu_fast._api,
whose checks and kernel table this module cimports.
"""
import numbers

import numpy as np

cimport numpy as cnp
from libc.stdint cimport uint8_t, int64_t

from relu_fast._api cimport (C_ORDER, F_ORDER, as_array, deliver, destination, direct, dtype_code,
                             empty_like, kernel_table, order_of)
from relu_fast._threads cimport give_threads, take_threads, threads_for
from relu_fast._table cimport *
from relu_fast._fpenv cimport fpstate, fp_enter, fp_leave

from relu_fast._api import _DaskInput

cnp.import_array()

cdef inline Py_ssize_t mask_bytes(Py_ssize_t n) noexcept:
    return (n + 7) // 8


def _no_dask(name):
    return TypeError(f"{name} does not take dask arrays (its mask packs the whole array in C "
                     f"order); use relu / relu_backward on dask arrays")


def relu_mask(x, *, out=None):
    """relu(x) and the 1-bit mask of where its gradient passes: (y, mask).

    y = relu(x) (x if x > 0 else 0, NaN stays NaN).  mask: uint8, ceil(x.size / 8)
    bytes; element i of x in C order is bit i % 8 (little bit order) of byte i // 8,
    1 where not x <= 0 (x > 0 or NaN), exactly where relu_backward passes the
    gradient.  np.unpackbits(mask, count=x.size, bitorder="little") recovers it.
    out: optional ndarray for y (out=x works in place).
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
    """d relu from relu_mask's mask: grad_input = grad_output where the bit is 1, else 0.

    Equal to relu_backward(grad_output, x) for the x the mask came from.  mask must be
    a uint8 array of exactly ceil(grad_output.size / 8) bytes.
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
    """relu(x) and, in the same pass, the fraction of active elements per channel.

    Returns (y, active_fraction): y = relu(x); active_fraction[c] (float64, length
    x.shape[axis]) = (number of x > 0 with index c along axis) / (x.size / x.shape[axis]),
    NaN for channels with no elements.  axis=1 is the channel axis of NCHW and of
    (batch, features), as for prelu; -1 for channels-last.  A unit whose fraction stays 0
    over a run is dead.
    """
    if not cnp.PyArray_Check(x) and hasattr(x, "__dask_graph__"):
        from relu_fast import _dask
        return _dask.relu_stats(x, axis=axis, out=out)
    o, counts, per_channel = _relu_counts(x, axis, out)
    if per_channel == 0:
        return o, np.full(counts.shape[0], np.nan)
    return o, counts / float(per_channel)


def _relu_counts(x, axis=1, out=None):
    """relu_stats' pass with the raw counts: (y, counts (int64 per channel), elements
    per channel).  dask adds the chunks' counts and elements before dividing."""
    cdef const KernelTable* tt = kernel_table()
    cdef cnp.ndarray xa
    try:
        xa = as_array(x, "x")
    except _DaskInput:
        raise TypeError("_relu_counts takes NumPy arrays") from None
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
