/* cf.h - recommenders (collaborative filtering on implicit feedback): the
 * interface every recommender algorithm implements, the model they share,
 * the training driver and the recommendation loop of pea-recommend.
 *
 * It sits beside algo.h (the classifiers) rather than inside it because
 * recommenders learn from interactions (inter.h), not from labelled
 * feature vectors, and predict by scoring every item for a user; they
 * share the model container (model.h), the command that trains
 * (pea-train --algo NAME) and its option conventions.
 *
 * A recommender is one file, libcore/algo_NAME.c, defining a `struct
 * cf_algo` listed in cf.c's registry.  Training gets the interactions
 * (struct cf_fit) and adds its own sections to the model; the driver
 * writes what every recommender model holds:
 *   meta   JSON: kind "recommender", format, algo, users, items,
 *          interactions, records, settings
 *   users, items   the names (ntab.h), ids in order of first appearance
 *   seen.off, seen.item, seen.w   each user's items and weights (CSR):
 *          what "already seen" means, what kNN and EASE score from, and
 *          what --init and --merge continue from
 * An algorithm must give the same bytes for the same seed at any
 * thread count.  Loading maps the file and checks every size against the
 * meta; the model is then used in place from many threads at once. */
#ifndef PEA_CF_H
#define PEA_CF_H

#include "algo.h"
#include "inter.h"
#include "model.h"
#include "ntab.h"
#include "progress.h"

struct json_object;
struct pmap_task;

/* Hyperparameters of the recommenders (alpha and lr come from struct
 * algo_params, whose options pea-train already has).  Unset ones (0,
 * NAN, NULL) take the algorithm's default. */
struct cf_params {
	int64_t factors, iterations, neighbours, cg_steps, max_items;
	double reg;
	const char *weighting;
	uint64_t memory; /* ease: bytes its matrices may take (0: 80% of what is available) */
};
#define CF_PARAMS_INIT {0, 0, 0, 0, 0, NAN, NULL, 0}
#define CLI_OPTS_CF(p)                                                                                         \
	{0, "factors", CLI_INT, &(p).factors, "N", "als, bpr: latent factors (default 64)"},                    \
	{0, "iterations", CLI_INT, &(p).iterations, "N", "als: alternating passes (default 15); bpr: epochs (default 100)"}, \
	{0, "reg", CLI_DBL, &(p).reg, "L", "als: L2 penalty (default 0.05); bpr: (default 0.01); ease: lambda (default 200)"}, \
	{0, "cg-steps", CLI_INT, &(p).cg_steps, "N", "als: conjugate-gradient steps per solve (default 3)"},   \
	{0, "neighbours", CLI_INT, &(p).neighbours, "K", "knn: neighbours kept per item (default 100)"},        \
	{0, "weighting", CLI_STR, &(p).weighting, "W", "knn: cosine (default), tfidf or bm25"},                 \
	{0, "max-items", CLI_INT, &(p).max_items, "N", "ease: only the N most popular items (default: all)"},    \
	{0, "memory", CLI_SIZE, &(p).memory, "SIZE", "ease: memory its matrices may take, e.g. 8G (default: 80% of what is free)"}

struct cfm;

/* One user to score: the items the scores derive from (sorted ids,
 * weights), and whose they are. */
struct cf_query {
	int64_t user;	      /* the model's id, or -1 for a user it never saw */
	const uint32_t *hist; /* sorted, distinct */
	const float *hw;
	uint32_t nh;
	int fold;	      /* the history came with the record: factor models fold it in */
};

struct cf_fit {
	const struct ix *x;	     /* the interactions (the init model's first) */
	const struct cfm *init;	     /* warm start, or NULL; its ids are x's first ids */
	const struct cf_params *p;
	const struct algo_params *ap; /* alpha, lr */
	int threads, quiet;
	uint64_t seed;
	struct progress pr;
	double per_iteration; /* iterative algorithms: mean seconds a pass took */
	char err[512]; /* train() returns -1 with the reason here */
};

struct cf_algo {
	const char *name, *summary;
	const char *params; /* the options it takes: "factors,reg,alpha" */
	/* add the algorithm's sections to w and what it was trained with to
	 * settings (a JSON object) */
	int (*train)(struct cf_fit *f, struct model_writer *w, struct json_object *settings);
	/* take the sections of m->file (settings in m->settings), checking sizes */
	int (*load)(struct cfm *m, struct pea_err *e);
	void (*release)(struct cfm *m);
	/* scores of every item for nq queries: s is nq x nitems */
	void (*score)(const struct cfm *m, const struct cf_query *q, int nq, float *s);
	/* how much history entry h of q adds to the score of items[j]: c is
	 * n x q->nh (NULL: the algorithm cannot say) */
	void (*explain)(const struct cfm *m, const struct cf_query *q, const uint32_t *items, int n, float *c);
	/* similarity of every item to `item` into s (NULL: none to give) */
	void (*similar)(const struct cfm *m, uint32_t item, float *s);
	/* --merge retrains on the union of the models' interactions, which is
	 * exact for the algorithms whose statistics add up */
	int mergeable;
	/* trains on interactions shared out between ranks (x->share, ixdist.h) */
	int ranks;
};

