/* html.c - see html.h.  One tree walk gathers per-element statistics
 * (visible text inside and outside links, link count, boilerplate marks);
 * choosing the root and pruning then read those numbers, and a last walk
 * writes the text.  A tree (not SAX) because pruning needs to know a
 * subtree's totals before deciding to write it. */
#include "html.h"
#include "charset.h"
#include "hash.h"
#include "hset.h"
#include "url.h"

#include <ctype.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct nst {
	uint32_t text, link, nlinks; /* visible bytes outside / inside links */
	uint32_t boil;		     /* visible bytes inside marked boilerplate */
	uint32_t heads;		     /* headings h1-h6 in the subtree */
	uint8_t drop;		     /* invisible: never written */
	uint8_t neg;		     /* marked as boilerplate by the markup */
	uint8_t toc;		     /* marked as a table of contents */
	uint8_t prune;		     /* dropped from the main content */
};

struct ctx {
	struct nst *st;
	size_t nst, cap;
	const struct html_opts *o;
	struct html_doc *d;
	xmlNode *mains[2], *articles[2];
	int nmain, narticle;
	xmlNode *body, *title, *h1;
	const char *base;
	char *base_alloc;
	/* link collection */
	struct hset seen;
	/* writer state */
	int pend_space, pend_nl, at_line_start, cell;
};

static int is(const xmlNode *n, const char *name)
{
	return n->name && !strcmp((const char *)n->name, name);
}

static const char *attr(const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n->properties; a; a = a->next)
		if (a->name && !strcasecmp((const char *)a->name, name))
			return a->children && a->children->content ? (const char *)a->children->content : "";
	return NULL;
}

static struct nst *st(struct ctx *c, const xmlNode *n)
{
	return n->_private ? &c->st[(size_t)(uintptr_t)n->_private - 1] : NULL;
}

static const char *const invisible[] = {
	"script", "style", "noscript", "template", "head", "iframe", "object", "embed", "svg",
	"canvas", "select", "option", "textarea", "input", "button", "math", "audio", "video",
	"map", "datalist", "dialog",
};
static const char *const blocks[] = {
	"address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dir",
	"div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
	"h4", "h5", "h6", "header", "hgroup", "hr", "html", "li", "main", "menu", "nav", "ol", "p",
	"pre", "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul", "caption",
	"legend", "listing", "xmp", "plaintext",
};
/* class/id words (or their start or end: "navbar", "topnav") that name
 * boilerplate.  Words also name content often enough (ids made from
 * headings: "editing-and-navigation", "cookie-objects") that a block with
 * a heading and little link text is not judged by them.  Only blocks are
 * judged by words at all: a <span class="comment"> is a highlighted code
 * comment, not a comment section. */
static const char *const neg_stems[] = {
	"nav", "menu", "sidebar", "footer", "breadcrumb", "cookie", "consent", "gdpr", "banner",
	"masthead", "toolbar", "skiplink", "skip", "pagination", "pager", "advert", "sponsor",
	"popup", "newsletter", "subscribe", "hidden", "sronly", "signup", "login", "comment",
	"disqus", "respond", "share", "sharing", "social", "related", "promo", "widget",
};
static const char *const neg_roles[] = {
	"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar",
	"dialog", "alertdialog", "toolbar", "tablist",
};

static int in_list(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, v[i]))
			return 1;
	return 0;
}

static int is_block(const xmlNode *n) { return in_list((const char *)n->name, blocks, ARRAY_SIZE(blocks)); }

static int stem_in(const char *w, size_t l, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t sl = strlen(v[i]);
		if (l >= sl && (!memcmp(w, v[i], sl) || !memcmp(w + l - sl, v[i], sl)))
			return 1;
	}
	return 0;
}

/* 1 boilerplate, 2 table of contents, 0 none, from class and id words */
static const char *const id_fillers[] = {
	"site", "main", "top", "bottom", "left", "right", "page", "global", "primary", "secondary",
	"wrapper", "wrap", "container", "area", "box", "bar", "block", "section", "links", "list",
	"inner", "outer", "header", "head", "region", "panel", "col", "column",
};

