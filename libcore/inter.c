/* inter.c - see inter.h.
 *
 * Workers (pmap) check each record and copy its user, item and weight into
 * the task buffer; the ordered callback, on the main thread, interns the
 * names and appends the pair, so ids follow the input order alone.  The
 * pairs become CSR by a counting sort on users, then each row is sorted by
 * item (stably, so duplicate weights add in input order: the same bits on
 * every run) on every core. */
#include "inter.h"
#include "pmap.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>

/* pairs in input order; at, when kept (ix_read), each one's place */
struct coo {
	uint32_t *u, *i;
	float *w;
	uint64_t *at;
	uint64_t n, cap;
	int keep_at;
};

static void coo_add(struct coo *c, uint32_t u, uint32_t i, float w, uint64_t at)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1 << 16;
		c->u = xrealloc(c->u, xmul(c->cap, 4));
		c->i = xrealloc(c->i, xmul(c->cap, 4));
		c->w = xrealloc(c->w, xmul(c->cap, 4));
		if (c->keep_at)
			c->at = xrealloc(c->at, xmul(c->cap, 8));
	}
	c->u[c->n] = u;
	c->i[c->n] = i;
	if (c->keep_at)
		c->at[c->n] = at;
	c->w[c->n++] = w;
}

static void coo_release(struct coo *c)
{
	free(c->u);
	free(c->i);
	free(c->w);
	free(c->at);
	memset(c, 0, sizeof *c);
}

struct load {
	const struct ix_opts *o;
	const char *fu, *fi, *fw;
	struct strtab *users, *items;
	struct coo c;
	uint64_t nrec, units;
	double wsum;
};

static void put32(struct buf *b, uint32_t v) { buf_add(b, &v, 4); }

int ix_name(const pea_val *v, char *tmp, const char **s, size_t *n)
{
	if (v->type == PEA_INT) {
		*n = (size_t)snprintf(tmp, 32, "%lld", (long long)v->x.i);
		*s = tmp;
		return 0;
	}
	if (v->type != PEA_STR)
		return -1;
	*s = val_str(v);
	*n = v->n;
	return 0;
}

static int put_name(struct pmap_task *t, uint32_t r, const pea_val *v, const char *field, struct buf *b)
{
	if (!v)
		return pmap_fail(t, r, "no '%s' field", field);
	char num[32];
	const char *s;
	size_t n;
	if (ix_name(v, num, &s, &n))
		return pmap_fail(t, r, "field '%s' is %s, not a string", field, pea_type_name(v->type));
	if (!n || n > IX_MAX_NAME)
		return pmap_fail(t, r, "field '%s' must have 1 to %d bytes", field, IX_MAX_NAME);
	/* hashed here, on every core; the main thread only looks it up */
	uint64_t h = st_hash(s, n);
	buf_add(b, &h, 8);
	put32(b, (uint32_t)n);
	buf_add(b, s, n);
	return 0;
}

static int collect(void *arg, struct pmap_task *t, const pea_frame *in, pea_fb *out)
{
	struct load *L = arg;
	(void)out;
	struct buf *b = pmap_task_buf(t);
	int fu = frame_field(in, L->fu), fi = frame_field(in, L->fi), fw = frame_field(in, L->fw);
	for (uint32_t r = 0; r < frame_nrec(in); r++) {
		if (put_name(t, r, fu >= 0 ? frame_get(in, r, fu) : NULL, L->fu, b) ||
		    put_name(t, r, fi >= 0 ? frame_get(in, r, fi) : NULL, L->fi, b))
			return -1;
		float w = 1;
		const pea_val *v = fw >= 0 ? frame_get(in, r, fw) : NULL;
		if (v) {
			double d = v->type == PEA_FLOAT ? v->x.d : v->type == PEA_INT ? (double)v->x.i : NAN;
			if (isnan(d) && v->type != PEA_FLOAT)
				return pmap_fail(t, r, "field '%s' is %s, not a number", L->fw, pea_type_name(v->type));
			if (!(d > 0) || !isfinite(d) || d > 1e30)
				return pmap_fail(t, r, "field '%s' is %g: a weight must be a positive number", L->fw, d);
			w = (float)d;
		}
		buf_add(b, &w, 4);
	}
	return 0;
}

