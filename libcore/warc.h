/* warc.h - WARC archives (ISO 28500, WARC/1.0 and 1.1), read and written.
 *
 * Reading streams a .warc or .warc.gz file (one gzip member per record, as
 * wget --warc-file and Common Crawl write them, or one member for all)
 * record by record with bounded memory: a header block of at most 64 KiB,
 * and blocks over the caller's limit skipped and counted, not loaded.
 * warc_http_body() then turns a response record's block into the HTTP
 * status, headers and decoded body (chunked and gzip/deflate undone).
 *
 * Writing produces one gzip member per record (so tools can seek to any
 * record): a warcinfo record first, then a request and a response record
 * per exchange, with WARC-Concurrent-To linking the pair. */
#ifndef PEA_WARC_H
#define PEA_WARC_H

#include "err.h"
#include "util.h"

#include <stdint.h>

struct warc_rec {
	char type[32];		/* WARC-Type, lower case: "response", "resource"... */
	char uri[8192];		/* WARC-Target-URI ("" when absent) */
	char date[64];		/* WARC-Date */
	char ctype[256];	/* Content-Type of the block */
	const uint8_t *block;	/* NULL when the block was over the limit */
	size_t len;		/* the block's length (also when skipped) */
	uint64_t index;		/* record number, from 1 */
};

typedef struct warc_reader warc_reader;

/* Read from fd (not closed by warc_free); name is for messages.  Blocks
 * longer than max_block are skipped (rec->block NULL). */
warc_reader *warc_open(int fd, const char *name, size_t max_block);
void warc_free(warc_reader *r);
/* 1 with a record, 0 at the end, -1 with e set ("record 3: ..."). */
int warc_next(warc_reader *r, struct warc_rec *rec, struct pea_err *e);
/* Whether bytes start a WARC file (plain, or gzip whose content does). */
int warc_sniff(const uint8_t *p, size_t n);

/* An HTTP response (status line, headers, body) as archived. */
struct warc_http {
	int status;
	char ctype[256];
	struct buf body; /* decoded */
};
/* Parse an archived HTTP response; -1 with e set when it is not one or a
 * bound (max body) is crossed while decoding. */
int warc_http_body(const uint8_t *p, size_t n, size_t max_body, struct warc_http *h,
		   struct pea_err *e);

typedef struct warc_writer warc_writer;
/* Create path (atomically: it appears when warc_close commits it); gzip
 * members when the name ends in .gz. */
warc_writer *warc_create(const char *path);
/* Archive one exchange.  resp_headers are the raw status line and headers
 * as received; since body is the decoded body, Content-Encoding,
 * Transfer-Encoding and Content-Length are rewritten to match it. */
void warc_write_exchange(warc_writer *w, const char *url, const char *ip, double when,
			 const char *req_headers, const char *resp_headers, const uint8_t *body,
			 size_t len);
void warc_close(warc_writer *w);

#endif
