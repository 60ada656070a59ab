/* ntab.h - a frozen name table: the distinct strings of a strtab (user and
 * item names of a recommender) written into one model section and searched
 * in place from the mapped file, so a model of millions of names opens in
 * the time of a digest check, with no parsing and no copy.
 *
 * Layout (little-endian, 8-byte aligned): u32 count, u32 slots (a power of
 * two above count), u64 bytes; u64 offset[count + 1]; u32 slot[slots]
 * (id + 1, 0 = empty: open addressing on XXH3); then the names, each
 * followed by a NUL so it is also a C string.  ntab_open checks all of it:
 * a model file is input like any other. */
#ifndef PEA_NTAB_H
#define PEA_NTAB_H

#include "err.h"
#include "strtab.h"

struct ntab {
	uint32_t n, nslot;
	const uint64_t *off;
	const uint32_t *slot;
	const char *bytes;
};

/* Append the table of t's names (ids kept) to out. */
void ntab_write(const struct strtab *t, struct buf *out);
/* View a table in memory (p must be 8-byte aligned and outlive t); -1 with
 * the reason in e when it is malformed. */
int ntab_open(struct ntab *t, const void *p, size_t n, struct pea_err *e);
/* the id of a name, or -1 */
int64_t ntab_find(const struct ntab *t, const char *s, size_t n);
static inline const char *ntab_name(const struct ntab *t, uint32_t id, size_t *len)
{
	*len = (size_t)(t->off[id + 1] - t->off[id] - 1);
	return t->bytes + t->off[id];
}
/* Intern every name of t into s (empty), in id order, so that continuing a
 * model keeps its ids; -1 when a name repeats (a corrupt table). */
int ntab_to_strtab(const struct ntab *t, struct strtab *s);

#endif
