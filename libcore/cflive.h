/* cflive.h - a recommender that keeps learning (pea train --follow): it
 * reads a live stream of interactions and publishes a fresh model, again
 * and again, that commands serving the old one pick up (reload.h).
 *
 * The deployed model never learns; this follower keeps what the next one
 * will learn from: every interaction of the stream as an event (time, user,
 * item, weight), in arrival order, and which events each post (its `id`)
 * gave, so that a later record with the same id (an edit, or the post
 * delivered again) replaces them and a `deleted` one takes them back.
 * Time is the stream's own: the latest `time` seen, so a replayed stream
 * learns what a live one would have; a record dated more than a day ahead
 * of this machine's clock is left out (warned once, counted), since it
 * would empty the window.  Each model is trained from scratch
 * on a snapshot of the events, weighted by the time rule:
 *   --window W      events newer than now - W, at their weight
 *   --half-life H   every event, at weight * 2^-(age / H)
 *   neither         every event
 * so the co-occurrence counts of item kNN are exactly those of the window
 * (or decayed), and an algorithm with latent factors (als, bpr) starts
 * from the factors it last published (a warm start) while at least half
 * of that model's users and items are still in the window.
 *
 * A state file (pea records: user, items, time, weight and the post's key,
 * a record per post) keeps the events that may still count; it is written
 * atomically after each model and read back at the start, so a follower
 * stopped and started again goes on with its window, edits and deletions
 * of the posts in it included.  SIGINT and SIGTERM end the input as its
 * end would (what is already in the pipe is read), so a stopped follower
 * writes a last model and state and loses nothing it read.
 *
 * Memory is bounded: events out of the window (or decayed below 2^-24)
 * leave, names no event uses are dropped as they leave, and at most
 * max_events are kept (the oldest leave first, counted).
 *
 * Reading and training overlap: the events are snapshotted under a lock
 * (by the reader right after the record that makes a count due, by a
 * publisher thread when a time is due), and the publisher trains and writes
 * the model atomically (model.h) while the reader goes on.  By time, a
 * training slower than the interval delays the next model, never a record;
 * by count, every model asked for is written, so a replayed stream gives
 * the same models however fast it is read, and the reader waits when a
 * second snapshot would have to wait for the publisher. */
#ifndef PEA_CFLIVE_H
#define PEA_CFLIVE_H

#include "cf.h"

struct cfl_opts {
	const struct cf_algo *algo;
	const struct cf_params *p;
	const struct algo_params *ap;
	/* field names (NULL: user, item, weight, time) */
	const char *user, *item, *weight, *time;
	double window, half_life; /* seconds of stream time; 0: not used */
	double every_sec;	  /* publish when this long has passed since the last model (0: not by time) */
	uint64_t every_rec;	  /* or when this many records came (0: not by count) */
	uint64_t max_events;	  /* 0: no bound */
	const char *state;	  /* NULL, or a file of the events, read at the start, written with each model */
	int threads, quiet;
	uint64_t seed;
	const char *out;
};

struct cfl_stats {
	uint64_t records, interactions; /* read */
	uint64_t replaced, deleted;	/* posts whose interactions were replaced, taken back */
	uint64_t published;		/* models written */
	uint64_t dropped;		/* events that left for max_events */
	uint64_t live;			/* interactions in the last model */
	uint64_t restored;		/* interactions the state file gave back */
	uint64_t future;		/* records dated more than a day ahead of the clock: left out */
};

/* Follow files (NULL or none: standard input) to their end, publishing
 * models to o->out as they fall due and a last one at the end.  Bad input
 * dies with the record's place; so does an end with nothing to train on. */
void cfl_run(char *const *files, int n, const struct cfl_opts *o, struct cfl_stats *st);

#endif
