/* post.c - see post.h.  The record is built in one place so that a stream
 * and a feed followed side by side give records a model cannot tell apart
 * by their shape. */
#include "post.h"
#include "html.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void post_init(struct post *p)
{
	memset(p, 0, sizeof *p);
	p->time = POST_NO_TIME;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void post_reset(struct post *p)
{
	struct buf *b[] = {&p->id, &p->url, &p->author, &p->title, &p->content, &p->lang, &p->reshare};
	for (size_t i = 0; i < ARRAY_SIZE(b); i++)
		buf_reset(b[i]);
	strv_free(p->tags, p->ntags);
	strv_free(p->mentions, p->nmentions);
	p->tags = p->mentions = NULL;
	p->ntags = p->nmentions = 0;
	p->content_is_text = 0;
	p->time = POST_NO_TIME;
	p->rev = 0;
	p->updated = 0;
	p->deleted = 0;
}

void post_release(struct post *p)
{
	post_reset(p);
	struct buf *b[] = {&p->id, &p->url, &p->author, &p->title, &p->content, &p->lang, &p->reshare};
	for (size_t i = 0; i < ARRAY_SIZE(b); i++)
		buf_release(b[i]);
}

/* tags and mentions of one post: a hostile feed may list thousands */
#define POST_MAX_LIST 256

static void strv_add(char ***v, size_t *n, char *s)
{
	if (*n >= POST_MAX_LIST) {
		free(s);
		return;
	}
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s)) {
			free(s);
			return;
		}
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = s;
}

