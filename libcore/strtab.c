/* strtab.c - see strtab.h.  A slot holds id + 1 (0 = empty) in its low half
 * and the high half of the name's hash in its high half, so a probe
 * rejects other names without reading them; each name's hash is kept, so
 * growing reinserts ids in order without reading a name.  The slot array
 * is kept at most half full. */
#include "strtab.h"
#include "hash.h"
#include "err.h"
#include "util.h"

struct strtab {
	char **names;
	size_t *lens;
	uint64_t *hash;
	uint32_t n, cap;   /* names */
	uint64_t *slot;
	size_t nslot;      /* a power of two */
};

struct strtab *st_new(void)
{
	struct strtab *t = xcalloc(1, sizeof *t);
	t->nslot = 16;
	t->slot = xcalloc(t->nslot, sizeof *t->slot);
	return t;
}

void st_free(struct strtab *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->n; i++)
		free(t->names[i]);
	free(t->names);
	free(t->lens);
	free(t->hash);
	free(t->slot);
	free(t);
}

static size_t find_slot(const struct strtab *t, const char *s, size_t n, uint64_t h)
{
	size_t mask = t->nslot - 1, i = (size_t)h & mask;
	uint32_t tag = (uint32_t)(h >> 32);
	while (t->slot[i]) {
		uint32_t id = (uint32_t)t->slot[i] - 1;
		if ((uint32_t)(t->slot[i] >> 32) == tag && t->lens[id] == n && !memcmp(t->names[id], s, n))
			break;
		i = (i + 1) & mask;
	}
	return i;
}

static void grow(struct strtab *t)
{
	free(t->slot);
	t->nslot *= 2;
	t->slot = xcalloc(t->nslot, sizeof *t->slot);
	size_t mask = t->nslot - 1;
	for (uint32_t id = 0; id < t->n; id++) {
		size_t j = (size_t)t->hash[id] & mask;
		while (t->slot[j])
			j = (j + 1) & mask;
		t->slot[j] = (uint64_t)(id + 1) | (t->hash[id] >> 32) << 32;
	}
}

uint64_t st_hash(const char *s, size_t n)
{
	return hash_bytes(s, n, 0);
}

uint32_t st_intern(struct strtab *t, const char *s, size_t n)
{
	return st_intern_h(t, s, n, hash_bytes(s, n, 0));
}

uint32_t st_intern_h(struct strtab *t, const char *s, size_t n, uint64_t h)
{
	size_t i = find_slot(t, s, n, h);
	if (t->slot[i])
		return (uint32_t)t->slot[i] - 1;
	if (t->n == UINT32_MAX - 1)
		die("too many distinct strings");
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->names = xrealloc(t->names, t->cap * sizeof *t->names);
		t->lens = xrealloc(t->lens, t->cap * sizeof *t->lens);
		t->hash = xrealloc(t->hash, t->cap * sizeof *t->hash);
	}
	uint32_t id = t->n++;
	t->names[id] = xstrndup(s, n);
	t->lens[id] = n;
	t->hash[id] = h;
	t->slot[i] = (uint64_t)(id + 1) | (h >> 32) << 32;
	if ((size_t)t->n * 2 > t->nslot)
		grow(t);
	return id;
}

int64_t st_find(const struct strtab *t, const char *s, size_t n)
{
	size_t i = find_slot(t, s, n, hash_bytes(s, n, 0));
	return t->slot[i] ? (int64_t)(uint32_t)t->slot[i] - 1 : -1;
}

uint32_t st_count(const struct strtab *t) { return t->n; }
const char *st_name(const struct strtab *t, uint32_t id) { return t->names[id]; }
size_t st_len(const struct strtab *t, uint32_t id) { return t->lens[id]; }
