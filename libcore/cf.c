/* cf.c - see cf.h: the registry of recommenders, the sections every
 * recommender model shares, loading with every size checked, and the
 * recommendation loop.
 *
 * Recommending scores a batch of a frame's users at once (one matrix
 * product for the factor models instead of a pass over all item factors
 * per user), then keeps the best k of each row with a small heap. */
#include "cf.h"
#include "export.h"
#include "hash.h"
#include "msrc.h"
#include "pmap.h"
#include "rng.h"

#include <json-c/json.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>

extern const struct cf_algo cf_pop, cf_knn, cf_als, cf_bpr, cf_ease;
static const struct cf_algo *const registry[] = {&cf_pop, &cf_knn, &cf_als, &cf_bpr, &cf_ease};

#define CF_FORMAT 1
#define MAX_META (1u << 20)
#define MAX_K 100000
/* at most this many bytes of scores per thread and batch */
#define BATCH_BYTES (16u << 20)
#define BATCH_MAX 64
#define EXPLAIN_TOP 3

const struct cf_algo *cf_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(registry); i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

const char *cf_names(void)
{
	static char s[128];
	if (!s[0])
		for (size_t i = 0; i < ARRAY_SIZE(registry); i++) {
			if (i)
				strcat(s, ", ");
			strcat(s, registry[i]->name);
		}
	return s;
}

const char *cf_params_given(const struct cf_params *p)
{
	return p->factors ? "factors" : p->iterations ? "iterations" : p->neighbours ? "neighbours"
	     : p->cg_steps ? "cg-steps" : p->max_items ? "max-items" : !isnan(p->reg) ? "reg"
	     : p->weighting ? "weighting" : p->memory ? "memory" : NULL;
}

/* 0, or -1 with the message in err when an option was given that the
 * algorithm does not take */
static int check_params(const struct cf_algo *a, const struct cf_params *p, const struct algo_params *ap,
			char *err, size_t n)
{
	const struct {
		const char *name;
		int set;
	} given[] = {
		{"factors", p->factors != 0},	  {"iterations", p->iterations != 0},
		{"neighbours", p->neighbours != 0}, {"cg-steps", p->cg_steps != 0},
		{"max-items", p->max_items != 0},  {"reg", !isnan(p->reg)},
		{"memory", p->memory != 0},
		{"weighting", p->weighting != NULL}, {"alpha", !isnan(ap->alpha)},
		{"lr", !isnan(ap->lr)},		  {"l1", !isnan(ap->l1)},
		{"l2", !isnan(ap->l2)},		  {"cost", !isnan(ap->cost)},
		{"tol", !isnan(ap->tol)},	  {"loss", ap->loss != NULL},
		{"schedule", ap->schedule != NULL}, {"complement", ap->complement},
		{"net", ap->net != NULL},	  {"optim", ap->optim != NULL},
		{"shape", ap->shape != NULL},	  {"momentum", !isnan(ap->momentum)},
		{"wd", !isnan(ap->wd)},		  {"batch", ap->batch != 0},
		{"augment", ap->augment != -1},	  {"flip", ap->flip},
	};
	for (size_t i = 0; i < ARRAY_SIZE(given); i++) {
		if (!given[i].set)
			continue;
		size_t len = strlen(given[i].name);
		const char *s = a->params;
		int ok = 0;
		while (*s && !ok) {
			size_t k = strcspn(s, ",");
			ok = k == len && !strncmp(s, given[i].name, len);
			s += k + (s[k] == ',');
		}
		if (!ok) {
			snprintf(err, n, "--%s means nothing to --algo %s", given[i].name, a->name);
			return -1;
		}
	}
	return 0;
}

void cf_init_row(float *v, int k, uint64_t seed, int side, uint64_t row, float scale)
{
	struct rng r;
	uint64_t key[3] = {seed, (uint64_t)side, row};
	rng_seed(&r, hash_bytes(key, sizeof key, 0));
	for (int j = 0; j < k; j++)
		v[j] = (float)((rng_unit(&r) * 2 - 1) * scale);
}

void cf_progress(struct cf_fit *f, const char *what, int it, int n, double work)
{
	if (!progress_due(&f->pr))
		return;
	double t = progress_elapsed(&f->pr);
	progress_show(&f->pr, "%s %d/%d  %.2f s  %.1f M interactions/s", what, it, n, t,
		      t > 0 ? work / t / 1e6 : 0);
}

