#include "CKernels.h"
#include "isa_variants.h"

#include <math.h>

/* The BLOCK-float vectors below are passed between always-inline helpers only, so the ABI clang warns about for
   vector arguments wider than the target's registers never arises. */
#pragma clang diagnostic ignored "-Wpsabi"

/* Loops of the Gaussian projector. Every atom window is processed in blocks of BLOCK pixels along x (one
   AVX-512 vector, two AVX2 or four SSE vectors; a window of at most BLOCK/2 columns in one half block), with the
   1D factors past the window's end set to zero, so the inner loops have a fixed trip count and no remainders; images are rendered into (and cotangents read from) a
   scratch copy whose rows are padded by PAD floats so the last block never leaves its row.

   Atoms go in chunks of CHUNK: first every window of the chunk is found and the arguments of erf at all its pixel
   edges are listed, then erf and the Gaussian are evaluated over the whole list in one loop, then each atom's
   factors are formed and its window drawn. One atom's edges are only a few vectors, and evaluated atom by atom
   their long dependent chains (exp, division, polynomial) left the vector units idle; over the list they overlap. */

enum { BLOCK = 16, PAD = 2 * BLOCK, CHUNK = 32 };

/* Edges listed per atom and axis at most: a window spans at most size pixels, padded to whole blocks, plus its
   closing edge. */
CRYO_INLINE intptr_t edges_per_axis(intptr_t size) { return size + BLOCK + 1; }

intptr_t cryo_projector_scratch_floats(intptr_t size) {
    return size * (size + PAD) + 4 * (size + PAD + BLOCK) + 3 * CHUNK * 2 * edges_per_axis(size);
}

/* Per-thread buffers carved from scratch. */
typedef struct {
    float *padded;                  /* [size, size + PAD] image or cotangent */
    float *fx, *fy, *dfx, *dfy;     /* one atom's 1D factors and their derivatives with respect to the centre */
    float *arguments;               /* the chunk's erf arguments at its windows' pixel edges, atom by atom, x then y */
    float *erfs, *gaussians;        /* erf and e^(−x²) of each argument */
} projector_buffers;

CRYO_INLINE projector_buffers buffers(float *scratch, intptr_t size) {
    const intptr_t line = size + PAD + BLOCK, list = CHUNK * 2 * edges_per_axis(size);
    float *vectors = scratch + size * (size + PAD), *lists = vectors + 4 * line;
    projector_buffers b = { scratch, vectors, vectors + line, vectors + 2 * line, vectors + 3 * line,
                            lists, lists + list, lists + 2 * list };
    return b;
}

/* The pixel window [*lo, *hi] along one axis of an atom centred at c Å: the pixels that meet the interval of radius
   pixels about its centre (pixel j spans [j − 1/2, j + 1/2) in units of pixels from the image's first pixel
   centre); returns 0 when empty or non-finite. */
CRYO_INLINE int pixel_window(float c, float radius, intptr_t size, float inverse_pixel, intptr_t *lo, intptr_t *hi) {
    const float position = c * inverse_pixel + (float)(size / 2);
    if (!isfinite(position)) return 0;
    float low = floorf(position - radius + 0.5f), high = floorf(position + radius + 0.5f);
    low = low < -1 ? -1 : (low > (float)size ? (float)size : low);
    high = high < -1 ? -1 : (high > (float)size ? (float)size : high);
    *lo = low < 0 ? 0 : (intptr_t)low;
    *hi = high > (float)(size - 1) ? size - 1 : (intptr_t)high;
    return *lo <= *hi;
}

/* One atom of a chunk: where it is drawn (first column j0 and row i0, its columns and rows, its width and height
   in blocks) and where its edges start in the chunk's lists (x, then y). */
typedef struct {
    intptr_t j0, i0, columns, rows, blocks, x_edges, y_edges;
} atom_window;

/* Lists the erf arguments (distance from the centre c Å times scale) of the count + 1 pixel edges of a window
   starting at pixel lo along one axis, from arguments[0], in whole vectors of EDGE_LANES (the values past the last
   edge are overwritten by the next list or never read; the lists leave room for them); returns their count. */
