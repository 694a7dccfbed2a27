#ifndef CRYO_ISA_VARIANTS_H
#define CRYO_ISA_VARIANTS_H

/* Private to CKernels: builds one kernel body three times, for the baseline, AVX2+FMA and AVX-512, and
   dispatches on cryo_isa_active(). A body is a static always-inline function; clang inlines it into each
   variant and vectorises it for that variant's instruction set. */

#include "CKernels.h"

#define CRYO_INLINE static inline __attribute__((always_inline))

#if defined(__x86_64__)
#define CRYO_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define CRYO_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))
/* Defines `name(params)` calling `body(args)` compiled for the active instruction set. */
#define CRYO_DISPATCH(name, body, params, args) \
    static void name##_baseline params { body args; } \
    CRYO_TARGET_AVX2 static void name##_avx2 params { body args; } \
    CRYO_TARGET_AVX512 static void name##_avx512 params { body args; } \
    void name params { \
        switch (cryo_isa_active()) { \
        case CRYO_ISA_AVX512: name##_avx512 args; break; \
        case CRYO_ISA_AVX2: name##_avx2 args; break; \
        default: name##_baseline args; break; \
        } \
    }
#else
#define CRYO_DISPATCH(name, body, params, args) void name params { body args; }
#endif

/* e^x for the logistic function and erf, branch-free so loops vectorise: 2^k·p(r) with a degree-6 polynomial on
   r ∈ [−ln2/2, ln2/2] (relative error below 5·10⁻⁷), the argument clamped to [−87, 88] so 2^k stays a normal
   number; NaN stays NaN. */
CRYO_INLINE float cryo_exp(float x) {
    float c = x < -87.0f ? -87.0f : x;
    c = c > 88.0f ? 88.0f : c;
    float shifted = c * 1.442695041f + 12582912.0f; /* 1.5·2²³: the rounded integer lands in the low bits */
    float k = shifted - 12582912.0f;
    union { float f; int32_t i; } bits = { shifted }, scale;
    float r = c - k * 0.693145752f - k * 1.428606765e-6f;
    float p = 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1;
    p = p * r + 1;
    scale.i = (bits.i - 0x4B400000 + 127) << 23;
    return x != x ? x : p * scale.f;
}

/* erf(x) and e^(−x²) together, branch-free (Abramowitz & Stegun 7.1.26: absolute error 1.5·10⁻⁷ in exact
   arithmetic, below 5·10⁻⁷ in Float). */
CRYO_INLINE float cryo_erf_and_gaussian(float x, float *gaussian) {
    const float a = x < 0 ? -x : x;
    const float t = 1.0f / (1.0f + 0.3275911f * a);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    const float g = cryo_exp(-a * a);
    *gaussian = g;
    const float value = 1.0f - p * t * g;
    return x < 0 ? -value : value;
}

#endif
