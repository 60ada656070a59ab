/* learn.c - see learn.h.  Validation runs on every core, one block per
 * task, and the per-block sums are added in block order, so the figures
 * (and the early stopping they drive) do not depend on the thread count. */
#include "learn.h"
#include "dist.h"
#include "progress.h"

#include <json-c/json.h>
#include <omp.h>
#include <stdio.h>

#define PMIN 1e-15

static double clamp_log(double p)
{
	return log(p < PMIN ? PMIN : p > 1 - PMIN ? 1 - PMIN : p);
}

struct score_acc {
	double loss, correct;
};

/* p: probabilities of one record; y: its labels */
static void score_rec(const struct amodel *m, const double *p, const uint32_t *y, uint32_t ny, struct score_acc *a)
{
	if (!m->multilabel) {
		int best = 0;
		for (int c = 1; c < m->nlabels; c++)
			if (p[c] > p[best])
				best = c;
		a->loss -= clamp_log(p[y[0]]);
		a->correct += (uint32_t)best == y[0];
		return;
	}
	double l = 0;
	int exact = 1;
	uint32_t k = 0;
	for (int c = 0; c < m->nlabels; c++) {
		int pos = k < ny && y[k] == (uint32_t)c;
		k += pos;
		l -= pos ? clamp_log(p[c]) : clamp_log(1 - p[c]);
		double t = m->thresholds ? m->thresholds[c] : 0.5;
		exact &= (p[c] >= t) == pos;
	}
	a->loss += l / m->nlabels;
	a->correct += exact;
}

/* The probabilities of the n records of a decoded block into p (n x
 * nlabels): in one call where the algorithm predicts in batches (networks
 * run several examples a pass far faster than one). */
static void predict_block(const struct amodel *m, const struct ds_cursor *c, uint32_t n, double *p)
{
	if (!m->algo->predict_batch) {
		for (uint32_t i = 0; i < n; i++) {
			struct ds_x x;
			ds_cursor_x(c, i, &x);
			m->algo->predict(m, &x, p + (size_t)i * m->nlabels);
		}
		return;
	}
	struct ds_x *xs = xmalloc((n ? n : 1) * sizeof *xs);
	for (uint32_t i = 0; i < n; i++)
		ds_cursor_x(c, i, &xs[i]);
	m->algo->predict_batch(m, xs, (int)n, p);
	free(xs);
}

void learn_score(const struct amodel *m, const struct dataset *ds, int threads, double *loss, double *acc)
{
	size_t nb = ds_nblocks(ds);
	int nt = threads > 0 ? threads : 1;
	struct score_acc *blk = xcalloc(nb + 1, sizeof *blk);
	struct ds_cursor **cur = xcalloc((size_t)nt, sizeof *cur);
	for (int i = 0; i < nt; i++)
		cur[i] = ds_cursor_new();
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
	for (size_t b = 0; b < nb; b++) {
		int th = omp_get_thread_num();
		uint32_t n = ds_decode(cur[th], ds, b);
		uint64_t r0 = ds_first(ds, b);
		double *p = xmalloc(xmul(n ? n : 1, (size_t)m->nlabels) * sizeof *p);
		predict_block(m, cur[th], n, p);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t ny;
			const uint32_t *y = ds_y(ds, r0 + i, &ny);
			score_rec(m, p + (size_t)i * m->nlabels, y, ny, &blk[b]);
		}
		free(p);
	}
	/* this rank's sums, then every rank's (dist.h) */
	double t[3] = {0, 0, (double)ds_nrec(ds)};
	for (size_t b = 0; b < nb; b++) {
		t[0] += blk[b].loss;
		t[1] += blk[b].correct;
	}
	dist_sum_f64(t, 3);
	*loss = t[2] > 0 ? t[0] / t[2] : 0;
	*acc = t[2] > 0 ? t[1] / t[2] : 0;
	for (int i = 0; i < nt; i++)
		ds_cursor_free(cur[i]);
	free(cur);
	free(blk);
}

/* A model shell: everything but the algorithm's part. */
static struct amodel *shell(const struct algo *a, const struct dataset *ds, const struct fit *f)
{
	struct amodel *m = am_new();
	m->algo = a;
	m->nlabels = f->nlabels;
	m->labels = xcalloc((size_t)f->nlabels, sizeof *m->labels);
	for (int i = 0; i < f->nlabels; i++)
		m->labels[i] = xstrdup(ds_label(ds, i));
	m->multilabel = f->multilabel;
	m->dense = f->dense;
	m->dim = f->dim;
	m->fspace = ds_fspace(ds) ? xstrdup(ds_fspace(ds)) : NULL;
	return m;
}

