/* Unit tests of the recommenders: name tables, interactions, top-k, and
 * each algorithm against what it must compute: kNN similarities by hand,
 * EASE and ALS against direct dense solves (in double, here), BPR on a
 * planted structure, fold-in against a trained user, determinism. */
#include "cf.h"
#include "dense.h"
#include "rng.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- helpers ---- */

static struct ix *pairs(const char *const *u, const char *const *i, const float *w, int n)
{
	struct strtab *su = st_new(), *si = st_new();
	uint32_t *uu = calloc((size_t)n, 4), *ii = calloc((size_t)n, 4);
	for (int k = 0; k < n; k++) {
		uu[k] = st_intern(su, u[k], strlen(u[k]));
		ii[k] = st_intern(si, i[k], strlen(i[k]));
	}
	struct ix *x = ix_from_pairs(su, si, uu, ii, w, (uint64_t)n, 2);
	free(uu);
	free(ii);
	return x;
}

static struct cfm *train(const char *algo, const struct ix *x, struct cf_params *p, struct algo_params *ap,
			 int threads, uint8_t **bytes, size_t *nbytes)
{
	struct pea_err e;
	struct model_writer *w = cf_train(cf_find(algo), x, NULL, p, ap, threads, 1, 1, NULL, &e);
	if (!w) {
		printf("# %s: %s\n", algo, e.msg);
		return NULL;
	}
	uint8_t *b;
	size_t n;
	mw_bytes(w, &b, &n);
	mw_free(w);
	struct cfm *m = cf_from_bytes(b, n, &e);
	if (!m)
		printf("# loading %s: %s\n", algo, e.msg);
	if (bytes) {
		*bytes = b;
		*nbytes = n;
	} else {
		free(b);
	}
	return m;
}

static uint32_t item_id(const struct cfm *m, const char *s)
{
	return (uint32_t)ntab_find(&m->items, s, strlen(s));
}

/* scores of every item for a history of equal weights */
static void score_hist(const struct cfm *m, const uint32_t *h, uint32_t nh, float *s)
{
	float w[64];
	for (uint32_t k = 0; k < nh; k++)
		w[k] = 1;
	struct cf_query q = {-1, h, w, nh, 1};
	m->algo->score(m, &q, 1, s);
}

/* solve A x = b (n x n, double) by Gauss-Jordan with partial pivoting */
static void solve(double *A, double *b, int n)
{
	for (int c = 0; c < n; c++) {
		int p = c;
		for (int r = c + 1; r < n; r++)
			if (fabs(A[r * n + c]) > fabs(A[p * n + c]))
				p = r;
		for (int k = 0; k < n; k++) {
			double t = A[c * n + k];
			A[c * n + k] = A[p * n + k];
			A[p * n + k] = t;
		}
		double t = b[c];
		b[c] = b[p];
		b[p] = t;
		for (int r = 0; r < n; r++) {
			if (r == c)
				continue;
			double f = A[r * n + c] / A[c * n + c];
			for (int k = 0; k < n; k++)
				A[r * n + k] -= f * A[c * n + k];
			b[r] -= f * b[c];
		}
	}
	for (int c = 0; c < n; c++)
		b[c] /= A[c * n + c];
}

/* ---- name tables ---- */

static void test_ntab(void)
{
	struct strtab *t = st_new();
	char s[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(s, sizeof s, "name-%d", i * 7);
		st_intern(t, s, strlen(s));
	}
	struct buf b = BUF_INIT;
	ntab_write(t, &b);
	struct ntab n;
	struct pea_err e;
	ok(!ntab_open(&n, b.p, b.len, &e), "a written name table opens");
	int found = 0;
	for (int i = 0; i < 1000; i++) {
		snprintf(s, sizeof s, "name-%d", i * 7);
		found += ntab_find(&n, s, strlen(s)) == i;
	}
	is_int(found, 1000, "every name is found under its id");
	is_int(ntab_find(&n, "name-1", 6), -1, "an absent name is -1");
	size_t len;
	ok(!strcmp(ntab_name(&n, 5, &len), "name-35") && len == 7, "names are C strings with their length");
	ok(ntab_open(&n, b.p, b.len - 1, &e) < 0, "a truncated table is refused: %s", e.msg);
	uint8_t *c = malloc(b.len);
	memcpy(c, b.p, b.len);
	put_le64(c + 16 + 8 * 3, 999999);
	ok(ntab_open(&n, c, b.len, &e) < 0, "a bad offset is refused: %s", e.msg);
	memcpy(c, b.p, b.len);
	uint32_t *slot = (uint32_t *)(void *)(c + 16 + 8 * 1001);
	for (uint32_t k = 0; k < le32(c + 4); k++)
		if (!slot[k]) {
			slot[k] = 3;
			break;
		}
	ok(ntab_open(&n, c, b.len, &e) < 0, "a corrupt hash slot is refused: %s", e.msg);
	free(c);
	buf_release(&b);
	st_free(t);
}

