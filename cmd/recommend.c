/* pea-recommend - add each user's top-k items to records, or list the
 * items most like an item.
 *
 * The model is mapped, not read, so start-up costs a digest check; records
 * are scored on every core (pmap) in batches and keep every other field,
 * so a test record's held-out `item` reaches pea-eval --ranking. */
#include "cf.h"
#include "msrc.h"
#include "pmap.h"
#include "reload.h"

#include <stdio.h>

static void *open_model(void *ctx, const char *path, struct pea_err *e)
{
	(void)ctx;
	return cf_open(path, e);
}

static void free_model(void *m)
{
	cf_close(m);
}

struct live {
	struct reload *rl;
	struct cf_rec *r;
};

/* before each unit, while no worker runs: a new model file is swapped in */
static void maybe_reload(void *arg)
{
	struct live *l = arg;
	if (reload_check(l->rl))
		cf_rec_set_model(l->r, reload_model(l->rl));
}

int main(int argc, char **argv)
{
	struct out_opts oo = OUT_OPTS_INIT;
	struct cf_rec_opts ro = {0};
	struct cli_list similar = {0};
	const char *model = NULL;
	struct msrc_opts ms = {0};
	int64_t threads = 0;
	int quiet = 0, reload = 0;
	double every = 60;
	ro.k = 10;
	const struct cli_opt opts[] = {
		CLI_OPT_MODEL(&model),
		CLI_OPTS_MODEL_SOURCE(ms),
		CLI_OPTS_RELOAD(&reload, &every),
		{'k', "top", CLI_INT, &ro.k, "K", "items per user (default 10)"},
		{0, "include-seen", CLI_FLAG, &ro.include_seen, NULL, "also recommend items the user already has"},
		{0, "explain", CLI_FLAG, &ro.explain, NULL, "add `because`: per item, the history items that weigh most"},
		{0, "similar", CLI_LIST, &similar, "ITEM", "list the items most like ITEM (repeatable); reads no input"},
		{0, "user", CLI_STR, &ro.user, "FIELD", "the user field (default user)"},
		{0, "history", CLI_STR, &ro.history, "FIELD", "the history field, a list of items (default history)"},
		CLI_OPTS_WRITER(oo),
		CLI_OPT_THREADS(&threads),
		CLI_OPT_QUIET(&quiet),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"recommend", "add each user's top-k items to records (or items like an item)",
		"-m MODEL [OPTIONS] [FILE...]  |  -m MODEL --similar ITEM",
		"Reads records with `user` (a user the model knows) and/or `history` (a\n"
		"list of items: recommendations for it without retraining); adds `recs`,\n"
		"the best k items, and `scores`, and keeps every other field.  Items the\n"
		"user already has are left out unless --include-seen.  With --reload, a\n"
		"model written over MODEL (atomically, as pea train --follow does) is\n"
		"checked and used from the next records on.",
		opts,
		"  pea recommend -m recs.model -k 10 < test.pea | pea eval --ranking\n"
		"  echo '{\"history\":[\"vim\",\"git\"]}' | pea recommend -m recs.model --explain\n"
		"  pea recommend -m recs.model --similar libc6\n"
		"  pea recommend -m live.model --reload < requests.jsonl",
		0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	if (!(every > 0 && every <= 1e6))
		die_usage("--reload-every must be more than 0 seconds");
	msrc_configure(&ms);
	if (!model)
		die_usage("-m MODEL is required");
	if (ro.k < 1 || ro.k > 100000)
		die_usage("--top must be between 1 and 100000");
	if (similar.n && (nargs || ro.explain || ro.include_seen || reload))
		die_usage("--similar reads no input and takes no --explain, --include-seen or --reload");
	struct pea_err e;
	struct cfm *m = cf_open(model, &e);
	if (!m)
		die("%s: %s", model, e.msg);
	if (similar.n) {
		pea_wr *w = wr_open(&oo);
		for (int i = 0; i < similar.n; i++) {
			if (cf_similar_record(m, similar.v[i], ro.k, wr_fb(w), &e))
				die("%s: %s", model, e.msg);
			wr_commit(w);
		}
		wr_close(w);
		cf_close(m);
		free(args);
		return 0;
	}
	int nt = cli_threads(threads);
	struct cf_rec *r = cf_rec_new(m, &ro, nt);
	pea_in *in = in_open(args, nargs, NULL);
	struct live l = {NULL, r};
	if (reload) {
		l.rl = reload_new(model, m, open_model, free_model, NULL);
		reload_set_interval(l.rl, every);
		in_on_unit(in, maybe_reload, &l);
	}
	pea_out *out = out_open(&oo);
	struct pmap_opts po = {nt, cf_rec_frame, NULL, r, quiet};
	pmap_run(in, out, &po);
	out_close(out);
	in_close(in);
	if (cf_rec_unknown(r) && !quiet)
		note("%llu history items were not in the model and did not count", (unsigned long long)cf_rec_unknown(r));
	cf_rec_free(r);
	if (l.rl)
		reload_free(l.rl);
	else
		cf_close(m);
	free(args);
	return 0;
}
