/* learn.h - the training driver every algorithm runs under (see algo.h for
 * the algorithm's side).
 *
 * learn_fit() checks the data against a warm-start model, merges their
 * labels, weighs classes (--balanced), runs the epochs, measures the
 * validation set after each one (a line on stderr), stops early when the
 * validation loss has not improved for `patience` epochs (keeping the best
 * model seen), picks per-label thresholds for multi-label models on the
 * validation set, and shows a progress line on a terminal. */
#ifndef PEA_LEARN_H
#define PEA_LEARN_H

#include "algo.h"

struct learn_opts {
	const struct algo_params *params;
	int epochs;   /* 0: the algorithm's default */
	int patience; /* 0: no early stopping */
	int threads;
	int balanced;
	int quiet;
	uint64_t seed;
	double holdout; /* recorded in the settings */
	const char *checkpoint; /* write the model here after every epoch, or NULL */
	double *per_epoch; /* if not NULL, gets the mean seconds an epoch took (its
			    * sums between ranks, validation and checkpoint in it) */
};

/* Train on train (validation on valid, which may be NULL), starting from
 * init (may be NULL; its labels are merged into the dataset's).  NULL with
 * the reason in e on a problem with the data or the options. */
struct amodel *learn_fit(const struct algo *a, struct dataset *train, const struct dataset *valid,
			 const struct amodel *init, const struct learn_opts *o, struct pea_err *e);

/* Mean loss (log loss; per label for multi-label) and accuracy (exact set
 * match for multi-label, at the model's thresholds or 0.5) of m on ds;
 * deterministic at any thread count. */
void learn_score(const struct amodel *m, const struct dataset *ds, int threads, double *loss, double *acc);

#endif
