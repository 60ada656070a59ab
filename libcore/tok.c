/* tok.c - see tok.h.
 *
 * Speed comes from treating ASCII as the common case: an ASCII text is
 * case-folded eight bytes at a time and classified with a table, and only
 * the non-ASCII islands of other texts go through utf8proc (an island takes the ASCII character before
 * it along, since a combining mark may compose with it).  Everything the
 * settings imply is compiled once in struct tok; per-thread state only
 * holds scratch space, so tokenizing allocates nothing in the steady state. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tok.h"
#include "hash.h"
#include "frame.h"

#include <errno.h>
#include <libstemmer.h>
#include <pcre2.h>
#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

/* the tokens of one record may not grow past this */
#define TOK_MAX_BYTES (PEA_MAX_PAYLOAD / 2)
/* a stop word file larger than this is refused */
#define STOP_MAX_FILE (64u << 20)

/* Snowball's English stop word list (snowballstem.org), lower case. */
static const char *const english_stop[] = {
	"i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours",
	"yourself", "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself",
	"it", "its", "itself", "they", "them", "their", "theirs", "themselves", "what", "which",
	"who", "whom", "this", "that", "these", "those", "am", "is", "are", "was", "were", "be",
	"been", "being", "have", "has", "had", "having", "do", "does", "did", "doing", "would",
	"should", "could", "ought", "i'm", "you're", "he's", "she's", "it's", "we're", "they're",
	"i've", "you've", "we've", "they've", "i'd", "you'd", "he'd", "she'd", "we'd", "they'd",
	"i'll", "you'll", "he'll", "she'll", "we'll", "they'll", "isn't", "aren't", "wasn't",
	"weren't", "hasn't", "haven't", "hadn't", "doesn't", "don't", "didn't", "won't",
	"wouldn't", "shan't", "shouldn't", "can't", "cannot", "couldn't", "mustn't", "let's",
	"that's", "who's", "what's", "here's", "there's", "when's", "where's", "why's", "how's",
	"a", "an", "the", "and", "but", "if", "or", "because", "as", "until", "while", "of", "at",
	"by", "for", "with", "about", "against", "between", "into", "through", "during", "before",
	"after", "above", "below", "to", "from", "up", "down", "in", "out", "on", "off", "over",
	"under", "again", "further", "then", "once", "here", "there", "when", "where", "why", "how",
	"all", "any", "both", "each", "few", "more", "most", "other", "some", "such", "no", "nor",
	"not", "only", "own", "same", "so", "than", "too", "very", NULL,
};

const char *const *tok_builtin_stopwords(const char *lang)
{
	return !strcmp(lang, "english") ? english_stop : NULL;
}

const char **tok_languages(void)
{
	return sb_stemmer_list();
}

/* ---------------------------------------------------------- stop words */

/* An open-addressing set of strings: slots hold 1 + offset into text, so a
 * zero slot is empty.  Load stays under one half. */
struct strset {
	uint32_t *slot;
	uint64_t *hash;
	uint32_t mask, n;
	struct buf text; /* length-prefixed (uint32) strings */
};

static void set_init(struct strset *s)
{
	memset(s, 0, sizeof *s);
	buf_init(&s->text, 0);
	s->mask = 63;
	s->slot = xcalloc(64, sizeof *s->slot);
	s->hash = xcalloc(64, sizeof *s->hash);
}

static void set_release(struct strset *s)
{
	free(s->slot);
	free(s->hash);
	buf_release(&s->text);
}

static int set_has(const struct strset *s, const char *p, size_t n)
{
	uint64_t h = hash_bytes(p, n, 0);
	for (uint32_t i = (uint32_t)h & s->mask;; i = (i + 1) & s->mask) {
		if (!s->slot[i])
			return 0;
		if (s->hash[i] == h) {
			const uint8_t *q = s->text.p + s->slot[i] - 1;
			if (le32(q) == n && !memcmp(q + 4, p, n))
				return 1;
		}
	}
}

