/* pea-head - the first records of a stream. */
#include "input.h"
#include "output.h"

int main(int argc, char **argv)
{
	struct out_opts oo = OUT_OPTS_INIT;
	int64_t n = 10;
	const struct cli_opt opts[] = {
		{'n', "records", CLI_INT, &n, "N", "how many records (default 10)"},
		CLI_OPTS_WRITER(oo),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"head", "the first records of a stream", "[OPTIONS] [FILE...]",
		"Writes the first N records and stops reading.",
		opts, "  pea head -n 3 mail.pea", 0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	if (n < 0)
		die_usage("--records must not be negative");
	pea_reader *r = reader_open(args, nargs, NULL);
	pea_wr *w = wr_open(&oo);
	in_on_idle(reader_in(r), wr_idle, w);
	const pea_frame *f;
	int64_t done = 0;
	while (done < n && (f = reader_next(r))) {
		for (uint32_t i = 0; i < frame_nrec(f) && done < n; i++, done++) {
			wr_copy(w, f, i);
		}
	}
	wr_close(w);
	reader_close(r);
	free(args);
	return 0;
}