/* ------------------------------------------------------------ training */

static void add_names(struct model_writer *w, const char *name, const struct strtab *t)
{
	struct buf b = BUF_INIT;
	ntab_write(t, &b);
	mw_add_owned(w, name, b.p, b.len);
}

struct model_writer *cf_train(const struct cf_algo *a, const struct ix *x, const struct cfm *init,
			      const struct cf_params *p, const struct algo_params *ap, int threads, int quiet,
			      uint64_t seed, struct cf_stats *st, struct pea_err *e)
{
	char msg[512];
	if (check_params(a, p, ap, msg, sizeof msg)) {
		err_set(e, "%s", msg);
		return NULL;
	}
	if (x->share && !a->ranks) {
		err_set(e, "--algo %s trains on one process", a->name);
		return NULL;
	}
	if (!(x->share ? x->share->nnz : x->m.nnz)) {
		err_set(e, "no interactions to train on");
		return NULL;
	}
	if (init && init->algo != a) {
		err_set(e, "the --init model is %s, not %s", init->algo->name, a->name);
		return NULL;
	}
	struct cf_fit f = {0};
	f.x = x;
	f.init = init;
	f.p = p;
	f.ap = ap;
	f.threads = threads > 0 ? threads : 1;
	f.quiet = quiet;
	f.seed = seed;
	progress_init(&f.pr, quiet);
	struct model_writer *w = mw_new();
	json_object *settings = json_object_new_object();
	json_object_object_add(settings, "seed", json_object_new_int64((int64_t)seed));
	double t0 = now_sec();
	int rc = a->train(&f, w, settings);
	progress_done(&f.pr);
	if (st) {
		st->fit = now_sec() - t0;
		st->per_iteration = f.per_iteration;
	}
	if (rc) {
		err_set(e, "%s", f.err);
		json_object_put(settings);
		mw_free(w);
		return NULL;
	}
	const struct ix_csr *m = &x->m;
	add_names(w, "users", x->users);
	add_names(w, "items", x->items);
	mw_add(w, "seen.off", m->off, ((size_t)m->rows + 1) * 8);
	mw_add(w, "seen.item", m->idx, (size_t)m->nnz * 4);
	mw_add(w, "seen.w", m->w, (size_t)m->nnz * 4);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string("recommender"));
	json_object_object_add(o, "format", json_object_new_int(CF_FORMAT));
	json_object_object_add(o, "algo", json_object_new_string(a->name));
	json_object_object_add(o, "users", json_object_new_int64(m->rows));
	json_object_object_add(o, "items", json_object_new_int64(m->cols));
	json_object_object_add(o, "interactions", json_object_new_int64((int64_t)m->nnz));
	json_object_object_add(o, "records", json_object_new_int64((int64_t)(x->nrec + (init ? init->nrec : 0))));
	json_object_object_add(o, "settings", settings);
	json_object_object_add(o, "pea", json_object_new_string(pea_version()));
	const char *js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	mw_add(w, "meta", js, strlen(js));
	json_object_put(o);
	return w;
}

struct ix *cf_union(struct cfm *const *in, int n, int threads)
{
	struct strtab *users = st_new(), *items = st_new();
	uint64_t total = 0, nrec = 0;
	for (int k = 0; k < n; k++) {
		total += in[k]->nnz;
		nrec += in[k]->nrec;
	}
	uint32_t *u = xmalloc(xmul(total ? total : 1, 4)), *i = xmalloc(xmul(total ? total : 1, 4));
	float *w = xmalloc(xmul(total ? total : 1, 4));
	uint64_t at = 0;
	for (int k = 0; k < n; k++) {
		const struct cfm *m = in[k];
		uint32_t *imap = xmalloc(xmul((size_t)m->nitems + 1, 4));
		for (uint32_t j = 0; j < m->nitems; j++) {
			size_t len;
			const char *s = ntab_name(&m->items, j, &len);
			imap[j] = st_intern(items, s, len);
		}
		for (uint32_t a = 0; a < m->nusers; a++) {
			size_t len;
			const char *s = ntab_name(&m->users, a, &len);
			uint32_t id = st_intern(users, s, len);
			for (uint64_t q = m->soff[a]; q < m->soff[a + 1]; q++, at++) {
				u[at] = id;
				i[at] = imap[m->sidx[q]];
				w[at] = m->sw[q];
			}
		}
		free(imap);
	}
	struct ix *x = ix_from_pairs(users, items, u, i, w, total, threads);
	x->nrec = nrec;
	free(u);
	free(i);
	free(w);
	return x;
}

