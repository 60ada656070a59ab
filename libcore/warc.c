/* warc.c - see warc.h.  The reader pulls decompressed bytes through a small
 * window (zlib resets at each gzip member end, so multi-member files read
 * as one stream); only the current record's block is held in memory. */
#include "warc.h"
#include "afile.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define WARC_HDR_MAX (64u << 10)
#define IN_CHUNK (256u << 10)

struct warc_reader {
	int fd, gz, eof, zend;
	const char *name;
	size_t max_block;
	z_stream z;
	uint8_t *in;
	struct buf win; /* decompressed bytes not yet consumed: [pos, len) */
	size_t pos;
	struct buf block;
	uint64_t index;
	uint64_t cur;	 /* the record being read (for messages from fill) */
	uint64_t base;	 /* stream offset of win.p[0] */
	uint64_t rstart; /* stream offset of the current record */
	char at[64];	 /* "record N at byte B" for messages */
};

/* where the current record is, for messages: a byte offset is given for
 * plain files only (in a .gz it would count decompressed bytes) */
static const char *where(warc_reader *r, uint64_t idx)
{
	if (r->gz == 1)
		snprintf(r->at, sizeof r->at, "record %llu", (unsigned long long)idx);
	else
		snprintf(r->at, sizeof r->at, "record %llu at byte %llu", (unsigned long long)idx,
			 (unsigned long long)r->rstart);
	return r->at;
}

warc_reader *warc_open(int fd, const char *name, size_t max_block)
{
	warc_reader *r = xcalloc(1, sizeof *r);
	r->fd = fd;
	r->name = name;
	r->max_block = max_block;
	r->in = xmalloc(IN_CHUNK);
	buf_init(&r->win, 0);
	buf_init(&r->block, 0);
	r->gz = -1; /* decided on the first bytes */
	return r;
}

void warc_free(warc_reader *r)
{
	if (!r)
		return;
	if (r->gz == 1)
		inflateEnd(&r->z);
	free(r->in);
	buf_release(&r->win);
	buf_release(&r->block);
	free(r);
}

static ssize_t read_some(warc_reader *r, uint8_t *p, size_t n)
{
	for (;;) {
		ssize_t k = read(r->fd, p, n);
		if (k >= 0 || errno != EINTR)
			return k;
	}
}

/* Make at least `want` bytes available in the window (fewer at the end).
 * Returns -1 on a read or gzip error. */
static int fill(warc_reader *r, size_t want, struct pea_err *e)
{
	if (r->pos && r->pos == r->win.len) {
		r->base += r->pos;
		r->win.len = r->pos = 0;
	} else if (r->pos > (1u << 20)) {
		memmove(r->win.p, r->win.p + r->pos, r->win.len - r->pos);
		r->base += r->pos;
		r->win.len -= r->pos;
		r->pos = 0;
	}
	while (r->win.len - r->pos < want && !r->eof) {
		if (r->gz == 0) {
			uint8_t *dst = buf_grow(&r->win, IN_CHUNK);
			ssize_t k = read_some(r, dst, IN_CHUNK);
			if (k < 0) {
				err_set(e, "read error: %s", strerror(errno));
				return -1;
			}
			if (!k)
				r->eof = 1;
			r->win.len += (size_t)k;
			continue;
		}
		if (r->z.avail_in == 0) {
			ssize_t k = read_some(r, r->in, IN_CHUNK);
			if (k < 0) {
				err_set(e, "read error: %s", strerror(errno));
				return -1;
			}
			if (!k) {
				if (!r->zend) {
					err_set(e, "%s: truncated gzip member", where(r, r->cur));
					return -1;
				}
				r->eof = 1;
				break;
			}
			r->z.next_in = r->in;
			r->z.avail_in = (uInt)k;
		}
		if (r->zend) { /* the next member */
			inflateReset(&r->z);
			r->zend = 0;
		}
		uint8_t *dst = buf_grow(&r->win, IN_CHUNK);
		r->z.next_out = dst;
		r->z.avail_out = IN_CHUNK;
		int rc = inflate(&r->z, Z_NO_FLUSH);
		r->win.len += IN_CHUNK - r->z.avail_out;
		if (rc == Z_STREAM_END)
			r->zend = 1;
		else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			err_set(e, "%s: corrupt gzip data", where(r, r->cur));
			return -1;
		}
	}
	return 0;
}

