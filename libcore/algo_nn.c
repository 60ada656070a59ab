/* algo_nn.c - neural networks behind the algorithm interface: `mlp` and
 * `cnn` (algo.h), both any network of nn.h; they differ in their default
 * network and number of epochs.
 *
 * Training decodes the whole set once into one array (a network visits
 * every example many times in random order, which compressed blocks would
 * make slow); the model holds the spec in its meta and the parameters in
 * two sections used in place from the mapped file. */
#include "algo.h"
#include "dist.h"
#include "nn.h"

#include <json-c/json.h>
#include <stdio.h>

#define CNN_NET "conv3x3:64:p1,bn,relu,maxpool2,conv3x3:128:p1,bn,relu,maxpool2,fc:256,relu,dropout:0.3,fc"
#define MLP_NET "fc:256,relu,fc:128,relu,fc"
#define MLP_SPARSE_NET "fc:64,relu,fc"

struct nn_model {
	struct nn *n;
};

struct st {
	struct nn *n;
	struct nn_trainer *t;
	struct ds_csr csr;
	struct nn_data d;
	int *y;
	float *w;
	int c, h, w_;
};

static int isqrt(uint32_t v)
{
	uint32_t r = 0;
	while ((uint64_t)(r + 1) * (r + 1) <= v)
		r++;
	return (int)r;
}

/* the geometry of dense inputs of dim values: --shape, or a square image */
static int geometry(const char *shape, uint32_t dim, int *c, int *h, int *w, char *err, size_t n)
{
	if (shape) {
		int a, b, d;
		char x1, x2, end;
		if (sscanf(shape, "%d%c%d%c%d%c", &a, &x1, &b, &x2, &d, &end) != 5 || x1 != 'x' || x2 != 'x' ||
		    a < 1 || b < 1 || d < 1 || (uint64_t)a * b * d != dim) {
			snprintf(err, n, "--shape '%s' is not CxHxW of %u values", shape, dim);
			return -1;
		}
		*c = a;
		*h = b;
		*w = d;
		return 0;
	}
	for (int ch = 1; ch <= 3; ch += 2) {
		int s = isqrt(dim / ch);
		if (dim % ch == 0 && (uint32_t)s * s * ch == dim) {
			*c = ch;
			*h = *w = s;
			return 0;
		}
	}
	*c = 1;
	*h = 1;
	*w = (int)dim;
	return 1; /* a plain vector: fine for an MLP */
}

