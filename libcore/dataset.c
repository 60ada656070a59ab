/* dataset.c - see dataset.h.
 *
 * A record's vector is kept in a compact form that is quick to decode,
 * since every epoch decodes the whole set again.  Sparse: n, then a table
 * of the record's distinct values when there are at most 255 (text weights
 * such as counts, log counts or binary, even normalized, take a handful of
 * values a record), the index deltas in 16 bits (0xffff escapes to 32), and
 * then a byte a value naming its table entry, or the raw floats.  That is
 * about 3 bytes a nonzero, against 8 decoded, and it decodes several times
 * faster than a general compressor (zstd ran at under 1 GB/s on these
 * blocks and cost as much as the training itself).  Dense vectors (pixels)
 * are kept as n and the floats, and their blocks are zstd-compressed.
 *
 * Workers turn input frames into compact records in parallel; the ordered
 * callback, on the main thread, only appends them to the pending block of
 * their side, so block boundaries follow the record sequence alone.  Full
 * dense blocks are compressed a batch at a time on every core.  A block is
 * cut when its decoded form reaches BLOCK_RAW, which bounds a cursor. */
#include "dataset.h"
#include "dense.h"
#include "hash.h"
#include "pmap.h"
#include "strtab.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>

#define BLOCK_RAW (1u << 20)
#define MAX_LABEL_LEN 4096
#define MAX_LABELS (1u << 20)
#define MAX_REC_LABELS 65536

struct block {
	uint8_t *z;	 /* compact records, or (dense) zstd of them */
	size_t zlen, raw; /* stored bytes; bytes of the decoded words */
	uint32_t nrec;
	uint64_t first, nnz;
};

/* what the training and validation sets share */
struct ds_shared {
	struct strtab *seen; /* names in order of first appearance (while loading) */
	char **labels;	     /* sorted */
	int nlabels;
	int kind;	     /* -1 unknown, 0 sparse, 1 dense */
	uint32_t dim;
	char *fspace;
	int multilabel;
};

struct dataset {
	struct ds_shared *sh;
	struct dataset *valid; /* owned */
	struct block *b;
	size_t nb, bcap, zbytes;
	uint64_t nrec;
	uint64_t *yoff; /* nrec + 1 */
	uint32_t *yid;
	size_t ny, ycap, reccap;
	float *w;
	struct buf raw; /* the pending block */
	uint32_t rawn;
	uint64_t rawnnz;
	size_t rawdec;	/* its decoded size */
	uint32_t *feat; /* ds_compact: feature k is feat[k] (nfeat of them) */
	uint32_t nfeat;
};

static struct dataset *ds_alloc(struct ds_shared *sh)
{
	struct dataset *ds = xcalloc(1, sizeof *ds);
	ds->sh = sh;
	ds->yoff = xcalloc(1, sizeof *ds->yoff);
	buf_init(&ds->raw, 0);
	return ds;
}

static void part_free(struct dataset *ds)
{
	if (!ds)
		return;
	for (size_t i = 0; i < ds->nb; i++)
		free(ds->b[i].z);
	free(ds->b);
	free(ds->yoff);
	free(ds->yid);
	free(ds->w);
	free(ds->feat);
	buf_release(&ds->raw);
	free(ds);
}

void ds_free(struct dataset *ds)
{
	if (!ds)
		return;
	struct ds_shared *sh = ds->sh;
	part_free(ds->valid);
	part_free(ds);
	for (int i = 0; i < sh->nlabels; i++)
		free(sh->labels[i]);
	free(sh->labels);
	free(sh->fspace);
	st_free(sh->seen);
	free(sh);
}

uint64_t ds_nrec(const struct dataset *ds) { return ds->nrec; }
size_t ds_nblocks(const struct dataset *ds) { return ds->nb; }
size_t ds_bytes(const struct dataset *ds) { return ds->zbytes; }
int ds_dense(const struct dataset *ds) { return ds->sh->kind == 1; }
uint32_t ds_dim(const struct dataset *ds) { return ds->sh->dim; }
const char *ds_fspace(const struct dataset *ds) { return ds->sh->fspace; }
int ds_multilabel(const struct dataset *ds) { return ds->sh->multilabel; }
int ds_nlabels(const struct dataset *ds) { return ds->sh->nlabels; }
const char *ds_label(const struct dataset *ds, int i) { return ds->sh->labels[i]; }
uint64_t ds_first(const struct dataset *ds, size_t b) { return ds->b[b].first; }

const uint32_t *ds_y(const struct dataset *ds, uint64_t r, uint32_t *n)
{
	*n = (uint32_t)(ds->yoff[r + 1] - ds->yoff[r]);
	return ds->yid + ds->yoff[r];
}

float ds_weight(const struct dataset *ds, uint64_t r) { return ds->w[r]; }

