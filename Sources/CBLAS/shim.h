/* OpenBLAS CBLAS interface and the LAPACK routines CryoScript calls (Debian: libopenblas-dev, whose
   libopenblas includes LAPACK). */
#include <cblas.h>

/* Symmetric eigen-decomposition (divide and conquer), double precision, column-major. */
void dsyevd_(char *jobz, char *uplo, int *n, double *a, int *lda, double *w, double *work, int *lwork,
             int *iwork, int *liwork, int *info);

/* Singular value decomposition, double precision, column-major. */
void dgesvd_(char *jobu, char *jobvt, int *m, int *n, double *a, int *lda, double *s, double *u, int *ldu,
             double *vt, int *ldvt, double *work, int *lwork, int *info);
