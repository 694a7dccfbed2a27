#include "CKernels.h"
#include "isa_variants.h"

/* The vectors below are passed between always-inline helpers only, so the ABI clang warns about for vector
   arguments wider than the target's registers never arises. */
#pragma clang diagnostic ignored "-Wpsabi"

/* The narrow matrix product; see CKernels.h. Each output tile keeps its sums in registers while the reduction
   runs: per step, one broadcast of A per row and one load of B per vector feed rows·vectors fused multiply-adds. B
   is read in place (no packing), which is what makes it pay for the short reductions and narrow outputs of GNN
   layers ([B·N, 64] × [64, 64]), where a general sgemm spends a third of its time packing operands. */

/* Steps of the reduction per pass over the output. */
enum { CHUNK = 64 };

/* The loops for vectors of WIDTH floats and output tiles of at most ROWS rows by VECTORS vectors (ROWS·VECTORS
   accumulators), named by SUFFIX. */
#define CRYO_NARROW_GEMM_TILE(VECTOR, WIDTH, ROWS, VECTORS, SUFFIX)                                                   \
    typedef float VECTOR __attribute__((vector_size(WIDTH * sizeof(float)), aligned(sizeof(float))));                \
                                                                                                                      \
    CRYO_INLINE VECTOR gemm_load_##SUFFIX(const float *p) {                                                           \
        VECTOR v;                                                                                                     \
        __builtin_memcpy(&v, p, sizeof v);                                                                            \
        return v;                                                                                                     \
    }                                                                                                                 \
                                                                                                                      \
    /* C[rows, columns] (+)= A[rows, k]·B[k, columns] for rows ≤ ROWS, B read as `vectors` ≤ VECTORS vectors and the \
       first `columns` of them stored; A's element (r, p) at a[r·row_stride + p·column_stride]. Inlined with         \
       constant rows and vectors, the loops unroll and the sums stay in registers. */                                \
    CRYO_INLINE void gemm_tile_##SUFFIX(const float *restrict a, intptr_t row_stride, intptr_t column_stride,         \
                                        const float *restrict b, intptr_t ldb, intptr_t k, intptr_t rows,            \
                                        intptr_t vectors, intptr_t columns, int accumulate, float *restrict c,       \
                                        intptr_t ldc) {                                                               \
        VECTOR sum[ROWS][VECTORS];                                                                                    \
        for (intptr_t r = 0; r < ROWS; r++) {                                                                         \
            for (intptr_t v = 0; v < VECTORS; v++) sum[r][v] = (VECTOR){ 0 };                                         \
        }                                                                                                             \
        for (intptr_t p = 0; p < k; p++) {                                                                            \
            VECTOR line[VECTORS];                                                                                     \
            for (intptr_t v = 0; v < vectors; v++) line[v] = gemm_load_##SUFFIX(b + p * ldb + v * WIDTH);             \
            const float *column = a + p * column_stride;                                                              \
            for (intptr_t r = 0; r < rows; r++) {                                                                     \
                const float x = column[r * row_stride];                                                               \
                for (intptr_t v = 0; v < vectors; v++) sum[r][v] += x * line[v];                                      \
            }                                                                                                         \
        }                                                                                                             \
        if (columns == vectors * WIDTH) {                                                                             \
            for (intptr_t r = 0; r < rows; r++) {                                                                     \
                for (intptr_t v = 0; v < vectors; v++) {                                                              \
                    float *out = c + r * ldc + v * WIDTH;                                                             \
                    VECTOR total = sum[r][v];                                                                         \
                    if (accumulate) total += gemm_load_##SUFFIX(out);                                                 \
                    __builtin_memcpy(out, &total, sizeof total);                                                      \
                }                                                                                                     \
            }                                                                                                         \
            return;                                                                                                   \
        }                                                                                                             \
        for (intptr_t r = 0; r < rows; r++) {                                                                         \
            for (intptr_t j = 0; j < columns; j++) {                                                                  \
                const float value = sum[r][j / WIDTH][j % WIDTH];                                                     \
                c[r * ldc + j] = accumulate ? c[r * ldc + j] + value : value;                                         \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
                                                                                                                      \
    /* One block of at most ROWS rows: B's n columns (a multiple of WIDTH) read, the first `columns` stored. Each    \
       call names its constant vector count, so each tile shape is compiled apart. */                                \
    CRYO_INLINE void gemm_block_##SUFFIX(const float *restrict a, intptr_t row_stride, intptr_t column_stride,        \
                                         const float *restrict b, intptr_t ldb, intptr_t n, intptr_t columns,         \
                                         intptr_t k, intptr_t rows, int accumulate, float *restrict c, intptr_t ldc) { \
        for (intptr_t j = 0; j < n; j += VECTORS * WIDTH) {                                                           \
            const intptr_t vectors = (n - j) / WIDTH < VECTORS ? (n - j) / WIDTH : VECTORS;                           \
            const intptr_t stored = columns - j < vectors * WIDTH ? columns - j : vectors * WIDTH;                     \
            if (vectors == VECTORS) {                                                                                 \
                gemm_tile_##SUFFIX(a, row_stride, column_stride, b + j, ldb, k, rows, VECTORS, stored, accumulate, c + j, ldc); \
            } else if (VECTORS > 3 && vectors == 3) {                                                                 \
                gemm_tile_##SUFFIX(a, row_stride, column_stride, b + j, ldb, k, rows, 3, stored, accumulate, c + j, ldc); \
            } else if (VECTORS > 2 && vectors == 2) {                                                                 \
                gemm_tile_##SUFFIX(a, row_stride, column_stride, b + j, ldb, k, rows, 2, stored, accumulate, c + j, ldc); \
            } else {                                                                                                  \
                gemm_tile_##SUFFIX(a, row_stride, column_stride, b + j, ldb, k, rows, 1, stored, accumulate, c + j, ldc); \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
                                                                                                                      \
    CRYO_INLINE void narrow_rows_##SUFFIX(const float *restrict a, intptr_t row_stride, intptr_t column_stride,       \
                                          const float *restrict b, intptr_t ldb, intptr_t m, intptr_t n,              \
                                          intptr_t columns, intptr_t k, int accumulate, float *restrict c,            \
                                          intptr_t ldc) {                                                             \
        intptr_t i = 0;                                                                                               \
        for (; i + ROWS <= m; i += ROWS) {                                                                            \
            gemm_block_##SUFFIX(a + i * row_stride, row_stride, column_stride, b, ldb, n, columns, k, ROWS,          \
                                accumulate, c + i * ldc, ldc);                                                        \
        }                                                                                                             \
        const float *rest_a = a + i * row_stride;                                                                     \
        float *rest_c = c + i * ldc;                                                                                  \
        switch (m - i) {                                                                                              \
        case 5: gemm_block_##SUFFIX(rest_a, row_stride, column_stride, b, ldb, n, columns, k, 5, accumulate, rest_c, ldc); break; \
        case 4: gemm_block_##SUFFIX(rest_a, row_stride, column_stride, b, ldb, n, columns, k, 4, accumulate, rest_c, ldc); break; \
        case 3: gemm_block_##SUFFIX(rest_a, row_stride, column_stride, b, ldb, n, columns, k, 3, accumulate, rest_c, ldc); break; \
        case 2: gemm_block_##SUFFIX(rest_a, row_stride, column_stride, b, ldb, n, columns, k, 2, accumulate, rest_c, ldc); break; \
        case 1: gemm_block_##SUFFIX(rest_a, row_stride, column_stride, b, ldb, n, columns, k, 1, accumulate, rest_c, ldc); break; \
        default: break;                                                                                               \
        }                                                                                                             \
    }                                                                                                                 \
                                                                                                                      \
    /* The reduction in chunks of CHUNK steps, so the chunk of B (and of A) every row block reads stays in L1. The    \
       columns beyond the last whole vector are read from a copy of B's chunk padded with zeros to one vector. */    \
    CRYO_INLINE void narrow_gemm_##SUFFIX(const float *restrict a, intptr_t row_stride, intptr_t column_stride,       \
                                          const float *restrict b, intptr_t ldb, intptr_t m, intptr_t n, intptr_t k,  \
                                          int accumulate, float *restrict c, intptr_t ldc) {                          \
        const intptr_t whole = n - n % WIDTH;                                                                         \
        float padded[CHUNK * WIDTH];                                                                                  \
        for (intptr_t p = 0; p < k; p += CHUNK) {                                                                     \
            const intptr_t steps = k - p < CHUNK ? k - p : CHUNK;                                                     \
            const float *chunk_a = a + p * column_stride;                                                             \
            const int add = accumulate || p > 0;                                                                      \
            if (whole > 0) {                                                                                          \
                narrow_rows_##SUFFIX(chunk_a, row_stride, column_stride, b + p * ldb, ldb, m, whole, whole, steps,    \
                                     add, c, ldc);                                                                    \
            }                                                                                                         \
            if (whole < n) {                                                                                          \
                for (intptr_t q = 0; q < steps; q++) {                                                                \
                    for (intptr_t j = 0; j < WIDTH; j++) {                                                            \
                        padded[q * WIDTH + j] = whole + j < n ? b[(p + q) * ldb + whole + j] : 0;                      \
                    }                                                                                                 \
                }                                                                                                     \
                narrow_rows_##SUFFIX(chunk_a, row_stride, column_stride, padded, WIDTH, m, WIDTH, n - whole, steps,   \
                                     add, c + whole, ldc);                                                            \
            }                                                                                                         \
        }                                                                                                             \
    }

