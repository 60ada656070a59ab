/* input.h - the one record reader of every pea program.
 *
 * pea_in walks the input files (or standard input) and cuts them into units:
 * a binary frame, or a chunk of whole lines of a text format (JSON Lines,
 * plain text, CSV/TSV, fastText, svmlight).  Cutting is serial and cheap;
 * turning a unit into a decoded frame (checksum, zstd, parsing, importing
 * text) is done by unit_dec, one per thread, so that work runs on every core.
 *
 * A pea filter at the head of a pipeline therefore also reads JSON Lines and
 * plain text: the format of each file is sniffed from its first bytes.
 *
 * Units are cut early when the input goes quiet (nothing more to read
 * without blocking), so live pipelines deliver records promptly. */
#ifndef PEA_INPUT_H
#define PEA_INPUT_H

#include "cli.h"
#include "frame.h"

#include <signal.h>

enum in_format {
	IN_AUTO = 0, /* pea frames, JSON Lines or plain text, from the first bytes */
	IN_PEA,
	IN_JSON,
	IN_TEXT,
	IN_CSV,
	IN_TSV,
	IN_FASTTEXT,
	IN_SVMLIGHT,
};

struct in_opts {
	enum in_format format;
	const char *text_field; /* field of plain text lines (default "text") */
	int repair_utf8;	/* text and JSON Lines: replace invalid UTF-8 by U+FFFD, count */
	int csv_strings;	/* CSV/TSV: every value stays a string */
	const char *columns;	/* CSV/TSV: no header line; the names, comma-separated */
	int zero_based;		/* svmlight: indices start at 0, not 1 */
	struct cli_list types;	/* NAME=TYPE: the type an importer gives a field */
	size_t chunk;		/* bytes of text per unit (default 256 KiB) */
	int headers_only;	/* frames: skip payloads (counting from headers) */
	/* several readers sharing the input (ranks of dist.h): this one takes
	 * the frames whose number, counted from 0 over all the files, is
	 * `stripe` modulo `nstripes`, and seeks over the others; text formats
	 * cannot be shared this way (0 or 1: every frame) */
	uint32_t stripe, nstripes;
	/* set by a signal handler: once it is non-zero, the input ends at the
	 * first pause of more than STOP_QUIET_MS (what is already written to a
	 * pipe is still read), as a clean end of input */
	const volatile sig_atomic_t *stop;
};

struct pea_unit {
	enum in_format kind; /* IN_PEA or a text format */
	struct buf data;     /* stored payload, or whole lines */
	uint8_t hdrbytes[PEA_HDR_LEN];
	struct pea_hdr hdr;
	const char *file;    /* name for messages */
	uint64_t offset;     /* byte offset in the file */
	uint64_t index;      /* frame number (from 1), or first line number (from 1) */
	const struct csv_header *csv;
};
void unit_init(struct pea_unit *u);
void unit_release(struct pea_unit *u);

typedef struct pea_in pea_in;

/* files NULL or n == 0: standard input; "-" also means standard input */
pea_in *in_open(char *const *files, int n, const struct in_opts *o);
void in_close(pea_in *in);
/* The next unit: 1, or 0 at the end of the input.  Read errors, bad magic
 * and truncation are fatal, with file and place in the message. */
int in_next(pea_in *in, struct pea_unit *u);
/* Whether in_next can return without blocking. */
int in_ready(pea_in *in);
/* fn(ctx) is called by in_next each time it has a unit to return, before
 * returning it: the place for state that may change between records (a
 * model reloaded), since the frame-parallel map reads a batch of units
 * while no worker runs. */
void in_on_unit(pea_in *in, void (*fn)(void *ctx), void *ctx);
/* fn(ctx) is called when reading on would wait for input that has not come
 * (a live pipe gone quiet): a serial filter flushes its writer there
 * (wr_idle), so its records flow on while its input waits. */
void in_on_idle(pea_in *in, void (*fn)(void *ctx), void *ctx);
const struct in_opts *in_options(const pea_in *in);
/* UTF-8 repairs made while importing (repair_utf8) */
uint64_t in_repaired(const pea_in *in);
void in_add_repaired(pea_in *in, uint64_t n);

/* Decoding units into frames, one decoder per thread.  A text unit may yield
 * more than one frame (when a field changes type); binary units yield one. */
struct unit_dec;
struct unit_dec *ud_new(pea_in *in);
void ud_free(struct unit_dec *d);
/* Frames of uncompressed units are parsed where they lie in the unit, so
 * they last as long as it does; a caller that keeps frames after the next
 * in_next asks for frames with bytes of their own. */
void ud_keep_frames(struct unit_dec *d);
void ud_start(struct unit_dec *d, const struct pea_unit *u);
/* 1 with a frame, 0 when the unit is done, -1 on error: *where and e say
 * what went wrong ("data.pea: frame 3 at byte 1234", "x.jsonl: line 7"). */
int ud_next(struct unit_dec *d, pea_frame *f, struct pea_err *e);
/* "FILE: frame N at byte B: record R" or "FILE: line L" for a record of the
 * frame last returned. */
void ud_where(const struct unit_dec *d, uint32_t rec, char *dst, size_t n);
/* Where the unit being decoded starts. */
void ud_unit_where(const struct unit_dec *d, char *dst, size_t n);

/* Convenience for serial consumers: read every record, one frame at a time. */
typedef struct pea_reader pea_reader;
pea_reader *reader_open(char *const *files, int n, const struct in_opts *o);
/* The next decoded frame, or NULL at the end; errors are fatal. */
const pea_frame *reader_next(pea_reader *r);
/* location of a record of the current frame, for messages */
void reader_where(const pea_reader *r, uint32_t rec, char *dst, size_t n);
pea_in *reader_in(pea_reader *r);
void reader_close(pea_reader *r);

#endif
