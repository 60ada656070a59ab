/* follow.c - see follow.h.  One thread, one event loop: the HTTP client
 * (http.h) drives every stream and poll, stream bytes are cut into events
 * inside its callback, and the loop writes what they made and flushes at
 * once, so a post leaves this process within a millisecond of arriving.
 *
 * A stream source goes: idle -> connecting -> open; when it opens with a
 * known last id, a backfill walks the timeline forward from that id page
 * by page while live events are held back, then the held events are let
 * through (deduplicated), so the output stays in order. */
#include "follow.h"
#include "afile.h"
#include "cli.h"
#include "err.h"
#include "feed.h"
#include "hash.h"
#include "hset.h"
#include "masto.h"
#include "progress.h"
#include "rng.h"
#include "sse.h"
#include "url.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_FORMAT 1
#define STATE_MAX (256u << 20)
#define PAGE_LIMIT 40
#define HELD_MAX 100000
#define HELD_BYTES (256u << 20)
#define SAVE_EVERY 1.0 /* seconds between state saves while posts flow */

enum kind { FEED, STREAM };
enum req_kind { R_POLL, R_STREAM, R_BACKFILL };

struct source;
struct req {
	struct source *s;
	enum req_kind kind;
};

struct held {
	char *type, *data;
	size_t len;
};

struct source {
	char *url;
	enum kind kind;
	struct follower *f;
	struct req poll, stream, backfill;
	/* kept in the state file */
	char *etag, *lm, *last_id;
	double last_poll; /* Unix time of the last poll that answered */
	struct hrecent seen;
	/* running */
	double next;	  /* monotonic time of the next attempt */
	int busy;	  /* a poll or the stream is in flight */
	int failures;	  /* in a row, for the backoff */
	char *last_error; /* reported once until it changes */
	int64_t ttl;	  /* feed <ttl> in seconds, or 0 */
	int polled;	  /* with once: done */
	/* stream */
	char *timeline;
	sse *sse;
	int open, events_seen;
	double last_data; /* monotonic time of the last byte (or the request) */
	int backfilling, bf_busy;
	double bf_next;
	char *bf_min;
	struct held *held;
	size_t nheld, capheld, held_bytes;
	int overflow;
	uint64_t malformed[2]; /* bad content, too large: the first of each is named */
};

struct follower {
	struct follow_opts o;
	pea_wr *w;
	http_client *http;
	struct source **src;
	size_t n;
	struct rng rng;
	json_object *other; /* sources of the state file not followed now */
	int dirty, emitted, failed;
	double saved;
	struct progress prog;
	struct post post;
	uint64_t posts, edits, deletes, dups, reconnects, polls, not_modified, malformed, heartbeats;
};

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? xstrdup(s) : NULL;
}

/* ---- the state file ---- */

static json_object *jstring(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static void save_state(follower *f)
{
	if (!f->o.state)
		return;
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	json_object_object_add(root, "format", json_object_new_int(STATE_FORMAT));
	json_object_object_add(root, "program", json_object_new_string("pea-scrape --follow"));
	uint64_t *hs = xcalloc(f->o.seen + 1, sizeof *hs);
	for (size_t i = 0; i < f->n; i++) {
		struct source *s = f->src[i];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "url", json_object_new_string(s->url));
		json_object_object_add(o, "kind", json_object_new_string(s->kind == FEED ? "feed" : "stream"));
		if (s->etag)
			json_object_object_add(o, "etag", jstring(s->etag));
		if (s->lm)
			json_object_object_add(o, "last_modified", jstring(s->lm));
		if (s->last_id)
			json_object_object_add(o, "last_id", jstring(s->last_id));
		if (s->last_poll > 0)
			json_object_object_add(o, "last_poll", json_object_new_double(s->last_poll));
		size_t k = hrecent_list(&s->seen, hs, f->o.seen + 1);
		json_object *seen = json_object_new_array_ext((int)k);
		char hex[17];
		for (size_t j = 0; j < k; j++) {
			snprintf(hex, sizeof hex, "%016llx", (unsigned long long)hs[j]);
			json_object_array_add(seen, json_object_new_string(hex));
		}
		json_object_object_add(o, "seen", seen);
		json_object_array_add(arr, o);
	}
	free(hs);
	/* sources followed another time are kept as they were */
	for (size_t i = 0; f->other && i < json_object_array_length(f->other); i++)
		json_object_array_add(arr, json_object_get(json_object_array_get_idx(f->other, i)));
	json_object_object_add(root, "sources", arr);
	size_t len;
	const char *txt = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	struct afile af;
	afile_open(&af, f->o.state, 0600);
	afile_write(&af, txt, len);
	afile_write(&af, "\n", 1);
	afile_commit(&af);
	json_object_put(root);
	f->dirty = 0;
	f->saved = now_sec();
}