/* ---- interactions and top-k ---- */

static void test_ix_top(void)
{
	const char *u[] = {"x", "x", "y", "x", "y"}, *i[] = {"b", "a", "a", "b", "c"};
	float w[] = {1, 2, 1, 3, 5};
	struct ix *x = pairs(u, i, w, 5);
	is_int(x->m.nnz, 4, "a repeated pair is one interaction");
	is_int(x->ndup, 1, "and is counted as a repeat");
	ok(x->m.idx[0] == 0 && x->m.idx[1] == 1, "a user's items are sorted by id (b = 0 before a = 1)");
	ok(x->m.w[0] == 4 && x->m.w[1] == 2, "repeated weights add up");
	ix_free(x);
	float s[6] = {0.5f, 2, -INFINITY, 2, 1, 0.5f};
	uint32_t ids[6];
	float v[6];
	int n = cf_top(s, 6, 4, ids, v);
	ok(n == 4 && ids[0] == 1 && ids[1] == 3 && ids[2] == 4 && ids[3] == 0, "top-k: best first, ties by lower id");
	n = cf_top(s, 6, 6, ids, v);
	is_int(n, 5, "top-k never returns excluded (-inf) items");
}

/* ---- kNN: cosine similarities by hand ---- */

static void test_knn(void)
{
	/* item columns over users: a = (1,1,0), b = (1,1,0), c = (0,1,1) */
	const char *u[] = {"u1", "u1", "u2", "u2", "u2", "u3"}, *i[] = {"a", "b", "a", "b", "c", "c"};
	struct ix *x = pairs(u, i, NULL, 6);
	struct cf_params p = CF_PARAMS_INIT;
	struct algo_params ap = ALGO_PARAMS_INIT;
	struct cfm *m = train("knn", x, &p, &ap, 2, NULL, NULL);
	ok(m != NULL, "knn trains");
	float s[3], sim[3];
	uint32_t a = item_id(m, "a"), b = item_id(m, "b"), c = item_id(m, "c");
	m->algo->similar(m, a, sim);
	near(sim[b], 1.0, 1e-6, "cos(a, b) = 2 / (sqrt 2 sqrt 2) = 1");
	near(sim[c], 0.5, 1e-6, "cos(a, c) = 1 / 2");
	uint32_t h[2] = {a, b};
	score_hist(m, h, 2, s);
	near(s[c], 1.0, 1e-5, "a user with a and b scores c at 0.5 + 0.5 (plus the popularity prior)");
	ok(s[c] > 1.0f, "the prior is positive, below every similarity");
	float c2[2];
	float w2[2] = {1, 1};
	struct cf_query q = {-1, h, w2, 2, 1};
	m->algo->explain(m, &q, &c, 1, c2);
	ok(fabs(c2[0] - 0.5) < 1e-6 && fabs(c2[1] - 0.5) < 1e-6, "explain splits c's score over a and b");
	cf_close(m);
	/* tf-idf: cosine of sqrt(w) * idf, idf = log(3 items) - log1p(user's items) */
	p.weighting = "tfidf";
	m = train("knn", x, &p, &ap, 2, NULL, NULL);
	double i1 = log(3) - log1p(2), i2 = log(3) - log1p(3), i3 = log(3) - log1p(1);
	double ac = i2 * i2 / (sqrt(i1 * i1 + i2 * i2) * sqrt(i2 * i2 + i3 * i3));
	m->algo->similar(m, item_id(m, "a"), sim);
	near(sim[item_id(m, "c")], ac, 1e-5, "tf-idf cosine of a and c by hand");
	cf_close(m);
	ix_free(x);
}

