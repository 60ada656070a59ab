/* pea-eval - how good the predictions are: records with `label` (or
 * `labels`) and `pred` (or `preds`), and `probs` when there are any; with
 * --ranking, records with `recs` and the held-out `item` (or `items`). */
#include "afile.h"
#include "cf.h"
#include "metrics.h"
#include "msrc.h"
#include "pmap.h"

#include <stdio.h>

static void put32(struct buf *b, uint32_t v) { buf_add(b, &v, 4); }
static void putstr(struct buf *b, const void *p, uint32_t n)
{
	put32(b, n);
	buf_add(b, p, n);
}

/* a label or a list of them, into b as a count and strings */
static int put_names(struct pmap_task *t, uint32_t r, const pea_val *one, const pea_val *list, struct buf *b)
{
	if (one) {
		if (one->type != PEA_STR)
			return pmap_fail(t, r, "field '%s' is %s, not a string", one->field ? "pred" : "label",
					 pea_type_name(one->type));
		put32(b, 1);
		putstr(b, one->p, one->n);
		return 0;
	}
	if (list->type != PEA_STRLIST)
		return pmap_fail(t, r, "a label list is %s, not a list of strings", pea_type_name(list->type));
	put32(b, list->n);
	struct val_iter it;
	val_iter_init(&it, list);
	while (val_iter_next(&it))
		putstr(b, it.s, it.len);
	return 0;
}

static int collect(void *arg, struct pmap_task *t, const pea_frame *in, pea_fb *out)
{
	(void)arg;
	(void)out;
	struct buf *b = pmap_task_buf(t);
	int fl = frame_field(in, "label"), fls = frame_field(in, "labels"), fp = frame_field(in, "pred"),
	    fps = frame_field(in, "preds"), fpr = frame_field(in, "probs");
	for (uint32_t r = 0; r < frame_nrec(in); r++) {
		const pea_val *l = fl >= 0 ? frame_get(in, r, fl) : NULL, *ls = fls >= 0 ? frame_get(in, r, fls) : NULL;
		const pea_val *p = fp >= 0 ? frame_get(in, r, fp) : NULL, *ps = fps >= 0 ? frame_get(in, r, fps) : NULL;
		const pea_val *pr = fpr >= 0 ? frame_get(in, r, fpr) : NULL;
		if (!l && !ls)
			return pmap_fail(t, r, "no 'label' or 'labels' field");
		int multi = ls != NULL;
		if (multi ? !ps : !p)
			return pmap_fail(t, r, multi ? "no 'preds' field (labels need a multi-label model's predictions)"
						     : "no 'pred' field (pea classify adds it)");
		put32(b, (uint32_t)multi);
		if (put_names(t, r, multi ? NULL : l, ls, b) || put_names(t, r, multi ? NULL : p, ps, b))
			return -1;
		if (!pr) {
			put32(b, 0);
			continue;
		}
		if (pr->type != PEA_MAP)
			return pmap_fail(t, r, "field 'probs' is %s, not a map of label to probability", pea_type_name(pr->type));
		put32(b, pr->n);
		struct val_iter it;
		val_iter_init(&it, pr);
		while (val_iter_next(&it)) {
			if (!(it.d >= 0 && it.d <= 1))
				return pmap_fail(t, r, "probability of '%.*s' is %g, not in [0, 1]", (int)it.len, it.s, it.d);
			putstr(b, it.s, it.len);
			buf_add(b, &it.d, 8);
		}
	}
	return 0;
}

