"""The public functions: argument checks and layout handling around the kernels, with
the thread count from relu_fast._threads.  This layer knows nothing of instruction
sets: it calls whatever kernel table _dispatch chose.
"""
import numbers
import os

import numpy as np

cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.math cimport isfinite, isinf

from cython.parallel cimport parallel

from relu_fast._fpenv cimport fpstate, fp_enter, fp_leave, fp_flush_bits, fp_set_flush
from relu_fast._openmp cimport RELU_FAST_OPENMP
from relu_fast._table cimport *
from relu_fast._threads cimport (elu_cost, give_threads, grain, take_threads, threads_for,
                                use_team_report)

from relu_fast import _dispatch, _memory

cnp.import_array()

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
    """Name of the instruction-set level in use ('baseline', 'avx2', 'avx512')."""
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
# Argument handling
# ---------------------------------------------------------------------------

cdef int dtype_code(cnp.ndarray a) noexcept:
    cdef int t = cnp.PyArray_TYPE(a)
    if t == cnp.NPY_FLOAT32:
        return DT_F32
    if t == cnp.NPY_FLOAT64:
        return DT_F64
    return -1


cdef inline object _native(int dt):
    return np.float32 if dt == DT_F32 else np.float64


cdef cnp.ndarray as_array(object x, str name):
    """x as an ndarray of float32/float64, else TypeError naming the dtype."""
    cdef cnp.ndarray a
    if cnp.PyArray_Check(x):
        a = <cnp.ndarray>x
    else:
        if hasattr(x, "__dask_graph__"):
            raise _DaskInput()
        a = np.asarray(x)
    if dtype_code(a) < 0:
        raise TypeError(f"{name} has dtype {a.dtype}; relu_fast supports float32 and float64 "
                        f"(convert with .astype(numpy.float32) or numpy.float64)")
    return a


class _DaskInput(Exception):
    """Raised inside the API to hand a dask array over to relu_fast._dask."""


cdef inline bint is_direct(cnp.ndarray a, int order) noexcept:
    """Can a kernel read/write `a` as one flat block in memory order `order`?"""
    if not (cnp.PyArray_ISNOTSWAPPED(a) and cnp.PyArray_ISALIGNED(a)):
        return False
    if order == C_ORDER:
        return cnp.PyArray_IS_C_CONTIGUOUS(a)
    return cnp.PyArray_IS_F_CONTIGUOUS(a)


cdef int order_of(cnp.ndarray a) noexcept:
    if cnp.PyArray_IS_C_CONTIGUOUS(a) or not cnp.PyArray_IS_F_CONTIGUOUS(a):
        return C_ORDER
    return F_ORDER


cdef cnp.ndarray direct(cnp.ndarray a, int order, int dt):
    """`a` itself if a kernel can use it in `order`, else a fresh native copy in that order."""
    if is_direct(a, order):
        return a
    return np.array(a, dtype=_native(dt), order="F" if order == F_ORDER else "C", copy=True)


cdef extern from "numpy/arrayobject.h":
    object PyDataMem_SetHandler(object handler)

cdef object _pool_handler = _memory.HANDLER
cdef Py_ssize_t _pool_min = _memory.MIN_BYTES


cdef cnp.ndarray empty_like(cnp.ndarray a, int dt, int order):
    """A new array shaped like `a`; from _memory's cache of freed blocks when large."""
    cdef int nd = cnp.PyArray_NDIM(a)
    cdef int typenum = cnp.NPY_FLOAT32 if dt == DT_F32 else cnp.NPY_FLOAT64
    if cnp.PyArray_SIZE(a) * (4 if dt == DT_F32 else 8) < _pool_min:
        return cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(a), typenum, order == F_ORDER)
    previous = PyDataMem_SetHandler(_pool_handler)
    try:
        return cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(a), typenum, order == F_ORDER)
    finally:
        PyDataMem_SetHandler(previous)


cdef inline bint same_block(cnp.ndarray a, cnp.ndarray b) noexcept:
    return cnp.PyArray_DATA(a) == cnp.PyArray_DATA(b) and cnp.PyArray_NBYTES(a) == cnp.PyArray_NBYTES(b)


