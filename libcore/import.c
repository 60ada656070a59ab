/* import.c - JSON Lines, plain text, CSV/TSV, fastText and svmlight lines
 * into records, and the unit decoder that drives them (input.h).
 *
 * JSON is parsed by json-c; the rest are line formats simple enough that a
 * library would only add a copy.  Type rules live in man/pea-format.5:
 * JSON strings, integers, numbers, booleans become string, int, float, bool;
 * arrays of strings a strlist, of integers ints, of numbers a dense vector;
 * objects with integer keys and numeric values a sparse vector, other
 * numeric objects a map, {"base64": "..."} bytes, anything else json text.
 * Conventional fields (label, features, dense, ...) are converted to the type
 * every tool expects, and --type NAME=TYPE does the same for any field. */
#include "import.h"

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

static const struct {
	const char *name;
	int type;
} conventional[] = {
	{"id", 0},	     {"label", PEA_STR},     {"labels", PEA_STRLIST}, {"text", PEA_STR},
	{"title", PEA_STR},  {"url", PEA_STR},	     {"path", PEA_STR},	      {"tokens", PEA_STRLIST},
	{"features", PEA_SPARSE}, {"dense", PEA_DENSE}, {"shape", PEA_INTS},   {"pred", PEA_STR},
	{"probs", PEA_MAP},  {"user", PEA_STR},	     {"item", PEA_STR},	      {"items", PEA_STRLIST},
	{"history", PEA_STRLIST}, {"recs", PEA_STRLIST}, {"scores", PEA_DENSE}, {"weight", PEA_FLOAT},
	{"tags", PEA_STRLIST}, {"links", PEA_STRLIST}, {"author", PEA_STR},  {"lang", PEA_STR},
};

int field_conventional_type(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(conventional); i++)
		if (strlen(conventional[i].name) == len && !memcmp(conventional[i].name, name, len))
			return conventional[i].type;
	return 0;
}

int pea_type_parse(const char *s)
{
	for (int t = 1; t <= PEA_TYPE_MAX; t++)
		if (!strcmp(s, pea_type_name(t)))
			return t;
	return 0;
}

struct type_rule {
	char *name;
	size_t len;
	int type;
};

struct importer {
	const struct in_opts *o;
	const char *text_field;
	json_tokener *tok;
	struct type_rule *rules;
	int nrules;
	struct buf tmp, tmp2;
	/* scratch for sparse vectors and CSV fields */
	uint32_t *idx;
	float *val;
	size_t vcap;
	struct {
		const char *k;
		size_t klen;
		json_object *v;
		int type;
		int fid;
	} *kv;
	size_t kvcap;
	size_t *fstart, *flen;
	size_t fcap;
};

struct importer *importer_new(const struct in_opts *o)
{
	struct importer *im = xcalloc(1, sizeof *im);
	im->o = o;
	im->text_field = o->text_field ? o->text_field : "text";
	buf_init(&im->tmp, 0);
	buf_init(&im->tmp2, 0);
	im->tok = json_tokener_new_ex(64);
	/* UTF-8 is checked before json-c sees a line (import_json) */
	json_tokener_set_flags(im->tok, JSON_TOKENER_STRICT);
	for (int i = 0; i < o->types.n; i++) {
		const char *r = o->types.v[i], *eq = strchr(r, '=');
		int t = eq ? pea_type_parse(eq + 1) : 0;
		if (!eq || eq == r || !t)
			die_usage("--type '%s': expected NAME=TYPE (TYPE one of string, bytes, int, float, "
				  "bool, strlist, sparse, dense, ints, map, json)", r);
		im->rules = xrealloc(im->rules, (size_t)(im->nrules + 1) * sizeof *im->rules);
		im->rules[im->nrules].name = xstrndup(r, (size_t)(eq - r));
		im->rules[im->nrules].len = (size_t)(eq - r);
		im->rules[im->nrules].type = t;
		im->nrules++;
	}
	return im;
}

void importer_free(struct importer *im)
{
	if (!im)
		return;
	json_tokener_free(im->tok);
	for (int i = 0; i < im->nrules; i++)
		free(im->rules[i].name);
	free(im->rules);
	buf_release(&im->tmp);
	buf_release(&im->tmp2);
	free(im->idx);
	free(im->val);
	free(im->kv);
	free(im->fstart);
	free(im->flen);
	free(im);
}

/* the type a field must have: --type first, then the conventions */
static int wanted_type(struct importer *im, const char *name, size_t len)
{
	for (int i = 0; i < im->nrules; i++)
		if (im->rules[i].len == len && !memcmp(im->rules[i].name, name, len))
			return im->rules[i].type;
	return field_conventional_type(name, len);
}

static void vec_room(struct importer *im, size_t n)
{
	if (n > im->vcap) {
		im->vcap = n;
		im->idx = xrealloc(im->idx, n * sizeof *im->idx);
		im->val = xrealloc(im->val, n * sizeof *im->val);
	}
}

