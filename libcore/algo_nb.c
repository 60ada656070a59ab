/* algo_nb.c - multinomial and complement naive Bayes with additive
 * smoothing, and per-label binary naive Bayes for multi-label data.
 *
 * Training is counting: one pass, in record order, in double, so the
 * counts of shards add up to the counts of the whole (exactly, when the
 * feature values are whole numbers such as term counts).  The model keeps
 * the counts (sections nb_counts, nb_total, nb_recs) for merging and warm
 * starts, and the log-probabilities they imply as a linear model (linear.h)
 * for prediction, so classifying needs no arithmetic beyond a dot product:
 *   multinomial:  s_c = log P(c) + sum_j x_j log((N_cj + a) / (N_c + a D))
 *   complement:   s_c = -sum_j x_j log((N~cj + a) / (N~c + a D)), N~ the
 *                 counts of every other label (Rennie et al. 2003)
 *   multi-label:  each label against its absence, a sigmoid per label.
 * Two labels become one column: the difference of the two scores. */
#include "dist.h"
#include "linear.h"

#include <json-c/json.h>
#include <math.h>

struct nb {
	struct linear lin; /* first: the lin_algo_* entries take the model as one */
	uint32_t dim;
	int K;
	const double *cnt; /* dim x K, feature-major */
	const double *tot; /* dim: every record's counts (multi-label records once) */
	const double *rec; /* K + 1: weighted records per label, then all records */
	double *own;
	double alpha;
	int complement, balanced, multilabel;
};

static double *nb_alloc(struct nb *s, uint32_t dim, int K)
{
	size_t n = xmul(dim, (size_t)K) + dim + (size_t)K + 1;
	s->own = xcalloc(n, sizeof *s->own);
	s->cnt = s->own;
	s->tot = s->own + (size_t)dim * K;
	s->rec = s->tot + dim;
	s->dim = dim;
	s->K = K;
	return s->own;
}

/* the linear model implied by the counts */
static void nb_weights(struct nb *s, int nlabels)
{
	uint32_t D = s->dim;
	int K = s->K;
	uint32_t ncol = lin_ncol(nlabels, s->multilabel);
	lin_release(&s->lin);
	lin_alloc(&s->lin, D, ncol);
	float *W = s->lin.own, *B = s->lin.own + (size_t)D * ncol;
	double a = s->alpha, n = s->rec[K], all = 0;
	double *T = xcalloc((size_t)K, sizeof *T), *lc = xcalloc((size_t)K, sizeof *lc),
	       *ln = xcalloc((size_t)K, sizeof *ln), *row = xcalloc((size_t)K, sizeof *row);
	for (uint32_t j = 0; j < D; j++) {
		all += s->tot[j];
		for (int c = 0; c < K; c++)
			T[c] += s->cnt[(size_t)j * K + c];
	}
	for (int c = 0; c < K; c++) {
		lc[c] = log(T[c] + a * D);	 /* normalizer of label c */
		ln[c] = log(all - T[c] + a * D); /* of everything but c */
	}
	double prior[2] = {0, 0};
	for (int c = 0; c < K; c++) {
		double pc;
		if (s->multilabel)
			pc = log((s->rec[c] + 1) / (n - s->rec[c] + 1));
		else if (s->complement)
			pc = 0;
		else if (s->balanced)
			pc = -log((double)K);
		else
			pc = log((s->rec[c] > 0 ? s->rec[c] : 1e-10) / (n > 0 ? n : 1));
		if (ncol == 1)
			prior[c] = pc;
		else
			B[c] = (float)pc;
	}
	if (ncol == 1)
		B[0] = (float)(prior[1] - prior[0]);
	for (uint32_t j = 0; j < D; j++) {
		const double *N = s->cnt + (size_t)j * K;
		for (int c = 0; c < K; c++) {
			double pos = log(N[c] + a) - lc[c], neg = log(s->tot[j] - N[c] + a) - ln[c];
			row[c] = s->multilabel ? pos - neg : s->complement ? -neg : pos;
		}
		if (ncol == 1)
			W[j] = (float)(row[1] - row[0]);
		else
			for (int c = 0; c < K; c++)
				W[(size_t)j * K + c] = (float)row[c];
	}
	free(T);
	free(lc);
	free(ln);
	free(row);
}

struct train {
	struct nb m;
	const struct fit *f;
	int done, synced;
};

/* naive Bayes adds feature values up as counts: a negative one (signed
 * hashing) would make a negative count and a NaN probability */
