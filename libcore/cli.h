/* cli.h - one option table per command gives both the parsing and --help.
 *
 * A command declares its options once (short and long name, kind, where the
 * value goes, the argument name and a help line); cli_parse() fills the
 * destinations, handles --help and --version, and turns mistakes into a
 * usage error (exit 2).  Options may follow positional arguments
 * (GNU-style); "--" ends the options.  Options shared by many commands are
 * spelled once, below, so they mean the same thing everywhere. */
#ifndef PEA_CLI_H
#define PEA_CLI_H

#include <signal.h>
#include <stdint.h>

enum cli_kind {
	CLI_FLAG,   /* int, set to 1 */
	CLI_STR,    /* const char * */
	CLI_INT,    /* int64_t */
	CLI_DBL,    /* double */
	CLI_SIZE,   /* uint64_t, with k/M/G suffixes */
	CLI_LIST,   /* struct cli_list: every occurrence is kept */
	CLI_HELP,   /* internal: --help */
	CLI_VERSION /* internal: --version */
};

struct cli_list {
	const char **v;
	int n;
};

struct cli_opt {
	char shrt;	  /* 0 when there is no short form */
	const char *lng;  /* long name without the dashes */
	enum cli_kind kind;
	void *dst;
	const char *arg;  /* name of the argument in --help */
	const char *help; /* one line */
};

struct cli_cmd {
	const char *name;    /* "tokenize": the binary is pea-tokenize */
	const char *summary; /* one line, shown by `pea` */
	const char *usage;   /* after the command name: "[OPTIONS] [FILE...]" */
	const char *desc;    /* a paragraph or two, may be NULL */
	const struct cli_opt *opts; /* ends with an entry whose lng is NULL */
	const char *example; /* one or more lines */
	int min_args, max_args; /* positional bounds, max -1 = any number */
};

#define CLI_END {0, NULL, CLI_FLAG, NULL, NULL, NULL}
#define CLI_OPT_THREADS(p) {'j', "threads", CLI_INT, p, "N", "worker threads (default: all cores)"}
#define CLI_OPT_QUIET(p) {'q', "quiet", CLI_FLAG, p, NULL, "no progress line or summary on stderr"}
#define CLI_OPT_OUTPUT(p) {'o', "output", CLI_STR, p, "FILE", "write to FILE (atomically) instead of standard output"}
#define CLI_OPT_BINARY(p) {0, "binary", CLI_FLAG, p, NULL, "write binary records even to a terminal"}
#define CLI_OPT_LEVEL(p) {0, "level", CLI_INT, p, "N", "zstd level of output frames, 0 = none (default: 3 to a file, 0 to a pipe)"}
#define CLI_OPT_SEED(p) {0, "seed", CLI_INT, p, "N", "seed of the random generator (default 1)"}
#define CLI_OPT_FIELD(p, what) {'f', "field", CLI_STR, p, "NAME", what}
#define CLI_OPT_MODEL(p) {'m', "model", CLI_STR, p, "MODEL", "model file (or URL)"}

/* Parse argv.  Positional arguments are gathered into *args (NULL-ended,
 * owned by the caller, free() it) and their number into *nargs. */
void cli_parse(const struct cli_cmd *cmd, int argc, char **argv, char ***args, int *nargs);
/* set what the OpenMP and OpenBLAS thread pools read at start-up, where
 * the user has not (see cli.c); nonzero when something was set */
int cli_thread_env(void);
/* Print --help to stdout. */
void cli_help(const struct cli_cmd *cmd);
const char *pea_version(void);

/* Resolve -j: 0 or negative means every core. */
int cli_threads(int64_t j);

/* Split "a,b,c" into a list (copies that live as long as the process). */
struct cli_list cli_split(const char *s, char sep);

/* SIGINT and SIGTERM set the flag returned, for a command that follows a
 * live source to end cleanly when it next looks; with second_kills the
 * handler then resets, so that a second signal ends the process at once. */
const volatile sig_atomic_t *cli_catch_stop(int second_kills);

#endif
