/* img.c - PNG, JPEG and IDX into C x H x W floats (img.h).
 *
 * Decoding is left to libspng and libjpeg-turbo, both fuzzed continuously;
 * this file only bounds what they may allocate, maps their errors to short
 * messages, and does the common finish: channels, area-averaging resize,
 * scaling and normalisation, in that order, on floats. */
#include "img.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <spng.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <jpeglib.h>
#include <jerror.h>
#include <sys/stat.h>
#include <zlib.h>

int img_sniff(const uint8_t *p, size_t n)
{
	if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
		return IMG_PNG;
	if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return IMG_JPEG;
	return IMG_NONE;
}

int img_parse_size(const char *s, int *w, int *h)
{
	char *end;
	long a = strtol(s, &end, 10);
	if (end == s || (*end != 'x' && *end != 'X'))
		return -1;
	const char *t = end + 1;
	long b = strtol(t, &end, 10);
	if (end == t || *end || a < 1 || b < 1 || a > 65535 || b > 65535)
		return -1;
	*w = (int)a;
	*h = (int)b;
	return 0;
}

int img_parse_floats(const char *s, float v[3], int *n)
{
	int k = 0;
	const char *p = s;
	for (;;) {
		char *end;
		double d = strtod(p, &end);
		if (end == p || k == 3 || !isfinite(d))
			return -1;
		v[k++] = (float)d;
		if (!*end)
			break;
		if (*end != ',')
			return -1;
		p = end + 1;
	}
	if (k == 2)
		return -1;
	if (k == 1)
		v[1] = v[2] = v[0];
	*n = k;
	return 0;
}

void img_release(struct img *im)
{
	free(im->px);
	free(im->tmp);
	buf_release(&im->raw);
	memset(im, 0, sizeof *im);
}

static float *fit(float **p, size_t *cap, size_t n)
{
	if (n > *cap) {
		free(*p);
		*p = xmalloc(xmul(n, sizeof(float)));
		*cap = n;
	}
	return *p;
}

static void swap_tmp(struct img *im)
{
	float *p = im->px;
	size_t c = im->cap;
	im->px = im->tmp;
	im->cap = im->tmpcap;
	im->tmp = p;
	im->tmpcap = c;
}

static int check_pixels(uint64_t w, uint64_t h, const struct img_opts *o, struct pea_err *e)
{
	if (w == 0 || h == 0) {
		err_set(e, "image has no pixels (%llux%llu)", (unsigned long long)w, (unsigned long long)h);
		return -1;
	}
	if (w * h > o->max_pixels) {
		err_set(e, "image of %llux%llu pixels exceeds the limit of %llu (--max-pixels)",
			(unsigned long long)w, (unsigned long long)h, (unsigned long long)o->max_pixels);
		return -1;
	}
	return 0;
}

/* ---- resizing ----
 * Separable: each output sample is a weighted sum of a run of input samples.
 * Shrinking averages the exact area an output pixel covers (fractional
 * edges weighted by their coverage), which keeps thin strokes and does not
 * alias; enlarging interpolates linearly between pixel centres. */
struct taps {
	int *first, *cnt;
	float *w;
	int k; /* stride of w */
};

static void taps_make(struct taps *t, int in, int out)
{
	double s = (double)in / out;
	t->k = s > 1 ? (int)ceil(s) + 2 : 2;
	t->first = xmalloc(xmul((size_t)out, sizeof(int)));
	t->cnt = xmalloc(xmul((size_t)out, sizeof(int)));
	t->w = xcalloc(xmul((size_t)out, (size_t)t->k), sizeof(float));
	for (int i = 0; i < out; i++) {
		float *w = t->w + (size_t)i * t->k;
		if (s > 1) {
			double lo = i * s, hi = (i + 1) * s;
			int a = (int)floor(lo), b = (int)ceil(hi);
			if (b > in)
				b = in;
			t->first[i] = a;
			t->cnt[i] = b - a;
			for (int j = a; j < b; j++) {
				double l = j > lo ? j : lo, r = j + 1 < hi ? j + 1 : hi;
				w[j - a] = (float)((r - l) / s);
			}
		} else {
			double x = (i + 0.5) * s - 0.5;
			if (x < 0)
				x = 0;
			if (x > in - 1)
				x = in - 1;
			int a = (int)floor(x);
			double f = x - a;
			t->first[i] = a;
			if (a + 1 < in && f > 0) {
				t->cnt[i] = 2;
				w[0] = (float)(1 - f);
				w[1] = (float)f;
			} else {
				t->cnt[i] = 1;
				w[0] = 1;
			}
		}
	}
}

