/* frame.c - encoding and decoding of pea frames (man/pea-format.5).
 *
 * Decoding validates everything once (bounds, UTF-8, index order, duplicate
 * fields), so the accessors in frame.h never need to check again and hostile
 * input can at worst produce an error message. */
#include "frame.h"

#include <json-c/json_tokener.h>
#include <stdlib.h>
#include "hash.h"

static const char *const type_names[] = {
	NULL, "string", "bytes", "int", "float", "bool", "strlist",
	"sparse", "dense", "ints", "map", "json",
};

const char *pea_type_name(int type)
{
	if (type < 1 || type > PEA_TYPE_MAX)
		return "unknown";
	return type_names[type];
}

/* ---------------------------------------------------------------- header */

int hdr_parse(const uint8_t *p, struct pea_hdr *h, struct pea_err *e)
{
	if (memcmp(p, PEA_MAGIC, PEA_MAGIC_LEN)) {
		err_set(e, "bad magic (not a pea frame)");
		return -1;
	}
	h->version = p[8];
	h->codec = p[9];
	h->flags = le16(p + 10);
	h->nrec = le32(p + 12);
	h->stored = le32(p + 16);
	h->raw = le32(p + 20);
	h->sum = le64(p + 24);
	if (h->version != PEA_VERSION) {
		err_set(e, "unsupported format version %u", h->version);
		return -1;
	}
	if (h->flags) {
		err_set(e, "unknown header flags 0x%x", h->flags);
		return -1;
	}
	if (h->raw > PEA_MAX_PAYLOAD) {
		err_set(e, "payload size %u over the limit of %u", h->raw, PEA_MAX_PAYLOAD);
		return -1;
	}
	switch (h->codec) {
	case PEA_CODEC_NONE:
		if (h->stored != h->raw) {
			err_set(e, "stored size %u differs from payload size %u", h->stored, h->raw);
			return -1;
		}
		break;
	case PEA_CODEC_ZSTD:
		if (h->stored > ZSTD_compressBound(h->raw)) {
			err_set(e, "stored size %u impossible for payload size %u", h->stored, h->raw);
			return -1;
		}
		break;
	default:
		err_set(e, "unknown codec %u", h->codec);
		return -1;
	}
	/* every record takes at least one byte */
	if (h->nrec > h->raw) {
		err_set(e, "record count %u impossible for payload size %u", h->nrec, h->raw);
		return -1;
	}
	return 0;
}

uint64_t frame_checksum(const uint8_t *hdr, const uint8_t *stored, size_t n)
{
	XXH3_state_t st;
	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, hdr + 8, 16);
	XXH3_64bits_update(&st, stored, n);
	return XXH3_64bits_digest(&st);
}

/* --------------------------------------------------------------- decoder */

struct pea_frame {
	struct buf raw;
	const uint8_t *pl; /* the payload parsed: raw.p, or borrowed (frame_use) */
	size_t pln;
	uint32_t nfields;
	struct pea_fdef *fields;
	uint32_t fields_cap;
	char *names;
	size_t names_cap;
	uint32_t nrec;
	uint32_t *rec_off; /* nrec + 1 offsets into vals */
	uint32_t rec_cap;
	pea_val *vals;
	size_t nvals, vals_cap;
	uint64_t gen;
	uint32_t *seen; /* per field: last record that had it, + 1 */
	json_tokener *tok;
};

static uint64_t gen_counter;

pea_frame *frame_new(void)
{
	pea_frame *f = xcalloc(1, sizeof *f);
	buf_init(&f->raw, 0);
	return f;
}

void frame_free(pea_frame *f)
{
	if (!f)
		return;
	buf_release(&f->raw);
	free(f->fields);
	free(f->names);
	free(f->rec_off);
	free(f->vals);
	free(f->seen);
	if (f->tok)
		json_tokener_free(f->tok);
	free(f);
}

struct buf *frame_rawbuf(pea_frame *f)
{
	return &f->raw;
}

uint32_t frame_nrec(const pea_frame *f) { return f->nrec; }
uint32_t frame_nfields(const pea_frame *f) { return f->nfields; }
uint64_t frame_gen(const pea_frame *f) { return f->gen; }

const struct pea_fdef *frame_fdef(const pea_frame *f, uint32_t i)
{
	return &f->fields[i];
}

