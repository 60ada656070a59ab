/* scrape.c - see scrape.h.  Documents are gathered into a batch (bytes in
 * hand: a mapped file, a fetched body, a WARC block), extracted in
 * parallel, then written and - when crawling - mined for links in order.
 * The batch is also cut whenever the fetcher is about to wait, so a live
 * pipeline gets records as pages arrive. */
#include "scrape.h"
#include "charset.h"
#include "err.h"
#include "hash.h"
#include "hset.h"
#include "html.h"
#include "mail.h"
#include "progress.h"
#include "url.h"
#include "warc.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <omp.h>
#include <pcre2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH_DOCS 64
#define BATCH_BYTES (16u << 20)
#define MAX_DIR_DEPTH 64

enum kind { K_NONE, K_HTML, K_TEXT, K_MAIL, K_IMAGE };

/* Images are passed on as they are, in field body, for pea image. */
static int image_sniff(const uint8_t *p, size_t n)
{
	return (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) || (n >= 3 && !memcmp(p, "\xff\xd8\xff", 3));
}

/* One document: where it came from, its bytes, and what extraction made */
struct sdoc {
	char *path, *url, *final_url, *ctype, *error, *charset, *label;
	long status;
	double fetched;
	int64_t depth, message, bytes;
	const uint8_t *data;
	size_t len;
	void *map;	 /* munmap(map, maplen) when done */
	size_t maplen;
	struct buf own;	 /* or the bytes are owned here */
	int want_links, mbox;
	enum kind kind;
	struct html_doc h;
	struct mail_msg m;
};

struct scraper {
	struct scrape_opts o;
	pea_wr *w;
	http_client *http;
	warc_writer *warc;
	struct sdoc *batch;
	size_t nbatch, batch_bytes;
	struct scrape_stats st;
	int errors;
	struct progress prog;
	/* crawl */
	struct hset seen;
	int64_t added;
	char **scope;
	size_t nscope;
	pcre2_code **inc, **exc;
	pcre2_match_data *md;
	uint64_t pages, failed;
};

/* ---- the crawl's sets ---- */

/* 1 when the URL was not seen yet */
static int seen_add(scraper *s, const char *url)
{
	return hset_add(&s->seen, hash_bytes(url, strlen(url), 7));
}

/* the part of a URL that decides scope */
static int scope_key(const scraper *s, const char *url, char *dst, size_t n)
{
	switch (s->o.scope) {
	case SCOPE_HOST:
		return url_hostport(url, dst, n);
	case SCOPE_DOMAIN:
		return url_domain(url, dst, n);
	case SCOPE_PREFIX: {
		const char *path = url_path(url);
		const char *q = path + strcspn(path, "?");
		const char *slash = q;
		while (slash > path && slash[-1] != '/')
			slash--;
		size_t l = (size_t)(slash - url);
		if (l >= n)
			return -1;
		memcpy(dst, url, l);
		dst[l] = 0;
		return 0;
	}
	}
	return -1;
}

static void scope_add(scraper *s, const char *url)
{
	char k[2048];
	if (scope_key(s, url, k, sizeof k))
		return;
	for (size_t i = 0; i < s->nscope; i++)
		if (!strcmp(s->scope[i], k))
			return;
	s->scope = xrealloc(s->scope, (s->nscope + 1) * sizeof *s->scope);
	s->scope[s->nscope++] = xstrdup(k);
}

static int in_scope(scraper *s, const char *url)
{
	if (s->o.scope == SCOPE_PREFIX) {
		for (size_t i = 0; i < s->nscope; i++)
			if (!strncmp(url, s->scope[i], strlen(s->scope[i])))
				return 1;
		return 0;
	}
	char k[2048];
	if (scope_key(s, url, k, sizeof k))
		return 0;
	for (size_t i = 0; i < s->nscope; i++)
		if (!strcmp(s->scope[i], k))
			return 1;
	return 0;
}

static int matches(scraper *s, pcre2_code *re, const char *url)
{
	return pcre2_match(re, (PCRE2_SPTR)url, strlen(url), 0, 0, s->md, NULL) >= 0;
}

static int wanted(scraper *s, const char *url)
{
	if (!in_scope(s, url))
		return 0;
	int inc = !s->o.include.n;
	for (int i = 0; i < s->o.include.n && !inc; i++)
		inc = matches(s, s->inc[i], url);
	for (int i = 0; inc && i < s->o.exclude.n; i++)
		if (matches(s, s->exc[i], url))
			inc = 0;
	return inc;
}

