/* sign.h - Ed25519 signatures of model files (libsodium).
 *
 * A signed model carries a last section "signature": the signer's public
 * key (32 bytes) and an Ed25519 signature (64 bytes) of the BLAKE2b-256
 * digest of every other section, each taken as its 16-byte name field, its
 * size (8 bytes, little-endian) and its bytes, in file order.  So a model is
 * signed once, when written, and checked wherever it is loaded, whatever
 * path or cache it came through.
 *
 * Key files are one line of text: "pea-ed25519-secret-key BASE64" (the
 * 64-byte libsodium secret key, file mode 0600) or "pea-ed25519-public-key
 * BASE64" (32 bytes).  Secret keys are never printed. */
#ifndef PEA_SIGN_H
#define PEA_SIGN_H

#include "err.h"
#include "model.h"

#define SIGN_PK 32
#define SIGN_SK 64
#define SIGN_SECTION "signature"

/* Create PATH (secret) and PATH.pub; refuses to overwrite. */
int key_generate(const char *path, struct pea_err *e);
int key_load_secret(const char *path, uint8_t sk[SIGN_SK], struct pea_err *e);
/* a public key file, or the public half of a secret key file */
int key_load_public(const char *path, uint8_t pk[SIGN_PK], struct pea_err *e);
/* 16 hex digits naming a public key */
void key_fingerprint(const uint8_t pk[SIGN_PK], char out[17]);

/* Add the signature section to a model being written. */
void sign_writer(struct model_writer *w, const uint8_t sk[SIGN_SK]);
/* Sign every model this process writes (pea-train --sign): mw_write calls
 * sign_writer with this key. */
void sign_all_with(const uint8_t sk[SIGN_SK]);
const uint8_t *sign_default_key(void);

/* 0 when m is signed by pk and unchanged since; otherwise -1 and why. */
int sign_verify(const struct model *m, const uint8_t pk[SIGN_PK], struct pea_err *e);
/* The signer's fingerprint, or NULL when the model is not signed. */
int sign_signer(const struct model *m, char fp[17]);

/* A short statement signed as it is (a manifest's, msrc.h): Ed25519 over
 * its bytes. */
#define SIGN_BYTES 64
void sign_statement(const uint8_t sk[SIGN_SK], const void *msg, size_t n, uint8_t sig[SIGN_BYTES]);
/* 0 when sig is pk's signature of msg */
int sign_statement_check(const uint8_t pk[SIGN_PK], const void *msg, size_t n, const uint8_t sig[SIGN_BYTES]);

#endif