static const char *jget(json_object *o, const char *k)
{
	json_object *v;
	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static PEA_NORETURN void bad_state(const char *path, const char *why)
{
	die("%s: not a usable state file: %s (move it away to start afresh)", path, why);
}

static void load_state(follower *f)
{
	const char *path = f->o.state;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return; /* the first run */
		die_errno("%s", path);
	}
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		bad_state(path, "not a regular file");
	if ((uint64_t)st.st_size > STATE_MAX)
		bad_state(path, "larger than 256 MiB");
	struct buf b = BUF_INIT;
	uint8_t *p = buf_grow(&b, (size_t)st.st_size + 1);
	size_t have = 0;
	while (have < (size_t)st.st_size) {
		ssize_t r = read(fd, p + have, (size_t)st.st_size - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die_errno("%s: read error", path);
		if (r == 0)
			break;
		have += (size_t)r;
	}
	close(fd);
	b.len = have;
	json_tokener *tok = json_tokener_new_ex(16);
	json_object *root = json_tokener_parse_ex(tok, (const char *)b.p, (int)b.len);
	int bad = json_tokener_get_error(tok) != json_tokener_success;
	json_tokener_free(tok);
	buf_release(&b);
	json_object *fmt, *arr;
	if (bad || !root || !json_object_is_type(root, json_type_object))
		bad_state(path, "not JSON");
	if (!json_object_object_get_ex(root, "format", &fmt) || json_object_get_int(fmt) != STATE_FORMAT)
		bad_state(path, "not format 1");
	if (!json_object_object_get_ex(root, "sources", &arr) || !json_object_is_type(arr, json_type_array))
		bad_state(path, "no list of sources");
	f->other = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i), *seen = NULL, *lp;
		const char *url = json_object_is_type(o, json_type_object) ? jget(o, "url") : NULL;
		if (!url)
			bad_state(path, "a source without a url");
		/* every entry is checked, also those kept for another time */
		if (json_object_object_get_ex(o, "seen", &seen) && !json_object_is_type(seen, json_type_array))
			bad_state(path, "seen is not a list");
		size_t nseen = seen && json_object_is_type(seen, json_type_array) ? json_object_array_length(seen) : 0;
		for (size_t j = 0; j < nseen; j++) {
			json_object *x = json_object_array_get_idx(seen, j);
			const char *h = json_object_is_type(x, json_type_string) ? json_object_get_string(x) : NULL;
			if (!h || strlen(h) != 16 || strspn(h, "0123456789abcdef") != 16)
				bad_state(path, "a seen id that is not 16 hex digits");
		}
		struct source *s = NULL;
		for (size_t k = 0; k < f->n && !s; k++)
			if (!strcmp(f->src[k]->url, url))
				s = f->src[k];
		if (!s) {
			json_object_array_add(f->other, json_object_get(o));
			continue;
		}
		set_str(&s->etag, jget(o, "etag"));
		set_str(&s->lm, jget(o, "last_modified"));
		set_str(&s->last_id, jget(o, "last_id"));
		if (json_object_object_get_ex(o, "last_poll", &lp))
			s->last_poll = json_object_get_double(lp);
		for (size_t j = 0; j < nseen; j++)
			hrecent_add(&s->seen, strtoull(json_object_get_string(json_object_array_get_idx(seen, j)), NULL, 16));
	}
	json_object_put(root);
}

