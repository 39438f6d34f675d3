"""The public functions: argument checks and layout handling around the kernels, with
the thread count from relu_fast._threads.  This layer knows nothing of instruction
sets: it calls whatever kernel table _dispatch chose.
"""
import numbers

import numpy as np

cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_GetPointer

from cython.parallel cimport parallel
from libc.stdint cimport uint8_t, uint16_t

from relu_fast._fpenv cimport fpstate, fp_enter, fp_leave, fp_flush_bits, fp_set_flush
from relu_fast._openmp cimport RELU_FAST_OPENMP
from relu_fast._table cimport *
from relu_fast._args cimport (C_ORDER, F_ORDER, _native, as_array, deliver, destination, direct,
                              dtype_code, empty_like, fits, is_direct, itemsize_of, order_of,
                              real)
from relu_fast._threads cimport (elu_cost, give_threads, grain, take_threads, threads_for,
                                use_team_report)

from relu_fast import _dispatch
from relu_fast._args import _DaskInput, _dask_call

cnp.import_array()

cdef extern from "_half.h":
    uint16_t f64_to_f16 "relu_fast_f64_to_f16"(double d) noexcept nogil
    uint16_t f64_to_bf16 "relu_fast_f64_to_bf16"(double d) noexcept nogil

# ---------------------------------------------------------------------------
# Kernel table
# ---------------------------------------------------------------------------

cdef const KernelTable* K = NULL
cdef object _kernel_module = None


def _use_level(level):
    """Switch every function to the kernels of `level` (tests use it to cover each level)."""
    global K, _kernel_module
    mod = _dispatch.load(level)
    cdef const KernelTable* table = <const KernelTable*>PyCapsule_GetPointer(
        mod.TABLE, b"relu_fast.KernelTable")
    if table.abi != TABLE_ABI:
        raise ImportError(f"relu_fast._kernels_{level} was built for another version of relu_fast")
    K = table
    _kernel_module = mod
    use_team_report(K.team_report)


cdef const KernelTable* kernel_table() noexcept nogil:
    return K


def kernel_level():
    """Return the name of the instruction-set level whose kernels are in use.

    The best level that this CPU, its operating system and the build support is
    chosen at import; the environment variable ``RELU_FAST_MAX_LEVEL`` (read at
    import) caps it.

    Returns
    -------
    str
        ``'baseline'`` (SSE2 on x86-64; NEON on ARM64), ``'avx2'`` (AVX2 and FMA),
        ``'avx512'``, or ``'native'`` in a ``RELU_FAST_NATIVE=1`` comparison build.

    Notes
    -----
    Every level gives bit-identical results, except that `relu_fast.elu`, `relu_fast.silu`,
    `relu_fast.selu`, `relu_fast.celu` and their gradients on levels with FMA may
    differ from the x86 baseline in the last bit.

    Examples
    --------
    >>> import relu_fast as rf
    >>> rf.kernel_level() in ("baseline", "avx2", "avx512", "native")
    True
    """
    return _kernel_module.LEVEL


_use_level(_dispatch.choose_level())

# ---------------------------------------------------------------------------
# Floating-point environment (tests)
# ---------------------------------------------------------------------------

def _flush_denormals(flag=None, int nthreads=1):
    """The flush-to-zero / denormals-are-zero bits of this thread (MXCSR on x86-64, FPCR
    on ARM64) as an int, 0 when clear.  flag sets (True) or clears (False) them first,
    as torch.set_flush_denormal does, on this thread and, with nthreads > 1, on every
    thread of an OpenMP team of that size (tests: the kernels must not depend on them)."""
    cdef int on
    if flag is not None:
        on = 1 if flag else 0
        if nthreads > 1:
            with nogil, parallel(num_threads=nthreads):
                fp_set_flush(on)
        fp_set_flush(on)
    return int(fp_flush_bits())


HAVE_OPENMP = bool(RELU_FAST_OPENMP)

# ---------------------------------------------------------------------------
# Elementwise drivers
# ---------------------------------------------------------------------------

cdef inline Py_ssize_t _unary_work(int op, Py_ssize_t n, int dt) noexcept:
    return n * elu_cost(dt) if heavy_unary(op) else n


cdef inline Py_ssize_t _binary_work(int op, Py_ssize_t n, int dt) noexcept:
    return n * elu_cost(dt) if heavy_binary(op) else n


cdef object _unary(int op, object x, object out, double param, str pname=None, double param2=0.0,
                   str pname2=None, object bias=None, object axis=1):
    cdef cnp.ndarray xa = as_array(x, "x")
    cdef int dt = dtype_code(xa)
    if pname is not None:
        fits(param, dt, pname)
    if pname2 is not None:
        fits(param2, dt, pname2)
    cdef double params[2]
    params[0], params[1] = param, param2
    cdef int order = order_of(xa)
    if bias is not None:
        return _fused(op, None, xa, dt, order, out, params, bias, axis, False,
                      _unary_work(op, 1, dt))
    _check_axis(axis)
    cdef cnp.ndarray dst
    xa = direct(xa, order, dt)
    dst = destination(out, xa, dt, order, xa, None)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef Py_ssize_t work = _unary_work(op, n, dt)
    cdef int nt = threads_for(work)
    cdef const void* px = cnp.PyArray_DATA(xa)
    cdef void* py = cnp.PyArray_DATA(dst)
    cdef fpstate fps = fp_enter()            # this thread's FTZ/DAZ cleared for the call
    if work >= grain():
        take_threads(nt)
        with nogil:
            K.unary(op, dt, px, py, n, params, nt)
        give_threads(nt)
    else:
        K.unary(op, dt, px, py, n, params, nt)
    fp_leave(fps)
    return deliver(out, dst)


cdef object _binary(int op, object grad_output, object x, object out, double param,
                    str pname=None, double param2=0.0, str pname2=None, object bias=None,
                    object axis=1, object grad_bias=False, bint is_result=False):
    cdef cnp.ndarray ga = as_array(grad_output, "grad_output")
    cdef cnp.ndarray xa = as_array(x, "x")
    cdef int dt = dtype_code(xa)
    if pname is not None:
        fits(param, dt, pname)
    if pname2 is not None:
        fits(param2, dt, pname2)
    cdef double params[2]
    params[0], params[1] = param, param2
    cdef int order
    cdef cnp.ndarray dst
    if dtype_code(ga) != dt:
        raise TypeError(f"grad_output has dtype {ga.dtype} but x has dtype {xa.dtype}; they must match")
    if not cnp.PyArray_SAMESHAPE(ga, xa):
        raise ValueError(f"grad_output has shape {(<object>ga).shape} but x has shape {(<object>xa).shape}; they must match")
    order = order_of(xa)
    if order != order_of(ga):
        order = C_ORDER
    _check_flag(grad_bias, "grad_bias")
    if bias is not None and is_result:
        raise ValueError("bias cannot be given with is_result=True: x is then the output, "
                         "which the bias went into already")
    if bias is not None or grad_bias:
        return _fused(op, ga, xa, dt, order, out, params, bias, axis, grad_bias,
                      _binary_work(op, 1, dt))
    _check_axis(axis)
    xa = direct(xa, order, dt)
    ga = direct(ga, order, dt)
    dst = destination(out, xa, dt, order, xa, ga)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef Py_ssize_t work = _binary_work(op, n, dt)
    cdef int nt = threads_for(work)
    cdef const void* pg = cnp.PyArray_DATA(ga)
    cdef const void* px = cnp.PyArray_DATA(xa)
    cdef void* pd = cnp.PyArray_DATA(dst)
    cdef fpstate fps = fp_enter()
    if work >= grain():
        take_threads(nt)
        with nogil:
            K.binary(op, dt, pg, px, pd, n, params, nt)
        give_threads(nt)
    else:
        K.binary(op, dt, pg, px, pd, n, params, nt)
    fp_leave(fps)
    return deliver(out, dst)


# ---------------------------------------------------------------------------
# A bias fused into any elementwise function, and its gradient (_kernels_bias.pxi)
# ---------------------------------------------------------------------------

cdef void _check_flag(object flag, str name) except *:
    if not isinstance(flag, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(flag).__name__}")


cdef inline void _check_axis(object axis) except *:
    if type(axis) is not int and (isinstance(axis, bool) or not isinstance(axis, numbers.Integral)):
        raise TypeError(f"axis must be an int, got {type(axis).__name__}")


cdef void _round_sums(const double* sums, cnp.ndarray dst, int wdt, Py_ssize_t C) noexcept nogil:
    """float64 sums rounded once into dst (1-D, contiguous, of dtype code wdt); a sum past
    the dtype's range becomes inf."""
    cdef Py_ssize_t c
    cdef void* p = cnp.PyArray_DATA(dst)
    for c in range(C):
        if wdt == DT_F64:
            (<double*>p)[c] = sums[c]
        elif wdt == DT_F32:
            (<float*>p)[c] = <float>sums[c]
        elif wdt == DT_F16:
            (<uint16_t*>p)[c] = f64_to_f16(sums[c])
        else:
            (<uint16_t*>p)[c] = f64_to_bf16(sums[c])


cdef object _fused(int op, cnp.ndarray ga, cnp.ndarray xa, int dt, int order, object out,
                   const double* params, object bias, object axis, bint grad_bias, Py_ssize_t cost):
    """op on x + bias[channel] (ga None: a forward op) and, with grad_bias, the sums of
    the gradient per channel; bias None: the derivative at x itself."""
    cdef cnp.ndarray b = None
    cdef int bdt = dt
    cdef Py_ssize_t outer, C, inner, nb = -1
    if bias is not None:
        bdt = _weight_dtype(bias, dt, "bias")
        b = _weight(bias, dt, "bias")
        nb = cnp.PyArray_SIZE(b)
    _prelu_geometry(xa, nb, axis, order, &outer, &C, &inner, "bias")
    xa = direct(xa, order, dt)
    if ga is not None:
        ga = direct(ga, order, dt)
    cdef cnp.ndarray dst = destination(out, xa, dt, order, xa, ga)
    if b is not None and out is not None and b is bias:
        b = b.copy()                         # never read while out (it may overlap) is written
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef Py_ssize_t work = n * cost
    cdef int nt = threads_for(work)
    cdef const void* pg = NULL if ga is None else cnp.PyArray_DATA(ga)
    cdef const void* px = cnp.PyArray_DATA(xa)
    cdef const void* pb = NULL if b is None else cnp.PyArray_DATA(b)
    cdef void* pd = cnp.PyArray_DATA(dst)
    cdef cnp.npy_intp nc = C
    cdef cnp.ndarray sums = cnp.PyArray_EMPTY(1, &nc, cnp.NPY_FLOAT64, 0) if grad_bias else None
    cdef double* ps = NULL if sums is None else <double*>cnp.PyArray_DATA(sums)
    cdef cnp.ndarray gb = None
    cdef int status = 0
    cdef bint threaded = work >= grain()
    cdef fpstate fps = fp_enter()
    if threaded:
        take_threads(nt)
    with nogil:
        if ga is None:
            K.unary_bias(op, dt, px, pb, pd, outer, C, inner, params, nt)
        else:
            status = K.binary_bias(op, dt, pg, px, pb, pd, ps, outer, C, inner, params, nt)
    if threaded:
        give_threads(nt)
    if status != 0:
        fp_leave(fps)
        raise MemoryError("the bias gradient's per-part sums could not be allocated")
    if grad_bias:
        gb = sums if bdt == DT_F64 else np.empty(C, _native(bdt))
        if bdt != DT_F64:
            _round_sums(ps, gb, bdt, C)
    fp_leave(fps)
    result = deliver(out, dst)
    if not grad_bias:
        return result
    if bias is not None and not (cnp.PyArray_Check(bias)
                                 and cnp.PyArray_NDIM(<cnp.ndarray>bias) == 1):
        gb = gb.reshape(np.shape(bias))      # a scalar bias: a 0-D sum
    elif bias is None and cnp.PyArray_NDIM(xa) < 2:
        gb = gb.reshape(())                  # no channel axis: the sum of all
    return result, gb


# ---------------------------------------------------------------------------
# 1-bit masks of the two-form gradients (_kernels_masks.pxi), for relu_fast._api_train
# ---------------------------------------------------------------------------

