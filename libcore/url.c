/* url.c - see url.h.  libcurl parses and resolves; this file only cleans
 * the input (whitespace, raw bytes that browsers escape) and applies the
 * normalizations curl leaves alone (host case, percent-escape case). */
#include "url.h"
#include "err.h"
#include "util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

/* Escape what a lenient author writes and a URL may not hold: spaces,
 * controls, bytes >= 0x80 (UTF-8 paths), and the few ASCII characters RFC
 * 3986 excludes.  Leading and trailing whitespace goes, as in browsers. */
static char *clean(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (!n || n > URL_MAX)
		return NULL;
	char *o = xmalloc(3 * n + 1), *p = o;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c <= 0x20 || c >= 0x7f || strchr("<>\"{}|\\^`", c)) {
			if (c == '\\') { /* browsers read a backslash as a slash */
				*p++ = '/';
				continue;
			}
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		} else {
			*p++ = (char)c;
		}
	}
	*p = 0;
	return o;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-escapes upper-case, and unreserved characters decoded
 * (RFC 3986 6.2.2.1-2), in place after the authority. */
static void fix_escapes(char *u)
{
	char *p = strstr(u, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	if (!p)
		return;
	char *w = p;
	while (*p) {
		int a, b;
		if (p[0] == '%' && (a = hexval(p[1])) >= 0 && (b = hexval(p[2])) >= 0) {
			int c = a * 16 + b;
			if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
				*w++ = (char)c;
			} else {
				*w++ = '%';
				*w++ = (char)toupper((unsigned char)p[1]);
				*w++ = (char)toupper((unsigned char)p[2]);
			}
			p += 3;
		} else {
			*w++ = *p++;
		}
	}
	*w = 0;
}

char *url_resolve(const char *base, const char *ref)
{
	char *r = clean(ref), *out = NULL, *s = NULL, *host = NULL;
	if (!r)
		return NULL;
	CURLU *h = curl_url();
	if (!h)
		die("out of memory");
	if (base && curl_url_set(h, CURLUPART_URL, base, 0) != CURLUE_OK)
		goto done;
	if (curl_url_set(h, CURLUPART_URL, r, 0) != CURLUE_OK)
		goto done;
	if (curl_url_get(h, CURLUPART_SCHEME, &s, 0) != CURLUE_OK ||
	    (strcmp(s, "http") && strcmp(s, "https")))
		goto done;
	if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
		goto done;
	for (char *c = host; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (curl_url_set(h, CURLUPART_HOST, host, 0) != CURLUE_OK ||
	    curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    curl_url_set(h, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl_url_set(h, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK)
		goto done;
	char *u = NULL;
	if (curl_url_get(h, CURLUPART_URL, &u, CURLU_NO_DEFAULT_PORT) != CURLUE_OK)
		goto done;
	if (strlen(u) <= URL_MAX) {
		out = xstrdup(u);
		fix_escapes(out);
	}
	curl_free(u);
done:
	curl_free(s);
	curl_free(host);
	curl_url_cleanup(h);
	free(r);
	return out;
}

/* [start, end) of the authority's host:port, without user info */
static int authority(const char *url, const char **a, const char **e)
{
	const char *p = strstr(url, "://");
	if (!p)
		return -1;
	p += 3;
	const char *end = p + strcspn(p, "/?#");
	const char *at = memchr(p, '@', (size_t)(end - p));
	*a = at ? at + 1 : p;
	*e = end;
	return 0;
}

static int put(char *dst, size_t n, const char *p, size_t len)
{
	if (len + 1 > n)
		return -1;
	memcpy(dst, p, len);
	dst[len] = 0;
	return 0;
}

int url_hostport(const char *url, char *dst, size_t n)
{
	const char *a, *e;
	if (authority(url, &a, &e))
		return -1;
	return put(dst, n, a, (size_t)(e - a));
}

int url_origin(const char *url, char *dst, size_t n)
{
	const char *a, *e;
	if (authority(url, &a, &e))
		return -1;
	return put(dst, n, url, (size_t)(e - url));
}

int url_domain(const char *url, char *dst, size_t n)
{
	const char *a, *e;
	if (authority(url, &a, &e))
		return -1;
	if (*a == '[') /* IPv6 literal */
		return put(dst, n, a, (size_t)(strchr(a, ']') ? strchr(a, ']') + 1 - a : e - a));
	const char *colon = memchr(a, ':', (size_t)(e - a));
	if (colon)
		e = colon;
	int ip = 1;
	for (const char *c = a; c < e; c++)
		if (!isdigit((unsigned char)*c) && *c != '.')
			ip = 0;
	if (ip)
		return put(dst, n, a, (size_t)(e - a));
	/* walk back over two labels, or three under a country code's
	 * second level (example.co.uk, example.com.au) */
	const char *dots[3] = {NULL, NULL, NULL};
	int nd = 0;
	for (const char *c = e; c > a && nd < 3; c--)
		if (c[-1] == '.')
			dots[nd++] = c - 1;
	const char *start = a;
	if (nd >= 2) {
		start = dots[1] + 1;
		static const char *const sld[] = {"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or"};
		size_t sl = (size_t)(dots[0] - start);
		int cc = e - dots[0] == 3;
		for (size_t i = 0; cc && i < ARRAY_SIZE(sld); i++)
			if (strlen(sld[i]) == sl && !memcmp(start, sld[i], sl))
				start = nd >= 3 ? dots[2] + 1 : a;
	}
	return put(dst, n, start, (size_t)(e - start));
}

const char *url_path(const char *url)
{
	const char *a, *e;
	if (authority(url, &a, &e))
		return "/";
	return *e ? e : "/";
}