/* ---- documents ---- */

static struct sdoc *doc_new(scraper *s)
{
	struct sdoc *d = &s->batch[s->nbatch++];
	memset(d, 0, sizeof *d);
	d->depth = -1;
	d->message = -1;
	d->bytes = -1;
	html_doc_init(&d->h);
	mail_init(&d->m);
	d->want_links = s->o.links || s->o.crawl;
	if (s->o.label)
		d->label = xstrdup(s->o.label);
	return d;
}

static void doc_release(struct sdoc *d)
{
	free(d->path);
	free(d->url);
	free(d->final_url);
	free(d->ctype);
	free(d->error);
	free(d->charset);
	free(d->label);
	if (d->map)
		munmap(d->map, d->maplen);
	buf_release(&d->own);
	html_doc_release(&d->h);
	mail_release(&d->m);
}

static int has_nul(const uint8_t *p, size_t n)
{
	return memchr(p, 0, n < 8192 ? n : 8192) != NULL;
}

static int ctype_is(const char *ct, const char *t)
{
	size_t l = strlen(t);
	return ct && !strncasecmp(ct, t, l) && (!ct[l] || ct[l] == ';' || ct[l] == ' ');
}

/* decide what the bytes are and extract; runs on any thread */
static void extract(const struct scrape_opts *o, struct sdoc *d)
{
	if (d->error || !d->data)
		return;
	const uint8_t *p = d->data;
	size_t n = d->len;
	if (d->ctype) { /* the server or the archive said */
		if (ctype_is(d->ctype, "text/html") || ctype_is(d->ctype, "application/xhtml+xml"))
			d->kind = K_HTML;
		else if (ctype_is(d->ctype, "message/rfc822"))
			d->kind = K_MAIL;
		else if (!strncasecmp(d->ctype, "text/", 5))
			d->kind = html_sniff(p, n) && !ctype_is(d->ctype, "text/plain") ? K_HTML : K_TEXT;
		else if (ctype_is(d->ctype, "application/octet-stream") && html_sniff(p, n))
			d->kind = K_HTML;
		else if (!strncasecmp(d->ctype, "image/", 6) || image_sniff(p, n))
			d->kind = K_IMAGE;
		else
			d->kind = K_NONE;
	} else if (image_sniff(p, n)) {
		d->kind = K_IMAGE;
		d->ctype = xstrdup(p[0] == 0x89 ? "image/png" : "image/jpeg");
	} else {
		d->kind = mail_sniff(p, n) ? K_MAIL : html_sniff(p, n) ? K_HTML : has_nul(p, n) ? K_NONE : K_TEXT;
		d->ctype = xstrdup(d->kind == K_MAIL ? "message/rfc822" : d->kind == K_HTML ? "text/html"
				   : d->kind == K_TEXT ? "text/plain" : "application/octet-stream");
	}
	struct pea_err e;
	switch (d->kind) {
	case K_HTML: {
		struct html_opts ho = {o->full_text, d->want_links, d->charset,
				       d->final_url ? d->final_url : d->url, 0};
		if (html_extract(p, n, &ho, &d->h, &e))
			d->error = xstrdup(e.msg);
		break;
	}
	case K_MAIL:
		if (d->mbox) { /* mboxrd: ">From " lines lose one '>' */
			struct buf u = BUF_INIT;
			for (size_t i = 0; i < n;) {
				const uint8_t *nl = memchr(p + i, '\n', n - i);
				size_t e = nl ? (size_t)(nl - p) + 1 : n, k = i;
				while (k < e && p[k] == '>')
					k++;
				if (k > i && e - k >= 5 && !memcmp(p + k, "From ", 5))
					i++;
				buf_add(&u, p + i, e - i);
				i = e;
			}
			mail_parse(u.p ? u.p : (const uint8_t *)"", u.len, &d->m);
			buf_release(&u);
		} else {
			mail_parse(p, n, &d->m);
		}
		break;
	case K_TEXT: {
		long bad = cs_to_utf8(d->charset, p, n, &d->h.text);
		d->h.bad_chars = bad > 0 ? bad : 0;
		while (d->h.text.len && (d->h.text.p[d->h.text.len - 1] == '\n' || d->h.text.p[d->h.text.len - 1] == '\r'))
			d->h.text.len--;
		break;
	}
	case K_IMAGE:
	case K_NONE:
		break;
	}
}

