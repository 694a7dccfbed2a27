#include "CKernels.h"
#include "isa_variants.h"

/* The loops of the fused message-passing kernel; see CKernels.h. Rows of one node are contiguous [B, H]. */

CRYO_INLINE void message_forward_body(const float *restrict a, const float *restrict t, const float *restrict c,
                                      const int32_t *restrict src, const intptr_t *restrict start,
                                      const intptr_t *restrict edges, intptr_t node_begin, intptr_t node_end,
                                      intptr_t batch, intptr_t hidden, int edge_per_batch, float *restrict out) {
    const intptr_t width = batch * hidden;
    for (intptr_t node = node_begin; node < node_end; node++) {
        for (intptr_t k = start[node]; k < start[node + 1]; k++) {
            const intptr_t e = edges[k];
            const float *source = a + (intptr_t)src[e] * width;
            for (intptr_t b = 0; b < batch; b++) {
                const float *restrict ra = source + b * hidden;
                const float *restrict rt = t + node * width + b * hidden;
                const float *restrict rc = c + (edge_per_batch ? (e * batch + b) * hidden : e * hidden);
                float *restrict ro = out + node * width + b * hidden;
                for (intptr_t j = 0; j < hidden; j++) {
                    const float x = ra[j] + rt[j] + rc[j];
                    ro[j] += x / (1.0f + cryo_exp(-x));
                }
            }
        }
    }
}

CRYO_DISPATCH(cryo_message_forward, message_forward_body,
              (const float *a, const float *t, const float *c, const int32_t *src, const intptr_t *start,
               const intptr_t *edges, intptr_t node_begin, intptr_t node_end, intptr_t batch, intptr_t hidden,
               int edge_per_batch, float *out),
              (a, t, c, src, start, edges, node_begin, node_end, batch, hidden, edge_per_batch, out))

CRYO_INLINE void message_backward_body(const float *restrict g, const float *restrict a, const float *restrict t,
                                       const float *restrict c, const int32_t *restrict src,
                                       const intptr_t *restrict start, const intptr_t *restrict edges,
                                       intptr_t node_begin, intptr_t node_end, intptr_t batch, intptr_t hidden,
                                       int edge_per_batch, float *restrict d_source, float *restrict d_target,
                                       float *restrict d_edge) {
    const intptr_t width = batch * hidden;
    for (intptr_t node = node_begin; node < node_end; node++) {
        for (intptr_t k = start[node]; k < start[node + 1]; k++) {
            const intptr_t e = edges[k];
            const intptr_t s = (intptr_t)src[e];
            for (intptr_t b = 0; b < batch; b++) {
                const intptr_t own = node * width + b * hidden, other = s * width + b * hidden;
                const intptr_t edge_row = edge_per_batch ? (e * batch + b) * hidden : e * hidden;
                const float *restrict ra = a + other;
                const float *restrict rt = t + own;
                const float *restrict rc = c + edge_row;
                const float *restrict rg = g + own;
                float *restrict da = d_source + other;
                float *restrict dt = d_target + own;
                float *restrict dc = d_edge + edge_row;
                for (intptr_t j = 0; j < hidden; j++) {
                    const float x = ra[j] + rt[j] + rc[j];
                    const float sigma = 1.0f / (1.0f + cryo_exp(-x));
                    const float v = rg[j] * sigma * (1.0f + x * (1.0f - sigma));
                    da[j] += v;
                    dt[j] += v;
                    dc[j] += v;
                }
            }
        }
    }
}

CRYO_DISPATCH(cryo_message_backward, message_backward_body,
              (const float *g, const float *a, const float *t, const float *c, const int32_t *src,
               const intptr_t *start, const intptr_t *edges, intptr_t node_begin, intptr_t node_end, intptr_t batch,
               intptr_t hidden, int edge_per_batch, float *d_source, float *d_target, float *d_edge),
              (g, a, t, c, src, start, edges, node_begin, node_end, batch, hidden, edge_per_batch, d_source, d_target,
               d_edge))
