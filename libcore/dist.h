/* dist.h - training on several processes (ranks), possibly on several
 * hosts, started by MPI (mpirun, srun): who we are, and the collective steps
 * training needs, each taken by every rank together.
 *
 * pea grows no cluster manager and no protocol of its own: MPI starts the
 * ranks and moves the bytes.  Without MPI (built without it, or run without
 * --mpi) there is one rank and every step below does nothing, so callers
 * never ask which case they are in.
 *
 * Sums are deterministic: each rank adds one slice of the vector over all
 * ranks in rank order (a reduce-scatter, point to point), then every rank
 * gathers the slices (an allgather).  That is the bandwidth of a ring
 * allreduce, and unlike MPI_Allreduce, whose order of additions belongs to
 * the library (Open MPI picks its algorithm by message size, rank count
 * and hosts, and a user may pick another), the same ranks give the same
 * bits on any hosts.  The same two steps combine with other functions
 * than a sum (dist_combine): a model mix that sends floats and divides,
 * or an optimizer step taken once, by the slice's rank, not by every rank.  An error on one rank (die) aborts every rank, so no rank waits
 * forever on a partner that is gone. */
#ifndef PEA_DIST_H
#define PEA_DIST_H

#include "dataset.h"
#include "err.h"

#include <stddef.h>
#include <stdint.h>

/* Whether pea was built with MPI. */
int dist_available(void);
/* Join the ranks (MPI_Init); dies when pea has no MPI.  Ranks other than 0
 * are marked so that callers can keep them quiet. */
void dist_init(int *argc, char ***argv);
/* Leave cleanly (MPI_Finalize); call before a successful exit. */
void dist_finish(void);
int dist_rank(void);
int dist_size(void);
/* Worker threads for -j 0 (every core): the cores shared among the ranks
 * that run on this host. */
int dist_threads(int64_t j);

/* Combine the ranks' copies of a vector of n elements of esz bytes, in
 * place, the result on every rank.  Each rank combines one slice: fn gets
 * the ranks' copies of elements [first, first + n) in rank order (part[b]
 * is rank b's; part[own rank] is out itself, so read an element's parts
 * before writing it) and writes the combined elements to out; then every
 * rank gathers every slice.  The slices depend on n and the rank count
 * only, and fn must depend on its arguments only: then the same ranks give
 * the same bits on every run (a vector of a few KB is gathered whole and
 * every rank combines all of it, one exchange instead of two: fn must
 * treat each element on its own).  One rank: fn on the whole vector. */
typedef void dist_combine_fn(void *ctx, void *out, const void *const *part, int nranks, size_t first, size_t n);
void dist_combine(void *v, size_t n, size_t esz, dist_combine_fn *fn, void *ctx);
/* [*lo, *hi): rank b's slice of a vector of n elements, the one
 * dist_combine has it combine */
void dist_slice(size_t n, int b, size_t *lo, size_t *hi);
/* bytes (zeroed) for a vector that dist_combine will combine.  When every
 * rank runs on one host they are memory the other ranks can read (an MPI-3
 * shared window), and dist_combine needs no messages: each rank reads the
 * others' copies of its slice where they lie, then the combined slices.
 * Else (one rank, several hosts, no window to be had, or four in use)
 * ordinary memory.  Collective; dist_shared_free (not collective) gives it
 * back, for the next vector to use. */
void *dist_shared(size_t bytes);
void dist_shared_free(void *p);
/* For a vector from dist_shared that the ranks share (every rank on one
 * host): rank b's copy of it; NULL when it is this rank's own memory (then
 * dist_combine is the way to combine it). */
const void *dist_shared_part(const void *v, int rank);
/* A step of the ranks on the memory they share, as dist_combine takes on
 * its own: dist_shared_begin returns once every rank has come, with every
 * rank's writes seen by every rank (a barrier of the host's ranks), and
 * dist_shared_end the same; the time from one to the other counts as time
 * in sums, and lent (the bytes of this rank's that the others read in
 * between) as bytes sent. */
void dist_shared_begin(void);
void dist_shared_end(size_t lent);
/* For combining functions: out[i] = part[0][i] + part[1][i] + ..., floats
 * added in rank order, for i in [lo, hi); out may be one of the parts. */
void dist_add_f32(float *out, const void *const *part, int R, size_t lo, size_t hi);

/* Wait until every rank has come here. */
void dist_barrier(void);
/* Element-wise sums over the ranks, in place, the result on every rank. */
void dist_sum_f64(double *v, size_t n);
/* exact: integers */
void dist_sum_u64(uint64_t *v, size_t n);
void dist_max_u64(uint64_t *v, size_t n);
void dist_or_u64(uint64_t *v, size_t n);
/* every rank's bytes, concatenated in rank order, into out (reset first);
 * lens (dist_size() entries, may be NULL) gets each rank's length */
void dist_gather(const void *p, size_t n, struct buf *out, size_t *lens);
/* the same on rank 0 only: out is left empty on the others */
void dist_gather0(const void *p, size_t n, struct buf *out, size_t *lens);
/* Every rank sends lens[b] bytes of p (the parts back to back, in rank
 * order) to rank b; out (reset first) gets the parts sent to this rank, in
 * rank order, and got (dist_size() entries, may be NULL) their lengths. */
void dist_exchange(const void *p, const size_t *lens, struct buf *out, size_t *got);
/* X has rows of k floats, of which rank b computed rows cut[b] ..
 * cut[b+1] (cut has dist_size() + 1 entries): afterwards every rank has
 * every row, the same bits.  When X is from dist_shared_rows and every
 * rank runs on one host, the rows are already where all read them: a
 * barrier, no bytes move. */
void dist_share_rows(float *X, int k, const uint32_t *cut);
/* bytes (zeroed) for a matrix whose rows dist_share_rows shares: when
 * every rank runs on one host, one block of shared memory that every rank
 * reads and writes (the same bytes at one address per rank: a rank writes
 * only its rows, and reads the others' after dist_share_rows); else this
 * rank's own memory.  Collective; dist_shared_free gives it back. */
void *dist_shared_rows(size_t bytes);

/* The features below dim this rank keeps a row of, ascending: those its
 * records have, and those the records of several ranks have (dense data:
 * every one).  A step on a record moves the rows of its features only, so
 * after an epoch the ranks' linear models can differ on the features
 * several ranks have, which every rank keeps and a mix combines; a
 * feature only one rank has is that rank's alone (struct lin_rows).
 * Returns the count, *ids allocated. */
size_t dist_features(const struct dataset *ds, uint32_t dim, uint32_t **ids);

/* bits (nw words) set on this rank become those set on two ranks or more */
void dist_several(uint64_t *bits, size_t nw);

/* Make the ranks' datasets one: the label tables become the sorted union
 * of every rank's labels, and every rank must agree on dense or sparse
 * features, the dimension of dense ones and the feature space.  *dim gets
 * the largest sparse dimension of any rank, *nrec all records.  -1 with the
 * reason in e when the ranks disagree (every rank returns it). */
int dist_agree(struct dataset *train, uint32_t *dim, uint64_t *nrec, int *multilabel, struct pea_err *e);

/* Time spent in the steps above and the bytes each rank sent, for the
 * training summary. */
double dist_seconds(void);
uint64_t dist_bytes(void);

#endif
