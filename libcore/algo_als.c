/* algo_als.c - implicit alternating least squares (Hu, Koren and Volinsky
 * 2008): user and item factors whose products fit preference 1 on the
 * pairs seen and 0 elsewhere, each pair weighted by confidence
 * 1 + alpha * weight.
 *
 * Each half-iteration solves every row's k x k system with a few
 * conjugate-gradient steps from its previous value, using the YtY trick of
 * implicit (Takacs et al. 2011): the product with YtY + reg I is shared,
 * and only the row's own items add their (confidence - 1) y y^T terms, so a
 * step costs k^2 + n k instead of building the system.  Rows are solved
 * independently on every core, each with its items gathered into a
 * contiguous block that stays in cache for all the steps, the products
 * written as 16-lane vector arithmetic (compiled for AVX-512, AVX2 and
 * plain x86-64, picked at run time); a row's arithmetic never depends on
 * the thread that runs it, so the model is the same at any thread count.
 * On several ranks (ixdist.h) each solves its block of rows of a side and
 * computes its share of the chunks of the Gram matrix, and the blocks and
 * chunks are shared out before the other side: the same model again (on
 * hosts that pick the same clone).  A user the model never saw is
 * folded in with an exact solve against the item factors (and --explain
 * splits that solve's score over the history, as implicit's explain
 * does). */
/* a * b + c may be one fused instruction here: the target clones below
 * are chosen once per machine, so a machine gets the same bits at any
 * thread count */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
#endif
#include "dense.h"
#include "dist.h"
#include "mf.h"

#include <json-c/json.h>
#include <math.h>
#include <omp.h>

#define DEF_FACTORS 64
#define DEF_ITER 15
#define DEF_REG 0.05
#define DEF_ALPHA 20.0
#define DEF_CG 3
#define INIT_SCALE 0.01f
#define ROWS_PER_TASK 64
#define TASK_ITEMS 16384
/* rows fetched this far ahead of the copy */
#define PREFETCH 8
/* a row's items are copied into one block unless they take more than this
 * (then they are read in place: memory stays bounded) */
#define COPY_MAX (64u << 20)

struct als {
	struct mf f;
	double reg, alpha;
};

struct scratch {
	float *r, *p, *ap, *yl, *c, *z;
	size_t cap, ycap; /* of c and z; of yl, in floats */
};

/* y += a * x */
static inline void axpy(float *y, float a, const float *x, int k)
{
	for (int j = 0; j < k; j++)
		y[j] += a * x[j];
}

/* out = A v for a symmetric k x k A (so v^T A): 64 lanes of out at a time,
 * kept in four vector registers over the rows of A */
static inline void symv(float *out, const float *A, const float *v, int k)
{
	int j0 = 0;
	for (; j0 + 64 <= k; j0 += 64) {
		mf_v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
		for (int b = 0; b < k; b++) {
			const float *r = A + (size_t)b * k + j0;
			float x = v[b];
			a0 += x * MF_VLOAD(r);
			a1 += x * MF_VLOAD(r + 16);
			a2 += x * MF_VLOAD(r + 32);
			a3 += x * MF_VLOAD(r + 48);
		}
		MF_VSTORE(out + j0, a0);
		MF_VSTORE(out + j0 + 16, a1);
		MF_VSTORE(out + j0 + 32, a2);
		MF_VSTORE(out + j0 + 48, a3);
	}
	for (; j0 < k; j0++) {
		float acc = 0;
		for (int b = 0; b < k; b++)
			acc += v[b] * A[(size_t)b * k + j0];
		out[j0] = acc;
	}
}

/* out += sum over the items of (c * (y . v)) y, and with the right-hand
 * side: out += sum ((1 + c) - c * (y . v)) y (for the first residual).
 * Item t's factors are base + t k, or with idx, base + idx[t] k.  The dot
 * products come first (independent, so they pipeline), then the sum, 64
 * lanes of out at a time kept in four vector registers. */