static uint32_t get32(const uint8_t **p)
{
	uint32_t v;
	memcpy(&v, *p, 4);
	*p += 4;
	return v;
}

/* a name's id; the last one is remembered, since interactions often come
 * grouped by user */
struct last {
	uint64_t h;
	uint32_t n, id;
	const uint8_t *s;
};

static uint32_t intern(struct strtab *t, const uint8_t **p, struct last *last)
{
	uint64_t h;
	memcpy(&h, *p, 8);
	*p += 8;
	uint32_t n = get32(p);
	const uint8_t *s = *p;
	*p += n;
	if (last->s && last->h == h && last->n == n && !memcmp(last->s, s, n))
		return last->id;
	last->h = h;
	last->n = n;
	last->s = s;
	return last->id = st_intern_h(t, (const char *)s, n, h);
}

static void ordered(void *arg, struct buf *data)
{
	struct load *L = arg;
	const uint8_t *p = data->p, *end = data->p + data->len;
	struct last lu = {0}, li = {0};
	uint64_t rec = 0;
	while (p < end) {
		uint32_t u = intern(L->users, &p, &lu);
		uint32_t i = intern(L->items, &p, &li);
		float w;
		memcpy(&w, p, 4);
		p += 4;
		if (rec > UINT32_MAX)
			die("more than %u records in one frame", UINT32_MAX);
		coo_add(&L->c, u, i, w, L->units << 32 | rec++);
		L->nrec++;
		L->wsum += w;
	}
	L->units++;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return (a > b) - (a < b);
}

/* stable sort of a row by index: insertion for short rows, keys otherwise */
static void sort_row(uint32_t *idx, float *w, uint64_t n, uint64_t **keys, float **tmp, uint64_t *cap)
{
	if (n <= 32) {
		for (uint64_t a = 1; a < n; a++) {
			uint32_t k = idx[a];
			float x = w[a];
			uint64_t b = a;
			for (; b > 0 && idx[b - 1] > k; b--) {
				idx[b] = idx[b - 1];
				w[b] = w[b - 1];
			}
			idx[b] = k;
			w[b] = x;
		}
		return;
	}
	int sorted = 1;
	for (uint64_t a = 1; a < n && sorted; a++)
		sorted = idx[a - 1] <= idx[a];
	if (sorted)
		return;
	if (n > *cap) {
		*cap = n;
		*keys = xrealloc(*keys, xmul(n, 8));
		*tmp = xrealloc(*tmp, xmul(n, 4));
	}
	for (uint64_t a = 0; a < n; a++)
		(*keys)[a] = (uint64_t)idx[a] << 32 | (uint32_t)a;
	/* the position in the low half makes equal items keep their order */
	qsort(*keys, n, 8, cmp_u64);
	for (uint64_t a = 0; a < n; a++)
		(*tmp)[a] = w[(uint32_t)(*keys)[a]];
	for (uint64_t a = 0; a < n; a++)
		idx[a] = (uint32_t)((*keys)[a] >> 32);
	memcpy(w, *tmp, n * 4);
}

