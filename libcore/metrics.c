/* metrics.c - see metrics.h.  Everything is kept per record (label ids and
 * probabilities) and computed at the end, because the label set, and so
 * the meaning of a probability for "the positive label", is known only
 * then. */
#include "metrics.h"
#include "strtab.h"
#include "svg.h"

#include <json-c/json.h>
#include <math.h>

#define PLOT_MAX 40

struct vec32 {
	uint32_t *v;
	size_t n, cap;
};
static void v32_add(struct vec32 *a, uint32_t x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 1024;
		a->v = xrealloc(a->v, a->cap * sizeof *a->v);
	}
	a->v[a->n++] = x;
}

struct met {
	struct strtab *names;
	struct vec32 truth, pred, pk;
	double *pv;
	size_t pvcap;
	/* per record: where its parts start (the next record's start ends them) */
	struct vec32 tstart, pstart, kstart;
	struct vec32 multi;
};

struct met *met_new(void)
{
	struct met *m = xcalloc(1, sizeof *m);
	m->names = st_new();
	v32_add(&m->tstart, 0);
	v32_add(&m->pstart, 0);
	v32_add(&m->kstart, 0);
	return m;
}

void met_free(struct met *m)
{
	if (!m)
		return;
	st_free(m->names);
	free(m->truth.v);
	free(m->pred.v);
	free(m->pk.v);
	free(m->pv);
	free(m->tstart.v);
	free(m->pstart.v);
	free(m->kstart.v);
	free(m->multi.v);
	free(m);
}

void met_truth(struct met *m, const char *s, size_t n) { v32_add(&m->truth, st_intern(m->names, s, n)); }
void met_pred(struct met *m, const char *s, size_t n) { v32_add(&m->pred, st_intern(m->names, s, n)); }

void met_prob(struct met *m, const char *s, size_t n, double p)
{
	v32_add(&m->pk, st_intern(m->names, s, n));
	if (m->pk.n > m->pvcap) {
		m->pvcap = m->pk.cap;
		m->pv = xrealloc(m->pv, m->pvcap * sizeof *m->pv);
	}
	m->pv[m->pk.n - 1] = p;
}

void met_end_record(struct met *m, int multilabel)
{
	v32_add(&m->tstart, (uint32_t)m->truth.n);
	v32_add(&m->pstart, (uint32_t)m->pred.n);
	v32_add(&m->kstart, (uint32_t)m->pk.n);
	v32_add(&m->multi, (uint32_t)multilabel);
}

static int cmp_name(const void *a, const void *b, void *arg)
{
	const struct strtab *t = arg;
	return strcmp(st_name(t, *(const uint32_t *)a), st_name(t, *(const uint32_t *)b));
}

struct scored {
	double s;
	int pos;
};
static int cmp_scored(const void *a, const void *b)
{
	const struct scored *x = a, *y = b;
	return x->s < y->s ? 1 : x->s > y->s ? -1 : 0;
}

/* ROC points and both areas from (score, positive) pairs */
static void curves(struct met_result *r, struct scored *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_scored);
	uint64_t P = 0, N = 0;
	for (size_t i = 0; i < n; i++)
		v[i].pos ? P++ : N++;
	r->roc_fpr = xcalloc(n + 2, sizeof *r->roc_fpr);
	r->roc_tpr = xcalloc(n + 2, sizeof *r->roc_tpr);
	r->roc_n = 1;
	double auc = 0, ap = 0, prev_fpr = 0, prev_tpr = 0, prev_rec = 0;
	uint64_t tp = 0, fp = 0;
	for (size_t i = 0; i < n; i++) {
		v[i].pos ? tp++ : fp++;
		if (i + 1 < n && v[i + 1].s == v[i].s)
			continue; /* ties form one threshold */
		double fpr = N ? (double)fp / N : 0, tpr = P ? (double)tp / P : 0;
		auc += (fpr - prev_fpr) * (tpr + prev_tpr) / 2;
		double rec = tpr, prec = (double)tp / (double)(tp + fp);
		ap += (rec - prev_rec) * prec;
		prev_fpr = fpr;
		prev_tpr = tpr;
		prev_rec = rec;
		r->roc_fpr[r->roc_n] = fpr;
		r->roc_tpr[r->roc_n] = tpr;
		r->roc_n++;
	}
	r->roc_auc = P && N ? auc : NAN;
	r->pr_auc = P ? ap : NAN;
}