void post_tag(struct post *p, const char *s, size_t n)
{
	while (n && (*s == '#' || isspace((unsigned char)*s)))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (!n)
		return;
	char *t = xstrndup(s, n);
	for (char *c = t; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	strv_add(&p->tags, &p->ntags, t);
}

void post_mention(struct post *p, const char *s, size_t n)
{
	while (n && *s == '@')
		s++, n--;
	if (n)
		strv_add(&p->mentions, &p->nmentions, xstrndup(s, n));
}

/* a string field, repaired when it is not valid UTF-8 */
static void put(pea_fb *fb, const char *name, const void *s, size_t n, struct buf *tmp)
{
	if (!utf8_valid(s, n)) {
		buf_reset(tmp);
		utf8_repair(tmp, s, n);
		s = tmp->p;
		n = tmp->len;
	}
	fb_str(fb, fb_xfield(fb, name, PEA_STR), s, n);
}

static void list_item(pea_fb *fb, const char *pre, const char *s, struct buf *tmp)
{
	buf_reset(tmp);
	buf_adds(tmp, pre);
	size_t n = strlen(s);
	if (utf8_valid((const uint8_t *)s, n))
		buf_add(tmp, s, n);
	else
		utf8_repair(tmp, (const uint8_t *)s, n);
	fb_list_str(fb, (const char *)tmp->p, tmp->len);
}

/* collapse runs of blank space in a one-line text (titles) */
static void squeeze(struct buf *dst, const struct buf *src)
{
	int sp = 0;
	for (size_t i = 0; i < src->len; i++) {
		uint8_t c = src->p[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			sp = dst->len > 0;
			continue;
		}
		if (sp)
			buf_addc(dst, ' ');
		sp = 0;
		buf_addc(dst, c);
	}
}

/* Feeds put plain text where HTML may be: markup or an entity says HTML
 * (an HTML parser would drop a bare '&' of plain text) */
static int looks_html(const struct buf *b)
{
	const uint8_t *p = b->p, *e = p + b->len;
	if (memchr(p, '<', b->len))
		return 1;
	for (; (p = memchr(p, '&', (size_t)(e - p))); p++) {
		const uint8_t *q = p + 1;
		while (q < e && q - p < 12 && (isalnum(*q) || *q == '#'))
			q++;
		if (q > p + 1 && q < e && *q == ';')
			return 1;
	}
	return 0;
}

void post_record(pea_fb *fb, const struct post *p, const char *source)
{
	struct buf tmp = BUF_INIT;
	fb_begin(fb);
	put(fb, "id", p->id.p, p->id.len, &tmp);
	if (p->deleted) {
		fb_bool(fb, fb_xfield(fb, "deleted", PEA_BOOL), 1);
		/* an empty text lets the record pass every text filter */
		fb_str(fb, fb_xfield(fb, "text", PEA_STR), "", 0);
	} else {
		if (p->url.len)
			put(fb, "url", p->url.p, p->url.len, &tmp);
		if (p->author.len) {
			put(fb, "author", p->author.p, p->author.len, &tmp);
			put(fb, "user", p->author.p, p->author.len, &tmp);
		}
		if (p->time != POST_NO_TIME)
			fb_int(fb, fb_xfield(fb, "time", PEA_INT), p->time);
		if (p->rev)
			fb_int(fb, fb_xfield(fb, "rev", PEA_INT), p->rev);
		if (p->title.len) {
			struct buf t = BUF_INIT;
			squeeze(&t, &p->title);
			put(fb, "title", t.p, t.len, &tmp);
			buf_release(&t);
		}
		struct html_doc d;
		html_doc_init(&d);
		const struct buf *text = &p->content;
		if (!p->content_is_text && p->content.len && looks_html(&p->content)) {
			struct html_opts ho = {1, 0, "UTF-8", NULL, 0};
			struct pea_err e;
			if (!html_extract(p->content.p, p->content.len, &ho, &d, &e))
				text = &d.text;
		}
		put(fb, "text", text->p ? text->p : (const uint8_t *)"", text->len, &tmp);
		html_doc_release(&d);
		if (p->ntags) {
			fb_list_begin(fb, fb_xfield(fb, "tags", PEA_STRLIST), PEA_STRLIST);
			for (size_t i = 0; i < p->ntags; i++)
				list_item(fb, "", p->tags[i], &tmp);
			fb_list_end(fb);
		}
		if (p->lang.len)
			put(fb, "lang", p->lang.p, p->lang.len, &tmp);
		if (p->reshare.len)
			put(fb, "reshare", p->reshare.p, p->reshare.len, &tmp);
		/* a post by someone is an interaction record even when it names
		 * no item: an empty list says so (pea train --follow) */
		if (p->author.len || p->reshare.len || p->nmentions || p->ntags) {
			fb_list_begin(fb, fb_xfield(fb, "items", PEA_STRLIST), PEA_STRLIST);
			if (p->reshare.len)
				list_item(fb, "", buf_cstr((struct buf *)&p->reshare), &tmp);
			for (size_t i = 0; i < p->nmentions; i++)
				list_item(fb, "@", p->mentions[i], &tmp);
			for (size_t i = 0; i < p->ntags; i++)
				list_item(fb, "#", p->tags[i], &tmp);
			fb_list_end(fb);
		}
	}
	if (source)
		put(fb, "source", source, strlen(source), &tmp);
	fb_end(fb);
	buf_release(&tmp);
}

static int digits(const char **s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return -1;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

static int64_t rfc3339(const char *s, int *ms)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	memset(&tm, 0, sizeof tm);
	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' || digits(&s, 2, &d))
		return POST_NO_TIME;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi))
			return POST_NO_TIME;
		if (*s == ':') {
			s++;
			if (digits(&s, 2, &sec))
				return POST_NO_TIME;
			if (*s == '.' || *s == ',') {
				s++;
				int k = 0;
				while (isdigit((unsigned char)*s)) {
					if (k < 3)
						frac = frac * 10 + (*s - '0');
					k++;
					s++;
				}
				if (!k)
					return POST_NO_TIME;
				for (; k < 3; k++)
					frac *= 10;
			}
		}
	}
	int off = 0;
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s++ == '-' ? -1 : 1, oh, om = 0;
		if (digits(&s, 2, &oh))
			return POST_NO_TIME;
		if (*s == ':')
			s++;
		if (*s && digits(&s, 2, &om))
			return POST_NO_TIME;
		off = sign * (oh * 3600 + om * 60);
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return POST_NO_TIME;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if (ms)
		*ms = frac;
	return (int64_t)timegm(&tm) - off;
}

int64_t post_time(const char *s, int *ms)
{
	if (ms)
		*ms = 0;
	while (isspace((unsigned char)*s))
		s++;
	char tmp[128];
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (!n || n >= sizeof tmp)
		return POST_NO_TIME;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	int64_t t = rfc3339(tmp, ms);
	if (t != POST_NO_TIME)
		return t;
	time_t c = curl_getdate(tmp, NULL);
	return c == -1 ? POST_NO_TIME : (int64_t)c;
}