static void taps_free(struct taps *t)
{
	free(t->first);
	free(t->cnt);
	free(t->w);
}

static void resize(struct img *im, int ow, int oh)
{
	int c = im->c, h = im->h, w = im->w;
	struct taps tx, ty;
	taps_make(&tx, w, ow);
	taps_make(&ty, h, oh);
	/* rows first into tmp (c x h x ow), then columns into px (c x oh x ow) */
	float *mid = fit(&im->tmp, &im->tmpcap, (size_t)c * h * ow);
	for (size_t r = 0; r < (size_t)c * h; r++) {
		const float *src = im->px + r * w;
		float *dst = mid + r * ow;
		for (int i = 0; i < ow; i++) {
			const float *wt = tx.w + (size_t)i * tx.k;
			const float *s = src + tx.first[i];
			float acc = 0;
			for (int k = 0; k < tx.cnt[i]; k++)
				acc += wt[k] * s[k];
			dst[i] = acc;
		}
	}
	float *out = fit(&im->px, &im->cap, (size_t)c * oh * ow);
	for (int ch = 0; ch < c; ch++) {
		const float *plane = mid + (size_t)ch * h * ow;
		for (int i = 0; i < oh; i++) {
			float *dst = out + ((size_t)ch * oh + i) * ow;
			const float *wt = ty.w + (size_t)i * ty.k;
			for (int x = 0; x < ow; x++)
				dst[x] = 0;
			for (int k = 0; k < ty.cnt[i]; k++) {
				const float *s = plane + (size_t)(ty.first[i] + k) * ow;
				for (int x = 0; x < ow; x++)
					dst[x] += wt[k] * s[x];
			}
		}
	}
	im->w = ow;
	im->h = oh;
	taps_free(&tx);
	taps_free(&ty);
}

int img_finish(struct img *im, double range, const struct img_opts *o, struct pea_err *e)
{
	size_t plane = (size_t)im->h * im->w;
	if (o->channels && o->channels != im->c) {
		float *d = fit(&im->tmp, &im->tmpcap, plane * o->channels);
		const float *s = im->px;
		if (o->channels == 1 && im->c == 3) {
			/* ITU-R BT.601 luma, as JPEG and most libraries compute gray */
			for (size_t i = 0; i < plane; i++)
				d[i] = 0.299f * s[i] + 0.587f * s[plane + i] + 0.114f * s[2 * plane + i];
		} else if (o->channels == 3 && im->c == 1) {
			for (int k = 0; k < 3; k++)
				memcpy(d + k * plane, s, plane * sizeof(float));
		} else {
			err_set(e, "cannot convert %d channels to %d", im->c, o->channels);
			return -1;
		}
		im->c = o->channels;
		swap_tmp(im);
	}
	if (o->width && o->height && (o->width != im->w || o->height != im->h))
		resize(im, o->width, o->height);
	plane = (size_t)im->h * im->w;
	if (!o->raw && range > 0) {
		float k = (float)(1.0 / range);
		for (size_t i = 0; i < plane * im->c; i++)
			im->px[i] *= k;
	}
	if (o->nmean || o->nstd) {
		if ((o->nmean == 3 || o->nstd == 3) && im->c != 3) {
			err_set(e, "--mean/--std give 3 channels, the image has %d", im->c);
			return -1;
		}
		for (int ch = 0; ch < im->c; ch++) {
			float m = o->mean[ch], inv = 1.0f / o->std[ch];
			float *p = im->px + ch * plane;
			for (size_t i = 0; i < plane; i++)
				p[i] = (p[i] - m) * inv;
		}
	}
	return 0;
}

/* ---- PNG (libspng) ---- */
static int png_error(int r, struct pea_err *e)
{
	switch (r) {
	case SPNG_IO_EOF:
	case SPNG_EOF:
	case SPNG_EIDAT_TOO_SHORT:
		err_set(e, "truncated PNG");
		break;
	case SPNG_ECHUNK_CRC:
		err_set(e, "bad CRC in PNG");
		break;
	case SPNG_ESIGNATURE:
		err_set(e, "not a PNG image");
		break;
	case SPNG_ECHUNK_LIMITS:
		err_set(e, "PNG chunk exceeds the limit (--max-bytes)");
		break;
	default:
		err_set(e, "corrupt PNG: %s", spng_strerror(r));
	}
	return -1;
}