/* --ranking: per record the list and the truth, as counts and strings */
static int collect_ranking(void *arg, struct pmap_task *t, const pea_frame *in, pea_fb *out)
{
	(void)arg;
	(void)out;
	struct buf *b = pmap_task_buf(t);
	int fr = frame_field(in, "recs"), fi = frame_field(in, "item"), fis = frame_field(in, "items");
	for (uint32_t r = 0; r < frame_nrec(in); r++) {
		const pea_val *recs = fr >= 0 ? frame_get(in, r, fr) : NULL;
		const pea_val *one = fi >= 0 ? frame_get(in, r, fi) : NULL, *many = fis >= 0 ? frame_get(in, r, fis) : NULL;
		if (!recs)
			return pmap_fail(t, r, "no 'recs' field (pea recommend adds it)");
		if (recs->type != PEA_STRLIST)
			return pmap_fail(t, r, "field 'recs' is %s, not a list of items", pea_type_name(recs->type));
		if (!one && !many)
			return pmap_fail(t, r, "no 'item' or 'items' field: the held-out truth (pea split writes it)");
		if (one && many)
			return pmap_fail(t, r, "both 'item' and 'items': give one truth");
		if (one && one->type != PEA_STR)
			return pmap_fail(t, r, "field 'item' is %s, not a string", pea_type_name(one->type));
		if (many && (many->type != PEA_STRLIST || !many->n))
			return pmap_fail(t, r, "field 'items' must be a list of at least one item");
		put32(b, recs->n);
		struct val_iter it;
		val_iter_init(&it, recs);
		while (val_iter_next(&it))
			putstr(b, it.s, it.len);
		if (one) {
			put32(b, 1);
			putstr(b, one->p, one->n);
			continue;
		}
		put32(b, many->n);
		val_iter_init(&it, many);
		while (val_iter_next(&it))
			putstr(b, it.s, it.len);
	}
	return 0;
}

struct rd {
	const uint8_t *p, *end;
};
static uint32_t get32(struct rd *r)
{
	uint32_t v;
	memcpy(&v, r->p, 4);
	r->p += 4;
	return v;
}

static void ordered(void *arg, struct buf *data)
{
	struct met *m = arg;
	struct rd r = {data->p, data->p + data->len};
	while (r.p < r.end) {
		uint32_t multi = get32(&r);
		for (int part = 0; part < 2; part++) {
			uint32_t n = get32(&r);
			for (uint32_t i = 0; i < n; i++) {
				uint32_t len = get32(&r);
				(part ? met_pred : met_truth)(m, (const char *)r.p, len);
				r.p += len;
			}
		}
		uint32_t n = get32(&r);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t len = get32(&r);
			double d;
			memcpy(&d, r.p + len, 8);
			met_prob(m, (const char *)r.p, len, d);
			r.p += len + 8;
		}
		met_end_record(m, (int)multi);
	}
}

static void ordered_ranking(void *arg, struct buf *data)
{
	struct rmet *m = arg;
	struct rd r = {data->p, data->p + data->len};
	while (r.p < r.end) {
		for (int part = 0; part < 2; part++) {
			uint32_t n = get32(&r);
			for (uint32_t i = 0; i < n; i++) {
				uint32_t len = get32(&r);
				(part ? rmet_truth : rmet_rec)(m, (const char *)r.p, len);
				r.p += len;
			}
		}
		rmet_end_record(m);
	}
}

static void write_plot(const char *path, const struct buf *svg)
{
	struct afile af;
	afile_open(&af, path, 0644);
	afile_write(&af, svg->p, svg->len);
	afile_commit(&af);
}