static void set_add(struct strset *s, const char *p, size_t n)
{
	if (!n || set_has(s, p, n))
		return;
	if (2 * (s->n + 1) > s->mask + 1) {
		uint32_t cap = 2 * (s->mask + 1);
		uint32_t *slot = xcalloc(cap, sizeof *slot);
		uint64_t *hash = xcalloc(cap, sizeof *hash);
		for (uint32_t i = 0; i <= s->mask; i++) {
			if (!s->slot[i])
				continue;
			uint32_t j = (uint32_t)s->hash[i] & (cap - 1);
			while (slot[j])
				j = (j + 1) & (cap - 1);
			slot[j] = s->slot[i];
			hash[j] = s->hash[i];
		}
		free(s->slot);
		free(s->hash);
		s->slot = slot;
		s->hash = hash;
		s->mask = cap - 1;
	}
	uint64_t h = hash_bytes(p, n, 0);
	uint32_t i = (uint32_t)h & s->mask;
	while (s->slot[i])
		i = (i + 1) & s->mask;
	s->slot[i] = (uint32_t)s->text.len + 1;
	s->hash[i] = h;
	uint8_t len[4];
	put_le32(len, (uint32_t)n);
	buf_add(&s->text, len, 4);
	buf_add(&s->text, p, n);
	s->n++;
}

/* ---------------------------------------------------------------- tok */

struct tok {
	struct tok_opts o;
	utf8proc_option_t uopt;
	pcre2_code *re;
	struct strset stop;
	int has_stop;
};

static uint8_t ascii_word[256];	 /* [A-Za-z0-9_] */
static uint8_t ascii_lower[256]; /* A-Z to a-z, every other byte itself */

/* idempotent: every call writes the same values */
static void tables_init(void)
{
	for (int c = 0; c < 256; c++) {
		ascii_word[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
		ascii_lower[c] = (uint8_t)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
	}
}

/* Normalize a whole text the way tok_add does (for stop words from a file). */
static void normalize_into(const struct tok *t, struct tok_state *s, const char *p, size_t n, struct buf *out);

/* A word of the current text: its bytes at `off` in the record's tokens (or
 * in `moved`, once n-grams without unigrams moved them there). */
struct wref {
	uint32_t off, len;
};

struct tok_state {
	const struct tok *t;
	pcre2_match_data *md;
	struct sb_stemmer *stemmer;
	struct buf rep;	 /* the text with invalid UTF-8 repaired */
	struct buf norm; /* the normalized text */
	int32_t *cp;	 /* utf8proc scratch */
	size_t cpcap;
	struct wref *w;	 /* the words of the current text */
	uint32_t wn, wcap;
	int keep_words;	 /* n-grams need the words */
	int plain;	 /* no stop words, length bounds, folding or stemming */
	struct buf wraw; /* words before stemming (char n-grams of stemmed words) */
	uint32_t *wraw_end;
	struct buf moved;
	/* the record's tokens, encoded as a strlist's items (varint length,
	 * bytes), so they reach a frame in one copy */
	struct buf text;
	uint32_t n;
	int over; /* a token was refused: the bound was reached */
	int slack; /* the text being split has 16 readable bytes past its end */
	uint32_t get_i; /* tok_get's cursor */
	size_t get_off;
};

struct tok *tok_new(const struct tok_opts *o, struct pea_err *e)
{
	tables_init();
	struct tok *t = xcalloc(1, sizeof *t);
	t->o = *o;
	if (o->pattern && o->split) {
		err_set(e, "--pattern and --split exclude each other");
		goto fail;
	}
	if (o->min_len < 0 || o->max_len < 0 || (o->max_len && o->min_len > o->max_len)) {
		err_set(e, "token length bounds %d-%d are not a range", o->min_len, o->max_len);
		goto fail;
	}
	t->uopt = UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
	if (!o->keep_case)
		t->uopt |= UTF8PROC_CASEFOLD;
	if (o->strip_accents)
		t->uopt |= UTF8PROC_STRIPMARK;
	if (o->stem) {
		struct sb_stemmer *sb = sb_stemmer_new(o->stem, "UTF_8");
		if (!sb) {
			struct buf l = BUF_INIT;
			for (const char **p = tok_languages(); *p; p++)
				buf_addf(&l, "%s%s", l.len ? ", " : "", *p);
			err_set(e, "no Snowball stemmer for '%s' (there are: %s)", o->stem, buf_cstr(&l));
			buf_release(&l);
			goto fail;
		}
		sb_stemmer_delete(sb);
	}
	if (o->pattern) {
		int err;
		PCRE2_SIZE off;
		t->re = pcre2_compile((PCRE2_SPTR)o->pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
				      &err, &off, NULL);
		if (!t->re) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(err, msg, sizeof msg);
			err_set(e, "pattern error at offset %zu: %s", (size_t)off, (char *)msg);
			goto fail;
		}
		pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE); /* the interpreter serves if JIT cannot */
	}
	set_init(&t->stop);
	if (o->stopwords) {
		t->has_stop = 1;
		const char *const *list = tok_builtin_stopwords(o->stopwords);
		struct tok_state *s = tok_state_new(t);
		struct buf norm = BUF_INIT, file = BUF_INIT;
		if (!list) {
			FILE *f = fopen(o->stopwords, "rb");
			if (!f) {
				err_set(e, "%s: cannot read stop words: %s", o->stopwords, strerror(errno));
				tok_state_free(s);
				goto fail;
			}
			char chunk[65536];
			size_t r;
			while ((r = fread(chunk, 1, sizeof chunk, f)) > 0 && file.len <= STOP_MAX_FILE)
				buf_add(&file, chunk, r);
			int bad = ferror(f);
			fclose(f);
			if (bad || file.len > STOP_MAX_FILE) {
				err_set(e, "%s: %s", o->stopwords,
					bad ? "read error" : "stop word file larger than 64 MiB");
				buf_release(&file);
				tok_state_free(s);
				goto fail;
			}
			if (!utf8_valid(file.p, file.len)) {
				err_set(e, "%s: stop word file is not valid UTF-8", o->stopwords);
				buf_release(&file);
				tok_state_free(s);
				goto fail;
			}
		}
		/* words are normalized as the text will be, so "The" in a file
		 * stops "the" */
		size_t i = 0;
		for (int k = 0;; k++) {
			const char *w;
			size_t wn;
			if (list) {
				if (!list[k])
					break;
				w = list[k];
				wn = strlen(w);
			} else {
				if (i >= file.len)
					break;
				const uint8_t *nl = memchr(file.p + i, '\n', file.len - i);
				size_t j = nl ? (size_t)(nl - file.p) : file.len;
				w = (const char *)file.p + i;
				wn = j - i;
				i = j + 1;
				while (wn && (w[wn - 1] == '\r' || w[wn - 1] == ' ' || w[wn - 1] == '\t'))
					wn--;
				while (wn && (*w == ' ' || *w == '\t')) {
					w++;
					wn--;
				}
				if (!wn || *w == '#')
					continue;
			}
			normalize_into(t, s, w, wn, &norm);
			set_add(&t->stop, (const char *)norm.p, norm.len);
		}
		buf_release(&norm);
		buf_release(&file);
		tok_state_free(s);
	}
	return t;
