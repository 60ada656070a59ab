/* mail.c - see mail.h.  A MIME entity is parsed in place (headers are
 * unfolded into a small table, bodies are spans of the input), so only the
 * decoded text is ever copied; multipart bodies recurse with a depth and a
 * part budget so hostile nesting cannot exhaust the stack or the time. */
#include "mail.h"
#include "charset.h"
#include "html.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

struct hdrs {
	char ctype[128], charset[40], boundary[256], cte[40], disp[40];
	int has_name;
};

struct walk {
	struct mail_msg *m;
	int budget;
};

void mail_init(struct mail_msg *m)
{
	memset(m, 0, sizeof *m);
}

void mail_release(struct mail_msg *m)
{
	buf_release(&m->subject);
	buf_release(&m->from);
	buf_release(&m->date);
	buf_release(&m->text);
	buf_release(&m->headers);
}

static int hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void qp_decode(const uint8_t *p, size_t n, struct buf *out, int header)
{
	for (size_t i = 0; i < n; i++) {
		if (header && p[i] == '_') {
			buf_addc(out, ' ');
		} else if (p[i] == '=' && i + 2 < n + 0 && hexv(p[i + 1]) >= 0 && hexv(p[i + 2]) >= 0) {
			buf_addc(out, (uint8_t)(hexv(p[i + 1]) * 16 + hexv(p[i + 2])));
			i += 2;
		} else if (p[i] == '=' && i + 1 < n && (p[i + 1] == '\n' || p[i + 1] == '\r')) {
			i++; /* soft line break */
			if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
				i++;
		} else if (p[i] == '=' && i + 1 == n) {
			/* a soft break at the very end */
		} else {
			buf_addc(out, p[i]);
		}
	}
}

