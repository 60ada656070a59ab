/* follow.h - following live sources: Mastodon streams and web feeds.
 *
 * A follower runs until it is stopped (SIGINT, SIGTERM) and writes each
 * new post as one record (post.h) the moment it has it:
 *
 *  - a Mastodon streaming URL (/api/v1/streaming/...) is held open as a
 *    server-sent event stream (sse.h): "update" is a post, "status.update"
 *    an edit (the same id, a `rev`), "delete" a record with deleted=true.
 *    A dropped stream is reconnected after a jittered exponential backoff
 *    (Retry-After honoured), and the gap is filled from the matching
 *    timeline (min_id paging, oldest first) while live events wait, so
 *    posts come out once each and in order;
 *  - any other URL is a feed (feed.h), polled with conditional requests
 *    (ETag and Last-Modified kept exactly as received) no more often than
 *    the interval, the feed's <ttl> or the server's Retry-After allow.
 *
 * Every source remembers the ids it has emitted (bounded, hset.h) and,
 * with a state file, its validators, its last id and those ids survive a
 * restart: a restarted follower emits neither duplicates nor gaps.  The
 * state file is JSON, written atomically (afile.h) after the records it
 * accounts for, so a crash repeats at most the last second's posts and
 * never loses one. */
#ifndef PEA_FOLLOW_H
#define PEA_FOLLOW_H

#include "http.h"
#include "output.h"

struct follow_opts {
	struct http_opts http;	/* politeness, limits, timeouts (retries are the follower's) */
	const char *state;	/* state file, or NULL */
	double interval;	/* feeds: seconds between polls, at least */
	const char *token;	/* bearer token for streams and timelines, or NULL */
	uint64_t max_event;	/* bytes of one stream event */
	uint64_t seen;		/* ids remembered per source */
	double retry_wait;	/* first reconnect delay, doubled each failure */
	double max_wait;	/* longest reconnect delay */
	double stall;		/* a stream silent this long (no heartbeat) is reconnected */
	int once;		/* poll every feed once, then stop (no streams) */
	int quiet;
};

typedef struct follower follower;

follower *follow_new(const struct follow_opts *o, pea_wr *w);
/* A stream or feed URL; an URL that is not http(s) is a usage error. */
void follow_add(follower *f, const char *url);
/* Follow until stopped by a signal (or, with once, until every feed was
 * polled); the state is saved on the way out.  Returns 1 when a feed could
 * not be read with once, else 0. */
int follow_run(follower *f);
void follow_free(follower *f);

#endif