enum { EDGE_LANES = 8 };
typedef float edge_vector __attribute__((vector_size(EDGE_LANES * sizeof(float)), aligned(sizeof(float))));
CRYO_INLINE intptr_t list_edges(float c, float scale, intptr_t lo, intptr_t count, intptr_t size, float pixel,
                                float *restrict arguments) {
    const float first = ((float)lo - (float)(size / 2) - 0.5f) * pixel - c;
    const edge_vector lanes = { 0, 1, 2, 3, 4, 5, 6, 7 };
    for (intptr_t k = 0; k <= count; k += EDGE_LANES) {
        const edge_vector edges = (first + (lanes + (float)k) * pixel) * scale;
        __builtin_memcpy(arguments + k, &edges, sizeof edges);
    }
    return count + 1;
}

/* Finds the windows of atoms [first, first + count) (at most CHUNK) and lists their edges; returns how many draw
   anything, their windows in w and their indices in drawn. The lists hold only the edges that bound a pixel of the
   window; `factors` reads past an atom's last edge into the next atom's (or stale) values and discards them. */
CRYO_INLINE intptr_t prepare_chunk(const float *restrict centres, const float *restrict sigma, intptr_t first,
                                   intptr_t count, intptr_t size, float pixel, float window_sigmas,
                                   projector_buffers *b, atom_window *restrict w, intptr_t *restrict drawn) {
    const float inverse_pixel = 1.0f / pixel;
    intptr_t listed = 0, kept = 0;
    for (intptr_t n = first; n < first + count; n++) {
        atom_window *a = &w[kept];
        const float radius = window_sigmas * sigma[n] * inverse_pixel, scale = 1.0f / (1.4142135624f * sigma[n]);
        intptr_t j1, i1;
        if (!pixel_window(centres[2 * n], radius, size, inverse_pixel, &a->j0, &j1)
            || !pixel_window(centres[2 * n + 1], radius, size, inverse_pixel, &a->i0, &i1)) continue;
        a->columns = j1 - a->j0 + 1;
        a->rows = i1 - a->i0 + 1;
        a->blocks = (a->columns + BLOCK - 1) / BLOCK;
        a->x_edges = listed;
        listed += list_edges(centres[2 * n], scale, a->j0, a->columns, size, pixel, b->arguments + listed);
        a->y_edges = listed;
        listed += list_edges(centres[2 * n + 1], scale, a->i0, a->rows, size, pixel, b->arguments + listed);
        drawn[kept++] = n;
    }
    float *restrict arguments = b->arguments, *restrict erfs = b->erfs, *restrict gaussians = b->gaussians;
    for (intptr_t k = 0; k < listed; k++) erfs[k] = cryo_erf_and_gaussian(arguments[k], &gaussians[k]);
    return kept;
}

/* The pixel-integrated factors f[k] of the window's pixels k < count (zero for count ≤ k < padded) from the
   erfs at its edges and, with df, their derivatives with respect to the centre from the Gaussians there. */
CRYO_INLINE void factors(const float *restrict erfs, const float *restrict gaussians, float sigma, intptr_t count,
                         intptr_t padded, float *restrict f, float *restrict df) {
    for (intptr_t k = 0; k < padded; k++) {
        f[k] = k < count ? 0.5f * (erfs[k + 1] - erfs[k]) : 0.0f;
    }
    if (!df) return;
    const float norm = 1.0f / (2.5066282746f * sigma);
    for (intptr_t k = 0; k < padded; k++) {
        df[k] = k < count ? norm * (gaussians[k] - gaussians[k + 1]) : 0.0f;
    }
}

/* Fills b's factors of atom a (and, with derivative, their derivatives) from the chunk's evaluated edges: along x
   padded with zeros to the vectors the window loops read (a half block or whole blocks), along y one per row. */
CRYO_INLINE void atom_factors(const atom_window *a, float sigma, int derivative, projector_buffers *b) {
    const intptr_t columns = a->columns <= BLOCK / 2 ? BLOCK / 2 : a->blocks * BLOCK;
    factors(b->erfs + a->x_edges, b->gaussians + a->x_edges, sigma, a->columns, columns, b->fx,
            derivative ? b->dfx : 0);
    factors(b->erfs + a->y_edges, b->gaussians + a->y_edges, sigma, a->rows, a->rows, b->fy,
            derivative ? b->dfy : 0);
}

