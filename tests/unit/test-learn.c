/* Unit tests of the learners (dataset.c, learn.c, algo_*.c, linear.c) and
 * of metrics.c: answers known by hand, determinism across thread counts,
 * exact merging of naive Bayes, model round trips and damaged models. */
#include "learn.h"
#include "linear.h"
#include "metrics.h"
#include "tap.h"

#include <unistd.h>

static struct dataset *load(const char *jsonl, double holdout, int threads, struct dataset **valid)
{
	char path[] = "/tmp/pea-test-learn.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, jsonl, strlen(jsonl)) != (ssize_t)strlen(jsonl))
		die("cannot write %s", path);
	close(fd);
	char *files[] = {path};
	pea_in *in = in_open(files, 1, NULL);
	struct ds_opts o = {NULL, 1, holdout, 1, threads, 1};
	struct dataset *tr, *va;
	ds_load(in, &o, &tr, &va);
	in_close(in);
	unlink(path);
	if (valid)
		*valid = va;
	return tr;
}

static struct amodel *fit(const char *algo, struct dataset *ds, const struct algo_params *p, int threads,
			  const struct amodel *init)
{
	struct learn_opts lo = {p, 0, 2, threads, 0, 1, 7, 0, NULL, NULL};
	struct pea_err e;
	struct amodel *m = learn_fit(algo_find(algo), ds, NULL, init, &lo, &e);
	if (!m)
		printf("# %s\n", e.msg);
	return m;
}

static void predict(const struct amodel *m, const uint32_t *idx, const float *val, uint32_t n, double *p)
{
	struct ds_x x = {idx, val, n};
	m->algo->predict(m, &x, p);
}

static int same_bytes(const struct amodel *a, const struct amodel *b)
{
	uint8_t *p, *q;
	size_t n, k;
	am_bytes(a, &p, &n);
	am_bytes(b, &q, &k);
	int same = n == k && !memcmp(p, q, n);
	free(p);
	free(q);
	return same;
}

/* a noisy 3-label problem: label c favours features 3c..3c+2 */
static char *noisy3(int n)
{
	struct buf b = BUF_INIT;
	uint64_t s = 42;
	for (int i = 0; i < n; i++) {
		int c = i % 3;
		buf_addf(&b, "{\"id\":%d,\"label\":\"c%d\",\"features\":{", i, c);
		int first = 1;
		for (int j = 0; j < 12; j++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			int hit = (int)(s >> 60) < (j / 3 == c ? 9 : 3);
			if (hit) {
				buf_addf(&b, "%s\"%d\":%d", first ? "" : ",", j, 1 + (int)((s >> 40) & 1));
				first = 0;
			}
		}
		if (first)
			buf_adds(&b, "\"11\":1");
		buf_adds(&b, "}}\n");
	}
	return (char *)buf_cstr(&b);
}

static void test_nb(void)
{
	/* counts: ham: f0 2+1, f1 0+1, f2 0; spam: f0 0, f1 1, f2 3 */
	const char *d = "{\"label\":\"ham\",\"features\":{\"0\":2}}\n"
			"{\"label\":\"ham\",\"features\":{\"0\":1,\"1\":1}}\n"
			"{\"label\":\"spam\",\"features\":{\"1\":1,\"2\":3}}\n";
	struct dataset *ds = load(d, 0, 1, NULL);
	struct algo_params p = ALGO_PARAMS_INIT;
	struct amodel *m = fit("nb", ds, &p, 1, NULL);
	ok(m != NULL, "naive Bayes trains");
	/* by hand, alpha 1, D 3: P(f|ham) = (4, 2, 1)/7, P(f|spam) = (1, 2, 4)/7,
	 * priors 2/3, 1/3; x = {f0: 1, f2: 1}:
	 * ham 2/3 * 4/7 * 1/7, spam 1/3 * 1/7 * 4/7 -> P(spam) = 1/3 */
	double pr[2];
	uint32_t idx[] = {0, 2};
	float val[] = {1, 1};
	predict(m, idx, val, 2, pr);
	near(pr[1], 1.0 / 3, 1e-6, "multinomial NB posterior computed by hand (%.6f)", pr[1]);
	near(pr[0] + pr[1], 1, 1e-12, "probabilities add up to 1");
	am_free(m);
	/* complement: P~(f|ham) = spam counts, so w_ham = -log((1,2,4)/7) */
	p.complement = 1;
	m = fit("nb", ds, &p, 1, NULL);
	predict(m, idx, val, 2, pr);
	/* s_ham = -(log 1/7 + log 4/7), s_spam = -(log 4/7 + log 1/7): a tie */
	near(pr[1], 0.5, 1e-6, "complement NB scores by hand");
	am_free(m);
	ds_free(ds);
}

