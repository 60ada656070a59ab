/* dense.c - BLAS, LAPACK, patches, ordered sums and large arrays (dense.h).
 *
 * OpenBLAS is told once to use one thread: our callers run many BLAS calls
 * at once from OpenMP threads, each on its own chunk, and a fixed split of
 * the work is what makes the floats reproducible.  LAPACK is reached
 * through the Fortran symbols OpenBLAS exports, so no LAPACKE is needed. */
#include "dense.h"
#include "err.h"
#include "util.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>
#include <sys/mman.h>

void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info, size_t uplo_len);
void strtri_(const char *uplo, const char *diag, const int *n, float *a, const int *lda, int *info, size_t ul,
	     size_t dl);

/* rows per chunk of a Gram matrix: large enough for BLAS to run at speed,
 * fixed so the sum does not depend on the thread count */
#define GRAM_CHUNK 8192

#define HUGE_PAGE (2u << 20)

void *dense_alloc(size_t n)
{
	if (n < HUGE_PAGE)
		return xmalloc(n);
	size_t r = (n + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
	void *p = aligned_alloc(HUGE_PAGE, r);
	if (!p)
		die("out of memory (allocating %zu bytes)", n);
#ifdef MADV_HUGEPAGE
	madvise(p, r, MADV_HUGEPAGE); /* advice: nothing is lost when it is not taken */
#endif
	return p;
}

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

size_t dense_gram_chunks(size_t n) { return (n + GRAM_CHUNK - 1) / GRAM_CHUNK; }

void dense_gram_part(const float *a, size_t n, int k, size_t c0, size_t c1, int threads, float *part)
{
	dense_init();
	size_t kk = (size_t)k * k;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads > 0 ? threads : 1)
	for (size_t c = c0; c < c1; c++) {
		size_t r0 = c * GRAM_CHUNK, rn = n - r0 < GRAM_CHUNK ? n - r0 : GRAM_CHUNK;
		cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, k, (int)rn, 1.0f, a + r0 * k, k, 0.0f,
			    part + c * kk, k);
	}
}

void dense_gram_sum(const float *part, size_t nc, int k, float *g)
{
	size_t kk = (size_t)k * k;
	for (int i = 0; i < k; i++)
		for (int j = i; j < k; j++) {
			double s = 0;
			for (size_t c = 0; c < nc; c++)
				s += part[c * kk + (size_t)i * k + j];
			g[(size_t)i * k + j] = g[(size_t)j * k + i] = (float)s;
		}
}

void dense_gram(const float *a, size_t n, int k, int threads, float *g)
{
	size_t nc = dense_gram_chunks(n);
	float *part = xcalloc(xmul(nc ? nc : 1, (size_t)k * k), sizeof *part);
	dense_gram_part(a, n, k, 0, nc, threads, part);
	dense_gram_sum(part, nc, k, g);
	free(part);
}

/* the tile side of the parallel inverse */
#define TILE 256

/* tile (i, j) of a row-major n x n matrix, and the sides of tile i */
#define T(p, i, j) ((p) + (size_t)(i) * TILE * n + (size_t)(j) * TILE)
#define SIDE(i) ((i) == nt - 1 ? n - (i) * TILE : TILE)