static void *nn_begin_kind(struct fit *f, int cnn)
{
	const char *name = cnn ? "cnn" : "mlp";
	const struct algo_params *p = f->p;
	if (algo_check_params(f, name, "lr,schedule,net,optim,batch,momentum,wd,augment,flip,shape"))
		return NULL;
	if (f->multilabel) {
		snprintf(f->err, sizeof f->err, "--algo %s takes one label per record", name);
		return NULL;
	}
	if (!f->dense && cnn && !p->net) {
		snprintf(f->err, sizeof f->err, "--algo cnn needs images (dense vectors), the records have sparse features");
		return NULL;
	}
	struct st *s = xcalloc(1, sizeof *s);
	int c = 0, h = 0, w = 0;
	if (f->dense) {
		int r = geometry(p->shape, f->dim, &c, &h, &w, f->err, sizeof f->err);
		if (r < 0 || (r > 0 && cnn)) {
			if (r > 0)
				snprintf(f->err, sizeof f->err,
					 "dense vectors of %u values are not square images: give --shape CxHxW", f->dim);
			free(s);
			return NULL;
		}
	} else if (p->shape) {
		snprintf(f->err, sizeof f->err, "--shape needs dense inputs");
		free(s);
		return NULL;
	}
	const char *spec = p->net ? p->net : cnn ? CNN_NET : f->dense ? MLP_NET : MLP_SPARSE_NET;
	struct pea_err e;
	if (f->init) {
		const struct nn_model *im = f->init->st;
		spec = im->n->spec;
		if (p->net && strcmp(p->net, spec)) {
			snprintf(f->err, sizeof f->err, "--net differs from the --init model's '%s'", spec);
			free(s);
			return NULL;
		}
		if (f->init->nlabels != f->nlabels) {
			snprintf(f->err, sizeof f->err, "the data has labels the --init model does not know");
			free(s);
			return NULL;
		}
		if (f->dense && (im->n->in_c != c || im->n->in_h != h || im->n->in_w != w)) {
			snprintf(f->err, sizeof f->err, "the --init model takes %dx%dx%d inputs, the data has %dx%dx%d",
				 im->n->in_c, im->n->in_h, im->n->in_w, c, h, w);
			free(s);
			return NULL;
		}
	}
	s->n = nn_build(spec, c, h, w, !f->dense, f->dim, f->nlabels, &e);
	if (!s->n) {
		snprintf(f->err, sizeof f->err, "%s", e.msg);
		free(s);
		return NULL;
	}
	if (f->init) {
		const struct nn *o = ((const struct nn_model *)f->init->st)->n;
		if (o->nparam > s->n->nparam || o->nstate != s->n->nstate) {
			snprintf(f->err, sizeof f->err, "the --init model's network does not fit the data");
			nn_free(s->n);
			free(s);
			return NULL;
		}
		/* a sparse layer may have grown with new features: its rows come last */
		memcpy(s->n->param, o->param, o->nparam * sizeof(float));
		memcpy(s->n->state, o->state, o->nstate * sizeof(float));
	} else {
		struct rng r;
		rng_seed(&r, f->seed);
		nn_init(s->n, &r);
	}
	struct nn_opts o = {0};
	o.optim = !p->optim || !strcmp(p->optim, "adam") ? NN_ADAM : !strcmp(p->optim, "sgd") ? NN_SGD : -1;
	const char *sc = p->schedule ? p->schedule : "cosine";
	o.sched = !strcmp(sc, "constant") ? NN_CONSTANT : !strcmp(sc, "step") ? NN_STEP : !strcmp(sc, "cosine") ? NN_COSINE : -1;
	o.batch = p->batch ? (int)p->batch : 64;
	o.lr = !isnan(p->lr) ? p->lr : o.optim == NN_SGD ? 0.05 : 1e-3;
	o.momentum = !isnan(p->momentum) ? p->momentum : 0.9;
	o.wd = !isnan(p->wd) ? p->wd : 0;
	o.augment = p->augment >= 0 ? (int)p->augment : 0;
	o.flip = p->flip;
	o.threads = f->threads;
	o.epochs = f->epochs;
	const char *bad = o.optim < 0 ? "--optim is adam or sgd"
			  : o.sched < 0 ? "--schedule is constant, step or cosine for networks"
			  : o.batch < 1 || o.batch > 65536 ? "--batch must be between 1 and 65536"
			  : !(o.lr > 0) ? "--lr must be above 0"
			  : !(o.momentum >= 0 && o.momentum < 1) ? "--momentum must be at least 0 and below 1"
			  : !(o.wd >= 0) ? "--wd must be at least 0"
			  : o.augment > 8 ? "--augment must be between 0 and 8 pixels"
			  : (o.augment || o.flip) && (h < 2 || w < 2) ? "--augment and --flip need images"
								       : NULL;
	/* several ranks: each computes its share of every batch (nn.h) */
	uint64_t all = ds_nrec(f->train);
	dist_sum_u64(&all, 1);
	if (!bad && dist_size() > 1) {
		int R = dist_size(), r = dist_rank();
		o.share = o.batch / R + (r < o.batch % R);
		o.steps = (size_t)((all + (uint64_t)o.batch - 1) / (uint64_t)o.batch);
		bad = !f->dense ? "networks over sparse features train on one rank only (dense inputs train on several)"
		      : o.batch < R ? "--batch must be at least the number of ranks"
		      : !ds_nrec(f->train) ? "a rank has no records to train on"
					   : NULL;
	}
	if (bad) {
		snprintf(f->err, sizeof f->err, "%s", bad);
		nn_free(s->n);
		free(s);
		return NULL;
	}
	ds_to_csr(f->train, f->threads, &s->csr);
	uint64_t N = s->csr.n;
	s->y = xmalloc((N ? N : 1) * sizeof *s->y);
	if (f->cw)
		s->w = xmalloc((N ? N : 1) * sizeof *s->w);
	for (uint64_t r = 0; r < N; r++) {
		uint32_t ny;
		s->y[r] = (int)ds_y(f->train, r, &ny)[0];
		if (s->w)
			s->w[r] = (float)f->cw[s->y[r]] * ds_weight(f->train, r);
	}
	s->d = (struct nn_data){(size_t)N, f->dense ? s->csr.val : NULL, s->csr.off, s->csr.idx, s->csr.val, s->y, s->w};
	s->t = nn_trainer_new(s->n, &o, (f->seed + 0x9e3779b97f4a7c15ull * (uint64_t)dist_rank()) ^ 0x6e6e5f747261696eull);
	return s;
}

