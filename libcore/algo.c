/* algo.c - the registry of algorithms, and what every model shares: its
 * meta section (JSON), saving, loading with every field checked, merging
 * and --show.
 *
 * The meta is validated as hostile input even though the digest matched:
 * a digest proves the file is what its writer wrote, not that its writer
 * was pea. */
#include "algo.h"
#include "afile.h"
#include "msrc.h"
#include "vec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <json-c/json.h>

extern const struct algo algo_nb, algo_logreg, algo_svm, algo_mlp, algo_cnn;
static const struct algo *const registry[] = {&algo_nb, &algo_logreg, &algo_svm, &algo_mlp, &algo_cnn};

#define MAX_META (64u << 20)
/* the version of the meta's fields and of the algorithms' sections */
#define AM_FORMAT 1
#define MAX_MODEL_LABELS (1u << 20)

const struct algo *algo_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(registry); i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

const char *algo_names(void)
{
	static char s[256];
	if (!s[0])
		for (size_t i = 0; i < ARRAY_SIZE(registry); i++) {
			if (i)
				strcat(s, ", ");
			strcat(s, registry[i]->name);
		}
	return s;
}

int algo_check_params(struct fit *f, const char *algo, const char *allowed)
{
	const struct algo_params *p = f->p;
	const struct {
		const char *name;
		int set;
	} given[] = {
		{"lr", !isnan(p->lr)},	     {"l1", !isnan(p->l1)},	  {"l2", !isnan(p->l2)},
		{"cost", !isnan(p->cost)},   {"alpha", !isnan(p->alpha)}, {"tol", !isnan(p->tol)},
		{"loss", p->loss != NULL},   {"schedule", p->schedule != NULL}, {"complement", p->complement},
		{"net", p->net != NULL},     {"optim", p->optim != NULL},	  {"shape", p->shape != NULL},
		{"momentum", !isnan(p->momentum)}, {"wd", !isnan(p->wd)},	  {"batch", p->batch != 0},
		{"augment", p->augment >= 0}, {"flip", p->flip},
	};
	for (size_t i = 0; i < ARRAY_SIZE(given); i++) {
		if (!given[i].set)
			continue;
		const char *a = allowed;
		size_t n = strlen(given[i].name);
		int ok = 0;
		while (a && *a && !ok) {
			size_t k = strcspn(a, ",");
			ok = k == n && !strncmp(a, given[i].name, n);
			a += k + (a[k] == ',');
		}
		if (!ok) {
			snprintf(f->err, sizeof f->err, "--%s means nothing to --algo %s", given[i].name, algo);
			return -1;
		}
	}
	return 0;
}

struct amodel *am_new(void)
{
	return xcalloc(1, sizeof(struct amodel));
}

void am_free(struct amodel *m)
{
	if (!m)
		return;
	if (m->algo && m->algo->release)
		m->algo->release(m);
	for (int i = 0; i < m->nlabels; i++)
		free(m->labels[i]);
	free(m->labels);
	free(m->fspace);
	free(m->thresholds);
	json_object_put(m->settings);
	model_close(m->file);
	free(m);
}

static struct model_writer *am_writer(const struct amodel *m)
{
	struct model_writer *w = mw_new();
	json_object *o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string("classifier"));
	json_object_object_add(o, "format", json_object_new_int(AM_FORMAT));
	json_object_object_add(o, "algo", json_object_new_string(m->algo->name));
	json_object *l = json_object_new_array();
	for (int i = 0; i < m->nlabels; i++)
		json_object_array_add(l, json_object_new_string(m->labels[i]));
	json_object_object_add(o, "labels", l);
	json_object_object_add(o, "multilabel", json_object_new_boolean(m->multilabel));
	json_object_object_add(o, "input", json_object_new_string(m->dense ? "dense" : "sparse"));
	json_object_object_add(o, "dim", json_object_new_int64(m->dim));
	if (m->fspace)
		json_object_object_add(o, "fspace", json_object_new_string(m->fspace));
	json_object_object_add(o, "records", json_object_new_int64((int64_t)m->nrec));
	if (m->thresholds) {
		json_object *t = json_object_new_array();
		for (int i = 0; i < m->nlabels; i++)
			json_object_array_add(t, json_object_new_double(m->thresholds[i]));
		json_object_object_add(o, "thresholds", t);
	}
	json_object_object_add(o, "settings", m->settings ? json_object_get(m->settings) : json_object_new_object());
	json_object_object_add(o, "pea", json_object_new_string(pea_version()));
	/* the algorithm's sections, and what it adds to the meta */
	m->algo->save(m, w, o);
	const char *js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	mw_add(w, "meta", js, strlen(js));
	json_object_put(o);
	return w;
}

