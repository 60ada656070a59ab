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
int hset_has(const struct hset *s, uint64_t h);
void hset_release(struct hset *s);

/* The recent hashes of an endless stream (ids a follower has emitted),
 * in bounded memory: two generations of at most max/2 each.  When the
 * newer one fills, the older is forgotten and the newer takes its place,
 * so the set always knows at least the last max/2 hashes added or
 * touched - a hash met again (an item still in a feed) moves up to the
 * newer generation and is never forgotten while it keeps coming. */
struct hrecent {
	struct hset cur, old;
	size_t max;
};
#define HRECENT_INIT(max) {HSET_INIT, HSET_INIT, (max)}
/* Add or touch; 1 when h was not known. */
int hrecent_add(struct hrecent *r, uint64_t h);
int hrecent_has(const struct hrecent *r, uint64_t h);
/* every hash known, newer generation last (for saving them) */
size_t hrecent_list(const struct hrecent *r, uint64_t *dst, size_t n);
void hrecent_release(struct hrecent *r);

#endif