uint64_t ix_csr_build(struct ix_csr *m, uint32_t rows, uint32_t cols, const uint32_t *u, const uint32_t *i,
		      const float *w, uint64_t n, int threads)
{
	m->rows = rows;
	m->cols = cols;
	m->off = xcalloc((size_t)m->rows + 1, 8);
	for (uint64_t k = 0; k < n; k++)
		m->off[u[k] + 1]++;
	for (uint32_t r = 0; r < m->rows; r++)
		m->off[r + 1] += m->off[r];
	m->idx = xmalloc(xmul(n ? n : 1, 4));
	m->w = xmalloc(xmul(n ? n : 1, 4));
	uint64_t *pos = xmalloc(xmul((size_t)m->rows + 1, 8));
	memcpy(pos, m->off, ((size_t)m->rows + 1) * 8);
	for (uint64_t k = 0; k < n; k++) {
		uint64_t at = pos[u[k]]++;
		m->idx[at] = i[k];
		m->w[at] = w[k];
	}
	/* sort each row, add duplicates up; pos[r] gets the row's new length */
	uint64_t dup = 0;
#pragma omp parallel num_threads(threads > 0 ? threads : 1) reduction(+ : dup)
	{
		uint64_t *keys = NULL, cap = 0;
		float *tmp = NULL;
#pragma omp for schedule(dynamic, 4096)
		for (uint32_t r = 0; r < m->rows; r++) {
			uint32_t *idx = m->idx + m->off[r];
			float *rw = m->w + m->off[r];
			uint64_t len = m->off[r + 1] - m->off[r], k = 0;
			sort_row(idx, rw, len, &keys, &tmp, &cap);
			for (uint64_t a = 0; a < len; a++) {
				if (k && idx[k - 1] == idx[a]) {
					rw[k - 1] += rw[a];
					dup++;
					continue;
				}
				idx[k] = idx[a];
				rw[k++] = rw[a];
			}
			pos[r] = k;
		}
		free(keys);
		free(tmp);
	}
	if (dup) {
		uint64_t at = 0;
		for (uint32_t r = 0; r < m->rows; r++) {
			uint64_t from = m->off[r], len = pos[r];
			memmove(m->idx + at, m->idx + from, len * 4);
			memmove(m->w + at, m->w + from, len * 4);
			m->off[r] = at;
			at += len;
		}
		m->off[m->rows] = at;
		m->idx = xrealloc(m->idx, xmul(at ? at : 1, 4));
		m->w = xrealloc(m->w, xmul(at ? at : 1, 4));
	}
	m->nnz = m->off[m->rows];
	free(pos);
	return dup;
}

/* CSR by user from the pairs, which it frees */
static void build(struct ix *x, struct coo *c, int threads)
{
	x->ndup += ix_csr_build(&x->m, st_count(x->users), st_count(x->items), c->u, c->i, c->w, c->n, threads);
	coo_release(c);
}

static void load_init(struct load *L, const struct ix_opts *o)
{
	memset(L, 0, sizeof *L);
	L->o = o;
	L->fu = o->user ? o->user : "user";
	L->fi = o->item ? o->item : "item";
	L->fw = o->weight ? o->weight : "weight";
	L->users = st_new();
	L->items = st_new();
}

struct ix *ix_load(pea_in *in, const struct ix_opts *o, const struct ix_base *base)
{
	struct load L;
	load_init(&L, o);
	if (base) {
		if (ntab_to_strtab(base->users, L.users) || ntab_to_strtab(base->items, L.items))
			die("the model's names repeat: the file is damaged");
		for (uint32_t u = 0; u < base->users->n; u++)
			for (uint64_t k = base->off[u]; k < base->off[u + 1]; k++)
				coo_add(&L.c, u, base->idx[k], base->w[k], 0);
	}
	struct pmap_opts po = {o->threads, collect, ordered, &L, o->quiet};
	pmap_run(in, NULL, &po);
	struct ix *x = xcalloc(1, sizeof *x);
	x->users = L.users;
	x->items = L.items;
	x->nrec = L.nrec;
	x->wsum = L.wsum;
	build(x, &L.c, o->threads);
	return x;
}

struct ix_recs *ix_read(pea_in *in, const struct ix_opts *o)
{
	struct load L;
	load_init(&L, o);
	L.c.keep_at = 1;
	struct pmap_opts po = {o->threads, collect, ordered, &L, o->quiet};
	pmap_run(in, NULL, &po);
	struct ix_recs *r = xcalloc(1, sizeof *r);
	r->users = L.users;
	r->items = L.items;
	r->u = L.c.u;
	r->i = L.c.i;
	r->w = L.c.w;
	r->at = L.c.at;
	r->n = L.c.n;
	r->units = L.units;
	r->wsum = L.wsum;
	return r;
}

void ix_recs_free(struct ix_recs *r)
{
	if (!r)
		return;
	st_free(r->users);
	st_free(r->items);
	free(r->u);
	free(r->i);
	free(r->w);
	free(r->at);
	free(r);
}

struct ix *ix_from_pairs(struct strtab *users, struct strtab *items, const uint32_t *u, const uint32_t *i,
			 const float *w, uint64_t n, int threads)
{
	struct coo c = {0};
	struct ix *x = xcalloc(1, sizeof *x);
	x->users = users;
	x->items = items;
	for (uint64_t k = 0; k < n; k++) {
		coo_add(&c, u[k], i[k], w ? w[k] : 1, 0);
		x->wsum += w ? w[k] : 1;
	}
	x->nrec = n;
	build(x, &c, threads);
	return x;
}