fail:
	tok_free(t);
	return NULL;
}

void tok_free(struct tok *t)
{
	if (!t)
		return;
	pcre2_code_free(t->re);
	if (t->stop.slot)
		set_release(&t->stop);
	free(t);
}

struct tok_state *tok_state_new(const struct tok *t)
{
	struct tok_state *s = xcalloc(1, sizeof *s);
	s->t = t;
	if (t->re)
		s->md = pcre2_match_data_create_from_pattern(t->re, NULL);
	if (t->o.stem)
		s->stemmer = sb_stemmer_new(t->o.stem, "UTF_8");
	s->keep_words = t->o.ngram_hi >= 2 || t->o.char_hi;
	s->plain = !t->has_stop && t->o.min_len <= 1 && !t->o.max_len && !t->o.fold_numbers && !t->o.stem;
	buf_init(&s->rep, 0);
	buf_init(&s->norm, 0);
	buf_init(&s->wraw, 0);
	buf_init(&s->moved, 0);
	buf_init(&s->text, 0);
	return s;
}

void tok_state_free(struct tok_state *s)
{
	if (!s)
		return;
	if (s->md)
		pcre2_match_data_free(s->md);
	if (s->stemmer)
		sb_stemmer_delete(s->stemmer);
	buf_release(&s->rep);
	buf_release(&s->norm);
	buf_release(&s->wraw);
	buf_release(&s->moved);
	buf_release(&s->text);
	free(s->cp);
	free(s->w);
	free(s->wraw_end);
	free(s);
}

void tok_begin(struct tok_state *s)
{
	buf_reset(&s->text);
	s->n = 0;
	s->over = 0;
	s->get_i = 0;
	s->get_off = 0;
}

uint32_t tok_count(const struct tok_state *s)
{
	return s->n;
}

