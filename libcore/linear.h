/* linear.h - the linear model that logreg, svm and naive Bayes all predict
 * with: scores s = x W + b, then probabilities.
 *
 * W is stored feature-major (row j holds the ncol weights of feature j), so
 * a sparse record touches one short contiguous row per feature: the access
 * pattern that makes classification fast.  A two-label model that is not
 * multi-label has one column, the score of the second label (probabilities
 * sigmoid(s) and 1 - sigmoid(s)); otherwise a column per label, turned into
 * probabilities by softmax (one label per record) or by a sigmoid per label
 * (multi-label). */
#ifndef PEA_LINEAR_H
#define PEA_LINEAR_H

#include "algo.h"

struct linear {
	uint32_t dim, ncol;
	const float *w; /* dim x ncol */
	const float *b; /* ncol */
	float *own;	/* when w and b are in memory we own: w, then b */
};

/* columns a model of these labels needs */
static inline uint32_t lin_ncol(int nlabels, int multilabel)
{
	return nlabels == 2 && !multilabel ? 1 : (uint32_t)nlabels;
}
/* a zeroed model owned in memory */
void lin_alloc(struct linear *l, uint32_t dim, uint32_t ncol);
void lin_release(struct linear *l);
/* s[c] = b[c] + x . W[:, c] */
void lin_scores(const struct linear *l, const struct ds_x *x, double *s);
/* scores of lin_scores -> probabilities of the nlabels labels, in place
 * (s must have room for nlabels values) */
void lin_probs(uint32_t ncol, int nlabels, int multilabel, double *s);
/* sections "weights" and "bias" */
void lin_save(const struct linear *l, struct model_writer *w);
int lin_load(struct linear *l, const struct model *file, uint32_t dim, uint32_t ncol, struct pea_err *e);
/* the heaviest features of a label (dir 1) or its most negative ones (dir
 * -1, their weights negated): for softmax models each row is first centred
 * (adding a constant to a row changes no prediction), for the one column of
 * a binary model label 0 takes the most negative weights */
int lin_top(const struct linear *l, int nlabels, int multilabel, int label, int dir, int k, uint32_t *idx,
	    float *w);
/* out = sum of weight[i] * in[i], over models of equal ncol (dims may differ) */
void lin_average(struct linear *out, const struct linear *const *in, const double *weight, int n);

/* the common struct algo entries of algorithms whose st is a struct linear */
void lin_algo_predict(const struct amodel *m, const struct ds_x *x, double *probs);
int lin_algo_top(const struct amodel *m, int label, int dir, int k, uint32_t *idx, float *w);
void lin_algo_release(struct amodel *m);
int lin_algo_load(struct amodel *m, struct json_object *meta, struct pea_err *e);
void lin_algo_save(const struct amodel *m, struct model_writer *w, struct json_object *meta);
/* weighted parameter averaging, by records trained on */
int lin_algo_merge(struct amodel *out, struct amodel *const *in, int n, struct pea_err *e);
/* Several ranks: the rows of a state of dim rows and a bias row (dim), by
 * who can change them.  A step moves the rows of its record's features
 * only, so after an epoch the rows of features several ranks' records have,
 * and the bias, can differ between the ranks: a sync combines those (mix;
 * every rank keeps them, dist_features, in the same order).  A row of a
 * feature only this rank's records have (mine) is its alone: no other rank
 * keeps it, so it stays here, and a snapshot takes the others' from
 * lin_collect.  On SpamAssassin split in two, 39 % of the rows are mixed. */
struct lin_rows {
	uint32_t *mix; /* ascending, the bias row last */
	size_t nmix;
	uint32_t *mine; /* ascending */
	size_t nmine;
};
/* the rows of the features of f's records, numbered as the table's dim rows */
void lin_rows_init(struct lin_rows *r, const struct fit *f, uint32_t dim);
void lin_rows_free(struct lin_rows *r);
/* The rows only one rank has, from every rank: each a feature (the model's
 * number) and the row of row bytes. */
struct lin_got {
	struct buf b;
	size_t row;
};
void lin_collect(const struct lin_rows *r, const struct fit *f, const void *table, size_t row, struct lin_got *got);
/* entry i of n = got->b.len / (4 + got->row): its row, *feature its number */
const void *lin_got_row(const struct lin_got *got, size_t i, uint32_t *feature);
size_t lin_got_count(const struct lin_got *got);

#endif
