/* frame.h - the pea record stream: frames, fields and records.
 *
 * The stream is a sequence of self-contained frames (man/pea-format.5 is the
 * specification; this file follows it).  A frame carries a header (magic,
 * version, codec, record count, sizes, checksum) and a payload holding its own
 * field table and its records, so any frame decodes alone.
 *
 * Two halves:
 *  - pea_frame: a decoded frame.  Values point into the frame's payload
 *    (zero copy); vectors are 4-byte aligned so they can be used in place.
 *  - pea_fb: a frame builder.  Tools add records field by field, copy input
 *    fields through, and encode the result as a binary frame. */
#ifndef PEA_FRAME_H
#define PEA_FRAME_H

#include "err.h"
#include "util.h"

#include <stdint.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getCParams */
#include <zstd.h>

#define PEA_MAGIC "\xffPEAFRM\xfe"
#define PEA_MAGIC_LEN 8
#define PEA_HDR_LEN 32
#define PEA_VERSION 1
#define PEA_CODEC_NONE 0
#define PEA_CODEC_ZSTD 1
/* hard bound on a frame's payload, checked before anything is allocated */
#define PEA_MAX_PAYLOAD (1u << 30)
#define PEA_MAX_FIELDS 65535
#define PEA_MAX_NAME 255
/* size at which a builder closes a frame by default */
#define PEA_FRAME_TARGET (4u << 20)

enum pea_type {
	PEA_STR = 1,	/* UTF-8 text */
	PEA_BYTES = 2,	/* arbitrary bytes */
	PEA_INT = 3,	/* int64 */
	PEA_FLOAT = 4,	/* float64 */
	PEA_BOOL = 5,
	PEA_STRLIST = 6, /* list of UTF-8 strings */
	PEA_SPARSE = 7, /* strictly increasing uint32 index -> float32 */
	PEA_DENSE = 8,	/* float32 vector */
	PEA_INTS = 9,	/* list of int64 */
	PEA_MAP = 10,	/* UTF-8 key -> float64 */
	PEA_JSON = 11,	/* a JSON value with no closer type, as text */
	PEA_TYPE_MAX = 11
};
const char *pea_type_name(int type);

struct pea_hdr {
	uint8_t version, codec;
	uint16_t flags;
	uint32_t nrec, stored, raw;
	uint64_t sum;
};

/* Parse and sanity-check a 32-byte header (magic, version, codec, sizes). */
int hdr_parse(const uint8_t *p, struct pea_hdr *h, struct pea_err *e);
/* The frame checksum: XXH3-64 of header bytes 8..23 then the stored payload. */
uint64_t frame_checksum(const uint8_t *hdr, const uint8_t *stored, size_t n);

struct pea_fdef {
	const char *name; /* NUL-terminated */
	uint32_t len;
	uint8_t type;
};

/* One field value of one record.  For STR, BYTES and JSON, p/n are the bytes;
 * for SPARSE, p holds n uint32 indices followed by n float32 values; for
 * DENSE, n float32; for STRLIST, INTS and MAP, p is the first element and n
 * the element count (walk them with the iterators below); INT, FLOAT and BOOL
 * are decoded into x. */
typedef struct pea_val {
	const uint8_t *p;
	const uint8_t *raw; /* the encoded value, for copying it through */
	uint32_t n;
	uint32_t rawlen;
	uint16_t field;
	uint8_t type;
	union {
		int64_t i;
		double d;
	} x;
} pea_val;

typedef struct pea_frame pea_frame;

pea_frame *frame_new(void);
void frame_free(pea_frame *f);

/* Verify the checksum, decompress and parse a frame.  `dctx` may be NULL for
 * codec none.  On failure returns -1 with the reason in e (no location: the
 * caller knows the file and offset). */
int frame_load(pea_frame *f, const struct pea_hdr *h, const uint8_t *hdrbytes,
	       const uint8_t *stored, ZSTD_DCtx *dctx, struct pea_err *e);
/* The same, but an uncompressed payload is parsed where it lies, with no
 * copy: `stored` must then stay unchanged while the frame is used (the
 * readers' units, which live until their frames are done). */
int frame_use(pea_frame *f, const struct pea_hdr *h, const uint8_t *hdrbytes,
	      const uint8_t *stored, ZSTD_DCtx *dctx, struct pea_err *e);
/* Parse the payload already in the frame's buffer (see frame_rawbuf). */
int frame_parse(pea_frame *f, uint32_t nrec, struct pea_err *e);
struct buf *frame_rawbuf(pea_frame *f);

uint32_t frame_nrec(const pea_frame *f);
uint32_t frame_nfields(const pea_frame *f);
const struct pea_fdef *frame_fdef(const pea_frame *f, uint32_t i);
/* Field index by name, or -1 when no record of the frame has it. */
int frame_field(const pea_frame *f, const char *name);
/* The value of field `field` in record `rec`, or NULL when absent. */
const pea_val *frame_get(const pea_frame *f, uint32_t rec, int field);
/* All values of a record. */
const pea_val *frame_vals(const pea_frame *f, uint32_t rec, uint32_t *n);
/* Changes on every load; lets callers cache per-frame lookups. */
uint64_t frame_gen(const pea_frame *f);