int frame_field(const pea_frame *f, const char *name)
{
	size_t len = strlen(name);
	for (uint32_t i = 0; i < f->nfields; i++)
		if (f->fields[i].len == len && !memcmp(f->fields[i].name, name, len))
			return (int)i;
	return -1;
}

const pea_val *frame_vals(const pea_frame *f, uint32_t rec, uint32_t *n)
{
	*n = f->rec_off[rec + 1] - f->rec_off[rec];
	return f->vals + f->rec_off[rec];
}

const pea_val *frame_get(const pea_frame *f, uint32_t rec, int field)
{
	if (field < 0)
		return NULL;
	for (uint32_t i = f->rec_off[rec]; i < f->rec_off[rec + 1]; i++)
		if (f->vals[i].field == field)
			return &f->vals[i];
	return NULL;
}

static int parse_payload(pea_frame *f, uint32_t nrec, struct pea_err *e);

static int load(pea_frame *f, const struct pea_hdr *h, const uint8_t *hdrbytes, const uint8_t *stored,
		ZSTD_DCtx *dctx, int borrow, struct pea_err *e)
{
	if (frame_checksum(hdrbytes, stored, h->stored) != h->sum) {
		err_set(e, "checksum mismatch");
		return -1;
	}
	/* vectors are aligned from the payload's start: borrow only an
	 * 8-aligned payload */
	if (borrow && h->codec == PEA_CODEC_NONE && !((uintptr_t)stored & 7)) {
		f->pl = stored;
		f->pln = h->raw;
		return parse_payload(f, h->nrec, e);
	}
	buf_reset(&f->raw);
	uint8_t *dst = buf_grow(&f->raw, h->raw);
	if (h->codec == PEA_CODEC_NONE) {
		memcpy(dst, stored, h->raw);
	} else {
		unsigned long long fcs = ZSTD_getFrameContentSize(stored, h->stored);
		if (fcs != h->raw) {
			err_set(e, "compressed payload does not declare %u bytes", h->raw);
			return -1;
		}
		size_t r = ZSTD_decompressDCtx(dctx, dst, h->raw, stored, h->stored);
		if (ZSTD_isError(r)) {
			err_set(e, "corrupt compressed payload: %s", ZSTD_getErrorName(r));
			return -1;
		}
		if (r != h->raw) {
			err_set(e, "payload decompressed to %zu bytes, header says %u", r, h->raw);
			return -1;
		}
	}
	f->raw.len = h->raw;
	return frame_parse(f, h->nrec, e);
}

int frame_load(pea_frame *f, const struct pea_hdr *h, const uint8_t *hdrbytes,
	       const uint8_t *stored, ZSTD_DCtx *dctx, struct pea_err *e)
{
	return load(f, h, hdrbytes, stored, dctx, 0, e);
}

int frame_use(pea_frame *f, const struct pea_hdr *h, const uint8_t *hdrbytes,
	      const uint8_t *stored, ZSTD_DCtx *dctx, struct pea_err *e)
{
	return load(f, h, hdrbytes, stored, dctx, 1, e);
}

/* read a varint that must fit in 32 bits */
static int get32(const uint8_t **pp, const uint8_t *end, uint32_t *out)
{
	uint64_t v;
	size_t k = vi_get(*pp, end, &v, 5);
	if (!k || v > UINT32_MAX)
		return -1;
	*pp += k;
	*out = (uint32_t)v;
	return 0;
}

