/* post.h - one post of a live source (a Mastodon status, a feed item) and
 * the record it becomes.
 *
 * Sources differ in markup and names; the record does not: every follower
 * writes the same fields (man/pea-format.5), with HTML turned into text by
 * the scraper's extraction (html.h) and the interactions a recommender
 * reads (user = the author; items = the reshared post, "@account" for each
 * mention, "#tag" for each tag). */
#ifndef PEA_POST_H
#define PEA_POST_H

#include "frame.h"

#include <stdint.h>

#define POST_NO_TIME INT64_MIN

struct post {
	struct buf id, url, author, title, content, lang, reshare;
	int content_is_text; /* content is plain text, not HTML */
	int64_t time;	     /* Unix seconds, or POST_NO_TIME */
	int64_t rev;	     /* 0: as first published; an edit: when, in Unix ms */
	int64_t updated;     /* feeds: when the item says it last changed (Unix ms), or 0 */
	int deleted;	     /* a deletion: only id (and source) mean anything */
	char **tags, **mentions;
	size_t ntags, nmentions;
};

void post_init(struct post *p);
void post_reset(struct post *p);
void post_release(struct post *p);
/* add a tag (lower-cased, without '#', once) or a mentioned account */
void post_tag(struct post *p, const char *s, size_t n);
void post_mention(struct post *p, const char *s, size_t n);

/* Build the post's record in fb (fb_begin .. fb_end); `source` is the feed
 * or stream it came from.  Text that is not valid UTF-8 is repaired. */
void post_record(pea_fb *fb, const struct post *p, const char *source);

/* RFC 3339 / ISO 8601 ("2024-05-01T12:00:00.123Z") or RFC 822 and the
 * other HTTP date forms ("Wed, 01 May 2024 12:00:00 GMT") to Unix time;
 * *ms gets the milliseconds when not NULL.  POST_NO_TIME when unreadable. */
int64_t post_time(const char *s, int *ms);

#endif
