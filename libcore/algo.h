/* algo.h - the interface every learning algorithm implements, and the
 * trained model (struct amodel) that all of them share.
 *
 * An algorithm is one file, libcore/algo_NAME.c, defining a `struct algo`
 * and listed in algo.c's registry; pea-train, pea-classify and
 * `pea-train --merge/--show` reach it only through this table, so a new
 * algorithm plugs in without touching a command.
 *
 * Training.  learn_fit() (learn.h) loads nothing itself: it gets a dataset
 * (dataset.h), fills a `struct fit`, then calls
 *     st = begin(fit)                  set up (warm-started from fit->init)
 *     epoch(st, fit, e, &loss)         one pass; returns 1 when converged
 *     snapshot(st, fit, model)         the model as it stands (for
 *                                      validation, early stopping, the end)
 *     end(st)
 * The driver owns epochs, the holdout figures, early stopping, per-label
 * thresholds and the progress line.  An algorithm must give the same
 * bytes for the same seed at any fit->threads: parallelize over labels,
 * over decoded blocks with an ordered reduction, or not at all.
 *
 * Models.  A model file is the container of model.h: section "meta" (JSON:
 * kind, algorithm, labels, feature space, settings) written by am_save,
 * plus the algorithm's own sections (save/load).  load() must check every
 * size it reads against the meta (a model file is input like any other)
 * and keep pointers into the mapped file rather than copy.  predict() is
 * called from many threads at once on one model.  merge() combines models
 * of the same algorithm trained on different shards; top() lists the
 * heaviest features of a label for --show.
 *
 * Recommenders (kind "recommender") will share the container, the dataset
 * and the training driver, and add their own prediction entry points. */
#ifndef PEA_ALGO_H
#define PEA_ALGO_H

#include "cli.h"
#include "dataset.h"
#include "model.h"

#include <math.h>
#include <stdio.h>

struct json_object;

/* Hyperparameters.  Unset ones (NAN, NULL, 0) take the algorithm's
 * default; each algorithm refuses the ones that mean nothing to it. */
struct algo_params {
	double lr, l1, l2, cost, alpha, tol;
	const char *loss, *schedule;
	int complement;
	/* networks (mlp, cnn) */
	const char *net, *optim, *shape;
	double momentum, wd;
	int64_t batch, augment;
	int flip;
};
#define ALGO_PARAMS_INIT {NAN, NAN, NAN, NAN, NAN, NAN, NULL, NULL, 0, NULL, NULL, NULL, NAN, NAN, 0, -1, 0}
#define CLI_OPTS_ALGO(p)                                                                                     \
	{0, "lr", CLI_DBL, &(p).lr, "RATE", "logreg: learning rate (default 0.5); bpr: (default 0.1)"},     \
	{0, "schedule", CLI_STR, &(p).schedule, "S", "logreg: adagrad (default), linear or constant rates"}, \
	{0, "l2", CLI_DBL, &(p).l2, "L", "logreg: L2 penalty per update (default 0)"},                        \
	{0, "l1", CLI_DBL, &(p).l1, "L", "logreg: L1 penalty, trained by FTRL-proximal (sparse model)"},      \
	{'C', "cost", CLI_DBL, &(p).cost, "C", "svm: cost of a margin error, as LIBLINEAR -c (default 1)"},   \
	{0, "loss", CLI_STR, &(p).loss, "L", "svm: squared-hinge (default) or hinge"},                         \
	{0, "tol", CLI_DBL, &(p).tol, "EPS", "svm: stop when the projected gradient spans < EPS (default 0.1)"}, \
	{0, "alpha", CLI_DBL, &(p).alpha, "A", "nb: additive smoothing (default 1); als: confidence 1 + A * weight (default 20)"}, \
	{0, "complement", CLI_FLAG, &(p).complement, NULL, "nb: complement naive Bayes"},                    \
	{0, "net", CLI_STR, &(p).net, "SPEC", "mlp, cnn: layers, e.g. conv3x3:32,relu,maxpool2,fc:128,relu,fc"}, \
	{0, "optim", CLI_STR, &(p).optim, "NAME", "mlp, cnn: adam (default) or sgd (with --momentum)"},       \
	{0, "batch", CLI_INT, &(p).batch, "N", "mlp, cnn: examples per mini-batch (default 64)"},           \
	{0, "momentum", CLI_DBL, &(p).momentum, "M", "mlp, cnn: momentum of sgd (default 0.9)"},              \
	{0, "wd", CLI_DBL, &(p).wd, "D", "mlp, cnn: weight decay (default 0)"},                              \
	{0, "augment", CLI_INT, &(p).augment, "N", "cnn: shift training images by up to N pixels (default 0)"}, \
	{0, "flip", CLI_FLAG, &(p).flip, NULL, "cnn: also flip training images left to right"},             \
	{0, "shape", CLI_STR, &(p).shape, "CxHxW", "mlp, cnn: geometry of dense inputs (default: square, 1 or 3 channels)"}