/* AVX-512 (32 registers): tiles of 4 rows by 4 vectors of 16 floats, 16 accumulators fed by 4 broadcasts and 4
   loads a step. AVX2 and SSE (16 registers): 6 rows by 2 vectors of 8 floats, 12 accumulators. */
CRYO_NARROW_GEMM_TILE(gemm_vector16, 16, 4, 4, wide)
CRYO_NARROW_GEMM_TILE(gemm_vector8, 8, 6, 2, narrow)

#define NARROW_GEMM_PARAMS                                                                                           \
    (const float *a, intptr_t row_stride, intptr_t column_stride, const float *b, intptr_t ldb, intptr_t m,          \
     intptr_t n, intptr_t k, int accumulate, float *c, intptr_t ldc)
#define NARROW_GEMM_ARGS (a, row_stride, column_stride, b, ldb, m, n, k, accumulate, c, ldc)

#if defined(__x86_64__)
static void narrow_gemm_baseline NARROW_GEMM_PARAMS { narrow_gemm_narrow NARROW_GEMM_ARGS; }
CRYO_TARGET_AVX2 static void narrow_gemm_avx2 NARROW_GEMM_PARAMS { narrow_gemm_narrow NARROW_GEMM_ARGS; }
CRYO_TARGET_AVX512 static void narrow_gemm_avx512 NARROW_GEMM_PARAMS { narrow_gemm_wide NARROW_GEMM_ARGS; }

void cryo_narrow_gemm NARROW_GEMM_PARAMS {
    switch (cryo_isa_active()) {
    case CRYO_ISA_AVX512: narrow_gemm_avx512 NARROW_GEMM_ARGS; break;
    case CRYO_ISA_AVX2: narrow_gemm_avx2 NARROW_GEMM_ARGS; break;
    default: narrow_gemm_baseline NARROW_GEMM_ARGS; break;
    }
}
#else
void cryo_narrow_gemm NARROW_GEMM_PARAMS { narrow_gemm_narrow NARROW_GEMM_ARGS; }
#endif