/* A skewed random set: nu users of 2..13 items among ni, popular items
 * much more likely (as in package relations), weights w (NULL: 1). */
static struct ix *skewed(uint32_t nu, uint32_t ni, uint64_t seed, float w)
{
	struct rng r;
	rng_seed(&r, seed);
	struct strtab *su = st_new(), *si = st_new();
	uint32_t *uu = malloc((size_t)nu * 13 * 4), *ii = malloc((size_t)nu * 13 * 4);
	char s[32];
	uint64_t n = 0;
	for (uint32_t i = 0; i < ni; i++) {
		snprintf(s, sizeof s, "i%u", i);
		st_intern(si, s, strlen(s));
	}
	for (uint32_t u = 0; u < nu; u++) {
		snprintf(s, sizeof s, "u%u", u);
		uint32_t id = st_intern(su, s, strlen(s)), k = 2 + (uint32_t)(rng_next(&r) % 12);
		for (uint32_t x = 0; x < k; x++) {
			double f = (double)(rng_next(&r) >> 11) / 9007199254740992.0;
			uu[n] = id;
			ii[n++] = (uint32_t)(f * f * f * ni);
		}
	}
	/* repeated pairs add their weights: keep them to one each */
	struct ix *x = ix_from_pairs(su, si, uu, ii, NULL, n, 2);
	for (uint64_t k = 0; k < x->m.nnz; k++)
		x->m.w[k] = w;
	free(uu);
	free(ii);
	return x;
}

/* ---- kNN: the K best of every row, and the same sums however found ---- */

static void test_knn_select(void)
{
	uint32_t ni = 60;
	struct ix *x = skewed(400, ni, 7, 1), *x2 = skewed(400, ni, 7, 2);
	struct cf_params p = CF_PARAMS_INIT;
	struct algo_params ap = ALGO_PARAMS_INIT;
	p.neighbours = ni;
	struct cfm *all = train("knn", x, &p, &ap, 2, NULL, NULL), *twos = train("knn", x2, &p, &ap, 2, NULL, NULL);
	p.neighbours = 5;
	uint8_t *b1, *b3;
	size_t n1, n3;
	struct cfm *m5 = train("knn", x, &p, &ap, 1, &b1, &n1), *m5b = train("knn", x, &p, &ap, 3, &b3, &n3);
	ok(all && twos && m5 && m5b, "knn trains on a skewed set");
	ok(n1 == n3 && !memcmp(b1, b3, n1), "the same model at 1 and 3 threads");
	float sa[60], s2[60], s5[60];
	int worst = 0, big = 0;
	double apart = 0;
	for (uint32_t i = 0; i < ni; i++) {
		all->algo->similar(all, i, sa);
		twos->algo->similar(twos, i, s2);
		m5->algo->similar(m5, i, s5);
		/* the 5 best of the whole row: higher similarity, then lower id */
		int have = 0, kept = 0;
		for (uint32_t j = 0; j < ni; j++) {
			have += sa[j] > -INFINITY;
			if (sa[j] > -INFINITY && s2[j] > -INFINITY)
				apart = fmax(apart, fabs(sa[j] - s2[j]));
			else if ((sa[j] > -INFINITY) != (s2[j] > -INFINITY))
				apart = INFINITY;
		}
		big += have > 16;
		for (uint32_t j = 0; j < ni; j++) {
			int better = 0;
			for (uint32_t o = 0; o < ni; o++)
				better += sa[o] > sa[j] || (sa[o] == sa[j] && o < j);
			int want = sa[j] > -INFINITY && better < 5;
			kept += want;
			worst += want != (s5[j] > -INFINITY) || (want && s5[j] != sa[j]);
		}
		worst += kept != (have < 5 ? have : 5);
	}
	ok(big > 5, "rows of more than 16 candidates go through the select (%d rows)", big);
	is_int(worst, 0, "every row keeps exactly the 5 best of all its neighbours, ties by lower id");
	near(apart, 0, 1e-6, "weights of 2 (float sums) give the cosines of weights of 1 (counts)");
	cf_close(all);
	cf_close(twos);
	cf_close(m5);
	cf_close(m5b);
	free(b1);
	free(b3);
	ix_free(x);
	ix_free(x2);
}

