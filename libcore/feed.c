/* feed.c - see feed.h.  Elements are matched by local name, and by
 * namespace where two vocabularies share a name (content:encoded,
 * dc:creator), because real feeds mix prefixes freely.  Items come out
 * oldest first: sorted by time when every item has one, else in the
 * reverse of document order (feeds list the newest first). */
#include "feed.h"
#include "charset.h"
#include "hash.h"
#include "html.h"
#include "url.h"

#include <libxml/HTMLparser.h>
#include <libxml/entities.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <string.h>

#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_DC "http://purl.org/dc/elements/1.1/"
#define FEED_MAX_ITEMS 100000

void feed_init(struct feed *f)
{
	memset(f, 0, sizeof *f);
	f->ttl = -1;
}

void feed_release(struct feed *f)
{
	for (size_t i = 0; i < f->n; i++)
		post_release(&f->items[i]);
	free(f->items);
	buf_release(&f->title);
	buf_release(&f->lang);
	feed_init(f);
}

static int is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static int in_ns(const xmlNode *n, const char *ns)
{
	return n->ns && n->ns->href && !strcmp((const char *)n->ns->href, ns);
}

static void text_of(const xmlNode *n, struct buf *dst)
{
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			if (c->content)
				buf_adds(dst, (const char *)c->content);
		} else if (c->type == XML_ELEMENT_NODE) {
			text_of(c, dst);
		} else if (c->type == XML_ENTITY_REF_NODE && c->children &&
			   c->children->type == XML_ENTITY_DECL) {
			/* in recovery, libxml2 may keep even &amp; as a reference;
			 * only internal entities have content (nothing is loaded) */
			const xmlEntity *ent = (const xmlEntity *)c->children;
			if (ent->content && (ent->etype == XML_INTERNAL_PREDEFINED_ENTITY ||
					     ent->etype == XML_INTERNAL_GENERAL_ENTITY))
				buf_adds(dst, (const char *)ent->content);
		}
	}
}

static void trimmed(const xmlNode *n, struct buf *dst)
{
	struct buf t = BUF_INIT;
	text_of(n, &t);
	size_t a = 0, b = t.len;
	while (a < b && (t.p[a] == ' ' || t.p[a] == '\t' || t.p[a] == '\n' || t.p[a] == '\r'))
		a++;
	while (b > a && (t.p[b - 1] == ' ' || t.p[b - 1] == '\t' || t.p[b - 1] == '\n' || t.p[b - 1] == '\r'))
		b--;
	buf_reset(dst);
	buf_add(dst, t.p ? t.p + a : (const uint8_t *)"", b - a);
	buf_release(&t);
}

/* the markup of an element's children, for Atom type="xhtml" content */
static void inner_xml(xmlNode *n, struct buf *dst)
{
	xmlBufferPtr xb = xmlBufferCreate();
	for (xmlNode *c = n->children; c; c = c->next)
		xmlNodeDump(xb, n->doc, c, 0, 0);
	buf_add(dst, xmlBufferContent(xb), (size_t)xmlBufferLength(xb));
	xmlBufferFree(xb);
}

static const char *attr(xmlNode *n, const char *name, struct buf *tmp)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	buf_reset(tmp);
	if (!v)
		return NULL;
	buf_adds(tmp, (const char *)v);
	xmlFree(v);
	return buf_cstr(tmp);
}

static void set_time(struct post *p, const xmlNode *n)
{
	struct buf t = BUF_INIT;
	trimmed(n, &t);
	int64_t v = post_time(buf_cstr(&t), NULL);
	if (v != POST_NO_TIME)
		p->time = v;
	buf_release(&t);
}

static void set_link(struct post *p, const char *href, const char *base)
{
	char *u = url_resolve(base, href);
	buf_reset(&p->url);
	if (u)
		buf_adds(&p->url, u);
	free(u);
}

