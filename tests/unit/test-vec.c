/* Unit tests of vec.c: hashing golden values, signs and namespaces,
 * weighting against hand-computed figures, vocabulary fit/apply and the
 * feature-names file round trip. */
#include "tap.h"
#include "hash.h"
#include "vec.h"

#include <math.h>
#include <unistd.h>

/* a frame of one record per document: tokens (strlist) and x (float) */
static pea_frame *docs(const char *const *d, int n)
{
	pea_fb *fb = fb_new();
	int ft = fb_xfield(fb, "tokens", PEA_STRLIST), fx = fb_xfield(fb, "x", PEA_FLOAT);
	for (int i = 0; i < n; i++) {
		fb_begin(fb);
		fb_list_begin(fb, ft, PEA_STRLIST);
		const char *p = d[i];
		while (*p) {
			const char *e = strchr(p, ' ');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			fb_list_str(fb, p, len);
			p += len + (e ? 1 : 0);
		}
		fb_list_end(fb);
		fb_float(fb, fx, i + 1.5);
		fb_end(fb);
	}
	pea_frame *f = frame_new();
	fb_to_frame(fb, f);
	fb_free(fb);
	return f;
}

/* Does a frame with one strlist of these items decode?  (The builder
 * does not check UTF-8; the decoder must, item by item or run by run.) */
static int list_decodes(const char *const *items, const size_t *lens, int n)
{
	pea_fb *fb = fb_new();
	int fid = fb_xfield(fb, "tokens", PEA_STRLIST);
	fb_begin(fb);
	fb_list_begin(fb, fid, PEA_STRLIST);
	for (int i = 0; i < n; i++)
		fb_list_str(fb, items[i], lens[i]);
	fb_list_end(fb);
	fb_end(fb);
	struct buf b = BUF_INIT;
	fb_encode(fb, 0, NULL, &b);
	struct pea_hdr h;
	struct pea_err e;
	pea_frame *f = frame_new();
	int ok = !hdr_parse(b.p, &h, &e) && !frame_load(f, &h, b.p, b.p + PEA_HDR_LEN, NULL, &e);
	frame_free(f);
	fb_free(fb);
	buf_release(&b);
	return ok;
}

static struct vec_opts opts(void)
{
	struct vec_opts o = {0};
	o.bits = 20;
	static const char *tokens[] = {"tokens", NULL};
	o.fields.v = tokens;
	o.fields.n = 1;
	o.k1 = 1.2;
	o.b = 0.75;
	o.min_df = 1;
	o.max_df = 1;
	return o;
}

static uint32_t vn;
static const uint32_t *vi;
static const float *vv;

static void apply(struct vec_thread *t, const pea_frame *f, uint32_t r, const pea_val **num)
{
	const pea_val *tok[1] = {frame_get(f, r, frame_field(f, "tokens"))};
	struct vec_rec rec = {tok, num};
	struct pea_err e;
	if (vec_apply(t, &rec, &vi, &vv, &vn, &e))
		vn = UINT32_MAX;
}

static void fit(const struct vec_opts *o, const pea_frame *f, const char *path)
{
	struct vec_fit *ft = vec_fit_new(o, 2);
	struct pea_err e;
	for (uint32_t r = 0; r < frame_nrec(f); r++) {
		const pea_val *tok[1] = {frame_get(f, r, frame_field(f, "tokens"))};
		const pea_val *num[1] = {frame_get(f, r, frame_field(f, "x"))};
		struct vec_rec rec = {tok, num};
		vec_fit_rec(ft, (int)(r % 2), &rec, &e);
	}
	ok(!vec_fit_write(ft, path, &e), "fit written");
	vec_fit_free(ft);
}

