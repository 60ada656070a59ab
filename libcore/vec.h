/* vec.h - tokens into sparse feature vectors: the hashing trick (XXH3,
 * signed, one namespace per field) or a vocabulary; counts, binary,
 * sublinear tf, tf-idf and BM25 weights; l1/l2 normalization; numeric
 * fields as features; the vectorizer model and the feature-names file.
 *
 * A struct vec is the settings plus what a model adds (document
 * frequencies, the vocabulary); it is read-only while records are
 * vectorized, so threads share it, each with its own struct vec_thread.
 * Fitting gathers counts per thread (struct vec_fit) and merges them once
 * at the end, so the stream is never held in memory.  The file formats are
 * model containers (model.h); man/pea-vectorize.1 documents them. */
#ifndef PEA_VEC_H
#define PEA_VEC_H

#include "cli.h"
#include "err.h"
#include "frame.h"

#include <stdint.h>

enum vec_weight { VEC_COUNT, VEC_BINARY, VEC_LOG, VEC_TFIDF, VEC_BM25 };
enum vec_norm { VEC_NORM_NONE, VEC_NORM_L1, VEC_NORM_L2 };

#define VEC_MAX_FIELDS 64
#define VEC_DEFAULT_BITS 20

struct vec_opts {
	int vocab;		 /* vocabulary instead of hashing */
	int bits;		 /* hashing: 2^bits features, 1..31 */
	int unsigned_hash;	 /* hashing: no sign */
	struct cli_list fields;	 /* token fields, one namespace each */
	struct cli_list numeric; /* numeric fields (int, float, bool, dense) */
	enum vec_weight weight;
	int sublinear;		 /* tf-idf with 1 + log tf */
	enum vec_norm norm;
	double k1, b;		 /* BM25 */
	double min_df, max_df;	 /* vocabulary: < 1 a fraction of documents, else a count */
	uint64_t max_features;	 /* vocabulary: keep the most frequent terms; 0 = all */
};

/* the inputs of one record: a value (or NULL) per token field, and per
 * numeric field; the caller has checked their types */
struct vec_rec {
	const pea_val *const *tok;
	const pea_val *const *num;
};

struct vec;
/* Hashing with the given settings (no document frequencies). */
struct vec *vec_new(const struct vec_opts *o, struct pea_err *e);
/* A vectorizer model file (as --fit writes). */
struct vec *vec_load(const char *path, struct pea_err *e);
/* The same from the file's bytes in memory (copied). */
struct vec *vec_from_bytes(const void *p, size_t n, struct pea_err *e);
void vec_free(struct vec *v);
const struct vec_opts *vec_options(const struct vec *v);
/* The feature space, exactly: "hash:xxh3:bits=20:signed:f=tokens:w=count:n=none"
 * without a model, "vec:<16 hex digits of the model's digest>" with one. */
const char *vec_fspace(const struct vec *v);
/* the weighting needs document frequencies that v does not have */
int vec_needs_df(const struct vec *v);
/* number of features (2^bits, or the vocabulary plus numeric features) */
uint64_t vec_dim(const struct vec *v);

struct vec_thread;
struct vec_thread *vec_thread_new(const struct vec *v, int names);
void vec_thread_free(struct vec_thread *t);
/* The vector of a record, valid until the next call.  Returns -1 with the
 * reason in e (a dense field of the wrong length). */
int vec_apply(struct vec_thread *t, const struct vec_rec *r, const uint32_t **idx, const float **val,
	      uint32_t *n, struct pea_err *e);

/* ---- fitting ---- */
struct vec_fit;
struct vec_fit *vec_fit_new(const struct vec_opts *o, int threads);
void vec_fit_free(struct vec_fit *f);
int vec_fit_rec(struct vec_fit *f, int thread, const struct vec_rec *r, struct pea_err *e);
/* Select the vocabulary, write the model atomically; dies on I/O errors.
 * Returns -1 (reason in e) when nothing is left to write. */
int vec_fit_write(struct vec_fit *f, const char *path, struct pea_err *e);

/* ---- feature names ---- */
/* Write the names seen by the threads (hashing) or the vocabulary's, as a
 * feature-names file, atomically.  At most `per` names a feature, the most
 * frequent first. */
void vec_names_write(const struct vec *v, struct vec_thread *const *t, int nt, int per, const char *path);
struct vec_names;
struct vec_names *vec_names_open(const char *path, struct pea_err *e);
void vec_names_close(struct vec_names *n);
const char *vec_names_fspace(const struct vec_names *n);
/* the names of a feature, '\n'-separated, or NULL */
const char *vec_names_get(const struct vec_names *n, uint32_t index, size_t *len);
/* whether the names carry signs (signed hashing) */
int vec_names_signed(const struct vec_names *n);
/* The sign of each name of a feature, in the same order: -1 where signed
 * hashing subtracts the token's count from the feature (so a weight w of
 * the feature is -w for that token), else +1.  NULL when every name of the
 * file adds (vocabularies, unsigned hashing). */
const int8_t *vec_names_signs(const struct vec_names *n, uint32_t index, uint32_t *count);

/* Print a model or names file readably (--show). */
void vec_show(const char *path, struct buf *out);

#endif
