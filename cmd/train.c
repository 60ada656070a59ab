/* pea-train - learn a classifier from records with features and labels, or
 * a recommender from interactions; merge models trained on shards; show
 * what a model learned. */
#include "cf.h"
#include "cflive.h"
#include "dist.h"
#include "ixdist.h"
#include "learn.h"
#include "msrc.h"
#include "sign.h"
#include "vec.h"

#include <sodium.h>
#include <stdio.h>

static struct cfm *open_recommender(const char *path)
{
	struct pea_err e;
	struct cfm *m = cf_open(path, &e);
	if (!m)
		die("%s: %s", path, e.msg);
	return m;
}

/* --algo pop|knn|als|bpr|ease: interactions in, a recommender out; with
 * --mpi (ranks >= 0: shared frames 1, files of its own 0) this rank's
 * part, rank 0 writing the model */
static void train_recommender(const struct cf_algo *a, char **args, int nargs, const struct in_opts *io, int ranks,
			      const struct ix_opts *xo, const char *init, const struct cf_params *cp,
			      const struct algo_params *ap, uint64_t seed, const char *out)
{
	struct cfm *im = init ? open_recommender(init) : NULL;
	struct ix_base base;
	if (im)
		cf_base(im, &base);
	double t0 = now_sec();
	pea_in *in = in_open(args, nargs, io);
	struct ix *x = ranks >= 0 ? ixd_load(in, xo, ranks, im ? &base : NULL) : ix_load(in, xo, im ? &base : NULL);
	in_close(in);
	double t1 = now_sec();
	if (x->ndup && !xo->quiet)
		note("%llu %s a (user, item) pair%s: the weights were added", (unsigned long long)x->ndup,
		     x->ndup == 1 ? "record repeats" : "records repeat", im ? " (or one the --init model had)" : "");
	struct pea_err e;
	struct cf_stats st;
	struct model_writer *w = cf_train(a, x, im, cp, ap, xo->threads, xo->quiet, seed, &st, &e);
	if (!w)
		die("%s", e.msg);
	double t2 = now_sec();
	if (dist_rank() == 0)
		mw_write(w, out);
	mw_free(w);
	if (!xo->quiet) {
		char each[64] = "";
		if (st.per_iteration > 0)
			snprintf(each, sizeof each, ", %.3f s per iteration", st.per_iteration);
		note("%llu records: %llu interactions of %u users with %u items, read in %.2f s; %s trained in %.3f s "
		     "(%.0f interactions/s%s), model built in %.2f s; wrote %s",
		     (unsigned long long)x->nrec, (unsigned long long)x->m.nnz, x->m.rows, x->m.cols, t1 - t0, a->name,
		     st.fit, st.fit > 0 ? (double)x->m.nnz / st.fit : 0, each, t2 - t1, out);
		if (dist_size() > 1)
			note("%d ranks: %.2f s of the training in sums and gathers between them, %.1f MB sent by rank 0",
			     dist_size(), dist_seconds(), dist_bytes() / 1e6);
	}
	ix_free(x);
	cf_close(im);
}

/* --follow: a live stream in, a fresh model published again and again */
static void follow_recommender(const struct cf_algo *a, char **args, int nargs, const struct ix_opts *xo,
			       struct cfl_opts *fo, const struct cli_list *every)
{
	for (int i = 0; i < every->n; i++) {
		const char *s = every->v[i];
		int64_t n;
		if (!parse_i64(s, &n)) {
			if (n < 1)
				die_usage("--publish-every %s: a count of records must be at least 1", s);
			fo->every_rec = (uint64_t)n;
		} else if (parse_duration(s, &fo->every_sec) || !strpbrk(s, "smhd")) {
			die_usage("--publish-every takes a duration (30s, 10m, 1h) or a count of records, not '%s'", s);
		}
	}
	if (!every->n)
		fo->every_sec = 60;
	fo->algo = a;
	fo->user = xo->user;
	fo->item = xo->item;
	fo->weight = xo->weight;
	fo->threads = xo->threads;
	fo->quiet = xo->quiet;
	struct cfl_stats st;
	cfl_run(args, nargs, fo, &st);
	if (!xo->quiet && st.restored)
		note("%s: %llu interactions of the previous run", fo->state, (unsigned long long)st.restored);
	if (!xo->quiet && st.future)
		note("%llu records dated more than a day ahead were left out", (unsigned long long)st.future);
	if (!xo->quiet)
		note("%llu records: %llu interactions (%llu replaced, %llu deleted%s); published %llu model%s to %s, "
		     "the last from %llu interactions",
		     (unsigned long long)st.records, (unsigned long long)st.interactions, (unsigned long long)st.replaced,
		     (unsigned long long)st.deleted, st.dropped ? ", some dropped for --max-interactions" : "",
		     (unsigned long long)st.published, st.published == 1 ? "" : "s", fo->out, (unsigned long long)st.live);
}