cdef inline bint partly_overlaps(cnp.ndarray out, cnp.ndarray a) noexcept:
    """Do two flat blocks share memory without being the same block?"""
    cdef char* o0 = <char*>cnp.PyArray_DATA(out)
    cdef char* o1 = o0 + cnp.PyArray_NBYTES(out)
    cdef char* a0 = <char*>cnp.PyArray_DATA(a)
    cdef char* a1 = a0 + cnp.PyArray_NBYTES(a)
    if o0 >= a1 or a0 >= o1:
        return False
    return not same_block(out, a)


cdef cnp.ndarray check_out(object out, cnp.ndarray like, int dt, str what):
    """Validate `out` against the result's shape and dtype; raise before anything is written."""
    cdef cnp.ndarray o
    if not cnp.PyArray_Check(out):
        raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    o = <cnp.ndarray>out
    if dtype_code(o) != dt:
        raise TypeError(f"out has dtype {o.dtype} but {what} is {np.dtype(_native(dt))}")
    if not cnp.PyArray_SAMESHAPE(o, like):
        raise ValueError(f"out has shape {(<object>o).shape} but {what} has shape {(<object>like).shape}")
    if not cnp.PyArray_ISWRITEABLE(o):
        raise ValueError("out is read-only")
    return o


cdef cnp.ndarray destination(object out, cnp.ndarray like, int dt, int order, cnp.ndarray a,
                             cnp.ndarray b):
    """Where a kernel writes a result shaped like `like`: a new array when out is None;
    else, after checking out, out itself when it is a flat block in `order` that is
    disjoint from the inputs a, b (b may be None) or exactly one of them; else a
    temporary that deliver() copies into out."""
    cdef cnp.ndarray o
    if out is None:
        return empty_like(like, dt, order)
    o = check_out(out, like, dt, "the result")
    if (is_direct(o, order) and not partly_overlaps(o, a)
            and (b is None or not partly_overlaps(o, b))):
        return o
    return empty_like(o, dt, order)


cdef cnp.ndarray deliver(object out, cnp.ndarray dst):
    """The call's result: dst, copied into out first if it was a temporary."""
    if out is None:
        return dst
    if dst is not out:
        np.copyto(out, dst)
    return <cnp.ndarray>out


cdef double real(object v, str name) except? -1.0:
    """A finite real parameter (slope, alpha) as a C double."""
    cdef double d
    if type(v) is float:
        d = <double>v
    elif isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(v).__name__}")
    else:
        try:
            d = float(v)
        except OverflowError:
            raise ValueError(f"{name} must be finite, got {v!r}") from None
    if not isfinite(d):
        raise ValueError(f"{name} must be finite, got {d}")
    return d


cdef int fits(double v, int dt, str name) except -1:
    """A finite parameter must stay finite in x's dtype (1e300 is no float32 slope: as
    inf it would turn 0 * slope into NaN)."""
    if dt == DT_F32 and isinf(<float>v):
        raise ValueError(f"{name} = {v!r} overflows float32, x's dtype")
    return 0


# ---------------------------------------------------------------------------
# Elementwise drivers
# ---------------------------------------------------------------------------

cdef object _unary(int op, object x, object out, double param, str pname=None):
    cdef cnp.ndarray xa = as_array(x, "x")
    cdef int dt = dtype_code(xa)
    if pname is not None:
        fits(param, dt, pname)
    cdef int order = order_of(xa)
    cdef cnp.ndarray dst
    xa = direct(xa, order, dt)
    dst = destination(out, xa, dt, order, xa, None)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef Py_ssize_t work = n * elu_cost(dt) if op == OP_ELU else n
    cdef int nt = threads_for(work)
    cdef const void* px = cnp.PyArray_DATA(xa)
    cdef void* py = cnp.PyArray_DATA(dst)
    cdef fpstate fps = fp_enter()            # this thread's FTZ/DAZ cleared for the call
    if work >= grain():
        take_threads(nt)
        with nogil:
            K.unary(op, dt, px, py, n, param, nt)
        give_threads(nt)
    else:
        K.unary(op, dt, px, py, n, param, nt)
    fp_leave(fps)
    return deliver(out, dst)