/* ------------------------------------------------------------ loading */

/* A worker's output for one input frame (in the task buffer):
 *   u32 nrec, u32 kind, u32 dim, u32 fspace length, fspace bytes,
 *   u32 place length, place bytes (where the frame's first record is), then
 *   per record: u32 side, u32 from_list, u32 nlabels, per label u32
 *   length and bytes, f32 weight, u32 nonzeros (dense: values), u32
 *   bytes, the vector in its stored form. */
static void put32(struct buf *b, uint32_t v) { buf_add(b, &v, 4); }

struct rd {
	const uint8_t *p, *end;
};
static uint32_t get32(struct rd *r)
{
	uint32_t v;
	if (r->end - r->p < 4)
		die("internal error: short dataset chunk");
	memcpy(&v, r->p, 4);
	r->p += 4;
	return v;
}
static const uint8_t *getn(struct rd *r, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		die("internal error: short dataset chunk");
	const uint8_t *p = r->p;
	r->p += n;
	return p;
}

struct pending {
	struct dataset *ds;
	struct buf raw;
	uint8_t *z;
	size_t zlen, dec;
	uint32_t nrec;
	uint64_t first, nnz;
};

struct load {
	const struct ds_opts *o;
	struct ds_shared *sh;
	struct dataset *ds[2];
	ZSTD_CCtx **cctx;
	int nt;
	struct pending *q;
	int nq;
	uint64_t seen;
};

/* Reading the compact form: a record's head (its count of features n and
 * of table values k) and its size in bytes, and one gap between features. */
static inline size_t get_head(const uint8_t *p, const uint8_t *end, uint32_t *n, uint32_t *k)
{
	uint64_t n64 = 0;
	size_t h = vi_get(p, end, &n64, 5);
	*n = (uint32_t)n64;
	*k = p[h];
	return h + 1 + 4 * (size_t)*k;
}

static inline uint32_t get_gap(const uint8_t **p)
{
	uint32_t d = le16(*p);
	*p += 2;
	if (PEA_UNLIKELY(d == 0xffff)) {
		d = le32(*p);
		*p += 4;
	}
	return d;
}

/* Writing one gap at p: its length in bytes (2, or 6 escaped) */
static inline size_t put_gap(uint8_t *p, uint32_t d)
{
	if (PEA_LIKELY(d < 0xffff)) {
		put_le16(p, (uint16_t)d);
		return 2;
	}
	put_le16(p, 0xffff);
	put_le32(p + 2, d);
	return 6;
}

/* the bytes of a record's values after its gaps: codes or floats */
static inline size_t values_len(uint32_t n, uint32_t k)
{
	return k ? n : 4 * (size_t)n;
}

/* A sparse vector in the compact form (see the top of the file). */
static void put_sparse(struct buf *b, const uint32_t *idx, const float *val, uint32_t n)
{
	/* the distinct values, by their bits, in a table of 512 slots that
	 * holds at most 255 */
	uint32_t bits[512], code[512], tab[255], k = 0;
	uint8_t used[512] = {0};
	uint8_t *codes = NULL;
	size_t at = b->len;
	uint8_t *p = buf_grow(b, 10 + 10 + 4 * 255 + 6 * (size_t)n + 4 * (size_t)n);
	size_t o = vi_put(p, n);
	size_t kpos = o++; /* k, one byte (0..255) */
	uint8_t *cp = p + 10 + 10 + 4 * 255 + 6 * (size_t)n; /* codes, moved in place below */
	for (uint32_t i = 0; i < n && k <= 255; i++) {
		uint32_t v;
		memcpy(&v, &val[i], 4);
		uint32_t h = (v * 0x9e3779b1u) >> 23;
		while (used[h] && bits[h] != v)
			h = (h + 1) & 511;
		if (!used[h]) {
			if (k == 255) {
				k = 256; /* too many: raw floats */
				break;
			}
			used[h] = 1;
			bits[h] = v;
			code[h] = k;
			tab[k++] = v;
		}
		cp[i] = (uint8_t)code[h];
	}
	if (k > 255)
		k = 0;
	else
		codes = cp;
	p[kpos] = (uint8_t)k;
	memcpy(p + o, tab, 4 * (size_t)k);
	o += 4 * (size_t)k;
	uint32_t prev = 0;
	for (uint32_t i = 0; i < n; i++) {
		o += put_gap(p + o, idx[i] - prev);
		prev = idx[i];
	}
	if (codes) {
		memmove(p + o, codes, n);
		o += n;
	} else {
		memcpy(p + o, val, 4 * (size_t)n);
		o += 4 * (size_t)n;
	}
	b->len = at + o;
}

