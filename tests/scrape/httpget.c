/* httpget - the http.h client as a second caller would use it, for the
 * command tests: every URL argument is fetched (conditionally when
 * --etag/--since are given, streamed with --stream, stopping after N
 * pieces with --stop N) and one line per response is printed:
 * "URL STATUS ETAG LAST-MODIFIED BYTES ERROR"; streamed pieces are
 * printed as they arrive, "piece: TEXT". */
#include "err.h"
#include "http.h"
#include "url.h"

#include <stdio.h>
#include <string.h>

static int stop_after = -1, pieces;

static int piece(void *user, const char *url, long status, const uint8_t *p, size_t n)
{
	(void)user;
	(void)url;
	(void)status;
	size_t l = 0;
	while (l < n && p[l] != '\n')
		l++;
	printf("piece: %.*s\n", (int)l, (const char *)p);
	fflush(stdout);
	return ++pieces == stop_after;
}

int main(int argc, char **argv)
{
	int stream = 0;
	struct http_opts o = HTTP_OPTS_INIT;
	const char *etag = NULL, *since = NULL;
	err_init(argv[0]);
	o.retries = 0;
	http_client *h = http_new(&o);
	int n = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--etag") && i + 1 < argc) {
			etag = argv[++i];
		} else if (!strcmp(argv[i], "--since") && i + 1 < argc) {
			since = argv[++i];
		} else if (!strcmp(argv[i], "--stream")) {
			stream = 1;
		} else if (!strcmp(argv[i], "--stop") && i + 1 < argc) {
			stop_after = atoi(argv[++i]);
		} else {
			char *u = url_normalize(argv[i]);
			if (!u)
				die("%s: not an http(s) URL", argv[i]);
			if (stream)
				http_add_stream(h, u, NULL, piece);
			else
				http_add(h, u, NULL, etag, since);
			free(u);
			n++;
		}
	}
	const struct http_resp *r;
	int got = 0;
	while ((r = http_next(h, 1))) {
		printf("%s %ld %s %s %zu %s\n", r->url, r->status, r->etag ? r->etag : "-",
		       r->last_modified ? "lm" : "-", r->len, r->error ? r->error : "-");
		got++;
	}
	http_free(h);
	return got == n ? 0 : 1;
}