/* A recommender model, mapped from its file. */
struct cfm {
	const struct cf_algo *algo;
	struct model *file;
	struct json_object *settings;
	uint32_t nusers, nitems;
	uint64_t nnz, nrec;
	struct ntab users, items;
	const uint64_t *soff; /* seen: user u's items are sidx[soff[u] .. soff[u+1]) */
	const uint32_t *sidx;
	const float *sw;
	void *st; /* the algorithm's part */
};

const struct cf_algo *cf_find(const char *name);
/* "pop, knn, als, bpr, ease", for messages */
const char *cf_names(void);
/* whether any recommender option was given (for refusing them elsewhere) */
const char *cf_params_given(const struct cf_params *p);

/* ---- training ---- */
/* what a training took, for the note pea-train prints */
struct cf_stats {
	double fit;	      /* seconds of the algorithm's own work */
	double per_iteration; /* mean seconds of an iteration (0: it does not iterate) */
};
/* Train a on x, starting from init (NULL, or a model of the same
 * algorithm whose names are x's first); the model comes back as a writer
 * (mw_write it).  st may be NULL.  NULL with the reason in e. */
struct model_writer *cf_train(const struct cf_algo *a, const struct ix *x, const struct cfm *init,
			      const struct cf_params *p, const struct algo_params *ap, int threads, int quiet,
			      uint64_t seed, struct cf_stats *st, struct pea_err *e);
/* The interactions of models of one algorithm, as one set (what --merge
 * trains on): pairs of the same user and item add their weights. */
struct ix *cf_union(struct cfm *const *in, int n, int threads);

/* --merge: the models' interactions as one set, trained again with the
 * first model's settings (which every model must share); NULL with the
 * reason in e, also for algorithms whose models do not merge. */
struct model_writer *cf_merge(struct cfm *const *in, int n, int threads, int quiet, struct pea_err *e);
/* what a model being continued (--init) brings to ix_load */
void cf_base(const struct cfm *m, struct ix_base *b);

/* helpers for the algorithms */
/* the random start of a factor row: the same for (seed, side, row) on any
 * thread */
void cf_init_row(float *v, int k, uint64_t seed, int side, uint64_t row, float scale);
/* a section of n bytes exactly, or NULL with the reason in e */
const void *cf_section(const struct cfm *m, const char *name, size_t n, struct pea_err *e);
/* a number in the settings, or def */
double cf_setting(const struct cfm *m, const char *name, double def);
/* the progress line of training: iteration it of n */
void cf_progress(struct cf_fit *f, const char *what, int it, int n, double work);

/* ---- models ---- */
struct cfm *cf_open(const char *path, struct pea_err *e);
struct cfm *cf_from_bytes(const void *p, size_t n, struct pea_err *e);
void cf_close(struct cfm *m);
/* 1 when the file is a recommender model (0 also when it cannot be read:
 * opening it then says why) */
int cf_is_recommender(const char *path);
/* the meta and a summary of the model, for pea-train --show */
void cf_show(const struct cfm *m, FILE *out);

/* ---- recommending ---- */
struct cf_rec_opts {
	int64_t k;
	int include_seen, explain;
	const char *user, *history; /* field names (NULL: user, history) */
};
struct cf_rec;
struct cf_rec *cf_rec_new(const struct cfm *m, const struct cf_rec_opts *o, int threads);
/* the model to use from the next frame on (a reloaded one) */
void cf_rec_set_model(struct cf_rec *r, const struct cfm *m);
void cf_rec_free(struct cf_rec *r);
/* pmap's fn: add `recs` and `scores` (and `because` with explain) to
 * every record of the frame, keeping its other fields */
int cf_rec_frame(void *r, struct pmap_task *t, const pea_frame *in, pea_fb *out);
/* history items the model did not know (left out of the scores) */
uint64_t cf_rec_unknown(const struct cf_rec *r);
/* The k items most like `item` as one record (item, recs, scores); -1
 * with the reason in e. */
int cf_similar_record(const struct cfm *m, const char *item, int64_t k, pea_fb *fb, struct pea_err *e);

/* The k best of n scores (highest first, ties by lower id), skipping
 * -INFINITY; returns how many. */
int cf_top(const float *s, uint32_t n, int k, uint32_t *ids, float *vals);

#endif