static void test_nb_merge(void)
{
	char *all = noisy3(300);
	/* shards: the first 100 lines and the other 200 */
	char *cut = all;
	for (int i = 0; i < 100; i++)
		cut = strchr(cut, '\n') + 1;
	char *b = xstrdup(cut);
	*cut = 0;
	struct algo_params p = ALGO_PARAMS_INIT;
	struct dataset *da = load(all, 0, 1, NULL), *db = load(b, 0, 1, NULL);
	struct amodel *ma = fit("nb", da, &p, 1, NULL), *mb = fit("nb", db, &p, 1, NULL);
	strcat(all, b);
	struct dataset *dall = load(all, 0, 1, NULL);
	struct amodel *mall = fit("nb", dall, &p, 1, NULL);
	struct amodel *in[] = {ma, mb};
	struct pea_err e;
	struct amodel *mm = am_merge(in, 2, &e);
	ok(mm && mm->nrec == 300, "naive Bayes models merge");
	ok(mm && same_bytes(mm, mall), "merged counts and weights equal training on everything, bit for bit");
	/* warm start: the same counts again */
	struct amodel *mw = fit("nb", db, &p, 1, ma);
	ok(mw && same_bytes(mw, mall), "a warm start adds the new counts exactly");
	am_free(mw);
	am_free(mm);
	am_free(ma);
	am_free(mb);
	am_free(mall);
	ds_free(da);
	ds_free(db);
	ds_free(dall);
	free(all);
	free(b);
}

static void test_svm(void)
{
	/* symmetric about the origin, so b = 0; the nearest points are (+-2, 0),
	 * so the widest margin has w = (0.5, 0): margin 1 / |w| = 2 */
	const char *d = "{\"label\":\"a\",\"dense\":[-2,0]}\n{\"label\":\"a\",\"dense\":[-3,-1]}\n"
			"{\"label\":\"b\",\"dense\":[2,0]}\n{\"label\":\"b\",\"dense\":[3,1]}\n";
	struct dataset *ds = load(d, 0, 1, NULL);
	struct algo_params p = ALGO_PARAMS_INIT;
	p.cost = 1000;
	p.loss = "hinge";
	p.tol = 1e-6;
	struct amodel *m = fit("svm", ds, &p, 1, NULL);
	ok(m != NULL, "the SVM trains on dense vectors");
	double pr[2];
	float x1[] = {1, 0}, x2[] = {0, 1};
	const struct linear *l = m->st;
	near(l->w[0], 0.5, 1e-3, "SVM weight w1 = 0.5 (%.5f)", (double)l->w[0]);
	near(l->w[1], 0, 1e-3, "SVM weight w2 = 0 (%.5f)", (double)l->w[1]);
	near(l->b[0], 0, 1e-3, "SVM bias 0 (%.5f)", (double)l->b[0]);
	predict(m, NULL, x1, 2, pr);
	ok(pr[1] > 0.5, "a point on the b side is b");
	predict(m, NULL, x2, 2, pr);
	near(pr[1], 0.5, 1e-3, "a point on the boundary is undecided");
	am_free(m);
	ds_free(ds);
}

static double train_acc(const struct amodel *m, const struct dataset *ds)
{
	double loss, acc;
	learn_score(m, ds, 2, &loss, &acc);
	return acc;
}

