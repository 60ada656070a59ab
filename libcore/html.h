/* html.h - HTML to clean text: title, main content, links and metadata.
 *
 * libxml2's HTML parser builds a tree from whatever markup arrives (it
 * recovers from broken pages as browsers do); this module decides what a
 * reader would call the page's text.  Invisible parts go first (scripts,
 * styles, templates, hidden elements).  Then, unless the full text is
 * asked for, the main content is kept and the rest dropped:
 *
 *  1. the root: the page's own mark of its content when there is exactly
 *     one (<main>, role=main, else a lone <article> holding a good share
 *     of the text), otherwise <body>;
 *  2. inside it, what the markup names as boilerplate goes: nav, footer,
 *     a site's (not an article's) header and asides, ARIA landmarks, and
 *     blocks whose class says navbar, sidebar, breadcrumb, cookie,
 *     comments, share... or whose id is made of such words only - unless
 *     they have a heading, little link text and most of their text their
 *     own, as sections named after their heading do; never a wrapper
 *     holding most of the text, never a table of contents;
 *  3. from <body> (no mark of content), the walk goes down while one child
 *     holds most of the text, dropping the link lists met on the way
 *     (menus, sidebars) and a copyright line; in the container reached,
 *     link lists without a heading that hold little of the text go too.
 *     Under a marked content element, link lists stay: they are content.
 *
 * Text keeps the block structure as line breaks, table cells as tabs, and
 * <pre> blocks verbatim (code is not re-wrapped, no line is lost). */
#ifndef PEA_HTML_H
#define PEA_HTML_H

#include "err.h"
#include "util.h"

struct html_opts {
	int full_text;		/* every visible text, not only the main content */
	int links;		/* collect absolute http(s) links */
	const char *charset;	/* from the HTTP header, or NULL */
	const char *base_url;	/* the page's URL, to resolve links */
	size_t max_links;	/* per page (default 10000) */
};

struct html_doc {
	struct buf title, text, lang, description;
	char **links;
	size_t nlinks;
	long bad_chars; /* bytes that did not convert from the charset */
	char charset[40];
	int nofollow;	/* <meta name="robots" content="nofollow"> (or none) */
};

void html_doc_init(struct html_doc *d);
void html_doc_release(struct html_doc *d);
/* Start libxml2 once and silence its error reports on the calling thread
 * (they are per thread); every user of libxml2 calls it first. */
void html_xml_init(void);

/* Extract from p[0..n).  Returns 0, or -1 with e set when libxml2 cannot
 * make a document of the bytes at all. */
int html_extract(const uint8_t *p, size_t n, const struct html_opts *o, struct html_doc *d,
		 struct pea_err *e);
/* The charset declared by a <meta> in the first bytes, or by a BOM, into
 * dst ("" when none). */
void html_sniff_charset(const uint8_t *p, size_t n, char *dst, size_t dn);
/* Whether bytes look like HTML (a doctype or a common tag near the start). */
int html_sniff(const uint8_t *p, size_t n);

#endif
