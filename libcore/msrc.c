/* msrc.c - see msrc.h.  The cache holds models/<sha256>.model (immutable,
 * written only after every check passed) and urls/<key>.json, one small
 * record per URL (its ETag, Last-Modified, the sha256 it gave, when), so
 * what a URL means is one atomic rename away from the next release. */
#include "msrc.h"
#include "afile.h"
#include "http.h"
#include "sign.h"
#include "url.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RECORD_MAX (64u << 10)
#define SHA_HEX 64

static struct msrc_opts cfg;
static int have_key;
static uint8_t verify_pk[SIGN_PK];
static char *cache_root;
static char *last_warning; /* so a reload loop does not repeat itself */

void msrc_configure(const struct msrc_opts *o)
{
	struct pea_err e;
	cfg = *o;
	if (o->verify) {
		if (key_load_public(o->verify, verify_pk, &e))
			die("%s", e.msg);
		have_key = 1;
	}
	if (o->timeout < 0 || o->timeout > 1e6)
		die_usage("--download-timeout must be between 0 and 1000000 seconds");
}

int msrc_is_url(const char *s)
{
	return !strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8);
}

static struct model *open_checked(const char *path, struct pea_err *e)
{
	struct model *m = model_open(path, e);
	if (m && have_key && sign_verify(m, verify_pk, e)) {
		model_close(m);
		return NULL;
	}
	return m;
}

struct model *msrc_open(const char *spec, struct pea_err *e)
{
	if (!msrc_is_url(spec))
		return open_checked(spec, e);
	char *path;
	if (msrc_fetch(spec, &path, e))
		return NULL;
	struct model *m = open_checked(path, e);
	free(path);
	return m;
}

/* ---- the cache ---- */

static int mkdir_p(char *p)
{
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		int rc = mkdir(p, 0755);
		*s = '/';
		if (rc && errno != EEXIST)
			return -1;
	}
	return mkdir(p, 0755) && errno != EEXIST ? -1 : 0;
}

/* A download killed mid-way (SIGKILL, a crash) leaves its .part file;
 * one that old is no one's any more. */
static void sweep_parts(const char *dir)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s/models", dir);
	DIR *d = opendir(buf_cstr(&b));
	struct dirent *de;
	double cutoff = (double)time(NULL) - 3600 - 2 * (cfg.timeout > 0 ? cfg.timeout : 300);
	while (d && (de = readdir(d))) {
		struct stat st;
		if (strncmp(de->d_name, ".part-", 6) || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    (double)st.st_mtime > cutoff)
			continue;
		unlinkat(dirfd(d), de->d_name, 0);
	}
	if (d)
		closedir(d);
	buf_release(&b);
}

static const char *root(struct pea_err *e)
{
	if (cache_root)
		return cache_root;
	struct buf b = BUF_INIT;
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	if (cfg.cache_dir)
		buf_adds(&b, cfg.cache_dir);
	else if (x && *x == '/')
		buf_addf(&b, "%s/pea", x);
	else if (home && *home)
		buf_addf(&b, "%s/.cache/pea", home);
	else {
		err_set(e, "no cache directory: set XDG_CACHE_HOME or give --cache-dir");
		return NULL;
	}
	char *r = xstrdup(buf_cstr(&b));
	buf_release(&b);
	char *sub = xmalloc(strlen(r) + 16);
	const char *dirs[] = {"/models", "/urls"};
	for (int i = 0; i < 2; i++) {
		snprintf(sub, strlen(r) + 16, "%s%s", r, dirs[i]);
		if (mkdir_p(sub)) {
			err_set(e, "cannot create the cache directory %s: %s", sub, strerror(errno));
			free(sub);
			free(r);
			return NULL;
		}
	}
	free(sub);
	cache_root = r;
	sweep_parts(r);
	return r;
}

static char *model_path(const char *dir, const char *sha)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s/models/%s.model", dir, sha);
	return (char *)buf_cstr(&b);
}

