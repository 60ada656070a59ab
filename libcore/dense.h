/* dense.h - dense linear algebra for the learners: the one place that calls
 * BLAS (OpenBLAS cblas_sgemm), plus im2col/col2im and ordered reductions.
 *
 * Results must be bit-identical at any thread count, and BLAS reductions
 * change with BLAS's own threading, so BLAS always runs single-threaded
 * here (dense_init) and callers parallelise over fixed-size chunks of
 * work, each on one thread, whose partial sums dense_sum_ordered adds in a
 * fixed order.  Another backend slots in by replacing this file. */
#ifndef PEA_DENSE_H
#define PEA_DENSE_H

#include <stddef.h>

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

#endif