static int ranking(char **args, int nargs, int json, const char *plot, const char *model, const char *at,
		   int threads, int quiet)
{
	uint64_t catalogue = 0;
	if (model) {
		struct pea_err e;
		struct cfm *cm = cf_open(model, &e);
		if (!cm)
			die("%s: %s", model, e.msg);
		catalogue = cm->nitems;
		cf_close(cm);
	}
	int *cut = NULL, ncut = 0;
	if (at) {
		struct cli_list l = cli_split(at, ',');
		cut = xcalloc((size_t)l.n + 1, sizeof *cut);
		for (int i = 0; i < l.n; i++) {
			int64_t k;
			if (parse_i64(l.v[i], &k) || k < 1 || k > 100000)
				die_usage("--at takes cut-offs from 1 to 100000, separated by commas");
			cut[ncut++] = (int)k;
			free((char *)l.v[i]);
		}
		free(l.v);
	}
	struct rmet *m = rmet_new();
	pea_in *in = in_open(args, nargs, NULL);
	struct pmap_opts po = {threads, collect_ranking, ordered_ranking, m, quiet};
	pmap_run(in, NULL, &po);
	in_close(in);
	struct rmet_result r;
	struct pea_err e;
	if (rmet_compute(m, catalogue, cut, ncut, &r, &e))
		die("%s", e.msg);
	if (json)
		rmet_print_json(&r, stdout);
	else
		rmet_print(&r, stdout);
	if (plot) {
		struct buf svg = BUF_INIT;
		rmet_svg(&r, &svg);
		write_plot(plot, &svg);
		buf_release(&svg);
	}
	if (fflush(stdout) || ferror(stdout))
		die_errno("writing the report");
	rmet_result_release(&r);
	rmet_free(m);
	free(cut);
	return 0;
}

int main(int argc, char **argv)
{
	int json = 0, rank = 0;
	const char *plot = NULL, *positive = NULL, *model = NULL, *at = NULL;
	struct msrc_opts ms = {0};
	int64_t threads = 0;
	int quiet = 0;
	const struct cli_opt opts[] = {
		{0, "json", CLI_FLAG, &json, NULL, "print the figures as one JSON object"},
		{0, "plot", CLI_STR, &plot, "FILE", "draw the confusion heat map (and ROC curve) as SVG into FILE"},
		{0, "positive", CLI_STR, &positive, "LABEL", "the label ROC and PR curves score (default: the second by name)"},
		{0, "ranking", CLI_FLAG, &rank, NULL, "rank metrics of recommendations: `recs` against `item` or `items`"},
		{0, "at", CLI_STR, &at, "K,...", "--ranking: the cut-offs shown (default 1,5,10,20,50,100 up to the list length)"},
		CLI_OPT_MODEL(&model),
		CLI_OPTS_MODEL_SOURCE(ms),
		CLI_OPT_THREADS(&threads),
		CLI_OPT_QUIET(&quiet),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"eval", "accuracy, F1, confusion, log loss and ROC; or ranking metrics of recommendations",
		"[OPTIONS] [FILE...]",
		"Reads records with `label` and `pred` (or `labels` and `preds`), and\n"
		"`probs` for log loss, ROC AUC and PR AUC; prints a table, or JSON.\n"
		"With --ranking, reads records with `recs` (pea recommend) and the truth,\n"
		"`item` or `items` (pea split), and prints HR, NDCG, recall, precision, MAP\n"
		"and coverage at cut-offs k; -m names the model whose items coverage counts.",
		opts,
		"  pea classify -m spam.model test.pea | pea eval --plot spam.svg\n"
		"  pea recommend -m recs.model -k 10 < test.pea | pea eval --ranking",
		0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	msrc_configure(&ms);
	if (!rank && (model || at))
		die_usage("-m and --at go with --ranking");
	if (rank && positive)
		die_usage("--positive means nothing to --ranking");
	if (rank) {
		int rc = ranking(args, nargs, json, plot, model, at, cli_threads(threads), quiet);
		free(args);
		return rc;
	}
	struct met *m = met_new();
	pea_in *in = in_open(args, nargs, NULL);
	struct pmap_opts po = {cli_threads(threads), collect, ordered, m, quiet};
	pmap_run(in, NULL, &po);
	in_close(in);
	struct met_result r;
	struct pea_err e;
	if (met_compute(m, positive, &r, &e))
		die("%s", e.msg);
	if (json)
		met_print_json(&r, stdout);
	else
		met_print(&r, stdout);
	if (plot) {
		struct buf svg = BUF_INIT;
		met_svg(&r, &svg);
		write_plot(plot, &svg);
		buf_release(&svg);
	}
	if (fflush(stdout) || ferror(stdout))
		die_errno("writing the report");
	met_result_release(&r);
	met_free(m);
	free(args);
	return 0;
}