/* An id is one name, often made from a heading or an API name
 * ("http.cookiejar.CookieJar"): it marks boilerplate only when every word
 * of it is a boilerplate word or a filler ("site-nav", "cookie-banner",
 * "comments-area"). */
static int id_mark(const char *s)
{
	int any = 0;
	while (s && *s) {
		while (*s && !isalnum((unsigned char)*s))
			s++;
		char w[64];
		size_t l = 0;
		while (*s && isalnum((unsigned char)*s)) {
			if (l < sizeof w - 1)
				w[l++] = (char)tolower((unsigned char)*s);
			s++;
		}
		w[l] = 0;
		if (!l)
			continue;
		if (!strcmp(w, "toc") || !strcmp(w, "contents"))
			return 2;
		if (stem_in(w, l, neg_stems, ARRAY_SIZE(neg_stems)))
			any = 1;
		else if (!in_list(w, id_fillers, ARRAY_SIZE(id_fillers)))
			return 0;
	}
	return any;
}

static int words_mark(const char *s)
{
	int mark = 0;
	while (s && *s) {
		while (*s && !isalnum((unsigned char)*s))
			s++;
		char w[64];
		size_t l = 0;
		while (*s && (isalnum((unsigned char)*s) || *s == '-' || *s == '_')) {
			if (*s != '-' && *s != '_' && l < sizeof w - 1)
				w[l++] = (char)tolower((unsigned char)*s);
			s++;
		}
		w[l] = 0;
		if (!l)
			continue;
		if (!strcmp(w, "toc") || strstr(w, "toc") == w || !strcmp(w, "contents") ||
		    !strcmp(w, "tableofcontents"))
			return 2;
		if (stem_in(w, l, neg_stems, ARRAY_SIZE(neg_stems)))
			mark = 1;
	}
	return mark;
}

static int hidden(const xmlNode *n)
{
	if (attr(n, "hidden"))
		return 1;
	const char *a = attr(n, "aria-hidden");
	if (a && !strcasecmp(a, "true"))
		return 1;
	const char *s = attr(n, "style");
	if (s) {
		char low[256];
		size_t l = 0;
		for (; *s && l < sizeof low - 1; s++)
			if (!isspace((unsigned char)*s))
				low[l++] = (char)tolower((unsigned char)*s);
		low[l] = 0;
		if (strstr(low, "display:none") || strstr(low, "visibility:hidden"))
			return 1;
	}
	const char *t = attr(n, "type");
	return is(n, "input") && t && !strcasecmp(t, "hidden");
}

static size_t visible_bytes(const xmlChar *s)
{
	size_t k = 0;
	for (; s && *s; s++)
		if (!isspace(*s))
			k++;
	return k;
}

