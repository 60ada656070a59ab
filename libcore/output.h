/* output.h - the one record writer of every pea program.
 *
 * Records go out as binary frames, or as JSON Lines when standard output is
 * a terminal (unless --binary), so a person who runs a pea command by hand
 * sees readable records.  Output to a file (-o) is atomic.  A closed pipe
 * (`pea cat x | head`) ends the program quietly with status 0. */
#ifndef PEA_OUTPUT_H
#define PEA_OUTPUT_H

#include "frame.h"

/* --level when it is not given: zstd level 3 into files, where size
 * matters, and no compression into pipes, where the next stage would only
 * spend time undoing it */
#define PEA_LEVEL_AUTO (-100)
#define PEA_FILE_LEVEL 3

struct out_opts {
	const char *path; /* NULL or "-": standard output */
	int64_t level;	  /* zstd level, 0 = uncompressed, PEA_LEVEL_AUTO */
	int binary;	  /* binary even to a terminal */
	int json;	  /* JSON Lines even to a pipe or file */
};
/* the defaults, for a command to fill before parsing its options */
#define OUT_OPTS_INIT {NULL, PEA_LEVEL_AUTO, 0, 0}
/* the options of every command that writes records */
#define CLI_OPTS_WRITER(oo)                                                              \
	CLI_OPT_OUTPUT(&(oo).path), CLI_OPT_BINARY(&(oo).binary),                        \
		{0, "json", CLI_FLAG, &(oo).json, NULL, "write JSON Lines even to a pipe or file"}, \
		CLI_OPT_LEVEL(&(oo).level)

typedef struct pea_out pea_out;

pea_out *out_open(const struct out_opts *o);
int out_is_json(const pea_out *o);
/* size at which writers close a frame: 4 MiB into files (better
 * compression), 1 MiB into pipes (less memory, records sooner) */
size_t out_frame_target(const pea_out *o);
const char *out_name(const pea_out *o);
/* Buffered write; errors are fatal, EPIPE exits 0. */
void out_write(pea_out *o, const void *p, size_t n);
void out_flush(pea_out *o);
/* Flush, and for -o files commit (fsync + rename). */
void out_close(pea_out *o);

/* Per-thread encoding state. */
struct out_tls {
	ZSTD_CCtx *cctx;
	pea_frame *f;
};
void out_tls_init(struct out_tls *t);
void out_tls_release(struct out_tls *t);
/* Append fb's records to dst as this output wants them; resets fb. */
void out_encode(const pea_out *o, pea_fb *fb, struct out_tls *t, struct buf *dst);

/* A serial record writer for producers (import, scrape, split...): build
 * records in wr_fb(), call wr_commit() after each fb_end(); frames are
 * written when full or when the oldest buffered record is a second old. */
typedef struct pea_wr pea_wr;
pea_wr *wr_open(const struct out_opts *o);
pea_wr *wr_on(pea_out *out); /* over an already open output */
pea_fb *wr_fb(pea_wr *w);
void wr_commit(pea_wr *w);
/* a whole record copied from a frame (a frame is started anew if a field
 * of the same name had another type), then committed */
void wr_copy(pea_wr *w, const pea_frame *f, uint32_t rec);
/* write what is buffered now (a producer about to wait calls this) */
void wr_flush(pea_wr *w);
/* wr_flush for in_on_idle(): a serial filter's records go on when its
 * input goes quiet */
void wr_idle(void *w);
/* flush and close (and commit the file) */
void wr_close(pea_wr *w);
uint64_t wr_records(const pea_wr *w);

#endif