static void merge_recommenders(char **args, int nargs, int threads, int quiet, const char *out)
{
	struct cfm **in = xcalloc((size_t)nargs, sizeof *in);
	for (int i = 0; i < nargs; i++)
		in[i] = open_recommender(args[i]);
	struct pea_err e;
	struct model_writer *w = cf_merge(in, nargs, threads, quiet, &e);
	if (!w)
		die("cannot merge: %s", e.msg);
	mw_write(w, out);
	mw_free(w);
	if (!quiet)
		note("merged %d %s models into %s", nargs, in[0]->algo->name, out);
	for (int i = 0; i < nargs; i++)
		cf_close(in[i]);
	free(in);
}

static struct amodel *open_model(const char *path)
{
	struct pea_err e;
	struct amodel *m = am_open(path, &e);
	if (!m)
		die("%s: %s", path, e.msg);
	return m;
}

/* NAME with each %r replaced by the rank */
static char *rank_name(const char *name, int rank)
{
	struct buf b = BUF_INIT;
	for (const char *p = name; *p; p++) {
		if (p[0] == '%' && p[1] == 'r') {
			buf_addf(&b, "%d", rank);
			p++;
		} else {
			buf_addc(&b, (uint8_t)*p);
		}
	}
	buf_cstr(&b);
	return (char *)b.p;
}

/* --mpi: join the ranks; FILE with %r is the rank's own (*renamed keeps
 * the names made), otherwise the ranks share the frames (io's stripes).
 * Returns 1 when they share them. */
static int join_ranks(int *argc, char ***argv, char **args, int nargs, char ***renamed, struct in_opts *io)
{
	if (!nargs)
		die_usage("--mpi reads files (each rank its own, or its frames of shared ones), not standard input");
	dist_init(argc, argv);
	int own = 0;
	for (int i = 0; i < nargs; i++)
		own |= strstr(args[i], "%r") != NULL;
	if (own) {
		*renamed = xcalloc((size_t)nargs, sizeof **renamed);
		for (int i = 0; i < nargs; i++)
			args[i] = (*renamed)[i] = rank_name(args[i], dist_rank());
		return 0;
	}
	io->stripe = (uint32_t)dist_rank();
	io->nstripes = (uint32_t)dist_size();
	return 1;
}

static void free_names(char **renamed, int n)
{
	for (int i = 0; renamed && i < n; i++)
		free(renamed[i]);
	free(renamed);
}

