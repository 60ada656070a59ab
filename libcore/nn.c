/* nn.c - layers, passes and training of feed-forward networks (nn.h);
 * inference has a pass of its own, nn_eval.c.
 *
 * Activations of a chunk of B examples are laid out channels-outermost
 * (C x B x H x W) while they are images, so a convolution over the whole
 * chunk is one im2col and one GEMM; fully connected layers use B x features.
 * Each chunk has its own workspace and gradient, and nothing a chunk
 * computes depends on which thread ran it. */
#include "nn.h"
#include "dense.h"
#include "dist.h"

#include <ctype.h>
#include <math.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <omp.h>
#include <stdio.h>

#define BN_MOMENTUM 0.1f

static size_t in_size(const struct nn_layer *l) { return (size_t)l->ic * l->ih * l->iw; }
static size_t out_size(const struct nn_layer *l) { return (size_t)l->oc * l->oh * l->ow; }

/* ---- the spec ---- */
static int parse_int(const char **p, int *v)
{
	char *end;
	long x = strtol(*p, &end, 10);
	if (end == *p || x < 0 || x > 1000000)
		return -1;
	*v = (int)x;
	*p = end;
	return 0;
}

static int parse_layer(const char *s, struct nn_layer *l, int last, struct pea_err *e)
{
	const char *p = s;
	memset(l, 0, sizeof *l);
	l->stride = 1;
	if (!strncmp(p, "conv", 4)) {
		int k2;
		p += 4;
		l->kind = NN_CONV;
		if (parse_int(&p, &l->k) || *p++ != 'x' || parse_int(&p, &k2) || k2 != l->k || *p++ != ':' ||
		    parse_int(&p, &l->out) || l->k < 1 || l->out < 1)
			goto bad;
		while (*p == ':') {
			p++;
			int *dst = *p == 's' ? &l->stride : *p == 'p' ? &l->pad : NULL;
			if (!dst)
				goto bad;
			p++;
			if (parse_int(&p, dst))
				goto bad;
		}
		if (l->stride < 1 || l->pad >= l->k)
			goto bad;
	} else if (!strncmp(p, "maxpool", 7) || !strncmp(p, "avgpool", 7)) {
		l->kind = *p == 'm' ? NN_MAXPOOL : NN_AVGPOOL;
		p += 7;
		if (parse_int(&p, &l->k) || l->k < 1)
			goto bad;
		l->stride = l->k;
		if (*p == ':') {
			p++;
			if (*p++ != 's' || parse_int(&p, &l->stride) || l->stride < 1)
				goto bad;
		}
	} else if (!strncmp(p, "fc", 2)) {
		l->kind = NN_FC;
		p += 2;
		if (*p == ':') {
			p++;
			if (parse_int(&p, &l->out) || l->out < 1)
				goto bad;
		} else if (!last) {
			err_set(e, "net: only the last fc may leave out its width ('%s')", s);
			return -1;
		}
	} else if (!strcmp(p, "relu")) {
		l->kind = NN_RELU;
		p += 4;
	} else if (!strcmp(p, "bn")) {
		l->kind = NN_BN;
		p += 2;
	} else if (!strncmp(p, "dropout:", 8)) {
		char *end;
		l->kind = NN_DROPOUT;
		double d = strtod(p + 8, &end);
		if (end == p + 8 || !(d >= 0 && d < 1))
			goto bad;
		l->p = (float)d;
		p = end;
	} else {
		goto bad;
	}
	if (*p)
		goto bad;
	return 0;
bad:
	err_set(e, "net: bad layer '%s' (layers: convKxK:N[:sS][:pP], maxpoolK[:sS], avgpoolK[:sS], fc[:N], relu, bn, dropout:P)", s);
	return -1;
}

struct nn *nn_build(const char *spec, int c, int h, int w, int sparse, uint32_t dim, int nout, struct pea_err *e)
{
	static uint64_t ids;
	struct nn *n = xcalloc(1, sizeof *n);
	n->id = __atomic_add_fetch(&ids, 1, __ATOMIC_RELAXED);
	n->spec = xstrdup(spec);
	n->in_c = c;
	n->in_h = h;
	n->in_w = w;
	n->sparse = sparse;
	n->dim = sparse ? dim : (uint32_t)c * h * w;
	n->nout = nout;
	char *copy = xstrdup(spec), *save = NULL;
	int count = 1;
	for (const char *q = spec; *q; q++)
		count += *q == ',';
	if (count > NN_MAX_LAYERS) {
		err_set(e, "net: more than %d layers", NN_MAX_LAYERS);
		goto fail;
	}
	int spatial = !sparse, cc = sparse ? (int)dim : c, ch = sparse ? 1 : h, cw = sparse ? 1 : w;
	size_t np = 0, ns = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*tok))
			tok++;
		for (char *end = tok + strlen(tok); end > tok && isspace((unsigned char)end[-1]);)
			*--end = 0;
		struct nn_layer *l = &n->l[n->nl];
		if (parse_layer(tok, l, n->nl == count - 1, e))
			goto fail;
		l->ic = cc;
		l->ih = ch;
		l->iw = cw;
		l->spatial_in = spatial;
		l->oc = cc;
		l->oh = ch;
		l->ow = cw;
		if (sparse && n->nl == 0 && l->kind != NN_FC) {
			err_set(e, "net: sparse features need fc as the first layer, not '%s'", tok);
			goto fail;
		}
		switch (l->kind) {
		case NN_CONV:
		case NN_MAXPOOL:
		case NN_AVGPOOL: {
			if (!spatial) {
				err_set(e, "net: '%s' needs an image, but comes after fc", tok);
				goto fail;
			}
			int ph = ch + 2 * l->pad, pw = cw + 2 * l->pad;
			if (ph < l->k || pw < l->k) {
				err_set(e, "net: '%s' does not fit an input of %dx%d", tok, cw, ch);
				goto fail;
			}
			l->oh = (ph - l->k) / l->stride + 1;
			l->ow = (pw - l->k) / l->stride + 1;
			if (l->kind == NN_CONV) {
				l->oc = l->out;
				l->woff = np;
				l->nw = (size_t)l->oc * cc * l->k * l->k;
				np += l->nw;
				l->boff = np;
				l->nb = (size_t)l->oc;
				np += l->nb;
			}
			break;
		}
		case NN_FC:
			if (!l->out)
				l->out = nout;
			l->oc = l->out;
			l->oh = l->ow = 1;
			l->sparse_in = sparse && n->nl == 0;
			if (!l->sparse_in) {
				l->woff = np;
				l->nw = (size_t)l->out * in_size(l);
				np += l->nw;
			}
			l->boff = np;
			l->nb = (size_t)l->out;
			np += l->nb;
			spatial = 0;
			break;
		case NN_BN:
			l->boff = np; /* gamma then beta */
			l->nb = 2 * (size_t)cc;
			np += l->nb;
			l->soff = ns;
			ns += 2 * (size_t)cc;
			break;
		default:
			break;
		}
		l->spatial_out = spatial;
		cc = l->oc;
		ch = l->oh;
		cw = l->ow;
		n->nl++;
	}
	if (!n->nl || n->l[n->nl - 1].kind != NN_FC) {
		err_set(e, "net: the last layer must be fc");
		goto fail;
	}
	if (n->l[n->nl - 1].out != nout) {
		err_set(e, "net: the last fc has %d units for %d labels (leave its width out)", n->l[n->nl - 1].out, nout);
		goto fail;
	}
	/* the sparse layer's weights go last: chunk gradients leave them out */
	if (n->l[0].sparse_in) {
		n->l[0].woff = np;
		n->l[0].nw = (size_t)dim * n->l[0].out;
		np += n->l[0].nw;
	}
	if (np > ((size_t)1 << 31)) {
		err_set(e, "net: %zu parameters is too many", np);
		goto fail;
	}
	n->nparam = np;
	n->nstate = ns;
	n->param = xcalloc(np ? np : 1, sizeof(float));
	n->state = xcalloc(ns ? ns : 1, sizeof(float));
	n->own = 1;
	for (int i = 0; i < n->nl; i++)
		if (n->l[i].kind == NN_BN)
			for (int k = 0; k < n->l[i].oc; k++)
				n->state[n->l[i].soff + n->l[i].oc + k] = 1;
	free(copy);
	return n;
