/* pea-tokenize - text fields into a list of tokens (libcore/tok.c). */
#include "pmap.h"
#include "tok.h"

#include <stdio.h>

struct ctx {
	struct tok *tok;
	struct tok_state **st; /* one per thread */
	struct cli_list fields;
	const char *to;
	const char *names; /* the fields, for messages */
	uint64_t repaired; /* atomic: repairs made here (input counts its own) */
};

static int tokenize(void *arg, struct pmap_task *t, const pea_frame *in, pea_fb *out)
{
	struct ctx *c = arg;
	struct tok_state *s = c->st[pmap_thread(t)];
	uint32_t nf = frame_nfields(in);
	int fid[64];
	uint8_t skip[PEA_MAX_FIELDS];
	uint64_t repaired = 0;
	struct pea_err e;
	memset(skip, 0, nf);
	int to = frame_field(in, c->to);
	if (to >= 0)
		skip[to] = 1;
	for (int i = 0; i < c->fields.n; i++)
		fid[i] = frame_field(in, c->fields.v[i]);
	int oid = fb_xfield(out, c->to, PEA_STRLIST);
	for (uint32_t r = 0; r < frame_nrec(in); r++) {
		int found = 0;
		tok_begin(s);
		for (int i = 0; i < c->fields.n; i++) {
			const pea_val *v = frame_get(in, r, fid[i]);
			if (!v)
				continue;
			found = 1;
			if (v->type == PEA_STR) {
				if (tok_add(s, val_str(v), v->n, &repaired, &e))
					return pmap_fail(t, r, "field '%s': %s", c->fields.v[i], e.msg);
			} else if (v->type == PEA_STRLIST) {
				struct val_iter it;
				val_iter_init(&it, v);
				while (val_iter_next(&it))
					if (tok_add(s, it.s, it.len, &repaired, &e))
						return pmap_fail(t, r, "field '%s': %s", c->fields.v[i], e.msg);
			} else {
				return pmap_fail(t, r, "field '%s' is %s, not text", c->fields.v[i],
						 pea_type_name(v->type));
			}
		}
		if (!found) {
			if (c->fields.n == 1)
				return pmap_fail(t, r, "no field '%s' (choose the text with -f NAME)",
						 c->fields.v[0]);
			return pmap_fail(t, r, "none of the fields %s", c->names);
		}
		fb_begin(out);
		if (fb_copy_rec(out, in, r, skip) < 0)
			return pmap_fail(t, r, "internal error: type clash");
		const uint8_t *enc;
		size_t len;
		tok_encoded(s, &enc, &len);
		fb_list_begin(out, oid, PEA_STRLIST);
		fb_list_raw(out, enc, len, tok_count(s));
		fb_list_end(out);
		fb_end(out);
	}
	if (repaired)
		__atomic_add_fetch(&c->repaired, repaired, __ATOMIC_RELAXED);
	return 0;
}

static void range_opt(const char *name, const char *s, int *lo, int *hi, int zero_ok)
{
	if (!s)
		return;
	if (zero_ok && !strcmp(s, "0")) {
		*lo = *hi = 0;
		return;
	}
	if (parse_range(s, lo, hi) || *hi > 32)
		die_usage("--%s: '%s' is not a range like 1-3 (at most 32)", name, s);
}