static int parse_table(pea_frame *f, const uint8_t **pp, const uint8_t *end, struct pea_err *e)
{
	const uint8_t *p = *pp;
	uint32_t nf;
	if (get32(&p, end, &nf) || nf > PEA_MAX_FIELDS) {
		err_set(e, "bad field count");
		return -1;
	}
	if ((size_t)(end - p) < (size_t)nf * 2) {
		err_set(e, "field table runs past the payload");
		return -1;
	}
	if (nf > f->fields_cap) {
		f->fields = xrealloc(f->fields, nf * sizeof *f->fields);
		f->seen = xrealloc(f->seen, nf * sizeof *f->seen);
		f->fields_cap = nf;
	}
	/* names are copied NUL-terminated so callers can use them as C strings */
	size_t names_need = (size_t)(end - p) < (size_t)nf * PEA_MAX_NAME ? (size_t)(end - p) : (size_t)nf * PEA_MAX_NAME;
	names_need += nf;
	if (names_need > f->names_cap) {
		f->names = xrealloc(f->names, names_need);
		f->names_cap = names_need;
	}
	char *np = f->names;
	for (uint32_t i = 0; i < nf; i++) {
		uint8_t type = *p++;
		uint32_t len;
		if (type < 1 || type > PEA_TYPE_MAX) {
			err_set(e, "field %u has unknown type %u", i, type);
			return -1;
		}
		if (get32(&p, end, &len) || len < 1 || len > PEA_MAX_NAME || (size_t)(end - p) < len) {
			err_set(e, "field %u has a bad name length", i);
			return -1;
		}
		if (!utf8_valid(p, len) || memchr(p, 0, len)) {
			err_set(e, "field %u name is not valid UTF-8 text", i);
			return -1;
		}
		memcpy(np, p, len);
		np[len] = 0;
		f->fields[i].name = np;
		f->fields[i].len = len;
		f->fields[i].type = type;
		for (uint32_t j = 0; j < i; j++)
			if (f->fields[j].len == len && !memcmp(f->fields[j].name, np, len)) {
				err_set(e, "field name '%s' appears twice in the table", np);
				return -1;
			}
		np += len + 1;
		p += len;
	}
	f->nfields = nf;
	*pp = p;
	return 0;
}

static int json_ok(pea_frame *f, const uint8_t *p, uint32_t n)
{
	if (!f->tok)
		f->tok = json_tokener_new_ex(64);
	json_tokener_reset(f->tok);
	json_object *o = json_tokener_parse_ex(f->tok, (const char *)p, (int)n);
	enum json_tokener_error je = json_tokener_get_error(f->tok);
	if (je == json_tokener_continue) {
		/* a bare number or literal needs to see its end: give it a NUL */
		o = json_tokener_parse_ex(f->tok, "", 1);
		je = json_tokener_get_error(f->tok);
		json_object_put(o);
		return je == json_tokener_success;
	}
	/* a JSON null parses to NULL: success is what the tokener says */
	int ok = je == json_tokener_success && json_tokener_get_parse_end(f->tok) == n;
	json_object_put(o);
	return ok;
}

