/* strtab.c - see strtab.h.  The slot array holds id + 1 (0 = empty) and is
 * kept at most half full. */
#include "strtab.h"
#include "hash.h"
#include "err.h"
#include "util.h"

struct strtab {
	char **names;
	size_t *lens;
	uint32_t n, cap;   /* names */
	uint32_t *slot;
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
	free(t->slot);
	free(t);
}

static size_t find_slot(const struct strtab *t, const char *s, size_t n, uint64_t h)
{
	size_t mask = t->nslot - 1, i = (size_t)h & mask;
	while (t->slot[i]) {
		uint32_t id = t->slot[i] - 1;
		if (t->lens[id] == n && !memcmp(t->names[id], s, n))
			break;
		i = (i + 1) & mask;
	}
	return i;
}

static void grow(struct strtab *t)
{
	size_t old = t->nslot;
	uint32_t *os = t->slot;
	t->nslot = old * 2;
	t->slot = xcalloc(t->nslot, sizeof *t->slot);
	for (size_t i = 0; i < old; i++)
		if (os[i]) {
			uint32_t id = os[i] - 1;
			size_t j = find_slot(t, t->names[id], t->lens[id], hash_bytes(t->names[id], t->lens[id], 0));
			t->slot[j] = os[i];
		}
	free(os);
}

uint32_t st_intern(struct strtab *t, const char *s, size_t n)
{
	size_t i = find_slot(t, s, n, hash_bytes(s, n, 0));
	if (t->slot[i])
		return t->slot[i] - 1;
	if (t->n == UINT32_MAX - 1)
		die("too many distinct strings");
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->names = xrealloc(t->names, t->cap * sizeof *t->names);
		t->lens = xrealloc(t->lens, t->cap * sizeof *t->lens);
	}
	uint32_t id = t->n++;
	t->names[id] = xstrndup(s, n);
	t->lens[id] = n;
	t->slot[i] = id + 1;
	if ((size_t)t->n * 2 > t->nslot)
		grow(t);
	return id;
}

int64_t st_find(const struct strtab *t, const char *s, size_t n)
{
	size_t i = find_slot(t, s, n, hash_bytes(s, n, 0));
	return t->slot[i] ? (int64_t)t->slot[i] - 1 : -1;
}

uint32_t st_count(const struct strtab *t) { return t->n; }
const char *st_name(const struct strtab *t, uint32_t id) { return t->names[id]; }
size_t st_len(const struct strtab *t, uint32_t id) { return t->lens[id]; }
