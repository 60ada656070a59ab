/* pea-publish - put a model where HTTP caches and CDNs can serve it.
 *
 * The model is copied to DIR/<sha256>.model: named by its content, it never
 * changes, so any cache may keep it forever.  DIR/NAME.json, the manifest,
 * is the only file that changes; it is replaced atomically, so a release
 * is one rename and clients see the old model or the new one. */
#include "afile.h"
#include "cli.h"
#include "msrc.h"
#include "sign.h"
#include "walk.h"

#include <errno.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The release number of the manifest at path, 0 when there is none.  A
 * manifest that is there but unreadable stops the publication: numbering
 * from 1 again would look like a rollback to every client. */
static int64_t last_release(const char *path)
{
	struct buf b = BUF_INIT;
	struct pea_err e;
	if (access(path, F_OK) && errno == ENOENT)
		return 0;
	if (read_file_max(path, MSRC_MANIFEST_MAX, NULL, &b, &e))
		die("%s: %s", path, e.msg);
	json_tokener *tok = json_tokener_new();
	json_object *o = json_tokener_parse_ex(tok, (const char *)b.p, (int)b.len), *v;
	buf_release(&b);
	int clean = json_tokener_get_error(tok) == json_tokener_success;
	json_tokener_free(tok);
	if (!clean || !json_object_is_type(o, json_type_object))
		die("%s: not a pea manifest (move it away to start the releases of this name again)", path);
	int64_t r = json_object_object_get_ex(o, "release", &v) ? json_object_get_int64(v) : 0;
	json_object_put(o);
	return r > 0 ? r : 0;
}