/* Decode one value of `type` at *pp, filling v. */
static int parse_val(pea_frame *f, const uint8_t *base, const uint8_t **pp,
		     const uint8_t *end, uint8_t type, pea_val *v, struct pea_err *e)
{
	const uint8_t *p = *pp;
	uint32_t n;
	uint64_t u;
	size_t k;
	v->raw = p;
	v->type = type;
	switch (type) {
	case PEA_STR:
	case PEA_BYTES:
	case PEA_JSON:
		if (get32(&p, end, &n) || (size_t)(end - p) < n)
			goto trunc;
		if (type != PEA_BYTES && !utf8_valid(p, n)) {
			err_set(e, "invalid UTF-8 in text field '%s'", f->fields[v->field].name);
			return -1;
		}
		if (type == PEA_JSON && !json_ok(f, p, n)) {
			err_set(e, "field '%s' holds invalid JSON", f->fields[v->field].name);
			return -1;
		}
		v->p = p;
		v->n = n;
		p += n;
		break;
	case PEA_INT:
		k = vi_get(p, end, &u, 10);
		if (!k)
			goto trunc;
		v->x.i = zigzag_dec(u);
		p += k;
		break;
	case PEA_FLOAT:
		if (end - p < 8)
			goto trunc;
		{
			uint64_t bits = le64(p);
			memcpy(&v->x.d, &bits, 8);
		}
		p += 8;
		break;
	case PEA_BOOL:
		if (end - p < 1)
			goto trunc;
		if (*p > 1) {
			err_set(e, "bool field '%s' holds %u", f->fields[v->field].name, *p);
			return -1;
		}
		v->x.i = *p++;
		break;
	case PEA_STRLIST:
	case PEA_MAP:
		if (get32(&p, end, &n))
			goto trunc;
		v->p = p;
		v->n = n;
		{
			/* Items of a strlist whose lengths are one-byte varints
			 * (ASCII bytes) are checked in one pass over their whole
			 * run: an ASCII byte cannot complete or continue a
			 * sequence, so the run is valid exactly when every item
			 * is.  Such items (tokens) are stepped over first, with no
			 * varint decoding; the items after the run, one by one. */
			uint32_t i = 0;
			if (type == PEA_STRLIST) {
				const uint8_t *run = p;
				while (i < n && p < end && *p < 0x80) {
					size_t len = *p;
					if ((size_t)(end - p) - 1 < len)
						goto trunc;
					p += 1 + len;
					i++;
				}
				if (!utf8_valid(run, (size_t)(p - run)))
					goto bad_list;
			}
			for (; i < n; i++) {
				uint32_t len;
				if (get32(&p, end, &len) || (size_t)(end - p) < len)
					goto trunc;
				if (!utf8_valid(p, len))
					goto bad_list;
				p += len;
				if (type == PEA_MAP) {
					if (end - p < 8)
						goto trunc;
					p += 8;
				}
			}
		}
		break;
	case PEA_INTS:
		if (get32(&p, end, &n) || (size_t)(end - p) < n)
			goto trunc;
		v->p = p;
		v->n = n;
		for (uint32_t i = 0; i < n; i++) {
			k = vi_get(p, end, &u, 10);
			if (!k)
				goto trunc;
			p += k;
		}
		break;
	case PEA_SPARSE:
	case PEA_DENSE: {
		if (get32(&p, end, &n))
			goto trunc;
		size_t pad = (size_t)(-(p - base)) & 3;
		size_t need = (size_t)n * (type == PEA_SPARSE ? 8 : 4);
		if ((size_t)(end - p) < pad || (size_t)(end - p) - pad < need)
			goto trunc;
		p += pad;
		v->p = p;
		v->n = n;
		if (type == PEA_SPARSE) {
			const uint32_t *idx = val_idx(v);
			for (uint32_t i = 1; i < n; i++)
				if (idx[i] <= idx[i - 1]) {
					err_set(e, "sparse field '%s': indices not strictly increasing",
						f->fields[v->field].name);
					return -1;
				}
		}
		p += need;
		break;
	}
	default:
		err_set(e, "unknown type %u", type);
		return -1;
	}
	v->rawlen = (uint32_t)(p - v->raw);
	*pp = p;
	return 0;
trunc:
	err_set(e, "field '%s' runs past the end of the payload", f->fields[v->field].name);
	return -1;
bad_list:
	err_set(e, "invalid UTF-8 in list field '%s'", f->fields[v->field].name);
	return -1;
}

int frame_parse(pea_frame *f, uint32_t nrec, struct pea_err *e)
{
	f->pl = f->raw.p;
	f->pln = f->raw.len;
	return parse_payload(f, nrec, e);
}

static int parse_payload(pea_frame *f, uint32_t nrec, struct pea_err *e)
{
	const uint8_t *p = f->pl, *end = f->pl + f->pln;
	f->gen = __atomic_add_fetch(&gen_counter, 1, __ATOMIC_RELAXED);
	f->nfields = 0;
	f->nrec = 0;
	f->nvals = 0;
	if (!f->pln) {
		err_set(e, "empty payload");
		return -1;
	}
	if (parse_table(f, &p, end, e))
		return -1;
	/* the record section starts at a multiple of 8 */
	size_t pad = (size_t)(-(p - f->pl)) & 7;
	if ((size_t)(end - p) < pad) {
		err_set(e, "payload ends inside the table padding");
		return -1;
	}
	p += pad;
	const uint8_t *base = p;
	if (nrec + 1 > f->rec_cap) {
		f->rec_cap = nrec + 1;
		f->rec_off = xrealloc(f->rec_off, f->rec_cap * sizeof *f->rec_off);
	}
	memset(f->seen, 0, f->nfields * sizeof *f->seen);
	for (uint32_t r = 0; r < nrec; r++) {
		f->rec_off[r] = (uint32_t)f->nvals;
		for (;;) {
			uint32_t fid;
			if (get32(&p, end, &fid)) {
				err_set(e, "record %u runs past the end of the payload", r + 1);
				return -1;
			}
			if (fid == 0)
				break;
			fid--;
			if (fid >= f->nfields) {
				err_set(e, "record %u refers to field %u of %u", r + 1, fid, f->nfields);
				return -1;
			}
			if (f->seen[fid] == r + 1) {
				err_set(e, "record %u has field '%s' twice", r + 1, f->fields[fid].name);
				return -1;
			}
			f->seen[fid] = r + 1;
			if (f->nvals == f->vals_cap) {
				f->vals_cap = f->vals_cap ? f->vals_cap * 2 : 256;
				f->vals = xrealloc(f->vals, f->vals_cap * sizeof *f->vals);
			}
			pea_val *v = &f->vals[f->nvals];
			v->field = (uint16_t)fid;
			if (parse_val(f, base, &p, end, f->fields[fid].type, v, e)) {
				char tmp[sizeof e->msg];
				memcpy(tmp, e->msg, sizeof tmp);
				err_set(e, "record %u: %s", r + 1, tmp);
				return -1;
			}
			f->nvals++;
		}
	}
	f->rec_off[nrec] = (uint32_t)f->nvals;
	if (p != end) {
		err_set(e, "%zu bytes after the last record", (size_t)(end - p));
		return -1;
	}
	f->nrec = nrec;
	return 0;
}

