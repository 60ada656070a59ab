/* pea-classify - add each record's predicted label and probabilities.
 *
 * The model is mapped, not read, so start-up costs nothing however large
 * it is; records are classified on every core (pmap) and keep every other
 * field, so `label` reaches pea-eval. */
#include "algo.h"
#include "msrc.h"
#include "pmap.h"
#include "reload.h"

#include <stdio.h>

struct scratch {
	double *p;
	struct ds_x *xs; /* a frame's inputs, for algorithms that predict in batches */
	double *pb;
	uint32_t nbatch;
	uint32_t *ord;
	uint8_t *skip;
	size_t nskip;
};

struct ctx {
	struct amodel *m;
	const char *field;
	int64_t top;
	double threshold; /* NAN: the model's own decision */
	struct scratch *s; /* per thread */
	int nt;
	struct reload *rl; /* --reload */
};

/* scratch sized for the model's labels */
static void size_scratch(struct ctx *c)
{
	for (int i = 0; i < c->nt; i++) {
		c->s[i].p = xrealloc(c->s[i].p, (size_t)c->m->nlabels * sizeof *c->s[i].p);
		c->s[i].ord = xrealloc(c->s[i].ord, (size_t)c->m->nlabels * sizeof *c->s[i].ord);
		c->s[i].nbatch = 0; /* the batch buffers hold nlabels values a record */
	}
}

/* what a model must be for the options given */
static const char *unfit(const struct ctx *c, const struct amodel *m)
{
	if (!isnan(c->threshold) && !m->multilabel && m->nlabels != 2)
		return "--threshold needs a binary or multi-label model";
	/* the records keep coming from the same vectorizer */
	const struct amodel *old = c->m;
	if (old && (m->dense != old->dense || (m->dense && m->dim != old->dim) ||
		    (!m->fspace) != (!old->fspace) || (m->fspace && strcmp(m->fspace, old->fspace))))
		return "its feature space is not the one the records are in";
	return NULL;
}

static void *open_model(void *arg, const char *path, struct pea_err *e)
{
	struct amodel *m = am_open(path, e);
	const char *why = m ? unfit(arg, m) : NULL;
	if (why) {
		err_set(e, "%s", why);
		am_free(m);
		return NULL;
	}
	return m;
}

static void free_model(void *m)
{
	am_free(m);
}

/* before each unit, while no worker runs: a new model file is swapped in */
static void maybe_reload(void *arg)
{
	struct ctx *c = arg;
	if (reload_check(c->rl)) {
		c->m = reload_model(c->rl);
		size_scratch(c);
	}
}

static int check_input(struct ctx *c, struct pmap_task *t, uint32_t r, const pea_val *x, const pea_val *fs,
		       const pea_val *sh)
{
	const struct amodel *m = c->m;
	if (m->shape[0] && sh && sh->type == PEA_INTS && sh->n == 3) {
		/* images: the same number of values in another geometry is still wrong */
		int64_t v[3];
		struct val_iter it;
		val_iter_init(&it, sh);
		for (int i = 0; i < 3 && val_iter_next(&it); i++)
			v[i] = it.i;
		if (v[0] != m->shape[0] || v[1] != m->shape[1] || v[2] != m->shape[2])
			return pmap_fail(t, r, "the model takes images of %dx%dx%d (channels x height x width), the record's shape is %lldx%lldx%lld",
					 m->shape[0], m->shape[1], m->shape[2], (long long)v[0], (long long)v[1], (long long)v[2]);
	}
	if (x->type != PEA_SPARSE && x->type != PEA_DENSE)
		return pmap_fail(t, r, "the feature field is %s, not a feature vector", pea_type_name(x->type));
	if ((x->type == PEA_DENSE) != m->dense)
		return pmap_fail(t, r, "the model takes %s features, the record has %s ones",
				 m->dense ? "dense" : "sparse", m->dense ? "sparse" : "dense");
	if (m->dense && x->n != m->dim)
		return pmap_fail(t, r, "the model takes dense vectors of %u values, the record has %u", m->dim, x->n);
	if (fs && (fs->type != PEA_STR || !m->fspace || strlen(m->fspace) != fs->n || memcmp(m->fspace, fs->p, fs->n))) {
		if (fs->type != PEA_STR)
			return pmap_fail(t, r, "field 'fspace' is %s, not a string", pea_type_name(fs->type));
		if (m->fspace)
			return pmap_fail(t, r, "the record's feature space '%.*s' is not the model's '%s'", (int)fs->n,
					 val_str(fs), m->fspace);
	}
	return 0;
}

