/* http.c - see http.h.  One curl multi handle; our own scheduler decides
 * which queued request may start (per-host slots, delays, robots), so
 * curl only ever sees requests that are allowed to run now.  Redirects
 * are re-queued by us rather than followed by curl, for the same reason. */
#include "http.h"
#include "err.h"
#include "hash.h"
#include "url.h"
#include "util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <sodium.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define HDR_MAX (64u << 10)
#define ROBOTS_MAX (512u << 10)

enum { ROBOTS_UNKNOWN, ROBOTS_FETCHING, ROBOTS_READY };

struct job;

/* A host is a name and port: http and https to the same server share its
 * slots, so a site linking to both cannot be hit twice as hard.  Its
 * robots.txt is fetched with the scheme of the first URL seen for it. */
struct host {
	char *key;    /* host:port */
	char *origin; /* scheme://host:port, for robots.txt */
	struct job *head, *tail; /* waiting to start, FIFO */
	int active;
	double next_start;
	int robots_state;
	struct robots *rules; /* NULL: everything allowed */
	char *robots_fail;    /* robots.txt unreachable (why): nothing allowed */
	double crawl_delay;
	int listed;	      /* in the client's list of hosts with work */
	struct host *hnext;   /* hash chain */
};

struct job {
	char *url, *orig;
	void *user;
	struct http_client *client;
	http_data_fn stream; /* NULL: the body is buffered */
	char *auth, *auth_origin, *accept;
	int stopped;	     /* the stream callback asked to stop */
	int bounded;	     /* a stream with the limits of a buffered body */
	char *etag, *lm;
	int redirects, attempts, is_robots;
	double not_before;
	struct host *host;
	struct job *next;
	struct job *rprev, *rnext; /* in the client's list of running transfers */
	/* transfer state */
	CURL *easy;
	struct curl_slist *hdrs;
	struct buf body, rhdr, qhdr;
	int too_big;
	char errbuf[CURL_ERROR_SIZE];
};

struct resp_box {
	struct http_resp r;
	struct job *job;
	char *ctype, *etag, *lm, *loc, *err, *ip;
	struct resp_box *next;
};

struct http_client {
	struct http_opts o;
	char *ua, *agent;
	const char *ca_file; /* CURL_CA_BUNDLE or SSL_CERT_FILE, else the system's */
	CURLM *multi;
	struct host **tab;
	size_t ntab, nhosts;
	struct host **work; /* hosts with queued jobs */
	size_t nwork, capwork;
	struct job *delayed; /* waiting for a retry */
	struct resp_box *done_head, *done_tail, *current;
	size_t pending, queued;
	int active;
	struct job *last; /* the job added last */
	struct job *running; /* transfers curl has, so http_free can end them */
	int streamed;	  /* a stream callback had data since http_wait began */
	struct http_stats st;
};

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- robots.txt (RFC 9309) ---- */

struct rule {
	char *pat;
	int allow;
};
struct robots {
	struct rule *v;
	size_t n, cap;
	double delay;
};

static int ua_matches(const char *val, size_t n, const char *agent)
{
	if (n == 1 && val[0] == '*')
		return 2;
	return strlen(agent) == n && !strncasecmp(val, agent, n);
}