void val_iter_init(struct val_iter *it, const pea_val *v)
{
	it->p = v->p;
	it->left = v->n;
	it->type = v->type;
}

/* Safe without bounds: frame_parse checked every element. */
int val_iter_next_slow(struct val_iter *it)
{
	uint64_t u = 0;
	if (!it->left)
		return 0;
	it->left--;
	if (it->type == PEA_INTS) {
		it->p += vi_get(it->p, it->p + 10, &u, 10);
		it->i = zigzag_dec(u);
		return 1;
	}
	it->p += vi_get(it->p, it->p + 5, &u, 5);
	it->s = (const char *)it->p;
	it->len = (uint32_t)u;
	it->p += u;
	if (it->type == PEA_MAP) {
		uint64_t bits = le64(it->p);
		memcpy(&it->d, &bits, 8);
		it->p += 8;
	}
	return 1;
}

/* --------------------------------------------------------------- builder */

struct fb_field {
	char *name;
	uint32_t len;
	uint8_t type;
	uint32_t last_rec; /* record that last used it, + 1: catches duplicates */
};

struct pea_fb {
	struct buf recs; /* the record section */
	uint32_t nrec;
	struct fb_field *fields;
	uint32_t nfields, fields_cap;
	int in_rec;
	size_t rec_start;
	/* open list: position of its 5-byte count and its element count */
	size_t list_pos;
	uint32_t list_n;
	int list_type;
	/* copy_rec cache: src field index -> our index */
	uint64_t map_gen;
	uint64_t map_epoch;
	uint64_t epoch; /* bumps on reset */
	int *map;
	uint32_t map_cap;
	struct buf table;
};

pea_fb *fb_new(void)
{
	pea_fb *fb = xcalloc(1, sizeof *fb);
	buf_init(&fb->recs, 0);
	buf_init(&fb->table, 0);
	fb->epoch = 1;
	return fb;
}

void fb_free(pea_fb *fb)
{
	if (!fb)
		return;
	for (uint32_t i = 0; i < fb->nfields; i++)
		free(fb->fields[i].name);
	free(fb->fields);
	free(fb->map);
	buf_release(&fb->recs);
	buf_release(&fb->table);
	free(fb);
}

void fb_reset(pea_fb *fb)
{
	for (uint32_t i = 0; i < fb->nfields; i++)
		free(fb->fields[i].name);
	fb->nfields = 0;
	fb->nrec = 0;
	fb->in_rec = 0;
	buf_reset(&fb->recs);
	fb->epoch++;
}

uint32_t fb_nrec(const pea_fb *fb) { return fb->nrec; }

size_t fb_size(const pea_fb *fb)
{
	return fb->recs.len;
}

int fb_field_n(pea_fb *fb, const char *name, size_t len, int type)
{
	for (uint32_t i = 0; i < fb->nfields; i++)
		if (fb->fields[i].len == len && !memcmp(fb->fields[i].name, name, len))
			return fb->fields[i].type == type ? (int)i : -1;
	if (len < 1 || len > PEA_MAX_NAME)
		die("field name of %zu bytes (must be 1 to %d)", len, PEA_MAX_NAME);
	if (fb->nfields == PEA_MAX_FIELDS)
		die("more than %d distinct field names in one frame", PEA_MAX_FIELDS);
	if (fb->nfields == fb->fields_cap) {
		fb->fields_cap = fb->fields_cap ? fb->fields_cap * 2 : 16;
		fb->fields = xrealloc(fb->fields, fb->fields_cap * sizeof *fb->fields);
	}
	struct fb_field *f = &fb->fields[fb->nfields];
	f->name = xstrndup(name, len);
	f->len = (uint32_t)len;
	f->type = (uint8_t)type;
	f->last_rec = 0;
	return (int)fb->nfields++;
}

