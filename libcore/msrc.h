/* msrc.h - where models come from: the one way every command opens a model
 * named by -m/--model (or --init, --merge, --show...).
 *
 * A local path is mapped (model.h).  An http(s) URL is fetched into a
 * cache, $XDG_CACHE_HOME/pea (or --cache-dir), and mapped from there:
 *
 *  - a URL whose path ends in ".json" is a manifest written by pea publish:
 *    it names the model by its sha256, so a model already in the cache is
 *    never downloaded again, and the manifest, the one mutable file, is
 *    revalidated with If-None-Match;
 *  - any other URL is the model file itself, revalidated the same way.
 *
 * A download goes to a temporary file in the cache and is checked (size,
 * sha256, the model's own digest and structure, the signature with
 * --verify) before it is renamed to models/<sha256>.model, so a partial,
 * damaged or forged download never leaves a usable-looking file.  When the
 * server cannot be reached or sends something refused, a model the URL gave
 * before is used from the cache, with a warning (stale-if-error), unless
 * --no-stale; --offline uses the cache alone.
 *
 * With --verify PUBKEY the model must carry a valid signature by that key
 * (sign.h), checked on every load before anything in it is used. */
#ifndef PEA_MSRC_H
#define PEA_MSRC_H

#include "model.h"
#include "util.h"

struct msrc_opts {
	const char *verify;    /* public key file, or NULL */
	const char *cache_dir; /* NULL: $XDG_CACHE_HOME/pea, else ~/.cache/pea */
	int offline, no_stale;
	uint64_t max_size;     /* bytes of a downloaded model; 0: 1 GiB */
	double timeout;	       /* seconds a download may take; 0: 300 */
};

#define CLI_OPTS_MODEL_SOURCE(ms) \
	{0, "verify", CLI_STR, &(ms).verify, "PUBKEY", "refuse a model that is not signed by this key"}, \
	{0, "offline", CLI_FLAG, &(ms).offline, NULL, "-m URL: use the cached model only, never the network"}, \
	{0, "no-stale", CLI_FLAG, &(ms).no_stale, NULL, "-m URL: fail instead of using the cached model when the URL fails"}, \
	{0, "cache-dir", CLI_STR, &(ms).cache_dir, "DIR", "-m URL: keep downloaded models in DIR (default $XDG_CACHE_HOME/pea)"}, \
	{0, "max-download", CLI_SIZE, &(ms).max_size, "SIZE", "-m URL: refuse a model larger than SIZE (default 1G)"}, \
	{0, "download-timeout", CLI_DBL, &(ms).timeout, "SECONDS", "-m URL: give up a transfer after SECONDS (default 300)"}

/* Take the options (and load the key) once, after option parsing; dies on
 * a bad key file or setting.  Commands that never call it get the
 * defaults. */
void msrc_configure(const struct msrc_opts *o);
/* Open and check a model; NULL with the reason in e. */
struct model *msrc_open(const char *spec, struct pea_err *e);

/* the largest manifest a client reads */
#define MSRC_MANIFEST_MAX (1u << 20)

/* The statement a manifest's signature covers (pea publish --sign): its
 * name, the model's sha256 and size, and the release number, which only
 * grows, so a client that has seen release N refuses an older one (a
 * server or cache serving an old, still properly signed release). */
void manifest_statement(struct buf *b, const char *name, const char *sha256, uint64_t size, int64_t release);

/* an http:// or https:// model source */
int msrc_is_url(const char *spec);
/* Bring the model a URL names into the cache (revalidating, downloading,
 * or falling back to the cached copy as above) and give its path in the
 * cache (malloc'd).  -1 with the reason in e. */
int msrc_fetch(const char *url, char **path, struct pea_err *e);
/* The cached model the URL gave last, without any network (malloc'd), or
 * NULL. */
char *msrc_cached(const char *url);

#endif