static char *record_path(const char *dir, const char *url)
{
	uint8_t h[16];
	char hex[33];
	crypto_generichash(h, sizeof h, (const uint8_t *)url, strlen(url), NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s/urls/%s.json", dir, hex);
	return (char *)buf_cstr(&b);
}

/* What a URL gave last. */
struct rec {
	char *etag, *lm;
	char sha[SHA_HEX + 1];
	int64_t fetched;
	/* the newest release whose manifest signature was checked (--verify),
	 * and its model: carried over by fetches without --verify */
	int64_t pinned;
	char pinned_sha[SHA_HEX + 1];
};

static void rec_pin(struct rec *r, int64_t release, const char *sha)
{
	r->pinned = release;
	memcpy(r->pinned_sha, sha, SHA_HEX + 1);
}

static void rec_free(struct rec *r)
{
	free(r->etag);
	free(r->lm);
	memset(r, 0, sizeof *r);
}

static int is_sha(const char *s)
{
	if (strlen(s) != SHA_HEX)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* 0 when the URL has a record whose model is in the cache.  A record whose
 * model was deleted still gives its pin (the release --verify saw signed),
 * and nothing else: a rollback stays refused after the cache is pruned. */
static int rec_load(const char *dir, const char *url, struct rec *r)
{
	memset(r, 0, sizeof *r);
	char *p = record_path(dir, url);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	free(p);
	if (fd < 0)
		return -1;
	char *txt = xmalloc(RECORD_MAX + 1);
	ssize_t n = read(fd, txt, RECORD_MAX + 1);
	close(fd);
	json_object *o = NULL;
	if (n > 0 && n <= RECORD_MAX) {
		json_tokener *tok = json_tokener_new();
		o = json_tokener_parse_ex(tok, txt, (int)n);
		json_tokener_free(tok);
	}
	free(txt);
	const char *u = o ? jstr(o, "url") : NULL, *sha = o ? jstr(o, "sha256") : NULL;
	int ok = u && !strcmp(u, url) && sha && is_sha(sha);
	if (ok) {
		const char *s;
		memcpy(r->sha, sha, SHA_HEX + 1);
		if ((s = jstr(o, "etag")))
			r->etag = xstrdup(s);
		if ((s = jstr(o, "last_modified")))
			r->lm = xstrdup(s);
		json_object *v;
		if (json_object_object_get_ex(o, "fetched", &v))
			r->fetched = json_object_get_int64(v);
		const char *ps = jstr(o, "signed_sha256");
		if (json_object_object_get_ex(o, "signed_release", &v) && ps && is_sha(ps))
			rec_pin(r, json_object_get_int64(v), ps);
		char *mp = model_path(dir, r->sha);
		ok = access(mp, R_OK) == 0;
		free(mp);
	}
	json_object_put(o);
	if (!ok) {
		struct rec pin = *r;
		memset(r, 0, sizeof *r);
		rec_pin(r, pin.pinned, pin.pinned_sha);
		rec_free(&pin);
	}
	return ok ? 0 : -1;
}

static void rec_save(const char *dir, const char *url, const struct rec *r)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "url", json_object_new_string(url));
	json_object_object_add(o, "sha256", json_object_new_string(r->sha));
	if (r->etag)
		json_object_object_add(o, "etag", json_object_new_string(r->etag));
	if (r->lm)
		json_object_object_add(o, "last_modified", json_object_new_string(r->lm));
	json_object_object_add(o, "fetched", json_object_new_int64(r->fetched));
	if (r->pinned) {
		json_object_object_add(o, "signed_release", json_object_new_int64(r->pinned));
		json_object_object_add(o, "signed_sha256", json_object_new_string(r->pinned_sha));
	}
	const char *js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *p = record_path(dir, url);
	struct afile af;
	afile_open(&af, p, 0644);
	afile_write(&af, js, strlen(js));
	afile_write(&af, "\n", 1);
	afile_commit(&af);
	free(p);
	json_object_put(o);
}

