/* algo_svm.c - linear support vector machines, L2-regularized, hinge or
 * squared hinge loss, trained by dual coordinate descent (Hsieh et al.,
 * ICML 2008: the method of LIBLINEAR's -s 1 and -s 3) with shrinking.
 *
 * The dual needs random access to every record, so the training set is
 * decoded once into memory (ds_to_csr, 8 bytes a nonzero); the primal
 * weights are kept in double.  The bias is a feature of constant value 1,
 * regularized like the others, as LIBLINEAR's -B 1.  Labels beyond two are
 * one-vs-rest problems, solved in parallel, one thread a problem, each
 * with its own generator drawn from --seed: the same model at any thread
 * count.  A binary problem runs on one thread.
 *
 * A warm start (--init) solves min 1/2 |w - w0|^2 + C sum loss: the dual
 * is unchanged with w starting at w0, so new data moves the old model only
 * as far as it must.
 *
 * Scores are margins; their probabilities are documented scores, not
 * calibrated: sigmoid(s) for two labels, a softmax of the per-label
 * margins otherwise. */
#include "dist.h"
#include "linear.h"
#include "rng.h"

#include <json-c/json.h>
#include <math.h>
#include <omp.h>

struct prob {
	double *w;   /* dim + 1: the bias last */
	double *w0;  /* several ranks: w as the last sync left it */
	struct lin_got got; /* several ranks: the other ranks' rows of w of their own */
	double *a;   /* dual variables */
	int8_t *y;   /* +1 / -1 */
	double *up;  /* upper bound of each alpha (infinite for squared hinge) */
	double *dii; /* diagonal added by the squared hinge */
	uint64_t *active, nactive;
	double pgmax, pgmin;
	struct rng rng;
	int done;
	double loss;
};

struct svm {
	const struct fit *f;
	struct ds_csr X;
	double *qd; /* x.x + 1 */
	uint32_t dim, ncol; /* dim: rows of features (f->nfeat) */
	int sq;
	double cost, tol;
	double sigma; /* several ranks: CoCoA+'s sigma' (1 on one process) */
	struct lin_rows rows; /* several ranks: the rows svm_sync sums, the ones it leaves */
	double *moves;	      /* several ranks: what svm_sync sums, in shared memory on one host */
	struct prob *p;
};

