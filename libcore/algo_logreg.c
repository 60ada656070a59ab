/* algo_logreg.c - logistic regression by stochastic gradient descent:
 * binary (one column), multinomial (softmax over a column per label) and
 * multi-label (a sigmoid per label, one-vs-rest).
 *
 * Rates: AdaGrad per coordinate (default), or a global rate that decays
 * linearly to zero over the run (as fastText) or stays constant.  L2 is
 * applied to the coordinates a record touches (lazy, as sparse SGD must);
 * L1 switches to FTRL-proximal (McMahan et al. 2013), whose weights are
 * exactly zero until a feature earns its place: a sparse model.
 *
 * Order: each epoch visits the blocks in a shuffled order and the records
 * of a block in a shuffled order, both drawn from --seed.  Updates are
 * serial, so the model is the same at any thread count; for multi-label
 * data each thread owns whole columns (labels are independent there),
 * which also gives the same bytes.  Binary and softmax training run on one
 * thread. */
#include "dist.h"
#include "linear.h"
#include "rng.h"

#include <json-c/json.h>
#include <math.h>
#include <omp.h>

enum sched { S_ADAGRAD, S_LINEAR, S_CONSTANT };

/* The state is one array of cells, a row of ncol cells per feature and a
 * last row for the biases; a cell is the weight and what its rate needs
 * beside it (AdaGrad: the summed squared gradients; FTRL: n and z).  A
 * record's feature then costs one cache line, not one per array: on text,
 * where every record touches thousands of scattered features, those misses
 * are the cost of training. */
/* a cell as several ranks mix it (lr_sync): the mixed value (z for FTRL,
 * else the weight) and the squared gradients (AdaGrad's sum, FTRL's n) */
struct mixcell {
	float x, g;
};

struct lr {
	const struct fit *f;
	uint32_t dim, ncol, S; /* dim: rows of features (f->nfeat); S: floats a cell, 2 or 3 (FTRL) */
	int K, softmax, ftrl;
	float *p;
	double lr, l1, l2;
	enum sched sched;
	uint64_t step, steps;
	struct rng rng;
	size_t *order;
	uint32_t *perm, pcap;
	double *loss; /* per column, for the ordered sum */
	struct lin_rows rows; /* several ranks: the rows lr_sync mixes, the ones it leaves */
	struct lin_got got;   /* several ranks: the other ranks' rows of their own */
	double *share;
	struct mixcell *mixbuf;
};

#define BETA 1.0
#define EPS 1e-8f

static inline float *cell(const struct lr *s, uint32_t j, uint32_t c)
{
	return s->p + ((size_t)j * s->ncol + c) * s->S;
}

/* Several ranks: each rank's share of the records, and the rows to mix */
static void ranks_begin(struct lr *s, const struct fit *f)
{
	int R = dist_size();
	lin_rows_init(&s->rows, f, s->dim);
	s->share = xcalloc((size_t)R, sizeof *s->share);
	s->share[dist_rank()] = (double)ds_nrec(f->train);
	dist_sum_f64(s->share, (size_t)R);
	double all = s->share[0];
	for (int b = 1; b < R; b++)
		all += s->share[b];
	for (int b = 0; b < R; b++)
		s->share[b] = all > 0 ? s->share[b] / all : 0;
	/* on one host the ranks mix in shared memory */
	s->mixbuf = dist_shared(xmul(xmul(s->rows.nmix, s->ncol), sizeof *s->mixbuf));
}

