/* feed.h - RSS 2.0, RSS 1.0 (RDF) and Atom feeds into posts.
 *
 * libxml2 reads the feed in recovery mode, so the broken feeds met in the
 * wild (bad entities, unclosed tags, stray bytes) still give the items it
 * can make out; it never loads a DTD or anything from the network.  Each
 * item becomes a post (post.h) whose id is what a follower dedupes on: the
 * guid or Atom id, else the link, else a hash of title and content. */
#ifndef PEA_FEED_H
#define PEA_FEED_H

#include "err.h"
#include "post.h"

struct feed {
	char kind[8];	 /* "rss", "rdf" or "atom" */
	struct buf title, lang;
	int64_t ttl;	 /* RSS <ttl> in minutes, or -1 */
	struct post *items; /* oldest first */
	size_t n;
};

void feed_init(struct feed *f);
void feed_release(struct feed *f);
/* Parse a feed document.  charset is the HTTP header's (or NULL); base
 * resolves relative links.  -1 with e set when the bytes hold no feed. */
int feed_parse(const uint8_t *p, size_t n, const char *charset, const char *base, struct feed *f,
	       struct pea_err *e);

#endif
