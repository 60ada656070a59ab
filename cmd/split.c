/* pea-split - deterministic train/test splits and shards.
 *
 * A record's side is decided by a hash of a field (--by) or of its place in
 * the input, never by a generator's state, so the same command splits the
 * same way on any machine, and a record keeps its side when others are
 * added.  Round-robin shards move whole frames without decoding them.
 * Per-user splits of interactions (--leave-last-out, --leave-one-out,
 * --per-user) need each user's records together: holdout.c. */
#include "hash.h"
#include "holdout.h"
#include "input.h"
#include "output.h"

#include <stdio.h>

/* the bytes of a field that the hash sees: the text of strings and ints */
static int key_bytes(const pea_val *v, char *tmp, const void **p, size_t *n)
{
	switch (v->type) {
	case PEA_STR:
	case PEA_BYTES:
	case PEA_JSON:
		*p = v->p;
		*n = v->n;
		return 0;
	case PEA_INT:
		*n = (size_t)snprintf(tmp, 32, "%lld", (long long)v->x.i);
		*p = tmp;
		return 0;
	default:
		return -1;
	}
}

struct writers {
	pea_wr **w;
	int n;
};

/* input gone quiet: what each side holds goes on */
static void flush_all(void *arg)
{
	struct writers *ws = arg;
	for (int i = 0; i < ws->n; i++)
		wr_flush(ws->w[i]);
}

