/* fuzz-model - every reader of model files on whole files: the container
 * (magic, table, digest), then the classifier, recommender and vectorizer
 * loaders, and the signature check.  The seeds are real small models of
 * each kind (signed, too) with truncated and bit-flipped copies beside
 * them.  Section contents under a valid digest are fuzzed by fuzz-vecmodel
 * (vectorizers) and the unit tests' damaged sections. */
#include "algo.h"
#include "cf.h"
#include "model.h"
#include "sign.h"
#include "vec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pk[SIGN_PK] = {1, 2, 3};
	struct pea_err e;
	struct model *m = model_from_bytes(data, size, &e);
	if (!m)
		return 0; /* the container refused it: every reader would */
	(void)sign_verify(m, pk, &e);
	char fp[17];
	(void)sign_signer(m, fp);
	model_close(m);
	struct amodel *a = am_from_bytes(data, size, &e);
	am_free(a);
	struct cfm *c = cf_from_bytes(data, size, &e);
	cf_close(c);
	struct vec *v = vec_from_bytes(data, size, &e);
	vec_free(v);
	return 0;
}
