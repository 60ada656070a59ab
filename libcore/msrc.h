/* msrc.h - where models come from: the one way every command opens a model
 * named by -m/--model (or --init, --merge, --show...).
 *
 * A local path is mapped (model.h).  With --verify PUBKEY the model must
 * carry a valid signature by that key (sign.h), checked before anything in
 * it is used. */
#ifndef PEA_MSRC_H
#define PEA_MSRC_H

#include "model.h"

struct msrc_opts {
	const char *verify; /* public key file, or NULL */
};

#define CLI_OPTS_MODEL_SOURCE(ms) \
	{0, "verify", CLI_STR, &(ms).verify, "PUBKEY", "refuse a model that is not signed by this key"}

/* Load the options' keys once, after option parsing; dies on a bad key file. */
void msrc_configure(const struct msrc_opts *o);
/* Open and check a model; NULL with the reason in e. */
struct model *msrc_open(const char *spec, struct pea_err *e);

#endif