/* gather statistics bottom-up; `semantic` is set inside main/article */
static void gather(struct ctx *c, xmlNode *n, int in_link, int semantic, int depth)
{
	for (; n; n = n->next) {
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
			continue;
		if (n->type != XML_ELEMENT_NODE || !n->name)
			continue;
		if (c->nst == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 256;
			c->st = xrealloc(c->st, c->cap * sizeof *c->st);
		}
		size_t idx = c->nst++;
		memset(&c->st[idx], 0, sizeof c->st[idx]);
		n->_private = (void *)(uintptr_t)(idx + 1);
		const char *name = (const char *)n->name;
		if (!strcmp(name, "body") && !c->body)
			c->body = n;
		if (in_list(name, invisible, ARRAY_SIZE(invisible)) || hidden(n) || depth > 256) {
			c->st[idx].drop = 1;
			continue;
		}
		const char *role = attr(n, "role");
		int is_main = is(n, "main") || (role && !strcasecmp(role, "main"));
		if (is_main && c->nmain < 2)
			c->mains[c->nmain++] = n;
		else if (is_main)
			c->nmain++;
		if (is(n, "article")) {
			if (c->narticle < 2)
				c->articles[c->narticle] = n;
			c->narticle++;
		}
		if (!c->h1 && is(n, "h1"))
			c->h1 = n;
		int neg = 0;
		/* a site's header and asides are boilerplate; an article's are not */
		if (is(n, "nav") || is(n, "footer") || ((is(n, "header") || is(n, "aside")) && !semantic))
			neg = 1;
		if (role && in_list(role, neg_roles, ARRAY_SIZE(neg_roles)))
			neg = 1;
		int blk = is_block(n) || is(n, "aside") || is(n, "nav");
		int wm = blk ? words_mark(attr(n, "class")) : 0;
		int wi = blk ? id_mark(attr(n, "id")) : 0;
		int weak = 0;
		if (wm == 2 || wi == 2)
			c->st[idx].toc = 1;
		else if (wm == 1 || wi == 1)
			weak = 1;
		int link = in_link || (is(n, "a") && attr(n, "href"));
		gather(c, n->children, link, semantic || is_main || is(n, "article"), depth + 1);
		struct nst *s = &c->st[idx];
		if (is(n, "a") && attr(n, "href"))
			s->nlinks++;
		if (n->name[0] == 'h' && n->name[1] >= '1' && n->name[1] <= '6' && !n->name[2])
			s->heads++;
		for (xmlNode *k = n->children; k; k = k->next) {
			if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) {
				size_t v = visible_bytes(k->content);
				if (link)
					s->link += (uint32_t)v;
				else
					s->text += (uint32_t)v;
			} else if (k->type == XML_ELEMENT_NODE && k->_private) {
				struct nst *ks = st(c, k);
				if (ks->drop)
					continue;
				s->text += ks->text;
				s->link += ks->link;
				s->nlinks += ks->nlinks;
				s->heads += ks->heads;
				s->boil += ks->neg ? ks->text + ks->link : ks->boil;
			}
		}
		/* exempt: a heading, little link text, and most of the text its
		 * own (a comments section's text is in its marked comments) */
		uint32_t t = s->text + s->link;
		if (weak && !(s->heads && s->link < 0.3 * t && t - s->boil >= 0.5 * t))
			neg = 1;
		s->neg = (uint8_t)neg;
	}
}

static uint32_t total(const struct nst *s) { return s->text + s->link; }

/* the text a subtree holds outside its marked boilerplate */
static uint32_t eff(const struct nst *s) { return s->neg ? 0 : s->text + s->link - s->boil; }

static int link_dense(const xmlNode *n, const struct nst *s)
{
	uint32_t t = total(s);
	/* a paragraph full of links is prose that cites ("see A, B and C") */
	return s->nlinks >= 3 && t && (double)s->link > 0.6 * t && !s->toc && !is(n, "pre") && !is(n, "p");
}

/* Drop what the markup names as boilerplate anywhere under n, except in a
 * table of contents, and except a "boilerplate" wrapper that holds more
 * than half of the page (class names are not always what they seem). */
static void prune_marked(struct ctx *c, xmlNode *n, uint32_t all)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE || !n->_private)
			continue;
		struct nst *s = st(c, n);
		if (s->drop || s->toc)
			continue;
		if (s->neg && (double)total(s) <= 0.5 * all)
			s->prune = 1;
		else
			prune_marked(c, n->children, all);
	}
}

static void node_text(xmlNode *n, struct buf *b);

/* a short block that only states the copyright: a footer by another name */
static int copyright_line(xmlNode *n, const struct nst *s)
{
	if (total(s) > 200)
		return 0;
	struct buf b = BUF_INIT;
	node_text(n->children, &b);
	const char *t = buf_cstr(&b);
	int r = strstr(t, "\xc2\xa9") || strcasestr(t, "copyright") || strcasestr(t, "all rights reserved");
	buf_release(&b);
	return r;
}