static int put_vector(struct pmap_task *t, uint32_t rec, const pea_val *v, struct buf *b, uint32_t *dim)
{
	const float *val = val_fval(v);
	if (v->type == PEA_SPARSE) {
		const uint32_t *idx = val_idx(v);
		for (uint32_t k = 0; k < v->n; k++)
			if (!isfinite(val[k]))
				return pmap_fail(t, rec, "feature %u has the value %g", idx[k], (double)val[k]);
		put_sparse(b, idx, val, v->n);
		if (v->n && idx[v->n - 1] >= *dim)
			*dim = idx[v->n - 1] + 1;
	} else {
		for (uint32_t k = 0; k < v->n; k++)
			if (!isfinite(val[k]))
				return pmap_fail(t, rec, "dense value %u is %g", k, (double)val[k]);
		put32(b, v->n);
		buf_add(b, val, 4 * (size_t)v->n);
	}
	return 0;
}

static int put_labels(struct load *L, struct pmap_task *t, uint32_t rec, const pea_frame *in, int fl,
		      int fls, struct buf *b)
{
	const pea_val *l = fl >= 0 ? frame_get(in, rec, fl) : NULL;
	const pea_val *ls = fls >= 0 ? frame_get(in, rec, fls) : NULL;
	if (l && ls)
		return pmap_fail(t, rec, "both 'label' and 'labels': give one");
	if (!l && !ls) {
		if (L->o->need_labels)
			return pmap_fail(t, rec, "no 'label' or 'labels' field");
		put32(b, 0);
		put32(b, 0);
		return 0;
	}
	if (l && l->type != PEA_STR)
		return pmap_fail(t, rec, "field 'label' is %s, not a string", pea_type_name(l->type));
	if (ls && ls->type != PEA_STRLIST)
		return pmap_fail(t, rec, "field 'labels' is %s, not a list of strings", pea_type_name(ls->type));
	put32(b, ls != NULL);
	if (l) {
		if (!l->n || l->n > MAX_LABEL_LEN)
			return pmap_fail(t, rec, "a label must have 1 to %d bytes", MAX_LABEL_LEN);
		put32(b, 1);
		put32(b, l->n);
		buf_add(b, l->p, l->n);
		return 0;
	}
	if (ls->n > MAX_REC_LABELS)
		return pmap_fail(t, rec, "more than %d labels", MAX_REC_LABELS);
	put32(b, ls->n);
	struct val_iter it;
	val_iter_init(&it, ls);
	while (val_iter_next(&it)) {
		if (!it.len || it.len > MAX_LABEL_LEN)
			return pmap_fail(t, rec, "a label must have 1 to %d bytes", MAX_LABEL_LEN);
		put32(b, it.len);
		buf_add(b, it.s, it.len);
	}
	return 0;
}

