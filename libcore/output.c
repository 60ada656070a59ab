/* output.c - see output.h. */
#include "output.h"
#include "afile.h"
#include "export.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

#define OUT_BUF (1u << 20)

struct pea_out {
	int fd;
	int json;
	int level;
	int to_file;
	const char *name;
	struct afile af;
	int atomic;
	struct buf b;
};

pea_out *out_open(const struct out_opts *o)
{
	pea_out *out = xcalloc(1, sizeof *out);
	buf_init(&out->b, 0);
	if (o->level != PEA_LEVEL_AUTO && (o->level < -7 || o->level > 19))
		die_usage("--level %lld: choose 0 (none) or a zstd level from -7 to 19", (long long)o->level);
	if (o->path && strcmp(o->path, "-")) {
		afile_open(&out->af, o->path, 0666);
		out->fd = out->af.fd;
		out->atomic = 1;
		out->name = o->path;
	} else {
		out->fd = 1;
		out->name = "(standard output)";
	}
	out->json = o->json || (!o->binary && !out->atomic && isatty(out->fd));
	struct stat st;
	int known = fstat(out->fd, &st) == 0;
	out->to_file = known && S_ISREG(st.st_mode);
#ifdef F_SETPIPE_SZ
	/* a pipe of 64 KiB wakes the next stage sixteen times a frame: ask
	 * for room for a whole frame (the system may give less; no matter) */
	if (known && S_ISFIFO(st.st_mode))
		fcntl(out->fd, F_SETPIPE_SZ, (int)(PEA_FRAME_TARGET / 4));
#endif
	out->level = o->level != PEA_LEVEL_AUTO ? (int)o->level : out->to_file ? PEA_FILE_LEVEL : 0;
	return out;
}

int out_is_json(const pea_out *o) { return o->json; }

size_t out_frame_target(const pea_out *o)
{
	return o->to_file ? PEA_FRAME_TARGET : PEA_FRAME_TARGET / 4;
}
const char *out_name(const pea_out *o) { return o->name; }

static void write_all(pea_out *o, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(o->fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EPIPE)
			_exit(0); /* the reader is gone: nothing more to do */
		if (w < 0)
			die_errno("%s: write error", o->name);
		c += w;
		n -= (size_t)w;
	}
}

void out_flush(pea_out *o)
{
	write_all(o, o->b.p, o->b.len);
	buf_reset(&o->b);
}

void out_write(pea_out *o, const void *p, size_t n)
{
	if (o->b.len + n > OUT_BUF) {
		out_flush(o);
		if (n >= OUT_BUF) {
			write_all(o, p, n);
			return;
		}
	}
	buf_add(&o->b, p, n);
}

void out_close(pea_out *o)
{
	if (!o)
		return;
	out_flush(o);
	if (o->atomic)
		afile_commit(&o->af);
	buf_release(&o->b);
	free(o);
}

void out_tls_init(struct out_tls *t)
{
	t->cctx = ZSTD_createCCtx();
	t->f = frame_new();
}

void out_tls_release(struct out_tls *t)
{
	ZSTD_freeCCtx(t->cctx);
	frame_free(t->f);
}

void out_encode(const pea_out *o, pea_fb *fb, struct out_tls *t, struct buf *dst)
{
	if (!fb_nrec(fb)) {
		fb_reset(fb);
		return;
	}
	if (o->json) {
		fb_to_frame(fb, t->f);
		export_json(t->f, dst);
	} else {
		fb_encode(fb, o->level, t->cctx, dst);
	}
}

struct pea_wr {
	pea_out *out;
	pea_fb *fb;
	struct out_tls tls;
	struct buf enc;
	double first; /* when the oldest buffered record was committed */
	uint64_t nrec;
};

pea_wr *wr_on(pea_out *out)
{
	pea_wr *w = xcalloc(1, sizeof *w);
	w->out = out;
	w->fb = fb_new();
	out_tls_init(&w->tls);
	buf_init(&w->enc, 0);
	return w;
}

pea_wr *wr_open(const struct out_opts *o)
{
	return wr_on(out_open(o));
}

pea_fb *wr_fb(pea_wr *w) { return w->fb; }
uint64_t wr_records(const pea_wr *w) { return w->nrec; }

void wr_flush(pea_wr *w)
{
	if (fb_nrec(w->fb)) {
		buf_reset(&w->enc);
		out_encode(w->out, w->fb, &w->tls, &w->enc);
		out_write(w->out, w->enc.p, w->enc.len);
	}
	out_flush(w->out);
}

void wr_idle(void *w)
{
	wr_flush(w);
}

void wr_commit(pea_wr *w)
{
	w->nrec++;
	if (fb_nrec(w->fb) == 1)
		w->first = now_sec();
	if (fb_size(w->fb) >= out_frame_target(w->out) || now_sec() - w->first >= 1.0)
		wr_flush(w);
}

void wr_copy(pea_wr *w, const pea_frame *f, uint32_t rec)
{
	fb_begin(w->fb);
	if (fb_copy_rec(w->fb, f, rec, NULL) < 0) {
		fb_abort(w->fb);
		wr_flush(w);
		fb_begin(w->fb);
		if (fb_copy_rec(w->fb, f, rec, NULL) < 0)
			die("internal error: a record clashes with an empty frame");
	}
	fb_end(w->fb);
	wr_commit(w);
}

void wr_close(pea_wr *w)
{
	if (!w)
		return;
	wr_flush(w);
	out_close(w->out);
	fb_free(w->fb);
	out_tls_release(&w->tls);
	buf_release(&w->enc);
	free(w);
}
