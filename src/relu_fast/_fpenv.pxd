# Flush-to-zero control for the kernels (C in _fpenv.h): fp_enter clears FTZ/DAZ on
# the calling thread and returns what to restore with fp_leave.
cdef extern from "_fpenv.h":
    ctypedef unsigned long long fpstate "rf_fpstate"
    fpstate fp_enter "rf_fp_enter"() noexcept nogil
    void fp_leave "rf_fp_leave"(fpstate s) noexcept nogil
    unsigned long long fp_flush_bits "rf_fp_flush_bits"() noexcept nogil
    void fp_set_flush "rf_fp_set_flush"(int on) noexcept nogil