/* ---- emitting ---- */

/* what the seen set holds: a kind of event, an id and a revision */
static uint64_t seen_hash(const char *what, const char *id, int64_t rev)
{
	uint64_t h = hash_bytes(what, strlen(what), 0x5eed);
	h = hash_bytes(id, strlen(id), h);
	return hash_bytes(&rev, sizeof rev, h);
}

static void write_post(follower *f, struct source *s, struct post *p);

static void emit(follower *f, struct source *s, const char *what, struct post *p)
{
	if (!hrecent_add(&s->seen, seen_hash(what, buf_cstr(&p->id), p->rev))) {
		f->dups++;
		return;
	}
	write_post(f, s, p);
}

/* A feed item: new, or an edit when its updated time is one not seen for
 * its id yet (Atom's <updated>), or a repeat. */
static void emit_item(follower *f, struct source *s, struct post *p)
{
	const char *id = buf_cstr(&p->id);
	uint64_t h0 = seen_hash("i", id, 0), h1 = p->updated ? seen_hash("i", id, p->updated) : 0;
	int fresh = hrecent_add(&s->seen, h0), edit = h1 && hrecent_add(&s->seen, h1);
	p->rev = fresh || !edit ? 0 : p->updated;
	if (fresh || edit)
		write_post(f, s, p);
	else
		f->dups++;
}

static void write_post(follower *f, struct source *s, struct post *p)
{
	post_record(wr_fb(f->w), p, s->url);
	wr_commit(f->w);
	f->emitted = 1;
	f->dirty = 1;
	if (p->deleted)
		f->deletes++;
	else if (p->rev)
		f->edits++;
	else
		f->posts++;
	if (s->kind == STREAM && !p->deleted && !p->rev &&
	    (!s->last_id || masto_id_cmp(buf_cstr(&p->id), s->last_id) > 0))
		set_str(&s->last_id, buf_cstr(&p->id));
}

static void malformed(follower *f, struct source *s, const char *type, const char *why)
{
	int big = !strcmp(type, "stream");
	f->malformed++;
	if (!s->malformed[big]++ && !f->o.quiet) {
		progress_done(&f->prog);
		warning("%s: malformed %s event skipped: %s", s->url, type, why);
	}
}

/* one event of a stream, live or held back */
static void on_event(follower *f, struct source *s, const char *type, const char *data, size_t len)
{
	struct pea_err e;
	struct post *p = &f->post;
	if (!strcmp(type, "update") || !strcmp(type, "status.update")) {
		int edit = type[6] == '.';
		if (masto_status(data, len, p, &e)) {
			malformed(f, s, type, e.msg);
			return;
		}
		if (edit && !p->rev) {
			malformed(f, s, type, "an edit without edited_at");
			return;
		}
		if (!edit)
			p->rev = 0;
		emit(f, s, edit ? "e" : "u", p);
	} else if (!strcmp(type, "delete")) {
		size_t n = len;
		while (n && (data[n - 1] == ' ' || data[n - 1] == '"'))
			n--;
		while (n && (*data == ' ' || *data == '"'))
			data++, n--;
		if (!n || n > 256 || memchr(data, '\n', n) || !utf8_valid((const uint8_t *)data, n)) {
			malformed(f, s, type, "not a status id");
			return;
		}
		post_reset(p);
		buf_add(&p->id, data, n);
		p->deleted = 1;
		emit(f, s, "d", p);
	}
	/* other events (notifications, announcements, filters) are not posts */
}

static void held_free(struct source *s)
{
	for (size_t i = 0; i < s->nheld; i++) {
		free(s->held[i].type);
		free(s->held[i].data);
	}
	free(s->held);
	s->held = NULL;
	s->nheld = s->capheld = s->held_bytes = 0;
}

