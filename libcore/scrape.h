/* scrape.h - sources to document records: the web, WARC, mail, files.
 *
 * A scraper turns each document it meets into one record written through
 * the serial writer (output.h):
 *
 *  - URLs (fetched through http.h, politely, every URL accounted for: a
 *    failure is a record with `status` and `error`), optionally crawled
 *    breadth-first within a scope, and archived to WARC (warc.h);
 *  - local files and directories (recursive, in name order), typed by
 *    their content: WARC archives (their response records), mbox files
 *    (one record per message), RFC 822 messages, HTML, plain text.
 *
 * Text extraction runs on a batch of documents in parallel (OpenMP) and
 * records are written in the order the documents were met, so the output
 * is the same on every run and every machine. */
#ifndef PEA_SCRAPE_H
#define PEA_SCRAPE_H

#include "cli.h"
#include "http.h"
#include "output.h"

enum scrape_scope { SCOPE_HOST, SCOPE_DOMAIN, SCOPE_PREFIX };

struct scrape_opts {
	struct http_opts http;
	int full_text, links, ok_only, quiet, threads;
	const char *label;	/* --label X */
	int label_from_dir;	/* label = name of the parent directory */
	uint64_t max_size;	/* largest local file or WARC record read whole */
	struct cli_list names;	/* shell patterns a file in a directory must match */
	/* crawling */
	int crawl;
	enum scrape_scope scope;
	int64_t depth;		/* links followed from a start page (-1: no bound) */
	int64_t max_pages;	/* URLs fetched in all (0: no bound) */
	struct cli_list include, exclude; /* PCRE2 patterns on URLs */
	const char *warc_out;
};

struct scrape_stats {
	uint64_t docs, files, skipped_binary, skipped_large, attachments, bad_chars;
	uint64_t mail, html, text, warc_records;
};

typedef struct scraper scraper;

/* Patterns that do not compile are a usage error (exit 2). */
scraper *scrape_new(const struct scrape_opts *o, pea_wr *w);
/* A file or a directory (recursively). */
void scrape_path(scraper *s, const char *path);
/* Queue a URL (start page of a crawl when crawling); a string that is not
 * an http(s) URL yields a failure record. */
void scrape_url(scraper *s, const char *url);
/* Fetch everything queued (and crawl), writing records as responses come.
 * `more` (may be NULL) is called when the client has room for more URLs;
 * it queues some with scrape_url and returns 0 when it has no more. */
void scrape_fetch(scraper *s, int (*more)(void *ctx, scraper *s), void *ctx);
/* Write what is batched, the WARC and the summary line (unless quiet). */
void scrape_finish(scraper *s);
/* Whether a local input could not be read (the exit status is then 1). */
int scrape_had_errors(const scraper *s);
void scrape_free(scraper *s);

#endif
