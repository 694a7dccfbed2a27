#include "CKernels.h"
#include "isa_variants.h"

#include <math.h>

/* Loops of the Gaussian projector. Every atom window is processed in blocks of BLOCK pixels along x (one
   AVX-512 vector, two AVX2 or four SSE vectors), with the 1D factors past the window's end set to zero, so the
   inner loops have a fixed trip count and no remainders; images are rendered into (and cotangents read from) a
   scratch copy whose rows are padded by PAD floats so the last block never leaves its row. */

enum { BLOCK = 16, PAD = 2 * BLOCK };

intptr_t cryo_projector_scratch_floats(intptr_t size) {
    return size * (size + PAD) + 6 * (size + PAD + BLOCK);
}

/* Per-thread buffers carved from scratch. */
typedef struct {
    float *padded;                 /* [size, size + PAD] image or cotangent */
    float *fx, *fy, *dfx, *dfy;    /* 1D factors and their derivatives with respect to the centre */
    float *erfs, *gaussians;       /* erf and e^(−x²) at the window's pixel edges */
} projector_buffers;

CRYO_INLINE projector_buffers buffers(float *scratch, intptr_t size) {
    const intptr_t line = size + PAD + BLOCK;
    float *vectors = scratch + size * (size + PAD);
    projector_buffers b = { scratch, vectors, vectors + line, vectors + 2 * line, vectors + 3 * line,
                            vectors + 4 * line, vectors + 5 * line };
    return b;
}

/* The pixel window [*lo, *hi] along one axis of an atom centred at c Å; returns 0 when empty or non-finite. */
CRYO_INLINE int pixel_window(float c, float sigma, intptr_t size, float pixel, float window_sigmas, intptr_t *lo,
                             intptr_t *hi) {
    const float position = c / pixel + (float)(size / 2);
    if (!isfinite(position)) return 0;
    const float radius = window_sigmas * sigma / pixel + 1;
    float low = floorf(position - radius), high = ceilf(position + radius);
    low = low < -1 ? -1 : (low > (float)size ? (float)size : low);
    high = high < -1 ? -1 : (high > (float)size ? (float)size : high);
    *lo = low < 0 ? 0 : (intptr_t)low;
    *hi = high > (float)(size - 1) ? size - 1 : (intptr_t)high;
    return *lo <= *hi;
}

/* The pixel-integrated factors f[k] of pixels lo + k for k < count (zero for count ≤ k < blocks·BLOCK) and, with
   df, their derivatives with respect to the centre. */
CRYO_INLINE void factors(float c, float sigma, intptr_t lo, intptr_t count, intptr_t blocks, intptr_t size,
                         float pixel, float *restrict f, float *restrict df, projector_buffers *b) {
    const float first = ((float)lo - (float)(size / 2) - 0.5f) * pixel - c;
    const float scale = 1.0f / (1.4142135624f * sigma);
    const intptr_t padded = blocks * BLOCK;
    float *restrict erfs = b->erfs, *restrict gaussians = b->gaussians;
    for (intptr_t k = 0; k < padded; k++) {
        erfs[k] = cryo_erf_and_gaussian((first + (float)k * pixel) * scale, &gaussians[k]);
    }
    /* The last edge bounds a factor only when the window fills its blocks; otherwise the loops below read a stale
       value there and discard it. */
    if (count == padded) erfs[padded] = cryo_erf_and_gaussian((first + (float)padded * pixel) * scale, &gaussians[padded]);
    for (intptr_t k = 0; k < padded; k++) {
        f[k] = k < count ? 0.5f * (erfs[k + 1] - erfs[k]) : 0.0f;
    }
    if (!df) return;
    const float norm = 1.0f / (2.5066282746f * sigma);
    for (intptr_t k = 0; k < padded; k++) {
        df[k] = k < count ? norm * (gaussians[k] - gaussians[k + 1]) : 0.0f;
    }
}

/* Where an atom is drawn: the window's first column j0 and row i0, its rows, and its width in blocks. */
typedef struct {
    intptr_t j0, i0, rows, blocks;
} atom_window;

/* Finds the window of an atom centred at (cx, cy) Å and fills b's factors (and, with derivative, their
   derivatives) for it; returns 0 when the atom draws nothing. */
CRYO_INLINE int prepare_atom(float cx, float cy, float sigma, intptr_t size, float pixel, float window_sigmas,
                             int derivative, projector_buffers *b, atom_window *w) {
    intptr_t j1, i1;
    if (!pixel_window(cx, sigma, size, pixel, window_sigmas, &w->j0, &j1)
        || !pixel_window(cy, sigma, size, pixel, window_sigmas, &w->i0, &i1)) return 0;
    const intptr_t width = j1 - w->j0 + 1;
    w->rows = i1 - w->i0 + 1;
    w->blocks = (width + BLOCK - 1) / BLOCK;
    factors(cx, sigma, w->j0, width, w->blocks, size, pixel, b->fx, derivative ? b->dfx : 0, b);
    factors(cy, sigma, w->i0, w->rows, (w->rows + BLOCK - 1) / BLOCK, size, pixel, b->fy, derivative ? b->dfy : 0, b);
    return 1;
}

