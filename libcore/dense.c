/* dense.c - BLAS, patches and ordered sums (dense.h).
 *
 * OpenBLAS is told once to use one thread: our callers run many BLAS calls
 * at once from OpenMP threads, each on its own chunk, and a fixed split of
 * the work is what makes the floats reproducible. */
#include "dense.h"

#include <cblas.h>
#include <string.h>

void dense_init(void)
{
	static int done;
	if (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
		openblas_set_num_threads(1);
		__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	}
}

void dense_gemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
		const float *b, int ldb, float beta, float *c, int ldc)
{
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k,
		    alpha, a, lda, b, ldb, beta, c, ldc);
}

void dense_im2col(const struct dense_conv *g, const float *x, float *cols)
{
	size_t ncol = (size_t)g->b * g->oh * g->ow;
	for (int ci = 0; ci < g->c; ci++)
		for (int ki = 0; ki < g->k; ki++)
			for (int kj = 0; kj < g->k; kj++) {
				float *row = cols + ((size_t)(ci * g->k + ki) * g->k + kj) * ncol;
				for (int b = 0; b < g->b; b++) {
					const float *img = x + ((size_t)ci * g->b + b) * g->h * g->w;
					for (int oy = 0; oy < g->oh; oy++) {
						int iy = oy * g->stride + ki - g->pad;
						float *dst = row + ((size_t)b * g->oh + oy) * g->ow;
						if (iy < 0 || iy >= g->h) {
							memset(dst, 0, (size_t)g->ow * sizeof(float));
							continue;
						}
						const float *src = img + (size_t)iy * g->w;
						if (g->stride == 1) {
							/* ix = ox + kj - pad: zeros, a copied run, zeros */
							int lo = g->pad - kj > 0 ? g->pad - kj : 0;
							int hi = g->w + g->pad - kj < g->ow ? g->w + g->pad - kj : g->ow;
							if (hi < lo)
								hi = lo;
							/* rows are short: plain loops beat library calls */
							const float *restrict sp = src + kj - g->pad;
							for (int ox = 0; ox < lo; ox++)
								dst[ox] = 0;
							for (int ox = lo; ox < hi; ox++)
								dst[ox] = sp[ox];
							for (int ox = hi; ox < g->ow; ox++)
								dst[ox] = 0;
							continue;
						}
						for (int ox = 0; ox < g->ow; ox++) {
							int ix = ox * g->stride + kj - g->pad;
							dst[ox] = ix >= 0 && ix < g->w ? src[ix] : 0;
						}
					}
				}
			}
}

void dense_col2im(const struct dense_conv *g, const float *cols, float *dx)
{
	size_t ncol = (size_t)g->b * g->oh * g->ow;
	memset(dx, 0, (size_t)g->c * g->b * g->h * g->w * sizeof(float));
	for (int ci = 0; ci < g->c; ci++)
		for (int ki = 0; ki < g->k; ki++)
			for (int kj = 0; kj < g->k; kj++) {
				const float *row = cols + ((size_t)(ci * g->k + ki) * g->k + kj) * ncol;
				for (int b = 0; b < g->b; b++) {
					float *img = dx + ((size_t)ci * g->b + b) * g->h * g->w;
					for (int oy = 0; oy < g->oh; oy++) {
						int iy = oy * g->stride + ki - g->pad;
						if (iy < 0 || iy >= g->h)
							continue;
						const float *src = row + ((size_t)b * g->oh + oy) * g->ow;
						float *dst = img + (size_t)iy * g->w;
						if (g->stride == 1) {
							/* a contiguous run: ix = ox + kj - pad */
							int lo = g->pad - kj > 0 ? g->pad - kj : 0;
							int hi = g->w + g->pad - kj < g->ow ? g->w + g->pad - kj : g->ow;
							float *restrict d = dst + kj - g->pad;
							for (int ox = lo; ox < hi; ox++)
								d[ox] += src[ox];
							continue;
						}
						for (int ox = 0; ox < g->ow; ox++) {
							int ix = ox * g->stride + kj - g->pad;
							if (ix >= 0 && ix < g->w)
								dst[ix] += src[ox];
						}
					}
				}
			}
}

void dense_sum_ordered(float *dst, float *const *src, int n, size_t len, int threads)
{
	const size_t block = 4096;
	size_t nb = (len + block - 1) / block;
#pragma omp parallel for schedule(static) num_threads(threads) if (len > 65536)
	for (size_t bi = 0; bi < nb; bi++) {
		size_t lo = bi * block, hi = lo + block < len ? lo + block : len;
		memcpy(dst + lo, src[0] + lo, (hi - lo) * sizeof(float));
		for (int j = 1; j < n; j++) {
			const float *s = src[j];
			for (size_t i = lo; i < hi; i++)
				dst[i] += s[i];
		}
	}
}
