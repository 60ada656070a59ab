/* img.h - images into float tensors: PNG (libspng), JPEG (libjpeg-turbo) and
 * IDX (the MNIST family), resized, converted and normalised the same way.
 *
 * Every image ends as float32 channels-first (C x H x W, row by row), the
 * layout of the `dense` field with its `shape` (man/pea-image.1).  Images
 * come from the web, so every decoder refuses oversize input before it
 * allocates (pixel and byte limits checked against the header) and reports
 * damage as one short message ("truncated PNG", "bad CRC in PNG"); nothing
 * here exits, callers say which file or record it was. */
#ifndef PEA_IMG_H
#define PEA_IMG_H

#include "err.h"
#include "util.h"

#include <stdint.h>

#define IMG_MAX_PIXELS 40000000u /* default --max-pixels: 40 megapixels */
#define IMG_MAX_BYTES (64u << 20) /* default --max-bytes of one encoded image */

enum img_kind { IMG_NONE = 0, IMG_PNG, IMG_JPEG };
/* PNG or JPEG from the first bytes, or IMG_NONE */
int img_sniff(const uint8_t *p, size_t n);

struct img_opts {
	int width, height; /* 0: keep the image's own */
	int channels;	   /* 0: as stored (1 gray, 3 colour), or 1 or 3 */
	int raw;	   /* keep sample values (0..255), no scaling to [0,1] */
	int nmean, nstd;   /* 0, 1 (every channel) or 3 values */
	float mean[3], std[3];
	uint64_t max_pixels; /* refuse larger images, checked on the header */
	uint64_t max_bytes;  /* refuse larger encoded images */
};
#define IMG_OPTS_INIT {0, 0, 0, 0, 0, 0, {0, 0, 0}, {1, 1, 1}, IMG_MAX_PIXELS, IMG_MAX_BYTES}

/* "28x28" into width and height; -1 when malformed or out of 1..65535 */
int img_parse_size(const char *s, int *w, int *h);
/* "0.5" or "0.485,0.456,0.406": 1 or 3 numbers; -1 when malformed */
int img_parse_floats(const char *s, float v[3], int *n);

/* A decoded image: C x H x W floats.  The buffers are reused from image to
 * image, so one per thread decodes a stream without allocating. */
struct img {
	int c, h, w;
	float *px;
	size_t cap;	  /* floats px can hold */
	float *tmp;	  /* scratch of the resizer */
	size_t tmpcap;
	struct buf raw;	  /* scratch of the decoders */
};
#define IMG_INIT {0, 0, 0, NULL, 0, NULL, 0, BUF_INIT}
void img_release(struct img *im);

/* Decode a PNG or JPEG image and apply o.  -1 with a short reason in e. */
int img_decode(struct img *im, const uint8_t *p, size_t n, const struct img_opts *o, struct pea_err *e);

/* Apply o to samples already in im (C x H x W floats whose full scale is
 * `range`: 255 for 8-bit, 65535 for 16-bit, 0 when the values are taken as
 * they are).  The decoders end with it; IDX readers call it directly. */
int img_finish(struct img *im, double range, const struct img_opts *o, struct pea_err *e);

/* ---- IDX files (MNIST family): gzip or plain, every element type ---- */
struct idx;
/* Open and check the header.  For a plain file the data size the header
 * promises is checked against the file's size at once; in a gzip file a
 * short or long body is found while reading. */
struct idx *idx_open(const char *path, struct pea_err *e);
void idx_close(struct idx *x);
int idx_ndims(const struct idx *x);
uint32_t idx_dim(const struct idx *x, int i);
/* element type: 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double */
int idx_type(const struct idx *x);
/* values in one item (the product of every dimension after the first) */
uint64_t idx_item_size(const struct idx *x);
/* Read the next item as floats into dst (idx_item_size of them).  1 with an
 * item, 0 after the last one (when the file also ends there), -1 on error. */
int idx_next(struct idx *x, float *dst, struct pea_err *e);

#endif