int met_compute(struct met *m, const char *positive, struct met_result *r, struct pea_err *e)
{
	memset(r, 0, sizeof *r);
	uint32_t K = st_count(m->names);
	uint64_t n = m->multi.n;
	r->n = n;
	if (!n) {
		err_set(e, "no records to evaluate");
		return -1;
	}
	for (uint64_t i = 0; i < n; i++)
		r->multilabel |= (int)m->multi.v[i];
	/* labels in name order; rank[id] is a label's place */
	uint32_t *order = xcalloc(K + 1, sizeof *order), *rank = xcalloc(K + 1, sizeof *rank);
	for (uint32_t i = 0; i < K; i++)
		order[i] = i;
	qsort_r(order, K, sizeof *order, cmp_name, m->names);
	for (uint32_t i = 0; i < K; i++)
		rank[order[i]] = i;
	r->nlabels = (int)K;
	r->label = xcalloc(K + 1, sizeof *r->label);
	for (uint32_t i = 0; i < K; i++)
		r->label[i].name = xstrdup(st_name(m->names, order[i]));
	r->confusion = xcalloc(xmul(K, K) + 1, sizeof *r->confusion);
	uint64_t exact = 0, with_probs = 0;
	double loss = 0;
	uint8_t *in_t = xcalloc(K + 1, 1), *in_p = xcalloc(K + 1, 1);
	double *p = xcalloc(K + 1, sizeof *p);
	for (uint64_t i = 0; i < n; i++) {
		memset(in_t, 0, K);
		memset(in_p, 0, K);
		for (uint32_t k = m->tstart.v[i]; k < m->tstart.v[i + 1]; k++)
			in_t[rank[m->truth.v[k]]] = 1;
		for (uint32_t k = m->pstart.v[i]; k < m->pstart.v[i + 1]; k++)
			in_p[rank[m->pred.v[k]]] = 1;
		int same = 1;
		for (uint32_t c = 0; c < K; c++) {
			struct met_label *l = &r->label[c];
			l->tp += in_t[c] && in_p[c];
			l->fp += !in_t[c] && in_p[c];
			l->fn += in_t[c] && !in_p[c];
			l->support += in_t[c];
			same &= in_t[c] == in_p[c];
		}
		exact += same;
		for (uint32_t a = m->tstart.v[i]; a < m->tstart.v[i + 1]; a++)
			for (uint32_t b = m->pstart.v[i]; b < m->pstart.v[i + 1]; b++)
				r->confusion[(size_t)rank[m->truth.v[a]] * K + rank[m->pred.v[b]]]++;
		if (m->kstart.v[i + 1] > m->kstart.v[i]) {
			with_probs++;
			memset(p, 0, K * sizeof *p);
			for (uint32_t k = m->kstart.v[i]; k < m->kstart.v[i + 1]; k++)
				p[rank[m->pk.v[k]]] = m->pv[k];
			double l = 0;
			if (r->multilabel) {
				for (uint32_t c = 0; c < K; c++) {
					double q = in_t[c] ? p[c] : 1 - p[c];
					l -= log(q < 1e-15 ? 1e-15 : q);
				}
				l /= K;
			} else {
				for (uint32_t c = 0; c < K; c++)
					if (in_t[c])
						l -= log(p[c] < 1e-15 ? 1e-15 : p[c]);
			}
			loss += l;
		}
	}
	r->accuracy = (double)exact / (double)n;
	r->has_loss = with_probs == n;
	r->log_loss = r->has_loss ? loss / (double)n : NAN;
	/* per label and averages */
	uint64_t TP = 0, FP = 0, FN = 0, sup = 0;
	int counted = 0;
	for (uint32_t c = 0; c < K; c++) {
		struct met_label *l = &r->label[c];
		l->precision = l->tp + l->fp ? (double)l->tp / (double)(l->tp + l->fp) : 0;
		l->recall = l->tp + l->fn ? (double)l->tp / (double)(l->tp + l->fn) : 0;
		l->f1 = l->precision + l->recall > 0 ? 2 * l->precision * l->recall / (l->precision + l->recall) : 0;
		TP += l->tp;
		FP += l->fp;
		FN += l->fn;
		sup += l->support;
		if (l->support || l->tp + l->fp) {
			/* labels in the truth or the predictions, as scikit-learn */
			r->macro_f1 += l->f1;
			r->macro_precision += l->precision;
			r->macro_recall += l->recall;
			counted++;
		}
		r->weighted_f1 += l->f1 * (double)l->support;
	}
	if (counted) {
		r->macro_f1 /= counted;
		r->macro_precision /= counted;
		r->macro_recall /= counted;
	}
	r->weighted_f1 = sup ? r->weighted_f1 / (double)sup : 0;
	r->micro_f1 = 2 * TP + FP + FN ? 2.0 * (double)TP / (double)(2 * TP + FP + FN) : 0;
	/* two labels with probabilities: the curves of the positive label */
	r->positive = -1;
	if (positive) {
		for (uint32_t c = 0; c < K; c++)
			if (!strcmp(r->label[c].name, positive))
				r->positive = (int)c;
		if (r->positive < 0) {
			err_set(e, "--positive '%s' is not among the labels", positive);
			free(order), free(rank), free(in_t), free(in_p), free(p);
			met_result_release(r);
			return -1;
		}
	}
	if (!r->multilabel && K == 2 && r->has_loss) {
		r->binary = 1;
		if (r->positive < 0)
			r->positive = 1;
		struct scored *v = xcalloc(n, sizeof *v);
		for (uint64_t i = 0; i < n; i++) {
			double s = NAN;
			int pos = 0;
			for (uint32_t k = m->kstart.v[i]; k < m->kstart.v[i + 1]; k++)
				if ((int)rank[m->pk.v[k]] == r->positive)
					s = m->pv[k];
				else if (isnan(s))
					s = 1 - m->pv[k];
			for (uint32_t k = m->tstart.v[i]; k < m->tstart.v[i + 1]; k++)
				pos |= (int)rank[m->truth.v[k]] == r->positive;
			v[i].s = s;
			v[i].pos = pos;
		}
		curves(r, v, n);
		free(v);
	}
	free(order), free(rank), free(in_t), free(in_p), free(p);
	return 0;
}