/* one RSS 2.0 or RSS 1.0 item */
static void rss_item(xmlNode *item, struct post *p, const char *base, struct buf *guid)
{
	struct buf tmp = BUF_INIT, content = BUF_INIT;
	const char *about = attr(item, "about", &tmp);
	if (about)
		buf_adds(guid, about);
	for (xmlNode *c = item->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is(c, "title")) {
			trimmed(c, &p->title);
		} else if (is(c, "link")) {
			trimmed(c, &tmp);
			set_link(p, buf_cstr(&tmp), base);
		} else if (is(c, "guid")) {
			trimmed(c, guid);
		} else if (is(c, "description") && !content.len) {
			trimmed(c, &p->content);
		} else if (is(c, "encoded") && in_ns(c, NS_CONTENT)) {
			trimmed(c, &content);
		} else if (is(c, "pubDate") || (is(c, "date") && in_ns(c, NS_DC))) {
			set_time(p, c);
		} else if ((is(c, "creator") && in_ns(c, NS_DC)) || (is(c, "author") && !p->author.len)) {
			trimmed(c, &p->author);
		} else if (is(c, "category") || (is(c, "subject") && in_ns(c, NS_DC))) {
			trimmed(c, &tmp);
			post_tag(p, (const char *)tmp.p, tmp.len);
		} else if (is(c, "language") && in_ns(c, NS_DC)) {
			trimmed(c, &p->lang);
		}
	}
	if (content.len) { /* the full text beats the summary */
		buf_reset(&p->content);
		buf_add(&p->content, content.p, content.len);
	}
	buf_release(&tmp);
	buf_release(&content);
}

static void atom_entry(xmlNode *entry, struct post *p, const char *base, struct buf *guid,
		       const struct buf *feed_author)
{
	struct buf tmp = BUF_INIT, summary = BUF_INIT;
	int have_content = 0, summary_text = 0, have_alt = 0, have_published = 0;
	for (xmlNode *c = entry->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is(c, "id")) {
			trimmed(c, guid);
		} else if (is(c, "title")) {
			trimmed(c, &p->title);
		} else if (is(c, "link")) {
			struct buf rel = BUF_INIT;
			const char *r = attr(c, "rel", &rel);
			if (!r || !strcmp(r, "alternate") || (!have_alt && !p->url.len)) {
				const char *href = attr(c, "href", &tmp);
				if (href && (!r || !strcmp(r, "alternate"))) {
					set_link(p, href, base);
					have_alt = 1;
				}
			}
			buf_release(&rel);
		} else if (is(c, "updated")) {
			struct buf t = BUF_INIT;
			int ms;
			trimmed(c, &t);
			int64_t v = post_time(buf_cstr(&t), &ms);
			buf_release(&t);
			if (v != POST_NO_TIME) {
				p->updated = v * 1000 + ms;
				if (!have_published)
					p->time = v;
			}
		} else if (is(c, "published")) {
			set_time(p, c);
			have_published = p->time != POST_NO_TIME;
		} else if (is(c, "author")) {
			for (xmlNode *a = c->children; a; a = a->next)
				if (is(a, "name"))
					trimmed(a, &p->author);
		} else if (is(c, "category")) {
			const char *t = attr(c, "term", &tmp);
			if (t)
				post_tag(p, t, strlen(t));
		} else if (is(c, "content") || (is(c, "summary") && !have_content)) {
			struct buf *dst = is(c, "content") ? &p->content : &summary;
			const char *type = attr(c, "type", &tmp);
			buf_reset(dst);
			if (type && !strcmp(type, "xhtml"))
				inner_xml(c, dst);
			else
				trimmed(c, dst);
			int plain = !type || !strcmp(type, "text");
			if (is(c, "content")) {
				have_content = 1;
				p->content_is_text = plain;
			} else {
				summary_text = plain;
			}
		}
	}
	if (!have_content && summary.len) {
		buf_add(&p->content, summary.p, summary.len);
		p->content_is_text = summary_text;
	}
	if (!p->author.len && feed_author->len)
		buf_add(&p->author, feed_author->p, feed_author->len);
	xmlChar *lang = xmlNodeGetLang(entry);
	if (lang) {
		buf_adds(&p->lang, (const char *)lang);
		xmlFree(lang);
	}
	buf_release(&tmp);
	buf_release(&summary);
}