static void put_str(pea_fb *fb, const char *name, const void *p, size_t n)
{
	fb_str(fb, fb_xfield(fb, name, PEA_STR), p ? p : "", n);
}
static void put_cstr(pea_fb *fb, const char *name, const char *s)
{
	if (s)
		put_str(fb, name, s, strlen(s));
}
static void put_buf(pea_fb *fb, const char *name, const struct buf *b)
{
	if (b->len)
		put_str(fb, name, b->p, b->len);
}

static void crawl_links(scraper *s, struct sdoc *d);

/* write one document's record (main thread, in order) */
static void emit(scraper *s, struct sdoc *d)
{
	int ok = !d->error && (!d->url || (d->status >= 200 && d->status < 300));
	if (d->kind == K_MAIL)
		s->st.mail++;
	else if (d->kind == K_HTML)
		s->st.html++;
	else if (d->kind == K_TEXT)
		s->st.text++;
	s->st.attachments += (uint64_t)d->m.attachments;
	s->st.bad_chars += (uint64_t)(d->h.bad_chars + d->m.bad_chars);
	if (s->o.crawl && d->url && ok && d->kind == K_HTML)
		crawl_links(s, d);
	if (s->o.ok_only && !ok)
		return;
	pea_fb *fb = wr_fb(s->w);
	fb_begin(fb);
	put_cstr(fb, "url", d->url);
	if (d->final_url && d->url && strcmp(d->final_url, d->url))
		put_cstr(fb, "final_url", d->final_url);
	put_cstr(fb, "path", d->path);
	if (d->message >= 0)
		fb_int(fb, fb_xfield(fb, "message", PEA_INT), d->message);
	if (d->url && d->status >= 0)
		fb_int(fb, fb_xfield(fb, "status", PEA_INT), d->status);
	put_cstr(fb, "error", d->error);
	put_cstr(fb, "content_type", d->ctype);
	if (d->fetched > 0)
		fb_float(fb, fb_xfield(fb, "fetched", PEA_FLOAT), d->fetched);
	if (d->bytes >= 0)
		fb_int(fb, fb_xfield(fb, "bytes", PEA_INT), d->bytes);
	if (d->depth >= 0)
		fb_int(fb, fb_xfield(fb, "depth", PEA_INT), d->depth);
	put_cstr(fb, "label", d->label);
	if (d->kind == K_MAIL) {
		put_buf(fb, "title", &d->m.subject);
		put_buf(fb, "from", &d->m.from);
		put_buf(fb, "date", &d->m.date);
		fb_int(fb, fb_xfield(fb, "attachments", PEA_INT), d->m.attachments);
		put_buf(fb, "headers", &d->m.headers);
		put_str(fb, "text", d->m.text.p, d->m.text.len);
	} else if (d->kind == K_IMAGE && !d->error) {
		fb_bytes(fb, fb_xfield(fb, "body", PEA_BYTES), d->data, d->len);
	} else if (d->kind != K_NONE && !d->error) {
		put_buf(fb, "title", &d->h.title);
		put_buf(fb, "lang", &d->h.lang);
		put_buf(fb, "description", &d->h.description);
		put_str(fb, "text", d->h.text.p, d->h.text.len);
	}
	if (s->o.links && d->kind == K_HTML) {
		fb_list_begin(fb, fb_xfield(fb, "links", PEA_STRLIST), PEA_STRLIST);
		for (size_t i = 0; i < d->h.nlinks; i++)
			fb_list_str(fb, d->h.links[i], strlen(d->h.links[i]));
		fb_list_end(fb);
	}
	fb_end(fb);
	wr_commit(s->w);
	s->st.docs++;
}

static void flush_batch(scraper *s)
{
	if (!s->nbatch)
		return;
	int nt = s->o.threads > 0 ? s->o.threads : 1;
	if ((size_t)nt > s->nbatch)
		nt = (int)s->nbatch;
	const struct scrape_opts *o = &s->o;
	struct sdoc *b = s->batch;
	long n = (long)s->nbatch;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
	for (long i = 0; i < n; i++)
		extract(o, &b[i]);
	for (size_t i = 0; i < s->nbatch; i++) {
		emit(s, &s->batch[i]);
		doc_release(&s->batch[i]);
	}
	s->nbatch = 0;
	s->batch_bytes = 0;
}