/* ---- the transpose: the same on any number of threads ---- */

static void test_transpose(void)
{
	struct ix *x = skewed(40000, 3000, 11, 1);
	for (uint64_t k = 0; k < x->m.nnz; k++)
		x->m.w[k] = (float)(k % 97);
	struct ix_csr t1, t3;
	ix_transpose(&x->m, &t1, 1);
	ix_transpose(&x->m, &t3, 3);
	ok(x->m.nnz > 3 * 65536, "big enough for three threads (%llu entries)", (unsigned long long)x->m.nnz);
	ok(!memcmp(t1.off, t3.off, ((size_t)t1.rows + 1) * 8) && !memcmp(t1.idx, t3.idx, t1.nnz * 4) &&
		   !memcmp(t1.w, t3.w, t1.nnz * 4),
	   "three threads give the one-thread transpose");
	int bad = 0;
	for (uint32_t c = 0; c < t3.rows; c++)
		for (uint64_t k = t3.off[c]; k < t3.off[c + 1]; k++) {
			uint32_t r = t3.idx[k];
			bad += k > t3.off[c] && r <= t3.idx[k - 1];
			uint64_t q = x->m.off[r];
			while (q < x->m.off[r + 1] && x->m.idx[q] != c)
				q++;
			bad += q == x->m.off[r + 1] || x->m.w[q] != t3.w[k];
		}
	is_int(bad, 0, "each column has its rows increasing, with their weights");
	ix_csr_release(&t1);
	ix_csr_release(&t3);
	ix_free(x);
}

/* ---- EASE against a direct solve ---- */

static void test_ease(void)
{
	const char *u[] = {"1", "1", "1", "2", "2", "3", "3", "3", "4", "4", "5", "5", "5", "6"};
	const char *i[] = {"a", "b", "c", "a", "d", "b", "c", "d", "a", "c", "a", "b", "d", "d"};
	int n = 14, ni = 4;
	struct ix *x = pairs(u, i, NULL, n);
	struct cf_params p = CF_PARAMS_INIT;
	struct algo_params ap = ALGO_PARAMS_INIT;
	p.reg = 2;
	struct cfm *m = train("ease", x, &p, &ap, 2, NULL, NULL);
	ok(m != NULL, "ease trains");
	/* G = X^T X + 2 I, P = G^-1 column by column, B = -P / diag(P) */
	double G[16] = {0}, P[16];
	for (uint32_t r = 0; r < x->m.rows; r++)
		for (uint64_t a = x->m.off[r]; a < x->m.off[r + 1]; a++)
			for (uint64_t b = x->m.off[r]; b < x->m.off[r + 1]; b++)
				G[x->m.idx[a] * ni + x->m.idx[b]] += 1;
	for (int k = 0; k < ni; k++)
		G[k * ni + k] += 2;
	for (int c = 0; c < ni; c++) {
		double A[16], e[4] = {0};
		memcpy(A, G, sizeof A);
		e[c] = 1;
		solve(A, e, ni);
		for (int r = 0; r < ni; r++)
			P[r * ni + c] = e[r];
	}
	double worst = 0;
	float s[4];
	for (uint32_t h = 0; h < (uint32_t)ni; h++) {
		score_hist(m, &h, 1, s);
		for (int j = 0; j < ni; j++) {
			double want = (uint32_t)j == h ? 0 : -P[h * ni + j] / P[j * ni + j];
			worst = fmax(worst, fabs(s[j] - want));
		}
	}
	near(worst, 0, 1e-5, "every weight of B matches the closed form (largest error)");
	cf_close(m);
	ix_free(x);
}

/* ---- ALS: each half-step is the exact solve (CG with k steps) ---- */

/* A = Y^T Y + reg I + sum_h alpha w y y^T, b = sum (1 + alpha w) y over a
 * row's items; solved in double */
