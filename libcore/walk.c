/* walk.c - directory trees of labelled examples (walk.h).
 *
 * Recursion is depth-first over sorted names; the depth is bounded so a
 * symbolic-link loop is an error rather than a hang. */
#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define WALK_MAX_DEPTH 32

static int by_bytes(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int no_dots(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int walk(const char *dir, const char *label, int depth, struct walk_list *out, struct pea_err *e)
{
	struct dirent **names;
	if (depth > WALK_MAX_DEPTH) {
		err_set(e, "%s: folders nested too deep (a symbolic-link loop?)", dir);
		return -1;
	}
	int n = scandir(dir, &names, no_dots, by_bytes);
	if (n < 0) {
		err_set(e, "%s: %s", dir, strerror(errno));
		return -1;
	}
	int ret = 0;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
		char *path = xmalloc(len);
		snprintf(path, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]->d_name);
		struct stat st;
		if (ret == 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			ret = walk(path, label ? label : names[i]->d_name, depth + 1, out, e);
			free(path);
		} else if (ret == 0) {
			/* anything else, even a dangling link, is listed: reading it
			 * reports the problem with its name */
			if (out->n == out->cap) {
				out->cap = out->cap ? 2 * out->cap : 64;
				out->v = xrealloc(out->v, xmul(out->cap, sizeof *out->v));
			}
			out->v[out->n].path = path;
			out->v[out->n].label = label ? xstrdup(label) : NULL;
			out->n++;
		} else {
			free(path);
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

int walk_dir(const char *root, struct walk_list *out, struct pea_err *e)
{
	return walk(root, NULL, 0, out, e);
}

void walk_list_release(struct walk_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].label);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

int read_file_max(const char *path, uint64_t max, const char *opt, struct buf *b, struct pea_err *e)
{
	char hint[64] = "";
	if (opt)
		snprintf(hint, sizeof hint, " (%s)", opt);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	buf_reset(b);
	if (fd < 0 || fstat(fd, &st) < 0) {
		err_set(e, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		err_set(e, "%s", strerror(EISDIR));
		close(fd);
		return -1;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		err_set(e, "file of %llu bytes exceeds the limit of %llu%s", (unsigned long long)st.st_size,
			(unsigned long long)max, hint);
		close(fd);
		return -1;
	}
	for (;;) {
		if (b->len > max) {
			err_set(e, "file exceeds the limit of %llu bytes%s", (unsigned long long)max, hint);
			close(fd);
			return -1;
		}
		uint8_t *p = buf_grow(b, 1 << 16);
		ssize_t r = read(fd, p, 1 << 16);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(e, "%s", strerror(errno));
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		b->len += (size_t)r;
	}
	close(fd);
	return 0;
}
