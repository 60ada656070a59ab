/* util.h - allocation that never returns NULL, a bounded growable buffer,
 * LEB128 varints and little-endian loads/stores.  Everything else in libcore
 * builds on these, so they are small and have no other dependency. */
#ifndef PEA_UTIL_H
#define PEA_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define PEA_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define PEA_NORETURN __attribute__((noreturn))
#define PEA_LIKELY(x) __builtin_expect(!!(x), 1)
#define PEA_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define PEA_PRINTF(a, b)
#define PEA_NORETURN
#define PEA_LIKELY(x) (x)
#define PEA_UNLIKELY(x) (x)
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Out of memory is fatal: every x* function dies with a message instead of
 * returning NULL, so callers never carry a failure path for it. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* n * size, dying on overflow */
size_t xmul(size_t n, size_t size);

/* A growable byte buffer.  `max` bounds its growth (0 = no bound beyond
 * memory): hostile input can make a buffer grow only as far as its owner
 * allowed.  buf_reserve returns -1 when the bound would be crossed. */
struct buf {
	uint8_t *p;
	size_t len, cap, max;
};
#define BUF_INIT {NULL, 0, 0, 0}

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
int buf_reserve(struct buf *b, size_t extra);
uint8_t *buf_grow_slow(struct buf *b, size_t extra);
/* grow to hold at least `extra` more bytes and return the write position;
 * the caller then advances len itself.  Inline, since encoders call it per
 * value: the room is usually there (cap never passes max + 1, so it needs
 * no check of the bound). */
static inline uint8_t *buf_grow(struct buf *b, size_t extra)
{
	if (PEA_LIKELY(extra < b->cap - b->len))
		return b->p + b->len;
	return buf_grow_slow(b, extra);
}
/* the unbounded helpers die if the bound is crossed; use buf_reserve first
 * where the bound is a user-facing error */
static inline void buf_add(struct buf *b, const void *p, size_t n)
{
	if (!n)
		return;
	memcpy(buf_grow(b, n), p, n);
	b->len += n;
}
static inline void buf_addc(struct buf *b, uint8_t c)
{
	*buf_grow(b, 1) = c;
	b->len++;
}
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...) PEA_PRINTF(2, 3);
static inline void buf_reset(struct buf *b) { b->len = 0; }
/* a NUL-terminated view of the contents (the NUL is not counted in len) */
const char *buf_cstr(struct buf *b);

/* Unsigned LEB128: 7 bits a byte, low bits first, high bit = more bytes. */
static inline size_t vi_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Decode a varint of at most `maxbytes` bytes from [p, end).  Returns the
 * number of bytes used, or 0 when the input ends early or is too long. */
static inline size_t vi_get(const uint8_t *p, const uint8_t *end, uint64_t *out,
			    size_t maxbytes)
{
	uint64_t v = 0;
	size_t i;
	for (i = 0; i < maxbytes && p + i < end; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*out = v;
			return i + 1;
		}
	}
	return 0;
}

static inline void buf_addvi(struct buf *b, uint64_t v)
{
	uint8_t *p = buf_grow(b, 10);
	b->len += vi_put(p, v);
}

static inline uint64_t zigzag_enc(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t zigzag_dec(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static inline uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t le32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}
static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}
static inline void put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put_le32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void put_le64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Parse a whole string as a number; 0 on success, -1 if it is not one. */
int parse_i64(const char *s, int64_t *out);
int parse_f64(const char *s, double *out);
/* "4", "1-3": a closed range of small positive integers */
int parse_range(const char *s, int *lo, int *hi);
/* "64k", "10M", "2G": a byte count with an optional binary suffix */
int parse_size(const char *s, uint64_t *out);
/* "90", "90s", "500ms", "15m", "24h", "7d" to seconds (> 0, finite) */
int parse_duration(const char *s, double *out);

/* UTF-8 validity (RFC 3629: no surrogates, no overlongs, <= U+10FFFF). */
int utf8_valid(const uint8_t *p, size_t n);
/* the bytes before the first invalid sequence (n when all are valid) */
size_t utf8_valid_len(const uint8_t *p, size_t n);
/* Append s to b with each invalid sequence replaced by U+FFFD; returns how
 * many replacements were made. */
size_t utf8_repair(struct buf *b, const uint8_t *p, size_t n);

/* Monotonic clock in seconds. */
double now_sec(void);

#endif
