/* url.h - web addresses: resolution, normalization and scope.
 *
 * Built on libcurl's URL API (RFC 3986 parsing, relative resolution, dot
 * segments), with the normalizations a crawler needs to recognise the same
 * page under two spellings: lower-case scheme and host, no default port, no
 * fragment, percent-escapes upper-case and unreserved ones decoded.  Only
 * http and https come out: anything else is refused, so a page can never
 * point the fetcher at a local file. */
#ifndef PEA_URL_H
#define PEA_URL_H

#include <stddef.h>

/* the longest URL pea accepts (browsers stop near here too) */
#define URL_MAX 8192

/* Resolve `ref` against `base` (NULL when ref must be absolute) and
 * normalize it.  Returns a malloc'd URL, or NULL when it is not a valid
 * http(s) URL (too long, other scheme, no host). */
char *url_resolve(const char *base, const char *ref);
static inline char *url_normalize(const char *u) { return url_resolve(NULL, u); }

/* The host of a normalized URL, with its port when not the default
 * ("example.org", "127.0.0.1:8080"): the unit of politeness.  Writes at
 * most n bytes including the NUL; returns 0, or -1 when it does not fit. */
int url_hostport(const char *url, char *dst, size_t n);
/* "http://host:port": the origin, for robots.txt and scope. */
int url_origin(const char *url, char *dst, size_t n);
/* The registrable domain, approximated as the last two labels of the host
 * (three when the second-level label is short, as in example.co.uk); an
 * IP address is its own domain. */
int url_domain(const char *url, char *dst, size_t n);
/* The path and query ("/a/b?x=1"), for robots.txt rules. */
const char *url_path(const char *url);

#endif
