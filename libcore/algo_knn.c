/* algo_knn.c - item-item nearest neighbours: an item's score for a user is
 * the sum of its similarities to the user's items, over each item's K most
 * similar items.
 *
 * Similarities come from the item x user matrix under one of three
 * weightings, as implicit's CosineRecommender, TFIDFRecommender and
 * BM25Recommender compute them: cosine of the raw weights; cosine of
 * tf-idf weights (sqrt(weight) * idf of the user); or plain dot products of
 * BM25 weights (K1 1.2, B 0.75).  Each item's row of co-occurrences is
 * accumulated over the users it has, in CSR order, on one thread, so the
 * model does not depend on the thread count.  The user histories the model
 * keeps are the co-occurrence counts in factored form: --init and --merge
 * retrain from their union, so counts add up exactly. */
#include "cf.h"

#include <json-c/json.h>
#include <math.h>
#include <omp.h>

#define DEF_K 100
#define MAX_K 100000
#define BM25_K1 1.2
#define BM25_B 0.75
/* items no neighbour reaches still come in order of popularity, below
 * every real score */
#define POP_EPS 1e-6f

#define CHUNK 64

enum weighting { W_COSINE, W_TFIDF, W_BM25 };

struct cand {
	float v;
	uint32_t j;
};

/* a before b: a higher similarity, or an equal one and a lower id (a
 * total order, so the neighbours do not depend on how they were found) */
static inline int before(struct cand a, struct cand b)
{
	return a.v > b.v || (a.v == b.v && a.j < b.j);
}

/* Move the k best of c[0..n) to its front (quickselect); returns how many.
 * Their order is left as it falls: scores add the same in any order, and
 * --similar ranks at query time. */
static uint32_t top_k(struct cand *c, uint32_t n, uint32_t k)
{
	if (n > k) {
		uint32_t lo = 0, hi = n - 1;
		while (lo < hi) {
			struct cand p = c[lo + (hi - lo) / 2];
			uint32_t i = lo, j = hi;
			while (i <= j) {
				while (before(c[i], p))
					i++;
				while (before(p, c[j]))
					j--;
				if (i <= j) {
					struct cand t = c[i];
					c[i] = c[j];
					c[j] = t;
					i++;
					if (!j)
						break;
					j--;
				}
			}
			if (k - 1 <= j)
				hi = j;
			else if (k - 1 >= i)
				lo = i;
			else
				break;
		}
		n = k;
	}
	return n;
}
static const char *const wnames[] = {"cosine", "tfidf", "bm25"};

struct knn {
	const uint64_t *off;
	const uint32_t *nbr;
	const float *sim, *prior;
};

/* the weighted user x item values, parallel to m's */
static float *weigh(const struct ix_csr *m, enum weighting wt)
{
	float *v = xmalloc(xmul(m->nnz ? m->nnz : 1, 4));
	if (wt == W_COSINE) {
		memcpy(v, m->w, (size_t)m->nnz * 4);
		return v;
	}
	/* items are the documents, users the terms */
	double n = (double)m->cols;
	double *len = xcalloc((size_t)m->cols + 1, sizeof *len), avg = 0;
	for (uint64_t k = 0; k < m->nnz; k++)
		len[m->idx[k]] += m->w[k];
	for (uint32_t i = 0; i < m->cols; i++)
		avg += len[i];
	avg = m->cols ? avg / m->cols : 1;
	for (uint32_t u = 0; u < m->rows; u++) {
		uint64_t a = m->off[u], z = m->off[u + 1];
		double idf = log(n) - log1p((double)(z - a));
		for (uint64_t k = a; k < z; k++) {
			double x = m->w[k];
			if (wt == W_TFIDF) {
				v[k] = (float)(sqrt(x) * idf);
			} else {
				double norm = (1 - BM25_B) + BM25_B * len[m->idx[k]] / avg;
				v[k] = (float)(x * (BM25_K1 + 1) / (BM25_K1 * norm + x) * idf);
			}
		}
	}
	free(len);
	return v;
}