static struct post *new_item(struct feed *f, size_t *cap)
{
	if (f->n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		f->items = xrealloc(f->items, *cap * sizeof *f->items);
	}
	struct post *p = &f->items[f->n++];
	post_init(p);
	return p;
}

/* the id a follower dedupes on */
static void item_id(struct post *p, struct buf *guid)
{
	buf_reset(&p->id);
	if (guid->len) {
		buf_add(&p->id, guid->p, guid->len);
	} else if (p->url.len) {
		buf_add(&p->id, p->url.p, p->url.len);
	} else {
		uint64_t h = hash_bytes(p->title.p ? p->title.p : (const uint8_t *)"", p->title.len, 0);
		h = hash_bytes(p->content.p ? p->content.p : (const uint8_t *)"", p->content.len, h);
		buf_addf(&p->id, "hash:%016llx", (unsigned long long)h);
	}
}

static int by_time(const void *a, const void *b)
{
	const struct post *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	/* equal times: later in the document means older */
	return (x->rev < y->rev) - (x->rev > y->rev);
}

static void add_item(struct feed *f, size_t *cap, xmlNode *n, const char *base, const struct buf *feed_author)
{
	if (f->n >= FEED_MAX_ITEMS)
		return;
	struct post *p = new_item(f, cap);
	struct buf guid = BUF_INIT;
	if (!strcmp(f->kind, "atom"))
		atom_entry(n, p, base, &guid, feed_author);
	else
		rss_item(n, p, base, &guid);
	if (!p->lang.len && f->lang.len)
		buf_add(&p->lang, f->lang.p, f->lang.len);
	item_id(p, &guid);
	buf_release(&guid);
}

/* Feeds written by hand or by HTML templates use HTML's named entities
 * (&nbsp;, &eacute;), which XML does not know: one such error and
 * libxml2's recovery loses even the &amp; after it.  They are rewritten
 * as character references first (NULL when there are none). */
static struct buf *html_entities(const uint8_t *p, size_t n)
{
	struct buf *out = NULL;
	size_t done = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '&')
			continue;
		size_t k = i + 1;
		while (k < n && k - i <= 32 && ((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z') ||
						 (p[k] >= '0' && p[k] <= '9')))
			k++;
		if (k == i + 1 || k >= n || p[k] != ';' || k - i > 32)
			continue;
		char name[40];
		memcpy(name, p + i + 1, k - i - 1);
		name[k - i - 1] = 0;
		if (!strcmp(name, "amp") || !strcmp(name, "lt") || !strcmp(name, "gt") || !strcmp(name, "quot") ||
		    !strcmp(name, "apos"))
			continue;
		const htmlEntityDesc *d = htmlEntityLookup((const xmlChar *)name);
		if (!d)
			continue;
		if (!out) {
			out = xcalloc(1, sizeof *out);
			buf_init(out, 0);
		}
		buf_add(out, p + done, i - done);
		buf_addf(out, "&#%u;", d->value);
		done = k + 1;
		i = k;
	}
	if (out)
		buf_add(out, p + done, n - done);
	return out;
}