/* Shortest text of a double that reads back the same. */
static void fmt_double(struct buf *b, double d)
{
	char s[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(s, sizeof s, "%.*g", prec, d);
		if (strtod(s, NULL) == d)
			break;
	}
	buf_adds(b, s);
}

/* ------------------------------------------------------------------ JSON */

static int is_number(json_object *o)
{
	json_type t = json_object_get_type(o);
	return t == json_type_int || t == json_type_double;
}

static int index_key(const char *k, uint32_t *out)
{
	int64_t v;
	if (!*k || (k[0] == '0' && k[1]) || parse_i64(k, &v) || v < 0 || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* The natural type of a JSON value. */
static int json_natural(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_string: return PEA_STR;
	case json_type_int: return PEA_INT;
	case json_type_double: return PEA_FLOAT;
	case json_type_boolean: return PEA_BOOL;
	case json_type_array: {
		size_t n = json_object_array_length(o);
		int strs = 1, ints = 1, nums = 1;
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(o, i);
			json_type t = json_object_get_type(e);
			strs &= t == json_type_string;
			ints &= t == json_type_int;
			nums &= t == json_type_int || t == json_type_double;
		}
		if (strs)
			return PEA_STRLIST;
		return ints ? PEA_INTS : nums ? PEA_DENSE : PEA_JSON;
	}
	case json_type_object: {
		int n = json_object_object_length(o), idx = 1, nums = 1;
		if (n == 1) {
			json_object *b;
			if (json_object_object_get_ex(o, "base64", &b) &&
			    json_object_get_type(b) == json_type_string)
				return PEA_BYTES;
		}
		json_object_object_foreach(o, k, v) {
			uint32_t u;
			nums &= is_number(v);
			idx &= index_key(k, &u) == 0;
		}
		if (!nums || !n)
			return n ? PEA_JSON : PEA_MAP;
		return idx ? PEA_SPARSE : PEA_MAP;
	}
	default:
		return PEA_JSON; /* null */
	}
}

/* Can a value of natural type `from` be stored as `to`? */
static int json_convertible(json_object *o, int from, int to)
{
	if (from == to)
		return 1;
	switch (to) {
	case PEA_STR: return from == PEA_INT || from == PEA_FLOAT || from == PEA_BOOL;
	case PEA_FLOAT: return from == PEA_INT;
	case PEA_INT: return from == PEA_FLOAT && json_object_get_double(o) == floor(json_object_get_double(o)) &&
			     fabs(json_object_get_double(o)) < 9e15;
	case PEA_DENSE: return from == PEA_INTS || (from == PEA_STRLIST && !json_object_array_length(o));
	case PEA_INTS: return from == PEA_STRLIST && !json_object_array_length(o);
	case PEA_SPARSE: return from == PEA_MAP && !json_object_object_length(o);
	case PEA_MAP: return from == PEA_SPARSE;
	case PEA_STRLIST: return 0;
	case PEA_JSON: return 1;
	default: return 0;
	}
}

static int put_sparse_obj(struct importer *im, pea_fb *fb, int fid, json_object *o, const char *k,
			  struct pea_err *e)
{
	size_t n = (size_t)json_object_object_length(o), i = 0;
	vec_room(im, n);
	json_object_object_foreach(o, key, v) {
		index_key(key, &im->idx[i]);
		im->val[i] = (float)json_object_get_double(v);
		i++;
	}
	/* insertion sort: keys are usually already in order */
	for (size_t a = 1; a < n; a++) {
		uint32_t ki = im->idx[a];
		float kv = im->val[a];
		size_t b = a;
		while (b > 0 && im->idx[b - 1] > ki) {
			im->idx[b] = im->idx[b - 1];
			im->val[b] = im->val[b - 1];
			b--;
		}
		im->idx[b] = ki;
		im->val[b] = kv;
	}
	for (size_t a = 1; a < n; a++)
		if (im->idx[a] == im->idx[a - 1]) {
			err_set(e, "field '%s': index %u twice", k, im->idx[a]);
			return -1;
		}
	fb_sparse(fb, fid, im->idx, im->val, (uint32_t)n);
	return 0;
}

/* json-c decodes escapes such as a lone \ud800 into bytes that are not
 * UTF-8, so every string it hands over is checked before it is stored. */
static int json_utf8(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_string:
		return utf8_valid((const uint8_t *)json_object_get_string(o),
				  (size_t)json_object_get_string_len(o));
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!json_utf8(json_object_array_get_idx(o, i)))
				return 0;
		return 1;
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			if (!utf8_valid((const uint8_t *)k, strlen(k)) || !json_utf8(v))
				return 0;
		}
		return 1;
	}
	default:
		return 1;
	}
}