static void *svm_begin(struct fit *f)
{
	if (algo_check_params(f, "svm", "cost,loss,tol"))
		return NULL;
	const struct algo_params *pa = f->p;
	const char *loss = pa->loss ? pa->loss : "squared-hinge";
	double cost = isnan(pa->cost) ? 1 : pa->cost, tol = isnan(pa->tol) ? 0.1 : pa->tol;
	if (strcmp(loss, "hinge") && strcmp(loss, "squared-hinge")) {
		snprintf(f->err, sizeof f->err, "--loss is hinge or squared-hinge for svm");
		return NULL;
	}
	if (!(cost > 0) || !(tol > 0) || !isfinite(cost)) {
		snprintf(f->err, sizeof f->err, "--cost and --tol must be above 0");
		return NULL;
	}
	struct svm *s = xcalloc(1, sizeof *s);
	s->f = f;
	s->sq = !strcmp(loss, "squared-hinge");
	s->cost = cost;
	s->tol = tol;
	s->dim = f->nfeat;
	s->ncol = lin_ncol(f->nlabels, f->multilabel);
	s->sigma = dist_size();
	ds_to_csr(f->train, f->threads, &s->X);
	uint64_t n = s->X.n;
	s->qd = xcalloc(n + 1, sizeof *s->qd);
	for (uint64_t i = 0; i < n; i++) {
		struct ds_x x;
		ds_csr_row(&s->X, i, &x);
		double q = 1;
		for (uint32_t k = 0; k < x.n; k++)
			q += (double)x.val[k] * x.val[k];
		s->qd[i] = q;
	}
	s->p = xcalloc(s->ncol, sizeof *s->p);
	const struct linear *o = f->init ? f->init->st : NULL;
	for (uint32_t c = 0; c < s->ncol; c++) {
		struct prob *p = &s->p[c];
		p->w = xcalloc((size_t)s->dim + 1, sizeof *p->w);
		p->a = xcalloc(n + 1, sizeof *p->a);
		p->y = xcalloc(n + 1, 1);
		p->up = xcalloc(n + 1, sizeof *p->up);
		p->dii = xcalloc(n + 1, sizeof *p->dii);
		p->active = xcalloc(n + 1, sizeof *p->active);
		p->nactive = n;
		p->pgmax = INFINITY;
		p->pgmin = -INFINITY;
		rng_seed(&p->rng, f->seed + 0x9e3779b97f4a7c15ull * (c + 1));
		for (uint64_t i = 0; i < n; i++) {
			uint32_t ny;
			const uint32_t *y = ds_y(f->train, i, &ny);
			int pos = 0;
			if (s->ncol == 1)
				pos = y[0] == 1;
			else
				for (uint32_t k = 0; k < ny; k++)
					pos |= y[k] == c;
			p->y[i] = pos ? 1 : -1;
			double ci = cost * ds_weight(f->train, i) * (f->cw ? f->cw[y[0]] : 1);
			p->up[i] = s->sq ? INFINITY : ci;
			p->dii[i] = s->sq ? (ci > 0 ? 0.5 / ci : INFINITY) : 0;
			p->active[i] = i;
		}
		if (o) {
			/* the column of the old model that is this one */
			int from = -1;
			if (o->ncol == s->ncol)
				for (uint32_t k = 0; k < o->ncol; k++)
					if (s->ncol == 1 || (uint32_t)f->init_map[k] == c)
						from = (int)k;
			if (o->ncol == 1 && s->ncol > 1 && (uint32_t)f->init_map[1] == c)
				from = 0;
			if (o->ncol == 1 && s->ncol > 1 && (uint32_t)f->init_map[0] == c)
				from = -2; /* label 0 of a binary model: the negated column */
			int k = from == -2 ? 0 : from;
			double sg = from == -2 ? -1 : 1;
			if (k >= 0) {
				for (uint32_t j = 0; j < o->dim; j++)
					p->w[j] = sg * o->w[(size_t)j * o->ncol + (uint32_t)k];
				p->w[s->dim] = sg * o->b[k];
			}
		}
		if (dist_size() > 1) {
			p->w0 = xmalloc(((size_t)s->dim + 1) * sizeof *p->w0);
			memcpy(p->w0, p->w, ((size_t)s->dim + 1) * sizeof *p->w0);
		}
	}
	if (dist_size() > 1) {
		/* the rows a rank's moves can change */
		lin_rows_init(&s->rows, f, s->dim);
		s->moves = dist_shared(xmul(xmul(s->rows.nmix, s->ncol), sizeof *s->moves));
	}
	return s;
}

static void swap64(uint64_t *a, uint64_t i, uint64_t j)
{
	uint64_t t = a[i];
	a[i] = a[j];
	a[j] = t;
}

