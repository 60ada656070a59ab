/* ixdist.h - interactions read by several ranks (dist.h), made into the
 * interactions one process reading the same input would have: the same
 * user and item ids, the same pairs, the same weights to the bit.
 *
 * Each rank reads its part: its own files (the single-process input is
 * the ranks' files in rank order) or its frames of shared ones (frame f
 * is rank f mod N's).  A record's place in that whole input orders
 * everything:
 *   - names: every rank sends each of its names with the place it first
 *     came; every rank sorts them all by place, so ids follow the order of
 *     first appearance in the whole input, as ix_load gives them;
 *   - pairs: rank b solves a block of users and a block of items (cut so
 *     that each rank has about the same work); each record goes to the
 *     rank of its user, which adds up repeated pairs in order of place, as
 *     one process adds them; the pairs so made go to the rank of their
 *     item, which gets them by user, in order.
 * A model continued (--init) is every rank's: its names come first, and
 * each rank puts its users' pairs of it before the records.  Rank 0,
 * which writes the model, also gets every user's pairs. */
#ifndef PEA_IXDIST_H
#define PEA_IXDIST_H

#include "inter.h"

/* Read this rank's part of the input (shared: its frames of shared files,
 * else files of its own) and share it out; x->share says what this rank
 * solves.  base (every rank's, or NULL) is a model continued, as for
 * ix_load: its names and pairs come first.  On one rank, what ix_load
 * gives. */
struct ix *ixd_load(pea_in *in, const struct ix_opts *o, int shared, const struct ix_base *base);

#endif