/* Walk down from the root while one child holds most of the text: the
 * siblings passed on the way are kept unless they are link lists (menus,
 * sidebars).  Where the text spreads over several children, that element
 * is the content container: inside it only marked boilerplate goes, and
 * link lists that hold little of the text and have no heading (a "See
 * also" section has one, a menu seldom does).  A copyright line passed on
 * the way goes too. */
static void prune_main(struct ctx *c, xmlNode *top, uint32_t all)
{
	struct nst *ts = st(c, top);
	prune_marked(c, top->children, all);
	for (int guard = 0; guard < 512; guard++) {
		xmlNode *best = NULL;
		uint32_t be = 0;
		for (xmlNode *k = top->children; k; k = k->next) {
			if (k->type != XML_ELEMENT_NODE || !k->_private)
				continue;
			struct nst *ks = st(c, k);
			if (ks->drop || ks->prune)
				continue;
			if (eff(ks) > be) {
				be = eff(ks);
				best = k;
			}
		}
		uint32_t here = ts->text + ts->link - ts->boil;
		/* only into containers: inside a list, a table or a table of
		 * contents the siblings are items, not boilerplate */
		int descend = best && here && (double)be >= 0.6 * here && !st(c, best)->toc &&
			      (is(best, "div") || is(best, "section") || is(best, "article") ||
			       is(best, "main") || is(best, "center") || is(best, "td") || is(best, "body"));
		for (xmlNode *k = top->children; k; k = k->next) {
			if (k == best || k->type != XML_ELEMENT_NODE || !k->_private)
				continue;
			struct nst *ks = st(c, k);
			if (ks->drop || ks->prune)
				continue;
			if (!link_dense(k, ks)) {
				if (descend && copyright_line(k, ks))
					ks->prune = 1;
				continue;
			}
			if (descend || (is_block(k) && !ks->heads && (double)total(ks) < 0.3 * here))
				ks->prune = 1;
		}
		if (!descend)
			return;
		top = best;
		ts = st(c, top);
	}
}

/* ---- writing text ---- */

static void w_nl(struct ctx *c, int k)
{
	if (c->pend_nl < k)
		c->pend_nl = k;
	c->pend_space = 0;
}

static void w_flush_pending(struct ctx *c, struct buf *b)
{
	if (c->pend_nl && b->len) {
		while (b->len && (b->p[b->len - 1] == ' ' || b->p[b->len - 1] == '\t'))
			b->len--;
		for (int i = b->p[b->len - 1] == '\n'; i < c->pend_nl; i++)
			buf_addc(b, '\n');
		c->at_line_start = 1;
	}
	c->pend_nl = 0;
	if (c->pend_space && !c->at_line_start)
		buf_addc(b, ' ');
	c->pend_space = 0;
}

static void w_text(struct ctx *c, struct buf *b, const xmlChar *s, int pre)
{
	if (!s)
		return;
	if (pre) {
		w_flush_pending(c, b);
		size_t l = strlen((const char *)s);
		buf_add(b, s, l);
		if (l)
			c->at_line_start = s[l - 1] == '\n';
		return;
	}
	for (; *s; s++) {
		if (isspace(*s)) {
			c->pend_space = 1;
			continue;
		}
		if (c->pend_nl || c->pend_space)
			w_flush_pending(c, b);
		const xmlChar *e = s;
		while (*e && !isspace(*e))
			e++;
		buf_add(b, s, (size_t)(e - s));
		c->at_line_start = 0;
		s = e - 1;
	}
}

