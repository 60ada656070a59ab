/* pea-image - images (IDX, PNG, JPEG, folders, scraped records) into dense
 * records with their shape. */
#include "img.h"
#include "pmap.h"
#include "progress.h"
#include "walk.h"

#include <stdio.h>
#include <sys/stat.h>

struct ctx {
	struct img_opts io;
	const char *field;
	int skip_bad;
	struct img *im;	    /* one per thread */
	uint64_t skipped;   /* atomic in the map */
	char first_bad[600]; /* the reason of the first skipped image */
	int have_first;	    /* atomic */
};

static void skip(struct ctx *c, const char *where, const char *why)
{
	__atomic_add_fetch(&c->skipped, 1, __ATOMIC_RELAXED);
	int no = 0;
	if (__atomic_compare_exchange_n(&c->have_first, &no, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		snprintf(c->first_bad, sizeof c->first_bad, "%.250s: %.340s", where, why);
}

static void put_image(pea_fb *fb, const struct img *im)
{
	int64_t shape[3] = {im->c, im->h, im->w};
	fb_dense(fb, fb_xfield(fb, "dense", PEA_DENSE), im->px, (uint32_t)((size_t)im->c * im->h * im->w));
	fb_ints(fb, fb_xfield(fb, "shape", PEA_INTS), shape, 3);
}

/* ---- records carrying image bytes (pea scrape | pea image) ---- */
static void record_name(const pea_frame *in, uint32_t r, char *dst, size_t n)
{
	static const char *const names[] = {"url", "path", "id"};
	dst[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const pea_val *v = frame_get(in, r, frame_field(in, names[i]));
		if (v && v->type == PEA_STR) {
			snprintf(dst, n, "%.*s: ", v->n > 400 ? 400 : (int)v->n, val_str(v));
			return;
		}
		if (v && v->type == PEA_INT) {
			snprintf(dst, n, "id %lld: ", (long long)v->x.i);
			return;
		}
	}
}

static int convert(void *arg, struct pmap_task *t, const pea_frame *in, pea_fb *out)
{
	struct ctx *c = arg;
	struct img *im = &c->im[pmap_thread(t)];
	int fid = frame_field(in, c->field);
	uint32_t nf = frame_nfields(in);
	uint8_t *mask = xcalloc(nf ? nf : 1, 1);
	const char *own[] = {c->field, "dense", "shape"};
	for (size_t i = 0; i < ARRAY_SIZE(own); i++) {
		int k = frame_field(in, own[i]);
		if (k >= 0)
			mask[k] = 1;
	}
	int ret = 0;
	for (uint32_t r = 0; r < frame_nrec(in) && !ret; r++) {
		const pea_val *v = frame_get(in, r, fid);
		struct pea_err e;
		char name[512];
		int bad;
		if (!v) {
			err_set(&e, "no field '%s' with image bytes", c->field);
			bad = -1;
		} else if (v->type != PEA_BYTES && v->type != PEA_STR) {
			err_set(&e, "field '%s' is %s, not bytes", c->field, pea_type_name(v->type));
			bad = -1;
		} else {
			bad = img_decode(im, v->p, v->n, &c->io, &e);
		}
		if (bad) {
			record_name(in, r, name, sizeof name);
			if (!c->skip_bad) {
				ret = pmap_fail(t, r, "%s%s", name, e.msg);
				break;
			}
			char where[512], what[1100];
			pmap_where(t, r, where, sizeof where);
			snprintf(what, sizeof what, "%s%s", name, e.msg);
			skip(c, where, what);
			continue;
		}
		fb_begin(out);
		if (fb_copy_rec(out, in, r, mask) < 0) {
			ret = pmap_fail(t, r, "internal error: type clash");
			break;
		}
		put_image(out, im);
		fb_end(out);
	}
	free(mask);
	return ret;
}

/* ---- files: IDX, PNG, JPEG, folders ---- */
enum src { SRC_IDX, SRC_IMAGE, SRC_STREAM, SRC_DIR };

static enum src classify(const char *path)
{
	struct stat st;
	if (!strcmp(path, "-"))
		return SRC_STREAM;
	if (stat(path, &st) < 0)
		die_errno("%s", path);
	if (S_ISDIR(st.st_mode))
		return SRC_DIR;
	FILE *f = fopen(path, "rb");
	if (!f)
		die_errno("%s", path);
	uint8_t b[8] = {0};
	size_t n = fread(b, 1, sizeof b, f);
	fclose(f);
	if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return SRC_IDX;
	if (n >= 4 && !b[0] && !b[1])
		return SRC_IDX;
	if (img_sniff(b, n))
		return SRC_IMAGE;
	if ((n >= PEA_MAGIC_LEN && !memcmp(b, PEA_MAGIC, PEA_MAGIC_LEN)) || (n && b[0] == '{'))
		return SRC_STREAM;
	die("%s: not an image, IDX file or record stream", path);
}

static void one_image(struct ctx *c, pea_wr *w, const char *path, const char *label, struct buf *data)
{
	struct pea_err e;
	if (read_file_max(path, c->io.max_bytes, "--max-bytes", data, &e) || img_decode(c->im, data->p, data->len, &c->io, &e)) {
		if (!c->skip_bad)
			die("%s: %s", path, e.msg);
		skip(c, path, e.msg);
		return;
	}
	pea_fb *fb = wr_fb(w);
	fb_begin(fb);
	fb_str(fb, fb_xfield(fb, "path", PEA_STR), path, strlen(path));
	if (label)
		fb_str(fb, fb_xfield(fb, "label", PEA_STR), label, strlen(label));
	put_image(fb, c->im);
	fb_end(fb);
	wr_commit(w);
}

static void idx_images(struct ctx *c, pea_wr *w, const char *path, const char *labels, struct progress *pg)
{
	struct pea_err e;
	struct idx *x = idx_open(path, &e), *l = NULL;
	if (!x)
		die("%s: %s", path, e.msg);
	int nd = idx_ndims(x);
	if (nd < 2 || nd > 4)
		die("%s: IDX of %d dimensions is not a set of images (2, 3 or 4 dimensions)", path, nd);
	/* N x D vectors, N x H x W gray images, N x H x W x C pixels */
	int ch = nd == 4 ? (int)idx_dim(x, 3) : 1;
	int h = nd == 2 ? 1 : (int)idx_dim(x, 1), wd = nd == 2 ? (int)idx_dim(x, 1) : (int)idx_dim(x, 2);
	if (nd == 4 && ch != 1 && ch != 3)
		die("%s: IDX images of %d channels (1 or 3 can be read)", path, ch);
	if ((uint64_t)h * wd > c->io.max_pixels)
		die("%s: IDX images of %dx%d pixels exceed the limit of %llu (--max-pixels)", path, wd, h,
		    (unsigned long long)c->io.max_pixels);
	if (labels) {
		if (!(l = idx_open(labels, &e)))
			die("%s: %s", labels, e.msg);
		if (idx_ndims(l) != 1)
			die("%s: labels must be an IDX of one dimension, not %d", labels, idx_ndims(l));
		if (idx_dim(l, 0) != idx_dim(x, 0))
			die("%s: %u labels for %u images in %s", labels, idx_dim(l, 0), idx_dim(x, 0), path);
	}
	/* 8-bit unsigned data is scaled by 255; other types are taken as they are */
	double range = idx_type(x) == 0x08 ? 255 : 0;
	size_t item = idx_item_size(x);
	float *hwc = xmalloc(xmul(item, sizeof(float)));
	uint64_t n = 0;
	int r;
	while ((r = idx_next(x, hwc, &e)) > 0) {
		struct img *im = c->im;
		float *d = im->px;
		if (im->cap < item) {
			free(im->px);
			d = im->px = xmalloc(xmul(item, sizeof(float)));
			im->cap = item;
		}
		size_t plane = (size_t)h * wd;
		for (int k = 0; k < ch; k++)
			for (size_t i = 0; i < plane; i++)
				d[k * plane + i] = hwc[i * ch + k];
		im->c = ch;
		im->h = h;
		im->w = wd;
		if (img_finish(im, range, &c->io, &e))
			die("%s: item %llu: %s", path, (unsigned long long)n, e.msg);
		float lab = 0;
		if (l && (r = idx_next(l, &lab, &e)) <= 0)
			die("%s: %s", labels, r < 0 ? e.msg : "fewer labels than its header says");
		pea_fb *fb = wr_fb(w);
		fb_begin(fb);
		fb_int(fb, fb_xfield(fb, "id", PEA_INT), (int64_t)n);
		if (l) {
			char s[32];
			int len = snprintf(s, sizeof s, "%lld", (long long)lab);
			fb_str(fb, fb_xfield(fb, "label", PEA_STR), s, (size_t)len);
		}
		put_image(fb, im);
		fb_end(fb);
		wr_commit(w);
		n++;
		if (progress_due(pg))
			progress_show(pg, "%s: %llu of %u images", path, (unsigned long long)n, idx_dim(x, 0));
	}
	if (r < 0)
		die("%s: %s", path, e.msg);
	if (l && idx_next(l, &(float){0}, &e) != 0)
		die("%s: %s", labels, e.msg);
	free(hwc);
	idx_close(x);
	idx_close(l);
}

int main(int argc, char **argv)
{
	struct out_opts oo = OUT_OPTS_INIT;
	struct ctx c = {.io = IMG_OPTS_INIT, .field = "body"};
	int64_t threads = 0;
	int quiet = 0, gray = 0, rgb = 0, scale = 0;
	const char *size = NULL, *mean = NULL, *std = NULL, *labels = NULL;
	uint64_t max_pixels = IMG_MAX_PIXELS, max_bytes = IMG_MAX_BYTES;
	const struct cli_opt opts[] = {
		{0, "labels", CLI_STR, &labels, "FILE", "IDX file of the labels of an IDX image file"},
		{0, "size", CLI_STR, &size, "WxH", "resize to W x H pixels (area average when shrinking)"},
		{0, "gray", CLI_FLAG, &gray, NULL, "one channel (BT.601 luma)"},
		{0, "rgb", CLI_FLAG, &rgb, NULL, "three channels (gray images are repeated)"},
		{0, "scale", CLI_FLAG, &scale, NULL, "scale samples to [0,1] (the default)"},
		{0, "raw", CLI_FLAG, &c.io.raw, NULL, "keep sample values (0..255, 0..65535 for 16-bit PNG)"},
		{0, "mean", CLI_STR, &mean, "M[,M,M]", "subtract M from every channel (or one per channel)"},
		{0, "std", CLI_STR, &std, "S[,S,S]", "then divide by S (or one per channel)"},
		{0, "max-pixels", CLI_SIZE, &max_pixels, "N", "refuse images of more than N pixels (default 40M)"},
		{0, "max-bytes", CLI_SIZE, &max_bytes, "N", "refuse encoded images of more than N bytes (default 64M)"},
		{0, "skip-bad", CLI_FLAG, &c.skip_bad, NULL, "skip images that do not decode, and count them"},
		CLI_OPT_FIELD(&c.field, "field of input records holding image bytes (default body)"),
		CLI_OPTS_WRITER(oo),
		CLI_OPT_THREADS(&threads),
		CLI_OPT_QUIET(&quiet),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"image", "images into dense records with their shape", "[OPTIONS] [FILE|DIR...]",
		"Reads IDX files (MNIST family, gzip or plain), PNG and JPEG files, folders\n"
		"whose subfolders name the labels, or records whose --field holds PNG or\n"
		"JPEG bytes (standard input when no FILE is given).  Writes each image as\n"
		"`dense` (float32, channels first: C x H x W) and `shape` (C, H, W).",
		opts,
		"  pea image train-images-idx3-ubyte.gz --labels train-labels-idx1-ubyte.gz | pea train --algo cnn -o m\n"
		"  pea image photos/ --size 28x28 --gray | pea classify -m m",
		0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	if (gray && rgb)
		die_usage("give one of --gray or --rgb");
	if (scale && c.io.raw)
		die_usage("give one of --scale or --raw");
	c.io.channels = gray ? 1 : rgb ? 3 : 0;
	if (size && img_parse_size(size, &c.io.width, &c.io.height))
		die_usage("--size wants WxH (e.g. 28x28), not '%s'", size);
	if (mean && img_parse_floats(mean, c.io.mean, &c.io.nmean))
		die_usage("--mean wants one number or three separated by commas, not '%s'", mean);
	if (std && img_parse_floats(std, c.io.std, &c.io.nstd))
		die_usage("--std wants one number or three separated by commas, not '%s'", std);
	for (int i = 0; i < 3; i++)
		if (c.io.std[i] == 0)
			die_usage("--std must not be 0");
	if (max_pixels < 1 || max_bytes < 1)
		die_usage("--max-pixels and --max-bytes must be positive");
	c.io.max_pixels = max_pixels;
	c.io.max_bytes = max_bytes;

	int streams = 0;
	enum src *kind = xcalloc((size_t)nargs + 1, sizeof *kind);
	for (int i = 0; i < nargs; i++)
		streams += (kind[i] = classify(args[i])) == SRC_STREAM;
	if (streams && streams != nargs)
		die_usage("give record streams or image files, not both");
	if (labels && (nargs != 1 || kind[0] != SRC_IDX))
		die_usage("--labels goes with one IDX file of images");

	int nt = cli_threads(threads);
	c.im = xcalloc((size_t)nt, sizeof *c.im);
	if (!nargs || streams) {
		pea_in *in = in_open(args, nargs, NULL);
		pea_out *out = out_open(&oo);
		struct pmap_opts po = {nt, convert, NULL, &c, quiet};
		pmap_run(in, out, &po);
		out_close(out);
		in_close(in);
	} else {
		pea_wr *w = wr_open(&oo);
		struct buf data = BUF_INIT;
		struct progress pg;
		progress_init(&pg, quiet);
		for (int i = 0; i < nargs; i++) {
			if (kind[i] == SRC_IDX) {
				idx_images(&c, w, args[i], labels, &pg);
			} else if (kind[i] == SRC_IMAGE) {
				one_image(&c, w, args[i], NULL, &data);
			} else {
				struct walk_list l = WALK_LIST_INIT;
				struct pea_err e;
				if (walk_dir(args[i], &l, &e))
					die("%s", e.msg);
				for (size_t k = 0; k < l.n; k++) {
					one_image(&c, w, l.v[k].path, l.v[k].label, &data);
					if (progress_due(&pg))
						progress_show(&pg, "%s: %zu of %zu images", args[i], k + 1, l.n);
				}
				walk_list_release(&l);
			}
		}
		progress_done(&pg);
		buf_release(&data);
		wr_close(w);
	}
	if (c.skipped)
		note("%llu bad image%s skipped (the first: %s)", (unsigned long long)c.skipped,
		     c.skipped == 1 ? "" : "s", c.first_bad);
	for (int i = 0; i < nt; i++)
		img_release(&c.im[i]);
	free(c.im);
	free(kind);
	free(args);
	return 0;
}
