# What other Cython modules of relu_fast use from the API layer: the kernel table of the
# level in use (it can switch: _use_level).  Argument checks are in _args.pxd.
cimport numpy as cnp

from relu_fast._table cimport KernelTable

cdef const KernelTable* kernel_table() noexcept nogil

# the 1-bit masks of the two-form gradients, and the checks their wrappers share
# (relu_fast._api_train)
cdef object _mask_forward(int op, int bop, object x, object out, double* params, str name0,
                          str name1, double rep_in, object bias, object axis, bint train)
cdef object _mask_backward(int bop, object grad_output, object mask, object out, double* params,
                           str name0, str name1, double rep_in, double rep_out, object axis,
                           object grad_bias, bint train, str maker)
cdef cnp.ndarray _mask_array(object mask, Py_ssize_t n, str maker)
cdef void _check_flag(object flag, str name) except *
cdef void _check_range(double lo, double hi) except *
cdef tuple _rrelu_scalars(object lower, object upper, object training, object seed)
