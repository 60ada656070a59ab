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
 * retrain from their union, so counts add up exactly.
 *
 * Fitting is mostly a matter of memory: on the machines pea runs on, the
 * first touch of a fresh page costs as much as thousands of additions, so
 * the rows go straight to the model's arrays, each at a place that bounds
 * its size, and are closed up at the end, instead of through buffers of
 * their own.  Those arrays ask for huge pages (dense_alloc): one fault of
 * 2 MB in place of 512 (Debian's relations: 2,900 faults, a fifth of the
 * fit, down to about 100).  The rows are taken heaviest first (the head
 * item that co-occurs with everything, libc6 in Debian's package
 * relations, takes as long as thousands of others), in tasks of about
 * equal work. */
#include "cf.h"
#include "dense.h"

#include <float.h>
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

/* tasks per thread: enough that the one that finishes first does not wait
 * long for the other */
#define TASKS_PER_THREAD 32

enum weighting { W_COSINE, W_TFIDF, W_BM25 };
static const char *const wnames[] = {"cosine", "tfidf", "bm25"};

struct knn {
	const uint64_t *off;
	const uint32_t *nbr;
	const float *sim, *prior;
};

/* A candidate neighbour as one word that sorts as neighbours rank: the
 * similarity's bits above (positive floats order as their bits do), the
 * complement of the neighbour's id below.  A larger key is a higher
 * similarity, or an equal one and a lower id: a total order, so the
 * neighbours kept do not depend on how they were found. */
static inline uint64_t cand_key(float v, uint32_t j)
{
	uint32_t b;
	memcpy(&b, &v, 4);
	return (uint64_t)b << 32 | (uint32_t)~j;
}

static inline float key_sim(uint64_t k)
{
	uint32_t b = (uint32_t)(k >> 32);
	float v;
	memcpy(&v, &b, 4);
	return v;
}

/* Move the k largest of the distinct keys a[0..n) to its front
 * (quickselect; tmp holds n).  Their order is left as it falls: scores add
 * the same in any order, and --similar ranks at query time.  Each pass
 * splits its range without a branch on the keys (they would be mispredicted
 * half the time): every key is written to both sides, and the side's end
 * moves only for the side it belongs to. */
