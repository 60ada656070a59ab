/* err.h - the one error path of every pea program.
 *
 * Messages read "pea-NAME: what happened", lower case, no trailing period,
 * naming the file and the place when there is one (callers pass it in the
 * message: "data.pea: frame 12 at byte 8388608: checksum mismatch").
 * die() exits 1, die_usage() exits 2; both run atexit handlers, so files
 * being written atomically are removed. */
#ifndef PEA_ERR_H
#define PEA_ERR_H

#include "util.h"

/* Set the program name from argv[0] (its basename). */
void err_init(const char *argv0);
const char *err_prog(void);

PEA_NORETURN void die(const char *fmt, ...) PEA_PRINTF(1, 2);
/* like die, with ": strerror(errno)" appended */
PEA_NORETURN void die_errno(const char *fmt, ...) PEA_PRINTF(1, 2);
/* Hold back the calling thread's fatal errors: die() and die_errno() then
 * call hook(ctx, message) instead, which should not return (it ends with
 * err_defer(NULL, NULL) and die("%s", message) when the time is right).
 * pmap's reader uses it so that a damaged input is reported after the
 * records before the damage are written, as a serial program would. */
void err_defer(void (*hook)(void *ctx, const char *msg), void *ctx);
/* a usage mistake: the message and a pointer to --help, exit 2 */
PEA_NORETURN void die_usage(const char *fmt, ...) PEA_PRINTF(1, 2);
/* print an error and return -1 */
int error(const char *fmt, ...) PEA_PRINTF(1, 2);
void warning(const char *fmt, ...) PEA_PRINTF(1, 2);
/* an informational line on stderr ("pea-NAME: 12 records skipped") */
void note(const char *fmt, ...) PEA_PRINTF(1, 2);

/* Short error text carried out of code that must not exit (worker threads,
 * library routines that callers may recover from). */
struct pea_err {
	char msg[512];
};
void err_set(struct pea_err *e, const char *fmt, ...) PEA_PRINTF(2, 3);

#endif