static void find_negative(void *ctx, const struct ds_cursor *cur, uint64_t first, uint32_t n)
{
	uint64_t *at = ctx;
	for (uint32_t i = 0; i < n && *at == UINT64_MAX; i++) {
		struct ds_x x;
		ds_cursor_x(cur, i, &x);
		for (uint32_t k = 0; k < x.n; k++)
			if (x.val[k] < 0) {
				*at = first + i;
				break;
			}
	}
}

static void *nb_begin(struct fit *f)
{
	if (algo_check_params(f, "nb", "alpha,complement"))
		return NULL;
	uint64_t neg = UINT64_MAX;
	ds_visit(f->train, NULL, 0, 1, find_negative, &neg);
	if (neg != UINT64_MAX) {
		snprintf(f->err, sizeof f->err,
			 "naive Bayes needs counts, and record %llu has a negative feature value "
			 "(hashed with a sign? vectorize with --unsigned)", (unsigned long long)neg + 1);
		return NULL;
	}
	double a = isnan(f->p->alpha) ? 1.0 : f->p->alpha;
	if (!(a > 0)) {
		snprintf(f->err, sizeof f->err, "--alpha must be above 0");
		return NULL;
	}
	if (f->p->complement && f->multilabel) {
		snprintf(f->err, sizeof f->err, "--complement needs one label per record");
		return NULL;
	}
	struct train *t = xcalloc(1, sizeof *t);
	t->f = f;
	t->m.alpha = a;
	t->m.complement = f->p->complement;
	t->m.balanced = f->balanced;
	t->m.multilabel = f->multilabel;
	double *own = nb_alloc(&t->m, f->dim, f->nlabels);
	if (f->init && dist_rank() == 0) {
		/* a warm start adds the new counts to the old ones (once, on
		 * rank 0, when the ranks' counts are to be added up) */
		const struct nb *o = f->init->st;
		int K = f->nlabels;
		for (uint32_t j = 0; j < o->dim; j++) {
			for (int c = 0; c < o->K; c++)
				own[(size_t)j * K + f->init_map[c]] = o->cnt[(size_t)j * o->K + c];
			own[(size_t)f->dim * K + j] = o->tot[j];
		}
		double *rec = own + (size_t)f->dim * K + f->dim;
		for (int c = 0; c < o->K; c++)
			rec[f->init_map[c]] = o->rec[c];
		rec[K] = o->rec[o->K];
	}
	return t;
}

static void count_block(void *ctx, const struct ds_cursor *cur, uint64_t first, uint32_t n)
{
	struct train *t = ctx;
	const struct fit *f = t->f;
	int K = t->m.K;
	double *cnt = t->m.own, *tot = cnt + (size_t)t->m.dim * K, *rec = tot + t->m.dim;
	for (uint32_t i = 0; i < n; i++) {
		struct ds_x x;
		uint32_t ny;
		ds_cursor_x(cur, i, &x);
		const uint32_t *y = ds_y(f->train, first + i, &ny);
		double w = ds_weight(f->train, first + i);
		for (uint32_t k = 0; k < x.n; k++) {
			uint32_t j = x.idx ? x.idx[k] : k;
			double v = w * x.val[k];
			tot[j] += v;
			for (uint32_t l = 0; l < ny; l++)
				cnt[(size_t)j * K + y[l]] += v;
		}
		for (uint32_t l = 0; l < ny; l++)
			rec[y[l]] += w;
		rec[K] += w;
	}
}

static int nb_epoch(void *st, const struct fit *f, int e, double *loss)
{
	struct train *t = st;
	(void)e;
	*loss = 0;
	if (!t->done)
		ds_visit(f->train, NULL, 0, 1, count_block, t); /* counting in record order */
	t->done = 1;
	return 1; /* counting is done in one pass */
}

/* several ranks: the counts add up, so every rank gets the counts of all
 * the records (exactly those of one process when they are whole numbers) */
static void nb_sync(void *st, const struct fit *f)
{
	struct train *t = st;
	(void)f;
	if (t->synced)
		return;
	dist_sum_f64(t->m.own, xmul(t->m.dim, (size_t)t->m.K) + t->m.dim + (size_t)t->m.K + 1);
	t->synced = 1;
}

static void nb_snapshot(void *st, const struct fit *f, struct amodel *m)
{
	struct train *t = st;
	struct nb *s = xcalloc(1, sizeof *s);
	*s = t->m;
	s->own = NULL; /* the counts stay with the trainer until nb_end */
	memset(&s->lin, 0, sizeof s->lin);
	size_t n = xmul(s->dim, (size_t)s->K) + s->dim + (size_t)s->K + 1;
	s->own = xmalloc(n * sizeof *s->own);
	memcpy(s->own, t->m.own, n * sizeof *s->own);
	s->cnt = s->own;
	s->tot = s->own + (size_t)s->dim * s->K;
	s->rec = s->tot + s->dim;
	nb_weights(s, f->nlabels);
	m->st = s;
}