fail:
	free(copy);
	nn_free(n);
	return NULL;
}

void nn_free(struct nn *n)
{
	if (!n)
		return;
	if (n->own) {
		free(n->param);
		free(n->state);
	}
	free(n->spec);
	free(n);
}

void nn_borrow(struct nn *n, float *param, float *state)
{
	if (n->own) {
		free(n->param);
		free(n->state);
	}
	n->param = param;
	n->state = state;
	n->own = 0;
}

static double gauss(struct rng *r)
{
	double u = rng_unit(r), v = rng_unit(r);
	return sqrt(-2 * log(1 - u)) * cos(2 * M_PI * v);
}

void nn_init(struct nn *n, struct rng *r)
{
	memset(n->param, 0, n->nparam * sizeof(float));
	for (int i = 0; i < n->nl; i++) {
		struct nn_layer *l = &n->l[i];
		if (l->kind == NN_CONV || l->kind == NN_FC) {
			/* He et al. 2015: variance 2 / fan-in keeps ReLU activations at scale;
			 * a sparse layer's fan-in is the few features a record has, not dim */
			double fan = l->kind == NN_CONV ? (double)l->ic * l->k * l->k : l->sparse_in ? 50.0 : (double)in_size(l);
			double sd = sqrt(2.0 / fan);
			for (size_t k = 0; k < l->nw; k++)
				n->param[l->woff + k] = (float)(gauss(r) * sd);
		} else if (l->kind == NN_BN) {
			for (int k = 0; k < l->oc; k++)
				n->param[l->boff + k] = 1;
		}
	}
	for (int i = 0; i < n->nl; i++)
		if (n->l[i].kind == NN_BN)
			for (int k = 0; k < n->l[i].oc; k++) {
				n->state[n->l[i].soff + k] = 0;
				n->state[n->l[i].soff + n->l[i].oc + k] = 1;
			}
}

/* ---- workspace of one chunk ---- */
struct ws {
	int cap; /* examples */
	int nl;
	float *in;
	float *act[NN_MAX_LAYERS];
	float *aux[NN_MAX_LAYERS]; /* conv: patches; fc over images: flattened input; bn: xhat; dropout: mask */
	int *arg[NN_MAX_LAYERS];   /* maxpool: where each maximum came from */
	float *bn[NN_MAX_LAYERS];  /* bn: chunk mean, var, 1/std per channel */
	float *d0, *d1, *scratch;
	float *sample; /* one augmented example */
	float *probs;
	const uint32_t *sidx[NN_CHUNK];
	const float *sval[NN_CHUNK];
	uint32_t snn[NN_CHUNK];
	int y[NN_CHUNK];
	float w[NN_CHUNK];
	struct rng r;
};

/* rows of a layer's output plus their bias (per_row: one a row, else one a column) */
__attribute__((noinline)) static void bias_rows(float *restrict y, const float *restrict bias, size_t rows,
						 size_t len, int per_row)
{
	for (size_t r = 0; r < rows; r++) {
		float *row = y + r * len;
		if (per_row) {
			float b = bias[r];
			for (size_t k = 0; k < len; k++)
				row[k] += b;
		} else {
			for (size_t k = 0; k < len; k++)
				row[k] += bias[k];
		}
	}
}

static struct ws *ws_new(const struct nn *n, int cap)
{
	struct ws *s = xcalloc(1, sizeof *s);
	size_t big = n->sparse ? 1 : n->dim, scr = 1;
	s->cap = cap;
	s->nl = n->nl;
	s->in = xmalloc(xmul((size_t)cap, n->sparse ? 1 : n->dim) * sizeof(float));
	s->sample = xmalloc((n->sparse ? 1 : n->dim) * sizeof(float));
	s->probs = xmalloc(xmul((size_t)cap, (size_t)n->nout) * sizeof(float));
	if ((size_t)n->nout > big)
		big = (size_t)n->nout;
	for (int i = 0; i < n->nl; i++) {
		const struct nn_layer *l = &n->l[i];
		size_t o = out_size(l), in = in_size(l);
		if (o > big)
			big = o;
		if (!l->sparse_in && in > big)
			big = in;
		s->act[i] = xmalloc(xmul((size_t)cap, o) * sizeof(float));
		switch (l->kind) {
		case NN_CONV: {
			size_t kk = (size_t)l->ic * l->k * l->k * l->oh * l->ow;
			s->aux[i] = xmalloc(xmul((size_t)cap, kk) * sizeof(float));
			if (kk > scr)
				scr = kk;
			break;
		}
		case NN_FC:
			if (l->spatial_in) {
				s->aux[i] = xmalloc(xmul((size_t)cap, in) * sizeof(float));
				if (in > scr)
					scr = in;
			}
			break;
		case NN_BN:
		case NN_DROPOUT:
			s->aux[i] = xmalloc(xmul((size_t)cap, o) * sizeof(float));
			if (l->kind == NN_BN)
				s->bn[i] = xmalloc(3 * (size_t)l->oc * sizeof(float));
			break;
		case NN_MAXPOOL:
			s->arg[i] = xmalloc(xmul((size_t)cap, o) * sizeof(int));
			break;
		}
	}
	s->d0 = xmalloc(xmul((size_t)cap, big) * sizeof(float));
	s->d1 = xmalloc(xmul((size_t)cap, big) * sizeof(float));
	s->scratch = xmalloc(xmul((size_t)cap, scr) * sizeof(float));
	return s;
}

static void ws_free(struct ws *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nl; i++) {
		free(s->act[i]);
		free(s->aux[i]);
		free(s->arg[i]);
		free(s->bn[i]);
	}
	free(s->in);
	free(s->sample);
	free(s->probs);
	free(s->d0);
	free(s->d1);
	free(s->scratch);
	free(s);
}

/* Put example b (dense values x) into the input in layer 0's layout,
 * shifted and flipped when augmenting. */
