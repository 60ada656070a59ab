/* mail.h - RFC 822 / MIME messages and mbox files to text records.
 *
 * A message's text is what its author wrote: text/plain parts preferred
 * (multipart/alternative), text/html converted to text when it is the only
 * rendering, quoted-printable and base64 decoded, every charset converted
 * to UTF-8, RFC 2047 encoded words in Subject and From decoded.  The
 * header block is kept too (headers): routing and mailer lines are much of
 * what tells spam from ham.
 * Attachments are skipped but counted.  Parsing is lenient (real mail is
 * often malformed) and bounded: nesting depth, part count and sizes. */
#ifndef PEA_MAIL_H
#define PEA_MAIL_H

#include "util.h"

#define MAIL_MAX_DEPTH 16
#define MAIL_MAX_PARTS 1000

struct mail_msg {
	struct buf subject, from, date, text;
	struct buf headers; /* the top-level header fields, one a line, unfolded and decoded */
	int attachments, parts;
	long bad_chars;
};

void mail_init(struct mail_msg *m);
void mail_release(struct mail_msg *m);
/* Parse one message (headers, blank line, body).  Always succeeds: what
 * cannot be decoded is kept as it is or replaced by U+FFFD (counted). */
void mail_parse(const uint8_t *p, size_t n, struct mail_msg *m);
/* Whether bytes start like an RFC 822 message: header fields, among them
 * one a message has (From, Received, Subject, Message-ID...). */
int mail_sniff(const uint8_t *p, size_t n);
/* Whether bytes start like an mbox file ("From " envelope line). */
int mbox_sniff(const uint8_t *p, size_t n);
/* The next message of an mbox: returns 1 with [*msg, *msg + *len) (the
 * envelope line excluded) and advances *off, or 0 at the end. */
int mbox_next(const uint8_t *p, size_t n, size_t *off, const uint8_t **msg, size_t *len);

#endif