static struct sdoc *batch_slot(scraper *s)
{
	if (s->nbatch == BATCH_DOCS || s->batch_bytes >= BATCH_BYTES)
		flush_batch(s);
	return doc_new(s);
}

/* ---- local files ---- */

static char *parent_name(const char *path)
{
	const char *end = path + strlen(path);
	while (end > path && end[-1] != '/')
		end--; /* now after the last slash */
	if (end == path)
		return NULL;
	const char *e = end - 1;
	while (e > path && e[-1] == '/')
		e--;
	const char *b = e;
	while (b > path && b[-1] != '/')
		b--;
	if (e == b || (e - b == 1 && *b == '.'))
		return NULL;
	return xstrndup(b, (size_t)(e - b));
}

static void file_label(scraper *s, struct sdoc *d, const char *path)
{
	if (s->o.label_from_dir) {
		free(d->label);
		d->label = parent_name(path);
		if (!d->label) { /* a file of the working directory: its name */
			char cwd[4096], tmp[4100];
			if (getcwd(cwd, sizeof cwd)) {
				snprintf(tmp, sizeof tmp, "%s/x", cwd);
				d->label = parent_name(tmp);
			}
		}
	}
}

static char *status_error(long status)
{
	char m[32];
	snprintf(m, sizeof m, "http status %ld", status);
	return xstrdup(m);
}

static void read_warc(scraper *s, int fd, const char *path)
{
	warc_reader *r = warc_open(fd, path, (size_t)s->o.max_size);
	struct warc_rec rec;
	struct pea_err e;
	int rc;
	struct warc_http hb;
	buf_init(&hb.body, 0);
	while ((rc = warc_next(r, &rec, &e)) == 1) {
		int resp = !strcmp(rec.type, "response") && !strncasecmp(rec.ctype, "application/http", 16);
		int res = !strcmp(rec.type, "resource");
		if (!resp && !res)
			continue;
		s->st.warc_records++;
		struct sdoc *d = batch_slot(s);
		d->path = xstrdup(path);
		d->url = xstrdup(rec.uri);
		d->bytes = (int64_t)rec.len;
		file_label(s, d, path);
		struct tm tm;
		memset(&tm, 0, sizeof tm);
		if (strptime(rec.date, "%Y-%m-%dT%H:%M:%S", &tm))
			d->fetched = (double)timegm(&tm);
		if (!rec.block) {
			d->status = 0;
			d->error = xstrdup("record larger than --max-size");
			s->st.skipped_large++;
			continue;
		}
		if (res) {
			d->status = 200;
			d->ctype = xstrdup(rec.ctype[0] ? rec.ctype : "application/octet-stream");
			buf_add(&d->own, rec.block, rec.len);
		} else {
			if (warc_http_body(rec.block, rec.len, (size_t)s->o.max_size, &hb, &e)) {
				d->status = hb.status;
				d->error = xstrdup(e.msg);
				continue;
			}
			d->status = hb.status;
			d->ctype = hb.ctype[0] ? xstrdup(hb.ctype) : NULL;
			d->own = hb.body; /* the body moves into the document */
			buf_init(&hb.body, 0);
		}
		char cs[40];
		cs_from_ctype(d->ctype, cs, sizeof cs);
		d->charset = cs[0] ? xstrdup(cs) : NULL;
		d->data = d->own.p ? d->own.p : (const uint8_t *)"";
		d->len = d->own.len;
		s->batch_bytes += d->len;
		if (d->status >= 400)
			d->error = status_error(d->status);
		if (d->status < 200 || d->status >= 300)
			d->data = NULL; /* an archived error page: keep its status, not its text */
	}
	buf_release(&hb.body);
	warc_free(r);
	if (rc < 0) {
		flush_batch(s);
		die("%s: %s", path, e.msg);
	}
}

