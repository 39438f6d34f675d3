# The only place relu_fast touches the OpenMP runtime (after scikit-learn's
# _openmp_helpers.pxd).  Without OpenMP the stubs below make every kernel serial.
cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define RELU_FAST_OPENMP 1
    #else
    #define RELU_FAST_OPENMP 0
    static int omp_get_max_threads(void) { return 1; }
    static int omp_get_thread_num(void) { return 0; }
    static int omp_get_num_threads(void) { return 1; }
    static int omp_in_parallel(void) { return 0; }
    static void omp_set_num_threads(int n) { (void)n; }
    static int omp_get_thread_limit(void) { return 1; }
    #endif
    """
    bint RELU_FAST_OPENMP
    int omp_get_max_threads() noexcept nogil
    int omp_get_thread_num() noexcept nogil
    int omp_get_num_threads() noexcept nogil
    int omp_in_parallel() noexcept nogil
    void omp_set_num_threads(int n) noexcept nogil
    int omp_get_thread_limit() noexcept nogil
