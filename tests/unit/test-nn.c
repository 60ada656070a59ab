/* test-nn - every layer's gradient against finite differences, a tiny set
 * learned to 100 %, bit-identical training at 1 and 2 threads, the
 * patches of dense.c against a direct convolution, and inference (each of
 * its paths: direct, BLAS and Winograd convolutions, fused and lone pools,
 * folded and lone batch norms) against the layers computed one by one. */
#include "dense.h"
#include "nn.h"
#include "tap.h"

#include <stdlib.h>

static struct rng R;

static float *randv(size_t n, float scale)
{
	float *v = xmalloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		v[i] = (float)((rng_unit(&R) * 2 - 1) * scale);
	return v;
}

/* central differences on `probe` parameters chosen at random; returns the
 * worst relative error */
/* the central difference of the loss in parameter k, step h */
static double num_grad(struct nn *n, const struct nn_data *d, size_t k, double h, float *scratch)
{
	float keep = n->param[k];
	n->param[k] = keep + (float)h;
	double lp = nn_loss_grad(n, d, scratch);
	n->param[k] = keep - (float)h;
	double lm = nn_loss_grad(n, d, scratch);
	n->param[k] = keep;
	return (lp - lm) / (2 * h);
}

static double rel_diff(double a, double b)
{
	return fabs(a - b) / (fabs(a) + fabs(b) + 1e-3);
}

/* The worst relative error of the gradient against finite differences over
 * `probe` random parameters.  A probe where a ReLU or a max pool switches
 * within the step is not smooth there: its differences at h and h/2
 * disagree, and another parameter is drawn instead (a gradient that is
 * wrong still disagrees with two differences that agree). */
static double grad_check(struct nn *n, const struct nn_data *d, int probe)
{
	float *g = xmalloc(n->nparam * sizeof(float)), *gg = xmalloc(n->nparam * sizeof(float));
	nn_loss_grad(n, d, g);
	double worst = 0;
	int kinks = 0;
	for (int t = 0; t < probe; t++) {
		size_t k = (size_t)rng_below(&R, n->nparam);
		double num = num_grad(n, d, k, 2e-3, gg);
		if (rel_diff(num, num_grad(n, d, k, 1e-3, gg)) > 0.02 && kinks++ < probe) {
			t--;
			continue;
		}
		double err = rel_diff(num, g[k]);
		if (err > worst)
			worst = err;
	}
	free(gg);
	free(g);
	return worst;
}

static void check_net(const char *spec, int c, int h, int w, int sparse, uint32_t dim)
{
	struct pea_err e;
	int N = 6, nout = 3;
	struct nn *n = nn_build(spec, c, h, w, sparse, dim, nout, &e);
	if (!ok(n != NULL, "builds %s", spec)) {
		printf("#   %s\n", e.msg);
		return;
	}
	struct rng ir;
	rng_seed(&ir, 7);
	nn_init(n, &ir);
	/* batch norm scales away from 1 so their gradient is not trivially tied */
	for (int i = 0; i < n->nl; i++)
		if (n->l[i].kind == NN_BN)
			for (size_t k = 0; k < n->l[i].nb; k++)
				n->param[n->l[i].boff + k] += (float)(rng_unit(&R) - 0.5);
	struct nn_data d = {.n = (size_t)N};
	int y[6] = {0, 1, 2, 1, 0, 2};
	float *x = NULL, *val = NULL;
	uint64_t off[7];
	uint32_t idx[6 * 3];
	d.y = y;
	if (sparse) {
		val = randv(6 * 3, 1);
		for (int i = 0; i < N; i++) {
			off[i] = (uint64_t)i * 3;
			idx[i * 3] = (uint32_t)i;
			idx[i * 3 + 1] = (uint32_t)(i + 7);
			idx[i * 3 + 2] = (uint32_t)(dim - 1 - i);
		}
		off[N] = (uint64_t)N * 3;
		d.off = off;
		d.idx = idx;
		d.val = val;
	} else {
		x = randv((size_t)N * c * h * w, 1);
		d.x = x;
	}
	double worst = grad_check(n, &d, 40);
	if (!ok(worst < 0.05, "gradients of %s match finite differences", spec))
		printf("#   worst relative error %g\n", worst);
	free(x);
	free(val);
	nn_free(n);
}