/* The stored form of sparse vectors (dataset.c): index gaps past 16 bits,
 * index 0, more than 255 distinct values, empty vectors; what comes back
 * must be exactly what went in, whatever blocks the records fell in. */
static void test_dataset_codec(void)
{
	static const uint32_t gaps[] = {0, 1, 0xfffe, 0xffff, 0x10000, 7, 0x7fff0000u};
	struct buf b = BUF_INIT;
	int nrec = 3000;
	for (int r = 0; r < nrec; r++) {
		buf_addf(&b, "{\"label\":\"%s\",\"features\":{", r % 2 ? "a" : "b");
		int n = r % 7 == 3 ? 0 : r % 5 == 0 ? 400 : 1 + r % 40;
		uint32_t at = 0;
		for (int k = 0; k < n; k++) {
			at += k ? 1 + gaps[(r + k) % 7] % 0x20000 : gaps[r % 7];
			/* records of r % 5 == 0 have 400 distinct values */
			double v = r % 5 == 0 ? k + 0.5 : (k % 3) * 0.25 - 1;
			buf_addf(&b, "%s\"%u\":%g", k ? "," : "", at, v);
		}
		buf_adds(&b, "}}\n");
	}
	struct dataset *ds = load(buf_cstr(&b), 0, 2, NULL);
	struct ds_csr m;
	ds_to_csr(ds, 2, &m);
	int bad = 0;
	for (int r = 0; r < nrec && (uint64_t)r < m.n; r++) {
		struct ds_x x;
		ds_csr_row(&m, (uint64_t)r, &x);
		int n = r % 7 == 3 ? 0 : r % 5 == 0 ? 400 : 1 + r % 40;
		bad += x.n != (uint32_t)n;
		uint32_t at = 0;
		for (int k = 0; k < n && (uint32_t)k < x.n; k++) {
			at += k ? 1 + gaps[(r + k) % 7] % 0x20000 : gaps[r % 7];
			double v = r % 5 == 0 ? k + 0.5 : (k % 3) * 0.25 - 1;
			bad += x.idx[k] != at || x.val[k] != (float)v;
		}
	}
	ok(m.n == (uint64_t)nrec && ds_nblocks(ds) > 1 && !bad,
	   "sparse vectors come back exactly from the stored form (%llu records, %zu blocks, %d differences)",
	   (unsigned long long)m.n, ds_nblocks(ds), bad);
	ds_csr_release(&m);
	ds_free(ds);
	buf_release(&b);
}

/* ds_compact numbers the features by their place in a list, ds_expand
 * brings the set's own numbers back; the learners that train on the
 * compact numbers (logreg, svm) give the model of the whole table, and the
 * others, trained on the same set after them, find their own numbers */