const char *tok_get(struct tok_state *s, uint32_t i, size_t *len)
{
	if (i < s->get_i) {
		s->get_i = 0;
		s->get_off = 0;
	}
	const uint8_t *end = s->text.p + s->text.len;
	uint64_t n = 0;
	for (;;) {
		const uint8_t *p = s->text.p + s->get_off;
		size_t k = vi_get(p, end, &n, 5);
		if (s->get_i == i) {
			*len = (size_t)n;
			return (const char *)p + k;
		}
		s->get_off += k + (size_t)n;
		s->get_i++;
	}
}

void tok_encoded(const struct tok_state *s, const uint8_t **p, size_t *n)
{
	*p = s->text.p;
	*n = s->text.len;
}

/* ------------------------------------------------------- normalization */

/* Append the normalization of a non-ASCII island (valid UTF-8). */
static void norm_island(struct tok_state *s, const uint8_t *p, size_t n, struct buf *out)
{
	for (;;) {
		utf8proc_ssize_t k = utf8proc_decompose(p, (utf8proc_ssize_t)n, s->cp,
							(utf8proc_ssize_t)s->cpcap, s->t->uopt);
		if (k >= 0 && (size_t)k <= s->cpcap)
			k = utf8proc_normalize_utf32(s->cp, k, s->t->uopt);
		if (k < 0) { /* cannot happen on valid UTF-8: keep the text as it is */
			buf_add(out, p, n);
			return;
		}
		if ((size_t)k <= s->cpcap) {
			/* encode by hand: reencode works in place and wants room */
			uint8_t *dst = buf_grow(out, 4 * (size_t)k);
			size_t w = 0;
			for (utf8proc_ssize_t i = 0; i < k; i++)
				w += (size_t)utf8proc_encode_char(s->cp[i], dst + w);
			out->len += w;
			return;
		}
		s->cpcap = (size_t)k + 64;
		free(s->cp);
		s->cp = xmalloc(xmul(s->cpcap, sizeof *s->cp));
	}
}

static void normalize_into(const struct tok *t, struct tok_state *s, const char *ps, size_t n, struct buf *out)
{
	const uint8_t *p = (const uint8_t *)ps;
	buf_reset(out);
	if (t->o.no_normalize) {
		buf_add(out, p, n);
		return;
	}
	int fold = !t->o.keep_case;
	size_t i = 0;
	while (i < n) {
		/* the ASCII run */
		uint8_t *dst = buf_grow(out, n - i);
		size_t j = i;
		if (fold) {
			while (j < n && p[j] < 0x80) {
				uint8_t c = p[j];
				*dst++ = (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
				j++;
			}
		} else {
			while (j < n && p[j] < 0x80)
				j++;
			memcpy(dst, p + i, j - i);
		}
		out->len += j - i;
		if (j == n)
			break;
		/* the island: from the ASCII character before it to the next
		 * ASCII byte */
		size_t a = j;
		if (j > i) {
			a = j - 1;
			out->len--;
		}
		size_t b = j;
		while (b < n && p[b] >= 0x80)
			b++;
		norm_island(s, p + a, b - a, out);
		i = b;
	}
}

/* ---------------------------------------------------------- classifying */

static int cp_word(int32_t c)
{
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
	case UTF8PROC_CATEGORY_PC:
		return 1;
	default:
		return c == 0x200c || c == 0x200d; /* joiners, as Unicode's \w has them */
	}
}

static int cp_space(int32_t c)
{
	if (c < 0x80)
		return c == ' ' || (c >= '\t' && c <= '\r');
	utf8proc_category_t k = utf8proc_category(c);
	return c == 0x85 || k == UTF8PROC_CATEGORY_ZS || k == UTF8PROC_CATEGORY_ZL ||
	       k == UTF8PROC_CATEGORY_ZP;
}

/* decode one code point of valid UTF-8; returns its length */
static size_t cp_at(const uint8_t *p, size_t n, int32_t *c)
{
	if (p[0] < 0x80) {
		*c = p[0];
		return 1;
	}
	utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)n, c);
	if (k <= 0) {
		*c = 0xfffd;
		return 1;
	}
	return (size_t)k;
}

static size_t word_end(const uint8_t *p, size_t n, size_t i)
{
	while (i < n) {
		if (p[i] < 0x80) {
			if (!ascii_word[p[i]])
				break;
			i++;
			continue;
		}
		int32_t c;
		size_t k = cp_at(p + i, n - i, &c);
		if (!cp_word(c))
			break;
		i += k;
	}
	return i;
}