static int sse_event(void *ctx, const struct sse_event *ev)
{
	struct source *s = ctx;
	follower *f = s->f;
	s->events_seen = 1;
	if (s->backfilling) {
		if (s->nheld >= HELD_MAX || s->held_bytes + ev->len > HELD_BYTES) {
			s->overflow = 1;
			return 1; /* drop the stream; the next backfill covers it */
		}
		if (s->nheld == s->capheld) {
			s->capheld = s->capheld ? 2 * s->capheld : 64;
			s->held = xrealloc(s->held, s->capheld * sizeof *s->held);
		}
		s->held[s->nheld].type = xstrdup(ev->type);
		s->held[s->nheld].data = xmalloc(ev->len + 1); /* data may hold NUL bytes */
		memcpy(s->held[s->nheld].data, ev->data, ev->len + 1);
		s->held[s->nheld].len = ev->len;
		s->nheld++;
		s->held_bytes += ev->len;
		return 0;
	}
	on_event(f, s, ev->type, ev->data, ev->len);
	return 0;
}

/* ---- requests ---- */

static double backoff(follower *f, struct source *s, double retry_after)
{
	double d = f->o.retry_wait * pow(2, s->failures < 30 ? s->failures : 30);
	if (d > f->o.max_wait)
		d = f->o.max_wait;
	d *= 0.5 + 0.5 * rng_unit(&f->rng); /* jitter: reconnecting clients spread out */
	if (retry_after > d)
		d = retry_after;
	return d;
}

static void report(follower *f, struct source *s, const char *why)
{
	if (s->last_error && !strcmp(s->last_error, why))
		return;
	set_str(&s->last_error, why);
	if (!f->o.quiet) {
		progress_done(&f->prog);
		warning("%s: %s", s->url, why);
	}
}

static void start_backfill(follower *f, struct source *s)
{
	struct buf u = BUF_INIT;
	buf_addf(&u, "%smin_id=%s&limit=%d", s->timeline, s->bf_min, PAGE_LIMIT);
	struct http_req q = {.auth = NULL, .accept = "application/json"};
	struct buf auth = BUF_INIT;
	if (f->o.token) {
		buf_addf(&auth, "Bearer %s", f->o.token);
		q.auth = buf_cstr(&auth);
	}
	http_add_req(f->http, buf_cstr(&u), &s->backfill, &q);
	s->bf_busy = 1;
	buf_release(&u);
	if (auth.p)
		memset(auth.p, 0, auth.len);
	buf_release(&auth);
}

static int stream_data(void *user, const char *url, long status, const uint8_t *p, size_t n)
{
	struct req *r = user;
	struct source *s = r->s;
	follower *f = s->f;
	(void)url;
	(void)status;
	s->last_data = now_sec();
	if (!n) { /* open */
		s->open = 1;
		sse_reset(s->sse);
		if (s->last_id && s->timeline) {
			s->backfilling = 1;
			s->overflow = 0;
			set_str(&s->bf_min, s->last_id);
			start_backfill(f, s);
		}
		return 0;
	}
	const struct sse_stats *st = sse_stats(s->sse);
	uint64_t hb = st->comments, big = st->oversize;
	int rc = sse_feed(s->sse, p, n, sse_event, s);
	if (st->comments != hb) {
		f->heartbeats += st->comments - hb;
		s->events_seen = 1;
	}
	for (; big < st->oversize; big++)
		malformed(f, s, "stream", "larger than --max-event");
	return rc;
}

static void start(follower *f, struct source *s)
{
	struct buf auth = BUF_INIT;
	struct http_req q = {0};
	if (s->kind == STREAM) {
		if (f->o.token) {
			buf_addf(&auth, "Bearer %s", f->o.token);
			q.auth = buf_cstr(&auth);
		}
		q.accept = "text/event-stream";
		q.stream = stream_data;
		s->open = s->events_seen = 0;
		s->last_data = now_sec();
		http_add_req(f->http, s->url, &s->stream, &q);
	} else {
		q.etag = s->etag;
		q.last_modified = s->lm;
		q.accept = "application/rss+xml, application/rdf+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5";
		http_add_req(f->http, s->url, &s->poll, &q);
		f->polls++;
	}
	if (auth.p)
		memset(auth.p, 0, auth.len);
	buf_release(&auth);
	s->busy = 1;
}