static void b64_decode(const uint8_t *p, size_t n, struct buf *out)
{
	/* keep the alphabet only: mail wraps lines and sometimes pads badly */
	char *clean = xmalloc(n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (isalnum(p[i]) || p[i] == '+' || p[i] == '/')
			clean[k++] = (char)p[i];
	if (k % 4 == 1)
		k--;
	size_t cap = k / 4 * 3 + 3, got = 0;
	uint8_t *dst = buf_grow(out, cap);
	if (sodium_base642bin(dst, cap, clean, k, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) == 0)
		out->len += got;
	free(clean);
}

/* the value of header `name` in [p, p+n): unfolded into dst */
static int header_get(const uint8_t *p, size_t n, const char *name, struct buf *dst)
{
	size_t nl = strlen(name);
	size_t i = 0;
	while (i < n) {
		size_t e = i;
		while (e < n && p[e] != '\n')
			e++;
		if (e - i >= nl + 1 && !strncasecmp((const char *)p + i, name, nl) && p[i + nl] == ':') {
			size_t v = i + nl + 1;
			for (;;) {
				buf_add(dst, p + v, e - v);
				if (e + 1 < n && (p[e + 1] == ' ' || p[e + 1] == '\t')) {
					v = e + 1;
					e = v;
					while (e < n && p[e] != '\n')
						e++;
					continue;
				}
				break;
			}
			for (size_t k = 0; k < dst->len; k++)
				if (dst->p[k] == '\r' || dst->p[k] == '\n')
					dst->p[k] = ' ';
			return 1;
		}
		i = e + 1;
	}
	return 0;
}

/* a parameter of a structured header value ("boundary", "charset") */
static void param(const char *v, const char *name, char *dst, size_t dn)
{
	size_t nl = strlen(name);
	dst[0] = 0;
	for (const char *p = v; (p = strchr(p, ';'));) {
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (strncasecmp(p, name, nl) || (p[nl] != '=' && p[nl] != '*'))
			continue;
		p += nl;
		if (*p == '*') /* RFC 2231 continuation or charset'lang'value */
			while (*p && *p != '=')
				p++;
		if (*p != '=')
			continue;
		p++;
		while (isspace((unsigned char)*p))
			p++;
		size_t l;
		if (*p == '"') {
			p++;
			l = strcspn(p, "\"");
		} else {
			l = strcspn(p, "; \t");
		}
		if (l >= dn)
			l = dn - 1;
		memcpy(dst, p, l);
		dst[l] = 0;
		return;
	}
}

static void first_word(const char *v, char *dst, size_t dn)
{
	while (isspace((unsigned char)*v))
		v++;
	size_t l = strcspn(v, "; \t");
	if (l >= dn)
		l = dn - 1;
	for (size_t i = 0; i < l; i++)
		dst[i] = (char)tolower((unsigned char)v[i]);
	dst[l] = 0;
}

static void parse_hdrs(const uint8_t *p, size_t n, struct hdrs *h)
{
	memset(h, 0, sizeof *h);
	struct buf v = BUF_INIT;
	if (header_get(p, n, "content-type", &v)) {
		const char *s = buf_cstr(&v);
		first_word(s, h->ctype, sizeof h->ctype);
		param(s, "charset", h->charset, sizeof h->charset);
		param(s, "boundary", h->boundary, sizeof h->boundary);
		char nm[8];
		param(s, "name", nm, sizeof nm);
		h->has_name = nm[0] != 0;
	}
	buf_reset(&v);
	if (header_get(p, n, "content-transfer-encoding", &v))
		first_word(buf_cstr(&v), h->cte, sizeof h->cte);
	buf_reset(&v);
	if (header_get(p, n, "content-disposition", &v)) {
		const char *s = buf_cstr(&v);
		first_word(s, h->disp, sizeof h->disp);
		char nm[8];
		param(s, "filename", nm, sizeof nm);
		h->has_name |= nm[0] != 0;
	}
	buf_release(&v);
	if (!h->ctype[0])
		snprintf(h->ctype, sizeof h->ctype, "text/plain");
}

/* RFC 2047 encoded words to UTF-8; other bytes as UTF-8 or windows-1252 */
static void decode_header(const char *s, size_t n, struct buf *out, long *bad)
{
	struct buf raw = BUF_INIT, tmp = BUF_INIT;
	size_t i = 0;
	int last_encoded = 0;
	size_t pending_ws = 0;
	while (i < n) {
		if (s[i] == '=' && i + 1 < n && s[i + 1] == '?') {
			const char *cs = s + i + 2, *end = s + n;
			const char *q1 = memchr(cs, '?', (size_t)(end - cs));
			if (q1 && q1 + 2 < end && q1[2] == '?') {
				const char *txt = q1 + 3;
				const char *fin = txt;
				while (fin + 1 < end && !(fin[0] == '?' && fin[1] == '='))
					fin++;
				if (fin + 1 < end) {
					char csn[40];
					size_t cl = (size_t)(q1 - cs);
					const char *star = memchr(cs, '*', cl); /* RFC 2231 language */
					if (star)
						cl = (size_t)(star - cs);
					snprintf(csn, sizeof csn, "%.*s", (int)(cl < 39 ? cl : 39), cs);
					int enc = tolower((unsigned char)q1[1]);
					buf_reset(&tmp);
					if (enc == 'b')
						b64_decode((const uint8_t *)txt, (size_t)(fin - txt), &tmp);
					else
						qp_decode((const uint8_t *)txt, (size_t)(fin - txt), &tmp, 1);
					if (!last_encoded && pending_ws) /* whitespace between words stays */
						buf_add(&raw, s + i - pending_ws, pending_ws);
					/* flush raw text as UTF-8-or-1252, then the decoded word */
					long b = cs_to_utf8(NULL, raw.p ? raw.p : (const uint8_t *)"", raw.len, out);
					*bad += b > 0 ? b : 0;
					buf_reset(&raw);
					b = cs_to_utf8(csn, tmp.p ? tmp.p : (const uint8_t *)"", tmp.len, out);
					*bad += b > 0 ? b : 0;
					i = (size_t)(fin + 2 - s);
					last_encoded = 1;
					pending_ws = 0;
					continue;
				}
			}
		}
		if (s[i] == ' ' || s[i] == '\t') {
			pending_ws++;
			i++;
			continue;
		}
		if (pending_ws)
			buf_add(&raw, s + i - pending_ws, pending_ws);
		pending_ws = 0;
		last_encoded = 0;
		buf_addc(&raw, (uint8_t)s[i++]);
	}
	long b = cs_to_utf8(NULL, raw.p ? raw.p : (const uint8_t *)"", raw.len, out);
	*bad += b > 0 ? b : 0;
	buf_release(&raw);
	buf_release(&tmp);
}

/* split an entity into headers and body (a blank line, CRLF or LF) */
static void split_entity(const uint8_t *p, size_t n, size_t *hlen, size_t *body)
{
	if (n && (p[0] == '\n' || (p[0] == '\r' && n > 1 && p[1] == '\n'))) {
		*hlen = 0;
		*body = p[0] == '\n' ? 1 : 2;
		return;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n') {
			*hlen = i + 1;
			*body = i + 2;
			return;
		}
		if (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n') {
			*hlen = i + 1;
			*body = i + 3;
			return;
		}
	}
	*hlen = n;
	*body = n;
}

static void add_text(struct walk *w, const char *charset, const uint8_t *p, size_t n, int html)
{
	struct mail_msg *m = w->m;
	if (m->text.len)
		buf_adds(&m->text, "\n\n");
	const char *cs = charset && *charset && strcasecmp(charset, "us-ascii") ? charset : NULL;
	if (html) {
		struct html_opts ho = {1, 0, cs, NULL, 0};
		struct html_doc d;
		struct pea_err e;
		html_doc_init(&d);
		if (html_extract(p, n, &ho, &d, &e) == 0) {
			buf_add(&m->text, d.text.p ? d.text.p : (const uint8_t *)"", d.text.len);
			m->bad_chars += d.bad_chars;
		}
		html_doc_release(&d);
		return;
	}
	long b = cs_to_utf8(cs, p, n, &m->text);
	m->bad_chars += b > 0 ? b : 0;
	while (m->text.len && isspace(m->text.p[m->text.len - 1]))
		m->text.len--;
}