static int start(warc_reader *r, struct pea_err *e)
{
	uint8_t m[2];
	ssize_t k = read_some(r, m, 2);
	if (k < 0) {
		err_set(e, "read error: %s", strerror(errno));
		return -1;
	}
	r->gz = k == 2 && m[0] == 0x1f && m[1] == 0x8b;
	if (r->gz) {
		memset(&r->z, 0, sizeof r->z);
		if (inflateInit2(&r->z, 15 + 16) != Z_OK)
			die("zlib: cannot initialise");
		memcpy(r->in, m, 2);
		r->z.next_in = r->in;
		r->z.avail_in = 2;
		r->zend = 0;
	} else {
		buf_add(&r->win, m, (size_t)k);
	}
	return 0;
}

static void hval(const char *line, size_t n, char *dst, size_t dn)
{
	const char *c = memchr(line, ':', n);
	dst[0] = 0;
	if (!c)
		return;
	const char *v = c + 1, *e = line + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && isspace((unsigned char)e[-1]))
		e--;
	if (v < e && *v == '<' && e[-1] == '>') /* WARC 1.0 wrote <uri> */
		v++, e--;
	size_t l = (size_t)(e - v);
	if (l >= dn)
		l = dn - 1;
	memcpy(dst, v, l);
	dst[l] = 0;
}

int warc_next(warc_reader *r, struct warc_rec *rec, struct pea_err *e)
{
	if (r->gz < 0 && start(r, e))
		return -1;
	r->cur = r->index + 1;
	r->rstart = r->base + r->pos;
	/* skip the blank lines that end the previous record */
	for (;;) {
		if (fill(r, 1, e))
			return -1;
		if (r->pos == r->win.len)
			return 0;
		uint8_t c = r->win.p[r->pos];
		if (c != '\r' && c != '\n')
			break;
		r->pos++;
	}
	uint64_t idx = ++r->index;
	r->rstart = r->base + r->pos;
	/* the header block, up to an empty line */
	size_t hend = 0, scanned = 0;
	for (;;) {
		const uint8_t *p = r->win.p + r->pos;
		size_t avail = r->win.len - r->pos;
		for (size_t i = scanned; i + 1 < avail; i++) {
			if (p[i] == '\n' && (p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < avail && p[i + 2] == '\n'))) {
				hend = i + (p[i + 1] == '\n' ? 2 : 3);
				break;
			}
		}
		if (hend)
			break;
		if (avail > WARC_HDR_MAX) {
			err_set(e, "%s: header block longer than %u bytes", where(r, idx), WARC_HDR_MAX);
			return -1;
		}
		if (r->eof) {
			err_set(e, "%s: truncated header", where(r, idx));
			return -1;
		}
		scanned = avail > 2 ? avail - 2 : 0;
		if (fill(r, avail + 4096, e))
			return -1;
	}
	const char *h = (const char *)r->win.p + r->pos;
	if (hend < 6 || memcmp(h, "WARC/", 5)) {
		err_set(e, "%s: not a WARC record (no WARC/ version line)", where(r, idx));
		return -1;
	}
	memset(rec, 0, offsetof(struct warc_rec, block));
	rec->index = idx;
	int64_t clen = -1;
	for (size_t i = 0; i < hend;) {
		size_t l = 0;
		while (i + l < hend && h[i + l] != '\n')
			l++;
		const char *line = h + i;
		if (l > 9 && !strncasecmp(line, "WARC-Type:", 10)) {
			hval(line, l, rec->type, sizeof rec->type);
			for (char *c = rec->type; *c; c++)
				*c = (char)tolower((unsigned char)*c);
		} else if (l > 16 && !strncasecmp(line, "WARC-Target-URI:", 16)) {
			hval(line, l, rec->uri, sizeof rec->uri);
		} else if (l > 10 && !strncasecmp(line, "WARC-Date:", 10)) {
			hval(line, l, rec->date, sizeof rec->date);
		} else if (l > 13 && !strncasecmp(line, "Content-Type:", 13)) {
			hval(line, l, rec->ctype, sizeof rec->ctype);
		} else if (l > 15 && !strncasecmp(line, "Content-Length:", 15)) {
			char v[32];
			hval(line, l, v, sizeof v);
			if (parse_i64(v, &clen) || clen < 0) {
				err_set(e, "%s: bad Content-Length", where(r, idx));
				return -1;
			}
		}
		i += l + 1;
	}
	if (clen < 0) {
		err_set(e, "%s: no Content-Length", where(r, idx));
		return -1;
	}
	r->pos += hend;
	rec->len = (size_t)clen;
	if ((uint64_t)clen > r->max_block) {
		/* skip it in pieces, never holding it */
		uint64_t left = (uint64_t)clen;
		while (left) {
			if (fill(r, 1, e))
				return -1;
			size_t avail = r->win.len - r->pos;
			if (!avail) {
				err_set(e, "%s: truncated block", where(r, idx));
				return -1;
			}
			size_t take = avail < left ? avail : (size_t)left;
			r->pos += take;
			left -= take;
		}
		rec->block = NULL;
		return 1;
	}
	if (fill(r, (size_t)clen, e))
		return -1;
	if (r->win.len - r->pos < (size_t)clen) {
		err_set(e, "%s: truncated block (%zu of %lld bytes)", where(r, idx),
			r->win.len - r->pos, (long long)clen);
		return -1;
	}
	buf_reset(&r->block);
	buf_add(&r->block, r->win.p + r->pos, (size_t)clen);
	buf_cstr(&r->block);
	r->pos += (size_t)clen;
	rec->block = r->block.p ? r->block.p : (const uint8_t *)"";
	return 1;
}

