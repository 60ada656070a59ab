/* pmap.c - see pmap.h.
 *
 * A pipeline over a ring of slots, one unit in each: the calling thread
 * reads units into free slots, `threads` workers take them in input order
 * and process them (checksum, decompression, parsing, fn, encoding), and a
 * writer thread hands the results out strictly in input order, freeing
 * each slot as it goes.  Nothing waits for a whole batch: a worker that the
 * scheduler sets aside (a loaded machine, other stages of the pipeline)
 * holds back only its own unit while the others go on, the ring bounds the
 * units in memory to a few per worker, and reading and writing overlap the
 * work.  The writer stands apart from the reader so that results go out
 * while the reader waits for a quiet input.  Errors are reported by the
 * writer for the first failed unit in input order, so the message does not
 * depend on scheduling.
 *
 * Plain pthreads: the workers wait on condition variables (they sleep,
 * they do not spin), and functions run by a worker may still open OpenMP
 * regions of their own. */
#include "pmap.h"
#include "hash.h"
#include "progress.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* slots per worker: one in hand, one read ahead, one done and waiting for
 * an older unit to be written */
#define SLOTS_PER_THREAD 3

enum { SLOT_FREE, SLOT_READY, SLOT_BUSY, SLOT_DONE };

struct pmap_task {
	struct pea_unit unit;
	struct buf out;
	int state;
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

struct pmap {
	const struct pmap_opts *o;
	pea_in *in;
	pea_out *out;
	struct pmap_task *slot;
	uint64_t nslot;
	pthread_mutex_t mu;
	pthread_cond_t can_read, can_work, can_write;
	uint64_t nread; /* units read (the next one goes to slot nread % nslot) */
	uint64_t ntaken; /* units taken by workers */
	uint64_t nwritten;
	int eof;
	struct pmap_thread_state *st;
	int nt;
	pthread_t wr, *th;
};

/* A fatal error of the reader (a truncated or damaged input): the units
 * read before it are processed and written first, then the message. */
static void read_failed(void *arg, const char *msg)
{
	struct pmap *m = arg;
	pthread_mutex_lock(&m->mu);
	m->eof = 1;
	pthread_cond_broadcast(&m->can_work);
	pthread_cond_signal(&m->can_write);
	pthread_mutex_unlock(&m->mu);
	for (int i = 0; i < m->nt; i++)
		pthread_join(m->th[i], NULL);
	pthread_join(m->wr, NULL);
	err_defer(NULL, NULL);
	die("%s", msg);
}

struct worker_arg {
	struct pmap *m;
	int thread;
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

static void *worker(void *arg)
{
	struct worker_arg *a = arg;
	struct pmap *m = a->m;
	pthread_mutex_lock(&m->mu);
	for (;;) {
		while (m->ntaken == m->nread && !m->eof)
			pthread_cond_wait(&m->can_work, &m->mu);
		if (m->ntaken == m->nread)
			break; /* the end of the input, and nothing left */
		struct pmap_task *t = &m->slot[m->ntaken++ % m->nslot];
		t->state = SLOT_BUSY;
		pthread_mutex_unlock(&m->mu);
		t->thread = a->thread;
		run_task(m->o, m->out, t, &m->st[a->thread]);
		pthread_mutex_lock(&m->mu);
		t->state = SLOT_DONE;
		pthread_cond_signal(&m->can_write);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

static void *writer(void *arg)
{
	struct pmap *m = arg;
	const struct pmap_opts *o = m->o;
	struct progress pr;
	uint64_t nrec = 0, bytes = 0;
	progress_init(&pr, o->quiet);
	int flushed = 1;
	pthread_mutex_lock(&m->mu);
	for (;;) {
		struct pmap_task *t = &m->slot[m->nwritten % m->nslot];
		while (!(m->nwritten < m->nread && t->state == SLOT_DONE) && !(m->eof && m->nwritten == m->nread)) {
			if (!flushed && m->out) {
				/* about to wait: what is written so far goes out now */
				pthread_mutex_unlock(&m->mu);
				out_flush(m->out);
				flushed = 1;
				pthread_mutex_lock(&m->mu);
				continue;
			}
			pthread_cond_wait(&m->can_write, &m->mu);
		}
		if (m->nwritten == m->nread)
			break;
		pthread_mutex_unlock(&m->mu);
		if (t->failed) {
			progress_done(&pr);
			die("%s", t->msg);
		}
		if (o->ordered)
			o->ordered(o->ctx, &t->out);
		if (m->out && t->out.len) {
			out_write(m->out, t->out.p, t->out.len);
			flushed = 0;
		}
		bytes += t->unit.data.len;
		nrec += t->unit.kind == IN_PEA ? t->unit.hdr.nrec : 0;
		if (progress_due(&pr)) {
			double s = progress_elapsed(&pr);
			if (nrec)
				progress_show(&pr, "%llu records, %.0f MB read, %.0f MB/s",
					      (unsigned long long)nrec, bytes / 1e6, bytes / 1e6 / (s > 0 ? s : 1));
			else
				progress_show(&pr, "%.0f MB read, %.0f MB/s", bytes / 1e6,
					      bytes / 1e6 / (s > 0 ? s : 1));
		}
		pthread_mutex_lock(&m->mu);
		t->state = SLOT_FREE;
		m->nwritten++;
		pthread_cond_signal(&m->can_read);
	}
	pthread_mutex_unlock(&m->mu);
	if (m->out)
		out_flush(m->out);
	progress_done(&pr);
	return NULL;
}

void pmap_run(pea_in *in, pea_out *out, const struct pmap_opts *o)
{
	struct pmap m = {0};
	m.o = o;
	m.in = in;
	m.out = out;
	m.nt = o->threads > 0 ? o->threads : 1;
	m.nslot = (uint64_t)SLOTS_PER_THREAD * (uint64_t)m.nt;
	m.slot = xcalloc(m.nslot, sizeof *m.slot);
	m.st = xcalloc((size_t)m.nt, sizeof *m.st);
	for (uint64_t i = 0; i < m.nslot; i++) {
		unit_init(&m.slot[i].unit);
		buf_init(&m.slot[i].out, 0);
	}
	for (int i = 0; i < m.nt; i++) {
		m.st[i].ud = ud_new(in);
		m.st[i].f = frame_new();
		m.st[i].fb = fb_new();
		out_tls_init(&m.st[i].tls);
	}
	pthread_mutex_init(&m.mu, NULL);
	pthread_cond_init(&m.can_read, NULL);
	pthread_cond_init(&m.can_work, NULL);
	pthread_cond_init(&m.can_write, NULL);
	m.th = xcalloc((size_t)m.nt, sizeof *m.th);
	struct worker_arg *wa = xcalloc((size_t)m.nt, sizeof *wa);
	if (pthread_create(&m.wr, NULL, writer, &m))
		die("cannot start a thread");
	for (int i = 0; i < m.nt; i++) {
		wa[i].m = &m;
		wa[i].thread = i;
		if (pthread_create(&m.th[i], NULL, worker, &wa[i]))
			die("cannot start a thread");
	}
	/* the reader: this thread */
	err_defer(read_failed, &m);
	for (;;) {
		pthread_mutex_lock(&m.mu);
		while (m.nread - m.nwritten == m.nslot)
			pthread_cond_wait(&m.can_read, &m.mu);
		struct pmap_task *t = &m.slot[m.nread % m.nslot];
		pthread_mutex_unlock(&m.mu);
		/* the slot is free: no other thread touches it until it is counted in */
		int more = in_next(in, &t->unit);
		pthread_mutex_lock(&m.mu);
		if (more) {
			t->state = SLOT_READY;
			m.nread++;
			pthread_cond_signal(&m.can_work);
		} else {
			m.eof = 1;
			pthread_cond_broadcast(&m.can_work);
			pthread_cond_signal(&m.can_write);
		}
		pthread_mutex_unlock(&m.mu);
		if (!more)
			break;
	}
	err_defer(NULL, NULL);
	for (int i = 0; i < m.nt; i++)
		pthread_join(m.th[i], NULL);
	pthread_join(m.wr, NULL);
	pthread_mutex_destroy(&m.mu);
	pthread_cond_destroy(&m.can_read);
	pthread_cond_destroy(&m.can_work);
	pthread_cond_destroy(&m.can_write);
	for (uint64_t i = 0; i < m.nslot; i++) {
		unit_release(&m.slot[i].unit);
		buf_release(&m.slot[i].out);
	}
	for (int i = 0; i < m.nt; i++) {
		ud_free(m.st[i].ud);
		frame_free(m.st[i].f);
		fb_free(m.st[i].fb);
		out_tls_release(&m.st[i].tls);
	}
	free(m.th);
	free(wa);
	free(m.slot);
	free(m.st);
}
