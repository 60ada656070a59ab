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

#include <errno.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int main(int argc, char **argv)
{
	const char *name = NULL;
	struct msrc_opts ms = {0};
	const struct cli_opt opts[] = {
		{0, "name", CLI_STR, &name, "NAME", "the manifest's name (default: MODEL's file name without .model)"},
		CLI_OPTS_MODEL_SOURCE(ms),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"publish", "publish a model for download through any HTTP cache or CDN", "[OPTIONS] MODEL DIR",
		"Copies MODEL to DIR/<sha256>.model (immutable: cache it forever) and writes\n"
		"the manifest DIR/NAME.json (name, sha256, size, digest, kind, algorithm,\n"
		"labels, created, signer and signature) atomically: a release is one rename.\n"
		"Clients load it with -m https://HOST/PATH/NAME.json.",
		opts, "  pea publish --verify ~/.pea/key.pub spam.model /srv/www/models/", 2, 2,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	msrc_configure(&ms);
	const char *src = args[0], *dir = args[1];
	struct pea_err e;
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
	char fp[17];
	size_t sl;
	const uint8_t *sig = model_section(m, SIGN_SECTION, &sl);
	if (sig && sign_signer(m, fp) == 0) {
		char b64[sodium_base64_ENCODED_LEN(SIGN_PK + 64, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, sizeof b64, sig, sl, sodium_base64_VARIANT_ORIGINAL);
		json_object_object_add(man, "signed_by", json_object_new_string(fp));
		json_object_object_add(man, "signature", json_object_new_string(b64));
	}
	const char *js = json_object_to_json_string_ext(man, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	snprintf(path, sizeof path, "%s/%s.json", dir, base);
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