void cf_base(const struct cfm *m, struct ix_base *b)
{
	b->users = &m->users;
	b->items = &m->items;
	b->off = m->soff;
	b->idx = m->sidx;
	b->w = m->sw;
}

/* the settings as text without the seed (which does not matter to the
 * algorithms that merge) */
static char *settings_key(const struct cfm *m)
{
	json_object *c = NULL;
	if (m->settings)
		json_object_deep_copy(m->settings, &c, NULL);
	else
		c = json_object_new_object();
	json_object_object_del(c, "seed");
	char *s = xstrdup(json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN));
	json_object_put(c);
	return s;
}

struct model_writer *cf_merge(struct cfm *const *in, int n, int threads, int quiet, struct pea_err *e)
{
	const struct cfm *a = in[0];
	if (!a->algo->mergeable) {
		err_set(e, "%s models do not merge (factors of separate runs do not line up): train on the union, "
			   "or continue one model with --init", a->algo->name);
		return NULL;
	}
	char *key = settings_key(a);
	for (int i = 1; i < n; i++) {
		char *k = in[i]->algo == a->algo ? settings_key(in[i]) : NULL;
		int same = k && !strcmp(k, key);
		free(k);
		if (!same) {
			err_set(e, in[i]->algo != a->algo ? "model %d is %s, model 1 is %s"
							  : "model %d was trained with other settings than model 1",
				i + 1, in[i]->algo->name, a->algo->name);
			free(key);
			return NULL;
		}
	}
	free(key);
	/* the first model's settings, as options */
	struct cf_params p = CF_PARAMS_INIT;
	struct algo_params ap = ALGO_PARAMS_INIT;
	json_object *v;
	p.neighbours = (int64_t)cf_setting(a, "neighbours", 0);
	p.max_items = (int64_t)cf_setting(a, "max-items", 0);
	p.reg = cf_setting(a, "reg", NAN);
	if (a->settings && json_object_object_get_ex(a->settings, "weighting", &v) &&
	    json_object_is_type(v, json_type_string))
		p.weighting = json_object_get_string(v);
	struct ix *x = cf_union(in, n, threads);
	struct model_writer *w = cf_train(a->algo, x, NULL, &p, &ap, threads, quiet,
					  (uint64_t)cf_setting(a, "seed", 1), NULL, e);
	ix_free(x);
	return w;
}

/* ------------------------------------------------------------ models */

const void *cf_section(const struct cfm *m, const char *name, size_t n, struct pea_err *e)
{
	size_t got;
	const void *p = model_section(m->file, name, &got);
	if (!p) {
		err_set(e, "the model has no '%s' section", name);
		return NULL;
	}
	if (got != n) {
		err_set(e, "the model's '%s' section has %zu bytes, not %zu", name, got, n);
		return NULL;
	}
	return p;
}

