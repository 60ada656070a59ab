/* http.h - a polite, bounded HTTP client for many requests at once.
 *
 * Built on libcurl's multi interface: one thread drives every transfer, so
 * a caller adds URLs, then takes finished responses one at a time with
 * http_next() and may add more while it goes (a crawler adds the links it
 * finds).  What the client guarantees, whoever calls it:
 *
 *  - politeness: at most `per_host` requests in flight to one host (name
 *    and port, whatever the scheme) and `delay` seconds between starts
 *    there (or the robots.txt Crawl-delay, whichever is longer); robots.txt
 *    fetched once per host, cached, and honoured (RFC 9309) unless
 *    `robots` is 0;
 *  - bounds: `max_conns` transfers in all, connect and total timeouts, a
 *    body limit (checked while receiving, after decompression), redirects
 *    followed by the client itself (so each hop passes the same politeness
 *    and robots checks) up to `max_redirects`, only to http and https;
 *  - retries with exponential backoff on timeouts, dropped connections,
 *    429 and 5xx (Retry-After honoured up to a minute);
 *  - conditional GET: pass the ETag / Last-Modified of a copy you hold and a
 *    304 comes back instead of the body;
 *  - streaming: a body can go to a callback as it arrives (event streams,
 *    large downloads) instead of being held.
 *
 * Every URL added comes back exactly once, as a response or as a failure
 * (status 0 and an error), so a caller can account for everything.
 *
 *	http_client *h = http_new(&opts);
 *	http_add(h, url, my_ptr, NULL, NULL);
 *	const struct http_resp *r;
 *	while ((r = http_next(h, 1)))
 *		use(r);		// r is valid until the next http_next
 *	http_free(h);
 */
#ifndef PEA_HTTP_H
#define PEA_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct http_opts {
	int max_conns;		/* transfers in flight in all (default 32) */
	int per_host;		/* in flight to one host (default 2) */
	double delay;		/* seconds between request starts to one host */
	int robots;		/* honour robots.txt */
	const char *user_agent; /* NULL: "pea/VERSION" */
	double connect_timeout; /* seconds */
	double timeout;		/* seconds for a whole transfer */
	uint64_t max_body;	/* bytes, after decompression */
	int max_redirects;
	int retries;		/* extra attempts after a transient failure */
	double retry_wait;	/* first backoff in seconds, doubled each retry */
	int keep_raw;		/* keep the raw request and response headers */
};
#define HTTP_OPTS_INIT {32, 2, 0, 1, NULL, 10, 30, 10u << 20, 5, 2, 1, 0}

struct http_resp {
	const char *url;	  /* as added */
	const char *final_url;	  /* after redirects */
	void *user;		  /* as added */
	long status;		  /* HTTP status of the last hop; 0 when none */
	const char *error;	  /* NULL, or why there is no usable response */
	int robots_denied;	  /* refused by robots.txt (error says so too) */
	const char *content_type; /* the header's value, or NULL */
	const char *etag, *last_modified, *location;
	double retry_after;	  /* seconds the server asked to wait (Retry-After), or -1 */
	const uint8_t *body;	  /* decoded body (NUL-terminated) */
	size_t len;
	const char *req_headers;  /* raw, with keep_raw */
	const char *resp_headers; /* raw status line and headers, with keep_raw */
	const char *remote_ip;
	double fetched;		  /* Unix time the response completed */
	int redirects, attempts;
};

struct http_stats {
	uint64_t ok, failed, robots, bytes, requests;
};

typedef struct http_client http_client;

http_client *http_new(const struct http_opts *o);
void http_free(http_client *h);
/* Queue a GET.  url must be normalized (url.h); etag and last_modified
 * (either may be NULL) make it conditional. */
void http_add(http_client *h, const char *url, void *user, const char *etag,
	      const char *last_modified);
/* Called with each piece of a successful (2xx) body as it arrives, for
 * event streams and downloads too large to hold: return 0 to go on, or
 * nonzero to stop the transfer (the response then comes back with no
 * error).  It is called once with n == 0 when the headers of a 2xx
 * response are in (the stream is open, even before any byte of it).  It
 * runs inside http_next() or http_wait(), on the caller's thread. */
typedef int (*http_data_fn)(void *user, const char *url, long status, const uint8_t *p, size_t n);
/* A request with more to it than a URL (every member may be NULL). */
struct http_req {
	const char *etag, *last_modified; /* make it conditional */
	/* an Authorization header value ("Bearer ..."): sent only to the
	 * URL's own origin (never after a redirect elsewhere, never with
	 * robots.txt), and never kept in req_headers */
	const char *auth;
	const char *accept;	/* an Accept header value */
	http_data_fn stream;	/* the body goes to this callback (see below) */
	/* with stream: a download, not an event stream, so the total timeout
	 * and max_body hold as for a buffered body (a Content-Length beyond
	 * max_body is refused before any byte is read) */
	int bounded;
};
void http_add_req(http_client *h, const char *url, void *user, const struct http_req *q);
/* Queue a GET whose body goes to fn instead of being kept (the response
 * has len 0).  A stream has no total timeout, only the connect timeout;
 * --max-size does not apply.  Redirects and errors behave as for http_add. */
void http_add_stream(http_client *h, const char *url, void *user, http_data_fn fn);
/* End the transfers under way that were added with `user` (a stream gone
 * silent); each comes back from http_next/http_wait with status 0 and
 * error `why`.  Returns how many were ended. */
int http_cancel(http_client *h, void *user, const char *why);
/* URLs added and not yet returned */
size_t http_pending(const http_client *h);
/* URLs waiting for a connection slot (not yet started) */
size_t http_queued(const http_client *h);
/* The next finished response.  With wait 0, NULL when none is finished
 * yet; with wait 1, blocks until one is, and is NULL only when nothing is
 * pending. */
const struct http_resp *http_next(http_client *h, int wait);
/* For callers that also keep time and streams: the next finished
 * response, or NULL after `timeout` seconds, or as soon as a stream
 * callback was given data (so the caller can hand on what it made of it). */
const struct http_resp *http_wait(http_client *h, double timeout);
const struct http_stats *http_stats(const http_client *h);

/* robots.txt rules (exposed for tests and for callers that fetch it
 * themselves) */
struct robots;
struct robots *robots_parse(const char *txt, size_t n, const char *agent);
int robots_allowed(const struct robots *r, const char *path);
double robots_delay(const struct robots *r);
void robots_free(struct robots *r);

#endif
