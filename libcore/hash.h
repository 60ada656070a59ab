/* hash.h - the hash of pea: XXH3-64 (xxHash), stable across runs, machines
 * and versions of xxHash (its output is frozen by its specification), so
 * hashed features and hash splits mean the same thing everywhere. */
#ifndef PEA_HASH_H
#define PEA_HASH_H

#include <stddef.h>
#include <stdint.h>
/* inlined: tokens are short, and the call into the library cost more than
 * hashing them (the functions and their results are the library's) */
#define XXH_INLINE_ALL
#include <xxhash.h>

static inline uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, n, seed);
}

/* a hash as a number in [0, 1) */
static inline double hash_unit(uint64_t h)
{
	return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

#endif
