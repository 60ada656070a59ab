/* masto.h - Mastodon's API as a live source: statuses (JSON, as streaming
 * events and timeline pages carry them) into posts, and the timeline that
 * fills the gap left by a dropped stream.
 *
 * JSON is parsed by json-c with a depth bound; a status without an id is
 * malformed, anything else missing is simply absent from the record. */
#ifndef PEA_MASTO_H
#define PEA_MASTO_H

#include "err.h"
#include "post.h"

/* Whether a URL is a Mastodon streaming endpoint (/api/v1/streaming...). */
int masto_is_stream(const char *url);
/* The timeline URL that holds what the stream sends, with the query
 * started ("...?local=true&" or "...?"), so the caller appends min_id and
 * limit; NULL when the stream has no timeline pea knows. */
char *masto_timeline_url(const char *stream_url);

/* One status (the data of an "update" or "status.update" event) into p.
 * -1 with the reason in e when it is not a status. */
int masto_status(const char *json, size_t n, struct post *p, struct pea_err *e);
/* A timeline page (a JSON array of statuses): fn is called with each, in
 * the page's order; a malformed element is an error of the whole page. */
int masto_timeline(const char *json, size_t n, void (*fn)(void *ctx, struct post *p), void *ctx,
		   struct pea_err *e);
/* Order of two ids: numerically when both are decimal (Mastodon's), as
 * byte strings otherwise. */
int masto_id_cmp(const char *a, const char *b);

#endif
