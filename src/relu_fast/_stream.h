/* Streaming (non-temporal) stores for the kernels; x86 only, plain stores elsewhere. */
#ifndef RELU_FAST_STREAM_H
#define RELU_FAST_STREAM_H

/* Copy with non-temporal (streaming) stores: the destination lines are written
   without first being read, and do not evict the working set.  x86 only; a
   plain memcpy elsewhere. */
#if defined(__SSE2__) || defined(_M_X64)
#include <immintrin.h>
#endif
#include <stdint.h>
#include <string.h>
static inline void relu_fast_stream_copy(void* dst, const void* src, size_t nbytes) {
    char* d = (char*)dst;
    const char* s = (const char*)src;
#if defined(__AVX512F__)
    const size_t W = 64;
#elif defined(__AVX__)
    const size_t W = 32;
#elif defined(__SSE2__) || defined(_M_X64)
    const size_t W = 16;
#else
    const size_t W = 0;
#endif
    if (W) {
        size_t head = (W - ((uintptr_t)d & (W - 1))) & (W - 1);
        if (head > nbytes) head = nbytes;
        memcpy(d, s, head);
        d += head; s += head; nbytes -= head;
        for (; nbytes >= W; nbytes -= W, d += W, s += W) {
#if defined(__AVX512F__)
            _mm512_stream_si512((__m512i*)d, _mm512_loadu_si512((const void*)s));
#elif defined(__AVX__)
            _mm256_stream_si256((__m256i*)d, _mm256_loadu_si256((const __m256i*)s));
#elif defined(__SSE2__) || defined(_M_X64)
            _mm_stream_si128((__m128i*)d, _mm_loadu_si128((const __m128i*)s));
#endif
        }
    }
    memcpy(d, s, nbytes);
}
static inline void relu_fast_store_fence(void) {
#if defined(__SSE2__) || defined(_M_X64)
    _mm_sfence();
#endif
}

/* relu, leaky_relu, relu_backward and leaky_relu_backward with streaming stores
   straight from the registers.  (Through an L1 buffer their loads could stall
   behind the buffer's stores whenever an input and the buffer sat at nearly the
   same offset in a 4 KiB page -- 4K aliasing -- depending on where the stack and the
   arrays happened to lie.)  Each vector expression is the
   scalar one of the span: max(0, x) in this operand order keeps NaN and -0 as
   relu_span does; GT is x > 0 (false for NaN), NLE is !(x <= 0) (true for NaN).
   Each returns 0 (nothing done) where there is no such instruction or y is not
   element-aligned; the caller then streams through its buffer. */
#define RELU_FAST_STREAM_OPS(SUF, T, W, VT, LOAD, STREAM, SET1, MUL, MAX, ZERO, SEL_GT, SEL_NLE) \
static inline int relu_fast_relu_stream_##SUF(const T* x, T* y, size_t n) {              \
    size_t i = 0;                                                                        \
    if ((uintptr_t)y % sizeof(T)) return 0;                                              \
    for (; i < n && ((uintptr_t)(y + i) % (W * sizeof(T))); i++)                         \
        y[i] = x[i] < 0 ? 0 : x[i];                                                      \
    for (; i + W <= n; i += W)                                                           \
        STREAM(y + i, MAX(ZERO(), LOAD(x + i)));                                         \
    for (; i < n; i++) y[i] = x[i] < 0 ? 0 : x[i];                                       \
    return 1;                                                                            \
}                                                                                        \
static inline int relu_fast_leaky_stream_##SUF(const T* x, T* y, size_t n, T s) {        \
    size_t i = 0;                                                                        \
    VT sv = SET1(s);                                                                     \
    if ((uintptr_t)y % sizeof(T)) return 0;                                              \
    for (; i < n && ((uintptr_t)(y + i) % (W * sizeof(T))); i++)                         \
        y[i] = x[i] > 0 ? x[i] : s * x[i];                                               \
    for (; i + W <= n; i += W) {                                                         \
        VT xv = LOAD(x + i);                                                             \
        STREAM(y + i, SEL_GT(xv, xv, MUL(sv, xv)));                                      \
    }                                                                                    \
    for (; i < n; i++) y[i] = x[i] > 0 ? x[i] : s * x[i];                                \
    return 1;                                                                            \
}                                                                                        \
static inline int relu_fast_relu_bwd_stream_##SUF(const T* g, const T* x, T* y, size_t n) { \
    size_t i = 0;                                                                        \
    if ((uintptr_t)y % sizeof(T)) return 0;                                              \
    for (; i < n && ((uintptr_t)(y + i) % (W * sizeof(T))); i++)                         \
        y[i] = x[i] <= 0 ? 0 : g[i];                                                     \
    for (; i + W <= n; i += W) {                                                         \
        VT xv = LOAD(x + i), gv = LOAD(g + i);                                           \
        STREAM(y + i, SEL_NLE(xv, gv, ZERO()));                                          \
    }                                                                                    \
    for (; i < n; i++) y[i] = x[i] <= 0 ? 0 : g[i];                                      \
    return 1;                                                                            \
}                                                                                        \
static inline int relu_fast_leaky_bwd_stream_##SUF(const T* g, const T* x, T* y, size_t n, T s) { \
    size_t i = 0;                                                                        \
    VT sv = SET1(s);                                                                     \
    if ((uintptr_t)y % sizeof(T)) return 0;                                              \
    for (; i < n && ((uintptr_t)(y + i) % (W * sizeof(T))); i++)                         \
        y[i] = x[i] > 0 ? g[i] : s * g[i];                                               \
    for (; i + W <= n; i += W) {                                                         \
        VT xv = LOAD(x + i), gv = LOAD(g + i);                                           \
        STREAM(y + i, SEL_GT(xv, gv, MUL(sv, gv)));                                      \
    }                                                                                    \
    for (; i < n; i++) y[i] = x[i] > 0 ? g[i] : s * g[i];                                \
    return 1;                                                                            \
}

