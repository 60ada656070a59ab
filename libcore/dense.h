/* dense.h - dense linear algebra for the learners: the one place that calls
 * BLAS and LAPACK (OpenBLAS), plus im2col/col2im, ordered reductions and
 * the memory of large dense arrays.
 *
 * Results must be bit-identical at any thread count, and BLAS reductions
 * change with BLAS's own threading, so BLAS always runs single-threaded
 * here (dense_init) and callers parallelise over fixed-size chunks of
 * work, each on one thread, whose partial sums dense_sum_ordered adds in a
 * fixed order.  Another backend slots in by replacing this file. */
#ifndef PEA_DENSE_H
#define PEA_DENSE_H

#include <stddef.h>

/* Memory for a large dense array (factor matrices): aligned to 2 MiB and,
 * where the kernel allows, backed by huge pages, since rows read at random
 * over hundreds of megabytes otherwise cost a TLB miss each.  Free with
 * free(). */
void *dense_alloc(size_t n);

/* Vector loops written in C, compiled for AVX-512, AVX2 and plain x86-64,
 * the clone for the machine picked once at start-up (GCC's target clones;
 * not under ASan, which does not follow them): a machine always runs the
 * same clone, so its results do not depend on the thread count. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define DENSE_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DENSE_HOT
#endif

/* Make BLAS single-threaded (idempotent; every entry point calls it). */
void dense_init(void);

/* C[m x n] = alpha * op(A) * op(B) + beta * C, row-major; ta/tb nonzero
 * transpose A (stored k x m) / B (stored n x k). */
void dense_gemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
		const float *b, int ldb, float beta, float *c, int ldc);

/* Convolution patches.  x is C x B x H x W (channels outermost, so a
 * chunk of B images is one matrix product); cols is (C*k*k) x (B*oh*ow),
 * row (ci*k + ki)*k + kj, column (b*oh + oy)*ow + ox; outside the image
 * (padding p) reads zero. */
struct dense_conv {
	int c, b, h, w, k, stride, pad, oh, ow;
};
void dense_im2col(const struct dense_conv *g, const float *x, float *cols);
/* the adjoint: adds every patch value back to dx (which it zeroes first) */
void dense_col2im(const struct dense_conv *g, const float *cols, float *dx);

/* dst[i] = src[0][i] + src[1][i] + ... + src[n-1][i], in that order for
 * every i, split over `threads` by index range: the same bits at any
 * thread count. */
void dense_sum_ordered(float *dst, float *const *src, int n, size_t len, int threads);

/* G[k x k] = A^T A for A of n rows of k floats (row-major, both halves of
 * G filled), summed over fixed chunks of rows in order, in double: the
 * same bits at any thread count. */
void dense_gram(const float *a, size_t n, int k, int threads, float *g);
/* dense_gram in two steps, for ranks that share the chunks (ALS over MPI):
 * the number of chunks of n rows; the chunks c0 .. c1's own A^T A into
 * part (nchunks x k x k, upper halves); then their sum into g.  The same
 * bits as dense_gram, whoever computed each chunk. */
size_t dense_gram_chunks(size_t n);
void dense_gram_part(const float *a, size_t n, int k, size_t c0, size_t c1, int threads, float *part);
void dense_gram_sum(const float *part, size_t nchunks, int k, float *g);

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