void met_result_release(struct met_result *r)
{
	for (int i = 0; i < r->nlabels; i++)
		free(r->label[i].name);
	free(r->label);
	free(r->confusion);
	free(r->roc_fpr);
	free(r->roc_tpr);
	memset(r, 0, sizeof *r);
}

void met_print(const struct met_result *r, FILE *out)
{
	fprintf(out, "records %llu  %s %.2f%%  macro-F1 %.2f%%  micro-F1 %.2f%%  weighted-F1 %.2f%%\n",
		(unsigned long long)r->n, r->multilabel ? "exact-match" : "accuracy", 100 * r->accuracy,
		100 * r->macro_f1, 100 * r->micro_f1, 100 * r->weighted_f1);
	if (r->has_loss)
		fprintf(out, "log loss %.4f", r->log_loss);
	if (r->binary)
		fprintf(out, "  ROC AUC %.4f  PR AUC %.4f  (positive: %s)", r->roc_auc, r->pr_auc,
			r->label[r->positive].name);
	if (r->has_loss)
		fprintf(out, "\n");
	int w = 5;
	for (int c = 0; c < r->nlabels; c++)
		w = (int)strlen(r->label[c].name) > w ? (int)strlen(r->label[c].name) : w;
	w = w > 40 ? 40 : w;
	fprintf(out, "\n%-*s  precision   recall       F1   support\n", w, "label");
	for (int c = 0; c < r->nlabels; c++) {
		const struct met_label *l = &r->label[c];
		fprintf(out, "%-*.*s  %8.2f%%  %6.2f%%  %6.2f%%  %8llu\n", w, w, l->name, 100 * l->precision,
			100 * l->recall, 100 * l->f1, (unsigned long long)l->support);
	}
	if (r->multilabel || r->nlabels > 20)
		return;
	fprintf(out, "\nconfusion (rows: true, columns: predicted)\n%-*s", w, "");
	int cw = 6;
	for (int c = 0; c < r->nlabels; c++)
		cw = (int)strlen(r->label[c].name) + 1 > cw ? (int)strlen(r->label[c].name) + 1 : cw;
	cw = cw > 12 ? 12 : cw;
	for (int c = 0; c < r->nlabels; c++)
		fprintf(out, " %*.*s", cw, cw, r->label[c].name);
	fprintf(out, "\n");
	for (int a = 0; a < r->nlabels; a++) {
		fprintf(out, "%-*.*s", w, w, r->label[a].name);
		for (int b = 0; b < r->nlabels; b++)
			fprintf(out, " %*llu", cw, (unsigned long long)r->confusion[(size_t)a * r->nlabels + b]);
		fprintf(out, "\n");
	}
}