static void select_top(uint64_t *a, size_t n, size_t k, uint64_t *tmp)
{
	if (n <= k)
		return;
	/* a[0..lo) beat every key after them, a[hi..n) lose to every key
	 * before them, and lo <= k < hi */
	size_t lo = 0, hi = n;
	while (hi - lo > 16) {
		uint64_t x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1];
		/* the median of three distinct keys: both sides get one */
		uint64_t p = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
		size_t g = 0, s = 0;
		for (size_t i = lo; i < hi; i++) {
			uint64_t v = a[i];
			a[lo + g] = v;
			tmp[s] = v;
			g += v > p;
			s += v <= p;
		}
		memcpy(a + lo + g, tmp, s * 8);
		if (lo + g == k)
			return;
		if (lo + g > k)
			hi = lo + g;
		else
			lo += g;
	}
	/* the last few in order, larger first */
	for (size_t i = lo + 1; i < hi; i++) {
		uint64_t v = a[i];
		size_t j = i;
		for (; j > lo && a[j - 1] < v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

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

/* Items heaviest first: by popularity (users, most first; ties by id),
 * which is what a row's work grows with. */
static void by_popularity(const struct ix_csr *bi, uint32_t *order)
{
	uint32_t ni = bi->rows, top = 0;
	for (uint32_t i = 0; i < ni; i++)
		top = bi->off[i + 1] - bi->off[i] > top ? (uint32_t)(bi->off[i + 1] - bi->off[i]) : top;
	/* a counting sort, stable in id */
	uint32_t *at = xcalloc((size_t)top + 2, 4);
	for (uint32_t i = 0; i < ni; i++)
		at[top - (bi->off[i + 1] - bi->off[i]) + 1]++;
	for (uint32_t c = 0; c <= top; c++)
		at[c + 1] += at[c];
	for (uint32_t i = 0; i < ni; i++)
		order[at[top - (bi->off[i + 1] - bi->off[i])]++] = i;
	free(at);
}

/* Close up rows written at from[i] (room to from[i + 1]) to their final
 * places to[i], to[i + 1] - to[i] elements of size sz each: rows that
 * filled their room move together. */
static void close_up(void *base, size_t sz, const uint64_t *from, const uint64_t *to, uint32_t n)
{
	char *p = base;
	for (uint32_t i = 0, j; i < n; i = j + 1) {
		for (j = i; j + 1 < n && to[j + 1] - to[j] == from[j + 1] - from[j]; j++)
			;
		if (from[i] != to[i] && to[j + 1] > to[i])
			memmove(p + to[i] * sz, p + from[i] * sz, (to[j + 1] - to[i]) * sz);
	}
}

/* How a row's sums find the entries they touch first: with every weight 1
 * the sums are counts; with every product of weights positive (weights > 0
 * whose squares do not underflow) an entry is new while its sum is 0;
 * otherwise (tf-idf or BM25 weights can be negative) a mark per item says
 * which row last touched it.  All three give the same sums and the same
 * list. */
enum acc_mode { ACC_UNIT, ACC_POSITIVE, ACC_MARK };

/* One item's row: its co-occurrences with every item, accumulated over
 * its users; the K best go to nbr/sim (room for at most K, nor more than
 * the other items its users have), and their number is returned.  The
 * sums are counts (cnt) when every weight is 1, floats (acc) otherwise:
 * one array, zero between rows. */
struct rowctx {
	const struct ix_csr *bu, *bi;
	const float *inv;
	uint32_t K;
	enum acc_mode mode;
	uint32_t *cnt;
	float *acc;
	uint32_t *touched, *mark;
	uint64_t *key; /* a heavy row's candidates, and as many for select_top */
};

/* the sum of entry j, cleared */
static inline float take(const struct rowctx *c, uint32_t j)
{
	float v;
	if (c->mode == ACC_UNIT) {
		v = (float)c->cnt[j];
		c->cnt[j] = 0;
	} else {
		v = c->acc[j];
		c->acc[j] = 0;
	}
	return v;
}

static uint32_t knn_row(struct rowctx *c, uint32_t i, uint32_t *nbr, float *sim)
{
	const struct ix_csr *bu = c->bu, *bi = c->bi;
	uint32_t *cnt = c->cnt, *touched = c->touched, *mark = c->mark, nt = 0;
	float *acc = c->acc;
	/* branch-free: an entry goes to touched as it is first met; i
	 * itself is accumulated too and left out below */
	for (uint64_t k = bi->off[i]; k < bi->off[i + 1]; k++) {
		uint64_t q = bu->off[bi->idx[k]], end = bu->off[bi->idx[k] + 1];
		float a = bi->w[k];
		switch (c->mode) {
		case ACC_UNIT:
			for (; q < end; q++) {
				uint32_t j = bu->idx[q], s = cnt[j];
				touched[nt] = j;
				nt += s == 0;
				cnt[j] = s + 1;
			}
			break;
		case ACC_POSITIVE:
			for (; q < end; q++) {
				uint32_t j = bu->idx[q];
				float s = acc[j];
				touched[nt] = j;
				nt += s == 0;
				acc[j] = s + a * bu->w[q];
			}
			break;
		case ACC_MARK:
			for (; q < end; q++) {
				uint32_t j = bu->idx[q];
				touched[nt] = j;
				nt += mark[j] != i + 1;
				mark[j] = i + 1;
				acc[j] += a * bu->w[q];
			}
			break;
		}
	}
	/* only the touched entries are read, and cleared; a row with no
	 * more than K of them (i among them) is written as it comes */
	float ii = c->inv[i];
	uint32_t got = 0;
	if (nt <= c->K) {
		for (uint32_t t = 0; t < nt; t++) {
			uint32_t j = touched[t];
			float v = take(c, j) * ii * c->inv[j];
			if (v > 0 && j != i) {
				nbr[got] = j;
				sim[got++] = v;
			}
		}
		return got;
	}
	uint64_t *key = c->key;
	for (uint32_t t = 0; t < nt; t++) {
		uint32_t j = touched[t];
		float v = take(c, j) * ii * c->inv[j];
		if (v > 0 && j != i)
			key[got++] = cand_key(v, j);
	}
	select_top(key, got, c->K, key + got);
	got = got < c->K ? got : c->K;
	for (uint32_t x = 0; x < got; x++) {
		nbr[x] = ~(uint32_t)key[x];
		sim[x] = key_sim(key[x]);
	}
	return got;
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
	/* W by user (cosine: the weights as they are), and by item */
	struct ix_csr bu = *m, bi;
	float *wu = wt == W_COSINE ? NULL : weigh(m, wt);
	if (wu)
		bu.w = wu;
	ix_transpose(&bu, &bi, f->threads);
	float *inv = xmalloc(xmul((size_t)ni + 1, 4)), *prior = xmalloc(xmul((size_t)ni + 1, 4));
	uint64_t *room = xmalloc(xmul((size_t)ni + 1, 8)), *est = xmalloc(xmul((size_t)ni + 1, 8));
	uint64_t *off = xcalloc((size_t)ni + 1, 8);
	uint32_t *order = xmalloc(xmul((size_t)ni + 1, 4));
	uint32_t ntask = (uint32_t)f->threads * TASKS_PER_THREAD;
	ntask = ntask < ni ? ntask : ni;
	uint32_t *task = xmalloc(xmul((size_t)ntask + 1, 4)), *onbr = NULL;
	float *osim = NULL, least = INFINITY;
	int unit = 1;
	enum acc_mode mode = ACC_MARK;
	uint64_t work = 0;
	int done = 0;
#pragma omp parallel num_threads(f->threads)
	{
		/* per item: the norm of its row (cosine and tf-idf divide by
		 * them), the additions its row takes, and room for its
		 * neighbours: no more than K, nor than the other items its
		 * users have */
#pragma omp for schedule(static) reduction(& : unit) reduction(min : least)
		for (uint32_t i = 0; i < ni; i++) {
			double s = 0;
			uint64_t adds = 0;
			for (uint64_t k = bi.off[i]; k < bi.off[i + 1]; k++) {
				float x = bi.w[k];
				s += (double)x * x;
				unit &= x == 1.0f;
				least = x < least ? x : least;
				adds += bu.off[bi.idx[k] + 1] - bu.off[bi.idx[k]];
			}
			inv[i] = wt == W_BM25 ? 1.0f : s > 0 ? (float)(1 / sqrt(s)) : 0.0f;
			uint64_t most = adds - (bi.off[i + 1] - bi.off[i]);
			room[i + 1] = most < (uint64_t)K ? most : (uint64_t)K;
			est[i] = adds + 1;
		}
#pragma omp single
		{
			mode = unit ? ACC_UNIT : least > 0 && least * least >= FLT_MIN ? ACC_POSITIVE : ACC_MARK;
			room[0] = 0;
			for (uint32_t i = 0; i < ni; i++)
				room[i + 1] += room[i];
			/* the model's arrays, each row at its room: pages
			 * never written cost nothing */
			onbr = dense_alloc(xmul(room[ni] ? room[ni] : 1, 4));
			osim = dense_alloc(xmul(room[ni] ? room[ni] : 1, 4));
			/* tasks: runs of rows, heaviest first, of about
			 * equal work */
			by_popularity(&bi, order);
			uint64_t total = 0, sum = 0;
			for (uint32_t i = 0; i < ni; i++)
				total += est[i];
			uint32_t t = 0;
			task[0] = 0;
			for (uint32_t r = 0; r < ni && t + 1 < ntask; r++) {
				sum += est[order[r]];
				if (sum * ntask >= total * (t + 1))
					task[++t] = r + 1;
			}
			ntask = t + 1;
			task[ntask] = ni;
			/* the popularity prior: the most popular item's is
			 * POP_EPS */
			float top = (float)(bi.off[order[0] + 1] - bi.off[order[0]]);
			for (uint32_t i = 0; i < ni; i++)
				prior[i] = top > 0 ? POP_EPS * (float)(bi.off[i + 1] - bi.off[i]) / top : 0;
		}
		void *sums = xcalloc((size_t)ni + 1, 4);
		struct rowctx c = {&bu, &bi, inv, (uint32_t)K, mode, sums, sums, xmalloc(xmul((size_t)ni + 1, 4)),
				   mode == ACC_MARK ? xcalloc((size_t)ni + 1, 4) : NULL, xmalloc(xmul((size_t)ni + 1, 16))};
#pragma omp for schedule(dynamic, 1)
		for (uint32_t t = 0; t < ntask; t++) {
			uint64_t mine = 0;
			for (uint32_t r = task[t]; r < task[t + 1]; r++) {
				uint32_t i = order[r];
				off[i + 1] = knn_row(&c, i, onbr + room[i], osim + room[i]);
				mine += est[i] - 1;
			}
			__atomic_add_fetch(&work, mine, __ATOMIC_RELAXED);
			__atomic_add_fetch(&done, (int)(task[t + 1] - task[t]), __ATOMIC_RELAXED);
			if (omp_get_thread_num() == 0)
				cf_progress(f, "items", __atomic_load_n(&done, __ATOMIC_RELAXED), (int)ni,
					    (double)__atomic_load_n(&work, __ATOMIC_RELAXED));
		}
		free(sums);
		free(c.touched);
		free(c.mark);
		free(c.key);
#pragma omp single
		for (uint32_t i = 0; i < ni; i++)
			off[i + 1] += off[i];
		/* the two arrays are closed up side by side */
#pragma omp for schedule(static, 1)
		for (int a = 0; a < 2; a++) {
			if (a == 0)
				close_up(onbr, 4, room, off, ni);
			else
				close_up(osim, 4, room, off, ni);
		}
	}
	free(est);
	free(task);
	free(order);
	free(room);
	free(inv);
	ix_csr_release(&bi);
	free(wu);
	uint64_t total = off[ni];
	onbr = xrealloc(onbr, xmul(total ? total : 1, 4));
	osim = xrealloc(osim, xmul(total ? total : 1, 4));
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
