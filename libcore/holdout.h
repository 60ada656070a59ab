/* holdout.h - per-user train/test splits of interactions, as recommender
 * evaluations make them: hold out each user's latest interaction
 * (leave-last-out, by a time field), one chosen by a seeded hash of the
 * (user, item) pair (leave-one-out), or a fraction of each user's.
 *
 * A split needs all of a user's records before it can decide, so the input
 * is read whole and kept decoded in memory, then each record goes to its
 * side in input order.  The held-out unit is a (user, item) pair: every
 * record of that pair goes to the test side, so none of it leaks into
 * training.  With one pair held out per user the test side gets the
 * records as they came (their `item` is the truth); with a fraction it gets
 * one record per user, {user, items}, the held-out items in order, in place
 * of their records.  Users
 * with fewer than min_items distinct items stay whole on the train side. */
#ifndef PEA_HOLDOUT_H
#define PEA_HOLDOUT_H

#include "input.h"
#include "output.h"

enum ho_mode { HO_LAST, HO_ONE, HO_FRACTION };

struct ho_opts {
	enum ho_mode mode;
	double fraction;   /* HO_FRACTION: of each user's distinct items */
	const char *user;  /* field names; NULL: user, item */
	const char *item;
	const char *order; /* a number or a string (ISO 8601 sorts); the latest are held out */
	int64_t min_items;
	uint64_t seed;
};

struct ho_stats {
	uint64_t records, users, held_users, held_records;
};

/* Read in, write every record to train or test; dies on bad input. */
void ho_run(pea_in *in, const struct ho_opts *o, pea_wr *train, pea_wr *test, struct ho_stats *st);

#endif
