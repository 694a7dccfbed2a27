#include "CKernels.h"
#include "isa_variants.h"

/* Hot loops of the fused pose scores of conformations at candidate rotations (CandidateScoring.swift): the
   reductions keep LANES partial sums so they vectorise without reassociating a single float accumulator. */

enum { LANES = 16 };

CRYO_INLINE void image_moments_body(const float *restrict z, const float *restrict p, intptr_t n,
                                    float *restrict moments) {
    float dot[LANES] = { 0 }, sum[LANES] = { 0 };
    intptr_t k = 0;
    for (; k + LANES <= n; k += LANES) {
        for (intptr_t j = 0; j < LANES; j++) {
            dot[j] += z[k + j] * p[k + j];
            sum[j] += p[k + j];
        }
    }
    float d = 0, s = 0;
    for (intptr_t j = 0; j < LANES; j++) { d += dot[j]; s += sum[j]; }
    for (; k < n; k++) { d += z[k] * p[k]; s += p[k]; }
    moments[0] = d;
    moments[1] = s;
}

CRYO_DISPATCH(cryo_image_moments, image_moments_body,
              (const float *z, const float *p, intptr_t n, float *moments), (z, p, n, moments))

CRYO_INLINE void spectrum_energy_body(const float *restrict power, const float *spectrum,
                                      const float *restrict filter, intptr_t count, float *restrict energy,
                                      float *filtered) {
    float lanes[LANES] = { 0 };
    intptr_t k = 0;
    for (; k + LANES <= count; k += LANES) {
        for (intptr_t j = 0; j < LANES; j++) {
            const float re = spectrum[2 * (k + j)], im = spectrum[2 * (k + j) + 1];
            lanes[j] += power[k + j] * (re * re + im * im);
        }
    }
    float e = 0;
    for (intptr_t j = 0; j < LANES; j++) e += lanes[j];
    for (; k < count; k++) e += power[k] * (spectrum[2 * k] * spectrum[2 * k] + spectrum[2 * k + 1] * spectrum[2 * k + 1]);
    energy[0] = e;
    if (!filter || !filtered) return;
    for (intptr_t i = 0; i < count; i++) {
        filtered[2 * i] = spectrum[2 * i] * filter[i];
        filtered[2 * i + 1] = spectrum[2 * i + 1] * filter[i];
    }
}

CRYO_DISPATCH(cryo_spectrum_energy, spectrum_energy_body,
              (const float *power, const float *spectrum, const float *filter, intptr_t count, float *energy,
               float *filtered),
              (power, spectrum, filter, count, energy, filtered))

CRYO_INLINE void image_combination_body(const float *restrict z, const float *restrict q, float a, float c, float e,
                                        intptr_t n, float *restrict out) {
    for (intptr_t k = 0; k < n; k++) out[k] = a * z[k] + c * q[k] + e;
}

CRYO_DISPATCH(cryo_image_combination, image_combination_body,
              (const float *z, const float *q, float a, float c, float e, intptr_t n, float *out),
              (z, q, a, c, e, n, out))
