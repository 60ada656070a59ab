/* vec.c - see vec.h.
 *
 * A record becomes a list of 64-bit keys (feature index << 32 | sign), one
 * per token; a radix sort on the index bits groups equal features, and one
 * pass over the runs weights them.  This keeps the per-record cost linear
 * in its tokens and independent of the feature-space size, with no per-
 * thread array of 2^bits counters to clear.  Fitting and feature names use
 * per-thread term tables merged at the end, and document frequencies for
 * hashing are one shared array of atomic counters. */
#include "vec.h"
#include "hash.h"
#include "model.h"
#include "msrc.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the seed of numeric feature names in the hashed space ("pea-num") */
#define NUM_SEED 0x7065612d6e756dull
/* the layout of the vectorizer and feature-names files ("format" in meta) */
#define VEC_FORMAT 1
/* the namespace tag of numeric features in term tables */
#define NS_NUMERIC 255
/* distinct terms a table may hold: past it fitting fails */
#define TT_MAX (1u << 26)
/* distinct tokens a thread records names of (about 1 GiB) */
#define NAMES_MAX (1u << 24)

/* ------------------------------------------------------------ sorting */

/* Sort keys by bits [32, 32 + bits): least significant digit first, in two
 * passes of up to 11 bits (three past 22 bits), the counts of every digit
 * gathered in one pass; tiny inputs by insertion. */
