/* walk.h - the files under a directory, in a fixed order, each with the
 * label its first-level subfolder gives it ("photos/cat/1.jpg" -> "cat").
 *
 * Labelled data sets are laid out that way (one folder per class), so any
 * command that reads a tree of examples gets them from here, sorted by
 * byte order so that the same tree always gives the same stream. */
#ifndef PEA_WALK_H
#define PEA_WALK_H

#include "err.h"

struct walk_entry {
	char *path;  /* root/.../name */
	char *label; /* first folder below root, NULL for files directly in root */
};

struct walk_list {
	struct walk_entry *v;
	size_t n, cap;
};
#define WALK_LIST_INIT {NULL, 0, 0}

/* Append every regular file under root (following symbolic links, skipping
 * names that start with a dot).  -1 with "PATH: reason" in e when a folder
 * cannot be read. */
int walk_dir(const char *root, struct walk_list *out, struct pea_err *e);
void walk_list_release(struct walk_list *l);

/* Read a whole file of at most max bytes into b (reset first).  -1 with the
 * reason in e (strerror, or the size over the limit, with the option that
 * sets it when opt is not NULL), naming nothing. */
int read_file_max(const char *path, uint64_t max, const char *opt, struct buf *b, struct pea_err *e);

#endif
