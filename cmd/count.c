/* pea-count - count records, from frame headers alone where it can. */
#include "input.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	int check = 0;
	const struct cli_opt opts[] = {
		{0, "check", CLI_FLAG, &check, NULL, "decode every frame and verify its checksum too"},
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"count", "count records", "[OPTIONS] [FILE...]",
		"Prints the number of records.  Binary streams are counted from their frame\n"
		"headers without reading the payloads (--check reads and verifies them);\n"
		"JSON Lines and text are counted record by record.  With several files,\n"
		"prints a count per file and the total.",
		opts, "  pea count train.pea test.pea", 0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	uint64_t total = 0;
	int nfiles = nargs ? nargs : 1;
	for (int i = 0; i < nfiles; i++) {
		struct in_opts io = {0};
		io.headers_only = !check;
		pea_reader *r = reader_open(nargs ? args + i : NULL, nargs ? 1 : 0, &io);
		pea_in *in = reader_in(r);
		uint64_t n = 0;
		if (!check) {
			/* headers only: frames are counted from the unit, text is decoded */
			struct pea_unit u;
			struct unit_dec *ud = ud_new(in);
			pea_frame *f = frame_new();
			struct pea_err e;
			unit_init(&u);
			while (in_next(in, &u)) {
				if (u.kind == IN_PEA) {
					n += u.hdr.nrec;
					continue;
				}
				ud_start(ud, &u);
				int k;
				while ((k = ud_next(ud, f, &e)) > 0)
					n += frame_nrec(f);
				if (k < 0) {
					char where[512];
					ud_unit_where(ud, where, sizeof where);
					die("%s: %s", where, e.msg);
				}
			}
			unit_release(&u);
			ud_free(ud);
			frame_free(f);
		} else {
			const pea_frame *f;
			while ((f = reader_next(r)))
				n += frame_nrec(f);
		}
		reader_close(r);
		total += n;
		if (nargs > 1)
			printf("%llu %s\n", (unsigned long long)n, args[i]);
	}
	if (nargs > 1)
		printf("%llu total\n", (unsigned long long)total);
	else
		printf("%llu\n", (unsigned long long)total);
	if (fflush(stdout) || ferror(stdout))
		die_errno("write error");
	free(args);
	return 0;
}
