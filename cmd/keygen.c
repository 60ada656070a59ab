/* pea-keygen - an Ed25519 key pair for signing models. */
#include "cli.h"
#include "sign.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
	const char *out = NULL;
	const struct cli_opt opts[] = {
		{'o', "output", CLI_STR, &out, "PATH", "the secret key file (default ~/.pea/key); the public key is PATH.pub"},
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"keygen", "make a key pair for signing models", "[OPTIONS]",
		"Writes a secret key (mode 0600, never printed) and its public key PATH.pub.\n"
		"Sign models with pea train --sign PATH or pea sign --key PATH; check them\n"
		"anywhere with --verify PATH.pub.  An existing key is never overwritten.",
		opts, "  pea keygen -o ~/.pea/release\n  pea train --sign ~/.pea/release -o spam.model < train.pea", 0, 0,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	char def[4096];
	if (!out) {
		const char *home = getenv("HOME");
		if (!home)
			die_usage("no HOME: give -o PATH");
		snprintf(def, sizeof def, "%s/.pea", home);
		if (mkdir(def, 0700) < 0 && errno != EEXIST)
			die_errno("%s", def);
		snprintf(def, sizeof def, "%s/.pea/key", home);
		out = def;
	}
	struct pea_err e;
	uint8_t pk[SIGN_PK];
	char fp[17];
	if (key_generate(out, &e))
		die("%s", e.msg);
	char pub[4200];
	snprintf(pub, sizeof pub, "%s.pub", out);
	if (key_load_public(pub, pk, &e))
		die("%s", e.msg);
	key_fingerprint(pk, fp);
	printf("secret key: %s\npublic key: %s\nfingerprint: %s\n", out, pub, fp);
	free(args);
	return fflush(stdout) ? 1 : 0;
}