struct page {
	struct post *v;
	size_t n;
};

static void page_add(void *ctx, struct post *p)
{
	struct page *pg = ctx;
	pg->v = xrealloc(pg->v, (pg->n + 1) * sizeof *pg->v);
	pg->v[pg->n++] = *p;
	post_init(p); /* the post's buffers moved into the page */
}

static int id_order(const void *a, const void *b)
{
	const struct post *x = a, *y = b;
	return masto_id_cmp(buf_cstr((struct buf *)&x->id), buf_cstr((struct buf *)&y->id));
}

static void end_backfill(follower *f, struct source *s)
{
	s->backfilling = 0;
	for (size_t i = 0; i < s->nheld; i++)
		on_event(f, s, s->held[i].type, s->held[i].data, s->held[i].len);
	held_free(s);
}

static void on_backfill(follower *f, struct source *s, const struct http_resp *r)
{
	s->bf_busy = 0;
	struct pea_err e;
	char why[600];
	if (r->error || r->status != 200) {
		snprintf(why, sizeof why, "backfill from %s: %s", s->timeline, r->error ? r->error : "unexpected status");
		report(f, s, why);
		s->failures++;
		s->bf_next = now_sec() + backoff(f, s, r->retry_after);
		return;
	}
	struct page pg = {0};
	if (masto_timeline((const char *)r->body, r->len, page_add, &pg, &e)) {
		snprintf(why, sizeof why, "backfill from %s: %s", s->timeline, e.msg);
		report(f, s, why);
		for (size_t i = 0; i < pg.n; i++)
			post_release(&pg.v[i]);
		free(pg.v);
		/* a page pea cannot read will not read better later: go on live */
		end_backfill(f, s);
		return;
	}
	if (pg.n)
		qsort(pg.v, pg.n, sizeof *pg.v, id_order);
	/* servers may cap the page below our limit: only an empty page, or
	 * one that does not move forward, says the gap is closed */
	int more = pg.n > 0 && masto_id_cmp(buf_cstr(&pg.v[pg.n - 1].id), s->bf_min) > 0;
	if (more)
		set_str(&s->bf_min, buf_cstr(&pg.v[pg.n - 1].id));
	for (size_t i = 0; i < pg.n; i++) {
		pg.v[i].rev = 0;
		emit(f, s, "u", &pg.v[i]);
		post_release(&pg.v[i]);
	}
	free(pg.v);
	if (more) {
		start_backfill(f, s);
	} else {
		end_backfill(f, s);
	}
}

static void on_stream_end(follower *f, struct source *s, const struct http_resp *r)
{
	s->busy = 0;
	char why[600];
	int was_open = s->open;
	s->open = 0;
	if (r->error || r->status < 200 || r->status >= 300) {
		long st = r->status;
		if (!was_open && st >= 400 && st < 500 && st != 408 && st != 429) {
			/* the URL or the token is wrong: waiting will not mend it */
			wr_flush(f->w);
			save_state(f);
			die("%s: http status %ld%s", s->url, st,
			    st == 401 || st == 403 ? " (check the token)" : "");
		}
		snprintf(why, sizeof why, "%s; reconnecting", r->error ? r->error : "stream ended");
		report(f, s, why);
		s->failures++;
	} else if (s->overflow) {
		report(f, s, "too many live events held during a backfill; reconnecting");
	} else if (s->events_seen) {
		s->failures = 0;
	} else {
		s->failures++;
	}
	f->reconnects++;
	s->next = now_sec() + backoff(f, s, r->retry_after);
}

