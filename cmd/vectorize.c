/* pea-vectorize - token lists (and numeric fields) into sparse feature
 * vectors (libcore/vec.c).
 *
 * --fit reads the stream twice: the first pass counts, the second
 * vectorizes with the model just written.  Files are simply read again; a
 * pipe is copied into a temporary file during the first pass, so that
 * `... | pea vectorize --fit v.model | pea train` works in one pipeline. */
#include "msrc.h"
#include "pmap.h"
#include "vec.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

struct ctx {
	struct vec_opts o;
	const struct vec *v;
	struct vec_fit *fit;
	struct vec_thread **th;
};

/* The record's inputs, with their types checked. */
static int gather(struct ctx *c, struct pmap_task *t, const pea_frame *in, uint32_t r, const int *fid,
		  const pea_val **tok, const pea_val **num)
{
	const struct vec_opts *o = &c->o;
	int found = 0;
	for (int i = 0; i < o->fields.n; i++) {
		tok[i] = frame_get(in, r, fid[i]);
		if (!tok[i])
			continue;
		found = 1;
		if (tok[i]->type != PEA_STRLIST)
			return pmap_fail(t, r, "field '%s' is %s, not a token list (run pea tokenize first)",
					 o->fields.v[i], pea_type_name(tok[i]->type));
	}
	for (int i = 0; i < o->numeric.n; i++) {
		num[i] = frame_get(in, r, fid[o->fields.n + i]);
		if (!num[i])
			continue;
		found = 1;
		int ty = num[i]->type;
		if (ty != PEA_INT && ty != PEA_FLOAT && ty != PEA_BOOL && ty != PEA_DENSE)
			return pmap_fail(t, r, "field '%s' is %s, not a number or a dense vector",
					 o->numeric.v[i], pea_type_name(ty));
	}
	if (!found) {
		const char *f = o->fields.n ? o->fields.v[0] : o->numeric.v[0];
		return pmap_fail(t, r, "no field '%s'%s", f,
				 o->fields.n ? " (run pea tokenize first, or name the tokens with -f)" : "");
	}
	return 0;
}

static void field_ids(const struct vec_opts *o, const pea_frame *in, int *fid)
{
	for (int i = 0; i < o->fields.n; i++)
		fid[i] = frame_field(in, o->fields.v[i]);
	for (int i = 0; i < o->numeric.n; i++)
		fid[o->fields.n + i] = frame_field(in, o->numeric.v[i]);
}

static int fit_fn(void *arg, struct pmap_task *t, const pea_frame *in, pea_fb *out)
{
	struct ctx *c = arg;
	int fid[VEC_MAX_FIELDS + 4096];
	const pea_val *tok[VEC_MAX_FIELDS], *num[4096];
	struct vec_rec rec = {tok, num};
	struct pea_err e;
	field_ids(&c->o, in, fid);
	for (uint32_t r = 0; r < frame_nrec(in); r++) {
		if (gather(c, t, in, r, fid, tok, num))
			return -1;
		if (vec_fit_rec(c->fit, pmap_thread(t), &rec, &e))
			return pmap_fail(t, r, "%s", e.msg);
	}
	return pmap_keep(t, in, out);
}

static int apply_fn(void *arg, struct pmap_task *t, const pea_frame *in, pea_fb *out)
{
	struct ctx *c = arg;
	struct vec_thread *th = c->th[pmap_thread(t)];
	int fid[VEC_MAX_FIELDS + 4096];
	const pea_val *tok[VEC_MAX_FIELDS], *num[4096];
	uint8_t skip[PEA_MAX_FIELDS];
	struct vec_rec rec = {tok, num};
	struct pea_err e;
	uint32_t nf = frame_nfields(in);
	memset(skip, 0, nf);
	int a = frame_field(in, "features"), b = frame_field(in, "fspace");
	if (a >= 0)
		skip[a] = 1;
	if (b >= 0)
		skip[b] = 1;
	field_ids(&c->o, in, fid);
	int ofeat = fb_xfield(out, "features", PEA_SPARSE), ofs = fb_xfield(out, "fspace", PEA_STR);
	const char *fs = vec_fspace(c->v);
	size_t fsn = strlen(fs);
	for (uint32_t r = 0; r < frame_nrec(in); r++) {
		const uint32_t *idx;
		const float *val;
		uint32_t n;
		if (gather(c, t, in, r, fid, tok, num))
			return -1;
		if (vec_apply(th, &rec, &idx, &val, &n, &e))
			return pmap_fail(t, r, "%s", e.msg);
		fb_begin(out);
		if (fb_copy_rec(out, in, r, skip) < 0)
			return pmap_fail(t, r, "internal error: type clash");
		fb_sparse(out, ofeat, idx, val, n);
		fb_str(out, ofs, fs, fsn);
		fb_end(out);
	}
	return 0;
}