/* one pass of dual coordinate descent over the active records */
static void pass(struct svm *s, struct prob *p)
{
	uint32_t D = s->dim;
	double pgmax = -INFINITY, pgmin = INFINITY, loss = 0;
	for (uint64_t i = p->nactive; i > 1; i--)
		swap64(p->active, i - 1, rng_below(&p->rng, i));
	for (uint64_t k = 0; k < p->nactive; k++) {
		uint64_t i = p->active[k];
		struct ds_x x;
		ds_csr_row(&s->X, i, &x);
		double wx = p->w[D];
		if (x.idx)
			for (uint32_t t = 0; t < x.n; t++)
				wx += p->w[x.idx[t]] * x.val[t];
		else
			for (uint32_t t = 0; t < x.n; t++)
				wx += p->w[t] * x.val[t];
		double yi = p->y[i], G = yi * wx - 1 + p->dii[i] * p->a[i], PG = 0;
		double m = 1 - yi * wx;
		loss += m > 0 ? (s->sq ? m * m : m) : 0;
		if (p->a[i] == 0) {
			if (G > p->pgmax) {
				/* bound at 0 and likely to stay there: shrink it away */
				swap64(p->active, k, --p->nactive);
				k--;
				continue;
			}
			if (G < 0)
				PG = G;
		} else if (p->a[i] == p->up[i]) {
			if (G < p->pgmin) {
				swap64(p->active, k, --p->nactive);
				k--;
				continue;
			}
			if (G > 0)
				PG = G;
		} else {
			PG = G;
		}
		pgmax = PG > pgmax ? PG : pgmax;
		pgmin = PG < pgmin ? PG : pgmin;
		if (fabs(PG) > 1e-12) {
			double old = p->a[i], q = s->qd[i] * s->sigma + p->dii[i];
			double a = old - G / q;
			a = a < 0 ? 0 : a > p->up[i] ? p->up[i] : a;
			p->a[i] = a;
			double d = (a - old) * yi * s->sigma;
			if (x.idx)
				for (uint32_t t = 0; t < x.n; t++)
					p->w[x.idx[t]] += d * x.val[t];
			else
				for (uint32_t t = 0; t < x.n; t++)
					p->w[t] += d * x.val[t];
			p->w[D] += d;
		}
	}
	p->loss = loss;
	if (pgmax - pgmin <= s->tol) {
		if (p->nactive == s->X.n) {
			p->done = 1;
			return;
		}
		/* converged on the shrunk set: check every record again */
		p->nactive = s->X.n;
		p->pgmax = INFINITY;
		p->pgmin = -INFINITY;
		return;
	}
	p->pgmax = pgmax > 0 ? pgmax : INFINITY;
	p->pgmin = pgmin < 0 ? pgmin : -INFINITY;
}

static int svm_epoch(void *st, const struct fit *f, int e, double *loss)
{
	struct svm *s = st;
	(void)e;
#pragma omp parallel for schedule(dynamic, 1) num_threads(f->threads) if (s->ncol > 1)
	for (uint32_t c = 0; c < s->ncol; c++)
		if (!s->p[c].done)
			pass(s, &s->p[c]);
	int done = 1;
	double l = 0;
	for (uint32_t c = 0; c < s->ncol; c++) {
		done &= s->p[c].done;
		l += s->p[c].loss;
	}
	*loss = s->X.n ? l / (double)s->X.n / s->ncol : 0;
	return done;
}

/* Several ranks: CoCoA+ (Ma, Smith, Jaggi et al., ICML 2015) with adding.
 * Each rank's pass solves its part of the dual as if its own moves
 * counted sigma' = R times (the q and the w steps above), which keeps the
 * sum of the ranks' moves safe; then every rank's dual variables stand and
 * w becomes w0 plus the sum of the ranks' moves, so that w = sum alpha_i
 * y_i x_i over all records and the dual objective rises.  A problem is
 * solved when every rank finds it solved.  Moves touch only the features
 * of a rank's records: the rows of features several ranks have are summed
 * (struct lin_rows); a row only one rank has moves by that rank's move
 * alone, which it adds itself, and reaches the others when a snapshot
 * needs it (svm_collect). */
