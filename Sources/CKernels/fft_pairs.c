#include "CKernels.h"
#include "isa_variants.h"

/* The passes between a D×D real image (D even) and its rows taken in pairs as complex rows; see CKernels.h and
   FFT.swift. Complex numbers are interleaved (re, im) floats. */

CRYO_INLINE void fft_pack_rows_body(const float *restrict real, intptr_t d, float *restrict pairs) {
    for (intptr_t j = 0; j < d / 2; j++) {
        const float *a = real + 2 * j * d, *b = a + d;
        float *z = pairs + 2 * j * d;
        for (intptr_t x = 0; x < d; x++) {
            z[2 * x] = a[x];
            z[2 * x + 1] = b[x];
        }
    }
}
CRYO_DISPATCH(cryo_fft_pack_rows, fft_pack_rows_body,
              (const float *real, intptr_t d, float *pairs), (real, d, pairs))

CRYO_INLINE void fft_unpack_rows_body(const float *restrict pairs, intptr_t d, float *restrict real) {
    for (intptr_t j = 0; j < d / 2; j++) {
        float *a = real + 2 * j * d, *b = a + d;
        const float *z = pairs + 2 * j * d;
        for (intptr_t x = 0; x < d; x++) {
            a[x] = z[2 * x];
            b[x] = z[2 * x + 1];
        }
    }
}
CRYO_DISPATCH(cryo_fft_unpack_rows, fft_unpack_rows_body,
              (const float *pairs, intptr_t d, float *real), (pairs, d, real))

/* Z = A + iB with A, B the spectra of rows 2j, 2j+1: A[k] = (Z[k] + conj Z[−k])/2, B[k] = (Z[k] − conj Z[−k])/2i. */
CRYO_INLINE void fft_split_pairs_body(const float *restrict pairs, intptr_t d, float *restrict half) {
    const intptr_t h = d / 2 + 1;
    for (intptr_t j = 0; j < d / 2; j++) {
        const float *z = pairs + 2 * j * d;
        float *a = half + 4 * j * h, *b = a + 2 * h;
        for (intptr_t k = 0; k < h; k++) {
            const intptr_t m = k == 0 ? 0 : d - k;
            const float zr = z[2 * k], zi = z[2 * k + 1], wr = z[2 * m], wi = z[2 * m + 1];
            a[2 * k] = 0.5f * (zr + wr);
            a[2 * k + 1] = 0.5f * (zi - wi);
            b[2 * k] = 0.5f * (zi + wi);
            b[2 * k + 1] = 0.5f * (wr - zr);
        }
    }
}
CRYO_DISPATCH(cryo_fft_split_pairs, fft_split_pairs_body,
              (const float *pairs, intptr_t d, float *half), (pairs, d, half))

/* Z = A + iB over the whole row from the half spectra A, B of rows 2j, 2j+1 (Hermitian: Z[−k] = conj A[k] +
   i·conj B[k]); at k = 0 and D/2 only the real parts of A and B are used, as a complex-to-real transform does. */
CRYO_INLINE void fft_join_pairs_body(const float *restrict half, intptr_t d, float *restrict pairs) {
    const intptr_t h = d / 2 + 1;
    for (intptr_t j = 0; j < d / 2; j++) {
        float *z = pairs + 2 * j * d;
        const float *a = half + 4 * j * h, *b = a + 2 * h;
        z[0] = a[0];
        z[1] = b[0];
        z[d] = a[d];
        z[d + 1] = b[d];
        for (intptr_t k = 1; k < h - 1; k++) {
            z[2 * k] = a[2 * k] - b[2 * k + 1];
            z[2 * k + 1] = a[2 * k + 1] + b[2 * k];
        }
        /* The mirrored half in increasing order of the stores (the loads run backwards), which vectorises. */
        for (intptr_t m = h; m < d; m++) {
            const intptr_t k = d - m;
            z[2 * m] = a[2 * k] + b[2 * k + 1];
            z[2 * m + 1] = b[2 * k] - a[2 * k + 1];
        }
    }
}
CRYO_DISPATCH(cryo_fft_join_pairs, fft_join_pairs_body,
              (const float *half, intptr_t d, float *pairs), (half, d, pairs))