int warc_sniff(const uint8_t *p, size_t n)
{
	if (n >= 5 && !memcmp(p, "WARC/", 5))
		return 1;
	if (n < 18 || p[0] != 0x1f || p[1] != 0x8b)
		return 0;
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return 0;
	uint8_t out[8];
	z.next_in = (uint8_t *)p;
	z.avail_in = (uInt)(n > 65536 ? 65536 : n);
	z.next_out = out;
	z.avail_out = sizeof out;
	inflate(&z, Z_NO_FLUSH);
	size_t got = sizeof out - z.avail_out;
	inflateEnd(&z);
	return got >= 5 && !memcmp(out, "WARC/", 5);
}

/* ---- archived HTTP responses ---- */

static int inflate_all(const uint8_t *p, size_t n, int wbits, size_t max, struct buf *out)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, wbits) != Z_OK)
		return -1;
	z.next_in = (uint8_t *)p;
	z.avail_in = (uInt)n;
	int rc;
	do {
		if (out->len >= max) {
			inflateEnd(&z);
			return -2;
		}
		uint8_t *dst = buf_grow(out, 65536);
		z.next_out = dst;
		z.avail_out = 65536;
		rc = inflate(&z, Z_NO_FLUSH);
		out->len += 65536 - z.avail_out;
	} while (rc == Z_OK);
	inflateEnd(&z);
	return rc == Z_STREAM_END || rc == Z_BUF_ERROR ? 0 : -1;
}

