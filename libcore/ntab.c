/* ntab.c - see ntab.h.  The slot array is at most half full, as strtab's,
 * so a lookup costs one hash and usually one compare. */
#include "ntab.h"
#include "hash.h"

#define HEAD 16

static uint32_t slots_for(uint32_t n)
{
	uint32_t s = 16;
	while (s < UINT32_MAX / 2 && s < 2 * (uint64_t)n + 2)
		s *= 2;
	return s;
}

void ntab_write(const struct strtab *t, struct buf *out)
{
	uint32_t n = st_count(t), ns = slots_for(n);
	uint64_t bytes = 0;
	for (uint32_t i = 0; i < n; i++)
		bytes += st_len(t, i) + 1;
	size_t at = out->len, total = HEAD + 8 * ((size_t)n + 1) + 4 * (size_t)ns + (size_t)bytes;
	uint8_t *p = buf_grow(out, total);
	memset(p, 0, total);
	put_le32(p, n);
	put_le32(p + 4, ns);
	put_le64(p + 8, bytes);
	uint8_t *off = p + HEAD, *slot = off + 8 * ((size_t)n + 1), *names = slot + 4 * (size_t)ns;
	uint64_t o = 0;
	for (uint32_t i = 0; i < n; i++) {
		size_t len = st_len(t, i);
		const char *s = st_name(t, i);
		put_le64(off + 8 * (size_t)i, o);
		memcpy(names + o, s, len);
		o += len + 1;
		size_t k = (size_t)hash_bytes(s, len, 0) & (ns - 1);
		while (le32(slot + 4 * k))
			k = (k + 1) & (ns - 1);
		put_le32(slot + 4 * k, i + 1);
	}
	put_le64(off + 8 * (size_t)n, o);
	out->len = at + total;
}

int ntab_open(struct ntab *t, const void *p, size_t n, struct pea_err *e)
{
	const uint8_t *b = p;
	if (n < HEAD) {
		err_set(e, "a name table is truncated");
		return -1;
	}
	uint32_t cnt = le32(b), ns = le32(b + 4);
	uint64_t bytes = le64(b + 8);
	if (!ns || (ns & (ns - 1)) || ns <= cnt || bytes > n ||
	    n != HEAD + 8 * ((uint64_t)cnt + 1) + 4 * (uint64_t)ns + bytes) {
		err_set(e, "a name table has inconsistent sizes");
		return -1;
	}
	t->n = cnt;
	t->nslot = ns;
	t->off = (const uint64_t *)(const void *)(b + HEAD);
	t->slot = (const uint32_t *)(const void *)(b + HEAD + 8 * ((size_t)cnt + 1));
	t->bytes = (const char *)(t->slot + ns);
	if (t->off[0] != 0 || t->off[cnt] != bytes) {
		err_set(e, "a name table has bad offsets");
		return -1;
	}
	for (uint32_t i = 0; i < cnt; i++) {
		uint64_t a = t->off[i], z = t->off[i + 1];
		if (z <= a || z > bytes || t->bytes[z - 1] ||
		    !utf8_valid((const uint8_t *)t->bytes + a, (size_t)(z - a - 1))) {
			err_set(e, "name %u of a name table is malformed", i);
			return -1;
		}
	}
	uint64_t used = 0;
	for (uint32_t k = 0; k < ns; k++) {
		if (t->slot[k] > cnt) {
			err_set(e, "a name table's hash slots are corrupt");
			return -1;
		}
		used += t->slot[k] != 0;
	}
	/* every name once, and an empty slot to end every probe */
	if (used != cnt) {
		err_set(e, "a name table's hash slots are corrupt");
		return -1;
	}
	return 0;
}

int64_t ntab_find(const struct ntab *t, const char *s, size_t n)
{
	size_t mask = t->nslot - 1, k = (size_t)hash_bytes(s, n, 0) & mask;
	for (uint32_t id; (id = t->slot[k]); k = (k + 1) & mask) {
		size_t len;
		const char *name = ntab_name(t, id - 1, &len);
		if (len == n && !memcmp(name, s, n))
			return (int64_t)id - 1;
	}
	return -1;
}

int ntab_to_strtab(const struct ntab *t, struct strtab *s)
{
	for (uint32_t i = 0; i < t->n; i++) {
		size_t len;
		const char *name = ntab_name(t, i, &len);
		if (st_intern(s, name, len) != i)
			return -1;
	}
	return 0;
}