static void put_input(const struct nn *n, struct ws *s, int B, int b, const float *x, int shift, int flip)
{
	const float *src = x;
	if (shift || flip) {
		int H = n->in_h, W = n->in_w;
		int dy = shift ? (int)rng_below(&s->r, 2 * (uint64_t)shift + 1) - shift : 0;
		int dx = shift ? (int)rng_below(&s->r, 2 * (uint64_t)shift + 1) - shift : 0;
		int fl = flip && (rng_next(&s->r) >> 63);
		for (int c = 0; c < n->in_c; c++)
			for (int y = 0; y < H; y++)
				for (int xx = 0; xx < W; xx++) {
					int sy = y - dy, sx = xx - dx;
					if (fl)
						sx = W - 1 - sx;
					s->sample[((size_t)c * H + y) * W + xx] =
						sy >= 0 && sy < H && sx >= 0 && sx < W ? x[((size_t)c * H + sy) * W + sx] : 0;
				}
		src = s->sample;
	}
	if (n->l[0].spatial_in) {
		size_t P = (size_t)n->in_h * n->in_w;
		for (int c = 0; c < n->in_c; c++)
			memcpy(s->in + ((size_t)c * B + b) * P, src + c * P, P * sizeof(float));
	} else {
		memcpy(s->in + (size_t)b * n->dim, src, n->dim * sizeof(float));
	}
}

/* ---- small loops, written so the compiler vectorises them (no aliasing;
 * sums in eight fixed lanes, so the order, and the bits, never vary) ---- */
__attribute__((noinline)) static void relu_fwd(float *restrict y, const float *restrict x, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		float v = x[k];
		y[k] = v > 0 ? v : 0.0f;
	}
}

__attribute__((noinline)) static void relu_bwd(float *restrict dx, const float *restrict dy, const float *restrict y, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		float d = dy[k]; /* loaded either way, so the select vectorises */
		dx[k] = y[k] > 0 ? d : 0.0f;
	}
}