/* The same four with a bias added first: z = x + b, rounded to T as the span's
   x + b is, then the span's expression at z.  C 0: b[0] for all n (a run of one
   channel); else rows of C channels, element i of channel (c0 + i) % C, with b holding
   C + W values (b[k] = bias[k % C]) so that a vector at any channel reads b whole, and
   C >= W.  Reading x and writing y straight from the registers, no buffer between
   them: through one, the loads of x stalled behind its stores (4K aliasing) and the
   call's speed depended on where the arrays lay; rows as one stream, not a piece
   per row: every row's edges cost scalar stores into half-streamed lines.  KIND
   stream: streaming stores; store: ordinary ones (outputs that stay in cache). */
#define RF_BIAS_LOOP(T, W, VT, LOAD, SET1, SCALAR, VECTOR)                              \
    size_t i = 0, c = C ? c0 : 0;                                                        \
    VT bv = SET1(b[0]);                                                                  \
    if ((uintptr_t)y % sizeof(T)) return 0;                                              \
    for (; i < n && ((uintptr_t)(y + i) % (W * sizeof(T))); i++) {                       \
        T bs = b[c]; SCALAR if (C && ++c == C) c = 0; }                                  \
    if (C) { for (; i + W <= n; i += W) {                                                \
        VT bi = LOAD(b + c); VECTOR c += W; if (c >= C) c -= C; } }                      \
    else { for (; i + W <= n; i += W) { VT bi = bv; VECTOR } }                           \
    for (; i < n; i++) { T bs = b[c]; SCALAR if (C && ++c == C) c = 0; }                 \
    return 1;
