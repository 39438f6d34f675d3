# Argument handling (relu_fast._args), for the API modules; the small helpers are inline
# here so that every call site compiles them in.
cimport numpy as cnp

from relu_fast._table cimport DT_F32, DT_F64, DT_F16, DT_BF16

cdef extern from "numpy/arrayobject.h":
    enum:
        NPY_HALF
        NPY_USERDEF

cdef enum:
    C_ORDER = 0
    F_ORDER = 1


cdef inline int dtype_code(cnp.ndarray a) noexcept:
    cdef int t = cnp.PyArray_TYPE(a)
    if t == cnp.NPY_FLOAT32:
        return DT_F32
    if t == cnp.NPY_FLOAT64:
        return DT_F64
    if t == NPY_HALF:
        return DT_F16
    if t >= NPY_USERDEF and (t == bf16_typenum() or is_bfloat16(a)):
        return DT_BF16
    return -1


cdef inline int itemsize_of(int dt) noexcept:
    return 4 if dt == DT_F32 else (8 if dt == DT_F64 else 2)


cdef inline bint is_direct(cnp.ndarray a, int order) noexcept:
    """Can a kernel read/write `a` as one flat block in memory order `order`?"""
    if not (cnp.PyArray_ISNOTSWAPPED(a) and cnp.PyArray_ISALIGNED(a)):
        return False
    if order == C_ORDER:
        return cnp.PyArray_IS_C_CONTIGUOUS(a)
    return cnp.PyArray_IS_F_CONTIGUOUS(a)


cdef inline int order_of(cnp.ndarray a) noexcept:
    if cnp.PyArray_IS_C_CONTIGUOUS(a) or not cnp.PyArray_IS_F_CONTIGUOUS(a):
        return C_ORDER
    return F_ORDER


cdef bint is_bfloat16(cnp.ndarray a)    # ml_dtypes.bfloat16 (remembers its type number)
cdef int bf16_typenum() noexcept        # that number once seen, else -1
cdef object _native(int dt)     # the NumPy scalar type of a dtype code
cdef cnp.ndarray as_array(object x, str name)
cdef cnp.ndarray direct(cnp.ndarray a, int order, int dt)
cdef cnp.ndarray empty_like(cnp.ndarray a, int dt, int order)
cdef cnp.ndarray destination(object out, cnp.ndarray like, int dt, int order, cnp.ndarray a,
                             cnp.ndarray b)
cdef cnp.ndarray deliver(object out, cnp.ndarray dst)
cdef double real(object v, str name) except? -1.0
cdef int fits(double v, int dt, str name) except -1