cdef object _binary(int op, object grad_output, object x, object out, double param,
                    str pname=None):
    cdef cnp.ndarray ga = as_array(grad_output, "grad_output")
    cdef cnp.ndarray xa = as_array(x, "x")
    cdef int dt = dtype_code(xa)
    if pname is not None:
        fits(param, dt, pname)
    cdef int order
    cdef cnp.ndarray dst
    if dtype_code(ga) != dt:
        raise TypeError(f"grad_output has dtype {ga.dtype} but x has dtype {xa.dtype}; they must match")
    if not cnp.PyArray_SAMESHAPE(ga, xa):
        raise ValueError(f"grad_output has shape {(<object>ga).shape} but x has shape {(<object>xa).shape}; they must match")
    order = order_of(xa)
    if order != order_of(ga):
        order = C_ORDER
    xa = direct(xa, order, dt)
    ga = direct(ga, order, dt)
    dst = destination(out, xa, dt, order, xa, ga)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef Py_ssize_t work = n * elu_cost(dt) if op == OP_ELU_BWD else n
    cdef int nt = threads_for(work)
    cdef const void* pg = cnp.PyArray_DATA(ga)
    cdef const void* px = cnp.PyArray_DATA(xa)
    cdef void* pd = cnp.PyArray_DATA(dst)
    cdef fpstate fps = fp_enter()
    if work >= grain():
        take_threads(nt)
        with nogil:
            K.binary(op, dt, pg, px, pd, n, param, nt)
        give_threads(nt)
    else:
        K.binary(op, dt, pg, px, pd, n, param, nt)
    fp_leave(fps)
    return deliver(out, dst)


def _dask_call(name, *args, **kwargs):
    from relu_fast import _dask
    return getattr(_dask, name)(*args, **kwargs)


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------

def relu(x, *, out=None):
    """relu(x) = x if x > 0 else 0.  NaN stays NaN, -inf -> 0.

    x: array-like of float32/float64.  out: optional ndarray of the same shape and
    dtype to write into (out=x works in place).  Returns an ndarray.
    """
    try:
        return _unary(OP_RELU, x, out, 0.0)
    except _DaskInput:
        return _dask_call("relu", x, out=out)


def relu_backward(grad_output, x, *, out=None):
    """d relu: grad_input = 0 where x <= 0, else grad_output (a NaN x passes it).

    x may be relu's input or its output: both give the same answer.
    """
    try:
        return _binary(OP_RELU_BWD, grad_output, x, out, 0.0)
    except _DaskInput:
        return _dask_call("relu_backward", grad_output, x, out=out)


def leaky_relu(x, negative_slope=0.01, *, out=None):
    """leaky_relu(x) = x if x > 0 else negative_slope * x (slope rounded to x's dtype)."""
    cdef double s = real(negative_slope, "negative_slope")
    try:
        return _unary(OP_LEAKY, x, out, s, "negative_slope")
    except _DaskInput:
        return _dask_call("leaky_relu", x, negative_slope, out=out)


def leaky_relu_backward(grad_output, x, negative_slope=0.01, *, out=None):
    """d leaky_relu: grad_input = grad_output if x > 0 else negative_slope * grad_output."""
    cdef double s = real(negative_slope, "negative_slope")
    try:
        return _binary(OP_LEAKY_BWD, grad_output, x, out, s, "negative_slope")
    except _DaskInput:
        return _dask_call("leaky_relu_backward", grad_output, x, negative_slope, out=out)


def elu(x, alpha=1.0, *, out=None):
    """elu(x) = x if x > 0 else alpha * expm1(x), evaluated in float64."""
    cdef double a = real(alpha, "alpha")
    try:
        return _unary(OP_ELU, x, out, a, "alpha")
    except _DaskInput:
        return _dask_call("elu", x, alpha, out=out)


