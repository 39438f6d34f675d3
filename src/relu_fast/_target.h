/* What the translation unit that includes this is compiled for (setup.py gives each
   kernel module its level's flags): the instruction set's name, hardware FMA, the
   mask kernels' word layout. */
#ifndef RELU_FAST_TARGET_H
#define RELU_FAST_TARGET_H

#include <math.h>
#if defined(__FMA__) || defined(__AVX2__) || defined(__ARM_FEATURE_FMA) || defined(__FP_FAST_FMA)
#define RELU_FAST_HAS_FMA 1
#else
#define RELU_FAST_HAS_FMA 0
#endif

#if defined(__AVX512F__)
#define RELU_FAST_COMPILED_FOR "AVX512F"
#elif defined(__AVX2__)
#define RELU_FAST_COMPILED_FOR "AVX2"
#elif defined(__SSE2__) || defined(_M_X64)
#define RELU_FAST_COMPILED_FOR "SSE2"
#elif defined(__ARM_NEON) || defined(__aarch64__)
#define RELU_FAST_COMPILED_FOR "NEON"
#else
#define RELU_FAST_COMPILED_FOR "generic"
#endif

#if defined(__AVX2__)
#define RELU_FAST_TR_WORDS 1
#else
#define RELU_FAST_TR_WORDS 0
#endif

#endif /* RELU_FAST_TARGET_H */