static json_object *num(double d)
{
	return isfinite(d) ? json_object_new_double(d) : json_object_new_null();
}

void met_print_json(const struct met_result *r, FILE *out)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "records", json_object_new_int64((int64_t)r->n));
	json_object_object_add(o, "multilabel", json_object_new_boolean(r->multilabel));
	json_object_object_add(o, "accuracy", num(r->accuracy));
	json_object_object_add(o, "macro_f1", num(r->macro_f1));
	json_object_object_add(o, "micro_f1", num(r->micro_f1));
	json_object_object_add(o, "weighted_f1", num(r->weighted_f1));
	json_object_object_add(o, "macro_precision", num(r->macro_precision));
	json_object_object_add(o, "macro_recall", num(r->macro_recall));
	json_object_object_add(o, "log_loss", r->has_loss ? num(r->log_loss) : json_object_new_null());
	if (r->binary) {
		json_object_object_add(o, "positive", json_object_new_string(r->label[r->positive].name));
		json_object_object_add(o, "roc_auc", num(r->roc_auc));
		json_object_object_add(o, "pr_auc", num(r->pr_auc));
	}
	json_object *ls = json_object_new_array(), *cm = json_object_new_array();
	for (int c = 0; c < r->nlabels; c++) {
		const struct met_label *l = &r->label[c];
		json_object *x = json_object_new_object();
		json_object_object_add(x, "label", json_object_new_string(l->name));
		json_object_object_add(x, "precision", num(l->precision));
		json_object_object_add(x, "recall", num(l->recall));
		json_object_object_add(x, "f1", num(l->f1));
		json_object_object_add(x, "support", json_object_new_int64((int64_t)l->support));
		json_object_array_add(ls, x);
		json_object *row = json_object_new_array();
		for (int b = 0; b < r->nlabels; b++)
			json_object_array_add(row, json_object_new_int64((int64_t)r->confusion[(size_t)c * r->nlabels + b]));
		json_object_array_add(cm, row);
	}
	json_object_object_add(o, "labels", ls);
	json_object_object_add(o, "confusion", cm);
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