static int knn_train(struct cf_fit *f, struct model_writer *w, struct json_object *settings)
{
	const struct ix_csr *m = &f->x->m;
	int64_t K = f->p->neighbours ? f->p->neighbours : DEF_K;
	if (K < 1 || K > MAX_K) {
		snprintf(f->err, sizeof f->err, "--neighbours must be between 1 and %d", MAX_K);
		return -1;
	}
	enum weighting wt = W_COSINE;
	if (f->p->weighting) {
		size_t i;
		for (i = 0; i < ARRAY_SIZE(wnames) && strcmp(wnames[i], f->p->weighting); i++)
			;
		if (i == ARRAY_SIZE(wnames)) {
			snprintf(f->err, sizeof f->err, "unknown --weighting '%.64s' (cosine, tfidf or bm25)",
				 f->p->weighting);
			return -1;
		}
		wt = (enum weighting)i;
	}
	uint32_t ni = m->cols;
	if ((uint64_t)K > ni)
		K = ni ? ni : 1;
	/* W by user, and by item with the same values */
	struct ix_csr bu = *m, bi;
	float *wu = weigh(m, wt);
	bu.w = wu;
	ix_transpose(&bu, &bi, f->threads);
	/* the norm of each item's row (cosine and tf-idf divide by them) */
	float *inv = xcalloc((size_t)ni + 1, 4);
	for (uint32_t i = 0; i < ni; i++) {
		double s = 0;
		for (uint64_t k = bi.off[i]; k < bi.off[i + 1]; k++)
			s += (double)bi.w[k] * bi.w[k];
		inv[i] = wt == W_BM25 ? 1.0f : s > 0 ? (float)(1 / sqrt(s)) : 0.0f;
	}
	/* items in chunks: each chunk's neighbour lists go to a buffer of
	 * their own, joined in chunk order at the end */
	uint32_t nchunk = (ni + CHUNK - 1) / CHUNK;
	struct cand **out = xcalloc((size_t)nchunk + 1, sizeof *out);
	uint32_t *cnt = xcalloc((size_t)ni + 1, 4);
	uint64_t work = 0;
	int done = 0;
#pragma omp parallel num_threads(f->threads) reduction(+ : work)
	{
		float *acc = xcalloc((size_t)ni + 1, 4);
		uint32_t *touched = xmalloc(xmul((size_t)ni + 1, 4)), *mark = xcalloc((size_t)ni + 1, 4);
		struct cand *c = xmalloc(xmul((size_t)ni + 1, sizeof *c));
#pragma omp for schedule(dynamic, 1)
		for (uint32_t ch = 0; ch < nchunk; ch++) {
			uint32_t i0 = ch * CHUNK, i1 = i0 + CHUNK < ni ? i0 + CHUNK : ni;
			size_t have = 0, cap = 0;
			struct cand *o = NULL;
			for (uint32_t i = i0; i < i1; i++) {
				uint32_t nt = 0;
				for (uint64_t k = bi.off[i]; k < bi.off[i + 1]; k++) {
					uint32_t u = bi.idx[k];
					float a = bi.w[k];
					/* branch-free: i itself is accumulated too and
					 * left out below */
					for (uint64_t q = bu.off[u]; q < bu.off[u + 1]; q++) {
						uint32_t j = bu.idx[q];
						touched[nt] = j;
						nt += mark[j] != i + 1;
						mark[j] = i + 1;
						acc[j] += a * bu.w[q];
					}
					work += bu.off[u + 1] - bu.off[u];
				}
				/* only the touched entries are read, and cleared */
				uint32_t nc = 0;
				for (uint32_t t = 0; t < nt; t++) {
					uint32_t j = touched[t];
					float v = acc[j] * inv[i] * inv[j];
					acc[j] = 0;
					if (v > 0 && j != i)
						c[nc++] = (struct cand){v, j};
				}
				uint32_t got = top_k(c, nc, (uint32_t)K);
				if (have + got > cap) {
					cap = (have + got) * 2;
					o = xrealloc(o, cap * sizeof *o);
				}
				if (got) /* o is still NULL while nothing was kept */
					memcpy(o + have, c, got * sizeof *c);
				have += got;
				cnt[i] = got;
			}
			out[ch] = o;
			if (omp_get_thread_num() == 0)
				cf_progress(f, "items", __atomic_load_n(&done, __ATOMIC_RELAXED), (int)ni, (double)work);
			__atomic_add_fetch(&done, (int)(i1 - i0), __ATOMIC_RELAXED);
		}
		free(acc);
		free(touched);
		free(mark);
		free(c);
	}
	free(inv);
	ix_csr_release(&bi);
	free(wu);
	/* join the chunks */
	uint64_t *off = xcalloc((size_t)ni + 1, 8);
	for (uint32_t i = 0; i < ni; i++)
		off[i + 1] = off[i] + cnt[i];
	uint64_t total = off[ni];
	uint32_t *onbr = xmalloc(xmul(total ? total : 1, 4));
	float *osim = xmalloc(xmul(total ? total : 1, 4));
	for (uint32_t ch = 0; ch < nchunk; ch++) {
		uint64_t at = off[ch * CHUNK], n = off[(ch + 1) * CHUNK < ni ? (ch + 1) * CHUNK : ni] - at;
		for (uint64_t x = 0; x < n; x++) {
			onbr[at + x] = out[ch][x].j;
			osim[at + x] = out[ch][x].v;
		}
		free(out[ch]);
	}
	free(out);
	free(cnt);
	/* the popularity prior */
	float *prior = xcalloc((size_t)ni + 1, 4), top = 0;
	for (uint64_t k = 0; k < m->nnz; k++)
		prior[m->idx[k]] += 1;
	for (uint32_t i = 0; i < ni; i++)
		top = prior[i] > top ? prior[i] : top;
	for (uint32_t i = 0; i < ni; i++)
		prior[i] = top > 0 ? POP_EPS * prior[i] / top : 0;
	mw_add_owned(w, "knn.off", off, ((size_t)ni + 1) * 8);
	mw_add_owned(w, "knn.item", onbr, (size_t)total * 4);
	mw_add_owned(w, "knn.sim", osim, (size_t)total * 4);
	mw_add_owned(w, "knn.prior", prior, (size_t)ni * 4);
	json_object_object_add(settings, "neighbours", json_object_new_int64(K));
	json_object_object_add(settings, "weighting", json_object_new_string(wnames[wt]));
	return 0;
}

