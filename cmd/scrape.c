/* pea-scrape - the web, WARC archives, mail and local files to text records;
 * with --follow, live sources (Mastodon streams, feeds) for as long as it runs. */
#include "err.h"
#include "follow.h"
#include "scrape.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int is_url(const char *a)
{
	return strstr(a, "://") != NULL;
}

/* URLs from standard input, one per line, read as the fetcher has room */
static int stdin_urls(void *ctx, scraper *s)
{
	(void)ctx;
	static char *line;
	static size_t cap;
	for (int k = 0; k < 64; k++) {
		ssize_t n = getline(&line, &cap, stdin);
		if (n < 0) {
			if (ferror(stdin))
				die_errno("standard input");
			free(line);
			line = NULL;
			return 0;
		}
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
			line[--n] = 0;
		const char *p = line + strspn(line, " \t");
		if (*p && *p != '#')
			scrape_url(s, p);
	}
	return 1;
}

/* A bearer token: only visible ASCII (so it cannot smuggle a header in),
 * never echoed in a message. */
static char *check_token(char *t, const char *from)
{
	size_t n = strlen(t);
	while (n && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' ' || t[n - 1] == '\t'))
		t[--n] = 0;
	if (!n)
		die("%s: no token in it", from);
	for (size_t i = 0; i < n; i++)
		if (t[i] < 0x21 || t[i] > 0x7e)
			die("%s: a token is one line of visible ASCII characters", from);
	return t;
}