static void drop_part(struct amodel *m)
{
	if (m->st && m->algo->release)
		m->algo->release(m);
	m->st = NULL;
}

struct pair {
	double p;
	int pos;
};

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	if (x->p != y->p)
		return x->p < y->p ? 1 : -1;
	return y->pos - x->pos;
}

/* per label: the threshold on the validation set's probabilities that gives
 * the best F1 (0.5 when the label never occurs there) */
static void tune_thresholds(struct amodel *m, const struct dataset *ds, int threads)
{
	int K = m->nlabels;
	uint64_t n = ds ? ds_nrec(ds) : 0;
	m->thresholds = xcalloc((size_t)K, sizeof *m->thresholds);
	for (int c = 0; c < K; c++)
		m->thresholds[c] = 0.5;
	if (!n)
		return;
	double *p = xcalloc(xmul(n, (size_t)K), sizeof *p);
	size_t nb = ds_nblocks(ds);
	int nt = threads > 0 ? threads : 1;
	struct ds_cursor **cur = xcalloc((size_t)nt, sizeof *cur);
	for (int i = 0; i < nt; i++)
		cur[i] = ds_cursor_new();
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
	for (size_t b = 0; b < nb; b++) {
		struct ds_cursor *c = cur[omp_get_thread_num()];
		uint32_t nr = ds_decode(c, ds, b);
		predict_block(m, c, nr, p + ds_first(ds, b) * (size_t)K);
	}
	struct pair *v = xcalloc(n, sizeof *v);
	for (int c = 0; c < K; c++) {
		uint64_t npos = 0;
		for (uint64_t r = 0; r < n; r++) {
			uint32_t ny, k;
			const uint32_t *y = ds_y(ds, r, &ny);
			for (k = 0; k < ny && y[k] != (uint32_t)c; k++)
				;
			v[r].p = p[r * (size_t)K + c];
			v[r].pos = k < ny;
			npos += k < ny;
		}
		if (!npos)
			continue;
		/* descending probability: the cut after r predicts the first r+1 */
		qsort(v, n, sizeof *v, cmp_pair);
		double best = -1;
		uint64_t tp = 0;
		for (uint64_t r = 0; r < n; r++) {
			tp += v[r].pos;
			if (r + 1 < n && v[r + 1].p == v[r].p)
				continue;
			double f1 = 2.0 * (double)tp / (double)(r + 1 + npos);
			if (f1 > best) {
				best = f1;
				m->thresholds[c] = r + 1 < n ? (v[r].p + v[r + 1].p) / 2 : v[r].p;
			}
		}
	}
	free(v);
	free(p);
	for (int i = 0; i < nt; i++)
		ds_cursor_free(cur[i]);
	free(cur);
}

/* the sorted union of the model's labels and the data's (both sorted);
 * map[i] places the model's label i in it.  The names are copied because
 * ds_relabel frees the dataset's own. */
static void merge_labels(struct dataset *ds, const struct amodel *init, int *map)
{
	int n = ds_nlabels(ds), cap = n + init->nlabels;
	char **all = xcalloc((size_t)cap, sizeof *all);
	int k = 0, i = 0, j = 0;
	while (i < n || j < init->nlabels) {
		int c = i == n ? 1 : j == init->nlabels ? -1 : strcmp(ds_label(ds, i), init->labels[j]);
		if (c <= 0)
			all[k] = (char *)ds_label(ds, i++);
		if (c >= 0) {
			all[k] = init->labels[j];
			map[j++] = k;
		}
		k++;
	}
	char **copy = xcalloc((size_t)k, sizeof *copy);
	for (int x = 0; x < k; x++)
		copy[x] = xstrdup(all[x]);
	ds_relabel(ds, copy, k);
	for (int x = 0; x < k; x++)
		free(copy[x]);
	free(copy);
	free(all);
}

/* Several ranks (dist.h): after each epoch the algorithm combines their
 * states; the loss becomes the mean over every rank's records, and training
 * ends when it ends on every rank. */