struct robots *robots_parse(const char *txt, size_t n, const char *agent)
{
	/* two passes: rules of groups naming us if any, else those of "*" */
	struct robots *r = xcalloc(1, sizeof *r);
	for (int pass = 1; pass <= 2; pass++) {
		int in_group = 0, matched = 0, ua_run = 0, any = 0;
		size_t i = 0;
		while (i < n) {
			size_t e = i;
			while (e < n && txt[e] != '\n' && txt[e] != '\r')
				e++;
			size_t le = e;
			const char *hash = memchr(txt + i, '#', le - i);
			if (hash)
				le = (size_t)(hash - txt);
			const char *colon = memchr(txt + i, ':', le - i);
			if (colon) {
				const char *k = txt + i, *ke = colon, *v = colon + 1, *ve = txt + le;
				while (k < ke && isspace((unsigned char)*k))
					k++;
				while (ke > k && isspace((unsigned char)ke[-1]))
					ke--;
				while (v < ve && isspace((unsigned char)*v))
					v++;
				while (ve > v && isspace((unsigned char)ve[-1]))
					ve--;
				size_t kl = (size_t)(ke - k), vl = (size_t)(ve - v);
				if (kl == 10 && !strncasecmp(k, "user-agent", 10)) {
					if (!ua_run)
						matched = 0;
					ua_run = 1;
					in_group = 1;
					int m = ua_matches(v, vl, agent);
					if ((pass == 1 && m == 1) || (pass == 2 && m == 2))
						matched = 1;
				} else if (in_group) {
					ua_run = 0;
					int allow = kl == 5 && !strncasecmp(k, "allow", 5);
					int dis = kl == 8 && !strncasecmp(k, "disallow", 8);
					if (matched && (allow || dis)) {
						any = 1;
						if (vl) {
							if (r->n == r->cap) {
								r->cap = r->cap ? 2 * r->cap : 16;
								r->v = xrealloc(r->v, r->cap * sizeof *r->v);
							}
							r->v[r->n].pat = xstrndup(v, vl);
							r->v[r->n++].allow = allow;
						}
					} else if (matched && kl == 11 && !strncasecmp(k, "crawl-delay", 11)) {
						any = 1;
						char tmp[32];
						double d;
						snprintf(tmp, sizeof tmp, "%.*s", (int)(vl < 31 ? vl : 31), v);
						if (!parse_f64(tmp, &d) && d > 0)
							r->delay = d > 60 ? 60 : d;
					}
				}
			}
			i = e + 1;
		}
		(void)any;
		if (r->n || r->delay > 0)
			break;
	}
	return r;
}

/* pattern match with '*' (any run) and a final '$' (end anchor) */
static int pat_match(const char *pat, const char *s)
{
	if (!*pat)
		return 1;
	if (*pat == '$' && !pat[1])
		return !*s;
	if (*pat == '*') {
		for (;; s++) {
			if (pat_match(pat + 1, s))
				return 1;
			if (!*s)
				return 0;
		}
	}
	return *s == *pat && pat_match(pat + 1, s + 1);
}

int robots_allowed(const struct robots *r, const char *path)
{
	if (!r)
		return 1;
	size_t best = 0;
	int allow = 1, found = 0;
	for (size_t i = 0; i < r->n; i++) {
		size_t l = strlen(r->v[i].pat);
		if (!pat_match(r->v[i].pat, path))
			continue;
		if (!found || l > best || (l == best && r->v[i].allow)) {
			best = l;
			allow = r->v[i].allow;
			found = 1;
		}
	}
	return allow;
}

double robots_delay(const struct robots *r) { return r ? r->delay : 0; }

void robots_free(struct robots *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].pat);
	free(r->v);
	free(r);
}

/* ---- hosts ---- */

static struct host *host_get(http_client *h, const char *url)
{
	char key[1024];
	if (url_hostport(url, key, sizeof key))
		snprintf(key, sizeof key, "?");
	uint64_t k = hash_bytes(key, strlen(key), 0);
	if (h->nhosts * 2 >= h->ntab) {
		size_t nt = h->ntab ? h->ntab * 2 : 64;
		struct host **t = xcalloc(nt, sizeof *t);
		for (size_t i = 0; i < h->ntab; i++)
			for (struct host *x = h->tab[i], *nx; x; x = nx) {
				nx = x->hnext;
				size_t b = hash_bytes(x->key, strlen(x->key), 0) & (nt - 1);
				x->hnext = t[b];
				t[b] = x;
			}
		free(h->tab);
		h->tab = t;
		h->ntab = nt;
	}
	size_t b = k & (h->ntab - 1);
	for (struct host *x = h->tab[b]; x; x = x->hnext)
		if (!strcmp(x->key, key))
			return x;
	struct host *x = xcalloc(1, sizeof *x);
	char origin[1100];
	if (url_origin(url, origin, sizeof origin))
		snprintf(origin, sizeof origin, "?");
	x->key = xstrdup(key);
	x->origin = xstrdup(origin);
	x->robots_state = h->o.robots ? ROBOTS_UNKNOWN : ROBOTS_READY;
	x->hnext = h->tab[b];
	h->tab[b] = x;
	h->nhosts++;
	return x;
}

static void host_list(http_client *h, struct host *x)
{
	if (x->listed)
		return;
	if (h->nwork == h->capwork) {
		h->capwork = h->capwork ? 2 * h->capwork : 64;
		h->work = xrealloc(h->work, h->capwork * sizeof *h->work);
	}
	h->work[h->nwork++] = x;
	x->listed = 1;
}