void am_save(const struct amodel *m, const char *path)
{
	struct model_writer *w = am_writer(m);
	mw_write(w, path);
	mw_free(w);
}

void am_bytes(const struct amodel *m, uint8_t **p, size_t *n)
{
	struct model_writer *w = am_writer(m);
	mw_bytes(w, p, n);
	mw_free(w);
}

static json_object *get(json_object *o, const char *k, json_type t)
{
	json_object *v;
	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

static int load_meta(struct amodel *m, struct pea_err *e)
{
	size_t n;
	const char *p = model_section(m->file, "meta", &n);
	if (!p) {
		err_set(e, "the model has no meta section");
		return -1;
	}
	if (n > MAX_META) {
		err_set(e, "the model's meta section is too large");
		return -1;
	}
	json_tokener *tok = json_tokener_new();
	json_object *o = json_tokener_parse_ex(tok, p, (int)n);
	int bad = !o || json_tokener_get_error(tok) != json_tokener_success ||
		  (size_t)json_tokener_get_parse_end(tok) != n;
	json_tokener_free(tok);
	if (bad || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		err_set(e, "the model's meta section is not a JSON object");
		return -1;
	}
	int rc = -1;
	json_object *v;
	if (!(v = get(o, "kind", json_type_string))) {
		err_set(e, "the model's meta has no kind");
		goto out;
	}
	if (strcmp(json_object_get_string(v), "classifier")) {
		err_set(e, "a %.64s model, not a classifier", json_object_get_string(v));
		goto out;
	}
	if (!(v = get(o, "format", json_type_int)) || json_object_get_int64(v) < 1 ||
	    json_object_get_int64(v) > AM_FORMAT) {
		err_set(e, "classifier format %lld is not one this pea reads (1 to %d)",
			v ? (long long)json_object_get_int64(v) : 0LL, AM_FORMAT);
		goto out;
	}
	if (!(v = get(o, "algo", json_type_string)) || !(m->algo = algo_find(json_object_get_string(v)))) {
		err_set(e, "unknown algorithm '%.64s' (this pea knows %s)", v ? json_object_get_string(v) : "",
			algo_names());
		goto out;
	}
	json_object *l = get(o, "labels", json_type_array);
	size_t nl = l ? json_object_array_length(l) : 0;
	if (!nl || nl > MAX_MODEL_LABELS) {
		err_set(e, "the model's meta has no labels");
		goto out;
	}
	m->labels = xcalloc(nl, sizeof *m->labels);
	for (size_t i = 0; i < nl; i++) {
		json_object *s = json_object_array_get_idx(l, i);
		if (!json_object_is_type(s, json_type_string) || !json_object_get_string_len(s) ||
		    (i && strcmp(m->labels[i - 1], json_object_get_string(s)) >= 0)) {
			err_set(e, "the model's labels are not distinct sorted strings");
			goto out;
		}
		m->labels[i] = xstrdup(json_object_get_string(s));
		m->nlabels = (int)i + 1;
	}
	json_object *ml = get(o, "multilabel", json_type_boolean), *in = get(o, "input", json_type_string),
		    *dim = get(o, "dim", json_type_int), *rec = get(o, "records", json_type_int);
	if (!ml || !in || !dim || !rec || (strcmp(json_object_get_string(in), "sparse") &&
					   strcmp(json_object_get_string(in), "dense"))) {
		err_set(e, "the model's meta lacks multilabel, input, dim or records");
		goto out;
	}
	int64_t d = json_object_get_int64(dim), r = json_object_get_int64(rec);
	if (d < 0 || d > UINT32_MAX || r < 0) {
		err_set(e, "the model's meta has a bad dim or record count");
		goto out;
	}
	m->multilabel = json_object_get_boolean(ml);
	m->dense = !strcmp(json_object_get_string(in), "dense");
	m->dim = (uint32_t)d;
	m->nrec = (uint64_t)r;
	if ((v = get(o, "fspace", json_type_string)))
		m->fspace = xstrdup(json_object_get_string(v));
	if (m->multilabel) {
		json_object *t = get(o, "thresholds", json_type_array);
		if (!t || json_object_array_length(t) != nl) {
			err_set(e, "the model's meta has no thresholds for its %zu labels", nl);
			goto out;
		}
		m->thresholds = xcalloc(nl, sizeof *m->thresholds);
		for (size_t i = 0; i < nl; i++) {
			json_object *x = json_object_array_get_idx(t, i);
			if (!json_object_is_type(x, json_type_double) && !json_object_is_type(x, json_type_int)) {
				err_set(e, "the model's thresholds are not numbers");
				goto out;
			}
			m->thresholds[i] = json_object_get_double(x);
		}
	}
	if ((v = get(o, "settings", json_type_object)))
		m->settings = json_object_get(v);
	rc = m->algo->load(m, o, e);
out:
	json_object_put(o);
	return rc;
}

static struct amodel *am_from_file(struct model *file, struct pea_err *e)
{
	if (!file)
		return NULL;
	struct amodel *m = am_new();
	m->file = file;
	if (load_meta(m, e)) {
		am_free(m);
		return NULL;
	}
	return m;
}

struct amodel *am_open(const char *path, struct pea_err *e)
{
	return am_from_file(msrc_open(path, e), e);
}

struct amodel *am_from_bytes(const void *p, size_t n, struct pea_err *e)
{
	return am_from_file(model_from_bytes(p, n, e), e);
}

struct amodel *am_merge(struct amodel *const *in, int n, struct pea_err *e)
{
	const struct amodel *a = in[0];
	for (int i = 1; i < n; i++) {
		const struct amodel *b = in[i];
		if (b->algo != a->algo) {
			err_set(e, "model %d is %s, model 1 is %s", i + 1, b->algo->name, a->algo->name);
			return NULL;
		}
		if (b->multilabel != a->multilabel || b->dense != a->dense ||
		    (!a->fspace) != (!b->fspace) || (a->fspace && strcmp(a->fspace, b->fspace))) {
			err_set(e, "model %d has another feature space or label kind than model 1", i + 1);
			return NULL;
		}
		int same = b->nlabels == a->nlabels;
		for (int k = 0; same && k < a->nlabels; k++)
			same = !strcmp(a->labels[k], b->labels[k]);
		if (!same) {
			err_set(e, "model %d has other labels than model 1", i + 1);
			return NULL;
		}
	}
	struct amodel *m = am_new();
	m->algo = a->algo;
	m->nlabels = a->nlabels;
	m->labels = xcalloc((size_t)a->nlabels, sizeof *m->labels);
	for (int k = 0; k < a->nlabels; k++)
		m->labels[k] = xstrdup(a->labels[k]);
	m->multilabel = a->multilabel;
	m->dense = a->dense;
	m->fspace = a->fspace ? xstrdup(a->fspace) : NULL;
	for (int i = 0; i < n; i++) {
		m->nrec += in[i]->nrec;
		m->dim = in[i]->dim > m->dim ? in[i]->dim : m->dim;
	}
	if (a->thresholds) {
		/* per-label thresholds: the record-weighted mean */
		m->thresholds = xcalloc((size_t)a->nlabels, sizeof *m->thresholds);
		for (int i = 0; i < n; i++)
			for (int k = 0; k < a->nlabels; k++)
				m->thresholds[k] += in[i]->thresholds[k] *
						    (m->nrec ? (double)in[i]->nrec / (double)m->nrec : 1.0 / n);
	}
	m->settings = a->settings ? json_object_get(a->settings) : NULL;
	if (a->algo->merge(m, in, n, e)) {
		am_free(m);
		return NULL;
	}
	return m;
}

/* a token of a feature, with the weight it carries for a label */
struct named {
	float w;
	uint32_t idx;
	const char *name;
	uint32_t len;
};

static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	if (x->w != y->w)
		return x->w < y->w ? 1 : -1;
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

/* The names of a feature of weight w that pull towards the label (a token
 * hashed with sign -1 carries -w), appended to *v. */
static void add_named(const struct vec_names *names, uint32_t idx, float w, struct named **v, size_t *n,
		      size_t *cap)
{
	size_t len = 0;
	const char *p = vec_names_get(names, idx, &len), *end = p ? p + len : NULL;
	uint32_t ns = 0;
	const int8_t *sg = vec_names_signs(names, idx, &ns);
	for (uint32_t i = 0; p && p <= end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		float eff = sg && i < ns ? sg[i] * w : w;
		if (eff > 0) {
			if (*n == *cap) {
				*cap = *cap ? 2 * *cap : 64;
				*v = xrealloc(*v, *cap * sizeof **v);
			}
			(*v)[(*n)++] = (struct named){eff, idx, p, (uint32_t)(e - p)};
		}
		if (!nl)
			break;
		p = nl + 1;
	}
}

/* The k names that pull hardest towards a label, when the names carry
 * signs: a feature's weight counts for a token with its sign, so the
 * heaviest tokens come from the features heaviest either way.  Features
 * are taken in order of weight, more of them until no feature left out
 * could place a token among the k. */
static void show_signed(const struct amodel *m, const struct vec_names *names, int c, int k, FILE *out)
{
	struct named *v = NULL;
	size_t cap = 0, n = 0;
	int want = k;
	for (;;) {
		uint32_t *idx = xcalloc((size_t)want, sizeof *idx);
		float *w = xcalloc((size_t)want, sizeof *w);
		float edge[2] = {0, 0};
		int full[2] = {0, 0};
		n = 0;
		for (int d = 0; d < 2; d++) {
			int got = m->algo->top(m, c, d ? -1 : 1, want, idx, w);
			full[d] = got == want;
			edge[d] = got ? w[got - 1] : 0;
			for (int i = 0; i < got; i++)
				add_named(names, idx[i], d ? -w[i] : w[i], &v, &n, &cap);
		}
		free(idx);
		free(w);
		qsort(v, n, sizeof *v, cmp_named);
		/* a feature not fetched weighs at most edge[d] either way */
		float kth = n >= (size_t)k ? v[k - 1].w : 0;
		if ((!full[0] || edge[0] <= kth) && (!full[1] || edge[1] <= kth))
			break;
		if ((uint64_t)want >= m->dim)
			break; /* every feature was seen */
		if ((uint64_t)want * 4 > m->dim + 4)
			want = (int)(m->dim < INT32_MAX ? m->dim : INT32_MAX);
		else
			want *= 4;
	}
	for (size_t i = 0; i < n && i < (size_t)k; i++)
		fprintf(out, "  %10.4f  %10u  %.*s\n", (double)v[i].w, v[i].idx, (int)v[i].len, v[i].name);
	free(v);
}

void am_show(const struct amodel *m, const struct vec_names *names, int k, FILE *out)
{
	size_t n;
	const char *meta = model_section(m->file, "meta", &n);
	char *text = meta ? xstrndup(meta, n) : xstrdup("{}");
	json_object *o = json_tokener_parse(text);
	free(text);
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
	json_object_put(o);
	fprintf(out, "digest %s\n", model_digest(m->file));
	uint32_t *idx = xcalloc((size_t)k + 1, sizeof *idx);
	float *w = xcalloc((size_t)k + 1, sizeof *w);
	for (int c = 0; c < m->nlabels; c++) {
		fprintf(out, "\ntop features of '%s':\n", m->labels[c]);
		if (names && vec_names_signed(names)) {
			if (k > 0)
				show_signed(m, names, c, k, out);
			continue;
		}
		int got = m->algo->top(m, c, 1, k, idx, w);
		for (int i = 0; i < got; i++) {
			size_t len = 0;
			const char *name = names ? vec_names_get(names, idx[i], &len) : NULL;
			fprintf(out, "  %10.4f  %10u  ", (double)w[i], idx[i]);
			for (size_t k = 0; k < len; k++)
				fputs(name[k] == '\n' ? " | " : (char[]){name[k], 0}, out);
			fputc('\n', out);
		}
	}
	free(idx);
	free(w);
}