static char *spool_path;

/* whether the inputs can be read a second time (regular files) */
static int rereadable(char **args, int n)
{
	if (!n)
		return 0;
	for (int i = 0; i < n; i++) {
		struct stat st;
		if (!strcmp(args[i], "-") || stat(args[i], &st) || !S_ISREG(st.st_mode))
			return 0;
	}
	return 1;
}

static void spool_remove(void)
{
	if (spool_path)
		unlink(spool_path);
}

static int parse_enum(const char *opt, const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	struct buf b = BUF_INIT;
	for (int i = 0; i < n; i++)
		buf_addf(&b, "%s%s", i ? ", " : "", names[i]);
	die_usage("--%s: '%s' is not one of %s", opt, s, buf_cstr(&b));
}

/* --numeric a,b --numeric c: every name, split at commas */
static struct cli_list split_lists(const struct cli_list *l)
{
	struct cli_list out = {NULL, 0};
	for (int i = 0; i < l->n; i++) {
		struct cli_list p = cli_split(l->v[i], ',');
		for (int k = 0; k < p.n; k++) {
			if (!*p.v[k] || strlen(p.v[k]) > PEA_MAX_NAME)
				die_usage("--numeric: a field name must have 1 to %d bytes ('%s')", PEA_MAX_NAME,
					  l->v[i]);
			out.v = xrealloc(out.v, (size_t)(out.n + 2) * sizeof *out.v);
			out.v[out.n++] = p.v[k];
			out.v[out.n] = NULL;
		}
		free(p.v);
	}
	return out;
}