/* 4 classes of 6x6 images: a bright quadrant each, plus noise */
static void make_quads(int N, float **x, int **y)
{
	*x = xmalloc((size_t)N * 36 * sizeof(float));
	*y = xmalloc((size_t)N * sizeof(int));
	for (int i = 0; i < N; i++) {
		int q = i % 4;
		(*y)[i] = q;
		for (int r = 0; r < 6; r++)
			for (int c = 0; c < 6; c++) {
				int in = (r < 3) == (q < 2) && (c < 3) == (q % 2 == 0);
				(*x)[i * 36 + r * 6 + c] = (float)(in ? 0.8 : 0.1) + (float)(rng_unit(&R) * 0.3);
			}
	}
}

static struct nn *train_quads(const char *spec, int threads, int epochs, int augment, double *acc)
{
	struct pea_err e;
	float *x;
	int *y;
	struct rng r;
	rng_seed(&r, 11);
	R = r;
	make_quads(100, &x, &y);
	struct nn *n = nn_build(spec, 1, 6, 6, 0, 0, 4, &e);
	if (!n) {
		printf("# %s\n", e.msg);
		exit(1);
	}
	rng_seed(&r, 3);
	nn_init(n, &r);
	struct nn_opts o = {.optim = NN_ADAM, .sched = NN_COSINE, .batch = 40, .lr = 0.01, .wd = 1e-4,
			    .threads = threads, .epochs = epochs, .augment = augment};
	struct nn_trainer *t = nn_trainer_new(n, &o, 5);
	struct nn_data d = {.n = 100, .x = x, .y = y};
	for (int ep = 0; ep < epochs; ep++)
		nn_epoch(t, &d, ep, acc, NULL, NULL);
	nn_trainer_free(t);
	/* accuracy of the trained network, in inference mode */
	int right = 0;
	float p[4];
	for (int i = 0; i < 100; i++) {
		nn_predict(n, x + i * 36, NULL, NULL, 0, p);
		int best = 0;
		for (int k = 1; k < 4; k++)
			if (p[k] > p[best])
				best = k;
		right += best == y[i];
	}
	*acc = right / 100.0;
	free(x);
	free(y);
	return n;
}

static void test_patches(void)
{
	/* a 3x3 convolution with stride 2 and padding 1, computed directly */
	struct dense_conv g = {2, 2, 5, 4, 3, 2, 1, 3, 2};
	float *x = randv(2 * 2 * 5 * 4, 1), *wt = randv(3 * 2 * 9, 1);
	float *cols = xmalloc(18 * 2 * 6 * sizeof(float)), y[3 * 12];
	dense_init();
	dense_im2col(&g, x, cols);
	dense_gemm(0, 0, 3, 12, 18, 1, wt, 18, cols, 12, 0, y, 12);
	double worst = 0;
	for (int o = 0; o < 3; o++)
		for (int b = 0; b < 2; b++)
			for (int oy = 0; oy < 3; oy++)
				for (int ox = 0; ox < 2; ox++) {
					double s = 0;
					for (int c = 0; c < 2; c++)
						for (int ki = 0; ki < 3; ki++)
							for (int kj = 0; kj < 3; kj++) {
								int iy = oy * 2 + ki - 1, ix = ox * 2 + kj - 1;
								if (iy >= 0 && iy < 5 && ix >= 0 && ix < 4)
									s += wt[(o * 2 + c) * 9 + ki * 3 + kj] *
									     x[((c * 2 + b) * 5 + iy) * 4 + ix];
							}
					double got = y[o * 12 + (b * 3 + oy) * 2 + ox];
					if (fabs(got - s) > worst)
						worst = fabs(got - s);
				}
	ok(worst < 1e-5, "im2col + sgemm equals a direct convolution (stride 2, padding 1)");
	/* col2im is the adjoint of im2col: <im2col(x), c> == <x, col2im(c)> */
	float *c2 = randv(18 * 12, 1), *dx = xmalloc(80 * sizeof(float));
	dense_col2im(&g, c2, dx);
	double a = 0, b = 0;
	for (int i = 0; i < 18 * 12; i++)
		a += cols[i] * c2[i];
	for (int i = 0; i < 80; i++)
		b += x[i] * dx[i];
	near(a, b, 1e-3, "col2im is the adjoint of im2col");
	free(x);
	free(wt);
	free(cols);
	free(c2);
	free(dx);
}

