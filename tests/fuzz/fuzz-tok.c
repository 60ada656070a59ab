/* fuzz-tok - the tokenizer on arbitrary bytes under eight option sets (the
 * first byte chooses); every token must be non-empty valid UTF-8 and the
 * encoded list must hold exactly tok_count items. */
#include "tok.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tok *t[8];
	static struct tok_state *s[8];
	struct pea_err e;
	if (!t[0]) {
		for (int k = 0; k < 8; k++) {
			struct tok_opts o = TOK_OPTS_INIT;
			switch (k) {
			case 1: o.ngram_hi = 3; o.stopwords = "english"; o.fold_numbers = o.fold_urls = 1; break;
			case 2: o.char_lo = 1; o.char_hi = 5; o.stem = "english"; break;
			case 3: o.split = 1; o.strip_accents = 1; o.min_len = 2; o.max_len = 6; break;
			case 4: o.pattern = "\\w+|[^\\s\\w]"; o.ngram_lo = 2; o.ngram_hi = 2; break;
			case 5: o.keep_case = 1; o.ngram_lo = o.ngram_hi = 0; o.char_lo = o.char_hi = 3; break;
			case 6: o.no_normalize = 1; o.stem = "turkish"; o.ngram_hi = 2; break;
			case 7: o.strip_accents = 1; o.stem = "russian"; o.char_lo = 2; o.char_hi = 2; break;
			}
			t[k] = tok_new(&o, &e);
			if (!t[k])
				abort();
			s[k] = tok_state_new(t[k]);
		}
	}
	if (!size)
		return 0;
	int k = data[0] & 7;
	tok_begin(s[k]);
	uint64_t rep = 0;
	/* two texts, split at the second byte's position, as two fields */
	size_t cut = size > 1 ? 1 + data[1] % size : size;
	if (cut > size)
		cut = size;
	if (tok_add(s[k], (const char *)data + 1, cut - 1, &rep, &e) ||
	    tok_add(s[k], (const char *)data + cut, size - cut, &rep, &e))
		return 0;
	const uint8_t *enc;
	size_t n, pos = 0;
	uint32_t items = 0;
	tok_encoded(s[k], &enc, &n);
	while (pos < n) {
		uint64_t len;
		size_t v = vi_get(enc + pos, enc + n, &len, 5);
		if (!v || len == 0 || len > n - pos - v || !utf8_valid(enc + pos + v, (size_t)len))
			abort();
		pos += v + (size_t)len;
		items++;
	}
	if (items != tok_count(s[k]))
		abort();
	return 0;
}