int main(int argc, char **argv)
{
	struct out_opts oo = OUT_OPTS_INIT;
	double test = -1;
	int64_t shards = 0, seed = 0;
	const char *by = NULL, *order = NULL, *item = NULL;
	int last = 0, one = 0;
	double per_user = -1;
	int64_t min_items = 3;
	const struct cli_opt opts[] = {
		{0, "test", CLI_DBL, &test, "F", "send a fraction F to the test side (-o TRAIN,TEST)"},
		{0, "shards", CLI_INT, &shards, "N", "cut into N shards (-o PATTERN with %d)"},
		{0, "by", CLI_STR, &by, "FIELD", "decide by a hash of FIELD (e.g. id, user); per-user splits: the user field (default user)"},
		{0, "leave-last-out", CLI_FLAG, &last, NULL, "per user, hold out the latest interaction (--order)"},
		{0, "leave-one-out", CLI_FLAG, &one, NULL, "per user, hold out one interaction chosen by a seeded hash"},
		{0, "per-user", CLI_DBL, &per_user, "F", "per user, hold out a fraction F of the items (the latest with --order)"},
		{0, "order", CLI_STR, &order, "FIELD", "per-user splits: the time field (a number, or a string that sorts)"},
		{0, "item", CLI_STR, &item, "FIELD", "per-user splits: the item field (default item)"},
		{0, "min-items", CLI_INT, &min_items, "N", "per-user splits: users with fewer distinct items stay in train (default 3)"},
		CLI_OPT_SEED(&seed),
		{'o', "output", CLI_STR, &oo.path, "FILES", "TRAIN,TEST for --test; a name with %d for --shards"},
		CLI_OPT_LEVEL(&oo.level),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"split", "deterministic train/test splits and shards",
		"(--test F | --shards N | --leave-last-out | --leave-one-out | --per-user F) -o OUT [OPTIONS] [FILE...]",
		"--test F puts a record on the test side when the hash (XXH3-64, seeded) of\n"
		"its --by field, or of its place in the input, falls under F.  --shards N\n"
		"deals records to N files by the hash of --by, or whole frames round-robin\n"
		"without decoding them.  The per-user splits hold out interactions of each\n"
		"user for recommender evaluation; the test side carries the truth as `item`\n"
		"(or `items` with --per-user).  Output files are written atomically.",
		opts,
		"  pea split --test 0.2 --by id -o train.pea,test.pea < mail.pea\n"
		"  pea split --shards 4 --by id -o part-%d.pea < mail.pea\n"
		"  pea split --leave-last-out --by user --order time -o train.pea,test.pea < plays.pea",
		0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	int peruser = last + one + (per_user >= 0);
	if ((test >= 0) + (shards > 0) + peruser != 1)
		die_usage("give one of --test, --shards, --leave-last-out, --leave-one-out or --per-user");
	if (!peruser && (order || item || min_items != 3))
		die_usage("--order, --item and --min-items go with the per-user splits");
	if (peruser) {
		if (last && !order)
			die_usage("--leave-last-out needs --order FIELD (the time); --leave-one-out needs none");
		if (one && order)
			die_usage("--leave-one-out holds out by a hash: --order means nothing to it");
		if (per_user >= 0 && !(per_user > 0 && per_user < 1))
			die_usage("--per-user must be above 0 and below 1");
		if (min_items < 2)
			die_usage("--min-items must be at least 2");
		if (!oo.path)
			die_usage("-o TRAIN,TEST is required");
		struct cli_list l = cli_split(oo.path, ',');
		if (l.n != 2)
			die_usage("a per-user split needs -o TRAIN,TEST");
		struct ho_opts ho = {last ? HO_LAST : one ? HO_ONE : HO_FRACTION, per_user, by, item, order,
				     min_items, (uint64_t)seed};
		pea_out *o2[2];
		pea_wr *w2[2];
		for (int i = 0; i < 2; i++) {
			struct out_opts x = oo;
			x.path = l.v[i];
			o2[i] = out_open(&x);
			w2[i] = wr_on(o2[i]);
		}
		pea_in *in = in_open(args, nargs, NULL);
		struct ho_stats st;
		ho_run(in, &ho, w2[0], w2[1], &st);
		for (int i = 0; i < 2; i++)
			wr_close(w2[i]);
		in_close(in);
		free(args);
		return 0;
	}
	if (test > 1)
		die_usage("--test must be between 0 and 1");
	if (shards < 0 || shards > 10000)
		die_usage("--shards must be between 1 and 10000");
	if (!oo.path)
		die_usage("-o is required");
	int nout = test >= 0 ? 2 : (int)shards;
	char **names = xcalloc((size_t)nout, sizeof *names);
	if (test >= 0) {
		struct cli_list l = cli_split(oo.path, ',');
		if (l.n != 2)
			die_usage("--test needs -o TRAIN,TEST");
		names[0] = (char *)l.v[0];
		names[1] = (char *)l.v[1];
	} else {
		const char *pc = strstr(oo.path, "%d");
		if (!pc || strstr(pc + 2, "%d") || strchr(oo.path, '%') != pc)
			die_usage("--shards needs -o with one %%d (e.g. part-%%d.pea)");
		for (int i = 0; i < nout; i++) {
			size_t n = strlen(oo.path) + 16;
			names[i] = xmalloc(n);
			snprintf(names[i], n, "%.*s%d%s", (int)(pc - oo.path), oo.path, i, pc + 2);
		}
	}
	pea_wr **w = xcalloc((size_t)nout, sizeof *w);
	pea_out **o = xcalloc((size_t)nout, sizeof *o);
	for (int i = 0; i < nout; i++) {
		struct out_opts x = oo;
		x.path = names[i];
		o[i] = out_open(&x);
		w[i] = wr_on(o[i]);
	}
	pea_in *in = in_open(args, nargs, NULL);
	struct writers ws = {w, nout};
	in_on_idle(in, flush_all, &ws);
	struct unit_dec *ud = ud_new(in);
	struct pea_unit u;
	pea_frame *f = frame_new();
	struct pea_err e;
	uint64_t nunit = 0;
	unit_init(&u);
	while (in_next(in, &u)) {
		if (shards > 0 && !by && u.kind == IN_PEA) {
			/* whole frames, round-robin; checked, never decoded into records */
			int k = (int)(nunit++ % (uint64_t)nout);
			if (frame_checksum(u.hdrbytes, u.data.p, u.hdr.stored) != u.hdr.sum)
				die("%s: frame %llu at byte %llu: checksum mismatch", u.file,
				    (unsigned long long)u.index, (unsigned long long)u.offset);
			wr_flush(w[k]);
			out_write(o[k], u.hdrbytes, PEA_HDR_LEN);
			out_write(o[k], u.data.p, u.data.len);
			continue;
		}
		ud_start(ud, &u);
		int r;
		while ((r = ud_next(ud, f, &e)) > 0) {
			int fid = by ? frame_field(f, by) : -1;
			for (uint32_t i = 0; i < frame_nrec(f); i++) {
				uint64_t h;
				if (by) {
					const pea_val *v = frame_get(f, i, fid);
					char tmp[32], where[512];
					const void *p;
					size_t n;
					if (!v || key_bytes(v, tmp, &p, &n)) {
						ud_where(ud, i, where, sizeof where);
						die("%s: %s", where, v ? "the --by field must be a string or an int"
									: "no field named by --by");
					}
					h = hash_bytes(p, n, (uint64_t)seed);
				} else if (shards > 0) {
					h = nunit;
				} else {
					uint64_t k[4] = {hash_bytes(u.file, strlen(u.file), 0), u.offset, u.index, i};
					h = hash_bytes(k, sizeof k, (uint64_t)seed);
				}
				int side = test >= 0 ? hash_unit(h) < test : (int)(h % (uint64_t)nout);
				wr_copy(w[side], f, i);
			}
		}
		if (r < 0) {
			char where[512];
			ud_unit_where(ud, where, sizeof where);
			die("%s: %s", where, e.msg);
		}
		nunit++;
	}
	for (int i = 0; i < nout; i++)
		wr_close(w[i]);
	unit_release(&u);
	ud_free(ud);
	frame_free(f);
	in_close(in);
	if (shards > 0)
		for (int i = 0; i < nout; i++)
			free(names[i]);
	free(names);
	free(w);
	free(o);
	free(args);
	return 0;
}
