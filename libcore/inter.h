/* inter.h - interactions (who did what, how strongly) held in memory for
 * the recommenders: user and item names with small ids, and the pairs as a
 * sparse user x item matrix.
 *
 * ix_load reads any pea input on every core (pmap): each record gives a
 * user, an item and an optional weight (a count or strength, > 0; 1 when
 * absent), under field names the caller picks.  Names get ids in order of
 * first appearance, in input order, so the same input gives the same ids
 * however it was cut into frames and at any thread count.  A pair that
 * comes again adds its weight (the count of duplicates is kept, for a
 * note): nothing is dropped.
 *
 * The matrix is CSR by user (items increasing in each row); ix_transpose
 * gives it by item for the algorithms that walk both sides (ALS).  A model
 * being continued (--init) seeds the names and pairs first, so its ids stay
 * what they were and new interactions add to its own. */
#ifndef PEA_INTER_H
#define PEA_INTER_H

#include "input.h"
#include "ntab.h"

/* the longest user or item name */
#define IX_MAX_NAME 4096

/* The text of a user or item field: a string as it is, an integer in
 * decimal (written into tmp, 32 bytes).  -1 for any other type. */
int ix_name(const pea_val *v, char *tmp, const char **s, size_t *n);

struct ix_opts {
	const char *user, *item, *weight; /* field names (NULL: user, item, weight) */
	int threads, quiet;
};

/* CSR: row r is idx[off[r] .. off[r+1]) with weights w[...] */
struct ix_csr {
	uint32_t rows, cols;
	uint64_t nnz;
	uint64_t *off;
	uint32_t *idx;
	float *w;
};

/* One rank's share of interactions spread over several (ixdist.h): the
 * users and the items whose factors it solves, and those items' users. */
struct ix_share {
	uint32_t *ucut, *icut;	/* dist_size() + 1 entries: rank b has users ucut[b] .. ucut[b+1] */
	struct ix_csr byitem;	/* by item, rows of every item, only this rank's filled */
	uint64_t nnz;		/* interactions over every rank */
};

struct ix {
	struct strtab *users, *items;
	struct ix_csr m;   /* by user (with share: only this rank's users, or on rank 0 every user) */
	uint64_t nrec;	   /* records read */
	uint64_t ndup;	   /* records whose pair was already there */
	double wsum;	   /* total weight */
	struct ix_share *share; /* NULL but on several ranks */
};

/* What a continued model brings: its names and its pairs (CSR by user). */
struct ix_base {
	const struct ntab *users, *items;
	const uint64_t *off;
	const uint32_t *idx;
	const float *w;
};

/* Read every record of in (dies with the record's place on bad input);
 * base may be NULL. */
struct ix *ix_load(pea_in *in, const struct ix_opts *o, const struct ix_base *base);
/* The same from pairs in memory (tests, merging): n (user, item, weight). */
struct ix *ix_from_pairs(struct strtab *users, struct strtab *items, const uint32_t *u, const uint32_t *i,
			 const float *w, uint64_t n, int threads);
void ix_free(struct ix *x);

/* The records of (a part of) the input as they came, before pairs are
 * added up: what ranks training together exchange (ixdist.h).  Names have
 * ids in order of first appearance; at[k] is record k's place, the unit
 * (frame) it came in, counted from 0, << 32 | its number in the unit. */
struct ix_recs {
	struct strtab *users, *items;
	uint32_t *u, *i;
	float *w;
	uint64_t *at;
	uint64_t n, units;
	double wsum;
};
struct ix_recs *ix_read(pea_in *in, const struct ix_opts *o);
void ix_recs_free(struct ix_recs *r);

/* m as rows x cols from n pairs in input order: each row sorted by index,
 * a pair that comes again adding its weight, in input order (the same bits
 * on every run).  Returns the number of pairs that came again. */
uint64_t ix_csr_build(struct ix_csr *m, uint32_t rows, uint32_t cols, const uint32_t *u, const uint32_t *i,
		      const float *w, uint64_t n, int threads);

/* by item: rows = items, idx = users (increasing); the same arrays on any
 * number of threads */
void ix_transpose(const struct ix_csr *m, struct ix_csr *t, int threads);
void ix_csr_release(struct ix_csr *m);

/* Check a CSR read from a model file against its dimensions: offsets
 * increasing, indices in range and increasing in a row, weights finite and
 * > 0.  -1 with the reason in e. */
int ix_csr_check(const uint64_t *off, const uint32_t *idx, const float *w, uint32_t rows, uint32_t cols,
		 uint64_t nnz, struct pea_err *e);

#endif
