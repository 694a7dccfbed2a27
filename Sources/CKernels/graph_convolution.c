#include "CKernels.h"
#include "isa_variants.h"

#include <string.h>

/* The loops of the fused graph-convolution stack; see CKernels.h. A chunk's tables are [N, F, LANES]: the
   batch item is the fastest axis, so every inner loop is LANES wide whatever F is. */

#define LANES CRYO_GCN_LANES

intptr_t cryo_gcn_scratch_floats(intptr_t nodes, intptr_t features) {
    return (3 * nodes * features + features * features + features) * LANES;
}

/* out[n, j] = Σ_i x[n, i]·w[i, j] (w is [F, F] row-major), or with w transposed (Σ_j x[n, j]·w[i, j] into out[n, i]). */
CRYO_INLINE void gcn_dense(const float *restrict x, const float *restrict w, intptr_t nodes, intptr_t features,
                           int transposed, float *restrict out) {
    for (intptr_t n = 0; n < nodes; n++) {
        const float *restrict xn = x + n * features * LANES;
        for (intptr_t j = 0; j < features; j++) {
            float acc[LANES] = {0};
            for (intptr_t i = 0; i < features; i++) {
                const float wij = transposed ? w[j * features + i] : w[i * features + j];
                const float *restrict xi = xn + i * LANES;
                for (int l = 0; l < LANES; l++) acc[l] += xi[l] * wij;
            }
            memcpy(out + (n * features + j) * LANES, acc, sizeof acc);
        }
    }
}

/* out[r, j] = Σ_k values[k]·x[columns[k], j] over row r's entries (compressed rows). */
CRYO_INLINE void gcn_sparse(const float *restrict x, const intptr_t *restrict row_start, const int32_t *restrict columns,
                            const float *restrict values, intptr_t nodes, intptr_t features, float *restrict out) {
    for (intptr_t r = 0; r < nodes; r++) {
        for (intptr_t j = 0; j < features; j++) {
            float acc[LANES] = {0};
            for (intptr_t k = row_start[r]; k < row_start[r + 1]; k++) {
                const float v = values[k];
                const float *restrict xc = x + ((intptr_t)columns[k] * features + j) * LANES;
                for (int l = 0; l < LANES; l++) acc[l] += v * xc[l];
            }
            memcpy(out + (r * features + j) * LANES, acc, sizeof acc);
        }
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
        const float *restrict b = biases + layer * features;
        const float residual = layer > 0 || first_residual ? 1.0f : 0.0f;
        gcn_dense(h, weights + layer * features * features, nodes, features, 0, u);
        gcn_sparse(u, row_start, columns, values, nodes, features, a);
        for (intptr_t n = 0; n < nodes; n++) {
            for (intptr_t j = 0; j < features; j++) {
                const intptr_t at = (n * features + j) * LANES;
                for (int l = 0; l < LANES; l++) {
                    const float x = a[at + l] + b[j];
                    a[at + l] = x;
                    next[at + l] = (x > 0 ? x : 0.0f) + residual * h[at + l];
                }
            }
        }
    }
}

CRYO_DISPATCH(cryo_gcn_forward, gcn_forward_body,
              (const float *weights, const float *biases, intptr_t layers, intptr_t features, const intptr_t *row_start,
               const int32_t *columns, const float *values, intptr_t nodes, int first_residual, float *states,
               float *pre, float *scratch),
              (weights, biases, layers, features, row_start, columns, values, nodes, first_residual, states, pre, scratch))

CRYO_INLINE void gcn_backward_body(const float *restrict weights, intptr_t layers, intptr_t features,
                                   const intptr_t *restrict row_start, const int32_t *restrict columns,
                                   const float *restrict values, intptr_t nodes, int first_residual,
                                   const float *restrict states, const float *restrict pre, float *restrict g,
                                   float *restrict d_weights, float *restrict d_biases, float *restrict scratch) {
    const intptr_t table = nodes * features * LANES;
    float *restrict ga = scratch, *restrict gu = scratch + table, *restrict dh = scratch + 2 * table;
    float *restrict dw = scratch + 3 * table, *restrict db = dw + features * features * LANES;
    for (intptr_t layer = layers - 1; layer >= 0; layer--) {
        const float *restrict h = states + layer * table;
        const float *restrict a = pre + layer * table;
        const float *restrict w = weights + layer * features * features;
        const float residual = layer > 0 || first_residual ? 1.0f : 0.0f;
        memset(dw, 0, (size_t)(features * features + features) * LANES * sizeof(float));
        /* Through the ReLU, and the bias's share. */
        for (intptr_t n = 0; n < nodes; n++) {
            for (intptr_t j = 0; j < features; j++) {
                const intptr_t at = (n * features + j) * LANES;
                for (int l = 0; l < LANES; l++) {
                    const float v = a[at + l] > 0 ? g[at + l] : 0.0f;
                    ga[at + l] = v;
                    db[j * LANES + l] += v;
                }
            }
        }
        /* Through Â (its transpose is passed), then W: dW += hᵀ·gu, dh = gu·Wᵀ (+ the residual's cotangent). */
        gcn_sparse(ga, row_start, columns, values, nodes, features, gu);
        for (intptr_t n = 0; n < nodes; n++) {
            for (intptr_t i = 0; i < features; i++) {
                const float *restrict hi = h + (n * features + i) * LANES;
                for (intptr_t j = 0; j < features; j++) {
                    const float *restrict gj = gu + (n * features + j) * LANES;
                    float *restrict acc = dw + (i * features + j) * LANES;
                    for (int l = 0; l < LANES; l++) acc[l] += hi[l] * gj[l];
                }
            }
        }
        gcn_dense(gu, w, nodes, features, 1, dh);
        for (intptr_t k = 0; k < table; k++) dh[k] += residual * g[k];
        for (intptr_t k = 0; k < features * features; k++) {
            float sum = 0;
            for (int l = 0; l < LANES; l++) sum += dw[k * LANES + l];
            d_weights[layer * features * features + k] += sum;
        }
        for (intptr_t j = 0; j < features; j++) {
            float sum = 0;
            for (int l = 0; l < LANES; l++) sum += db[j * LANES + l];
            d_biases[layer * features + j] += sum;
        }
        memcpy(g, dh, (size_t)table * sizeof(float));
    }
}

CRYO_DISPATCH(cryo_gcn_backward, gcn_backward_body,
              (const float *weights, intptr_t layers, intptr_t features, const intptr_t *row_start,
               const int32_t *columns, const float *values, intptr_t nodes, int first_residual, const float *states,
               const float *pre, float *g, float *d_weights, float *d_biases, float *scratch),
              (weights, layers, features, row_start, columns, values, nodes, first_residual, states, pre, g, d_weights,
               d_biases, scratch))
