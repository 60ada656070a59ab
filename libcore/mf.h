/* mf.h - what the matrix-factorisation recommenders (ALS, BPR) share: a
 * user and an item factor matrix in the model, scoring a batch of users
 * as one matrix product, item similarity as the cosine of item factors.
 *
 * Sections: mf.user (users x k float32), mf.item (items x k), mf.gram
 * (k x k: item factors' Gram matrix, so a fold-in costs no pass over the
 * items), and for BPR mf.bias (one float per item).  k is the model's
 * "factors" setting. */
#ifndef PEA_MF_H
#define PEA_MF_H

#include "cf.h"

#define MF_MAX_FACTORS 1024

struct mf {
	int k;
	const float *U, *V, *gram, *bias; /* bias may be NULL */
};

/* Add the factors (taken: the writer frees them) and their Gram matrix. */
void mf_save(struct model_writer *w, float *U, float *V, float *bias, int k, uint32_t nusers, uint32_t nitems,
	     int threads);
/* Check and view the sections of m. */
int mf_load(const struct cfm *m, struct mf *f, int with_bias, struct pea_err *e);
/* A user vector for a query the model has no row for (or whose history
 * came with the record). */
typedef void (*mf_fold_fn)(const struct cfm *m, const struct cf_query *q, float *x);
void mf_score(const struct cfm *m, const struct mf *f, const struct cf_query *q, int nq, float *s, mf_fold_fn fold);
/* cosine of every item's factors with the item's */
void mf_similar(const struct cfm *m, const struct mf *f, uint32_t item, float *s);
/* 16-lane dot product: vectorised without reordering, so every build and
 * every thread gets the same bits */
static inline float mf_dot(const float *a, const float *b, int k)
{
	float acc[16] = {0};
	int j = 0;
	for (; j + 16 <= k; j += 16)
		for (int l = 0; l < 16; l++)
			acc[l] += a[j + l] * b[j + l];
	for (; j < k; j++)
		acc[j & 15] += a[j] * b[j];
	/* a fixed tree, spelled out so it compiles to shuffles */
	for (int l = 0; l < 8; l++)
		acc[l] += acc[l + 8];
	for (int l = 0; l < 4; l++)
		acc[l] += acc[l + 4];
	for (int l = 0; l < 2; l++)
		acc[l] += acc[l + 2];
	return acc[0] + acc[1];
}

#endif