static void nb_end(void *st)
{
	struct train *t = st;
	free(t->m.own);
	free(t);
}

static void nb_settings(const struct fit *f, json_object *o)
{
	json_object_object_add(o, "alpha", json_object_new_double(isnan(f->p->alpha) ? 1.0 : f->p->alpha));
	json_object_object_add(o, "complement", json_object_new_boolean(f->p->complement));
}

static void nb_save(const struct amodel *m, struct model_writer *w, json_object *meta)
{
	const struct nb *s = m->st;
	(void)meta;
	lin_save(&s->lin, w);
	mw_add(w, "nb_counts", s->cnt, xmul(xmul(s->dim, (size_t)s->K), sizeof(double)));
	mw_add(w, "nb_total", s->tot, xmul(s->dim, sizeof(double)));
	mw_add(w, "nb_recs", s->rec, ((size_t)s->K + 1) * sizeof(double));
}

static void nb_release(struct amodel *m)
{
	struct nb *s = m->st;
	if (!s)
		return;
	lin_release(&s->lin);
	free(s->own);
	free(s);
	m->st = NULL;
}

static int settings_of(struct nb *s, const struct amodel *m, struct pea_err *e)
{
	json_object *v;
	s->alpha = 1;
	if (m->settings && json_object_object_get_ex(m->settings, "alpha", &v))
		s->alpha = json_object_get_double(v);
	s->complement = m->settings && json_object_object_get_ex(m->settings, "complement", &v) &&
			json_object_get_boolean(v);
	s->balanced = m->settings && json_object_object_get_ex(m->settings, "balanced", &v) &&
		      json_object_get_boolean(v);
	s->multilabel = m->multilabel;
	if (!(s->alpha > 0) || !isfinite(s->alpha)) {
		err_set(e, "the model's smoothing (alpha) is not above 0");
		return -1;
	}
	return 0;
}

static int nb_load(struct amodel *m, json_object *meta, struct pea_err *e)
{
	(void)meta;
	struct nb *s = xcalloc(1, sizeof *s);
	m->st = s;
	if (settings_of(s, m, e) || lin_load(&s->lin, m->file, m->dim, lin_ncol(m->nlabels, m->multilabel), e))
		return -1;
	size_t nc, nt, nr;
	s->cnt = model_section(m->file, "nb_counts", &nc);
	s->tot = model_section(m->file, "nb_total", &nt);
	s->rec = model_section(m->file, "nb_recs", &nr);
	s->dim = m->dim;
	s->K = m->nlabels;
	if (!s->cnt || !s->tot || !s->rec || (uint64_t)nc != (uint64_t)m->dim * (uint64_t)m->nlabels * 8 ||
	    nt != (size_t)m->dim * 8 || nr != ((size_t)m->nlabels + 1) * 8) {
		err_set(e, "the naive Bayes counts do not fit the model's dimensions");
		return -1;
	}
	return 0;
}

static int nb_merge(struct amodel *out, struct amodel *const *in, int n, struct pea_err *e)
{
	struct nb *s = xcalloc(1, sizeof *s);
	out->st = s;
	if (settings_of(s, in[0], e))
		return -1;
	double *own = nb_alloc(s, out->dim, out->nlabels);
	int K = out->nlabels;
	/* counts add up: in model order, so every run gives the same sums */
	for (int i = 0; i < n; i++) {
		const struct nb *o = in[i]->st;
		if (o->alpha != s->alpha || o->complement != s->complement) {
			err_set(e, "model %d was trained with other naive Bayes settings than model 1", i + 1);
			return -1;
		}
		for (size_t k = 0; k < (size_t)o->dim * K; k++)
			own[k] += o->cnt[k];
		for (uint32_t j = 0; j < o->dim; j++)
			own[(size_t)s->dim * K + j] += o->tot[j];
		for (int c = 0; c <= K; c++)
			own[(size_t)s->dim * K + s->dim + c] += o->rec[c];
	}
	nb_weights(s, out->nlabels);
	return 0;
}

const struct algo algo_nb = {
	.name = "nb",
	.summary = "naive Bayes (multinomial or complement), counts that merge exactly",
	.epochs = 1,
	.begin = nb_begin,
	.epoch = nb_epoch,
	.snapshot = nb_snapshot,
	.end = nb_end,
	.settings = nb_settings,
	.save = nb_save,
	.load = nb_load,
	.predict = lin_algo_predict,
	.merge = nb_merge,
	.sync = nb_sync,
	.top = lin_algo_top,
	.release = nb_release,
};