static void *mlp_begin(struct fit *f) { return nn_begin_kind(f, 0); }
static void *cnn_begin(struct fit *f) { return nn_begin_kind(f, 1); }

static int nn_algo_epoch(void *st, const struct fit *f, int e, double *loss)
{
	(void)f;
	struct st *s = st;
	double acc;
	*loss = nn_epoch(s->t, &s->d, e - 1, &acc, NULL, NULL);
	return 0;
}

/* several ranks: nothing is left to combine after an epoch, since every
 * update summed the ranks' gradients and every rank made it (nn.h) */
static void nn_algo_sync(void *st, const struct fit *f)
{
	(void)st;
	(void)f;
}

static struct nn *nn_copy(const struct nn *n)
{
	struct pea_err e;
	struct nn *c = nn_build(n->spec, n->in_c, n->in_h, n->in_w, n->sparse, n->dim, n->nout, &e);
	if (!c)
		die("internal error: %s", e.msg);
	memcpy(c->param, n->param, n->nparam * sizeof(float));
	memcpy(c->state, n->state, n->nstate * sizeof(float));
	return c;
}

static void nn_algo_snapshot(void *st, const struct fit *f, struct amodel *m)
{
	(void)f;
	struct st *s = st;
	struct nn_model *nm = xcalloc(1, sizeof *nm);
	nm->n = nn_copy(s->n);
	m->st = nm;
}

static void nn_algo_end(void *st)
{
	struct st *s = st;
	nn_trainer_free(s->t);
	nn_free(s->n);
	ds_csr_release(&s->csr);
	free(s->y);
	free(s->w);
	free(s);
}

static void nn_algo_settings(const struct fit *f, struct json_object *o)
{
	const struct algo_params *p = f->p;
	json_object_object_add(o, "optim", json_object_new_string(p->optim ? p->optim : "adam"));
	json_object_object_add(o, "schedule", json_object_new_string(p->schedule ? p->schedule : "cosine"));
	json_object_object_add(o, "batch", json_object_new_int64(p->batch ? p->batch : 64));
	if (!isnan(p->lr))
		json_object_object_add(o, "lr", json_object_new_double(p->lr));
	if (!isnan(p->wd))
		json_object_object_add(o, "wd", json_object_new_double(p->wd));
	if (!isnan(p->momentum))
		json_object_object_add(o, "momentum", json_object_new_double(p->momentum));
	json_object_object_add(o, "augment", json_object_new_int64(p->augment > 0 ? p->augment : 0));
	json_object_object_add(o, "flip", json_object_new_boolean(p->flip));
}

static void nn_algo_save(const struct amodel *m, struct model_writer *w, struct json_object *meta)
{
	const struct nn *n = ((const struct nn_model *)m->st)->n;
	json_object_object_add(meta, "net", json_object_new_string(n->spec));
	if (!n->sparse) {
		json_object *sh = json_object_new_array();
		json_object_array_add(sh, json_object_new_int(n->in_c));
		json_object_array_add(sh, json_object_new_int(n->in_h));
		json_object_array_add(sh, json_object_new_int(n->in_w));
		json_object_object_add(meta, "shape", sh);
	}
	mw_add(w, "nn.param", n->param, n->nparam * sizeof(float));
	mw_add(w, "nn.state", n->state, n->nstate * sizeof(float));
}

static int nn_algo_load(struct amodel *m, struct json_object *meta, struct pea_err *e)
{
	json_object *net, *sh = NULL;
	int c = 0, h = 0, w = 0;
	if (!json_object_object_get_ex(meta, "net", &net) || !json_object_is_type(net, json_type_string)) {
		err_set(e, "the model's meta has no net");
		return -1;
	}
	if (m->dense) {
		if (!json_object_object_get_ex(meta, "shape", &sh) || !json_object_is_type(sh, json_type_array) ||
		    json_object_array_length(sh) != 3) {
			err_set(e, "the model's meta has no shape");
			return -1;
		}
		int v[3];
		for (int i = 0; i < 3; i++) {
			json_object *x = json_object_array_get_idx(sh, i);
			int64_t k = json_object_is_type(x, json_type_int) ? json_object_get_int64(x) : 0;
			if (k < 1 || k > 65535) {
				err_set(e, "the model's shape is not three sizes");
				return -1;
			}
			v[i] = (int)k;
		}
		c = v[0];
		h = v[1];
		w = v[2];
		if ((uint64_t)c * h * w != m->dim) {
			err_set(e, "the model's shape %dx%dx%d does not hold %u values", c, h, w, m->dim);
			return -1;
		}
	}
	struct nn *n = nn_build(json_object_get_string(net), c, h, w, !m->dense, m->dim, m->nlabels, e);
	if (!n)
		return -1;
	size_t np, ns;
	const void *pp = model_section(m->file, "nn.param", &np), *ps = model_section(m->file, "nn.state", &ns);
	if (!pp || !ps || np != n->nparam * sizeof(float) || ns != n->nstate * sizeof(float)) {
		err_set(e, "the model's parameters do not fit its network");
		nn_free(n);
		return -1;
	}
	/* used in place: the file is mapped read-only and never written through */
	nn_borrow(n, (float *)(uintptr_t)pp, (float *)(uintptr_t)ps);
	struct nn_model *nm = xcalloc(1, sizeof *nm);
	nm->n = n;
	m->st = nm;
	if (m->dense && h * w > 1) {
		m->shape[0] = c;
		m->shape[1] = h;
		m->shape[2] = w;
	}
	return 0;
}