static inline const char *val_str(const pea_val *v) { return (const char *)v->p; }
static inline const uint32_t *val_idx(const pea_val *v) { return (const uint32_t *)(const void *)v->p; }
static inline const float *val_fval(const pea_val *v)
{
	return (const float *)(const void *)(v->p + (v->type == PEA_SPARSE ? 4 * (size_t)v->n : 0));
}

/* Iterate strings of a STRLIST, keys of a MAP, numbers of INTS.  The values
 * were validated when the frame was parsed, so iteration cannot fail. */
struct val_iter {
	const uint8_t *p;
	uint32_t left;
	const char *s; /* STRLIST item / MAP key */
	uint32_t len;
	double d;   /* MAP value */
	int64_t i;  /* INTS item */
	uint8_t type;
};
void val_iter_init(struct val_iter *it, const pea_val *v);
int val_iter_next_slow(struct val_iter *it);
/* Inline for the common item, a string shorter than 128 bytes (a token):
 * its length is one byte. */
static inline int val_iter_next(struct val_iter *it)
{
	if (it->left && it->type == PEA_STRLIST && it->p[0] < 0x80) {
		it->left--;
		it->len = it->p[0];
		it->s = (const char *)it->p + 1;
		it->p += 1 + it->len;
		return 1;
	}
	return val_iter_next_slow(it);
}

/* ---- the builder ---- */
typedef struct pea_fb pea_fb;

pea_fb *fb_new(void);
void fb_free(pea_fb *fb);
void fb_reset(pea_fb *fb);

/* The builder's index for a field, added on first use.  Returns -1 if the
 * frame already has the name with another type (the caller encodes the frame
 * so far and starts a new one, where the name is free again). */
int fb_field(pea_fb *fb, const char *name, int type);
int fb_field_n(pea_fb *fb, const char *name, size_t len, int type);
/* a field that must be available; dies on a type conflict the caller ruled out */
int fb_xfield(pea_fb *fb, const char *name, int type);

void fb_begin(pea_fb *fb);
void fb_str(pea_fb *fb, int fid, const char *s, size_t n);
void fb_bytes(pea_fb *fb, int fid, const void *p, size_t n);
void fb_int(pea_fb *fb, int fid, int64_t v);
void fb_float(pea_fb *fb, int fid, double v);
void fb_bool(pea_fb *fb, int fid, int v);
void fb_sparse(pea_fb *fb, int fid, const uint32_t *idx, const float *val, uint32_t n);
void fb_dense(pea_fb *fb, int fid, const float *v, uint32_t n);
void fb_ints(pea_fb *fb, int fid, const int64_t *v, uint32_t n);
void fb_json(pea_fb *fb, int fid, const char *s, size_t n);
/* lists whose length is not known in advance */
void fb_list_begin(pea_fb *fb, int fid, int type); /* STRLIST, MAP or INTS */
void fb_list_str(pea_fb *fb, const char *s, size_t n);
void fb_list_kv(pea_fb *fb, const char *key, size_t n, double v);
void fb_list_int(pea_fb *fb, int64_t v);
/* `count` strlist items already encoded as the format has them (varint
 * length, bytes; valid UTF-8), appended in one copy: for producers that
 * build long lists, such as the tokenizer */
void fb_list_raw(pea_fb *fb, const void *p, size_t n, uint32_t count);
void fb_list_end(pea_fb *fb);
/* Copy a value of a decoded frame under the same name.  Returns -1, writing
 * nothing, when the builder's frame has that name with another type. */
int fb_copy(pea_fb *fb, const pea_frame *src, const pea_val *v);
/* Copy every value of a record except the fields whose src index has
 * skip[i] set (skip may be NULL; it has frame_nfields(src) entries).  Call
 * it first in a record: on a type clash it returns -1 having written
 * nothing (fb_abort, encode the frame, and copy again into the new one).
 * Within one input frame there is never a clash. */
int fb_copy_rec(pea_fb *fb, const pea_frame *src, uint32_t rec, const uint8_t *skip);
void fb_end(pea_fb *fb);
/* drop the record being built (after an error the caller recovers from) */
void fb_abort(pea_fb *fb);

uint32_t fb_nrec(const pea_fb *fb);
/* bytes of payload so far */
size_t fb_size(const pea_fb *fb);
/* Append the frame to out as a binary frame: zstd at `level` (1..19, or
 * negative fast levels), or uncompressed when level is 0; then reset. */
void fb_encode(pea_fb *fb, int level, ZSTD_CCtx *cctx, struct buf *out);
/* Turn the builder's records into a decoded frame (for text output), then
 * reset the builder. */
void fb_to_frame(pea_fb *fb, pea_frame *f);

#endif