static void write_tree(struct ctx *c, struct buf *b, xmlNode *n, int pre, int full)
{
	for (; n; n = n->next) {
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			w_text(c, b, n->content, pre);
			continue;
		}
		if (n->type != XML_ELEMENT_NODE || !n->_private)
			continue;
		struct nst *s = st(c, n);
		if (s->drop || (!full && s->prune))
			continue;
		if (is(n, "br")) {
			if (pre) {
				buf_addc(b, '\n');
			} else {
				w_flush_pending(c, b);
				buf_addc(b, '\n');
				c->at_line_start = 1;
				c->pend_space = 0;
			}
			continue;
		}
		if (is(n, "td") || is(n, "th")) {
			if (c->cell && !c->pend_nl) {
				c->pend_space = 0;
				w_flush_pending(c, b);
				buf_addc(b, '\t');
				c->at_line_start = 1;
			}
			c->cell = 1;
			write_tree(c, b, n->children, pre, full);
			continue;
		}
		int blk = is_block(n);
		int p = pre || is(n, "pre") || is(n, "listing") || is(n, "xmp") || is(n, "plaintext");
		if (blk)
			w_nl(c, 1);
		if (is(n, "tr"))
			c->cell = 0;
		if (p && !pre) {
			w_flush_pending(c, b);
			/* HTML drops one newline right after <pre> */
			xmlNode *k = n->children;
			if (k && k->type == XML_TEXT_NODE && k->content && k->content[0] == '\n') {
				w_text(c, b, k->content + 1, 1);
				k = k->next;
			}
			write_tree(c, b, k, 1, full);
		} else {
			write_tree(c, b, n->children, p, full);
		}
		if (blk)
			w_nl(c, 1);
	}
}

/* ---- metadata and links ---- */

static void node_text(xmlNode *n, struct buf *b)
{
	for (; n; n = n->next) {
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
			buf_adds(b, n->content ? (const char *)n->content : "");
		else if (n->type == XML_ELEMENT_NODE)
			node_text(n->children, b);
	}
}

/* whitespace collapsed and trimmed, into dst */
static void collapse(const char *s, size_t n, struct buf *dst)
{
	int sp = 0;
	for (size_t i = 0; i < n; i++) {
		if (isspace((unsigned char)s[i])) {
			sp = 1;
			continue;
		}
		if (sp && dst->len)
			buf_addc(dst, ' ');
		sp = 0;
		buf_addc(dst, (uint8_t)s[i]);
	}
}

static void add_link(struct ctx *c, const char *href)
{
	size_t max = c->o->max_links ? c->o->max_links : 10000;
	if (c->d->nlinks >= max || !href || !*href)
		return;
	if (!strncasecmp(href, "javascript:", 11) || !strncasecmp(href, "mailto:", 7))
		return;
	char *u = url_resolve(c->base, href);
	if (!u)
		return;
	/* a page's repeated links come out once */
	if (!hset_add(&c->seen, hash_bytes(u, strlen(u), 0))) {
		free(u);
		return;
	}
	if (!(c->d->nlinks & (c->d->nlinks + 1)) || !c->d->links)
		c->d->links = xrealloc(c->d->links, (2 * c->d->nlinks + 2) * sizeof *c->d->links);
	c->d->links[c->d->nlinks++] = u;
}

static void meta_walk(struct ctx *c, xmlNode *n, int depth)
{
	for (; n && depth < 256; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!c->title && is(n, "title")) {
			c->title = n;
		} else if (is(n, "html") && !c->d->lang.len) {
			const char *l = attr(n, "lang");
			if (!l)
				l = attr(n, "xml:lang");
			if (l)
				collapse(l, strlen(l), &c->d->lang);
		} else if (is(n, "base") && !c->base_alloc && c->o->links) {
			const char *h = attr(n, "href");
			if (h && (c->base_alloc = url_resolve(c->base, h)))
				c->base = c->base_alloc;
		} else if (is(n, "meta")) {
			const char *name = attr(n, "name"), *prop = attr(n, "property");
			const char *he = attr(n, "http-equiv"), *ct = attr(n, "content");
			if (ct && !c->d->description.len &&
			    ((name && !strcasecmp(name, "description")) ||
			     (prop && !strcasecmp(prop, "og:description"))))
				collapse(ct, strlen(ct), &c->d->description);
			if (ct && he && !strcasecmp(he, "content-language") && !c->d->lang.len)
				collapse(ct, strcspn(ct, ","), &c->d->lang);
			if (ct && name && !strcasecmp(name, "robots") &&
			    (strcasestr(ct, "nofollow") || strcasestr(ct, "none")))
				c->d->nofollow = 1;
		} else if (c->o->links && (is(n, "a") || is(n, "area"))) {
			add_link(c, attr(n, "href"));
		} else if (c->o->links && is(n, "frame")) {
			add_link(c, attr(n, "src"));
		}
		meta_walk(c, n->children, depth + 1);
	}
}