static int entity(struct walk *w, const uint8_t *p, size_t n, int depth);

/* a span [a, b) of body between boundary lines */
static int multipart(struct walk *w, const struct hdrs *h, const uint8_t *p, size_t n, int depth)
{
	size_t bl = strlen(h->boundary);
	/* on the heap: MAIL_MAX_DEPTH levels of this would be a large stack */
	const uint8_t **parts = xmalloc(MAIL_MAX_PARTS * sizeof *parts);
	size_t *lens = xmalloc(MAIL_MAX_PARTS * sizeof *lens);
	int np = 0, r = 1;
	const uint8_t *cur = NULL;
	size_t i = 0;
	while (i < n) {
		size_t e = i;
		while (e < n && p[e] != '\n')
			e++;
		if (e - i >= bl + 2 && p[i] == '-' && p[i + 1] == '-' && !memcmp(p + i + 2, h->boundary, bl)) {
			int closing = e - i >= bl + 4 && p[i + bl + 2] == '-' && p[i + bl + 3] == '-';
			if (cur && np < MAIL_MAX_PARTS) {
				size_t l = (size_t)(p + i - cur);
				/* the line break before a boundary belongs to it */
				if (l && cur[l - 1] == '\n')
					l--;
				if (l && cur[l - 1] == '\r')
					l--;
				parts[np] = cur;
				lens[np++] = l;
			}
			cur = closing ? NULL : p + (e < n ? e + 1 : e);
			if (closing)
				break;
		}
		i = e + 1;
	}
	if (cur && np < MAIL_MAX_PARTS) { /* unterminated: take what is there */
		parts[np] = cur;
		lens[np++] = (size_t)(p + n - cur);
	}
	if (!np)
		r = 0;
	else if (!strcmp(h->ctype, "multipart/alternative")) {
		/* prefer the plain rendering, then html, then anything with text */
		for (int pass = 0; pass < 2; pass++)
			for (int k = 0; k < np; k++) {
				size_t hl, bo;
				split_entity(parts[k], lens[k], &hl, &bo);
				struct hdrs ph;
				parse_hdrs(parts[k], hl, &ph);
				int plain = !strcmp(ph.ctype, "text/plain");
				int html = !strcmp(ph.ctype, "text/html");
				if ((pass == 0 && plain) || (pass == 1 && (html || !strncmp(ph.ctype, "multipart/", 10)))) {
					entity(w, parts[k], lens[k], depth + 1);
					goto out;
				}
			}
	} else {
		for (int k = 0; k < np; k++)
			entity(w, parts[k], lens[k], depth + 1);
	}
out:
	free(parts);
	free(lens);
	return r;
}

static int entity(struct walk *w, const uint8_t *p, size_t n, int depth)
{
	if (depth > MAIL_MAX_DEPTH || w->budget-- <= 0)
		return 0;
	w->m->parts++;
	size_t hl, bo;
	split_entity(p, n, &hl, &bo);
	struct hdrs h;
	parse_hdrs(p, hl, &h);
	const uint8_t *body = p + bo;
	size_t blen = n - bo;
	int attach = !strcmp(h.disp, "attachment") || (h.has_name && strncmp(h.ctype, "text/", 5));
	if (!strncmp(h.ctype, "multipart/", 10) && h.boundary[0] && !attach)
		return multipart(w, &h, body, blen, depth);
	if (!strcmp(h.ctype, "message/rfc822") && !attach)
		return entity(w, body, blen, depth + 1);
	int plain = !strcmp(h.ctype, "text/plain") || !strncmp(h.ctype, "multipart/", 10);
	int html = !strcmp(h.ctype, "text/html");
	if (attach || (!plain && !html)) {
		w->m->attachments++;
		return 0;
	}
	struct buf dec = BUF_INIT;
	if (!strcmp(h.cte, "quoted-printable"))
		qp_decode(body, blen, &dec, 0);
	else if (!strcmp(h.cte, "base64"))
		b64_decode(body, blen, &dec);
	else
		buf_add(&dec, body, blen);
	add_text(w, h.charset, dec.p ? dec.p : (const uint8_t *)"", dec.len, html);
	buf_release(&dec);
	return 1;
}

/* Every header field as "Name: value" on a line of its own: folded lines
 * joined, encoded words decoded, the whole valid UTF-8. */