int fb_field(pea_fb *fb, const char *name, int type)
{
	return fb_field_n(fb, name, strlen(name), type);
}

int fb_xfield(pea_fb *fb, const char *name, int type)
{
	int id = fb_field(fb, name, type);
	if (id < 0)
		die("internal error: field '%s' used with two types in one frame", name);
	return id;
}

void fb_begin(pea_fb *fb)
{
	fb->in_rec = 1;
	fb->rec_start = fb->recs.len;
}

/* Write the field tag and check the field is used once per record. */
static void put_tag(pea_fb *fb, int fid, int type)
{
	struct fb_field *f = &fb->fields[fid];
	if (f->type != type)
		die("internal error: field '%s' is %s, written as %s", f->name,
		    pea_type_name(f->type), pea_type_name(type));
	if (f->last_rec == fb->nrec + 1)
		die("internal error: field '%s' written twice in one record", f->name);
	f->last_rec = fb->nrec + 1;
	buf_addvi(&fb->recs, (uint64_t)fid + 1);
}

static void put_bytes(pea_fb *fb, int fid, int type, const void *p, size_t n)
{
	if (n > PEA_MAX_PAYLOAD)
		die("a value of %zu bytes is over the frame limit", n);
	put_tag(fb, fid, type);
	buf_addvi(&fb->recs, n);
	buf_add(&fb->recs, p, n);
}

void fb_str(pea_fb *fb, int fid, const char *s, size_t n) { put_bytes(fb, fid, PEA_STR, s, n); }
void fb_bytes(pea_fb *fb, int fid, const void *p, size_t n) { put_bytes(fb, fid, PEA_BYTES, p, n); }
void fb_json(pea_fb *fb, int fid, const char *s, size_t n) { put_bytes(fb, fid, PEA_JSON, s, n); }

void fb_int(pea_fb *fb, int fid, int64_t v)
{
	put_tag(fb, fid, PEA_INT);
	buf_addvi(&fb->recs, zigzag_enc(v));
}

void fb_float(pea_fb *fb, int fid, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, 8);
	put_tag(fb, fid, PEA_FLOAT);
	put_le64(buf_grow(&fb->recs, 8), bits);
	fb->recs.len += 8;
}

void fb_bool(pea_fb *fb, int fid, int v)
{
	put_tag(fb, fid, PEA_BOOL);
	buf_addc(&fb->recs, v ? 1 : 0);
}

/* count, zero padding to 4 bytes from the record section start, then data */
static void put_aligned(pea_fb *fb, uint32_t n, const void *a, size_t alen,
			const void *b, size_t blen)
{
	buf_addvi(&fb->recs, n);
	size_t pad = (size_t)(-fb->recs.len) & 3;
	uint8_t *p = buf_grow(&fb->recs, pad + alen + blen);
	memset(p, 0, pad);
	if (alen)
		memcpy(p + pad, a, alen);
	if (blen)
		memcpy(p + pad + alen, b, blen);
	fb->recs.len += pad + alen + blen;
}

void fb_sparse(pea_fb *fb, int fid, const uint32_t *idx, const float *val, uint32_t n)
{
	put_tag(fb, fid, PEA_SPARSE);
	put_aligned(fb, n, idx, 4 * (size_t)n, val, 4 * (size_t)n);
}

void fb_dense(pea_fb *fb, int fid, const float *v, uint32_t n)
{
	put_tag(fb, fid, PEA_DENSE);
	put_aligned(fb, n, v, 4 * (size_t)n, NULL, 0);
}

void fb_ints(pea_fb *fb, int fid, const int64_t *v, uint32_t n)
{
	put_tag(fb, fid, PEA_INTS);
	buf_addvi(&fb->recs, n);
	for (uint32_t i = 0; i < n; i++)
		buf_addvi(&fb->recs, zigzag_enc(v[i]));
}

