/* gen-interactions - a seeded, power-law set of implicit interactions, for
 * measuring recommenders at scale (scripts/bench/recommend).
 *
 *   gen-interactions USERS ITEMS INTERACTIONS [SEED] > interactions.tsv
 *
 * Writes TSV with a header, `user<TAB>item`, every pair distinct.  Users'
 * activity falls off as rank^-0.5 (a few users with thousands of items, most
 * with a handful, at least one each); items' popularity is Zipf (rank^-1),
 * and half of a user's items come from one of 64 communities (each a
 * different ranking of the items), so there is structure to learn.  The
 * same arguments give the same bytes on any machine (xoshiro256** from
 * libcore/rng.h; no libc random). */
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMUNITIES 64
#define USER_EXP 0.5
#define ITEM_EXP 1.0

static uint64_t arg(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || !*s) {
		fprintf(stderr, "gen-interactions: '%s' is not a number\n", s);
		exit(2);
	}
	return v;
}

/* the index of the first cdf entry above x */
static uint32_t draw(const double *cdf, uint32_t n, double x)
{
	uint32_t lo = 0, hi = n - 1;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (cdf[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: gen-interactions USERS ITEMS INTERACTIONS [SEED]\n");
		return 2;
	}
	uint64_t nu = arg(argv[1]), ni = arg(argv[2]), total = arg(argv[3]), seed = argc > 4 ? arg(argv[4]) : 1;
	if (!nu || ni < 2 || nu > UINT32_MAX || ni > UINT32_MAX || total < nu || total > nu * (ni / 8)) {
		fprintf(stderr, "gen-interactions: need users >= 1, items >= 2, users <= interactions <= users * items / 8\n");
		return 2;
	}
	struct rng r;
	rng_seed(&r, seed);
	/* items: a Zipf cdf over ranks, and per community a permutation of ranks */
	double *cdf = malloc(ni * sizeof *cdf), s = 0;
	for (uint64_t k = 0; k < ni; k++)
		cdf[k] = s += pow((double)k + 1, -ITEM_EXP);
	for (uint64_t k = 0; k < ni; k++)
		cdf[k] /= s;
	uint32_t *perm = malloc(COMMUNITIES * ni * sizeof *perm);
	for (int c = 0; c < COMMUNITIES; c++) {
		uint32_t *p = perm + (size_t)c * ni;
		for (uint64_t k = 0; k < ni; k++)
			p[k] = (uint32_t)k;
		/* the global ranking for community 0, shuffled ones for the rest */
		for (uint64_t k = ni - 1; c && k > 0; k--) {
			uint64_t j = rng_below(&r, k + 1);
			uint32_t t = p[k];
			p[k] = p[j];
			p[j] = t;
		}
	}
	/* users: counts falling off as rank^-USER_EXP, at least one each */
	double *w = malloc(nu * sizeof *w), ws = 0;
	for (uint64_t u = 0; u < nu; u++)
		ws += w[u] = pow((double)u + 1, -USER_EXP);
	uint64_t *cnt = malloc(nu * sizeof *cnt), left = total - nu;
	for (uint64_t u = 0; u < nu; u++) {
		uint64_t extra = (uint64_t)floor((double)(total - nu) * w[u] / ws);
		extra = extra > ni / 8 ? ni / 8 : extra;
		extra = extra > left ? left : extra;
		cnt[u] = 1 + extra;
		left -= extra;
	}
	for (uint64_t u = 0; left; u = (u + 1) % nu)
		if (cnt[u] < ni / 8) {
			cnt[u]++;
			left--;
		}
	/* the rank of a user is not its name: a shuffled order of names */
	uint32_t *name = malloc(nu * sizeof *name);
	for (uint64_t u = 0; u < nu; u++)
		name[u] = (uint32_t)u;
	for (uint64_t k = nu - 1; k > 0; k--) {
		uint64_t j = rng_below(&r, k + 1);
		uint32_t t = name[k];
		name[k] = name[j];
		name[j] = t;
	}
	/* a user's items are distinct: an open-addressing set per user */
	size_t hcap = 16;
	uint32_t *set = malloc(hcap * sizeof *set);
	static char out[1 << 16];
	setvbuf(stdout, out, _IOFBF, sizeof out);
	printf("user\titem\n");
	for (uint64_t u = 0; u < nu; u++) {
		while (hcap < 2 * cnt[u] + 2)
			hcap *= 2;
		set = realloc(set, hcap * sizeof *set);
		memset(set, 0xff, hcap * sizeof *set);
		int c = (int)rng_below(&r, COMMUNITIES);
		for (uint64_t k = 0; k < cnt[u];) {
			uint32_t rank = draw(cdf, (uint32_t)ni, rng_unit(&r));
			uint32_t item = rng_unit(&r) < 0.5 ? perm[(size_t)c * ni + rank] : perm[rank];
			size_t h = (item * 0x9e3779b1u) & (hcap - 1);
			while (set[h] != UINT32_MAX && set[h] != item)
				h = (h + 1) & (hcap - 1);
			if (set[h] == item)
				continue;
			set[h] = item;
			printf("u%u\ti%u\n", name[u], item);
			k++;
		}
	}
	if (fflush(stdout) || ferror(stdout)) {
		perror("gen-interactions: writing");
		return 1;
	}
	return 0;
}