static inline void sparse_term(float *out, const float *v, const float *base, const uint32_t *idx, const float *c,
			       uint64_t n, int k, int rhs, float *z)
{
	for (uint64_t t = 0; t < n; t++) {
		const float *y = idx ? base + (size_t)idx[t] * k : base + t * k;
		float d = mf_dot(y, v, k);
		z[t] = rhs ? (1 + c[t]) - c[t] * d : c[t] * d;
	}
	int j0 = 0;
	for (; j0 + 64 <= k; j0 += 64) {
		mf_v16 a0 = MF_VLOAD(out + j0), a1 = MF_VLOAD(out + j0 + 16), a2 = MF_VLOAD(out + j0 + 32),
		       a3 = MF_VLOAD(out + j0 + 48);
		for (uint64_t t = 0; t < n; t++) {
			const float *y = (idx ? base + (size_t)idx[t] * k : base + t * k) + j0;
			float a = z[t];
			a0 += a * MF_VLOAD(y);
			a1 += a * MF_VLOAD(y + 16);
			a2 += a * MF_VLOAD(y + 32);
			a3 += a * MF_VLOAD(y + 48);
		}
		MF_VSTORE(out + j0, a0);
		MF_VSTORE(out + j0 + 16, a1);
		MF_VSTORE(out + j0 + 32, a2);
		MF_VSTORE(out + j0 + 48, a3);
	}
	for (; j0 < k; j0++) {
		float acc = out[j0];
		for (uint64_t t = 0; t < n; t++)
			acc += z[t] * (idx ? base + (size_t)idx[t] * k : base + t * k)[j0];
		out[j0] = acc;
	}
}

/* Rows r0..r1 of X: a few CG steps each on
 * (A + Y^T (C - I) Y) x = Y^T C 1, A = Y^T Y + reg I, from its last value.
 * A row's items are first copied into one block: the copy streams their
 * cache misses, and every later step reads them in order.  A row with more
 * than COPY_MAX of them reads them in place instead. */
DENSE_HOT static void solve_rows(float *X, const float *Y, const float *A, const struct ix_csr *m, uint32_t r0, uint32_t r1,
			   int k, float alpha, int steps, struct scratch *s)
{
	for (uint32_t row = r0; row < r1; row++) {
		uint64_t a = m->off[row], n = m->off[row + 1] - a;
		if (n > s->cap) {
			s->cap = n + n / 2;
			free(s->c);
			free(s->z);
			s->c = xmalloc(xmul(s->cap, 4));
			s->z = xmalloc(xmul(s->cap, 4));
		}
		int copy = n * (uint64_t)k * 4 <= COPY_MAX;
		if (copy && n * (size_t)k > s->ycap) {
			s->ycap = n * (size_t)k + n * (size_t)k / 2;
			free(s->yl);
			s->yl = xmalloc(xmul(s->ycap, 4));
		}
		for (uint64_t t = 0; t < n; t++) {
			/* random rows: ask for a few ahead so their misses overlap */
			if (copy && t + PREFETCH < n)
				for (int l = 0; l < k; l += 16)
					__builtin_prefetch(Y + (size_t)m->idx[a + t + PREFETCH] * k + l);
			if (copy) {
				const float *src = Y + (size_t)m->idx[a + t] * k;
				float *dst = s->yl + t * k;
				for (int l = 0; l < k; l++)
					dst[l] = src[l];
			}
			s->c[t] = alpha * m->w[a + t];
		}
		const float *base = copy ? s->yl : Y;
		const uint32_t *idx = copy ? NULL : m->idx + a;
		float *x = X + (size_t)row * k, *r = s->r, *p = s->p, *ap = s->ap;
		symv(r, A, x, k);
		for (int j = 0; j < k; j++)
			r[j] = -r[j];
		sparse_term(r, x, base, idx, s->c, n, k, 1, s->z);
		memcpy(p, r, (size_t)k * 4);
		float rs = mf_dot(r, r, k);
		for (int it = 0; it < steps && rs > 1e-20f; it++) {
			symv(ap, A, p, k);
			sparse_term(ap, p, base, idx, s->c, n, k, 0, s->z);
			float pap = mf_dot(p, ap, k);
			if (!(pap > 0))
				break;
			float step = rs / pap;
			axpy(x, step, p, k);
			axpy(r, -step, ap, k);
			float rn = mf_dot(r, r, k);
			if (rn < 1e-20f)
				break;
			float beta = rn / rs;
			for (int j = 0; j < k; j++)
				p[j] = r[j] + beta * p[j];
			rs = rn;
		}
	}
}

