/* test-live - the pieces of pea scrape --follow: the event-stream parser,
 * Mastodon statuses and timelines, feeds, post times and records, and the
 * bounded set of recent ids.  Good inputs beside truncated, corrupt,
 * oversize and wrongly encoded ones. */
#include "feed.h"
#include "frame.h"
#include "hash.h"
#include "hset.h"
#include "masto.h"
#include "post.h"
#include "reload.h"
#include "sse.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

struct evlog {
	char s[4096];
	int n;
};

static int logev(void *ctx, const struct sse_event *ev)
{
	struct evlog *l = ctx;
	size_t k = strlen(l->s);
	snprintf(l->s + k, sizeof l->s - k, "[%s|%s|%s]", ev->type, ev->data, ev->id);
	l->n++;
	return 0;
}

static void sse_checks(void)
{
	const char *in = ": heartbeat\r\nevent: update\r\ndata: {\"a\":1}\r\n\r\n"
			 "data:line one\ndata: line two\nid: 42\n\n"
			 "event: delete\rdata: 7\r\r"
			 "retry: 2500\nevent: nothing\n\n";
	size_t n = strlen(in);
	/* whole, then byte by byte: the same events */
	for (int step = 0; step < 2; step++) {
		struct evlog l = {"", 0};
		sse *s = sse_new(1024);
		if (step == 0) {
			sse_feed(s, (const uint8_t *)in, n, logev, &l);
		} else {
			for (size_t i = 0; i < n; i++)
				sse_feed(s, (const uint8_t *)in + i, 1, logev, &l);
		}
		is_str(l.s, "[update|{\"a\":1}|][message|line one\nline two|42][delete|7|42]",
		       "sse: events, %s", step ? "byte by byte (CRLF split)" : "in one piece");
		is_int(sse_stats(s)->comments, 1, "sse: the heartbeat is a comment");
		is_int(sse_stats(s)->retry_ms, 2500, "sse: retry advice");
		sse_free(s);
	}
	/* an event over the bound is dropped whole, the next one comes */
	struct evlog l = {"", 0};
	sse *s = sse_new(64);
	struct buf b = BUF_INIT;
	buf_adds(&b, "data: ");
	for (int i = 0; i < 100; i++)
		buf_adds(&b, "xxxxxxxxxx");
	buf_adds(&b, "\ndata: more\n\nevent: ok\ndata: small\n\n");
	sse_feed(s, b.p, b.len, logev, &l);
	is_str(l.s, "[ok|small|]", "sse: an oversized event is dropped whole");
	is_int(sse_stats(s)->oversize, 1, "sse: and counted");
	/* a line that never ends costs no more than the bound */
	buf_reset(&b);
	for (int i = 0; i < 100000; i++)
		buf_adds(&b, "yyyyyyyyyy");
	sse_feed(s, b.p, b.len, logev, &l);
	sse_feed(s, (const uint8_t *)"\n\ndata: after\n\n", 15, logev, &l);
	is_str(l.s, "[ok|small|][message|after|]", "sse: a megabyte line without an end is skipped");
	is_int(sse_stats(s)->oversize, 2, "sse: counted too");
	/* a new connection forgets a half event */
	sse_feed(s, (const uint8_t *)"data: half", 10, logev, &l);
	sse_reset(s);
	sse_feed(s, (const uint8_t *)"\ndata: whole\n\n", 14, logev, &l);
	is_str(l.s, "[ok|small|][message|after|][message|whole|]", "sse: reset drops a partial event");
	buf_release(&b);
	sse_free(s);
}

static void count_post(void *ctx, struct post *p)
{
	(void)p;
	(*(int *)ctx)++;
}