double cf_setting(const struct cfm *m, const char *name, double def)
{
	json_object *v;
	if (!m->settings || !json_object_object_get_ex(m->settings, name, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return def;
	return json_object_get_double(v);
}

static json_object *get(json_object *o, const char *k, json_type t)
{
	json_object *v;
	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

static json_object *parse_meta(const struct model *file, struct pea_err *e)
{
	size_t n;
	const char *p = model_section(file, "meta", &n);
	if (!p) {
		err_set(e, "the model has no meta section");
		return NULL;
	}
	if (n > MAX_META) {
		err_set(e, "the model's meta section is too large");
		return NULL;
	}
	json_tokener *tok = json_tokener_new();
	json_object *o = json_tokener_parse_ex(tok, p, (int)n);
	int bad = !o || json_tokener_get_error(tok) != json_tokener_success ||
		  (size_t)json_tokener_get_parse_end(tok) != n || !json_object_is_type(o, json_type_object);
	json_tokener_free(tok);
	if (bad) {
		json_object_put(o);
		err_set(e, "the model's meta section is not a JSON object");
		return NULL;
	}
	return o;
}

static int load(struct cfm *m, struct pea_err *e)
{
	json_object *o = parse_meta(m->file, e), *v;
	if (!o)
		return -1;
	int rc = -1;
	if (!(v = get(o, "kind", json_type_string))) {
		err_set(e, "the model's meta has no kind");
		goto out;
	}
	if (strcmp(json_object_get_string(v), "recommender")) {
		err_set(e, "a %.64s model, not a recommender", json_object_get_string(v));
		goto out;
	}
	if (!(v = get(o, "format", json_type_int)) || json_object_get_int64(v) < 1 ||
	    json_object_get_int64(v) > CF_FORMAT) {
		err_set(e, "recommender format %lld is not one this pea reads (1 to %d)",
			v ? (long long)json_object_get_int64(v) : 0LL, CF_FORMAT);
		goto out;
	}
	if (!(v = get(o, "algo", json_type_string)) || !(m->algo = cf_find(json_object_get_string(v)))) {
		err_set(e, "unknown recommender '%.64s' (this pea knows %s)", v ? json_object_get_string(v) : "",
			cf_names());
		goto out;
	}
	json_object *nu = get(o, "users", json_type_int), *ni = get(o, "items", json_type_int),
		    *nz = get(o, "interactions", json_type_int), *nr = get(o, "records", json_type_int);
	if (!nu || !ni || !nz || !nr || json_object_get_int64(nu) < 0 || json_object_get_int64(nu) >= UINT32_MAX ||
	    json_object_get_int64(ni) < 0 || json_object_get_int64(ni) >= UINT32_MAX ||
	    json_object_get_int64(nz) < 0 || json_object_get_int64(nr) < 0) {
		err_set(e, "the model's meta lacks sane users, items, interactions or records");
		goto out;
	}
	m->nusers = (uint32_t)json_object_get_int64(nu);
	m->nitems = (uint32_t)json_object_get_int64(ni);
	m->nnz = (uint64_t)json_object_get_int64(nz);
	m->nrec = (uint64_t)json_object_get_int64(nr);
	if ((v = get(o, "settings", json_type_object)))
		m->settings = json_object_get(v);
	size_t n;
	const void *p;
	if (!(p = model_section(m->file, "users", &n)) || ntab_open(&m->users, p, n, e) ||
	    !(p = model_section(m->file, "items", &n)) || ntab_open(&m->items, p, n, e)) {
		if (!p)
			err_set(e, "the model has no user or item names");
		goto out;
	}
	if (m->users.n != m->nusers || m->items.n != m->nitems) {
		err_set(e, "the model's name tables do not match its meta");
		goto out;
	}
	if (m->nnz > SIZE_MAX / 8 || !(m->soff = cf_section(m, "seen.off", ((size_t)m->nusers + 1) * 8, e)) ||
	    !(m->sidx = cf_section(m, "seen.item", (size_t)m->nnz * 4, e)) ||
	    !(m->sw = cf_section(m, "seen.w", (size_t)m->nnz * 4, e)))
		goto out;
	if (ix_csr_check(m->soff, m->sidx, m->sw, m->nusers, m->nitems, m->nnz, e))
		goto out;
	rc = m->algo->load(m, e);
out:
	json_object_put(o);
	return rc;
}

static struct cfm *from_file(struct model *file, struct pea_err *e)
{
	if (!file)
		return NULL;
	struct cfm *m = xcalloc(1, sizeof *m);
	m->file = file;
	if (load(m, e)) {
		cf_close(m);
		return NULL;
	}
	return m;
}

struct cfm *cf_open(const char *path, struct pea_err *e)
{
	return from_file(msrc_open(path, e), e);
}

struct cfm *cf_from_bytes(const void *p, size_t n, struct pea_err *e)
{
	return from_file(model_from_bytes(p, n, e), e);
}

void cf_close(struct cfm *m)
{
	if (!m)
		return;
	if (m->algo && m->algo->release && m->st)
		m->algo->release(m);
	json_object_put(m->settings);
	model_close(m->file);
	free(m);
}

int cf_is_recommender(const char *path)
{
	struct pea_err e;
	struct model *f = msrc_open(path, &e);
	if (!f)
		return 0;
	json_object *o = parse_meta(f, &e), *v;
	int yes = o && (v = get(o, "kind", json_type_string)) && !strcmp(json_object_get_string(v), "recommender");
	json_object_put(o);
	model_close(f);
	return yes;
}

void cf_show(const struct cfm *m, FILE *out)
{
	struct pea_err e;
	json_object *o = parse_meta(m->file, &e);
	fprintf(out, "%s\n", o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED)
			       : "{}");
	json_object_put(o);
	fprintf(out, "digest %s\n", model_digest(m->file));
	/* the items most users have */
	uint32_t *deg = xcalloc((size_t)m->nitems + 1, 4);
	for (uint64_t k = 0; k < m->nnz; k++)
		deg[m->sidx[k]]++;
	float *s = xmalloc(xmul((size_t)m->nitems + 1, 4));
	for (uint32_t i = 0; i < m->nitems; i++)
		s[i] = (float)deg[i];
	uint32_t ids[20];
	float vals[20];
	int n = cf_top(s, m->nitems, 20, ids, vals);
	fprintf(out, "\nitems with the most users:\n");
	for (int j = 0; j < n; j++) {
		size_t len;
		const char *name = ntab_name(&m->items, ids[j], &len);
		fprintf(out, "  %10.0f  %.*s\n", (double)vals[j], (int)len, name);
	}
	free(s);
	free(deg);
}

/* ------------------------------------------------------------ top k */

/* a worse than b: a lower score, or an equal one with a higher id */
static inline int worse(float sa, uint32_t ia, float sb, uint32_t ib)
{
	return sa < sb || (sa == sb && ia > ib);
}

static void sift_down(uint32_t *ids, float *vals, int n, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && worse(vals[l], ids[l], vals[m], ids[m]))
			m = l;
		if (r < n && worse(vals[r], ids[r], vals[m], ids[m]))
			m = r;
		if (m == i)
			return;
		uint32_t ti = ids[i];
		float tv = vals[i];
		ids[i] = ids[m];
		vals[i] = vals[m];
		ids[m] = ti;
		vals[m] = tv;
		i = m;
	}
}