static void list_free(struct cli_list *l, int own)
{
	for (int i = 0; own && i < l->n; i++)
		free((char *)l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int main(int argc, char **argv)
{
	static const char *const weights[] = {"count", "binary", "log", "tfidf", "bm25"};
	static const char *const norms[] = {"none", "l1", "l2"};
	struct out_opts oo = OUT_OPTS_INIT;
	struct ctx c = {0};
	struct cli_list fields = {0}, numeric = {0};
	int64_t threads = 0, bits = -1, max_features = -1, per = 8;
	double k1 = -1, b = -1, min_df = -1, max_df = -1;
	int quiet = 0, vocab = 0, unsig = 0, sublinear = 0, fit_only = 0;
	const char *weight = NULL, *norm = NULL, *fit = NULL, *model = NULL, *names = NULL, *showf = NULL;
	struct msrc_opts ms = {0};
	const struct cli_opt opts[] = {
		{'f', "field", CLI_LIST, &fields, "NAME", "a token field (repeatable, one namespace each; default tokens)"},
		{0, "numeric", CLI_LIST, &numeric, "A,B,...", "numeric or dense fields that become features too"},
		{0, "bits", CLI_INT, &bits, "N", "hashing into 2^N features (default 20)"},
		{0, "unsigned", CLI_FLAG, &unsig, NULL, "hashing without the sign that cancels collisions"},
		{0, "vocab", CLI_FLAG, &vocab, NULL, "a vocabulary instead of hashing (learned with --fit)"},
		{0, "weight", CLI_STR, &weight, "W", "count, binary, log, tfidf or bm25 (default count)"},
		{0, "sublinear", CLI_FLAG, &sublinear, NULL, "tfidf with 1 + log(tf) in place of tf"},
		{0, "norm", CLI_STR, &norm, "N", "l2, l1 or none (default l2 for tfidf, else none)"},
		{0, "k1", CLI_DBL, &k1, "X", "BM25 term saturation (default 1.2)"},
		{0, "b", CLI_DBL, &b, "X", "BM25 length normalization (default 0.75)"},
		{0, "min-df", CLI_DBL, &min_df, "X", "vocabulary: drop terms in fewer documents (< 1: a fraction)"},
		{0, "max-df", CLI_DBL, &max_df, "X", "vocabulary: drop terms in more documents (<= 1: a fraction)"},
		{0, "max-features", CLI_INT, &max_features, "N", "vocabulary: keep the N most frequent terms"},
		{0, "fit", CLI_STR, &fit, "FILE", "learn document frequencies (and a vocabulary) into FILE"},
		{0, "fit-only", CLI_FLAG, &fit_only, NULL, "with --fit: write the model, no records"},
		{'m', "model", CLI_STR, &model, "MODEL", "apply a vectorizer model (written by --fit; a file or URL)"},
		CLI_OPTS_MODEL_SOURCE(ms),
		{0, "names", CLI_STR, &names, "FILE", "write which tokens make each feature to FILE"},
		{0, "names-per", CLI_INT, &per, "N", "at most N names a feature, most frequent first (default 8)"},
		{0, "show", CLI_STR, &showf, "FILE", "print a vectorizer model or names file and exit"},
		CLI_OPTS_WRITER(oo),
		CLI_OPT_THREADS(&threads),
		CLI_OPT_QUIET(&quiet),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"vectorize", "turn tokens into sparse feature vectors", "[OPTIONS] [FILE...]",
		"Adds the fields features (a sparse vector) and fspace (the feature space's\n"
		"name) to every record; other fields pass through.  By default tokens are\n"
		"hashed (XXH3-64, signed) into 2^20 features and counted; --fit learns\n"
		"document frequencies for tfidf and bm25 (and with --vocab a vocabulary),\n"
		"then vectorizes the stream with them; -m applies a model learned before.",
		opts,
		"  pea tokenize train.pea | pea vectorize --weight tfidf --fit v.model | pea train -o m\n"
		"  pea tokenize test.pea | pea vectorize -m v.model | pea classify -m m",
		0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	msrc_configure(&ms);
	if (showf) {
		struct buf out = BUF_INIT;
		vec_show(showf, &out);
		if (fwrite(out.p, 1, out.len, stdout) != out.len || fflush(stdout))
			die_errno("write error");
		buf_release(&out);
		free(args);
		return 0;
	}
	if (per < 1 || per > 1000)
		die_usage("--names-per must be between 1 and 1000");
	if (fit_only && !fit)
		die_usage("--fit-only goes with --fit");
	if (fit && model)
		die_usage("give --fit (learn a model) or -m (apply one), not both");
	struct pea_err e;
	struct vec *v = NULL;
	struct cli_list own_fields = {0}, own_numeric = {0};
	if (model) {
		if (fields.n || numeric.n || bits >= 0 || unsig || vocab || weight || sublinear || norm ||
		    k1 >= 0 || b >= 0 || min_df >= 0 || max_df >= 0 || max_features >= 0)
			die_usage("with -m the settings come from the model: drop the other settings");
		v = vec_load(model, &e);
		if (!v)
			die("%s: %s", model, e.msg);
		c.o = *vec_options(v);
	} else {
		struct vec_opts *o = &c.o;
		if (!fields.n)
			own_fields = cli_split("tokens", ',');
		o->fields = fields.n ? fields : own_fields;
		own_numeric = split_lists(&numeric);
		o->numeric = own_numeric;
		o->vocab = vocab;
		o->bits = bits >= 0 ? (int)bits : VEC_DEFAULT_BITS;
		if (bits >= 0 && vocab)
			die_usage("--bits is for hashing, not --vocab");
		o->unsigned_hash = unsig;
		o->weight = weight ? (enum vec_weight)parse_enum("weight", weight, weights, 5) : VEC_COUNT;
		o->sublinear = sublinear;
		if (sublinear && o->weight != VEC_TFIDF)
			die_usage("--sublinear goes with --weight tfidf (--weight log is sublinear tf alone)");
		o->norm = norm ? (enum vec_norm)parse_enum("norm", norm, norms, 3)
			       : o->weight == VEC_TFIDF ? VEC_NORM_L2 : VEC_NORM_NONE;
		o->k1 = k1 >= 0 ? k1 : 1.2;
		o->b = b >= 0 ? b : 0.75;
		if ((k1 >= 0 || b >= 0) && o->weight != VEC_BM25)
			die_usage("--k1 and --b go with --weight bm25");
		o->min_df = min_df >= 0 ? min_df : 1;
		o->max_df = max_df >= 0 ? max_df : 1;
		o->max_features = max_features > 0 ? (uint64_t)max_features : 0;
		if ((min_df >= 0 || max_df >= 0 || max_features >= 0) && !vocab)
			die_usage("--min-df, --max-df and --max-features shape a vocabulary (--vocab)");
		if (fit && !vocab && o->bits > 28)
			die_usage("--fit counts documents per feature: --bits 28 or less (2^28 counters take 1 GiB)");
		if (vocab && !fit)
			die_usage("--vocab learns a vocabulary: give --fit FILE (or apply one with -m)");
		if (!o->fields.n && !o->numeric.n)
			die_usage("no fields to vectorize");
		if (o->fields.n > VEC_MAX_FIELDS)
			die_usage("at most %d token fields", VEC_MAX_FIELDS);
		if (o->numeric.n > 4096)
			die_usage("at most 4096 numeric fields");
		if (!fit) {
			v = vec_new(o, &e);
			if (!v)
				die_usage("%s", e.msg);
			if (vec_needs_df(v))
				die_usage("--weight %s needs document frequencies: learn them with --fit FILE "
					  "(or apply a model with -m)", weights[o->weight]);
		}
	}
	if (names && fit_only && !vocab)
		die_usage("hashed feature names are recorded while vectorizing: drop --fit-only");
	int nt = cli_threads(threads);
	pea_in *in = in_open(args, nargs, NULL);
	if (fit) {
		/* pass 1: count, keeping a copy of the stream for pass 2 */
		c.fit = vec_fit_new(&c.o, nt);
		pea_out *spool = NULL;
		int reread = rereadable(args, nargs);
		if (!fit_only && !reread) {
			const char *dir = getenv("TMPDIR");
			struct buf p = BUF_INIT;
			buf_addf(&p, "%s/pea-vectorize.XXXXXX", dir && *dir ? dir : "/tmp");
			spool_path = xstrdup(buf_cstr(&p));
			buf_release(&p);
			int fd = mkstemp(spool_path);
			if (fd < 0)
				die_errno("%s", spool_path);
			close(fd);
			atexit(spool_remove);
			/* a fast level: the copy is read once, soon */
			struct out_opts so = {spool_path, -1, 1, 0};
			spool = out_open(&so);
		}
		struct pmap_opts po = {nt, fit_fn, NULL, &c, quiet};
		pmap_run(in, spool, &po);
		if (spool)
			out_close(spool);
		in_close(in);
		if (vec_fit_write(c.fit, fit, &e))
			die("%s", e.msg);
		vec_fit_free(c.fit);
		v = vec_load(fit, &e);
		if (!v)
			die("%s: %s", fit, e.msg);
		if (fit_only) {
			if (names)
				vec_names_write(v, NULL, 0, (int)per, names);
			goto done;
		}
		in = reread ? in_open(args, nargs, NULL) : in_open(&spool_path, 1, NULL);
	}
	c.v = v;
	c.o = *vec_options(v);
	c.th = xcalloc((size_t)nt, sizeof *c.th);
	for (int i = 0; i < nt; i++)
		c.th[i] = vec_thread_new(v, names != NULL);
	pea_out *out = out_open(&oo);
	struct pmap_opts po = {nt, apply_fn, NULL, &c, quiet};
	pmap_run(in, out, &po);
	out_close(out);
	in_close(in);
	if (names)
		vec_names_write(v, c.th, nt, (int)per, names);
	for (int i = 0; i < nt; i++)
		vec_thread_free(c.th[i]);
	free(c.th);
done:
	vec_free(v);
	list_free(&own_fields, 1);
	list_free(&own_numeric, 1);
	list_free(&fields, 0);
	list_free(&numeric, 0);
	spool_remove();
	free(spool_path);
	spool_path = NULL;
	free(args);
	return 0;
}