static void read_mbox(scraper *s, uint8_t *map, size_t n, const char *path)
{
	size_t off = 0;
	const uint8_t *msg;
	size_t len;
	int64_t k = 0, count = 0;
	while (mbox_next(map, n, &off, &msg, &len))
		count++;
	off = 0;
	while (mbox_next(map, n, &off, &msg, &len)) {
		struct sdoc *d = batch_slot(s);
		d->path = xstrdup(path);
		k++;
		/* a file of one message (as in the SpamAssassin corpus) needs no number */
		d->message = count > 1 ? k : -1;
		d->mbox = 1;
		d->bytes = (int64_t)len;
		file_label(s, d, path);
		d->ctype = xstrdup("message/rfc822");
		if (len > s->o.max_size) {
			d->error = xstrdup("message larger than --max-size");
			s->st.skipped_large++;
			continue;
		}
		d->data = msg;
		d->len = len;
		s->batch_bytes += len;
	}
	/* the messages point into the map: extract them before it goes */
	flush_batch(s);
}

static void scrape_file(scraper *s, const char *path, const struct stat *sb)
{
	s->st.files++;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error("%s: %s", path, strerror(errno));
		s->errors = 1;
		return;
	}
	uint8_t head[4096];
	ssize_t hn = pread(fd, head, sizeof head, 0);
	if (hn < 0) {
		error("%s: %s", path, strerror(errno));
		s->errors = 1;
		close(fd);
		return;
	}
	if (warc_sniff(head, (size_t)hn)) {
		read_warc(s, fd, path);
		close(fd);
		return;
	}
	size_t n = (size_t)sb->st_size;
	int mbox = mbox_sniff(head, (size_t)hn);
	if (!mbox && n > s->o.max_size) {
		struct sdoc *d = batch_slot(s);
		d->path = xstrdup(path);
		d->bytes = (int64_t)n;
		file_label(s, d, path);
		d->error = xstrdup("file larger than --max-size");
		s->st.skipped_large++;
		close(fd);
		return;
	}
	void *map = n ? mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	close(fd);
	if (n && map == MAP_FAILED) {
		error("%s: %s", path, strerror(errno));
		s->errors = 1;
		return;
	}
	if (mbox) {
		read_mbox(s, map, n, path);
		munmap(map, n);
		return;
	}
	if (n && has_nul(map, n) && !mail_sniff(map, n) && !image_sniff(map, n)) {
		s->st.skipped_binary++;
		munmap(map, n);
		return;
	}
	struct sdoc *d = batch_slot(s);
	d->path = xstrdup(path);
	d->bytes = (int64_t)n;
	file_label(s, d, path);
	d->map = map;
	d->maplen = n;
	d->data = n ? map : (const uint8_t *)"";
	d->len = n;
	s->batch_bytes += n;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void walk(scraper *s, const char *path, int depth)
{
	struct stat sb;
	if (stat(path, &sb)) {
		error("%s: %s", path, strerror(errno));
		s->errors = 1;
		return;
	}
	if (S_ISREG(sb.st_mode)) {
		scrape_file(s, path, &sb);
		if (progress_due(&s->prog))
			progress_show(&s->prog, "%llu files, %llu records", (unsigned long long)s->st.files,
				      (unsigned long long)s->st.docs);
		return;
	}
	if (!S_ISDIR(sb.st_mode))
		return;
	if (depth > MAX_DIR_DEPTH) {
		error("%s: directories nested deeper than %d", path, MAX_DIR_DEPTH);
		s->errors = 1;
		return;
	}
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, name_cmp);
	if (n < 0) {
		error("%s: %s", path, strerror(errno));
		s->errors = 1;
		return;
	}
	size_t pl = strlen(path);
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		if (nm[0] == '.') { /* ., .. and hidden files */
			free(ents[i]);
			continue;
		}
		if (ents[i]->d_type != DT_DIR && s->o.names.n) {
			int m = 0;
			for (int k = 0; k < s->o.names.n && !m; k++)
				m = !fnmatch(s->o.names.v[k], nm, 0);
			if (!m && ents[i]->d_type != DT_UNKNOWN && ents[i]->d_type != DT_LNK) {
				free(ents[i]);
				continue;
			}
			if (!m) { /* d_type unknown: ask the file system */
				char tmp[4096];
				struct stat tb;
				snprintf(tmp, sizeof tmp, "%s/%s", path, nm);
				if (stat(tmp, &tb) || !S_ISDIR(tb.st_mode)) {
					free(ents[i]);
					continue;
				}
			}
		}
		size_t l = pl + strlen(nm) + 2;
		char *sub = xmalloc(l);
		snprintf(sub, l, "%s%s%s", path, pl && path[pl - 1] == '/' ? "" : "/", nm);
		struct stat lb;
		/* a symlink to a directory is not followed: no loops, no escapes */
		if (lstat(sub, &lb) == 0 && !(S_ISLNK(lb.st_mode) && stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode)))
			walk(s, sub, depth + 1);
		free(sub);
		free(ents[i]);
	}
	free(ents);
}