/* ---- sniffing ---- */

void html_sniff_charset(const uint8_t *p, size_t n, char *dst, size_t dn)
{
	dst[0] = 0;
	if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
		snprintf(dst, dn, "utf-8");
		return;
	}
	if (n >= 2 && ((p[0] == 0xff && p[1] == 0xfe) || (p[0] == 0xfe && p[1] == 0xff))) {
		snprintf(dst, dn, p[0] == 0xff ? "utf-16le" : "utf-16be");
		return;
	}
	size_t lim = n < 4096 ? n : 4096;
	for (size_t i = 0; i + 5 < lim; i++) {
		if (p[i] != '<' || strncasecmp((const char *)p + i + 1, "meta", 4))
			continue;
		size_t e = i + 5;
		while (e < lim && p[e] != '>')
			e++;
		for (size_t k = i + 5; k + 7 < e; k++) {
			if (strncasecmp((const char *)p + k, "charset", 7))
				continue;
			size_t v = k + 7;
			while (v < e && isspace(p[v]))
				v++;
			if (v >= e || p[v] != '=')
				continue;
			v++;
			while (v < e && (isspace(p[v]) || p[v] == '"' || p[v] == '\''))
				v++;
			size_t l = 0;
			while (v + l < e && (isalnum(p[v + l]) || strchr("-_.:", p[v + l])))
				l++;
			if (l && l < dn) {
				memcpy(dst, p + v, l);
				dst[l] = 0;
				return;
			}
		}
	}
}

int html_sniff(const uint8_t *p, size_t n)
{
	static const char *const tags[] = {
		"<!doctype html", "<html", "<head", "<body", "<title", "<meta", "<div", "<p>",
		"<table", "<h1", "<!--", "<br", "<a ", "<script", "<style", "<link",
	};
	size_t i = 0;
	if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;
	while (i < n && isspace(p[i]))
		i++;
	if (i >= n || p[i] != '<')
		return 0;
	for (size_t k = 0; k < ARRAY_SIZE(tags); k++) {
		size_t l = strlen(tags[k]);
		if (n - i >= l && !strncasecmp((const char *)p + i, tags[k], l))
			return 1;
	}
	/* an XML prolog followed by an XHTML root */
	if (n - i > 5 && !strncmp((const char *)p + i, "<?xml", 5)) {
		size_t lim = n < 1024 ? n : 1024;
		for (size_t k = i; k + 5 < lim; k++)
			if (!strncasecmp((const char *)p + k, "<html", 5) ||
			    !strncasecmp((const char *)p + k, "<!doctype html", 14))
				return 1;
	}
	return 0;
}

/* ---- the interface ---- */

void html_doc_init(struct html_doc *d)
{
	memset(d, 0, sizeof *d);
	buf_init(&d->title, 0);
	buf_init(&d->text, 0);
	buf_init(&d->lang, 0);
	buf_init(&d->description, 0);
}

static void doc_clear(struct html_doc *d)
{
	buf_reset(&d->title);
	buf_reset(&d->text);
	buf_reset(&d->lang);
	buf_reset(&d->description);
	for (size_t i = 0; i < d->nlinks; i++)
		free(d->links[i]);
	free(d->links);
	d->links = NULL;
	d->nlinks = 0;
	d->bad_chars = 0;
	d->charset[0] = 0;
	d->nofollow = 0;
}

