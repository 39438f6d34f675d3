"""Argument handling for the public functions: array-likes to ndarrays of a supported
dtype, the layouts the kernels read directly, where a result is written (out= checked
before anything is written, temporaries for overlapping or strided outs), large
outputs from relu_fast._memory's cache, scalar arguments, and the hand-over of dask
inputs to relu_fast._dask.  Small helpers are inline in _args.pxd.
"""
import numbers

import numpy as np

cimport numpy as cnp
from libc.math cimport isfinite, isinf

from relu_fast._table cimport DT_F32, DT_F64, DT_F16, DT_BF16

from relu_fast import _memory

cnp.import_array()


cdef object _bfloat16 = None            # ml_dtypes.bfloat16, once an array of it is seen
cdef int _bf16_typenum = -1             # its NumPy type number then


cdef int bf16_typenum() noexcept:
    return _bf16_typenum


cdef bint is_bfloat16(cnp.ndarray a):
    """Is a's dtype ml_dtypes.bfloat16?  (ml_dtypes is optional: relu_fast never imports
    it, but an array of its bfloat16 means it is loaded.)"""
    global _bfloat16, _bf16_typenum
    t = (<object>a).dtype.type
    if t.__name__ != "bfloat16" or t.__module__ != "ml_dtypes":
        return False
    _bfloat16 = t
    _bf16_typenum = cnp.PyArray_TYPE(a)
    return True


cdef object _native(int dt):
    if dt == DT_F32:
        return np.float32
    if dt == DT_F64:
        return np.float64
    return np.float16 if dt == DT_F16 else _bfloat16


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
        raise TypeError(f"{name} has dtype {a.dtype}; relu_fast supports float32, float64, "
                        f"float16 and bfloat16 (convert with .astype(numpy.float32))")
    return a


class _DaskInput(Exception):
    """Raised inside the API to hand a dask array over to relu_fast._dask."""


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
    cdef int typenum = cnp.PyArray_TYPE(a) if dtype_code(a) == dt else (
        cnp.NPY_FLOAT32 if dt == DT_F32 else cnp.NPY_FLOAT64)
    if cnp.PyArray_SIZE(a) * itemsize_of(dt) < _pool_min:
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
    """A finite parameter must stay finite in the dtype x is computed in (1e300 is no
    float32 slope: as inf it would turn 0 * slope into NaN); float32 for the 16-bit types."""
    if dt != DT_F64 and isinf(<float>v):
        raise ValueError(f"{name} = {v!r} overflows float32, "
                         + ("x's dtype" if dt == DT_F32 else "the dtype x is computed in"))
    return 0


def _dask_call(name, *args, **kwargs):
    """The one way dask arrays reach relu_fast._dask: as_array raised _DaskInput, and the
    public function hands its arguments over (imported on first use: dask is optional)."""
    from relu_fast import _dask
    return getattr(_dask, name)(*args, **kwargs)