static void sort_keys(uint64_t *a, uint64_t *tmp, size_t n, int bits)
{
	if (n < 64) {
		for (size_t i = 1; i < n; i++) {
			uint64_t x = a[i];
			size_t j = i;
			while (j && (a[j - 1] >> 32) > (x >> 32)) {
				a[j] = a[j - 1];
				j--;
			}
			a[j] = x;
		}
		return;
	}
	int passes = bits <= 22 ? 2 : 3, d = (bits + passes - 1) / passes;
	uint32_t cnt[3 << 11], mask = (1u << d) - 1, *c0 = cnt, *c1 = cnt + mask + 1, *c2 = c1 + mask + 1;
	memset(cnt, 0, sizeof *cnt * ((size_t)passes << d));
	if (passes == 2) {
		for (size_t i = 0; i < n; i++) {
			uint32_t k = (uint32_t)(a[i] >> 32);
			c0[k & mask]++;
			c1[(k >> d) & mask]++;
		}
	} else {
		for (size_t i = 0; i < n; i++) {
			uint32_t k = (uint32_t)(a[i] >> 32);
			c0[k & mask]++;
			c1[(k >> d) & mask]++;
			c2[(k >> 2 * d) & mask]++;
		}
	}
	uint64_t *src = a, *dst = tmp;
	for (int p = 0; p < passes; p++) {
		uint32_t *c = cnt + ((size_t)p << d), sum = 0;
		int shift = 32 + p * d;
		/* a digit every key shares moves nothing */
		if (c[(a[0] >> shift) & mask] == n)
			continue;
		for (uint32_t k = 0; k <= mask; k++) {
			uint32_t x = c[k];
			c[k] = sum;
			sum += x;
		}
		for (size_t i = 0; i < n; i++)
			dst[c[(src[i] >> shift) & mask]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof *a);
}

static int bits_for(uint64_t n)
{
	int b = 1;
	while (b < 32 && (1ull << b) < n)
		b++;
	return b;
}

/* ---------------------------------------------------------- term table */

struct tent {
	uint64_t h;
	uint64_t cf;	/* occurrences */
	uint32_t off, len; /* bytes in the table's string buffer */
	uint32_t df;	/* documents */
	uint32_t last;	/* the last document counted in df, + 1 */
	uint32_t idx;	/* names: the feature */
	uint8_t ns;
};

/* An open-addressing table of (namespace, term) with counts.  slot[i] holds
 * an entry number + 1 (0 = empty); load stays under one half. */
struct ttab {
	uint32_t *slot;
	uint32_t mask;
	struct tent *e;
	uint32_t n, cap;
	struct buf str;
	uint32_t max; /* entries allowed */
	int full;
};

static void tt_init(struct ttab *t)
{
	memset(t, 0, sizeof *t);
	t->mask = 1023;
	t->slot = xcalloc(1024, sizeof *t->slot);
	t->max = TT_MAX;
	buf_init(&t->str, 0);
}

static void tt_release(struct ttab *t)
{
	free(t->slot);
	free(t->e);
	buf_release(&t->str);
}

static void tt_grow(struct ttab *t)
{
	uint32_t cap = 2 * (t->mask + 1);
	uint32_t *slot = xcalloc(cap, sizeof *slot);
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t j = (uint32_t)t->e[i].h & (cap - 1);
		while (slot[j])
			j = (j + 1) & (cap - 1);
		slot[j] = i + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->mask = cap - 1;
}

/* The entry of (ns, p) with hash h, added when absent (NULL when full). */
static struct tent *tt_get(struct ttab *t, uint64_t h, int ns, const char *p, size_t n)
{
	uint32_t i = (uint32_t)h & t->mask;
	for (;; i = (i + 1) & t->mask) {
		uint32_t k = t->slot[i];
		if (!k)
			break;
		struct tent *e = &t->e[k - 1];
		if (e->h == h && e->ns == ns && e->len == n && !memcmp(t->str.p + e->off, p, n))
			return e;
	}
	if (t->n >= t->max) {
		t->full = 1;
		return NULL;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 1024;
		t->e = xrealloc(t->e, xmul(t->cap, sizeof *t->e));
	}
	struct tent *e = &t->e[t->n];
	memset(e, 0, sizeof *e);
	e->h = h;
	e->ns = (uint8_t)ns;
	e->off = (uint32_t)t->str.len;
	e->len = (uint32_t)n;
	if (t->str.len + n > UINT32_MAX) {
		t->full = 1;
		return NULL;
	}
	buf_add(&t->str, p, n);
	t->slot[i] = ++t->n;
	if (2 * t->n > t->mask + 1)
		tt_grow(t);
	return e;
}

static const char *tt_str(const struct ttab *t, const struct tent *e)
{
	return (const char *)t->str.p + e->off;
}

/* --------------------------------------------------------------- vec */

struct vec {
	struct vec_opts o;
	char *fspace;
	uint64_t seed[VEC_MAX_FIELDS];
	uint64_t dim;
	struct model *m;
	/* document frequencies: per bucket (hashing) or term (vocabulary) */
	const uint32_t *df;
	float *idf; /* per feature, from df */
	double ndocs, avgdl;
	/* vocabulary */
	uint32_t nterms;
	const uint32_t *toff;
	const char *terms;
	const uint8_t *tns;
	uint32_t *slot; /* term number + 1 by hash */
	uint64_t *slot_h;
	uint32_t smask;
	uint32_t *numdim; /* vocabulary: values of each numeric field */
	uint32_t *numoff; /* vocabulary: its first feature */
	/* strings owned when loaded from a model */
	char **owned;
	int nowned;
	double logtf[64]; /* 1 + log(m) for the small counts most terms have */
	double wtab[64];  /* tf_weight of those counts (not BM25); 0 for 0 */
};

static const char *const weight_names[] = {"count", "binary", "log", "tfidf", "bm25"};
static const char *const norm_names[] = {"none", "l1", "l2"};

const struct vec_opts *vec_options(const struct vec *v) { return &v->o; }
const char *vec_fspace(const struct vec *v) { return v->fspace; }
uint64_t vec_dim(const struct vec *v) { return v->dim; }

int vec_needs_df(const struct vec *v)
{
	return (v->o.weight == VEC_TFIDF || v->o.weight == VEC_BM25) && !v->df;
}

static int check_opts(const struct vec_opts *o, struct pea_err *e)
{
	if (!o->vocab && (o->bits < 1 || o->bits > 31)) {
		err_set(e, "--bits %d is not between 1 and 31", o->bits);
		return -1;
	}
	if (o->fields.n > VEC_MAX_FIELDS || (!o->fields.n && !o->numeric.n)) {
		err_set(e, "between 1 and %d token fields, or numeric fields", VEC_MAX_FIELDS);
		return -1;
	}
	if (o->numeric.n > 4096) {
		err_set(e, "at most 4096 numeric fields");
		return -1;
	}
	if (o->k1 < 0 || o->b < 0 || o->b > 1) {
		err_set(e, "BM25 needs k1 >= 0 and b between 0 and 1");
		return -1;
	}
	if (o->min_df < 0 || o->max_df <= 0) {
		err_set(e, "--min-df and --max-df must be positive");
		return -1;
	}
	return 0;
}

static double tf_weight(const struct vec *v, double m, double dl);

static void set_seeds(struct vec *v)
{
	for (int m = 1; m < 64; m++)
		v->logtf[m] = 1 + log(m);
	for (int m = 1; m < 64; m++)
		v->wtab[m] = tf_weight(v, m, 1);
	for (int i = 0; i < v->o.fields.n; i++)
		v->seed[i] = hash_bytes(v->o.fields.v[i], strlen(v->o.fields.v[i]), 0);
}

static void add_list(struct buf *b, const struct cli_list *l)
{
	for (int i = 0; i < l->n; i++)
		buf_addf(b, "%s%s", i ? "," : "", l->v[i]);
}

struct vec *vec_new(const struct vec_opts *o, struct pea_err *e)
{
	if (check_opts(o, e))
		return NULL;
	if (o->vocab) {
		err_set(e, "a vocabulary is learned with --fit");
		return NULL;
	}
	struct vec *v = xcalloc(1, sizeof *v);
	v->o = *o;
	v->dim = 1ull << o->bits;
	set_seeds(v);
	struct buf b = BUF_INIT;
	buf_addf(&b, "hash:xxh3:bits=%d:%s:f=", o->bits, o->unsigned_hash ? "unsigned" : "signed");
	add_list(&b, &o->fields);
	if (o->numeric.n) {
		buf_adds(&b, ":num=");
		add_list(&b, &o->numeric);
	}
	buf_addf(&b, ":w=%s%s:n=%s", weight_names[o->weight],
		 o->sublinear && o->weight == VEC_TFIDF ? "-sublinear" : "", norm_names[o->norm]);
	if (o->weight == VEC_BM25)
		buf_addf(&b, ":k1=%g:b=%g", o->k1, o->b);
	v->fspace = xstrdup(buf_cstr(&b));
	buf_release(&b);
	return v;
}

void vec_free(struct vec *v)
{
	if (!v)
		return;
	free(v->fspace);
	free(v->idf);
	free(v->slot);
	free(v->slot_h);
	free(v->numdim);
	free(v->numoff);
	for (int i = 0; i < v->nowned; i++)
		free(v->owned[i]);
	free(v->owned);
	if (v->m) {
		free(v->o.fields.v);
		free(v->o.numeric.v);
	}
	model_close(v->m);
	free(v);
}

/* -------------------------------------------------------- model files */

static int enum_parse(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

static const char *owned_str(struct vec *v, const char *s)
{
	v->owned = xrealloc(v->owned, (size_t)(v->nowned + 1) * sizeof *v->owned);
	return v->owned[v->nowned++] = xstrdup(s);
}

static int json_list(struct vec *v, json_object *meta, const char *key, struct cli_list *l)
{
	json_object *a;
	l->v = NULL;
	l->n = 0;
	if (!json_object_object_get_ex(meta, key, &a))
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return -1;
	int n = (int)json_object_array_length(a);
	l->v = xcalloc((size_t)n + 1, sizeof *l->v);
	for (int i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(a, (size_t)i);
		/* field names, as in records: 1 to PEA_MAX_NAME bytes */
		if (!json_object_is_type(s, json_type_string) || !json_object_get_string_len(s) ||
		    json_object_get_string_len(s) > PEA_MAX_NAME)
			return -1;
		l->v[l->n++] = owned_str(v, json_object_get_string(s));
	}
	return 0;
}

static double jnum(json_object *meta, const char *key, double def)
{
	json_object *x;
	if (!json_object_object_get_ex(meta, key, &x))
		return def;
	return json_object_get_double(x);
}

/* a number of the meta that must lie in [lo, hi] (a model may lie) */
static int jbound(json_object *meta, const char *key, double def, double lo, double hi, double *out)
{
	double x = jnum(meta, key, def);
	*out = x;
	return x >= lo && x <= hi ? 0 : -1;
}

static const char *jstr(json_object *meta, const char *key)
{
	json_object *x;
	if (!json_object_object_get_ex(meta, key, &x) || !json_object_is_type(x, json_type_string))
		return NULL;
	return json_object_get_string(x);
}

/* meta JSON of a model file, or NULL with e set */
static json_object *load_meta(const struct model *m, const char *kind, struct pea_err *e)
{
	size_t n;
	const char *p = model_section(m, "meta", &n);
	if (!p) {
		err_set(e, "no meta section");
		return NULL;
	}
	json_tokener *tk = json_tokener_new();
	json_object *o = json_tokener_parse_ex(tk, p, (int)n);
	int ok = json_tokener_get_error(tk) == json_tokener_success && json_object_is_type(o, json_type_object);
	json_tokener_free(tk);
	if (!ok) {
		json_object_put(o);
		err_set(e, "meta section is not a JSON object");
		return NULL;
	}
	const char *k = jstr(o, "kind");
	if (!k || strcmp(k, kind)) {
		err_set(e, "not a %s file (kind %s)", kind, k ? k : "missing");
		json_object_put(o);
		return NULL;
	}
	double fmt = jnum(o, "format", 0);
	if (fmt != VEC_FORMAT) {
		err_set(e, "%s file of format %g; this pea reads format %d", kind, fmt, VEC_FORMAT);
		json_object_put(o);
		return NULL;
	}
	return o;
}

static void compute_idf(struct vec *v, uint64_t n)
{
	v->idf = xmalloc(xmul(n, sizeof *v->idf));
	double N = v->ndocs;
	for (uint64_t i = 0; i < n; i++) {
		double df = v->df[i];
		if (v->o.weight == VEC_BM25)
			v->idf[i] = (float)log(1.0 + (N - df + 0.5) / (df + 0.5));
		else
			v->idf[i] = (float)(log((1.0 + N) / (1.0 + df)) + 1.0);
	}
}

static void vocab_index(struct vec *v)
{
	uint32_t cap = 16;
	while (cap < 2ull * v->nterms + 2)
		cap *= 2;
	v->slot = xcalloc(cap, sizeof *v->slot);
	v->slot_h = xcalloc(cap, sizeof *v->slot_h);
	v->smask = cap - 1;
	for (uint32_t t = 0; t < v->nterms; t++) {
		uint8_t ns = v->tns[t];
		uint64_t h = hash_bytes(v->terms + v->toff[t], v->toff[t + 1] - v->toff[t], v->seed[ns]);
		uint32_t i = (uint32_t)h & v->smask;
		while (v->slot[i])
			i = (i + 1) & v->smask;
		v->slot[i] = t + 1;
		v->slot_h[i] = h;
	}
}

static int64_t vocab_find(const struct vec *v, uint64_t h, int ns, const char *p, size_t n)
{
	for (uint32_t i = (uint32_t)h & v->smask;; i = (i + 1) & v->smask) {
		uint32_t t = v->slot[i];
		if (!t)
			return -1;
		t--;
		if (v->slot_h[i] == h && v->tns[t] == ns && v->toff[t + 1] - v->toff[t] == n &&
		    !memcmp(v->terms + v->toff[t], p, n))
			return t;
	}
}

static struct vec *vec_from_model(struct model *m, struct pea_err *e);

struct vec *vec_load(const char *path, struct pea_err *e)
{
	struct model *m = msrc_open(path, e);
	return m ? vec_from_model(m, e) : NULL;
}

struct vec *vec_from_bytes(const void *p, size_t n, struct pea_err *e)
{
	struct model *m = model_from_bytes(p, n, e);
	return m ? vec_from_model(m, e) : NULL;
}

/* takes m, closing it on failure */
static struct vec *vec_from_model(struct model *m, struct pea_err *e)
{
	json_object *meta = load_meta(m, "vectorizer", e);
	if (!meta) {
		model_close(m);
		return NULL;
	}
	struct vec *v = xcalloc(1, sizeof *v);
	v->m = m;
	struct vec_opts *o = &v->o;
	const char *mode = jstr(meta, "mode"), *w = jstr(meta, "weight"), *nm = jstr(meta, "norm");
	int wi = w ? enum_parse(w, weight_names, 5) : -1, ni = nm ? enum_parse(nm, norm_names, 3) : -1;
	if (!mode || (strcmp(mode, "hash") && strcmp(mode, "vocab")) || wi < 0 || ni < 0 ||
	    json_list(v, meta, "fields", &o->fields) || json_list(v, meta, "numeric", &o->numeric)) {
		err_set(e, "meta section lacks settings (mode, weight, norm, fields)");
		goto fail;
	}
	o->vocab = !strcmp(mode, "vocab");
	double bits, terms, maxf;
	if (jbound(meta, "bits", 0, 0, 31, &bits) || jbound(meta, "terms", 0, 0, UINT32_MAX - 1.0, &terms) ||
	    jbound(meta, "max_features", 0, 0, 9007199254740992.0, &maxf)) {
		err_set(e, "meta section: bits, terms or max_features out of range");
		goto fail;
	}
	o->bits = (int)bits;
	o->unsigned_hash = !jnum(meta, "signed", 1);
	o->weight = (enum vec_weight)wi;
	o->norm = (enum vec_norm)ni;
	o->sublinear = jnum(meta, "sublinear", 0) != 0;
	o->k1 = jnum(meta, "k1", 1.2);
	o->b = jnum(meta, "b", 0.75);
	o->min_df = jnum(meta, "min_df", 1);
	o->max_df = jnum(meta, "max_df", 1);
	o->max_features = (uint64_t)maxf;
	v->ndocs = jnum(meta, "docs", 0);
	v->avgdl = v->ndocs > 0 ? jnum(meta, "tokens", 0) / v->ndocs : 1;
	if (v->avgdl <= 0)
		v->avgdl = 1;
	if (check_opts(o, e))
		goto fail;
	set_seeds(v);
	size_t n;
	v->df = model_section(m, "df", &n);
	if (!o->vocab) {
		v->dim = 1ull << o->bits;
		if (!v->df || n != 4 * v->dim) {
			err_set(e, "df section does not hold 2^%d counts", o->bits);
			goto fail;
		}
		compute_idf(v, v->dim);
	} else {
		v->nterms = (uint32_t)terms;
		size_t nt, nterms, nns;
		v->toff = model_section(m, "toff", &nt);
		v->terms = model_section(m, "terms", &nterms);
		v->tns = model_section(m, "tns", &nns);
		if (!v->df || n != 4 * (size_t)v->nterms || !v->toff || nt != 4 * ((size_t)v->nterms + 1) ||
		    !v->terms || !v->tns || nns != v->nterms || v->toff[0] != 0 ||
		    v->toff[v->nterms] != nterms) {
			err_set(e, "vocabulary sections do not agree with %u terms", v->nterms);
			goto fail;
		}
		for (uint32_t t = 0; t < v->nterms; t++)
			if (v->toff[t + 1] < v->toff[t] || v->tns[t] >= o->fields.n) {
				err_set(e, "vocabulary term %u is out of bounds", t);
				goto fail;
			}
		compute_idf(v, v->nterms);
		vocab_index(v);
		v->dim = v->nterms;
		json_object *dims;
		v->numdim = xcalloc((size_t)o->numeric.n + 1, sizeof *v->numdim);
		v->numoff = xcalloc((size_t)o->numeric.n + 1, sizeof *v->numoff);
		if (o->numeric.n) {
			if (!json_object_object_get_ex(meta, "numeric_dims", &dims) ||
			    !json_object_is_type(dims, json_type_array) ||
			    (int)json_object_array_length(dims) != o->numeric.n) {
				err_set(e, "numeric_dims does not list every numeric field");
				goto fail;
			}
			for (int i = 0; i < o->numeric.n; i++) {
				int64_t d = json_object_get_int64(json_object_array_get_idx(dims, (size_t)i));
				if (d < 1 || d > (1 << 24)) {
					err_set(e, "numeric field of %lld values", (long long)d);
					goto fail;
				}
				v->numdim[i] = (uint32_t)d;
				v->numoff[i] = (uint32_t)v->dim;
				v->dim += (uint64_t)d;
			}
		}
		if (v->dim > UINT32_MAX) {
			err_set(e, "more features than 32-bit indices hold");
			goto fail;
		}
	}
	char fs[64];
	snprintf(fs, sizeof fs, "vec:%.16s", model_digest(m));
	v->fspace = xstrdup(fs);
	json_object_put(meta);
	return v;
fail:
	json_object_put(meta);
	vec_free(v);
	return NULL;
}

/* ------------------------------------------------------------ applying */

struct vec_thread {
	const struct vec *v;
	uint64_t *key, *tmp;
	size_t kcap;
	uint32_t *idx;
	float *val;
	int32_t *cnt; /* a run's signed count */
	size_t vcap;
	int names;
	struct ttab nt; /* names seen (hashing) */
	uint32_t **numcache; /* hashing: the feature of numeric field i, element j */
	uint32_t *numcn;     /* entries in numcache[i] */
	uint32_t *numseen;   /* elements of field i seen (for names) */
	uint8_t *numdense;   /* field i came as a dense vector */
};

struct vec_thread *vec_thread_new(const struct vec *v, int names)
{
	struct vec_thread *t = xcalloc(1, sizeof *t);
	t->v = v;
	t->names = names && !v->o.vocab;
	if (t->names) {
		tt_init(&t->nt);
		t->nt.max = NAMES_MAX;
	}
	t->numcache = xcalloc((size_t)v->o.numeric.n + 1, sizeof *t->numcache);
	t->numcn = xcalloc((size_t)v->o.numeric.n + 1, sizeof *t->numcn);
	t->numseen = xcalloc((size_t)v->o.numeric.n + 1, sizeof *t->numseen);
	t->numdense = xcalloc((size_t)v->o.numeric.n + 1, 1);
	return t;
}

void vec_thread_free(struct vec_thread *t)
{
	if (!t)
		return;
	free(t->key);
	free(t->tmp);
	free(t->idx);
	free(t->val);
	free(t->cnt);
	if (t->names)
		tt_release(&t->nt);
	for (int i = 0; i < t->v->o.numeric.n; i++)
		free(t->numcache[i]);
	free(t->numcache);
	free(t->numcn);
	free(t->numseen);
	free(t->numdense);
	free(t);
}

static void key_room(struct vec_thread *t, size_t n)
{
	if (n <= t->kcap)
		return;
	t->kcap = n + n / 2 + 64;
	free(t->key);
	free(t->tmp);
	t->key = xmalloc(xmul(t->kcap, 8));
	t->tmp = xmalloc(xmul(t->kcap, 8));
}

static void val_room(struct vec_thread *t, size_t n)
{
	if (n <= t->vcap)
		return;
	t->vcap = n + n / 2 + 64;
	t->idx = xrealloc(t->idx, xmul(t->vcap, sizeof *t->idx));
	t->val = xrealloc(t->val, xmul(t->vcap, sizeof *t->val));
	t->cnt = xrealloc(t->cnt, xmul(t->vcap, sizeof *t->cnt));
}

static void name_add(struct vec_thread *t, uint64_t h, int ns, const char *p, size_t n, uint32_t idx)
{
	if (t->nt.full)
		return;
	struct tent *e = tt_get(&t->nt, h, ns, p, n);
	if (e) {
		e->cf++;
		e->idx = idx;
	}
}

/* the hashed feature of element j of numeric field i (cached per thread) */
static uint32_t num_feature(struct vec_thread *t, int i, uint32_t j, int dense)
{
	if (j >= t->numseen[i])
		t->numseen[i] = j + 1;
	t->numdense[i] |= (uint8_t)dense;
	if (j < t->numcn[i])
		return t->numcache[i][j];
	uint32_t want = j + 1 > 2 * t->numcn[i] ? j + 1 : 2 * t->numcn[i];
	t->numcache[i] = xrealloc(t->numcache[i], xmul(want, sizeof **t->numcache));
	const char *f = t->v->o.numeric.v[i];
	for (uint32_t k = t->numcn[i]; k < want; k++) {
		char name[PEA_MAX_NAME + 16]; /* a field name and "[index]" */
		int len = dense ? snprintf(name, sizeof name, "%s[%u]", f, k) : snprintf(name, sizeof name, "%s", f);
		t->numcache[i][k] = (uint32_t)(hash_bytes(name, (size_t)len, NUM_SEED) & (t->v->dim - 1));
	}
	t->numcn[i] = want;
	return t->numcache[i][j];
}

static double tf_weight(const struct vec *v, double m, double dl)
{
	switch (v->o.weight) {
	case VEC_COUNT: return m;
	case VEC_BINARY: return 1;
	case VEC_LOG: return m < 64 ? v->logtf[(int)m] : 1 + log(m);
	case VEC_TFIDF: return !v->o.sublinear ? m : m < 64 ? v->logtf[(int)m] : 1 + log(m);
	case VEC_BM25: return m * (v->o.k1 + 1) / (m + v->o.k1 * (1 - v->o.b + v->o.b * dl / v->avgdl));
	}
	return m;
}

int vec_apply(struct vec_thread *t, const struct vec_rec *r, const uint32_t **oidx, const float **oval,
	      uint32_t *on, struct pea_err *e)
{
	const struct vec *v = t->v;
	const struct vec_opts *o = &v->o;
	size_t ntok = 0;
	for (int f = 0; f < o->fields.n; f++)
		if (r->tok[f])
			ntok += r->tok[f]->n;
	key_room(t, ntok);
	size_t k = 0;
	uint64_t mask = v->dim - 1;
	uint64_t sign = o->unsigned_hash ? 0 : 1;
	for (int f = 0; f < o->fields.n; f++) {
		if (!r->tok[f])
			continue;
		struct val_iter it;
		val_iter_init(&it, r->tok[f]);
		while (val_iter_next(&it)) {
			uint64_t h = hash_bytes(it.s, it.len, v->seed[f]);
			if (o->vocab) {
				int64_t term = vocab_find(v, h, f, it.s, it.len);
				if (term >= 0)
					t->key[k++] = (uint64_t)term << 32;
				continue;
			}
			uint64_t idx = h & mask;
			t->key[k++] = idx << 32 | ((h >> 63) & sign);
			if (t->names)
				name_add(t, h, f, it.s, it.len, (uint32_t)idx);
		}
	}
	sort_keys(t->key, t->tmp, k, o->vocab ? bits_for(v->nterms) : o->bits);
	val_room(t, k);
	/* the runs of equal index and their signed counts, with no branch on
	 * where a run ends (runs are short, their lengths unpredictable): the
	 * run in hand is stored at slot r on every step, and r moves on when
	 * the next key starts another */
	size_t runs = 0;
	if (k) {
		uint32_t cur = (uint32_t)(t->key[0] >> 32);
		int32_t c = 1 - 2 * (int32_t)(t->key[0] & 1);
		for (size_t i = 1; i < k; i++) {
			uint32_t idx = (uint32_t)(t->key[i] >> 32);
			int32_t s = 1 - 2 * (int32_t)(t->key[i] & 1);
			int same = idx == cur;
			t->idx[runs] = cur;
			t->cnt[runs] = c;
			runs += !same;
			c = same ? c + s : s;
			cur = idx;
		}
		t->idx[runs] = cur;
		t->cnt[runs] = c;
		runs++;
	}
	uint32_t n = 0;
	double dl = (double)ntok, norm = 0;
	/* weights of small counts from a table (BM25's depend on the
	 * record's length); a run whose tokens cancelled (count 0) weighs 0
	 * and is written over by the next */
	const double *tab = o->weight == VEC_BM25 ? NULL : v->wtab;
	for (size_t r = 0; r < runs; r++) {
		uint32_t idx = t->idx[r];
		int32_t c = t->cnt[r];
		uint32_t a = (uint32_t)(c < 0 ? -c : c);
		double w = tab && a < 64 ? tab[a] : a ? tf_weight(v, a, dl) : 0;
		if (v->idf)
			w *= v->idf[idx];
		if (c < 0)
			w = -w;
		t->idx[n] = idx;
		t->val[n] = (float)w;
		/* a sum that chains every run: only when a norm needs it */
		if (o->norm != VEC_NORM_NONE)
			norm += o->norm == VEC_NORM_L2 ? w * w : fabs(w);
		n += c != 0;
	}
	if (o->norm != VEC_NORM_NONE && norm > 0) {
		double s = o->norm == VEC_NORM_L2 ? 1 / sqrt(norm) : 1 / norm;
		for (uint32_t i = 0; i < n; i++)
			t->val[i] = (float)(t->val[i] * s);
	}
	if (o->numeric.n) {
		/* numeric features join the vector after weighting; then the
		 * whole is sorted again and equal indices summed */
		size_t extra = 0;
		for (int i = 0; i < o->numeric.n; i++)
			if (r->num[i])
				extra += r->num[i]->type == PEA_DENSE ? r->num[i]->n : 1;
		val_room(t, n + extra);
		key_room(t, n + extra);
		for (int i = 0; i < o->numeric.n; i++) {
			const pea_val *x = r->num[i];
			if (!x)
				continue;
			int dense = x->type == PEA_DENSE;
			uint32_t cnt = dense ? x->n : 1;
			if (o->vocab && cnt != v->numdim[i]) {
				err_set(e, "field '%s' has %u values, the model was fitted with %u",
					o->numeric.v[i], cnt, v->numdim[i]);
				return -1;
			}
			for (uint32_t j = 0; j < cnt; j++) {
				double d = dense ? val_fval(x)[j] : x->type == PEA_INT ? (double)x->x.i
								 : x->type == PEA_BOOL ? (double)x->x.i : x->x.d;
				if (!isfinite(d)) {
					err_set(e, "field '%s' holds %g", o->numeric.v[i], d);
					return -1;
				}
				if (d == 0)
					continue;
				t->idx[n] = o->vocab ? v->numoff[i] + j : num_feature(t, i, j, dense);
				t->val[n] = (float)d;
				n++;
			}
		}
		for (uint32_t i = 0; i < n; i++)
			t->key[i] = (uint64_t)t->idx[i] << 32 | i;
		sort_keys(t->key, t->tmp, n, bits_for(v->dim));
		float *sv = (float *)t->tmp; /* free again after sorting */
		uint32_t m = 0;
		for (uint32_t i = 0; i < n; i++) {
			uint32_t idx = (uint32_t)(t->key[i] >> 32);
			float x = t->val[(uint32_t)t->key[i]];
			if (m && t->idx[m - 1] == idx) {
				sv[m - 1] += x;
				continue;
			}
			t->idx[m] = idx; /* m <= i: the slot was read already */
			sv[m++] = x;
		}
		memcpy(t->val, sv, m * sizeof *sv);
		n = m;
	}
	*oidx = t->idx;
	*oval = t->val;
	*on = n;
	return 0;
}

/* ------------------------------------------------------------- fitting */

struct vec_fit {
	struct vec_opts o;
	int nt;
	uint32_t *df;	     /* hashing: shared, atomic */
	struct ttab *tab;    /* vocabulary: per thread */
	uint64_t *docs, *tokens; /* per thread */
	uint32_t *numdim;    /* atomic: values of each numeric field */
	uint64_t seed[VEC_MAX_FIELDS];
	uint64_t **scratch;
	size_t *scap;
};

struct vec_fit *vec_fit_new(const struct vec_opts *o, int threads)
{
	struct vec_fit *f = xcalloc(1, sizeof *f);
	f->o = *o;
	f->nt = threads;
	f->docs = xcalloc((size_t)threads, sizeof *f->docs);
	f->tokens = xcalloc((size_t)threads, sizeof *f->tokens);
	f->numdim = xcalloc((size_t)o->numeric.n + 1, sizeof *f->numdim);
	for (int i = 0; i < o->fields.n; i++)
		f->seed[i] = hash_bytes(o->fields.v[i], strlen(o->fields.v[i]), 0);
	if (o->vocab) {
		f->tab = xcalloc((size_t)threads, sizeof *f->tab);
		for (int i = 0; i < threads; i++)
			tt_init(&f->tab[i]);
	} else {
		f->df = xcalloc((size_t)1 << o->bits, sizeof *f->df);
		f->scratch = xcalloc((size_t)threads, sizeof *f->scratch);
		f->scap = xcalloc((size_t)threads, sizeof *f->scap);
	}
	return f;
}

void vec_fit_free(struct vec_fit *f)
{
	if (!f)
		return;
	if (f->tab)
		for (int i = 0; i < f->nt; i++)
			tt_release(&f->tab[i]);
	free(f->tab);
	free(f->df);
	if (f->scratch)
		for (int i = 0; i < f->nt; i++)
			free(f->scratch[i]);
	free(f->scratch);
	free(f->scap);
	free(f->docs);
	free(f->tokens);
	free(f->numdim);
	free(f);
}

int vec_fit_rec(struct vec_fit *f, int th, const struct vec_rec *r, struct pea_err *e)
{
	const struct vec_opts *o = &f->o;
	uint32_t doc = (uint32_t)++f->docs[th];
	uint64_t ntok = 0;
	for (int i = 0; i < o->numeric.n; i++) {
		const pea_val *x = r->num[i];
		if (!x)
			continue;
		uint32_t d = x->type == PEA_DENSE ? x->n : 1, want = 0;
		if (!d) {
			err_set(e, "field '%s' is an empty vector", o->numeric.v[i]);
			return -1;
		}
		if (!__atomic_compare_exchange_n(&f->numdim[i], &want, d, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED) &&
		    want != d) {
			err_set(e, "field '%s' has %u values, other records %u", o->numeric.v[i], d, want);
			return -1;
		}
	}
	if (o->vocab) {
		struct ttab *t = &f->tab[th];
		for (int i = 0; i < o->fields.n; i++) {
			if (!r->tok[i])
				continue;
			struct val_iter it;
			val_iter_init(&it, r->tok[i]);
			while (val_iter_next(&it)) {
				ntok++;
				struct tent *te = tt_get(t, hash_bytes(it.s, it.len, f->seed[i]), i, it.s, it.len);
				if (!te) {
					err_set(e, "more than %u distinct terms: use hashing (drop --vocab)", TT_MAX);
					return -1;
				}
				te->cf++;
				if (te->last != doc) {
					te->last = doc;
					te->df++;
				}
			}
		}
	} else {
		/* the document's distinct buckets, each counted once */
		size_t n = 0;
		for (int i = 0; i < o->fields.n; i++)
			if (r->tok[i])
				n += r->tok[i]->n;
		if (2 * n > f->scap[th]) {
			f->scap[th] = 2 * n + 64;
			free(f->scratch[th]);
			f->scratch[th] = xmalloc(xmul(f->scap[th], 8));
		}
		uint64_t *key = f->scratch[th], *tmp = key + n, mask = (1ull << o->bits) - 1;
		size_t k = 0;
		for (int i = 0; i < o->fields.n; i++) {
			if (!r->tok[i])
				continue;
			struct val_iter it;
			val_iter_init(&it, r->tok[i]);
			while (val_iter_next(&it))
				key[k++] = (hash_bytes(it.s, it.len, f->seed[i]) & mask) << 32;
		}
		ntok = k;
		sort_keys(key, tmp, k, o->bits);
		for (size_t i = 0; i < k; i++)
			if (!i || key[i] != key[i - 1])
				__atomic_add_fetch(&f->df[key[i] >> 32], 1, __ATOMIC_RELAXED);
	}
	f->tokens[th] += ntok;
	return 0;
}

struct sel {
	const char *p;
	uint32_t len, df;
	uint64_t cf;
	uint8_t ns;
};

static int sel_by_cf(const void *a, const void *b)
{
	const struct sel *x = a, *y = b;
	if (x->cf != y->cf)
		return x->cf > y->cf ? -1 : 1;
	if (x->ns != y->ns)
		return x->ns < y->ns ? -1 : 1;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int sel_by_term(const void *a, const void *b)
{
	const struct sel *x = a, *y = b;
	if (x->ns != y->ns)
		return x->ns < y->ns ? -1 : 1;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void json_add_list(json_object *o, const char *key, const struct cli_list *l)
{
	json_object *a = json_object_new_array();
	for (int i = 0; i < l->n; i++)
		json_object_array_add(a, json_object_new_string(l->v[i]));
	json_object_object_add(o, key, a);
}

int vec_fit_write(struct vec_fit *f, const char *path, struct pea_err *e)
{
	const struct vec_opts *o = &f->o;
	uint64_t docs = 0, tokens = 0;
	for (int i = 0; i < f->nt; i++) {
		docs += f->docs[i];
		tokens += f->tokens[i];
	}
	if (!docs) {
		err_set(e, "no records to fit");
		return -1;
	}
	json_object *meta = json_object_new_object();
	json_object_object_add(meta, "kind", json_object_new_string("vectorizer"));
	json_object_object_add(meta, "format", json_object_new_int(VEC_FORMAT));
	json_object_object_add(meta, "mode", json_object_new_string(o->vocab ? "vocab" : "hash"));
	if (!o->vocab) {
		json_object_object_add(meta, "hash", json_object_new_string("xxh3"));
		json_object_object_add(meta, "bits", json_object_new_int(o->bits));
		json_object_object_add(meta, "signed", json_object_new_boolean(!o->unsigned_hash));
	}
	json_add_list(meta, "fields", &o->fields);
	json_add_list(meta, "numeric", &o->numeric);
	json_object_object_add(meta, "weight", json_object_new_string(weight_names[o->weight]));
	json_object_object_add(meta, "sublinear", json_object_new_boolean(o->sublinear));
	json_object_object_add(meta, "norm", json_object_new_string(norm_names[o->norm]));
	json_object_object_add(meta, "k1", json_object_new_double(o->k1));
	json_object_object_add(meta, "b", json_object_new_double(o->b));
	json_object_object_add(meta, "docs", json_object_new_int64((int64_t)docs));
	json_object_object_add(meta, "tokens", json_object_new_int64((int64_t)tokens));
	struct model_writer *w = mw_new();
	if (!o->vocab) {
		mw_add(w, "df", f->df, ((size_t)1 << o->bits) * 4);
	} else {
		/* merge the threads' tables into the first */
		struct ttab *t = &f->tab[0];
		for (int k = 1; k < f->nt; k++) {
			struct ttab *u = &f->tab[k];
			for (uint32_t i = 0; i < u->n; i++) {
				struct tent *x = &u->e[i];
				struct tent *y = tt_get(t, x->h, x->ns, tt_str(u, x), x->len);
				if (!y) {
					err_set(e, "more than %u distinct terms: use hashing (drop --vocab)", TT_MAX);
					json_object_put(meta);
					mw_free(w);
					return -1;
				}
				y->df += x->df;
				y->cf += x->cf;
			}
		}
		double lo = o->min_df < 1 ? ceil(o->min_df * (double)docs) : o->min_df;
		double hi = o->max_df <= 1 ? floor(o->max_df * (double)docs) : o->max_df;
		struct sel *s = xmalloc(xmul(t->n + 1, sizeof *s));
		size_t n = 0;
		for (uint32_t i = 0; i < t->n; i++) {
			struct tent *x = &t->e[i];
			if (x->df < lo || x->df > hi)
				continue;
			s[n++] = (struct sel){tt_str(t, x), x->len, x->df, x->cf, x->ns};
		}
		if (o->max_features && n > o->max_features) {
			qsort(s, n, sizeof *s, sel_by_cf);
			n = (size_t)o->max_features;
		}
		qsort(s, n, sizeof *s, sel_by_term);
		if (n + o->numeric.n > UINT32_MAX / 2) {
			err_set(e, "vocabulary of %zu terms is too large", n);
			free(s);
			json_object_put(meta);
			mw_free(w);
			return -1;
		}
		uint32_t *df = xmalloc(xmul(n + 1, 4)), *toff = xmalloc(xmul(n + 1, 4));
		uint8_t *tns = xmalloc(n + 1);
		struct buf terms = BUF_INIT;
		toff[0] = 0;
		for (size_t i = 0; i < n; i++) {
			df[i] = s[i].df;
			tns[i] = s[i].ns;
			buf_add(&terms, s[i].p, s[i].len);
			if (terms.len > UINT32_MAX)
				die("vocabulary text over 4 GiB");
			toff[i + 1] = (uint32_t)terms.len;
		}
		mw_add(w, "df", df, 4 * n);
		mw_add(w, "toff", toff, 4 * (n + 1));
		mw_add(w, "terms", terms.p, terms.len);
		mw_add(w, "tns", tns, n);
		json_object_object_add(meta, "terms", json_object_new_int64((int64_t)n));
		json_object_object_add(meta, "min_df", json_object_new_double(o->min_df));
		json_object_object_add(meta, "max_df", json_object_new_double(o->max_df));
		json_object_object_add(meta, "max_features", json_object_new_int64((int64_t)o->max_features));
		json_object *dims = json_object_new_array();
		for (int i = 0; i < o->numeric.n; i++) {
			if (!f->numdim[i]) {
				err_set(e, "numeric field '%s' is in no record", o->numeric.v[i]);
				free(s);
				free(df);
				free(toff);
				free(tns);
				buf_release(&terms);
				json_object_put(dims);
				json_object_put(meta);
				mw_free(w);
				return -1;
			}
			json_object_array_add(dims, json_object_new_int64(f->numdim[i]));
		}
		json_object_object_add(meta, "numeric_dims", dims);
		free(s);
		free(df);
		free(toff);
		free(tns);
		buf_release(&terms);
	}
	const char *js = json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PLAIN);
	mw_add(w, "meta", js, strlen(js));
	json_object_put(meta);
	mw_write(w, path);
	mw_free(w);
	return 0;
}

/* ------------------------------------------------------- feature names */

struct nm {
	uint32_t idx;
	uint64_t cf;
	const char *p;
	uint32_t len;
	uint8_t ns;
	int8_t sign; /* -1: a signed hash subtracts the token from the feature */
};

static int nm_cmp(const void *a, const void *b)
{
	const struct nm *x = a, *y = b;
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	if (x->cf != y->cf)
		return x->cf > y->cf ? -1 : 1;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* a name as shown: "field:token" when there are several token fields */
static void name_text(const struct vec *v, struct buf *b, int ns, const char *p, size_t n)
{
	if (v->o.fields.n > 1 && ns != NS_NUMERIC)
		buf_addf(b, "%s:", v->o.fields.v[ns]);
	buf_add(b, p, n);
}

void vec_names_write(const struct vec *v, struct vec_thread *const *th, int nt, int per, const char *path)
{
	struct nm *list = NULL;
	size_t n = 0;
	struct ttab all;
	tt_init(&all);
	int incomplete = 0;
	if (v->o.vocab) {
		list = xmalloc(xmul((size_t)v->nterms + 1, sizeof *list));
		for (uint32_t t = 0; t < v->nterms; t++)
			list[n++] = (struct nm){t, v->df[t], v->terms + v->toff[t], v->toff[t + 1] - v->toff[t], v->tns[t], 1};
	} else {
		for (int k = 0; k < nt; k++) {
			const struct ttab *u = &th[k]->nt;
			incomplete |= u->full;
			for (uint32_t i = 0; i < u->n; i++) {
				const struct tent *x = &u->e[i];
				struct tent *y = tt_get(&all, x->h, x->ns, tt_str(u, x), x->len);
				if (!y) {
					incomplete = 1;
					continue;
				}
				y->cf += x->cf;
				y->idx = x->idx;
			}
		}
		list = xmalloc(xmul((size_t)all.n + 1, sizeof *list));
		for (uint32_t i = 0; i < all.n; i++)
			list[n++] = (struct nm){all.e[i].idx, all.e[i].cf, tt_str(&all, &all.e[i]), all.e[i].len, all.e[i].ns,
						(int8_t)(!v->o.unsigned_hash && (all.e[i].h >> 63) ? -1 : 1)};
	}
	/* numeric features, by name */
	struct buf numtext = BUF_INIT;
	size_t nnum = 0, *numoff = NULL;
	uint32_t *numidx = NULL;
	for (int i = 0; i < v->o.numeric.n; i++) {
		uint32_t cnt = 0;
		int dense = 0;
		if (v->o.vocab) {
			cnt = v->numdim[i];
			dense = cnt > 1;
		}
		for (int k = 0; !v->o.vocab && k < nt; k++) {
			if (th[k]->numseen[i] > cnt)
				cnt = th[k]->numseen[i];
			dense |= th[k]->numdense[i];
		}
		for (uint32_t j = 0; j < cnt; j++) {
			uint32_t idx = 0;
			if (v->o.vocab)
				idx = v->numoff[i] + j;
			else
				for (int k = 0; k < nt; k++)
					if (j < th[k]->numseen[i]) {
						idx = th[k]->numcache[i][j];
						break;
					}
			numoff = xrealloc(numoff, xmul(nnum + 2, sizeof *numoff));
			numidx = xrealloc(numidx, xmul(nnum + 1, sizeof *numidx));
			numoff[nnum] = numtext.len;
			numidx[nnum++] = idx;
			if (dense)
				buf_addf(&numtext, "%s[%u]", v->o.numeric.v[i], j);
			else
				buf_adds(&numtext, v->o.numeric.v[i]);
			numoff[nnum] = numtext.len;
		}
	}
	list = xrealloc(list, xmul(n + nnum + 1, sizeof *list));
	for (size_t i = 0; i < nnum; i++)
		list[n++] = (struct nm){numidx[i], UINT64_MAX, (const char *)numtext.p + numoff[i],
					(uint32_t)(numoff[i + 1] - numoff[i]), NS_NUMERIC, 1};
	qsort(list, n, sizeof *list, nm_cmp);
	uint32_t *index = xmalloc(xmul(n + 1, 4)), *off = xmalloc(xmul(n + 2, 4)), *first = xmalloc(xmul(n + 2, 4));
	int8_t *sign = xmalloc(n + 1);
	struct buf names = BUF_INIT;
	size_t nf = 0, ns = 0;
	int negative = 0;
	off[0] = first[0] = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		int kept = 0;
		for (; j < n && list[j].idx == list[i].idx; j++) {
			if (kept == per)
				continue;
			if (kept++)
				buf_addc(&names, '\n');
			name_text(v, &names, list[j].ns, list[j].p, list[j].len);
			sign[ns++] = list[j].sign;
			negative |= list[j].sign < 0;
		}
		index[nf] = list[i].idx;
		first[nf + 1] = (uint32_t)ns;
		off[++nf] = (uint32_t)names.len;
		i = j;
		if (names.len > UINT32_MAX / 2)
			die("%s: feature names over 2 GiB", path);
	}
	json_object *meta = json_object_new_object();
	json_object_object_add(meta, "kind", json_object_new_string("feature-names"));
	json_object_object_add(meta, "format", json_object_new_int(VEC_FORMAT));
	json_object_object_add(meta, "fspace", json_object_new_string(v->fspace));
	json_object_object_add(meta, "features", json_object_new_int64((int64_t)nf));
	json_object_object_add(meta, "complete", json_object_new_boolean(!incomplete));
	struct model_writer *w = mw_new();
	const char *js = json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PLAIN);
	mw_add(w, "meta", js, strlen(js));
	mw_add(w, "index", index, 4 * nf);
	mw_add(w, "off", off, 4 * (nf + 1));
	mw_add(w, "names", names.p, names.len);
	if (negative) {
		mw_add(w, "first", first, 4 * (nf + 1));
		mw_add(w, "sign", sign, ns);
	}
	mw_write(w, path);
	mw_free(w);
	json_object_put(meta);
	free(list);
	free(index);
	free(off);
	free(first);
	free(sign);
	free(numoff);
	free(numidx);
	buf_release(&numtext);
	buf_release(&names);
	tt_release(&all);
	if (incomplete)
		warning("%s: more than %u distinct tokens; later ones have no name", path, NAMES_MAX);
}

struct vec_names {
	struct model *m;
	char *fspace;
	const uint32_t *index, *off, *first;
	const char *names;
	const int8_t *sign;
	uint32_t n;
};

struct vec_names *vec_names_open(const char *path, struct pea_err *e)
{
	struct model *m = model_open(path, e);
	if (!m)
		return NULL;
	json_object *meta = load_meta(m, "feature-names", e);
	if (!meta) {
		model_close(m);
		return NULL;
	}
	struct vec_names *v = xcalloc(1, sizeof *v);
	v->m = m;
	const char *fs = jstr(meta, "fspace");
	v->fspace = xstrdup(fs ? fs : "");
	size_t ni, no, nn;
	v->index = model_section(m, "index", &ni);
	v->off = model_section(m, "off", &no);
	v->names = model_section(m, "names", &nn);
	v->n = (uint32_t)(ni / 4);
	json_object_put(meta);
	int ok = v->index && v->off && v->names && no == 4 * ((size_t)v->n + 1) && v->off[0] == 0 &&
		 v->off[v->n] == nn;
	for (uint32_t i = 0; ok && i < v->n; i++)
		ok = v->off[i + 1] >= v->off[i] && (!i || v->index[i] > v->index[i - 1]);
	size_t nfirst, nsign;
	v->first = model_section(m, "first", &nfirst);
	v->sign = model_section(m, "sign", &nsign);
	if (ok && (v->first || v->sign)) {
		ok = v->first && v->sign && nfirst == 4 * ((size_t)v->n + 1) && v->first[0] == 0 &&
		     v->first[v->n] == nsign;
		for (uint32_t i = 0; ok && i < v->n; i++)
			ok = v->first[i + 1] >= v->first[i];
	}
	if (!ok) {
		err_set(e, "feature-names sections do not agree");
		vec_names_close(v);
		return NULL;
	}
	return v;
}

void vec_names_close(struct vec_names *n)
{
	if (!n)
		return;
	model_close(n->m);
	free(n->fspace);
	free(n);
}

const char *vec_names_fspace(const struct vec_names *n) { return n->fspace; }

/* the position of a feature in the index, or n->n */
static uint32_t names_find(const struct vec_names *n, uint32_t index)
{
	uint32_t lo = 0, hi = n->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (n->index[mid] < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n->n && n->index[lo] == index ? lo : n->n;
}

int vec_names_signed(const struct vec_names *n)
{
	return n->sign != NULL;
}

const int8_t *vec_names_signs(const struct vec_names *n, uint32_t index, uint32_t *count)
{
	uint32_t i = n->sign ? names_find(n, index) : n->n;
	if (i == n->n)
		return NULL;
	*count = n->first[i + 1] - n->first[i];
	return n->sign + n->first[i];
}

const char *vec_names_get(const struct vec_names *n, uint32_t index, size_t *len)
{
	uint32_t i = names_find(n, index);
	if (i == n->n)
		return NULL;
	*len = n->off[i + 1] - n->off[i];
	return n->names + n->off[i];
}

/* ---------------------------------------------------------------- show */

void vec_show(const char *path, struct buf *out)
{
	struct pea_err e;
	struct model *m = msrc_open(path, &e);
	if (!m)
		die("%s: %s", path, e.msg);
	size_t n;
	const char *meta = model_section(m, "meta", &n);
	if (!meta)
		die("%s: no meta section", path);
	buf_addf(out, "%.*s\n", (int)n, meta);
	model_close(m);
	struct vec_names *nm = NULL;
	struct vec *v = vec_load(path, &e);
	if (!v && !(nm = vec_names_open(path, &e)))
		die("%s: %s", path, e.msg);
	if (nm) {
		buf_adds(out, nm->sign ? "feature\tnames (- before a name: the token subtracts)\n" : "feature\tnames\n");
		for (uint32_t i = 0; i < nm->n; i++) {
			uint32_t item = 0;
			buf_addf(out, "%u\t", nm->index[i]);
			for (uint32_t k = nm->off[i]; k <= nm->off[i + 1]; k++) {
				if (k == nm->off[i] || nm->names[k - 1] == '\n') {
					if (nm->sign && nm->sign[nm->first[i] + item] < 0)
						buf_addc(out, '-');
					item++;
				}
				if (k < nm->off[i + 1])
					buf_addc(out, nm->names[k] == '\n' ? '\t' : (uint8_t)nm->names[k]);
			}
			buf_addc(out, '\n');
		}
		vec_names_close(nm);
		return;
	}
	buf_addf(out, "fspace\t%s\n", v->fspace);
	if (v->o.vocab) {
		buf_adds(out, "feature\tterm\tdf\tidf\n");
		for (uint32_t t = 0; t < v->nterms; t++) {
			buf_addf(out, "%u\t", t);
			name_text(v, out, v->tns[t], v->terms + v->toff[t], v->toff[t + 1] - v->toff[t]);
			buf_addf(out, "\t%u\t%.6g\n", v->df[t], v->idf[t]);
		}
		for (int i = 0; i < v->o.numeric.n; i++)
			for (uint32_t j = 0; j < v->numdim[i]; j++) {
				if (v->numdim[i] > 1)
					buf_addf(out, "%u\t%s[%u]\t\t\n", v->numoff[i] + j, v->o.numeric.v[i], j);
				else
					buf_addf(out, "%u\t%s\t\t\n", v->numoff[i], v->o.numeric.v[i]);
			}
	} else {
		buf_adds(out, "feature\tdf\tidf\n");
		for (uint64_t i = 0; i < v->dim; i++)
			if (v->df[i])
				buf_addf(out, "%llu\t%u\t%.6g\n", (unsigned long long)i, v->df[i], v->idf[i]);
	}
	vec_free(v);
}