static void heap_add(uint32_t *ids, float *vals, int *h, int k, uint32_t i, float v)
{
	if (*h < k) {
		int c = (*h)++;
		ids[c] = i;
		vals[c] = v;
		while (c > 0 && worse(vals[c], ids[c], vals[(c - 1) / 2], ids[(c - 1) / 2])) {
			int p = (c - 1) / 2;
			uint32_t ti = ids[c];
			float tv = vals[c];
			ids[c] = ids[p];
			vals[c] = vals[p];
			ids[p] = ti;
			vals[p] = tv;
			c = p;
		}
	} else if (worse(vals[0], ids[0], v, i)) {
		ids[0] = i;
		vals[0] = v;
		sift_down(ids, vals, *h, 0);
	}
}

int cf_top(const float *s, uint32_t n, int k, uint32_t *ids, float *vals)
{
	int h = 0;
	if (k <= 0)
		return 0;
	/* a min-heap of the k best so far, its root the one to beat; once it
	 * is full, blocks of 16 scores none of which reaches the root are
	 * passed over with one vector compare */
	uint32_t i = 0;
	for (; i + 16 <= n; i += 16) {
		if (h == k) {
			float thr = vals[0];
			int any = 0;
			for (int l = 0; l < 16; l++)
				any |= s[i + l] >= thr;
			if (!any)
				continue;
		}
		for (uint32_t j = i; j < i + 16; j++)
			if (s[j] > -INFINITY)
				heap_add(ids, vals, &h, k, j, s[j]);
	}
	for (; i < n; i++)
		if (s[i] > -INFINITY)
			heap_add(ids, vals, &h, k, i, s[i]);
	/* pop the worst to the end: best first */
	for (int m = h; m > 1; m--) {
		uint32_t ti = ids[0];
		float tv = vals[0];
		ids[0] = ids[m - 1];
		vals[0] = vals[m - 1];
		ids[m - 1] = ti;
		vals[m - 1] = tv;
		sift_down(ids, vals, m - 1, 0);
	}
	return h;
}

/* ------------------------------------------------------------ recommending */

struct cf_thread {
	float *s;
	size_t scap;
	uint32_t *rid; /* per record of the frame: k ids, k scores, how many */
	float *rval;
	int *rn;
	size_t rcap;
	struct cf_query *q;
	size_t qcap;
	uint32_t *hist;
	float *hw;
	uint64_t *hoff;
	size_t hcap, hn;
	uint8_t *skip;
	size_t nskip;
	float *contrib;
	size_t ccap;
	struct buf js;
};

struct cf_rec {
	const struct cfm *m;
	struct cf_rec_opts o;
	int threads;
	struct cf_thread *th;
	uint64_t unknown;
};