def elu_backward(grad_output, x, alpha=1.0, *, is_result=False, out=None):
    """d elu: grad_input = grad_output if x > 0 else grad_output * alpha * exp(x).

    With is_result=True, x is elu's output y and grad_input = grad_output * (y + alpha)
    where y <= 0 (needs alpha >= 0, since otherwise y does not tell the sign of x).
    """
    cdef double a = real(alpha, "alpha")
    if not isinstance(is_result, (bool, np.bool_)):
        raise TypeError(f"is_result must be a bool, got {type(is_result).__name__}")
    if is_result and not a >= 0:
        raise ValueError(f"elu_backward with is_result=True needs alpha >= 0, got {a}")
    try:
        return _binary(OP_ELU_BWD_RESULT if is_result else OP_ELU_BWD, grad_output, x, out, a, "alpha")
    except _DaskInput:
        return _dask_call("elu_backward", grad_output, x, alpha, is_result=is_result, out=out)


# ---------------------------------------------------------------------------
# PReLU
# ---------------------------------------------------------------------------

cdef cnp.ndarray _real_array(object weight):
    """weight (not an ndarray) as an array of real numbers: Python and NumPy numbers,
    Fractions and other numbers.Real, or sequences of them; bools refused."""
    cdef cnp.ndarray w
    if isinstance(weight, numbers.Real) and not isinstance(weight, (bool, np.bool_)):
        try:
            return np.asarray(float(weight))
        except OverflowError:
            raise ValueError(f"weight must be finite, got {weight!r}") from None
    w = np.asarray(weight)
    if w.dtype == object:
        flat = w.reshape(-1)
        if all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in flat):
            try:
                return np.array([float(v) for v in flat], dtype=np.float64).reshape((<object>w).shape)
            except OverflowError:
                raise ValueError("weight must hold finite values") from None
    if w.dtype.kind not in "fiu" or w.dtype == np.bool_:
        raise TypeError(f"weight must be real numbers, got dtype {w.dtype}")
    return w


cdef cnp.ndarray _weight(object weight, int dt):
    """weight as a contiguous native 1-D array of x's dtype."""
    cdef cnp.ndarray w
    if cnp.PyArray_Check(weight):
        w = <cnp.ndarray>weight
        if dtype_code(w) != dt:
            raise TypeError(f"weight has dtype {w.dtype} but x is {np.dtype(_native(dt))}; they must match")
        if cnp.PyArray_NDIM(w) == 1 and cnp.PyArray_SIZE(w) > 0 and is_direct(w, C_ORDER):
            return w                     # the common case, checked in C
    else:
        w = _real_array(weight)
        wide = w.astype(np.float64)
        with np.errstate(over="ignore"):
            w = wide.astype(_native(dt))
        if np.any(np.isinf(w) & np.isfinite(wide)):
            raise ValueError(f"weight holds values that overflow {np.dtype(_native(dt))}, x's dtype")
    if w.ndim > 1:
        raise ValueError(f"weight must be a scalar or 1-D, got shape {(<object>w).shape}")
    if w.size == 0:
        raise ValueError("weight is empty; it needs one alpha, or one per channel")
    return np.ascontiguousarray(w.reshape(-1), dtype=_native(dt))


