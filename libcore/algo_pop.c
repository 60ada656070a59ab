/* algo_pop.c - popularity: every user gets the items most users have.
 * The baseline every recommender must beat, and what a list of "top items"
 * is.  Scores are user counts, so models of shards merge by adding. */
#include "cf.h"

#include <json-c/json.h>

struct pop {
	const float *count;
};

static int pop_train(struct cf_fit *f, struct model_writer *w, struct json_object *settings)
{
	(void)settings;
	const struct ix_csr *m = &f->x->m;
	float *c = xcalloc((size_t)m->cols + 1, 4);
	for (uint64_t k = 0; k < m->nnz; k++)
		c[m->idx[k]] += 1;
	mw_add_owned(w, "pop", c, (size_t)m->cols * 4);
	return 0;
}

static int pop_load(struct cfm *m, struct pea_err *e)
{
	const float *c = cf_section(m, "pop", (size_t)m->nitems * 4, e);
	if (!c)
		return -1;
	for (uint32_t i = 0; i < m->nitems; i++)
		if (!(c[i] >= 0) || c[i] > 4294967296.0f) {
			err_set(e, "the model's popularity of item %u is %g", i, (double)c[i]);
			return -1;
		}
	struct pop *p = xcalloc(1, sizeof *p);
	p->count = c;
	m->st = p;
	return 0;
}

static void pop_release(struct cfm *m)
{
	free(m->st);
	m->st = NULL;
}

static void pop_score(const struct cfm *m, const struct cf_query *q, int nq, float *s)
{
	(void)q;
	const struct pop *p = m->st;
	for (int j = 0; j < nq; j++)
		memcpy(s + (size_t)j * m->nitems, p->count, (size_t)m->nitems * 4);
}

const struct cf_algo cf_pop = {
	.name = "pop",
	.summary = "popularity: the items most users have",
	.params = "",
	.train = pop_train,
	.load = pop_load,
	.release = pop_release,
	.score = pop_score,
	.mergeable = 1,
};