int warc_http_body(const uint8_t *p, size_t n, size_t max_body, struct warc_http *h, struct pea_err *e)
{
	h->status = 0;
	h->ctype[0] = 0;
	buf_reset(&h->body);
	if (n < 12 || memcmp(p, "HTTP/", 5)) {
		err_set(e, "not an HTTP response");
		return -1;
	}
	const uint8_t *sp = memchr(p, ' ', n < 32 ? n : 32);
	if (!sp || sp + 4 > p + n || !isdigit(sp[1]) || !isdigit(sp[2]) || !isdigit(sp[3])) {
		err_set(e, "bad HTTP status line");
		return -1;
	}
	h->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
	size_t i = 0, body = n;
	int chunked = 0, gz = 0, deflate = 0;
	while (i < n) {
		size_t l = 0;
		while (i + l < n && p[i + l] != '\n')
			l++;
		const char *line = (const char *)p + i;
		size_t ll = l && line[l - 1] == '\r' ? l - 1 : l;
		if (i && ll == 0) {
			body = i + l + 1;
			break;
		}
		char v[256];
		if (ll > 13 && !strncasecmp(line, "Content-Type:", 13)) {
			hval(line, ll, h->ctype, sizeof h->ctype);
		} else if (ll > 18 && !strncasecmp(line, "Transfer-Encoding:", 18)) {
			hval(line, ll, v, sizeof v);
			chunked = strstr(v, "chunked") || strstr(v, "CHUNKED");
		} else if (ll > 17 && !strncasecmp(line, "Content-Encoding:", 17)) {
			hval(line, ll, v, sizeof v);
			gz = !strcasecmp(v, "gzip") || !strcasecmp(v, "x-gzip");
			deflate = !strcasecmp(v, "deflate");
		}
		i += l + 1;
	}
	if (body > n)
		body = n;
	struct buf raw = BUF_INIT;
	const uint8_t *b = p + body;
	size_t bl = n - body;
	if (chunked) {
		size_t k = 0;
		while (k < bl) {
			size_t l = 0;
			while (k + l < bl && b[k + l] != '\n')
				l++;
			char tmp[32];
			snprintf(tmp, sizeof tmp, "%.*s", (int)(l < 31 ? l : 31), (const char *)b + k);
			char *end;
			unsigned long long sz = strtoull(tmp, &end, 16);
			if (end == tmp || k + l >= bl) /* no chunk follows */
				break;
			k += l + 1;
			if (!sz)
				break;
			if (sz > bl - k)
				sz = bl - k; /* truncated archive: keep what is there */
			buf_add(&raw, b + k, (size_t)sz);
			k += (size_t)sz;
			while (k < bl && (b[k] == '\r' || b[k] == '\n'))
				k++;
		}
		b = raw.p ? raw.p : (const uint8_t *)"";
		bl = raw.len;
	}
	int rc = 0;
	if (gz || deflate) {
		rc = inflate_all(b, bl, gz ? 15 + 16 : (bl && (b[0] & 0x0f) == 8 ? 15 : -15), max_body, &h->body);
		if (rc == -2)
			err_set(e, "body larger than %zu bytes", max_body);
		else if (rc)
			err_set(e, "corrupt %s body", gz ? "gzip" : "deflate");
	} else if (bl > max_body) {
		err_set(e, "body larger than %zu bytes", max_body);
		rc = -1;
	} else {
		buf_add(&h->body, b, bl);
	}
	buf_release(&raw);
	buf_cstr(&h->body);
	return rc ? -1 : 0;
}

/* ---- writing ---- */

struct warc_writer {
	struct afile f;
	int gz;
	struct buf rec, z;
	char info_id[64];
};

static void new_id(char *dst, size_t n)
{
	uint8_t r[16];
	randombytes_buf(r, sizeof r);
	r[6] = (uint8_t)((r[6] & 0x0f) | 0x40); /* UUID version 4 */
	r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
	snprintf(dst, n,
		 "<urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x>",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
		 r[14], r[15]);
}