void ix_csr_release(struct ix_csr *m)
{
	free(m->off);
	free(m->idx);
	free(m->w);
	memset(m, 0, sizeof *m);
}

void ix_free(struct ix *x)
{
	if (!x)
		return;
	st_free(x->users);
	st_free(x->items);
	ix_csr_release(&x->m);
	if (x->share) {
		ix_csr_release(&x->share->byitem);
		free(x->share->ucut);
		free(x->share->icut);
		free(x->share);
	}
	free(x);
}

/* inputs smaller than this are transposed on one thread */
#define TRANSPOSE_MIN_PER_THREAD 65536

/* A counting sort over columns, by runs of rows: each thread counts its
 * run's entries per column, the counts give each run its own cursor in
 * every column (run 0's rows first), and each thread scatters its run.
 * Columns of t get their rows increasing, as from one thread. */
void ix_transpose(const struct ix_csr *m, struct ix_csr *t, int threads)
{
	t->rows = m->cols;
	t->cols = m->rows;
	t->nnz = m->nnz;
	t->off = xmalloc(xmul((size_t)t->rows + 1, 8));
	t->idx = xmalloc(xmul(m->nnz ? m->nnz : 1, 4));
	t->w = xmalloc(xmul(m->nnz ? m->nnz : 1, 4));
	uint32_t nt = threads > 1 ? (uint32_t)threads : 1;
	if (m->nnz / nt < TRANSPOSE_MIN_PER_THREAD)
		nt = 1;
	/* the runs: about nnz / nt entries each */
	uint32_t *run = xmalloc(xmul((size_t)nt + 1, 4));
	run[0] = 0;
	for (uint32_t r = 0, k = 1; k < nt; k++) {
		uint64_t want = m->nnz / nt * k;
		while (r < m->rows && m->off[r] < want)
			r++;
		run[k] = r;
	}
	run[nt] = m->rows;
	size_t stride = (size_t)t->rows + 1;
	uint64_t *cur = xcalloc(xmul(nt, stride), 8);
#pragma omp parallel num_threads(nt)
	{
		uint32_t me = (uint32_t)omp_get_thread_num();
		uint64_t *c = cur + me * stride;
		for (uint64_t k = m->off[run[me]]; k < m->off[run[me + 1]]; k++)
			c[m->idx[k]]++;
#pragma omp barrier
#pragma omp single
		{
			uint64_t at = 0;
			for (uint32_t col = 0; col < t->rows; col++) {
				t->off[col] = at;
				for (uint32_t x = 0; x < nt; x++) {
					uint64_t n = cur[x * stride + col];
					cur[x * stride + col] = at;
					at += n;
				}
			}
			t->off[t->rows] = at;
		}
		for (uint32_t r = run[me]; r < run[me + 1]; r++)
			for (uint64_t k = m->off[r]; k < m->off[r + 1]; k++) {
				uint64_t at = c[m->idx[k]]++;
				t->idx[at] = r;
				t->w[at] = m->w[k];
			}
	}
	free(cur);
	free(run);
}

int ix_csr_check(const uint64_t *off, const uint32_t *idx, const float *w, uint32_t rows, uint32_t cols,
		 uint64_t nnz, struct pea_err *e)
{
	if (off[0] != 0 || off[rows] != nnz) {
		err_set(e, "the interaction offsets do not add up");
		return -1;
	}
	for (uint32_t r = 0; r < rows; r++) {
		if (off[r + 1] < off[r] || off[r + 1] > nnz) {
			err_set(e, "the interaction offsets of row %u are out of order", r);
			return -1;
		}
		for (uint64_t k = off[r]; k < off[r + 1]; k++)
			if (idx[k] >= cols || (k > off[r] && idx[k] <= idx[k - 1]) || !(w[k] > 0) || !isfinite(w[k])) {
				err_set(e, "interaction %llu of row %u is out of range", (unsigned long long)(k - off[r]), r);
				return -1;
			}
	}
	return 0;
}