struct cf_rec *cf_rec_new(const struct cfm *m, const struct cf_rec_opts *o, int threads)
{
	struct cf_rec *r = xcalloc(1, sizeof *r);
	r->m = m;
	r->o = *o;
	if (!r->o.user)
		r->o.user = "user";
	if (!r->o.history)
		r->o.history = "history";
	r->threads = threads > 0 ? threads : 1;
	r->th = xcalloc((size_t)r->threads, sizeof *r->th);
	for (int i = 0; i < r->threads; i++)
		buf_init(&r->th[i].js, 0);
	return r;
}

void cf_rec_set_model(struct cf_rec *r, const struct cfm *m)
{
	r->m = m;
}

void cf_rec_free(struct cf_rec *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->threads; i++) {
		struct cf_thread *t = &r->th[i];
		free(t->s);
		free(t->rid);
		free(t->rval);
		free(t->rn);
		free(t->q);
		free(t->hist);
		free(t->hw);
		free(t->hoff);
		free(t->skip);
		free(t->contrib);
		buf_release(&t->js);
	}
	free(r->th);
	free(r);
}

uint64_t cf_rec_unknown(const struct cf_rec *r)
{
	return __atomic_load_n(&r->unknown, __ATOMIC_RELAXED);
}

static void hist_room(struct cf_thread *t, size_t extra)
{
	if (t->hn + extra <= t->hcap)
		return;
	t->hcap = (t->hn + extra) * 2;
	t->hist = xrealloc(t->hist, xmul(t->hcap, 4));
	t->hw = xrealloc(t->hw, xmul(t->hcap, 4));
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* the record's history as sorted, distinct model ids (a repeat adds 1 to
 * the weight) appended to t->hist; returns how many, or -1 */
static int64_t parse_history(struct cf_rec *r, struct cf_thread *t, struct pmap_task *task, uint32_t rec,
			     const pea_val *h)
{
	const struct cfm *m = r->m;
	if (h->type != PEA_STRLIST)
		return pmap_fail(task, rec, "field '%s' is %s, not a list of items", r->o.history,
				 pea_type_name(h->type));
	if (!h->n)
		return pmap_fail(task, rec, "the history is empty (leave the field out to use the model's)");
	hist_room(t, h->n);
	uint32_t *ids = t->hist + t->hn, n = 0;
	uint64_t unknown = 0;
	struct val_iter it;
	val_iter_init(&it, h);
	while (val_iter_next(&it)) {
		int64_t id = ntab_find(&m->items, it.s, it.len);
		if (id < 0)
			unknown++;
		else
			ids[n++] = (uint32_t)id;
	}
	if (unknown)
		__atomic_add_fetch(&r->unknown, unknown, __ATOMIC_RELAXED);
	if (!n)
		return pmap_fail(task, rec, "none of the %u history items is in the model", h->n);
	qsort(ids, n, 4, cmp_u32);
	float *w = t->hw + t->hn;
	uint32_t k = 0;
	for (uint32_t a = 0; a < n; a++) {
		if (k && ids[k - 1] == ids[a]) {
			w[k - 1] += 1;
			continue;
		}
		ids[k] = ids[a];
		w[k++] = 1;
	}
	t->hn += k;
	return k;
}

/* -INFINITY on the items of the sorted list */
static void mask(float *s, const uint32_t *ids, uint64_t n)
{
	for (uint64_t j = 0; j < n; j++)
		s[ids[j]] = -INFINITY;
}

static void put_because(struct cf_rec *r, struct cf_thread *t, const struct cf_query *q, const uint32_t *ids, int n,
			pea_fb *out, int fid)
{
	const struct cfm *m = r->m;
	struct buf *b = &t->js;
	buf_reset(b);
	buf_addc(b, '[');
	size_t need = (size_t)n * q->nh;
	if (need > t->ccap) {
		t->ccap = need;
		t->contrib = xrealloc(t->contrib, xmul(need, 4));
	}
	if (m->algo->explain && q->nh)
		m->algo->explain(m, q, ids, n, t->contrib);
	for (int j = 0; j < n; j++) {
		buf_adds(b, j ? ",[" : "[");
		if (m->algo->explain && q->nh) {
			const float *c = t->contrib + (size_t)j * q->nh;
			uint32_t best[EXPLAIN_TOP];
			int nb = 0;
			/* the EXPLAIN_TOP largest positive contributions, largest first */
			for (uint32_t h = 0; h < q->nh; h++) {
				if (!(c[h] > 0))
					continue;
				int at = nb < EXPLAIN_TOP ? nb++ : EXPLAIN_TOP;
				while (at > 0 && (c[best[at - 1]] < c[h])) {
					if (at < EXPLAIN_TOP)
						best[at] = best[at - 1];
					at--;
				}
				if (at < EXPLAIN_TOP)
					best[at] = h;
			}
			for (int x = 0; x < nb; x++) {
				size_t len;
				const char *name = ntab_name(&m->items, q->hist[best[x]], &len);
				if (x)
					buf_addc(b, ',');
				json_quote(b, name, len);
			}
		}
		buf_addc(b, ']');
	}
	buf_addc(b, ']');
	fb_json(out, fid, (const char *)b->p, b->len);
}