static int put_json(struct importer *im, pea_fb *fb, int fid, int type, json_object *o,
		    const char *k, struct pea_err *e)
{
	switch (type) {
	case PEA_STR:
		if (json_object_get_type(o) == json_type_string) {
			fb_str(fb, fid, json_object_get_string(o), (size_t)json_object_get_string_len(o));
		} else {
			buf_reset(&im->tmp);
			if (json_object_get_type(o) == json_type_double)
				fmt_double(&im->tmp, json_object_get_double(o));
			else
				buf_adds(&im->tmp, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			fb_str(fb, fid, (const char *)im->tmp.p, im->tmp.len);
		}
		break;
	case PEA_INT:
		if (json_object_get_type(o) == json_type_double)
			fb_int(fb, fid, (int64_t)json_object_get_double(o));
		else
			fb_int(fb, fid, json_object_get_int64(o));
		break;
	case PEA_FLOAT: fb_float(fb, fid, json_object_get_double(o)); break;
	case PEA_BOOL: fb_bool(fb, fid, json_object_get_boolean(o)); break;
	case PEA_STRLIST: {
		size_t n = json_object_array_length(o);
		fb_list_begin(fb, fid, PEA_STRLIST);
		for (size_t i = 0; i < n; i++) {
			json_object *s = json_object_array_get_idx(o, i);
			fb_list_str(fb, json_object_get_string(s), (size_t)json_object_get_string_len(s));
		}
		fb_list_end(fb);
		break;
	}
	case PEA_INTS: {
		size_t n = json_object_array_length(o);
		fb_list_begin(fb, fid, PEA_INTS);
		for (size_t i = 0; i < n; i++)
			fb_list_int(fb, json_object_get_int64(json_object_array_get_idx(o, i)));
		fb_list_end(fb);
		break;
	}
	case PEA_DENSE: {
		size_t n = json_object_array_length(o);
		vec_room(im, n);
		for (size_t i = 0; i < n; i++)
			im->val[i] = (float)json_object_get_double(json_object_array_get_idx(o, i));
		fb_dense(fb, fid, im->val, (uint32_t)n);
		break;
	}
	case PEA_SPARSE:
		return put_sparse_obj(im, fb, fid, o, k, e);
	case PEA_MAP: {
		fb_list_begin(fb, fid, PEA_MAP);
		json_object_object_foreach(o, key, v) fb_list_kv(fb, key, strlen(key), json_object_get_double(v));
		fb_list_end(fb);
		break;
	}
	case PEA_BYTES: {
		json_object *b;
		json_object_object_get_ex(o, "base64", &b);
		const char *s = json_object_get_string(b);
		size_t sl = (size_t)json_object_get_string_len(b), bl;
		buf_reset(&im->tmp);
		uint8_t *dst = buf_grow(&im->tmp, sl);
		if (sodium_base642bin(dst, sl, s, sl, NULL, &bl, NULL, sodium_base64_VARIANT_ORIGINAL)) {
			err_set(e, "field '%s': invalid base64", k);
			return -1;
		}
		fb_bytes(fb, fid, dst, bl);
		break;
	}
	case PEA_JSON: {
		const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		fb_json(fb, fid, s, strlen(s));
		break;
	}
	}
	return 0;
}

static int import_json(struct importer *im, const char *line, size_t n, pea_fb *fb,
		       uint64_t *repaired, struct pea_err *e)
{
	size_t i = 0;
	/* the line's bytes are checked once, here: with repair on, invalid
	 * bytes become U+FFFD before json-c sees the line */
	size_t valid = utf8_valid_len((const uint8_t *)line, n);
	if (valid < n) {
		if (!im->o->repair_utf8) {
			err_set(e, "invalid JSON at column %zu: invalid UTF-8", valid + 1);
			return -1;
		}
		buf_reset(&im->tmp2);
		*repaired += utf8_repair(&im->tmp2, (const uint8_t *)line, n);
		line = (const char *)im->tmp2.p;
		n = im->tmp2.len;
	}
	/* valid bytes make valid strings, but for \u escapes (json-c turns a
	 * lone surrogate into bytes that are not UTF-8) */
	int escapes = memmem(line, n, "\\u", 2) != NULL;
	while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
		i++;
	if (i == n)
		return 2;
	json_tokener_reset(im->tok);
	json_object *o = json_tokener_parse_ex(im->tok, line, (int)n);
	enum json_tokener_error je = json_tokener_get_error(im->tok);
	if (!o || je != json_tokener_success) {
		if (je == json_tokener_continue)
			err_set(e, "invalid JSON: unexpected end of line");
		else
			err_set(e, "invalid JSON at column %zu: %s",
				json_tokener_get_parse_end(im->tok) + 1, json_tokener_error_desc(je));
		json_object_put(o);
		return -1;
	}
	for (size_t k = json_tokener_get_parse_end(im->tok); k < n; k++)
		if (line[k] != ' ' && line[k] != '\t' && line[k] != '\r') {
			err_set(e, "invalid JSON at column %zu: text after the object", k + 1);
			json_object_put(o);
			return -1;
		}
	if (json_object_get_type(o) != json_type_object) {
		err_set(e, "not a JSON object (each line must be {...})");
		json_object_put(o);
		return -1;
	}
	size_t nk = (size_t)json_object_object_length(o), j = 0;
	if (nk > im->kvcap) {
		im->kvcap = nk;
		im->kv = xrealloc(im->kv, nk * sizeof *im->kv);
	}
	int conflict = 0;
	json_object_object_foreach(o, key, val) {
		size_t kl = strlen(key);
		int nat = json_natural(val), want = wanted_type(im, key, kl), type = nat;
		if (want && want != nat) {
			if (!json_convertible(val, nat, want)) {
				err_set(e, "field '%s' must be %s, not %s", key, pea_type_name(want),
					pea_type_name(nat));
				json_object_put(o);
				return -1;
			}
			type = want;
		}
		if (escapes && (!utf8_valid((const uint8_t *)key, kl) || !json_utf8(val))) {
			err_set(e, "field '%.40s': invalid UTF-8 (a lone surrogate escape?)", key);
			json_object_put(o);
			return -1;
		}
		if (kl < 1 || kl > PEA_MAX_NAME) {
			err_set(e, "field name of %zu bytes (must be 1 to %d)", kl, PEA_MAX_NAME);
			json_object_put(o);
			return -1;
		}
		im->kv[j].k = key;
		im->kv[j].klen = kl;
		im->kv[j].v = val;
		im->kv[j].type = type;
		im->kv[j].fid = fb_field_n(fb, key, kl, type);
		if (im->kv[j].fid < 0)
			conflict = 1;
		j++;
	}
	if (conflict) {
		json_object_put(o);
		return 1;
	}
	fb_begin(fb);
	for (j = 0; j < nk; j++)
		if (put_json(im, fb, im->kv[j].fid, im->kv[j].type, im->kv[j].v, im->kv[j].k, e)) {
			fb_abort(fb);
			json_object_put(o);
			return -1;
		}
	fb_end(fb);
	json_object_put(o);
	return 0;
}

/* ------------------------------------------------------------ plain text */

/* Valid UTF-8 text as is; otherwise repaired into tmp (counted) or refused. */
static const char *text_ok(struct importer *im, struct buf *tmp, const char *s, size_t *n,
			   uint64_t *repaired, struct pea_err *e)
{
	if (utf8_valid((const uint8_t *)s, *n))
		return s;
	if (!im->o->repair_utf8) {
		err_set(e, "invalid UTF-8");
		return NULL;
	}
	buf_reset(tmp);
	*repaired += utf8_repair(tmp, (const uint8_t *)s, *n);
	*n = tmp->len;
	return (const char *)tmp->p;
}

static int import_text(struct importer *im, const char *line, size_t n, pea_fb *fb,
		       uint64_t *repaired, struct pea_err *e)
{
	if (n && line[n - 1] == '\r')
		n--;
	const char *s = text_ok(im, &im->tmp, line, &n, repaired, e);
	if (!s)
		return -1;
	int fid = fb_field(fb, im->text_field, PEA_STR);
	if (fid < 0)
		return 1;
	fb_begin(fb);
	fb_str(fb, fid, s, n);
	fb_end(fb);
	return 0;
}

/* -------------------------------------------------------------- fastText */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int import_fasttext(struct importer *im, const char *line, size_t n, pea_fb *fb,
			   uint64_t *repaired, struct pea_err *e)
{
	static const char pre[] = "__label__";
	const size_t pl = sizeof pre - 1;
	size_t i = 0, nl = 0, lab[256][2];
	const char *s = text_ok(im, &im->tmp2, line, &n, repaired, e);
	if (!s)
		return -1;
	for (;;) {
		while (i < n && is_space(s[i]))
			i++;
		if (n - i < pl || memcmp(s + i, pre, pl))
			break;
		size_t j = i + pl;
		while (j < n && !is_space(s[j]))
			j++;
		if (j == i + pl) {
			err_set(e, "empty label");
			return -1;
		}
		if (nl == ARRAY_SIZE(lab)) {
			err_set(e, "more than %zu labels", ARRAY_SIZE(lab));
			return -1;
		}
		lab[nl][0] = i + pl;
		lab[nl][1] = j - i - pl;
		nl++;
		i = j;
	}
	size_t end = n;
	while (end > i && is_space(s[end - 1]))
		end--;
	int ft = fb_field(fb, im->text_field, PEA_STR);
	int fl = nl == 1 ? fb_field(fb, "label", PEA_STR) : nl ? fb_field(fb, "labels", PEA_STRLIST) : 0;
	if (ft < 0 || fl < 0)
		return 1;
	fb_begin(fb);
	if (nl == 1) {
		fb_str(fb, fl, s + lab[0][0], lab[0][1]);
	} else if (nl) {
		fb_list_begin(fb, fl, PEA_STRLIST);
		for (size_t k = 0; k < nl; k++)
			fb_list_str(fb, s + lab[k][0], lab[k][1]);
		fb_list_end(fb);
	}
	fb_str(fb, ft, s + i, end - i);
	fb_end(fb);
	return 0;
}

/* -------------------------------------------------------------- svmlight */

static int import_svmlight(struct importer *im, const char *line, size_t n, pea_fb *fb,
			   struct pea_err *e)
{
	size_t i = 0;
	while (i < n && is_space(line[i]))
		i++;
	if (i == n || line[i] == '#')
		return 2;
	/* work on a NUL-terminated copy so strtod/strtoul stop safely */
	buf_reset(&im->tmp);
	buf_add(&im->tmp, line, n);
	char *s = (char *)buf_cstr(&im->tmp), *p = s + i;
	char *comment = memchr(p, '#', n - i);
	if (comment)
		*comment++ = 0;
	char *lab = p;
	while (*p && !is_space(*p))
		p++;
	size_t labn = (size_t)(p - lab);
	size_t nnz = 0;
	int64_t qid = -1;
	while (*p) {
		while (is_space(*p))
			p++;
		if (!*p)
			break;
		char *colon = strchr(p, ':'), *end;
		if (!colon) {
			err_set(e, "expected INDEX:VALUE at column %zu", (size_t)(p - s) + 1);
			return -1;
		}
		if (!strncmp(p, "qid:", 4)) {
			qid = strtoll(colon + 1, &end, 10);
			if (end == colon + 1 || (*end && !is_space(*end))) {
				err_set(e, "bad qid at column %zu", (size_t)(p - s) + 1);
				return -1;
			}
			p = end;
			continue;
		}
		if (*p < '0' || *p > '9') {
			err_set(e, "bad feature index at column %zu", (size_t)(p - s) + 1);
			return -1;
		}
		unsigned long long ix = strtoull(p, &end, 10);
		if (end != colon || ix > UINT32_MAX || (!im->o->zero_based && ix == 0)) {
			err_set(e, "bad feature index at column %zu%s", (size_t)(p - s) + 1,
				ix == 0 && end == colon ? " (indices start at 1; --zero-based for 0)" : "");
			return -1;
		}
		double v = strtod(colon + 1, &end);
		if (end == colon + 1 || (*end && !is_space(*end)) || !isfinite(v)) {
			err_set(e, "bad feature value at column %zu", (size_t)(colon - s) + 2);
			return -1;
		}
		vec_room(im, nnz + 1);
		im->idx[nnz] = (uint32_t)(ix - (im->o->zero_based ? 0 : 1));
		im->val[nnz] = (float)v;
		if (nnz && im->idx[nnz] <= im->idx[nnz - 1]) {
			err_set(e, "feature indices not increasing at column %zu", (size_t)(p - s) + 1);
			return -1;
		}
		nnz++;
		p = end;
	}
	if (!utf8_valid((const uint8_t *)lab, labn)) {
		err_set(e, "invalid UTF-8 in the label");
		return -1;
	}
	size_t cl = 0;
	if (comment) {
		while (is_space(*comment))
			comment++;
		cl = strlen(comment);
		while (cl && is_space(comment[cl - 1]))
			cl--;
		if (!utf8_valid((const uint8_t *)comment, cl)) {
			err_set(e, "invalid UTF-8 in the comment");
			return -1;
		}
	}
	int fl = fb_field(fb, "label", PEA_STR), ff = fb_field(fb, "features", PEA_SPARSE);
	int fq = qid >= 0 ? fb_field(fb, "qid", PEA_INT) : 0;
	int fc = cl ? fb_field(fb, "comment", PEA_STR) : 0;
	if (fl < 0 || ff < 0 || fq < 0 || fc < 0)
		return 1;
	fb_begin(fb);
	fb_str(fb, fl, lab, labn);
	fb_sparse(fb, ff, im->idx, im->val, (uint32_t)nnz);
	if (qid >= 0)
		fb_int(fb, fq, qid);
	if (cl)
		fb_str(fb, fc, comment, cl);
	fb_end(fb);
	return 0;
}

/* --------------------------------------------------------------- CSV/TSV */

struct csv_header {
	int quoted;
	int ncols;
	char **names;
	size_t *lens;
};

size_t csv_record_end(const uint8_t *p, size_t n, int quoted, int eof)
{
	int inq = 0;
	for (size_t i = 0; i < n; i++) {
		if (quoted && p[i] == '"')
			inq = !inq;
		else if (p[i] == '\n' && !inq)
			return i + 1;
	}
	return eof && !inq ? n : 0;
}

/* Split one record into fields; unquoted values point into the line, quoted
 * and escaped ones are unescaped into im->tmp (offsets stored, since tmp may
 * move while it grows). */
static int csv_split(struct importer *im, const char *s, size_t n, int quoted, int *nf,
		     const char **bases, struct pea_err *e)
{
	size_t i = 0;
	int k = 0;
	if (n && s[n - 1] == '\n')
		n--;
	if (n && s[n - 1] == '\r')
		n--;
	buf_reset(&im->tmp);
	for (;;) {
		if ((size_t)k == im->fcap) {
			im->fcap = im->fcap ? im->fcap * 2 : 16;
			im->fstart = xrealloc(im->fstart, im->fcap * sizeof *im->fstart);
			im->flen = xrealloc(im->flen, im->fcap * sizeof *im->flen);
		}
		if (quoted && i < n && s[i] == '"') {
			size_t start = im->tmp.len;
			i++;
			for (;;) {
				if (i >= n) {
					err_set(e, "unterminated quoted field");
					return -1;
				}
				if (s[i] == '"') {
					if (i + 1 < n && s[i + 1] == '"') {
						buf_addc(&im->tmp, '"');
						i += 2;
						continue;
					}
					i++;
					break;
				}
				buf_addc(&im->tmp, (uint8_t)s[i++]);
			}
			if (i < n && s[i] != ',') {
				err_set(e, "text after a closing quote at column %zu", i + 1);
				return -1;
			}
			im->fstart[k] = start | ((size_t)1 << (sizeof(size_t) * 8 - 1));
			im->flen[k] = im->tmp.len - start;
		} else if (!quoted && memchr(s + i, '\\', n - i)) {
			size_t start = im->tmp.len;
			while (i < n && s[i] != '\t') {
				char c = s[i++];
				if (c == '\\' && i < n) {
					char d = s[i++];
					c = d == 't' ? '\t' : d == 'n' ? '\n' : d == 'r' ? '\r' : d;
				}
				buf_addc(&im->tmp, (uint8_t)c);
			}
			im->fstart[k] = start | ((size_t)1 << (sizeof(size_t) * 8 - 1));
			im->flen[k] = im->tmp.len - start;
		} else {
			char sep = quoted ? ',' : '\t';
			const char *q = memchr(s + i, sep, n - i);
			size_t end = q ? (size_t)(q - s) : n;
			im->fstart[k] = i;
			im->flen[k] = end - i;
			i = end;
		}
		k++;
		if (i >= n)
			break;
		i++; /* the separator */
		if (i == n) {
			/* a trailing separator: one more, empty field */
			if ((size_t)k == im->fcap) {
				im->fcap *= 2;
				im->fstart = xrealloc(im->fstart, im->fcap * sizeof *im->fstart);
				im->flen = xrealloc(im->flen, im->fcap * sizeof *im->flen);
			}
			im->fstart[k] = i;
			im->flen[k] = 0;
			k++;
			break;
		}
	}
	*nf = k;
	bases[0] = s;
	bases[1] = (const char *)im->tmp.p;
	return 0;
}

static const char *field_ptr(struct importer *im, int k, const char **bases)
{
	size_t top = (size_t)1 << (sizeof(size_t) * 8 - 1);
	return im->fstart[k] & top ? bases[1] + (im->fstart[k] & ~top) : bases[0] + im->fstart[k];
}

struct csv_header *csv_header_parse(const char *p, size_t n, int quoted, const struct in_opts *o,
				    struct pea_err *e)
{
	struct importer *im = importer_new(o);
	const char *bases[2];
	int nf;
	struct csv_header *h = NULL;
	if (csv_split(im, p, n, quoted, &nf, bases, e))
		goto out;
	h = xcalloc(1, sizeof *h);
	h->quoted = quoted;
	h->ncols = nf;
	h->names = xcalloc((size_t)nf, sizeof *h->names);
	h->lens = xcalloc((size_t)nf, sizeof *h->lens);
	for (int k = 0; k < nf; k++) {
		const char *s = field_ptr(im, k, bases);
		size_t l = im->flen[k];
		if (!l || l > PEA_MAX_NAME || !utf8_valid((const uint8_t *)s, l)) {
			err_set(e, "header column %d: a name must be 1 to %d bytes of UTF-8", k + 1, PEA_MAX_NAME);
			goto bad;
		}
		h->names[k] = xstrndup(s, l);
		h->lens[k] = l;
		for (int j = 0; j < k; j++)
			if (h->lens[j] == l && !memcmp(h->names[j], s, l)) {
				err_set(e, "header names column '%s' twice", h->names[k]);
				goto bad;
			}
	}
	goto out;
bad:
	csv_header_free(h);
	h = NULL;
out:
	importer_free(im);
	return h;
}

void csv_header_free(struct csv_header *h)
{
	if (!h)
		return;
	for (int k = 0; k < h->ncols; k++)
		free(h->names[k]);
	free(h->names);
	free(h->lens);
	free(h);
}

/* the strict number grammar of CSV type inference: no leading zeros, so
 * "02134" stays a string */
static int csv_number(const char *s, size_t n, int64_t *iv, double *dv)
{
	size_t i = 0;
	int frac = 0;
	if (i < n && s[i] == '-')
		i++;
	if (i == n || s[i] < '0' || s[i] > '9')
		return 0;
	if (s[i] == '0' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9')
		return 0;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i < n && s[i] == '.') {
		frac = 1;
		i++;
		if (i == n || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		frac = 1;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i == n || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i != n || n > 64)
		return 0;
	char tmp[72];
	memcpy(tmp, s, n);
	tmp[n] = 0;
	if (!frac && !parse_i64(tmp, iv))
		return PEA_INT;
	if (parse_f64(tmp, dv))
		return 0;
	return PEA_FLOAT;
}

static int import_csv(struct importer *im, const struct csv_header *h, const char *line, size_t n,
		      pea_fb *fb, struct pea_err *e)
{
	const char *bases[2];
	int nf;
	if (csv_split(im, line, n, h->quoted, &nf, bases, e))
		return -1;
	if (nf == 1 && im->flen[0] == 0 && h->ncols > 1)
		return 2; /* a blank line */
	if (nf != h->ncols) {
		err_set(e, "%d fields, the header has %d", nf, h->ncols);
		return -1;
	}
	if ((size_t)nf > im->kvcap) {
		im->kvcap = (size_t)nf;
		im->kv = xrealloc(im->kv, im->kvcap * sizeof *im->kv);
	}
	int conflict = 0;
	for (int k = 0; k < nf; k++) {
		const char *s = field_ptr(im, k, bases);
		size_t l = im->flen[k];
		int want = wanted_type(im, h->names[k], h->lens[k]), type = PEA_STR;
		int64_t iv;
		double dv;
		if (!utf8_valid((const uint8_t *)s, l)) {
			err_set(e, "column '%s': invalid UTF-8", h->names[k]);
			return -1;
		}
		if (want && want != PEA_STR) {
			if (!l) {
				type = 0; /* an empty cell of a typed column: missing */
			} else {
				int nt = csv_number(s, l, &iv, &dv);
				if (want == PEA_INT && nt == PEA_INT)
					type = PEA_INT;
				else if (want == PEA_FLOAT && nt)
					type = PEA_FLOAT;
				else if (want == PEA_BOOL && ((l == 4 && !memcmp(s, "true", 4)) ||
							      (l == 5 && !memcmp(s, "false", 5))))
					type = PEA_BOOL;
				else {
					err_set(e, "column '%s': '%.*s' is not of type %s", h->names[k],
						(int)(l > 40 ? 40 : l), s, pea_type_name(want));
					return -1;
				}
			}
		} else if (!want && !im->o->csv_strings && l) {
			int nt = csv_number(s, l, &iv, &dv);
			if (nt)
				type = nt;
		}
		im->kv[k].type = type;
		im->kv[k].fid = type ? fb_field_n(fb, h->names[k], h->lens[k], type) : 0;
		if (im->kv[k].fid < 0)
			conflict = 1;
	}
	if (conflict)
		return 1;
	fb_begin(fb);
	for (int k = 0; k < nf; k++) {
		const char *s = field_ptr(im, k, bases);
		size_t l = im->flen[k];
		int64_t iv;
		double dv;
		switch (im->kv[k].type) {
		case 0: break;
		case PEA_STR: fb_str(fb, im->kv[k].fid, s, l); break;
		case PEA_BOOL: fb_bool(fb, im->kv[k].fid, s[0] == 't'); break;
		case PEA_INT:
			csv_number(s, l, &iv, &dv);
			fb_int(fb, im->kv[k].fid, iv);
			break;
		case PEA_FLOAT:
			if (csv_number(s, l, &iv, &dv) == PEA_INT)
				dv = (double)iv;
			fb_float(fb, im->kv[k].fid, dv);
			break;
		}
	}
	fb_end(fb);
	return 0;
}

int import_line(struct importer *im, enum in_format fmt, const struct csv_header *csv,
		const char *line, size_t n, pea_fb *fb, uint64_t *repaired, struct pea_err *e)
{
	switch (fmt) {
	case IN_JSON: return import_json(im, line, n, fb, repaired, e);
	case IN_TEXT: return import_text(im, line, n, fb, repaired, e);
	case IN_FASTTEXT: return import_fasttext(im, line, n, fb, repaired, e);
	case IN_SVMLIGHT: return import_svmlight(im, line, n, fb, e);
	case IN_CSV:
	case IN_TSV: return import_csv(im, csv, line, n, fb, e);
	default:
		err_set(e, "internal error: not a text format");
		return -1;
	}
}

/* ---------------------------------------------------------- unit decoder */

struct unit_dec {
	pea_in *in;
	ZSTD_DCtx *dctx;
	pea_fb *fb;
	struct importer *im;
	const struct pea_unit *u;
	size_t pos;	 /* text: next byte of the unit */
	uint64_t line;	 /* text: line number at pos */
	uint64_t errline;
	int done;
	int keep;	 /* frames own their bytes: they outlive the unit */
	uint64_t *rec_line; /* text: line of each record of the last frame */
	size_t rec_cap;
};

struct unit_dec *ud_new(pea_in *in)
{
	struct unit_dec *d = xcalloc(1, sizeof *d);
	d->in = in;
	d->dctx = ZSTD_createDCtx();
	d->fb = fb_new();
	d->im = importer_new(in_options(in));
	return d;
}

void ud_free(struct unit_dec *d)
{
	if (!d)
		return;
	ZSTD_freeDCtx(d->dctx);
	fb_free(d->fb);
	importer_free(d->im);
	free(d->rec_line);
	free(d);
}

void ud_keep_frames(struct unit_dec *d)
{
	d->keep = 1;
}

void ud_start(struct unit_dec *d, const struct pea_unit *u)
{
	d->u = u;
	d->pos = 0;
	d->line = u->index;
	d->errline = u->index;
	d->done = 0;
}

int ud_next(struct unit_dec *d, pea_frame *f, struct pea_err *e)
{
	const struct pea_unit *u = d->u;
	if (d->done)
		return 0;
	if (u->kind == IN_PEA) {
		d->done = 1;
		int r = d->keep ? frame_load(f, &u->hdr, u->hdrbytes, u->data.p, d->dctx, e)
				: frame_use(f, &u->hdr, u->hdrbytes, u->data.p, d->dctx, e);
		return r ? -1 : 1;
	}
	const char *p = (const char *)u->data.p;
	size_t n = u->data.len;
	uint64_t repaired = 0;
	fb_reset(d->fb);
	while (d->pos < n) {
		size_t len;
		if (u->kind == IN_CSV) {
			len = csv_record_end((const uint8_t *)p + d->pos, n - d->pos, 1, 1);
		} else {
			const char *nl = memchr(p + d->pos, '\n', n - d->pos);
			len = nl ? (size_t)(nl - p - (ptrdiff_t)d->pos) + 1 : n - d->pos;
		}
		size_t body = len;
		if (u->kind != IN_CSV && body && p[d->pos + body - 1] == '\n')
			body--;
		int r = import_line(d->im, u->kind, u->csv, p + d->pos, body, d->fb, &repaired, e);
		if (r < 0) {
			d->errline = d->line;
			return -1;
		}
		if (r == 1)
			break; /* a type change: this frame ends here */
		if (r == 0) {
			uint32_t k = fb_nrec(d->fb) - 1;
			if (k >= d->rec_cap) {
				d->rec_cap = d->rec_cap ? d->rec_cap * 2 : 1024;
				d->rec_line = xrealloc(d->rec_line, d->rec_cap * sizeof *d->rec_line);
			}
			d->rec_line[k] = d->line;
		}
		if (u->kind != IN_CSV) {
			d->line += body != len; /* a line a record */
		} else {
			/* quoted fields may hold newlines */
			const char *q = p + d->pos, *qe = q + len;
			while ((q = memchr(q, '\n', (size_t)(qe - q)))) {
				d->line++;
				q++;
			}
		}
		d->pos += len;
	}
	if (repaired)
		in_add_repaired(d->in, repaired);
	if (d->pos >= n)
		d->done = 1;
	if (!fb_nrec(d->fb)) {
		if (!d->done)
			die("internal error: a text unit made no progress");
		return 0;
	}
	fb_to_frame(d->fb, f);
	return 1;
}

void ud_unit_where(const struct unit_dec *d, char *dst, size_t n)
{
	const struct pea_unit *u = d->u;
	if (u->kind == IN_PEA)
		snprintf(dst, n, "%s: frame %llu at byte %llu", u->file, (unsigned long long)u->index,
			 (unsigned long long)u->offset);
	else
		snprintf(dst, n, "%s: line %llu", u->file, (unsigned long long)d->errline);
}

void ud_where(const struct unit_dec *d, uint32_t rec, char *dst, size_t n)
{
	const struct pea_unit *u = d->u;
	if (u->kind == IN_PEA)
		snprintf(dst, n, "%s: frame %llu at byte %llu: record %u", u->file,
			 (unsigned long long)u->index, (unsigned long long)u->offset, rec + 1);
	else
		snprintf(dst, n, "%s: line %llu", u->file,
			 (unsigned long long)(rec < d->rec_cap ? d->rec_line[rec] : d->line));
}
