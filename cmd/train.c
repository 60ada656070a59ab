/* pea-train - learn a model from records with features and labels; merge
 * models trained on shards; show what a model learned. */
#include "learn.h"
#include "vec.h"

#include <stdio.h>

static struct amodel *open_model(const char *path)
{
	struct pea_err e;
	struct amodel *m = am_open(path, &e);
	if (!m)
		die("%s: %s", path, e.msg);
	return m;
}

int main(int argc, char **argv)
{
	struct algo_params ap = ALGO_PARAMS_INIT;
	const char *algo = "logreg", *out = NULL, *field = NULL, *init = NULL, *show = NULL, *names = NULL;
	const char *checkpoint = NULL;
	int64_t epochs = 0, seed = 1, threads = 0, patience = 2, top = 20;
	double holdout = 0;
	int quiet = 0, balanced = 0, merge = 0;
	const struct cli_opt opts[] = {
		{'a', "algo", CLI_STR, &algo, "NAME", "logreg (default), svm, nb, mlp or cnn"},
		CLI_OPT_OUTPUT(&out),
		CLI_OPT_FIELD(&field, "the feature field (default features, or dense)"),
		{0, "epochs", CLI_INT, &epochs, "N", "passes over the data (default: 10 logreg, mlp, cnn; at most 1000 svm)"},
		CLI_OPT_SEED(&seed),
		{0, "init", CLI_STR, &init, "MODEL", "continue training MODEL on the new records"},
		{0, "checkpoint", CLI_STR, &checkpoint, "FILE", "write the model to FILE after every epoch (resume with --init FILE)"},
		{0, "holdout", CLI_DBL, &holdout, "F", "hold out a fraction F for validation, reported per epoch"},
		{0, "patience", CLI_INT, &patience, "N", "stop after N epochs without a better validation loss (default 2, 0 = never)"},
		{0, "balanced", CLI_FLAG, &balanced, NULL, "weigh labels inversely to their frequency"},
		CLI_OPTS_ALGO(ap),
		{0, "merge", CLI_FLAG, &merge, NULL, "combine the models given as arguments into -o"},
		{0, "show", CLI_STR, &show, "MODEL", "print a model's meta and top features per label"},
		{0, "names", CLI_STR, &names, "FILE", "--show: the feature names pea vectorize --names wrote"},
		{0, "top", CLI_INT, &top, "K", "--show: features per label (default 20)"},
		CLI_OPT_THREADS(&threads),
		CLI_OPT_QUIET(&quiet),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"train", "learn a classifier from records with features and labels",
		"[OPTIONS] -o MODEL [FILE...]  |  --merge -o MODEL MODEL...  |  --show MODEL",
		"Records need `features` (sparse) or `dense`, and `label` (a string) or\n"
		"`labels` (a list: multi-label, one-vs-rest).  The input may be a pipe: it is\n"
		"held in memory as compressed blocks, so epochs cost little memory.  The same\n"
		"--seed gives the same model file, byte for byte, at any --threads.\n\n"
		"Networks (--algo mlp, cnn): --net lists layers, separated by commas:\n"
		"  convKxK:N[:sS][:pP]  convolution, N channels, stride S, zero padding P\n"
		"  maxpoolK[:sS]  avgpoolK[:sS]  fc:N  relu  bn  dropout:P\n"
		"ending with fc, whose width is the number of labels.",
		opts,
		"  pea tokenize < mail.jsonl | pea vectorize | pea train -o spam.model\n"
		"  pea image train-images-idx3-ubyte.gz --labels train-labels-idx1-ubyte.gz |\n"
		"    pea train --algo cnn --net 'conv3x3:32,relu,maxpool2,fc:128,relu,fc' -o fashion.model\n"
		"  pea train --algo logreg --holdout 0.1 --epochs 20 -o m.model train.pea\n"
		"  pea train --merge -o all.model part-0.model part-1.model\n"
		"  pea train --show spam.model --top 10",
		0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	if (show) {
		if (nargs || out || merge)
			die_usage("--show takes one model and nothing else");
		if (top < 0 || top > 100000)
			die_usage("--top must be between 0 and 100000");
		struct amodel *m = open_model(show);
		struct pea_err e;
		struct vec_names *fn = NULL;
		if (names && !(fn = vec_names_open(names, &e)))
			die("%s: %s", names, e.msg);
		if (fn && m->fspace && strcmp(vec_names_fspace(fn), m->fspace))
			die("%s: names of the feature space '%s', the model's is '%s'", names, vec_names_fspace(fn),
			    m->fspace);
		am_show(m, fn, (int)top, stdout);
		vec_names_close(fn);
		am_free(m);
		if (fflush(stdout) || ferror(stdout))
			die_errno("writing the output");
		free(args);
		return 0;
	}
	if (!out)
		die_usage("-o MODEL is required");
	if (merge) {
		if (nargs < 1)
			die_usage("--merge needs the models to combine");
		struct amodel **in = xcalloc((size_t)nargs, sizeof *in);
		for (int i = 0; i < nargs; i++)
			in[i] = open_model(args[i]);
		struct pea_err e;
		struct amodel *m = am_merge(in, nargs, &e);
		if (!m)
			die("cannot merge: %s", e.msg);
		am_save(m, out);
		if (!quiet)
			note("merged %d models (%llu records) into %s", nargs, (unsigned long long)m->nrec, out);
		am_free(m);
		for (int i = 0; i < nargs; i++)
			am_free(in[i]);
		free(in);
		free(args);
		return 0;
	}
	const struct algo *a = algo_find(algo);
	if (!a)
		die_usage("unknown --algo '%s' (one of %s)", algo, algo_names());
	if (!(holdout >= 0 && holdout < 1))
		die_usage("--holdout must be at least 0 and below 1");
	if (epochs < 0 || epochs > 1000000 || patience < 0)
		die_usage("--epochs must be between 1 and 1000000, --patience at least 0");
	struct amodel *im = init ? open_model(init) : NULL;
	int nt = cli_threads(threads);
	struct ds_opts dso = {field, 1, holdout, (uint64_t)seed, nt, quiet};
	struct dataset *train, *valid;
	double t0 = now_sec();
	pea_in *in = in_open(args, nargs, NULL);
	ds_load(in, &dso, &train, &valid);
	in_close(in);
	double t1 = now_sec();
	struct learn_opts lo = {&ap, (int)epochs, (int)patience, nt, balanced, quiet, (uint64_t)seed, holdout, checkpoint};
	struct pea_err e;
	struct amodel *m = learn_fit(a, train, valid, im, &lo, &e);
	if (!m)
		die("%s", e.msg);
	am_save(m, out);
	if (!quiet) {
		note("%llu records (%.1f MB compressed), %d labels, %u features, read in %.2f s; %s trained in %.2f s; wrote %s",
		     (unsigned long long)ds_nrec(train), ds_bytes(train) / 1e6, m->nlabels, m->dim, t1 - t0, a->name,
		     now_sec() - t1, out);
		if (valid && ds_nrec(valid)) {
			double loss, acc;
			learn_score(m, valid, nt, &loss, &acc);
			note("validation: %llu records, loss %.6f, accuracy %.2f%%", (unsigned long long)ds_nrec(valid),
			     loss, 100 * acc);
		}
	}
	am_free(m);
	am_free(im);
	ds_free(train);
	free(args);
	return 0;
}