static void als_row(const float *Y, int ny, int k, const uint32_t *idx, const float *w, uint64_t n, double reg,
		    double alpha, double *x)
{
	double A[64] = {0};
	for (int r = 0; r < ny; r++)
		for (int a = 0; a < k; a++)
			for (int b = 0; b < k; b++)
				A[a * k + b] += (double)Y[r * k + a] * Y[r * k + b];
	for (int a = 0; a < k; a++) {
		A[a * k + a] += reg;
		x[a] = 0;
	}
	for (uint64_t t = 0; t < n; t++) {
		const float *y = Y + (size_t)idx[t] * k;
		for (int a = 0; a < k; a++) {
			x[a] += (1 + alpha * w[t]) * y[a];
			for (int b = 0; b < k; b++)
				A[a * k + b] += alpha * w[t] * y[a] * y[b];
		}
	}
	solve(A, x, k);
}

static void test_als(void)
{
	const char *u[] = {"1", "1", "1", "2", "2", "3", "3", "3", "4", "4", "5", "5", "5", "6", "6"};
	const char *i[] = {"a", "b", "c", "a", "d", "b", "c", "e", "a", "c", "a", "e", "d", "d", "b"};
	float w[] = {1, 2, 1, 3, 1, 1, 1, 2, 1, 4, 1, 1, 2, 1, 1};
	int n = 15, k = 3;
	struct ix *x = pairs(u, i, w, n);
	struct cf_params p = CF_PARAMS_INIT;
	struct algo_params ap = ALGO_PARAMS_INIT;
	p.factors = k;
	p.iterations = 4;
	p.cg_steps = 12; /* well past k: CG is exact */
	p.reg = 0.1;
	ap.alpha = 2;
	uint8_t *b1, *b2;
	size_t n1, n2;
	struct cfm *m = train("als", x, &p, &ap, 1, &b1, &n1);
	ok(m != NULL, "als trains");
	struct cfm *m2 = train("als", x, &p, &ap, 2, &b2, &n2);
	ok(n1 == n2 && !memcmp(b1, b2, n1), "the same model bytes at 1 and 2 threads");
	free(b1);
	free(b2);
	cf_close(m2);
	size_t sz;
	const float *U = model_section(m->file, "mf.user", &sz), *V = model_section(m->file, "mf.item", &sz);
	/* the last half-step solved every item against the final user factors */
	struct ix_csr t;
	ix_transpose(&x->m, &t, 1);
	double worst = 0, xv[3];
	for (uint32_t it = 0; it < t.rows; it++) {
		als_row(U, (int)x->m.rows, k, t.idx + t.off[it], t.w + t.off[it], t.off[it + 1] - t.off[it], 0.1, 2, xv);
		for (int a = 0; a < k; a++)
			worst = fmax(worst, fabs(V[it * k + a] - xv[a]) / (fabs(xv[a]) + 1e-3));
	}
	near(worst, 0, 1e-3, "item factors equal the direct solve against the user factors (relative error)");
	ix_csr_release(&t);
	/* fold-in: the exact solve against the item factors, scored by them */
	uint32_t h[3] = {item_id(m, "a"), item_id(m, "c"), item_id(m, "e")};
	float hw[3] = {1, 2, 1}, s[5];
	struct cf_query q = {-1, h, hw, 3, 1};
	m->algo->score(m, &q, 1, s);
	/* the history sorted by id, as pea-recommend passes it */
	uint32_t hs[3] = {h[0], h[1], h[2]};
	float ws[3] = {1, 2, 1};
	als_row(V, (int)x->m.cols, k, hs, ws, 3, 0.1, 2, xv);
	worst = 0;
	for (uint32_t j = 0; j < 5; j++) {
		double want = 0;
		for (int a = 0; a < k; a++)
			want += xv[a] * V[j * k + a];
		worst = fmax(worst, fabs(s[j] - want));
	}
	near(worst, 0, 1e-4, "fold-in scores equal the direct solve's");
	/* explain splits the fold-in score over the history exactly */
	uint32_t all[5] = {0, 1, 2, 3, 4};
	float c[15];
	m->algo->explain(m, &q, all, 5, c);
	worst = 0;
	for (int j = 0; j < 5; j++)
		worst = fmax(worst, fabs(c[j * 3] + c[j * 3 + 1] + c[j * 3 + 2] - s[j]));
	near(worst, 0, 1e-4, "explain's contributions add up to the score");
	cf_close(m);
	ix_free(x);
}

