/* mf.c - see mf.h. */
#include "mf.h"
#include "dense.h"

#include <math.h>

void mf_save(struct model_writer *w, float *U, float *V, float *bias, int k, uint32_t nusers, uint32_t nitems,
	     int threads)
{
	float *gram = xmalloc(xmul((size_t)k * k, 4));
	dense_gram(V, nitems, k, threads, gram);
	mw_add_owned(w, "mf.user", U, (size_t)nusers * k * 4);
	mw_add_owned(w, "mf.item", V, (size_t)nitems * k * 4);
	mw_add_owned(w, "mf.gram", gram, (size_t)k * k * 4);
	if (bias)
		mw_add_owned(w, "mf.bias", bias, (size_t)nitems * 4);
}

static int finite_all(const float *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(p[i]))
			return 0;
	return 1;
}

int mf_load(const struct cfm *m, struct mf *f, int with_bias, struct pea_err *e)
{
	double k = cf_setting(m, "factors", 0);
	if (!(k >= 1 && k <= MF_MAX_FACTORS) || k != floor(k)) {
		err_set(e, "the model's factor count is missing or out of range");
		return -1;
	}
	f->k = (int)k;
	size_t nu = (size_t)m->nusers * f->k, nv = (size_t)m->nitems * f->k;
	if (!(f->U = cf_section(m, "mf.user", nu * 4, e)) || !(f->V = cf_section(m, "mf.item", nv * 4, e)) ||
	    !(f->gram = cf_section(m, "mf.gram", (size_t)f->k * f->k * 4, e)))
		return -1;
	f->bias = NULL;
	if (with_bias && !(f->bias = cf_section(m, "mf.bias", (size_t)m->nitems * 4, e)))
		return -1;
	if (!finite_all(f->U, nu) || !finite_all(f->V, nv) || !finite_all(f->gram, (size_t)f->k * f->k) ||
	    (f->bias && !finite_all(f->bias, m->nitems))) {
		err_set(e, "the model's factors are not all finite numbers");
		return -1;
	}
	return 0;
}

void mf_score(const struct cfm *m, const struct mf *f, const struct cf_query *q, int nq, float *s, mf_fold_fn fold)
{
	int k = f->k;
	float *Q = xmalloc(xmul((size_t)nq * k, 4));
	for (int j = 0; j < nq; j++) {
		if (q[j].fold || q[j].user < 0)
			fold(m, &q[j], Q + (size_t)j * k);
		else
			memcpy(Q + (size_t)j * k, f->U + (size_t)q[j].user * k, (size_t)k * 4);
	}
	if (m->nitems)
		dense_gemm(0, 1, nq, (int)m->nitems, k, 1.0f, Q, k, f->V, k, 0.0f, s, (int)m->nitems);
	if (f->bias)
		for (int j = 0; j < nq; j++)
			for (uint32_t i = 0; i < m->nitems; i++)
				s[(size_t)j * m->nitems + i] += f->bias[i];
	free(Q);
}

void mf_similar(const struct cfm *m, const struct mf *f, uint32_t item, float *s)
{
	int k = f->k;
	const float *v = f->V + (size_t)item * k;
	float nv = sqrtf(mf_dot(v, v, k));
	for (uint32_t i = 0; i < m->nitems; i++) {
		const float *y = f->V + (size_t)i * k;
		float d = sqrtf(mf_dot(y, y, k)) * nv;
		s[i] = d > 0 ? mf_dot(v, y, k) / d : 0;
	}
}
