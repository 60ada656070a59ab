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

int hset_has(const struct hset *s, uint64_t h)
{
	if (!s->cap)
		return 0;
	h |= 1;
	size_t k = h & (s->cap - 1);
	while (s->v[k]) {
		if (s->v[k] == h)
			return 1;
		k = (k + 1) & (s->cap - 1);
	}
	return 0;
}

int hrecent_has(const struct hrecent *r, uint64_t h)
{
	return hset_has(&r->cur, h) || hset_has(&r->old, h);
}

int hrecent_add(struct hrecent *r, uint64_t h)
{
	if (hset_has(&r->cur, h))
		return 0;
	int fresh = !hset_has(&r->old, h);
	size_t half = r->max > 1 ? r->max / 2 : 1;
	if (r->cur.n >= half) {
		hset_release(&r->old);
		r->old = r->cur;
		r->cur = (struct hset)HSET_INIT;
	}
	hset_add(&r->cur, h);
	return fresh;
}

size_t hrecent_list(const struct hrecent *r, uint64_t *dst, size_t n)
{
	size_t k = 0;
	const struct hset *g[2] = {&r->old, &r->cur};
	for (int i = 0; i < 2; i++)
		for (size_t j = 0; j < g[i]->cap && k < n; j++)
			if (g[i]->v[j] && (i == 1 || !hset_has(&r->cur, g[i]->v[j])))
				dst[k++] = g[i]->v[j];
	return k;
}

void hrecent_release(struct hrecent *r)
{
	hset_release(&r->cur);
	hset_release(&r->old);
}