int main(void)
{
	struct pea_err e;
	char tmpl[] = "/tmp/pea-test-vec.XXXXXX";
	int fd = mkstemp(tmpl);
	close(fd);
	char names[64];
	snprintf(names, sizeof names, "%s.names", tmpl);

	/* token lists are checked for UTF-8 as a whole where they can be */
	{
		static char longok[200], longbad[200];
		memset(longok, 'x', sizeof longok);
		memset(longbad, 'y', sizeof longbad);
		longbad[150] = (char)0xff;
		const char *good[] = {"caf\xc3\xa9", "", "ok", longok, "\xe6\x97\xa5"};
		size_t glen[] = {5, 0, 2, sizeof longok, 3};
		ok(list_decodes(good, glen, 5), "a valid list with short and long items decodes");
		const char *b1[] = {"ok", "caf\xc3", "fine"};
		size_t l1[] = {2, 4, 4};
		ok(!list_decodes(b1, l1, 3), "a truncated sequence in a short item is refused");
		const char *b2[] = {"a\xc3", "\xa9" "b"};
		size_t l2[] = {2, 2};
		ok(!list_decodes(b2, l2, 2), "a sequence split across two items is refused");
		const char *b3[] = {"\xff", "ok", longok};
		size_t l3[] = {1, 2, sizeof longok};
		ok(!list_decodes(b3, l3, 3), "a bad short item before a long one is refused");
		const char *b4[] = {"ok", longbad, "ok"};
		size_t l4[] = {2, sizeof longbad, 2};
		ok(!list_decodes(b4, l4, 3), "a bad long item is refused");
	}

	/* golden values: XXH3 is frozen by its specification */
	ok(hash_bytes("", 0, 0) == 0x2d06800538d394c2ull, "XXH3-64 of nothing (the spec's test vector)");
	uint64_t seed = hash_bytes("tokens", 6, 0);
	ok(seed == 0xfdea74e3b306f002ull, "namespace seed of 'tokens'");
	ok(hash_bytes("hello", 5, seed) == 0x127910d7ba373ccaull, "hash of 'hello' in namespace tokens");

	struct vec_opts o = opts();
	struct vec *v = vec_new(&o, &e);
	is_str(vec_fspace(v), "hash:xxh3:bits=20:signed:f=tokens:w=count:n=none", "feature space name");
	struct vec_thread *t = vec_thread_new(v, 1);
	const char *d1[] = {"hello world hello", "spam"};
	pea_frame *f = docs(d1, 2);
	apply(t, f, 0, NULL);
	is_int(vn, 2, "two features");
	ok(vn == 2 && vi[0] == 469925 && vv[0] == -1.0f, "world -> 469925, sign -1");
	ok(vn == 2 && vi[1] == 474314 && vv[1] == 2.0f, "hello -> 474314, twice, sign +1");
	apply(t, f, 1, NULL);
	ok(vn == 1 && vi[0] == 553087 && vv[0] == -1.0f, "spam -> 553087, sign -1");
	vec_names_write(v, &t, 1, 8, names);
	struct vec_names *nm = vec_names_open(names, &e);
	ok(nm != NULL, "names file opens");
	size_t len;
	const char *p = nm ? vec_names_get(nm, 474314, &len) : NULL;
	ok(p && len == 5 && !memcmp(p, "hello", 5), "bucket 474314 is named hello");
	ok(nm && !vec_names_get(nm, 1, &len), "an unused bucket has no name");
	uint32_t cnt = 0;
	const int8_t *sg = nm ? vec_names_signs(nm, 469925, &cnt) : NULL;
	ok(sg && cnt == 1 && sg[0] == -1, "world subtracts from its bucket (sign -1)");
	sg = nm ? vec_names_signs(nm, 474314, &cnt) : NULL;
	ok(sg && cnt == 1 && sg[0] == 1, "hello adds to its bucket");
	is_str(nm ? vec_names_fspace(nm) : "", vec_fspace(v), "names carry the feature space");
	vec_names_close(nm);
	vec_thread_free(t);
	vec_free(v);
	frame_free(f);

	/* signs cancel: with 1 bit, many tokens share two buckets */
	o = opts();
	o.bits = 1;
	v = vec_new(&o, &e);
	t = vec_thread_new(v, 0);
	const char *d2[] = {"a b c d e f g h i j k l m n o p"};
	f = docs(d2, 1);
	apply(t, f, 0, NULL);
	double sum = 0;
	for (uint32_t i = 0; i < vn; i++)
		sum += fabs(vv[i]);
	ok(sum < 16, "signed hashing cancels collisions (sum %g of 16 tokens)", sum);
	vec_thread_free(t);
	vec_free(v);
	o.unsigned_hash = 1;
	v = vec_new(&o, &e);
	t = vec_thread_new(v, 0);
	apply(t, f, 0, NULL);
	sum = 0;
	for (uint32_t i = 0; i < vn; i++)
		sum += vv[i];
	near(sum, 16, 0, "unsigned hashing adds them up");
	vec_thread_free(t);
	vec_free(v);
	frame_free(f);

	/* tf-idf with a vocabulary, checked against the formula (and
	 * scikit-learn's TfidfVectorizer on the same documents) */
	o = opts();
	o.vocab = 1;
	o.weight = VEC_TFIDF;
	o.norm = VEC_NORM_L2;
	static const char *x[] = {"x", NULL};
	o.numeric.v = x;
	o.numeric.n = 1;
	const char *d3[] = {"a b", "a c c", "d"};
	f = docs(d3, 3);
	fit(&o, f, tmpl);
	v = vec_load(tmpl, &e);
	ok(v != NULL, "vocabulary model loads");
	ok(v && !strncmp(vec_fspace(v), "vec:", 4) && strlen(vec_fspace(v)) == 20, "model feature space is vec:DIGEST");
	is_int(v ? vec_dim(v) : 0, 5, "four terms and one numeric feature");
	t = vec_thread_new(v, 0);
	const pea_val *num[1] = {NULL};
	apply(t, f, 0, num);
	double ia = log(4.0 / 3) + 1, ib = log(4.0 / 2) + 1, n0 = sqrt(ia * ia + ib * ib);
	ok(vn == 2 && vi[0] == 0 && vi[1] == 1, "terms numbered in byte order: a=0, b=1");
	near(vn == 2 ? vv[0] : 0, ia / n0, 1e-6, "tf-idf of a, l2-normalized");
	near(vn == 2 ? vv[1] : 0, ib / n0, 1e-6, "tf-idf of b, l2-normalized");
	apply(t, f, 1, num);
	double ic = log(4.0 / 2) + 1, n1 = sqrt(ia * ia + 4 * ic * ic);
	near(vn == 2 ? vv[1] : 0, 2 * ic / n1, 1e-6, "tf 2 of c");
	num[0] = frame_get(f, 2, frame_field(f, "x"));
	apply(t, f, 2, num);
	ok(vn == 2 && vi[0] == 3 && vi[1] == 4, "term d and the numeric feature after the terms");
	near(vn == 2 ? vv[1] : 0, 3.5, 0, "numeric value as it is");
	const char *d4[] = {"zzz a"};
	pea_frame *g = docs(d4, 1);
	num[0] = NULL;
	apply(t, g, 0, num);
	ok(vn == 1 && vi[0] == 0 && fabs(vv[0] - 1) < 1e-6, "unknown terms are left out");
	vec_names_write(v, NULL, 0, 8, names);
	nm = vec_names_open(names, &e);
	p = nm ? vec_names_get(nm, 2, &len) : NULL;
	ok(p && len == 1 && *p == 'c', "vocabulary names: feature 2 is c");
	p = nm ? vec_names_get(nm, 4, &len) : NULL;
	ok(p && len == 1 && *p == 'x', "numeric feature named after its field");
	ok(nm && !vec_names_signs(nm, 2, &cnt), "vocabulary names carry no signs");
	vec_names_close(nm);
	vec_thread_free(t);
	vec_free(v);
	frame_free(g);

	/* min_df and max_features */
	o.min_df = 2;
	o.numeric.n = 0;
	fit(&o, f, tmpl);
	v = vec_load(tmpl, &e);
	is_int(v ? vec_dim(v) : 0, 1, "min_df 2 keeps a alone");
	vec_free(v);
	o.min_df = 1;
	o.max_features = 2;
	fit(&o, f, tmpl);
	v = vec_load(tmpl, &e);
	is_int(v ? vec_dim(v) : 0, 2, "max_features 2 keeps the two most frequent (a, c)");
	vec_free(v);

	/* BM25 with hashing document frequencies */
	o = opts();
	o.weight = VEC_BM25;
	o.bits = 16;
	fit(&o, f, tmpl);
	v = vec_load(tmpl, &e);
	t = vec_thread_new(v, 0);
	apply(t, f, 1, NULL);
	/* N = 3, avgdl = 6/3 = 2, doc 2 has dl 3: a (df 2) once, c (df 1) twice */
	double k = 1.2 * (1 - 0.75 + 0.75 * 3 / 2.0);
	double wa = log(1 + (3 - 2 + 0.5) / 2.5) * 1 * 2.2 / (1 + k);
	double wc = log(1 + (3 - 1 + 0.5) / 1.5) * 2 * 2.2 / (2 + k);
	double s2 = 0;
	for (uint32_t i = 0; i < vn; i++)
		s2 += vv[i] * vv[i];
	near(s2, wa * wa + wc * wc, 1e-5, "BM25 weights of a and c");
	vec_thread_free(t);
	vec_free(v);
	frame_free(f);

	/* a corrupt model is refused */
	FILE *fp = fopen(tmpl, "r+b");
	fseek(fp, 100, SEEK_SET);
	fputc('!', fp);
	fclose(fp);
	ok(vec_load(tmpl, &e) == NULL, "a corrupt model is refused: %s", e.msg);
	ok(vec_names_open(tmpl, &e) == NULL, "a model is not a names file");

	unlink(tmpl);
	unlink(names);
	return tap_done();
}
