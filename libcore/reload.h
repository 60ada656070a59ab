/* reload.h - a model that may be replaced while a command runs.
 *
 * A deployed model never learns; a trainer writes a fresh one (atomically,
 * model.h) and the commands that serve it pick it up: between batches of
 * records, reload_check() looks at the file's identity (device, inode,
 * modification time, size: a rename over it changes them), and when it
 * changed, opens and verifies the new model completely through the
 * caller's opener, and only then swaps it in.  A new file that does not
 * open is reported once and the old model stays, so no record is dropped
 * and none is served by half a model.  The opener is the caller's, so a
 * source of models other than a local file can reuse the same steps.
 *
 * A path that is an http(s) URL (msrc.h) is re-checked every few seconds
 * (reload_set_interval) instead: the manifest is revalidated, a new model
 * downloaded and verified into the cache, and the identity is that of the
 * cached model file, so the same steps follow; the switch is printed on
 * stderr. */
#ifndef PEA_RELOAD_H
#define PEA_RELOAD_H

#include "err.h"

#include <stdint.h>

/* The options of a command that serves a model (cli.h); `every` defaults
 * to 60 and goes to reload_set_interval. */
#define CLI_OPTS_RELOAD(on, every) \
	{0, "reload", CLI_FLAG, on, NULL, "use a new model as soon as it replaces MODEL (a URL: checked every --reload-every seconds)"}, \
	{0, "reload-every", CLI_DBL, every, "SECONDS", "--reload of a URL: seconds between checks (default 60)"}

/* Open and fully check a model; NULL with the reason in e. */
typedef void *(*reload_open_fn)(void *ctx, const char *path, struct pea_err *e);
typedef void (*reload_free_fn)(void *model);

struct reload_id {
	uint64_t dev, ino, size;
	int64_t mtime_ns;
	int ok; /* the file could be looked at */
};

struct reload;

/* `model` is the one already open from `path` (its identity is taken now). */
struct reload *reload_new(const char *path, void *model, reload_open_fn open, reload_free_fn free,
			  void *ctx);
/* Seconds between two checks of a URL (default 60); local files are
 * checked at every call. */
void reload_set_interval(struct reload *r, double seconds);
/* The model now in use. */
void *reload_model(const struct reload *r);
/* Call where no thread uses the model (in_on_unit's hook runs there,
 * before each unit).  1 when a new model was swapped in
 * (the old one is freed), else 0.  Never fails: a bad new file is named
 * in a warning once, and the old model goes on. */
int reload_check(struct reload *r);
/* models swapped in so far */
uint64_t reload_count(const struct reload *r);
/* frees the model in use too */
void reload_free(struct reload *r);

/* The identity of a file as reload_check sees it. */
void reload_stat(const char *path, struct reload_id *id);

#endif