static int decode_png(struct img *im, const uint8_t *p, size_t n, const struct img_opts *o,
		      double *range, struct pea_err *e)
{
	spng_ctx *ctx = spng_ctx_new(0);
	if (!ctx)
		die("out of memory");
	int r, ret = -1;
	struct spng_ihdr ih;
	size_t need;
	/* critical chunks must be intact; damaged ancillary ones are dropped */
	spng_set_crc_action(ctx, SPNG_CRC_ERROR, SPNG_CRC_DISCARD);
	spng_set_chunk_limits(ctx, o->max_bytes, o->max_bytes);
	if ((r = spng_set_png_buffer(ctx, p, n)) || (r = spng_get_ihdr(ctx, &ih))) {
		png_error(r, e);
		goto out;
	}
	if (check_pixels(ih.width, ih.height, o, e))
		goto out;
	int gray = ih.color_type == SPNG_COLOR_TYPE_GRAYSCALE || ih.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA;
	int deep = ih.bit_depth == 16;
	int fmt = gray ? (deep ? SPNG_FMT_GA16 : SPNG_FMT_GA8) : (deep ? SPNG_FMT_RGBA16 : SPNG_FMT_RGBA8);
	int step = gray ? 2 : 4; /* samples per decoded pixel; alpha is dropped */
	if ((r = spng_decoded_image_size(ctx, fmt, &need))) {
		png_error(r, e);
		goto out;
	}
	buf_reset(&im->raw);
	if (buf_reserve(&im->raw, need)) {
		err_set(e, "decoded PNG too large");
		goto out;
	}
	/* then read on to IEND, so the last CRCs and the end are checked too */
	if ((r = spng_decode_image(ctx, im->raw.p, need, fmt, SPNG_DECODE_TRNS)) || (r = spng_decode_chunks(ctx))) {
		png_error(r, e);
		goto out;
	}
	im->c = gray ? 1 : 3;
	im->h = (int)ih.height;
	im->w = (int)ih.width;
	size_t plane = (size_t)im->h * im->w;
	float *d = fit(&im->px, &im->cap, plane * im->c);
	for (int ch = 0; ch < im->c; ch++) {
		float *dp = d + ch * plane;
		if (deep) {
			const uint16_t *s = (const uint16_t *)(const void *)im->raw.p + ch;
			for (size_t i = 0; i < plane; i++)
				dp[i] = s[i * step];
		} else {
			const uint8_t *s = im->raw.p + ch;
			for (size_t i = 0; i < plane; i++)
				dp[i] = s[i * step];
		}
	}
	*range = deep ? 65535 : 255;
	ret = 0;
out:
	spng_ctx_free(ctx);
	return ret;
}

/* ---- JPEG (libjpeg-turbo) ----
 * libjpeg reports errors by calling error_exit, which must not return: we
 * jump back out.  A premature end is only a warning to libjpeg (it pads
 * the image with gray); for untrusted input it is an error. */
struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	int eof;
};

static void j_exit(j_common_ptr c)
{
	longjmp(((struct jerr *)(void *)c->err)->jb, 1);
}

static void j_emit(j_common_ptr c, int level)
{
	struct jerr *j = (struct jerr *)(void *)c->err;
	if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF)
		j->eof = 1;
}

static void j_message(j_common_ptr c, struct pea_err *e)
{
	char msg[JMSG_LENGTH_MAX];
	(*c->err->format_message)(c, msg);
	if (msg[0] >= 'A' && msg[0] <= 'Z' && !(msg[1] >= 'A' && msg[1] <= 'Z'))
		msg[0] = (char)(msg[0] - 'A' + 'a');
	if (c->err->msg_code == JERR_INPUT_EOF)
		err_set(e, "truncated JPEG");
	else
		err_set(e, "corrupt JPEG: %s", msg);
}

/* the smallest DCT scale M/8 that still gives at least the target size */
static int dct_scale(unsigned w, unsigned h, int tw, int th)
{
	for (int m = 1; m < 8; m++)
		if ((w * m + 7) / 8 >= (unsigned)tw && (h * m + 7) / 8 >= (unsigned)th)
			return m;
	return 8;
}

