/* ixdist.c - see ixdist.h.  Records travel as fixed-size bytes (place,
 * user, item, weight) in the ranks' collective exchanges of dist.h. */
#include "ixdist.h"
#include "dist.h"

#include <stdlib.h>

/* The work of a row, counted in pairs, as measured on one core at 64
 * factors on Debian's package relations (blocks of rows timed over 15
 * iterations): a row's k x k products cost about what 16 to 26 pairs do,
 * and a row of more than 1,024 pairs (256 KB of factors, which no longer
 * stay in cache over the conjugate-gradient steps) about twice as much a
 * pair.  Only the balance of work between the ranks depends on it: with
 * 32 a row and every pair alike, the rank with the popular items (the
 * first seen) took 35 % longer over them than the other. */
#define ROW_COST 20
#define BIG_ROW 1024
#define REC_BYTES 20  /* place, user, item, weight */
#define PAIR_BYTES 12 /* user, item, weight */

/* Each record's place in the whole input: its unit's number counted over
 * every rank's part, as one process reading it all counts (<< 32, with
 * the record's number in the unit below). */
static void place_records(struct ix_recs *r, int shared)
{
	uint64_t N = (uint64_t)dist_size(), me = (uint64_t)dist_rank(), first = 0;
	if (!shared) {
		/* the ranks' files one after the other: the units of the ranks before */
		struct buf all = BUF_INIT;
		dist_gather(&r->units, 8, &all, NULL);
		for (uint64_t b = 0; b < me; b++) {
			uint64_t n;
			memcpy(&n, all.p + 8 * b, 8);
			first += n;
		}
		buf_release(&all);
	}
	uint64_t end = shared ? r->units * N + me : first + r->units;
	if (end > UINT32_MAX)
		die("more than %u frames: too many to train on over MPI", UINT32_MAX);
	for (uint64_t k = 0; k < r->n; k++) {
		uint64_t unit = r->at[k] >> 32;
		uint64_t g = shared ? unit * N + me : first + unit;
		r->at[k] = g << 32 | (r->at[k] & UINT32_MAX);
	}
}

struct first {
	uint64_t at;
	const char *s;
	uint32_t n;
};

static int cmp_first(const void *a, const void *b)
{
	uint64_t x = ((const struct first *)a)->at, y = ((const struct first *)b)->at;
	return (x > y) - (x < y);
}

/* The names of every rank in one table, *global, with ids in order of
 * first appearance in the whole input, after those of the model continued
 * (base, every rank's, may be NULL); returns each local id's global id.
 * id[k] is record k's name (local id), at[k] its place. */
static uint32_t *agree_names(const struct strtab *local, const uint32_t *id, const uint64_t *at, uint64_t n,
			     const struct ntab *base, struct strtab **global)
{
	uint32_t nl = st_count(local);
	uint64_t *seen = xmalloc(xmul((size_t)nl + 1, 8));
	for (uint32_t j = 0; j < nl; j++)
		seen[j] = UINT64_MAX;
	/* places increase in a rank's part: the first is the least */
	for (uint64_t k = 0; k < n; k++)
		if (seen[id[k]] == UINT64_MAX)
			seen[id[k]] = at[k];
	struct buf mine = BUF_INIT, all = BUF_INIT;
	for (uint32_t j = 0; j < nl; j++) {
		uint32_t len = (uint32_t)st_len(local, j);
		buf_add(&mine, &seen[j], 8);
		buf_add(&mine, &len, 4);
		buf_add(&mine, st_name(local, j), len);
	}
	free(seen);
	dist_gather(mine.p, mine.len, &all, NULL);
	buf_release(&mine);
	size_t nf = 0, cap = 1024;
	struct first *f = xmalloc(xmul(cap, sizeof *f));
	for (size_t p = 0; p < all.len;) {
		if (nf == cap) {
			cap *= 2;
			f = xrealloc(f, xmul(cap, sizeof *f));
		}
		memcpy(&f[nf].at, all.p + p, 8);
		memcpy(&f[nf].n, all.p + p + 8, 4);
		f[nf].s = (const char *)all.p + p + 12;
		p += 12 + f[nf++].n;
	}
	/* a name's first entry in order of place gets its id */
	qsort(f, nf, sizeof *f, cmp_first);
	*global = st_new();
	if (base && ntab_to_strtab(base, *global))
		die("the model's names repeat: the file is damaged");
	for (size_t e = 0; e < nf; e++)
		st_intern(*global, f[e].s, f[e].n);
	free(f);
	buf_release(&all);
	uint32_t *map = xmalloc(xmul((size_t)nl + 1, 4));
	for (uint32_t j = 0; j < nl; j++)
		map[j] = (uint32_t)st_find(*global, st_name(local, j), st_len(local, j));
	return map;
}