/* Tasks of up to ROWS_PER_TASK rows of r0 .. r1 with at most TASK_ITEMS
 * items between them (or one row with more), so that work is dealt out
 * evenly. */
static uint32_t *make_tasks(const struct ix_csr *m, uint32_t r0, uint32_t r1, uint32_t *ntask)
{
	uint64_t most = TASK_ITEMS;
	uint32_t *start = xmalloc(xmul((size_t)(r1 - r0) + 2, 4)), n = 0;
	uint32_t r = r0;
	while (r < r1) {
		start[n++] = r;
		uint32_t e = r + 1;
		while (e < r1 && e - r < ROWS_PER_TASK && m->off[e + 1] - m->off[r] <= most)
			e++;
		r = e;
	}
	start[n] = r1;
	*ntask = n;
	return start;
}

/* Y^T Y into A.  Ranks that share the work (part: room for the chunks
 * from dist_shared_rows) each compute a share of the chunks of rows
 * dense_gram sums, and every rank gets every chunk before adding them up
 * in order: the bits of one process's dense_gram. */
static void gram(const float *Y, uint32_t ny, int k, float *part, int threads, float *A)
{
	if (!part) {
		dense_gram(Y, ny, k, threads, A);
		return;
	}
	int N = dist_size(), me = dist_rank();
	size_t nc = dense_gram_chunks(ny);
	uint32_t *cut = xmalloc(xmul((size_t)N + 1, 4));
	for (int b = 0; b <= N; b++)
		cut[b] = (uint32_t)(nc * (size_t)b / (size_t)N);
	dense_gram_part(Y, ny, k, cut[me], cut[me + 1], threads, part);
	dist_share_rows(part, k * k, cut);
	dense_gram_sum(part, nc, k, A);
	free(cut);
}

/* One half-iteration: the rows of X against Y, those of this rank (cut,
 * when the ranks share the work: cut[rank] .. cut[rank + 1]), then every
 * rank's rows to every rank. */
static void solve_side(float *X, const float *Y, uint32_t ny, const struct ix_csr *m, const uint32_t *cut, int k,
		       double reg, float alpha, int steps, int threads, struct scratch *sc, float *part)
{
	float *A = xmalloc(xmul((size_t)k * k, 4));
	gram(Y, ny, k, cut ? part : NULL, threads, A);
	for (int j = 0; j < k; j++)
		A[(size_t)j * k + j] += (float)reg;
	uint32_t ntask, r0 = cut ? cut[dist_rank()] : 0, r1 = cut ? cut[dist_rank() + 1] : m->rows;
	uint32_t *start = make_tasks(m, r0, r1, &ntask);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
	for (uint32_t t = 0; t < ntask; t++)
		solve_rows(X, Y, A, m, start[t], start[t + 1], k, alpha, steps, &sc[omp_get_thread_num()]);
	free(start);
	free(A);
	if (cut)
		dist_share_rows(X, k, cut);
}

/* The first factors of rows r0 .. r1 (a row's own seed, or the --init
 * model's row), then every rank's rows to every rank (cut). */
static void start_factors(float *X, uint32_t r0, uint32_t r1, const uint32_t *cut, int k, const float *from,
			  uint32_t nfrom, uint64_t seed, int side)
{
	for (uint32_t r = r0; r < r1; r++) {
		if (r < nfrom)
			memcpy(X + (size_t)r * k, from + (size_t)r * k, (size_t)k * 4);
		else
			cf_init_row(X + (size_t)r * k, k, seed, side, r, INIT_SCALE);
	}
	if (cut)
		dist_share_rows(X, k, cut);
}

/* factors of n rows: on several ranks, where dist_share_rows shares them
 * without a copy when it can */
static float *factors_alloc(uint32_t n, int64_t k, int shared)
{
	size_t bytes = xmul(xmul((size_t)n + 1, (size_t)k), 4);
	return shared ? dist_shared_rows(bytes) : dense_alloc(bytes);
}

/* the factors in memory of their own, for the model writer to keep */
static float *factors_own(float *X, uint32_t n, int64_t k, int shared)
{
	if (!shared)
		return X;
	size_t bytes = xmul(xmul((size_t)n + 1, (size_t)k), 4);
	float *o = dense_alloc(bytes);
	memcpy(o, X, bytes);
	dist_shared_free(X);
	return o;
}