static void enqueue(http_client *h, struct job *j, int front)
{
	struct host *x = j->host = host_get(h, j->url);
	if (front) {
		j->next = x->head;
		x->head = j;
		if (!x->tail)
			x->tail = j;
	} else {
		j->next = NULL;
		if (x->tail)
			x->tail->next = j;
		else
			x->head = j;
		x->tail = j;
	}
	h->queued++;
	host_list(h, x);
}

/* ---- transfers ---- */

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
	struct job *j = ud;
	size_t n = sz * nm;
	if (j->stream) {
		long status = 0;
		curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
		/* only a successful body streams: redirects and errors are
		 * buffered as usual, to be followed or reported */
		if (status >= 200 && status < 300) {
			j->client->streamed = 1;
			if (j->stream(j->user, j->url, status, (const uint8_t *)p, n)) {
				j->stopped = 1;
				return 0;
			}
			return n;
		}
	}
	if (buf_reserve(&j->body, n + 1) < 0) {
		j->too_big = 1;
		return 0; /* aborts the transfer */
	}
	buf_add(&j->body, p, n);
	return n;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
	struct job *j = ud;
	size_t n = sz * nm;
	/* a new status line (after 100 Continue) starts the headers anew */
	if (n > 5 && !memcmp(p, "HTTP/", 5))
		buf_reset(&j->rhdr);
	if (buf_reserve(&j->rhdr, n + 1) < 0)
		return 0;
	buf_add(&j->rhdr, p, n);
	if (j->stream && (n == 2 || n == 1) && (p[0] == '\r' || p[0] == '\n')) {
		long status = 0;
		curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300) { /* the stream is open */
			j->client->streamed = 1;
			if (j->stream(j->user, j->url, status, NULL, 0)) {
				j->stopped = 1;
				return 0;
			}
		}
	}
	return n;
}

static int on_debug(CURL *c, curl_infotype t, char *p, size_t n, void *ud)
{
	struct job *j = ud;
	(void)c;
	if (t == CURLINFO_HEADER_OUT) {
		buf_reset(&j->qhdr);
		if (buf_reserve(&j->qhdr, n + 1))
			return 0;
		/* a credential is never kept, so it cannot reach a WARC file */
		for (size_t i = 0; i < n;) {
			const char *nl = memchr(p + i, '\n', n - i);
			size_t e = nl ? (size_t)(nl - p) + 1 : n;
			if (!(e - i > 14 && !strncasecmp(p + i, "authorization:", 14)))
				buf_add(&j->qhdr, p + i, e - i);
			i = e;
		}
	}
	return 0;
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	free(j->url);
	free(j->orig);
	free(j->etag);
	free(j->lm);
	free(j->auth);
	free(j->auth_origin);
	free(j->accept);
	buf_release(&j->body);
	buf_release(&j->rhdr);
	buf_release(&j->qhdr);
	free(j);
}

static void start(http_client *h, struct job *j)
{
	const struct http_opts *o = &h->o;
	CURL *c = curl_easy_init();
	if (!c)
		die("cannot start a transfer: out of memory");
	j->easy = c;
	j->attempts++;
	j->too_big = 0;
	j->errbuf[0] = 0;
	buf_release(&j->body);
	buf_init(&j->body, j->is_robots ? ROBOTS_MAX : o->max_body + 1);
	buf_release(&j->rhdr);
	buf_init(&j->rhdr, HDR_MAX);
	buf_release(&j->qhdr);
	buf_init(&j->qhdr, HDR_MAX);
	curl_easy_setopt(c, CURLOPT_URL, j->url);
	curl_easy_setopt(c, CURLOPT_PRIVATE, j);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, h->ua);
	if (h->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->connect_timeout * 1000));
	/* a stream lasts as long as the server keeps it open; TCP keepalive
	 * finds a peer that went away without a word */
	int endless = j->stream && !j->bounded;
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, endless ? 0L : (long)(o->timeout * 1000));
	if (endless) {
		curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 60L);
		curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 20L);
	}
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	if (!endless)
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(j->is_robots ? ROBOTS_MAX : o->max_body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, j);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, j->errbuf);
	if (j->is_robots) { /* RFC 9309: follow up to five redirects */
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	}
	if (o->keep_raw) {
		curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
		curl_easy_setopt(c, CURLOPT_DEBUGDATA, j);
		curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	}
	curl_slist_free_all(j->hdrs);
	j->hdrs = NULL;
	char line[1200];
	if (j->etag) {
		snprintf(line, sizeof line, "If-None-Match: %s", j->etag);
		j->hdrs = curl_slist_append(j->hdrs, line);
	}
	if (j->lm) {
		snprintf(line, sizeof line, "If-Modified-Since: %s", j->lm);
		j->hdrs = curl_slist_append(j->hdrs, line);
	}
	if (j->accept) {
		snprintf(line, sizeof line, "Accept: %s", j->accept);
		j->hdrs = curl_slist_append(j->hdrs, line);
	}
	char origin[1100];
	if (j->auth && !url_origin(j->url, origin, sizeof origin) && !strcmp(origin, j->auth_origin)) {
		struct buf a = BUF_INIT;
		buf_addf(&a, "Authorization: %s", j->auth);
		j->hdrs = curl_slist_append(j->hdrs, buf_cstr(&a));
		sodium_memzero(a.p, a.len);
		buf_release(&a);
	}
	if (j->hdrs)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, j->hdrs);
	CURLMcode mc = curl_multi_add_handle(h->multi, c);
	if (mc != CURLM_OK)
		die("cannot start a transfer: %s", curl_multi_strerror(mc));
	j->host->active++;
	h->active++;
	h->st.requests++;
	j->rprev = NULL;
	j->rnext = h->running;
	if (h->running)
		h->running->rprev = j;
	h->running = j;
}