static void on_poll(follower *f, struct source *s, const struct http_resp *r)
{
	s->busy = 0;
	s->polled = 1;
	char why[600];
	double now = now_sec(), wait = f->o.interval;
	struct pea_err e;
	if (r->status == 304) {
		f->not_modified++;
		s->failures = 0;
		s->last_poll = wall();
		set_str(&s->last_error, NULL);
		f->dirty = 1;
	} else if (r->error || r->status != 200) {
		snprintf(why, sizeof why, "%s", r->error ? r->error : "unexpected status");
		report(f, s, why);
		f->failed = 1;
		s->failures++;
		double b = backoff(f, s, r->retry_after);
		if (b > wait)
			wait = b;
	} else {
		struct feed fd;
		feed_init(&fd);
		char cs[40] = "";
		if (r->content_type) {
			const char *c = strcasestr(r->content_type, "charset=");
			if (c)
				snprintf(cs, sizeof cs, "%.*s", (int)strcspn(c + 8, " ;\""), c + 8 + (c[8] == '"'));
		}
		if (feed_parse(r->body, r->len, cs[0] ? cs : NULL, r->final_url, &fd, &e)) {
			report(f, s, e.msg);
			f->failed = 1;
		} else {
			set_str(&s->last_error, NULL);
			for (size_t i = 0; i < fd.n; i++)
				emit_item(f, s, &fd.items[i]);
			s->ttl = fd.ttl > 0 ? fd.ttl * 60 : 0;
		}
		feed_release(&fd);
		/* the validators exactly as received, or none */
		set_str(&s->etag, r->etag);
		set_str(&s->lm, r->last_modified);
		s->last_poll = wall();
		s->failures = 0;
		f->dirty = 1;
	}
	if (s->ttl > wait)
		wait = (double)s->ttl;
	if (r->retry_after > wait)
		wait = r->retry_after;
	s->next = now + wait;
}

/* ---- the loop ---- */

follower *follow_new(const struct follow_opts *o, pea_wr *w)
{
	follower *f = xcalloc(1, sizeof *f);
	f->o = *o;
	if (!f->o.seen)
		f->o.seen = 10000;
	if (!f->o.max_event)
		f->o.max_event = 1u << 20;
	if (f->o.max_wait <= 0)
		f->o.max_wait = 300;
	if (f->o.stall <= 0)
		f->o.stall = 90;
	f->w = w;
	struct http_opts ho = o->http;
	ho.retries = 0; /* reconnecting is the follower's, with backfill */
	f->http = http_new(&ho);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	rng_seed(&f->rng, (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32));
	post_init(&f->post);
	progress_init(&f->prog, o->quiet);
	return f;
}

void follow_add(follower *f, const char *raw)
{
	char *u = url_normalize(raw);
	if (!u)
		die_usage("%s: not an http or https URL", raw);
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->src[i]->url, u)) {
			free(u);
			return;
		}
	struct source *s = xcalloc(1, sizeof *s);
	s->url = u;
	s->f = f;
	s->kind = masto_is_stream(u) ? STREAM : FEED;
	s->poll = (struct req){s, R_POLL};
	s->stream = (struct req){s, R_STREAM};
	s->backfill = (struct req){s, R_BACKFILL};
	s->seen = (struct hrecent)HRECENT_INIT(f->o.seen);
	if (s->kind == STREAM) {
		if (f->o.once)
			die_usage("%s: --once polls feeds; a stream has no end", raw);
		s->timeline = masto_timeline_url(u);
		if (!s->timeline)
			warning("%s: no timeline known for this stream: a dropped connection may lose posts", u);
		s->sse = sse_new(f->o.max_event);
	}
	f->src = xrealloc(f->src, (f->n + 1) * sizeof *f->src);
	f->src[f->n++] = s;
}

static void dispatch(follower *f, const struct http_resp *r)
{
	struct req *q = r->user;
	struct source *s = q->s;
	switch (q->kind) {
	case R_POLL:
		on_poll(f, s, r);
		break;
	case R_STREAM:
		on_stream_end(f, s, r);
		break;
	case R_BACKFILL:
		on_backfill(f, s, r);
		break;
	}
}