/* ---- BPR on a planted structure ---- */

static void test_bpr(void)
{
	/* 40 users: the even ones use items p0..p9, the odd ones q0..q9 */
	const char *u[400], *i[400];
	char names[400][2][8];
	int n = 0;
	for (int a = 0; a < 40; a++)
		for (int j = 0; j < 10; j++) {
			if ((a * 7 + j * 3) % 10 < 3)
				continue; /* leave some out, to be recommended */
			snprintf(names[n][0], 8, "u%d", a);
			snprintf(names[n][1], 8, "%c%d", a % 2 ? 'q' : 'p', j);
			u[n] = names[n][0];
			i[n] = names[n][1];
			n++;
		}
	struct ix *x = pairs(u, i, NULL, n);
	struct cf_params p = CF_PARAMS_INIT;
	struct algo_params ap = ALGO_PARAMS_INIT;
	p.factors = 8;
	p.iterations = 100;
	ap.lr = 0.05;
	struct cfm *m = train("bpr", x, &p, &ap, 2, NULL, NULL);
	ok(m != NULL, "bpr trains");
	int right = 0, total = 0;
	float *s = calloc(m->nitems, 4);
	uint32_t ids[3];
	float v[3];
	for (uint32_t a = 0; a < m->nusers; a++) {
		struct cf_query q = {a, m->sidx + m->soff[a], m->sw + m->soff[a],
				     (uint32_t)(m->soff[a + 1] - m->soff[a]), 0};
		m->algo->score(m, &q, 1, s);
		for (uint64_t k = m->soff[a]; k < m->soff[a + 1]; k++)
			s[m->sidx[k]] = -INFINITY;
		int got = cf_top(s, m->nitems, 3, ids, v);
		size_t len;
		int odd = atoi(ntab_name(&m->users, a, &len) + 1) % 2;
		for (int k = 0; k < got; k++) {
			right += ntab_name(&m->items, ids[k], &len)[0] == (odd ? 'q' : 'p');
			total++;
		}
	}
	ok(total > 0 && right == total, "every top-3 item is of the user's group (%d of %d)", right, total);
	/* fold-in of a new user of group p */
	uint32_t h[3] = {item_id(m, "p1"), item_id(m, "p4"), item_id(m, "p7")};
	score_hist(m, h, 3, s);
	for (int k = 0; k < 3; k++)
		s[h[k]] = -INFINITY;
	int got = cf_top(s, m->nitems, 3, ids, v), ps = 0;
	for (int k = 0; k < got; k++) {
		size_t len;
		ps += ntab_name(&m->items, ids[k], &len)[0] == 'p';
	}
	is_int(ps, 3, "a folded-in user of group p gets p items");
	free(s);
	cf_close(m);
	ix_free(x);
}

/* ---- the tiled inverse: A A^-1 = I, the same bits at any thread count ---- */

static void test_inverse(void)
{
	int n = 600; /* three tiles, the last one partial */
	float *x = malloc((size_t)n * 40 * 4), *a = malloc((size_t)n * n * 4), *b = malloc((size_t)n * n * 4);
	double *g = malloc((size_t)n * n * 8);
	struct rng r;
	rng_seed(&r, 7);
	for (int i = 0; i < n * 40; i++)
		x[i] = (float)(rng_unit(&r) < 0.1);
	/* G = X X^T + 3 I (X: n x 40): positive definite, far from diagonal */
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			double d = i == j ? 3 : 0;
			for (int k = 0; k < 40; k++)
				d += x[i * 40 + k] * x[j * 40 + k];
			g[i * n + j] = d;
			a[i * n + j] = b[i * n + j] = (float)d;
		}
	ok(!dense_spd_inverse(a, n, 1), "a positive definite matrix inverts (1 thread)");
	ok(!dense_spd_inverse(b, n, 2), "and on 2 threads");
	ok(!memcmp(a, b, (size_t)n * n * 4), "the same bits at 1 and 2 threads");
	double worst = 0;
	for (int i = 0; i < n; i += 7)
		for (int j = 0; j < n; j++) {
			double d = 0;
			for (int k = 0; k < n; k++)
				d += g[i * n + k] * a[k * n + j];
			worst = fmax(worst, fabs(d - (i == j)));
		}
	near(worst, 0, 1e-3, "G times its inverse is the identity (largest error)");
	for (int i = 0; i < n * n; i++)
		a[i] = (float)-g[i];
	ok(dense_spd_inverse(a, n, 2) < 0, "a negative definite matrix is refused");
	free(x);
	free(a);
	free(b);
	free(g);
}