static void iso_date(double when, char *dst, size_t n)
{
	time_t t = (time_t)when;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(dst, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* one record: header then block, as its own gzip member when gz */
static void emit(warc_writer *w, const char *head, const uint8_t *b1, size_t n1, const uint8_t *b2,
		 size_t n2)
{
	buf_reset(&w->rec);
	buf_adds(&w->rec, head);
	buf_addf(&w->rec, "Content-Length: %zu\r\n\r\n", n1 + n2);
	buf_add(&w->rec, b1, n1);
	buf_add(&w->rec, b2, n2);
	buf_adds(&w->rec, "\r\n\r\n");
	if (!w->gz) {
		afile_write(&w->f, w->rec.p, w->rec.len);
		return;
	}
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		die("zlib: cannot initialise");
	buf_reset(&w->z);
	size_t bound = deflateBound(&z, (uLong)w->rec.len);
	uint8_t *dst = buf_grow(&w->z, bound);
	z.next_in = w->rec.p;
	z.avail_in = (uInt)w->rec.len;
	z.next_out = dst;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		die("zlib: cannot compress a WARC record");
	w->z.len += bound - z.avail_out;
	deflateEnd(&z);
	afile_write(&w->f, w->z.p, w->z.len);
}

warc_writer *warc_create(const char *path)
{
	if (sodium_init() < 0)
		die("libsodium: cannot initialise");
	warc_writer *w = xcalloc(1, sizeof *w);
	afile_open(&w->f, path, 0644);
	size_t l = strlen(path);
	w->gz = l > 3 && !strcmp(path + l - 3, ".gz");
	buf_init(&w->rec, 0);
	buf_init(&w->z, 0);
	char date[32], head[512], info[256];
	iso_date((double)time(NULL), date, sizeof date);
	new_id(w->info_id, sizeof w->info_id);
	const char *base = strrchr(path, '/');
	snprintf(head, sizeof head,
		 "WARC/1.1\r\nWARC-Type: warcinfo\r\nWARC-Date: %s\r\nWARC-Filename: %s\r\n"
		 "WARC-Record-ID: %s\r\nContent-Type: application/warc-fields\r\n",
		 date, base ? base + 1 : path, w->info_id);
	int n = snprintf(info, sizeof info, "software: pea-scrape/%s\r\nformat: WARC File Format 1.1\r\n",
			 PEA_VERSION_STR);
	emit(w, head, (const uint8_t *)info, (size_t)n, NULL, 0);
	return w;
}

void warc_write_exchange(warc_writer *w, const char *url, const char *ip, double when,
			 const char *req, const char *resp, const uint8_t *body, size_t len)
{
	char date[32], rid[64], qid[64], ipl[96] = "";
	iso_date(when, date, sizeof date);
	new_id(rid, sizeof rid);
	new_id(qid, sizeof qid);
	if (ip && *ip)
		snprintf(ipl, sizeof ipl, "WARC-IP-Address: %s\r\n", ip);
	struct buf head = BUF_INIT, hdrs = BUF_INIT;
	if (req && *req) {
		buf_addf(&head,
			 "WARC/1.1\r\nWARC-Type: request\r\nWARC-Target-URI: %s\r\nWARC-Date: %s\r\n"
			 "WARC-Record-ID: %s\r\nWARC-Concurrent-To: %s\r\nWARC-Warcinfo-ID: %s\r\n%s"
			 "Content-Type: application/http;msgtype=request\r\n",
			 url, date, qid, rid, w->info_id, ipl);
		emit(w, buf_cstr(&head), (const uint8_t *)req, strlen(req), NULL, 0);
	}
	/* the headers, minus those the decoded body no longer matches */
	const char *p = resp ? resp : "";
	while (*p) {
		size_t l = strcspn(p, "\n");
		int skip = !strncasecmp(p, "content-encoding:", 17) || !strncasecmp(p, "transfer-encoding:", 18) ||
			   !strncasecmp(p, "content-length:", 15);
		int blank = l == 0 || (l == 1 && p[0] == '\r');
		if (blank)
			break;
		if (!skip) {
			buf_add(&hdrs, p, l && p[l - 1] == '\r' ? l - 1 : l);
			buf_adds(&hdrs, "\r\n");
		}
		p += l + (p[l] == '\n');
	}
	if (!hdrs.len)
		buf_adds(&hdrs, "HTTP/1.1 200 OK\r\n");
	buf_addf(&hdrs, "Content-Length: %zu\r\n\r\n", len);
	buf_reset(&head);
	buf_addf(&head,
		 "WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: %s\r\nWARC-Date: %s\r\n"
		 "WARC-Record-ID: %s\r\nWARC-Warcinfo-ID: %s\r\n%s"
		 "Content-Type: application/http;msgtype=response\r\n",
		 url, date, rid, w->info_id, ipl);
	emit(w, buf_cstr(&head), hdrs.p, hdrs.len, body, len);
	buf_release(&head);
	buf_release(&hdrs);
}

void warc_close(warc_writer *w)
{
	if (!w)
		return;
	afile_commit(&w->f);
	buf_release(&w->rec);
	buf_release(&w->z);
	free(w);
}