void met_svg(const struct met_result *r, struct buf *out)
{
	/* at most PLOT_MAX labels fit: the most frequent ones */
	int n = r->nlabels < PLOT_MAX ? r->nlabels : PLOT_MAX;
	int *pick = xcalloc((size_t)r->nlabels + 1, sizeof *pick);
	for (int c = 0; c < r->nlabels; c++)
		pick[c] = c;
	if (n < r->nlabels) {
		for (int i = 0; i < n; i++)
			for (int j = i + 1; j < r->nlabels; j++)
				if (r->label[pick[j]].support > r->label[pick[i]].support) {
					int t = pick[i];
					pick[i] = pick[j];
					pick[j] = t;
				}
	}
	char **names = xcalloc((size_t)n + 1, sizeof *names);
	uint64_t *cm = xcalloc(xmul((size_t)n, (size_t)n) + 1, sizeof *cm);
	for (int a = 0; a < n; a++) {
		names[a] = r->label[pick[a]].name;
		for (int b = 0; b < n; b++)
			cm[(size_t)a * n + b] = r->confusion[(size_t)pick[a] * r->nlabels + pick[b]];
	}
	double side = n * 60 > 600 ? 600 : n * 60 < 240 ? 240 : n * 60;
	double W = 160 + side + 60 + (r->binary ? 420 : 0), H = 140 + side + 40;
	if (H < 560)
		H = 560;
	svg_begin(out, W, H);
	char title[128];
	snprintf(title, sizeof title, "%s (%llu records%s)", r->multilabel ? "true vs predicted labels" : "confusion matrix",
		 (unsigned long long)r->n, n < r->nlabels ? ", most frequent labels" : "");
	svg_heatmap(out, 160, 120, side, n, names, cm, title);
	if (r->binary) {
		char t[128];
		snprintf(t, sizeof t, "ROC of '%.40s' (AUC %.4f)", r->label[r->positive].name, r->roc_auc);
		svg_curve(out, 160 + side + 110, 120, 340, 340, r->roc_fpr, r->roc_tpr, r->roc_n, "false positive rate",
			  "true positive rate", t, 1);
	}
	svg_end(out);
	free(names);
	free(cm);
	free(pick);
}

/* ------------------------------------------------------------ ranking */

struct rmet {
	struct strtab *names;
	struct vec32 recs, truth;     /* the current record's ids */
	struct vec32 ntruth, nrecs;   /* per record */
	struct vec32 hstart, hits;    /* per record: where its hit positions start */
	uint32_t *minpos;	      /* per item: its best position in any list */
	size_t mcap;
};

struct rmet *rmet_new(void)
{
	struct rmet *m = xcalloc(1, sizeof *m);
	m->names = st_new();
	v32_add(&m->hstart, 0);
	return m;
}

void rmet_free(struct rmet *m)
{
	if (!m)
		return;
	st_free(m->names);
	free(m->recs.v);
	free(m->truth.v);
	free(m->ntruth.v);
	free(m->nrecs.v);
	free(m->hstart.v);
	free(m->hits.v);
	free(m->minpos);
	free(m);
}

static uint32_t rmet_id(struct rmet *m, const char *s, size_t n)
{
	uint32_t id = st_intern(m->names, s, n);
	if (id >= m->mcap) {
		size_t old = m->mcap;
		m->mcap = m->mcap ? m->mcap * 2 : 1024;
		m->minpos = xrealloc(m->minpos, m->mcap * sizeof *m->minpos);
		for (size_t i = old; i < m->mcap; i++)
			m->minpos[i] = UINT32_MAX;
	}
	return id;
}

void rmet_rec(struct rmet *m, const char *s, size_t n) { v32_add(&m->recs, rmet_id(m, s, n)); }
void rmet_truth(struct rmet *m, const char *s, size_t n) { v32_add(&m->truth, rmet_id(m, s, n)); }

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