static void svm_sync(void *st, const struct fit *f)
{
	struct svm *s = st;
	(void)f;
	const uint32_t *mix = s->rows.mix, *mine = s->rows.mine;
	size_t M = s->rows.nmix;
	uint64_t *open = xcalloc(s->ncol, sizeof *open);
	/* every problem's moves in one sum */
	double *d = s->moves;
	for (uint32_t c = 0; c < s->ncol; c++) {
		const struct prob *p = &s->p[c];
		for (size_t i = 0; i < M; i++)
			d[c * M + i] = (p->w[mix[i]] - p->w0[mix[i]]) / s->sigma;
	}
	dist_sum_f64(d, M * s->ncol);
	for (uint32_t c = 0; c < s->ncol; c++) {
		struct prob *p = &s->p[c];
		for (size_t i = 0; i < M; i++)
			p->w[mix[i]] = p->w0[mix[i]] = p->w0[mix[i]] + d[c * M + i];
		for (size_t i = 0; i < s->rows.nmine; i++)
			p->w[mine[i]] = p->w0[mine[i]] = p->w0[mine[i]] + (p->w[mine[i]] - p->w0[mine[i]]) / s->sigma;
		open[c] = !p->done;
	}
	dist_sum_u64(open, s->ncol);
	for (uint32_t c = 0; c < s->ncol; c++) {
		struct prob *p = &s->p[c];
		if (open[c] && p->done) {
			/* solved here, not everywhere: the others' moves may move it */
			p->done = 0;
			p->nactive = s->X.n;
			p->pgmax = INFINITY;
			p->pgmin = -INFINITY;
		}
	}
	free(open);
}

/* the rows of w only another rank has, for a snapshot */
static void svm_collect(void *st, const struct fit *f)
{
	struct svm *s = st;
	for (uint32_t c = 0; c < s->ncol; c++)
		lin_collect(&s->rows, f, s->p[c].w, sizeof *s->p[c].w, &s->p[c].got);
}

static void svm_snapshot(void *st, const struct fit *f, struct amodel *m)
{
	struct svm *s = st;
	struct linear *l = xcalloc(1, sizeof *l);
	lin_alloc(l, f->dim, s->ncol);
	/* the rows of features learn.c numbered go to the model's, the
	 * others stay 0 */
	for (uint32_t c = 0; c < s->ncol; c++) {
		for (uint32_t j = 0; j < s->dim; j++)
			l->own[(size_t)fit_feature(f, j) * s->ncol + c] = (float)s->p[c].w[j];
		l->own[(size_t)f->dim * s->ncol + c] = (float)s->p[c].w[s->dim];
		/* and the other ranks' rows (svm_collect) */
		const struct lin_got *got = &s->p[c].got;
		for (size_t i = 0, n = lin_got_count(got); i < n; i++) {
			uint32_t to;
			double w;
			memcpy(&w, lin_got_row(got, i, &to), sizeof w);
			l->own[(size_t)to * s->ncol + c] = (float)w;
		}
	}
	m->st = l;
}

static void svm_end(void *st)
{
	struct svm *s = st;
	for (uint32_t c = 0; c < s->ncol; c++) {
		struct prob *p = &s->p[c];
		free(p->w);
		free(p->a);
		free(p->y);
		free(p->up);
		free(p->dii);
		free(p->active);
		free(p->w0);
		buf_release(&p->got.b);
	}
	free(s->p);
	lin_rows_free(&s->rows);
	dist_shared_free(s->moves);
	free(s->qd);
	ds_csr_release(&s->X);
	free(s);
}

static void svm_settings(const struct fit *f, json_object *o)
{
	const struct algo_params *p = f->p;
	json_object_object_add(o, "cost", json_object_new_double(isnan(p->cost) ? 1 : p->cost));
	json_object_object_add(o, "loss", json_object_new_string(p->loss ? p->loss : "squared-hinge"));
	json_object_object_add(o, "tol", json_object_new_double(isnan(p->tol) ? 0.1 : p->tol));
}

const struct algo algo_svm = {
	.name = "svm",
	.summary = "linear SVM (hinge or squared hinge) by dual coordinate descent, as LIBLINEAR",
	.epochs = 1000,
	.compact = 1,
	.begin = svm_begin,
	.epoch = svm_epoch,
	.snapshot = svm_snapshot,
	.end = svm_end,
	.settings = svm_settings,
	.save = lin_algo_save,
	.load = lin_algo_load,
	.predict = lin_algo_predict,
	.merge = lin_algo_merge,
	.sync = svm_sync,
	.collect = svm_collect,
	.top = lin_algo_top,
	.release = lin_algo_release,
};
