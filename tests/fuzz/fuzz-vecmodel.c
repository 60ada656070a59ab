/* fuzz-vecmodel - vectorizer models from arbitrary sections: the input,
 * cut at each "|~|", gives the meta JSON and the df, toff, terms and tns
 * sections of a container with a valid digest, so the loader's own checks
 * are what is tried; a model that loads must vectorize a record. */
#include "model.h"
#include "vec.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static pea_frame *f;
	static const pea_val *tok[VEC_MAX_FIELDS], *num[4096];
	static const char *const names[] = {"meta", "df", "toff", "terms", "tns"};
	struct pea_err e;
	if (!f) {
		pea_fb *fb = fb_new();
		int ft = fb_xfield(fb, "tokens", PEA_STRLIST), fd = fb_xfield(fb, "x", PEA_DENSE);
		float x[3] = {1, 0, 2};
		fb_begin(fb);
		fb_list_begin(fb, ft, PEA_STRLIST);
		fb_list_str(fb, "a", 1);
		fb_list_str(fb, "b", 1);
		fb_list_str(fb, "a", 1);
		fb_list_end(fb);
		fb_dense(fb, fd, x, 3);
		fb_end(fb);
		f = frame_new();
		fb_to_frame(fb, f);
		fb_free(fb);
		for (int i = 0; i < VEC_MAX_FIELDS; i++)
			tok[i] = frame_get(f, 0, 0);
		for (int i = 0; i < 4096; i++)
			num[i] = frame_get(f, 0, 1);
	}
	struct model_writer *w = mw_new();
	size_t pos = 0;
	for (int k = 0; k < 5 && pos <= size; k++) {
		const uint8_t *end = NULL;
		for (size_t i = pos; i + 3 <= size; i++)
			if (!memcmp(data + i, "|~|", 3)) {
				end = data + i;
				break;
			}
		size_t n = end ? (size_t)(end - data) - pos : size - pos;
		mw_add(w, names[k], data + pos, n);
		pos += n + 3;
	}
	uint8_t *bytes;
	size_t nb;
	mw_bytes(w, &bytes, &nb);
	mw_free(w);
	struct vec *v = vec_from_bytes(bytes, nb, &e);
	free(bytes);
	if (!v)
		return 0;
	struct vec_thread *t = vec_thread_new(v, 1);
	struct vec_rec r = {tok, num};
	const uint32_t *idx;
	const float *val;
	uint32_t n;
	if (!vec_apply(t, &r, &idx, &val, &n, &e)) {
		for (uint32_t i = 0; i < n; i++)
			if (idx[i] >= vec_dim(v) || (i && idx[i] <= idx[i - 1]))
				abort();
	}
	vec_thread_free(t);
	vec_free(v);
	return 0;
}