void rmet_end_record(struct rmet *m)
{
	/* the truth as a sorted set; each truth item is hit at most once */
	qsort(m->truth.v, m->truth.n, 4, cmp_u32);
	size_t nt = 0;
	for (size_t i = 0; i < m->truth.n; i++)
		if (!nt || m->truth.v[nt - 1] != m->truth.v[i])
			m->truth.v[nt++] = m->truth.v[i];
	uint8_t hit[64], *used = nt <= sizeof hit ? hit : xcalloc(nt, 1);
	memset(used, 0, nt);
	for (size_t p = 0; p < m->recs.n; p++) {
		uint32_t id = m->recs.v[p];
		if (m->minpos[id] > p)
			m->minpos[id] = (uint32_t)p;
		uint32_t *t = bsearch(&id, m->truth.v, nt, 4, cmp_u32);
		if (t && !used[t - m->truth.v]) {
			used[t - m->truth.v] = 1;
			v32_add(&m->hits, (uint32_t)p);
		}
	}
	if (used != hit)
		free(used);
	v32_add(&m->ntruth, (uint32_t)nt);
	v32_add(&m->nrecs, (uint32_t)m->recs.n);
	v32_add(&m->hstart, (uint32_t)m->hits.n);
	m->recs.n = m->truth.n = 0;
}

int rmet_compute(struct rmet *m, uint64_t catalogue, const int *at, int nat, struct rmet_result *r,
		 struct pea_err *e)
{
	memset(r, 0, sizeof *r);
	uint64_t n = m->ntruth.n;
	r->n = n;
	if (!n) {
		err_set(e, "no records to evaluate");
		return -1;
	}
	int K = 0;
	for (uint64_t i = 0; i < n; i++) {
		K = (int)m->nrecs.v[i] > K ? (int)m->nrecs.v[i] : K;
		r->truth += m->ntruth.v[i];
	}
	if (!K) {
		err_set(e, "every list of recommendations is empty");
		return -1;
	}
	r->kmax = K;
	r->catalogue = catalogue ? catalogue : st_count(m->names);
	r->curve = xcalloc((size_t)K + 1, sizeof *r->curve);
	double *idcg = xcalloc((size_t)K + 2, sizeof *idcg);
	for (int j = 1; j <= K; j++)
		idcg[j] = idcg[j - 1] + 1 / log2(j + 1.0);
	for (int k = 1; k <= K; k++) {
		struct rmet_at *c = &r->curve[k - 1];
		c->k = k;
		for (uint64_t i = 0; i < n; i++) {
			uint32_t T = m->ntruth.v[i], h0 = m->hstart.v[i], h1 = m->hstart.v[i + 1];
			double dcg = 0, ap = 0;
			uint32_t hits = 0;
			for (uint32_t x = h0; x < h1 && m->hits.v[x] < (uint32_t)k; x++) {
				uint32_t p = m->hits.v[x];
				hits++;
				dcg += 1 / log2(p + 2.0);
				ap += (double)hits / (p + 1.0);
			}
			uint32_t ideal = T < (uint32_t)k ? T : (uint32_t)k;
			c->hr += hits > 0;
			c->recall += T ? (double)hits / T : 0;
			c->precision += (double)hits / k;
			c->ndcg += ideal ? dcg / idcg[ideal] : 0;
			c->map += ideal ? ap / ideal : 0;
		}
		c->hr /= (double)n;
		c->recall /= (double)n;
		c->precision /= (double)n;
		c->ndcg /= (double)n;
		c->map /= (double)n;
	}
	free(idcg);
	/* coverage: items whose best position is below k */
	uint64_t *within = xcalloc((size_t)K + 1, sizeof *within);
	for (uint32_t id = 0; id < st_count(m->names); id++)
		if (m->minpos[id] < (uint32_t)K)
			within[m->minpos[id]]++;
	uint64_t acc = 0;
	for (int k = 1; k <= K; k++) {
		acc += within[k - 1];
		r->curve[k - 1].coverage = r->catalogue ? (double)acc / (double)r->catalogue : 0;
	}
	free(within);
	static const int def[] = {1, 5, 10, 20, 50, 100};
	int tmp[ARRAY_SIZE(def) + 1];
	if (!at) {
		nat = 0;
		for (size_t i = 0; i < ARRAY_SIZE(def); i++)
			if (def[i] < K)
				tmp[nat++] = def[i];
		tmp[nat++] = K;
		at = tmp;
	}
	r->at = xcalloc((size_t)nat + 1, sizeof *r->at);
	for (int i = 0; i < nat; i++) {
		if (at[i] < 1) {
			err_set(e, "a cut-off must be at least 1");
			rmet_result_release(r);
			return -1;
		}
		/* beyond the longest list nothing more is hit */
		int k = at[i] < K ? at[i] : K;
		r->at[r->nat] = r->curve[k - 1];
		r->at[r->nat].k = at[i];
		if (at[i] > K) {
			r->at[r->nat].precision *= (double)K / at[i];
		}
		r->nat++;
	}
	return 0;
}

