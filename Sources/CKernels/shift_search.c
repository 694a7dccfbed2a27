#include "CKernels.h"
#include "isa_variants.h"

/* Hot loops of the in-plane shift search (ShiftSearch.swift) over half spectra [rows, columns] of complex values
   (re, im interleaved): the cross-power spectrum whose inverse FFT is the correlation map, and the phase ramp that
   moves a spectrum by a fraction of a pixel, alone or fused with the inner product that scores the move. */

enum { LANES = 8 };

CRYO_INLINE void cross_power_body(const float *restrict z, const float *restrict p, intptr_t count, float *restrict out) {
    for (intptr_t k = 0; k < count; k++) {
        const float a = z[2 * k], b = z[2 * k + 1], c = p[2 * k], e = p[2 * k + 1];
        out[2 * k] = a * c + b * e;
        out[2 * k + 1] = b * c - a * e;
    }
}

CRYO_DISPATCH(cryo_cross_power, cross_power_body,
              (const float *z, const float *p, intptr_t count, float *out), (z, p, count, out))

CRYO_INLINE void phase_ramp_body(const float *restrict z, const float *restrict row_ramp, const float *restrict column_ramp,
                                 intptr_t rows, intptr_t columns, float *restrict out) {
    for (intptr_t i = 0; i < rows; i++) {
        const float rr = row_ramp[2 * i], ri = row_ramp[2 * i + 1];
        const float *restrict zi = z + 2 * i * columns;
        float *restrict oi = out + 2 * i * columns;
        for (intptr_t j = 0; j < columns; j++) {
            const float cr = column_ramp[2 * j], ci = column_ramp[2 * j + 1];
            const float wr = rr * cr - ri * ci, wi = rr * ci + ri * cr;
            oi[2 * j] = zi[2 * j] * wr - zi[2 * j + 1] * wi;
            oi[2 * j + 1] = zi[2 * j] * wi + zi[2 * j + 1] * wr;
        }
    }
}

CRYO_DISPATCH(cryo_phase_ramp, phase_ramp_body,
              (const float *z, const float *row_ramp, const float *column_ramp, intptr_t rows, intptr_t columns, float *out),
              (z, row_ramp, column_ramp, rows, columns, out))

/* Each row's products are summed in Float lanes and the rows in Double: the score sits near its maximum, where a
   single Float running sum over the whole spectrum would show in the refinement's finite differences. */
CRYO_INLINE void shifted_dot_body(const float *restrict z, const float *restrict p, const float *restrict row_ramp,
                                  const float *restrict column_ramp, const float *restrict column_weight, intptr_t rows,
                                  intptr_t columns, double *restrict total) {
    double sum = 0;
    for (intptr_t i = 0; i < rows; i++) {
        const float rr = row_ramp[2 * i], ri = row_ramp[2 * i + 1];
        const float *restrict zi = z + 2 * i * columns, *restrict pi = p + 2 * i * columns;
        float lanes[LANES] = { 0 };
        intptr_t j = 0;
        for (; j + LANES <= columns; j += LANES) {
            for (intptr_t l = 0; l < LANES; l++) {
                const intptr_t m = j + l;
                const float cr = column_ramp[2 * m], ci = column_ramp[2 * m + 1];
                const float wr = rr * cr - ri * ci, wi = rr * ci + ri * cr;
                const float hr = zi[2 * m] * wr - zi[2 * m + 1] * wi, hi = zi[2 * m] * wi + zi[2 * m + 1] * wr;
                lanes[l] += column_weight[m] * (hr * pi[2 * m] + hi * pi[2 * m + 1]);
            }
        }
        double row = 0;
        for (intptr_t l = 0; l < LANES; l++) row += lanes[l];
        for (; j < columns; j++) {
            const float cr = column_ramp[2 * j], ci = column_ramp[2 * j + 1];
            const float wr = rr * cr - ri * ci, wi = rr * ci + ri * cr;
            const float hr = zi[2 * j] * wr - zi[2 * j + 1] * wi, hi = zi[2 * j] * wi + zi[2 * j + 1] * wr;
            row += column_weight[j] * (hr * pi[2 * j] + hi * pi[2 * j + 1]);
        }
        sum += row;
    }
    *total = sum;
}

CRYO_DISPATCH(cryo_shifted_dot, shifted_dot_body,
              (const float *z, const float *p, const float *row_ramp, const float *column_ramp, const float *column_weight,
               intptr_t rows, intptr_t columns, double *total),
              (z, p, row_ramp, column_ramp, column_weight, rows, columns, total))