static char *read_token(const char *file, const char *env)
{
	if (file && env)
		die_usage("give --token-file or --token-env, not both");
	if (env) {
		const char *v = getenv(env);
		if (!v)
			die("environment variable %s is not set", env);
		char from[300];
		snprintf(from, sizeof from, "environment variable %s", env);
		return check_token(xstrdup(v), from);
	}
	if (!file)
		return NULL;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno("%s", file);
	char tmp[8193];
	ssize_t n;
	do
		n = read(fd, tmp, sizeof tmp - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		die_errno("%s: read error", file);
	if (n == (ssize_t)sizeof tmp - 1)
		die("%s: longer than a token (8 KiB)", file);
	tmp[n] = 0;
	tmp[strcspn(tmp, "\n")] = 0;
	char *t = check_token(xstrdup(tmp), file);
	memset(tmp, 0, sizeof tmp);
	return t;
}

int main(int argc, char **argv)
{
	struct out_opts oo = OUT_OPTS_INIT;
	struct scrape_opts so = {.http = HTTP_OPTS_INIT, .max_size = 10u << 20, .depth = -1};
	int64_t conc = 32, per_host = 2, redirects = 5, retries = 2, depth = -1, max_pages = 0;
	double delay = 0, ctimeout = 10, timeout = 30, retry_wait = 1;
	int ignore_robots = 0, follow = 0, once = 0;
	const char *state = NULL, *token_file = NULL, *token_env = NULL;
	double interval = 600, max_wait = 300, stall = 90;
	uint64_t max_event = 1u << 20;
	int64_t seen = 10000;
	const char *label_from = NULL, *scope = "host", *ua = NULL;
	char ua_default[64];
	snprintf(ua_default, sizeof ua_default, "pea-scrape/%s", PEA_VERSION_STR);
	const struct cli_opt opts[] = {
		{'j', "threads", CLI_INT, &conc, "N", "transfers in flight at once, over all hosts (default 32)"},
		{0, "per-host", CLI_INT, &per_host, "N", "transfers in flight to one host (default 2)"},
		{0, "delay", CLI_DBL, &delay, "SECONDS", "wait between requests to one host (default 0)"},
		{0, "ignore-robots", CLI_FLAG, &ignore_robots, NULL, "do not honour robots.txt (impolite)"},
		{0, "user-agent", CLI_STR, &ua, "STRING", "User-Agent header (default pea-scrape/VERSION)"},
		{0, "connect-timeout", CLI_DBL, &ctimeout, "SECONDS", "give up connecting after (default 10)"},
		{0, "timeout", CLI_DBL, &timeout, "SECONDS", "give up a transfer after (default 30)"},
		{0, "max-size", CLI_SIZE, &so.max_size, "SIZE", "largest body, file or WARC record (default 10M)"},
		{0, "max-redirects", CLI_INT, &redirects, "N", "redirects followed per URL (default 5)"},
		{0, "retries", CLI_INT, &retries, "N", "retries after a timeout, 429 or 5xx (default 2)"},
		{0, "retry-wait", CLI_DBL, &retry_wait, "SECONDS", "first backoff, doubled each retry (default 1)"},
		{0, "ok-only", CLI_FLAG, &so.ok_only, NULL, "write no record for failed URLs"},
		{0, "crawl", CLI_FLAG, &so.crawl, NULL, "follow links from the pages fetched, breadth-first"},
		{0, "scope", CLI_STR, &scope, "host|domain|prefix", "which links a crawl follows (default host)"},
		{0, "depth", CLI_INT, &depth, "N", "follow links at most N steps from a start page"},
		{0, "max-pages", CLI_INT, &max_pages, "N", "fetch at most N URLs in a crawl"},
		{0, "include", CLI_LIST, &so.include, "REGEX", "crawl only URLs matching REGEX (PCRE2, repeatable)"},
		{0, "exclude", CLI_LIST, &so.exclude, "REGEX", "never crawl URLs matching REGEX (repeatable)"},
		{0, "warc-out", CLI_STR, &so.warc_out, "FILE", "archive every response to FILE (.warc or .warc.gz)"},
		{0, "full-text", CLI_FLAG, &so.full_text, NULL, "keep all visible text, not only the main content"},
		{0, "links", CLI_FLAG, &so.links, NULL, "add the page's links (absolute URLs) as field links"},
		{0, "label", CLI_STR, &so.label, "LABEL", "set field label of every record to LABEL"},
		{0, "label-from", CLI_STR, &label_from, "dir", "label each file by its parent directory's name"},
		{0, "name", CLI_LIST, &so.names, "GLOB", "in directories, read only files named GLOB (repeatable)"},
		{0, "follow", CLI_FLAG, &follow, NULL, "follow the URLs (Mastodon streams, RSS/Atom feeds) until stopped"},
		{0, "state", CLI_STR, &state, "FILE", "follow: keep validators, last ids and seen ids in FILE across runs"},
		{0, "interval", CLI_DBL, &interval, "SECONDS", "follow: poll a feed at most this often (default 600)"},
		{0, "once", CLI_FLAG, &once, NULL, "follow: poll each feed once, then stop (for cron)"},
		{0, "token-file", CLI_STR, &token_file, "FILE", "follow: bearer token for streams, read from FILE"},
		{0, "token-env", CLI_STR, &token_env, "NAME", "follow: bearer token from environment variable NAME"},
		{0, "max-event", CLI_SIZE, &max_event, "SIZE", "follow: largest stream event (default 1M)"},
		{0, "max-wait", CLI_DBL, &max_wait, "SECONDS", "follow: longest wait before reconnecting (default 300)"},
		{0, "seen", CLI_INT, &seen, "N", "follow: ids remembered per source against repeats (default 10000)"},
		{0, "stall", CLI_DBL, &stall, "SECONDS", "follow: reconnect a stream silent this long (default 90)"},
		CLI_OPTS_WRITER(oo),
		CLI_OPT_QUIET(&so.quiet),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"scrape", "fetch and crawl web pages, read WARC, mail and files into text records",
		"[OPTIONS] [URL|FILE|DIR...]",
		"Arguments with :// are URLs (http and https only), anything else a file or\n"
		"directory (read recursively, typed by content: WARC, mbox, RFC 822 mail,\n"
		"HTML, plain text).  With no argument, or -, URLs are read from standard\n"
		"input, one per line.  Every URL yields a record, failures included (status,\n"
		"error).  HTML gives the main content unless --full-text.  Fetching is\n"
		"polite by default: robots.txt, 2 transfers per host.\n"
		"With --follow, each URL is a live source followed until SIGINT or SIGTERM:\n"
		"a Mastodon streaming URL (/api/v1/streaming/...) or a feed (RSS 2.0, RSS\n"
		"1.0, Atom), and every new post becomes a record as soon as it arrives.",
		opts,
		"  pea scrape --label-from dir --name '*.txt' mail/ | pea tokenize | pea vectorize\n"
		"  pea scrape --crawl --depth 3 https://example.org/ -o site.pea\n"
		"  pea scrape --crawl --warc-out site.warc.gz https://example.org/ > /dev/null\n"
		"  pea scrape --follow --state s.json https://example.org/feed.xml | pea tokenize | ...",
		0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	if (conc < 1 || conc > 10000)
		die_usage("-j must be between 1 and 10000");
	if (per_host < 1 || per_host > 1000)
		die_usage("--per-host must be between 1 and 1000");
	if (delay < 0 || delay > 3600)
		die_usage("--delay must be between 0 and 3600 seconds");
	if (ctimeout <= 0 || timeout <= 0 || retry_wait < 0)
		die_usage("timeouts must be positive");
	if (redirects < 0 || redirects > 50)
		die_usage("--max-redirects must be between 0 and 50");
	if (retries < 0 || retries > 20)
		die_usage("--retries must be between 0 and 20");
	if (max_pages < 0)
		die_usage("--max-pages must not be negative");
	if (!so.max_size || so.max_size > (1ull << 32))
		die_usage("--max-size must be between 1 and 4G");
	if (label_from && strcmp(label_from, "dir"))
		die_usage("--label-from takes 'dir'");
	if (label_from && so.label)
		die_usage("give --label or --label-from, not both");
	if (!strcmp(scope, "host"))
		so.scope = SCOPE_HOST;
	else if (!strcmp(scope, "domain"))
		so.scope = SCOPE_DOMAIN;
	else if (!strcmp(scope, "prefix"))
		so.scope = SCOPE_PREFIX;
	else
		die_usage("--scope takes host, domain or prefix");
	if (!so.crawl && (depth >= 0 || max_pages || so.include.n || so.exclude.n))
		die_usage("--depth, --max-pages, --include and --exclude go with --crawl");
	if (!follow && (state || once || token_file || token_env))
		die_usage("--state, --once, --token-file and --token-env go with --follow");
	if (follow) {
		if (so.crawl || so.warc_out || so.links || so.full_text || so.label || label_from || so.names.n)
			die_usage("--follow does not go with --crawl, --warc-out, --links, --full-text, --label or --name");
		if (!nargs)
			die_usage("--follow needs the URLs of the streams or feeds to follow");
		if (!(interval > 0) || interval > 7 * 86400.0)
			die_usage("--interval must be above 0 and at most a week");
		if (!(max_wait > 0))
			die_usage("--max-wait must be positive");
		if (!(stall > 0))
			die_usage("--stall must be positive");
		if (!max_event || max_event > (256u << 20))
			die_usage("--max-event must be between 1 and 256M");
		if (seen < 2 || seen > 10000000)
			die_usage("--seen must be between 2 and 10000000");
		for (int i = 0; i < nargs; i++)
			if (!is_url(args[i]))
				die_usage("%s: --follow takes http or https URLs", args[i]);
	}
	so.label_from_dir = label_from != NULL;
	so.depth = depth;
	so.max_pages = max_pages;
	so.threads = cli_threads(0);
	so.http.max_conns = (int)conc;
	so.http.per_host = (int)per_host;
	so.http.delay = delay;
	so.http.robots = !ignore_robots;
	so.http.user_agent = ua ? ua : ua_default;
	so.http.connect_timeout = ctimeout;
	so.http.timeout = timeout;
	so.http.max_body = so.max_size;
	so.http.max_redirects = (int)redirects;
	so.http.retries = (int)retries;
	so.http.retry_wait = retry_wait;

	if (follow) {
		struct follow_opts fo = {.http = so.http, .state = state, .interval = interval, .max_event = max_event,
					 .seen = (uint64_t)seen, .retry_wait = retry_wait > 0 ? retry_wait : 0.001,
					 .max_wait = max_wait, .stall = stall, .once = once, .quiet = so.quiet};
		char *token = read_token(token_file, token_env);
		fo.token = token;
		pea_wr *w = wr_open(&oo);
		follower *f = follow_new(&fo, w);
		for (int i = 0; i < nargs; i++)
			follow_add(f, args[i]);
		int rc = follow_run(f);
		follow_free(f);
		wr_close(w);
		if (token) {
			memset(token, 0, strlen(token));
			free(token);
		}
		free(args);
		return rc;
	}
	pea_wr *w = wr_open(&oo);
	scraper *s = scrape_new(&so, w);
	int from_stdin = nargs == 0;
	for (int i = 0; i < nargs; i++) {
		if (!strcmp(args[i], "-"))
			from_stdin = 1;
		else if (is_url(args[i]))
			scrape_url(s, args[i]);
		else
			scrape_path(s, args[i]);
	}
	scrape_fetch(s, from_stdin ? stdin_urls : NULL, NULL);
	scrape_finish(s);
	int rc = scrape_had_errors(s);
	scrape_free(s);
	wr_close(w);
	free(args);
	return rc;
}
