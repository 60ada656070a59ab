/* test-web - URL normalization, robots.txt rules, charset conversion and
 * content sniffing: the small decisions the scraper rests on. */
#include "charset.h"
#include "hset.h"
#include "html.h"
#include "http.h"
#include "mail.h"
#include "tap.h"
#include "url.h"

static void norm(const char *base, const char *ref, const char *want)
{
	char *got = url_resolve(base, ref);
	if (!want) {
		ok(!got, "refused: %s", ref);
	} else {
		is_str(got ? got : "(null)", want, "%s + %s", base ? base : "-", ref);
	}
	free(got);
}

int main(void)
{
	norm(NULL, "HTTP://Example.ORG:80/a/./b/../c?x=1#frag", "http://example.org/a/c?x=1");
	norm(NULL, "https://example.org:443", "https://example.org/");
	norm(NULL, "http://example.org:8080/%7euser/%2fx%e2", "http://example.org:8080/~user/%2Fx%E2");
	norm(NULL, "  http://example.org/a b\n", "http://example.org/a%20b");
	norm(NULL, "http://user:pw@example.org/", "http://example.org/");
	norm("http://example.org/a/b/c.html", "../d.html", "http://example.org/a/d.html");
	norm("http://example.org/a/b/c.html", "//other.org/x", "http://other.org/x");
	norm("http://example.org/a/b/c.html", "?q=2", "http://example.org/a/b/c.html?q=2");
	norm("http://example.org/a/", "caf\xc3\xa9.html", "http://example.org/a/caf%C3%A9.html");
	norm("http://example.org/", "file:///etc/passwd", NULL);
	norm("http://example.org/", "ftp://example.org/x", NULL);
	norm("http://example.org/", "javascript:alert(1)", NULL);
	norm(NULL, "example.org/no-scheme", NULL);
	norm(NULL, "", NULL);

	char d[256];
	url_domain("http://www.example.co.uk/x", d, sizeof d);
	is_str(d, "example.co.uk", "domain under a country code second level");
	url_domain("http://docs.python.org:8080/x", d, sizeof d);
	is_str(d, "python.org", "domain of a subdomain");
	url_domain("http://www.bbc.com/", d, sizeof d);
	is_str(d, "bbc.com", "a short second-level label is still the domain");
	url_domain("http://127.0.0.1:99/", d, sizeof d);
	is_str(d, "127.0.0.1", "an address is its own domain");
	url_hostport("http://127.0.0.1:99/a", d, sizeof d);
	is_str(d, "127.0.0.1:99", "host and port");
	is_str(url_path("http://x.org/a/b?c=d"), "/a/b?c=d", "path and query");

	const char *txt = "User-agent: *\nDisallow: /private/\nAllow: /private/ok$\n\n"
			  "User-agent: other\nUser-agent: PEA\nDisallow: /only-pea\nAllow: /only-pea/yes\n"
			  "Disallow: /*.pdf$\nCrawl-delay: 2.5\n";
	struct robots *r = robots_parse(txt, strlen(txt), "pea");
	ok(!robots_allowed(r, "/only-pea/x"), "our group's Disallow applies");
	ok(robots_allowed(r, "/only-pea/yes/1"), "the longer Allow wins");
	ok(robots_allowed(r, "/private/x"), "the * group is ignored when ours exists");
	ok(!robots_allowed(r, "/doc/a.pdf"), "* and $ patterns");
	ok(robots_allowed(r, "/doc/a.pdf?x"), "$ anchors the end");
	near(robots_delay(r), 2.5, 1e-9, "Crawl-delay of our group");
	robots_free(r);
	r = robots_parse(txt, strlen(txt), "somebot");
	ok(!robots_allowed(r, "/private/x"), "the * group for others");
	ok(robots_allowed(r, "/private/ok"), "Allow with $");
	ok(!robots_allowed(r, "/private/ok2"), "... only at the end");
	robots_free(r);
	r = robots_parse("garbage\n\0\xff", 11, "pea");
	ok(robots_allowed(r, "/"), "garbage allows everything");
	robots_free(r);

	struct buf b = BUF_INIT;
	is_int(cs_to_utf8("latin1", (const uint8_t *)"caf\xe9", 4, &b), 0, "latin-1 converts");
	is_str(buf_cstr(&b), "caf\xc3\xa9", "... to UTF-8");
	buf_reset(&b);
	is_int(cs_to_utf8("iso-8859-1", (const uint8_t *)"\x80", 1, &b), 0, "iso-8859-1 read as windows-1252");
	is_str(buf_cstr(&b), "\xe2\x82\xac", "... 0x80 is the euro sign");
	buf_reset(&b);
	is_int(cs_to_utf8("utf-8", (const uint8_t *)"a\xffz", 3, &b), 1, "invalid UTF-8 counted");
	is_str(buf_cstr(&b), "a\xef\xbf\xbdz", "... and replaced");
	buf_reset(&b);
	is_int(cs_to_utf8(NULL, (const uint8_t *)"caf\xe9", 4, &b), 0, "undeclared non-UTF-8 guessed as windows-1252");
	is_str(buf_cstr(&b), "caf\xc3\xa9", "... converted");
	buf_reset(&b);
	is_int(cs_to_utf8("shift_jis", (const uint8_t *)"\x82\xa0\xff", 3, &b), 1, "a bad byte in another charset");
	is_str(buf_cstr(&b), "\xe3\x81\x82\xef\xbf\xbd", "... replaced, the rest converted");
	buf_release(&b);
	char cs[40];
	cs_from_ctype("text/html; Charset=\"ISO-8859-2\"", cs, sizeof cs);
	is_str(cs, "ISO-8859-2", "charset parameter of a Content-Type");

	const char *page = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=koi8-r\">";
	html_sniff_charset((const uint8_t *)page, strlen(page), cs, sizeof cs);
	is_str(cs, "koi8-r", "charset from http-equiv");
	ok(html_sniff((const uint8_t *)"\xef\xbb\xbf  <!DOCTYPE html>", 19), "sniff HTML after a BOM");
	ok(!html_sniff((const uint8_t *)"hello <b>", 9), "text is not HTML");
	ok(mail_sniff((const uint8_t *)"Return-Path: <a@b>\nX-Spam: no\nSubject: hi\n\nbody", 46), "sniff mail");
	ok(!mail_sniff((const uint8_t *)"Note: this is text\nwith lines\n", 30), "a colon in text is not mail");
	ok(mbox_sniff((const uint8_t *)"From a@b Mon Jan 1\nFrom: a@b\n\nx", 31), "sniff mbox");
	struct hset hs = HSET_INIT;
	int fresh = 0;
	for (uint64_t i = 0; i < 10000; i++)
		fresh += hset_add(&hs, i * 0x9e3779b97f4a7c15ull);
	for (uint64_t i = 0; i < 10000; i += 7)
		fresh -= !hset_add(&hs, i * 0x9e3779b97f4a7c15ull);
	is_int(fresh, 10000 - 1429, "hset: 10000 new, then the 1429 repeats found");
	hset_release(&hs);
	ok(hset_add(&hs, 0) && !hset_add(&hs, 0), "hset: zero is a hash like any other");
	hset_release(&hs);
	return tap_done();
}
