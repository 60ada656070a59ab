/* tok.h - text into tokens: Unicode normalization and case folding
 * (utf8proc), words by Unicode properties with an ASCII fast path, PCRE2
 * patterns or whitespace splitting, URLs and e-mail addresses kept whole,
 * stop words, Snowball stemming (libstemmer), word and character n-grams.
 *
 * A struct tok holds the settings and everything compiled from them; it is
 * read-only once made, so threads share it.  Each thread tokenizes with its
 * own struct tok_state (match data, stemmer and scratch buffers are not
 * shareable).  A record's tokens are gathered in the state: tok_begin, one
 * tok_add per text (n-grams never cross texts), then tok_count / tok_get. */
#ifndef PEA_TOK_H
#define PEA_TOK_H

#include "err.h"
#include "util.h"

#include <stddef.h>
#include <stdint.h>

struct tok_opts {
	int keep_case;		/* no case folding */
	int strip_accents;	/* remove combining marks after decomposition */
	int no_normalize;	/* neither NFKC nor case folding nor accents */
	const char *pattern;	/* PCRE2 regex: each match is a token */
	int split;		/* tokens are runs of non-space */
	const char *stopwords;	/* "english", a file of words, or NULL */
	int min_len, max_len;	/* bounds in code points; 0 = none */
	int fold_numbers;	/* digit-only tokens become <num> */
	int fold_urls;		/* URLs become <url>, e-mail addresses <email> */
	const char *stem;	/* Snowball language, or NULL */
	int ngram_lo, ngram_hi; /* word n-grams; 0-0 = no word tokens */
	int char_lo, char_hi;	/* character n-grams of each word; 0 = none */
};
#define TOK_OPTS_INIT {0, 0, 0, NULL, 0, NULL, 0, 0, 0, 0, NULL, 1, 1, 0, 0}

/* the placeholders of folded tokens */
#define TOK_NUM "<num>"
#define TOK_URL "<url>"
#define TOK_EMAIL "<email>"

struct tok;
/* Compile the settings (pattern, stop word file, stemmer language).
 * Returns NULL with the reason in e. */
struct tok *tok_new(const struct tok_opts *o, struct pea_err *e);
void tok_free(struct tok *t);

struct tok_state;
struct tok_state *tok_state_new(const struct tok *t);
void tok_state_free(struct tok_state *s);

/* Start the tokens of a new record. */
void tok_begin(struct tok_state *s);
/* Tokenize a text and append its tokens.  Invalid UTF-8 is replaced by
 * U+FFFD first; *repaired (may be NULL) counts the replacements.  Returns
 * -1 (reason in e) when the record's tokens would pass the size bound or
 * the pattern fails to match (PCRE2 limits). */
int tok_add(struct tok_state *s, const char *p, size_t n, uint64_t *repaired, struct pea_err *e);
uint32_t tok_count(const struct tok_state *s);
/* token i of the record (fast when read in order) */
const char *tok_get(struct tok_state *s, uint32_t i, size_t *len);
/* The tokens encoded as the items of a strlist (varint length, bytes), for
 * fb_list_raw. */
void tok_encoded(const struct tok_state *s, const uint8_t **p, size_t *n);

/* The Snowball languages libstemmer ships, NULL-terminated. */
const char **tok_languages(void);
/* The built-in stop word list of a language ("english"), or NULL. */
const char *const *tok_builtin_stopwords(const char *lang);

#endif
