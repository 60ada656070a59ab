/* tap.h - unit tests that speak TAP, so meson counts every check.
 *
 *   ok(cond, "what is checked");
 *   is_int(got, want, "...");  is_str(got, want, "...");  near(got, want, tol, "...");
 *   return tap_done();
 */
#ifndef PEA_TAP_H
#define PEA_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int tap_report(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("%s %d - ", pass ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		printf("#   failed at %s:%d\n", file, line);
		tap_failed++;
	}
	fflush(stdout);
	return pass;
}

#define ok(cond, ...) tap_report(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)                                                             \
	do {                                                                               \
		long long g_ = (long long)(got), w_ = (long long)(want);                   \
		if (!tap_report(g_ == w_, __FILE__, __LINE__, __VA_ARGS__))                 \
			printf("#   got %lld, want %lld\n", g_, w_);                            \
	} while (0)
#define is_str(got, want, ...)                                                             \
	do {                                                                               \
		const char *g_ = (got), *w_ = (want);                                      \
		if (!tap_report(g_ && w_ && !strcmp(g_, w_), __FILE__, __LINE__, __VA_ARGS__)) \
			printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	} while (0)
#define near(got, want, tol, ...)                                                          \
	do {                                                                               \
		double g_ = (got), w_ = (want);                                            \
		if (!tap_report(fabs(g_ - w_) <= (tol), __FILE__, __LINE__, __VA_ARGS__))   \
			printf("#   got %.9g, want %.9g (tolerance %g)\n", g_, w_, (double)(tol)); \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