void scrape_path(scraper *s, const char *path)
{
	walk(s, path, 0);
}

/* ---- the web ---- */

static void add_url(scraper *s, char *url, int64_t depth)
{
	s->added++;
	http_add(s->http, url, (void *)(intptr_t)(depth + 1), NULL, NULL);
}

void scrape_url(scraper *s, const char *raw)
{
	char *u = url_normalize(raw);
	if (!u) {
		/* not fetchable: still a record, so every input is accounted for */
		struct sdoc *d = batch_slot(s);
		d->url = xstrdup(raw);
		d->status = 0;
		d->error = xstrdup("not an http or https URL");
		s->failed++;
		return;
	}
	if (s->o.crawl) {
		scope_add(s, u);
		if (!seen_add(s, u)) {
			free(u);
			return;
		}
		if (s->o.max_pages && s->added >= s->o.max_pages) {
			free(u);
			return;
		}
	}
	add_url(s, u, 0);
	free(u);
}

static void crawl_links(scraper *s, struct sdoc *d)
{
	if ((s->o.depth >= 0 && d->depth >= s->o.depth) || (s->o.http.robots && d->h.nofollow))
		return;
	if (d->depth == 0 && d->final_url)
		scope_add(s, d->final_url); /* a start page that redirected */
	for (size_t i = 0; i < d->h.nlinks; i++) {
		if (s->o.max_pages && s->added >= s->o.max_pages)
			return;
		const char *l = d->h.links[i];
		if (!wanted(s, l) || !seen_add(s, l))
			continue;
		add_url(s, (char *)l, d->depth + 1);
	}
}

static void on_response(scraper *s, const struct http_resp *r)
{
	struct sdoc *d = batch_slot(s);
	d->url = xstrdup(r->url);
	d->final_url = xstrdup(r->final_url);
	d->status = r->status;
	d->fetched = r->fetched;
	d->bytes = (int64_t)r->len;
	if (s->o.crawl)
		d->depth = (int64_t)(intptr_t)r->user - 1;
	if (r->error) {
		d->error = xstrdup(r->error);
		s->failed++;
	} else {
		s->pages++;
	}
	if (s->o.crawl && strcmp(r->final_url, r->url))
		seen_add(s, r->final_url);
	d->ctype = r->content_type ? xstrdup(r->content_type) : NULL;
	char cs[40];
	cs_from_ctype(r->content_type, cs, sizeof cs);
	d->charset = cs[0] ? xstrdup(cs) : NULL;
	if (s->warc && r->status > 0 && !r->robots_denied)
		warc_write_exchange(s->warc, r->final_url, r->remote_ip, r->fetched, r->req_headers,
				    r->resp_headers, r->body, r->len);
	if (!r->error && r->status >= 200 && r->status < 300) {
		buf_add(&d->own, r->body, r->len);
		d->data = d->own.p ? d->own.p : (const uint8_t *)"";
		d->len = d->own.len;
		s->batch_bytes += d->len;
	}
	if (!d->ctype && d->data) /* no Content-Type: sniff */
		d->ctype = xstrdup(html_sniff(d->data, d->len) ? "text/html" : "text/plain");
}

void scrape_fetch(scraper *s, int (*more)(void *ctx, scraper *s), void *ctx)
{
	int have_more = more != NULL;
	double t0 = now_sec();
	for (;;) {
		while (have_more && http_pending(s->http) < (size_t)s->o.http.max_conns * 4)
			if (!more(ctx, s))
				have_more = 0;
		const struct http_resp *r = http_next(s->http, 0);
		if (!r) {
			/* about to wait on the network: hand over what is ready */
			flush_batch(s);
			wr_flush(s->w);
			if (!http_pending(s->http) && !have_more)
				break;
			r = http_next(s->http, 1);
			if (!r) {
				if (!have_more)
					break;
				continue;
			}
		}
		on_response(s, r);
		if (progress_due(&s->prog)) {
			double el = now_sec() - t0;
			progress_show(&s->prog, "%llu pages, %zu queued, %llu errors, %.0f pages/s",
				      (unsigned long long)s->pages, http_queued(s->http),
				      (unsigned long long)s->failed, el > 0 ? (double)s->pages / el : 0.0);
		}
	}
	flush_batch(s);
}