static uint64_t row_cost(uint64_t pairs)
{
	return ROW_COST + (pairs > BIG_ROW ? 2 * pairs : pairs);
}

/* cut[b] .. cut[b+1] are rank b's rows, about the same work each: a row
 * costs its records (over every rank), its pairs in base (which every
 * rank has; by user: off, else idx), weighed by row_cost */
static uint32_t *cut_rows(const uint32_t *id, const uint32_t *map, uint64_t n, uint32_t rows,
			  const struct ix_base *base, int by_user)
{
	int N = dist_size();
	uint64_t *cnt = xcalloc((size_t)rows + 1, 8), total = 0;
	for (uint64_t k = 0; k < n; k++)
		cnt[map[id[k]]]++;
	dist_sum_u64(cnt, rows);
	uint32_t nb = base ? base->users->n : 0;
	for (uint32_t u = 0; u < nb; u++)
		if (by_user)
			cnt[u] += base->off[u + 1] - base->off[u];
		else
			for (uint64_t k = base->off[u]; k < base->off[u + 1]; k++)
				cnt[base->idx[k]]++;
	for (uint32_t r = 0; r < rows; r++)
		total += row_cost(cnt[r]);
	uint32_t *cut = xmalloc(xmul((size_t)N + 1, 4)), r = 0;
	uint64_t acc = 0;
	cut[0] = 0;
	for (int b = 1; b < N; b++) {
		uint64_t target = total / (uint64_t)N * (uint64_t)b + total % (uint64_t)N * (uint64_t)b / (uint64_t)N;
		while (r < rows && acc < target)
			acc += row_cost(cnt[r++]);
		cut[b] = r;
	}
	cut[N] = rows;
	free(cnt);
	return cut;
}