static void test_dataset_compact(void)
{
	struct buf b = BUF_INIT;
	/* features 3, 70000 and 1000000 (gaps of 6 bytes), 5 of every third */
	for (int r = 0; r < 900; r++)
		buf_addf(&b, "{\"label\":\"%s\",\"features\":{%s\"%d\":1,\"70000\":0.5,\"1000000\":%d}}\n",
			 r % 2 ? "yes" : "no", r % 3 ? "" : "\"5\":2,", r % 2 ? 3 : 4, 1 + r % 2);
	struct dataset *ds = load(buf_cstr(&b), 0, 2, NULL);
	uint32_t nf, ids[5], n = 0;
	uint64_t *seen = xcalloc(1000000 / 64 + 1, sizeof *seen);
	ds_features(ds, 1000001, seen);
	for (uint32_t j = 0; j <= 1000000; j++)
		if (seen[j / 64] >> (j % 64) & 1 && n++ < 5)
			ids[n - 1] = j;
	free(seen);
	ok(n == 5 && ids[0] == 3 && ids[4] == 1000000, "ds_features finds the 5 features (%u)", n);
	ds_compact(ds, ids, n, 2);
	struct ds_csr m;
	ds_to_csr(ds, 2, &m);
	int bad = ds_numbering(ds, &nf) == NULL || nf != 5, some4 = 0;
	for (uint64_t r = 0; r < m.n; r++) {
		struct ds_x x;
		ds_csr_row(&m, r, &x);
		/* 3 or 4, then 5 on every third, 70000, 1000000: 0 or 1, 2, 3, 4 */
		uint32_t wi[4], k = 0;
		float wv[4];
		wi[k] = r % 2 ? 0 : 1, wv[k++] = 1;
		if (r % 3 == 0)
			wi[k] = 2, wv[k++] = 2;
		wi[k] = 3, wv[k++] = 0.5f;
		wi[k] = 4, wv[k++] = 1 + r % 2;
		bad += x.n != k;
		for (uint32_t t = 0; t < k && t < x.n; t++)
			bad += x.idx[t] != wi[t] || x.val[t] != wv[t];
		some4 |= x.n == 4;
	}
	ds_csr_release(&m);
	ok(!bad && some4, "ds_compact numbers them 0..4, values and order as they were (%d differences)", bad);
	struct algo_params p = ALGO_PARAMS_INIT;
	struct amodel *lr = fit("logreg", ds, &p, 1, NULL), *nb = fit("nb", ds, &p, 1, NULL);
	ok(ds_numbering(ds, &nf) == NULL, "naive Bayes, which keeps the whole table, brought the set's own numbers back");
	struct amodel *lr2 = fit("logreg", ds, &p, 2, NULL);
	ok(same_bytes(lr, lr2), "logreg: the same model trained again on the set expanded and compacted again");
	struct amodel *sv = fit("svm", ds, &p, 1, NULL);
	const struct amodel *lin[] = {lr, sv};
	for (int a = 0; a < 2; a++) {
		const struct linear *l = lin[a]->st;
		int placed = l->dim == 1000001 && l->w[3] > 0 && l->w[4] < 0 && l->w[70000] != 0 && l->w[1000000] != 0;
		for (uint32_t j = 0; j < l->dim && placed; j++)
			placed = (j == 3 || j == 4 || j == 5 || j == 70000 || j == 1000000) || l->w[j] == 0;
		ok(placed, "%s's weights land on the data's own features, every other one 0", a ? "svm" : "logreg");
	}
	double pr[2];
	uint32_t idx[] = {3, 70000, 1000000};
	float val[] = {1, 0.5f, 2};
	predict(lr, idx, val, 3, pr);
	double pn[2];
	predict(nb, idx, val, 3, pn);
	ok(pr[1] > 0.9 && pn[1] > 0.9, "both read a record in the data's numbers (logreg %.3f, nb %.3f)", pr[1], pn[1]);
	am_free(lr);
	am_free(lr2);
	am_free(sv);
	am_free(nb);
	ds_free(ds);
	buf_release(&b);
}

static void test_logreg_and_determinism(void)
{
	char *d = noisy3(600);
	struct dataset *ds = load(d, 0, 2, NULL);
	struct algo_params p = ALGO_PARAMS_INIT;
	const char *algos[] = {"logreg", "svm", "nb"};
	for (size_t i = 0; i < ARRAY_SIZE(algos); i++) {
		struct amodel *a = fit(algos[i], ds, &p, 1, NULL), *b = fit(algos[i], ds, &p, 2, NULL);
		double acc = train_acc(a, ds);
		ok(acc > 0.65 && acc < 1, "%s learns a noisy 3-label problem (%.3f; chance 0.33)", algos[i], acc);
		ok(same_bytes(a, b), "%s: the same model at 1 and 2 threads", algos[i]);
		am_free(a);
		am_free(b);
	}
	p.l1 = 20;
	struct amodel *a = fit("logreg", ds, &p, 1, NULL);
	const struct linear *l = a->st;
	size_t zeros = 0;
	for (size_t k = 0; k < (size_t)l->dim * l->ncol; k++)
		zeros += l->w[k] == 0;
	ok(zeros > 0 && train_acc(a, ds) > 0.6, "L1 (FTRL) zeroes weights and still learns (%zu zeros)", zeros);
	am_free(a);
	free(d);
	ds_free(ds);
	/* a separable binary problem */
	struct buf b = BUF_INIT;
	for (int i = 0; i < 200; i++)
		buf_addf(&b, "{\"label\":\"%s\",\"features\":{\"%d\":1,\"%d\":1}}\n", i % 2 ? "yes" : "no", i % 2,
			 2 + i % 7);
	ds = load(buf_cstr(&b), 0, 1, NULL);
	p = (struct algo_params)ALGO_PARAMS_INIT;
	a = fit("logreg", ds, &p, 1, NULL);
	double pr[2];
	uint32_t idx[] = {1, 3};
	float val[] = {1, 1};
	predict(a, idx, val, 2, pr);
	ok(train_acc(a, ds) == 1 && pr[1] > 0.9, "logreg separates a separable set (p = %.4f)", pr[1]);
	am_free(a);
	ds_free(ds);
	buf_release(&b);
}

