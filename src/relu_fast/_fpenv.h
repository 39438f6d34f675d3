/* The floating-point control state the kernels need, whatever the caller set.
 *
 * Another library on the same thread may have turned on flush-to-zero and
 * denormals-are-zero (torch.set_flush_denormal(True) sets MXCSR's FTZ and DAZ):
 * kernels would then inherit them on the calling thread only, giving results that
 * flush denormals and differ between thread counts.  The API layer (on the calling
 * thread, around each kernel call) and every piece of a parallel region (on the
 * thread running it) clear them for their work and put back what they found
 * (rf_fp_enter / rf_fp_leave); when they are not set, that is one read of the
 * control register and a branch.
 */
#ifndef RELU_FAST_FPENV_H
#define RELU_FAST_FPENV_H

#if defined(__SSE2__) || defined(__x86_64__) || defined(_M_X64) || defined(_M_AMD64)
#include <xmmintrin.h>
typedef unsigned int rf_fpstate;
#define RF_FP_FLUSH_BITS 0x8040u            /* MXCSR: FTZ (bit 15) | DAZ (bit 6) */
static inline rf_fpstate rf_fp_read(void) { return _mm_getcsr(); }
static inline void rf_fp_write(rf_fpstate s) { _mm_setcsr(s); }
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
typedef unsigned long long rf_fpstate;
#define RF_FP_FLUSH_BITS ((1ull << 24) | (1ull << 19))   /* FPCR: FZ | FZ16 */
static inline rf_fpstate rf_fp_read(void) {
    unsigned long long v;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(v) : : "memory");
    return v;
}
static inline void rf_fp_write(rf_fpstate v) {
    __asm__ __volatile__("msr fpcr, %0" : : "r"(v) : "memory");
}
#else
typedef unsigned int rf_fpstate;          /* no known flush control: nothing to do */
#define RF_FP_FLUSH_BITS 0u
static inline rf_fpstate rf_fp_read(void) { return 0; }
static inline void rf_fp_write(rf_fpstate s) { (void)s; }
#endif

/* Clear flush-to-zero / denormals-are-zero on this thread; returns the state to restore. */
static inline rf_fpstate rf_fp_enter(void) {
    rf_fpstate s = rf_fp_read();
    if (s & RF_FP_FLUSH_BITS)
        rf_fp_write(s & ~(rf_fpstate)RF_FP_FLUSH_BITS);
    return s;
}

/* Put back what rf_fp_enter found. */
static inline void rf_fp_leave(rf_fpstate s) {
    if (s & RF_FP_FLUSH_BITS)
        rf_fp_write(s);
}

/* The flush bits that are set on this thread now (tests). */
static inline unsigned long long rf_fp_flush_bits(void) {
    return (unsigned long long)(rf_fp_read() & RF_FP_FLUSH_BITS);
}

/* Set (on != 0) or clear every flush bit on this thread, as another library would (tests). */
static inline void rf_fp_set_flush(int on) {
    rf_fpstate s = rf_fp_read();
    rf_fp_write(on ? (s | RF_FP_FLUSH_BITS) : (s & ~(rf_fpstate)RF_FP_FLUSH_BITS));
}

#endif