static void finish(http_client *h, struct job *j, long status, const char *err, int robots);

/* Start whatever may start now; returns seconds until something else may
 * (a host's delay or a retry), or -1 when nothing is waiting on time. */
static double pump(http_client *h)
{
	double now = now_sec(), wake = -1;
	/* retries whose time has come go back to the front of their host */
	for (struct job **pp = &h->delayed; *pp;) {
		struct job *j = *pp;
		if (j->not_before <= now && (!j->is_robots || h->active < h->o.max_conns)) {
			*pp = j->next;
			if (j->is_robots) /* its host waits for it: it goes first */
				start(h, j);
			else
				enqueue(h, j, 1);
		} else {
			if (wake < 0 || j->not_before - now < wake)
				wake = j->not_before - now;
			pp = &j->next;
		}
	}
	for (size_t i = 0; i < h->nwork && h->active < h->o.max_conns;) {
		struct host *x = h->work[i];
		if (!x->head) {
			x->listed = 0;
			h->work[i] = h->work[--h->nwork];
			continue;
		}
		if (x->robots_state == ROBOTS_UNKNOWN) {
			struct job *r = xcalloc(1, sizeof *r);
			size_t n = strlen(x->origin) + 16;
			r->url = xmalloc(n);
			snprintf(r->url, n, "%s/robots.txt", x->origin);
			r->is_robots = 1;
			r->host = x;
			x->robots_state = ROBOTS_FETCHING;
			start(h, r);
			i++;
			continue;
		}
		if (x->robots_state == ROBOTS_FETCHING) {
			i++;
			continue;
		}
		while (x->head && x->active < h->o.per_host && h->active < h->o.max_conns) {
			struct job *j = x->head;
			const char *path = url_path(j->url);
			if (x->robots_fail || !robots_allowed(x->rules, path)) {
				x->head = j->next;
				if (!x->head)
					x->tail = NULL;
				h->queued--;
				char why[CURL_ERROR_SIZE + 64];
				if (x->robots_fail)
					snprintf(why, sizeof why, "robots.txt unreachable (%s): not fetched", x->robots_fail);
				finish(h, j, 0, x->robots_fail ? why : "disallowed by robots.txt", 1);
				continue;
			}
			double gap = h->o.delay > x->crawl_delay ? h->o.delay : x->crawl_delay;
			if (gap > 0 && now < x->next_start) {
				if (wake < 0 || x->next_start - now < wake)
					wake = x->next_start - now;
				break;
			}
			x->head = j->next;
			if (!x->head)
				x->tail = NULL;
			h->queued--;
			x->next_start = now + gap;
			start(h, j);
		}
		i++;
	}
	return wake;
}

static char *header_value(const struct buf *b, const char *name)
{
	size_t nl = strlen(name);
	const char *p = (const char *)b->p, *end = p + b->len;
	while (p && p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		if (!e)
			e = end;
		if ((size_t)(e - p) > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1, *ve = e;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && isspace((unsigned char)ve[-1]))
				ve--;
			return xstrndup(v, (size_t)(ve - v));
		}
		p = e + 1;
	}
	return NULL;
}

