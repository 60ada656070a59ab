/* cli.c - see cli.h. */
#include "cli.h"
#include "err.h"
#include "util.h"

#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PEA_VERSION_STR
#define PEA_VERSION_STR "0.0.0"
#endif

const char *pea_version(void)
{
	return PEA_VERSION_STR;
}

static const struct cli_opt help_opt = {'h', "help", CLI_HELP, NULL, NULL, "show this help and exit"};
static const struct cli_opt version_opt = {0, "version", CLI_VERSION, NULL, NULL, "print the version and exit"};

static int takes_arg(const struct cli_opt *o)
{
	return o->kind != CLI_FLAG && o->kind != CLI_HELP && o->kind != CLI_VERSION;
}

static void opt_name(char *dst, size_t n, const struct cli_opt *o)
{
	if (o->shrt)
		snprintf(dst, n, "-%c, --%s%s%s", o->shrt, o->lng, o->arg ? " " : "", o->arg ? o->arg : "");
	else
		snprintf(dst, n, "    --%s%s%s", o->lng, o->arg ? " " : "", o->arg ? o->arg : "");
}

static void print_opt(const struct cli_opt *o)
{
	char name[96];
	opt_name(name, sizeof name, o);
	if (strlen(name) <= 24)
		printf("  %-24s  %s\n", name, o->help);
	else
		printf("  %s\n  %-24s  %s\n", name, "", o->help);
}

void cli_help(const struct cli_cmd *cmd)
{
	printf("Usage: pea %s %s\n%s\n", cmd->name, cmd->usage, cmd->summary);
	if (cmd->desc)
		printf("\n%s\n", cmd->desc);
	printf("\nOptions:\n");
	for (const struct cli_opt *o = cmd->opts; o && o->lng; o++)
		print_opt(o);
	print_opt(&help_opt);
	print_opt(&version_opt);
	printf("\nExample:\n%s\n", cmd->example);
}

/* Option values live as long as the process: what the parser allocates
 * (lists of repeated options, cli_split's pieces) is remembered here, so
 * it stays reachable and no command needs code to free it. */
static void **kept;
static size_t nkept;

static void *keep(void *old, void *now)
{
	for (size_t i = 0; old && i < nkept; i++)
		if (kept[i] == old) {
			kept[i] = now;
			return now;
		}
	kept = xrealloc(kept, (nkept + 1) * sizeof *kept);
	kept[nkept++] = now;
	return now;
}

static void set_value(const struct cli_opt *o, const char *v)
{
	char shown[80];
	snprintf(shown, sizeof shown, "--%s", o->lng);
	switch (o->kind) {
	case CLI_FLAG:
		*(int *)o->dst = 1;
		break;
	case CLI_STR:
		*(const char **)o->dst = v;
		break;
	case CLI_INT:
		if (parse_i64(v, (int64_t *)o->dst))
			die_usage("%s: '%s' is not an integer", shown, v);
		break;
	case CLI_DBL:
		if (parse_f64(v, (double *)o->dst))
			die_usage("%s: '%s' is not a number", shown, v);
		break;
	case CLI_SIZE:
		if (parse_size(v, (uint64_t *)o->dst))
			die_usage("%s: '%s' is not a size (e.g. 512, 64k, 10M, 2G)", shown, v);
		break;
	case CLI_LIST: {
		struct cli_list *l = o->dst;
		l->v = keep(l->v, xrealloc(l->v, (size_t)(l->n + 2) * sizeof *l->v));
		l->v[l->n++] = v;
		l->v[l->n] = NULL;
		break;
	}
	case CLI_HELP:
	case CLI_VERSION:
		break;
	}
}

static const struct cli_opt *find_long(const struct cli_cmd *cmd, const char *name, size_t len)
{
	for (const struct cli_opt *o = cmd->opts; o && o->lng; o++)
		if (strlen(o->lng) == len && !strncmp(o->lng, name, len))
			return o;
	if (len == 4 && !strncmp(name, "help", 4))
		return &help_opt;
	if (len == 7 && !strncmp(name, "version", 7))
		return &version_opt;
	return NULL;
}

static const struct cli_opt *find_short(const struct cli_cmd *cmd, char c)
{
	for (const struct cli_opt *o = cmd->opts; o && o->lng; o++)
		if (o->shrt == c)
			return o;
	return c == 'h' ? &help_opt : NULL;
}

static void act(const struct cli_cmd *cmd, const struct cli_opt *o, const char *v)
{
	if (o->kind == CLI_HELP) {
		cli_help(cmd);
		exit(fflush(stdout) ? 1 : 0);
	}
	if (o->kind == CLI_VERSION) {
		printf("pea-%s %s\n", cmd->name, pea_version());
		exit(fflush(stdout) ? 1 : 0);
	}
	set_value(o, v);
}