static size_t ncodepoints(const char *p, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((uint8_t)p[i] & 0xc0) != 0x80;
	return k;
}

static int all_digits(const char *ps, size_t n)
{
	const uint8_t *p = (const uint8_t *)ps;
	size_t i = 0;
	if (!n)
		return 0;
	while (i < n) {
		int32_t c;
		size_t k = cp_at(p + i, n - i, &c);
		utf8proc_category_t cat = utf8proc_category(c);
		if (cat != UTF8PROC_CATEGORY_ND && cat != UTF8PROC_CATEGORY_NL && cat != UTF8PROC_CATEGORY_NO)
			return 0;
		i += k;
	}
	return 1;
}

/* URL at p (http://, https://, ftp://, www.): its length, or 0 */
static size_t url_len(const uint8_t *p, size_t n)
{
	size_t i;
	if (n > 7 && !memcmp(p, "http://", 7))
		i = 7;
	else if (n > 8 && !memcmp(p, "https://", 8))
		i = 8;
	else if (n > 6 && !memcmp(p, "ftp://", 6))
		i = 6;
	else if (n > 4 && !memcmp(p, "www.", 4))
		i = 4;
	else
		return 0;
	size_t start = i;
	while (i < n) {
		uint8_t c = p[i];
		if (c <= ' ' || c == '<' || c == '>' || c == '"' || c == '\'' || c == '`' || c == '{' ||
		    c == '}' || c == '|' || c == '\\' || c == '^' || c == 0x7f)
			break;
		if (c >= 0x80) {
			int32_t cp;
			size_t k = cp_at(p + i, n - i, &cp);
			if (cp_space(cp))
				break;
			i += k;
			continue;
		}
		i++;
	}
	while (i > start && strchr(".,;:!?)]", p[i - 1]))
		i--;
	if (i == start || !ascii_word[p[start]])
		return 0;
	return i;
}

static int email_local(uint8_t c)
{
	return ascii_word[c] || c == '.' || c == '%' || c == '+' || c == '-';
}

