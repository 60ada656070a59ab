/* pea-sample - a random sample of records: a fraction, or exactly N. */
#include "hash.h"
#include "pmap.h"
#include "rng.h"

struct ctx {
	double fraction;
	uint64_t seed;
};

/* Keep a record when the hash of its place and the seed falls under the
 * fraction: the same records on every run, on any number of threads. */
static int bernoulli(void *arg, struct pmap_task *t, const pea_frame *in, pea_fb *out)
{
	struct ctx *c = arg;
	for (uint32_t r = 0; r < frame_nrec(in); r++) {
		uint64_t k[2] = {pmap_record_key(t, r), c->seed};
		if (hash_unit(hash_bytes(k, sizeof k, 0)) < c->fraction) {
			fb_begin(out);
			if (fb_copy_rec(out, in, r, NULL) < 0)
				return pmap_fail(t, r, "internal error: type clash");
			fb_end(out);
		}
	}
	return 0;
}

struct pos {
	uint64_t at, slot;
};

static int by_position(const void *a, const void *b)
{
	const struct pos *x = a, *y = b;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* Reservoir sampling (Algorithm R): each slot holds one record as a small
 * uncompressed frame; slots are written in input order at the end. */
static void reservoir(pea_reader *r, pea_wr *w, uint64_t n, uint64_t seed)
{
	struct rng g;
	rng_seed(&g, seed);
	struct buf *slot = xcalloc(n ? n : 1, sizeof *slot);
	uint64_t *order = xcalloc(n ? n : 1, sizeof *order);
	pea_fb *fb = fb_new();
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	uint64_t seen = 0;
	const pea_frame *f;
	while ((f = reader_next(r))) {
		for (uint32_t i = 0; i < frame_nrec(f); i++, seen++) {
			uint64_t j = seen < n ? seen : rng_below(&g, seen + 1);
			if (j >= n)
				continue;
			fb_begin(fb);
			if (fb_copy_rec(fb, f, i, NULL) < 0)
				die("internal error: type clash in an empty frame");
			fb_end(fb);
			buf_reset(&slot[j]);
			fb_encode(fb, 0, cctx, &slot[j]);
			order[j] = seen;
		}
	}
	uint64_t k = seen < n ? seen : n;
	/* back to input order */
	struct pos *idx = xcalloc(k ? k : 1, sizeof *idx);
	for (uint64_t i = 0; i < k; i++) {
		idx[i].at = order[i];
		idx[i].slot = i;
	}
	qsort(idx, k, sizeof *idx, by_position);
	pea_frame *one = frame_new();
	struct pea_err e;
	for (uint64_t i = 0; i < k; i++) {
		struct buf *s = &slot[idx[i].slot];
		struct pea_hdr h;
		if (hdr_parse(s->p, &h, &e) || frame_load(one, &h, s->p, s->p + PEA_HDR_LEN, NULL, &e))
			die("internal error: %s", e.msg);
		wr_copy(w, one, 0);
	}
	for (uint64_t i = 0; i < n; i++)
		buf_release(&slot[i]);
	free(slot);
	free(order);
	free(idx);
	frame_free(one);
	fb_free(fb);
	ZSTD_freeCCtx(cctx);
}

int main(int argc, char **argv)
{
	struct out_opts oo = OUT_OPTS_INIT;
	int64_t threads = 0, n = -1, seed = 1;
	int quiet = 0;
	double fraction = -1;
	const struct cli_opt opts[] = {
		{0, "fraction", CLI_DBL, &fraction, "F", "keep each record with probability F"},
		{'n', "records", CLI_INT, &n, "N", "keep exactly N records (reservoir sampling)"},
		CLI_OPT_SEED(&seed),
		CLI_OPTS_WRITER(oo),
		CLI_OPT_THREADS(&threads),
		CLI_OPT_QUIET(&quiet),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"sample", "a random sample of records", "(--fraction F | -n N) [OPTIONS] [FILE...]",
		"--fraction decides each record by a hash of its place in the input and the\n"
		"seed, so the same command keeps the same records on any machine and number\n"
		"of threads.  -n keeps a uniform sample of exactly N records, in input order.",
		opts, "  pea sample --fraction 0.01 --seed 7 big.pea | pea count", 0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	if ((fraction >= 0) == (n >= 0))
		die_usage("give one of --fraction or -n");
	if (fraction >= 0 && fraction > 1)
		die_usage("--fraction must be between 0 and 1");
	if (fraction >= 0) {
		struct ctx c = {fraction, (uint64_t)seed};
		pea_in *in = in_open(args, nargs, NULL);
		pea_out *out = out_open(&oo);
		struct pmap_opts po = {cli_threads(threads), bernoulli, NULL, &c, quiet};
		pmap_run(in, out, &po);
		out_close(out);
		in_close(in);
	} else {
		if (n > 100000000)
			die_usage("-n %lld: at most 100000000", (long long)n);
		pea_reader *r = reader_open(args, nargs, NULL);
		pea_wr *w = wr_open(&oo);
		reservoir(r, w, (uint64_t)n, (uint64_t)seed);
		wr_close(w);
		reader_close(r);
	}
	free(args);
	return 0;
}