cdef int _prelu_geometry(cnp.ndarray xa, cnp.ndarray w, object axis, int order,
                         Py_ssize_t* outer, Py_ssize_t* channels, Py_ssize_t* inner) except -1:
    """(outer, channels, inner) of x's memory block, in memory order."""
    cdef int nd = cnp.PyArray_NDIM(xa)
    cdef Py_ssize_t nw = cnp.PyArray_SIZE(w), n = cnp.PyArray_SIZE(xa)
    cdef Py_ssize_t ax, k, before = 1, after = 1, C
    if type(axis) is not int and (isinstance(axis, bool) or not isinstance(axis, numbers.Integral)):
        raise TypeError(f"axis must be an int, got {type(axis).__name__}")
    outer[0], channels[0], inner[0] = 1, 1, n
    if nd < 2:
        if nw != 1:
            raise ValueError(f"x is {nd}-D: it has no channel axis, so weight must hold one alpha, "
                             f"got {nw}")
        return 0
    if axis < -nd or axis >= nd:
        raise ValueError(f"axis {axis} is out of range for x with {nd} dimensions")
    ax = axis
    if ax < 0:
        ax += nd
    C = cnp.PyArray_DIM(xa, ax)
    if nw != 1 and nw != C:
        raise ValueError(f"weight has {nw} values but x has {C} channels along axis {axis}")
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
    """prelu(x) = x if x > 0 else alpha[c] * x, c the index along `axis`.

    weight: one alpha (scalar or size 1), or one per channel (1-D, x.shape[axis]
    values); axis=1 is PyTorch's NCHW layout, axis=-1 channels-last.
    """
    if not cnp.PyArray_Check(x) and hasattr(x, "__dask_graph__"):
        return _dask_call("prelu", x, weight, axis=axis, out=out)
    cdef cnp.ndarray xa = as_array(x, "x")
    cdef int dt = dtype_code(xa)
    cdef cnp.ndarray w = _weight(weight, dt)
    cdef int order = order_of(xa)
    cdef Py_ssize_t outer, C, inner
    cdef cnp.ndarray dst
    _prelu_geometry(xa, w, axis, order, &outer, &C, &inner)
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
    cdef fpstate fps = fp_enter()
    take_threads(nt)
    if C == 1:
        # one alpha: exactly leaky_relu with that slope
        with nogil:
            K.unary(OP_LEAKY, dt, px, pd, n, (<float*>pw)[0] if dt == DT_F32 else (<double*>pw)[0], nt)
    else:
        with nogil:
            K.prelu_forward(dt, px, pw, pd, main, C, inner, nt)
            if rest:
                K.prelu_forward(dt, <const char*>px + skip, pw, <char*>pd + skip, rest, L, 1, nt)
    give_threads(nt)
    fp_leave(fps)
    return deliver(out, dst)


def prelu_backward(grad_output, x, weight, *, axis=1):
    """Gradients of prelu: (grad_input, grad_weight).

    grad_input = grad_output if x > 0 else alpha[c] * grad_output;
    grad_weight[c] = sum over channel c of (x > 0 ? 0 : x * grad_output), summed in
    float64 inside the kernel, shaped like weight.
    """
    if (not cnp.PyArray_Check(x) and hasattr(x, "__dask_graph__")) or (
            not cnp.PyArray_Check(grad_output) and hasattr(grad_output, "__dask_graph__")):
        return _dask_call("prelu_backward", grad_output, x, weight, axis=axis)
    return _prelu_backward(grad_output, x, weight, axis, False)


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
    cdef cnp.ndarray w = _weight(weight, dt)
    cdef int order = order_of(xa)
    if order != order_of(ga):
        order = C_ORDER
    cdef Py_ssize_t outer, C, inner, c
    _prelu_geometry(xa, w, axis, order, &outer, &C, &inner)
    xa = direct(xa, order, dt)
    ga = direct(ga, order, dt)
    cdef cnp.ndarray gx = empty_like(xa, dt, order)
    cdef cnp.npy_intp nc = C
    # grad_weight is summed in float64; float32 results are rounded from it below,
    # the float64 sums kept on the stack when there are few channels
    cdef cnp.ndarray gw = cnp.PyArray_EMPTY(
        1, &nc, cnp.NPY_FLOAT64 if dt == DT_F64 or wide else cnp.NPY_FLOAT32, 0)
    cdef cnp.ndarray gw64 = None
    cdef double few_sums[256]
    cdef double* pgw
    if dt == DT_F64 or wide:
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
        if dt == DT_F32 and not wide:
            for c in range(C):
                pgw32[c] = <float>pgw[c]     # a sum past float32's range becomes inf
    give_threads(nt)
    fp_leave(fps)
    if status != 0:
        raise MemoryError("prelu_backward could not allocate its per-part sums")
    if wide or (cnp.PyArray_Check(weight) and cnp.PyArray_NDIM(<cnp.ndarray>weight) == 1):
        return gx, gw
    return gx, gw.reshape(np.shape(weight))