static void test_multilabel(void)
{
	struct buf b = BUF_INIT;
	for (int i = 0; i < 400; i++) {
		int x = i % 2, y = (i / 2) % 2;
		buf_addf(&b, "{\"id\":%d,\"labels\":[%s%s%s],\"features\":{\"0\":%d,\"1\":%d,\"2\":1}}\n", i,
			 x ? "\"x\"" : "", x && y ? "," : "", y ? "\"y\"" : "", x, y);
	}
	struct dataset *va, *ds = load(buf_cstr(&b), 0.25, 2, &va);
	ok(ds_multilabel(ds) && va && ds_nrec(va) > 50 && ds_nrec(va) < 150, "a holdout of about a quarter (%llu)",
	   (unsigned long long)(va ? ds_nrec(va) : 0));
	struct algo_params p = ALGO_PARAMS_INIT;
	struct learn_opts lo = {&p, 0, 2, 2, 0, 1, 1, 0.25, NULL, NULL};
	struct pea_err e;
	struct amodel *m = learn_fit(algo_find("logreg"), ds, va, NULL, &lo, &e);
	ok(m && m->multilabel && m->thresholds, "multi-label logreg with per-label thresholds");
	double loss, acc;
	if (m)
		learn_score(m, va, 2, &loss, &acc);
	ok(m && acc == 1, "every label set of the validation set right");
	am_free(m);
	ds_free(ds);
	buf_release(&b);
}

static void test_roundtrip(void)
{
	char *d = noisy3(90);
	struct dataset *ds = load(d, 0, 1, NULL);
	struct algo_params p = ALGO_PARAMS_INIT;
	struct amodel *m = fit("svm", ds, &p, 1, NULL);
	uint8_t *bytes;
	size_t n;
	am_bytes(m, &bytes, &n);
	struct pea_err e;
	struct amodel *r = am_from_bytes(bytes, n, &e);
	ok(r && r->nlabels == 3 && !strcmp(r->labels[2], "c2") && r->dim == m->dim, "a model reads back");
	double p1[3], p2[3];
	uint32_t idx[] = {0, 4, 8};
	float val[] = {1, 2, 1};
	predict(m, idx, val, 3, p1);
	if (r)
		predict(r, idx, val, 3, p2);
	ok(r && !memcmp(p1, p2, sizeof p1), "and predicts the same");
	am_free(r);
	bytes[n / 2] ^= 1;
	r = am_from_bytes(bytes, n, &e);
	ok(!r && strstr(e.msg, "digest"), "a flipped bit is refused: %s", e.msg);
	bytes[n / 2] ^= 1;
	r = am_from_bytes(bytes, n - 30, &e);
	ok(!r, "a truncated model is refused: %s", e.msg);
	/* a well-formed container whose meta lies about the sizes */
	struct model_writer *w = mw_new();
	const char *meta = "{\"kind\":\"classifier\",\"format\":1,\"algo\":\"svm\",\"labels\":[\"a\",\"b\"],\"multilabel\":false,"
			   "\"input\":\"sparse\",\"dim\":1000000,\"records\":1}";
	float wt[4] = {0};
	mw_add(w, "meta", meta, strlen(meta));
	mw_add(w, "weights", wt, sizeof wt);
	mw_add(w, "bias", wt, 4);
	uint8_t *q;
	size_t qn;
	mw_bytes(w, &q, &qn);
	r = am_from_bytes(q, qn, &e);
	ok(!r && strstr(e.msg, "do not fit"), "weights that do not fit the meta are refused: %s", e.msg);
	free(q);
	mw_free(w);
	w = mw_new();
	meta = "{\"kind\":\"classifier\",\"format\":2,\"algo\":\"svm\"}";
	mw_add(w, "meta", meta, strlen(meta));
	mw_bytes(w, &q, &qn);
	r = am_from_bytes(q, qn, &e);
	ok(!r && strstr(e.msg, "format 2"), "a newer format is refused: %s", e.msg);
	free(q);
	mw_free(w);
	w = mw_new();
	meta = "{\"kind\":\"recommender\"}";
	mw_add(w, "meta", meta, strlen(meta));
	mw_bytes(w, &q, &qn);
	r = am_from_bytes(q, qn, &e);
	ok(!r && strstr(e.msg, "not a classifier"), "another kind of model is refused: %s", e.msg);
	free(q);
	mw_free(w);
	free(bytes);
	am_free(m);
	ds_free(ds);
	free(d);
}