/* Inference folds batch norms into the layer before them and fuses the
 * ReLU: its probabilities against the layers computed one by one, as
 * written, with running statistics away from 0 and 1. */
static void test_inference(void)
{
	struct pea_err e;
	enum { C = 3, H = 4, W = 5, O = 4, F = C * H * W };
	struct nn *n = nn_build("conv3x3:3:p1,bn,relu,fc:6,bn,relu,dropout:0.5,fc", 1, H, W, 0, 0, O, &e);
	if (!ok(n != NULL, "builds the net of the inference check"))
		return;
	for (size_t k = 0; k < n->nparam; k++)
		n->param[k] = (float)((rng_unit(&R) * 2 - 1) * 0.7);
	for (int i = 0; i < n->nl; i++)
		if (n->l[i].kind == NN_BN)
			for (int c = 0; c < n->l[i].oc; c++) {
				n->state[n->l[i].soff + c] = (float)(rng_unit(&R) - 0.5);
				n->state[n->l[i].soff + n->l[i].oc + c] = (float)(0.2 + rng_unit(&R) * 2);
			}
	const struct nn_layer *cv = &n->l[0], *b1 = &n->l[1], *fc = &n->l[3], *b2 = &n->l[4], *out = &n->l[7];
	const float *P = n->param, *S = n->state;
	double worst = 0;
	for (int t = 0; t < 8; t++) {
		float x[H * W], p[O];
		double a[F], h[6], z[O], sum = 0;
		for (int k = 0; k < H * W; k++)
			x[k] = (float)rng_unit(&R);
		for (int c = 0; c < C; c++)
			for (int yy = 0; yy < H; yy++)
				for (int xx = 0; xx < W; xx++) {
					double v = P[cv->boff + c];
					for (int ky = 0; ky < 3; ky++)
						for (int kx = 0; kx < 3; kx++) {
							int sy = yy + ky - 1, sx = xx + kx - 1;
							if (sy >= 0 && sy < H && sx >= 0 && sx < W)
								v += P[cv->woff + c * 9 + ky * 3 + kx] * x[sy * W + sx];
						}
					v = (v - S[b1->soff + c]) / sqrt(S[b1->soff + C + c] + 1e-5) * P[b1->boff + c] +
					    P[b1->boff + C + c];
					a[(c * H + yy) * W + xx] = v > 0 ? v : 0;
				}
		for (int o = 0; o < 6; o++) {
			double v = P[fc->boff + o];
			for (int k = 0; k < F; k++)
				v += P[fc->woff + o * F + k] * a[k];
			v = (v - S[b2->soff + o]) / sqrt(S[b2->soff + 6 + o] + 1e-5) * P[b2->boff + o] + P[b2->boff + 6 + o];
			h[o] = v > 0 ? v : 0;
		}
		for (int o = 0; o < O; o++) {
			z[o] = P[out->boff + o];
			for (int k = 0; k < 6; k++)
				z[o] += P[out->woff + o * 6 + k] * h[k];
		}
		double mx = z[0];
		for (int o = 1; o < O; o++)
			mx = z[o] > mx ? z[o] : mx;
		for (int o = 0; o < O; o++)
			sum += exp(z[o] - mx);
		nn_predict(n, x, NULL, NULL, 0, p);
		for (int o = 0; o < O; o++) {
			double d = fabs(p[o] - exp(z[o] - mx) / sum);
			worst = d > worst ? d : worst;
		}
	}
	ok(worst < 1e-5, "inference with folded batch norms equals the layers one by one (worst %.2g)", worst);
	nn_free(n);
}

static size_t layer_in(const struct nn_layer *l) { return (size_t)l->ic * l->ih * l->iw; }
static size_t layer_out(const struct nn_layer *l) { return (size_t)l->oc * l->oh * l->ow; }

/* The logits of one example, every layer as nn.h defines it, in doubles,
 * images C x H x W: what inference is checked against. */
