/* pmap.h - the frame-parallel map: every filter's engine.
 *
 * pmap_run() reads units (frames or chunks of text) from a pea_in, decodes
 * them and calls fn on each decoded frame on `threads` worker threads, and
 * writes each frame's output in input order.  A filter therefore scales
 * with cores with no threading code of its own, and its output order equals
 * its input order.  Units flow through a small ring (three per worker), so
 * memory stays bounded and a unit is written as soon as it and those before
 * it are done: live pipelines stay prompt.  A damaged input is reported
 * after the records before the damage are written.
 *
 * fn adds output records to `out` (fb_begin .. fb_end), usually copying the
 * input record's fields through and adding its own.  It must not touch
 * shared state except through per-thread slots (pmap_thread) or atomics. */
#ifndef PEA_PMAP_H
#define PEA_PMAP_H

#include "input.h"
#include "output.h"

struct pmap_task;
/* Return 0, or -1 after pmap_fail(). */
typedef int (*pmap_fn)(void *ctx, struct pmap_task *t, const pea_frame *in, pea_fb *out);
/* Called on the main thread, in input order, after a unit was processed;
 * `data` holds what fn put in pmap_task_buf().  It reports its own errors
 * (die), since the place of a record is known only inside fn. */
typedef void (*pmap_ordered_fn)(void *ctx, struct buf *data);

struct pmap_opts {
	int threads;
	pmap_fn fn;
	pmap_ordered_fn ordered; /* may be NULL */
	void *ctx;
	int quiet; /* no progress line (it shows only on a terminal anyway) */
};

/* out may be NULL for consumers (fn then gets out == NULL). */
void pmap_run(pea_in *in, pea_out *out, const struct pmap_opts *o);

/* the calling thread's slot, 0 .. threads-1 */
int pmap_thread(const struct pmap_task *t);
/* scratch output of the task for the ordered callback (no-output mode) */
struct buf *pmap_task_buf(struct pmap_task *t);
/* Record an error for record `rec` of the current frame; returns -1.  The
 * message is reported with the place: "FILE: frame N at byte B: record R: ..." */
int pmap_fail(struct pmap_task *t, uint32_t rec, const char *fmt, ...) PEA_PRINTF(3, 4);
/* Pass the input frame through unchanged: its original bytes when both
 * sides are binary, otherwise a copy of every record.  Returns 0. */
int pmap_keep(struct pmap_task *t, const pea_frame *in, pea_fb *out);
/* A number unique to the record's place in the input (file, position,
 * record), the same on every run: for deterministic sampling and splits. */
uint64_t pmap_record_key(const struct pmap_task *t, uint32_t rec);
/* the place of a record, for messages that are not fatal (warnings) */
void pmap_where(const struct pmap_task *t, uint32_t rec, char *dst, size_t n);

#endif