int main(int argc, char **argv)
{
	struct out_opts oo = OUT_OPTS_INIT;
	struct tok_opts to = TOK_OPTS_INIT;
	struct ctx c = {0};
	int64_t threads = 0, min_len = 0, max_len = 0;
	int quiet = 0;
	const char *ngrams = NULL, *char_ngrams = NULL;
	c.to = "tokens";
	const struct cli_opt opts[] = {
		{'f', "field", CLI_LIST, &c.fields, "NAME", "a text field to tokenize (repeatable; default text)"},
		{0, "to", CLI_STR, &c.to, "NAME", "field that gets the tokens (default tokens)"},
		{0, "keep-case", CLI_FLAG, &to.keep_case, NULL, "no case folding"},
		{0, "strip-accents", CLI_FLAG, &to.strip_accents, NULL, "remove accents and other combining marks"},
		{0, "no-normalize", CLI_FLAG, &to.no_normalize, NULL, "take the text as it is: no NFKC, no case folding"},
		{0, "pattern", CLI_STR, &to.pattern, "REGEX", "tokens are the matches of a PCRE2 pattern"},
		{0, "split", CLI_FLAG, &to.split, NULL, "tokens are the runs of non-space characters"},
		{0, "stopwords", CLI_STR, &to.stopwords, "LIST", "drop stop words: 'english' or a file, one word a line"},
		{0, "min-len", CLI_INT, &min_len, "N", "drop tokens shorter than N characters"},
		{0, "max-len", CLI_INT, &max_len, "N", "drop tokens longer than N characters"},
		{0, "fold-numbers", CLI_FLAG, &to.fold_numbers, NULL, "tokens of digits become <num>"},
		{0, "fold-urls", CLI_FLAG, &to.fold_urls, NULL, "URLs become <url>, e-mail addresses <email>"},
		{0, "stem", CLI_STR, &to.stem, "LANG", "Snowball stemmer (english, french, ...; 'list' shows all)"},
		{0, "ngrams", CLI_STR, &ngrams, "N-M", "word n-grams from N to M words (default 1; 0 = none)"},
		{0, "char-ngrams", CLI_STR, &char_ngrams, "N-M", "add character n-grams of each word, as fastText"},
		CLI_OPTS_WRITER(oo),
		CLI_OPT_THREADS(&threads),
		CLI_OPT_QUIET(&quiet),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"tokenize", "split text into tokens (words, n-grams)", "[OPTIONS] [FILE...]",
		"Adds the field tokens (a strlist) to every record, made from the text\n"
		"field(s); other fields pass through.  Text is normalized (NFKC) and case\n"
		"folded; tokens are Unicode words (letters, marks, digits, connectors),\n"
		"with URLs and e-mail addresses kept whole.  Input may be pea records,\n"
		"JSON Lines or plain text (one record a line); invalid UTF-8 becomes U+FFFD\n"
		"and is counted.",
		opts,
		"  pea tokenize --stopwords english --ngrams 1-2 mail.pea | pea vectorize",
		0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	if (to.stem && !strcmp(to.stem, "list")) {
		for (const char **l = tok_languages(); *l; l++)
			printf("%s\n", *l);
		return fflush(stdout) ? 1 : 0;
	}
	if (min_len < 0 || min_len > 1000000 || max_len < 0 || max_len > 1000000)
		die_usage("--min-len and --max-len take a number of characters");
	to.min_len = (int)min_len;
	to.max_len = (int)max_len;
	range_opt("ngrams", ngrams, &to.ngram_lo, &to.ngram_hi, 1);
	range_opt("char-ngrams", char_ngrams, &to.char_lo, &to.char_hi, 0);
	if (!to.ngram_hi && !to.char_hi)
		die_usage("--ngrams 0 leaves no tokens without --char-ngrams");
	int own_fields = !c.fields.n;
	if (own_fields)
		c.fields = cli_split("text", ',');
	if (c.fields.n > 64)
		die_usage("at most 64 fields");
	for (int i = 0; i < c.fields.n; i++)
		if (!strcmp(c.fields.v[i], c.to))
			die_usage("--to %s would overwrite a field being tokenized", c.to);
	struct buf names = BUF_INIT;
	for (int i = 0; i < c.fields.n; i++)
		buf_addf(&names, "%s'%s'", i ? ", " : "", c.fields.v[i]);
	c.names = buf_cstr(&names);

	struct pea_err e;
	c.tok = tok_new(&to, &e);
	if (!c.tok)
		die_usage("%s", e.msg);
	int nt = cli_threads(threads);
	c.st = xcalloc((size_t)nt, sizeof *c.st);
	for (int i = 0; i < nt; i++)
		c.st[i] = tok_state_new(c.tok);

	struct in_opts io = {0};
	io.repair_utf8 = 1;
	io.text_field = c.fields.v[0];
	pea_in *in = in_open(args, nargs, &io);
	pea_out *out = out_open(&oo);
	struct pmap_opts po = {nt, tokenize, NULL, &c, quiet};
	pmap_run(in, out, &po);
	out_close(out);
	uint64_t bad = in_repaired(in) + c.repaired;
	if (bad)
		warning("%llu invalid UTF-8 sequence%s replaced by U+FFFD", (unsigned long long)bad,
			bad == 1 ? "" : "s");
	in_close(in);
	for (int i = 0; i < nt; i++)
		tok_state_free(c.st[i]);
	free(c.st);
	tok_free(c.tok);
	buf_release(&names);
	for (int i = 0; own_fields && i < c.fields.n; i++)
		free((char *)c.fields.v[i]);
	free(c.fields.v);
	free(args);
	return 0;
}