void rmet_result_release(struct rmet_result *r)
{
	free(r->at);
	free(r->curve);
	memset(r, 0, sizeof *r);
}

void rmet_print(const struct rmet_result *r, FILE *out)
{
	fprintf(out, "records %llu  truth items %llu  catalogue %llu items  longest list %d\n\n",
		(unsigned long long)r->n, (unsigned long long)r->truth, (unsigned long long)r->catalogue, r->kmax);
	fprintf(out, "%6s  %8s  %8s  %8s  %9s  %8s  %8s\n", "k", "HR", "NDCG", "recall", "precision", "MAP",
		"coverage");
	for (int i = 0; i < r->nat; i++) {
		const struct rmet_at *a = &r->at[i];
		fprintf(out, "%6d  %8.4f  %8.4f  %8.4f  %9.4f  %8.4f  %8.4f\n", a->k, a->hr, a->ndcg, a->recall,
			a->precision, a->map, a->coverage);
	}
}

void rmet_print_json(const struct rmet_result *r, FILE *out)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "records", json_object_new_int64((int64_t)r->n));
	json_object_object_add(o, "truth", json_object_new_int64((int64_t)r->truth));
	json_object_object_add(o, "catalogue", json_object_new_int64((int64_t)r->catalogue));
	json_object *a = json_object_new_array();
	for (int i = 0; i < r->nat; i++) {
		const struct rmet_at *x = &r->at[i];
		json_object *y = json_object_new_object();
		json_object_object_add(y, "k", json_object_new_int(x->k));
		json_object_object_add(y, "hr", num(x->hr));
		json_object_object_add(y, "ndcg", num(x->ndcg));
		json_object_object_add(y, "recall", num(x->recall));
		json_object_object_add(y, "precision", num(x->precision));
		json_object_object_add(y, "map", num(x->map));
		json_object_object_add(y, "coverage", num(x->coverage));
		json_object_array_add(a, y);
	}
	json_object_object_add(o, "at", a);
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

void rmet_svg(const struct rmet_result *r, struct buf *out)
{
	size_t n = (size_t)r->kmax;
	double *xs = xcalloc(n + 1, sizeof *xs), *ys[4];
	for (int s = 0; s < 4; s++)
		ys[s] = xcalloc(n + 1, sizeof **ys);
	for (size_t i = 0; i < n; i++) {
		xs[i] = (double)(i + 1);
		ys[0][i] = r->curve[i].hr;
		ys[1][i] = r->curve[i].ndcg;
		ys[2][i] = r->curve[i].recall;
		ys[3][i] = r->curve[i].coverage;
	}
	char *names[] = {"HR@k", "NDCG@k", "recall@k", "coverage@k"};
	char title[128];
	snprintf(title, sizeof title, "ranking metrics against k (%llu records)", (unsigned long long)r->n);
	svg_begin(out, 700, 480);
	svg_series(out, 80, 60, 460, 360, xs, ys, names, 4, n, 1, n > 1 ? (double)n : 2, "k", "share", title);
	svg_end(out);
	free(xs);
	for (int s = 0; s < 4; s++)
		free(ys[s]);
}
