/* msrc.c - see msrc.h. */
#include "msrc.h"
#include "sign.h"

static int have_key;
static uint8_t verify_pk[SIGN_PK];

void msrc_configure(const struct msrc_opts *o)
{
	struct pea_err e;
	if (o->verify) {
		if (key_load_public(o->verify, verify_pk, &e))
			die("%s", e.msg);
		have_key = 1;
	}
}

struct model *msrc_open(const char *spec, struct pea_err *e)
{
	struct model *m = model_open(spec, e);
	if (m && have_key && sign_verify(m, verify_pk, e)) {
		model_close(m);
		return NULL;
	}
	return m;
}