static void masto_checks(void)
{
	int seen = 0;
	struct post p;
	struct pea_err e;
	post_init(&p);
	const char *st = "{\"id\":\"1099\",\"created_at\":\"2024-05-01T12:00:00.250Z\",\"edited_at\":null,"
			 "\"url\":\"https://x.example/@a/1099\",\"account\":{\"acct\":\"a@x.example\"},"
			 "\"content\":\"<p>Hi &amp; bye</p>\",\"language\":\"en\",\"spoiler_text\":\"cw\","
			 "\"tags\":[{\"name\":\"Pea\"},{\"name\":\"pea\"}],\"mentions\":[{\"acct\":\"b\"}],\"reblog\":null}";
	ok(masto_status(st, strlen(st), &p, &e) == 0, "masto: a status");
	is_str(buf_cstr(&p.id), "1099", "masto: id");
	is_str(buf_cstr(&p.author), "a@x.example", "masto: author");
	is_int(p.time, 1714564800, "masto: created_at");
	is_int(p.rev, 0, "masto: not edited");
	is_int(p.ntags, 1, "masto: tags lower-cased, once");
	is_str(p.tags[0], "pea", "masto: the tag");
	is_str(buf_cstr(&p.title), "cw", "masto: the content warning is the title");
	const char *ed = "{\"id\":\"5\",\"edited_at\":\"2024-05-01T13:00:00.123Z\",\"reblog\":{\"id\":\"4\","
			 "\"url\":\"https://y/4\",\"content\":\"orig\",\"tags\":[],\"mentions\":[]}}";
	ok(masto_status(ed, strlen(ed), &p, &e) == 0, "masto: an edited reshare");
	is_int(p.rev, 1714568400123LL, "masto: rev is edited_at in ms");
	is_str(buf_cstr(&p.reshare), "https://y/4", "masto: the reshared post");
	is_str(buf_cstr(&p.content), "orig", "masto: the reshared post's text");
	const char *bad[][2] = {
		{"{\"content\":\"no id\"}", "a status without an id"},
		{"{\"id\":\"1\",", "invalid JSON: unexpected end"},
		{"[1,2]", "a status is a JSON object"},
		{"{\"id\":\"1\"} trailing", "invalid JSON: text after the value"},
		{"{\"id\":7}", "a status without an id"},
		{"", "invalid JSON: unexpected end"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ok(masto_status(bad[i][0], strlen(bad[i][0]), &p, &e) == -1, "masto: refused: %s", bad[i][0]);
		is_str(e.msg, bad[i][1], "masto: why: %s", bad[i][1]);
	}
	struct buf deep = BUF_INIT;
	for (int i = 0; i < 100; i++)
		buf_adds(&deep, "{\"a\":");
	ok(masto_status((const char *)deep.p, deep.len, &p, &e) == -1, "masto: nesting deeper than the bound");
	buf_release(&deep);
	ok(masto_timeline("{}", 2, count_post, &seen, &e) == -1, "masto: a timeline is an array");
	ok(masto_timeline("[{\"id\":\"1\"},{}]", 15, count_post, &seen, &e) == -1 && strstr(e.msg, "element 2"),
	   "masto: a bad element names its place: %s", e.msg);
	ok(masto_timeline("[{\"id\":\"2\"},{\"id\":\"1\"}]", 23, count_post, &seen, &e) == 0 && seen == 3,
	   "masto: a timeline page, every status");
	ok(masto_id_cmp("9", "10") < 0 && masto_id_cmp("010", "10") == 0 && masto_id_cmp("b", "a") > 0,
	   "masto: ids compare as numbers");
	char *t;
	is_str((t = masto_timeline_url("https://m.example/api/v1/streaming/public")),
	       "https://m.example/api/v1/timelines/public?", "masto: public timeline");
	free(t);
	is_str((t = masto_timeline_url("https://m.example/api/v1/streaming/public/local")),
	       "https://m.example/api/v1/timelines/public?local=true&", "masto: local timeline");
	free(t);
	is_str((t = masto_timeline_url("https://m.example/api/v1/streaming/hashtag?tag=cats")),
	       "https://m.example/api/v1/timelines/tag/cats?", "masto: hashtag timeline");
	free(t);
	is_str((t = masto_timeline_url("https://m.example/api/v1/streaming?stream=user")),
	       "https://m.example/api/v1/timelines/home?", "masto: stream= form");
	free(t);
	ok(!masto_timeline_url("https://m.example/api/v1/streaming/direct"), "masto: no timeline for direct");
	ok(masto_is_stream("https://m.example/api/v1/streaming/public") &&
		   !masto_is_stream("https://m.example/api/v1/streamingx") && !masto_is_stream("https://m.example/feed"),
	   "masto: stream URLs");
	post_release(&p);
}

static struct feed F;

static int parse(const char *xml, const char *cs)
{
	struct pea_err e;
	int r = feed_parse((const uint8_t *)xml, strlen(xml), cs, "http://example.org/f.xml", &F, &e);
	if (r)
		printf("# %s\n", e.msg);
	return r ? -1 : (int)F.n;
}

static void feed_checks(void)
{
	struct pea_err e;
	feed_init(&F);
	is_int(parse("<rss><channel><ttl>30</ttl><item><title>A</title><link>/a</link></item>"
		     "<item><title>B</title></item></channel></rss>", NULL), 2, "feed: RSS items");
	ok(!strncmp(buf_cstr(&F.items[0].id), "hash:", 5) && strlen(buf_cstr(&F.items[0].id)) == 21,
	   "feed: no guid, no link: a hash of the item");
	is_str(buf_cstr(&F.items[1].id), "http://example.org/a", "feed: no guid: the resolved link");
	is_int(F.ttl, 30, "feed: ttl");
	is_int(parse("<rss><channel><item><guid>1</guid><title>cut", NULL), 1, "feed: truncated, recovered");
	is_str(buf_cstr(&F.items[0].title), "cut", "feed: the truncated title");
	is_int(parse("<?xml version=\"1.0\"?><rss><channel><item><guid>x</guid><title>caf\xe9</title></item>"
		     "</channel></rss>", NULL), 1, "feed: Latin-1 bytes without a declaration");
	is_str(buf_cstr(&F.items[0].title), "caf\xc3\xa9", "feed: read as windows-1252");
	is_int(parse("<rss><channel><item><guid>y</guid><title>caf\xe9</title></item></channel></rss>",
		     "iso-8859-1"), 1, "feed: the HTTP charset");
	is_str(buf_cstr(&F.items[0].title), "caf\xc3\xa9", "feed: converted from it");
	is_int(parse("<rss><channel><item><guid>z</guid><title>a&nbsp;b &amp; c</title></item></channel></rss>", NULL),
	       1, "feed: HTML entities");
	is_str(buf_cstr(&F.items[0].title), "a\xc2\xa0" "b & c", "feed: as characters, &amp; kept");
	ok(feed_parse((const uint8_t *)"", 0, NULL, NULL, &F, &e) == -1, "feed: empty input refused");
	is_str(e.msg, "not XML: no feed in it", "feed: empty: why");
	ok(feed_parse((const uint8_t *)"\x01\x02\x03 binary", 10, NULL, NULL, &F, &e) == -1, "feed: binary refused");
	ok(feed_parse((const uint8_t *)"<html><body>x</body></html>", 27, NULL, NULL, &F, &e) == -1,
	   "feed: an HTML page refused");
	is_str(e.msg, "not a feed: the root element is <html>", "feed: why");
	/* many items are bounded, not unbounded */
	struct buf big = BUF_INIT;
	buf_adds(&big, "<rss><channel>");
	for (int i = 0; i < 120000; i++)
		buf_addf(&big, "<item><guid>%d</guid></item>", i);
	buf_adds(&big, "</channel></rss>");
	ok(feed_parse(big.p, big.len, NULL, NULL, &F, &e) == 0 && F.n == 100000, "feed: items bounded at 100000");
	buf_release(&big);
	feed_release(&F);
}

static void post_checks(void)
{
	int ms;
	is_int(post_time("2024-05-01T12:00:00Z", NULL), 1714564800, "time: RFC 3339");
	is_int(post_time("2024-05-01T14:00:00.5+02:00", &ms), 1714564800, "time: offset and fraction");
	is_int(ms, 500, "time: milliseconds");
	is_int(post_time("Wed, 01 May 2024 12:00:00 GMT", NULL), 1714564800, "time: RFC 822");
	is_int(post_time("Wed, 01 May 2024 14:00:00 +0200", NULL), 1714564800, "time: RFC 822 with a zone");
	is_int(post_time("2024-05-01", NULL), 1714521600, "time: a date");
	ok(post_time("yesterday-ish", NULL) == POST_NO_TIME, "time: nonsense");
	ok(post_time("2024-13-01T00:00:00Z", NULL) == POST_NO_TIME, "time: month 13");
	ok(post_time("", NULL) == POST_NO_TIME, "time: empty");

	struct post p;
	post_init(&p);
	buf_adds(&p.id, "7");
	buf_adds(&p.title, "  bad \xff title\n");
	buf_adds(&p.content, "<p>one</p><p>two &amp; three</p>");
	buf_adds(&p.author, "ann");
	post_tag(&p, "#Cats", 5);
	post_mention(&p, "@bob", 4);
	pea_fb *fb = fb_new();
	post_record(fb, &p, "http://s/");
	post_reset(&p);
	buf_adds(&p.id, "7");
	p.deleted = 1;
	post_record(fb, &p, "http://s/");
	pea_frame *f = frame_new();
	fb_to_frame(fb, f);
	is_int(frame_nrec(f), 2, "post: two records");
	const pea_val *v = frame_get(f, 0, frame_field(f, "title"));
	ok(v && v->n == 13 && !memcmp(val_str(v), "bad \xef\xbf\xbd title", 13), "post: invalid UTF-8 repaired, blanks squeezed");
	v = frame_get(f, 0, frame_field(f, "text"));
	ok(v && v->n == 15 && !memcmp(val_str(v), "one\ntwo & three", 15), "post: HTML to text");
	v = frame_get(f, 0, frame_field(f, "items"));
	struct val_iter it;
	struct buf items = BUF_INIT;
	val_iter_init(&it, v);
	while (val_iter_next(&it)) {
		buf_add(&items, it.s, it.len);
		buf_addc(&items, ' ');
	}
	is_str(buf_cstr(&items), "@bob #cats ", "post: mentions and tags as items");
	buf_release(&items);
	v = frame_get(f, 1, frame_field(f, "deleted"));
	ok(v && v->x.i == 1, "post: a deletion says deleted");
	ok(!frame_get(f, 1, frame_field(f, "user")), "post: a deletion has no user");
	frame_free(f);
	fb_free(fb);
	post_release(&p);
}

static void hrecent_checks(void)
{
	struct hrecent r = HRECENT_INIT(100);
	int fresh = 0;
	for (uint64_t i = 0; i < 1000; i++)
		fresh += hrecent_add(&r, hash_bytes(&i, sizeof i, 0));
	is_int(fresh, 1000, "recent: every new hash is new");
	ok(r.cur.n + r.old.n <= 100, "recent: bounded (%zu)", r.cur.n + r.old.n);
	int known = 1;
	for (uint64_t i = 950; i < 1000; i++)
		known &= hrecent_has(&r, hash_bytes(&i, sizeof i, 0));
	ok(known, "recent: the last max/2 are known");
	uint64_t zero = 0, h0 = hash_bytes(&zero, sizeof zero, 0);
	ok(!hrecent_has(&r, h0), "recent: the oldest are forgotten");
	/* a hash touched as it goes is never forgotten */
	struct hrecent t = HRECENT_INIT(10);
	hrecent_add(&t, 12345);
	int kept = 1;
	for (uint64_t i = 0; i < 100; i++) {
		hrecent_add(&t, hash_bytes(&i, sizeof i, 1));
		kept &= hrecent_add(&t, 12345) == 0;
	}
	ok(kept, "recent: a hash touched as others come is never forgotten");
	uint64_t list[20];
	size_t k = hrecent_list(&t, list, 20);
	ok(k <= 10, "recent: the list is bounded (%zu)", k);
	hrecent_release(&r);
	hrecent_release(&t);
}

/* a "model" is the first line of a file; "bad" does not open */
static int opens;
static void *open_text(void *ctx, const char *path, struct pea_err *e)
{
	(void)ctx;
	opens++;
	char line[64] = "";
	FILE *f = fopen(path, "r");
	if (!f || !fgets(line, sizeof line, f)) {
		if (f)
			fclose(f);
		err_set(e, "cannot read");
		return NULL;
	}
	fclose(f);
	if (!strncmp(line, "bad", 3)) {
		err_set(e, "a bad model");
		return NULL;
	}
	return xstrdup(line);
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen("reload.tmp", "w");
	fputs(text, f);
	fclose(f);
	rename("reload.tmp", path);
}

static void reload_checks(void)
{
	const char *path = "reload-test.model";
	struct pea_err e;
	put_file(path, "one\n");
	struct reload *r = reload_new(path, open_text(NULL, path, &e), open_text, free, NULL);
	opens = 0;
	ok(reload_check(r) == 0 && opens == 0, "reload: an unchanged file is not opened again");
	put_file(path, "two\n");
	ok(reload_check(r) == 1 && !strcmp(reload_model(r), "two\n"), "reload: a file moved over it is swapped in");
	put_file(path, "bad\n");
	fprintf(stderr, "(a warning is expected next)\n");
	ok(reload_check(r) == 0 && !strcmp(reload_model(r), "two\n"), "reload: a bad file leaves the model");
	opens = 0;
	ok(reload_check(r) == 0 && opens == 0, "reload: the bad file is not tried again");
	remove(path);
	ok(reload_check(r) == 0 && !strcmp(reload_model(r), "two\n"), "reload: a missing file leaves the model");
	put_file(path, "three-longer\n");
	ok(reload_check(r) == 1 && !strcmp(reload_model(r), "three-longer\n"), "reload: and a new one comes");
	is_int(reload_count(r), 2, "reload: two swaps");
	reload_free(r);
	remove(path);
}

int main(void)
{
	reload_checks();
	sse_checks();
	masto_checks();
	feed_checks();
	post_checks();
	hrecent_checks();
	return tap_done();
}
