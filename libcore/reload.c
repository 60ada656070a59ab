/* reload.c - see reload.h.  A stat() per batch costs a microsecond; the
 * model is opened only when the identity moved, and a file that failed is
 * not tried again until it changes once more. */
#include "reload.h"
#include "msrc.h"

#include <sys/stat.h>

struct reload {
	char *path;
	void *model, *ctx;
	reload_open_fn open;
	reload_free_fn free;
	struct reload_id cur, bad; /* in use; last one that would not open */
	uint64_t count;
	int remote;	   /* a URL: checked every `every` seconds */
	double every, next;
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

/* the cached file a URL's model was just opened from */
static void cached_stat(const char *url, struct reload_id *id)
{
	char *p = msrc_cached(url);
	memset(id, 0, sizeof *id);
	if (p)
		reload_stat(p, id);
	free(p);
}

struct reload *reload_new(const char *path, void *model, reload_open_fn open, reload_free_fn free, void *ctx)
{
	struct reload *r = xcalloc(1, sizeof *r);
	r->path = xstrdup(path);
	r->model = model;
	r->open = open;
	r->free = free;
	r->ctx = ctx;
	if ((r->remote = msrc_is_url(path))) {
		cached_stat(path, &r->cur);
		r->every = 60;
		r->next = now_sec() + r->every;
	} else {
		reload_stat(path, &r->cur);
	}
	return r;
}

void reload_set_interval(struct reload *r, double seconds)
{
	r->every = seconds;
	r->next = now_sec() + seconds;
}

void *reload_model(const struct reload *r) { return r->model; }
uint64_t reload_count(const struct reload *r) { return r->count; }

int reload_check(struct reload *r)
{
	struct reload_id id;
	struct pea_err e;
	char *cached = NULL;
	if (r->remote) {
		double now = now_sec();
		if (now < r->next)
			return 0;
		r->next = now + r->every;
		/* a failure here was said by msrc (stale-if-error), or is said now */
		if (msrc_fetch(r->path, &cached, &e)) {
			warning("%s: %s (the model in use goes on)", r->path, e.msg);
			return 0;
		}
		reload_stat(cached, &id);
	} else {
		reload_stat(r->path, &id);
	}
	/* gone (between an unlink and a rename) or unchanged: keep serving */
	if (!id.ok || same(&id, &r->cur) || same(&id, &r->bad)) {
		free(cached);
		return 0;
	}
	void *m = r->open(r->ctx, r->path, &e);
	if (!m) {
		warning("%s: the new model is not used: %s (the previous one goes on)", r->path, e.msg);
		r->bad = id;
		free(cached);
		return 0;
	}
	if (cached) {
		const char *base = strrchr(cached, '/');
		note("%s: switched to the new model %.16s...", r->path, base ? base + 1 : cached);
	}
	free(cached);
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