int feed_parse(const uint8_t *p, size_t n, const char *charset, const char *base, struct feed *f,
	       struct pea_err *e)
{
	html_xml_init();
	feed_release(f);
	if (n > INT32_MAX) {
		err_set(e, "feed too large to parse");
		return -1;
	}
	const char *enc = charset && *charset ? cs_canon(charset, strlen(charset)) : NULL;
	/* bytes that are not UTF-8 and declare no encoding: read them as
	 * browsers would, rather than stop at the first bad byte */
	if (!enc && !utf8_valid(p, n) && !memmem(p, n < 256 ? n : 256, "encoding=", 9))
		enc = "windows-1252";
	/* no entity expansion from DTDs, no network, no huge-document mode */
	int opts = XML_PARSE_RECOVER | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NONET |
		   XML_PARSE_NOCDATA | XML_PARSE_COMPACT;
	struct buf *fixed = html_entities(p, n);
	if (fixed && fixed->len > INT32_MAX) {
		buf_release(fixed);
		free(fixed);
		err_set(e, "feed too large to parse");
		return -1;
	}
	xmlDocPtr doc = fixed ? xmlReadMemory((const char *)fixed->p, (int)fixed->len, base, enc, opts)
			      : xmlReadMemory((const char *)p, (int)n, base, enc, opts);
	if (fixed) {
		buf_release(fixed);
		free(fixed);
	}
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root) {
		xmlFreeDoc(doc);
		err_set(e, "not XML: no feed in it");
		return -1;
	}
	xmlNode *items = NULL, *chan = NULL;
	if (is(root, "rss")) {
		snprintf(f->kind, sizeof f->kind, "rss");
		for (xmlNode *c = root->children; c && !chan; c = c->next)
			if (is(c, "channel"))
				chan = c;
		items = chan;
	} else if (is(root, "RDF")) {
		snprintf(f->kind, sizeof f->kind, "rdf");
		for (xmlNode *c = root->children; c && !chan; c = c->next)
			if (is(c, "channel"))
				chan = c;
		items = root; /* RSS 1.0 items are the channel's siblings */
	} else if (is(root, "feed")) {
		snprintf(f->kind, sizeof f->kind, "atom");
		chan = items = root;
	} else {
		err_set(e, "not a feed: the root element is <%.64s>", (const char *)root->name);
		xmlFreeDoc(doc);
		return -1;
	}
	struct buf author = BUF_INIT;
	if (chan) {
		for (xmlNode *c = chan->children; c; c = c->next) {
			if (is(c, "title"))
				trimmed(c, &f->title);
			else if (is(c, "language"))
				trimmed(c, &f->lang);
			else if (is(c, "ttl")) {
				struct buf t = BUF_INIT;
				int64_t v;
				trimmed(c, &t);
				if (!parse_i64(buf_cstr(&t), &v) && v > 0 && v < 1000000)
					f->ttl = v;
				buf_release(&t);
			} else if (is(c, "author") && !strcmp(f->kind, "atom")) {
				for (xmlNode *a = c->children; a; a = a->next)
					if (is(a, "name"))
						trimmed(a, &author);
			}
		}
		if (!f->lang.len && !strcmp(f->kind, "atom")) {
			xmlChar *lang = xmlNodeGetLang(root);
			if (lang) {
				buf_adds(&f->lang, (const char *)lang);
				xmlFree(lang);
			}
		}
	}
	const char *iname = !strcmp(f->kind, "atom") ? "entry" : "item";
	size_t cap = 0;
	if (items)
		for (xmlNode *c = items->children; c; c = c->next)
			if (is(c, iname))
				add_item(f, &cap, c, base, &author);
	buf_release(&author);
	xmlFreeDoc(doc);
	/* oldest first */
	int timed = f->n > 0;
	for (size_t i = 0; i < f->n; i++) {
		f->items[i].rev = (int64_t)i; /* document order, for ties */
		if (f->items[i].time == POST_NO_TIME)
			timed = 0;
	}
	if (timed) {
		qsort(f->items, f->n, sizeof *f->items, by_time);
	} else {
		for (size_t i = 0, j = f->n ? f->n - 1 : 0; i < j; i++, j--) {
			struct post t = f->items[i];
			f->items[i] = f->items[j];
			f->items[j] = t;
		}
	}
	for (size_t i = 0; i < f->n; i++)
		f->items[i].rev = 0;
	return 0;
}