static int load_frame(void *arg, struct pmap_task *t, const pea_frame *in, pea_fb *out)
{
	struct load *L = arg;
	(void)out;
	struct buf *b = pmap_task_buf(t);
	const char *xname = L->o->field;
	int fx = xname ? frame_field(in, xname) : frame_field(in, "features");
	int fd = xname ? -1 : frame_field(in, "dense");
	int fl = frame_field(in, "label"), fls = frame_field(in, "labels");
	int fw = frame_field(in, "weight"), fs = frame_field(in, "fspace"), fid = frame_field(in, "id");
	uint32_t n = frame_nrec(in);
	if (!n)
		return 0;
	size_t head = b->len;
	put32(b, n);
	put32(b, 0); /* kind, dim: filled in below */
	put32(b, 0);
	const pea_val *s0 = fs >= 0 ? frame_get(in, 0, fs) : NULL;
	if (s0 && s0->type != PEA_STR)
		return pmap_fail(t, 0, "field 'fspace' is %s, not a string", pea_type_name(s0->type));
	put32(b, s0 ? s0->n : 0);
	if (s0)
		buf_add(b, s0->p, s0->n);
	char where[512];
	pmap_where(t, 0, where, sizeof where);
	put32(b, (uint32_t)strlen(where));
	buf_adds(b, where);
	int kind = -1;
	uint32_t dim = 0;
	for (uint32_t r = 0; r < n; r++) {
		const pea_val *v = fx >= 0 ? frame_get(in, r, fx) : NULL;
		if (!v && fd >= 0)
			v = frame_get(in, r, fd);
		if (!v)
			return xname ? pmap_fail(t, r, "no '%s' field", xname)
				     : pmap_fail(t, r, "no 'features' or 'dense' field");
		if (v->type != PEA_SPARSE && v->type != PEA_DENSE)
			return pmap_fail(t, r, "field '%s' is %s, not a feature vector",
					 frame_fdef(in, v->field)->name, pea_type_name(v->type));
		int k = v->type == PEA_DENSE;
		if (kind < 0)
			kind = k;
		else if (k != kind)
			return pmap_fail(t, r, "sparse and dense features mixed");
		if (k && r && v->n != dim)
			return pmap_fail(t, r, "dense vector of %u values after vectors of %u", v->n, dim);
		const pea_val *s = fs >= 0 ? frame_get(in, r, fs) : NULL;
		if ((s != NULL) != (s0 != NULL) ||
		    (s && (s->type != PEA_STR || s->n != s0->n || memcmp(s->p, s0->p, s->n))))
			return pmap_fail(t, r, "feature space '%.*s' differs from '%.*s' before it",
					 s && s->type == PEA_STR ? (int)s->n : 4, s && s->type == PEA_STR ? val_str(s) : "none",
					 s0 ? (int)s0->n : 4, s0 ? val_str(s0) : "none");
		/* the holdout side: a hash of the record's content, so a record is
		 * held out on every run and duplicates fall on the same side */
		uint32_t side = 0;
		if (L->o->holdout > 0) {
			const pea_val *id = fid >= 0 ? frame_get(in, r, fid) : NULL;
			uint64_t h = id ? (id->type == PEA_INT ? hash_bytes(&id->x.i, 8, L->o->seed)
							       : hash_bytes(id->raw, id->rawlen, L->o->seed))
					: hash_bytes(v->raw, v->rawlen, L->o->seed);
			side = hash_unit(h) < L->o->holdout;
		}
		put32(b, side);
		if (put_labels(L, t, r, in, fl, fls, b))
			return -1;
		float w = 1;
		const pea_val *wv = fw >= 0 ? frame_get(in, r, fw) : NULL;
		if (wv) {
			double d = wv->type == PEA_FLOAT ? wv->x.d : wv->type == PEA_INT ? (double)wv->x.i : NAN;
			if (!(d >= 0) || !isfinite(d))
				return pmap_fail(t, r, "field 'weight' must be a number >= 0");
			w = (float)d;
		}
		buf_add(b, &w, 4);
		put32(b, v->n);
		size_t at = b->len;
		put32(b, 0);
		if (k)
			dim = v->n;
		if (put_vector(t, r, v, b, &dim))
			return -1;
		uint32_t bytes = (uint32_t)(b->len - at - 4);
		memcpy(b->p + at, &bytes, 4);
	}
	memcpy(b->p + head + 4, &(uint32_t){(uint32_t)kind}, 4);
	memcpy(b->p + head + 8, &dim, 4);
	return 0;
}

static void compress_queue(struct load *L)
{
	if (!L->nq)
		return;
	int dense = L->sh->kind == 1;
#pragma omp parallel for schedule(dynamic, 1) num_threads(L->nt) if (dense)
	for (int i = 0; i < L->nq; i++) {
		struct pending *q = &L->q[i];
		if (!dense) {
			/* compact already: the block keeps the bytes */
			q->zlen = q->raw.len;
			q->z = xrealloc(q->raw.p, q->zlen ? q->zlen : 1);
			buf_init(&q->raw, 0);
			continue;
		}
		ZSTD_CCtx *cc = L->cctx[omp_get_thread_num()];
		size_t cap = ZSTD_compressBound(q->raw.len);
		uint8_t *z = xmalloc(cap);
		size_t zn = ZSTD_compressCCtx(cc, z, cap, q->raw.p, q->raw.len, 1);
		if (ZSTD_isError(zn))
			die("compressing the training set: %s", ZSTD_getErrorName(zn));
		q->z = xrealloc(z, zn ? zn : 1);
		q->zlen = zn;
	}
	for (int i = 0; i < L->nq; i++) {
		struct pending *q = &L->q[i];
		struct dataset *ds = q->ds;
		if (ds->nb == ds->bcap) {
			ds->bcap = ds->bcap ? ds->bcap * 2 : 64;
			ds->b = xrealloc(ds->b, ds->bcap * sizeof *ds->b);
		}
		struct block *bl = &ds->b[ds->nb++];
		bl->z = q->z;
		bl->zlen = q->zlen;
		bl->raw = q->dec;
		bl->nrec = q->nrec;
		bl->first = q->first;
		bl->nnz = q->nnz;
		ds->zbytes += bl->zlen;
		buf_release(&q->raw);
	}
	L->nq = 0;
}

static void cut_block(struct load *L, struct dataset *ds)
{
	if (!ds->rawn)
		return;
	struct pending *q = &L->q[L->nq++];
	q->ds = ds;
	q->raw = ds->raw;
	q->nrec = ds->rawn;
	q->first = ds->nrec - ds->rawn;
	q->nnz = ds->rawnnz;
	q->dec = ds->rawdec;
	buf_init(&ds->raw, 0);
	ds->rawn = 0;
	ds->rawnnz = 0;
	ds->rawdec = 0;
	if (L->nq == L->nt)
		compress_queue(L);
}