__attribute__((noinline)) static float sum_lanes(const float *restrict x, size_t n)
{
	float l[8] = {0, 0, 0, 0, 0, 0, 0, 0};
	size_t k = 0;
	for (; k + 8 <= n; k += 8)
		for (int j = 0; j < 8; j++)
			l[j] += x[k + j];
	for (; k < n; k++)
		l[k & 7] += x[k];
	return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

__attribute__((noinline)) static void bn_apply(float *restrict y, float *restrict h, const float *restrict x, size_t n,
						float mean, float inv, float g, float b)
{
	for (size_t k = 0; k < n; k++) {
		float v = (x[k] - mean) * inv;
		h[k] = v;
		y[k] = g * v + b;
	}
}

__attribute__((noinline)) static float dot_lanes(const float *restrict x, const float *restrict y, size_t n)
{
	float l[8] = {0, 0, 0, 0, 0, 0, 0, 0};
	size_t k = 0;
	for (; k + 8 <= n; k += 8)
		for (int j = 0; j < 8; j++)
			l[j] += x[k + j] * y[k + j];
	for (; k < n; k++)
		l[k & 7] += x[k] * y[k];
	return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

__attribute__((noinline)) static void bn_back(float *restrict dx, const float *restrict dy, const float *restrict h,
					       size_t n, float k1, float msd, float msdh)
{
	for (size_t k = 0; k < n; k++)
		dx[k] = k1 * (dy[k] - msd - h[k] * msdh);
}

/* sum of (x - m)^2, in eight lanes */
__attribute__((noinline)) static float sq_dev_lanes(const float *restrict x, size_t n, float m)
{
	float l[8] = {0, 0, 0, 0, 0, 0, 0, 0};
	size_t k = 0;
	for (; k + 8 <= n; k += 8)
		for (int j = 0; j < 8; j++) {
			float d = x[k + j] - m;
			l[j] += d * d;
		}
	for (; k < n; k++) {
		float d = x[k] - m;
		l[k & 7] += d * d;
	}
	return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

/* 2x2 max pooling with stride 2, the common case, without the general loop */
static void maxpool2(const float *restrict src, float *restrict dst, int *restrict arg, int iw, int oh, int ow)
{
	for (int oy = 0; oy < oh; oy++) {
		const float *r0 = src + (size_t)(2 * oy) * iw, *r1 = r0 + iw;
		for (int ox = 0; ox < ow; ox++) {
			int x0 = 2 * ox, best = 2 * oy * iw + x0;
			float m = r0[x0];
			if (r0[x0 + 1] > m) {
				m = r0[x0 + 1];
				best = 2 * oy * iw + x0 + 1;
			}
			if (r1[x0] > m) {
				m = r1[x0];
				best = (2 * oy + 1) * iw + x0;
			}
			if (r1[x0 + 1] > m) {
				m = r1[x0 + 1];
				best = (2 * oy + 1) * iw + x0 + 1;
			}
			dst[oy * ow + ox] = m;
			arg[oy * ow + ox] = best;
		}
	}
}

/* ---- forward ---- */
/* Training keeps every layer's output for the backward pass (inference
 * has its own pass, nn_eval.c); bnstat gets the batch norms' statistics. */
static void forward(const struct nn *n, struct ws *s, int B, float *bnstat)
{
	const float *P = n->param;
	for (int i = 0; i < n->nl; i++) {
		const struct nn_layer *l = &n->l[i];
		const float *x = i ? s->act[i - 1] : s->in;
		float *y = s->act[i];
		size_t isz = in_size(l), osz = out_size(l);
		const float *W = P + l->woff, *bias = P + l->boff;
		switch (l->kind) {
		case NN_CONV: {
			struct dense_conv g = {l->ic, B, l->ih, l->iw, l->k, l->stride, l->pad, l->oh, l->ow};
			int K = l->ic * l->k * l->k, BP = B * l->oh * l->ow;
			dense_im2col(&g, x, s->aux[i]);
			dense_gemm(0, 0, l->oc, BP, K, 1, W, K, s->aux[i], BP, 0, y, BP);
			bias_rows(y, bias, (size_t)l->oc, (size_t)BP, 1);
			break;
		}
		case NN_MAXPOOL:
		case NN_AVGPOOL: {
			int max = l->kind == NN_MAXPOOL;
			float inv = 1.0f / (l->k * l->k);
			for (size_t pl = 0; pl < (size_t)l->ic * B; pl++) {
				const float *src = x + pl * l->ih * l->iw;
				float *dst = y + pl * l->oh * l->ow;
				int *arg = max ? s->arg[i] + pl * l->oh * l->ow : NULL;
				if (max && l->k == 2 && l->stride == 2) {
					maxpool2(src, dst, arg, l->iw, l->oh, l->ow);
					continue;
				}
				for (int oy = 0; oy < l->oh; oy++)
					for (int ox = 0; ox < l->ow; ox++) {
						int y0 = oy * l->stride, x0 = ox * l->stride, best = y0 * l->iw + x0;
						float acc = max ? src[best] : 0;
						for (int ky = 0; ky < l->k; ky++)
							for (int kx = 0; kx < l->k; kx++) {
								int at = (y0 + ky) * l->iw + x0 + kx;
								if (!max)
									acc += src[at];
								else if (src[at] > acc) {
									acc = src[at];
									best = at;
								}
							}
						dst[oy * l->ow + ox] = max ? acc : acc * inv;
						if (max)
							arg[oy * l->ow + ox] = best;
					}
			}
			break;
		}
		case NN_FC: {
			int O = l->out;
			if (l->sparse_in) {
				for (int b = 0; b < B; b++) {
					float *row = y + (size_t)b * O;
					memcpy(row, P + l->boff, O * sizeof(float));
					for (uint32_t k = 0; k < s->snn[b]; k++) {
						uint32_t j = s->sidx[b][k];
						if (j >= n->dim)
							continue; /* features the model never saw weigh nothing */
						const float *wr = W + (size_t)j * O;
						float v = s->sval[b][k];
						for (int o = 0; o < O; o++)
							row[o] += v * wr[o];
					}
				}
				break;
			}
			const float *X = x;
			if (l->spatial_in) {
				size_t PP = (size_t)l->ih * l->iw;
				float *f = s->aux[i];
				for (int c = 0; c < l->ic; c++)
					for (int b = 0; b < B; b++)
						memcpy(f + (size_t)b * isz + c * PP, x + ((size_t)c * B + b) * PP, PP * sizeof(float));
				X = f;
			}
			dense_gemm(0, 1, B, O, (int)isz, 1, X, (int)isz, W, (int)isz, 0, y, O);
			bias_rows(y, bias, (size_t)B, (size_t)O, 0);
			break;
		}
		case NN_RELU:
			relu_fwd(y, x, osz * B);
			break;
		case NN_DROPOUT:
			if (l->p == 0) {
				memcpy(y, x, osz * B * sizeof(float));
			} else {
				float keep = 1 / (1 - l->p), *m = s->aux[i];
				uint64_t thr = (uint64_t)(l->p * 18446744073709551616.0);
				for (size_t k = 0; k < osz * B; k++) {
					m[k] = rng_next(&s->r) < thr ? 0 : keep;
					y[k] = x[k] * m[k];
				}
			}
			break;
		case NN_BN: {
			int C = l->oc;
			size_t M = (size_t)B * l->oh * l->ow, stride = l->spatial_in ? 1 : (size_t)C;
			const float *gam = P + l->boff, *bet = P + l->boff + C;
			for (int c = 0; c < C; c++) {
				/* image: channel c is one run of B*H*W values; vector: a column */
				const float *xc = l->spatial_in ? x + c * M : x + c;
				float *yc = l->spatial_in ? y + c * M : y + c;
				float *hc = l->spatial_in ? s->aux[i] + c * M : s->aux[i] + c;
				double mu, var;
				if (stride == 1) {
					mu = (double)sum_lanes(xc, M) / M;
					var = (double)sq_dev_lanes(xc, M, (float)mu) / M;
				} else {
					double sum = 0, sq = 0;
					for (size_t k = 0; k < M; k++)
						sum += xc[k * stride];
					mu = sum / M;
					for (size_t k = 0; k < M; k++) {
						double d = xc[k * stride] - mu;
						sq += d * d;
					}
					var = sq / M;
				}
				float mean = (float)mu, inv = (float)(1 / sqrt(var + NN_BN_EPS));
				s->bn[i][c] = mean;
				s->bn[i][C + c] = (float)var;
				s->bn[i][2 * C + c] = inv;
				if (bnstat) {
					bnstat[l->soff + c] = mean;
					bnstat[l->soff + C + c] = (float)(M > 1 ? var * M / (M - 1) : var);
				}
				if (stride == 1)
					bn_apply(yc, hc, xc, M, mean, inv, gam[c], bet[c]);
				else
					for (size_t k = 0; k < M; k++) {
						float h = (xc[k * stride] - mean) * inv;
						hc[k * stride] = h;
						yc[k * stride] = gam[c] * h + bet[c];
					}
			}
			break;
		}
		}
	}
}

/* the softmax of O logits z into p; returns the largest logit's index,
 * its value in *mx and the sum of exponentials in *sum */
static int softmax_row(const float *z, int O, float *p, float *mx, double *sum)
{
	int arg = 0;
	*mx = z[0];
	for (int o = 1; o < O; o++)
		if (z[o] > *mx) {
			*mx = z[o];
			arg = o;
		}
	*sum = 0;
	for (int o = 0; o < O; o++)
		*sum += (p[o] = expf(z[o] - *mx));
	float inv = (float)(1 / *sum);
	for (int o = 0; o < O; o++)
		p[o] *= inv;
	return arg;
}

void nn_softmax(const float *z, int O, float *p)
{
	float mx;
	double sum;
	softmax_row(z, O, p, &mx, &sum);
}

/* softmax of each row of logits into probs; the loss and its gradient
 * (scaled by 1/scale) into d */
static double softmax_loss(const float *logits, int B, int O, const int *y, const float *w, float scale,
			   float *probs, float *d, int *correct)
{
	double loss = 0;
	for (int b = 0; b < B; b++) {
		const float *z = logits + (size_t)b * O;
		float *p = probs + (size_t)b * O, mx;
		double sum;
		int arg = softmax_row(z, O, p, &mx, &sum);
		float wb = w ? w[b] : 1;
		loss += (log(sum) - (z[y[b]] - mx)) * wb;
		if (correct)
			*correct += arg == y[b];
		for (int o = 0; o < O; o++)
			d[(size_t)b * O + o] = (p[o] - (o == y[b])) * wb / scale;
	}
	return loss;
}

/* ---- backward: d holds dLoss/dlogits (B x nout); parameter gradients are
 * added to g (the sparse layer's weights excepted: its output gradient is
 * left in s->d0 / s->d1, returned through *sparse_d) ---- */
static void backward(const struct nn *n, struct ws *s, int B, float *g, const float **sparse_d)
{
	const float *P = n->param;
	float *dy = s->d0, *dx = s->d1;
	for (int i = n->nl - 1; i >= 0; i--) {
		const struct nn_layer *l = &n->l[i];
		const float *x = i ? s->act[i - 1] : s->in;
		const float *y = s->act[i];
		size_t isz = in_size(l), osz = out_size(l);
		int need_dx = i > 0;
		switch (l->kind) {
		case NN_CONV: {
			struct dense_conv gc = {l->ic, B, l->ih, l->iw, l->k, l->stride, l->pad, l->oh, l->ow};
			int K = l->ic * l->k * l->k, BP = B * l->oh * l->ow;
			/* each parameter's gradient is written once per chunk: no zeroing */
			dense_gemm(0, 1, l->oc, K, BP, 1, dy, BP, s->aux[i], BP, 0, g + l->woff, K);
			for (int o = 0; o < l->oc; o++)
				g[l->boff + o] = sum_lanes(dy + (size_t)o * BP, (size_t)BP);
			if (need_dx) {
				dense_gemm(1, 0, K, BP, l->oc, 1, P + l->woff, K, dy, BP, 0, s->scratch, BP);
				dense_col2im(&gc, s->scratch, dx);
			}
			break;
		}
		case NN_MAXPOOL:
		case NN_AVGPOOL:
			if (!need_dx)
				break;
			memset(dx, 0, isz * B * sizeof(float));
			for (size_t pl = 0; pl < (size_t)l->ic * B; pl++) {
				float *dst = dx + pl * l->ih * l->iw;
				const float *src = dy + pl * l->oh * l->ow;
				if (l->kind == NN_MAXPOOL) {
					const int *arg = s->arg[i] + pl * l->oh * l->ow;
					for (int k = 0; k < l->oh * l->ow; k++)
						dst[arg[k]] += src[k];
				} else {
					float inv = 1.0f / (l->k * l->k);
					for (int oy = 0; oy < l->oh; oy++)
						for (int ox = 0; ox < l->ow; ox++) {
							float v = src[oy * l->ow + ox] * inv;
							for (int ky = 0; ky < l->k; ky++)
								for (int kx = 0; kx < l->k; kx++)
									dst[(oy * l->stride + ky) * l->iw + ox * l->stride + kx] += v;
						}
				}
			}
			break;
		case NN_FC: {
			int O = l->out;
			memset(g + l->boff, 0, (size_t)O * sizeof(float));
			for (int b = 0; b < B; b++)
				for (int o = 0; o < O; o++)
					g[l->boff + o] += dy[(size_t)b * O + o];
			if (l->sparse_in) {
				*sparse_d = dy;
				return;
			}
			const float *X = l->spatial_in ? s->aux[i] : x;
			dense_gemm(1, 0, O, (int)isz, B, 1, dy, O, X, (int)isz, 0, g + l->woff, (int)isz);
			if (need_dx) {
				float *dflat = l->spatial_in ? s->scratch : dx;
				dense_gemm(0, 0, B, (int)isz, O, 1, dy, O, P + l->woff, (int)isz, 0, dflat, (int)isz);
				if (l->spatial_in) {
					size_t PP = (size_t)l->ih * l->iw;
					for (int c = 0; c < l->ic; c++)
						for (int b = 0; b < B; b++)
							memcpy(dx + ((size_t)c * B + b) * PP, dflat + (size_t)b * isz + c * PP,
							       PP * sizeof(float));
				}
			}
			break;
		}
		case NN_RELU:
			if (need_dx)
				relu_bwd(dx, dy, y, osz * B);
			break;
		case NN_DROPOUT:
			if (need_dx) {
				if (l->p == 0)
					memcpy(dx, dy, osz * B * sizeof(float));
				else
					for (size_t k = 0; k < osz * B; k++)
						dx[k] = dy[k] * s->aux[i][k];
			}
			break;
		case NN_BN: {
			int C = l->oc;
			size_t M = (size_t)B * l->oh * l->ow, stride = l->spatial_in ? 1 : (size_t)C;
			const float *gam = P + l->boff;
			for (int c = 0; c < C; c++) {
				const float *dyc = l->spatial_in ? dy + c * M : dy + c;
				const float *hc = l->spatial_in ? s->aux[i] + c * M : s->aux[i] + c;
				float *dxc = l->spatial_in ? dx + c * M : dx + c;
				double sd = 0, sdh = 0;
				if (stride == 1) {
					sd = sum_lanes(dyc, M);
					sdh = dot_lanes(dyc, hc, M);
				} else {
					for (size_t k = 0; k < M; k++) {
						sd += dyc[k * stride];
						sdh += (double)dyc[k * stride] * hc[k * stride];
					}
				}
				g[l->boff + c] = (float)sdh;
				g[l->boff + C + c] = (float)sd;
				if (need_dx) {
					float inv = s->bn[i][2 * C + c], k1 = gam[c] * inv;
					float msd = (float)(sd / M), msdh = (float)(sdh / M);
					if (stride == 1)
						bn_back(dxc, dyc, hc, M, k1, msd, msdh);
					else
						for (size_t k = 0; k < M; k++)
							dxc[k * stride] = k1 * (dyc[k * stride] - msd - hc[k * stride] * msdh);
				}
			}
			break;
		}
		}
		float *t = dy;
		dy = dx;
		dx = t;
	}
}

/* ---- training ---- */
struct nn_trainer {
	struct nn *n;
	struct nn_opts o;
	struct rng r;
	int nth;
	struct ws **ws;	     /* per thread */
	float **cg;	     /* per chunk: gradient of the dense parameters */
	float **cbn;	     /* per chunk: batch-norm statistics */
	float **csd;	     /* per chunk: output gradient of the sparse layer */
	double *closs;
	int *ccorrect;
	size_t ndense;	     /* parameters before the sparse layer's weights */
	float *g, *m1, *m2;  /* gradient and optimizer moments, nparam each */
	uint8_t *decay;      /* per dense parameter: weight decay applies */
	uint8_t *touched;    /* sparse rows of this batch */
	uint32_t *tlist;
	size_t ntouched;
	size_t *perm, nperm;
	size_t *rows;	     /* several ranks: this rank's share of a batch */
	float *sg;	     /* several ranks: gradient, batch-norm sums, chunks */
	float *pw;	     /* ranks on one host: the parameters, where the others read them */
	float *own_param;    /* ... the network's own, meanwhile */
	float *slice;	     /* ... this rank's slice of the gradient, summed */
	float *tail;	     /* ... and the batch-norm sums and chunks, summed */
	uint64_t steps, *seeds;
	int maxchunks;
};

struct nn_trainer *nn_trainer_new(struct nn *n, const struct nn_opts *o, uint64_t seed)
{
	dense_init();
	struct nn_trainer *t = xcalloc(1, sizeof *t);
	t->n = n;
	t->o = *o;
	if (t->o.batch < 1)
		t->o.batch = 128;
	rng_seed(&t->r, seed);
	t->nth = o->threads > 0 ? o->threads : 1;
	t->maxchunks = (t->o.batch + NN_CHUNK - 1) / NN_CHUNK;
	t->ws = xcalloc((size_t)t->nth, sizeof *t->ws);
	for (int i = 0; i < t->nth; i++)
		t->ws[i] = ws_new(n, NN_CHUNK);
	t->ndense = n->l[0].sparse_in ? n->l[0].woff : n->nparam;
	t->cg = xcalloc((size_t)t->maxchunks, sizeof *t->cg);
	t->cbn = xcalloc((size_t)t->maxchunks, sizeof *t->cbn);
	t->csd = xcalloc((size_t)t->maxchunks, sizeof *t->csd);
	for (int c = 0; c < t->maxchunks; c++) {
		t->cg[c] = xmalloc((t->ndense ? t->ndense : 1) * sizeof(float));
		t->cbn[c] = xcalloc(n->nstate ? n->nstate : 1, sizeof(float));
		if (n->l[0].sparse_in)
			t->csd[c] = xmalloc((size_t)NN_CHUNK * n->l[0].out * sizeof(float));
	}
	t->closs = xcalloc((size_t)t->maxchunks, sizeof *t->closs);
	t->seeds = xcalloc((size_t)t->maxchunks, sizeof *t->seeds);
	t->ccorrect = xcalloc((size_t)t->maxchunks, sizeof *t->ccorrect);
	t->g = xcalloc(n->nparam ? n->nparam : 1, sizeof(float));
	t->m1 = xcalloc(n->nparam ? n->nparam : 1, sizeof(float));
	if (o->optim == NN_ADAM)
		t->m2 = xcalloc(n->nparam ? n->nparam : 1, sizeof(float));
	t->decay = xcalloc(t->ndense ? t->ndense : 1, 1);
	for (int i = 0; i < n->nl; i++)
		if (!n->l[i].sparse_in && n->l[i].nw)
			memset(t->decay + n->l[i].woff, 1, n->l[i].nw);
	if (n->l[0].sparse_in) {
		t->touched = xcalloc(n->dim ? n->dim : 1, 1);
		t->tlist = xmalloc((n->dim ? n->dim : 1) * sizeof(uint32_t));
	}
	if (t->o.share > 0) {
		t->rows = xcalloc((size_t)t->o.share, sizeof *t->rows);
		/* on one host the ranks read each other's sums where they lie */
		t->sg = dist_shared((t->ndense + n->nstate + 1) * sizeof *t->sg);
		float *pw = dist_shared(n->nparam * sizeof *pw);
		if (dist_shared_part(t->sg, 0) && dist_shared_part(pw, 0)) {
			/* each rank's parameters where the others read them: the
			 * rank that steps a slice takes it from there (shared_step) */
			memcpy(pw, n->param, n->nparam * sizeof *pw);
			t->pw = pw;
			t->own_param = n->param;
			n->param = pw;
			size_t len = t->ndense + n->nstate + 1;
			t->slice = xmalloc((len / (size_t)dist_size() + 1) * sizeof *t->slice);
			t->tail = xmalloc((n->nstate + 1) * sizeof *t->tail);
		} else {
			dist_shared_free(pw);
		}
	}
	return t;
}

void nn_trainer_free(struct nn_trainer *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->nth; i++)
		ws_free(t->ws[i]);
	for (int c = 0; c < t->maxchunks; c++) {
		free(t->cg[c]);
		free(t->cbn[c]);
		free(t->csd[c]);
	}
	free(t->ws);
	free(t->cg);
	free(t->cbn);
	free(t->csd);
	free(t->closs);
	free(t->seeds);
	free(t->ccorrect);
	free(t->g);
	free(t->m1);
	free(t->m2);
	free(t->touched);
	free(t->decay);
	free(t->tlist);
	free(t->perm);
	free(t->rows);
	dist_shared_free(t->sg);
	if (t->pw) {
		memcpy(t->own_param, t->pw, t->n->nparam * sizeof *t->pw);
		t->n->param = t->own_param;
		dist_shared_free(t->pw);
		free(t->slice);
		free(t->tail);
	}
	free(t);
}

static double lr_at(const struct nn_trainer *t, int epoch, size_t bi, size_t nb)
{
	double lr = t->o.lr, E = t->o.epochs > 0 ? t->o.epochs : 1;
	double prog = (epoch + (double)bi / nb) / E;
	if (prog > 1)
		prog = 1;
	if (t->o.sched == NN_COSINE)
		return lr * 0.5 * (1 + cos(M_PI * prog));
	if (t->o.sched == NN_STEP)
		return lr * (epoch >= 0.75 * E ? 0.01 : epoch >= 0.5 * E ? 0.1 : 1);
	return lr;
}

/* One parameter's update.  Weight decay (decoupled, as AdamW) applies to
 * weights only, never to biases or batch-norm scales. */
static inline void update(struct nn_trainer *t, size_t k, float gk, float lr, int decay, float c1, float c2)
{
	float *w = t->n->param;
	if (t->o.optim == NN_ADAM) {
		t->m1[k] = 0.9f * t->m1[k] + 0.1f * gk;
		t->m2[k] = 0.999f * t->m2[k] + 0.001f * gk * gk;
		float step = (t->m1[k] * c1) / (sqrtf(t->m2[k] * c2) + 1e-8f);
		w[k] -= lr * (step + (decay ? (float)t->o.wd * w[k] : 0));
	} else {
		float gg = gk + (decay ? (float)t->o.wd * w[k] : 0);
		t->m1[k] = (float)t->o.momentum * t->m1[k] + gg;
		w[k] -= lr * t->m1[k];
	}
}

/* The sparse layer's rows of this batch, updated lazily: only the rows of
 * features the batch had move. */
static void sparse_update(struct nn_trainer *t, float lr, float c1, float c2)
{
	const struct nn_layer *l = &t->n->l[0];
	int O = l->out;
	for (size_t r = 0; r < t->ntouched; r++) {
		size_t base = l->woff + (size_t)t->tlist[r] * O;
		for (int o = 0; o < O; o++) {
			update(t, base + o, t->g[base + o], lr, 1, c1, c2);
			t->g[base + o] = 0;
		}
		t->touched[t->tlist[r]] = 0;
	}
	t->ntouched = 0;
}

/* Adam on n parameters: update()'s operations in the same order, four
 * lanes at a time where SSE2 is (IEEE square roots and divisions, no
 * contraction: the same bits as one by one).  Written out because the
 * compiler will not vectorise sqrtf while it may have to set errno. */
__attribute__((noinline)) static void adam_dense(float *restrict w, float *restrict m1, float *restrict m2,
						  const float *restrict g, const uint8_t *restrict decay, size_t n,
						  float lr, float c1, float c2, float wd)
{
	size_t k = 0;
#ifdef __SSE2__
	const __m128 b1 = _mm_set1_ps(0.9f), a1 = _mm_set1_ps(0.1f), b2 = _mm_set1_ps(0.999f),
		     a2 = _mm_set1_ps(0.001f), vc1 = _mm_set1_ps(c1), vc2 = _mm_set1_ps(c2),
		     eps = _mm_set1_ps(1e-8f), vlr = _mm_set1_ps(lr), vwd = _mm_set1_ps(wd);
	for (; k + 4 <= n; k += 4) {
		__m128 gk = _mm_loadu_ps(g + k), wk = _mm_loadu_ps(w + k);
		__m128 u = _mm_add_ps(_mm_mul_ps(b1, _mm_loadu_ps(m1 + k)), _mm_mul_ps(a1, gk));
		__m128 v = _mm_add_ps(_mm_mul_ps(b2, _mm_loadu_ps(m2 + k)), _mm_mul_ps(_mm_mul_ps(a2, gk), gk));
		_mm_storeu_ps(m1 + k, u);
		_mm_storeu_ps(m2 + k, v);
		__m128 step = _mm_div_ps(_mm_mul_ps(u, vc1), _mm_add_ps(_mm_sqrt_ps(_mm_mul_ps(v, vc2)), eps));
		__m128i on = _mm_set_epi32(-(decay[k + 3] != 0), -(decay[k + 2] != 0), -(decay[k + 1] != 0),
					   -(decay[k] != 0));
		__m128 dw = _mm_and_ps(_mm_castsi128_ps(on), _mm_mul_ps(vwd, wk));
		_mm_storeu_ps(w + k, _mm_sub_ps(wk, _mm_mul_ps(vlr, _mm_add_ps(step, dw))));
	}
#endif
	for (; k < n; k++) {
		float gk = g[k];
		m1[k] = 0.9f * m1[k] + 0.1f * gk;
		m2[k] = 0.999f * m2[k] + 0.001f * gk * gk;
		float step = (m1[k] * c1) / (sqrtf(m2[k] * c2) + 1e-8f);
		w[k] -= lr * (step + (decay[k] ? wd * w[k] : 0.0f));
	}
}

/* the chunk gradients of [lo, hi) summed in chunk order, into g */
__attribute__((noinline)) static void sum_chunks(float *restrict g, float *const *src, int nc, size_t lo, size_t hi)
{
	const float *restrict s0 = src[0];
	for (size_t k = lo; k < hi; k++)
		g[k] = s0[k];
	for (int c = 1; c < nc; c++) {
		const float *restrict sc = src[c];
		for (size_t k = lo; k < hi; k++)
			g[k] += sc[k];
	}
}

/* Dense parameters [lo, hi): the chunk gradients summed in chunk order,
 * then the update. */
static void dense_update(struct nn_trainer *t, int nc, size_t lo, size_t hi, float lr, float c1, float c2)
{
	sum_chunks(t->g, t->cg, nc, lo, hi);
	if (t->o.optim == NN_ADAM) {
		adam_dense(t->n->param + lo, t->m1 + lo, t->m2 + lo, t->g + lo, t->decay + lo, hi - lo, lr, c1, c2,
			   (float)t->o.wd);
		return;
	}
	for (size_t k = lo; k < hi; k++)
		update(t, k, t->g[k], lr, t->decay[k], c1, c2);
}

/* load example `row` of d as example b of the chunk */
static void load_example(struct nn_trainer *t, struct ws *s, const struct nn_data *d, size_t row, int B, int b, int aug)
{
	const struct nn *n = t->n;
	if (n->sparse) {
		s->sidx[b] = d->idx + d->off[row];
		s->sval[b] = d->val + d->off[row];
		s->snn[b] = (uint32_t)(d->off[row + 1] - d->off[row]);
	} else {
		int img = aug && n->in_h > 1 && n->in_w > 1;
		put_input(n, s, B, b, d->x + row * n->dim, img ? t->o.augment : 0, img && t->o.flip);
	}
	s->y[b] = d->y ? d->y[row] : 0;
	s->w[b] = d->w ? d->w[row] : 1;
}

/* forward and backward of chunk c of the batch rows[0..bs) */
static void run_chunk(struct nn_trainer *t, const struct nn_data *d, const size_t *rows, int bs, int c, uint64_t seed)
{
	struct nn *n = t->n;
	struct ws *s = t->ws[omp_get_thread_num()];
	int lo = c * NN_CHUNK, B = bs - lo < NN_CHUNK ? bs - lo : NN_CHUNK;
	rng_seed(&s->r, seed);
	for (int b = 0; b < B; b++)
		load_example(t, s, d, rows[lo + b], B, b, t->o.augment || t->o.flip);
	forward(n, s, B, t->cbn[c]);
	int correct = 0;
	/* the gradient of the batch's mean loss; on several ranks the batch
	 * is every rank's share */
	float scale = (float)(t->o.share > 0 ? t->o.batch : bs);
	t->closs[c] = softmax_loss(s->act[n->nl - 1], B, n->nout, s->y, s->w, scale, s->probs, s->d0, &correct);
	t->ccorrect[c] = correct;
	const float *sd = NULL;
	backward(n, s, B, t->cg[c], &sd);
	if (sd)
		memcpy(t->csd[c], sd, (size_t)B * n->l[0].out * sizeof(float));
}

/* add the sparse layer's weight gradient of the batch, chunks in order */
static void sparse_grad(struct nn_trainer *t, const struct nn_data *d, const size_t *rows, int bs)
{
	const struct nn_layer *l = &t->n->l[0];
	int O = l->out;
	for (int b = 0; b < bs; b++) {
		size_t row = rows[b];
		const float *dy = t->csd[b / NN_CHUNK] + (size_t)(b % NN_CHUNK) * O;
		for (uint64_t k = d->off[row]; k < d->off[row + 1]; k++) {
			uint32_t j = d->idx[k];
			if (j >= t->n->dim)
				continue;
			if (!t->touched[j]) {
				t->touched[j] = 1;
				t->tlist[t->ntouched++] = j;
			}
			float v = d->val[k], *gr = t->g + l->woff + (size_t)j * O;
			for (int o = 0; o < O; o++)
				gr[o] += v * dy[o];
		}
	}
}

/* Several ranks: this rank's chunks summed in chunk order, then every
 * rank's sums (dist.h, in rank order).  The rank that sums a slice of the
 * parameters' gradients also takes their step (their optimizer moments
 * live there only) and the ranks gather the new parameters, so each step
 * is taken once, not once a rank; the batch-norm statistics are summed the
 * same way and every rank updates them.  The same bits on every rank. */
struct shared_step {
	struct nn_trainer *t;
	float lr, c1, c2;
	int gather; /* the new parameters go to out, for the ranks to gather */
};

static void step_slice(void *ctx, void *out, const void *const *part, int R, size_t first, size_t n)
{
	const struct shared_step *st = ctx;
	struct nn_trainer *t = st->t;
	float *o = out, *w = t->n->param;
	size_t nd = t->ndense, nblk = (n + 4095) / 4096;
#pragma omp parallel for schedule(static) num_threads(t->nth)
	for (size_t k = 0; k < nblk; k++) {
		size_t lo = k * 4096, hi = lo + 4096 < n ? lo + 4096 : n;
		dist_add_f32(o, part, R, lo, hi);
		/* the parameters among [lo, hi): their step, then their new values */
		size_t plo = first + lo, phi = first + hi < nd ? first + hi : nd;
		if (plo >= phi)
			continue;
		if (t->o.optim == NN_ADAM)
			adam_dense(w + plo, t->m1 + plo, t->m2 + plo, o + lo, t->decay + plo, phi - plo, st->lr, st->c1,
				   st->c2, (float)t->o.wd);
		else
			for (size_t p = plo; p < phi; p++)
				update(t, p, o[p - first], st->lr, t->decay[p], st->c1, st->c2);
		if (st->gather)
			memcpy(o + lo, w + plo, (phi - plo) * sizeof *o);
	}
}

/* dist_combine's work where the ranks share the gradients and each rank's
 * parameters (t->pw): once every gradient is there, each rank steps its
 * slice (dist_combine's slices and order of additions, so the same bits;
 * the sum goes to memory of its own, as the others still read every
 * copy), and adds up the batch-norm sums and the chunk count whole (a few
 * KB); once every slice is stepped, each rank copies the others' new
 * parameters from theirs.  Two fences, and no copy of the gradient's sum
 * or of the whole parameters, which dist_combine's gather needs. */
static void shared_step(struct nn_trainer *t, struct shared_step *st)
{
	int R = dist_size(), r = dist_rank();
	size_t nd = t->ndense, ns = t->n->nstate, len = nd + ns + 1;
	size_t lo, hi;
	dist_slice(len, r, &lo, &hi);
	const void **part = xcalloc((size_t)R, sizeof *part);
	/* the others read this rank's copy of their slices and of the tail */
	dist_shared_begin();
	for (int b = 0; b < R; b++)
		part[b] = (const float *)dist_shared_part(t->sg, b) + lo;
	step_slice(st, t->slice, part, R, lo, hi - lo);
	for (int b = 0; b < R; b++)
		part[b] = (const float *)dist_shared_part(t->sg, b) + nd;
	dist_add_f32(t->tail, part, R, 0, ns + 1);
	size_t mine = (hi < nd ? hi : nd) - (lo < nd ? lo : nd);
	dist_shared_end((len - (hi - lo) + (size_t)(R - 1) * mine) * sizeof(float));
	for (int b = 0; b < R; b++) {
		size_t blo, bhi;
		dist_slice(len, b, &blo, &bhi);
		blo = blo < nd ? blo : nd;
		bhi = bhi < nd ? bhi : nd;
		if (b != r)
			memcpy(t->pw + blo, (const float *)dist_shared_part(t->pw, b) + blo, (bhi - blo) * sizeof(float));
	}
	free(part);
}

static void shared_update(struct nn_trainer *t, int nc, float lr, float c1, float c2)
{
	struct nn *n = t->n;
	size_t nd = t->ndense, ns = n->nstate, nblk = (nd + 4095) / 4096;
	float *sg = t->sg;
#pragma omp parallel for schedule(static) num_threads(t->nth)
	for (size_t k = 0; k < nblk; k++)
		sum_chunks(sg, t->cg, nc, k * 4096, (k + 1) * 4096 < nd ? (k + 1) * 4096 : nd);
	for (size_t k = 0; k < ns; k++) {
		float v = 0;
		for (int c = 0; c < nc; c++)
			v += t->cbn[c][k];
		sg[nd + k] = v;
	}
	sg[nd + ns] = (float)nc;
	struct shared_step st = {t, lr, c1, c2, !t->pw};
	const float *tail = sg + nd;
	if (t->pw) {
		shared_step(t, &st);
		tail = t->tail;
	} else {
		dist_combine(sg, nd + ns + 1, sizeof *sg, step_slice, &st);
		memcpy(n->param, sg, nd * sizeof *sg);
	}
	for (int i = 0; i < n->nl; i++) {
		const struct nn_layer *l = &n->l[i];
		if (l->kind != NN_BN)
			continue;
		for (size_t k = l->soff; k < l->soff + 2 * (size_t)l->oc; k++)
			n->state[k] = (1 - BN_MOMENTUM) * n->state[k] + BN_MOMENTUM * (tail[k] / tail[ns]);
	}
}

double nn_epoch(struct nn_trainer *t, const struct nn_data *d, int epoch, double *acc,
		void (*prog)(void *ctx, size_t done), void *ctx)
{
	struct nn *n = t->n;
	if (t->nperm != d->n) {
		free(t->perm);
		t->perm = xmalloc((d->n ? d->n : 1) * sizeof(size_t));
		t->nperm = d->n;
	}
	for (size_t i = 0; i < d->n; i++)
		t->perm[i] = i;
	for (size_t i = d->n; i > 1; i--) {
		size_t j = (size_t)rng_below(&t->r, i);
		size_t x = t->perm[i - 1];
		t->perm[i - 1] = t->perm[j];
		t->perm[j] = x;
	}
	int shared = t->o.share > 0 && d->n > 0;
	size_t nb = shared ? t->o.steps : (d->n + t->o.batch - 1) / t->o.batch;
	double loss = 0;
	uint64_t correct = 0;
	uint64_t *seeds = t->seeds;
	for (size_t bi = 0; bi < nb; bi++) {
		size_t start = bi * t->o.batch;
		int bs = (int)(d->n - start < (size_t)t->o.batch ? d->n - start : (size_t)t->o.batch);
		int nc = (bs + NN_CHUNK - 1) / NN_CHUNK;
		const size_t *rows = shared ? t->rows : t->perm + start;
		if (shared) {
			/* this rank's share, its examples taken round and round */
			bs = t->o.share;
			nc = (bs + NN_CHUNK - 1) / NN_CHUNK;
			for (int i = 0; i < bs; i++)
				t->rows[i] = t->perm[(bi * (size_t)bs + (size_t)i) % d->n];
		}
		for (int c = 0; c < nc; c++)
			seeds[c] = rng_next(&t->r);
		float lr = (float)lr_at(t, epoch, bi, nb), c1, c2;
		t->steps++;
		c1 = (float)(1 / (1 - pow(0.9, (double)t->steps)));
		c2 = (float)(1 / (1 - pow(0.999, (double)t->steps)));
		size_t nd = t->ndense, nblk = (nd + 4095) / 4096;
		/* one parallel region a batch: chunks, then the update in blocks */
#pragma omp parallel num_threads(t->nth)
		{
#pragma omp for schedule(dynamic, 1)
			for (int c = 0; c < nc; c++)
				run_chunk(t, d, rows, bs, c, seeds[c]);
#pragma omp for schedule(static)
			for (size_t k = 0; k < (shared ? 0 : nblk); k++)
				dense_update(t, nc, k * 4096, (k + 1) * 4096 < nd ? (k + 1) * 4096 : nd, lr, c1, c2);
		}
		if (shared)
			shared_update(t, nc, lr, c1, c2);
		if (n->l[0].sparse_in) {
			sparse_grad(t, d, rows, bs);
			sparse_update(t, lr, c1, c2);
		}
		for (int c = 0; c < nc; c++) {
			loss += t->closs[c];
			correct += (uint64_t)t->ccorrect[c];
		}
		/* running statistics: the chunks' mean, chunks in order */
		for (int i = 0; i < (shared ? 0 : n->nl); i++) {
			const struct nn_layer *l = &n->l[i];
			if (l->kind != NN_BN)
				continue;
			for (size_t k = l->soff; k < l->soff + 2 * (size_t)l->oc; k++) {
				float sum = 0;
				for (int c = 0; c < nc; c++)
					sum += t->cbn[c][k];
				n->state[k] = (1 - BN_MOMENTUM) * n->state[k] + BN_MOMENTUM * (sum / nc);
			}
		}
		if (prog)
			prog(ctx, start + bs);
	}
	double seen = shared ? (double)nb * t->o.share : (double)d->n;
	*acc = seen > 0 ? (double)correct / seen : 0;
	return seen > 0 ? loss / seen : 0;
}

double nn_loss_grad(struct nn *n, const struct nn_data *d, float *grad)
{
	dense_init();
	struct nn_opts o = {.batch = (int)d->n, .threads = 1};
	struct nn_trainer *t = nn_trainer_new(n, &o, 1);
	size_t *rows = xmalloc((d->n ? d->n : 1) * sizeof(size_t));
	for (size_t i = 0; i < d->n; i++)
		rows[i] = i;
	int bs = (int)d->n, nc = (bs + NN_CHUNK - 1) / NN_CHUNK;
	double loss = 0;
	for (int c = 0; c < nc; c++) {
		run_chunk(t, d, rows, bs, c, 1);
		loss += t->closs[c];
	}
	dense_sum_ordered(t->g, t->cg, nc, t->ndense, 1);
	if (n->l[0].sparse_in)
		sparse_grad(t, d, rows, bs);
	memcpy(grad, t->g, n->nparam * sizeof(float));
	free(rows);
	nn_trainer_free(t);
	return loss / (d->n ? d->n : 1);
}
