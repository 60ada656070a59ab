/* pea-shuffle - records in a random order, the same for the same seed.
 *
 * Two passes over memory, not over the input: each record goes to one of
 * 64 buckets at random, kept as compressed frames; then each bucket is
 * decoded alone, shuffled (Fisher-Yates) and written.  Memory is the
 * compressed input plus one decoded bucket. */
#include "input.h"
#include "output.h"
#include "rng.h"

#define NBUCKETS 64

struct bucket {
	pea_fb *fb;
	struct buf frames; /* encoded frames */
};

int main(int argc, char **argv)
{
	struct out_opts oo = OUT_OPTS_INIT;
	int64_t seed = 1;
	const struct cli_opt opts[] = {
		CLI_OPT_SEED(&seed),
		CLI_OPTS_WRITER(oo),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"shuffle", "records in a random order", "[OPTIONS] [FILE...]",
		"Holds the input in memory as compressed frames; the same seed gives the same\n"
		"order.",
		opts, "  pea shuffle --seed 42 train.pea -o train.shuf.pea", 0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	struct rng g;
	rng_seed(&g, (uint64_t)seed);
	struct bucket b[NBUCKETS];
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	for (int i = 0; i < NBUCKETS; i++) {
		b[i].fb = fb_new();
		buf_init(&b[i].frames, 0);
	}
	pea_reader *r = reader_open(args, nargs, NULL);
	const pea_frame *f;
	while ((f = reader_next(r))) {
		for (uint32_t i = 0; i < frame_nrec(f); i++) {
			struct bucket *k = &b[rng_below(&g, NBUCKETS)];
			fb_begin(k->fb);
			if (fb_copy_rec(k->fb, f, i, NULL) < 0) {
				/* a field changed type: close the bucket's frame */
				fb_abort(k->fb);
				fb_encode(k->fb, 1, cctx, &k->frames);
				fb_begin(k->fb);
				if (fb_copy_rec(k->fb, f, i, NULL) < 0)
					die("internal error: type clash in an empty frame");
			}
			fb_end(k->fb);
			if (fb_size(k->fb) >= PEA_FRAME_TARGET)
				fb_encode(k->fb, 1, cctx, &k->frames);
		}
	}
	reader_close(r);
	pea_wr *w = wr_open(&oo);
	pea_frame **frames = NULL;
	size_t fcap = 0;
	struct pea_err e;
	for (int i = 0; i < NBUCKETS; i++) {
		fb_encode(b[i].fb, 1, cctx, &b[i].frames);
		/* decode every frame of the bucket, then pick records at random */
		size_t nf = 0, nrec = 0;
		for (size_t off = 0; off < b[i].frames.len;) {
			struct pea_hdr h;
			const uint8_t *p = b[i].frames.p + off;
			if (nf == fcap) {
				fcap = fcap ? fcap * 2 : 16;
				frames = xrealloc(frames, fcap * sizeof *frames);
				for (size_t j = nf; j < fcap; j++)
					frames[j] = NULL;
			}
			if (!frames[nf])
				frames[nf] = frame_new();
			ZSTD_DCtx *d = ZSTD_createDCtx();
			if (hdr_parse(p, &h, &e) || frame_load(frames[nf], &h, p, p + PEA_HDR_LEN, d, &e))
				die("internal error: %s", e.msg);
			ZSTD_freeDCtx(d);
			nrec += frame_nrec(frames[nf]);
			nf++;
			off += PEA_HDR_LEN + h.stored;
		}
		uint64_t *ref = xmalloc((nrec ? nrec : 1) * sizeof *ref);
		size_t k = 0;
		for (size_t j = 0; j < nf; j++)
			for (uint32_t q = 0; q < frame_nrec(frames[j]); q++)
				ref[k++] = (uint64_t)j << 32 | q;
		for (size_t j = nrec; j > 1; j--) {
			size_t x = rng_below(&g, j);
			uint64_t t = ref[j - 1];
			ref[j - 1] = ref[x];
			ref[x] = t;
		}
		for (size_t j = 0; j < nrec; j++) {
			wr_copy(w, frames[ref[j] >> 32], (uint32_t)ref[j]);
		}
		free(ref);
		buf_release(&b[i].frames);
		fb_free(b[i].fb);
	}
	for (size_t j = 0; j < fcap; j++)
		frame_free(frames[j]);
	free(frames);
	ZSTD_freeCCtx(cctx);
	wr_close(w);
	free(args);
	return 0;
}