static void ref_logits(const struct nn *n, const float *x, const uint32_t *idx, const float *val, uint32_t nnz,
		       double *z)
{
	size_t big = n->dim;
	for (int i = 0; i < n->nl; i++) {
		big = layer_out(&n->l[i]) > big ? layer_out(&n->l[i]) : big;
		big = layer_in(&n->l[i]) > big ? layer_in(&n->l[i]) : big;
	}
	double *a = xcalloc(big, sizeof *a), *b = xcalloc(big, sizeof *b), *t;
	for (uint32_t k = 0; !n->sparse && k < n->dim; k++)
		a[k] = x[k];
	const float *P = n->param, *S = n->state;
	for (int i = 0; i < n->nl; i++, t = a, a = b, b = t) {
		const struct nn_layer *l = &n->l[i];
		size_t hw = (size_t)l->oh * l->ow;
		switch (l->kind) {
		case NN_CONV:
			for (int o = 0; o < l->oc; o++)
				for (int oy = 0; oy < l->oh; oy++)
					for (int ox = 0; ox < l->ow; ox++) {
						double v = P[l->boff + o];
						for (int c = 0; c < l->ic; c++)
							for (int ki = 0; ki < l->k; ki++)
								for (int kj = 0; kj < l->k; kj++) {
									int iy = oy * l->stride + ki - l->pad, ix = ox * l->stride + kj - l->pad;
									if (iy >= 0 && iy < l->ih && ix >= 0 && ix < l->iw)
										v += P[l->woff + ((size_t)(o * l->ic + c) * l->k + ki) * l->k + kj] *
										     a[((size_t)c * l->ih + iy) * l->iw + ix];
								}
						b[(size_t)o * hw + oy * l->ow + ox] = v;
					}
			break;
		case NN_MAXPOOL:
		case NN_AVGPOOL:
			for (int c = 0; c < l->oc; c++)
				for (int oy = 0; oy < l->oh; oy++)
					for (int ox = 0; ox < l->ow; ox++) {
						double m = -INFINITY, s = 0;
						for (int ky = 0; ky < l->k; ky++)
							for (int kx = 0; kx < l->k; kx++) {
								double v = a[((size_t)c * l->ih + oy * l->stride + ky) * l->iw + ox * l->stride + kx];
								m = v > m ? v : m;
								s += v;
							}
						b[(size_t)c * hw + oy * l->ow + ox] = l->kind == NN_MAXPOOL ? m : s / (l->k * l->k);
					}
			break;
		case NN_FC:
			for (int o = 0; o < l->out; o++) {
				double v = P[l->boff + o];
				if (l->sparse_in) {
					for (uint32_t k = 0; k < nnz; k++)
						if (idx[k] < n->dim)
							v += val[k] * P[l->woff + (size_t)idx[k] * l->out + o];
				} else {
					for (size_t k = 0; k < layer_in(l); k++)
						v += P[l->woff + o * layer_in(l) + k] * a[k];
				}
				b[o] = v;
			}
			break;
		case NN_BN:
			for (size_t k = 0; k < layer_out(l); k++) {
				size_t c = k / hw;
				b[k] = (a[k] - S[l->soff + c]) / sqrt(S[l->soff + l->oc + c] + NN_BN_EPS) * P[l->boff + c] +
				       P[l->boff + l->oc + c];
			}
			break;
		case NN_RELU:
		case NN_DROPOUT:
			for (size_t k = 0; k < layer_out(l); k++)
				b[k] = l->kind == NN_RELU && a[k] < 0 ? 0 : a[k];
			break;
		}
	}
	memcpy(z, a, (size_t)n->nout * sizeof *z);
	free(a);
	free(b);
}

/* the worst difference between probabilities p and the softmax of z */
static double worst_prob(const float *p, const double *z, int O)
{
	double mx = z[0], sum = 0, worst = 0;
	for (int o = 1; o < O; o++)
		mx = z[o] > mx ? z[o] : mx;
	for (int o = 0; o < O; o++)
		sum += exp(z[o] - mx);
	for (int o = 0; o < O; o++) {
		double d = fabs(p[o] - exp(z[o] - mx) / sum);
		worst = d > worst ? d : worst;
	}
	return worst;
}

/* nn_predict, nn_predict_batch and nn_predict_rows on N examples (more
 * than one batch) against ref_logits, random parameters and statistics */