#define RELU_FAST_BIAS_OPS(KIND, SUF, T, W, VT, LOAD, STREAM, SET1, ADD, MUL, MAX, ZERO, SEL_GT, SEL_NLE) \
static inline int relu_fast_relu_bias_##KIND##_##SUF(const T* x, const T* b, size_t C, size_t c0, T* y, size_t n) { \
    RF_BIAS_LOOP(T, W, VT, LOAD, SET1,                                                   \
        T z = x[i] + bs; y[i] = z < 0 ? 0 : z;,                              \
        STREAM(y + i, MAX(ZERO(), ADD(LOAD(x + i), bi)));)                               \
}                                                                                        \
static inline int relu_fast_leaky_bias_##KIND##_##SUF(const T* x, const T* b, size_t C, size_t c0, T* y, size_t n, \
                                                   T s) {                                \
    VT sv = SET1(s);                                                                     \
    RF_BIAS_LOOP(T, W, VT, LOAD, SET1,                                                   \
        T z = x[i] + bs; y[i] = z > 0 ? z : s * z;,                          \
        VT zv = ADD(LOAD(x + i), bi); STREAM(y + i, SEL_GT(zv, zv, MUL(sv, zv)));)       \
}                                                                                        \
static inline int relu_fast_relu_bwd_bias_##KIND##_##SUF(const T* g, const T* x, const T* b, size_t C, size_t c0, \
                                                      T* y, size_t n) {                  \
    RF_BIAS_LOOP(T, W, VT, LOAD, SET1,                                                   \
        T z = x[i] + bs; y[i] = z <= 0 ? 0 : g[i];,                                       \
        VT zv = ADD(LOAD(x + i), bi); STREAM(y + i, SEL_NLE(zv, LOAD(g + i), ZERO()));)  \
}                                                                                        \
static inline int relu_fast_leaky_bwd_bias_##KIND##_##SUF(const T* g, const T* x, const T* b, size_t C, size_t c0, \
                                                       T* y, size_t n, T s) {            \
    VT sv = SET1(s);                                                                     \
    RF_BIAS_LOOP(T, W, VT, LOAD, SET1,                                                   \
        T z = x[i] + bs; y[i] = z > 0 ? g[i] : s * g[i];,                                 \
        VT zv = ADD(LOAD(x + i), bi); VT gv = LOAD(g + i);                               \
        STREAM(y + i, SEL_GT(zv, gv, MUL(sv, gv)));)                                     \
}
#if defined(__AVX512F__)
#define RF_GT_PS(x, a, b) _mm512_mask_mov_ps((b), _mm512_cmp_ps_mask((x), _mm512_setzero_ps(), _CMP_GT_OQ), (a))
#define RF_NLE_PS(x, a, b) _mm512_mask_mov_ps((b), _mm512_cmp_ps_mask((x), _mm512_setzero_ps(), _CMP_NLE_UQ), (a))
#define RF_GT_PD(x, a, b) _mm512_mask_mov_pd((b), _mm512_cmp_pd_mask((x), _mm512_setzero_pd(), _CMP_GT_OQ), (a))
#define RF_NLE_PD(x, a, b) _mm512_mask_mov_pd((b), _mm512_cmp_pd_mask((x), _mm512_setzero_pd(), _CMP_NLE_UQ), (a))
RELU_FAST_STREAM_OPS(f32, float, 16, __m512, _mm512_loadu_ps, _mm512_stream_ps, _mm512_set1_ps, _mm512_mul_ps, _mm512_max_ps, _mm512_setzero_ps, RF_GT_PS, RF_NLE_PS)
RELU_FAST_STREAM_OPS(f64, double, 8, __m512d, _mm512_loadu_pd, _mm512_stream_pd, _mm512_set1_pd, _mm512_mul_pd, _mm512_max_pd, _mm512_setzero_pd, RF_GT_PD, RF_NLE_PD)
RELU_FAST_BIAS_OPS(stream, f32, float, 16, __m512, _mm512_loadu_ps, _mm512_stream_ps, _mm512_set1_ps, _mm512_add_ps, _mm512_mul_ps, _mm512_max_ps, _mm512_setzero_ps, RF_GT_PS, RF_NLE_PS)
RELU_FAST_BIAS_OPS(store, f32, float, 16, __m512, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps, _mm512_add_ps, _mm512_mul_ps, _mm512_max_ps, _mm512_setzero_ps, RF_GT_PS, RF_NLE_PS)
RELU_FAST_BIAS_OPS(stream, f64, double, 8, __m512d, _mm512_loadu_pd, _mm512_stream_pd, _mm512_set1_pd, _mm512_add_pd, _mm512_mul_pd, _mm512_max_pd, _mm512_setzero_pd, RF_GT_PD, RF_NLE_PD)
RELU_FAST_BIAS_OPS(store, f64, double, 8, __m512d, _mm512_loadu_pd, _mm512_storeu_pd, _mm512_set1_pd, _mm512_add_pd, _mm512_mul_pd, _mm512_max_pd, _mm512_setzero_pd, RF_GT_PD, RF_NLE_PD)
#elif defined(__AVX__)
#define RF_GT_PS(x, a, b) _mm256_blendv_ps((b), (a), _mm256_cmp_ps((x), _mm256_setzero_ps(), _CMP_GT_OQ))
#define RF_NLE_PS(x, a, b) _mm256_blendv_ps((b), (a), _mm256_cmp_ps((x), _mm256_setzero_ps(), _CMP_NLE_UQ))
#define RF_GT_PD(x, a, b) _mm256_blendv_pd((b), (a), _mm256_cmp_pd((x), _mm256_setzero_pd(), _CMP_GT_OQ))
#define RF_NLE_PD(x, a, b) _mm256_blendv_pd((b), (a), _mm256_cmp_pd((x), _mm256_setzero_pd(), _CMP_NLE_UQ))
RELU_FAST_STREAM_OPS(f32, float, 8, __m256, _mm256_loadu_ps, _mm256_stream_ps, _mm256_set1_ps, _mm256_mul_ps, _mm256_max_ps, _mm256_setzero_ps, RF_GT_PS, RF_NLE_PS)
RELU_FAST_STREAM_OPS(f64, double, 4, __m256d, _mm256_loadu_pd, _mm256_stream_pd, _mm256_set1_pd, _mm256_mul_pd, _mm256_max_pd, _mm256_setzero_pd, RF_GT_PD, RF_NLE_PD)
RELU_FAST_BIAS_OPS(stream, f32, float, 8, __m256, _mm256_loadu_ps, _mm256_stream_ps, _mm256_set1_ps, _mm256_add_ps, _mm256_mul_ps, _mm256_max_ps, _mm256_setzero_ps, RF_GT_PS, RF_NLE_PS)
RELU_FAST_BIAS_OPS(store, f32, float, 8, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_add_ps, _mm256_mul_ps, _mm256_max_ps, _mm256_setzero_ps, RF_GT_PS, RF_NLE_PS)
RELU_FAST_BIAS_OPS(stream, f64, double, 4, __m256d, _mm256_loadu_pd, _mm256_stream_pd, _mm256_set1_pd, _mm256_add_pd, _mm256_mul_pd, _mm256_max_pd, _mm256_setzero_pd, RF_GT_PD, RF_NLE_PD)
RELU_FAST_BIAS_OPS(store, f64, double, 4, __m256d, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd, _mm256_add_pd, _mm256_mul_pd, _mm256_max_pd, _mm256_setzero_pd, RF_GT_PD, RF_NLE_PD)
#elif defined(__SSE2__) || defined(_M_X64)
static inline __m128 rf_sel_ps(__m128 m, __m128 a, __m128 b) { return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b)); }
static inline __m128d rf_sel_pd(__m128d m, __m128d a, __m128d b) { return _mm_or_pd(_mm_and_pd(m, a), _mm_andnot_pd(m, b)); }
#define RF_GT_PS(x, a, b) rf_sel_ps(_mm_cmpgt_ps((x), _mm_setzero_ps()), (a), (b))
#define RF_NLE_PS(x, a, b) rf_sel_ps(_mm_cmpnle_ps((x), _mm_setzero_ps()), (a), (b))
#define RF_GT_PD(x, a, b) rf_sel_pd(_mm_cmpgt_pd((x), _mm_setzero_pd()), (a), (b))
#define RF_NLE_PD(x, a, b) rf_sel_pd(_mm_cmpnle_pd((x), _mm_setzero_pd()), (a), (b))
RELU_FAST_STREAM_OPS(f32, float, 4, __m128, _mm_loadu_ps, _mm_stream_ps, _mm_set1_ps, _mm_mul_ps, _mm_max_ps, _mm_setzero_ps, RF_GT_PS, RF_NLE_PS)
RELU_FAST_STREAM_OPS(f64, double, 2, __m128d, _mm_loadu_pd, _mm_stream_pd, _mm_set1_pd, _mm_mul_pd, _mm_max_pd, _mm_setzero_pd, RF_GT_PD, RF_NLE_PD)
RELU_FAST_BIAS_OPS(stream, f32, float, 4, __m128, _mm_loadu_ps, _mm_stream_ps, _mm_set1_ps, _mm_add_ps, _mm_mul_ps, _mm_max_ps, _mm_setzero_ps, RF_GT_PS, RF_NLE_PS)
RELU_FAST_BIAS_OPS(store, f32, float, 4, __m128, _mm_loadu_ps, _mm_storeu_ps, _mm_set1_ps, _mm_add_ps, _mm_mul_ps, _mm_max_ps, _mm_setzero_ps, RF_GT_PS, RF_NLE_PS)
RELU_FAST_BIAS_OPS(stream, f64, double, 2, __m128d, _mm_loadu_pd, _mm_stream_pd, _mm_set1_pd, _mm_add_pd, _mm_mul_pd, _mm_max_pd, _mm_setzero_pd, RF_GT_PD, RF_NLE_PD)
RELU_FAST_BIAS_OPS(store, f64, double, 2, __m128d, _mm_loadu_pd, _mm_storeu_pd, _mm_set1_pd, _mm_add_pd, _mm_mul_pd, _mm_max_pd, _mm_setzero_pd, RF_GT_PD, RF_NLE_PD)
#else
static inline int relu_fast_relu_stream_f32(const float* x, float* y, size_t n) { return 0; }
static inline int relu_fast_relu_stream_f64(const double* x, double* y, size_t n) { return 0; }
static inline int relu_fast_leaky_stream_f32(const float* x, float* y, size_t n, float s) { return 0; }
static inline int relu_fast_leaky_stream_f64(const double* x, double* y, size_t n, double s) { return 0; }
static inline int relu_fast_relu_bwd_stream_f32(const float* g, const float* x, float* y, size_t n) { return 0; }
static inline int relu_fast_relu_bwd_stream_f64(const double* g, const double* x, double* y, size_t n) { return 0; }
static inline int relu_fast_leaky_bwd_stream_f32(const float* g, const float* x, float* y, size_t n, float s) { return 0; }
static inline int relu_fast_leaky_bwd_stream_f64(const double* g, const double* x, double* y, size_t n, double s) { return 0; }
static inline int relu_fast_relu_bias_stream_f32(const float* x, const float* b, size_t C, size_t c0, float* y, size_t n) { return 0; }
static inline int relu_fast_relu_bias_store_f32(const float* x, const float* b, size_t C, size_t c0, float* y, size_t n) { return 0; }
static inline int relu_fast_leaky_bias_stream_f32(const float* x, const float* b, size_t C, size_t c0, float* y, size_t n, float s) { return 0; }
static inline int relu_fast_leaky_bias_store_f32(const float* x, const float* b, size_t C, size_t c0, float* y, size_t n, float s) { return 0; }
static inline int relu_fast_relu_bwd_bias_stream_f32(const float* g, const float* x, const float* b, size_t C, size_t c0, float* y, size_t n) { return 0; }
static inline int relu_fast_relu_bwd_bias_store_f32(const float* g, const float* x, const float* b, size_t C, size_t c0, float* y, size_t n) { return 0; }
static inline int relu_fast_leaky_bwd_bias_stream_f32(const float* g, const float* x, const float* b, size_t C, size_t c0, float* y, size_t n, float s) { return 0; }
static inline int relu_fast_leaky_bwd_bias_store_f32(const float* g, const float* x, const float* b, size_t C, size_t c0, float* y, size_t n, float s) { return 0; }
static inline int relu_fast_relu_bias_stream_f64(const double* x, const double* b, size_t C, size_t c0, double* y, size_t n) { return 0; }
static inline int relu_fast_relu_bias_store_f64(const double* x, const double* b, size_t C, size_t c0, double* y, size_t n) { return 0; }
static inline int relu_fast_leaky_bias_stream_f64(const double* x, const double* b, size_t C, size_t c0, double* y, size_t n, double s) { return 0; }
static inline int relu_fast_leaky_bias_store_f64(const double* x, const double* b, size_t C, size_t c0, double* y, size_t n, double s) { return 0; }
static inline int relu_fast_relu_bwd_bias_stream_f64(const double* g, const double* x, const double* b, size_t C, size_t c0, double* y, size_t n) { return 0; }
static inline int relu_fast_relu_bwd_bias_store_f64(const double* g, const double* x, const double* b, size_t C, size_t c0, double* y, size_t n) { return 0; }
static inline int relu_fast_leaky_bwd_bias_stream_f64(const double* g, const double* x, const double* b, size_t C, size_t c0, double* y, size_t n, double s) { return 0; }
static inline int relu_fast_leaky_bwd_bias_store_f64(const double* g, const double* x, const double* b, size_t C, size_t c0, double* y, size_t n, double s) { return 0; }
#endif

#endif /* RELU_FAST_STREAM_H */