/* Retry-After as seconds from now: delay-seconds or an HTTP-date; -1 */
static double retry_after(const struct buf *hdr)
{
	char *v = header_value(hdr, "retry-after");
	double d = -1;
	if (v) {
		if (parse_f64(v, &d) || d < 0) {
			time_t t = curl_getdate(v, NULL);
			d = t < 0 ? -1 : (double)t - wall();
			if (t >= 0 && d < 0)
				d = 0;
		}
		free(v);
	}
	return d;
}

/* a finished job becomes a response the caller takes with http_next */
static void finish(http_client *h, struct job *j, long status, const char *err, int robots)
{
	struct resp_box *b = xcalloc(1, sizeof *b);
	b->job = j;
	struct http_resp *r = &b->r;
	r->url = j->orig;
	r->final_url = j->url;
	r->user = j->user;
	r->status = status;
	r->robots_denied = robots;
	if (err)
		r->error = b->err = xstrdup(err);
	r->content_type = b->ctype = header_value(&j->rhdr, "content-type");
	r->etag = b->etag = header_value(&j->rhdr, "etag");
	r->last_modified = b->lm = header_value(&j->rhdr, "last-modified");
	r->location = b->loc = header_value(&j->rhdr, "location");
	r->retry_after = retry_after(&j->rhdr);
	r->body = j->body.p ? (const uint8_t *)buf_cstr(&j->body) : (const uint8_t *)"";
	r->len = j->body.len;
	r->req_headers = j->qhdr.p ? buf_cstr(&j->qhdr) : NULL;
	r->resp_headers = j->rhdr.p ? buf_cstr(&j->rhdr) : NULL;
	r->fetched = wall();
	r->redirects = j->redirects;
	r->attempts = j->attempts;
	if (j->easy) {
		char *ip = NULL;
		if (curl_easy_getinfo(j->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip && *ip)
			r->remote_ip = b->ip = xstrdup(ip);
	}
	if (err)
		h->st.failed++;
	else
		h->st.ok++;
	if (robots)
		h->st.robots++;
	h->st.bytes += j->body.len;
	if (h->done_tail)
		h->done_tail->next = b;
	else
		h->done_head = b;
	h->done_tail = b;
}

static void release_easy(http_client *h, struct job *j)
{
	if (j->rprev)
		j->rprev->rnext = j->rnext;
	else
		h->running = j->rnext;
	if (j->rnext)
		j->rnext->rprev = j->rprev;
	j->rprev = j->rnext = NULL;
	curl_multi_remove_handle(h->multi, j->easy);
	curl_easy_cleanup(j->easy);
	j->easy = NULL;
	curl_slist_free_all(j->hdrs);
	j->hdrs = NULL;
	j->host->active--;
	h->active--;
}

static int transient(CURLcode rc, long status)
{
	if (rc == CURLE_OK)
		return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
	return rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_CONNECT ||
	       rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING ||
	       rc == CURLE_PARTIAL_FILE || rc == CURLE_COULDNT_RESOLVE_HOST;
}

static void lower_first(char *s)
{
	/* "Failed to connect" reads on after a colon as "failed to connect";
	 * "SSL certificate problem" keeps its acronym */
	if (*s && !isupper((unsigned char)s[1]))
		*s = (char)tolower((unsigned char)*s);
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '.'))
		s[--n] = 0;
}

static void robots_done(http_client *h, struct job *j, CURLcode rc, long status)
{
	struct host *x = j->host;
	x->robots_state = ROBOTS_READY;
	if (rc == CURLE_OK && status >= 200 && status < 300) {
		x->rules = robots_parse((const char *)j->body.p, j->body.len, h->agent);
		x->crawl_delay = robots_delay(x->rules);
	} else if (rc == CURLE_OK && status >= 400 && status < 500) {
		x->rules = NULL; /* "unavailable": no restriction */
	} else if (rc == CURLE_FILESIZE_EXCEEDED || rc == CURLE_WRITE_ERROR) {
		/* RFC 9309 2.5: parse at least the first 500 KiB */
		x->rules = robots_parse((const char *)j->body.p, j->body.len, h->agent);
	} else { /* "unreachable": assume complete disallow */
		char why[CURL_ERROR_SIZE + 32];
		if (rc != CURLE_OK)
			snprintf(why, sizeof why, "%s", j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc));
		else
			snprintf(why, sizeof why, "http status %ld", status);
		lower_first(why);
		x->robots_fail = xstrdup(why);
	}
	release_easy(h, j);
	job_free(j);
}

