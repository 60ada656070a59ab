/* Unit tests of tok.c: normalization, Unicode edge cases, the ASCII fast
 * path, invalid bytes, filters and n-grams. */
#include "rng.h"
#include "tap.h"
#include "tok.h"

/* the tokens of one text under the given options, joined by '|' */
static char got[4096];
static uint64_t repaired;

static const char *toks(const struct tok_opts *o, const char *text)
{
	struct pea_err e;
	struct tok *t = tok_new(o, &e);
	if (!t) {
		snprintf(got, sizeof got, "error: %s", e.msg);
		return got;
	}
	struct tok_state *s = tok_state_new(t);
	tok_begin(s);
	repaired = 0;
	if (tok_add(s, text, strlen(text), &repaired, &e)) {
		snprintf(got, sizeof got, "error: %s", e.msg);
	} else {
		size_t at = 0;
		got[0] = 0;
		for (uint32_t i = 0; i < tok_count(s) && at < sizeof got - 64; i++) {
			size_t n;
			const char *p = tok_get(s, i, &n);
			at += (size_t)snprintf(got + at, sizeof got - at, "%s%.*s", i ? "|" : "", (int)n, p);
		}
	}
	tok_state_free(s);
	tok_free(t);
	return got;
}

int main(void)
{
	struct tok_opts d = TOK_OPTS_INIT, o;

	is_str(toks(&d, "Hello, World! The quick_brown fox."), "hello|world|the|quick_brown|fox",
	       "ASCII: words, case folded, connector kept");
	is_str(toks(&d, ""), "", "empty text, no tokens");
	is_str(toks(&d, " \t,.;"), "", "punctuation only, no tokens");

	/* normalization */
	is_str(toks(&d, "caf\xc3\xa9 CAF\xc3\x89 cafe\xcc\x81"), "caf\xc3\xa9|caf\xc3\xa9|caf\xc3\xa9",
	       "precomposed, upper case and combining accent are one token (NFC)");
	is_str(toks(&d, "e\xcc\x81t\xc3\xa9"), "\xc3\xa9t\xc3\xa9",
	       "a combining mark after an ASCII letter composes with it");
	is_str(toks(&d, "\xef\xac\x81ne \xef\xbc\xa6\xef\xbd\x95\xef\xbd\x8c\xef\xbd\x8c"), "fine|full",
	       "NFKC: ligature and full-width letters");
	is_str(toks(&d, "Stra\xc3\x9f" "e"), "strasse", "case folding: sharp s folds to ss");
	o = d;
	o.keep_case = 1;
	is_str(toks(&o, "Hello W\xc3\x96RLD"), "Hello|W\xc3\x96RLD", "--keep-case keeps case");
	o = d;
	o.strip_accents = 1;
	is_str(toks(&o, "Na\xc3\xafve r\xc3\xa9sum\xc3\xa9"), "naive|resume", "--strip-accents");

	/* Turkish dotted capital I: full case folding gives i + U+0307 */
	is_str(toks(&d, "\xc4\xb0stanbul"), "i\xcc\x87stanbul", "dotted I folds to i + combining dot above");
	o = d;
	o.strip_accents = 1;
	is_str(toks(&o, "\xc4\xb0stanbul"), "istanbul", "dotted I with accents stripped is i");
	is_str(toks(&d, "\xc4\xb1"), "\xc4\xb1", "dotless i stays dotless");

	/* scripts and symbols */
	is_str(toks(&d, "\xe6\x9d\xb1\xe4\xba\xac\xe3\x82\xbf\xe3\x83\xaf\xe3\x83\xbc \xe4\xb8\xad\xe6\x96\x87"),
	       "\xe6\x9d\xb1\xe4\xba\xac\xe3\x82\xbf\xe3\x83\xaf\xe3\x83\xbc|\xe4\xb8\xad\xe6\x96\x87",
	       "CJK: runs of letters are tokens");
	is_str(toks(&d, "ok \xf0\x9f\x99\x82 go\xf0\x9f\x91\x8dgo"), "ok|go|go", "emoji are not word characters");
	o = d;
	o.split = 1;
	is_str(toks(&o, "ok \xf0\x9f\x99\x82 a,b"), "ok|\xf0\x9f\x99\x82|a,b", "--split keeps emoji and punctuation");
	is_str(toks(&d, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xce\xba\xcf\x8c\xcf\x83\xce\xbc\xce\xb5"),
	       "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82|\xce\xba\xcf\x8c\xcf\x83\xce\xbc\xce\xb5",
	       "Cyrillic and Greek fold case");
	is_str(toks(&d, "a\xc2\xa0" "b\xe3\x80\x80" "c"), "a|b|c", "no-break and ideographic spaces separate");

	/* invalid bytes */
	is_str(toks(&d, "ab\xff" "cd"), "ab|cd", "an invalid byte separates words");
	is_int(repaired, 1, "and is counted");
	is_str(toks(&d, "abc\xe2\x82"), "abc", "a truncated sequence at the end");
	is_int(repaired, 1, "counted once");
	o = d;
	o.split = 1;
	is_str(toks(&o, "x\xc0\xafy"), "x\xef\xbf\xbdy", "an overlong sequence becomes U+FFFD (split keeps it)");
	is_int(repaired, 1, "and is counted");

	/* URLs and e-mail addresses */
	is_str(toks(&d, "see https://Example.com/a?b=1. now"), "see|https://example.com/a?b=1|now",
	       "a URL is one token, trailing dot left out");
	is_str(toks(&d, "mail John.Smith+x@mail.example.org, please"), "mail|john.smith+x@mail.example.org|please",
	       "an e-mail address is one token");
	is_str(toks(&d, "See HTTP://X.org/A"), "see|http://x.org/a", "an upper-case URL, folded, is one token");
	is_str(toks(&d, "a@b not@mail x.y"), "a|b|not|mail|x|y", "no address without a dotted domain");
	o = d;
	o.fold_urls = 1;
	is_str(toks(&o, "www.pea.dev or me@pea.dev"), "<url>|or|<email>", "--fold-urls");

	/* filters */
	o = d;
	o.fold_numbers = 1;
	is_str(toks(&o, "pi 3.14 is 42 b2b \xd9\xa3"), "pi|<num>|<num>|is|<num>|b2b|<num>",
	       "--fold-numbers folds digit-only tokens (any script)");
	o = d;
	o.stopwords = "english";
	is_str(toks(&o, "The cat and THE hat"), "cat|hat", "--stopwords english, after folding");
	o = d;
	o.min_len = 2;
	o.max_len = 4;
	is_str(toks(&o, "a be sea deep ocean \xc3\xa9t\xc3\xa9"), "be|sea|deep|\xc3\xa9t\xc3\xa9",
	       "--min-len/--max-len count characters, not bytes");
	o = d;
	o.stem = "english";
	is_str(toks(&o, "running runs easily"), "run|run|easili", "--stem english (Snowball)");
	o.stem = "french";
	is_str(toks(&o, "continuellement"), "continuel", "--stem french");
	o.stem = "klingon";
	ok(!strncmp(toks(&o, "x"), "error: no Snowball stemmer for 'klingon'", 40), "unknown stemmer is refused");
	o = d;
	o.pattern = "\\p{Lu}\\p{Ll}+";
	o.keep_case = 1;
	is_str(toks(&o, "Alpha beta Gamma \xc3\x89t\xc3\xa9"), "Alpha|Gamma|\xc3\x89t\xc3\xa9", "--pattern with Unicode properties");
	o = d;
	o.pattern = "[a-z]+";
	is_str(toks(&o, "Hello WORLD"), "hello|world", "a pattern sees case-folded text (ASCII too)");
	o.pattern = "(";
	ok(!strncmp(toks(&o, "x"), "error: pattern error at offset 1", 32), "a bad pattern is refused");
	o = d;
	o.pattern = "x*";
	is_str(toks(&o, "axxbx"), "xx|x", "empty matches step on");

	/* n-grams */
	o = d;
	o.ngram_lo = 1;
	o.ngram_hi = 3;
	is_str(toks(&o, "a b c"), "a|b|c|a b|b c|a b c", "word n-grams 1-3");
	o.ngram_lo = 2;
	o.ngram_hi = 2;
	is_str(toks(&o, "a b c"), "a b|b c", "word bigrams alone");
	is_str(toks(&o, "a"), "", "no bigram of one word");
	o = d;
	o.ngram_lo = o.ngram_hi = 0;
	o.char_lo = o.char_hi = 3;
	is_str(toks(&o, "where"), "<wh|whe|her|ere|re>", "character 3-grams as fastText makes them");
	o.char_lo = 1;
	o.char_hi = 2;
	is_str(toks(&o, "ab"), "<a|a|ab|b|b>", "character 1-2 grams leave out the lone markers");
	o.char_lo = o.char_hi = 2;
	is_str(toks(&o, "\xc3\xa9t\xc3\xa9"), "<\xc3\xa9|\xc3\xa9t|t\xc3\xa9|\xc3\xa9>", "character n-grams count code points");
	o = d;
	o.char_lo = o.char_hi = 3;
	o.stem = "english";
	is_str(toks(&o, "runs"), "run|<ru|run|uns|ns>", "character n-grams of the word before stemming");

	/* several texts in one record: n-grams do not cross them */
	{
		struct pea_err e;
		o = d;
		o.ngram_hi = 2;
		struct tok *t = tok_new(&o, &e);
		struct tok_state *s = tok_state_new(t);
		tok_begin(s);
		tok_add(s, "a b", 3, NULL, &e);
		tok_add(s, "c", 1, NULL, &e);
		size_t n;
		is_int(tok_count(s), 4, "two texts: a, b, a b, c");
		const char *p = tok_get(s, 3, &n);
		ok(n == 1 && *p == 'c', "the second text's token comes last");
		p = tok_get(s, 2, &n);
		ok(n == 3 && !memcmp(p, "a b", 3), "tok_get reads back after a forward read");
		tok_state_free(s);
		tok_free(t);
	}
	/* a long non-ASCII text (islands grow the scratch buffers) */
	{
		static char big[60000];
		size_t at = 0;
		while (at + 8 < sizeof big) {
			memcpy(big + at, "\xc3\x89t\xc3\xa9 ", 6);
			at += 6;
		}
		big[at] = 0;
		const char *r = toks(&d, big);
		ok(!strncmp(r, "\xc3\xa9t\xc3\xa9|\xc3\xa9t\xc3\xa9|", 12), "a long text of accented words");
	}
	/* random bytes under every option: no crash, every token valid UTF-8 */
	{
		struct pea_err e;
		struct rng r;
		rng_seed(&r, 7);
		static const char alphabet[] = "aZ9_ .,@:/-\xc3\xa9\xcc\x81\xe6\x9d\xb1\xf0\x9f\x99\x82\xff\xc0\xed\xa0\x80 https://www.x.org a@b.cd 42";
		struct tok_opts all[3];
		for (int k = 0; k < 3; k++)
			all[k] = d;
		all[0].ngram_hi = 3;
		all[0].char_lo = 2;
		all[0].char_hi = 4;
		all[0].stem = "english";
		all[0].stopwords = "english";
		all[0].fold_numbers = all[0].fold_urls = 1;
		all[1].split = 1;
		all[1].strip_accents = 1;
		all[1].ngram_lo = all[1].ngram_hi = 2;
		all[1].min_len = 2;
		all[1].max_len = 5;
		all[2].pattern = "\\w+|\\p{So}";
		all[2].char_lo = all[2].char_hi = 3;
		all[2].ngram_lo = all[2].ngram_hi = 0;
		int bad = 0;
		for (int k = 0; k < 3; k++) {
			struct tok *t = tok_new(&all[k], &e);
			struct tok_state *s = tok_state_new(t);
			for (int it = 0; it < 300; it++) {
				char text[400];
				size_t n = rng_below(&r, sizeof text);
				for (size_t i = 0; i < n; i++)
					text[i] = rng_below(&r, 4) ? alphabet[rng_below(&r, sizeof alphabet - 1)]
								   : (char)rng_below(&r, 256);
				tok_begin(s);
				if (tok_add(s, text, n, NULL, &e)) {
					bad++;
					continue;
				}
				for (uint32_t i = 0; i < tok_count(s); i++) {
					size_t len;
					const char *p = tok_get(s, i, &len);
					bad += !len || !utf8_valid((const uint8_t *)p, len);
				}
			}
			tok_state_free(s);
			tok_free(t);
		}
		is_int(bad, 0, "random bytes under every option give valid, non-empty tokens");
	}
	return tap_done();
}