char *msrc_cached(const char *url)
{
	struct pea_err e;
	const char *dir = root(&e);
	char *u = url_normalize(url);
	struct rec r;
	char *p = NULL;
	if (dir && u && !rec_load(dir, u, &r)) {
		p = model_path(dir, r.sha);
		rec_free(&r);
	}
	free(u);
	return p;
}

/* ---- transfers ---- */

static http_client *client(uint64_t max_body)
{
	struct http_opts o = HTTP_OPTS_INIT;
	o.max_conns = o.per_host = 1;
	o.robots = 0; /* a file asked for by name, not a crawl */
	o.max_body = max_body;
	o.timeout = cfg.timeout > 0 ? cfg.timeout : 300;
	o.connect_timeout = o.timeout < 10 ? o.timeout : 10;
	o.retries = 1;
	o.retry_wait = 0.5;
	return http_new(&o);
}

static uint64_t max_size(void)
{
	return cfg.max_size ? cfg.max_size : (uint64_t)1 << 30;
}

struct dl {
	int fd, werr, too_big;
	uint64_t n, max;
	crypto_hash_sha256_state st;
};

static int on_data(void *user, const char *url, long status, const uint8_t *p, size_t n)
{
	struct dl *d = user;
	(void)url, (void)status;
	if (!n) { /* the headers of a 2xx: (re)start, after a retry too */
		d->n = 0;
		crypto_hash_sha256_init(&d->st);
		if (ftruncate(d->fd, 0) || lseek(d->fd, 0, SEEK_SET)) {
			d->werr = errno;
			return 1;
		}
		return 0;
	}
	if ((d->n += n) > d->max) {
		d->too_big = 1;
		return 1;
	}
	crypto_hash_sha256_update(&d->st, p, n);
	while (n) {
		ssize_t w = write(d->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			d->werr = w < 0 ? errno : ENOSPC;
			return 1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Download a model into the cache.  want: the sha256 a manifest named (or
 * NULL: the URL is the one the user gave, and errors need not repeat it),
 * size its size (or 0); old: what the URL gave last, for a conditional
 * request (a model URL only).  Returns 0 with the sha256 in got, 1 when
 * the server said 304, -1 with the reason. */
static int download(const char *dir, const char *url, const char *want, uint64_t size, const struct rec *old,
		    char got[SHA_HEX + 1], struct rec *fresh, struct pea_err *e)
{
	struct buf pre = BUF_INIT;
	if (want)
		buf_addf(&pre, "%s: ", url);
	const char *who = buf_cstr(&pre);
	struct buf tmp = BUF_INIT;
	buf_addf(&tmp, "%s/models/.part-XXXXXX", dir);
	char *tp = (char *)buf_cstr(&tmp);
	struct dl d = {.max = max_size()};
	d.fd = mkstemp(tp);
	if (d.fd < 0) {
		err_set(e, "cannot create a file in the cache %s/models: %s", dir, strerror(errno));
		buf_release(&tmp);
		buf_release(&pre);
		return -1;
	}
	crypto_hash_sha256_init(&d.st);
	http_client *h = client(d.max);
	struct http_req q = {.stream = on_data, .bounded = 1};
	if (old) {
		q.etag = old->etag;
		q.last_modified = old->lm;
	}
	http_add_req(h, url, &d, &q);
	const struct http_resp *r = http_next(h, 1);
	int rc = -1;
	if (d.werr)
		err_set(e, "cannot write to the cache %s: %s", dir, strerror(d.werr));
	else if (d.too_big || (r->error && !strncmp(r->error, "body larger than", 16)))
		err_set(e, "%sthe model is larger than %llu bytes (--max-download): not downloaded", who,
			(unsigned long long)d.max);
	else if (r->error)
		err_set(e, "%s%s", who, r->error);
	else if (r->status == 304 && old)
		rc = 1;
	else if (r->status != 200)
		err_set(e, "%shttp status %ld", who, r->status);
	else if (size && d.n != size)
		err_set(e, "%s%llu bytes came, the manifest says %llu: refused", who, (unsigned long long)d.n,
			(unsigned long long)size);
	else
		rc = 0;
	if (!rc) {
		uint8_t hash[crypto_hash_sha256_BYTES];
		crypto_hash_sha256_final(&d.st, hash);
		sodium_bin2hex(got, SHA_HEX + 1, hash, sizeof hash);
		if (want && strcmp(got, want)) {
			err_set(e, "%sits sha256 is %.16s..., the manifest says %.16s...: refused (damaged or tampered with)",
				who, got, want);
			rc = -1;
		}
	}
	if (!rc && fsync(d.fd)) {
		err_set(e, "cannot write to the cache %s: %s", dir, strerror(errno));
		rc = -1;
	}
	if (!rc) {
		/* the model's own digest and structure, and its signature */
		struct pea_err me;
		struct model *m = open_checked(tp, &me);
		if (!m) {
			err_set(e, "%srefused: %s", who, me.msg);
			rc = -1;
		}
		model_close(m);
	}
	if (!rc) {
		char *fin = model_path(dir, got);
		if (fchmod(d.fd, 0644) || rename(tp, fin)) {
			err_set(e, "cannot write to the cache %s: %s", dir, strerror(errno));
			rc = -1;
		}
		free(fin);
		fresh->etag = r->etag ? xstrdup(r->etag) : NULL;
		fresh->lm = r->last_modified ? xstrdup(r->last_modified) : NULL;
	}
	if (rc)
		unlink(tp);
	close(d.fd);
	http_free(h);
	buf_release(&tmp);
	buf_release(&pre);
	return rc;
}

static int path_ends(const char *url, const char *suffix)
{
	const char *p = url_path(url);
	size_t n = p ? strcspn(p, "?#") : 0, k = strlen(suffix);
	return n >= k && !strncasecmp(p + n - k, suffix, k);
}

void manifest_statement(struct buf *b, const char *name, const char *sha256, uint64_t size, int64_t release)
{
	buf_addf(b, "pea-manifest 1\nname %s\nsha256 %s\nsize %llu\nrelease %lld\n", name, sha256,
		 (unsigned long long)size, (long long)release);
}

/* The manifest's own signature, under --verify: it must be the key's and
 * cover this manifest, which must be the one its URL names (NAME.json),
 * and its release must not go back from one this cache has seen signed.
 * A manifest without a signature is taken (its model's signature is
 * checked all the same) unless the URL gave a signed one before: then its
 * signature was stripped.  0, with *is_signed, or -1. */
static int check_release(const char *url, json_object *o, const char *sha, int64_t size, int64_t release,
			 const struct rec *old, int *is_signed, struct pea_err *e)
{
	const char *sig64 = jstr(o, "manifest_signature"), *name = jstr(o, "name");
	*is_signed = 0;
	if (!sig64) {
		if (old && old->pinned) {
			err_set(e, "the manifest is not signed, where release %lld was: refused", (long long)old->pinned);
			return -1;
		}
		return 0;
	}
	uint8_t sig[SIGN_BYTES];
	size_t n = 0;
	if (sodium_base642bin(sig, sizeof sig, sig64, strlen(sig64), NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) ||
	    n != sizeof sig || !name || release < 1) {
		err_set(e, "not a pea manifest: a bad \"manifest_signature\", \"name\" or \"release\"");
		return -1;
	}
	struct buf st = BUF_INIT;
	manifest_statement(&st, name, sha, (uint64_t)size, release);
	int bad = sign_statement_check(verify_pk, st.p, st.len, sig);
	buf_release(&st);
	if (bad) {
		char fp[17];
		key_fingerprint(verify_pk, fp);
		err_set(e, "the manifest's signature is not key %s's, or the manifest was changed since: refused", fp);
		return -1;
	}
	/* NAME.json: a signed manifest of another name is another release line */
	const char *p = strrchr(url, '/');
	size_t k = p ? strcspn(p + 1, "?#") : 0;
	if (!p || k != strlen(name) + 5 || strncmp(p + 1, name, strlen(name))) {
		err_set(e, "the manifest is signed for '%.100s', not for this URL: refused", name);
		return -1;
	}
	if (old && old->pinned) {
		if (release < old->pinned) {
			err_set(e, "release %lld is older than release %lld, seen before: refused (a rollback)",
				(long long)release, (long long)old->pinned);
			return -1;
		}
		if (release == old->pinned && strcmp(sha, old->pinned_sha)) {
			err_set(e, "release %lld names another model than it did before: refused", (long long)release);
			return -1;
		}
	}
	*is_signed = 1;
	return 0;
}

/* A manifest (pea publish): revalidate it, and download the model it
 * names unless the cache has it.  0 with fresh filled, or -1.  old may be
 * a pin alone (no sha: nothing to revalidate). */
static int via_manifest(const char *dir, const char *url, const struct rec *old, struct rec *fresh,
			struct pea_err *e)
{
	http_client *h = client(MSRC_MANIFEST_MAX);
	struct http_req q = {.accept = "application/json"};
	/* under --verify, a release taken without a check (no --verify) is not
	 * revalidated but read again: a 304 would keep it unchecked */
	if (old && old->sha[0] && !(have_key && old->pinned && strcmp(old->sha, old->pinned_sha))) {
		q.etag = old->etag;
		q.last_modified = old->lm;
	}
	http_add_req(h, url, NULL, &q);
	const struct http_resp *r = http_next(h, 1);
	int rc = -1;
	json_object *o = NULL;
	char *murl = NULL;
	if (r->error) {
		err_set(e, "%s", r->error);
		goto out;
	}
	if (r->status == 304 && old && old->sha[0]) {
		memcpy(fresh->sha, old->sha, sizeof fresh->sha);
		fresh->etag = old->etag ? xstrdup(old->etag) : NULL;
		fresh->lm = old->lm ? xstrdup(old->lm) : NULL;
		rec_pin(fresh, old->pinned, old->pinned_sha);
		rc = 0;
		goto out;
	}
	if (r->status != 200) {
		err_set(e, "http status %ld", r->status);
		goto out;
	}
	json_tokener *tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, (const char *)r->body, (int)r->len);
	int clean = json_tokener_get_error(tok) == json_tokener_success;
	json_tokener_free(tok);
	const char *sha = o ? jstr(o, "sha256") : NULL, *mref = o ? jstr(o, "model") : NULL;
	json_object *sz;
	int64_t size = o && json_object_object_get_ex(o, "size", &sz) && json_object_is_type(sz, json_type_int)
			       ? json_object_get_int64(sz)
			       : -1;
	if (!clean || !json_object_is_type(o, json_type_object)) {
		err_set(e, "not a pea manifest: not a JSON object");
		goto out;
	}
	if (!sha || !is_sha(sha) || !mref || size <= 0) {
		err_set(e, "not a pea manifest: it needs \"model\", \"sha256\" (64 hex digits) and \"size\"");
		goto out;
	}
	json_object *rv;
	int64_t release = json_object_object_get_ex(o, "release", &rv) && json_object_is_type(rv, json_type_int)
				  ? json_object_get_int64(rv)
				  : 0;
	int is_signed = 0;
	if (have_key && check_release(url, o, sha, size, release, old, &is_signed, e))
		goto out;
	if ((uint64_t)size > max_size()) {
		err_set(e, "the model is %lld bytes, more than --max-download %llu: not downloaded", (long long)size,
			(unsigned long long)max_size());
		goto out;
	}
	/* a model that --verify would refuse is not worth downloading (the
	 * model's own signature is checked all the same) */
	const char *by = jstr(o, "signed_by");
	char fp[17];
	if (have_key) {
		key_fingerprint(verify_pk, fp);
		if (!by) {
			err_set(e, "the manifest's model is not signed (expected key %s): not downloaded", fp);
			goto out;
		}
		if (strcmp(by, fp)) {
			err_set(e, "the manifest's model is signed by key %.16s, not by %s: not downloaded", by, fp);
			goto out;
		}
	}
	if (!(murl = url_resolve(r->final_url, mref))) {
		err_set(e, "the manifest's model '%.200s' is not an http(s) URL", mref);
		goto out;
	}
	char *mp = model_path(dir, sha);
	int cached = access(mp, R_OK) == 0;
	free(mp);
	char got[SHA_HEX + 1];
	struct rec ignore = {0};
	if (!cached && download(dir, murl, sha, (uint64_t)size, NULL, got, &ignore, e))
		goto out;
	rec_free(&ignore);
	memcpy(fresh->sha, sha, SHA_HEX + 1);
	fresh->etag = r->etag ? xstrdup(r->etag) : NULL;
	fresh->lm = r->last_modified ? xstrdup(r->last_modified) : NULL;
	if (is_signed)
		rec_pin(fresh, release, sha);
	else if (old)
		rec_pin(fresh, old->pinned, old->pinned_sha);
	rc = 0;
out:
	free(murl);
	json_object_put(o);
	http_free(h);
	return rc;
}

int msrc_fetch(const char *spec, char **path, struct pea_err *e)
{
	const char *dir = root(e);
	if (!dir)
		return -1;
	char *url = url_normalize(spec);
	if (!url) {
		err_set(e, "not a valid http(s) URL");
		return -1;
	}
	/* old: what the URL gave, or (have 0) its pin alone */
	struct rec old, fresh = {0};
	int have = rec_load(dir, url, &old) == 0;
	struct pea_err fe;
	int rc;
	if (cfg.offline) {
		rc = have ? 0 : -1;
		if (!have)
			err_set(e, "not in the cache %s (--offline)", dir);
		else
			*path = model_path(dir, old.sha);
		goto out;
	}
	if (path_ends(url, ".json")) {
		rc = via_manifest(dir, url, have || old.pinned ? &old : NULL, &fresh, &fe);
	} else {
		rc = download(dir, url, NULL, 0, have ? &old : NULL, fresh.sha, &fresh, &fe);
		if (rc == 1) { /* not modified */
			memcpy(fresh.sha, old.sha, sizeof fresh.sha);
			fresh.etag = old.etag ? xstrdup(old.etag) : NULL;
			fresh.lm = old.lm ? xstrdup(old.lm) : NULL;
			rc = 0;
		}
	}
	if (!rc) {
		fresh.fetched = (int64_t)time(NULL);
		rec_save(dir, url, &fresh);
		*path = model_path(dir, fresh.sha);
		free(last_warning);
		last_warning = NULL;
	} else if (have && !cfg.no_stale) {
		char when[32] = "?";
		time_t t = (time_t)old.fetched;
		struct tm tm;
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		struct buf w = BUF_INIT;
		buf_addf(&w, "%s: %s: using the model cached on %s (sha256 %.16s...)", spec, fe.msg, when, old.sha);
		if (!last_warning || strcmp(last_warning, buf_cstr(&w)))
			warning("%s", buf_cstr(&w));
		free(last_warning);
		last_warning = xstrdup(buf_cstr(&w));
		buf_release(&w);
		*path = model_path(dir, old.sha);
		rc = 0;
	} else {
		err_set(e, "%s%s", fe.msg, have ? " (--no-stale: the cached model is not used)" : "");
		rc = -1;
	}
out:
	rec_free(&old);
	rec_free(&fresh);
	free(url);
	return rc;
}