static int decode_jpeg(struct img *im, const uint8_t *p, size_t n, const struct img_opts *o,
		       double *range, struct pea_err *e)
{
	struct jpeg_decompress_struct ci;
	struct jerr j;
	memset(&j, 0, sizeof j);
	ci.err = jpeg_std_error(&j.pub);
	j.pub.error_exit = j_exit;
	j.pub.emit_message = j_emit;
	jpeg_create_decompress(&ci);
	if (setjmp(j.jb)) {
		/* at the end of the data libjpeg feeds a fake end marker with a
		 * warning, and what follows fails on it: the cause is the end */
		if (j.eof)
			err_set(e, "truncated JPEG");
		else
			j_message((j_common_ptr)&ci, e);
		jpeg_destroy_decompress(&ci);
		return -1;
	}
	jpeg_mem_src(&ci, p, (unsigned long)n);
	jpeg_read_header(&ci, TRUE);
	if (check_pixels(ci.image_width, ci.image_height, o, e)) {
		jpeg_destroy_decompress(&ci);
		return -1;
	}
	int cmyk = ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK;
	int gray = ci.num_components == 1;
	if (cmyk)
		ci.out_color_space = JCS_CMYK;
	else if (gray || o->channels == 1)
		ci.out_color_space = JCS_GRAYSCALE; /* the decoder's own Y plane: less work */
	else
		ci.out_color_space = JCS_RGB;
	if (o->width && o->height && ((unsigned)o->width < ci.image_width || (unsigned)o->height < ci.image_height)) {
		ci.scale_num = (unsigned)dct_scale(ci.image_width, ci.image_height, o->width, o->height);
		ci.scale_denom = 8;
	}
	jpeg_start_decompress(&ci);
	size_t stride = (size_t)ci.output_width * ci.output_components;
	size_t need = stride * ci.output_height;
	buf_reset(&im->raw);
	if (buf_reserve(&im->raw, need)) {
		err_set(e, "decoded JPEG too large");
		jpeg_destroy_decompress(&ci);
		return -1;
	}
	while (ci.output_scanline < ci.output_height) {
		JSAMPROW row = im->raw.p + stride * ci.output_scanline;
		jpeg_read_scanlines(&ci, &row, 1);
	}
	jpeg_finish_decompress(&ci);
	if (j.eof) {
		err_set(e, "truncated JPEG");
		jpeg_destroy_decompress(&ci);
		return -1;
	}
	int nc = ci.output_components;
	im->c = nc == 1 ? 1 : 3;
	im->h = (int)ci.output_height;
	im->w = (int)ci.output_width;
	size_t plane = (size_t)im->h * im->w;
	float *d = fit(&im->px, &im->cap, plane * im->c);
	const uint8_t *s = im->raw.p;
	if (cmyk) {
		/* Adobe writes CMYK inverted: each value is 255 - ink */
		int inv = ci.saw_Adobe_marker;
		for (size_t i = 0; i < plane; i++) {
			float k = inv ? s[4 * i + 3] : 255 - s[4 * i + 3];
			for (int ch = 0; ch < 3; ch++) {
				float v = inv ? s[4 * i + ch] : 255 - s[4 * i + ch];
				d[ch * plane + i] = v * k / 255.0f;
			}
		}
	} else {
		for (int ch = 0; ch < im->c; ch++)
			for (size_t i = 0; i < plane; i++)
				d[ch * plane + i] = s[i * nc + ch];
	}
	jpeg_destroy_decompress(&ci);
	*range = 255;
	return 0;
}

int img_decode(struct img *im, const uint8_t *p, size_t n, const struct img_opts *o, struct pea_err *e)
{
	double range = 255;
	int r;
	if (n > o->max_bytes) {
		err_set(e, "image of %zu bytes exceeds the limit of %llu (--max-bytes)", n,
			(unsigned long long)o->max_bytes);
		return -1;
	}
	switch (img_sniff(p, n)) {
	case IMG_PNG:
		r = decode_png(im, p, n, o, &range, e);
		break;
	case IMG_JPEG:
		r = decode_jpeg(im, p, n, o, &range, e);
		break;
	default:
		err_set(e, n ? "not a PNG or JPEG image" : "empty image");
		return -1;
	}
	if (r)
		return r;
	return img_finish(im, range, o, e);
}

/* ---- IDX ----
 * The format (LeCun's MNIST page): two zero bytes, the element type, the
 * number of dimensions, each dimension as a big-endian u32, then the data,
 * big-endian, the last dimension varying fastest.  zlib reads gzip and
 * plain files alike. */
struct idx {
	gzFile gz;
	int type, nd, esize;
	uint32_t dim[8];
	uint64_t item, left;
	struct buf raw;
};

static int idx_esize(int type)
{
	switch (type) {
	case 0x08:
	case 0x09:
		return 1;
	case 0x0B:
		return 2;
	case 0x0C:
	case 0x0D:
		return 4;
	case 0x0E:
		return 8;
	}
	return 0;
}

