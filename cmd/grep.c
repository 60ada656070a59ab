/* pea-grep - the records whose field matches a PCRE2 pattern. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "pmap.h"

#include <pcre2.h>

struct ctx {
	pcre2_code *re;
	pcre2_match_data **md; /* one per thread */
	const char *field;
	int invert;
};

static int match(struct ctx *c, pcre2_match_data *md, const char *s, size_t n)
{
	int r = pcre2_match(c->re, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
	if (r >= 0)
		return 1;
	if (r == PCRE2_ERROR_NOMATCH)
		return 0;
	return r;
}

static int filter(void *arg, struct pmap_task *t, const pea_frame *in, pea_fb *out)
{
	struct ctx *c = arg;
	pcre2_match_data *md = c->md[pmap_thread(t)];
	int fid = frame_field(in, c->field);
	for (uint32_t r = 0; r < frame_nrec(in); r++) {
		const pea_val *v = frame_get(in, r, fid);
		int hit = 0;
		if (v && (v->type == PEA_STR || v->type == PEA_JSON)) {
			hit = match(c, md, val_str(v), v->n);
		} else if (v && v->type == PEA_STRLIST) {
			struct val_iter it;
			val_iter_init(&it, v);
			while (!hit && val_iter_next(&it))
				hit = match(c, md, it.s, it.len);
		} else if (v) {
			return pmap_fail(t, r, "field '%s' is %s, not text", c->field, pea_type_name(v->type));
		}
		if (hit < 0) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(hit, msg, sizeof msg);
			return pmap_fail(t, r, "matching failed: %s", (char *)msg);
		}
		if (hit != c->invert) {
			fb_begin(out);
			if (fb_copy_rec(out, in, r, NULL) < 0)
				return pmap_fail(t, r, "internal error: type clash");
			fb_end(out);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct out_opts oo = OUT_OPTS_INIT;
	struct ctx c = {0};
	int64_t threads = 0;
	int quiet = 0;
	int icase = 0;
	c.field = "text";
	const struct cli_opt opts[] = {
		CLI_OPT_FIELD(&c.field, "the field to match (default text; a strlist matches by any item)"),
		{'v', "invert-match", CLI_FLAG, &c.invert, NULL, "keep the records that do not match"},
		{'i', "ignore-case", CLI_FLAG, &icase, NULL, "match without regard to case"},
		CLI_OPTS_WRITER(oo),
		CLI_OPT_THREADS(&threads),
		CLI_OPT_QUIET(&quiet),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"grep", "the records whose field matches a regular expression", "[OPTIONS] PATTERN [FILE...]",
		"PATTERN is a Perl-compatible regular expression (PCRE2, UTF and Unicode\n"
		"properties on, JIT-compiled); it matches anywhere in the field.",
		opts, "  pea grep -f title -i 'unsubscribe|viagra' mail.pea | pea count", 1, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	int err;
	PCRE2_SIZE off;
	c.re = pcre2_compile((PCRE2_SPTR)args[0], PCRE2_ZERO_TERMINATED,
			     PCRE2_UTF | PCRE2_UCP | (icase ? PCRE2_CASELESS : 0), &err, &off, NULL);
	if (!c.re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(err, msg, sizeof msg);
		die_usage("pattern error at offset %zu: %s", (size_t)off, (char *)msg);
	}
	pcre2_jit_compile(c.re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
	int nt = cli_threads(threads);
	c.md = xcalloc((size_t)nt, sizeof *c.md);
	for (int i = 0; i < nt; i++)
		c.md[i] = pcre2_match_data_create_from_pattern(c.re, NULL);
	pea_in *in = in_open(args + 1, nargs - 1, NULL);
	pea_out *out = out_open(&oo);
	struct pmap_opts po = {nt, filter, NULL, &c, quiet};
	pmap_run(in, out, &po);
	out_close(out);
	in_close(in);
	for (int i = 0; i < nt; i++)
		pcre2_match_data_free(c.md[i]);
	free(c.md);
	pcre2_code_free(c.re);
	free(args);
	return 0;
}
