#ifndef CRYO_CKERNELS_H
#define CRYO_CKERNELS_H

#include <stdint.h>

/* Hot loops of CryoKernels written in C so each can be compiled for several instruction sets (SSE2, AVX2+FMA,
   AVX-512) in one binary and picked at run time for the CPU at hand: Swift compiles a module for one target, and
   a baseline x86-64 build uses 4-wide SSE only. Every function works on a range of output rows so Swift's
   `Parallel` can split the work; none allocates. */

/* Instruction sets a kernel can run with, from the baseline up. */
typedef enum {
    CRYO_ISA_BASELINE = 0,
    CRYO_ISA_AVX2 = 1,
    CRYO_ISA_AVX512 = 2
} cryo_isa;

/* The widest instruction set this CPU supports (asks the CPU on every call; the kernels use cryo_isa_active). */
cryo_isa cryo_isa_supported(void);

/* The instruction set kernels use: the supported one, unless capped by the environment variable
   CRYOSCRIPT_ISA (sse2 or avx2) read at first use, or lowered by cryo_isa_limit. */
cryo_isa cryo_isa_active(void);

/* Caps the instruction set kernels use (tests run every path the CPU has); returns the one now active. */
cryo_isa cryo_isa_limit(cryo_isa limit);

/* Fused message passing (see Tensor.messageAggregate). Node tables a (source share), t (target share) and the
   cotangent g are [N, B, H]; edge terms c are [E, B, H] when edge_per_batch is nonzero, else [E, 1, H] shared by
   the batch. Edges entering node n are edges[start[n] ..< start[n+1]], edge e leaves node src[e].
   Forward: for nodes node_begin ..< node_end, out[n] += Σ_e silu(a[src e] + t[n] + c[e]). */
void cryo_message_forward(const float *a, const float *t, const float *c, const int32_t *src,
                          const intptr_t *start, const intptr_t *edges, intptr_t node_begin, intptr_t node_end,
                          intptr_t batch, intptr_t hidden, int edge_per_batch, float *out);

/* Backward of cryo_message_forward for the edges entering nodes node_begin ..< node_end: adds each edge's
   pre-activation cotangent v = g[n]·silu'(x) to d_target[n], d_edge[e] and d_source[src e]. d_target and d_edge
   rows belong to the range's nodes; d_source rows may belong to any node, so each concurrent range needs its own
   d_source buffer (the caller sums them). */
void cryo_message_backward(const float *g, const float *a, const float *t, const float *c, const int32_t *src,
                           const intptr_t *start, const intptr_t *edges, intptr_t node_begin, intptr_t node_end,
                           intptr_t batch, intptr_t hidden, int edge_per_batch,
                           float *d_source, float *d_target, float *d_edge);

/* A D×D real image's 2D transform (D even) as complex transforms of its rows in pairs (see FFT.swift); complex
   numbers are interleaved (re, im) floats, pairs [D/2, D] complex, half spectra [D, D/2+1] complex.
   pack_rows: pair j = row 2j + i·row 2j+1; unpack_rows: the inverse.
   split_pairs: the transformed pairs Z into the rows' half spectra A[k] = (Z[k] + conj Z[−k])/2 and
   B[k] = (Z[k] − conj Z[−k])/2i; join_pairs: Z = A + iB from two half spectra read as Hermitian (the imaginary
   parts at frequency 0 and D/2 unused, as by a complex-to-real transform). */
void cryo_fft_pack_rows(const float *real, intptr_t d, float *pairs);
void cryo_fft_unpack_rows(const float *pairs, intptr_t d, float *real);
void cryo_fft_split_pairs(const float *pairs, intptr_t d, float *half);
void cryo_fft_join_pairs(const float *half, intptr_t d, float *pairs);