static void add_record(struct load *L, struct dataset *ds, const uint32_t *lab, uint32_t nl, float w,
		       uint32_t nnz, const uint8_t *x, size_t xbytes)
{
	if (ds->nrec + 1 >= ds->reccap) {
		ds->reccap = ds->reccap ? ds->reccap * 2 : 1024;
		ds->yoff = xrealloc(ds->yoff, (ds->reccap + 1) * sizeof *ds->yoff);
		ds->w = xrealloc(ds->w, ds->reccap * sizeof *ds->w);
	}
	if (ds->ny + nl > ds->ycap) {
		ds->ycap = (ds->ny + nl) * 2;
		ds->yid = xrealloc(ds->yid, ds->ycap * sizeof *ds->yid);
	}
	if (nl)
		memcpy(ds->yid + ds->ny, lab, nl * sizeof *lab);
	ds->ny += nl;
	ds->w[ds->nrec] = w;
	ds->yoff[++ds->nrec] = ds->ny;
	buf_add(&ds->raw, x, xbytes);
	ds->rawn++;
	ds->rawnnz += nnz;
	ds->rawdec += 4 * (1 + (L->sh->kind == 1 ? 1 : 2) * (size_t)nnz);
	if (ds->rawdec >= BLOCK_RAW)
		cut_block(L, ds);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static void load_ordered(void *arg, struct buf *data)
{
	struct load *L = arg;
	struct ds_shared *sh = L->sh;
	struct rd r = {data->p, data->p + data->len};
	uint32_t *lab = NULL;
	size_t labcap = 0;
	while (r.p < r.end) {
		uint32_t n = get32(&r), kind = get32(&r), dim = get32(&r);
		uint32_t fsl = get32(&r);
		const char *fsp = (const char *)getn(&r, fsl);
		uint32_t wl = get32(&r);
		const char *where = (const char *)getn(&r, wl);
		if (sh->kind < 0) {
			sh->kind = (int)kind;
			if (fsl)
				sh->fspace = xstrndup(fsp, fsl);
		} else if ((int)kind != sh->kind) {
			die("%.*s: %s features after %s ones", (int)wl, where, kind ? "dense" : "sparse",
			    kind ? "sparse" : "dense");
		} else if ((fsl != 0) != (sh->fspace != NULL) ||
			   (fsl && (strlen(sh->fspace) != fsl || memcmp(sh->fspace, fsp, fsl)))) {
			die("%.*s: feature space '%.*s' differs from '%s' before it", (int)wl, where,
			    fsl ? (int)fsl : 4, fsl ? fsp : "none", sh->fspace ? sh->fspace : "none");
		}
		if (kind == 1 && L->seen && dim != sh->dim)
			die("%.*s: dense vectors of %u values after vectors of %u", (int)wl, where, dim, sh->dim);
		if (kind == 1 || dim > sh->dim)
			sh->dim = dim;
		for (uint32_t i = 0; i < n; i++) {
			uint32_t side = get32(&r), list = get32(&r), nl = get32(&r);
			if (list)
				sh->multilabel = 1;
			if (nl > labcap) {
				labcap = nl * 2;
				lab = xrealloc(lab, labcap * sizeof *lab);
			}
			uint32_t k = 0;
			for (uint32_t j = 0; j < nl; j++) {
				uint32_t len = get32(&r);
				const char *s = (const char *)getn(&r, len);
				if (st_count(sh->seen) == MAX_LABELS && st_find(sh->seen, s, len) < 0)
					die("%.*s: more than %u distinct labels", (int)wl, where, MAX_LABELS);
				lab[k++] = st_intern(sh->seen, s, len);
			}
			/* a record's labels: sorted, each once */
			if (k > 1)
				qsort(lab, k, sizeof *lab, cmp_u32);
			uint32_t m = 0;
			for (uint32_t j = 0; j < k; j++)
				if (!m || lab[m - 1] != lab[j])
					lab[m++] = lab[j];
			float w;
			memcpy(&w, getn(&r, 4), 4);
			uint32_t nnz = get32(&r), bytes = get32(&r);
			const uint8_t *x = getn(&r, bytes);
			add_record(L, L->ds[side], lab, m, w, nnz, x, bytes);
			L->seen++;
		}
	}
	free(lab);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* renumber the labels of ds (and its validation set) through map */
static void remap(struct dataset *ds, const uint32_t *map)
{
	for (; ds; ds = ds->valid) {
		for (size_t i = 0; i < ds->ny; i++)
			ds->yid[i] = map[ds->yid[i]];
		for (uint64_t r = 0; r < ds->nrec; r++)
			if (ds->yoff[r + 1] - ds->yoff[r] > 1)
				qsort(ds->yid + ds->yoff[r], ds->yoff[r + 1] - ds->yoff[r], sizeof *ds->yid, cmp_u32);
	}
}

void ds_load(pea_in *in, const struct ds_opts *o, struct dataset **train, struct dataset **valid)
{
	struct load L = {0};
	L.o = o;
	L.nt = o->threads > 0 ? o->threads : 1;
	L.sh = xcalloc(1, sizeof *L.sh);
	L.sh->seen = st_new();
	L.sh->kind = -1;
	L.ds[0] = ds_alloc(L.sh);
	L.ds[1] = ds_alloc(L.sh);
	L.cctx = xcalloc((size_t)L.nt, sizeof *L.cctx);
	for (int i = 0; i < L.nt; i++)
		L.cctx[i] = ZSTD_createCCtx();
	L.q = xcalloc((size_t)L.nt, sizeof *L.q);
	struct pmap_opts po = {L.nt, load_frame, load_ordered, &L, o->quiet};
	pmap_run(in, NULL, &po);
	cut_block(&L, L.ds[0]);
	cut_block(&L, L.ds[1]);
	compress_queue(&L);
	struct ds_shared *sh = L.sh;
	if (sh->kind < 0)
		sh->kind = 0;
	/* sorted label names, and ids renumbered to match */
	sh->nlabels = (int)st_count(sh->seen);
	sh->labels = xcalloc((size_t)sh->nlabels + 1, sizeof *sh->labels);
	for (int i = 0; i < sh->nlabels; i++)
		sh->labels[i] = (char *)st_name(sh->seen, (uint32_t)i);
	qsort(sh->labels, (size_t)sh->nlabels, sizeof *sh->labels, cmp_str);
	uint32_t *map = xcalloc((size_t)sh->nlabels + 1, sizeof *map);
	for (int i = 0; i < sh->nlabels; i++) {
		map[st_find(sh->seen, sh->labels[i], strlen(sh->labels[i]))] = (uint32_t)i;
		sh->labels[i] = xstrdup(sh->labels[i]);
	}
	L.ds[0]->valid = L.ds[1];
	remap(L.ds[0], map);
	free(map);
	st_free(sh->seen);
	sh->seen = NULL;
	for (int i = 0; i < L.nt; i++)
		ZSTD_freeCCtx(L.cctx[i]);
	free(L.cctx);
	free(L.q);
	*train = L.ds[0];
	if (o->holdout > 0) {
		*valid = L.ds[1];
	} else {
		*valid = NULL;
	}
}

void ds_relabel(struct dataset *ds, char *const *names, int n)
{
	struct ds_shared *sh = ds->sh;
	uint32_t *map = xcalloc((size_t)sh->nlabels + 1, sizeof *map);
	for (int i = 0; i < sh->nlabels; i++) {
		char *const *p = bsearch(&sh->labels[i], names, (size_t)n, sizeof *names, cmp_str);
		if (!p)
			die("internal error: label '%s' missing from the new label list", sh->labels[i]);
		map[i] = (uint32_t)(p - names);
		free(sh->labels[i]);
	}
	remap(ds, map);
	free(map);
	sh->labels = xrealloc(sh->labels, ((size_t)n + 1) * sizeof *sh->labels);
	for (int i = 0; i < n; i++)
		sh->labels[i] = xstrdup(names[i]);
	sh->nlabels = n;
}

/* ------------------------------------------------------------ reading */

struct ds_cursor {
	ZSTD_DCtx *d;
	uint32_t *w;	 /* the decoded words */
	size_t wcap;
	uint32_t *off; /* word offset of each record */
	uint32_t ocap;
	int dense;
};

struct ds_cursor *ds_cursor_new(void)
{
	struct ds_cursor *c = xcalloc(1, sizeof *c);
	c->d = ZSTD_createDCtx();
	return c;
}

void ds_cursor_free(struct ds_cursor *c)
{
	if (!c)
		return;
	ZSTD_freeDCtx(c->d);
	free(c->w);
	free(c->off);
	free(c);
}

uint32_t ds_decode(struct ds_cursor *c, const struct dataset *ds, size_t b)
{
	const struct block *bl = &ds->b[b];
	if (bl->raw > c->wcap * 4) {
		c->wcap = bl->raw / 4 + 1;
		free(c->w);
		c->w = xmalloc(c->wcap * 4);
	}
	if (bl->nrec > c->ocap) {
		c->ocap = bl->nrec;
		c->off = xrealloc(c->off, c->ocap * sizeof *c->off);
	}
	c->dense = ds->sh->kind == 1;
	if (c->dense) {
		size_t got = ZSTD_decompressDCtx(c->d, c->w, c->wcap * 4, bl->z, bl->zlen);
		if (ZSTD_isError(got) || got != bl->raw)
			die("internal error: a training set block does not decode");
		size_t at = 0;
		for (uint32_t i = 0; i < bl->nrec; i++) {
			c->off[i] = (uint32_t)at;
			at += 1 + (size_t)c->w[at];
		}
		return bl->nrec;
	}
	/* the compact records were made by put_sparse, in this process */
	const uint8_t *p = bl->z, *end = bl->z + bl->zlen;
	uint32_t *w = c->w;
	for (uint32_t i = 0; i < bl->nrec; i++) {
		uint32_t n, k;
		p += get_head(p, end, &n, &k);
		const uint8_t *tab = p - 4 * (size_t)k;
		c->off[i] = (uint32_t)(w - c->w);
		*w++ = n;
		uint32_t prev = 0;
		for (uint32_t j = 0; j < n; j++) {
			prev += get_gap(&p);
			w[j] = prev;
		}
		w += n;
		if (k) {
			for (uint32_t j = 0; j < n; j++)
				memcpy(w + j, tab + 4 * (size_t)p[j], 4);
			p += n;
		} else {
			memcpy(w, p, 4 * (size_t)n);
			p += 4 * (size_t)n;
		}
		w += n;
	}
	if (p != end || (size_t)(w - c->w) * 4 != bl->raw)
		die("internal error: a training set block does not decode");
	return bl->nrec;
}

void ds_cursor_x(const struct ds_cursor *c, uint32_t i, struct ds_x *x)
{
	const uint32_t *p = c->w + c->off[i];
	x->n = p[0];
	x->idx = c->dense ? NULL : p + 1;
	x->val = (const float *)(const void *)(p + 1 + (c->dense ? 0 : x->n));
}

void ds_visit(const struct dataset *ds, const size_t *order, size_t n, int threads, ds_visit_fn fn, void *ctx)
{
	int nt = threads > 0 ? threads : 1;
	if (!order)
		n = ds->nb;
	struct ds_cursor **cur = xcalloc((size_t)nt, sizeof *cur);
	uint32_t *cnt = xcalloc((size_t)nt, sizeof *cnt);
	for (int i = 0; i < nt; i++)
		cur[i] = ds_cursor_new();
	for (size_t at = 0; at < n; at += (size_t)nt) {
		int m = n - at < (size_t)nt ? (int)(n - at) : nt;
#pragma omp parallel for schedule(static, 1) num_threads(nt) if (m > 1)
		for (int i = 0; i < m; i++) {
			size_t b = order ? order[at + (size_t)i] : at + (size_t)i;
			cnt[i] = ds_decode(cur[i], ds, b);
		}
		for (int i = 0; i < m; i++) {
			size_t b = order ? order[at + (size_t)i] : at + (size_t)i;
			fn(ctx, cur[i], ds->b[b].first, cnt[i]);
		}
	}
	for (int i = 0; i < nt; i++)
		ds_cursor_free(cur[i]);
	free(cur);
	free(cnt);
}

void ds_features(const struct dataset *ds, uint32_t dim, uint64_t *bits)
{
	if (ds_dense(ds)) {
		uint32_t n = ds_dim(ds) < dim ? ds_dim(ds) : dim;
		for (uint32_t j = 0; j < n; j++)
			bits[j / 64] |= (uint64_t)1 << (j % 64);
		return;
	}
	/* the gaps are all it takes: the values are skipped, not decoded */
	for (size_t b = 0; b < ds->nb; b++) {
		const struct block *bl = &ds->b[b];
		const uint8_t *p = bl->z, *end = bl->z + bl->zlen;
		for (uint32_t i = 0; i < bl->nrec; i++) {
			uint32_t n, k, j = 0;
			p += get_head(p, end, &n, &k);
			for (uint32_t t = 0; t < n; t++) {
				j += get_gap(&p);
				if (j < dim)
					bits[j / 64] |= (uint64_t)1 << (j % 64);
			}
			p += values_len(n, k);
		}
	}
}

/* One block's compact records with feature j renumbered to[j] (none
 * above top; UINT32_MAX: not listed), written to out: only the gaps
 * change.  The numbering is monotone, so the order of features within a
 * record stays as it is; when it closes gaps (ds_compact) no gap grows and
 * out may be the block itself (the writer never passes the reader), else
 * out needs 3 times the block (a gap of 2 bytes may take 6).  Returns the
 * length written. */
static size_t renumber_block(const struct block *bl, const uint32_t *to, uint32_t top, uint8_t *out)
{
	const uint8_t *p = bl->z, *end = bl->z + bl->zlen;
	uint8_t *o = out;
	for (uint32_t i = 0; i < bl->nrec; i++) {
		uint32_t n, k;
		/* the head and the table of values: as they are */
		size_t h = get_head(p, end, &n, &k), v = values_len(n, k);
		memmove(o, p, h);
		p += h;
		o += h;
		uint32_t prev = 0, nprev = 0;
		for (uint32_t j = 0; j < n; j++) {
			prev += get_gap(&p);
			uint32_t now = prev <= top ? to[prev] : UINT32_MAX, d = now - nprev;
			if (now == UINT32_MAX)
				die("internal error: a feature of the training set is not in its list");
			nprev = now;
			o += put_gap(o, d);
		}
		/* the values (codes into the table, or floats): as they are */
		memmove(o, p, v);
		p += v;
		o += v;
	}
	if (p != end)
		die("internal error: a training set block does not decode");
	return (size_t)(o - out);
}

/* closes: the numbering closes gaps (renumbered in place) */
static void renumber(struct dataset *ds, const uint32_t *to, uint32_t top, int closes, int threads)
{
	size_t zbytes = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads > 0 ? threads : 1) reduction(+ : zbytes)
	for (size_t b = 0; b < ds->nb; b++) {
		struct block *bl = &ds->b[b];
		uint8_t *out = closes ? bl->z : xmalloc(xmul(bl->zlen ? bl->zlen : 1, 3));
		bl->zlen = renumber_block(bl, to, top, out);
		if (!closes)
			free(bl->z);
		bl->z = xrealloc(out, bl->zlen ? bl->zlen : 1);
		zbytes += bl->zlen;
	}
	ds->zbytes = zbytes;
}

void ds_compact(struct dataset *ds, const uint32_t *ids, size_t n, int threads)
{
	if (ds_dense(ds) || ds->feat)
		die("internal error: only a sparse training set in its own numbering is compacted");
	uint32_t top = n ? ids[n - 1] : 0;
	uint32_t *at = xmalloc(((size_t)top + 1) * sizeof *at);
	memset(at, 0xff, ((size_t)top + 1) * sizeof *at);
	for (size_t k = 0; k < n; k++)
		at[ids[k]] = (uint32_t)k;
	renumber(ds, at, top, 1, threads);
	free(at);
	ds->feat = xmalloc((n ? n : 1) * sizeof *ds->feat);
	memcpy(ds->feat, ids, n * sizeof *ids);
	ds->nfeat = (uint32_t)n;
}

const uint32_t *ds_numbering(const struct dataset *ds, uint32_t *n)
{
	*n = ds->nfeat;
	return ds->feat;
}

void ds_expand(struct dataset *ds, int threads)
{
	if (!ds->feat)
		return;
	renumber(ds, ds->feat, ds->nfeat ? ds->nfeat - 1 : 0, 0, threads);
	free(ds->feat);
	ds->feat = NULL;
	ds->nfeat = 0;
}

void ds_to_csr(const struct dataset *ds, int threads, struct ds_csr *m)
{
	int nt = threads > 0 ? threads : 1;
	uint64_t *base = xcalloc(ds->nb + 1, sizeof *base);
	for (size_t b = 0; b < ds->nb; b++)
		base[b + 1] = base[b] + ds->b[b].nnz;
	m->n = ds->nrec;
	/* every element is written below; in huge pages, as the first touch
	 * of fresh memory is most of the cost of a copy */
	m->off = dense_alloc(xmul(ds->nrec + 1, sizeof *m->off));
	m->val = dense_alloc(xmul(base[ds->nb] ? base[ds->nb] : 1, sizeof *m->val));
	m->idx = ds->sh->kind == 1 ? NULL : dense_alloc(xmul(base[ds->nb] ? base[ds->nb] : 1, sizeof *m->idx));
	struct ds_cursor **cur = xcalloc((size_t)nt, sizeof *cur);
	for (int i = 0; i < nt; i++)
		cur[i] = ds_cursor_new();
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
	for (size_t b = 0; b < ds->nb; b++) {
		struct ds_cursor *c = cur[omp_get_thread_num()];
		uint32_t n = ds_decode(c, ds, b);
		uint64_t at = base[b], r0 = ds->b[b].first;
		for (uint32_t i = 0; i < n; i++) {
			struct ds_x x;
			ds_cursor_x(c, i, &x);
			m->off[r0 + i] = at;
			if (m->idx)
				memcpy(m->idx + at, x.idx, x.n * sizeof *x.idx);
			memcpy(m->val + at, x.val, x.n * sizeof *x.val);
			at += x.n;
		}
	}
	m->off[ds->nrec] = base[ds->nb];
	for (int i = 0; i < nt; i++)
		ds_cursor_free(cur[i]);
	free(cur);
	free(base);
}

void ds_csr_release(struct ds_csr *m)
{
	free(m->off);
	free(m->idx);
	free(m->val);
	memset(m, 0, sizeof *m);
}