/* ---- models are input: sections that lie are refused by name ---- */

/* the model's bytes with one section replaced (and a valid digest) */
static struct cfm *with_section(const uint8_t *b, size_t n, const char *name, const void *p, size_t len,
				struct pea_err *e)
{
	struct model *src = model_from_bytes(b, n, e);
	struct model_writer *w = mw_new();
	for (int i = 0; i < model_nsections(src); i++) {
		const char *sn = model_section_name(src, i);
		size_t sl;
		const void *sp = model_section(src, sn, &sl);
		if (!strcmp(sn, name))
			mw_add(w, sn, p, len);
		else
			mw_add(w, sn, sp, sl);
	}
	uint8_t *out;
	size_t outn;
	mw_bytes(w, &out, &outn);
	mw_free(w);
	model_close(src);
	struct cfm *m = cf_from_bytes(out, outn, e);
	free(out);
	return m;
}

static void test_hostile(void)
{
	const char *u[] = {"1", "1", "2", "2", "3"}, *i[] = {"a", "b", "a", "c", "c"};
	struct ix *x = pairs(u, i, NULL, 5);
	struct cf_params p = CF_PARAMS_INIT;
	struct algo_params ap = ALGO_PARAMS_INIT;
	uint8_t *b;
	size_t n, len;
	struct cfm *m = train("knn", x, &p, &ap, 1, &b, &n);
	struct pea_err e;
	const uint32_t *items = model_section(m->file, "seen.item", &len);
	uint32_t *bad = malloc(len);
	memcpy(bad, items, len);
	bad[1] = 99;
	struct cfm *y = with_section(b, n, "seen.item", bad, len, &e);
	ok(!y && strstr(e.msg, "out of range"), "an item id beyond the model's items is refused: %s", e.msg);
	y = with_section(b, n, "seen.item", bad, len - 4, &e);
	ok(!y && strstr(e.msg, "seen.item"), "a section of the wrong size is refused: %s", e.msg);
	const uint32_t *nbr = model_section(m->file, "knn.item", &len);
	uint32_t *nb = malloc(len + 4);
	memcpy(nb, nbr, len);
	nb[0] = 1000;
	y = with_section(b, n, "knn.item", nb, len, &e);
	ok(!y && strstr(e.msg, "neighbours"), "a neighbour beyond the model's items is refused: %s", e.msg);
	const char *meta = "{\"kind\":\"recommender\",\"format\":1,\"algo\":\"knn\",\"users\":7,\"items\":3,"
			   "\"interactions\":5,\"records\":5,\"settings\":{}}";
	y = with_section(b, n, "meta", meta, strlen(meta), &e);
	ok(!y && strstr(e.msg, "name tables"), "a meta that disagrees with the names is refused: %s", e.msg);
	meta = "{\"kind\":\"recommender\",\"format\":2}";
	y = with_section(b, n, "meta", meta, strlen(meta), &e);
	ok(!y && strstr(e.msg, "format 2"), "a newer format is refused by number: %s", e.msg);
	free(bad);
	free(nb);
	free(b);
	cf_close(m);
	ix_free(x);
}

int main(void)
{
	test_inverse();
	test_hostile();
	test_ntab();
	test_ix_top();
	test_knn();
	test_knn_select();
	test_transpose();
	test_ease();
	test_als();
	test_bpr();
	return tap_done();
}