/* the fields of a frame a prediction reads: features (or --field), dense,
 * fspace and shape; -1 where the frame has none */
struct in_fields {
	int x, dense, fspace, shape;
};

/* Record r's input, checked against the model, as the learners take it. */
static int record_input(struct ctx *c, struct pmap_task *t, const pea_frame *in, uint32_t r,
			const struct in_fields *f, struct ds_x *dx)
{
	const pea_val *x = f->x >= 0 ? frame_get(in, r, f->x) : NULL;
	if (!x && f->dense >= 0)
		x = frame_get(in, r, f->dense);
	if (!x)
		return c->field ? pmap_fail(t, r, "no '%s' field", c->field)
				: pmap_fail(t, r, "no 'features' or 'dense' field");
	if (check_input(c, t, r, x, f->fspace >= 0 ? frame_get(in, r, f->fspace) : NULL,
			f->shape >= 0 ? frame_get(in, r, f->shape) : NULL))
		return -1;
	*dx = (struct ds_x){x->type == PEA_SPARSE ? val_idx(x) : NULL, val_fval(x), x->n};
	return 0;
}

static int cmp_desc(const void *a, const void *b, void *arg)
{
	const double *p = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	if (p[x] != p[y])
		return p[x] < p[y] ? 1 : -1;
	return (x > y) - (x < y);
}

