#include "CKernels.h"
#include "isa_variants.h"

#include <string.h>

/* The loops of the fused graph-convolution stack; see CKernels.h. A chunk's tables are [N, F, LANES]: the
   batch item is the fastest axis, so one node's feature is one vector of LANES floats (a gcn_vector: two AVX2
   registers, one AVX-512 register) whatever F is. Each loop keeps the sums of up to BLOCK output features in
   registers while it runs over its reduction, so the multiply-adds of different features overlap instead of
   waiting on one another. */

#define LANES CRYO_GCN_LANES
#define BLOCK 5

/* The helpers below pass gcn_vector by value; they are always inlined into one instruction set's variant, so no
   call crosses an ABI boundary, which is all -Wpsabi warns of. */
#pragma clang diagnostic ignored "-Wpsabi"

typedef float gcn_vector __attribute__((vector_size(LANES * sizeof(float)), aligned(sizeof(float))));

CRYO_INLINE gcn_vector gcn_load(const float *p) {
    gcn_vector v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

CRYO_INLINE void gcn_store(float *p, gcn_vector v) { __builtin_memcpy(p, &v, sizeof v); }

/* v where mask > 0, else 0, lane by lane. */
CRYO_INLINE gcn_vector gcn_where_positive(gcn_vector mask, gcn_vector v) {
    typedef int32_t gcn_bits __attribute__((vector_size(LANES * sizeof(int32_t))));
    return (gcn_vector)((gcn_bits)v & (mask > 0));
}

intptr_t cryo_gcn_scratch_floats(intptr_t nodes, intptr_t features) {
    return (2 * nodes * features + features * features) * LANES;
}

/* Runs `block` (a statement using j0 and width) on every block of features, width a constant 1 ... BLOCK in each
   expansion so that the block's loops unroll into registers. */
#define FOR_FEATURE_BLOCKS(features, block)                                                      \
    do {                                                                                         \
        intptr_t j0 = 0;                                                                         \
        for (; j0 + BLOCK <= (features); j0 += BLOCK) { const int width = BLOCK; block; }        \
        switch ((features) - j0) {                                                               \
        case 4: { const int width = 4; block; } break;                                           \
        case 3: { const int width = 3; block; } break;                                           \
        case 2: { const int width = 2; block; } break;                                           \
        case 1: { const int width = 1; block; } break;                                           \
        default: break;                                                                          \
        }                                                                                        \
    } while (0)

/* acc[q] = Σ_i xn[i]·w(i, j0 + q) for q < width, over one node's features xn [F, LANES]; w(i, j) = w[i·F + j],
   or w[j·F + i] when transposed. */
CRYO_INLINE void gcn_dense_block(const float *restrict xn, const float *restrict w, intptr_t features, int transposed,
                                 intptr_t j0, int width, gcn_vector acc[BLOCK]) {
    for (int q = 0; q < width; q++) acc[q] = (gcn_vector){0};
    for (intptr_t i = 0; i < features; i++) {
        const gcn_vector xi = gcn_load(xn + i * LANES);
        for (int q = 0; q < width; q++) acc[q] += xi * (transposed ? w[(j0 + q) * features + i] : w[i * features + j0 + q]);
    }
}

/* acc[q] = Σ_k values[k]·x[columns[k], j0 + q] over row r's entries of Â (compressed rows), x [N, F, LANES]. */
CRYO_INLINE void gcn_sparse_block(const float *restrict x, const intptr_t *restrict row_start,
                                  const int32_t *restrict columns, const float *restrict values, intptr_t r,
                                  intptr_t features, intptr_t j0, int width, gcn_vector acc[BLOCK]) {
    for (int q = 0; q < width; q++) acc[q] = (gcn_vector){0};
    for (intptr_t k = row_start[r]; k < row_start[r + 1]; k++) {
        const float v = values[k];
        const float *restrict xc = x + ((intptr_t)columns[k] * features + j0) * LANES;
        for (int q = 0; q < width; q++) acc[q] += v * gcn_load(xc + q * LANES);
    }
}

CRYO_INLINE void gcn_forward_body(const float *restrict weights, const float *restrict biases, intptr_t layers,
                                  intptr_t features, const intptr_t *restrict row_start,
                                  const int32_t *restrict columns, const float *restrict values, intptr_t nodes,
                                  int first_residual, float *restrict states, float *restrict pre,
                                  float *restrict scratch) {
    const intptr_t table = nodes * features * LANES;
    float *restrict u = scratch;
    for (intptr_t layer = 0; layer < layers; layer++) {
        const float *restrict h = states + layer * table;
        float *restrict next = states + (layer + 1) * table;
        float *restrict a = pre + layer * table;
        const float *restrict w = weights + layer * features * features, *restrict b = biases + layer * features;
        const float residual = layer > 0 || first_residual ? 1.0f : 0.0f;
        /* u = h·W, node by node. */
        for (intptr_t n = 0; n < nodes; n++) {
            FOR_FEATURE_BLOCKS(features, {
                gcn_vector acc[BLOCK];
                gcn_dense_block(h + n * features * LANES, w, features, 0, j0, width, acc);
                for (int q = 0; q < width; q++) gcn_store(u + (n * features + j0 + q) * LANES, acc[q]);
            });
        }
        /* a = Â·u + b, next = ReLU(a) + residual·h, row by row. */
        for (intptr_t r = 0; r < nodes; r++) {
            FOR_FEATURE_BLOCKS(features, {
                gcn_vector acc[BLOCK];
                gcn_sparse_block(u, row_start, columns, values, r, features, j0, width, acc);
                for (int q = 0; q < width; q++) {
                    const intptr_t at = (r * features + j0 + q) * LANES;
                    const gcn_vector x = acc[q] + b[j0 + q];
                    gcn_store(a + at, x);
                    gcn_store(next + at, gcn_where_positive(x, x) + residual * gcn_load(h + at));
                }
            });
        }
    }
}

CRYO_DISPATCH(cryo_gcn_forward, gcn_forward_body,
              (const float *weights, const float *biases, intptr_t layers, intptr_t features, const intptr_t *row_start,
               const int32_t *columns, const float *values, intptr_t nodes, int first_residual, float *states,
               float *pre, float *scratch),
              (weights, biases, layers, features, row_start, columns, values, nodes, first_residual, states, pre, scratch))

/* dw[i, j] += Σ_n h[n, i]·gu[n, j], lane by lane (dw is [F, F, LANES]), over NODE_BLOCK nodes at a time so
   that their rows of h and gu stay in L1 while every (i, j) passes over them. */
#define NODE_BLOCK 16
CRYO_INLINE void gcn_weight_cotangent(const float *restrict h, const float *restrict gu, intptr_t nodes,
                                      intptr_t features, float *restrict dw) {
    for (intptr_t n0 = 0; n0 < nodes; n0 += NODE_BLOCK) {
        const intptr_t n1 = n0 + NODE_BLOCK < nodes ? n0 + NODE_BLOCK : nodes;
        for (intptr_t i = 0; i < features; i++) {
            FOR_FEATURE_BLOCKS(features, {
                float *restrict out = dw + (i * features + j0) * LANES;
                gcn_vector acc[BLOCK];
                for (int q = 0; q < width; q++) acc[q] = gcn_load(out + q * LANES);
                for (intptr_t n = n0; n < n1; n++) {
                    const gcn_vector hi = gcn_load(h + (n * features + i) * LANES);
                    const float *restrict gj = gu + (n * features + j0) * LANES;
                    for (int q = 0; q < width; q++) acc[q] += hi * gcn_load(gj + q * LANES);
                }
                for (int q = 0; q < width; q++) gcn_store(out + q * LANES, acc[q]);
            });
        }
    }
}

/* The sum of a vector's lanes. */
CRYO_INLINE float gcn_lane_sum(gcn_vector v) {
    float sum = 0;
    for (int l = 0; l < LANES; l++) sum += v[l];
    return sum;
}

CRYO_INLINE void gcn_backward_body(const float *restrict weights, intptr_t layers, intptr_t features,
                                   const intptr_t *restrict row_start, const int32_t *restrict columns,
                                   const float *restrict values, intptr_t nodes, int first_residual,
                                   const float *restrict states, const float *restrict pre, float *restrict g,
                                   float *restrict d_weights, float *restrict d_biases, float *restrict scratch) {
    const intptr_t table = nodes * features * LANES;
    float *restrict ga = scratch, *restrict gu = scratch + table, *restrict dw = scratch + 2 * table;
    for (intptr_t layer = layers - 1; layer >= 0; layer--) {
        const float *restrict h = states + layer * table;
        const float *restrict a = pre + layer * table;
        const float *restrict w = weights + layer * features * features;
        const float residual = layer > 0 || first_residual ? 1.0f : 0.0f;
        /* Through the ReLU, and the bias's share. */
        for (intptr_t j = 0; j < features; j++) {
            gcn_vector db = {0};
            for (intptr_t n = 0; n < nodes; n++) {
                const intptr_t at = (n * features + j) * LANES;
                const gcn_vector v = gcn_where_positive(gcn_load(a + at), gcn_load(g + at));
                gcn_store(ga + at, v);
                db += v;
            }
            d_biases[layer * features + j] += gcn_lane_sum(db);
        }
        /* Through Â (its transpose is passed): gu = Âᵀ·ga, row by row. */
        for (intptr_t r = 0; r < nodes; r++) {
            FOR_FEATURE_BLOCKS(features, {
                gcn_vector acc[BLOCK];
                gcn_sparse_block(ga, row_start, columns, values, r, features, j0, width, acc);
                for (int q = 0; q < width; q++) gcn_store(gu + (r * features + j0 + q) * LANES, acc[q]);
            });
        }
        /* Then W: dW = hᵀ·gu, and g ← gu·Wᵀ + residual·g in place (each element read before it is written). */
        memset(dw, 0, (size_t)(features * features * LANES) * sizeof(float));
        gcn_weight_cotangent(h, gu, nodes, features, dw);
        for (intptr_t k = 0; k < features * features; k++) d_weights[layer * features * features + k] += gcn_lane_sum(gcn_load(dw + k * LANES));
        for (intptr_t n = 0; n < nodes; n++) {
            FOR_FEATURE_BLOCKS(features, {
                gcn_vector acc[BLOCK];
                gcn_dense_block(gu + n * features * LANES, w, features, 1, j0, width, acc);
                for (int q = 0; q < width; q++) {
                    float *restrict gq = g + (n * features + j0 + q) * LANES;
                    gcn_store(gq, acc[q] + residual * gcn_load(gq));
                }
            });
        }
    }
}

CRYO_DISPATCH(cryo_gcn_backward, gcn_backward_body,
              (const float *weights, intptr_t layers, intptr_t features, const intptr_t *row_start,
               const int32_t *columns, const float *values, intptr_t nodes, int first_residual, const float *states,
               const float *pre, float *g, float *d_weights, float *d_biases, float *scratch),
              (weights, layers, features, row_start, columns, values, nodes, first_residual, states, pre, g, d_weights,
               d_biases, scratch))