void html_doc_release(struct html_doc *d)
{
	doc_clear(d);
	buf_release(&d->title);
	buf_release(&d->text);
	buf_release(&d->lang);
	buf_release(&d->description);
}

static void silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init_once(void)
{
	xmlInitParser();
}

void html_xml_init(void)
{
	/* libxml2 keeps its error handler per thread: set it on each */
	static _Thread_local int quiet;
	pthread_once(&xml_once, xml_init_once);
	if (!quiet) {
		xmlSetGenericErrorFunc(NULL, silent);
		quiet = 1;
	}
}

int html_extract(const uint8_t *p, size_t n, const struct html_opts *o, struct html_doc *d,
		 struct pea_err *e)
{
	html_xml_init();
	doc_clear(d);
	/* the charset: HTTP header, then BOM or <meta>, then a guess */
	char cs[40] = "";
	if (o->charset && cs_canon(o->charset, strlen(o->charset)))
		snprintf(cs, sizeof cs, "%s", o->charset);
	if (!cs[0])
		html_sniff_charset(p, n, cs, sizeof cs);
	struct buf u = BUF_INIT;
	d->bad_chars = cs_to_utf8(cs[0] ? cs : NULL, p, n, &u);
	snprintf(d->charset, sizeof d->charset, "%s", cs[0] ? cs : utf8_valid(p, n) ? "utf-8" : "windows-1252");
	if (u.len > INT32_MAX) {
		buf_release(&u);
		err_set(e, "page too large to parse");
		return -1;
	}
	/* libxml2 takes the declared encoding as given: the bytes are UTF-8 now */
	htmlDocPtr doc = htmlReadMemory(u.len ? (const char *)u.p : "", (int)u.len, o->base_url, "UTF-8",
					HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
					    HTML_PARSE_NONET | HTML_PARSE_COMPACT | HTML_PARSE_IGNORE_ENC);
	buf_release(&u);
	if (!doc) {
		err_set(e, "not an HTML document");
		return -1;
	}
	struct ctx c = {0};
	c.o = o;
	c.d = d;
	c.base = o->base_url;
	xmlNode *root = xmlDocGetRootElement(doc);
	gather(&c, root, 0, 0, 0);
	meta_walk(&c, root, 0);
	if (c.title) {
		struct buf t = BUF_INIT;
		node_text(c.title->children, &t);
		collapse((const char *)t.p, t.len, &d->title);
		buf_release(&t);
	}
	if (!d->title.len && c.h1) {
		struct buf t = BUF_INIT;
		node_text(c.h1->children, &t);
		collapse((const char *)t.p, t.len, &d->title);
		buf_release(&t);
	}
	xmlNode *top = c.body ? c.body : root;
	if (top && top->_private && !o->full_text) {
		uint32_t all = total(st(&c, top));
		if (c.nmain == 1 && c.mains[0]->_private && !st(&c, c.mains[0])->drop &&
		    total(st(&c, c.mains[0])) >= 0.1 * all)
			top = c.mains[0];
		else if (!c.nmain && c.narticle == 1 && c.articles[0]->_private &&
			 !st(&c, c.articles[0])->drop && total(st(&c, c.articles[0])) >= 0.3 * all)
			top = c.articles[0];
		/* where the page marks its content, its link lists are content
		 * too (an index of functions, a list of references): only what
		 * it marks as boilerplate goes */
		if (top == c.body || top == root)
			prune_main(&c, top, total(st(&c, top)));
		else
			prune_marked(&c, top->children, total(st(&c, top)));
	}
	if (top) {
		c.at_line_start = 1;
		if (top->_private && !st(&c, top)->drop)
			write_tree(&c, &d->text, top->children, 0, o->full_text);
		while (d->text.len && isspace(d->text.p[d->text.len - 1]))
			d->text.len--;
	}
	/* the pass that counted fields used _private; libxml2 must not see it */
	free(c.st);
	hset_release(&c.seen);
	free(c.base_alloc);
	xmlFreeDoc(doc);
	return 0;
}