cdef cnp.ndarray _mask_array(object mask, Py_ssize_t n, str maker):
    """mask checked against n elements (ceil(n/8) uint8 bytes), C-contiguous."""
    cdef cnp.ndarray m
    cdef Py_ssize_t nbytes = (n + 7) // 8
    if not cnp.PyArray_Check(mask):
        raise TypeError(f"mask must be the numpy.ndarray {maker} returned, got {type(mask).__name__}")
    m = <cnp.ndarray>mask
    if cnp.PyArray_TYPE(m) != cnp.NPY_UINT8:
        raise TypeError(f"mask has dtype {m.dtype}; it must be uint8 (as {maker} returns)")
    if cnp.PyArray_SIZE(m) != nbytes:
        raise ValueError(f"mask has {cnp.PyArray_SIZE(m)} bytes but grad_output has {n} elements, "
                         f"which need ceil({n}/8) = {nbytes}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(m):
        m = np.ascontiguousarray(m)
    return m


cdef object _mask_forward(int op, int bop, object x, object out, double* params, str name0,
                          str name1, double rep_in, object bias, object axis, bint train):
    """(op(x + bias), mask), the mask's bit = bop's gradient at x + bias is the one at
    rep_in; params[0], params[1] checked to fit x's dtype where named."""
    cdef cnp.ndarray xa = as_array(x, "x")   # a dask x: _DaskInput, to the caller
    cdef int dt = dtype_code(xa)
    if name0 is not None:
        fits(params[0], dt, name0)
    if name1 is not None:
        fits(params[1], dt, name1)
    cdef cnp.ndarray b = None
    cdef Py_ssize_t outer = 1, C = 1, inner = cnp.PyArray_SIZE(xa)
    if bias is not None:
        b = _weight(bias, dt, "bias")
        _prelu_geometry(xa, cnp.PyArray_SIZE(b), axis, C_ORDER, &outer, &C, &inner, "bias")
    else:
        _check_axis(axis)
    xa = direct(xa, C_ORDER, dt)             # the mask is in C order
    cdef cnp.ndarray dst = destination(out, xa, dt, C_ORDER, xa, None)
    if b is not None and out is not None and b is bias:
        b = b.copy()                         # never read while out (it may overlap) is written
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef cnp.npy_intp nbytes = (n + 7) // 8
    cdef cnp.ndarray mask = cnp.PyArray_EMPTY(1, &nbytes, cnp.NPY_UINT8, 0)
    cdef Py_ssize_t work = n * (elu_cost(dt) if train else 1)
    cdef int nt = threads_for(work)
    cdef const void* px = cnp.PyArray_DATA(xa)
    cdef const void* pb = NULL if b is None else cnp.PyArray_DATA(b)
    cdef void* py = cnp.PyArray_DATA(dst)
    cdef uint8_t* pm = <uint8_t*>cnp.PyArray_DATA(mask)
    cdef bint threaded = work >= grain()
    cdef fpstate fps = fp_enter()
    if threaded:
        take_threads(nt)
    with nogil:
        K.mask_unary(op, bop, dt, px, pb, py, pm, outer, C, inner, params, rep_in, nt)
    if threaded:
        give_threads(nt)
    fp_leave(fps)
    return deliver(out, dst), mask


cdef object _mask_backward(int bop, object grad_output, object mask, object out, double* params,
                           str name0, str name1, double rep_in, double rep_out, object axis,
                           object grad_bias, bint train, str maker):
    """bop's gradient from the mask of `maker` (at rep_in where the bit is 1, rep_out
    where it is 0), and with grad_bias the per-channel sums along axis."""
    cdef cnp.ndarray ga = as_array(grad_output, "grad_output")
    cdef int dt = dtype_code(ga)
    if name0 is not None:
        fits(params[0], dt, name0)
    if name1 is not None:
        fits(params[1], dt, name1)
    _check_flag(grad_bias, "grad_bias")
    cdef Py_ssize_t n = cnp.PyArray_SIZE(ga)
    cdef cnp.ndarray m = _mask_array(mask, n, maker)
    cdef Py_ssize_t outer = 1, C = 1, inner = n
    if grad_bias:
        _prelu_geometry(ga, -1, axis, C_ORDER, &outer, &C, &inner, "bias")
    else:
        _check_axis(axis)
    ga = direct(ga, C_ORDER, dt)
    cdef cnp.ndarray dst = destination(out, ga, dt, C_ORDER, ga, m)   # never over the mask
    cdef Py_ssize_t work = n * (elu_cost(dt) if train else 1)
    cdef int nt = threads_for(work)
    cdef cnp.npy_intp nc = C
    cdef cnp.ndarray sums = cnp.PyArray_EMPTY(1, &nc, cnp.NPY_FLOAT64, 0) if grad_bias else None
    cdef double* ps = NULL if sums is None else <double*>cnp.PyArray_DATA(sums)
    cdef const void* pg = cnp.PyArray_DATA(ga)
    cdef const uint8_t* pm = <const uint8_t*>cnp.PyArray_DATA(m)
    cdef void* pd = cnp.PyArray_DATA(dst)
    cdef int status = 0
    cdef bint threaded = work >= grain()
    cdef fpstate fps = fp_enter()
    if threaded:
        take_threads(nt)
    with nogil:
        status = K.mask_binary(bop, dt, pg, pm, pd, ps, outer, C, inner, params, rep_in, rep_out,
                               nt)
    if threaded:
        give_threads(nt)
    fp_leave(fps)
    if status != 0:
        raise MemoryError("the bias gradient's per-part sums could not be allocated")
    result = deliver(out, dst)
    if not grad_bias:
        return result
    gb = sums
    if dt != DT_F64:
        gb = np.empty(C, _native(dt))
        _round_sums(ps, gb, dt, C)
    if cnp.PyArray_NDIM(ga) < 2:
        gb = gb.reshape(())                  # no channel axis: the sum of all
    return result, gb


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------

def relu(x, *, bias=None, axis=1, out=None):
    r"""Apply the rectified linear unit, max(x, 0), elementwise.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`; other
        dtypes are refused, not converted).  A dask array gives a lazy dask
        array, chunk by chunk.
    bias : array_like, optional
        A bias added to x in the same pass, one value per channel along `axis`
        (1-D) or one for all: the result is f(x + bias), x + bias rounded to x's
        dtype as ``x + bias`` would be (float16 and bfloat16: the float32 sum
        rounded once), and x is not modified.  An ndarray bias has x's dtype (or
        float32 for a 16-bit x); numbers are rounded to x's dtype.  NaN or inf
        values are allowed (they propagate as in x + bias).
    axis : int
        The channel axis of x that `bias` runs along (negative counts from the
        end): 1 for NCHW and (batch, features), -1 for channels-last.
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The result, of x's shape and dtype (native byte order); `out` if given.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, or `out` is not an
        ndarray or has another dtype, or `out` is given with a dask array.
    ValueError
        If `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.relu_backward : Its gradient.
    relu_fast.relu_mask : The same, with a 1-bit mask for the backward pass.
    relu_fast.leaky_relu : A slope instead of 0 for x <= 0.

    Notes
    -----
    .. math:: y = \begin{cases} 0 & x < 0 \\ x & \text{otherwise} \end{cases}

    So NaN stays NaN, +inf stays +inf, -inf gives +0, and -0.0 stays -0.0 (as in
    PyTorch); denormals are kept.  Inputs that the kernels cannot read as one
    contiguous native block (strided, byte-swapped, misaligned) are copied once
    first; every layout gives the same result.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-2.0, -0.0, 0.0, 1.5, np.nan], dtype=np.float32)
    >>> rf.relu(x)
    array([ 0. , -0. ,  0. ,  1.5,  nan], dtype=float32)
    >>> y = rf.relu(x, out=x)                # in place
    >>> y is x
    True
    """
    try:
        return _unary(OP_RELU, x, out, 0.0, None, 0.0, None, bias, axis)
    except _DaskInput:
        return _dask_call("relu", x, out=out, bias=bias, axis=axis)


def relu_backward(grad_output, x, *, bias=None, axis=1, grad_bias=False, out=None):
    r"""Compute the gradient of relu: grad_output where x > 0, else 0.

    x may be relu's input or its output: both give the same answer.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to the output, of x's shape and dtype.
    x : array_like
        The input (or the output) of `relu_fast.relu`, float32, float64,
        float16 or bfloat16.  If either argument is a dask array, the result is
        a lazy dask array (grad_output is rechunked to x's chunks if they
        differ).
    bias : array_like, optional
        The bias the forward call added (see the forward function): x is then the
        input before it, and the derivative is taken at x + bias, computed in the
        same pass.
    axis : int
        The channel axis that `bias` (and the bias gradient) runs along.
    grad_bias : bool
        Also return the bias gradient, grad_input summed per channel along
        `axis` (over every element for a one-value bias or a 0-D or 1-D x), in
        the same pass: in float64, in an order that depends on the shape only,
        rounded once to the bias's dtype (x's without a bias).
    out : ndarray, optional
        Writeable array of x's shape and dtype (any layout) to write the result
        into; ``out=grad_output`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The gradient with respect to x (grad_input), of x's shape and dtype;
        `out` if given.
    ndarray
        With ``grad_bias=True`` only, the second of a pair: the bias gradient,
        of the bias's shape (``(x.shape[axis],)`` without a bias).

    Raises
    ------
    TypeError
        If x or grad_output is not float32, float64, float16 or bfloat16, their
        dtypes differ, or `out` is not an ndarray or has another dtype, or `out`
        is given with dask arrays.
    ValueError
        If grad_output and x differ in shape, or `out` has another shape or is
        read-only.

    See Also
    --------
    relu_fast.relu : The forward function.
    relu_fast.relu_backward_mask : The same from relu_mask's 1-bit mask.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} 0 & x \le 0 \\
              g & \text{otherwise} \end{cases}, \qquad g = \text{grad\_output}

    The gradient at 0 is 0 (for +0 and -0.0); a NaN x passes g, since NaN <= 0 is
    false; a NaN or infinite g where x <= 0 gives 0.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-1.0, 0.0, 2.0, np.nan])
    >>> rf.relu_backward(np.full(4, 3.0), x)
    array([0., 0., 3., 3.])
    """
    try:
        return _binary(OP_RELU_BWD, grad_output, x, out, 0.0, None, 0.0, None, bias, axis,
                       grad_bias)
    except _DaskInput:
        return _dask_call("relu_backward", grad_output, x, out=out, bias=bias, axis=axis,
                          grad_bias=grad_bias)


def leaky_relu(x, negative_slope=0.01, *, bias=None, axis=1, out=None):
    r"""Apply the leaky rectified linear unit elementwise.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`; other
        dtypes are refused, not converted).  A dask array gives a lazy dask
        array, chunk by chunk.
    negative_slope : float
        Slope for x <= 0: any finite real number (negative too, not a bool),
        rounded to x's dtype.
    bias : array_like, optional
        A bias added to x in the same pass, one value per channel along `axis`
        (1-D) or one for all: the result is f(x + bias), x + bias rounded to x's
        dtype as ``x + bias`` would be (float16 and bfloat16: the float32 sum
        rounded once), and x is not modified.  An ndarray bias has x's dtype (or
        float32 for a 16-bit x); numbers are rounded to x's dtype.  NaN or inf
        values are allowed (they propagate as in x + bias).
    axis : int
        The channel axis of x that `bias` runs along (negative counts from the
        end): 1 for NCHW and (batch, features), -1 for channels-last.
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The result, of x's shape and dtype (native byte order); `out` if given.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, `negative_slope` is
        not a real number (a str, complex, bool, None or an array), or `out` is
        not an ndarray, has another dtype, or is given with a dask array.
    ValueError
        If `negative_slope` is not finite or overflows x's dtype (1e300 for
        float32), or `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.leaky_relu_backward : Its gradient.
    relu_fast.prelu : One slope per channel.

    Notes
    -----
    .. math:: y = \begin{cases} x & x > 0 \\ s x & \text{otherwise} \end{cases}

    with s = `negative_slope` rounded to x's dtype.  NaN stays NaN, +inf stays
    +inf, -inf gives s * (-inf) (-inf for s > 0, +inf for s < 0, NaN for s = 0),
    and +0 and -0.0 give s * (+0) and s * (-0.0).

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> rf.leaky_relu(np.array([-2.0, 0.0, 3.0]), 0.1)
    array([-0.2,  0. ,  3. ])
    """
    cdef double s = real(negative_slope, "negative_slope")
    try:
        return _unary(OP_LEAKY, x, out, s, "negative_slope", 0.0, None, bias, axis)
    except _DaskInput:
        return _dask_call("leaky_relu", x, negative_slope, out=out, bias=bias, axis=axis)


def leaky_relu_backward(grad_output, x, negative_slope=0.01, *, bias=None, axis=1, grad_bias=False,
                        out=None):
    r"""Compute the gradient of leaky_relu: grad_output, times the slope where x <= 0.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to the output, of x's shape and dtype.
    x : array_like
        The input of `relu_fast.leaky_relu`, float32, float64, float16 or
        bfloat16 (its output gives the same answer when `negative_slope` >= 0).
        If either argument is a dask array, the result is a lazy dask array.
    negative_slope : float
        The slope the forward call used: any finite real number (not a bool),
        rounded to x's dtype.
    bias : array_like, optional
        The bias the forward call added (see the forward function): x is then the
        input before it, and the derivative is taken at x + bias, computed in the
        same pass.
    axis : int
        The channel axis that `bias` (and the bias gradient) runs along.
    grad_bias : bool
        Also return the bias gradient, grad_input summed per channel along
        `axis` (over every element for a one-value bias or a 0-D or 1-D x), in
        the same pass: in float64, in an order that depends on the shape only,
        rounded once to the bias's dtype (x's without a bias).
    out : ndarray, optional
        Writeable array of x's shape and dtype (any layout) to write the result
        into; ``out=grad_output`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The gradient with respect to x (grad_input), of x's shape and dtype;
        `out` if given.
    ndarray
        With ``grad_bias=True`` only, the second of a pair: the bias gradient,
        of the bias's shape (``(x.shape[axis],)`` without a bias).

    Raises
    ------
    TypeError
        If x or grad_output is not float32, float64, float16 or bfloat16, their
        dtypes differ, `negative_slope` is not a real number, or `out` is not
        an ndarray, has another dtype, or is given with dask arrays.
    ValueError
        If grad_output and x differ in shape, `negative_slope` is not finite or
        overflows x's dtype, or `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.leaky_relu : The forward function.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} g & x > 0 \\
              s g & \text{otherwise} \end{cases}

    with g = grad_output and s = `negative_slope` rounded to x's dtype.  At
    x = 0 (and -0.0, -inf, NaN) the result is s * g.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-2.0, 0.0, 3.0])
    >>> rf.leaky_relu_backward(np.ones(3), x, 0.1)
    array([0.1, 0.1, 1. ])
    """
    cdef double s = real(negative_slope, "negative_slope")
    try:
        return _binary(OP_LEAKY_BWD, grad_output, x, out, s, "negative_slope", 0.0, None, bias,
                       axis, grad_bias)
    except _DaskInput:
        return _dask_call("leaky_relu_backward", grad_output, x, negative_slope, out=out,
                          bias=bias, axis=axis, grad_bias=grad_bias)


def elu(x, alpha=1.0, *, bias=None, axis=1, out=None):
    r"""Apply the exponential linear unit elementwise.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`; other
        dtypes are refused, not converted).  A dask array gives a lazy dask
        array, chunk by chunk.
    alpha : float
        Scale of the negative part: any finite real number (not a bool) that
        fits in x's dtype.
    bias : array_like, optional
        A bias added to x in the same pass, one value per channel along `axis`
        (1-D) or one for all: the result is f(x + bias), x + bias rounded to x's
        dtype as ``x + bias`` would be (float16 and bfloat16: the float32 sum
        rounded once), and x is not modified.  An ndarray bias has x's dtype (or
        float32 for a 16-bit x); numbers are rounded to x's dtype.  NaN or inf
        values are allowed (they propagate as in x + bias).
    axis : int
        The channel axis of x that `bias` runs along (negative counts from the
        end): 1 for NCHW and (batch, features), -1 for channels-last.
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The result, of x's shape and dtype (native byte order); `out` if given.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, `alpha` is not a
        real number (a str, complex, bool, None or an array), or `out` is not
        an ndarray, has another dtype, or is given with a dask array.
    ValueError
        If `alpha` is not finite or overflows x's dtype, or `out` has another
        shape or is read-only.

    See Also
    --------
    relu_fast.elu_backward : Its gradient.

    Notes
    -----
    .. math:: y = \begin{cases} x & x > 0 \\
              \alpha \, (e^x - 1) & \text{otherwise} \end{cases}

    :math:`e^x - 1` is computed as expm1, so tiny negative x stay accurate
    (``elu(-1e-8)`` is about -1e-8, not 0); results are within 2 ulp of a wider
    reference.  NaN stays NaN, +inf stays +inf, -inf gives -alpha, -0.0 gives
    alpha * (-0.0).  Levels with FMA may differ from the x86 baseline in the last
    bit (`relu_fast.kernel_level`).

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-1.0, 0.0, 2.0, -np.inf])
    >>> rf.elu(x)
    array([-0.63212056,  0.        ,  2.        , -1.        ])
    >>> rf.elu(x, alpha=0.5)
    array([-0.31606028,  0.        ,  2.        , -0.5       ])
    """
    cdef double a = real(alpha, "alpha")
    try:
        return _unary(OP_ELU, x, out, a, "alpha", 0.0, None, bias, axis)
    except _DaskInput:
        return _dask_call("elu", x, alpha, out=out, bias=bias, axis=axis)


def elu_backward(grad_output, x, alpha=1.0, *, is_result=False, bias=None, axis=1, grad_bias=False,
                 out=None):
    r"""Compute the gradient of elu, from its input or (is_result=True) its output.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to the output, of x's shape and dtype.
    x : array_like
        The input of `relu_fast.elu` (float32, float64, float16 or bfloat16),
        or its output y if `is_result` is true.  If either argument is a dask
        array, the result is a lazy dask array.
    alpha : float
        The alpha the forward call used: any finite real number (not a bool)
        that fits in x's dtype; at least 0 if `is_result` is true.
    is_result : bool
        Whether `x` holds elu's output y instead of its input.  Backward from
        the output lets an in-place forward (``out=x``) drop x.
    bias : array_like, optional
        The bias the forward call added (see the forward function): x is then the
        input before it, and the derivative is taken at x + bias, computed in the
        same pass.  Not with ``is_result=True``.
    axis : int
        The channel axis that `bias` (and the bias gradient) runs along.
    grad_bias : bool
        Also return the bias gradient, grad_input summed per channel along
        `axis` (over every element for a one-value bias or a 0-D or 1-D x), in
        the same pass: in float64, in an order that depends on the shape only,
        rounded once to the bias's dtype (x's without a bias).
    out : ndarray, optional
        Writeable array of x's shape and dtype (any layout) to write the result
        into; ``out=grad_output`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The gradient with respect to the input of elu (grad_input), of x's
        shape and dtype; `out` if given.
    ndarray
        With ``grad_bias=True`` only, the second of a pair: the bias gradient,
        of the bias's shape (``(x.shape[axis],)`` without a bias).

    Raises
    ------
    TypeError
        If x or grad_output is not float32, float64, float16 or bfloat16, their
        dtypes differ, `alpha` is not a real number, `is_result` is not a bool,
        or `out` is not an ndarray, has another dtype, or is given with dask
        arrays.
    ValueError
        If grad_output and x differ in shape, `alpha` is not finite or
        overflows x's dtype, `alpha` < 0 with ``is_result=True``, or `out` has
        another shape or is read-only.

    See Also
    --------
    relu_fast.elu : The forward function.

    Notes
    -----
    From the input x, with g = grad_output:

    .. math:: \frac{\partial L}{\partial x} = \begin{cases} g & x > 0 \\
              g \, \alpha \, e^x & \text{otherwise} \end{cases}

    At x = 0 the result is g * alpha; a NaN x gives NaN (PyTorch passes g
    there); -inf gives 0, and so does a float64 x below about -745, where
    :math:`e^x` underflows (NaN for an infinite g).

    From the output y (``is_result=True``), since :math:`\alpha e^x = y + \alpha`
    where y <= 0:

    .. math:: \frac{\partial L}{\partial x} = \begin{cases} g & y > 0 \\
              g \, (y + \alpha) & \text{otherwise} \end{cases}

    computed in float64.  It needs alpha >= 0: otherwise the sign of y does not
    tell the sign of x.  It agrees with the gradient from x up to the rounding
    of y.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-1.0, 0.0, 2.0])
    >>> g = np.ones(3)
    >>> rf.elu_backward(g, x)
    array([0.36787944, 1.        , 1.        ])
    >>> rf.elu_backward(g, rf.elu(x), is_result=True)
    array([0.36787944, 1.        , 1.        ])
    """
    cdef double a = real(alpha, "alpha")
    if not isinstance(is_result, (bool, np.bool_)):
        raise TypeError(f"is_result must be a bool, got {type(is_result).__name__}")
    if is_result and not a >= 0:
        raise ValueError(f"elu_backward with is_result=True needs alpha >= 0, got {a}")
    try:
        return _binary(OP_ELU_BWD_RESULT if is_result else OP_ELU_BWD, grad_output, x, out, a,
                       "alpha", 0.0, None, bias, axis, grad_bias, is_result)
    except _DaskInput:
        return _dask_call("elu_backward", grad_output, x, alpha, is_result=is_result, out=out,
                          bias=bias, axis=axis, grad_bias=grad_bias)


cdef inline void _check_is_result(object is_result) except *:
    _check_flag(is_result, "is_result")


cdef void _check_range(double lo, double hi) except *:
    if lo > hi:
        raise ValueError(f"min_val must not exceed max_val, got min_val={lo} > max_val={hi}")


def hardtanh(x, min_val=-1.0, max_val=1.0, *, bias=None, axis=1, out=None):
    r"""Clip x to the range [min_val, max_val] elementwise (hard tanh).

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`; other
        dtypes are refused, not converted).  A dask array gives a lazy dask
        array, chunk by chunk.
    min_val, max_val : float
        The ends of the range: finite real numbers (not bools) with
        ``min_val <= max_val``, rounded to x's dtype.
    bias : array_like, optional
        A bias added to x in the same pass, one value per channel along `axis`
        (1-D) or one for all: the result is f(x + bias), x + bias rounded to x's
        dtype as ``x + bias`` would be (float16 and bfloat16: the float32 sum
        rounded once), and x is not modified.  An ndarray bias has x's dtype (or
        float32 for a 16-bit x); numbers are rounded to x's dtype.  NaN or inf
        values are allowed (they propagate as in x + bias).
    axis : int
        The channel axis of x that `bias` runs along (negative counts from the
        end): 1 for NCHW and (batch, features), -1 for channels-last.
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The result, of x's shape and dtype (native byte order); `out` if given.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, `min_val` or
        `max_val` is not a real number, or `out` is not an ndarray, has another
        dtype, or is given with a dask array.
    ValueError
        If `min_val` or `max_val` is not finite or overflows x's dtype, if
        ``min_val > max_val``, or if `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.hardtanh_backward : Its gradient.

    Notes
    -----
    .. math:: y = \begin{cases} a & x < a \\ b & x > b \\ x & \text{otherwise}
              \end{cases}

    with a = `min_val` and b = `max_val` rounded to x's dtype, as
    ``torch.nn.functional.hardtanh``.  NaN stays NaN; -inf gives a and +inf
    gives b; inside the range -0.0 stays -0.0.  ``hardtanh(x, 0.0, 6.0)`` is
    ReLU6.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> rf.hardtanh(np.array([-3.0, -0.5, 0.5, 3.0]))
    array([-1. , -0.5,  0.5,  1. ])
    >>> x = np.array([-3.0, 2.0, 9.0], dtype=np.float32)
    >>> rf.hardtanh(x, 0.0, 6.0)                  # ReLU6
    array([0., 2., 6.], dtype=float32)
    """
    cdef double lo = real(min_val, "min_val")
    cdef double hi = real(max_val, "max_val")
    _check_range(lo, hi)
    try:
        return _unary(OP_HARDTANH, x, out, lo, "min_val", hi, "max_val", bias, axis)
    except _DaskInput:
        return _dask_call("hardtanh", x, min_val, max_val, out=out, bias=bias, axis=axis)


def hardtanh_backward(grad_output, x, min_val=-1.0, max_val=1.0, *, is_result=False, bias=None,
                      axis=1, grad_bias=False, out=None):
    r"""Compute the gradient of hardtanh: grad_output where min_val < x < max_val, else 0.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to hardtanh's output, of x's shape and
        dtype.
    x : array_like
        The input of `relu_fast.hardtanh` (float32, float64, float16 or
        bfloat16), or its output y if `is_result` is true.  If either argument
        is a dask array, the result is a lazy dask array.
    min_val, max_val : float
        The ends of the range, as given to `relu_fast.hardtanh`.
    is_result : bool
        Whether `x` holds hardtanh's output y instead of its input.  Backward
        from the output lets an in-place forward (``out=x``) drop x.
    bias : array_like, optional
        The bias the forward call added (see the forward function): x is then the
        input before it, and the derivative is taken at x + bias, computed in the
        same pass.  Not with ``is_result=True``.
    axis : int
        The channel axis that `bias` (and the bias gradient) runs along.
    grad_bias : bool
        Also return the bias gradient, grad_input summed per channel along
        `axis` (over every element for a one-value bias or a 0-D or 1-D x), in
        the same pass: in float64, in an order that depends on the shape only,
        rounded once to the bias's dtype (x's without a bias).
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=grad_output`` works in place.  Not allowed with dask
        arrays.

    Returns
    -------
    ndarray
        The gradient with respect to x, of x's shape and dtype; `out` if given.
    ndarray
        With ``grad_bias=True`` only, the second of a pair: the bias gradient,
        of the bias's shape (``(x.shape[axis],)`` without a bias).

    Raises
    ------
    TypeError
        If x or grad_output is not float32, float64, float16 or bfloat16, their
        dtypes differ, `min_val` or `max_val` is not a real number, `is_result`
        is not a bool, or `out` is not an ndarray, has another dtype, or is
        given with dask arrays.
    ValueError
        If grad_output and x differ in shape, `min_val` or `max_val` is not
        finite or overflows x's dtype, ``min_val > max_val``, or `out` has
        another shape or is read-only.

    See Also
    --------
    relu_fast.hardtanh : The forward function.
    relu_fast.relu6_backward : The same with the range [0, 6].

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} g & a < x < b \\
              0 & \text{otherwise} \end{cases}

    with a = `min_val`, b = `max_val` rounded to x's dtype and g =
    `grad_output`, as ``torch.ops.aten.hardtanh_backward``: 0 at the ends
    themselves and where x is NaN; g passes unchanged (NaN and inf included).

    From the output y = hardtanh(x) (``is_result=True``) the rule is the same,
    :math:`a < y < b`: inside the range y is x, and elsewhere y is a, b or NaN,
    none of them inside.  So the two agree value for value, with a == b too
    (nothing is inside).

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-3.0, -1.0, 0.5, 1.0])
    >>> rf.hardtanh_backward(np.ones(4), x)
    array([0., 0., 1., 0.])
    >>> rf.hardtanh_backward(np.ones(4), rf.hardtanh(x), is_result=True)
    array([0., 0., 1., 0.])
    """
    cdef double lo = real(min_val, "min_val")
    cdef double hi = real(max_val, "max_val")
    _check_range(lo, hi)
    _check_is_result(is_result)
    try:
        # the same kernel from x or from y (see Notes)
        return _binary(OP_HARDTANH_BWD, grad_output, x, out, lo, "min_val", hi, "max_val", bias,
                       axis, grad_bias, is_result)
    except _DaskInput:
        return _dask_call("hardtanh_backward", grad_output, x, min_val, max_val,
                          is_result=is_result, out=out, bias=bias, axis=axis, grad_bias=grad_bias)


def relu6(x, *, bias=None, axis=1, out=None):
    r"""Apply ReLU6, min(max(x, 0), 6), elementwise.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`; other
        dtypes are refused, not converted).  A dask array gives a lazy dask
        array, chunk by chunk.
    bias : array_like, optional
        A bias added to x in the same pass, one value per channel along `axis`
        (1-D) or one for all: the result is f(x + bias), x + bias rounded to x's
        dtype as ``x + bias`` would be (float16 and bfloat16: the float32 sum
        rounded once), and x is not modified.  An ndarray bias has x's dtype (or
        float32 for a 16-bit x); numbers are rounded to x's dtype.  NaN or inf
        values are allowed (they propagate as in x + bias).
    axis : int
        The channel axis of x that `bias` runs along (negative counts from the
        end): 1 for NCHW and (batch, features), -1 for channels-last.
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The result, of x's shape and dtype (native byte order); `out` if given.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, or `out` is not an
        ndarray or has another dtype, or `out` is given with a dask array.
    ValueError
        If `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.relu6_backward : Its gradient.
    relu_fast.hardtanh : The same with any range (relu6 is hardtanh on [0, 6]).

    Notes
    -----
    .. math:: y = \begin{cases} 0 & x < 0 \\ 6 & x > 6 \\ x & \text{otherwise}
              \end{cases}

    as ``torch.nn.functional.relu6``: NaN stays NaN, -inf gives 0 and +inf
    gives 6, -0.0 stays -0.0 and a negative denormal gives +0.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> rf.relu6(np.array([-2.0, -0.0, 3.5, 6.0, 8.0], dtype=np.float32))
    array([ 0. , -0. ,  3.5,  6. ,  6. ], dtype=float32)
    """
    try:
        return _unary(OP_HARDTANH, x, out, 0.0, None, 6.0, None, bias, axis)
    except _DaskInput:
        return _dask_call("relu6", x, out=out, bias=bias, axis=axis)


def relu6_backward(grad_output, x, *, is_result=False, bias=None, axis=1, grad_bias=False,
                   out=None):
    r"""Compute the gradient of relu6: grad_output where 0 < x < 6, else 0.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to relu6's output, of x's shape and
        dtype.
    x : array_like
        The input of `relu_fast.relu6` (float32, float64, float16 or bfloat16),
        or its output y if `is_result` is true.  If either argument is a dask
        array, the result is a lazy dask array.
    is_result : bool
        Whether `x` holds relu6's output y instead of its input.  Backward from
        the output lets an in-place forward (``out=x``) drop x.
    bias : array_like, optional
        The bias the forward call added (see the forward function): x is then the
        input before it, and the derivative is taken at x + bias, computed in the
        same pass.  Not with ``is_result=True``.
    axis : int
        The channel axis that `bias` (and the bias gradient) runs along.
    grad_bias : bool
        Also return the bias gradient, grad_input summed per channel along
        `axis` (over every element for a one-value bias or a 0-D or 1-D x), in
        the same pass: in float64, in an order that depends on the shape only,
        rounded once to the bias's dtype (x's without a bias).
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=grad_output`` works in place.  Not allowed with dask
        arrays.

    Returns
    -------
    ndarray
        The gradient with respect to x, of x's shape and dtype; `out` if given.
    ndarray
        With ``grad_bias=True`` only, the second of a pair: the bias gradient,
        of the bias's shape (``(x.shape[axis],)`` without a bias).

    Raises
    ------
    TypeError
        If x or grad_output is not float32, float64, float16 or bfloat16, their
        dtypes differ, `is_result` is not a bool, or `out` is not an ndarray,
        has another dtype, or is given with dask arrays.
    ValueError
        If grad_output and x differ in shape, or `out` has another shape or is
        read-only.

    See Also
    --------
    relu_fast.relu6 : The forward function.
    relu_fast.hardtanh_backward : The same with any range.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} g & 0 < x < 6 \\
              0 & \text{otherwise} \end{cases}

    with g = `grad_output`, as PyTorch's autograd of ``relu6`` (which is
    ``aten.hardtanh_backward`` with 0 and 6): 0 at x = 0 (and -0), at x = 6 and
    where x is NaN; g passes unchanged inside (NaN and inf included).  From the
    output y (``is_result=True``) the rule is :math:`0 < y < 6`, which gives the
    same value for every x (y is x inside, 0, 6 or NaN elsewhere).

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-1.0, 0.0, 3.0, 6.0, 7.0])
    >>> rf.relu6_backward(np.ones(5), x)
    array([0., 0., 1., 0., 0.])
    >>> rf.relu6_backward(np.ones(5), rf.relu6(x), is_result=True)
    array([0., 0., 1., 0., 0.])
    """
    _check_is_result(is_result)
    try:
        # the same kernel from x or from y (see Notes)
        return _binary(OP_HARDTANH_BWD, grad_output, x, out, 0.0, None, 6.0, None, bias, axis,
                       grad_bias, is_result)
    except _DaskInput:
        return _dask_call("relu6_backward", grad_output, x, is_result=is_result, out=out,
                          bias=bias, axis=axis, grad_bias=grad_bias)


def threshold(x, threshold, value, *, bias=None, axis=1, out=None):
    r"""Keep x where it exceeds threshold, else put value there, elementwise.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`; other
        dtypes are refused, not converted).  A dask array gives a lazy dask
        array, chunk by chunk.
    threshold : float
        The threshold: a finite real number (not a bool) that fits in x's
        dtype, rounded to it.
    value : float
        What replaces x where ``x <= threshold``: a finite real number (not a
        bool) that fits in x's dtype, rounded to it.
    bias : array_like, optional
        A bias added to x in the same pass, one value per channel along `axis`
        (1-D) or one for all: the result is f(x + bias), x + bias rounded to x's
        dtype as ``x + bias`` would be (float16 and bfloat16: the float32 sum
        rounded once), and x is not modified.  An ndarray bias has x's dtype (or
        float32 for a 16-bit x); numbers are rounded to x's dtype.  NaN or inf
        values are allowed (they propagate as in x + bias).
    axis : int
        The channel axis of x that `bias` runs along (negative counts from the
        end): 1 for NCHW and (batch, features), -1 for channels-last.
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The result, of x's shape and dtype (native byte order); `out` if given.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, `threshold` or
        `value` is not a real number, or `out` is not an ndarray, has another
        dtype, or is given with a dask array.
    ValueError
        If `threshold` or `value` is not finite or overflows x's dtype, or if
        `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.threshold_backward : Its gradient.
    relu_fast.relu : ``threshold(x, 0.0, 0.0)`` but for the sign of zeros.

    Notes
    -----
    .. math:: y = \begin{cases} x & x > t \\ v & \text{otherwise} \end{cases}

    with t = `threshold` and v = `value` rounded to x's dtype, as
    ``torch.nn.functional.threshold``: x = t gives v, NaN stays NaN, -inf
    gives v and +inf stays +inf.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> rf.threshold(np.array([-1.0, 0.5, 1.0, 2.0]), 0.5, -7.0)
    array([-7., -7.,  1.,  2.])
    """
    cdef double t = real(threshold, "threshold")
    cdef double v = real(value, "value")
    try:
        return _unary(OP_THRESHOLD, x, out, t, "threshold", v, "value", bias, axis)
    except _DaskInput:
        return _dask_call("threshold", x, threshold, value, out=out, bias=bias, axis=axis)


def threshold_backward(grad_output, x, threshold, *, bias=None, axis=1, grad_bias=False, out=None):
    r"""Compute the gradient of threshold: grad_output where x > threshold, else 0.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to threshold's output, of x's shape
        and dtype.
    x : array_like
        The input of `relu_fast.threshold`, float32, float64, float16 or
        bfloat16.  If either argument is a dask array, the result is a lazy
        dask array.
    threshold : float
        The threshold given to `relu_fast.threshold` (its `value` does not enter
        the gradient).
    bias : array_like, optional
        The bias the forward call added (see the forward function): x is then the
        input before it, and the derivative is taken at x + bias, computed in the
        same pass.
    axis : int
        The channel axis that `bias` (and the bias gradient) runs along.
    grad_bias : bool
        Also return the bias gradient, grad_input summed per channel along
        `axis` (over every element for a one-value bias or a 0-D or 1-D x), in
        the same pass: in float64, in an order that depends on the shape only,
        rounded once to the bias's dtype (x's without a bias).
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=grad_output`` works in place.  Not allowed with dask
        arrays.

    Returns
    -------
    ndarray
        The gradient with respect to x, of x's shape and dtype; `out` if given.
    ndarray
        With ``grad_bias=True`` only, the second of a pair: the bias gradient,
        of the bias's shape (``(x.shape[axis],)`` without a bias).

    Raises
    ------
    TypeError
        If x or grad_output is not float32, float64, float16 or bfloat16, their
        dtypes differ, `threshold` is not a real number, or `out` is not an
        ndarray, has another dtype, or is given with dask arrays.
    ValueError
        If grad_output and x differ in shape, `threshold` is not finite or
        overflows x's dtype, or `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.threshold : The forward function.
    relu_fast.relu_backward : ``threshold_backward(g, x, 0.0)``.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} 0 & x \le t \\
              g & \text{otherwise} \end{cases}

    with t = `threshold` rounded to x's dtype and g = `grad_output`, as
    ``torch.ops.aten.threshold_backward``: 0 at x = t; a NaN x fails the test
    :math:`x \le t` and passes g (as `relu_fast.relu_backward` does).  There is
    no ``is_result``: where y equals `value` the output cannot tell whether x
    was above the threshold.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-1.0, 0.5, 1.0, 2.0])
    >>> rf.threshold_backward(np.ones(4), x, 0.5)
    array([0., 0., 1., 1.])
    """
    cdef double t = real(threshold, "threshold")
    try:
        return _binary(OP_THRESHOLD_BWD, grad_output, x, out, t, "threshold", 0.0, None, bias,
                       axis, grad_bias)
    except _DaskInput:
        return _dask_call("threshold_backward", grad_output, x, threshold, out=out, bias=bias,
                          axis=axis, grad_bias=grad_bias)


def hardsigmoid(x, *, bias=None, axis=1, out=None):
    r"""Apply the hard sigmoid, relu6(x + 3) / 6, elementwise.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`; other
        dtypes are refused, not converted).  A dask array gives a lazy dask
        array, chunk by chunk.
    bias : array_like, optional
        A bias added to x in the same pass, one value per channel along `axis`
        (1-D) or one for all: the result is f(x + bias), x + bias rounded to x's
        dtype as ``x + bias`` would be (float16 and bfloat16: the float32 sum
        rounded once), and x is not modified.  An ndarray bias has x's dtype (or
        float32 for a 16-bit x); numbers are rounded to x's dtype.  NaN or inf
        values are allowed (they propagate as in x + bias).
    axis : int
        The channel axis of x that `bias` runs along (negative counts from the
        end): 1 for NCHW and (batch, features), -1 for channels-last.
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The result, of x's shape and dtype (native byte order); `out` if given.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, or `out` is not an
        ndarray or has another dtype, or `out` is given with a dask array.
    ValueError
        If `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.hardsigmoid_backward : Its gradient.
    relu_fast.hardswish : The hard sigmoid times x.

    Notes
    -----
    .. math:: y = \frac{\min(\max(x + 3, 0), 6)}{6}
              = \begin{cases} 0 & x \le -3 \\ 1 & x \ge 3 \\
              x/6 + 1/2 & \text{otherwise} \end{cases}

    computed in that order, x + 3, the clip, then the division by 6, in x's
    dtype: the bits of ``torch.nn.functional.hardsigmoid`` (``x / 6 + 0.5``
    differs from it in the last bit for some x).  NaN stays NaN, -inf gives 0,
    +inf gives 1, and both zeros give 0.5.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> rf.hardsigmoid(np.array([-4.0, -1.5, 0.0, 1.5, 4.0]))
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    try:
        return _unary(OP_HARDSIGMOID, x, out, 0.0, None, 0.0, None, bias, axis)
    except _DaskInput:
        return _dask_call("hardsigmoid", x, out=out, bias=bias, axis=axis)


def hardsigmoid_backward(grad_output, x, *, is_result=False, bias=None, axis=1, grad_bias=False,
                         out=None):
    r"""Compute the gradient of hardsigmoid: grad_output / 6 where -3 < x < 3, else 0.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to hardsigmoid's output, of x's shape
        and dtype.
    x : array_like
        The input of `relu_fast.hardsigmoid` (float32, float64, float16 or
        bfloat16), or its output y if `is_result` is true.  If either argument
        is a dask array, the result is a lazy dask array.
    is_result : bool
        Whether `x` holds hardsigmoid's output y instead of its input.  Backward
        from the output lets an in-place forward (``out=x``) drop x.
    bias : array_like, optional
        The bias the forward call added (see the forward function): x is then the
        input before it, and the derivative is taken at x + bias, computed in the
        same pass.  Not with ``is_result=True``.
    axis : int
        The channel axis that `bias` (and the bias gradient) runs along.
    grad_bias : bool
        Also return the bias gradient, grad_input summed per channel along
        `axis` (over every element for a one-value bias or a 0-D or 1-D x), in
        the same pass: in float64, in an order that depends on the shape only,
        rounded once to the bias's dtype (x's without a bias).
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=grad_output`` works in place.  Not allowed with dask
        arrays.

    Returns
    -------
    ndarray
        The gradient with respect to x, of x's shape and dtype; `out` if given.
    ndarray
        With ``grad_bias=True`` only, the second of a pair: the bias gradient,
        of the bias's shape (``(x.shape[axis],)`` without a bias).

    Raises
    ------
    TypeError
        If x or grad_output is not float32, float64, float16 or bfloat16, their
        dtypes differ, `is_result` is not a bool, or `out` is not an ndarray,
        has another dtype, or is given with dask arrays.
    ValueError
        If grad_output and x differ in shape, or `out` has another shape or is
        read-only.

    See Also
    --------
    relu_fast.hardsigmoid : The forward function.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} g \cdot \frac16 &
              -3 < x < 3 \\ 0 & \text{otherwise} \end{cases}

    with g = `grad_output` and 1/6 rounded to x's dtype, as
    ``torch.ops.aten.hardsigmoid_backward``: 0 at x = -3 and x = 3 and where x
    is NaN.  In float64 PyTorch multiplies by 1/6 rounded to float32, off by
    about 3e-8 relative; relu_fast uses float64's 1/6, so float64 results
    differ from PyTorch's there (float32 ones are the same bits).

    From the output y (``is_result=True``) the rule is :math:`0 < y < 1`.  It
    gives the value from x for every x but one per dtype: the largest float
    below 3, whose y rounds up to exactly 1, gets 0 from y (g/6 from x).

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-3.0, -1.5, 0.0, 3.0], dtype=np.float32)
    >>> g = np.full(4, 6.0, dtype=np.float32)
    >>> rf.hardsigmoid_backward(g, x)
    array([0., 1., 1., 0.], dtype=float32)
    >>> rf.hardsigmoid_backward(g, rf.hardsigmoid(x), is_result=True)
    array([0., 1., 1., 0.], dtype=float32)
    """
    _check_is_result(is_result)
    try:
        return _binary(OP_HARDSIGMOID_BWD_RESULT if is_result else OP_HARDSIGMOID_BWD,
                       grad_output, x, out, 0.0, None, 0.0, None, bias, axis, grad_bias,
                       is_result)
    except _DaskInput:
        return _dask_call("hardsigmoid_backward", grad_output, x, is_result=is_result, out=out,
                          bias=bias, axis=axis, grad_bias=grad_bias)


def hardswish(x, *, bias=None, axis=1, out=None):
    r"""Apply the hard swish, x * relu6(x + 3) / 6, elementwise.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`; other
        dtypes are refused, not converted).  A dask array gives a lazy dask
        array, chunk by chunk.
    bias : array_like, optional
        A bias added to x in the same pass, one value per channel along `axis`
        (1-D) or one for all: the result is f(x + bias), x + bias rounded to x's
        dtype as ``x + bias`` would be (float16 and bfloat16: the float32 sum
        rounded once), and x is not modified.  An ndarray bias has x's dtype (or
        float32 for a 16-bit x); numbers are rounded to x's dtype.  NaN or inf
        values are allowed (they propagate as in x + bias).
    axis : int
        The channel axis of x that `bias` runs along (negative counts from the
        end): 1 for NCHW and (batch, features), -1 for channels-last.
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The result, of x's shape and dtype (native byte order); `out` if given.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, or `out` is not an
        ndarray or has another dtype, or `out` is given with a dask array.
    ValueError
        If `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.hardswish_backward : Its gradient.
    relu_fast.hardsigmoid : The factor x is multiplied by.

    Notes
    -----
    .. math:: y = \frac{x \cdot \min(\max(x + 3, 0), 6)}{6}
              = \begin{cases} -0 & x \le -3 \\ x & x \ge 3 \\
              x (x + 3) / 6 & \text{otherwise} \end{cases}

    computed in that order (x + 3, the clip, the product with x, the division
    by 6) in x's dtype: the bits of ``torch.nn.functional.hardswish``, so above
    3 the result can differ from x in the last bit, and above the dtype's
    largest value / 6 the product overflows to inf, as in PyTorch.  NaN stays
    NaN and +inf stays +inf.  For -inf PyTorch gives NaN (-inf * 0); relu_fast
    gives the limit, -0, the value of every x <= -3.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> rf.hardswish(np.array([-4.0, -1.5, 0.0, 1.5, 4.0]))
    array([-0.   , -0.375,  0.   ,  1.125,  4.   ])
    """
    try:
        return _unary(OP_HARDSWISH, x, out, 0.0, None, 0.0, None, bias, axis)
    except _DaskInput:
        return _dask_call("hardswish", x, out=out, bias=bias, axis=axis)


def hardswish_backward(grad_output, x, *, bias=None, axis=1, grad_bias=False, out=None):
    r"""Compute the gradient of hardswish: 0, grad_output * (x / 3 + 1/2) or grad_output.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to hardswish's output, of x's shape
        and dtype.
    x : array_like
        The input of `relu_fast.hardswish`, float32, float64, float16 or
        bfloat16.  If either argument is a dask array, the result is a lazy
        dask array.
    bias : array_like, optional
        The bias the forward call added (see the forward function): x is then the
        input before it, and the derivative is taken at x + bias, computed in the
        same pass.
    axis : int
        The channel axis that `bias` (and the bias gradient) runs along.
    grad_bias : bool
        Also return the bias gradient, grad_input summed per channel along
        `axis` (over every element for a one-value bias or a 0-D or 1-D x), in
        the same pass: in float64, in an order that depends on the shape only,
        rounded once to the bias's dtype (x's without a bias).
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=grad_output`` works in place.  Not allowed with dask
        arrays.

    Returns
    -------
    ndarray
        The gradient with respect to x, of x's shape and dtype; `out` if given.
    ndarray
        With ``grad_bias=True`` only, the second of a pair: the bias gradient,
        of the bias's shape (``(x.shape[axis],)`` without a bias).

    Raises
    ------
    TypeError
        If x or grad_output is not float32, float64, float16 or bfloat16, their
        dtypes differ, or `out` is not an ndarray, has another dtype, or is
        given with dask arrays.
    ValueError
        If grad_output and x differ in shape, or `out` has another shape or is
        read-only.

    See Also
    --------
    relu_fast.hardswish : The forward function.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} 0 & x \le -3 \\
              g & x \ge 3 \\ g \, (x / 3 + 1/2) & \text{otherwise} \end{cases}

    with g = `grad_output`, in that order in x's dtype, as
    ``torch.ops.aten.hardswish_backward`` (and PyTorch's autograd): 0 at
    x = -3 and g at x = 3, where the one-sided slopes differ.  A NaN x gives
    NaN, as PyTorch's vectorised loop (its scalar loop, used for the last few
    elements of an array, passes g).  There is no ``is_result``: hardswish is
    not one-to-one on [-3, -1.5], so the output cannot tell x.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-4.0, -3.0, -1.5, 0.0, 3.0])
    >>> rf.hardswish_backward(np.ones(5), x)
    array([0. , 0. , 0. , 0.5, 1. ])
    """
    try:
        return _binary(OP_HARDSWISH_BWD, grad_output, x, out, 0.0, None, 0.0, None, bias, axis,
                       grad_bias)
    except _DaskInput:
        return _dask_call("hardswish_backward", grad_output, x, out=out, bias=bias, axis=axis,
                          grad_bias=grad_bias)


def selu(x, *, bias=None, axis=1, out=None):
    r"""Apply the scaled exponential linear unit elementwise.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`; other
        dtypes are refused, not converted).  A dask array gives a lazy dask
        array, chunk by chunk.
    bias : array_like, optional
        A bias added to x in the same pass, one value per channel along `axis`
        (1-D) or one for all: the result is f(x + bias), x + bias rounded to x's
        dtype as ``x + bias`` would be (float16 and bfloat16: the float32 sum
        rounded once), and x is not modified.  An ndarray bias has x's dtype (or
        float32 for a 16-bit x); numbers are rounded to x's dtype.  NaN or inf
        values are allowed (they propagate as in x + bias).
    axis : int
        The channel axis of x that `bias` runs along (negative counts from the
        end): 1 for NCHW and (batch, features), -1 for channels-last.
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The result, of x's shape and dtype (native byte order); `out` if given.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, or `out` is not an
        ndarray, has another dtype, or is given with a dask array.
    ValueError
        If `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.selu_backward : Its gradient.
    relu_fast.elu : ELU with any alpha and no scale.

    Notes
    -----
    .. math:: y = \lambda \begin{cases} x & x > 0 \\
              \alpha \, (e^x - 1) & \text{otherwise} \end{cases}

    with Klambauer et al.'s :math:`\alpha \approx 1.6733` and
    :math:`\lambda \approx 1.0507` (``torch.nn.functional.selu``'s constants).
    :math:`e^x - 1` is computed as expm1 and :math:`\lambda\alpha` is carried
    to more than float64's precision, so results are within 1 ulp of the exact
    value (docs: accuracy).  NaN stays NaN, +inf stays +inf, -inf gives
    :math:`-\lambda\alpha`, -0.0 gives -0.0.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> rf.selu(np.array([-1.0, 0.0, 2.0, -np.inf]))
    array([-1.11133074,  0.        ,  2.10140197, -1.75809934])
    """
    try:
        return _unary(OP_SELU, x, out, 0.0, None, 0.0, None, bias, axis)
    except _DaskInput:
        return _dask_call("selu", x, out=out, bias=bias, axis=axis)


def selu_backward(grad_output, x, *, is_result=False, bias=None, axis=1, grad_bias=False, out=None):
    r"""Compute the gradient of selu, from its input or (is_result=True) its output.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to the output, of x's shape and dtype.
    x : array_like
        The input of `relu_fast.selu` (float32, float64, float16 or bfloat16),
        or its output y if `is_result` is true.  If either argument is a dask
        array, the result is a lazy dask array.
    is_result : bool
        Whether `x` holds selu's output y instead of its input.  Backward from
        the output lets an in-place forward (``out=x``) drop x.
    bias : array_like, optional
        The bias the forward call added (see the forward function): x is then the
        input before it, and the derivative is taken at x + bias, computed in the
        same pass.  Not with ``is_result=True``.
    axis : int
        The channel axis that `bias` (and the bias gradient) runs along.
    grad_bias : bool
        Also return the bias gradient, grad_input summed per channel along
        `axis` (over every element for a one-value bias or a 0-D or 1-D x), in
        the same pass: in float64, in an order that depends on the shape only,
        rounded once to the bias's dtype (x's without a bias).
    out : ndarray, optional
        Writeable array of x's shape and dtype (any layout) to write the result
        into; ``out=grad_output`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The gradient with respect to the input of selu (grad_input), of x's
        shape and dtype; `out` if given.
    ndarray
        With ``grad_bias=True`` only, the second of a pair: the bias gradient,
        of the bias's shape (``(x.shape[axis],)`` without a bias).

    Raises
    ------
    TypeError
        If x or grad_output is not float32, float64, float16 or bfloat16, their
        dtypes differ, `is_result` is not a bool, or `out` is not an ndarray,
        has another dtype, or is given with dask arrays.
    ValueError
        If grad_output and x differ in shape, or `out` has another shape or is
        read-only.

    See Also
    --------
    relu_fast.selu : The forward function.

    Notes
    -----
    From the input x, with g = grad_output:

    .. math:: \frac{\partial L}{\partial x} = \begin{cases} \lambda g & x > 0 \\
              g \, \lambda \alpha \, e^x & \text{otherwise} \end{cases}

    so at x = 0 the result is :math:`\lambda\alpha g`, as PyTorch's.  A NaN x
    gives NaN; -inf gives 0 (NaN for an infinite g).  From the output y
    (``is_result=True``), since :math:`\lambda\alpha e^x = y + \lambda\alpha`
    where y <= 0: :math:`\lambda g` where y > 0, else
    :math:`g \, (y + \lambda\alpha)`, computed in float64; it agrees with the
    gradient from x up to the rounding of y.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-1.0, 0.0, 2.0])
    >>> rf.selu_backward(np.ones(3), x)
    array([0.6467686 , 1.75809934, 1.05070099])
    >>> rf.selu_backward(np.ones(3), rf.selu(x), is_result=True)
    array([0.6467686 , 1.75809934, 1.05070099])
    """
    _check_is_result(is_result)
    try:
        return _binary(OP_SELU_BWD_RESULT if is_result else OP_SELU_BWD, grad_output, x, out,
                       0.0, None, 0.0, None, bias, axis, grad_bias, is_result)
    except _DaskInput:
        return _dask_call("selu_backward", grad_output, x, is_result=is_result, out=out, bias=bias,
                          axis=axis, grad_bias=grad_bias)


cdef inline double _celu_alpha(object alpha) except? -1:
    cdef double a = real(alpha, "alpha")
    if not a > 0:
        raise ValueError(f"alpha must be > 0 for CELU, got {a}")
    return a


def celu(x, alpha=1.0, *, bias=None, axis=1, out=None):
    r"""Apply the continuously differentiable exponential linear unit elementwise.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`; other
        dtypes are refused, not converted).  A dask array gives a lazy dask
        array, chunk by chunk.
    alpha : float
        Scale of the negative part: a finite real number > 0 (not a bool) that
        fits in x's dtype.
    bias : array_like, optional
        A bias added to x in the same pass, one value per channel along `axis`
        (1-D) or one for all: the result is f(x + bias), x + bias rounded to x's
        dtype as ``x + bias`` would be (float16 and bfloat16: the float32 sum
        rounded once), and x is not modified.  An ndarray bias has x's dtype (or
        float32 for a 16-bit x); numbers are rounded to x's dtype.  NaN or inf
        values are allowed (they propagate as in x + bias).
    axis : int
        The channel axis of x that `bias` runs along (negative counts from the
        end): 1 for NCHW and (batch, features), -1 for channels-last.
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The result, of x's shape and dtype (native byte order); `out` if given.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, `alpha` is not a
        real number (a str, complex, bool, None or an array), or `out` is not
        an ndarray, has another dtype, or is given with a dask array.
    ValueError
        If `alpha` is not finite, not > 0 or overflows x's dtype, or `out` has
        another shape or is read-only.

    See Also
    --------
    relu_fast.celu_backward : Its gradient.
    relu_fast.elu : The same function for alpha = 1.

    Notes
    -----
    .. math:: y = \begin{cases} x & x > 0 \\
              \alpha \, (e^{x/\alpha} - 1) & \text{otherwise} \end{cases}

    (Barron, 2017).  The quotient is taken in float64 and :math:`e^t - 1` as
    expm1; results are within 1 ulp (float32) and 2 ulp (float64) of the
    exact value (docs: accuracy).  PyTorch also takes alpha < 0 (where the
    negative part grows without bound); relu_fast refuses it, as it refuses
    alpha = 0.  NaN stays NaN, +inf stays +inf, -inf gives -alpha, -0.0 gives
    -0.0.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-1.0, 0.0, 2.0, -np.inf])
    >>> rf.celu(x, alpha=0.5)
    array([-0.43233236,  0.        ,  2.        , -0.5       ])
    """
    cdef double a = _celu_alpha(alpha)
    try:
        return _unary(OP_CELU, x, out, a, "alpha", 0.0, None, bias, axis)
    except _DaskInput:
        return _dask_call("celu", x, alpha, out=out, bias=bias, axis=axis)


def celu_backward(grad_output, x, alpha=1.0, *, is_result=False, bias=None, axis=1,
                  grad_bias=False, out=None):
    r"""Compute the gradient of celu, from its input or (is_result=True) its output.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to the output, of x's shape and dtype.
    x : array_like
        The input of `relu_fast.celu` (float32, float64, float16 or bfloat16),
        or its output y if `is_result` is true.  If either argument is a dask
        array, the result is a lazy dask array.
    alpha : float
        The alpha the forward call used: a finite real number > 0 (not a bool)
        that fits in x's dtype.
    is_result : bool
        Whether `x` holds celu's output y instead of its input.  Backward from
        the output lets an in-place forward (``out=x``) drop x.
    bias : array_like, optional
        The bias the forward call added (see the forward function): x is then the
        input before it, and the derivative is taken at x + bias, computed in the
        same pass.  Not with ``is_result=True``.
    axis : int
        The channel axis that `bias` (and the bias gradient) runs along.
    grad_bias : bool
        Also return the bias gradient, grad_input summed per channel along
        `axis` (over every element for a one-value bias or a 0-D or 1-D x), in
        the same pass: in float64, in an order that depends on the shape only,
        rounded once to the bias's dtype (x's without a bias).
    out : ndarray, optional
        Writeable array of x's shape and dtype (any layout) to write the result
        into; ``out=grad_output`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The gradient with respect to the input of celu (grad_input), of x's
        shape and dtype; `out` if given.
    ndarray
        With ``grad_bias=True`` only, the second of a pair: the bias gradient,
        of the bias's shape (``(x.shape[axis],)`` without a bias).

    Raises
    ------
    TypeError
        If x or grad_output is not float32, float64, float16 or bfloat16, their
        dtypes differ, `alpha` is not a real number, `is_result` is not a bool,
        or `out` is not an ndarray, has another dtype, or is given with dask
        arrays.
    ValueError
        If grad_output and x differ in shape, `alpha` is not finite, not > 0
        or overflows x's dtype, or `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.celu : The forward function.

    Notes
    -----
    From the input x, with g = grad_output:

    .. math:: \frac{\partial L}{\partial x} = \begin{cases} g & x > 0 \\
              g \, e^{x/\alpha} & \text{otherwise} \end{cases}

    In float64 the exponent keeps what the rounding of :math:`x/\alpha` lost,
    so that results stay within 2 ulp where :math:`x/\alpha` is large.  At
    x = 0 the result is g; a NaN x gives NaN; -inf gives 0 (NaN for an
    infinite g).  From the output y (``is_result=True``): g where y > 0, else
    :math:`g \, (y/\alpha + 1)`, computed in float64; it agrees with the
    gradient from x up to the rounding of y.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-1.0, 0.0, 2.0])
    >>> rf.celu_backward(np.ones(3), x, alpha=0.5)
    array([0.13533528, 1.        , 1.        ])
    """
    cdef double a = _celu_alpha(alpha)
    _check_is_result(is_result)
    try:
        return _binary(OP_CELU_BWD_RESULT if is_result else OP_CELU_BWD, grad_output, x, out, a,
                       "alpha", 0.0, None, bias, axis, grad_bias, is_result)
    except _DaskInput:
        return _dask_call("celu_backward", grad_output, x, alpha, is_result=is_result, out=out,
                          bias=bias, axis=axis, grad_bias=grad_bias)


def silu(x, *, bias=None, axis=1, out=None):
    r"""Apply the sigmoid linear unit (swish), x * sigmoid(x), elementwise.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`; other
        dtypes are refused, not converted).  A dask array gives a lazy dask
        array, chunk by chunk.
    bias : array_like, optional
        A bias added to x in the same pass, one value per channel along `axis`
        (1-D) or one for all: the result is f(x + bias), x + bias rounded to x's
        dtype as ``x + bias`` would be (float16 and bfloat16: the float32 sum
        rounded once), and x is not modified.  An ndarray bias has x's dtype (or
        float32 for a 16-bit x); numbers are rounded to x's dtype.  NaN or inf
        values are allowed (they propagate as in x + bias).
    axis : int
        The channel axis of x that `bias` runs along (negative counts from the
        end): 1 for NCHW and (batch, features), -1 for channels-last.
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The result, of x's shape and dtype (native byte order); `out` if given.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, or `out` is not an
        ndarray, has another dtype, or is given with a dask array.
    ValueError
        If `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.silu_backward : Its gradient.

    Notes
    -----
    .. math:: y = \frac{x}{1 + e^{-x}}

    computed as :math:`x/(1+e)` for x >= 0 and :math:`x e/(1+e)` for x < 0 with
    :math:`e = e^{-|x|}`, in float64: no overflow, and results within 1 ulp
    (float32) and 2 ulp (float64) of the exact value, subnormal ones included
    (docs: accuracy).  NaN stays NaN, +inf stays +inf, -0.0 stays -0.0; -inf
    gives -0.0, the limit (PyTorch: NaN).

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> rf.silu(np.array([-1.0, 0.0, 2.0, -np.inf]))
    array([-0.26894142,  0.        ,  1.76159416, -0.        ])
    """
    try:
        return _unary(OP_SILU, x, out, 0.0, None, 0.0, None, bias, axis)
    except _DaskInput:
        return _dask_call("silu", x, out=out, bias=bias, axis=axis)


def silu_backward(grad_output, x, *, bias=None, axis=1, grad_bias=False, out=None):
    r"""Compute the gradient of silu from its input.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to the output, of x's shape and dtype.
    x : array_like
        The input of `relu_fast.silu` (float32, float64, float16 or bfloat16).
        If either argument is a dask array, the result is a lazy dask array.
    bias : array_like, optional
        The bias the forward call added (see the forward function): x is then the
        input before it, and the derivative is taken at x + bias, computed in the
        same pass.
    axis : int
        The channel axis that `bias` (and the bias gradient) runs along.
    grad_bias : bool
        Also return the bias gradient, grad_input summed per channel along
        `axis` (over every element for a one-value bias or a 0-D or 1-D x), in
        the same pass: in float64, in an order that depends on the shape only,
        rounded once to the bias's dtype (x's without a bias).
    out : ndarray, optional
        Writeable array of x's shape and dtype (any layout) to write the result
        into; ``out=grad_output`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The gradient with respect to the input of silu (grad_input), of x's
        shape and dtype; `out` if given.
    ndarray
        With ``grad_bias=True`` only, the second of a pair: the bias gradient,
        of the bias's shape (``(x.shape[axis],)`` without a bias).

    Raises
    ------
    TypeError
        If x or grad_output is not float32, float64, float16 or bfloat16, their
        dtypes differ, or `out` is not an ndarray, has another dtype, or is given
        with dask arrays.
    ValueError
        If grad_output and x differ in shape, or `out` has another shape or is
        read-only.

    See Also
    --------
    relu_fast.silu : The forward function.

    Notes
    -----
    With g = grad_output and :math:`s = 1/(1 + e^{-x})`:

    .. math:: \frac{\partial L}{\partial x} = g \, s \, (1 + x (1 - s))

    computed in float64 from :math:`e = e^{-|x|}` without overflow.  +inf
    gives g and -inf gives -0.0 times g's sign, the limits (PyTorch: NaN); a
    NaN x gives NaN.  There is no ``is_result``: silu is not one-to-one on
    x < 0, so the output cannot tell x.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> rf.silu_backward(np.ones(3), np.array([-1.0, 0.0, 2.0]))
    array([0.07232949, 0.5       , 1.09078425])
    """
    try:
        return _binary(OP_SILU_BWD, grad_output, x, out, 0.0, None, 0.0, None, bias, axis,
                       grad_bias)
    except _DaskInput:
        return _dask_call("silu_backward", grad_output, x, out=out, bias=bias, axis=axis,
                          grad_bias=grad_bias)


# ---------------------------------------------------------------------------
# RReLU: eval mode is leaky_relu with the mean slope; training mode draws each
# element's slope from Philox4x32-10 keyed by the seed, at the element's C-order index
# ---------------------------------------------------------------------------

cdef object _SEED_LIMIT = 2 ** 64


cdef inline void _check_training(object training) except *:
    _check_flag(training, "training")


cdef tuple _rrelu_scalars(object lower, object upper, object training, object seed):
    """(lower, upper, seed as an int or None) after the checks of rrelu's scalars."""
    cdef double lo = real(lower, "lower")
    cdef double hi = real(upper, "upper")
    _check_training(training)
    if lo < 0:
        raise ValueError(f"lower must be >= 0, got {lo}")
    if lo > hi:
        raise ValueError(f"lower must not exceed upper, got lower={lo} > upper={hi}")
    if seed is not None:
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}")
        seed = int(seed)
        if not 0 <= seed < _SEED_LIMIT:
            raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    elif training:
        raise TypeError("training=True needs seed=, a non-negative int below 2**64 "
                        "(the key of the slopes' random numbers)")
    return lo, hi, seed


cdef object _rrelu(bint backward, object grad_output, object x, object out, double lo, double hi,
                   object training, object seed, object shape=None, object origin=None,
                   object bias=None, object axis=1, object grad_bias=False):
    """rrelu (backward=False) or rrelu_backward.  Training: the elements' C-order indices
    are those of x in an array of `shape` where x is the block at `origin` (dask chunks;
    None: x is the whole array)."""
    cdef cnp.ndarray ga = None
    cdef cnp.ndarray xa
    if backward:
        ga = as_array(grad_output, "grad_output")
    xa = as_array(x, "x")
    cdef int dt = dtype_code(xa)
    fits(lo, dt, "lower")
    fits(hi, dt, "upper")
    if backward:
        if dtype_code(ga) != dt:
            raise TypeError(f"grad_output has dtype {ga.dtype} but x has dtype {xa.dtype}; they must match")
        if not cnp.PyArray_SAMESHAPE(ga, xa):
            raise ValueError(f"grad_output has shape {(<object>ga).shape} but x has shape {(<object>xa).shape}; they must match")
    cdef bint train = bool(training)
    cdef int op
    cdef double params[5]
    cdef int order = C_ORDER
    if train:
        # the slopes follow the C-order index: other layouts are copied to C order
        op = OP_RRELU_BWD if backward else OP_RRELU
        params[0], params[1] = lo, hi
        params[2] = <double>(seed & 0xFFFFFFFF)
        params[3] = <double>(seed >> 32)
        params[4] = 0.0
    else:
        # PyTorch's eval mode: leaky_relu with (lower + upper) / 2, in float64
        op = OP_LEAKY_BWD if backward else OP_LEAKY
        params[0], params[1] = (lo + hi) / 2, 0.0
        order = order_of(xa)
        if backward and order != order_of(ga):
            order = C_ORDER
    _check_flag(grad_bias, "grad_bias")
    if bias is not None or grad_bias:
        return _fused(op, ga, xa, dt, order, out, params, bias, axis, grad_bias,
                      elu_cost(dt) if train else 1)
    _check_axis(axis)
    xa = direct(xa, order, dt)
    if backward:
        ga = direct(ga, order, dt)
    cdef cnp.ndarray dst = destination(out, xa, dt, order, xa, ga)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef Py_ssize_t run = n
    cdef object starts = None
    if train and shape is not None:
        run, starts = _block_runs(tuple((<object>xa).shape), tuple(shape), tuple(origin))
    cdef Py_ssize_t nruns = 1 if starts is None else len(starts)
    cdef Py_ssize_t work = run * elu_cost(dt) if train else run
    cdef int nt = threads_for(work)
    cdef size_t itemsize = itemsize_of(dt)
    cdef const char* pg = NULL if ga is None else <const char*>cnp.PyArray_DATA(ga)
    cdef const char* px = <const char*>cnp.PyArray_DATA(xa)
    cdef char* pd = <char*>cnp.PyArray_DATA(dst)
    cdef Py_ssize_t r, off
    cdef fpstate fps = fp_enter()
    if work >= grain():
        take_threads(nt)
    try:
        for r in range(nruns):
            if starts is not None:
                params[4] = <double>starts[r]
            off = r * run * itemsize
            with nogil:
                if backward:
                    K.binary(op, dt, pg + off, px + off, pd + off, run, params, nt)
                else:
                    K.unary(op, dt, px + off, pd + off, run, params, nt)
    finally:
        if work >= grain():
            give_threads(nt)
        fp_leave(fps)
    return deliver(out, dst)


def _block_runs(tuple block, tuple shape, tuple origin):
    """A C-order block of an array of `shape` starting at `origin`: (the length of its
    runs of consecutive C-order indices, each run's first index) -- the trailing axes
    the block spans whole, and its first partial axis, make one run."""
    cdef int nd = len(shape), k
    if len(block) != nd or len(origin) != nd:
        raise ValueError(f"a block of shape {block} at {origin} does not fit an array of shape {shape}")
    for k in range(nd):
        if not (0 <= origin[k] and origin[k] + block[k] <= shape[k]):
            raise ValueError(f"a block of shape {block} at {origin} does not fit an array of shape {shape}")
    if np.prod(shape, dtype=object) > 2**53:
        raise ValueError(f"an array of shape {shape} has more than 2**53 elements: rrelu's "
                         "element indices must be exact in a double")
    strides = [1] * nd                              # C-order strides, in elements
    for k in range(nd - 2, -1, -1):
        strides[k] = strides[k + 1] * shape[k + 1]
    k = nd - 1
    while k > 0 and block[k] == shape[k]:
        k -= 1
    run = 1
    for j in range(max(k, 0), nd):
        run *= block[j]
    base = sum(o * s for o, s in zip(origin, strides))
    if k <= 0:
        return run, [base]
    starts = np.full((), base, dtype=np.int64)
    for j in range(k):
        starts = np.add.outer(starts, np.arange(block[j], dtype=np.int64) * strides[j])
    return run, starts.reshape(-1).tolist()


def _rrelu_block(x, lower, upper, training, seed, shape, origin):
    """rrelu on the block of an array of `shape` at `origin` (relu_fast._dask's chunks)."""
    lo, hi, seed = _rrelu_scalars(lower, upper, training, seed)
    return _rrelu(False, None, x, None, lo, hi, training, seed, shape, origin)


def _rrelu_backward_block(grad_output, x, lower, upper, training, seed, shape, origin):
    """rrelu_backward on a block (as _rrelu_block)."""
    lo, hi, seed = _rrelu_scalars(lower, upper, training, seed)
    return _rrelu(True, grad_output, x, None, lo, hi, training, seed, shape, origin)


def rrelu(x, lower=0.125, upper=0.3333333333333333, training=False, *, seed=None, bias=None,
          axis=1, out=None):
    r"""Apply the randomized leaky rectified linear unit elementwise.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`; other
        dtypes are refused, not converted).  A dask array gives a lazy dask
        array, chunk by chunk.
    lower : float
        Lower end of the range of the slopes: a finite real number >= 0 (not a
        bool), rounded to x's dtype.
    upper : float
        Upper end of the range: finite, >= `lower`, rounded to x's dtype.
    training : bool
        False: one slope, (lower + upper) / 2, for every element (PyTorch's eval
        mode).  True: each element's own random slope in [lower, upper).
    seed : int, optional
        The key of the random slopes: an int in [0, 2**64), required when
        `training` is True; the same seed gives the same slopes (and
        `relu_fast.rrelu_backward` with it the matching gradient).  Ignored,
        but checked, when `training` is False.
    bias : array_like, optional
        A bias added to x in the same pass, one value per channel along `axis`
        (1-D) or one for all: the result is f(x + bias), x + bias rounded to x's
        dtype as ``x + bias`` would be (float16 and bfloat16: the float32 sum
        rounded once), and x is not modified.  An ndarray bias has x's dtype (or
        float32 for a 16-bit x); numbers are rounded to x's dtype.  NaN or inf
        values are allowed (they propagate as in x + bias).
    axis : int
        The channel axis of x that `bias` runs along (negative counts from the
        end): 1 for NCHW and (batch, features), -1 for channels-last.
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The result, of x's shape and dtype (native byte order); `out` if given.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, `lower` or `upper` is
        not a real number, `training` is not a bool, `seed` is not an int (or is
        missing with training=True), or `out` is not an ndarray, has another
        dtype, or is given with a dask array.
    ValueError
        If `lower` or `upper` is not finite or overflows x's dtype, `lower` < 0
        or `lower` > `upper`, `seed` is negative or >= 2**64, or `out` has
        another shape or is read-only.

    See Also
    --------
    relu_fast.rrelu_backward : Its gradient.
    relu_fast.leaky_relu : One fixed slope.

    Notes
    -----
    .. math:: y = \begin{cases} x & x > 0 \text{ or } x \text{ is NaN} \\
              s\, x & \text{otherwise} \end{cases}

    In eval mode (training=False) s = (lower + upper) / 2, computed in float64
    and rounded to x's dtype: `relu_fast.leaky_relu` with that slope, bit for
    bit as ``torch.nn.functional.rrelu(x, lower, upper, training=False)``.

    In training mode the slope of the element of C-order index i (its place in
    ``x.ravel()``) is s = lower + (upper - lower) * u in x's dtype, capped at
    the largest number below upper, where u = (w >> 8) / 2**24 is the top 24
    bits of word i % 4 of Philox4x32-10 (Salmon et al., SC11; Random123's
    ``philox4x32``, 10 rounds) of the counter (i // 4 mod 2**32, i // 4 >> 32,
    0, 0) under the key (seed mod 2**32, seed >> 32).  24 bits make u exact in
    float32 and float64 alike, so both dtypes draw the same u, and one Philox
    call serves four elements.  So the result does not depend on the thread
    count, memory layout (a non-C-contiguous x is copied to C order first),
    kernel level or dask chunking.  Elements with x <= 0 (-0.0 and -inf
    included) are multiplied by their slope; x > 0 and NaN pass unchanged, as
    in PyTorch, whose slopes come from its global generator instead (so the
    values differ from PyTorch's; their distribution is the same up to the
    24-bit u).

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> rf.rrelu(np.array([-2.0, 0.0, 3.0]))
    array([-0.45833333,  0.        ,  3.        ])
    >>> y = rf.rrelu(np.array([-1.0, -1.0, 3.0]), training=True, seed=7)
    >>> bool(np.all((-1 / 3 < y[:2]) & (y[:2] <= -1 / 8))), float(y[2])
    (True, 3.0)
    """
    lo, hi, seed = _rrelu_scalars(lower, upper, training, seed)
    try:
        return _rrelu(False, None, x, out, lo, hi, training, seed, None, None, bias, axis)
    except _DaskInput:
        return _dask_call("rrelu", x, lower, upper, training, seed=seed, out=out, bias=bias,
                          axis=axis)


def rrelu_backward(grad_output, x, lower=0.125, upper=0.3333333333333333, training=False, *,
                   seed=None, bias=None, axis=1, grad_bias=False, out=None):
    r"""Compute the gradient of rrelu: grad_output, times the slope where x <= 0.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to the output, of x's shape and dtype.
    x : array_like
        The input of `relu_fast.rrelu`, float32, float64, float16 or bfloat16.
        If either argument is a dask array, the result is a lazy dask array.
    lower, upper : float
        The range the forward call used (finite, 0 <= lower <= upper).
    training : bool
        The mode the forward call used.
    seed : int, optional
        The seed the forward call used (required with training=True): the slopes
        are computed again from it, none are stored.  Ignored, but checked, when
        `training` is False.
    bias : array_like, optional
        The bias the forward call added (see the forward function): x is then the
        input before it, and the derivative is taken at x + bias, computed in the
        same pass.
    axis : int
        The channel axis that `bias` (and the bias gradient) runs along.
    grad_bias : bool
        Also return the bias gradient, grad_input summed per channel along
        `axis` (over every element for a one-value bias or a 0-D or 1-D x), in
        the same pass: in float64, in an order that depends on the shape only,
        rounded once to the bias's dtype (x's without a bias).
    out : ndarray, optional
        Writeable array of x's shape and dtype (any layout) to write the result
        into; ``out=grad_output`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The gradient with respect to x (grad_input), of x's shape and dtype;
        `out` if given.
    ndarray
        With ``grad_bias=True`` only, the second of a pair: the bias gradient,
        of the bias's shape (``(x.shape[axis],)`` without a bias).

    Raises
    ------
    TypeError
        If x or grad_output is not float32, float64, float16 or bfloat16, their
        dtypes differ, `lower` or `upper` is not a real number, `training` is
        not a bool, `seed` is not an int (or is missing with training=True), or
        `out` is not an ndarray, has another dtype, or is given with dask
        arrays.
    ValueError
        If grad_output and x differ in shape, `lower` or `upper` is not finite
        or overflows x's dtype, `lower` < 0 or `lower` > `upper`, `seed` is
        negative or >= 2**64, or `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.rrelu : The forward function.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} g & x > 0 \\
              s g & \text{otherwise} \end{cases}

    with g = grad_output and s the forward's slope of each element.  Eval mode
    is `relu_fast.leaky_relu_backward` with (lower + upper) / 2, as PyTorch's
    ``rrelu_with_noise_backward``: a NaN x gives s * g.  Training mode is g
    times PyTorch's noise (s where x <= 0, else 1): a NaN x gives g, as in
    PyTorch.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-2.0, 0.0, 3.0])
    >>> rf.rrelu_backward(np.ones(3), x)
    array([0.22916667, 0.22916667, 1.        ])
    >>> g = rf.rrelu_backward(np.ones(3), x, training=True, seed=7)
    >>> bool(np.array_equal(g * x, rf.rrelu(x, training=True, seed=7)))
    True
    """
    lo, hi, seed = _rrelu_scalars(lower, upper, training, seed)
    try:
        return _rrelu(True, grad_output, x, out, lo, hi, training, seed, None, None, bias, axis,
                          grad_bias)
    except _DaskInput:
        return _dask_call("rrelu_backward", grad_output, x, lower, upper, training, seed=seed,
                          out=out, bias=bias, axis=axis, grad_bias=grad_bias)


cdef inline double _check_beta(object beta) except? -1.0:
    cdef double b = real(beta, "beta")
    if not b > 0:
        raise ValueError(f"beta must be > 0, got {b}")
    return b


def softplus(x, beta=1.0, threshold=20.0, *, bias=None, axis=1, out=None):
    r"""Apply the softplus, log(1 + exp(beta x)) / beta, elementwise.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`; other
        dtypes are refused, not converted).  A dask array gives a lazy dask
        array, chunk by chunk.
    beta : float
        The scale of x inside the softplus: a finite real number > 0 (not a
        bool) that fits in x's dtype.
    threshold : float
        Where beta * x exceeds it, the result is x itself: any finite real
        number (not a bool) that fits in x's dtype.
    bias : array_like, optional
        A bias added to x in the same pass, one value per channel along `axis`
        (1-D) or one for all: the result is f(x + bias), x + bias rounded to x's
        dtype as ``x + bias`` would be (float16 and bfloat16: the float32 sum
        rounded once), and x is not modified.  An ndarray bias has x's dtype (or
        float32 for a 16-bit x); numbers are rounded to x's dtype.  NaN or inf
        values are allowed (they propagate as in x + bias).
    axis : int
        The channel axis of x that `bias` runs along (negative counts from the
        end): 1 for NCHW and (batch, features), -1 for channels-last.
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The result, of x's shape and dtype (native byte order); `out` if given.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, `beta` or
        `threshold` is not a real number (a str, complex, bool, None or an
        array), or `out` is not an ndarray, has another dtype, or is given with
        a dask array.
    ValueError
        If `beta` or `threshold` is not finite or overflows x's dtype, `beta`
        <= 0, or `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.softplus_backward : Its gradient.
    relu_fast.mish : The function x * tanh(softplus(x)).

    Notes
    -----
    .. math:: y = \begin{cases} x & \beta x > \text{threshold} \\
              \log(1 + e^{\beta x}) / \beta & \text{otherwise} \end{cases}

    PyTorch's rule: the test is made on beta * x rounded to x's dtype (beta
    and threshold rounded to it too), so the switch happens at the same
    elements as in ``torch.nn.functional.softplus``.  Below it,
    :math:`\log(1 + e^{t}) = \max(t, 0) + \operatorname{log1p}(e^{-|t|})`
    is evaluated in float64 (no overflow at any x, and ``softplus(-700.0)`` is
    :math:`e^{-700}`, subnormal results included), float32 rounded once; see
    the accuracy table in the semantics page.  NaN stays NaN, +inf gives +inf,
    -inf gives 0.  PyTorch accepts beta <= 0 (inf for beta = 0); relu_fast
    refuses it.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-800.0, -20.0, 0.0, 1.0, 25.0])
    >>> rf.softplus(x)
    array([0.00000000e+00, 2.06115362e-09, 6.93147181e-01, 1.31326169e+00,
           2.50000000e+01])
    >>> rf.softplus(x, beta=2.0, threshold=10.0)
    array([0.00000000e+00, 2.12417713e-18, 3.46573590e-01, 1.06346401e+00,
           2.50000000e+01])
    """
    cdef double b = _check_beta(beta)
    cdef double t = real(threshold, "threshold")
    try:
        return _unary(OP_SOFTPLUS, x, out, b, "beta", t, "threshold", bias, axis)
    except _DaskInput:
        return _dask_call("softplus", x, beta, threshold, out=out, bias=bias, axis=axis)


def softplus_backward(grad_output, x, beta=1.0, threshold=20.0, *, bias=None, axis=1,
                      grad_bias=False, out=None):
    r"""Compute the gradient of softplus: grad_output * sigmoid(beta x), or grad_output.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to softplus's output, of x's shape
        and dtype.
    x : array_like
        The input of `relu_fast.softplus`, float32, float64, float16 or
        bfloat16.  If either argument is a dask array, the result is a lazy
        dask array.
    beta : float
        The beta the forward call used: a finite real number > 0 (not a bool)
        that fits in x's dtype.
    threshold : float
        The threshold the forward call used: any finite real number (not a
        bool) that fits in x's dtype.
    bias : array_like, optional
        The bias the forward call added (see the forward function): x is then the
        input before it, and the derivative is taken at x + bias, computed in the
        same pass.
    axis : int
        The channel axis that `bias` (and the bias gradient) runs along.
    grad_bias : bool
        Also return the bias gradient, grad_input summed per channel along
        `axis` (over every element for a one-value bias or a 0-D or 1-D x), in
        the same pass: in float64, in an order that depends on the shape only,
        rounded once to the bias's dtype (x's without a bias).
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=grad_output`` works in place.  Not allowed with dask
        arrays.

    Returns
    -------
    ndarray
        The gradient with respect to x, of x's shape and dtype; `out` if given.
    ndarray
        With ``grad_bias=True`` only, the second of a pair: the bias gradient,
        of the bias's shape (``(x.shape[axis],)`` without a bias).

    Raises
    ------
    TypeError
        If x or grad_output is not float32, float64, float16 or bfloat16, their
        dtypes differ, `beta` or `threshold` is not a real number, or `out` is
        not an ndarray, has another dtype, or is given with dask arrays.
    ValueError
        If grad_output and x differ in shape, `beta` or `threshold` is not
        finite or overflows x's dtype, `beta` <= 0, or `out` has another shape
        or is read-only.

    See Also
    --------
    relu_fast.softplus : The forward function.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} g & \beta x > \text{threshold} \\
              g \, \sigma(\beta x) & \text{otherwise} \end{cases}

    with g = `grad_output` and :math:`\sigma(t) = 1 / (1 + e^{-t})` computed
    in float64 from :math:`e^{-|t|}` (float32 rounded once), the test as in
    `relu_fast.softplus`.  PyTorch computes g z / (z + 1) with z = exp(beta x),
    NaN where z overflows (a threshold above about 709 / 88): relu_fast gives
    the limit, g.  A NaN x or grad_output gives NaN; -inf gives g * 0 (0, or
    NaN for an infinite g), as PyTorch.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-20.0, 0.0, 1.0, 25.0])
    >>> rf.softplus_backward(np.ones(4), x)
    array([2.06115362e-09, 5.00000000e-01, 7.31058579e-01, 1.00000000e+00])
    """
    cdef double b = _check_beta(beta)
    cdef double t = real(threshold, "threshold")
    try:
        return _binary(OP_SOFTPLUS_BWD, grad_output, x, out, b, "beta", t, "threshold", bias,
                       axis, grad_bias)
    except _DaskInput:
        return _dask_call("softplus_backward", grad_output, x, beta, threshold, out=out, bias=bias,
                          axis=axis, grad_bias=grad_bias)


def mish(x, *, bias=None, axis=1, out=None):
    r"""Apply the mish, x * tanh(softplus(x)), elementwise.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`; other
        dtypes are refused, not converted).  A dask array gives a lazy dask
        array, chunk by chunk.
    bias : array_like, optional
        A bias added to x in the same pass, one value per channel along `axis`
        (1-D) or one for all: the result is f(x + bias), x + bias rounded to x's
        dtype as ``x + bias`` would be (float16 and bfloat16: the float32 sum
        rounded once), and x is not modified.  An ndarray bias has x's dtype (or
        float32 for a 16-bit x); numbers are rounded to x's dtype.  NaN or inf
        values are allowed (they propagate as in x + bias).
    axis : int
        The channel axis of x that `bias` runs along (negative counts from the
        end): 1 for NCHW and (batch, features), -1 for channels-last.
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The result, of x's shape and dtype (native byte order); `out` if given.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, or `out` is not an
        ndarray or has another dtype, or `out` is given with a dask array.
    ValueError
        If `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.mish_backward : Its gradient.
    relu_fast.softplus : The softplus inside.

    Notes
    -----
    .. math:: y = x \tanh(\log(1 + e^x)) = \begin{cases}
              x \, \frac{1 + 2e}{1 + 2e + 2e^2} & x \ge 0 \\
              x \, \frac{e (e + 2)}{e (e + 2) + 2} & x < 0 \end{cases},
              \quad e = e^{-|x|}

    evaluated in float64 without a log and without overflow (float32 rounded
    once; accuracy table in the semantics page).  NaN stays NaN, +inf stays
    +inf, -0.0 stays -0.0; -inf gives -0, the limit (PyTorch: NaN), as does
    every x below about -745 (float64's x e^x underflows).

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> rf.mish(np.array([-np.inf, -1.0, 0.0, 1.0, 30.0]))
    array([-0.        , -0.30340146,  0.        ,  0.86509839, 30.        ])
    """
    try:
        return _unary(OP_MISH, x, out, 0.0, None, 0.0, None, bias, axis)
    except _DaskInput:
        return _dask_call("mish", x, out=out, bias=bias, axis=axis)


def mish_backward(grad_output, x, *, bias=None, axis=1, grad_bias=False, out=None):
    r"""Compute the gradient of mish.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to mish's output, of x's shape and
        dtype.
    x : array_like
        The input of `relu_fast.mish`, float32, float64, float16 or bfloat16.
        If either argument is a dask array, the result is a lazy dask array.
    bias : array_like, optional
        The bias the forward call added (see the forward function): x is then the
        input before it, and the derivative is taken at x + bias, computed in the
        same pass.
    axis : int
        The channel axis that `bias` (and the bias gradient) runs along.
    grad_bias : bool
        Also return the bias gradient, grad_input summed per channel along
        `axis` (over every element for a one-value bias or a 0-D or 1-D x), in
        the same pass: in float64, in an order that depends on the shape only,
        rounded once to the bias's dtype (x's without a bias).
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=grad_output`` works in place.  Not allowed with dask
        arrays.

    Returns
    -------
    ndarray
        The gradient with respect to x, of x's shape and dtype; `out` if given.
    ndarray
        With ``grad_bias=True`` only, the second of a pair: the bias gradient,
        of the bias's shape (``(x.shape[axis],)`` without a bias).

    Raises
    ------
    TypeError
        If x or grad_output is not float32, float64, float16 or bfloat16, their
        dtypes differ, or `out` is not an ndarray, has another dtype, or is
        given with dask arrays.
    ValueError
        If grad_output and x differ in shape, or `out` has another shape or is
        read-only.

    See Also
    --------
    relu_fast.mish : The forward function.

    Notes
    -----
    With g = `grad_output`, :math:`s = \tanh(\operatorname{softplus}(x))` and
    :math:`\sigma` the logistic sigmoid (PyTorch's formula):

    .. math:: \frac{\partial L}{\partial x} = g \, (s + x \, \sigma(x) (1 - s^2))

    evaluated in float64 in forms without cancelling differences, from
    :math:`e = e^{-|x|}` (float32 rounded once): for x >= 0,
    :math:`x \sigma(x) (1 - s^2) = 4 x e^2 (1 + e) / (1 + 2e + 2e^2)^2`, for
    x < 0 it is :math:`4 x e (1 + e) / (e^2 + 2e + 2)^2`.  Near the
    gradient's zero (x about -1.19) the sum of the two terms cancels, so
    there the error is small in absolute terms, not relative ones.  +inf gives
    g and -inf g * 0 (the limits; PyTorch: NaN for both); a NaN x or
    grad_output gives NaN.  There is no ``is_result``: mish is not one-to-one
    for x < 0.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-np.inf, -1.0, 0.0, 1.0, np.inf])
    >>> rf.mish_backward(np.ones(5), x)
    array([0.        , 0.05921676, 0.6       , 1.04903622, 1.        ])
    """
    try:
        return _binary(OP_MISH_BWD, grad_output, x, out, 0.0, None, 0.0, None, bias, axis,
                       grad_bias)
    except _DaskInput:
        return _dask_call("mish_backward", grad_output, x, out=out, bias=bias, axis=axis,
                          grad_bias=grad_bias)


cdef bint _gelu_tanh(object approximate) except -1:
    # approximate="none" (erf form, False) or "tanh" (True), as PyTorch's strings
    if not isinstance(approximate, str):
        raise TypeError(f"approximate must be a str, 'none' or 'tanh', got {type(approximate).__name__}")
    if approximate == "none":
        return False
    if approximate == "tanh":
        return True
    raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


def gelu(x, approximate="none", *, bias=None, axis=1, out=None):
    r"""Apply the Gaussian error linear unit, x * Phi(x), elementwise.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`; other
        dtypes are refused, not converted).  A dask array gives a lazy dask
        array, chunk by chunk.
    approximate : {'none', 'tanh'}, optional
        ``'none'`` (the default): the exact form with the normal distribution
        function Phi; ``'tanh'``: PyTorch's tanh approximation of it.
    bias : array_like, optional
        A bias added to x in the same pass, one value per channel along `axis`
        (1-D) or one for all: the result is f(x + bias), x + bias rounded to x's
        dtype as ``x + bias`` would be (float16 and bfloat16: the float32 sum
        rounded once), and x is not modified.  An ndarray bias has x's dtype (or
        float32 for a 16-bit x); numbers are rounded to x's dtype.  NaN or inf
        values are allowed (they propagate as in x + bias).
    axis : int
        The channel axis of x that `bias` runs along (negative counts from the
        end): 1 for NCHW and (batch, features), -1 for channels-last.
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The result, of x's shape and dtype (native byte order); `out` if given.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, `approximate` is not
        a str, or `out` is not an ndarray or has another dtype, or `out` is
        given with a dask array.
    ValueError
        If `approximate` is another string, or `out` has another shape or is
        read-only.

    See Also
    --------
    relu_fast.gelu_backward : Its gradient.
    relu_fast.relu : The function GELU smooths.

    Notes
    -----
    .. math:: \mathrm{gelu}(x) = x \, \Phi(x) = \frac{x}{2}
              \operatorname{erfc}\!\left(-\frac{x}{\sqrt 2}\right)

    and, with ``approximate='tanh'``,

    .. math:: \frac{x}{2} \left(1 + \tanh u\right) = \frac{x}{1 + e^{-2u}},
              \qquad u = \sqrt{2/\pi} \, (x + 0.044715 \, x^3),

    as ``torch.nn.functional.gelu``.  Both are computed in float64 and rounded
    once (float32 results within 1 ulp of the correctly rounded value, float64
    within 2; the measured maxima are in the semantics page), with no overflow
    at any magnitude of x and no flush of denormals (gelu(x) is about x / 2 for tiny x).
    NaN stays NaN; +inf gives +inf and -inf gives -0 (the limits, where
    PyTorch returns NaN), and large negative x gives -0 or a tiny negative
    value, gracefully underflowing.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    >>> rf.gelu(x)
    array([-0.00404969, -0.15865525,  0.        ,  0.84134475,  2.99595031])
    >>> rf.gelu(x, "tanh")
    array([-0.00363739, -0.15880801,  0.        ,  0.84119199,  2.99636261])
    """
    cdef bint tanh_form = _gelu_tanh(approximate)
    try:
        return _unary(OP_GELU_TANH if tanh_form else OP_GELU, x, out, 0.0, None, 0.0, None, bias,
                      axis)
    except _DaskInput:
        return _dask_call("gelu", x, approximate, out=out, bias=bias, axis=axis)


def gelu_backward(grad_output, x, approximate="none", *, bias=None, axis=1, grad_bias=False,
                  out=None):
    r"""Compute the gradient of gelu: grad_output * (Phi(x) + x * phi(x)).

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to gelu's output, of x's shape and
        dtype.
    x : array_like
        The input of `relu_fast.gelu`, float32, float64, float16 or bfloat16.
        If either argument is a dask array, the result is a lazy dask array.
    approximate : {'none', 'tanh'}, optional
        The form of gelu to differentiate, as in `relu_fast.gelu`.
    bias : array_like, optional
        The bias the forward call added (see the forward function): x is then the
        input before it, and the derivative is taken at x + bias, computed in the
        same pass.
    axis : int
        The channel axis that `bias` (and the bias gradient) runs along.
    grad_bias : bool
        Also return the bias gradient, grad_input summed per channel along
        `axis` (over every element for a one-value bias or a 0-D or 1-D x), in
        the same pass: in float64, in an order that depends on the shape only,
        rounded once to the bias's dtype (x's without a bias).
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=grad_output`` works in place.  Not allowed with dask
        arrays.

    Returns
    -------
    ndarray
        The gradient with respect to x, of x's shape and dtype; `out` if given.
    ndarray
        With ``grad_bias=True`` only, the second of a pair: the bias gradient,
        of the bias's shape (``(x.shape[axis],)`` without a bias).

    Raises
    ------
    TypeError
        If x or grad_output is not float32, float64, float16 or bfloat16, their
        dtypes differ, `approximate` is not a str, or `out` is not an ndarray,
        has another dtype, or is given with dask arrays.
    ValueError
        If `approximate` is another string, grad_output and x differ in shape,
        or `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.gelu : The forward function.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = g \left(\Phi(x) + x \, \varphi(x)\right),
              \qquad \varphi(x) = \frac{e^{-x^2/2}}{\sqrt{2\pi}},

    with g = `grad_output`; with ``approximate='tanh'``, PyTorch's derivative of
    the tanh form, g (S + 2 x S (1 - S) u'(x)) with S = (1 + tanh u) / 2 and
    u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2).  The derivative and its product with
    g are computed in float64 and rounded once.  It is 1 at +inf and 0 at -inf
    (the limits; PyTorch gives NaN there, and for the tanh form already at
    x = ±1e30 in float32).  NaN in x or g gives NaN; an infinite g where the
    derivative is 0 (in float64) gives NaN, as in PyTorch.  There is no
    ``is_result``: gelu is not one-to-one for x < 0, so its output cannot tell x.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    >>> rf.gelu_backward(np.ones(5), x)
    array([-0.01194565, -0.08331547,  0.5       ,  1.08331547,  1.01194565])
    """
    cdef bint tanh_form = _gelu_tanh(approximate)
    try:
        return _binary(OP_GELU_TANH_BWD if tanh_form else OP_GELU_BWD, grad_output, x, out, 0.0,
                       None, 0.0, None, bias, axis, grad_bias)
    except _DaskInput:
        return _dask_call("gelu_backward", grad_output, x, approximate, out=out, bias=bias,
                          axis=axis, grad_bias=grad_bias)

# ---------------------------------------------------------------------------
# PReLU
# ---------------------------------------------------------------------------

cdef cnp.ndarray _real_array(object weight, str name="weight"):
    """weight (not an ndarray) as an array of real numbers: Python and NumPy numbers,
    Fractions and other numbers.Real, or sequences of them; bools refused."""
    cdef cnp.ndarray w
    if isinstance(weight, numbers.Real) and not isinstance(weight, (bool, np.bool_)):
        try:
            return np.asarray(float(weight))
        except OverflowError:
            raise ValueError(f"{name} must be finite, got {weight!r}") from None
    w = np.asarray(weight)
    if w.dtype == object:
        flat = w.reshape(-1)
        if all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in flat):
            try:
                return np.array([float(v) for v in flat], dtype=np.float64).reshape((<object>w).shape)
            except OverflowError:
                raise ValueError(f"{name} must hold finite values") from None
    if (w.dtype.kind not in "fiu" or w.dtype == np.bool_) and w.dtype.name != "bfloat16":
        raise TypeError(f"{name} must be real numbers, got dtype {w.dtype}")
    return w


cdef int _weight_dtype(object weight, int dt, str name="weight") except -1:
    """The dtype code of PReLU's weight (and of its gradient): an ndarray's own, which
    must be x's (or float32 for a 16-bit x); x's for numbers and sequences."""
    cdef int wdt
    if not cnp.PyArray_Check(weight):
        return dt
    wdt = dtype_code(<cnp.ndarray>weight)
    if wdt != dt and not (wdt == DT_F32 and (dt == DT_F16 or dt == DT_BF16)):
        allowed = "x's dtype or float32" if dt == DT_F16 or dt == DT_BF16 else "x's dtype"
        raise TypeError(f"{name} has dtype {(<object>weight).dtype} but x is "
                        f"{np.dtype(_native(dt))}; it must be {allowed}")
    return wdt


cdef cnp.ndarray _weight(object weight, int dt, str name="weight"):
    """weight as a contiguous native 1-D array the kernels read: x's dtype, or float32
    for a 16-bit x (a 16-bit weight converted exactly; numbers rounded to x's dtype)."""
    cdef cnp.ndarray w
    cdef int wdt = _weight_dtype(weight, dt, name)
    cdef bint half = dt == DT_F16 or dt == DT_BF16
    if cnp.PyArray_Check(weight):
        w = <cnp.ndarray>weight
        if (cnp.PyArray_NDIM(w) == 1 and cnp.PyArray_SIZE(w) > 0 and is_direct(w, C_ORDER)
                and wdt == (DT_F32 if half else dt)):
            return w                     # the common case, checked in C
    else:
        w = _real_array(weight, name)
        wide = w.astype(np.float64)
        with np.errstate(over="ignore"):
            w = wide.astype(_native(dt))
        if np.any(np.isinf(w.astype(np.float64)) & np.isfinite(wide)):
            raise ValueError(f"{name} holds values that overflow {np.dtype(_native(dt))}, x's dtype")
    if w.ndim > 1:
        raise ValueError(f"{name} must be a scalar or 1-D, got shape {(<object>w).shape}")
    if w.size == 0:
        raise ValueError(f"{name} is empty; it needs one {_one(name)}, or one per channel")
    return np.ascontiguousarray(w.reshape(-1), dtype=np.float32 if half else _native(dt))


cdef str _one(str name):
    return "alpha" if name == "weight" else "value"


cdef int _prelu_geometry(cnp.ndarray xa, Py_ssize_t nw, object axis, int order,
                         Py_ssize_t* outer, Py_ssize_t* channels, Py_ssize_t* inner,
                         str name="weight") except -1:
    """(outer, channels, inner) of x's memory block, in memory order, for `nw` values of
    the argument `name` (-1: one per channel, whatever their number)."""
    cdef int nd = cnp.PyArray_NDIM(xa)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef Py_ssize_t ax, k, before = 1, after = 1, C
    _check_axis(axis)
    outer[0], channels[0], inner[0] = 1, 1, n
    if nd < 2:
        if nw != 1 and nw != -1:
            raise ValueError(f"x is {nd}-D: it has no channel axis, so {name} must hold one "
                             f"{_one(name)}, got {nw}")
        return 0
    if axis < -nd or axis >= nd:
        raise ValueError(f"axis {axis} is out of range for x with {nd} dimensions")
    ax = axis
    if ax < 0:
        ax += nd
    C = cnp.PyArray_DIM(xa, ax)
    if nw == -1:
        nw = C
    if nw != 1 and nw != C:
        raise ValueError(f"{name} has {nw} values but x has {C} channels along axis {axis}")
    if nw == 1:
        return 0
    for k in range(ax):
        before *= cnp.PyArray_DIM(xa, k)
    for k in range(ax + 1, nd):
        after *= cnp.PyArray_DIM(xa, k)
    # memory order: C order has the leading axes outermost, F order the trailing ones
    outer[0], channels[0], inner[0] = (before, C, after) if order == C_ORDER else (after, C, before)
    return 0


# PReLU as rows.  Channel runs shorter than SHORT_RUN (3x3 feature maps, say) and rows
# shorter than ROW_MIN (channels-last with few channels, (batch, 4) say) are too short
# for the kernels' vector loops.  From AS_ROWS_MIN elements (below, the repeated
# weights cost more than they save), x is
# handed over as rows of k source rows of channels * inner values each (k >= 1, enough
# for ROW_MIN values), with each weight repeated inner times and the whole k times;
# the source rows left over (outer % k) as a second call.  Needs two such rows at least
# (rows are what threads share).  The plan depends on the shape only, never on the
# thread count or the kernel level: grad_weight's summation order must not either (on
# SSE2 the rows stay branchy, so the baseline pays for the plan it shares).
cdef Py_ssize_t SHORT_RUN = 16
cdef Py_ssize_t ROW_MIN = 64
cdef Py_ssize_t AS_ROWS_MIN = 8192


cdef Py_ssize_t _rows_of(Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, Py_ssize_t n) noexcept:
    """k, the source rows per row of the plan above, or 0: leave x as it is."""
    cdef Py_ssize_t k
    if n < AS_ROWS_MIN or inner >= SHORT_RUN:
        return 0
    if inner == 1 and C >= ROW_MIN:           # rows long enough already
        return 0
    k = 1 if C * inner >= ROW_MIN else (ROW_MIN + C * inner - 1) // (C * inner)
    return k if outer // k >= 2 else 0


def prelu(x, weight, *, axis=1, out=None):
    r"""Apply the parametric ReLU: a learnt slope per channel for x <= 0.

    Parameters
    ----------
    x : array_like
        Input of dtype float32, float64, float16 or bfloat16, any shape and
        memory layout (a list or scalar goes through `numpy.asarray`).  A dask
        array gives a lazy dask array; the weight is split along `axis` like
        its chunks.
    weight : array_like
        The alphas: one (a real number, or an array of size 1; the only choice
        for a 0-D or 1-D x) or one per channel (1-D, x.shape[axis] values).  An
        ndarray weight must have x's dtype, or be float32 for a float16 or
        bfloat16 x; real numbers and sequences of them (int, float, Fraction,
        NumPy numbers; not bool) are converted to x's dtype.
    axis : int
        The channel axis of x that the alphas run along (negative counts from
        the end): 1 for PyTorch's NCHW and (batch, features) layouts, -1 for
        channels-last.  One alpha applies to every element (the axis is still
        checked when x has 2 or more dimensions).
    out : ndarray, optional
        Writeable array of the result's shape and dtype (any layout) to write the
        result into; ``out=x`` works in place.  Not allowed with dask arrays.

    Returns
    -------
    ndarray
        The result, of x's shape and dtype (native byte order); `out` if given.

    Raises
    ------
    TypeError
        If x is not float32, float64, float16 or bfloat16, `weight` is not real
        numbers (bool, complex, str, None) or is an ndarray of another dtype
        than x, `axis` is not an int, or `out` is not an ndarray, has another
        dtype, or is given with a dask array.
    ValueError
        If `weight` is 2-D or more, empty, has neither one value nor one per
        channel, holds values that overflow x's dtype, or holds more than one
        alpha for a 0-D or 1-D x; if `axis` is out of range (x with 2 or more
        dimensions); or if `out` has another shape or is read-only.

    See Also
    --------
    relu_fast.prelu_backward : Its gradients.
    relu_fast.leaky_relu : One slope for every element.
    relu_fast.nn.PReLU : The layer, with a learnable weight.

    Notes
    -----
    .. math:: y = \begin{cases} x & x > 0 \\ w_c \, x & \text{otherwise} \end{cases}

    where c is the index of the element along `axis`: weight broadcasts as
    ``weight.reshape(shape)`` with ``shape[axis] = x.shape[axis]`` and 1
    elsewhere.  With one alpha the result is exactly ``leaky_relu(x, alpha)``;
    the special values are leaky_relu's, channel by channel.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([[-1.0, 2.0], [-3.0, 4.0]], dtype=np.float32)
    >>> w = np.array([0.1, 0.5], dtype=np.float32)
    >>> rf.prelu(x, w)                       # channels along axis 1 (columns)
    array([[-0.1,  2. ],
           [-0.3,  4. ]], dtype=float32)
    >>> rf.prelu(x, w, axis=0)               # channels along axis 0 (rows)
    array([[-0.1,  2. ],
           [-1.5,  4. ]], dtype=float32)
    >>> rf.prelu(x, 0.25)                    # one alpha
    array([[-0.25,  2.  ],
           [-0.75,  4.  ]], dtype=float32)
    """
    try:
        return _prelu(x, weight, axis, out)
    except _DaskInput:
        return _dask_call("prelu", x, weight, axis=axis, out=out)


cdef object _prelu(object x, object weight, object axis, object out):
    cdef cnp.ndarray xa = as_array(x, "x")
    cdef int dt = dtype_code(xa)
    cdef cnp.ndarray w = _weight(weight, dt)
    cdef int order = order_of(xa)
    cdef Py_ssize_t outer, C, inner
    cdef cnp.ndarray dst
    _prelu_geometry(xa, cnp.PyArray_SIZE(w), axis, order, &outer, &C, &inner)
    xa = direct(xa, order, dt)
    dst = destination(out, xa, dt, order, xa, w)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef int nt = threads_for(n)
    cdef const void* px = cnp.PyArray_DATA(xa)
    cdef const void* pw = cnp.PyArray_DATA(w)
    cdef void* pd = cnp.PyArray_DATA(dst)
    cdef Py_ssize_t k = _rows_of(outer, C, inner, n) if C > 1 else 0
    cdef Py_ssize_t L = C * inner, main = outer, rest = 0, skip = 0
    if k:                                    # rows of k * L values, then the rest rows
        w = np.tile(np.repeat(w, inner), k)
        pw = cnp.PyArray_DATA(w)
        main, rest = outer // k, outer % k
        C, inner = k * L, 1
        skip = main * C * cnp.PyArray_ITEMSIZE(xa)
    cdef double alpha = (<double*>pw)[0] if dt == DT_F64 else (<float*>pw)[0]
    cdef fpstate fps = fp_enter()
    take_threads(nt)
    if C == 1:
        # one alpha: exactly leaky_relu with that slope
        with nogil:
            K.unary(OP_LEAKY, dt, px, pd, n, &alpha, nt)
    else:
        with nogil:
            K.prelu_forward(dt, px, pw, pd, main, C, inner, nt)
            if rest:
                K.prelu_forward(dt, <const char*>px + skip, pw, <char*>pd + skip, rest, L, 1, nt)
    give_threads(nt)
    fp_leave(fps)
    return deliver(out, dst)


def prelu_backward(grad_output, x, weight, *, axis=1):
    r"""Compute the gradients of prelu with respect to x and to the weight.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to the output, of x's shape and dtype.
    x : array_like
        The input of `relu_fast.prelu`, float32, float64, float16 or bfloat16.
        If either argument is a dask array, both results are lazy dask arrays.
    weight : array_like
        The alphas: one (a real number, or an array of size 1; the only choice
        for a 0-D or 1-D x) or one per channel (1-D, x.shape[axis] values).  An
        ndarray weight must have x's dtype, or be float32 for a float16 or
        bfloat16 x; real numbers and sequences of them (int, float, Fraction,
        NumPy numbers; not bool) are converted to x's dtype.
    axis : int
        The channel axis of x that the alphas run along (negative counts from
        the end): 1 for PyTorch's NCHW and (batch, features) layouts, -1 for
        channels-last.  One alpha applies to every element (the axis is still
        checked when x has 2 or more dimensions).

    Returns
    -------
    grad_input : ndarray
        The gradient with respect to x, of x's shape and dtype.
    grad_weight : ndarray
        The gradient with respect to the weight, of the weight's dtype (x's for
        a weight of numbers) and shape (0-D for a scalar weight), summed in
        float64 and rounded once.

    Raises
    ------
    TypeError
        If x or grad_output is not float32, float64, float16 or bfloat16, their
        dtypes differ, `weight` is not real numbers or is an ndarray of another
        dtype than x, or `axis` is not an int.
    ValueError
        If grad_output and x differ in shape, or for the `weight` and `axis`
        errors of `relu_fast.prelu`.
    MemoryError
        If the per-part sums of grad_weight cannot be allocated.

    See Also
    --------
    relu_fast.prelu : The forward function.

    Notes
    -----
    With g = grad_output and c the index along `axis`:

    .. math::

        \frac{\partial L}{\partial x} = \begin{cases} g & x > 0 \\
        w_c \, g & \text{otherwise} \end{cases}, \qquad
        \frac{\partial L}{\partial w_c} = \sum_{i \in c,\ x_i \le 0} x_i \, g_i

    (with one alpha, the sum runs over all elements).  The sums are taken in
    float64, also for float32, and rounded once to x's dtype; their order
    depends on the shape only, so every thread count gives the same bits.  A
    NaN x in channel c makes grad_weight[c] NaN.  With dask arrays the chunks'
    float64 sums are added and rounded once.

    Examples
    --------
    >>> import numpy as np
    >>> import relu_fast as rf
    >>> x = np.array([[-1.0, 2.0], [-3.0, -4.0]], dtype=np.float32)
    >>> w = np.array([0.1, 0.5], dtype=np.float32)
    >>> grad_input, grad_weight = rf.prelu_backward(np.ones_like(x), x, w)
    >>> grad_input
    array([[0.1, 1. ],
           [0.1, 0.5]], dtype=float32)
    >>> grad_weight
    array([-4., -4.], dtype=float32)
    """
    try:
        return _prelu_backward(grad_output, x, weight, axis, False)
    except _DaskInput:
        return _dask_call("prelu_backward", grad_output, x, weight, axis=axis)


def _prelu_backward_sums(grad_output, x, weight, axis=1):
    """prelu_backward with grad_weight left as its float64 sums, 1-D and unrounded
    (dask adds the chunks' sums and rounds once)."""
    return _prelu_backward(grad_output, x, weight, axis, True)


cdef tuple _prelu_backward(object grad_output, object x, object weight, object axis, bint wide):
    cdef cnp.ndarray ga = as_array(grad_output, "grad_output")
    cdef cnp.ndarray xa = as_array(x, "x")
    cdef int dt = dtype_code(xa)
    if dtype_code(ga) != dt:
        raise TypeError(f"grad_output has dtype {ga.dtype} but x has dtype {xa.dtype}; they must match")
    if not cnp.PyArray_SAMESHAPE(ga, xa):
        raise ValueError(f"grad_output has shape {(<object>ga).shape} but x has shape {(<object>xa).shape}; they must match")
    cdef int wdt = _weight_dtype(weight, dt)
    cdef cnp.ndarray w = _weight(weight, dt)
    cdef int order = order_of(xa)
    if order != order_of(ga):
        order = C_ORDER
    cdef Py_ssize_t outer, C, inner, c
    _prelu_geometry(xa, cnp.PyArray_SIZE(w), axis, order, &outer, &C, &inner)
    xa = direct(xa, order, dt)
    ga = direct(ga, order, dt)
    cdef cnp.ndarray gx = empty_like(xa, dt, order)
    cdef cnp.npy_intp nc = C
    # grad_weight is summed in float64; results of another dtype (the weight's) are
    # rounded from it once below, the float64 sums kept on the stack when there are few
    # channels
    cdef bint sums_out = wdt == DT_F64 or wide
    cdef cnp.ndarray gw = (cnp.PyArray_EMPTY(1, &nc, cnp.NPY_FLOAT64, 0) if sums_out
                           else np.empty(C, _native(wdt)))
    cdef cnp.ndarray gw64 = None
    cdef double few_sums[256]
    cdef double* pgw
    if sums_out:
        pgw = <double*>cnp.PyArray_DATA(gw)
    elif C <= 256:
        pgw = few_sums
    else:
        gw64 = cnp.PyArray_EMPTY(1, &nc, cnp.NPY_FLOAT64, 0)
        pgw = <double*>cnp.PyArray_DATA(gw64)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef int nt = threads_for(n)
    cdef int status
    cdef const void* pg = cnp.PyArray_DATA(ga)
    cdef const void* px = cnp.PyArray_DATA(xa)
    cdef const void* pw = cnp.PyArray_DATA(w)
    cdef void* pgx = cnp.PyArray_DATA(gx)
    cdef float* pgw32 = <float*>cnp.PyArray_DATA(gw)
    cdef uint16_t* pgw16 = <uint16_t*>cnp.PyArray_DATA(gw)
    # as rows (see _rows_of): a sum per position of the k * L-value rows, then L for the
    # rest rows; per channel its positions added in order, row copy by row copy
    cdef Py_ssize_t k = _rows_of(outer, C, inner, n)
    cdef Py_ssize_t L = C * inner, main = outer, rest = 0, skip = 0, t, i
    cdef cnp.ndarray row_sums = None
    cdef double* psums = pgw
    if k:
        w = np.tile(np.repeat(w, inner), k)
        pw = cnp.PyArray_DATA(w)
        row_sums = np.zeros((k + 1) * L, np.float64)
        psums = <double*>cnp.PyArray_DATA(row_sums)
        main, rest = outer // k, outer % k
        skip = main * k * L * cnp.PyArray_ITEMSIZE(xa)
    cdef fpstate fps = fp_enter()            # the folds and the float32 rounding too
    take_threads(nt)
    with nogil:
        if k:
            status = K.prelu_backward(dt, pg, px, pw, pgx, psums, main, k * L, 1, nt)
            if status == 0 and rest:
                status = K.prelu_backward(dt, <const char*>pg + skip, <const char*>px + skip, pw,
                                          <char*>pgx + skip, psums + k * L, rest, L, 1, nt)
            if status == 0:
                for c in range(C):
                    pgw[c] = 0.0
                    for t in range(k + 1):   # the rest rows' sums are zeros when there are none
                        for i in range(inner):
                            pgw[c] += psums[t * L + c * inner + i]
        else:
            status = K.prelu_backward(dt, pg, px, pw, pgx, pgw, outer, C, inner, nt)
        if status == 0 and not sums_out:
            for c in range(C):               # a sum past the dtype's range becomes inf
                if wdt == DT_F32:
                    pgw32[c] = <float>pgw[c]
                elif wdt == DT_F16:
                    pgw16[c] = f64_to_f16(pgw[c])
                else:
                    pgw16[c] = f64_to_bf16(pgw[c])
    give_threads(nt)
    fp_leave(fps)
    if status != 0:
        raise MemoryError("prelu_backward could not allocate its per-part sums")
    if wide or (cnp.PyArray_Check(weight) and cnp.PyArray_NDIM(<cnp.ndarray>weight) == 1):
        return gx, gw
    return gx, gw.reshape(np.shape(weight))
