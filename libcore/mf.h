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
/* Sixteen floats as one value, so that products over factor rows are
 * vector code in every build (no auto-vectoriser needed) and sum in a
 * fixed order: the same bits on every thread.  Loads and stores go through
 * memcpy, so rows need no alignment. */
typedef float mf_v16 __attribute__((vector_size(64)));

/* (macros, not functions: a vector passed by value changes the calling
 * convention between the target clones) */
#define MF_VLOAD(p) ({ mf_v16 v_; memcpy(&v_, (p), sizeof v_); v_; })
#define MF_VSTORE(p, v) do { mf_v16 v_ = (v); memcpy((p), &v_, sizeof v_); } while (0)

/* the lanes of *v added in a fixed tree */
static inline float mf_hsum(const mf_v16 *v)
{
	float t[8];
	for (int l = 0; l < 8; l++)
		t[l] = (*v)[l] + (*v)[l + 8];
	return ((t[0] + t[4]) + (t[2] + t[6])) + ((t[1] + t[5]) + (t[3] + t[7]));
}

static inline float mf_dot(const float *a, const float *b, int k)
{
	mf_v16 acc = {0};
	int j = 0;
	for (; j + 16 <= k; j += 16)
		acc += MF_VLOAD(a + j) * MF_VLOAD(b + j);
	float s = mf_hsum(&acc);
	for (; j < k; j++)
		s += a[j] * b[j];
	return s;
}

#endif