static int als_train(struct cf_fit *f, struct model_writer *w, struct json_object *settings)
{
	const struct ix_csr *m = &f->x->m;
	const struct als *init = f->init ? f->init->st : NULL;
	int64_t k = f->p->factors ? f->p->factors : init ? init->f.k : DEF_FACTORS;
	int64_t iters = f->p->iterations ? f->p->iterations : DEF_ITER;
	int64_t steps = f->p->cg_steps ? f->p->cg_steps : DEF_CG;
	double reg = !isnan(f->p->reg) ? f->p->reg : init ? init->reg : DEF_REG;
	double alpha = !isnan(f->ap->alpha) ? f->ap->alpha : init ? init->alpha : DEF_ALPHA;
	if (k < 1 || k > MF_MAX_FACTORS || iters < 1 || iters > 10000 || steps < 1 || steps > 1000) {
		snprintf(f->err, sizeof f->err,
			 "--factors must be 1 to %d, --iterations 1 to 10000, --cg-steps 1 to 1000", MF_MAX_FACTORS);
		return -1;
	}
	if (!(reg >= 0) || !isfinite(reg) || !(alpha >= 0) || !isfinite(alpha)) {
		snprintf(f->err, sizeof f->err, "--reg and --alpha must be numbers >= 0");
		return -1;
	}
	if (init && init->f.k != k) {
		snprintf(f->err, sizeof f->err, "the --init model has %d factors, not %lld", init->f.k, (long long)k);
		return -1;
	}
	uint32_t nu = m->rows, ni = m->cols;
	/* by item: this rank's items (several ranks), or all of them */
	const struct ix_share *sh = f->x->share;
	const uint32_t *ucut = sh ? sh->ucut : NULL, *icut = sh ? sh->icut : NULL;
	int me = dist_rank();
	float *U = factors_alloc(nu, k, sh != NULL), *V = factors_alloc(ni, k, sh != NULL);
	/* room for the chunks of either side's Gram matrix, shared the same way */
	size_t nc = dense_gram_chunks(nu > ni ? nu : ni);
	float *part = sh ? dist_shared_rows(xmul(xmul(nc ? nc : 1, (size_t)k), (size_t)k * 4)) : NULL;
	start_factors(U, sh ? ucut[me] : 0, sh ? ucut[me + 1] : nu, ucut, (int)k, init ? init->f.U : NULL,
		      init ? f->init->nusers : 0, f->seed, 0);
	start_factors(V, sh ? icut[me] : 0, sh ? icut[me + 1] : ni, icut, (int)k, init ? init->f.V : NULL,
		      init ? f->init->nitems : 0, f->seed, 1);
	struct ix_csr t = {0};
	if (!sh)
		ix_transpose(m, &t, f->threads);
	const struct ix_csr *byitem = sh ? &sh->byitem : &t;
	uint64_t nnz = sh ? sh->nnz : m->nnz;
	struct scratch *sc = xcalloc((size_t)f->threads, sizeof *sc);
	for (int i = 0; i < f->threads; i++) {
		sc[i].r = xmalloc((size_t)k * 4);
		sc[i].p = xmalloc((size_t)k * 4);
		sc[i].ap = xmalloc((size_t)k * 4);
	}
	double t0 = now_sec();
	for (int64_t it = 0; it < iters; it++) {
		solve_side(U, V, ni, m, ucut, (int)k, reg, (float)alpha, (int)steps, f->threads, sc, part);
		solve_side(V, U, nu, byitem, icut, (int)k, reg, (float)alpha, (int)steps, f->threads, sc, part);
		cf_progress(f, "iteration", (int)it + 1, (int)iters, 2.0 * (double)nnz * (double)(it + 1));
	}
	f->per_iteration = (now_sec() - t0) / (double)iters;
	for (int i = 0; i < f->threads; i++) {
		free(sc[i].r);
		free(sc[i].p);
		free(sc[i].ap);
		free(sc[i].yl);
		free(sc[i].c);
		free(sc[i].z);
	}
	free(sc);
	ix_csr_release(&t);
	dist_shared_free(part);
	mf_save(w, factors_own(U, nu, k, sh != NULL), factors_own(V, ni, k, sh != NULL), NULL, (int)k, nu, ni,
		f->threads);
	json_object_object_add(settings, "factors", json_object_new_int64(k));
	json_object_object_add(settings, "iterations", json_object_new_int64(iters));
	json_object_object_add(settings, "cg-steps", json_object_new_int64(steps));
	json_object_object_add(settings, "reg", json_object_new_double(reg));
	json_object_object_add(settings, "alpha", json_object_new_double(alpha));
	return 0;
}