static void nn_algo_predict(const struct amodel *m, const struct ds_x *x, double *probs)
{
	const struct nn *n = ((const struct nn_model *)m->st)->n;
	float pf[256], *p = m->nlabels <= 256 ? pf : xmalloc((size_t)m->nlabels * sizeof(float));
	if (n->sparse)
		nn_predict(n, NULL, x->idx, x->val, x->n, p);
	else
		nn_predict(n, x->val, NULL, NULL, 0, p);
	for (int k = 0; k < m->nlabels; k++)
		probs[k] = p[k];
	if (p != pf)
		free(p);
}

static void nn_algo_predict_batch(const struct amodel *m, const struct ds_x *x, int count, double *probs)
{
	const struct nn *n = ((const struct nn_model *)m->st)->n;
	int K = m->nlabels;
	size_t c = count > 0 ? (size_t)count : 1;
	const float **xs = xmalloc(c * sizeof *xs), **val = xmalloc(c * sizeof *val);
	const uint32_t **idx = xmalloc(c * sizeof *idx);
	uint32_t *nnz = xmalloc(c * sizeof *nnz);
	float *p = xmalloc(xmul(c, (size_t)K) * sizeof *p);
	for (int i = 0; i < count; i++) {
		xs[i] = x[i].val;
		idx[i] = x[i].idx;
		val[i] = x[i].val;
		nnz[i] = x[i].n;
	}
	/* all at once: the network cuts them into batches of its own size */
	nn_predict_rows(n, xs, idx, val, nnz, count, p);
	for (size_t k = 0; k < (size_t)count * K; k++)
		probs[k] = p[k];
	free(xs);
	free(val);
	free(idx);
	free(nnz);
	free(p);
}

static int nn_algo_merge(struct amodel *out, struct amodel *const *in, int n, struct pea_err *e)
{
	(void)out;
	(void)in;
	(void)n;
	err_set(e, "networks cannot be merged (train one on all the data, or continue one with --init)");
	return -1;
}

static int nn_algo_top(const struct amodel *m, int label, int dir, int k, uint32_t *idx, float *w)
{
	(void)m;
	(void)label;
	(void)dir;
	(void)k;
	(void)idx;
	(void)w;
	return 0; /* a network has no weight per feature and label */
}

static void nn_algo_release(struct amodel *m)
{
	struct nn_model *nm = m->st;
	if (nm)
		nn_free(nm->n);
	free(nm);
	m->st = NULL;
}

#define NN_ALGO(NAME, STR, SUMMARY, EPOCHS, BEGIN)                                                          \
	const struct algo NAME = {                                                                      \
		.name = STR, .summary = SUMMARY, .epochs = EPOCHS, .begin = BEGIN,               \
		.epoch = nn_algo_epoch, .snapshot = nn_algo_snapshot, .end = nn_algo_end,             \
		.settings = nn_algo_settings, .save = nn_algo_save, .load = nn_algo_load,             \
		.predict = nn_algo_predict, .predict_batch = nn_algo_predict_batch, .merge = nn_algo_merge, .sync = nn_algo_sync, .top = nn_algo_top,                \
		.release = nn_algo_release,                                                            \
	}

NN_ALGO(algo_mlp, "mlp", "multi-layer perceptron (dense or sparse input)", 15, mlp_begin);
NN_ALGO(algo_cnn, "cnn", "convolutional network over images", 10, cnn_begin);