int cf_rec_frame(void *arg, struct pmap_task *task, const pea_frame *in, pea_fb *out)
{
	struct cf_rec *r = arg;
	const struct cfm *m = r->m;
	struct cf_thread *t = &r->th[pmap_thread(task)];
	uint32_t nrec = frame_nrec(in), nf = frame_nfields(in);
	int fu = frame_field(in, r->o.user), fh = frame_field(in, r->o.history);
	if (nf > t->nskip) {
		t->nskip = nf;
		t->skip = xrealloc(t->skip, nf);
	}
	for (uint32_t i = 0; i < nf; i++) {
		const char *name = frame_fdef(in, i)->name;
		t->skip[i] = !strcmp(name, "recs") || !strcmp(name, "scores") || !strcmp(name, "because");
	}
	if (nrec > t->qcap) {
		t->qcap = nrec;
		t->q = xrealloc(t->q, xmul(nrec, sizeof *t->q));
		t->hoff = xrealloc(t->hoff, xmul(nrec, 8));
	}
	/* every record's query first: an error stops the frame before output */
	t->hn = 0;
	for (uint32_t i = 0; i < nrec; i++) {
		struct cf_query *q = &t->q[i];
		const pea_val *u = fu >= 0 ? frame_get(in, i, fu) : NULL, *h = fh >= 0 ? frame_get(in, i, fh) : NULL;
		q->user = -1;
		q->fold = h != NULL;
		t->hoff[i] = t->hn;
		if (u) {
			char num[32];
			const char *s;
			size_t len;
			if (ix_name(u, num, &s, &len))
				return pmap_fail(task, i, "field '%s' is %s, not a string", r->o.user,
						 pea_type_name(u->type));
			q->user = ntab_find(&m->users, s, len);
			if (q->user < 0 && !h)
				return pmap_fail(task, i, "user '%.*s' is not in the model and the record has no %s",
						 (int)(len > 200 ? 200 : len), s, r->o.history);
		} else if (!h) {
			return pmap_fail(task, i, "no '%s' or '%s' field", r->o.user, r->o.history);
		}
		if (h) {
			int64_t n = parse_history(r, t, task, i, h);
			if (n < 0)
				return -1;
			q->nh = (uint32_t)n;
		} else {
			uint32_t uid = (uint32_t)q->user;
			q->nh = (uint32_t)(m->soff[uid + 1] - m->soff[uid]);
		}
	}
	for (uint32_t i = 0; i < nrec; i++) {
		struct cf_query *q = &t->q[i];
		if (q->fold) {
			q->hist = t->hist + t->hoff[i];
			q->hw = t->hw + t->hoff[i];
		} else {
			q->hist = m->sidx + m->soff[q->user];
			q->hw = m->sw + m->soff[q->user];
		}
	}
	size_t ni = m->nitems ? m->nitems : 1;
	int batch = (int)(BATCH_BYTES / (ni * 4));
	batch = batch < 1 ? 1 : batch > BATCH_MAX ? BATCH_MAX : batch;
	size_t k = (size_t)r->o.k;
	if (nrec > t->rcap) {
		t->rcap = nrec;
		t->rid = xrealloc(t->rid, xmul(xmul(nrec, k), 4));
		t->rval = xrealloc(t->rval, xmul(xmul(nrec, k), 4));
		t->rn = xrealloc(t->rn, xmul(nrec, sizeof *t->rn));
	}
	/* Score and rank in batches, a frame of several batches on every
	 * core.  Each record's result depends on it alone, so the output is
	 * the same either way.  pmap's workers are threads of their own (not
	 * an OpenMP team), so omp_in_parallel() cannot say whether other frames
	 * are being scored beside this one: the inner team's threads score
	 * into buffers of this call, never into another worker's cf_thread. */
	uint32_t nbatch = (nrec + (uint32_t)batch - 1) / (uint32_t)batch;
	int inner = omp_in_parallel() || nbatch < 2 ? 1 : r->threads;
	if ((size_t)batch * ni > t->scap) {
		t->scap = (size_t)batch * ni;
		free(t->s);
		t->s = xmalloc(xmul(t->scap, 4));
	}
#pragma omp parallel num_threads(inner)
	{
		float *own = omp_get_thread_num() ? xmalloc(xmul((size_t)batch * ni, 4)) : t->s;
#pragma omp for schedule(dynamic, 1)
		for (uint32_t bi = 0; bi < nbatch; bi++) {
			uint32_t b0 = bi * (uint32_t)batch;
			int nb = nrec - b0 < (uint32_t)batch ? (int)(nrec - b0) : batch;
			m->algo->score(m, t->q + b0, nb, own);
			for (int j = 0; j < nb; j++) {
				const struct cf_query *q = &t->q[b0 + j];
				float *s = own + (size_t)j * m->nitems;
				if (!r->o.include_seen) {
					if (q->fold)
						mask(s, q->hist, q->nh);
					if (q->user >= 0)
						mask(s, m->sidx + m->soff[q->user], m->soff[q->user + 1] - m->soff[q->user]);
				}
				size_t at = (size_t)(b0 + (uint32_t)j) * k;
				t->rn[b0 + j] = cf_top(s, m->nitems, (int)k, t->rid + at, t->rval + at);
			}
		}
		if (own != t->s)
			free(own);
	}
	int frecs = fb_xfield(out, "recs", PEA_STRLIST), fscores = fb_xfield(out, "scores", PEA_DENSE);
	int fbec = r->o.explain ? fb_xfield(out, "because", PEA_JSON) : -1;
	for (uint32_t i = 0; i < nrec; i++) {
		const uint32_t *ids = t->rid + (size_t)i * k;
		int n = t->rn[i];
		fb_begin(out);
		if (fb_copy_rec(out, in, i, t->skip) < 0)
			return pmap_fail(task, i, "internal error: type clash");
		fb_list_begin(out, frecs, PEA_STRLIST);
		for (int x = 0; x < n; x++) {
			size_t len;
			const char *name = ntab_name(&m->items, ids[x], &len);
			fb_list_str(out, name, len);
		}
		fb_list_end(out);
		fb_dense(out, fscores, t->rval + (size_t)i * k, (uint32_t)n);
		if (fbec >= 0)
			put_because(r, t, &t->q[i], ids, n, out, fbec);
		fb_end(out);
	}
	return 0;
}