/* The matrix product of a narrow right operand (see MatMul.swift): C[m, n] = A·B[k, n], or C += A·B when
   accumulate is nonzero; A's element (i, p) is a[i·row_stride + p·column_stride] (so a transposed A is strides
   (1, lda)), B's and C's rows are ldb and ldc floats apart. Fast while B's rows stay in cache: it reads B in place
   instead of packing it, for the products of GNN layers ([B·N, 64] × [64, 64], their output layers' 3 columns) and
   their gradients. Works on rows 0 ..< m of C; split the rows across threads. */
void cryo_narrow_gemm(const float *a, intptr_t row_stride, intptr_t column_stride, const float *b, intptr_t ldb,
                      intptr_t m, intptr_t n, intptr_t k, int accumulate, float *c, intptr_t ldc);

/* Fused stack of graph convolutions h ← ReLU(Â·(h·W_l) + b_l) + r_l·h for layers l = 0 ..< L of F features
   (see GraphConvolutionStack.swift), on one chunk of CRYO_GCN_LANES batch items. Every node table of a chunk is
   [N, F, LANES], the item fastest (unused lanes hold zeros). weights are [L, F, F] (x·W, row-major), biases
   [L, F]; Â is N×N in compressed rows (row r's entries are columns/values[row_start[r] ..< row_start[r+1]]);
   r_l = 1 except r_0 = first_residual. scratch holds cryo_gcn_scratch_floats(N, F) floats of one thread. */
#define CRYO_GCN_LANES 16
intptr_t cryo_gcn_scratch_floats(intptr_t nodes, intptr_t features);

/* states [L+1, N, F, LANES]: layer 0 is the input, layers 1 ... L are written (L is the output); pre [L, N, F,
   LANES] receives each layer's pre-activation Â·(h·W) + b, which the backward pass needs. */
void cryo_gcn_forward(const float *weights, const float *biases, intptr_t layers, intptr_t features,
                      const intptr_t *row_start, const int32_t *columns, const float *values, intptr_t nodes,
                      int first_residual, float *states, float *pre, float *scratch);

/* Backward of cryo_gcn_forward given Âᵀ (row_start, columns, values) and the forward's states and pre: g holds
   the cotangent of the output [N, F, LANES] and is overwritten by the input's; the chunk's shares of the weight
   and bias cotangents are added to d_weights [L, F, F] and d_biases [L, F]. */
void cryo_gcn_backward(const float *weights, intptr_t layers, intptr_t features, const intptr_t *row_start,
                       const int32_t *columns, const float *values, intptr_t nodes, int first_residual,
                       const float *states, const float *pre, float *g, float *d_weights, float *d_biases,
                       float *scratch);

/* The Gaussian projector's per-image work (see Projector.swift). Atom n of the image has its projected centre at
   (centres[2n], centres[2n+1]) Å, width sigma[n] Å and weight weight[n]; it is rendered within
   ±window_sigmas·σ of its centre as weight·Fx(j)·Fy(i), F being the normal density integrated over each pixel.
   scratch must hold cryo_projector_scratch_floats(size) floats and belong to one thread. */
intptr_t cryo_projector_scratch_floats(intptr_t size);

/* The projected centres (Å) of atoms coords [N,3] seen in a frame: centres[2n] = r0·x_n − origin_x and
   centres[2n + 1] = r1·x_n − origin_y, with the rotation's first two rows frame = (r00, r01, r02, r10, r11, r12)
   (products in Double). */
void cryo_project_centres(const float *coords, intptr_t atoms, const double *frame, float origin_x, float origin_y, float *centres);

/* Renders every atom of one image into image [size, size] (overwritten). */
void cryo_project_image(const float *centres, const float *sigma, const float *weight, intptr_t atoms, intptr_t size,
                        float pixel, float window_sigmas, float *scratch, float *image);

/* For the image cotangent g [size, size], writes each atom's cotangent with respect to its projected centre
   into d_centres [atoms, 2] (x, then y). */
void cryo_project_image_backward(const float *g, const float *centres, const float *sigma, const float *weight,
                                 intptr_t atoms, intptr_t size, float pixel, float window_sigmas, float *scratch,
                                 float *d_centres);