/* the rank whose rows r is in */
static int owner(const uint32_t *cut, uint32_t r)
{
	int lo = 0, hi = dist_size();
	while (hi - lo > 1) {
		int mid = (lo + hi) / 2;
		if (cut[mid] <= r)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int cmp_place(const void *a, const void *b)
{
	uint64_t x, y;
	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	return (x > y) - (x < y);
}

/* Send each record to the rank of its user; the pairs of base (which
 * every rank has) of this rank's users, then the records received in order
 * of place, make this rank's users' pairs (x->m), as one process adds
 * them. */
static void users_share(struct ix *x, const struct ix_recs *r, const uint32_t *umap, const uint32_t *imap,
			const struct ix_base *base, int threads)
{
	int N = dist_size();
	const uint32_t *cut = x->share->ucut;
	size_t *lens = xcalloc((size_t)N, sizeof *lens), *at = xcalloc((size_t)N, sizeof *at);
	for (uint64_t k = 0; k < r->n; k++)
		lens[owner(cut, umap[r->u[k]])] += REC_BYTES;
	for (int b = 1; b < N; b++)
		at[b] = at[b - 1] + lens[b - 1];
	uint8_t *send = xmalloc(xmul(r->n ? r->n : 1, REC_BYTES));
	for (uint64_t k = 0; k < r->n; k++) {
		uint32_t u = umap[r->u[k]], i = imap[r->i[k]];
		uint8_t *p = send + at[owner(cut, u)];
		memcpy(p, &r->at[k], 8);
		memcpy(p + 8, &u, 4);
		memcpy(p + 12, &i, 4);
		memcpy(p + 16, &r->w[k], 4);
		at[owner(cut, u)] += REC_BYTES;
	}
	struct buf got = BUF_INIT;
	dist_exchange(send, lens, &got, NULL);
	free(send);
	free(lens);
	free(at);
	uint64_t nr = got.len / REC_BYTES;
	/* each rank's records come in order; together, in order of place */
	qsort(got.p, nr, REC_BYTES, cmp_place);
	uint32_t u0 = x->share->ucut[dist_rank()], u1 = x->share->ucut[dist_rank() + 1];
	uint32_t nb = base ? base->users->n : 0, b0 = u0 < nb ? u0 : nb, b1 = u1 < nb ? u1 : nb;
	uint64_t bn = base ? base->off[b1] - base->off[b0] : 0, n = bn + nr;
	uint32_t *u = xmalloc(xmul(n ? n : 1, 4)), *i = xmalloc(xmul(n ? n : 1, 4));
	float *w = xmalloc(xmul(n ? n : 1, 4));
	uint64_t k = 0;
	for (uint32_t b = b0; b < b1; b++)
		for (uint64_t q = base->off[b]; q < base->off[b + 1]; q++, k++) {
			u[k] = b;
			i[k] = base->idx[q];
			w[k] = base->w[q];
		}
	for (uint64_t q = 0; q < nr; q++, k++) {
		const uint8_t *p = got.p + q * REC_BYTES;
		memcpy(&u[k], p + 8, 4);
		memcpy(&i[k], p + 12, 4);
		memcpy(&w[k], p + 16, 4);
	}
	buf_release(&got);
	x->ndup = ix_csr_build(&x->m, st_count(x->users), st_count(x->items), u, i, w, n, threads);
	free(u);
	free(i);
	free(w);
}

/* Send this rank's pairs to the rank of their item: they come back by
 * user (the ranks' users in rank order, each rank's in order), so every
 * item's users are in order, as ix_transpose has them. */
static void items_share(struct ix *x, int threads)
{
	int N = dist_size(), me = dist_rank();
	const struct ix_csr *m = &x->m;
	const uint32_t *cut = x->share->icut;
	uint32_t u0 = x->share->ucut[me], u1 = x->share->ucut[me + 1];
	size_t *lens = xcalloc((size_t)N, sizeof *lens), *at = xcalloc((size_t)N, sizeof *at);
	for (uint64_t k = m->off[u0]; k < m->off[u1]; k++)
		lens[owner(cut, m->idx[k])] += PAIR_BYTES;
	for (int b = 1; b < N; b++)
		at[b] = at[b - 1] + lens[b - 1];
	uint64_t nnz = m->off[u1] - m->off[u0];
	uint8_t *send = xmalloc(xmul(nnz ? nnz : 1, PAIR_BYTES));
	for (uint32_t u = u0; u < u1; u++)
		for (uint64_t k = m->off[u]; k < m->off[u + 1]; k++) {
			uint8_t *p = send + at[owner(cut, m->idx[k])];
			memcpy(p, &u, 4);
			memcpy(p + 4, &m->idx[k], 4);
			memcpy(p + 8, &m->w[k], 4);
			at[owner(cut, m->idx[k])] += PAIR_BYTES;
		}
	struct buf got = BUF_INIT;
	dist_exchange(send, lens, &got, NULL);
	free(send);
	free(lens);
	free(at);
	uint64_t n = got.len / PAIR_BYTES;
	uint32_t *u = xmalloc(xmul(n ? n : 1, 4)), *i = xmalloc(xmul(n ? n : 1, 4));
	float *w = xmalloc(xmul(n ? n : 1, 4));
	for (uint64_t k = 0; k < n; k++) {
		const uint8_t *p = got.p + k * PAIR_BYTES;
		memcpy(&u[k], p, 4);
		memcpy(&i[k], p + 4, 4);
		memcpy(&w[k], p + 8, 4);
	}
	buf_release(&got);
	ix_csr_build(&x->share->byitem, m->cols, m->rows, i, u, w, n, threads);
	free(u);
	free(i);
	free(w);
}

/* Rank 0 gets every rank's users' pairs, for the model it writes. */
static void gather_users(struct ix *x)
{
	int N = dist_size(), me = dist_rank();
	const uint32_t *cut = x->share->ucut;
	struct ix_csr *m = &x->m;
	uint32_t u0 = cut[me], u1 = cut[me + 1];
	uint64_t a = m->off[u0], nnz = m->off[u1] - a;
	/* the row lengths, then the items, then the weights */
	struct buf mine = BUF_INIT, all = BUF_INIT;
	for (uint32_t u = u0; u < u1; u++) {
		uint32_t len = (uint32_t)(m->off[u + 1] - m->off[u]);
		buf_add(&mine, &len, 4);
	}
	buf_add(&mine, m->idx + a, nnz * 4);
	buf_add(&mine, m->w + a, nnz * 4);
	size_t *lens = xcalloc((size_t)N, sizeof *lens);
	dist_gather0(mine.p, mine.len, &all, lens);
	buf_release(&mine);
	if (me == 0) {
		uint64_t total = x->share->nnz;
		uint64_t *off = xcalloc((size_t)m->rows + 1, 8);
		uint32_t *idx = xmalloc(xmul(total ? total : 1, 4));
		float *w = xmalloc(xmul(total ? total : 1, 4));
		const uint8_t *p = all.p;
		for (int b = 0; b < N; b++) {
			uint32_t r0 = cut[b], r1 = cut[b + 1];
			for (uint32_t u = r0; u < r1; u++) {
				uint32_t len;
				memcpy(&len, p + (size_t)(u - r0) * 4, 4);
				off[u + 1] = off[u] + len;
			}
			uint64_t n = off[r1] - off[r0];
			if (lens[b] != (size_t)(r1 - r0) * 4 + n * 8 || off[r1] > total)
				die("internal error: rank %d sent its users' pairs malformed", b);
			memcpy(idx + off[r0], p + (size_t)(r1 - r0) * 4, n * 4);
			memcpy(w + off[r0], p + (size_t)(r1 - r0) * 4 + n * 4, n * 4);
			p += lens[b];
		}
		ix_csr_release(m);
		m->rows = st_count(x->users);
		m->cols = st_count(x->items);
		m->nnz = total;
		m->off = off;
		m->idx = idx;
		m->w = w;
	}
	free(lens);
	buf_release(&all);
}

struct ix *ixd_load(pea_in *in, const struct ix_opts *o, int shared, const struct ix_base *base)
{
	if (dist_size() < 2)
		return ix_load(in, o, base);
	struct ix_recs *r = ix_read(in, o);
	place_records(r, shared);
	struct ix *x = xcalloc(1, sizeof *x);
	uint32_t *umap = agree_names(r->users, r->u, r->at, r->n, base ? base->users : NULL, &x->users);
	uint32_t *imap = agree_names(r->items, r->i, r->at, r->n, base ? base->items : NULL, &x->items);
	x->share = xcalloc(1, sizeof *x->share);
	x->share->ucut = cut_rows(r->u, umap, r->n, st_count(x->users), base, 1);
	x->share->icut = cut_rows(r->i, imap, r->n, st_count(x->items), base, 0);
	uint64_t sums[3] = {r->n, 0, 0};
	x->wsum = r->wsum;
	users_share(x, r, umap, imap, base, o->threads);
	free(umap);
	free(imap);
	ix_recs_free(r);
	items_share(x, o->threads);
	sums[1] = x->ndup;
	sums[2] = x->m.nnz;
	dist_sum_u64(sums, 3);
	dist_sum_f64(&x->wsum, 1);
	x->nrec = sums[0];
	x->ndup = sums[1];
	x->share->nnz = sums[2];
	gather_users(x);
	return x;
}
