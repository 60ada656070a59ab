/* progress.h - the progress line of long work.
 *
 * Shown on stderr only when stderr is a terminal and -q was not given;
 * redrawn at most ten times a second, so calling it per record is cheap. */
#ifndef PEA_PROGRESS_H
#define PEA_PROGRESS_H

#include "util.h"

struct progress {
	int on;
	double start, last;
	int shown;
};

void progress_init(struct progress *p, int quiet);
/* true when a redraw is due (so callers can skip formatting) */
int progress_due(struct progress *p);
void progress_show(struct progress *p, const char *fmt, ...) PEA_PRINTF(2, 3);
/* erase the line (before a summary or an error is printed) */
void progress_done(struct progress *p);
double progress_elapsed(const struct progress *p);

#endif