/* A trained model in memory, loaded or just trained. */
struct amodel {
	const struct algo *algo;
	char **labels; /* sorted, distinct */
	int nlabels;
	int multilabel;	    /* labels are independent yes/no decisions */
	int dense;	    /* input is a dense vector of dim values */
	uint32_t dim;	    /* sparse: indices at or above dim weigh nothing */
	int shape[3];	    /* dense images: channels, height, width (0: not images) */
	char *fspace;	    /* the feature space the records named, or NULL */
	double *thresholds; /* multi-label: per label, on probs */
	uint64_t nrec;	    /* records trained on (the weight in merging) */
	struct json_object *settings; /* what it was trained with, as stored */
	void *st;	    /* the algorithm's part */
	struct model *file; /* the mapped file when loaded */
};

struct fit {
	const struct dataset *train, *valid; /* valid may be NULL */
	const struct amodel *init;	     /* warm start, or NULL */
	const int *init_map;		     /* init's label i is label init_map[i] */
	const struct algo_params *p;
	int threads, epochs, balanced;
	uint64_t seed;
	int nlabels, multilabel, dense;
	uint32_t dim;
	/* the training set's feature k is the model's feature feat[k], k <
	 * nfeat (learn.c numbers them so for algorithms with .compact); NULL:
	 * the model's numbers, nfeat == dim */
	const uint32_t *feat;
	uint32_t nfeat;
	const double *cw; /* per label weight (--balanced), or NULL */
	char err[512];	  /* begin() returns NULL with the reason here */
};

/* the model's number of the training set's feature k (struct fit's feat) */
static inline uint32_t fit_feature(const struct fit *f, uint32_t k)
{
	return f->feat ? f->feat[k] : k;
}

struct algo {
	const char *name, *summary;
	int epochs; /* default number of passes */
	/* a state of a row per feature, over and over: train on the features
	 * the data has, numbered 0..nfeat (struct fit), when there is no warm
	 * start and the data is sparse */
	int compact;
	void *(*begin)(struct fit *f);
	int (*epoch)(void *st, const struct fit *f, int e, double *loss);
	void (*snapshot)(void *st, const struct fit *f, struct amodel *m);
	void (*end)(void *st);
	/* settings worth storing in the model (already validated by begin) */
	void (*settings)(const struct fit *f, struct json_object *o);
	void (*save)(const struct amodel *m, struct model_writer *w, struct json_object *meta);
	int (*load)(struct amodel *m, struct json_object *meta, struct pea_err *e);
	/* probs: m->nlabels values */
	void (*predict)(const struct amodel *m, const struct ds_x *x, double *probs);
	/* optional: n records at once (probs: n rows of m->nlabels), for
	 * algorithms whose cost falls when records are batched (networks) */
	void (*predict_batch)(const struct amodel *m, const struct ds_x *x, int n, double *probs);
	int (*merge)(struct amodel *out, struct amodel *const *in, int n, struct pea_err *e);
	/* optional: training on several ranks (dist.h).  Called on every rank
	 * after each epoch, it combines the ranks' states with the collective
	 * steps of dist.h so that every rank holds the same model; without it
	 * the algorithm trains on one rank only */
	void (*sync)(void *st, const struct fit *f);
	/* optional, with sync: when some of the state is on one rank only
	 * (the rows of linear.h's struct lin_rows that one rank's records
	 * have), bring it to every rank for the snapshot that follows.  Called
	 * on every rank, after a sync */
	void (*collect)(void *st, const struct fit *f);
	/* the k heaviest features for a label, heaviest first (dir 1), or its
	 * k most negative ones with their weights negated (dir -1), only those
	 * above 0 either way; returns how many */
	int (*top)(const struct amodel *m, int label, int dir, int k, uint32_t *idx, float *w);
	void (*release)(struct amodel *m);
};

const struct algo *algo_find(const char *name);
/* For begin(): 0, or -1 with the message in f->err when a hyperparameter
 * was given that is not in `allowed` (names as the options: "lr,l1,l2"). */
int algo_check_params(struct fit *f, const char *algo, const char *allowed);
/* "nb, logreg, svm", for messages */
const char *algo_names(void);

/* ---- models ---- */
struct amodel *am_new(void);
void am_free(struct amodel *m);
void am_save(const struct amodel *m, const char *path);
/* the file as bytes (tests, merging) */
void am_bytes(const struct amodel *m, uint8_t **p, size_t *n);
/* Map and check a model; NULL with the reason in e (the caller names the
 * file). */
struct amodel *am_open(const char *path, struct pea_err *e);
struct amodel *am_from_bytes(const void *p, size_t n, struct pea_err *e);
/* Combine models of one algorithm, labels and feature space. */
struct amodel *am_merge(struct amodel *const *in, int n, struct pea_err *e);
/* Print the meta and the top features per label; `names` (a feature-names
 * file of pea-vectorize, vec.h) names them (NULL: indices only). */
struct vec_names;
void am_show(const struct amodel *m, const struct vec_names *names, int k, FILE *out);
/* the label whose probability the binary threshold applies to */
static inline int am_positive(const struct amodel *m) { return m->nlabels == 2 ? 1 : -1; }

#endif