/* The window loops, for vectors of WIDTH floats of the compiler's vector extension (loaded and stored unaligned;
   written out because the compiler's own vectorisation of these loops spilled its accumulators to the stack). They
   are built twice: for whole blocks (one AVX-512 vector, two AVX2 or four SSE vectors) and for half blocks, which
   windows of at most BLOCK/2 columns use (with σ = 1.5 Å a residue's window is 4–5 columns at 4 Å/px and 8–9 at 2 Å/px: half the work on AVX2).

   add_window_SUFFIX adds weight·fy[i]·fx[j] to the window whose top-left pixel is at `window` (rows of `stride`
   floats), `vectors` vectors wide.

   window_gradient_SUFFIX writes the cotangents weight·Σ g·fy·dfx and weight·Σ g·dfy·fx of an atom's centre (x, y)
   from the cotangent window at `window`. Even and odd rows are summed apart so the additions of consecutive rows do
   not wait on each other. */
#define CRYO_WINDOW_LOOPS(VECTOR, WIDTH, SUFFIX)                                                                      \
    typedef float VECTOR __attribute__((vector_size(WIDTH * sizeof(float)), aligned(sizeof(float))));                \
                                                                                                                      \
    CRYO_INLINE VECTOR load_##SUFFIX(const float *p) {                                                                \
        VECTOR v;                                                                                                     \
        __builtin_memcpy(&v, p, sizeof v);                                                                            \
        return v;                                                                                                     \
    }                                                                                                                 \
                                                                                                                      \
    CRYO_INLINE void add_window_##SUFFIX(float *restrict window, intptr_t stride, const float *restrict fx,            \
                                         const float *restrict fy, intptr_t rows, intptr_t vectors, float weight) {   \
        for (intptr_t v = 0; v < vectors; v++) {                                                                      \
            const VECTOR column = load_##SUFFIX(fx + v * WIDTH) * weight;                                             \
            for (intptr_t i = 0; i < rows; i++) {                                                                     \
                float *line = window + i * stride + v * WIDTH;                                                        \
                const VECTOR sum = load_##SUFFIX(line) + column * fy[i];                                              \
                __builtin_memcpy(line, &sum, sizeof sum);                                                             \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
                                                                                                                      \
    CRYO_INLINE void window_gradient_##SUFFIX(const float *restrict window, intptr_t stride,                           \
                                              const float *restrict fx, const float *restrict fy,                     \
                                              const float *restrict dfx, const float *restrict dfy, intptr_t rows,    \
                                              intptr_t vectors, float weight, float *restrict d_centre) {             \
        VECTOR gx = { 0 }, gy = { 0 };                                                                                \
        for (intptr_t v = 0; v < vectors; v++) {                                                                      \
            /* These columns: Σ_i g·fy and Σ_i g·dfy over even (t0, u0) and odd (t1, u1) rows. */                     \
            VECTOR t0 = { 0 }, u0 = { 0 }, t1 = { 0 }, u1 = { 0 };                                                    \
            const float *column = window + v * WIDTH;                                                                 \
            intptr_t i = 0;                                                                                           \
            for (; i + 1 < rows; i += 2) {                                                                            \
                const VECTOR even = load_##SUFFIX(column + i * stride), odd = load_##SUFFIX(column + (i + 1) * stride); \
                t0 += even * fy[i];                                                                                   \
                u0 += even * dfy[i];                                                                                  \
                t1 += odd * fy[i + 1];                                                                                \
                u1 += odd * dfy[i + 1];                                                                               \
            }                                                                                                         \
            if (i < rows) {                                                                                           \
                const VECTOR last = load_##SUFFIX(column + i * stride);                                               \
                t0 += last * fy[i];                                                                                   \
                u0 += last * dfy[i];                                                                                  \
            }                                                                                                         \
            gx += (t0 + t1) * load_##SUFFIX(dfx + v * WIDTH);                                                         \
            gy += (u0 + u1) * load_##SUFFIX(fx + v * WIDTH);                                                          \
        }                                                                                                             \
        float sx = 0, sy = 0;                                                                                         \
        for (intptr_t j = 0; j < WIDTH; j++) { sx += gx[j]; sy += gy[j]; }                                            \
        d_centre[0] = weight * sx;                                                                                    \
        d_centre[1] = weight * sy;                                                                                    \
    }

CRYO_WINDOW_LOOPS(block_vector, BLOCK, block)
CRYO_WINDOW_LOOPS(half_block_vector, BLOCK / 2, half_block)

/* Adds atom a's window (factors in b) into the padded image at `window`, in a half block when it is that narrow. */
CRYO_INLINE void add_window(float *restrict window, intptr_t stride, const atom_window *a, const projector_buffers *b,
                            float weight) {
    if (a->columns <= BLOCK / 2) {
        add_window_half_block(window, stride, b->fx, b->fy, a->rows, 1, weight);
    } else {
        add_window_block(window, stride, b->fx, b->fy, a->rows, a->blocks, weight);
    }
}

/* Writes atom a's centre cotangent (2 floats at d_centre) from the padded cotangent at `window`. */
CRYO_INLINE void window_gradient(const float *restrict window, intptr_t stride, const atom_window *a,
                                 const projector_buffers *b, float weight, float *restrict d_centre) {
    if (a->columns <= BLOCK / 2) {
        window_gradient_half_block(window, stride, b->fx, b->fy, b->dfx, b->dfy, a->rows, 1, weight, d_centre);
    } else {
        window_gradient_block(window, stride, b->fx, b->fy, b->dfx, b->dfy, a->rows, a->blocks, weight, d_centre);
    }
}

/* Every atom that draws anything, chunk by chunk: its factors formed and, forward, its window added into b's
   padded image or, backward, its centre's cotangent written into d_centres from b's padded cotangent. */
CRYO_INLINE void visit_atoms(int backward, const float *restrict centres, const float *restrict sigma,
                             const float *restrict weight, intptr_t atoms, intptr_t size, float pixel,
                             float window_sigmas, projector_buffers *b, float *restrict d_centres) {
    const intptr_t stride = size + PAD;
    atom_window w[CHUNK];
    intptr_t drawn[CHUNK];
    for (intptr_t first = 0; first < atoms; first += CHUNK) {
        const intptr_t kept = prepare_chunk(centres, sigma, first, atoms - first < CHUNK ? atoms - first : CHUNK, size,
                                            pixel, window_sigmas, b, w, drawn);
        for (intptr_t m = 0; m < kept; m++) {
            const intptr_t n = drawn[m];
            float *window = b->padded + w[m].i0 * stride + w[m].j0;
            atom_factors(&w[m], sigma[n], backward, b);
            if (backward) {
                window_gradient(window, stride, &w[m], b, weight[n], d_centres + 2 * n);
            } else {
                add_window(window, stride, &w[m], b, weight[n]);
            }
        }
    }
}

CRYO_INLINE void project_centres_body(const float *restrict coords, intptr_t atoms, const double *restrict frame,
                                      float origin_x, float origin_y, float *restrict centres) {
    for (intptr_t n = 0; n < atoms; n++) {
        const double x = coords[3 * n], y = coords[3 * n + 1], z = coords[3 * n + 2];
        centres[2 * n] = (float)(frame[0] * x + frame[1] * y + frame[2] * z) - origin_x;
        centres[2 * n + 1] = (float)(frame[3] * x + frame[4] * y + frame[5] * z) - origin_y;
    }
}

CRYO_DISPATCH(cryo_project_centres, project_centres_body,
              (const float *coords, intptr_t atoms, const double *frame, float origin_x, float origin_y, float *centres),
              (coords, atoms, frame, origin_x, origin_y, centres))

CRYO_INLINE void project_image_body(const float *restrict centres, const float *restrict sigma,
                                    const float *restrict weight, intptr_t atoms, intptr_t size, float pixel,
                                    float window_sigmas, float *restrict scratch, float *restrict image) {
    projector_buffers b = buffers(scratch, size);
    const intptr_t stride = size + PAD;
    float *restrict padded = b.padded;
    for (intptr_t k = 0; k < size * stride; k++) padded[k] = 0;
    visit_atoms(0, centres, sigma, weight, atoms, size, pixel, window_sigmas, &b, 0);
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
    for (intptr_t k = 0; k < 2 * atoms; k++) d_centres[k] = 0;
    visit_atoms(1, centres, sigma, weight, atoms, size, pixel, window_sigmas, &b, d_centres);
}

CRYO_DISPATCH(cryo_project_image_backward, project_image_backward_body,
              (const float *g, const float *centres, const float *sigma, const float *weight, intptr_t atoms,
               intptr_t size, float pixel, float window_sigmas, float *scratch, float *d_centres),
              (g, centres, sigma, weight, atoms, size, pixel, window_sigmas, scratch, d_centres))

float cryo_erf(float x) {
    float gaussian;
    return cryo_erf_and_gaussian(x, &gaussian);
}
