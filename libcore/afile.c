/* afile.c - see afile.h. */
#include "afile.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* temporary files still open, removed by the exit handler */
static struct afile *pending[16];
static int npending, handler_set;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void remove_pending(void)
{
	for (int i = 0; i < npending; i++)
		if (pending[i] && pending[i]->tmp)
			unlink(pending[i]->tmp);
}

static void track(struct afile *a, int add)
{
	pthread_mutex_lock(&lock);
	if (add) {
		if (!handler_set) {
			atexit(remove_pending);
			handler_set = 1;
		}
		if (npending < (int)(sizeof pending / sizeof *pending))
			pending[npending++] = a;
	} else {
		for (int i = 0; i < npending; i++)
			if (pending[i] == a) {
				pending[i] = pending[--npending];
				break;
			}
	}
	pthread_mutex_unlock(&lock);
}

/* Whether path names an open descriptor (/dev/stdout, /dev/fd/3,
 * /proc/self/fd/1): it reaches a file through /proc, and renaming a file
 * over the name would replace the link (/dev/stdout itself), not write
 * where the descriptor goes. */
static int names_descriptor(const char *path)
{
	char link[64];
	ssize_t n = readlink(path, link, sizeof link - 1);
	if (n > 0) {
		link[n] = 0;
		if (!strncmp(link, "/proc/", 6))
			return 1;
	}
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int r = 0;
	if (slash) {
		*slash = 0;
		char *real = realpath(*dir ? dir : "/", NULL);
		r = real && !strncmp(real, "/proc/", 6);
		free(real);
	}
	free(dir);
	return r;
}

void afile_open(struct afile *a, const char *path, int mode)
{
	/* a device or a pipe (-o /dev/null) is written in place: renaming a
	 * file over it would replace the device node; so is an open
	 * descriptor's name (-o /dev/stdout), whatever it leads to */
	struct stat st;
	int desc = names_descriptor(path);
	if (stat(path, &st) == 0 && ((!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) || desc)) {
		a->path = xstrdup(path);
		a->tmp = NULL;
		a->fd = open(path, O_WRONLY | O_CLOEXEC | (S_ISREG(st.st_mode) ? O_APPEND : 0));
		if (a->fd < 0)
			die_errno("%s", path);
		return;
	}
	size_t n = strlen(path) + 16;
	a->path = xstrdup(path);
	a->tmp = xmalloc(n);
	snprintf(a->tmp, n, "%s.tmp-XXXXXX", path);
	a->fd = mkostemp(a->tmp, O_CLOEXEC);
	if (a->fd < 0)
		die_errno("%s: cannot create a temporary file", path);
	track(a, 1);
	/* mkostemp makes 0600; widen to what the caller asked, minus the umask */
	mode_t um = umask(0);
	umask(um);
	if (fchmod(a->fd, (mode_t)mode & ~um) < 0)
		die_errno("%s", a->tmp);
}

void afile_write(struct afile *a, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(a->fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die_errno("%s: write error", a->path);
		c += w;
		n -= (size_t)w;
	}
}

void afile_commit(struct afile *a)
{
	if (a->tmp && fsync(a->fd) < 0 && errno != EINVAL)
		die_errno("%s: fsync", a->path);
	if (close(a->fd) < 0)
		die_errno("%s: close", a->path);
	a->fd = -1;
	if (a->tmp && rename(a->tmp, a->path) < 0)
		die_errno("%s: cannot rename the finished file into place", a->path);
	track(a, 0);
	free(a->tmp);
	free(a->path);
	a->tmp = a->path = NULL;
}

void afile_abort(struct afile *a)
{
	if (a->fd >= 0)
		close(a->fd);
	if (a->tmp)
		unlink(a->tmp);
	track(a, 0);
	free(a->tmp);
	free(a->path);
	a->tmp = a->path = NULL;
	a->fd = -1;
}