static void *lr_begin(struct fit *f)
{
	if (algo_check_params(f, "logreg", "lr,l1,l2,schedule"))
		return NULL;
	struct lr *s = xcalloc(1, sizeof *s);
	const struct algo_params *p = f->p;
	s->f = f;
	s->lr = isnan(p->lr) ? 0.5 : p->lr;
	s->l1 = isnan(p->l1) ? 0 : p->l1;
	s->l2 = isnan(p->l2) ? 0 : p->l2;
	const char *sc = p->schedule ? p->schedule : "adagrad";
	s->sched = !strcmp(sc, "adagrad") ? S_ADAGRAD : !strcmp(sc, "linear") ? S_LINEAR
						     : !strcmp(sc, "constant") ? S_CONSTANT : (enum sched) - 1;
	if ((int)s->sched < 0 || !(s->lr > 0) || !(s->l1 >= 0) || !(s->l2 >= 0)) {
		snprintf(f->err, sizeof f->err, (int)s->sched < 0 ? "--schedule is adagrad, linear or constant"
								  : "--lr must be above 0, --l1 and --l2 at least 0");
		free(s);
		return NULL;
	}
	s->ftrl = s->l1 > 0;
	if (s->ftrl && s->sched != S_ADAGRAD) {
		snprintf(f->err, sizeof f->err, "--l1 (FTRL-proximal) has its own per-coordinate rates: no --schedule");
		free(s);
		return NULL;
	}
	s->dim = f->nfeat;
	s->K = f->nlabels;
	s->ncol = lin_ncol(f->nlabels, f->multilabel);
	s->softmax = !f->multilabel && s->ncol > 1;
	s->S = s->ftrl ? 3 : 2;
	size_t ncell = xmul((size_t)s->dim + 1, s->ncol);
	s->p = xcalloc(xmul(ncell, s->S), sizeof *s->p);
	s->loss = xcalloc(s->ncol, sizeof *s->loss);
	if (f->init) {
		/* a warm start continues from the old weights (with fresh rates) */
		const struct linear *o = f->init->st;
		for (uint32_t j = 0; j <= o->dim; j++) {
			const float *row = j < o->dim ? o->w + (size_t)j * o->ncol : o->b;
			uint32_t to_row = j < o->dim ? j : s->dim;
			if (o->ncol == s->ncol) {
				for (uint32_t c = 0; c < o->ncol; c++)
					cell(s, to_row, s->ncol == 1 ? 0 : (uint32_t)f->init_map[c])[0] = row[c];
			} else {
				/* two labels became more: the binary column is label 1 against label 0 */
				cell(s, to_row, (uint32_t)f->init_map[1])[0] = row[0];
			}
		}
		if (s->ftrl) {
			/* z that reproduces the old weights at n = 0 */
			for (size_t k = 0; k < ncell; k++) {
				float *q = s->p + k * 3;
				double w = q[0];
				q[2] = (float)(w == 0 ? 0 : -(w * (BETA / s->lr + s->l2)) - (w > 0 ? s->l1 : -s->l1));
			}
		}
	}
	rng_seed(&s->rng, f->seed);
	s->steps = (uint64_t)f->epochs * ds_nrec(f->train);
	s->order = xcalloc(ds_nblocks(f->train) + 1, sizeof *s->order);
	if (dist_size() > 1)
		ranks_begin(s, f);
	return s;
}

