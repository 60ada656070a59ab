/* charset.h - bytes in a declared (or guessed) charset to valid UTF-8.
 *
 * Web pages and mail name their charsets loosely ("latin1", "utf8",
 * "iso-8859-1" meaning windows-1252 as browsers read it); names are mapped
 * as the WHATWG Encoding standard does, then converted with iconv (glibc).
 * Bytes that do not convert become U+FFFD and are counted, never dropped
 * silently and never left invalid. */
#ifndef PEA_CHARSET_H
#define PEA_CHARSET_H

#include "util.h"

/* Append p[0..n) converted from `charset` (NULL or unknown: UTF-8 when the
 * bytes are valid UTF-8, else windows-1252) to out.  Returns the number of
 * replacement characters written, or -1 when out's bound was reached. */
long cs_to_utf8(const char *charset, const uint8_t *p, size_t n, struct buf *out);
/* The canonical iconv name of a charset label, or NULL when unknown. */
const char *cs_canon(const char *label, size_t n);
/* The charset parameter of a Content-Type value into dst ("" if none). */
void cs_from_ctype(const char *ctype, char *dst, size_t n);

#endif