static void completed(http_client *h, CURL *c, CURLcode rc)
{
	struct job *j = NULL;
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&j);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (transient(rc, status) && !j->too_big && !j->stopped && j->attempts <= h->o.retries) {
		double wait = h->o.retry_wait * pow(2, j->attempts - 1);
		char *ra = header_value(&j->rhdr, "retry-after");
		double d;
		if (ra && !parse_f64(ra, &d) && d > wait)
			wait = d > 60 ? 60 : d;
		free(ra);
		release_easy(h, j);
		j->not_before = now_sec() + wait;
		j->next = h->delayed;
		h->delayed = j;
		return;
	}
	if (j->is_robots) {
		robots_done(h, j, rc, status);
		return;
	}
	char msg[CURL_ERROR_SIZE + 64];
	const char *err = NULL;
	if (j->stopped)
		rc = CURLE_OK; /* the caller ended the stream: not a failure */
	if (j->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(msg, sizeof msg, "body larger than %llu bytes", (unsigned long long)h->o.max_body);
		err = msg;
	} else if (rc != CURLE_OK) {
		snprintf(msg, sizeof msg, "%s", j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc));
		lower_first(msg);
		err = msg;
	} else if (status >= 300 && status < 400 && status != 304) {
		char *loc = header_value(&j->rhdr, "location");
		if (loc) {
			char *next = url_resolve(j->url, loc);
			if (!next) {
				snprintf(msg, sizeof msg, "redirect refused: not an http(s) URL: %.200s", loc);
				err = msg;
			} else if (j->redirects >= h->o.max_redirects) {
				snprintf(msg, sizeof msg, "more than %d redirects", h->o.max_redirects);
				err = msg;
				free(next);
			} else {
				free(loc);
				release_easy(h, j);
				free(j->url);
				j->url = next;
				j->redirects++;
				j->attempts = 0;
				enqueue(h, j, 0);
				return;
			}
			free(loc);
		}
	} else if (status >= 400) {
		snprintf(msg, sizeof msg, "http status %ld", status);
		err = msg;
	}
	finish(h, j, status, err, 0);
	release_easy(h, j);
}

/* ---- the interface ---- */

http_client *http_new(const struct http_opts *o)
{
	static int inited;
	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			die("cannot initialise libcurl");
		inited = 1;
	}
	http_client *h = xcalloc(1, sizeof *h);
	h->o = *o;
	if (h->o.max_conns < 1)
		h->o.max_conns = 1;
	if (h->o.per_host < 1)
		h->o.per_host = 1;
	if (h->o.per_host > h->o.max_conns)
		h->o.per_host = h->o.max_conns;
	char ua[256];
	snprintf(ua, sizeof ua, "pea/%s", PEA_VERSION_STR);
	h->ua = xstrdup(o->user_agent ? o->user_agent : ua);
	/* robots.txt groups are matched against the product token */
	h->agent = xstrndup(h->ua, strcspn(h->ua, "/ "));
	/* the certificates to trust, as curl(1) and OpenSSL take them: a
	 * private CDN or a test server with its own authority */
	h->ca_file = getenv("CURL_CA_BUNDLE");
	if (!h->ca_file || !*h->ca_file)
		h->ca_file = getenv("SSL_CERT_FILE");
	if (h->ca_file && !*h->ca_file)
		h->ca_file = NULL;
	h->multi = curl_multi_init();
	if (!h->multi)
		die("cannot initialise libcurl");
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)h->o.per_host);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)h->o.max_conns);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)h->o.max_conns * 2);
	return h;
}

static void box_free(struct resp_box *b)
{
	if (!b)
		return;
	job_free(b->job);
	free(b->ctype);
	free(b->etag);
	free(b->lm);
	free(b->loc);
	free(b->err);
	free(b->ip);
	free(b);
}