static void summary(follower *f)
{
	progress_done(&f->prog);
	if (f->o.quiet)
		return;
	struct buf x = BUF_INIT;
	if (f->dups)
		buf_addf(&x, ", %llu repeats dropped", (unsigned long long)f->dups);
	if (f->malformed)
		buf_addf(&x, ", %llu malformed events skipped", (unsigned long long)f->malformed);
	if (f->reconnects)
		buf_addf(&x, ", %llu reconnects", (unsigned long long)f->reconnects);
	if (f->polls)
		buf_addf(&x, ", %llu polls (%llu not modified)", (unsigned long long)f->polls,
			 (unsigned long long)f->not_modified);
	note("%llu posts, %llu edits, %llu deletions from %zu sources%s", (unsigned long long)f->posts,
	     (unsigned long long)f->edits, (unsigned long long)f->deletes, f->n, x.len ? buf_cstr(&x) : "");
	buf_release(&x);
}

int follow_run(follower *f)
{
	if (f->o.state)
		load_state(f);
	const volatile sig_atomic_t *stop_now = cli_catch_stop(0);
	double now = now_sec(), w = wall();
	for (size_t i = 0; i < f->n; i++) {
		struct source *s = f->src[i];
		s->next = now;
		/* a restarted follower waits out the interval of its last poll */
		if (s->kind == FEED && !f->o.once && s->last_poll > 0 && w - s->last_poll < f->o.interval)
			s->next = now + f->o.interval - (w - s->last_poll);
	}
	while (!*stop_now) {
		now = now_sec();
		double wake = now + 0.25; /* the stop flag is looked at this often */
		int pending = 0;
		for (size_t i = 0; i < f->n; i++) {
			struct source *s = f->src[i];
			if (s->backfilling && !s->bf_busy && now >= s->bf_next)
				start_backfill(f, s);
			if (f->o.once && s->polled)
				continue;
			pending++;
			if (!s->busy && !s->backfilling && now >= s->next)
				start(f, s);
			else if (!s->busy && s->next < wake)
				wake = s->next;
			if (s->backfilling && !s->bf_busy && s->bf_next < wake)
				wake = s->bf_next;
			/* silence (no heartbeat either): a connection dead in a
			 * way TCP did not tell, or a server that hung */
			if (s->kind == STREAM && s->busy && now - s->last_data > f->o.stall) {
				char why[64];
				snprintf(why, sizeof why, "no data for %.0f s", f->o.stall);
				http_cancel(f->http, &s->stream, why);
			}
		}
		if (f->o.once && !pending)
			break;
		const struct http_resp *r = http_wait(f->http, wake - now);
		if (r)
			dispatch(f, r);
		if (f->emitted) {
			wr_flush(f->w);
			f->emitted = 0;
		}
		if (f->dirty && now_sec() - f->saved >= SAVE_EVERY)
			save_state(f);
		if (progress_due(&f->prog))
			progress_show(&f->prog, "%llu posts, %llu edits, %llu deletions, %llu polls",
				      (unsigned long long)f->posts, (unsigned long long)f->edits,
				      (unsigned long long)f->deletes, (unsigned long long)f->polls);
	}
	wr_flush(f->w);
	save_state(f);
	summary(f);
	return f->o.once && f->failed;
}

void follow_free(follower *f)
{
	if (!f)
		return;
	http_free(f->http);
	for (size_t i = 0; i < f->n; i++) {
		struct source *s = f->src[i];
		free(s->url);
		free(s->etag);
		free(s->lm);
		free(s->last_id);
		free(s->last_error);
		free(s->timeline);
		free(s->bf_min);
		sse_free(s->sse);
		held_free(s);
		hrecent_release(&s->seen);
		free(s);
	}
	free(f->src);
	json_object_put(f->other);
	post_release(&f->post);
	free(f);
}
