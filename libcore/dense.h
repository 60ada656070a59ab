/* dense.h - dense linear algebra for the learners: the one place that calls
 * BLAS and LAPACK (OpenBLAS), plus ordered reductions.
 *
 * Results must be bit-identical at any thread count, and BLAS reductions
 * change with BLAS's own threading, so BLAS always runs single-threaded
 * here (dense_init) and callers parallelise over fixed-size chunks of
 * work, each on one thread, whose partial sums are added in a fixed order.
 * Another backend slots in by replacing this file. */
#ifndef PEA_DENSE_H
#define PEA_DENSE_H

#include <stddef.h>

/* Memory for a large dense array (factor matrices): aligned to 2 MiB and,
 * where the kernel allows, backed by huge pages, since rows read at random
 * over hundreds of megabytes otherwise cost a TLB miss each.  Free with
 * free(). */
void *dense_alloc(size_t n);

/* Make BLAS single-threaded (idempotent; every entry point calls it). */
void dense_init(void);

/* C[m x n] = alpha * op(A) * op(B) + beta * C, row-major; ta/tb nonzero
 * transpose A (stored k x m) / B (stored n x k). */
void dense_gemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
		const float *b, int ldb, float beta, float *c, int ldc);

/* G[k x k] = A^T A for A of n rows of k floats (row-major, both halves of
 * G filled), summed over fixed chunks of rows in order, in double: the
 * same bits at any thread count. */
void dense_gram(const float *a, size_t n, int k, int threads, float *g);

/* Invert a symmetric positive definite n x n matrix in place (both halves
 * filled), -1 when it is not positive definite: Cholesky, the inverse of
 * the factor and its product with its transpose, by tiles of 256 on
 * `threads` cores, each tile's arithmetic on one core in a fixed order, so
 * the result does not depend on the thread count.  Needs a second n x n
 * matrix for the inverse factor. */
int dense_spd_inverse(float *a, int n, int threads);

/* Small symmetric positive definite systems (k x k, double, row-major),
 * for one-off solves (fold-in) where calling LAPACK costs more than it
 * saves: dense_cholesky puts L (A = L L^T) in A's lower triangle, -1 when A
 * is not positive definite; dense_cholesky_solve then solves A x = b in
 * place of b. */
int dense_cholesky(double *a, int k);
void dense_cholesky_solve(const double *l, double *b, int k);

#endif