int dense_spd_inverse(float *a, int n, int threads)
{
	dense_init();
	int nt = (n + TILE - 1) / TILE, info = 0, bad = 0;
	threads = threads > 0 ? threads : 1;
	/* 1. Cholesky by tiles: a's lower tiles become L (G = L L^T).  A
	 * row-major lower tile is a column-major upper one: LAPACK's "U". */
	for (int k = 0; k < nt; k++) {
		int tk = SIDE(k);
		spotrf_("U", &tk, T(a, k, k), &n, &info, 1);
		if (info)
			return -1;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
		for (int i = k + 1; i < nt; i++)
			cblas_strsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, SIDE(i), tk, 1.0f,
				    T(a, k, k), n, T(a, i, k), n);
		int m = nt - k - 1;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
		for (int p = 0; p < m * (m + 1) / 2; p++) {
			/* the p-th tile (i, j), k < j <= i, row by row */
			int i = 0;
			while ((i + 1) * (i + 2) / 2 <= p)
				i++;
			int j = p - i * (i + 1) / 2;
			i += k + 1;
			j += k + 1;
			if (i == j)
				cblas_ssyrk(CblasRowMajor, CblasLower, CblasNoTrans, SIDE(i), tk, -1.0f, T(a, i, k), n, 1.0f,
					    T(a, i, i), n);
			else
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, SIDE(i), SIDE(j), tk, -1.0f, T(a, i, k),
					    n, T(a, j, k), n, 1.0f, T(a, i, j), n);
		}
	}
	/* 2. X = L^-1, a tile column at a time (the columns are independent):
	 * X_jj = L_jj^-1, X_ij = -L_ii^-1 sum_{j <= m < i} L_im X_mj */
	float *x = dense_alloc(xmul(xmul((size_t)n, (size_t)n), 4));
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) reduction(| : bad)
	for (int j = 0; j < nt; j++) {
		int tj = SIDE(j), inf = 0;
		for (int r = 0; r < tj; r++)
			for (int c = 0; c < tj; c++)
				T(x, j, j)[(size_t)r * n + c] = c <= r ? T(a, j, j)[(size_t)r * n + c] : 0.0f;
		strtri_("U", "N", &tj, T(x, j, j), &n, &inf, 1, 1);
		bad |= inf != 0;
		for (int i = j + 1; i < nt; i++) {
			for (int m = j; m < i; m++)
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, SIDE(i), tj, SIDE(m), 1.0f, T(a, i, m),
					    n, T(x, m, j), n, m == j ? 0.0f : 1.0f, T(x, i, j), n);
			cblas_strsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, SIDE(i), tj, -1.0f,
				    T(a, i, i), n, T(x, i, j), n);
		}
	}
	if (bad) {
		free(x);
		return -1;
	}
	/* 3. G^-1 = X^T X into a: tile (i, j), i >= j, is sum_{m >= i}
	 * X_mi^T X_mj; every tile on its own */
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
	for (int p = 0; p < nt * (nt + 1) / 2; p++) {
		int i = 0;
		while ((i + 1) * (i + 2) / 2 <= p)
			i++;
		int j = p - i * (i + 1) / 2;
		for (int m = i; m < nt; m++)
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, SIDE(i), SIDE(j), SIDE(m), 1.0f, T(x, m, i), n,
				    T(x, m, j), n, m == i ? 0.0f : 1.0f, T(a, i, j), n);
	}
	free(x);
	for (size_t i = 0; i < (size_t)n; i++)
		for (size_t j = i + 1; j < (size_t)n; j++)
			a[i * n + j] = a[j * n + i];
	return 0;
}

#undef T
#undef SIDE

int dense_cholesky(double *a, int k)
{
	for (int j = 0; j < k; j++) {
		double d = a[(size_t)j * k + j];
		for (int p = 0; p < j; p++)
			d -= a[(size_t)j * k + p] * a[(size_t)j * k + p];
		if (!(d > 0))
			return -1;
		d = sqrt(d);
		a[(size_t)j * k + j] = d;
		for (int i = j + 1; i < k; i++) {
			double s = a[(size_t)i * k + j];
			for (int p = 0; p < j; p++)
				s -= a[(size_t)i * k + p] * a[(size_t)j * k + p];
			a[(size_t)i * k + j] = s / d;
		}
	}
	return 0;
}

void dense_cholesky_solve(const double *l, double *b, int k)
{
	for (int i = 0; i < k; i++) {
		double s = b[i];
		for (int p = 0; p < i; p++)
			s -= l[(size_t)i * k + p] * b[p];
		b[i] = s / l[(size_t)i * k + i];
	}
	for (int i = k - 1; i >= 0; i--) {
		double s = b[i];
		for (int p = i + 1; p < k; p++)
			s -= l[(size_t)p * k + i] * b[p];
		b[i] = s / l[(size_t)i * k + i];
	}
}