static void rec(struct met *m, const char *t, const char *p, double pa)
{
	met_truth(m, t, strlen(t));
	met_pred(m, p, strlen(p));
	met_prob(m, "a", 1, pa);
	met_prob(m, "b", 1, 1 - pa);
	met_end_record(m, 0);
}

static void test_metrics(void)
{
	struct met *m = met_new();
	/* positive b; scores of b: 0.9 b, 0.8 a, 0.7 b, 0.6 a, 0.6 b */
	rec(m, "b", "b", 0.1);
	rec(m, "a", "b", 0.2);
	rec(m, "b", "b", 0.3);
	rec(m, "a", "a", 0.4);
	rec(m, "b", "a", 0.4);
	struct met_result r;
	struct pea_err e;
	ok(!met_compute(m, NULL, &r, &e), "metrics compute");
	near(r.accuracy, 0.6, 1e-12, "accuracy 3/5");
	/* b: tp 2 fp 1 fn 1 -> P R F1 2/3; a: tp 1 fp 1 fn 1 -> 1/2 */
	near(r.label[1].f1, 2.0 / 3, 1e-12, "F1 of b");
	near(r.macro_f1, (2.0 / 3 + 0.5) / 2, 1e-12, "macro F1");
	near(r.weighted_f1, (2.0 / 3 * 3 + 0.5 * 2) / 5, 1e-12, "weighted F1");
	is_int(r.confusion[0 * 2 + 1], 1, "confusion: one a predicted b");
	/* ROC: pairs (pos, neg) ranked right: 0.9>0.8,0.6; 0.7>0.6; 0.7<0.8;
	 * 0.6 = 0.6 counts half: (2 + 1 + 0.5) / 6 */
	near(r.roc_auc, 3.5 / 6, 1e-12, "ROC AUC with a tie");
	/* AP: thresholds 0.9 (P 1, R 1/3), 0.8 (1/2), 0.7 (2/3, 2/3), 0.6 (3/5, 1) */
	near(r.pr_auc, 1.0 / 3 + (1.0 / 3) * (2.0 / 3) + (1.0 / 3) * 0.6, 1e-12, "average precision");
	near(r.log_loss, -(log(0.9) + log(0.2) + log(0.7) + log(0.4) + log(0.6)) / 5, 1e-12, "log loss");
	met_result_release(&r);
	ok(met_compute(m, "zzz", &r, &e) < 0, "an unknown --positive is refused: %s", e.msg);
	met_free(m);
}

int main(void)
{
	test_nb();
	test_nb_merge();
	test_svm();
	test_dataset_codec();
	test_dataset_compact();
	test_logreg_and_determinism();
	test_multilabel();
	test_roundtrip();
	test_metrics();
	return tap_done();
}
