/* httpget - the http.h client as a second caller would use it, for the
 * command tests: every URL argument is fetched (conditionally when
 * --etag/--since are given) and one line per response is printed:
 * "URL STATUS ETAG LAST-MODIFIED BYTES ERROR". */
#include "err.h"
#include "http.h"
#include "url.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
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
		} else {
			char *u = url_normalize(argv[i]);
			if (!u)
				die("%s: not an http(s) URL", argv[i]);
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