/* Per-rendering reductions of the fused pose scores (CandidateScoring.swift). moments[0] = Σ z·p and
   moments[1] = Σ p over n pixels. */
void cryo_image_moments(const float *z, const float *p, intptr_t n, float *moments);

/* energy[0] = Σ_k power[k]·|s_k|² over the half spectrum s of `count` complex entries (re, im interleaved); with
   filter and filtered non-null, filtered[k] = filter[k]·s_k (filtered may be spectrum itself). */
void cryo_spectrum_energy(const float *power, const float *spectrum, const float *filter, intptr_t count, float *energy,
                          float *filtered);

/* out[k] = a·z[k] + c·q[k] + e for k < n. */
void cryo_image_combination(const float *z, const float *q, float a, float c, float e, intptr_t n, float *out);

/* The in-plane shift search (ShiftSearch.swift), on half spectra [rows, columns] of complex values held as split planes
   (cryo_split_spectrum: the real parts [rows, P], then the imaginary parts [rows, P], P = columns rounded up to
   CORRELATION_LANES, zero beyond the columns). The correlation c(s) = Σ_k w_k·Re(z_k·conj(p_k)·e^{2πi k·s/D}) of the
   images behind half spectra z and p (D = rows, unnormalised FFTs; w_k = 2 on the columns that stand for their mirror
   images) at the whole-pixel offsets s = (i, j), |i|, |j| ≤ reach, without the inverse FFT of the whole map:
   out[(i + reach)·W + j + reach], W = 2·reach + 1. Inputs for the offsets s = 0…reach along each axis: row_twiddles
   [reach + 1, rows] complex e^{2πi r·s/D} (re, im interleaved); column_real and column_imaginary [columns, L] floats,
   w_k·e^{2πi k·s/D} in lane s, L = reach + 1 rounded up to CORRELATION_LANES; scratch 2·(rows + W)·P floats. With
   power ([rows, P] floats, zero beyond the columns), energy[0] = Σ_k power_k·|p_k|² from the same pass (NULL: none). */
enum { CORRELATION_LANES = 8 };
void cryo_correlation_window(const float *z, const float *p, intptr_t rows, intptr_t columns, const float *row_twiddles,
                             const float *column_real, const float *column_imaginary, intptr_t reach, const float *power,
                             float *energy, float *scratch, float *out);

/* The split planes (see cryo_correlation_window) of a half spectrum [rows, columns] of interleaved complex values. */
void cryo_split_spectrum(const float *spectrum, intptr_t rows, intptr_t columns, float *planes);

/* After cryo_correlation_window on the same scratch, rows and columns: total[0] = Σ_ij column_weight[j]·
   Re(cross[i, j]·row_ramp[i]·column_ramp[j]), cross = z·conj(p) of that call (left in scratch): the inner product of
   z moved by the phase ramp and p (Float within a row, Double across rows). */
void cryo_window_shifted_dot(const float *scratch, intptr_t rows, intptr_t columns, const float *row_ramp, const float *column_ramp,
                             const float *column_weight, double *total);

/* The factors of e^{2πi k·s/D}/D² for the offset s = (row_offset, column_offset) pixels along the rows (row_ramp,
   D complex: frequencies 0…D/2, then −(D/2−1)…−1) and the columns (column_ramp, D/2+1 complex, without the 1/D²). */
void cryo_phase_ramps(double row_offset, double column_offset, intptr_t size, float *row_ramp, float *column_ramp);

/* out[i, j] = z[i, j]·row_ramp[i]·column_ramp[j] (complex products; z as split planes, see cryo_correlation_window,
   out [rows, columns] interleaved): z moved by a phase ramp that factorises over rows and columns. */
void cryo_phase_ramp(const float *z, const float *row_ramp, const float *column_ramp, intptr_t rows, intptr_t columns, float *out);

/* erf(x) as the projector evaluates it (absolute error below 5·10⁻⁷ in Float; exposed for tests). */
float cryo_erf(float x);

#endif
