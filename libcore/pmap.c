/* pmap.c - see pmap.h.
 *
 * A batch of up to 4 units per thread is read serially (cheap: raw bytes),
 * processed in parallel (checksum, decompression, parsing, fn, encoding),
 * then written in order.  Errors are collected per task and the first in
 * input order is reported, so the message does not depend on scheduling. */
#include "pmap.h"
#include "hash.h"
#include "progress.h"

#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pmap_task {
	struct pea_unit unit;
	struct buf out;
	int thread;
	int failed;
	int keep;	/* write the unit's frame as it came */
	const pea_out *o;
	char msg[1200];
	struct unit_dec *ud;
};

struct pmap_thread_state {
	struct unit_dec *ud;
	pea_frame *f;
	pea_fb *fb;
	struct out_tls tls;
};

int pmap_thread(const struct pmap_task *t)
{
	return t->thread;
}

struct buf *pmap_task_buf(struct pmap_task *t)
{
	return &t->out;
}

void pmap_where(const struct pmap_task *t, uint32_t rec, char *dst, size_t n)
{
	ud_where(t->ud, rec, dst, n);
}

int pmap_keep(struct pmap_task *t, const pea_frame *in, pea_fb *out)
{
	if (!out)
		return 0;
	if (t->unit.kind == IN_PEA && !out_is_json(t->o) && !fb_nrec(out)) {
		t->keep = 1;
		return 0;
	}
	for (uint32_t r = 0; r < frame_nrec(in); r++) {
		fb_begin(out);
		if (fb_copy_rec(out, in, r, NULL))
			die("internal error: type clash copying a frame");
		fb_end(out);
	}
	return 0;
}

uint64_t pmap_record_key(const struct pmap_task *t, uint32_t rec)
{
	/* the file, the unit's offset and index, the record within it */
	uint64_t k[4] = {hash_bytes(t->unit.file, strlen(t->unit.file), 0), t->unit.offset,
			 t->unit.index, rec};
	return hash_bytes(k, sizeof k, 0);
}

int pmap_fail(struct pmap_task *t, uint32_t rec, const char *fmt, ...)
{
	char where[512], what[512];
	va_list ap;
	if (t->failed)
		return -1;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	ud_where(t->ud, rec, where, sizeof where);
	snprintf(t->msg, sizeof t->msg, "%s: %s", where, what);
	t->failed = 1;
	return -1;
}

static void run_task(const struct pmap_opts *o, pea_out *out, struct pmap_task *t,
		     struct pmap_thread_state *s)
{
	struct pea_err e;
	int k;
	t->ud = s->ud;
	t->failed = 0;
	t->keep = 0;
	t->o = out;
	buf_reset(&t->out);
	ud_start(s->ud, &t->unit);
	while ((k = ud_next(s->ud, s->f, &e)) > 0) {
		if (o->fn(o->ctx, t, s->f, out ? s->fb : NULL) < 0) {
			if (!t->failed)
				pmap_fail(t, 0, "failed");
			return;
		}
		if (t->keep) {
			buf_add(&t->out, t->unit.hdrbytes, PEA_HDR_LEN);
			buf_add(&t->out, t->unit.data.p, t->unit.data.len);
		} else if (out) {
			out_encode(out, s->fb, &s->tls, &t->out);
		}
	}
	if (k < 0) {
		char where[512];
		ud_unit_where(s->ud, where, sizeof where);
		snprintf(t->msg, sizeof t->msg, "%s: %s", where, e.msg);
		t->failed = 1;
	}
}

void pmap_run(pea_in *in, pea_out *out, const struct pmap_opts *o)
{
	int nt = o->threads > 0 ? o->threads : 1;
	int cap = 4 * nt;
	struct pmap_task *tasks = xcalloc((size_t)cap, sizeof *tasks);
	struct pmap_thread_state *st = xcalloc((size_t)nt, sizeof *st);
	for (int i = 0; i < cap; i++) {
		unit_init(&tasks[i].unit);
		buf_init(&tasks[i].out, 0);
	}
	for (int i = 0; i < nt; i++) {
		st[i].ud = ud_new(in);
		st[i].f = frame_new();
		st[i].fb = fb_new();
		out_tls_init(&st[i].tls);
	}
	struct progress pr;
	uint64_t nrec = 0, bytes = 0;
	progress_init(&pr, o->quiet);
	int eof = 0;
	while (!eof) {
		int n = 0;
		while (n < cap) {
			if (n > 0 && !in_ready(in))
				break;
			if (!in_next(in, &tasks[n].unit)) {
				eof = 1;
				break;
			}
			n++;
		}
		if (!n)
			break;
		if (nt == 1 || n == 1) {
			for (int i = 0; i < n; i++) {
				tasks[i].thread = 0;
				run_task(o, out, &tasks[i], &st[0]);
			}
		} else {
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
			for (int i = 0; i < n; i++) {
				int th = omp_get_thread_num();
				tasks[i].thread = th;
				run_task(o, out, &tasks[i], &st[th]);
			}
		}
		for (int i = 0; i < n; i++) {
			if (tasks[i].failed)
				die("%s", tasks[i].msg);
			if (o->ordered)
				o->ordered(o->ctx, &tasks[i].out);
			if (out && tasks[i].out.len)
				out_write(out, tasks[i].out.p, tasks[i].out.len);
			bytes += tasks[i].unit.data.len;
			nrec += tasks[i].unit.kind == IN_PEA ? tasks[i].unit.hdr.nrec : 0;
		}
		if (progress_due(&pr)) {
			double t = progress_elapsed(&pr);
			if (nrec)
				progress_show(&pr, "%llu records, %.0f MB read, %.0f MB/s",
					      (unsigned long long)nrec, bytes / 1e6, bytes / 1e6 / (t > 0 ? t : 1));
			else
				progress_show(&pr, "%.0f MB read, %.0f MB/s", bytes / 1e6,
					      bytes / 1e6 / (t > 0 ? t : 1));
		}
		if (out)
			out_flush(out);
	}
	progress_done(&pr);
	for (int i = 0; i < cap; i++) {
		unit_release(&tasks[i].unit);
		buf_release(&tasks[i].out);
	}
	for (int i = 0; i < nt; i++) {
		ud_free(st[i].ud);
		frame_free(st[i].f);
		fb_free(st[i].fb);
		out_tls_release(&st[i].tls);
	}
	free(tasks);
	free(st);
}