static int knn_load(struct cfm *m, struct pea_err *e)
{
	size_t ni = m->nitems;
	const uint64_t *off = cf_section(m, "knn.off", (ni + 1) * 8, e);
	if (!off)
		return -1;
	uint64_t total = off[ni];
	if (off[0] || total > SIZE_MAX / 8) {
		err_set(e, "the model's neighbour offsets are corrupt");
		return -1;
	}
	const uint32_t *nbr = cf_section(m, "knn.item", (size_t)total * 4, e);
	const float *sim = nbr ? cf_section(m, "knn.sim", (size_t)total * 4, e) : NULL;
	const float *prior = sim ? cf_section(m, "knn.prior", ni * 4, e) : NULL;
	if (!prior)
		return -1;
	for (size_t i = 0; i < ni; i++) {
		if (off[i + 1] < off[i] || off[i + 1] > total || !(prior[i] >= 0 && prior[i] <= 1)) {
			err_set(e, "the model's neighbours of item %zu are corrupt", i);
			return -1;
		}
		for (uint64_t k = off[i]; k < off[i + 1]; k++)
			if (nbr[k] >= ni || !isfinite(sim[k])) {
				err_set(e, "the model's neighbours of item %zu are corrupt", i);
				return -1;
			}
	}
	struct knn *k = xcalloc(1, sizeof *k);
	k->off = off;
	k->nbr = nbr;
	k->sim = sim;
	k->prior = prior;
	m->st = k;
	return 0;
}

static void knn_release(struct cfm *m)
{
	free(m->st);
	m->st = NULL;
}

static void knn_score(const struct cfm *m, const struct cf_query *q, int nq, float *s)
{
	const struct knn *k = m->st;
	for (int j = 0; j < nq; j++) {
		float *row = s + (size_t)j * m->nitems;
		memcpy(row, k->prior, (size_t)m->nitems * 4);
		for (uint32_t h = 0; h < q[j].nh; h++) {
			uint32_t it = q[j].hist[h];
			float wh = q[j].hw[h];
			for (uint64_t x = k->off[it]; x < k->off[it + 1]; x++)
				row[k->nbr[x]] += wh * k->sim[x];
		}
	}
}

static void knn_explain(const struct cfm *m, const struct cf_query *q, const uint32_t *items, int n, float *c)
{
	const struct knn *k = m->st;
	for (int j = 0; j < n; j++)
		for (uint32_t h = 0; h < q->nh; h++) {
			uint32_t it = q->hist[h];
			float v = 0;
			for (uint64_t x = k->off[it]; x < k->off[it + 1]; x++)
				if (k->nbr[x] == items[j]) {
					v = q->hw[h] * k->sim[x];
					break;
				}
			c[(size_t)j * q->nh + h] = v;
		}
}

static void knn_similar(const struct cfm *m, uint32_t item, float *s)
{
	const struct knn *k = m->st;
	for (uint32_t i = 0; i < m->nitems; i++)
		s[i] = -INFINITY;
	for (uint64_t x = k->off[item]; x < k->off[item + 1]; x++)
		s[k->nbr[x]] = k->sim[x];
}

const struct cf_algo cf_knn = {
	.name = "knn",
	.summary = "item-item nearest neighbours (cosine, tf-idf or BM25)",
	.params = "neighbours,weighting",
	.train = knn_train,
	.load = knn_load,
	.release = knn_release,
	.score = knn_score,
	.explain = knn_explain,
	.similar = knn_similar,
	.mergeable = 1,
};
