/* CPU feature detection: which kernel levels this CPU and its OS can run. */
#ifndef RELU_FAST_CPU_H
#define RELU_FAST_CPU_H

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define RF_X86 1
#if defined(_MSC_VER)
#include <intrin.h>
static void rf_cpuid(int leaf, int sub, unsigned r[4]) {
    int v[4]; __cpuidex(v, leaf, sub);
    r[0] = v[0]; r[1] = v[1]; r[2] = v[2]; r[3] = v[3];
}
static unsigned long long rf_xgetbv(void) { return _xgetbv(0); }
#else
#include <cpuid.h>
static void rf_cpuid(int leaf, int sub, unsigned r[4]) {
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}
static unsigned long long rf_xgetbv(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif
/* bit 0: x86-64-v3 (AVX2 FMA BMI1 BMI2 F16C LZCNT MOVBE, OS saves YMM)
   bit 1: x86-64-v4 (v3 + AVX512 F BW CD DQ VL, OS saves opmask/ZMM) */
static int rf_levels(void) {
    unsigned r[4], max_leaf, ecx1, ebx7, ext = 0;
    unsigned long long xcr0 = 0;
    int out = 0;
    rf_cpuid(0, 0, r); max_leaf = r[0];
    if (max_leaf < 7) return 0;
    rf_cpuid(1, 0, r); ecx1 = r[2];
    rf_cpuid(7, 0, r); ebx7 = r[1];
    rf_cpuid(0x80000000u, 0, r);
    if (r[0] >= 0x80000001u) { rf_cpuid(0x80000001u, 0, r); ext = r[2]; }
    if (!(ecx1 & (1u << 27))) return 0;               /* OSXSAVE */
    xcr0 = rf_xgetbv();
    int os_ymm = (xcr0 & 0x6) == 0x6;
    int os_zmm = (xcr0 & 0xE6) == 0xE6;
    int v3 = os_ymm
        && (ecx1 & (1u << 28))   /* AVX */
        && (ecx1 & (1u << 12))   /* FMA */
        && (ecx1 & (1u << 29))   /* F16C */
        && (ecx1 & (1u << 22))   /* MOVBE */
        && (ebx7 & (1u << 5))    /* AVX2 */
        && (ebx7 & (1u << 3))    /* BMI1 */
        && (ebx7 & (1u << 8))    /* BMI2 */
        && (ext & (1u << 5));    /* LZCNT (ABM) */
    int v4 = v3 && os_zmm
        && (ebx7 & (1u << 16))   /* AVX512F */
        && (ebx7 & (1u << 17))   /* AVX512DQ */
        && (ebx7 & (1u << 28))   /* AVX512CD */
        && (ebx7 & (1u << 30))   /* AVX512BW */
        && (ebx7 & (1u << 31));  /* AVX512VL */
    if (v3) out |= 1;
    if (v4) out |= 2;
    return out;
}
#else
#define RF_X86 0
static int rf_levels(void) { return 0; }
#endif

#endif /* RELU_FAST_CPU_H */
