/* pea-cat - concatenate record streams, checking every frame on the way. */
#include "pmap.h"

static int keep(void *ctx, struct pmap_task *t, const pea_frame *in, pea_fb *out)
{
	(void)ctx;
	return pmap_keep(t, in, out);
}

int main(int argc, char **argv)
{
	struct out_opts oo = OUT_OPTS_INIT;
	int64_t threads = 0;
	int quiet = 0;
	const struct cli_opt opts[] = {
		CLI_OPTS_WRITER(oo),
		CLI_OPT_THREADS(&threads),
		CLI_OPT_QUIET(&quiet),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"cat", "concatenate record streams (and show them as JSON Lines)",
		"[OPTIONS] [FILE...]",
		"Reads pea streams (or JSON Lines or text, sniffed from their first bytes),\n"
		"verifies every frame's checksum and structure, and writes the records\n"
		"in order.  On a terminal the records are shown as JSON Lines.",
		opts,
		"  pea cat mail.pea | head -3\n  pea cat --json a.pea b.pea | jq .title",
		0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	pea_in *in = in_open(args, nargs, NULL);
	pea_out *out = out_open(&oo);
	struct pmap_opts po = {cli_threads(threads), keep, NULL, NULL, quiet};
	pmap_run(in, out, &po);
	out_close(out);
	in_close(in);
	free(args);
	return 0;
}
