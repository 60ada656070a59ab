/* pea-import - JSON Lines, CSV/TSV, text, fastText and svmlight into records. */
#include "pmap.h"

static int keep(void *ctx, struct pmap_task *t, const pea_frame *in, pea_fb *out)
{
	(void)ctx;
	return pmap_keep(t, in, out);
}

int main(int argc, char **argv)
{
	struct out_opts oo = OUT_OPTS_INIT;
	struct in_opts io = {0};
	int64_t threads = 0;
	int quiet = 0;
	int json = 0, text = 0, csv = 0, tsv = 0, ft = 0, svm = 0;
	const struct cli_opt opts[] = {
		{0, "jsonl", CLI_FLAG, &json, NULL, "input is JSON Lines (one object per line)"},
		{0, "text", CLI_FLAG, &text, NULL, "input is plain text, one document per line"},
		{0, "csv", CLI_FLAG, &csv, NULL, "input is CSV with a header line (RFC 4180 quoting)"},
		{0, "tsv", CLI_FLAG, &tsv, NULL, "input is TSV with a header line (\\t \\n \\\\ escapes)"},
		{0, "fasttext", CLI_FLAG, &ft, NULL, "input is fastText (__label__X words...)"},
		{0, "svmlight", CLI_FLAG, &svm, NULL, "input is svmlight/libsvm (LABEL INDEX:VALUE ...)"},
		{0, "type", CLI_LIST, &io.types, "NAME=TYPE", "store field NAME as TYPE (repeatable)"},
		{0, "strings", CLI_FLAG, &io.csv_strings, NULL, "CSV/TSV: keep every value a string"},
		{0, "columns", CLI_STR, &io.columns, "A,B,...", "CSV/TSV: there is no header line; these name the columns"},
		CLI_OPT_FIELD(&io.text_field, "field of the text of plain text and fastText lines (default text)"),
		{0, "zero-based", CLI_FLAG, &io.zero_based, NULL, "svmlight: feature indices start at 0"},
		{0, "repair-utf8", CLI_FLAG, &io.repair_utf8, NULL,
		 "text: replace invalid UTF-8 by U+FFFD (counted) instead of failing"},
		CLI_OPTS_WRITER(oo),
		CLI_OPT_THREADS(&threads),
		CLI_OPT_QUIET(&quiet),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"import", "turn JSON Lines, CSV/TSV, text, fastText or svmlight into records",
		"[OPTIONS] [FILE...]",
		"Without a format option, files ending in .csv or .tsv are read as such and\n"
		"anything else is sniffed: pea frames, JSON Lines (first byte '{') or plain\n"
		"text.  JSON types map to record types as man pea-format(5) describes.",
		opts,
		"  pea import --csv interactions.csv -o interactions.pea\n"
		"  zstd -dc deps.tsv.zst | pea import --tsv --columns user,item -o deps.pea\n"
		"  pea import --fasttext train.txt | pea tokenize | pea vectorize",
		0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	if (json + text + csv + tsv + ft + svm > 1)
		die_usage("choose one input format");
	if (io.columns && !csv && !tsv)
		die_usage("--columns goes with --csv or --tsv");
	io.format = json ? IN_JSON : text ? IN_TEXT : csv ? IN_CSV : tsv ? IN_TSV : ft ? IN_FASTTEXT
		  : svm ? IN_SVMLIGHT : IN_AUTO;
	pea_out *out = out_open(&oo);
	io.chunk = out_frame_target(out); /* one text chunk makes one frame */
	pea_in *in = in_open(args, nargs, &io);
	struct pmap_opts po = {cli_threads(threads), keep, NULL, NULL, quiet};
	pmap_run(in, out, &po);
	if (in_repaired(in))
		note("%llu invalid UTF-8 sequences replaced by U+FFFD", (unsigned long long)in_repaired(in));
	out_close(out);
	in_close(in);
	free(args);
	return 0;
}
