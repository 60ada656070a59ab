/* err.c - see err.h. */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char prog[64] = "pea";

void err_init(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');
	snprintf(prog, sizeof prog, "%s", slash ? slash + 1 : argv0);
}

const char *err_prog(void)
{
	return prog;
}

/* One fprintf per message, so lines from several threads never interleave. */
static void vreport(const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	fprintf(stderr, "%s: %s%s%s%s\n", prog, prefix, msg, suffix ? ": " : "",
		suffix ? suffix : "");
}

static _Thread_local void (*defer_hook)(void *, const char *);
static _Thread_local void *defer_ctx;

void err_defer(void (*hook)(void *ctx, const char *msg), void *ctx)
{
	defer_hook = hook;
	defer_ctx = ctx;
}

static PEA_NORETURN void fatal(const char *fmt, va_list ap, const char *suffix)
{
	if (defer_hook) {
		char msg[1024];
		int n = vsnprintf(msg, sizeof msg, fmt, ap);
		if (suffix && n >= 0 && (size_t)n < sizeof msg)
			snprintf(msg + n, sizeof msg - (size_t)n, ": %s", suffix);
		defer_hook(defer_ctx, msg); /* does not return; were it to, die now */
	}
	vreport("", fmt, ap, suffix);
	exit(1);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fatal(fmt, ap, NULL);
}

void die_errno(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	fatal(fmt, ap, strerror(e));
}

void die_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap, NULL);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	exit(2);
}

int error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap, NULL);
	va_end(ap);
	return -1;
}

void warning(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("warning: ", fmt, ap, NULL);
	va_end(ap);
}

void note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap, NULL);
	va_end(ap);
}

void err_set(struct pea_err *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
}