/* e-mail address at p: its length, or 0 */
static size_t email_len(const uint8_t *p, size_t n, size_t *run)
{
	size_t i = 0;
	while (i < n && email_local(p[i]))
		i++;
	*run = i; /* no address starts later in this run either */
	if (!i || i >= n || p[i] != '@')
		return 0;
	size_t d = ++i, lastdot = 0;
	while (i < n && (ascii_word[p[i]] || p[i] == '-' || p[i] == '.')) {
		if (p[i] == '.')
			lastdot = i;
		i++;
	}
	while (i > d && (p[i - 1] == '.' || p[i - 1] == '-'))
		i--;
	if (!lastdot || lastdot + 2 >= i || lastdot == d)
		return 0;
	for (size_t k = lastdot + 1; k < i; k++)
		if (!((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z')))
			return 0;
	return i;
}

/* --------------------------------------------------------------- output */

/* how put copies a token */
enum { COPY, COPY_SLACK /* src is in a text with 16 bytes of slack */ };

/* Append a token; returns the offset of its bytes in s->text, or -1 when
 * the record's bound is reached. */
static inline int64_t put(struct tok_state *s, const char *src, size_t n, int how)
{
	if (PEA_UNLIKELY(s->text.len + n + 5 > TOK_MAX_BYTES)) {
		s->over = 1;
		return -1;
	}
	uint8_t *p = buf_grow(&s->text, n + 5 + 16);
	size_t k = n < 0x80 ? (*p = (uint8_t)n, 1) : vi_put(p, n);
	p += k;
	if (how == COPY_SLACK && n <= 16)
		memcpy(p, src, 16); /* a fixed size: two moves, no call */
	else
		memcpy(p, src, n);
	int64_t off = (int64_t)(s->text.len + k);
	s->text.len += k + n;
	s->n++;
	return off;
}

/* drop the token that starts at byte `start` (its length prefix) */
static inline void unput(struct tok_state *s, size_t start)
{
	s->text.len = start;
	s->n--;
}

static void word_ref(struct tok_state *s, int64_t off, size_t n)
{
	if (s->wn == s->wcap) {
		s->wcap = s->wcap ? 2 * s->wcap : 1024;
		s->w = xrealloc(s->w, xmul(s->wcap, sizeof *s->w));
		s->wraw_end = xrealloc(s->wraw_end, xmul(s->wcap, sizeof *s->wraw_end));
	}
	s->w[s->wn].off = (uint32_t)off;
	s->w[s->wn].len = (uint32_t)n;
	s->wn++;
}

/* A raw token through the filters into the record's tokens.  `whole`
 * marks URLs (1) and e-mail addresses (2), neither stopped nor stemmed. */
static void take_slow(struct tok_state *s, const char *p, size_t n, int whole, int how)
{
	const struct tok_opts *o = &s->t->o;
	size_t start = s->text.len;
	int64_t off;
	if (!n)
		return;
	if (whole) {
		if (o->fold_urls)
			off = whole == 1 ? put(s, TOK_URL, 5, COPY) : put(s, TOK_EMAIL, 7, COPY);
		else
			off = put(s, p, n, how);
		if (off >= 0 && s->keep_words) {
			n = s->text.len - (size_t)off;
			word_ref(s, off, n);
			if (s->stemmer && o->char_hi) {
				buf_add(&s->wraw, s->text.p + off, n);
				s->wraw_end[s->wn - 1] = (uint32_t)s->wraw.len;
			}
		}
		return;
	}
	off = put(s, p, n, how);
	if (off < 0)
		return;
	const char *q = (const char *)s->text.p + off;
	if (o->fold_numbers && all_digits(q, n)) {
		unput(s, start);
		off = put(s, TOK_NUM, 5, COPY);
		n = 5;
		if (s->stemmer && o->char_hi)
			buf_add(&s->wraw, TOK_NUM, 5);
	} else {
		if (s->t->has_stop && set_has(&s->t->stop, q, n)) {
			unput(s, start);
			return;
		}
		if (o->min_len > 1 || o->max_len) {
			size_t k = ncodepoints(q, n);
			if (k < (size_t)o->min_len || (o->max_len && k > (size_t)o->max_len)) {
				unput(s, start);
				return;
			}
		}
		if (s->stemmer && n < (1u << 20)) {
			if (o->char_hi) /* char n-grams are of the word as written */
				buf_add(&s->wraw, q, n);
			const sb_symbol *st = sb_stemmer_stem(s->stemmer, (const sb_symbol *)q, (int)n);
			if (st) {
				unput(s, start);
				n = (size_t)sb_stemmer_length(s->stemmer);
				off = put(s, (const char *)st, n, COPY);
			}
		}
	}
	if (off >= 0 && s->keep_words) {
		word_ref(s, off, n);
		if (s->stemmer && o->char_hi)
			s->wraw_end[s->wn - 1] = (uint32_t)s->wraw.len;
	}
}

/* The common token: a word, with no filter to pass (the defaults). */
static inline void take(struct tok_state *s, const char *p, size_t n, int whole, int how)
{
	if (PEA_LIKELY(s->plain && !whole && n)) {
		int64_t off = put(s, p, n, how);
		if (off >= 0 && s->keep_words)
			word_ref(s, off, n);
		return;
	}
	take_slow(s, p, n, whole, how);
}

/* fastText's subwords: the n-grams of "<word>", in code points, leaving out
 * the lone markers */
static void char_grams(struct tok_state *s, const char *w, size_t wn)
{
	const struct tok_opts *o = &s->t->o;
	size_t need = wn + 2;
	uint8_t stackbuf[256];
	uint8_t *b = need <= sizeof stackbuf ? stackbuf : xmalloc(need);
	b[0] = '<';
	memcpy(b + 1, w, wn);
	b[wn + 1] = '>';
	for (size_t i = 0; i < need; i++) {
		if ((b[i] & 0xc0) == 0x80)
			continue;
		size_t j = i;
		for (int len = 1; len <= o->char_hi && j < need; len++) {
			j++;
			while (j < need && (b[j] & 0xc0) == 0x80)
				j++;
			if (len >= o->char_lo && !(len == 1 && (i == 0 || j == need)))
				put(s, (const char *)b + i, j - i, COPY);
		}
	}
	if (b != stackbuf)
		free(b);
}

/* The n-grams of the current text's words, after its unigrams. */
/* A word into an n-gram.  Most words are short: those are moved as 16
 * bytes through a register (two moves, not a call), which the caller made
 * room for at d and which the buffer holding the word has after it; the
 * bytes past the word are overwritten next or lie past the end. */
static inline void copy_word(uint8_t *d, const uint8_t *src, size_t n)
{
	if (n <= 16) {
		uint8_t t[16];
		memcpy(t, src, 16);
		memcpy(d, t, 16);
	} else {
		memcpy(d, src, n);
	}
}

static void grams(struct tok_state *s, size_t text_start, uint32_t n_before)
{
	const struct tok_opts *o = &s->t->o;
	int moved = o->ngram_lo > 1 || !o->ngram_hi;
	if (moved) {
		/* unigrams are not wanted: keep the words aside */
		buf_reset(&s->moved);
		buf_add(&s->moved, s->text.p + text_start, s->text.len - text_start);
		buf_grow(&s->moved, 16); /* the slack copy_word reads into */
		for (uint32_t i = 0; i < s->wn; i++)
			s->w[i].off -= (uint32_t)text_start;
		s->text.len = text_start;
		s->n = n_before;
	}
	for (int g = o->ngram_lo > 2 ? o->ngram_lo : 2; g <= o->ngram_hi; g++) {
		for (uint32_t i = 0; i + (uint32_t)g <= s->wn; i++) {
			size_t len = (size_t)g - 1;
			for (uint32_t k = i; k < i + (uint32_t)g; k++)
				len += s->w[k].len;
			if (s->text.len + len + 5 > TOK_MAX_BYTES) {
				s->over = 1;
				return;
			}
			uint8_t *d = buf_grow(&s->text, len + 5 + 16);
			d += vi_put(d, len);
			/* after buf_grow: the words may be in the text, which moved */
			const uint8_t *base = moved ? s->moved.p : s->text.p;
			for (uint32_t k = i; k < i + (uint32_t)g; k++) {
				if (k > i)
					*d++ = ' ';
				copy_word(d, base + s->w[k].off, s->w[k].len);
				d += s->w[k].len;
			}
			s->text.len = (size_t)(d - s->text.p);
			s->n++;
		}
	}
	if (o->char_hi) {
		for (uint32_t i = 0; i < s->wn; i++) {
			char tmp[512];
			const char *w;
			size_t wn;
			if (s->stemmer) {
				uint32_t a = i ? s->wraw_end[i - 1] : 0;
				w = (const char *)s->wraw.p + a;
				wn = s->wraw_end[i] - a;
			} else {
				const uint8_t *base = moved ? s->moved.p : s->text.p;
				wn = s->w[i].len;
				/* copied out: emitting grows the buffer the word is in */
				char *c = wn <= sizeof tmp ? tmp : xmalloc(wn);
				memcpy(c, base + s->w[i].off, wn);
				w = c;
			}
			char_grams(s, w, wn);
			if (!s->stemmer && w != tmp)
				free((char *)w);
			if (s->over)
				return;
		}
	}
}

static inline size_t ascii_word_end(const uint8_t *p, size_t n, size_t i)
{
	while (i < n && ascii_word[p[i]])
		i++;
	if (i < n && p[i] >= 0x80)
		i = word_end(p, n, i);
	return i;
}

static void words_default(struct tok_state *s, const uint8_t *p, size_t n, int how)
{
	const uint8_t *at = memchr(p, '@', n);
	size_t next_at = at ? (size_t)(at - p) : n;
	size_t no_email = 0; /* no e-mail address starts before this */
	size_t i = 0;
	while (i < n) {
		/* skip to a word character */
		if (p[i] < 0x80) {
			if (!ascii_word[p[i]]) {
				i++;
				continue;
			}
		} else {
			int32_t c;
			size_t k = cp_at(p + i, n - i, &c);
			if (!cp_word(c)) {
				i += k;
				continue;
			}
		}
		size_t e = ascii_word_end(p, n, i);
		if (e < n) {
			uint8_t c = p[e];
			size_t k = 0;
			int kind = 0;
			if ((c == ':' || c == '.') && e - i >= 3 && e - i <= 5) {
				k = url_len(p + i, n - i);
				kind = 1;
			}
			if (!k && next_at < n && (c == '@' || c == '.' || c == '+' || c == '-' || c == '%')) {
				if (next_at < i) {
					at = memchr(p + i, '@', n - i);
					next_at = at ? (size_t)(at - p) : n;
				}
				if (next_at < n && i >= no_email) {
					size_t run;
					k = email_len(p + i, n - i, &run);
					kind = 2;
					if (!k)
						no_email = i + run;
				}
			}
			if (k) {
				take(s, (const char *)p + i, k, kind, how);
				i += k;
				continue;
			}
		}
		take(s, (const char *)p + i, e - i, 0, how);
		i = e;
	}
}

static void words_split(struct tok_state *s, const uint8_t *p, size_t n, int how)
{
	size_t i = 0;
	while (i < n) {
		int32_t c;
		size_t k = cp_at(p + i, n - i, &c);
		if (cp_space(c)) {
			i += k;
			continue;
		}
		size_t j = i;
		while (j < n) {
			k = cp_at(p + j, n - j, &c);
			if (cp_space(c))
				break;
			j += k;
		}
		int kind = 0;
		size_t run;
		if (url_len(p + i, j - i) == j - i)
			kind = 1;
		else if (email_len(p + i, j - i, &run) == j - i)
			kind = 2;
		take(s, (const char *)p + i, j - i, kind, how);
		i = j;
	}
}

static int words_pattern(struct tok_state *s, const uint8_t *p, size_t n, int how, struct pea_err *e)
{
	PCRE2_SIZE off = 0;
	while (off <= n) {
		int r = pcre2_match(s->t->re, p, n, off, PCRE2_NO_UTF_CHECK, s->md, NULL);
		if (r == PCRE2_ERROR_NOMATCH)
			break;
		if (r < 0) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(r, msg, sizeof msg);
			err_set(e, "pattern matching failed: %s", (char *)msg);
			return -1;
		}
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
		if (ov[1] > ov[0]) {
			take(s, (const char *)p + ov[0], ov[1] - ov[0], 0, how);
			off = ov[1];
		} else {
			/* an empty match: step over one character */
			if (ov[0] >= n)
				break;
			int32_t c;
			off = ov[0] + cp_at(p + ov[0], n - ov[0], &c);
		}
	}
	return 0;
}

/* ASCII text lower-cased into b, 8 bytes at a time, with 16 bytes of
 * slack after it: a byte in A..Z is the one whose +0x3f carries into the
 * top bit while its +0x25 does not (no byte is over 0x7f, so no carry
 * crosses into the next byte) */
static void ascii_fold_into(struct buf *b, const uint8_t *p, size_t n)
{
	buf_reset(b);
	uint8_t *d = buf_grow(b, n + 16);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w, hi = 0x8080808080808080ull;
		memcpy(&w, p + i, 8);
		uint64_t upper = (w + 0x3f3f3f3f3f3f3f3full) & ~(w + 0x2525252525252525ull) & hi;
		w |= upper >> 2;
		memcpy(d + i, &w, 8);
	}
	for (; i < n; i++)
		d[i] = ascii_lower[p[i]];
	b->len = n;
}

static int is_ascii(const uint8_t *p, size_t n)
{
	size_t i = 0;
	uint64_t acc = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= p[i];
	return !(acc & 0x8080808080808080ull);
}

int tok_add(struct tok_state *s, const char *ps, size_t n, uint64_t *repaired, struct pea_err *e)
{
	const struct tok *t = s->t;
	const uint8_t *p = (const uint8_t *)ps;
	s->slack = 0;
	if (is_ascii(p, n) && (t->o.keep_case || t->o.no_normalize)) {
		/* NFKC leaves ASCII alone: the text as it is */
	} else if (is_ascii(p, n)) {
		/* and case folding of ASCII is a few operations a word */
		ascii_fold_into(&s->norm, p, n);
		p = s->norm.p;
		s->slack = 1;
	} else {
		if (!is_ascii(p, n) && !utf8_valid(p, n)) {
			buf_reset(&s->rep);
			size_t k = utf8_repair(&s->rep, p, n);
			if (repaired)
				*repaired += k;
			p = s->rep.p;
			n = s->rep.len;
		}
		normalize_into(t, s, (const char *)p, n, &s->norm);
		buf_grow(&s->norm, 16);
		p = s->norm.p;
		n = s->norm.len;
		s->slack = 1;
	}
	int how = s->slack ? COPY_SLACK : COPY;
	size_t text_start = s->text.len;
	uint32_t n_before = s->n;
	s->wn = 0;
	buf_reset(&s->wraw);
	if (t->re) {
		if (words_pattern(s, p, n, how, e))
			return -1;
	} else if (t->o.split) {
		words_split(s, p, n, how);
	} else {
		words_default(s, p, n, how);
	}
	if (s->keep_words && !s->over)
		grams(s, text_start, n_before);
	if (s->over) {
		err_set(e, "the record's tokens pass %u bytes", TOK_MAX_BYTES);
		return -1;
	}
	return 0;
}
