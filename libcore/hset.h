/* hset.h - a set of 64-bit hashes (open addressing, linear probing).
 *
 * For "have I seen this before" over many strings (URLs of a crawl, links
 * of a page) without keeping the strings: 8 bytes an entry, at most half
 * full.  Hashes are stored with their low bit set (0 marks an empty
 * slot), so two strings whose hashes differ only there count as one: with
 * XXH3 that is one chance in 2^63 a pair, far below any crawl's size. */
#ifndef PEA_HSET_H
#define PEA_HSET_H

#include <stddef.h>
#include <stdint.h>

struct hset {
	uint64_t *v; /* 0 = empty slot; stored hashes have their low bit set */
	size_t n, cap;
};
#define HSET_INIT {NULL, 0, 0}

/* Add a hash; 1 when it was not there yet. */
int hset_add(struct hset *s, uint64_t h);
void hset_release(struct hset *s);

#endif
