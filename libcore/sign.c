/* sign.c - see sign.h. */
#include "sign.h"
#include "afile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char secret_tag[] = "pea-ed25519-secret-key ";
static const char public_tag[] = "pea-ed25519-public-key ";

static void init(void)
{
	if (sodium_init() < 0)
		die("libsodium failed to initialise");
}

static void write_key(const char *path, const char *tag, const uint8_t *k, size_t n, int mode)
{
	char b64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
	struct afile af;
	sodium_bin2base64(b64, sizeof b64, k, n, sodium_base64_VARIANT_ORIGINAL);
	afile_open(&af, path, mode);
	afile_write(&af, tag, strlen(tag));
	afile_write(&af, b64, strlen(b64));
	afile_write(&af, "\n", 1);
	afile_commit(&af);
	sodium_memzero(b64, sizeof b64);
}

int key_generate(const char *path, struct pea_err *e)
{
	uint8_t pk[SIGN_PK], sk[SIGN_SK];
	char pub[4096];
	init();
	snprintf(pub, sizeof pub, "%s.pub", path);
	if (access(path, F_OK) == 0 || access(pub, F_OK) == 0) {
		err_set(e, "%s or %s exists: refusing to overwrite a key", path, pub);
		return -1;
	}
	crypto_sign_keypair(pk, sk);
	write_key(path, secret_tag, sk, SIGN_SK, 0600);
	write_key(pub, public_tag, pk, SIGN_PK, 0644);
	sodium_memzero(sk, sizeof sk);
	return 0;
}

/* Read one key line of at most 200 bytes; the file must be small. */
static int read_key(const char *path, const char *tag, uint8_t *k, size_t n, struct pea_err *e)
{
	char line[256];
	size_t len, got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(e, "%s: %s", path, strerror(errno));
		return -1;
	}
	ssize_t r = read(fd, line, sizeof line - 1);
	close(fd);
	if (r < 0) {
		err_set(e, "%s: %s", path, strerror(errno));
		return -1;
	}
	line[r] = 0;
	len = strcspn(line, "\r\n");
	line[len] = 0;
	size_t tl = strlen(tag);
	if (len <= tl || strncmp(line, tag, tl) ||
	    sodium_base642bin(k, n, line + tl, len - tl, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) ||
	    got != n) {
		sodium_memzero(line, sizeof line);
		err_set(e, "%s: not a pea %s key file", path, strstr(tag, "secret") ? "secret" : "public");
		return -1;
	}
	sodium_memzero(line, sizeof line);
	return 0;
}

int key_load_secret(const char *path, uint8_t sk[SIGN_SK], struct pea_err *e)
{
	struct stat st;
	init();
	if (read_key(path, secret_tag, sk, SIGN_SK, e))
		return -1;
	if (stat(path, &st) == 0 && (st.st_mode & 077)) {
		sodium_memzero(sk, SIGN_SK);
		err_set(e, "%s: a secret key must be readable by its owner only (chmod 600)", path);
		return -1;
	}
	return 0;
}

int key_load_public(const char *path, uint8_t pk[SIGN_PK], struct pea_err *e)
{
	uint8_t sk[SIGN_SK];
	init();
	if (read_key(path, public_tag, pk, SIGN_PK, e) == 0)
		return 0;
	struct pea_err e2;
	if (read_key(path, secret_tag, sk, SIGN_SK, &e2) == 0) {
		crypto_sign_ed25519_sk_to_pk(pk, sk);
		sodium_memzero(sk, sizeof sk);
		return 0;
	}
	return -1;
}

void key_fingerprint(const uint8_t pk[SIGN_PK], char out[17])
{
	uint8_t h[8];
	crypto_generichash(h, sizeof h, pk, SIGN_PK, NULL, 0);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* the digest every signature covers */
struct sig_state {
	crypto_generichash_state st;
};

static void digest_add(struct sig_state *s, const char *name, const void *p, size_t n)
{
	uint8_t hdr[24] = {0};
	memcpy(hdr, name, strlen(name) < 16 ? strlen(name) : 15);
	put_le64(hdr + 16, n);
	crypto_generichash_update(&s->st, hdr, sizeof hdr);
	crypto_generichash_update(&s->st, p, n);
}

static uint8_t *default_key;

void sign_all_with(const uint8_t sk[SIGN_SK])
{
	if (!default_key)
		default_key = sodium_malloc(SIGN_SK);
	memcpy(default_key, sk, SIGN_SK);
}

const uint8_t *sign_default_key(void)
{
	return default_key;
}

void sign_writer(struct model_writer *w, const uint8_t sk[SIGN_SK])
{
	struct sig_state s;
	uint8_t d[32], sec[SIGN_PK + crypto_sign_BYTES];
	init();
	crypto_generichash_init(&s.st, NULL, 0, sizeof d);
	for (int i = 0; i < mw_nsections(w); i++) {
		const char *name;
		const void *p;
		size_t n;
		mw_section_at(w, i, &name, &p, &n);
		if (strcmp(name, SIGN_SECTION))
			digest_add(&s, name, p, n);
	}
	crypto_generichash_final(&s.st, d, sizeof d);
	crypto_sign_ed25519_sk_to_pk(sec, sk);
	crypto_sign_detached(sec + SIGN_PK, NULL, d, sizeof d, sk);
	mw_add(w, SIGN_SECTION, sec, sizeof sec);
}

int sign_signer(const struct model *m, char fp[17])
{
	size_t n;
	const uint8_t *s = model_section(m, SIGN_SECTION, &n);
	if (!s || n != SIGN_PK + crypto_sign_BYTES)
		return -1;
	key_fingerprint(s, fp);
	return 0;
}

int sign_verify(const struct model *m, const uint8_t pk[SIGN_PK], struct pea_err *e)
{
	size_t n;
	char want[17], got[17];
	init();
	const uint8_t *s = model_section(m, SIGN_SECTION, &n);
	key_fingerprint(pk, want);
	if (!s) {
		err_set(e, "the model is not signed (expected key %s)", want);
		return -1;
	}
	if (n != SIGN_PK + crypto_sign_BYTES) {
		err_set(e, "the model's signature section is damaged");
		return -1;
	}
	if (sodium_memcmp(s, pk, SIGN_PK)) {
		key_fingerprint(s, got);
		err_set(e, "the model is signed by key %s, not by %s", got, want);
		return -1;
	}
	struct sig_state st;
	uint8_t d[32];
	crypto_generichash_init(&st.st, NULL, 0, sizeof d);
	for (int i = 0; i < model_nsections(m); i++) {
		const char *name = model_section_name(m, i);
		size_t len;
		if (!strcmp(name, SIGN_SECTION))
			continue;
		const void *p = model_section(m, name, &len);
		digest_add(&st, name, p, len);
	}
	crypto_generichash_final(&st.st, d, sizeof d);
	if (crypto_sign_verify_detached(s + SIGN_PK, d, sizeof d, pk)) {
		err_set(e, "bad signature: the model was changed after it was signed by %s", want);
		return -1;
	}
	return 0;
}

void sign_statement(const uint8_t sk[SIGN_SK], const void *msg, size_t n, uint8_t sig[SIGN_BYTES])
{
	init();
	crypto_sign_detached(sig, NULL, msg, n, sk);
}

int sign_statement_check(const uint8_t pk[SIGN_PK], const void *msg, size_t n, const uint8_t sig[SIGN_BYTES])
{
	init();
	return crypto_sign_verify_detached(sig, msg, n, pk) ? -1 : 0;
}
