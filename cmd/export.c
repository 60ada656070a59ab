/* pea-export - records into JSON Lines, TSV, fastText or svmlight. */
#include "export.h"
#include "pmap.h"

struct ctx {
	struct export_opts eo;
	pea_out *out;
};

static int convert(void *arg, struct pmap_task *t, const pea_frame *in, pea_fb *unused)
{
	struct ctx *c = arg;
	struct pea_err e;
	uint32_t rec = 0;
	(void)unused;
	if (export_frame(&c->eo, in, pmap_task_buf(t), &rec, &e))
		return pmap_fail(t, rec, "%s", e.msg);
	return 0;
}

static void write_out(void *arg, struct buf *data)
{
	struct ctx *c = arg;
	out_write(c->out, data->p, data->len);
	out_flush(c->out);
}

int main(int argc, char **argv)
{
	struct ctx c = {0};
	struct out_opts oo = OUT_OPTS_INIT;
	int64_t threads = 0;
	int quiet = 0;
	int json = 0, tsv = 0, ft = 0, svm = 0, header = 0;
	const char *fields = NULL, *labels = NULL;
	const struct cli_opt opts[] = {
		{0, "jsonl", CLI_FLAG, &json, NULL, "JSON Lines (the default)"},
		{0, "tsv", CLI_FLAG, &tsv, NULL, "TSV of the --fields"},
		{0, "fields", CLI_STR, &fields, "A,B,...", "TSV: the fields, in column order"},
		{0, "header", CLI_FLAG, &header, NULL, "TSV: a first line naming the fields"},
		{0, "fasttext", CLI_FLAG, &ft, NULL, "fastText: __label__L tokens (or text)"},
		{0, "svmlight", CLI_FLAG, &svm, NULL, "svmlight/libsvm: LABEL INDEX:VALUE ..."},
		{0, "labels", CLI_STR, &labels, "A,B,...", "svmlight: write label A as 0, B as 1, ..."},
		{0, "zero-based", CLI_FLAG, &c.eo.zero_based, NULL, "svmlight: indices from 0, not 1"},
		CLI_OPT_FIELD(&c.eo.text_field, "fastText: field of the text (default text)"),
		CLI_OPT_OUTPUT(&oo.path),
		CLI_OPT_THREADS(&threads),
		CLI_OPT_QUIET(&quiet),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"export", "write records as JSON Lines, TSV, fastText or svmlight", "[OPTIONS] [FILE...]",
		"TSV cells hold strings as they are (tab, newline, carriage return and backslash\n"
		"escaped as \\t \\n \\r \\\\) and other values as JSON.  svmlight needs numeric\n"
		"labels or --labels; its indices are 1-based unless --zero-based.",
		opts,
		"  pea export --tsv --fields id,pred,label < predictions.pea\n"
		"  pea export --fasttext < train.pea > train.txt",
		0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	if (json + tsv + ft + svm > 1)
		die_usage("choose one output format");
	c.eo.fmt = tsv ? EX_TSV : ft ? EX_FASTTEXT : svm ? EX_SVMLIGHT : EX_JSON;
	if (tsv != !!fields)
		die_usage("--tsv and --fields go together");
	if (fields)
		c.eo.fields = cli_split(fields, ',');
	if (c.eo.fields.n > 256)
		die_usage("--tsv: at most 256 fields");
	if (labels)
		c.eo.labels = cli_split(labels, ',');
	oo.json = 1;
	pea_in *in = in_open(args, nargs, NULL);
	c.out = out_open(&oo);
	if (header) {
		if (!tsv)
			die_usage("--header goes with --tsv");
		for (int i = 0; i < c.eo.fields.n; i++) {
			out_write(c.out, i ? "\t" : "", i ? 1 : 0);
			out_write(c.out, c.eo.fields.v[i], strlen(c.eo.fields.v[i]));
		}
		out_write(c.out, "\n", 1);
	}
	struct pmap_opts po = {cli_threads(threads), convert, write_out, &c, quiet};
	pmap_run(in, NULL, &po);
	out_close(c.out);
	in_close(in);
	free(args);
	return 0;
}
