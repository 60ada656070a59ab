/* holdout.c - see holdout.h.
 *
 * Pass one decodes every unit into frames that are kept, and notes per
 * record its user and item ids, its order key and the hash of its pair.
 * Records are then grouped by user and pair (a counting sort and a sort
 * per user), the held-out pairs chosen, and pass two walks the kept frames
 * writing each record to its side. */
#include "holdout.h"
#include "hash.h"
#include "inter.h"
#include "strtab.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct rec {
	uint32_t u, i;
	double t;  /* order key */
	uint64_t h; /* hash of the pair */
};

struct pair {
	uint32_t i;
	double t;   /* the pair's latest time */
	uint64_t h;
	uint64_t first; /* its first record, for the test side's order */
};

static int cmp_pair_item(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	return (x->i > y->i) - (x->i < y->i);
}

/* the order in which pairs are held out: the latest first (HO_LAST, or a
 * fraction with an order), else the smallest hash first */
static int cmp_held(const void *a, const void *b, void *arg)
{
	const struct pair *x = a, *y = b;
	int by_time = *(const int *)arg;
	if (by_time && x->t != y->t)
		return x->t > y->t ? -1 : 1;
	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

static int cmp_first(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	return (x->first > y->first) - (x->first < y->first);
}

/* a user or item name: ix_name's text, 1 to IX_MAX_NAME bytes */
static int name_of(const pea_val *v, char *tmp, const char **s, size_t *n)
{
	return ix_name(v, tmp, s, n) || !*n || *n > IX_MAX_NAME ? -1 : 0;
}

static int cmp_str(const void *a, const void *b, void *arg)
{
	const struct strtab *t = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	size_t nx = st_len(t, x), ny = st_len(t, y);
	int c = memcmp(st_name(t, x), st_name(t, y), nx < ny ? nx : ny);
	return c ? c : (nx > ny) - (nx < ny);
}

void ho_run(pea_in *in, const struct ho_opts *o, pea_wr *train, pea_wr *test, struct ho_stats *st)
{
	const char *fu = o->user ? o->user : "user", *fi = o->item ? o->item : "item";
	struct strtab *users = st_new(), *items = st_new(), *tstr = st_new();
	struct rec *recs = NULL;
	uint64_t n = 0, cap = 0;
	pea_frame **frames = NULL;
	size_t nframes = 0, fcap = 0;
	int tkind = 0; /* 1 numbers, 2 strings */
	struct unit_dec *ud = ud_new(in);
	ud_keep_frames(ud); /* every frame is kept until the records are written */
	struct pea_unit u;
	struct pea_err e;
	unit_init(&u);
	while (in_next(in, &u)) {
		ud_start(ud, &u);
		for (;;) {
			pea_frame *f = frame_new();
			int r = ud_next(ud, f, &e);
			if (r < 0) {
				char where[512];
				ud_unit_where(ud, where, sizeof where);
				die("%s: %s", where, e.msg);
			}
			if (!r) {
				frame_free(f);
				break;
			}
			if (nframes == fcap) {
				fcap = fcap ? fcap * 2 : 64;
				frames = xrealloc(frames, fcap * sizeof *frames);
			}
			frames[nframes++] = f;
			int xu = frame_field(f, fu), xi = frame_field(f, fi), xt = o->order ? frame_field(f, o->order) : -1;
			for (uint32_t k = 0; k < frame_nrec(f); k++) {
				char where[512], tu[32], ti[32];
				const pea_val *vu = xu >= 0 ? frame_get(f, k, xu) : NULL, *vi = xi >= 0 ? frame_get(f, k, xi) : NULL;
				const pea_val *vt = xt >= 0 ? frame_get(f, k, xt) : NULL;
				const char *su, *si;
				size_t nu, ni;
				const char *bad = !vu ? "no user field (--by)" : !vi ? "no item field (--item)"
						: o->order && !vt ? "no time field (--order)" : NULL;
				if (!bad && (name_of(vu, tu, &su, &nu) || name_of(vi, ti, &si, &ni)))
					bad = "the user and item fields must be strings of 1 to 4096 bytes, or integers";
				double t = 0;
				if (!bad && vt) {
					int kind = vt->type == PEA_STR ? 2 : vt->type == PEA_INT || vt->type == PEA_FLOAT ? 1 : 0;
					if (!kind || (tkind && kind != tkind))
						bad = kind ? "the time field mixes numbers and strings"
							   : "the time field must be a number or a string";
					else if (kind == 1 && (t = vt->type == PEA_INT ? (double)vt->x.i : vt->x.d, isnan(t)))
						bad = "the time field is not a number";
					else if (kind == 2)
						t = st_intern(tstr, val_str(vt), vt->n);
					tkind = kind;
				}
				if (bad) {
					ud_where(ud, k, where, sizeof where);
					die("%s: %s", where, bad);
				}
				if (n == cap) {
					cap = cap ? cap * 2 : 1 << 16;
					recs = xrealloc(recs, xmul(cap, sizeof *recs));
				}
				struct rec *r0 = &recs[n++];
				r0->u = st_intern(users, su, nu);
				r0->i = st_intern(items, si, ni);
				r0->t = t;
				/* the pair's hash: "user\titem", seeded */
				char pair[2 * IX_MAX_NAME + 1];
				memcpy(pair, su, nu);
				pair[nu] = '\t';
				memcpy(pair + nu + 1, si, ni);
				r0->h = hash_bytes(pair, nu + 1 + ni, o->seed);
			}
		}
	}
	unit_release(&u);
	ud_free(ud);
	/* string times: their rank in byte order */
	if (tkind == 2) {
		uint32_t nt = st_count(tstr);
		uint32_t *ord = xmalloc(xmul((size_t)nt + 1, 4));
		double *rank = xmalloc(xmul((size_t)nt + 1, 8));
		for (uint32_t a = 0; a < nt; a++)
			ord[a] = a;
		qsort_r(ord, nt, 4, cmp_str, tstr);
		for (uint32_t a = 0; a < nt; a++)
			rank[ord[a]] = a;
		for (uint64_t r = 0; r < n; r++)
			recs[r].t = rank[(uint32_t)recs[r].t];
		free(ord);
		free(rank);
	}
	/* records by user, in input order */
	uint32_t nu = st_count(users);
	uint64_t *off = xcalloc((size_t)nu + 1, 8), *pos = xmalloc(xmul((size_t)nu + 1, 8));
	uint64_t *byu = xmalloc(xmul(n ? n : 1, 8));
	for (uint64_t r = 0; r < n; r++)
		off[recs[r].u + 1]++;
	for (uint32_t a = 0; a < nu; a++)
		off[a + 1] += off[a];
	memcpy(pos, off, ((size_t)nu + 1) * 8);
	for (uint64_t r = 0; r < n; r++)
		byu[pos[recs[r].u]++] = r;
	free(pos);
	/* held[r]: the record goes to the test side */
	uint8_t *held = xcalloc(n ? n : 1, 1);
	struct pair *pairs = NULL;
	size_t pcap = 0;
	int by_time = o->order != NULL;
	/* HO_FRACTION: the held items of each user, for the test records */
	uint64_t *hoff = o->mode == HO_FRACTION ? xcalloc((size_t)nu + 1, 8) : NULL;
	uint32_t *hitems = NULL;
	uint64_t hn = 0, hcap = 0;
	memset(st, 0, sizeof *st);
	st->records = n;
	st->users = nu;
	for (uint32_t a = 0; a < nu; a++) {
		uint64_t r0 = off[a], cnt = off[a + 1] - r0;
		if (cnt > pcap) {
			pcap = cnt;
			pairs = xrealloc(pairs, xmul(pcap, sizeof *pairs));
		}
		/* distinct pairs of the user, with their latest time */
		for (uint64_t k = 0; k < cnt; k++) {
			const struct rec *r = &recs[byu[r0 + k]];
			pairs[k] = (struct pair){r->i, r->t, r->h, byu[r0 + k]};
		}
		qsort(pairs, cnt, sizeof *pairs, cmp_pair_item);
		size_t np = 0;
		for (uint64_t k = 0; k < cnt; k++) {
			if (np && pairs[np - 1].i == pairs[k].i) {
				if (pairs[k].t > pairs[np - 1].t)
					pairs[np - 1].t = pairs[k].t;
				if (pairs[k].first < pairs[np - 1].first)
					pairs[np - 1].first = pairs[k].first;
				continue;
			}
			pairs[np++] = pairs[k];
		}
		if ((int64_t)np < o->min_items || np < 2)
			goto next;
		size_t take = 1;
		if (o->mode == HO_FRACTION) {
			take = (size_t)llround(o->fraction * (double)np);
			take = take < 1 ? 1 : take > np - 1 ? np - 1 : take;
		}
		int bt = o->mode == HO_LAST || (o->mode == HO_FRACTION && by_time);
		qsort_r(pairs, np, sizeof *pairs, cmp_held, &bt);
		/* mark the records of the held pairs */
		qsort(pairs, take, sizeof *pairs, cmp_pair_item);
		for (uint64_t k = 0; k < cnt; k++) {
			uint64_t r = byu[r0 + k];
			struct pair key = {.i = recs[r].i};
			if (bsearch(&key, pairs, take, sizeof *pairs, cmp_pair_item)) {
				held[r] = 1;
				st->held_records++;
			}
		}
		st->held_users++;
		if (hoff) {
			/* in time order when there is one, else input order */
			if (by_time) {
				int one = 1;
				qsort_r(pairs, take, sizeof *pairs, cmp_held, &one);
				for (size_t x = 0; x < take / 2; x++) {
					struct pair tmp = pairs[x];
					pairs[x] = pairs[take - 1 - x];
					pairs[take - 1 - x] = tmp;
				}
			} else {
				qsort(pairs, take, sizeof *pairs, cmp_first);
			}
			if (hn + take > hcap) {
				hcap = (hn + take) * 2;
				hitems = xrealloc(hitems, xmul(hcap, 4));
			}
			for (size_t x = 0; x < take; x++)
				hitems[hn++] = pairs[x].i;
		}
	next:
		if (hoff)
			hoff[a + 1] = hn;
	}
	free(pairs);
	free(byu);
	free(off);
	free(recs);
	/* pass two: every record to its side, in input order */
	uint64_t r = 0;
	for (size_t x = 0; x < nframes; x++) {
		const pea_frame *f = frames[x];
		for (uint32_t k = 0; k < frame_nrec(f); k++, r++) {
			if (held[r] && hoff)
				continue; /* its item is in the user's test record */
			wr_copy(held[r] ? test : train, f, k);
		}
		frame_free(frames[x]);
	}
	free(frames);
	free(held);
	if (hoff) {
		for (uint32_t a = 0; a < nu; a++) {
			if (hoff[a + 1] == hoff[a])
				continue;
			pea_fb *fb = wr_fb(test);
			fb_begin(fb);
			fb_str(fb, fb_xfield(fb, fu, PEA_STR), st_name(users, a), st_len(users, a));
			fb_list_begin(fb, fb_xfield(fb, "items", PEA_STRLIST), PEA_STRLIST);
			for (uint64_t k = hoff[a]; k < hoff[a + 1]; k++)
				fb_list_str(fb, st_name(items, hitems[k]), st_len(items, hitems[k]));
			fb_list_end(fb);
			fb_end(fb);
			wr_commit(test);
		}
		free(hoff);
		free(hitems);
	}
	st_free(users);
	st_free(items);
	st_free(tstr);
}
