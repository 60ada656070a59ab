/* algo_ease.c - EASE (Steck 2019): a dense item x item weight matrix B
 * with a zero diagonal that best rebuilds the interaction matrix, in closed
 * form: P = (X^T X + lambda I)^-1, B = -P / diag(P) column by column.
 *
 * Dense in items, so the model takes the N most popular items
 * (--max-items) and refuses, naming how many it could take, when the
 * matrices would not fit in the memory available.  X^T X is built row by
 * row (each row on one thread, over the row's users in order) and inverted
 * by tiles on every core (dense.c), so the result does not depend on the
 * thread count. */
#include "dense.h"
#include "cf.h"

#include <json-c/json.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <unistd.h>

#define DEF_REG 200.0
/* the share of available memory the matrix may take */
#define MEM_SHARE 0.8

struct ease {
	uint32_t n;
	const uint32_t *items; /* kept item ids */
	const float *B;	       /* n x n */
	int64_t *pos;	       /* item id -> row of B, or -1 */
};

static double avail_bytes(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	double kb = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	if (kb > 0)
		return kb * 1024;
	return (double)sysconf(_SC_AVPHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
}

static int cmp_pop(const void *a, const void *b, void *arg)
{
	const uint32_t *deg = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	if (deg[x] != deg[y])
		return deg[x] < deg[y] ? 1 : -1;
	return (x > y) - (x < y);
}

static int ease_train(struct cf_fit *f, struct model_writer *w, struct json_object *settings)
{
	const struct ix_csr *m = &f->x->m;
	double reg = !isnan(f->p->reg) ? f->p->reg : DEF_REG;
	if (!(reg > 0) || !isfinite(reg)) {
		snprintf(f->err, sizeof f->err, "--reg must be a number > 0 for ease");
		return -1;
	}
	if (f->p->max_items < 0) {
		snprintf(f->err, sizeof f->err, "--max-items must be at least 1");
		return -1;
	}
	uint32_t ni = m->cols;
	uint32_t *deg = xcalloc((size_t)ni + 1, 4), *order = xmalloc(xmul((size_t)ni + 1, 4));
	for (uint64_t k = 0; k < m->nnz; k++)
		deg[m->idx[k]]++;
	for (uint32_t i = 0; i < ni; i++)
		order[i] = i;
	qsort_r(order, ni, 4, cmp_pop, deg);
	uint32_t n = f->p->max_items && (uint64_t)f->p->max_items < ni ? (uint32_t)f->p->max_items : ni;
	/* the matrix, and the inverse factor beside it while inverting */
	double need = (double)n * n * 8, have = f->p->memory ? (double)f->p->memory : avail_bytes() * MEM_SHARE;
	if (need > have || (uint64_t)n * n > (uint64_t)INT32_MAX * 4) {
		double fit = floor(sqrt(have / 8));
		if (fit > 46340)
			fit = 46340;
		snprintf(f->err, sizeof f->err,
			 "ease needs two %u x %u matrices (%.3g GB) and may take %.3g GB of memory: it can take %.0f "
			 "items (--max-items %.0f keeps the most popular)",
			 n, n, need / 1e9, have / 1e9, fit, fit);
		free(deg);
		free(order);
		return -1;
	}
	/* kept items in id order, so B's rows follow the model's ids */
	int64_t *pos = xmalloc(xmul((size_t)ni + 1, 8));
	for (uint32_t i = 0; i < ni; i++)
		pos[i] = -1;
	for (uint32_t j = 0; j < n; j++)
		pos[order[j]] = 0;
	uint32_t *items = xmalloc(xmul((size_t)n + 1, 4)), at = 0;
	for (uint32_t i = 0; i < ni; i++)
		if (pos[i] == 0) {
			pos[i] = at;
			items[at++] = i;
		}
	free(order);
	free(deg);
	struct ix_csr t;
	ix_transpose(m, &t, f->threads);
	float *G = dense_alloc(xmul(xmul((size_t)n, (size_t)n) + 1, 4));
	memset(G, 0, (size_t)n * n * 4);
#pragma omp parallel for schedule(dynamic, 16) num_threads(f->threads)
	for (uint32_t a = 0; a < n; a++) {
		float *row = G + (size_t)a * n;
		uint32_t i = items[a];
		for (uint64_t k = t.off[i]; k < t.off[i + 1]; k++) {
			uint32_t u = t.idx[k];
			float wa = t.w[k];
			for (uint64_t q = m->off[u]; q < m->off[u + 1]; q++) {
				int64_t b = pos[m->idx[q]];
				if (b >= 0)
					row[b] += wa * m->w[q];
			}
		}
		row[a] += (float)reg;
	}
	ix_csr_release(&t);
	if (progress_due(&f->pr))
		progress_show(&f->pr, "ease: inverting a %u x %u matrix", n, n);
	if (dense_spd_inverse(G, (int)n, f->threads)) {
		snprintf(f->err, sizeof f->err, "ease: the regularised Gram matrix is not positive definite (raise --reg)");
		free(G);
		free(items);
		free(pos);
		return -1;
	}
	/* B = -P / diag(P), column j divided by P[j][j]; zero diagonal */
	float *d = xmalloc(xmul((size_t)n + 1, 4));
	for (uint32_t j = 0; j < n; j++)
		d[j] = G[(size_t)j * n + j];
#pragma omp parallel for schedule(static) num_threads(f->threads)
	for (uint32_t a = 0; a < n; a++) {
		float *row = G + (size_t)a * n;
		for (uint32_t b = 0; b < n; b++)
			row[b] = a == b ? 0.0f : -row[b] / d[b];
	}
	free(d);
	free(pos);
	mw_add_owned(w, "ease.items", items, (size_t)n * 4);
	mw_add_owned(w, "ease.B", G, (size_t)n * n * 4);
	json_object_object_add(settings, "reg", json_object_new_double(reg));
	if (f->p->max_items)
		json_object_object_add(settings, "max-items", json_object_new_int64(f->p->max_items));
	json_object_object_add(settings, "kept", json_object_new_int64(n));
	return 0;
}

static int ease_load(struct cfm *m, struct pea_err *e)
{
	double n = cf_setting(m, "kept", -1);
	if (!(n >= 0 && n <= m->nitems) || n != floor(n)) {
		err_set(e, "the model's item count for ease is missing or out of range");
		return -1;
	}
	struct ease *s = xcalloc(1, sizeof *s);
	m->st = s;
	s->n = (uint32_t)n;
	if (!(s->items = cf_section(m, "ease.items", (size_t)s->n * 4, e)) ||
	    !(s->B = cf_section(m, "ease.B", (size_t)s->n * s->n * 4, e)))
		return -1;
	s->pos = xmalloc(xmul((size_t)m->nitems + 1, 8));
	for (uint32_t i = 0; i < m->nitems; i++)
		s->pos[i] = -1;
	for (uint32_t a = 0; a < s->n; a++) {
		if (s->items[a] >= m->nitems || (a && s->items[a] <= s->items[a - 1])) {
			err_set(e, "the model's ease items are corrupt");
			return -1;
		}
		s->pos[s->items[a]] = a;
	}
	for (size_t k = 0; k < (size_t)s->n * s->n; k++)
		if (!isfinite(s->B[k])) {
			err_set(e, "the model's ease weights are not all finite numbers");
			return -1;
		}
	return 0;
}

static void ease_release(struct cfm *m)
{
	struct ease *s = m->st;
	free(s->pos);
	free(s);
	m->st = NULL;
}

static void ease_score(const struct cfm *m, const struct cf_query *q, int nq, float *s)
{
	const struct ease *e = m->st;
	for (int j = 0; j < nq; j++) {
		float *row = s + (size_t)j * m->nitems;
		/* items outside the matrix come last */
		for (uint32_t i = 0; i < m->nitems; i++)
			row[i] = -3e38f;
		for (uint32_t a = 0; a < e->n; a++)
			row[e->items[a]] = 0;
		for (uint32_t h = 0; h < q[j].nh; h++) {
			int64_t a = e->pos[q[j].hist[h]];
			if (a < 0)
				continue;
			const float *b = e->B + (size_t)a * e->n;
			float wh = q[j].hw[h];
			for (uint32_t c = 0; c < e->n; c++)
				row[e->items[c]] += wh * b[c];
		}
	}
}

static void ease_explain(const struct cfm *m, const struct cf_query *q, const uint32_t *items, int n, float *c)
{
	const struct ease *e = m->st;
	for (int j = 0; j < n; j++) {
		int64_t b = e->pos[items[j]];
		for (uint32_t h = 0; h < q->nh; h++) {
			int64_t a = e->pos[q->hist[h]];
			c[(size_t)j * q->nh + h] = a >= 0 && b >= 0 ? q->hw[h] * e->B[(size_t)a * e->n + b] : 0;
		}
	}
}

static void ease_similar(const struct cfm *m, uint32_t item, float *s)
{
	const struct ease *e = m->st;
	for (uint32_t i = 0; i < m->nitems; i++)
		s[i] = -INFINITY;
	int64_t a = e->pos[item];
	if (a < 0)
		return;
	for (uint32_t c = 0; c < e->n; c++)
		s[e->items[c]] = e->B[(size_t)a * e->n + c];
}

const struct cf_algo cf_ease = {
	.name = "ease",
	.summary = "EASE: a closed-form item x item model (dense)",
	.params = "reg,max-items,memory",
	.train = ease_train,
	.load = ease_load,
	.release = ease_release,
	.score = ease_score,
	.explain = ease_explain,
	.similar = ease_similar,
	.mergeable = 1,
};