static int gz_read(struct idx *x, void *p, size_t n, struct pea_err *e)
{
	size_t got = 0;
	while (got < n) {
		size_t want = n - got > (1u << 30) ? 1u << 30 : n - got;
		int r = gzread(x->gz, (uint8_t *)p + got, (unsigned)want);
		if (r < 0) {
			int zr;
			const char *m = gzerror(x->gz, &zr);
			err_set(e, "corrupt gzip data: %s", m);
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return got == n ? 0 : 1;
}

struct idx *idx_open(const char *path, struct pea_err *e)
{
	struct idx *x = xcalloc(1, sizeof *x);
	uint8_t h[4], d[4];
	x->gz = gzopen(path, "rb");
	if (!x->gz) {
		err_set(e, "%s", strerror(errno ? errno : ENOMEM));
		free(x);
		return NULL;
	}
	gzbuffer(x->gz, 1u << 17);
	int r = gz_read(x, h, 4, e);
	if (r > 0)
		err_set(e, "truncated IDX header");
	else if (r == 0 && (h[0] || h[1]))
		err_set(e, "not an IDX file");
	else if (r == 0 && !idx_esize(h[2]))
		err_set(e, "bad IDX element type 0x%02x", h[2]);
	else if (r == 0 && (h[3] < 1 || h[3] > 8))
		err_set(e, "bad IDX header: %d dimensions", h[3]);
	else if (r == 0)
		goto header;
	idx_close(x);
	return NULL;
header:
	x->type = h[2];
	x->nd = h[3];
	x->esize = idx_esize(x->type);
	x->item = 1;
	for (int i = 0; i < x->nd; i++) {
		if ((r = gz_read(x, d, 4, e)) != 0) {
			if (r > 0)
				err_set(e, "truncated IDX header");
			idx_close(x);
			return NULL;
		}
		x->dim[i] = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
		if (i > 0)
			x->item *= x->dim[i] ? x->dim[i] : 1;
		if (x->item > (1u << 30)) {
			err_set(e, "IDX items of more than 2^30 values");
			idx_close(x);
			return NULL;
		}
		if (i > 0 && !x->dim[i]) {
			err_set(e, "IDX dimension %d is 0", i + 1);
			idx_close(x);
			return NULL;
		}
	}
	x->left = x->dim[0];
	if (gzdirect(x->gz)) {
		struct stat st;
		uint64_t want = 4 + 4 * (uint64_t)x->nd + (uint64_t)x->dim[0] * x->item * x->esize;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size != want) {
			err_set(e, "IDX header promises %llu bytes, the file has %llu", (unsigned long long)want,
				(unsigned long long)st.st_size);
			idx_close(x);
			return NULL;
		}
	}
	buf_init(&x->raw, 0);
	return x;
}

void idx_close(struct idx *x)
{
	if (!x)
		return;
	if (x->gz)
		gzclose(x->gz);
	buf_release(&x->raw);
	free(x);
}

int idx_ndims(const struct idx *x) { return x->nd; }
uint32_t idx_dim(const struct idx *x, int i) { return x->dim[i]; }
int idx_type(const struct idx *x) { return x->type; }
uint64_t idx_item_size(const struct idx *x) { return x->item; }

int idx_next(struct idx *x, float *dst, struct pea_err *e)
{
	if (!x->left) {
		uint8_t c;
		int r = gz_read(x, &c, 1, e);
		if (r < 0)
			return -1;
		if (r == 0) {
			err_set(e, "IDX has data after its %u items", x->dim[0]);
			return -1;
		}
		return 0;
	}
	size_t n = (size_t)x->item * x->esize;
	buf_reset(&x->raw);
	uint8_t *p = buf_grow(&x->raw, n);
	int r = gz_read(x, p, n, e);
	if (r < 0)
		return -1;
	if (r > 0) {
		err_set(e, "truncated IDX: item %llu of %u is incomplete",
			(unsigned long long)(x->dim[0] - x->left + 1), x->dim[0]);
		return -1;
	}
	x->left--;
	for (size_t i = 0; i < x->item; i++) {
		const uint8_t *s = p + i * x->esize;
		switch (x->type) {
		case 0x08:
			dst[i] = s[0];
			break;
		case 0x09:
			dst[i] = (int8_t)s[0];
			break;
		case 0x0B:
			dst[i] = (int16_t)(s[0] << 8 | s[1]);
			break;
		case 0x0C:
			dst[i] = (float)(int32_t)((uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3]);
			break;
		case 0x0D: {
			uint32_t u = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
			float f;
			memcpy(&f, &u, 4);
			dst[i] = f;
			break;
		}
		default: {
			uint64_t u = 0;
			for (int k = 0; k < 8; k++)
				u = u << 8 | s[k];
			double v;
			memcpy(&v, &u, 8);
			dst[i] = (float)v;
		}
		}
	}
	return 1;
}
