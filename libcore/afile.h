/* afile.h - files written atomically: into a temporary file beside the
 * target, renamed over it only when complete.  A reader never sees half a
 * model, and a failed or interrupted run leaves the old file in place (the
 * temporary file is removed at exit when not committed). */
#ifndef PEA_AFILE_H
#define PEA_AFILE_H

#include <stddef.h>

struct afile {
	char *path, *tmp;
	int fd;
};

/* Create PATH.tmp-XXXXXX with the given mode; dies with a message on error.
 * An existing PATH that is not a regular file (a device, a pipe) is opened
 * and written in place instead. */
void afile_open(struct afile *a, const char *path, int mode);
/* Write all of p or die naming the file. */
void afile_write(struct afile *a, const void *p, size_t n);
/* fsync, close and rename into place; dies on error */
void afile_commit(struct afile *a);
/* remove the temporary file */
void afile_abort(struct afile *a);

#endif