int cf_similar_record(const struct cfm *m, const char *item, int64_t k, pea_fb *fb, struct pea_err *e)
{
	if (!m->algo->similar) {
		err_set(e, "a %s model has no item similarity", m->algo->name);
		return -1;
	}
	int64_t id = ntab_find(&m->items, item, strlen(item));
	if (id < 0) {
		err_set(e, "item '%s' is not in the model", item);
		return -1;
	}
	if (k > MAX_K)
		k = MAX_K;
	float *s = xmalloc(xmul((size_t)m->nitems + 1, 4));
	uint32_t *ids = xmalloc(xmul((size_t)k + 1, 4));
	float *vals = xmalloc(xmul((size_t)k + 1, 4));
	m->algo->similar(m, (uint32_t)id, s);
	s[id] = -INFINITY;
	int n = cf_top(s, m->nitems, (int)k, ids, vals);
	fb_begin(fb);
	fb_str(fb, fb_xfield(fb, "item", PEA_STR), item, strlen(item));
	fb_list_begin(fb, fb_xfield(fb, "recs", PEA_STRLIST), PEA_STRLIST);
	for (int j = 0; j < n; j++) {
		size_t len;
		const char *name = ntab_name(&m->items, ids[j], &len);
		fb_list_str(fb, name, len);
	}
	fb_list_end(fb);
	fb_dense(fb, fb_xfield(fb, "scores", PEA_DENSE), vals, (uint32_t)n);
	fb_end(fb);
	free(s);
	free(ids);
	free(vals);
	return 0;
}
