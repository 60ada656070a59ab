/* dataset.h - a training set held in memory as compressed blocks, so that
 * many epochs over a piped input cost little memory.
 *
 * Loading (ds_load) reads any pea input on every core (pmap): each record's
 * feature vector goes, in a compact form (about 3 bytes a nonzero for text;
 * dense blocks are zstd-compressed), into a block of about 1 MiB of decoded
 * vectors, in input order; its labels (as ids into a sorted table of names)
 * and weight stay uncompressed beside the blocks (8 bytes a record).  A
 * learner then decodes blocks one at a time with a cursor, in any order, on
 * any thread.  The layout depends only on the sequence of records, never on
 * how the input was cut into frames or on the thread count, so the same
 * seed walks the same records in the same order everywhere.
 *
 * Records need a feature vector (`features`, sparse, or `dense`; -f picks
 * another field) and, for supervised learning, `label` (a string) or
 * `labels` (a list: multi-label); `weight` (a number >= 0) is optional and
 * `fspace` names the feature space (all records must agree).  With a
 * holdout fraction, records whose content hash (of `id`, or of the feature
 * vector) falls under it form a second, validation dataset: the same
 * record is held out on every run, whatever its position.
 *
 * Algorithms that need random access over the whole set (dual coordinate
 * descent, ALS, EASE) explode it into a CSR matrix with ds_to_csr. */
#ifndef PEA_DATASET_H
#define PEA_DATASET_H

#include "input.h"

struct ds_opts {
	const char *field;  /* feature field; NULL: `features`, or `dense` when absent */
	int need_labels;    /* every record must have label or labels */
	double holdout;     /* fraction of records for validation (0: none) */
	uint64_t seed;      /* of the holdout hash */
	int threads;
	int quiet;          /* no progress line while reading */
};

struct dataset;

/* One record's features: sparse (idx != NULL: n strictly increasing
 * indices and their values) or dense (idx == NULL: n == dim values). */
struct ds_x {
	const uint32_t *idx;
	const float *val;
	uint32_t n;
};

/* Read every record of in; dies with the record's place on bad input.
 * *valid is NULL without a holdout; it shares the label table of *train
 * and is freed with it. */
void ds_load(pea_in *in, const struct ds_opts *o, struct dataset **train, struct dataset **valid);
void ds_free(struct dataset *ds);

uint64_t ds_nrec(const struct dataset *ds);
size_t ds_nblocks(const struct dataset *ds);
/* compressed bytes held */
size_t ds_bytes(const struct dataset *ds);
int ds_dense(const struct dataset *ds);
/* sparse: 1 + the largest index seen (0 when empty); dense: the length */
uint32_t ds_dim(const struct dataset *ds);
/* the feature space named by the records' fspace field, or NULL */
const char *ds_fspace(const struct dataset *ds);
/* whether the labels came as lists (labels) */
int ds_multilabel(const struct dataset *ds);

/* Label names, sorted (bytewise).  ds_relabel maps the ids onto `names`,
 * a sorted list that holds every name of the dataset (a model's labels
 * merged with the data's, for warm starts); it renumbers the validation
 * set too. */
int ds_nlabels(const struct dataset *ds);
const char *ds_label(const struct dataset *ds, int i);
void ds_relabel(struct dataset *ds, char *const *names, int n);
/* the label ids of record r (sorted, distinct) */
const uint32_t *ds_y(const struct dataset *ds, uint64_t r, uint32_t *n);
float ds_weight(const struct dataset *ds, uint64_t r);

/* Decoding blocks: one cursor per thread. */
struct ds_cursor;
struct ds_cursor *ds_cursor_new(void);
void ds_cursor_free(struct ds_cursor *c);
/* Decode block b; returns its record count.  Its records are then
 * ds_first(ds, b) + i, for i below the count. */
uint32_t ds_decode(struct ds_cursor *c, const struct dataset *ds, size_t b);
uint64_t ds_first(const struct dataset *ds, size_t b);
void ds_cursor_x(const struct ds_cursor *c, uint32_t i, struct ds_x *x);

/* Visit blocks in `order` (n block numbers; NULL: every block in
 * sequence): they are decoded `threads` at a time in parallel, then fn runs
 * on each, in order, on the calling thread; record i of the block is
 * ds_first + i.  The results are those of a serial loop. */
typedef void (*ds_visit_fn)(void *ctx, const struct ds_cursor *c, uint64_t first, uint32_t n);
void ds_visit(const struct dataset *ds, const size_t *order, size_t n, int threads, ds_visit_fn fn, void *ctx);

/* Set in bits (dim bits, zeroed by the caller) the features below dim that
 * some record has; dense: every one. */
void ds_features(const struct dataset *ds, uint32_t dim, uint64_t *bits);

/* Number the features of a sparse set by their place in ids (n sorted
 * feature numbers that hold every feature of ds; ds_features gives them):
 * feature ids[k] becomes k.  Learners whose state is a row per feature
 * then keep only the rows the data has, side by side, which on hashed
 * text is a small part of the cache the whole table would take.  The
 * order of features within a record is unchanged (the numbering is
 * monotone), and so is every result computed from the values.  The set
 * remembers the numbering (ds_numbering: NULL when it has its own), and
 * ds_expand brings its own numbers back. */
void ds_compact(struct dataset *ds, const uint32_t *ids, size_t n, int threads);
const uint32_t *ds_numbering(const struct dataset *ds, uint32_t *n);
void ds_expand(struct dataset *ds, int threads);

/* The whole set decoded: row r is idx[off[r]..off[r+1]) / val[...]
 * (dense: idx NULL, off[r] = r * dim).  Blocks are decoded in parallel. */
struct ds_csr {
	uint64_t n;
	uint64_t *off;
	uint32_t *idx;
	float *val;
};
void ds_to_csr(const struct dataset *ds, int threads, struct ds_csr *m);
void ds_csr_release(struct ds_csr *m);
static inline void ds_csr_row(const struct ds_csr *m, uint64_t r, struct ds_x *x)
{
	x->idx = m->idx ? m->idx + m->off[r] : NULL;
	x->val = m->val + m->off[r];
	x->n = (uint32_t)(m->off[r + 1] - m->off[r]);
}

/* x . w for a vector w of the feature space (weights beyond w's length
 * `dim` count as zero). */
static inline double ds_dot(const struct ds_x *x, const float *w, uint32_t dim)
{
	double s = 0;
	if (x->idx) {
		for (uint32_t k = 0; k < x->n && x->idx[k] < dim; k++)
			s += (double)x->val[k] * w[x->idx[k]];
	} else {
		uint32_t n = x->n < dim ? x->n : dim;
		for (uint32_t k = 0; k < n; k++)
			s += (double)x->val[k] * w[k];
	}
	return s;
}

#endif