static double sigmoid(double z)
{
	return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

static double safe_log(double p)
{
	return log(p < 1e-15 ? 1e-15 : p);
}

/* FTRL-proximal: the weight a coordinate has given its z and n */
static inline float ftrl_w(const struct lr *s, float z, float n)
{
	if (fabsf(z) <= s->l1)
		return 0;
	return (float)(-(z - (z > 0 ? s->l1 : -s->l1)) / ((BETA + sqrt(n)) / s->lr + s->l2));
}

/* one coordinate's step for gradient gr: q is its cell */
static inline void step(const struct lr *s, float *q, float gr, float eta)
{
	if (s->ftrl) {
		double n = q[1], sig = (sqrt(n + (double)gr * gr) - sqrt(n)) / s->lr;
		q[2] += (float)(gr - sig * q[0]);
		q[1] = (float)(n + (double)gr * gr);
		q[0] = ftrl_w(s, q[2], q[1]);
		return;
	}
	gr += (float)s->l2 * q[0];
	if (s->sched == S_ADAGRAD) {
		q[1] += gr * gr;
		q[0] -= (float)s->lr * gr / (sqrtf(q[1]) + EPS);
	} else {
		q[0] -= eta * gr;
	}
}

/* The AdaGrad steps of a one-column record, the common case (binary
 * labels, no L1), with the cell size a constant: d is the gradient of the
 * score. */
static void steps_adagrad1(const struct lr *s, const struct ds_x *x, float d)
{
	float lr = (float)s->lr, l2 = (float)s->l2;
	float *p = s->p;
	const float *val = x->val;
	const uint32_t *idx = x->idx;
	for (uint32_t k = 0; k < x->n; k++) {
		float *q = p + (size_t)(idx ? idx[k] : k) * 2;
		float gr = d * val[k] + l2 * q[0];
		float g = q[1] + gr * gr;
		q[1] = g;
		q[0] -= lr * gr / (sqrtf(g) + EPS);
	}
}

/* columns c0..c1 of one record: scores, loss, gradient, update */
static double record(struct lr *s, const struct ds_x *x, const uint32_t *y, uint32_t ny, double wt, uint32_t c0,
		     uint32_t c1, double *sc)
{
	uint32_t nc = s->ncol, S = s->S, n = x->idx ? x->n : (x->n < s->dim ? x->n : s->dim);
	struct ds_x xs = {x->idx, x->val, n};
	if (nc == 1) {
		/* one score: a local sum, no round trip through memory */
		const float *p = s->p;
		double z = p[(size_t)s->dim * S];
		for (uint32_t k = 0; k < n; k++)
			z += (double)x->val[k] * p[(size_t)(x->idx ? x->idx[k] : k) * S];
		sc[0] = z;
	} else {
		for (uint32_t c = c0; c < c1; c++)
			sc[c] = cell(s, s->dim, c)[0];
		for (uint32_t k = 0; k < n; k++) {
			const float *row = cell(s, x->idx ? x->idx[k] : k, 0);
			double v = x->val[k];
			for (uint32_t c = c0; c < c1; c++)
				sc[c] += v * row[c * S];
		}
	}
	double loss = 0;
	if (s->softmax) {
		double mx = -INFINITY, sum = 0;
		for (uint32_t c = 0; c < nc; c++)
			mx = sc[c] > mx ? sc[c] : mx;
		for (uint32_t c = 0; c < nc; c++)
			sum += sc[c] = exp(sc[c] - mx);
		for (uint32_t c = 0; c < nc; c++)
			sc[c] /= sum;
		loss = -safe_log(sc[y[0]]);
		for (uint32_t c = 0; c < nc; c++)
			sc[c] = (sc[c] - (c == y[0])) * wt;
	} else {
		uint32_t k = 0;
		for (uint32_t c = c0; c < c1; c++) {
			int pos;
			if (nc == 1) {
				pos = y[0] == 1;
			} else {
				while (k < ny && y[k] < c)
					k++;
				pos = k < ny && y[k] == c;
			}
			double p = sigmoid(sc[c]);
			loss -= pos ? safe_log(p) : safe_log(1 - p);
			sc[c] = (p - pos) * wt;
		}
	}
	float eta = (float)(s->sched == S_LINEAR ? s->lr * (1 - (double)s->step / (double)(s->steps + 1)) : s->lr);
	if (nc == 1 && !s->ftrl && s->sched == S_ADAGRAD) {
		if (sc[0] != 0)
			steps_adagrad1(s, &xs, (float)sc[0]);
	} else {
		for (uint32_t k = 0; k < n; k++) {
			float *row = cell(s, x->idx ? x->idx[k] : k, 0);
			for (uint32_t c = c0; c < c1; c++)
				if (sc[c] != 0)
					step(s, row + c * S, (float)(sc[c] * x->val[k]), eta);
		}
	}
	for (uint32_t c = c0; c < c1; c++)
		if (sc[c] != 0)
			step(s, cell(s, s->dim, c), (float)sc[c], eta);
	return loss * wt;
}

static void train_block(void *ctx, const struct ds_cursor *cur, uint64_t first, uint32_t n)
{
	struct lr *s = ctx;
	const struct fit *f = s->f;
	if (n > s->pcap) {
		s->pcap = n;
		s->perm = xrealloc(s->perm, n * sizeof *s->perm);
	}
	for (uint32_t i = 0; i < n; i++)
		s->perm[i] = i;
	for (uint32_t i = n; i > 1; i--) {
		uint32_t k = (uint32_t)rng_below(&s->rng, i), t = s->perm[i - 1];
		s->perm[i - 1] = s->perm[k];
		s->perm[k] = t;
	}
	/* multi-label columns are independent problems: one thread a column */
	int par = f->multilabel && s->ncol > 1 && f->threads > 1;
	int nt = par ? f->threads : 1;
#pragma omp parallel num_threads(nt) if (par)
	{
		double *sc = xcalloc(s->ncol, sizeof *sc);
#pragma omp for schedule(static)
		for (uint32_t c = 0; c < (par ? s->ncol : 1); c++) {
			uint32_t c0 = par ? c : 0, c1 = par ? c + 1 : s->ncol;
			double l = 0;
			for (uint32_t i = 0; i < n; i++) {
				struct ds_x x;
				uint32_t ny, r = s->perm[i];
				ds_cursor_x(cur, r, &x);
				const uint32_t *y = ds_y(f->train, first + r, &ny);
				double wt = ds_weight(f->train, first + r);
				if (f->cw)
					wt *= f->cw[y[0]];
				l += record(s, &x, y, ny, wt, c0, c1, sc);
			}
			s->loss[c0] += l;
		}
		free(sc);
	}
	s->step += n;
}

static int lr_epoch(void *st, const struct fit *f, int e, double *loss)
{
	struct lr *s = st;
	(void)e;
	size_t nb = ds_nblocks(f->train);
	for (size_t i = 0; i < nb; i++)
		s->order[i] = i;
	for (size_t i = nb; i > 1; i--) {
		size_t k = rng_below(&s->rng, i), t = s->order[i - 1];
		s->order[i - 1] = s->order[k];
		s->order[k] = t;
	}
	memset(s->loss, 0, s->ncol * sizeof *s->loss);
	/* decoding is a few percent of the work: with serial updates, helper
	 * threads would only spin while they wait (and take a core from the
	 * pipeline feeding us), so only multi-label training uses them */
	int par = f->multilabel && s->ncol > 1;
	ds_visit(f->train, s->order, nb, par ? f->threads : 1, train_block, s);
	double l = 0;
	for (uint32_t c = 0; c < s->ncol; c++)
		l += s->loss[c];
	*loss = l / (double)ds_nrec(f->train) / (f->multilabel ? s->ncol : 1);
	return 0;
}

/* Several ranks: after each epoch (iterative parameter mixing) the ranks'
 * weights are averaged.  With per-coordinate rates (AdaGrad, FTRL) each
 * coordinate is weighted by the squared gradients that moved it on each
 * rank (as Vowpal Wabbit's AllReduce does), and the squared gradients
 * become their mean; with a global rate the weights are weighted by
 * records.  FTRL mixes its z, from which the weights follow.
 *
 * Only the rows of features several ranks' records have are mixed (struct
 * lin_rows), a cell as two floats (the mixed value, the squared gradients).
 * A feature only one rank's records have keeps what that rank learned, as
 * on one process: no other rank moves it, or keeps a row of it, and it
 * reaches the others when a snapshot needs it (lr_collect). */
struct mix {
	int byg;
	double R;
	const double *share; /* each rank's share of the records */
};

/* the ranks' copies of cells combined, in rank order, in double as the
 * products of two floats are exact there */
static void mix_cells(void *ctx, void *out, const void *const *part, int R, size_t first, size_t n)
{
	const struct mix *m = ctx;
	struct mixcell *o = out;
	(void)first;
	for (size_t i = 0; i < n; i++) {
		struct mixcell c = ((const struct mixcell *)part[0])[i];
		double sx = m->byg ? (double)c.g * c.x : m->share[0] * c.x, sg = c.g;
		float x0 = c.x;
		for (int b = 1; b < R; b++) {
			c = ((const struct mixcell *)part[b])[i];
			sx += m->byg ? (double)c.g * c.x : m->share[b] * c.x;
			sg += c.g;
		}
		/* byg and no rank has ever moved it: it is the same everywhere */
		o[i].x = !m->byg ? (float)sx : sg > 0 ? (float)(sx / sg) : x0;
		o[i].g = (float)(sg / m->R);
	}
}

static void lr_sync(void *st, const struct fit *f)
{
	struct lr *s = st;
	int R = dist_size();
	(void)f;
	/* the mixed value of a cell: z for FTRL, else the weight */
	uint32_t xi = s->ftrl ? 2 : 0, nc = s->ncol, S = s->S;
	struct mix m = {s->ftrl || s->sched == S_ADAGRAD, R, s->share};
	size_t n = xmul(s->rows.nmix, nc), row = (size_t)nc * S;
	struct mixcell *v = s->mixbuf;
	const uint32_t *rows = s->rows.mix;
	for (size_t i = 0; i < s->rows.nmix; i++) {
		const float *q = s->p + rows[i] * row;
		for (uint32_t c = 0; c < nc; c++, q += S)
			v[i * nc + c] = (struct mixcell){q[xi], q[1]};
	}
	dist_combine(v, n, sizeof *v, mix_cells, &m);
	for (size_t i = 0; i < s->rows.nmix; i++) {
		float *q = s->p + rows[i] * row;
		for (uint32_t c = 0; c < nc; c++, q += S) {
			q[xi] = v[i * nc + c].x;
			if (m.byg)
				q[1] = v[i * nc + c].g;
			if (s->ftrl)
				q[0] = ftrl_w(s, q[2], q[1]);
		}
	}
}

/* the rows only another rank has, for a snapshot */
static void lr_collect(void *st, const struct fit *f)
{
	struct lr *s = st;
	lin_collect(&s->rows, f, s->p, (size_t)s->ncol * s->S * sizeof *s->p, &s->got);
}

/* a row of cells as the model's weights */
static void row_weights(const struct lr *s, const float *q, float *w)
{
	for (uint32_t c = 0; c < s->ncol; c++, q += s->S)
		w[c] = s->ftrl ? ftrl_w(s, q[2], q[1]) : q[0];
}

static void lr_snapshot(void *st, const struct fit *f, struct amodel *m)
{
	struct lr *s = st;
	struct linear *l = xcalloc(1, sizeof *l);
	lin_alloc(l, f->dim, s->ncol);
	/* w then b, as the cells are laid out (the rows of features learn.c
	 * numbered go to the model's, the others stay 0); FTRL weights of
	 * untouched coordinates were never materialized */
	for (uint32_t j = 0; j <= s->dim; j++) {
		uint32_t to = j == s->dim ? f->dim : fit_feature(f, j);
		row_weights(s, s->p + (size_t)j * s->ncol * s->S, l->own + (size_t)to * s->ncol);
	}
	/* and the other ranks' rows (lr_collect) */
	size_t n = lin_got_count(&s->got);
	float *q = n ? xmalloc(s->got.row) : NULL;
	for (size_t i = 0; i < n; i++) {
		uint32_t to;
		memcpy(q, lin_got_row(&s->got, i, &to), s->got.row);
		row_weights(s, q, l->own + (size_t)to * s->ncol);
	}
	free(q);
	m->st = l;
}

static void lr_end(void *st)
{
	struct lr *s = st;
	free(s->p);
	free(s->loss);
	free(s->order);
	free(s->perm);
	lin_rows_free(&s->rows);
	buf_release(&s->got.b);
	free(s->share);
	dist_shared_free(s->mixbuf);
	free(s);
}

static void lr_settings(const struct fit *f, json_object *o)
{
	const struct algo_params *p = f->p;
	json_object_object_add(o, "lr", json_object_new_double(isnan(p->lr) ? 0.5 : p->lr));
	json_object_object_add(o, "schedule", json_object_new_string(p->schedule ? p->schedule : "adagrad"));
	json_object_object_add(o, "l1", json_object_new_double(isnan(p->l1) ? 0 : p->l1));
	json_object_object_add(o, "l2", json_object_new_double(isnan(p->l2) ? 0 : p->l2));
}

const struct algo algo_logreg = {
	.name = "logreg",
	.summary = "logistic regression (binary, softmax, multi-label) by SGD: AdaGrad or FTRL-proximal",
	.epochs = 10,
	.compact = 1,
	.begin = lr_begin,
	.epoch = lr_epoch,
	.snapshot = lr_snapshot,
	.end = lr_end,
	.settings = lr_settings,
	.save = lin_algo_save,
	.load = lin_algo_load,
	.predict = lin_algo_predict,
	.merge = lin_algo_merge,
	.sync = lr_sync,
	.collect = lr_collect,
	.top = lin_algo_top,
	.release = lin_algo_release,
};