static int sync_ranks(const struct algo *a, void *st, const struct fit *f, double *loss, int done)
{
	if (dist_size() < 2)
		return done;
	a->sync(st, f);
	/* one sum for the loss and the ranks not done (whole numbers: exact) */
	double v[3] = {*loss * (double)ds_nrec(f->train), (double)ds_nrec(f->train), !done};
	dist_sum_f64(v, 3);
	*loss = v[1] > 0 ? v[0] / v[1] : 0;
	return v[2] == 0;
}

/* Several ranks: each rank's state whole before a snapshot.  A checkpoint
 * is rank 0's alone, but every rank takes part in the collective steps. */
static void collect_ranks(const struct algo *a, void *st, const struct fit *f)
{
	if (dist_size() > 1 && a->collect)
		a->collect(st, f);
}

struct amodel *learn_fit(const struct algo *a, struct dataset *train, const struct dataset *valid,
			 const struct amodel *init, const struct learn_opts *o, struct pea_err *e)
{
	struct fit f = {0};
	int *map = NULL;
	/* on several ranks: every rank's labels, dimension and record count */
	uint32_t dim;
	uint64_t nrec, nvalid = valid ? ds_nrec(valid) : 0;
	int multilabel;
	if (dist_size() > 1 && !a->sync) {
		err_set(e, "--algo %s cannot train on several ranks", a->name);
		return NULL;
	}
	if (dist_agree(train, &dim, &nrec, &multilabel, e))
		return NULL;
	dist_sum_u64(&nvalid, 1);
	if (!nrec) {
		err_set(e, "no records to train on");
		return NULL;
	}
	if (init) {
		if (init->algo != a) {
			err_set(e, "the --init model is %s, not %s", init->algo->name, a->name);
			return NULL;
		}
		if (init->dense != ds_dense(train) || (init->dense && init->dim != ds_dim(train))) {
			err_set(e, "the --init model takes %s features of %u dimensions, the data has %s ones of %u",
				init->dense ? "dense" : "sparse", init->dim, ds_dense(train) ? "dense" : "sparse",
				ds_dim(train));
			return NULL;
		}
		if (init->fspace && ds_fspace(train) && strcmp(init->fspace, ds_fspace(train))) {
			err_set(e, "the --init model's feature space is '%s', the data's is '%s'", init->fspace,
				ds_fspace(train));
			return NULL;
		}
		if (init->multilabel != ds_multilabel(train) && ds_multilabel(train)) {
			err_set(e, "the --init model is not multi-label, the data is");
			return NULL;
		}
		map = xcalloc((size_t)init->nlabels, sizeof *map);
		merge_labels(train, init, map);
	}
	f.train = train;
	f.valid = valid && nvalid ? valid : NULL;
	f.init = init;
	f.init_map = map;
	f.p = o->params;
	f.threads = o->threads > 0 ? o->threads : 1;
	f.epochs = o->epochs > 0 ? o->epochs : a->epochs;
	f.balanced = o->balanced;
	f.seed = o->seed;
	f.nlabels = ds_nlabels(train);
	f.multilabel = multilabel || (init && init->multilabel);
	f.dense = ds_dense(train);
	f.dim = dim;
	if (init && init->dim > f.dim)
		f.dim = init->dim;
	if (!f.multilabel && f.nlabels < 2) {
		err_set(e, "the data has only one label ('%s'): nothing to tell apart", ds_label(train, 0));
		free(map);
		return NULL;
	}
	if (f.multilabel && f.valid && dist_size() > 1) {
		err_set(e, "multi-label thresholds are tuned on one rank's validation records only: train multi-label "
			   "models on several ranks without --holdout");
		free(map);
		return NULL;
	}
	double *cw = NULL;
	if (o->balanced) {
		if (f.multilabel) {
			err_set(e, "--balanced needs one label per record");
			free(map);
			return NULL;
		}
		/* n / (K n_c), as scikit-learn's class_weight='balanced' */
		cw = xcalloc((size_t)f.nlabels, sizeof *cw);
		uint64_t n = ds_nrec(train);
		for (uint64_t r = 0; r < n; r++) {
			uint32_t ny;
			cw[ds_y(train, r, &ny)[0]] += 1;
		}
		dist_sum_f64(cw, (size_t)f.nlabels);
		n = nrec;
		for (int c = 0; c < f.nlabels; c++)
			cw[c] = cw[c] > 0 ? (double)n / (f.nlabels * cw[c]) : 1;
		f.cw = cw;
	}
	/* the rows of the features the data has, and only those: on hashed
	 * text about half of the table, in half its cache.  On several ranks a
	 * rank keeps its records' features and those several ranks' records
	 * have (dist_features).  A set trained on before may be numbered so
	 * already, or must have its own numbers back. */
	if (!(a->compact && !f.dense && !init))
		ds_expand(train, f.threads);
	else if (!ds_numbering(train, &f.nfeat)) {
		uint32_t *ids;
		size_t n = dist_features(train, f.dim, &ids);
		ds_compact(train, ids, n, f.threads);
		free(ids);
	}
	f.feat = ds_numbering(train, &f.nfeat);
	if (!f.feat)
		f.nfeat = f.dim;
	void *st = a->begin(&f);
	if (!st) {
		err_set(e, "%s", f.err);
		free(cw);
		free(map);
		return NULL;
	}
	struct progress pr;
	progress_init(&pr, o->quiet);
	struct amodel *cur = shell(a, train, &f), *best = NULL;
	double best_loss = INFINITY, vloss = 0, vacc = 0;
	int since = 0, ep;
	uint64_t seen = 0;
	double t0 = now_sec();
	for (ep = 1; ep <= f.epochs; ep++) {
		double loss = 0;
		int done = a->epoch(st, &f, ep, &loss);
		done = sync_ranks(a, st, &f, &loss, done);
		seen += nrec;
		if (f.valid || o->checkpoint)
			collect_ranks(a, st, &f);
		if (f.valid) {
			drop_part(cur);
			a->snapshot(st, &f, cur);
			learn_score(cur, f.valid, f.threads, &vloss, &vacc);
			progress_done(&pr);
			if (!o->quiet)
				note("epoch %d: loss %.6f, validation loss %.6f, accuracy %.2f%%", ep, loss, vloss,
				     100 * vacc);
			if (vloss < best_loss) {
				best_loss = vloss;
				since = 0;
				struct amodel *t = best;
				best = cur;
				cur = t ? t : shell(a, train, &f);
			} else if (o->patience > 0 && ++since >= o->patience) {
				if (!o->quiet)
					note("stopping early: no better validation loss for %d epochs", since);
				break;
			}
		}
		if (o->checkpoint && dist_rank() == 0) {
			/* the model as it stands, written atomically: a run that is
			 * stopped resumes from it with --init */
			struct amodel *ck = shell(a, train, &f);
			a->snapshot(st, &f, ck);
			ck->nrec = seen;
			if (f.multilabel) {
				ck->thresholds = xcalloc((size_t)f.nlabels, sizeof *ck->thresholds);
				for (int c = 0; c < f.nlabels; c++)
					ck->thresholds[c] = 0.5;
			}
			am_save(ck, o->checkpoint);
			am_free(ck);
		}
		if (progress_due(&pr)) {
			double t = progress_elapsed(&pr);
			if (f.valid)
				progress_show(&pr, "epoch %d/%d  loss %.4f  validation accuracy %.2f%%  %.0f records/s", ep,
					      f.epochs, loss, 100 * vacc, t > 0 ? (double)seen / t : 0);
			else
				progress_show(&pr, "epoch %d/%d  loss %.4f  %.0f records/s", ep, f.epochs, loss,
					      t > 0 ? (double)seen / t : 0);
		}
		if (done)
			break;
	}
	int epochs = ep > f.epochs ? f.epochs : ep;
	if (o->per_epoch)
		*o->per_epoch = (now_sec() - t0) / epochs;
	progress_done(&pr);
	if (best) {
		am_free(cur);
		cur = best;
	} else {
		collect_ranks(a, st, &f);
		drop_part(cur);
		a->snapshot(st, &f, cur);
	}
	a->end(st);
	if (f.multilabel)
		tune_thresholds(cur, f.valid, f.threads);
	cur->nrec = nrec + (init ? init->nrec : 0);
	json_object *s = json_object_new_object();
	json_object_object_add(s, "epochs", json_object_new_int(epochs));
	json_object_object_add(s, "seed", json_object_new_int64((int64_t)o->seed));
	json_object_object_add(s, "balanced", json_object_new_boolean(o->balanced));
	if (o->holdout > 0)
		json_object_object_add(s, "holdout", json_object_new_double(o->holdout));
	if (a->settings)
		a->settings(&f, s);
	cur->settings = s;
	free(cw);
	free(map);
	return cur;
}
