/* reload.c - see reload.h.  A stat() per batch costs a microsecond; the
 * model is opened only when the identity moved, and a file that failed is
 * not tried again until it changes once more. */
#include "reload.h"

#include <sys/stat.h>

struct reload {
	char *path;
	void *model, *ctx;
	reload_open_fn open;
	reload_free_fn free;
	struct reload_id cur, bad; /* in use; last one that would not open */
	uint64_t count;
};

void reload_stat(const char *path, struct reload_id *id)
{
	struct stat st;
	memset(id, 0, sizeof *id);
	if (stat(path, &st))
		return;
	id->dev = (uint64_t)st.st_dev;
	id->ino = (uint64_t)st.st_ino;
	id->size = (uint64_t)st.st_size;
	id->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	id->ok = 1;
}

static int same(const struct reload_id *a, const struct reload_id *b)
{
	return a->ok == b->ok && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns;
}

struct reload *reload_new(const char *path, void *model, reload_open_fn open, reload_free_fn free, void *ctx)
{
	struct reload *r = xcalloc(1, sizeof *r);
	r->path = xstrdup(path);
	r->model = model;
	r->open = open;
	r->free = free;
	r->ctx = ctx;
	reload_stat(path, &r->cur);
	return r;
}

void *reload_model(const struct reload *r) { return r->model; }
uint64_t reload_count(const struct reload *r) { return r->count; }

int reload_check(struct reload *r)
{
	struct reload_id id;
	reload_stat(r->path, &id);
	/* gone (between an unlink and a rename) or unchanged: keep serving */
	if (!id.ok || same(&id, &r->cur) || same(&id, &r->bad))
		return 0;
	struct pea_err e;
	void *m = r->open(r->ctx, r->path, &e);
	if (!m) {
		warning("%s: the new model is not used: %s (the previous one goes on)", r->path, e.msg);
		r->bad = id;
		return 0;
	}
	r->free(r->model);
	r->model = m;
	r->cur = id;
	r->count++;
	return 1;
}

void reload_free(struct reload *r)
{
	if (!r)
		return;
	r->free(r->model);
	free(r->path);
	free(r);
}