static int classify(void *arg, struct pmap_task *t, const pea_frame *in, pea_fb *out)
{
	struct ctx *c = arg;
	const struct amodel *m = c->m;
	struct scratch *s = &c->s[pmap_thread(t)];
	const struct in_fields f = {
		c->field ? frame_field(in, c->field) : frame_field(in, "features"),
		c->field ? -1 : frame_field(in, "dense"), frame_field(in, "fspace"), frame_field(in, "shape"),
	};
	uint32_t nf = frame_nfields(in);
	if (nf > s->nskip) {
		s->nskip = nf;
		s->skip = xrealloc(s->skip, nf);
	}
	for (uint32_t i = 0; i < nf; i++) {
		const char *name = frame_fdef(in, i)->name;
		s->skip[i] = !strcmp(name, "pred") || !strcmp(name, "preds") || !strcmp(name, "probs");
	}
	int fpred = fb_xfield(out, "pred", PEA_STR), fprobs = fb_xfield(out, "probs", PEA_MAP);
	int fpreds = m->multilabel ? fb_xfield(out, "preds", PEA_STRLIST) : -1;
	int K = m->nlabels, pos = am_positive(m);
	uint32_t nrec = frame_nrec(in);
	if (m->algo->predict_batch) {
		/* networks: check every record, then predict the frame in batches */
		if (nrec > s->nbatch) {
			s->nbatch = nrec;
			s->xs = xrealloc(s->xs, nrec * sizeof *s->xs);
			s->pb = xrealloc(s->pb, xmul(nrec, (size_t)K) * sizeof *s->pb);
		}
		for (uint32_t r = 0; r < nrec; r++)
			if (record_input(c, t, in, r, &f, &s->xs[r]))
				return -1;
		m->algo->predict_batch(m, s->xs, (int)nrec, s->pb);
	}
	for (uint32_t r = 0; r < nrec; r++) {
		if (m->algo->predict_batch) {
			memcpy(s->p, s->pb + (size_t)r * K, (size_t)K * sizeof *s->p);
		} else {
			struct ds_x dx;
			if (record_input(c, t, in, r, &f, &dx))
				return -1;
			m->algo->predict(m, &dx, s->p);
		}
		int best = 0;
		for (int k = 1; k < K; k++)
			if (s->p[k] > s->p[best])
				best = k;
		if (!isnan(c->threshold) && pos >= 0)
			best = s->p[pos] >= c->threshold ? pos : 1 - pos;
		fb_begin(out);
		if (fb_copy_rec(out, in, r, s->skip) < 0)
			return pmap_fail(t, r, "internal error: type clash");
		fb_str(out, fpred, m->labels[best], strlen(m->labels[best]));
		if (m->multilabel) {
			fb_list_begin(out, fpreds, PEA_STRLIST);
			for (int k = 0; k < K; k++)
				if (s->p[k] >= (isnan(c->threshold) ? m->thresholds[k] : c->threshold))
					fb_list_str(out, m->labels[k], strlen(m->labels[k]));
			fb_list_end(out);
		}
		fb_list_begin(out, fprobs, PEA_MAP);
		if (c->top > 0 && c->top < K) {
			for (int k = 0; k < K; k++)
				s->ord[k] = (uint32_t)k;
			qsort_r(s->ord, (size_t)K, sizeof *s->ord, cmp_desc, s->p);
			for (int64_t k = 0; k < c->top; k++)
				fb_list_kv(out, m->labels[s->ord[k]], strlen(m->labels[s->ord[k]]), s->p[s->ord[k]]);
		} else {
			for (int k = 0; k < K; k++)
				fb_list_kv(out, m->labels[k], strlen(m->labels[k]), s->p[k]);
		}
		fb_list_end(out);
		fb_end(out);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct out_opts oo = OUT_OPTS_INIT;
	struct ctx c = {0};
	const char *model = NULL;
	int64_t threads = 0;
	int quiet = 0;
	int reload = 0;
	double every = 60;
	struct msrc_opts ms = {0};
	c.threshold = NAN;
	const struct cli_opt opts[] = {
		CLI_OPT_MODEL(&model),
		CLI_OPTS_RELOAD(&reload, &every),
		CLI_OPTS_MODEL_SOURCE(ms),
		CLI_OPT_FIELD(&c.field, "the feature field (default features, or dense)"),
		{'k', "top", CLI_INT, &c.top, "K", "keep only the K most probable labels in probs"},
		{0, "threshold", CLI_DBL, &c.threshold, "P", "binary: predict the second label when its probability is at least P; multi-label: every label at P or above"},
		CLI_OPTS_WRITER(oo),
		CLI_OPT_THREADS(&threads),
		CLI_OPT_QUIET(&quiet),
		CLI_END,
	};
	const struct cli_cmd cmd = {
		"classify", "add predicted labels and probabilities to records", "-m MODEL [OPTIONS] [FILE...]",
		"Adds `pred` (the most probable label), `probs` (label -> probability) and,\n"
		"for multi-label models, `preds` (every label at or above its threshold);\n"
		"keeps every other field.  Records must be in the model's feature space.\n"
		"With --reload, a model written over MODEL (atomically, as pea train\n"
		"does) is checked and used from the next record on; MODEL may be a URL (a\n"
		"manifest of pea publish, or a model file), fetched into a cache.",
		opts, "  pea tokenize < test.jsonl | pea vectorize | pea classify -m spam.model | pea eval", 0, -1,
	};
	char **args;
	int nargs;
	cli_parse(&cmd, argc, argv, &args, &nargs);
	if (!model)
		die_usage("-m MODEL is required");
	if (!(every > 0 && every <= 1e6))
		die_usage("--reload-every must be more than 0 seconds");
	msrc_configure(&ms);
	struct pea_err e;
	if (!(c.m = am_open(model, &e)))
		die("%s: %s", model, e.msg);
	if (c.top < 0)
		die_usage("--top must be at least 0");
	if (!isnan(c.threshold)) {
		if (!(c.threshold >= 0 && c.threshold <= 1))
			die_usage("--threshold must be between 0 and 1");
		if (!c.m->multilabel && c.m->nlabels != 2)
			die_usage("--threshold needs a binary or multi-label model (this one has %d labels)", c.m->nlabels);
	}
	int nt = cli_threads(threads);
	c.nt = nt;
	c.s = xcalloc((size_t)nt, sizeof *c.s);
	size_scratch(&c);
	pea_in *in = in_open(args, nargs, NULL);
	if (reload) {
		c.rl = reload_new(model, c.m, open_model, free_model, &c);
		reload_set_interval(c.rl, every);
		in_on_unit(in, maybe_reload, &c);
	}
	pea_out *out = out_open(&oo);
	struct pmap_opts po = {nt, classify, NULL, &c, quiet};
	pmap_run(in, out, &po);
	out_close(out);
	in_close(in);
	for (int i = 0; i < nt; i++) {
		free(c.s[i].p);
		free(c.s[i].ord);
		free(c.s[i].skip);
		free(c.s[i].xs);
		free(c.s[i].pb);
	}
	free(c.s);
	if (c.rl)
		reload_free(c.rl);
	else
		am_free(c.m);
	free(args);
	return 0;
}
