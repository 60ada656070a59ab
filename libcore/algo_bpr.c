/* algo_bpr.c - Bayesian personalised ranking (Rendle et al. 2009): user
 * and item factors and an item bias trained by stochastic gradient ascent
 * on log sigmoid(x_ui - x_uj), for a seen pair (u, i) and an item j the
 * user has not seen.
 *
 * Samples come from one seeded generator and updates are applied in
 * order, on one core: SGD's result depends on the order of its updates, so
 * this is what makes the model the same at any --threads (implicit and
 * LightFM run it Hogwild and cannot promise that).  A user the model never
 * saw is folded in by the same updates on the user's vector alone, with
 * the item factors fixed, from a generator seeded by the history. */
#include "hash.h"
#include "mf.h"
#include "rng.h"

#include <json-c/json.h>
#include <math.h>

#define DEF_FACTORS 64
#define DEF_EPOCHS 100
#define DEF_LR 0.1
#define DEF_REG 0.01
#define NEG_TRIES 64
#define FOLD_MIN 400
#define FOLD_PER_ITEM 40

struct bpr {
	struct mf f;
	double lr, reg;
	uint64_t seed;
};

static int has(const uint32_t *row, uint64_t n, uint32_t j)
{
	uint64_t lo = 0, hi = n;
	while (lo < hi) {
		uint64_t mid = (lo + hi) / 2;
		if (row[mid] < j)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && row[lo] == j;
}

static inline float sigm(float x)
{
	return 1.0f / (1.0f + expf(-x));
}

/* one update of u (and, when V is writable, of items i and j) */
static void step(float *u, float *vi, float *vj, float *bi, float *bj, int k, float lr, float reg, int items)
{
	float x = mf_dot(u, vi, k) - mf_dot(u, vj, k) + (bi ? *bi - *bj : 0);
	float z = sigm(-x);
	for (int a = 0; a < k; a++) {
		float uf = u[a], d = vi[a] - vj[a];
		u[a] += lr * (z * d - reg * uf);
		if (items) {
			vi[a] += lr * (z * uf - reg * vi[a]);
			vj[a] += lr * (-z * uf - reg * vj[a]);
		}
	}
	if (items && bi) {
		*bi += lr * (z - reg * *bi);
		*bj += lr * (-z - reg * *bj);
	}
}

static int bpr_train(struct cf_fit *f, struct model_writer *w, struct json_object *settings)
{
	const struct ix_csr *m = &f->x->m;
	const struct bpr *init = f->init ? f->init->st : NULL;
	int64_t k = f->p->factors ? f->p->factors : init ? init->f.k : DEF_FACTORS;
	int64_t epochs = f->p->iterations ? f->p->iterations : DEF_EPOCHS;
	double lr = !isnan(f->ap->lr) ? f->ap->lr : init ? init->lr : DEF_LR;
	double reg = !isnan(f->p->reg) ? f->p->reg : init ? init->reg : DEF_REG;
	if (k < 1 || k > MF_MAX_FACTORS || epochs < 1 || epochs > 100000) {
		snprintf(f->err, sizeof f->err, "--factors must be 1 to %d, --iterations 1 to 100000", MF_MAX_FACTORS);
		return -1;
	}
	if (!(lr > 0) || !isfinite(lr) || !(reg >= 0) || !isfinite(reg)) {
		snprintf(f->err, sizeof f->err, "--lr must be a number > 0 and --reg one >= 0");
		return -1;
	}
	if (init && init->f.k != k) {
		snprintf(f->err, sizeof f->err, "the --init model has %d factors, not %lld", init->f.k, (long long)k);
		return -1;
	}
	uint32_t nu = m->rows, ni = m->cols;
	if (ni < 2) {
		snprintf(f->err, sizeof f->err, "bpr needs at least two items to rank");
		return -1;
	}
	float *U = xmalloc(xmul(xmul((size_t)nu + 1, (size_t)k), 4));
	float *V = xmalloc(xmul(xmul((size_t)ni + 1, (size_t)k), 4));
	float *B = xcalloc((size_t)ni + 1, 4);
	float scale = 0.5f / (float)k;
	for (uint32_t r = 0; r < nu; r++) {
		if (init && r < f->init->nusers)
			memcpy(U + (size_t)r * k, init->f.U + (size_t)r * k, (size_t)k * 4);
		else
			cf_init_row(U + (size_t)r * k, (int)k, f->seed, 0, r, scale);
	}
	for (uint32_t r = 0; r < ni; r++) {
		if (init && r < f->init->nitems) {
			memcpy(V + (size_t)r * k, init->f.V + (size_t)r * k, (size_t)k * 4);
			B[r] = init->f.bias[r];
		} else {
			cf_init_row(V + (size_t)r * k, (int)k, f->seed, 1, r, scale);
		}
	}
	/* the user of every interaction, to sample pairs uniformly */
	uint32_t *owner = xmalloc(xmul(m->nnz, 4));
	for (uint32_t u = 0; u < nu; u++)
		for (uint64_t q = m->off[u]; q < m->off[u + 1]; q++)
			owner[q] = u;
	struct rng r;
	rng_seed(&r, f->seed ^ 0x6270725f73656564ull);
	double t0 = now_sec();
	for (int64_t e = 0; e < epochs; e++) {
		for (uint64_t s = 0; s < m->nnz; s++) {
			uint64_t q = rng_below(&r, m->nnz);
			uint32_t u = owner[q], i = m->idx[q];
			const uint32_t *row = m->idx + m->off[u];
			uint64_t n = m->off[u + 1] - m->off[u];
			if (n >= ni)
				continue;
			uint32_t j = (uint32_t)rng_below(&r, ni);
			for (int t = 0; t < NEG_TRIES && has(row, n, j); t++)
				j = (uint32_t)rng_below(&r, ni);
			if (has(row, n, j))
				continue;
			step(U + (size_t)u * k, V + (size_t)i * k, V + (size_t)j * k, B + i, B + j, (int)k, (float)lr,
			     (float)reg, 1);
		}
		cf_progress(f, "epoch", (int)e + 1, (int)epochs, (double)m->nnz * (double)(e + 1));
	}
	f->per_iteration = (now_sec() - t0) / (double)epochs;
	free(owner);
	mf_save(w, U, V, B, (int)k, nu, ni, f->threads);
	json_object_object_add(settings, "factors", json_object_new_int64(k));
	json_object_object_add(settings, "iterations", json_object_new_int64(epochs));
	json_object_object_add(settings, "lr", json_object_new_double(lr));
	json_object_object_add(settings, "reg", json_object_new_double(reg));
	return 0;
}

static int bpr_load(struct cfm *m, struct pea_err *e)
{
	struct bpr *b = xcalloc(1, sizeof *b);
	m->st = b;
	b->lr = cf_setting(m, "lr", NAN);
	b->reg = cf_setting(m, "reg", NAN);
	b->seed = (uint64_t)cf_setting(m, "seed", 1);
	if (!(b->lr > 0) || !(b->reg >= 0) || !isfinite(b->lr) || !isfinite(b->reg)) {
		err_set(e, "the model's lr or reg setting is missing");
		return -1;
	}
	return mf_load(m, &b->f, 1, e);
}

static void bpr_release(struct cfm *m)
{
	free(m->st);
	m->st = NULL;
}

/* the user's vector by BPR's updates on it alone, from zero */
static void bpr_fold(const struct cfm *m, const struct cf_query *q, float *x)
{
	const struct bpr *b = m->st;
	int k = b->f.k;
	memset(x, 0, (size_t)k * 4);
	if (!q->nh || m->nitems < 2)
		return;
	struct rng r;
	rng_seed(&r, b->seed ^ hash_bytes(q->hist, (size_t)q->nh * 4, 0));
	uint64_t n = (uint64_t)q->nh * FOLD_PER_ITEM;
	n = n < FOLD_MIN ? FOLD_MIN : n;
	float *vi = xmalloc((size_t)k * 4), *vj = xmalloc((size_t)k * 4);
	for (uint64_t s = 0; s < n; s++) {
		uint32_t i = q->hist[rng_below(&r, q->nh)], j = (uint32_t)rng_below(&r, m->nitems);
		for (int t = 0; t < NEG_TRIES && has(q->hist, q->nh, j); t++)
			j = (uint32_t)rng_below(&r, m->nitems);
		if (has(q->hist, q->nh, j))
			continue;
		/* the items are read-only: step works on copies */
		memcpy(vi, b->f.V + (size_t)i * k, (size_t)k * 4);
		memcpy(vj, b->f.V + (size_t)j * k, (size_t)k * 4);
		step(x, vi, vj, NULL, NULL, k, (float)b->lr, (float)b->reg, 0);
	}
	free(vi);
	free(vj);
}

static void bpr_score(const struct cfm *m, const struct cf_query *q, int nq, float *s)
{
	const struct bpr *b = m->st;
	mf_score(m, &b->f, q, nq, s, bpr_fold);
}

/* BPR's score does not split over the history: the history items whose
 * factors are most like the item's stand in */
static void bpr_explain(const struct cfm *m, const struct cf_query *q, const uint32_t *items, int n, float *c)
{
	const struct bpr *b = m->st;
	int k = b->f.k;
	for (int j = 0; j < n; j++) {
		const float *vi = b->f.V + (size_t)items[j] * k;
		float ni = sqrtf(mf_dot(vi, vi, k));
		for (uint32_t h = 0; h < q->nh; h++) {
			const float *vh = b->f.V + (size_t)q->hist[h] * k;
			float d = ni * sqrtf(mf_dot(vh, vh, k));
			c[(size_t)j * q->nh + h] = d > 0 ? mf_dot(vi, vh, k) / d : 0;
		}
	}
}

static void bpr_similar(const struct cfm *m, uint32_t item, float *s)
{
	const struct bpr *b = m->st;
	mf_similar(m, &b->f, item, s);
}

const struct cf_algo cf_bpr = {
	.name = "bpr",
	.summary = "Bayesian personalised ranking (SGD on sampled pairs)",
	.params = "factors,iterations,reg,lr",
	.train = bpr_train,
	.load = bpr_load,
	.release = bpr_release,
	.score = bpr_score,
	.explain = bpr_explain,
	.similar = bpr_similar,
};