void http_free(http_client *h)
{
	if (!h)
		return;
	box_free(h->current);
	for (struct resp_box *b = h->done_head, *n; b; b = n) {
		n = b->next;
		box_free(b);
	}
	/* transfers still running (streams, when a follower stops) */
	while (h->running) {
		struct job *j = h->running;
		release_easy(h, j);
		job_free(j);
	}
	for (size_t i = 0; i < h->ntab; i++)
		for (struct host *x = h->tab[i], *n; x; x = n) {
			n = x->hnext;
			for (struct job *j = x->head, *jn; j; j = jn) {
				jn = j->next;
				job_free(j);
			}
			robots_free(x->rules);
			free(x->robots_fail);
			free(x->origin);
			free(x->key);
			free(x);
		}
	for (struct job *j = h->delayed, *jn; j; j = jn) {
		jn = j->next;
		job_free(j);
	}
	curl_multi_cleanup(h->multi);
	free(h->tab);
	free(h->work);
	free(h->ua);
	free(h->agent);
	free(h);
}

void http_add_stream(http_client *h, const char *url, void *user, http_data_fn fn)
{
	struct http_req q = {.stream = fn};
	http_add_req(h, url, user, &q);
}

void http_add(http_client *h, const char *url, void *user, const char *etag, const char *lm)
{
	struct http_req q = {.etag = etag, .last_modified = lm};
	http_add_req(h, url, user, &q);
}

void http_add_req(http_client *h, const char *url, void *user, const struct http_req *q)
{
	struct job *j = xcalloc(1, sizeof *j);
	h->last = j;
	j->client = h;
	j->url = xstrdup(url);
	j->orig = xstrdup(url);
	j->user = user;
	j->etag = q->etag ? xstrdup(q->etag) : NULL;
	j->lm = q->last_modified ? xstrdup(q->last_modified) : NULL;
	j->accept = q->accept ? xstrdup(q->accept) : NULL;
	j->stream = q->stream;
	j->bounded = q->bounded;
	char origin[1100];
	if (q->auth && !url_origin(url, origin, sizeof origin)) {
		j->auth = xstrdup(q->auth);
		j->auth_origin = xstrdup(origin);
	}
	h->pending++;
	enqueue(h, j, 0);
}

int http_cancel(http_client *h, void *user, const char *why)
{
	int n = 0;
	for (struct job *j = h->running, *next; j; j = next) {
		next = j->rnext;
		if (j->user != user || j->is_robots)
			continue;
		finish(h, j, 0, why, 0);
		release_easy(h, j);
		n++;
	}
	return n;
}

size_t http_pending(const http_client *h) { return h->pending; }
size_t http_queued(const http_client *h) { return h->queued; }
const struct http_stats *http_stats(const http_client *h) { return &h->st; }

/* Start what may start, let curl move every transfer, and take the next
 * finished response (NULL when none is finished yet). */
static const struct http_resp *step(http_client *h)
{
	pump(h);
	int running = 0;
	curl_multi_perform(h->multi, &running);
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(h->multi, &left)))
		if (m->msg == CURLMSG_DONE)
			completed(h, m->easy_handle, m->data.result);
	struct resp_box *b = h->done_head;
	if (!b)
		return NULL;
	h->done_head = b->next;
	if (!h->done_head)
		h->done_tail = NULL;
	h->current = b;
	h->pending--;
	return &b->r;
}

/* wait for curl's sockets, at most `seconds` and at most a second */
static void idle(http_client *h, double seconds)
{
	int ms = seconds < 0 ? 1000 : (int)(seconds * 1000) + 1;
	curl_multi_poll(h->multi, NULL, 0, ms > 1000 ? 1000 : ms, NULL);
}

const struct http_resp *http_next(http_client *h, int wait)
{
	box_free(h->current);
	h->current = NULL;
	for (;;) {
		const struct http_resp *r = step(h);
		if (r)
			return r;
		if (!h->pending || !wait)
			return NULL;
		double wake = pump(h);
		if (h->done_head) /* pump refused some by robots.txt: no need to wait */
			continue;
		idle(h, wake);
	}
}

const struct http_resp *http_wait(http_client *h, double timeout)
{
	box_free(h->current);
	h->current = NULL;
	double until = now_sec() + (timeout > 0 ? timeout : 0);
	h->streamed = 0;
	for (;;) {
		const struct http_resp *r = step(h);
		if (r)
			return r;
		double now = now_sec();
		if (h->streamed || now >= until)
			return NULL;
		double wake = pump(h);
		if (h->done_head)
			continue;
		idle(h, wake >= 0 && wake < until - now ? wake : until - now);
	}
}
