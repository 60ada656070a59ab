/* pea-sign - sign model files, or check their signatures. */
#include "cli.h"
#include "msrc.h"
#include "sign.h"

#include <stdio.h>
#include <string.h>

/* rewrite a model with its sections and a fresh signature */
static void sign_file(const char *in, const char *out, const uint8_t *sk)
{
	struct pea_err e;
	struct model *m = model_open(in, &e);
	if (!m)
		die("%s: %s", in, e.msg);
	struct model_writer *w = mw_new();
	for (int i = 0; i < model_nsections(m); i++) {
		const char *name = model_section_name(m, i);
		size_t n;
		const void *p = model_section(m, name, &n);
		if (strcmp(name, SIGN_SECTION))
			mw_add(w, name, p, n);
	}
	sign_writer(w, sk);
	mw_write(w, out);
	mw_free(w);
	model_close(m);
}

int main(int argc, char **argv)
{
	const char *key = NULL, *out = NULL;
	struct msrc_opts ms = {0};
	const struct cli_opt opts[] = {
		{'k', "key", CLI_STR, &key, "KEY", "sign with this secret key (from pea keygen)"},
		CLI_OPTS_MODEL_SOURCE(ms),
		{'o', "output", CLI_STR, &out, "FILE", "write the signed model to FILE (one MODEL only)"},
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"sign", "sign model files, or check their signatures", "(--key KEY | --verify PUBKEY) MODEL...",
		"With --key, each MODEL is rewritten (atomically) with a signature section;\n"
		"a signature it had is replaced.  With --verify, each MODEL is checked and a\n"
		"line says whose signature it carries; exit 1 if any fails.",
		opts, "  pea sign --key ~/.pea/key spam.model\n  pea sign --verify ~/.pea/key.pub spam.model", 1, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	if (!key == !ms.verify)
		die_usage("give one of --key or --verify");
	if (out && (nargs != 1 || !key))
		die_usage("-o goes with --key and one MODEL");
	if (key) {
		uint8_t sk[SIGN_SK];
		struct pea_err e;
		if (key_load_secret(key, sk, &e))
			die("%s", e.msg);
		for (int i = 0; i < nargs; i++)
			sign_file(args[i], out ? out : args[i], sk);
	} else {
		msrc_configure(&ms);
		int bad = 0;
		for (int i = 0; i < nargs; i++) {
			struct pea_err e;
			struct model *m = msrc_open(args[i], &e);
			char fp[17];
			if (!m) {
				error("%s: %s", args[i], e.msg);
				bad = 1;
				continue;
			}
			sign_signer(m, fp);
			printf("%s: good signature by %s, digest %s\n", args[i], fp, model_digest(m));
			model_close(m);
		}
		if (bad) {
			free(args);
			return 1;
		}
	}
	free(args);
	return fflush(stdout) ? 1 : 0;
}
