/* hset.c - see hset.h.  Doubling keeps the load at most one half, so a
 * probe run stays short. */
#include "hset.h"
#include "util.h"

static void grow(struct hset *s)
{
	size_t nc = s->cap ? s->cap * 2 : 256;
	uint64_t *t = xcalloc(nc, sizeof *t);
	for (size_t i = 0; i < s->cap; i++)
		if (s->v[i]) {
			size_t k = s->v[i] & (nc - 1);
			while (t[k])
				k = (k + 1) & (nc - 1);
			t[k] = s->v[i];
		}
	free(s->v);
	s->v = t;
	s->cap = nc;
}

int hset_add(struct hset *s, uint64_t h)
{
	h |= 1;
	if (s->n * 2 >= s->cap)
		grow(s);
	size_t k = h & (s->cap - 1);
	while (s->v[k]) {
		if (s->v[k] == h)
			return 0;
		k = (k + 1) & (s->cap - 1);
	}
	s->v[k] = h;
	s->n++;
	return 1;
}

void hset_release(struct hset *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}