void fb_list_begin(pea_fb *fb, int fid, int type)
{
	put_tag(fb, fid, type);
	fb->list_pos = fb->recs.len;
	fb->list_n = 0;
	fb->list_type = type;
	/* room for a count padded to five bytes, patched by fb_list_end */
	memset(buf_grow(&fb->recs, 5), 0x80, 5);
	fb->recs.len += 5;
}

void fb_list_str(pea_fb *fb, const char *s, size_t n)
{
	uint8_t *p = buf_grow(&fb->recs, n + 10);
	size_t k = vi_put(p, n);
	memcpy(p + k, s, n);
	fb->recs.len += k + n;
	fb->list_n++;
}

void fb_list_raw(pea_fb *fb, const void *p, size_t n, uint32_t count)
{
	buf_add(&fb->recs, p, n);
	fb->list_n += count;
}

void fb_list_kv(pea_fb *fb, const char *key, size_t n, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, 8);
	buf_addvi(&fb->recs, n);
	buf_add(&fb->recs, key, n);
	put_le64(buf_grow(&fb->recs, 8), bits);
	fb->recs.len += 8;
	fb->list_n++;
}

void fb_list_int(pea_fb *fb, int64_t v)
{
	buf_addvi(&fb->recs, zigzag_enc(v));
	fb->list_n++;
}

void fb_list_end(pea_fb *fb)
{
	uint8_t *p = fb->recs.p + fb->list_pos;
	uint32_t n = fb->list_n;
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)((n & 0x7f) | 0x80);
		n >>= 7;
	}
	p[4] = (uint8_t)n;
}

static void copy_val(pea_fb *fb, int fid, const pea_val *v)
{
	put_tag(fb, fid, v->type);
	if (v->type == PEA_SPARSE || v->type == PEA_DENSE) {
		/* alignment depends on the position, so re-encode */
		size_t n = 4 * (size_t)v->n;
		put_aligned(fb, v->n, v->p, n, v->type == PEA_SPARSE ? v->p + n : NULL,
			    v->type == PEA_SPARSE ? n : 0);
		return;
	}
	buf_add(&fb->recs, v->raw, v->rawlen);
}

int fb_copy(pea_fb *fb, const pea_frame *src, const pea_val *v)
{
	const struct pea_fdef *d = &src->fields[v->field];
	int fid = fb_field_n(fb, d->name, d->len, d->type);
	if (fid < 0)
		return -1;
	copy_val(fb, fid, v);
	return 0;
}

int fb_copy_rec(pea_fb *fb, const pea_frame *src, uint32_t rec, const uint8_t *skip)
{
	uint32_t n;
	const pea_val *vals = frame_vals(src, rec, &n);
	/* map the source's field indices to ours once per source frame */
	if (fb->map_gen != src->gen || fb->map_epoch != fb->epoch) {
		if (src->nfields > fb->map_cap) {
			fb->map_cap = src->nfields;
			fb->map = xrealloc(fb->map, fb->map_cap * sizeof *fb->map);
		}
		for (uint32_t i = 0; i < src->nfields; i++)
			fb->map[i] = -2; /* not looked up yet */
		fb->map_gen = src->gen;
		fb->map_epoch = fb->epoch;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint16_t f = vals[i].field;
		if ((skip && skip[f]) || fb->map[f] != -2)
			continue;
		const struct pea_fdef *d = &src->fields[f];
		fb->map[f] = fb_field_n(fb, d->name, d->len, d->type);
	}
	for (uint32_t i = 0; i < n; i++)
		if ((!skip || !skip[vals[i].field]) && fb->map[vals[i].field] < 0) {
			fb->map_gen = 0; /* look up again after the caller starts a new frame */
			return -1;
		}
	for (uint32_t i = 0; i < n; i++)
		if (!skip || !skip[vals[i].field])
			copy_val(fb, fb->map[vals[i].field], &vals[i]);
	return 0;
}

void fb_end(pea_fb *fb)
{
	buf_addc(&fb->recs, 0);
	fb->nrec++;
	fb->in_rec = 0;
}