static int als_load(struct cfm *m, struct pea_err *e)
{
	struct als *a = xcalloc(1, sizeof *a);
	m->st = a;
	a->reg = cf_setting(m, "reg", NAN);
	a->alpha = cf_setting(m, "alpha", NAN);
	if (!(a->reg >= 0) || !(a->alpha >= 0) || !isfinite(a->reg) || !isfinite(a->alpha)) {
		err_set(e, "the model's reg or alpha setting is missing");
		return -1;
	}
	return mf_load(m, &a->f, 0, e);
}

static void als_release(struct cfm *m)
{
	free(m->st);
	m->st = NULL;
}

/* A = YtY + reg I + sum (c - 1) y y^T and b = sum c y over the history
 * (double); -1 when A is singular (only with reg 0) */
static int normal_eq(const struct cfm *m, const struct cf_query *q, double *A, double *b)
{
	const struct als *a = m->st;
	int k = a->f.k;
	for (int i = 0; i < k * k; i++)
		A[i] = a->f.gram[i];
	for (int i = 0; i < k; i++) {
		A[(size_t)i * k + i] += a->reg;
		b[i] = 0;
	}
	for (uint32_t h = 0; h < q->nh; h++) {
		const float *y = a->f.V + (size_t)q->hist[h] * k;
		double c1 = a->alpha * q->hw[h];
		for (int i = 0; i < k; i++) {
			b[i] += (1 + c1) * y[i];
			for (int j = 0; j < k; j++)
				A[(size_t)i * k + j] += c1 * y[i] * y[j];
		}
	}
	return dense_cholesky(A, k);
}

static void als_fold(const struct cfm *m, const struct cf_query *q, float *x)
{
	const struct als *a = m->st;
	int k = a->f.k;
	double *A = xmalloc(xmul((size_t)k * k, 8)), *b = xmalloc((size_t)k * 8);
	if (normal_eq(m, q, A, b)) {
		memset(x, 0, (size_t)k * 4);
	} else {
		dense_cholesky_solve(A, b, k);
		for (int i = 0; i < k; i++)
			x[i] = (float)b[i];
	}
	free(A);
	free(b);
}

static void als_score(const struct cfm *m, const struct cf_query *q, int nq, float *s)
{
	const struct als *a = m->st;
	mf_score(m, &a->f, q, nq, s, als_fold);
}

/* score(i) = y_i . A^-1 b = sum_h c_h (y_i^T A^-1 y_h) */
static void als_explain(const struct cfm *m, const struct cf_query *q, const uint32_t *items, int n, float *c)
{
	const struct als *a = m->st;
	int k = a->f.k;
	double *A = xmalloc(xmul((size_t)k * k, 8)), *z = xmalloc((size_t)k * 8);
	int bad = normal_eq(m, q, A, z);
	for (int j = 0; j < n; j++) {
		const float *yi = a->f.V + (size_t)items[j] * k;
		for (int i = 0; i < k; i++)
			z[i] = yi[i];
		if (!bad)
			dense_cholesky_solve(A, z, k);
		for (uint32_t h = 0; h < q->nh; h++) {
			const float *y = a->f.V + (size_t)q->hist[h] * k;
			double d = 0;
			for (int i = 0; i < k; i++)
				d += z[i] * y[i];
			c[(size_t)j * q->nh + h] = bad ? 0 : (float)((1 + a->alpha * q->hw[h]) * d);
		}
	}
	free(A);
	free(z);
}

static void als_similar(const struct cfm *m, uint32_t item, float *s)
{
	const struct als *a = m->st;
	mf_similar(m, &a->f, item, s);
}

const struct cf_algo cf_als = {
	.name = "als",
	.summary = "implicit alternating least squares (conjugate gradient)",
	.params = "factors,iterations,reg,alpha,cg-steps",
	.train = als_train,
	.load = als_load,
	.release = als_release,
	.score = als_score,
	.explain = als_explain,
	.similar = als_similar,
	.ranks = 1,
};
