/* linear.c - see linear.h.  Scores accumulate in double so that long
 * sparse vectors lose nothing to rounding; weights are float, half the
 * memory and twice the cache. */
#include "linear.h"
#include "dist.h"

#include <json-c/json.h>
#include <math.h>

void lin_alloc(struct linear *l, uint32_t dim, uint32_t ncol)
{
	size_t nw = xmul(dim, ncol);
	l->dim = dim;
	l->ncol = ncol;
	l->own = xcalloc(nw + ncol, sizeof *l->own);
	l->w = l->own;
	l->b = l->own + nw;
}

void lin_release(struct linear *l)
{
	free(l->own);
	memset(l, 0, sizeof *l);
}

void lin_scores(const struct linear *l, const struct ds_x *x, double *s)
{
	uint32_t nc = l->ncol;
	for (uint32_t c = 0; c < nc; c++)
		s[c] = l->b[c];
	if (nc == 1) {
		s[0] += ds_dot(x, l->w, l->dim);
		return;
	}
	uint32_t n = x->idx ? x->n : (x->n < l->dim ? x->n : l->dim);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t j = x->idx ? x->idx[k] : k;
		if (j >= l->dim)
			break;
		const float *row = l->w + (size_t)j * nc;
		double v = x->val[k];
		for (uint32_t c = 0; c < nc; c++)
			s[c] += v * row[c];
	}
}