static void all_headers(const uint8_t *p, size_t n, struct mail_msg *m)
{
	size_t i = 0;
	struct buf field = BUF_INIT;
	while (i < n) {
		size_t e = i;
		while (e < n && p[e] != '\n')
			e++;
		buf_reset(&field);
		buf_add(&field, p + i, e - i);
		/* continuation lines start with blank space */
		while (e + 1 < n && (p[e + 1] == ' ' || p[e + 1] == '\t')) {
			size_t c = e + 1;
			e = c;
			while (e < n && p[e] != '\n')
				e++;
			buf_add(&field, p + c, e - c);
		}
		for (size_t k = 0; k < field.len; k++)
			if (field.p[k] == '\r' || field.p[k] == '\t')
				field.p[k] = ' ';
		if (field.len) {
			decode_header((const char *)field.p, field.len, &m->headers, &m->bad_chars);
			buf_addc(&m->headers, '\n');
		}
		i = e + 1;
	}
	buf_release(&field);
}

void mail_parse(const uint8_t *p, size_t n, struct mail_msg *m)
{
	buf_reset(&m->subject);
	buf_reset(&m->from);
	buf_reset(&m->date);
	buf_reset(&m->text);
	buf_reset(&m->headers);
	m->attachments = m->parts = 0;
	m->bad_chars = 0;
	size_t hl, bo;
	split_entity(p, n, &hl, &bo);
	struct buf v = BUF_INIT;
	static const char *const names[] = {"subject", "from", "date"};
	struct buf *dst[] = {&m->subject, &m->from, &m->date};
	for (int i = 0; i < 3; i++) {
		buf_reset(&v);
		if (header_get(p, hl, names[i], &v)) {
			const char *s = buf_cstr(&v);
			while (*s == ' ' || *s == '\t')
				s++;
			decode_header(s, strlen(s), dst[i], &m->bad_chars);
			while (dst[i]->len && isspace(dst[i]->p[dst[i]->len - 1]))
				dst[i]->len--;
		}
	}
	buf_release(&v);
	all_headers(p, hl, m);
	struct walk w = {m, MAIL_MAX_PARTS};
	entity(&w, p, n, 0);
}

static const char *const mail_headers[] = {
	"from", "to", "subject", "date", "received", "return-path", "message-id",
	"mime-version", "delivered-to", "reply-to", "x-", "content-type", "sender", "cc",
	"in-reply-to", "references", "x-original-to", "envelope-to", "list-", "dkim-signature",
	"authentication-results", "arc-", "thread-", "user-agent", "organization",
};

int mail_sniff(const uint8_t *p, size_t n)
{
	/* the first lines must all be header fields, and one of them a known one */
	int known = 0, lines = 0;
	size_t lim = n < 4096 ? n : 4096, i = 0;
	while (i < lim && lines < 8) {
		size_t e = i;
		while (e < lim && p[e] != '\n')
			e++;
		if (e == i || (e == i + 1 && p[i] == '\r'))
			break; /* end of the headers */
		if (p[i] == ' ' || p[i] == '\t') {
			if (!lines)
				return 0;
		} else {
			size_t k = i;
			while (k < e && p[k] > 32 && p[k] < 127 && p[k] != ':')
				k++;
			if (k == i || k >= e || p[k] != ':')
				return 0;
			for (size_t h = 0; h < ARRAY_SIZE(mail_headers); h++) {
				size_t l = strlen(mail_headers[h]);
				if (k - i >= l && !strncasecmp((const char *)p + i, mail_headers[h], l) &&
				    (mail_headers[h][l - 1] == '-' || k - i == l))
					known = 1;
			}
			lines++;
		}
		if (e >= lim)
			break;
		i = e + 1;
	}
	return lines > 0 && known;
}

int mbox_sniff(const uint8_t *p, size_t n)
{
	if (n < 6 || memcmp(p, "From ", 5))
		return 0;
	const uint8_t *nl = memchr(p, '\n', n < 1024 ? n : 1024);
	return nl && mail_sniff(nl + 1, n - (size_t)(nl + 1 - p));
}

int mbox_next(const uint8_t *p, size_t n, size_t *off, const uint8_t **msg, size_t *len)
{
	size_t i = *off;
	if (i >= n)
		return 0;
	if (n - i >= 5 && !memcmp(p + i, "From ", 5)) {
		while (i < n && p[i] != '\n')
			i++;
		i++;
	}
	if (i > n)
		i = n;
	size_t start = i;
	size_t e = i;
	for (;;) {
		const uint8_t *nl = memchr(p + e, '\n', n - e);
		if (!nl) {
			e = n;
			break;
		}
		e = (size_t)(nl - p) + 1;
		if (n - e >= 5 && !memcmp(p + e, "From ", 5))
			break;
	}
	*msg = p + start;
	*len = e - start;
	*off = e;
	return 1;
}