/* ---- the interface ---- */

static pcre2_code **compile(const struct cli_list *l, const char *what)
{
	pcre2_code **v = xcalloc((size_t)l->n + 1, sizeof *v);
	for (int i = 0; i < l->n; i++) {
		int ec;
		PCRE2_SIZE off;
		v[i] = pcre2_compile((PCRE2_SPTR)l->v[i], PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &off, NULL);
		if (!v[i]) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(ec, msg, sizeof msg);
			die_usage("--%s '%s': %s at offset %zu", what, l->v[i], (const char *)msg, (size_t)off);
		}
		pcre2_jit_compile(v[i], PCRE2_JIT_COMPLETE);
	}
	return v;
}

scraper *scrape_new(const struct scrape_opts *o, pea_wr *w)
{
	scraper *s = xcalloc(1, sizeof *s);
	s->o = *o;
	s->w = w;
	s->batch = xcalloc(BATCH_DOCS, sizeof *s->batch);
	s->inc = compile(&o->include, "include");
	s->exc = compile(&o->exclude, "exclude");
	s->md = pcre2_match_data_create(4, NULL);
	struct http_opts ho = o->http;
	ho.keep_raw = o->warc_out != NULL;
	s->http = http_new(&ho);
	if (o->warc_out)
		s->warc = warc_create(o->warc_out);
	progress_init(&s->prog, o->quiet);
	return s;
}

static const char *human(double b, char *dst, size_t n)
{
	const char *u[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
	int i = 0;
	while (b >= 1024 && i < 4)
		b /= 1024, i++;
	snprintf(dst, n, i ? "%.1f %s" : "%.0f %s", b, u[i]);
	return dst;
}

void scrape_finish(scraper *s)
{
	flush_batch(s);
	warc_close(s->warc);
	s->warc = NULL;
	progress_done(&s->prog);
	if (s->o.quiet)
		return;
	const struct http_stats *hs = http_stats(s->http);
	char b[32];
	if (hs->requests || s->failed) {
		double el = progress_elapsed(&s->prog);
		note("%llu fetched, %llu failed, %llu skipped by robots.txt, %s in %.1f s (%.0f pages/s)",
		     (unsigned long long)hs->ok, (unsigned long long)(s->failed - hs->robots),
		     (unsigned long long)hs->robots, human((double)hs->bytes, b, sizeof b), el,
		     el > 0 ? (double)hs->ok / el : 0.0);
	}
	if (s->st.files) {
		struct buf extra = BUF_INIT;
		if (s->st.attachments)
			buf_addf(&extra, ", %llu attachments skipped", (unsigned long long)s->st.attachments);
		if (s->st.skipped_binary)
			buf_addf(&extra, ", %llu binary files skipped", (unsigned long long)s->st.skipped_binary);
		if (s->st.skipped_large)
			buf_addf(&extra, ", %llu too large", (unsigned long long)s->st.skipped_large);
		if (s->st.bad_chars)
			buf_addf(&extra, ", %llu undecodable bytes replaced by U+FFFD",
				 (unsigned long long)s->st.bad_chars);
		note("%llu records from %llu files (%llu mail, %llu html, %llu text, %llu from warc)%s",
		     (unsigned long long)s->st.docs, (unsigned long long)s->st.files,
		     (unsigned long long)s->st.mail, (unsigned long long)s->st.html,
		     (unsigned long long)s->st.text, (unsigned long long)s->st.warc_records,
		     extra.len ? buf_cstr(&extra) : "");
		buf_release(&extra);
	}
}

int scrape_had_errors(const scraper *s) { return s->errors; }

void scrape_free(scraper *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nbatch; i++)
		doc_release(&s->batch[i]);
	free(s->batch);
	http_free(s->http);
	for (int i = 0; i < s->o.include.n; i++)
		pcre2_code_free(s->inc[i]);
	for (int i = 0; i < s->o.exclude.n; i++)
		pcre2_code_free(s->exc[i]);
	free(s->inc);
	free(s->exc);
	pcre2_match_data_free(s->md);
	for (size_t i = 0; i < s->nscope; i++)
		free(s->scope[i]);
	free(s->scope);
	hset_release(&s->seen);
	free(s);
}