int main(int argc, char **argv)
{
	struct algo_params ap = ALGO_PARAMS_INIT;
	struct cf_params cp = CF_PARAMS_INIT;
	struct ix_opts xo = {0};
	const char *algo = "logreg", *out = NULL, *field = NULL, *init = NULL, *show = NULL, *names = NULL;
	const char *checkpoint = NULL;
	int64_t epochs = 0, seed = 1, threads = 0, patience = 2, top = 20;
	double holdout = 0;
	int quiet = 0, balanced = 0, merge = 0, follow = 0, mpi = 0;
	const char *window = NULL, *half_life = NULL, *time_field = NULL, *state = NULL;
	struct cli_list every = {0};
	uint64_t max_events = 0;
	const char *sign_key = NULL;
	struct msrc_opts ms = {0};
	const struct cli_opt opts[] = {
		{'a', "algo", CLI_STR, &algo, "NAME", "logreg (default), svm, nb, mlp or cnn; recommenders: pop, knn, als, bpr or ease"},
		CLI_OPT_OUTPUT(&out),
		CLI_OPT_FIELD(&field, "the feature field (default features, or dense)"),
		{0, "epochs", CLI_INT, &epochs, "N", "passes over the data (default: 10 logreg, cnn; 15 mlp; at most 1000 svm)"},
		CLI_OPT_SEED(&seed),
		{0, "init", CLI_STR, &init, "MODEL", "continue training MODEL on the new records"},
		{0, "checkpoint", CLI_STR, &checkpoint, "FILE", "write the model to FILE after every epoch (resume with --init FILE)"},
		{0, "holdout", CLI_DBL, &holdout, "F", "hold out a fraction F for validation, reported per epoch"},
		{0, "patience", CLI_INT, &patience, "N", "stop after N epochs without a better validation loss (default 2, 0 = never)"},
		{0, "balanced", CLI_FLAG, &balanced, NULL, "weigh labels inversely to their frequency"},
		CLI_OPTS_ALGO(ap),
		CLI_OPTS_CF(cp),
		{0, "user", CLI_STR, &xo.user, "FIELD", "recommenders: the user field (default user)"},
		{0, "item", CLI_STR, &xo.item, "FIELD", "recommenders: the item field (default item)"},
		{0, "weight", CLI_STR, &xo.weight, "FIELD", "recommenders: the weight field, a number > 0 (default weight; 1 when absent)"},
		{0, "follow", CLI_FLAG, &follow, NULL, "recommenders: learn from a live stream, publishing -o again and again"},
		{0, "window", CLI_STR, &window, "DURATION", "--follow: learn from the last DURATION of the stream (24h, 90m)"},
		{0, "half-life", CLI_STR, &half_life, "DURATION", "--follow: weigh interactions down by half every DURATION"},
		{0, "publish-every", CLI_LIST, &every, "N|DURATION", "--follow: write the model after N records or DURATION (default 60s)"},
		{0, "time", CLI_STR, &time_field, "FIELD", "--follow: the time field, Unix seconds or a date (default time)"},
		{0, "state", CLI_STR, &state, "FILE", "--follow: keep the window in FILE, to go on from after a restart"},
		{0, "max-interactions", CLI_SIZE, &max_events, "N", "--follow: keep at most N interactions, the oldest leave first"},
		{0, "merge", CLI_FLAG, &merge, NULL, "combine the models given as arguments into -o"},
		{0, "show", CLI_STR, &show, "MODEL", "print a model's meta and top features per label"},
		{0, "names", CLI_STR, &names, "FILE", "--show: the feature names pea vectorize --names wrote"},
		{0, "top", CLI_INT, &top, "K", "--show: features per label (default 20)"},
		{0, "mpi", CLI_FLAG, &mpi, NULL, "train on the ranks of mpirun or srun, each reading its own part (FILE with %r, or its frames)"},
		{0, "sign", CLI_STR, &sign_key, "KEY", "sign the model written with this secret key (pea keygen)"},
		CLI_OPTS_MODEL_SOURCE(ms),
		CLI_OPT_THREADS(&threads),
		CLI_OPT_QUIET(&quiet),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"train", "learn a classifier from labelled features, or a recommender from interactions",
		"[OPTIONS] -o MODEL [FILE...]  |  --merge -o MODEL MODEL...  |  --show MODEL",
		"Records need `features` (sparse) or `dense`, and `label` (a string) or\n"
		"`labels` (a list: multi-label, one-vs-rest).  The input may be a pipe: it is\n"
		"held in memory as compressed blocks, so epochs cost little memory.  The same\n"
		"--seed gives the same model file, byte for byte, at any --threads.\n\n"
		"Networks (--algo mlp, cnn): --net lists layers, separated by commas:\n"
		"  convKxK:N[:sS][:pP]  convolution, N channels, stride S, zero padding P\n"
		"  maxpoolK[:sS]  avgpoolK[:sS]  fc:N  relu  bn  dropout:P\n"
		"ending with fc, whose width is the number of labels.\n\n"
		"Recommenders (--algo pop, knn, als, bpr, ease) learn from interactions:\n"
		"records with `user`, `item` and an optional `weight` (implicit feedback).\n"
		"With --follow they learn from a live stream (`items`, a list, where a\n"
		"record has no `item`, as pea scrape --follow writes them): the\n"
		"co-occurrences of a sliding --window or with a --half-life, a fresh model\n"
		"written over -o every --publish-every, that pea recommend --reload picks up.\n\n"
		"--mpi (under mpirun or srun): each rank reads the files whose names have %r\n"
		"replaced by its rank, or else every Nth frame of the files named; the ranks\n"
		"combine counts (nb), weights (logreg, svm) or gradients (mlp, cnn) as they\n"
		"train, or solve blocks of users and items (als: the single-process model),\n"
		"and rank 0 writes the model.  On one host, give mpirun\n"
		"--bind-to none --mca mpi_yield_when_idle 1, so that a rank waiting for a sum\n"
		"yields its core.",
		opts,
		"  pea tokenize < mail.jsonl | pea vectorize | pea train -o spam.model\n"
		"  pea image train-images-idx3-ubyte.gz --labels train-labels-idx1-ubyte.gz |\n"
		"    pea train --algo cnn --net 'conv3x3:32,relu,maxpool2,fc:128,relu,fc' -o fashion.model\n"
		"  pea train --algo logreg --holdout 0.1 --epochs 20 -o m.model train.pea\n"
		"  pea train --merge -o all.model part-0.model part-1.model\n"
		"  mpirun -np 4 pea-train --mpi -j 1 -o spam.model 'part-%r.pea'\n"
		"  mpirun -np 2 pea-train --mpi --algo als -o recs.model plays.pea\n"
		"  pea train --show spam.model --top 10\n"
		"  pea import --tsv plays.tsv | pea train --algo als --factors 64 -o recs.model\n"
		"  pea scrape --follow URL | pea train --algo knn --follow --window 24h -o live.model",
		0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	msrc_configure(&ms);
	if (sign_key) {
		if (show)
			die_usage("--sign goes with a model written, not --show");
		uint8_t sk[SIGN_SK];
		struct pea_err e;
		if (key_load_secret(sign_key, sk, &e))
			die("%s", e.msg);
		sign_all_with(sk);
		sodium_memzero(sk, sizeof sk);
	}
	if (show) {
		if (nargs || out || merge || mpi)
			die_usage("--show takes one model and nothing else");
		if (cf_is_recommender(show)) {
			struct cfm *m = open_recommender(show);
			cf_show(m, stdout);
			cf_close(m);
			if (fflush(stdout) || ferror(stdout))
				die_errno("writing the output");
			free(args);
			return 0;
		}
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
	if (mpi && merge)
		die_usage("--merge combines model files on one process: no --mpi");
	if (merge) {
		if (nargs < 1)
			die_usage("--merge needs the models to combine");
		if (cf_is_recommender(args[0])) {
			merge_recommenders(args, nargs, cli_threads(threads), quiet, out);
			free(args);
			return 0;
		}
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
	const struct cf_algo *ca = cf_find(algo);
	if (!(ca && follow) && (window || half_life || every.n || time_field || max_events || state))
		die_usage("--%s needs --follow and a recommender", window ? "window" : half_life ? "half-life"
			  : every.n ? "publish-every" : time_field ? "time" : max_events ? "max-interactions" : "state");
	if (follow && !ca)
		die_usage("--follow trains recommenders (--algo %s)", cf_names());
	struct in_opts io = {0};
	char **renamed = NULL;
	if (ca) {
		if (mpi && !ca->ranks)
			die_usage("--mpi trains nb, logreg, svm, mlp, cnn and als; --algo %s trains on one process", algo);
		if (mpi && follow)
			die_usage("--follow learns on one process: no --mpi");
		if (epochs || holdout > 0 || balanced || field || checkpoint)
			die_usage("%s", epochs ? "--epochs means nothing to a recommender (it takes --iterations)"
				  : holdout > 0 ? "--holdout means nothing to a recommender (split with pea split)"
				  : balanced ? "--balanced means nothing to a recommender"
				  : checkpoint ? "--checkpoint means nothing to a recommender"
				  : "--field means nothing to a recommender (it takes --user, --item and --weight)");
		int ranks = mpi ? join_ranks(&argc, &argv, args, nargs, &renamed, &io) : -1;
		xo.threads = dist_threads(threads);
		xo.quiet = quiet || dist_rank() != 0;
		if (follow) {
			struct cfl_opts fo = {.p = &cp, .ap = &ap, .time = time_field, .max_events = max_events,
					      .state = state, .seed = (uint64_t)seed, .out = out};
			if (window && half_life)
				die_usage("--window and --half-life are two ways to forget: give one");
			if ((window && parse_duration(window, &fo.window)) || (half_life && parse_duration(half_life, &fo.half_life)))
				die_usage("--%s takes a duration above 0 (24h, 90m, 600s), not '%s'", window ? "window" : "half-life",
					  window ? window : half_life);
			if (init)
				die_usage("--follow continues from the models it publishes itself, not from --init");
			follow_recommender(ca, args, nargs, &xo, &fo, &every);
			free(args);
			return 0;
		}
		train_recommender(ca, args, nargs, &io, ranks, &xo, init, &cp, &ap, (uint64_t)seed, out);
		free_names(renamed, nargs);
		free(args);
		dist_finish();
		return 0;
	}
	const struct algo *a = algo_find(algo);
	if (!a)
		die_usage("unknown --algo '%s' (one of %s, %s)", algo, algo_names(), cf_names());
	if (cf_params_given(&cp) || xo.user || xo.item || xo.weight)
		die_usage("--%s means nothing to --algo %s", cf_params_given(&cp) ? cf_params_given(&cp)
			  : xo.user ? "user" : xo.item ? "item" : "weight", algo);
	if (!(holdout >= 0 && holdout < 1))
		die_usage("--holdout must be at least 0 and below 1");
	if (epochs < 0 || epochs > 1000000 || patience < 0)
		die_usage("--epochs must be between 1 and 1000000, --patience at least 0");
	if (mpi)
		join_ranks(&argc, &argv, args, nargs, &renamed, &io);
	/* progress and figures come from rank 0 only */
	int talk = !quiet && dist_rank() == 0;
	struct amodel *im = init ? open_model(init) : NULL;
	int nt = dist_threads(threads);
	struct ds_opts dso = {field, 1, holdout, (uint64_t)seed, nt, !talk};
	struct dataset *train, *valid;
	double t0 = now_sec();
	pea_in *in = in_open(args, nargs, &io);
	ds_load(in, &dso, &train, &valid);
	in_close(in);
	/* a rank that has read its part sooner waits for the others in the
	 * reading time, not in the training's */
	dist_barrier();
	double t1 = now_sec();
	double per_epoch = 0;
	struct learn_opts lo = {.params = &ap, .epochs = (int)epochs, .patience = (int)patience, .threads = nt,
				.balanced = balanced, .quiet = !talk, .seed = (uint64_t)seed, .holdout = holdout,
				.checkpoint = checkpoint, .per_epoch = &per_epoch};
	struct pea_err e;
	struct amodel *m = learn_fit(a, train, valid, im, &lo, &e);
	if (!m)
		die("%s", e.msg);
	double t2 = now_sec();
	if (dist_rank() == 0)
		am_save(m, out);
	if (talk) {
		note("%llu records (%.1f MB compressed), %d labels, %u features, read in %.2f s; %s trained in %.3f s "
		     "(%.4f s per epoch); wrote %s",
		     (unsigned long long)m->nrec - (im ? im->nrec : 0), ds_bytes(train) / 1e6, m->nlabels, m->dim, t1 - t0,
		     a->name, t2 - t1, per_epoch, out);
		if (dist_size() > 1)
			note("%d ranks: %.3f s of the training in sums between them, %.1f MB sent by rank 0", dist_size(),
			     dist_seconds(), dist_bytes() / 1e6);
	}
	/* every rank takes part in the validation figures (they are sums) */
	uint64_t nvalid = valid ? ds_nrec(valid) : 0;
	dist_sum_u64(&nvalid, 1);
	if (!quiet && nvalid) {
		double loss, acc;
		learn_score(m, valid, nt, &loss, &acc);
		if (talk)
			note("validation: %llu records, loss %.6f, accuracy %.2f%%", (unsigned long long)nvalid, loss,
			     100 * acc);
	}
	am_free(m);
	am_free(im);
	ds_free(train);
	free_names(renamed, nargs);
	free(args);
	dist_finish();
	return 0;
}
