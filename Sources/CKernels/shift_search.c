#define _GNU_SOURCE
#include "CKernels.h"
#include "isa_variants.h"

#include <math.h>

/* The vectors below are passed between always-inline helpers only (see projector.c). */
#pragma clang diagnostic ignored "-Wpsabi"

/* Hot loops of the in-plane shift search (ShiftSearch.swift) over half spectra [rows, columns] of complex values:
   the correlation map on the window of offsets the search reads (from split planes), the inner product that scores a
   move by a fraction of a pixel (a phase ramp), and the ramp alone (into an interleaved half spectrum). */

/* The correlation window (see CKernels.h). Three passes: the cross-power spectrum X = Z·conj(P) of the split planes
   (whole vectors, as the planes are padded with zeros), with the rendering's energy when asked; for each offset s ≥ 0
   along the rows, with e^{2πi r·s/D} = c_r + i·s_r, the sums P = Σ Re X·c, Q = Σ Im X·s, R = Σ Im X·c, S = Σ Re X·s over the spectrum's rows, which give
   T[s] = (P − Q, R + S) and T[−s] = (P + Q, R − S) (up to WINDOW_BLOCK vectors of columns at a time, each sum in its
   own register, the block's width a constant in each call so its loops unroll); then, the same way along the columns
   with the offsets s ≥ 0 across the vector lanes, out[a, ±s] = Σ_k Re T·K ∓ Im T·Im K. */
typedef float window_vector __attribute__((vector_size(CORRELATION_LANES * sizeof(float)), aligned(sizeof(float))));
enum { WINDOW_BLOCK = 3 };