/* pea programs run several to a pipeline, often more threads than cores,
 * and two libraries start threads that spin while they wait, stealing the
 * cores the other stages and our own OpenMP threads need:
 * - libgomp's idle team threads (a loaded 2-core pipeline ran 3x slower);
 * - OpenBLAS's pool, one thread per core, which spins on sched_yield for
 *   2^28 cycles (about 0.1 s) after it starts although pea never hands it
 *   work (dense.c keeps each BLAS call on its caller's thread): it took a
 *   core from every short run, a 2-thread kNN fit ran at the speed of one.
 *   Its timeout of 2^4 cycles puts it to sleep at once.  The pool is kept:
 *   OPENBLAS_NUM_THREADS=1, which starts none, made ALS's Gram products
 *   from two threads 15 % slower.
 * Both read the environment before main, so what the user has not chosen
 * is set, and the program starts again, once.  Returns whether anything
 * was set. */
int cli_thread_env(void)
{
	int set = 0;
	if (!getenv("OMP_WAIT_POLICY"))
		set = !setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
	if (!getenv("OPENBLAS_THREAD_TIMEOUT"))
		set |= !setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);
	return set;
}

void cli_parse(const struct cli_cmd *cmd, int argc, char **argv, char ***args, int *nargs)
{
	char prog[80];
	snprintf(prog, sizeof prog, "pea-%s", cmd->name);
	err_init(prog);
	/* a closed pipe is handled where we write (EPIPE ends quietly) */
	signal(SIGPIPE, SIG_IGN);
	if (cli_thread_env())
		execv("/proc/self/exe", argv); /* no /proc: carry on as we are */

	char **pos = xcalloc((size_t)argc + 1, sizeof *pos);
	int np = 0, only_args = 0;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (only_args || a[0] != '-' || !a[1]) {
			pos[np++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_args = 1;
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			if (len == 7 && !strncmp(name, "summary", 7)) {
				/* for `pea` listing the commands; not shown in --help */
				printf("%s\n", cmd->summary);
				exit(0);
			}
			const struct cli_opt *o = find_long(cmd, name, len);
			if (!o)
				die_usage("unknown option '--%.*s'", (int)len, name);
			const char *v = NULL;
			if (takes_arg(o)) {
				if (eq)
					v = eq + 1;
				else if (i + 1 < argc)
					v = argv[++i];
				else
					die_usage("option '--%s' needs a value", o->lng);
			} else if (eq) {
				die_usage("option '--%s' takes no value", o->lng);
			}
			act(cmd, o, v);
			continue;
		}
		for (const char *c = a + 1; *c; c++) {
			const struct cli_opt *o = find_short(cmd, *c);
			if (!o)
				die_usage("unknown option '-%c'", *c);
			if (!takes_arg(o)) {
				act(cmd, o, NULL);
				continue;
			}
			const char *v = c[1] ? c + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v)
				die_usage("option '-%c' needs a value", *c);
			act(cmd, o, v);
			break;
		}
	}
	if (np < cmd->min_args)
		die_usage("missing argument (usage: pea %s %s)", cmd->name, cmd->usage);
	if (cmd->max_args >= 0 && np > cmd->max_args)
		die_usage("too many arguments (usage: pea %s %s)", cmd->name, cmd->usage);
	*args = pos;
	*nargs = np;
}

int cli_threads(int64_t j)
{
	if (j <= 0)
		return omp_get_num_procs();
	if (j > 1024)
		die_usage("--threads %lld is more than 1024", (long long)j);
	return (int)j;
}

struct cli_list cli_split(const char *s, char sep)
{
	struct cli_list l = {NULL, 0};
	const char *p = s;
	for (;;) {
		const char *e = strchr(p, sep);
		size_t n = e ? (size_t)(e - p) : strlen(p);
		l.v = keep(l.v, xrealloc(l.v, (size_t)(l.n + 2) * sizeof *l.v));
		l.v[l.n++] = keep(NULL, xstrndup(p, n));
		l.v[l.n] = NULL;
		if (!e)
			break;
		p = e + 1;
	}
	return l;
}

static volatile sig_atomic_t stop_asked;

static void on_stop(int sig)
{
	(void)sig;
	stop_asked = 1;
}

const volatile sig_atomic_t *cli_catch_stop(int second_kills)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sa.sa_flags = second_kills ? SA_RESETHAND : 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return &stop_asked;
}