/* Adds weight·fy[i]·fx[j] to the window whose top-left pixel is at `window` (rows of `stride` floats). */
CRYO_INLINE void add_window(float *restrict window, intptr_t stride, const float *restrict fx,
                            const float *restrict fy, intptr_t rows, intptr_t blocks, float weight) {
    for (intptr_t i = 0; i < rows; i++) {
        const float row = weight * fy[i];
        float *restrict line = window + i * stride;
        for (intptr_t block = 0; block < blocks; block++) {
            for (intptr_t j = 0; j < BLOCK; j++) line[block * BLOCK + j] += row * fx[block * BLOCK + j];
        }
    }
}

/* The cotangents weight·Σ g·fy·dfx and weight·Σ g·dfy·fx of an atom's centre (x, y) from the cotangent window at
   `window`. */
CRYO_INLINE void window_gradient(const float *restrict window, intptr_t stride, const float *restrict fx,
                                 const float *restrict fy, const float *restrict dfx, const float *restrict dfy,
                                 intptr_t rows, intptr_t blocks, float weight, float *restrict d_centre) {
    float gx_lanes[BLOCK] = { 0 }, gy_lanes[BLOCK] = { 0 };
    for (intptr_t block = 0; block < blocks; block++) {
        float t[BLOCK] = { 0 }, u[BLOCK] = { 0 };  /* this block's columns: Σ_i g·fy and Σ_i g·dfy */
        for (intptr_t i = 0; i < rows; i++) {
            const float row = fy[i], row_derivative = dfy[i];
            const float *restrict line = window + i * stride + block * BLOCK;
            for (intptr_t j = 0; j < BLOCK; j++) {
                t[j] += line[j] * row;
                u[j] += line[j] * row_derivative;
            }
        }
        for (intptr_t j = 0; j < BLOCK; j++) {
            gx_lanes[j] += t[j] * dfx[block * BLOCK + j];
            gy_lanes[j] += u[j] * fx[block * BLOCK + j];
        }
    }
    float gx = 0, gy = 0;
    for (intptr_t j = 0; j < BLOCK; j++) { gx += gx_lanes[j]; gy += gy_lanes[j]; }
    d_centre[0] = weight * gx;
    d_centre[1] = weight * gy;
}

CRYO_INLINE void project_image_body(const float *restrict centres, const float *restrict sigma,
                                    const float *restrict weight, intptr_t atoms, intptr_t size, float pixel,
                                    float window_sigmas, float *restrict scratch, float *restrict image) {
    projector_buffers b = buffers(scratch, size);
    const intptr_t stride = size + PAD;
    float *restrict padded = b.padded;
    for (intptr_t k = 0; k < size * stride; k++) padded[k] = 0;
    for (intptr_t n = 0; n < atoms; n++) {
        atom_window w;
        if (!prepare_atom(centres[2 * n], centres[2 * n + 1], sigma[n], size, pixel, window_sigmas, 0, &b, &w)) continue;
        add_window(padded + w.i0 * stride + w.j0, stride, b.fx, b.fy, w.rows, w.blocks, weight[n]);
    }
    for (intptr_t i = 0; i < size; i++) {
        for (intptr_t j = 0; j < size; j++) image[i * size + j] = padded[i * stride + j];
    }
}

CRYO_DISPATCH(cryo_project_image, project_image_body,
              (const float *centres, const float *sigma, const float *weight, intptr_t atoms, intptr_t size,
               float pixel, float window_sigmas, float *scratch, float *image),
              (centres, sigma, weight, atoms, size, pixel, window_sigmas, scratch, image))

CRYO_INLINE void project_image_backward_body(const float *restrict g, const float *restrict centres,
                                             const float *restrict sigma, const float *restrict weight,
                                             intptr_t atoms, intptr_t size, float pixel, float window_sigmas,
                                             float *restrict scratch, float *restrict d_centres) {
    projector_buffers b = buffers(scratch, size);
    const intptr_t stride = size + PAD;
    float *restrict padded = b.padded;
    for (intptr_t i = 0; i < size; i++) {
        for (intptr_t j = 0; j < stride; j++) padded[i * stride + j] = j < size ? g[i * size + j] : 0.0f;
    }
    for (intptr_t n = 0; n < atoms; n++) {
        d_centres[2 * n] = 0;
        d_centres[2 * n + 1] = 0;
        atom_window w;
        if (!prepare_atom(centres[2 * n], centres[2 * n + 1], sigma[n], size, pixel, window_sigmas, 1, &b, &w)) continue;
        window_gradient(padded + w.i0 * stride + w.j0, stride, b.fx, b.fy, b.dfx, b.dfy, w.rows, w.blocks, weight[n],
                        d_centres + 2 * n);
    }
}

CRYO_DISPATCH(cryo_project_image_backward, project_image_backward_body,
              (const float *g, const float *centres, const float *sigma, const float *weight, intptr_t atoms,
               intptr_t size, float pixel, float window_sigmas, float *scratch, float *d_centres),
              (g, centres, sigma, weight, atoms, size, pixel, window_sigmas, scratch, d_centres))

float cryo_erf(float x) {
    float gaussian;
    return cryo_erf_and_gaussian(x, &gaussian);
}