static void check_eval(const char *spec, int c, int h, int w, int sparse, uint32_t dim)
{
	struct pea_err e;
	enum { N = 37, O = 5 };
	struct nn *n = nn_build(spec, c, h, w, sparse, dim, O, &e);
	if (!ok(n != NULL, "builds %s", spec)) {
		printf("#   %s\n", e.msg);
		return;
	}
	for (size_t k = 0; k < n->nparam; k++)
		n->param[k] = (float)(rng_unit(&R) - 0.5);
	for (int i = 0; i < n->nl; i++)
		if (n->l[i].kind == NN_BN)
			for (int k = 0; k < n->l[i].oc; k++) {
				n->state[n->l[i].soff + k] = (float)(rng_unit(&R) - 0.5);
				n->state[n->l[i].soff + n->l[i].oc + k] = (float)(0.2 + rng_unit(&R) * 2);
			}
	enum { NZ = 4 };
	float *x = sparse ? NULL : randv((size_t)N * n->dim, 1), val[N][NZ], pb[N * O], pr[N * O], p1[O];
	uint32_t idx[N][NZ], nnz[N];
	const float *xs[N], *vals[N];
	const uint32_t *idxs[N];
	for (int i = 0; i < N; i++) {
		for (int k = 0; k < NZ; k++) {
			idx[i][k] = (uint32_t)rng_below(&R, dim + 2); /* now and then one the model never saw */
			val[i][k] = (float)rng_unit(&R);
		}
		nnz[i] = NZ;
		xs[i] = sparse ? NULL : x + (size_t)i * n->dim;
		vals[i] = val[i];
		idxs[i] = idx[i];
	}
	if (!sparse)
		nn_predict_batch(n, x, N, pb);
	nn_predict_rows(n, sparse ? NULL : xs, idxs, vals, nnz, N, pr);
	double wb = 0, wr = 0, w1 = 0, z[O];
	for (int i = 0; i < N; i++) {
		ref_logits(n, xs[i], idx[i], val[i], nnz[i], z);
		nn_predict(n, xs[i], idx[i], val[i], nnz[i], p1);
		double d;
		if (!sparse && (d = worst_prob(pb + i * O, z, O)) > wb)
			wb = d;
		if ((d = worst_prob(pr + i * O, z, O)) > wr)
			wr = d;
		if ((d = worst_prob(p1, z, O)) > w1)
			w1 = d;
	}
	ok(wb < 1e-5 && wr < 1e-5 && w1 < 1e-5, "inference of %s equals its layers one by one (worst %.2g, %.2g, %.2g)",
	   spec, wb, wr, w1);
	free(x);
	nn_free(n);
}

