/* pea - runs pea-NAME from the same installation, git-style. */
#include "cli.h"
#include "err.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PEA_SRCDIR
#define PEA_SRCDIR "."
#endif

static char dir[PATH_MAX];

/* the directory holding this binary: its pea-* siblings are the commands */
static void find_dir(void)
{
	ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
	if (n <= 0)
		die_errno("cannot find my own executable");
	dir[n] = 0;
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_commands(void)
{
	DIR *d = opendir(dir);
	if (!d)
		die_errno("%s", dir);
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "pea-", 4) || strchr(e->d_name, '.'))
			continue;
		names = xrealloc(names, (n + 1) * sizeof *names);
		names[n++] = xstrdup(e->d_name + 4);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp);
	printf("Usage: pea COMMAND [ARGS...]\n"
	       "pea turns data from the web into trained models, predictions and\n"
	       "recommendations with small filters over one binary record stream.\n\n"
	       "Commands:\n");
	fflush(stdout);
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX + 64], line[512] = "";
		snprintf(path, sizeof path, "'%s/pea-%s' --summary 2>/dev/null", dir, names[i]);
		FILE *p = popen(path, "r");
		if (p) {
			if (!fgets(line, sizeof line, p))
				line[0] = 0;
			pclose(p);
		}
		line[strcspn(line, "\n")] = 0;
		printf("  %-12s %s\n", names[i], line);
		free(names[i]);
	}
	free(names);
	printf("\n'pea help COMMAND' shows a command's manual; 'pea COMMAND --help' its options.\n");
}

static int is_exe(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

static int help(const char *name)
{
	char page[256], local[PATH_MAX + 300];
	snprintf(page, sizeof page, "pea%s%s", name ? "-" : "", name ? name : "");
	/* an installed page first; from a build tree, the source's page */
	if (system(NULL)) {
		char cmd[600];
		snprintf(cmd, sizeof cmd, "man -w '%s' >/dev/null 2>&1", page);
		if (!strchr(page, '\'') && system(cmd) == 0)
			execlp("man", "man", page, (char *)NULL);
		for (int sec = 1; sec <= 5; sec += 4) {
			snprintf(local, sizeof local, "%s/man/%s.%d", PEA_SRCDIR, page, sec);
			if (access(local, R_OK) == 0)
				execlp("man", "man", "-l", local, (char *)NULL);
		}
	}
	if (name) {
		snprintf(local, sizeof local, "%s/pea-%s", dir, name);
		if (is_exe(local))
			execl(local, local, "--help", (char *)NULL);
		die_usage("no manual page and no command named '%s'", name);
	}
	list_commands();
	return 0;
}

int main(int argc, char **argv)
{
	err_init("pea");
	find_dir();
	if (argc < 2) {
		list_commands();
		return 0;
	}
	const char *c = argv[1];
	if (!strcmp(c, "--version") || !strcmp(c, "version")) {
		printf("pea %s\n", pea_version());
		return 0;
	}
	if (!strcmp(c, "--help") || !strcmp(c, "-h")) {
		list_commands();
		return 0;
	}
	if (!strcmp(c, "help"))
		return help(argc > 2 ? argv[2] : NULL);
	if (c[0] == '-')
		die_usage("unknown option '%s'", c);
	if (strchr(c, '/'))
		die_usage("'%s' is not a pea command", c);
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/pea-%s", dir, c);
	if (!is_exe(path))
		die_usage("'%s' is not a pea command (see 'pea' for the list)", c);
	argv[1] = path;
	/* see cli.c: waiting threads sleep rather than spin */
	cli_thread_env();
	execv(path, argv + 1);
	die_errno("cannot run %s", path);
}