CRYO_INLINE window_vector window_load(const float *p) {
    window_vector v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

CRYO_INLINE void window_store(float *p, window_vector v) { __builtin_memcpy(p, &v, sizeof v); }

/* T's columns [first, first + block vectors) of the offsets ±s along the rows (twiddle = e^{2πi r·s/D} for each row r),
   from the split cross-power rows (`padded` floats each), into plus (s) and minus (−s), real then imaginary parts. */
CRYO_INLINE void window_row_block(const float *restrict xr, const float *restrict xi, const float *restrict twiddle,
                                  intptr_t rows, intptr_t padded, intptr_t first, intptr_t block, float *restrict plus,
                                  float *restrict minus) {
    window_vector p[WINDOW_BLOCK] = { 0 }, q[WINDOW_BLOCK] = { 0 }, r_[WINDOW_BLOCK] = { 0 }, s[WINDOW_BLOCK] = { 0 };
    for (intptr_t r = 0; r < rows; r++) {
        const float c = twiddle[2 * r], n = twiddle[2 * r + 1];
        for (intptr_t v = 0; v < block; v++) {
            const window_vector x = window_load(xr + r * padded + first + v * CORRELATION_LANES);
            const window_vector y = window_load(xi + r * padded + first + v * CORRELATION_LANES);
            p[v] += c * x;
            q[v] += n * y;
            r_[v] += c * y;
            s[v] += n * x;
        }
    }
    for (intptr_t v = 0; v < block; v++) {
        const intptr_t k = first + v * CORRELATION_LANES;
        window_store(plus + k, p[v] - q[v]);
        window_store(plus + padded + k, r_[v] + s[v]);
        window_store(minus + k, p[v] + q[v]);
        window_store(minus + padded + k, r_[v] - s[v]);
    }
}

CRYO_INLINE void correlation_window_body(const float *restrict z, const float *restrict p, intptr_t rows, intptr_t columns,
                                         const float *restrict row_twiddles, const float *restrict column_real,
                                         const float *restrict column_imaginary, intptr_t reach,
                                         const float *restrict power, float *restrict energy, float *restrict scratch,
                                         float *restrict out) {
    const intptr_t vectors = (columns + CORRELATION_LANES - 1) / CORRELATION_LANES, padded = vectors * CORRELATION_LANES;
    const intptr_t window = 2 * reach + 1, plane = rows * padded;
    /* xr, xi: [rows, padded], the cross-power spectrum z·conj(p) (zero on the padding, as the planes are); t: [window, 2,
       padded], the window's rows' T (real, then imaginary). */
    float *restrict xr = scratch, *restrict xi = xr + plane, *restrict t = xi + plane;
    const float *restrict zr = z, *restrict zi = z + plane, *restrict pr = p, *restrict pi = p + plane;
    window_vector e = { 0 };
    for (intptr_t k = 0; k < plane; k += CORRELATION_LANES) {
        const window_vector a = window_load(zr + k), b = window_load(zi + k), c = window_load(pr + k), d = window_load(pi + k);
        window_store(xr + k, a * c + b * d);
        window_store(xi + k, b * c - a * d);
        if (power) e += window_load(power + k) * (c * c + d * d);
    }
    if (power) {
        float sum = 0;
        for (intptr_t l = 0; l < CORRELATION_LANES; l++) sum += e[l];
        *energy = sum;
    }
    for (intptr_t s = 0; s <= reach; s++) {
        const float *restrict twiddle = row_twiddles + 2 * s * rows;
        float *restrict plus = t + 2 * (reach + s) * padded, *restrict minus = t + 2 * (reach - s) * padded;
        for (intptr_t v0 = 0; v0 < vectors; v0 += WINDOW_BLOCK) {
            const intptr_t first = v0 * CORRELATION_LANES;
            switch (vectors - v0 < WINDOW_BLOCK ? vectors - v0 : WINDOW_BLOCK) {
            case 1: window_row_block(xr, xi, twiddle, rows, padded, first, 1, plus, minus); break;
            case 2: window_row_block(xr, xi, twiddle, rows, padded, first, 2, plus, minus); break;
            default: window_row_block(xr, xi, twiddle, rows, padded, first, WINDOW_BLOCK, plus, minus); break;
            }
        }
    }
    const intptr_t lanes = (reach + CORRELATION_LANES) / CORRELATION_LANES * CORRELATION_LANES;
    for (intptr_t a = 0; a < window; a++) {
        const float *restrict ta = t + 2 * a * padded;
        for (intptr_t u = 0; u < lanes; u += CORRELATION_LANES) {
            window_vector real = { 0 }, imaginary = { 0 };
            for (intptr_t k = 0; k < columns; k++) {
                real += ta[k] * window_load(column_real + k * lanes + u);
                imaginary += ta[padded + k] * window_load(column_imaginary + k * lanes + u);
            }
            const window_vector plus = real - imaginary, minus = real + imaginary;
            for (intptr_t l = 0; l < CORRELATION_LANES && u + l <= reach; l++) {
                out[a * window + reach + u + l] = plus[l];
                out[a * window + reach - u - l] = minus[l];
            }
        }
    }
}

CRYO_DISPATCH(cryo_correlation_window, correlation_window_body,
              (const float *z, const float *p, intptr_t rows, intptr_t columns, const float *row_twiddles,
               const float *column_real, const float *column_imaginary, intptr_t reach, const float *power, float *energy,
               float *scratch, float *out),
              (z, p, rows, columns, row_twiddles, column_real, column_imaginary, reach, power, energy, scratch, out))

CRYO_INLINE void split_spectrum_body(const float *restrict spectrum, intptr_t rows, intptr_t columns, float *restrict planes) {
    const intptr_t padded = (columns + CORRELATION_LANES - 1) / CORRELATION_LANES * CORRELATION_LANES, plane = rows * padded;
    for (intptr_t r = 0; r < rows; r++) {
        const float *restrict in = spectrum + 2 * r * columns;
        float *restrict re = planes + r * padded, *restrict im = planes + plane + r * padded;
        for (intptr_t k = 0; k < columns; k++) {
            re[k] = in[2 * k];
            im[k] = in[2 * k + 1];
        }
        for (intptr_t k = columns; k < padded; k++) re[k] = im[k] = 0;
    }
}

CRYO_DISPATCH(cryo_split_spectrum, split_spectrum_body, (const float *spectrum, intptr_t rows, intptr_t columns, float *planes),
              (spectrum, rows, columns, planes))

/* The cross-power spectrum that cryo_correlation_window left at the start of its scratch, moved by a phase ramp and
   summed (see CKernels.h): per row the column sums U_r = Σ_k w_k·X[r, k]·column_ramp[k] in Float lanes, then
   Σ_r Re(row_ramp[r]·U_r) lane by lane in Double, and the lanes added at the end: the score sits near its maximum,
   where a single Float running sum over the whole spectrum would show in the refinement's finite differences. */
typedef double window_double_vector __attribute__((vector_size(CORRELATION_LANES / 2 * sizeof(double)), aligned(sizeof(double))));
CRYO_INLINE void window_shifted_dot_body(const float *restrict scratch, intptr_t rows, intptr_t columns,
                                         const float *restrict row_ramp, const float *restrict column_ramp,
                                         const float *restrict column_weight, double *restrict total) {
    enum { HALF = CORRELATION_LANES / 2 };
    typedef float half_vector __attribute__((vector_size(HALF * sizeof(float)), aligned(sizeof(float))));
    const intptr_t vectors = (columns + CORRELATION_LANES - 1) / CORRELATION_LANES, padded = vectors * CORRELATION_LANES;
    const float *restrict xr = scratch, *restrict xi = scratch + rows * padded;
    float cr[padded], ci[padded]; /* the weighted column ramp, split and padded with zeros */
    window_double_vector sum = { 0 };
    for (intptr_t k = 0; k < padded; k++) {
        const int inside = k < columns;
        cr[k] = inside ? column_weight[k] * column_ramp[2 * k] : 0;
        ci[k] = inside ? column_weight[k] * column_ramp[2 * k + 1] : 0;
    }
    for (intptr_t r = 0; r < rows; r++) {
        window_vector ur = { 0 }, ui = { 0 };
        for (intptr_t v = 0; v < vectors; v++) {
            const intptr_t k = v * CORRELATION_LANES;
            const window_vector x = window_load(xr + r * padded + k), y = window_load(xi + r * padded + k);
            const window_vector a = window_load(cr + k), b = window_load(ci + k);
            ur += x * a;
            ur -= y * b;
            ui += x * b;
            ui += y * a;
        }
        /* Re(row_ramp·U) = rr·Re U − ri·Im U, lane by lane in Double. */
        const window_vector lane = ur * row_ramp[2 * r] - ui * row_ramp[2 * r + 1];
        half_vector low, high;
        __builtin_memcpy(&low, &lane, sizeof low);
        __builtin_memcpy(&high, (const float *)&lane + HALF, sizeof high);
        sum += __builtin_convertvector(low, window_double_vector) + __builtin_convertvector(high, window_double_vector);
    }
    double t = 0;
    for (intptr_t l = 0; l < HALF; l++) t += sum[l];
    *total = t;
}

CRYO_DISPATCH(cryo_window_shifted_dot, window_shifted_dot_body,
              (const float *scratch, intptr_t rows, intptr_t columns, const float *row_ramp, const float *column_ramp,
               const float *column_weight, double *total),
              (scratch, rows, columns, row_ramp, column_ramp, column_weight, total))

CRYO_INLINE void phase_ramp_body(const float *restrict z, const float *restrict row_ramp, const float *restrict column_ramp,
                                 intptr_t rows, intptr_t columns, float *restrict out) {
    const intptr_t padded = (columns + CORRELATION_LANES - 1) / CORRELATION_LANES * CORRELATION_LANES, plane = rows * padded;
    for (intptr_t i = 0; i < rows; i++) {
        const float rr = row_ramp[2 * i], ri = row_ramp[2 * i + 1];
        const float *restrict re = z + i * padded, *restrict im = z + plane + i * padded;
        float *restrict oi = out + 2 * i * columns;
        for (intptr_t j = 0; j < columns; j++) {
            const float cr = column_ramp[2 * j], ci = column_ramp[2 * j + 1];
            const float wr = rr * cr - ri * ci, wi = rr * ci + ri * cr;
            oi[2 * j] = re[j] * wr - im[j] * wi;
            oi[2 * j + 1] = re[j] * wi + im[j] * wr;
        }
    }
}

CRYO_DISPATCH(cryo_phase_ramp, phase_ramp_body,
              (const float *z, const float *row_ramp, const float *column_ramp, intptr_t rows, intptr_t columns, float *out),
              (z, row_ramp, column_ramp, rows, columns, out))

/* Powers of one root each, multiplied up in Double (see CKernels.h): two sincos calls per pair of ramps. */
void cryo_phase_ramps(double row_offset, double column_offset, intptr_t size, float *row_ramp, float *column_ramp) {
    const double pi2 = 6.283185307179586;
    double s, c;
    sincos(pi2 * row_offset / (double)size, &s, &c);
    double re = 1.0 / ((double)size * (double)size), im = 0;
    for (intptr_t k = 0; k <= size / 2; k++) {
        row_ramp[2 * k] = (float)re;
        row_ramp[2 * k + 1] = (float)im;
        if (k > 0 && k < size - k) {
            row_ramp[2 * (size - k)] = (float)re;
            row_ramp[2 * (size - k) + 1] = (float)-im;
        }
        const double next = re * c - im * s;
        im = re * s + im * c;
        re = next;
    }
    sincos(pi2 * column_offset / (double)size, &s, &c);
    re = 1;
    im = 0;
    for (intptr_t k = 0; k <= size / 2; k++) {
        column_ramp[2 * k] = (float)re;
        column_ramp[2 * k + 1] = (float)im;
        const double next = re * c - im * s;
        im = re * s + im * c;
        re = next;
    }
}