int main(int argc, char **argv)
{
	const char *name = NULL, *sign_key = NULL;
	struct msrc_opts ms = {0};
	const struct cli_opt opts[] = {
		{0, "name", CLI_STR, &name, "NAME", "the manifest's name (default: MODEL's file name without .model)"},
		{0, "sign", CLI_STR, &sign_key, "KEY", "sign the manifest with this secret key (clients with --verify refuse older releases)"},
		CLI_OPTS_MODEL_SOURCE(ms),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"publish", "publish a model for download through any HTTP cache or CDN", "[OPTIONS] MODEL DIR",
		"Copies MODEL to DIR/<sha256>.model (immutable: cache it forever) and writes\n"
		"the manifest DIR/NAME.json (name, sha256, size, digest, kind, algorithm,\n"
		"labels, created, release, signer and signature) atomically: a release is one\n"
		"rename.  Each publication of NAME numbers its release one above the last.\n"
		"With --sign the manifest is signed too, so clients with --verify refuse a\n"
		"release older than one they have seen (a server or cache serving an old,\n"
		"still signed model).  Clients load it with -m https://HOST/PATH/NAME.json.",
		opts, "  pea publish --sign ~/.pea/key --verify ~/.pea/key.pub spam.model /srv/www/models/", 2, 2,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	msrc_configure(&ms);
	const char *src = args[0], *dir = args[1];
	struct pea_err e;
	uint8_t *sk = NULL;
	if (sign_key) {
		if (sodium_init() < 0)
			die("libsodium failed to initialise");
		sk = sodium_malloc(SIGN_SK);
		if (!sk || key_load_secret(sign_key, sk, &e))
			die("%s: %s", sign_key, sk ? e.msg : "out of memory");
	}
	struct model *m = msrc_open(src, &e);
	if (!m)
		die("%s: %s", src, e.msg);
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		die("%s: not a directory", dir);
	if (sodium_init() < 0)
		die("libsodium failed to initialise");
	size_t n;
	const uint8_t *bytes = model_bytes(m, &n);
	uint8_t h[crypto_hash_sha256_BYTES];
	char hex[2 * sizeof h + 1];
	crypto_hash_sha256(h, bytes, n);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);

	char base[4096], path[8192];
	if (name) {
		snprintf(base, sizeof base, "%s", name);
	} else {
		const char *slash = strrchr(src, '/');
		snprintf(base, sizeof base, "%s", slash ? slash + 1 : src);
		size_t l = strlen(base);
		if (l > 6 && !strcmp(base + l - 6, ".model"))
			base[l - 6] = 0;
	}
	if (!*base || strchr(base, '/') || !strcmp(base, ".") || !strcmp(base, ".."))
		die_usage("--name '%s': a plain file name is needed", base);

	/* the immutable, content-named copy (kept if it is already there) */
	snprintf(path, sizeof path, "%s/%s.model", dir, hex);
	if (stat(path, &st) < 0 || (size_t)st.st_size != n) {
		struct afile af;
		afile_open(&af, path, 0644);
		afile_write(&af, bytes, n);
		afile_commit(&af);
	}

	json_object *man = json_object_new_object(), *meta = NULL;
	size_t ml;
	const char *mj = model_section(m, "meta", &ml);
	if (mj) {
		json_tokener *tok = json_tokener_new();
		meta = json_tokener_parse_ex(tok, mj, (int)ml);
		json_tokener_free(tok);
	}
	char created[32];
	time_t now = time(NULL);
	strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	json_object_object_add(man, "name", json_object_new_string(base));
	json_object_object_add(man, "model", json_object_new_string(path + strlen(dir) + 1));
	json_object_object_add(man, "sha256", json_object_new_string(hex));
	json_object_object_add(man, "size", json_object_new_int64((int64_t)n));
	json_object_object_add(man, "digest", json_object_new_string(model_digest(m)));
	const char *keys[] = {"kind", "algo", "labels", "fspace"};
	for (size_t i = 0; meta && i < sizeof keys / sizeof *keys; i++) {
		json_object *v;
		if (json_object_object_get_ex(meta, keys[i], &v))
			json_object_object_add(man, keys[i], json_object_get(v));
	}
	json_object_object_add(man, "created", json_object_new_string(created));
	snprintf(path, sizeof path, "%s/%s.json", dir, base);
	int64_t release = last_release(path) + 1;
	json_object_object_add(man, "release", json_object_new_int64(release));
	char fp[17];
	size_t sl;
	const uint8_t *sig = model_section(m, SIGN_SECTION, &sl);
	if (sig && sign_signer(m, fp) == 0) {
		char b64[sodium_base64_ENCODED_LEN(SIGN_PK + 64, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, sizeof b64, sig, sl, sodium_base64_VARIANT_ORIGINAL);
		json_object_object_add(man, "signed_by", json_object_new_string(fp));
		json_object_object_add(man, "signature", json_object_new_string(b64));
	}
	if (sk) {
		struct buf st = BUF_INIT;
		uint8_t msig[SIGN_BYTES], pk[SIGN_PK];
		char b64[sodium_base64_ENCODED_LEN(SIGN_BYTES, sodium_base64_VARIANT_ORIGINAL)];
		manifest_statement(&st, base, hex, n, release);
		sign_statement(sk, st.p, st.len, msig);
		buf_release(&st);
		crypto_sign_ed25519_sk_to_pk(pk, sk);
		key_fingerprint(pk, fp);
		sodium_bin2base64(b64, sizeof b64, msig, sizeof msig, sodium_base64_VARIANT_ORIGINAL);
		json_object_object_add(man, "manifest_signed_by", json_object_new_string(fp));
		json_object_object_add(man, "manifest_signature", json_object_new_string(b64));
		sodium_free(sk);
	}
	const char *js = json_object_to_json_string_ext(man, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	struct afile af;
	afile_open(&af, path, 0644);
	afile_write(&af, js, strlen(js));
	afile_write(&af, "\n", 1);
	afile_commit(&af);
	printf("%s -> %s/%s.model\n", path, dir, hex);
	json_object_put(man);
	json_object_put(meta);
	model_close(m);
	free(args);
	return fflush(stdout) ? 1 : 0;
}
