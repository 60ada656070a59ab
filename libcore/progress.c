/* progress.c - see progress.h. */
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

void progress_init(struct progress *p, int quiet)
{
	p->on = !quiet && isatty(2);
	p->start = now_sec();
	p->last = 0;
	p->shown = 0;
}

int progress_due(struct progress *p)
{
	if (!p->on)
		return 0;
	double t = now_sec();
	if (t - p->last < 0.1)
		return 0;
	p->last = t;
	return 1;
}

void progress_show(struct progress *p, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	if (!p->on)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	p->shown = 1;
}

void progress_done(struct progress *p)
{
	if (p->on && p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->shown = 0;
}

double progress_elapsed(const struct progress *p)
{
	return now_sec() - p->start;
}
