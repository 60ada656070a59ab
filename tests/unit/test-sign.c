/* Unit tests of sign.c: keys, signatures, and what verification refuses. */
#include "sign.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static struct model *rewrite(struct model *m, const char *path, int flip_weights, int drop_sig)
{
	struct pea_err e;
	struct model_writer *w = mw_new();
	for (int i = 0; i < model_nsections(m); i++) {
		const char *name = model_section_name(m, i);
		size_t n;
		const uint8_t *p = model_section(m, name, &n);
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, p, n);
		if (flip_weights && !strcmp(name, "weights"))
			c[3] ^= 1;
		if (!(drop_sig && !strcmp(name, SIGN_SECTION)))
			mw_add(w, name, c, n);
		free(c);
	}
	mw_write(w, path);
	mw_free(w);
	return model_open(path, &e);
}

int main(void)
{
	struct pea_err e = {{0}};
	char dir[] = "/tmp/pea-test-sign.XXXXXX";
	ok(mkdtemp(dir) != NULL, "a temporary directory");
	char a[256], b[256], apub[256], bpub[256], mpath[256], m2[256];
	snprintf(a, sizeof a, "%s/a", dir);
	snprintf(b, sizeof b, "%s/b", dir);
	snprintf(apub, sizeof apub, "%s/a.pub", dir);
	snprintf(bpub, sizeof bpub, "%s/b.pub", dir);
	snprintf(mpath, sizeof mpath, "%s/m.model", dir);
	snprintf(m2, sizeof m2, "%s/m2.model", dir);
	ok(key_generate(a, &e) == 0 && key_generate(b, &e) == 0, "two key pairs (%s)", e.msg);
	ok(key_generate(a, &e) < 0 && strstr(e.msg, "refusing"), "an existing key is never overwritten");
	struct stat st;
	ok(stat(a, &st) == 0 && (st.st_mode & 0777) == 0600, "the secret key is mode 0600");
	uint8_t sk[SIGN_SK], pka[SIGN_PK], pkb[SIGN_PK], pk2[SIGN_PK];
	ok(key_load_secret(a, sk, &e) == 0, "the secret key loads");
	ok(key_load_public(apub, pka, &e) == 0 && key_load_public(bpub, pkb, &e) == 0, "public keys load");
	ok(key_load_public(a, pk2, &e) == 0 && !memcmp(pk2, pka, SIGN_PK), "a secret key file gives its public half");
	ok(key_load_secret(apub, sk, &e) < 0, "a public key is not a secret key");
	chmod(a, 0644);
	ok(key_load_secret(a, sk, &e) < 0 && strstr(e.msg, "chmod 600"), "a readable secret key is refused");
	chmod(a, 0600);
	key_load_secret(a, sk, &e);

	float wts[64];
	for (int i = 0; i < 64; i++)
		wts[i] = (float)i;
	struct model_writer *w = mw_new();
	mw_add(w, "meta", "{\"kind\":\"test\"}", 15);
	mw_add(w, "weights", wts, sizeof wts);
	sign_writer(w, sk);
	mw_write(w, mpath);
	mw_free(w);
	struct model *m = model_open(mpath, &e);
	ok(m != NULL, "a signed model opens");
	ok(sign_verify(m, pka, &e) == 0, "and verifies with its key (%s)", e.msg);
	ok(sign_verify(m, pkb, &e) < 0 && strstr(e.msg, "signed by key"), "another key is refused: %s", e.msg);
	char fp[17], fpa[17];
	key_fingerprint(pka, fpa);
	ok(sign_signer(m, fp) == 0 && !strcmp(fp, fpa), "the signer is named by fingerprint");

	struct model *t = rewrite(m, m2, 1, 0);
	ok(t && sign_verify(t, pka, &e) < 0 && strstr(e.msg, "changed after"),
	   "a changed section with a recomputed digest is refused: %s", e.msg);
	model_close(t);
	t = rewrite(m, m2, 0, 1);
	ok(t && sign_verify(t, pka, &e) < 0 && strstr(e.msg, "not signed"), "an unsigned model is refused: %s", e.msg);
	model_close(t);

	sign_all_with(sk);
	t = rewrite(m, m2, 0, 1);
	ok(t && sign_verify(t, pka, &e) == 0, "with a default key every written model is signed");
	model_close(t);
	model_close(m);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ok(system(cmd) == 0, "clean up");
	return tap_done();
}