void fb_abort(pea_fb *fb)
{
	fb->recs.len = fb->rec_start;
	for (uint32_t i = 0; i < fb->nfields; i++)
		if (fb->fields[i].last_rec == fb->nrec + 1)
			fb->fields[i].last_rec = 0;
	fb->in_rec = 0;
}

/* The field table followed by the padding that puts records at a multiple of 8. */
static void build_table(pea_fb *fb)
{
	struct buf *t = &fb->table;
	buf_reset(t);
	buf_addvi(t, fb->nfields);
	for (uint32_t i = 0; i < fb->nfields; i++) {
		buf_addc(t, fb->fields[i].type);
		buf_addvi(t, fb->fields[i].len);
		buf_add(t, fb->fields[i].name, fb->fields[i].len);
	}
	size_t pad = (size_t)(-t->len) & 7;
	memset(buf_grow(t, pad), 0, pad);
	t->len += pad;
}

void fb_encode(pea_fb *fb, int level, ZSTD_CCtx *cctx, struct buf *out)
{
	if (!fb->nrec) {
		fb_reset(fb);
		return;
	}
	build_table(fb);
	size_t raw = fb->table.len + fb->recs.len;
	if (raw > PEA_MAX_PAYLOAD)
		die("frame payload of %zu bytes over the limit of %u", raw, PEA_MAX_PAYLOAD);
	size_t hpos = out->len;
	uint8_t *h = buf_grow(out, PEA_HDR_LEN);
	out->len += PEA_HDR_LEN;
	size_t stored;
	if (level == 0) {
		buf_add(out, fb->table.p, fb->table.len);
		buf_add(out, fb->recs.p, fb->recs.len);
		stored = raw;
	} else {
		size_t bound = ZSTD_compressBound(raw);
		uint8_t *dst = buf_grow(out, bound);
		ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only);
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
		/* a window over the whole frame: records far apart (mail headers,
		 * boilerplate) still find each other (at most 2^27, the window
		 * every zstd decoder accepts by default) */
		int wlog = 10;
		while (wlog < 27 && ((size_t)1 << wlog) < raw)
			wlog++;
		if (level > 0) {
			/* and a hash table big enough to index it: on text this
			 * gains a few percent at the fast levels for no time */
			ZSTD_compressionParameters cp = ZSTD_getCParams(level, raw, 0);
			int hlog = wlog < 19 ? wlog : 19;
			ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, wlog);
			if ((int)cp.hashLog < hlog)
				ZSTD_CCtx_setParameter(cctx, ZSTD_c_hashLog, hlog);
		}
		ZSTD_CCtx_setPledgedSrcSize(cctx, raw);
		ZSTD_outBuffer ob = {dst, bound, 0};
		ZSTD_inBuffer ia = {fb->table.p, fb->table.len, 0};
		ZSTD_inBuffer ib = {fb->recs.p, fb->recs.len, 0};
		size_t r = ZSTD_compressStream2(cctx, &ob, &ia, ZSTD_e_continue);
		if (!ZSTD_isError(r))
			r = ZSTD_compressStream2(cctx, &ob, &ib, ZSTD_e_end);
		if (ZSTD_isError(r) || r != 0)
			die("zstd compression failed: %s", ZSTD_isError(r) ? ZSTD_getErrorName(r) : "output too small");
		stored = ob.pos;
		out->len += stored;
	}
	h = out->p + hpos;
	memcpy(h, PEA_MAGIC, PEA_MAGIC_LEN);
	h[8] = PEA_VERSION;
	h[9] = level ? PEA_CODEC_ZSTD : PEA_CODEC_NONE;
	put_le16(h + 10, 0);
	put_le32(h + 12, fb->nrec);
	put_le32(h + 16, (uint32_t)stored);
	put_le32(h + 20, (uint32_t)raw);
	put_le64(h + 24, frame_checksum(h, h + PEA_HDR_LEN, stored));
	fb_reset(fb);
}

void fb_to_frame(pea_fb *fb, pea_frame *f)
{
	struct pea_err e;
	build_table(fb);
	buf_reset(&f->raw);
	buf_add(&f->raw, fb->table.p, fb->table.len);
	buf_add(&f->raw, fb->recs.p, fb->recs.len);
	uint32_t nrec = fb->nrec;
	fb_reset(fb);
	if (frame_parse(f, nrec, &e))
		die("internal error: built frame does not parse: %s", e.msg);
}