static double sigmoid(double z)
{
	return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

void lin_probs(uint32_t ncol, int nlabels, int multilabel, double *s)
{
	if (ncol == 1 && nlabels == 2) {
		double p = sigmoid(s[0]);
		s[0] = 1 - p;
		s[1] = p;
		return;
	}
	if (multilabel) {
		for (int c = 0; c < nlabels; c++)
			s[c] = sigmoid(s[c]);
		return;
	}
	double mx = -INFINITY, sum = 0;
	for (int c = 0; c < nlabels; c++)
		mx = s[c] > mx ? s[c] : mx;
	for (int c = 0; c < nlabels; c++)
		sum += s[c] = exp(s[c] - mx);
	for (int c = 0; c < nlabels; c++)
		s[c] /= sum;
}

void lin_save(const struct linear *l, struct model_writer *w)
{
	mw_add(w, "weights", l->w, xmul(xmul(l->dim, l->ncol), sizeof(float)));
	mw_add(w, "bias", l->b, l->ncol * sizeof(float));
}

int lin_load(struct linear *l, const struct model *file, uint32_t dim, uint32_t ncol, struct pea_err *e)
{
	size_t nw, nb;
	const float *w = model_section(file, "weights", &nw), *b = model_section(file, "bias", &nb);
	if (!w || !b) {
		err_set(e, "the model has no weights");
		return -1;
	}
	if ((uint64_t)nw != (uint64_t)dim * ncol * sizeof(float) || nb != (size_t)ncol * sizeof(float)) {
		err_set(e, "the weights do not fit the model's dimensions (%u x %u)", dim, ncol);
		return -1;
	}
	memset(l, 0, sizeof *l);
	l->dim = dim;
	l->ncol = ncol;
	l->w = w;
	l->b = b;
	return 0;
}

/* a bounded min-heap of (weight, index) keeps the k heaviest */
struct hitem {
	float w;
	uint32_t i;
};

static void heap_push(struct hitem *h, int *n, int k, float w, uint32_t i)
{
	if (*n == k) {
		if (w <= h[0].w)
			return;
		/* replace the root and sift down */
		int p = 0;
		for (;;) {
			int c = 2 * p + 1;
			if (c >= k)
				break;
			if (c + 1 < k && h[c + 1].w < h[c].w)
				c++;
			if (h[c].w >= w)
				break;
			h[p] = h[c];
			p = c;
		}
		h[p] = (struct hitem){w, i};
		return;
	}
	int p = (*n)++;
	while (p > 0 && h[(p - 1) / 2].w > w) {
		h[p] = h[(p - 1) / 2];
		p = (p - 1) / 2;
	}
	h[p] = (struct hitem){w, i};
}

static int cmp_hitem(const void *a, const void *b)
{
	const struct hitem *x = a, *y = b;
	if (x->w != y->w)
		return x->w < y->w ? 1 : -1;
	return (x->i > y->i) - (x->i < y->i);
}

int lin_top(const struct linear *l, int nlabels, int multilabel, int label, int dir, int k, uint32_t *idx, float *w)
{
	if (k <= 0)
		return 0;
	struct hitem *h = xcalloc((size_t)k, sizeof *h);
	int n = 0;
	int centre = !multilabel && l->ncol > 1;
	for (uint32_t j = 0; j < l->dim; j++) {
		const float *row = l->w + (size_t)j * l->ncol;
		float v;
		if (l->ncol == 1 && nlabels == 2) {
			v = label == 1 ? row[0] : -row[0];
		} else {
			v = row[label];
			if (centre) {
				double m = 0;
				for (uint32_t c = 0; c < l->ncol; c++)
					m += row[c];
				v = (float)(v - m / l->ncol);
			}
		}
		v *= (float)dir;
		if (v > 0)
			heap_push(h, &n, k, v, j);
	}
	qsort(h, (size_t)n, sizeof *h, cmp_hitem);
	for (int i = 0; i < n; i++) {
		idx[i] = h[i].i;
		w[i] = h[i].w;
	}
	free(h);
	return n;
}

void lin_average(struct linear *out, const struct linear *const *in, const double *weight, int n)
{
	uint32_t dim = 0, nc = in[0]->ncol;
	for (int i = 0; i < n; i++)
		dim = in[i]->dim > dim ? in[i]->dim : dim;
	lin_alloc(out, dim, nc);
	float *w = out->own, *b = out->own + (size_t)dim * nc;
	/* in model order, so the sum is the same on every run */
	for (int i = 0; i < n; i++) {
		size_t nw = (size_t)in[i]->dim * nc;
		for (size_t j = 0; j < nw; j++)
			w[j] += (float)(weight[i] * in[i]->w[j]);
		for (uint32_t c = 0; c < nc; c++)
			b[c] += (float)(weight[i] * in[i]->b[c]);
	}
}

void lin_algo_predict(const struct amodel *m, const struct ds_x *x, double *probs)
{
	const struct linear *l = m->st;
	lin_scores(l, x, probs);
	lin_probs(l->ncol, m->nlabels, m->multilabel, probs);
}

int lin_algo_top(const struct amodel *m, int label, int dir, int k, uint32_t *idx, float *w)
{
	return lin_top(m->st, m->nlabels, m->multilabel, label, dir, k, idx, w);
}

void lin_algo_release(struct amodel *m)
{
	if (m->st)
		lin_release(m->st);
	free(m->st);
	m->st = NULL;
}

int lin_algo_load(struct amodel *m, struct json_object *meta, struct pea_err *e)
{
	(void)meta;
	struct linear *l = xcalloc(1, sizeof *l);
	m->st = l;
	return lin_load(l, m->file, m->dim, lin_ncol(m->nlabels, m->multilabel), e);
}

void lin_algo_save(const struct amodel *m, struct model_writer *w, struct json_object *meta)
{
	(void)meta;
	lin_save(m->st, w);
}

int lin_algo_merge(struct amodel *out, struct amodel *const *in, int n, struct pea_err *e)
{
	(void)e;
	const struct linear **l = xcalloc((size_t)n, sizeof *l);
	double *wt = xcalloc((size_t)n, sizeof *wt), tot = 0;
	for (int i = 0; i < n; i++) {
		l[i] = in[i]->st;
		tot += (double)in[i]->nrec;
	}
	for (int i = 0; i < n; i++)
		wt[i] = tot > 0 ? (double)in[i]->nrec / tot : 1.0 / n;
	struct linear *o = xcalloc(1, sizeof *o);
	lin_average(o, l, wt, n);
	out->st = o;
	out->dim = o->dim;
	free(l);
	free(wt);
	return 0;
}

void lin_rows_init(struct lin_rows *r, const struct fit *f, uint32_t dim)
{
	/* this rank's features by the model's numbers, then those several
	 * ranks have: every rank keeps those rows, in the same order */
	size_t gw = ((size_t)f->dim + 63) / 64, lw = ((size_t)dim + 63) / 64, nmix = 1, nmine = 0;
	uint64_t *own = xcalloc(lw + 1, sizeof *own), *several = xcalloc(gw + 1, sizeof *several);
	ds_features(f->train, dim, own);
	for (uint32_t j = 0; j < dim; j++)
		if (own[j / 64] >> (j % 64) & 1) {
			uint32_t g = fit_feature(f, j);
			several[g / 64] |= 1ull << (g % 64);
		}
	dist_several(several, gw);
	for (uint32_t j = 0; j < dim; j++) {
		uint32_t g = fit_feature(f, j);
		if (several[g / 64] >> (g % 64) & 1)
			nmix++;
		else if (own[j / 64] >> (j % 64) & 1)
			nmine++;
	}
	*r = (struct lin_rows){xmalloc(nmix * sizeof *r->mix), 0, xmalloc((nmine + 1) * sizeof *r->mine), 0};
	for (uint32_t j = 0; j < dim; j++) {
		uint32_t g = fit_feature(f, j);
		if (several[g / 64] >> (g % 64) & 1)
			r->mix[r->nmix++] = j;
		else if (own[j / 64] >> (j % 64) & 1)
			r->mine[r->nmine++] = j;
	}
	r->mix[r->nmix++] = dim; /* the bias: every rank moves it */
	free(several);
	free(own);
}

void lin_rows_free(struct lin_rows *r)
{
	free(r->mix);
	free(r->mine);
	*r = (struct lin_rows){0};
}

void lin_collect(const struct lin_rows *r, const struct fit *f, const void *table, size_t row, struct lin_got *got)
{
	/* this rank's rows, each its feature then its bytes, to every rank */
	size_t one = sizeof(uint32_t) + row;
	uint8_t *p = xmalloc(xmul(r->nmine, one) + 1);
	const uint8_t *t = table;
	for (size_t i = 0; i < r->nmine; i++) {
		uint32_t g = fit_feature(f, r->mine[i]);
		memcpy(p + i * one, &g, sizeof g);
		memcpy(p + i * one + sizeof g, t + (size_t)r->mine[i] * row, row);
	}
	got->row = row;
	dist_gather(p, r->nmine * one, &got->b, NULL);
	free(p);
}

size_t lin_got_count(const struct lin_got *got)
{
	return got->b.len / (sizeof(uint32_t) + got->row);
}

const void *lin_got_row(const struct lin_got *got, size_t i, uint32_t *feature)
{
	const uint8_t *at = got->b.p + i * (sizeof(uint32_t) + got->row);
	memcpy(feature, at, sizeof *feature);
	return at + sizeof *feature;
}