int main(void)
{
	rng_seed(&R, 42);
	test_patches();
	test_inference();
	check_net("fc:7,relu,fc", 1, 3, 4, 0, 0);
	check_net("conv3x3:4,relu,maxpool2,fc:5,relu,fc", 2, 7, 6, 0, 0);
	check_net("conv3x3:3:s2:p1,bn,relu,avgpool2,fc", 1, 8, 8, 0, 0);
	check_net("conv2x2:3,relu,conv2x2:2,fc", 1, 5, 5, 0, 0);
	check_net("fc:8,bn,relu,dropout:0.5,fc", 1, 1, 10, 0, 0);
	check_net("fc:6,relu,fc", 0, 0, 0, 1, 30);
	/* direct first layers (a partial vector of channels), Winograd second ones, fused pools */
	check_eval("conv3x3:20,relu,maxpool2,conv3x3:24:p1,bn,relu,maxpool2,fc:12,relu,fc", 1, 12, 12, 0, 0);
	check_eval("conv3x3:16:p1,bn,relu,maxpool2,conv3x3:32:p1,bn,relu,maxpool2,fc:8,relu,dropout:0.3,fc", 1, 10, 10, 0, 0);
	/* colour, stride and padding; a pool on its own */
	check_eval("conv3x3:8:s2:p1,relu,avgpool2,fc", 3, 9, 9, 0, 0);
	/* overlapping pools, lone batch norms and ReLUs, a pool fused with no ReLU */
	check_eval("conv5x5:17:p2,maxpool3:s2,bn,relu,conv3x3:5,maxpool2,fc:7,dropout:0.5,fc", 2, 11, 11, 0, 0);
	check_eval("bn,conv2x2:33,maxpool2:s1,fc", 1, 6, 6, 0, 0);
	/* a fused 2x2 pool after a convolution Winograd does not take (5x5) */
	check_eval("conv5x5:6:p2,relu,maxpool2,fc", 2, 8, 8, 0, 0);
	/* pools of 9 pixels, direct and by BLAS */
	check_eval("conv3x3:4,relu,maxpool3,fc", 1, 11, 11, 0, 0);
	check_eval("conv3x3:4,relu,maxpool3,fc", 4, 11, 11, 0, 0);
	/* a pool window larger than a block of patch rows */
	check_eval("conv3x3:4,relu,maxpool17,fc", 1, 20, 20, 0, 0);
	check_eval("conv3x3:4,relu,maxpool17,fc", 4, 20, 20, 0, 0);
	check_eval("fc:9,bn,relu,fc", 1, 1, 30, 0, 0);
	check_eval("fc:6,relu,fc", 0, 0, 0, 1, 50);

	struct pea_err e;
	ok(!nn_build("conv3x3:8,fc:4,conv3x3:2,fc", 1, 6, 6, 0, 0, 4, &e), "conv after fc is refused");
	ok(strstr(e.msg, "after fc") != NULL, "  with a message: %s", e.msg);
	ok(!nn_build("conv9x9:8,fc", 1, 6, 6, 0, 0, 4, &e), "a kernel larger than the image is refused");
	ok(!nn_build("fc,relu,fc", 1, 6, 6, 0, 0, 4, &e), "only the last fc may leave out its width");
	ok(!nn_build("fc:8,relu", 1, 6, 6, 0, 0, 4, &e), "the last layer must be fc");
	ok(!nn_build("fc:8,fc:3", 1, 6, 6, 0, 0, 4, &e), "the last fc must have one unit per label");
	ok(!nn_build("conv3x3:8,fc", 0, 0, 0, 1, 100, 4, &e), "sparse input needs fc first");
	ok(!nn_build("conv3x3:8,dropout:1.5,fc", 1, 6, 6, 0, 0, 4, &e), "dropout outside [0,1) is refused");
	ok(!nn_build("relu,banana,fc", 1, 6, 6, 0, 0, 4, &e), "an unknown layer is refused");

	double acc;
	struct nn *a = train_quads("conv3x3:4,bn,relu,maxpool2,fc:16,relu,dropout:0.2,fc", 1, 30, 0, &acc);
	near(acc, 1.0, 0, "a CNN learns a tiny set to 100 %%");
	struct nn *b = train_quads("conv3x3:4,bn,relu,maxpool2,fc:16,relu,dropout:0.2,fc", 2, 30, 0, &acc);
	ok(a->nparam == b->nparam && !memcmp(a->param, b->param, a->nparam * sizeof(float)) &&
		   !memcmp(a->state, b->state, a->nstate * sizeof(float)),
	   "the same seed gives bit-identical networks at 1 and 2 threads");
	nn_free(b);
	b = train_quads("conv3x3:4,bn,relu,maxpool2,fc:16,relu,dropout:0.2,fc", 3, 30, 0, &acc);
	ok(!memcmp(a->param, b->param, a->nparam * sizeof(float)), "... and at 3 threads");
	nn_free(b);
	nn_free(a);
	a = train_quads("fc:16,relu,fc", 2, 40, 1, &acc);
	near(acc, 1.0, 0, "an MLP learns it too, with shifted copies (--augment)");
	/* predictions one at a time equal predictions in a batch */
	float *x;
	int *y;
	make_quads(40, &x, &y);
	float pb[160], p1[4];
	nn_predict_batch(a, x, 40, pb);
	double worst = 0;
	for (int i = 0; i < 40; i++) {
		nn_predict(a, x + i * 36, NULL, NULL, 0, p1);
		for (int k = 0; k < 4; k++)
			if (fabs(p1[k] - pb[i * 4 + k]) > worst)
				worst = fabs(p1[k] - pb[i * 4 + k]);
	}
	ok(worst < 1e-6, "one at a time and batched predictions agree");
	free(x);
	free(y);
	nn_free(a);
	return tap_done();
}
