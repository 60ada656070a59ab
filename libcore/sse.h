/* sse.h - server-sent event streams (text/event-stream) cut into events.
 *
 * The parser is fed bytes as they arrive, in pieces of any size, and calls
 * back once per complete event (the WHATWG rules: "field: value" lines,
 * data lines joined by newlines, a blank line dispatches, ':' lines are
 * comments - servers send them as heartbeats).  An event is bounded: one
 * whose data outgrows the limit is dropped whole and counted, never cut. */
#ifndef PEA_SSE_H
#define PEA_SSE_H

#include <stddef.h>
#include <stdint.h>

struct sse_event {
	const char *type; /* "message" when the event named none */
	const char *data; /* NUL-terminated, without the final newline */
	size_t len;
	const char *id;	  /* the last event id seen on the stream, or "" */
};

/* Return 0 to go on, nonzero to stop feeding (sse_feed returns it). */
typedef int (*sse_fn)(void *ctx, const struct sse_event *ev);

struct sse_stats {
	uint64_t events, comments, oversize;
	int64_t retry_ms; /* the server's "retry:" advice, or -1 */
};

typedef struct sse sse;

sse *sse_new(size_t max_event);
void sse_free(sse *s);
/* A new connection: forget a partial event (the last id is kept). */
void sse_reset(sse *s);
/* Feed bytes; calls fn for every event completed.  Returns 0, or what fn
 * returned when it stopped. */
int sse_feed(sse *s, const uint8_t *p, size_t n, sse_fn fn, void *ctx);
const struct sse_stats *sse_stats(const sse *s);

#endif
