/* nn_eval.c - inference of feed-forward networks (nn_predict*, nn.h).
 *
 * Training keeps images channels-outermost (C x B x H x W), the layout its
 * backward pass wants; inference has no backward pass and keeps them
 * channels-last (B x H x W x C), where the patch of one output pixel is k
 * runs of k*C contiguous values.  A convolution runs over blocks of patch
 * rows small enough to stay in the caches: the patches, one GEMM (or, when
 * a patch has only a few values, a direct sum; or, for a 3x3 convolution
 * under a 2x2 max pool, Winograd's 16 smaller GEMMs), then the max pool,
 * bias and ReLU that follow it, on the block.  Only the pixels the pool
 * reads are computed, and the bias and ReLU come after the max, with which
 * they commute (all three are monotone), so they touch a quarter of the
 * values.  Batch norms are folded into the layer before them.  A call's
 * examples are cut into batches the same way whichever thread runs it, so
 * predictions do not depend on the thread count. */
#include "nn.h"
#include "dense.h"
#include "util.h"

/* a * b + c may be one fused instruction in the target clones below: they
 * are chosen once per machine, so a machine gets the same bits at any
 * thread count */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
#endif
#include <math.h>
#include <pthread.h>
#include <string.h>

/* examples a pass: the first dense layer after the images reads all its
 * weights once a batch */
#define EVAL_BATCH 32
/* patch rows a block: a block's patches and products stay in L2 */
#define BLOCK_ROWS 256
/* tiles a block of a Winograd convolution, for the same reason */
#define TILES 128
/* patches of at most this many values are summed directly, not by BLAS:
 * a product that thin spends its time packing, not multiplying */
#define DIRECT_K 32

/* convolution outputs are worked on 16 channels at a time: a vector of
 * GCC's (one AVX-512 register, two AVX ones, four SSE ones); rows of
 * products and prepared weights are padded to whole vectors */
#define LANES 16
typedef float v16 __attribute__((vector_size(LANES * sizeof(float))));
typedef int32_t v16i __attribute__((vector_size(LANES * sizeof(float))));
/* the helpers that take and return them are always inlined: no call, so
 * no calling convention, crosses a target clone's boundary */
#pragma GCC diagnostic ignored "-Wpsabi"

/* one thread's workspace for one network */
struct eval {
	uint64_t id; /* the network's (nn.h) */
	float *x, *y;	   /* activations of a batch, in and out: EVAL_BATCH x the largest layer */
	float *cols, *prod; /* a block of patches and their products */
	float *prep;	   /* weights and biases prepared for inference */
	float *zero;	   /* a pixel outside the image, for Winograd tiles */
	size_t poff[NN_MAX_LAYERS]; /* where layer i's prepared values start */
	const float *w[NN_MAX_LAYERS], *b[NN_MAX_LAYERS]; /* layer i's weights and biases */
};

static size_t in_size(const struct nn_layer *l) { return (size_t)l->ic * l->ih * l->iw; }
static size_t out_size(const struct nn_layer *l) { return (size_t)l->oc * l->oh * l->ow; }

/* Layer i is a convolution or dense layer that a batch norm follows: the
 * norm is then an affine map per channel, folded into its weights. */
static int foldable(const struct nn *n, int i)
{
	const struct nn_layer *l = &n->l[i];
	return i + 1 < n->nl && n->l[i + 1].kind == NN_BN && !l->sparse_in &&
	       (l->kind == NN_CONV || l->kind == NN_FC) && n->l[i + 1].oc == l->oc;
}

/* the max pool whose window is its stride (so it reads every pixel of the
 * convolution i before it at most once), and fits in a block, fused into
 * it, or NULL */
static const struct nn_layer *fused_pool(const struct nn *n, int i, int *skip)
{
	int j = i + 1 + foldable(n, i);
	j += j < n->nl && n->l[j].kind == NN_RELU;
	if (n->l[i].kind != NN_CONV || j >= n->nl || n->l[j].kind != NN_MAXPOOL || n->l[j].k != n->l[j].stride ||
	    n->l[j].k * n->l[j].k > BLOCK_ROWS)
		return NULL;
	*skip = j - i;
	return &n->l[j];
}

/* channels rounded up to whole vectors */
static int padded(int c)
{
	return (c + LANES - 1) / LANES * LANES;
}

/* patch rows a block of convolution l, for fused pools of g pixels */
static size_t block_rows(int g)
{
	return (size_t)(BLOCK_ROWS / g * g);
}

static int direct(const struct nn_layer *l)
{
	return l->ic * l->k * l->k <= DIRECT_K;
}

/* the rows of a direct convolution's weights: two vectors at a time */
static int direct_width(int c)
{
	return (c + 2 * LANES - 1) / (2 * LANES) * 2 * LANES;
}

/* Winograd's F(2x2, 3x3) (Lavin and Gray, 2016) for a 3x3 convolution
 * that a 2x2 max pool follows: the four outputs of one pool window from
 * the 4x4 input tile under it with 16 products a pair of channels, not
 * 36, done as 16 matrix products over the tiles; the transforms cost
 * little beside them. */
static int winograd(const struct nn_layer *l, const struct nn_layer *pool)
{
	return pool && pool->k == 2 && l->k == 3 && l->stride == 1 && !direct(l);
}

/* the floats of convolution l's prepared weights */
static size_t conv_weights(const struct nn_layer *l, const struct nn_layer *pool)
{
	size_t K = (size_t)l->ic * l->k * l->k;
	return winograd(l, pool) ? 16 * (size_t)l->oc * l->ic : direct(l) ? K * direct_width(l->oc) : K * l->oc;
}

static struct eval *eval_new(const struct nn *n)
{
	struct eval *e = xcalloc(1, sizeof *e);
	e->id = n->id;
	size_t big = n->sparse ? 1 : n->dim, cols = 1, prod = 1, prep = 0, zero = 1;
	for (int i = 0; i < n->nl; i++) {
		const struct nn_layer *l = &n->l[i];
		if (out_size(l) > big)
			big = out_size(l);
		if (!l->sparse_in && in_size(l) > big)
			big = in_size(l);
		e->poff[i] = prep;
		if (l->kind == NN_CONV) {
			int skip;
			const struct nn_layer *p = fused_pool(n, i, &skip);
			size_t r = block_rows(p ? p->k * p->k : 1), K = (size_t)l->ic * l->k * l->k;
			if (winograd(l, p))
				r = 16 * TILES, K = (size_t)l->ic, zero = K > zero ? K : zero;
			if (r * K > cols)
				cols = r * K;
			if (r * padded(l->oc) > prod)
				prod = r * padded(l->oc);
			prep += conv_weights(l, p) + padded(l->oc);
		} else if (l->kind == NN_FC && foldable(n, i)) {
			prep += l->nw + l->nb;
		} else if (l->kind == NN_BN && !(i && foldable(n, i - 1))) {
			prep += 2 * (size_t)l->oc;
		}
	}
	e->x = xmalloc(xmul(EVAL_BATCH, big) * sizeof(float));
	e->y = xmalloc(xmul(EVAL_BATCH, big) * sizeof(float));
	e->cols = xmalloc(cols * sizeof(float));
	e->prod = xmalloc(prod * sizeof(float));
	e->prep = xmalloc((prep ? prep : 1) * sizeof(float));
	e->zero = xcalloc(zero, sizeof(float));
	return e;
}

static void eval_free(struct eval *e)
{
	if (!e)
		return;
	free(e->x);
	free(e->y);
	free(e->cols);
	free(e->prod);
	free(e->prep);
	free(e->zero);
	free(e);
}

/* U = G g G^T of the 3x3 kernel g (times a) into u[(4i + j) * stride] */
static void wino_weights(const float *g, float a, float *u, size_t stride)
{
	double t[4][3], r[4][4];
	for (int j = 0; j < 3; j++) {
		double g0 = g[j] * (double)a, g1 = g[3 + j] * (double)a, g2 = g[6 + j] * (double)a;
		t[0][j] = g0;
		t[1][j] = (g0 + g1 + g2) / 2;
		t[2][j] = (g0 - g1 + g2) / 2;
		t[3][j] = g2;
	}
	for (int i = 0; i < 4; i++) {
		r[i][0] = t[i][0];
		r[i][1] = (t[i][0] + t[i][1] + t[i][2]) / 2;
		r[i][2] = (t[i][0] - t[i][1] + t[i][2]) / 2;
		r[i][3] = t[i][2];
		for (int j = 0; j < 4; j++)
			u[(size_t)(4 * i + j) * stride] = (float)r[i][j];
	}
}

/* The weights of the network's present parameters as inference reads
 * them: batch norms folded in, convolution weights in patch order.  Redone
 * each call, so they are never stale when the parameters change. */
static void prepare(const struct nn *n, struct eval *e)
{
	const float *P = n->param, *S = n->state;
	for (int i = 0; i < n->nl; i++) {
		const struct nn_layer *l = &n->l[i];
		float *dst = e->prep + e->poff[i];
		e->w[i] = P + l->woff;
		e->b[i] = P + l->boff;
		if (l->kind == NN_BN && !(i && foldable(n, i - 1))) {
			/* alone: (x - mean) / sd, then gamma and beta */
			for (int c = 0; c < l->oc; c++) {
				dst[c] = S[l->soff + c];
				dst[l->oc + c] = 1 / sqrtf(S[l->soff + l->oc + c] + NN_BN_EPS);
			}
			e->w[i] = dst;
			continue;
		}
		int fold = foldable(n, i);
		if (!(l->kind == NN_CONV || (l->kind == NN_FC && fold)))
			continue;
		const struct nn_layer *bn = fold ? &n->l[i + 1] : NULL, *pool = NULL;
		int O = l->oc, k = l->k, C = l->ic, Op = l->kind == NN_CONV ? padded(O) : O, Wd = direct_width(O), skip;
		if (l->kind == NN_CONV)
			pool = fused_pool(n, i, &skip);
		size_t K = l->nw / (size_t)O, nw = l->kind == NN_CONV ? conv_weights(l, pool) : l->nw;
		float *bias = dst + nw;
		if (Op > O || (l->kind == NN_CONV && direct(l) && Wd > O)) {
			/* the padding: products of zero, never stored */
			memset(dst, 0, nw * sizeof(float));
			memset(bias + O, 0, (size_t)(Op - O) * sizeof(float));
		}
		for (int o = 0; o < O; o++) {
			float a = 1;
			bias[o] = P[l->boff + o];
			if (bn) {
				a = P[bn->boff + o] / sqrtf(S[bn->soff + O + o] + NN_BN_EPS);
				bias[o] = (P[l->boff + o] - S[bn->soff + o]) * a + P[bn->boff + O + o];
			}
			const float *src = P + l->woff + (size_t)o * K;
			if (l->kind == NN_FC) {
				for (size_t j = 0; j < K; j++)
					dst[(size_t)o * K + j] = src[j] * a;
				continue;
			}
			if (winograd(l, pool)) {
				for (int ci = 0; ci < C; ci++)
					wino_weights(src + (size_t)ci * 9, a, dst + (size_t)o * C + ci, (size_t)O * C);
				continue;
			}
			/* source (ci, ki, kj); patches (ki, kj, ci): BLAS reads O x K,
			 * direct sums K x Wd */
			for (int ci = 0; ci < C; ci++)
				for (int t = 0; t < k * k; t++) {
					size_t j = (size_t)t * C + ci;
					dst[direct(l) ? j * Wd + o : o * K + j] = src[(size_t)ci * k * k + t] * a;
				}
		}
		e->w[i] = dst;
		e->b[i] = bias;
	}
}

/* ---- convolutions ---- */

/* where a patch row is: example, pool output pixel, place in the pool */
struct at {
	int b, py, px, dy, dx;
};

static void at_next(struct at *a, int pk, int ph, int pw)
{
	if (++a->dx < pk)
		return;
	a->dx = 0;
	if (++a->dy < pk)
		return;
	a->dy = 0;
	if (++a->px < pw)
		return;
	a->px = 0;
	if (++a->py < ph)
		return;
	a->py = 0;
	a->b++;
}

/* the patch at (iy0, ix0) of img (ih x iw x C) in patch order; zeros outside */
static void patch(const struct nn_layer *l, const float *img, int iy0, int ix0, float *dst)
{
	int k = l->k, C = l->ic, run = k * C;
	for (int ki = 0; ki < k; ki++, dst += run) {
		int iy = iy0 + ki;
		if (iy < 0 || iy >= l->ih) {
			memset(dst, 0, (size_t)run * sizeof(float));
			continue;
		}
		const float *row = img + (size_t)iy * l->iw * C;
		if (C > 1 && ix0 >= 0 && ix0 + k <= l->iw) {
			memcpy(dst, row + (size_t)ix0 * C, (size_t)run * sizeof(float));
			continue;
		}
		for (int kj = 0; kj < k; kj++) {
			int ix = ix0 + kj;
			if (C == 1) /* a call per value would cost more than the copy */
				dst[kj] = ix < 0 || ix >= l->iw ? 0.0f : row[ix];
			else if (ix < 0 || ix >= l->iw)
				memset(dst + kj * C, 0, (size_t)C * sizeof(float));
			else
				memcpy(dst + kj * C, row + (size_t)ix * C, (size_t)C * sizeof(float));
		}
	}
}

/* the patches of nr rows from a on into cols (nr x K) */
static void patches(const struct nn_layer *l, const struct nn_layer *pool, struct at a, size_t nr, const float *x,
		    float *cols)
{
	int pk = pool ? pool->k : 1, ph = pool ? pool->oh : l->oh, pw = pool ? pool->ow : l->ow;
	size_t K = (size_t)l->ic * l->k * l->k;
	for (size_t r = 0; r < nr; r++, at_next(&a, pk, ph, pw)) {
		int iy0 = (a.py * pk + a.dy) * l->stride - l->pad, ix0 = (a.px * pk + a.dx) * l->stride - l->pad;
		patch(l, x + a.b * in_size(l), iy0, ix0, cols + r * K);
	}
}

__attribute__((always_inline)) static inline v16 load(const float *p)
{
	v16 v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* the first n of 16 values, the rest zero; and stored back (a copy of a
 * fixed size is one instruction, one of a variable size a call) */
__attribute__((always_inline)) static inline v16 load_n(const float *p, size_t n)
{
	v16 v = {0};
	if (n == LANES)
		memcpy(&v, p, sizeof v);
	else
		memcpy(&v, p, n * sizeof(float));
	return v;
}

__attribute__((always_inline)) static inline void store_n(float *p, v16 v, size_t n)
{
	if (n == LANES)
		memcpy(p, &v, sizeof v);
	else
		memcpy(p, &v, n * sizeof(float));
}

/* b where b > a, else a, lane by lane (so a NaN in b is never taken) */
__attribute__((always_inline)) static inline v16 vmax(v16 a, v16 b)
{
	v16i m = b > a;
	return (v16)(((v16i)b & m) | ((v16i)a & ~m));
}

/* the last step of a layer's 16 channels from c on: the bias, the ReLU
 * when relu, and the O - c of them that exist stored in y */
__attribute__((always_inline)) static inline void put(float *y, v16 v, const float *bias, int relu, int c, int O)
{
	v += load(bias + c);
	if (relu)
		v = vmax((v16){0}, v);
	store_n(y + c, v, O - c < LANES ? (size_t)(O - c) : LANES);
}

/* y[p] = the max of the g product rows (of Op) of pixel p, then bias and
 * ReLU: a convolution's products reduced by its pool */
DENSE_HOT static void pool_rows(const float *prod, size_t np, int g, int O, const float *bias, int relu, float *y)
{
	int Op = padded(O);
	for (size_t p = 0; p < np; p++, prod += (size_t)g * Op, y += O)
		for (int c = 0; c < O; c += LANES) {
			v16 m = load(prod + c);
			for (int r = 1; r < g; r++)
				m = vmax(m, load(prod + (size_t)r * Op + c));
			put(y, m, bias, relu, c, O);
		}
}

/* The same for a convolution whose patches are short (K values), from
 * the images themselves: each product summed over its patch in order,
 * times wt (K x Wd), four rows and two vectors of channels at once (one
 * sum would wait on each step of the last).  Patches that reach outside
 * the image are copied with their zeros into cols first. */
DENSE_HOT static void direct_rows(const struct nn_layer *l, const struct nn_layer *pool, struct at a, size_t nr,
			    const float *x, const float *wt, const float *bias, int relu, float *cols, float *y)
{
	int pk = pool ? pool->k : 1, ph = pool ? pool->oh : l->oh, pw = pool ? pool->ow : l->ow;
	int g = pk * pk, k = l->k, C = l->ic, K = C * k * k, O = l->oc, Wd = direct_width(O);
	int off[DIRECT_K], seq[DIRECT_K];
	const float *src[BLOCK_ROWS + 3];
	const int *at[BLOCK_ROWS + 3];
	for (int t = 0; t < K; t++) {
		seq[t] = t;
		off[t] = (t / C / k * l->iw + t / C % k) * C + t % C;
	}
	for (size_t r = 0; r < nr; r++, at_next(&a, pk, ph, pw)) {
		const float *img = x + a.b * in_size(l);
		int iy0 = (a.py * pk + a.dy) * l->stride - l->pad, ix0 = (a.px * pk + a.dx) * l->stride - l->pad;
		if (iy0 >= 0 && ix0 >= 0 && iy0 + k <= l->ih && ix0 + k <= l->iw) {
			src[r] = img + ((size_t)iy0 * l->iw + ix0) * C;
			at[r] = off;
		} else {
			patch(l, img, iy0, ix0, cols + r * K);
			src[r] = cols + r * K;
			at[r] = seq;
		}
	}
	for (size_t r = nr; r < nr + 3; r++) { /* the last group's missing rows: computed, never used */
		src[r] = src[nr - 1];
		at[r] = at[nr - 1];
	}
	for (int c = 0; c < O; c += 2 * LANES) {
		v16 m0 = {0}, m1 = {0};
		for (size_t r = 0; r < nr; r += 4) {
			v16 a0[4] = {{0}, {0}, {0}, {0}}, a1[4] = {{0}, {0}, {0}, {0}};
			for (int t = 0; t < K; t++) {
				v16 w0 = load(wt + (size_t)t * Wd + c), w1 = load(wt + (size_t)t * Wd + c + LANES);
				for (int i = 0; i < 4; i++) {
					float v = src[r + i][at[r + i][t]];
					a0[i] += v * w0;
					a1[i] += v * w1;
				}
			}
			for (size_t i = 0; i < 4 && r + i < nr; i++) {
				size_t q = (r + i) % (size_t)g;
				m0 = q ? vmax(m0, a0[i]) : a0[i];
				m1 = q ? vmax(m1, a1[i]) : a1[i];
				if (q != (size_t)g - 1)
					continue;
				put(y + (r + i) / g * O, m0, bias, relu, c, O);
				if (c + LANES < O)
					put(y + (r + i) / g * O, m1, bias, relu, c + LANES, O);
			}
		}
	}
}

/* The 16 transformed planes (nt x C each) of tiles t0 .. t0+nt-1:
 * V = B^T d B for each channel's 4x4 tile d. */
DENSE_HOT static void wino_in(const struct nn_layer *l, const struct nn_layer *pool, const float *x, size_t t0, size_t nt,
			const float *zero, float *restrict v)
{
	int C = l->ic;
	size_t per = (size_t)pool->oh * pool->ow, plane = nt * C;
	for (size_t t = 0; t < nt; t++) {
		size_t tt = t0 + t, pix = tt % per;
		const float *img = x + tt / per * in_size(l), *p[16];
		int iy0 = (int)(pix / pool->ow) * 2 - l->pad, ix0 = (int)(pix % pool->ow) * 2 - l->pad;
		for (int i = 0; i < 4; i++)
			for (int j = 0; j < 4; j++) {
				int iy = iy0 + i, ix = ix0 + j;
				p[4 * i + j] = iy >= 0 && iy < l->ih && ix >= 0 && ix < l->iw ? img + ((size_t)iy * l->iw + ix) * C : zero;
			}
		float *out = v + t * C;
		for (int c = 0; c < C; c += LANES) {
			/* 16 channels at once; the last few through a full vector */
			size_t nc = C - c < LANES ? (size_t)(C - c) : LANES;
			v16 d[16], r[16], o[16];
			for (int q = 0; q < 16; q++)
				d[q] = load_n(p[q] + c, nc);
			for (int j = 0; j < 4; j++) {
				r[j] = d[j] - d[8 + j];
				r[4 + j] = d[4 + j] + d[8 + j];
				r[8 + j] = d[8 + j] - d[4 + j];
				r[12 + j] = d[4 + j] - d[12 + j];
			}
			for (int i = 0; i < 4; i++) {
				const v16 *ri = r + 4 * i;
				o[4 * i] = ri[0] - ri[2];
				o[4 * i + 1] = ri[1] + ri[2];
				o[4 * i + 2] = ri[2] - ri[1];
				o[4 * i + 3] = ri[1] - ri[3];
			}
			for (int q = 0; q < 16; q++)
				store_n(out + q * plane + c, o[q], nc);
		}
	}
}

/* From the 16 product planes (nt x O each) of nt tiles: each tile's 2x2
 * outputs A^T M A, their max, the bias and the ReLU, into y (nt x O). */
DENSE_HOT static void wino_out(const float *restrict m, size_t nt, int O, const float *restrict bias, int relu,
			 float *restrict y)
{
	size_t plane = nt * O;
	for (size_t t = 0; t < nt; t++, m += O, y += O)
		for (int o = 0; o < O; o += LANES) {
			size_t no = O - o < LANES ? (size_t)(O - o) : LANES;
			v16 s[16], a0[4], a1[4];
			for (int q = 0; q < 16; q++)
				s[q] = load_n(m + q * plane + o, no);
			for (int j = 0; j < 4; j++) {
				a0[j] = s[j] + s[4 + j] + s[8 + j];
				a1[j] = s[4 + j] - s[8 + j] - s[12 + j];
			}
			v16 mx = vmax(vmax(vmax(a0[0] + a0[1] + a0[2], a0[1] - a0[2] - a0[3]), a1[0] + a1[1] + a1[2]),
				      a1[1] - a1[2] - a1[3]);
			put(y, mx, bias, relu, o, O);
		}
}

/* conv() for the convolutions winograd() takes, by blocks of TILES tiles:
 * transformed tiles, 16 products with the transformed weights w (16 x oc x
 * ic), the outputs reduced by their pool */
static void winograd_conv(struct eval *e, const struct nn_layer *l, const struct nn_layer *pool, int relu,
			  const float *w, const float *b, const float *x, float *y, int B)
{
	int O = l->oc, C = l->ic;
	size_t tiles = (size_t)pool->oh * pool->ow * B;
	for (size_t t0 = 0; t0 < tiles; t0 += TILES) {
		size_t nt = tiles - t0 < TILES ? tiles - t0 : TILES;
		wino_in(l, pool, x, t0, nt, e->zero, e->cols);
		for (int q = 0; q < 16; q++)
			dense_gemm(0, 1, (int)nt, O, C, 1, e->cols + q * nt * C, C, w + (size_t)q * O * C, C, 0,
				   e->prod + q * nt * O, O);
		wino_out(e->prod, nt, O, b, relu, y + t0 * O);
	}
}

/* Convolution l (weights w, biases b) of x (B x ih x iw x ic), then its
 * ReLU when relu and the max pool `pool` when not NULL, into y (B x h x w
 * x oc, h x w the pool's output when pooling). */
static void conv(struct eval *e, const struct nn_layer *l, const struct nn_layer *pool, int relu, const float *w,
		 const float *b, const float *x, float *y, int B)
{
	int pk = pool ? pool->k : 1, ph = pool ? pool->oh : l->oh, pw = pool ? pool->ow : l->ow;
	int g = pk * pk, K = l->ic * l->k * l->k, O = l->oc;
	size_t per = (size_t)ph * pw * g, rows = per * B, step = block_rows(g);
	if (winograd(l, pool)) {
		winograd_conv(e, l, pool, relu, w, b, x, y, B);
		return;
	}
	for (size_t r0 = 0; r0 < rows; r0 += step) {
		size_t nr = rows - r0 < step ? rows - r0 : step, t = r0 % per, pix = t / g;
		struct at a = {(int)(r0 / per), (int)(pix / pw), (int)(pix % pw), (int)(t % g / pk), (int)(t % pk)};
		if (direct(l)) {
			direct_rows(l, pool, a, nr, x, w, b, relu, e->cols, y + r0 / g * O);
		} else {
			patches(l, pool, a, nr, x, e->cols);
			dense_gemm(0, 1, (int)nr, O, K, 1, e->cols, K, w, K, 0, e->prod, padded(O));
			pool_rows(e->prod, nr / g, g, O, b, relu, y + r0 / g * O);
		}
	}
}

/* a pool on its own, channels-last */
static void pool(const struct nn_layer *l, const float *x, float *y, int B)
{
	int C = l->ic, max = l->kind == NN_MAXPOOL;
	float inv = 1.0f / (l->k * l->k);
	for (int b = 0; b < B; b++)
		for (int oy = 0; oy < l->oh; oy++)
			for (int ox = 0; ox < l->ow; ox++) {
				float *d = y + (((size_t)b * l->oh + oy) * l->ow + ox) * C;
				for (int ky = 0; ky < l->k; ky++)
					for (int kx = 0; kx < l->k; kx++) {
						const float *s = x + (((size_t)b * l->ih + oy * l->stride + ky) * l->iw +
								      ox * l->stride + kx) * C;
						for (int c = 0; c < C; c++)
							d[c] = !ky && !kx ? s[c] : max ? (s[c] > d[c] ? s[c] : d[c]) : d[c] + s[c];
					}
				if (!max)
					for (int c = 0; c < C; c++)
						d[c] *= inv;
			}
}

/* ---- the pass ---- */

/* the rows of x plus their biases (b NULL: none), and the ReLU after them
 * when relu */
static void bias_act(float *x, size_t rows, int O, const float *b, int relu)
{
	for (size_t r = 0; r < rows; r++, x += O)
		for (int o = 0; o < O; o++) {
			float v = b ? x[o] + b[o] : x[o];
			x[o] = relu && !(v > 0) ? 0.0f : v;
		}
}

/* The logits of B examples: dense xs[b] (C x H x W, as records hold
 * them), or sparse idx/val/nnz. */
static const float *pass(const struct nn *n, struct eval *e, int B, const float *const *xs,
			 const uint32_t *const *idx, const float *const *val, const uint32_t *nnz)
{
	float *cur = e->x, *nxt = e->y, *tmp;
	if (!n->sparse) {
		size_t P = (size_t)n->in_h * n->in_w;
		int C = n->in_c;
		for (int b = 0; b < B; b++) {
			float *d = cur + (size_t)b * n->dim;
			if (C == 1)
				memcpy(d, xs[b], n->dim * sizeof(float));
			else
				for (size_t p = 0; p < P; p++)
					for (int c = 0; c < C; c++)
						d[p * C + c] = xs[b][c * P + p];
		}
	}
	for (int i = 0; i < n->nl; i++) {
		const struct nn_layer *l = &n->l[i];
		int fold = foldable(n, i), skip = 0;
		int relu = (l->kind == NN_CONV || l->kind == NN_FC) && !l->sparse_in && i + 1 + fold < n->nl &&
			   n->l[i + 1 + fold].kind == NN_RELU;
		size_t osz = out_size(l);
		switch (l->kind) {
		case NN_CONV: {
			const struct nn_layer *p = fused_pool(n, i, &skip);
			conv(e, l, p, relu, e->w[i], e->b[i], cur, nxt, B);
			i += p ? skip : fold + relu;
			break;
		}
		case NN_MAXPOOL:
		case NN_AVGPOOL:
			pool(l, cur, nxt, B);
			break;
		case NN_FC: {
			int O = l->out;
			if (l->sparse_in) {
				for (int b = 0; b < B; b++) {
					float *row = nxt + (size_t)b * O;
					memcpy(row, e->b[i], O * sizeof(float));
					for (uint32_t k = 0; k < nnz[b]; k++) {
						uint32_t j = idx[b][k];
						if (j >= n->dim)
							continue; /* features the model never saw weigh nothing */
						const float *wr = e->w[i] + (size_t)j * O;
						float v = val[b][k];
						for (int o = 0; o < O; o++)
							row[o] += v * wr[o];
					}
				}
				break;
			}
			size_t isz = in_size(l);
			if (l->spatial_in) {
				/* the weights read the image as C x H x W */
				size_t PP = (size_t)l->ih * l->iw;
				size_t C = (size_t)l->ic;
				for (int b = 0; b < B; b++) {
					const float *restrict src = cur + (size_t)b * isz;
					float *restrict dst = nxt + (size_t)b * isz;
					for (size_t c = 0; c < C; c++)
						for (size_t p = 0; p < PP; p++)
							dst[c * PP + p] = src[p * C + c];
				}
				tmp = cur, cur = nxt, nxt = tmp;
			}
			dense_gemm(0, 1, B, O, (int)isz, 1, cur, (int)isz, e->w[i], (int)isz, 0, nxt, O);
			bias_act(nxt, (size_t)B, O, e->b[i], relu);
			i += fold + relu;
			break;
		}
		case NN_RELU:
			bias_act(cur, osz * B, 1, NULL, 1);
			continue;
		case NN_BN: {
			/* channels are the innermost index, of images and of vectors alike */
			int C = l->oc;
			const float *mean = e->w[i], *inv = mean + C, *gam = e->b[i], *bet = gam + C;
			for (size_t k = 0; k < osz * B; k += C)
				for (int c = 0; c < C; c++)
					cur[k + c] = gam[c] * ((cur[k + c] - mean[c]) * inv[c]) + bet[c];
			continue;
		}
		case NN_DROPOUT:
			continue;
		}
		tmp = cur, cur = nxt, nxt = tmp;
	}
	return cur;
}

/* ---- the entry points (nn.h) ---- */

/* Each thread keeps the workspace of the last network it ran, so a
 * stream allocates once per thread, not once per record; networks are told
 * apart by their id, never by their address.  The workspace is a thread's
 * key value, freed when the thread ends. */
static pthread_key_t eval_key;
static pthread_once_t eval_once = PTHREAD_ONCE_INIT;

static void eval_key_free(void *e)
{
	eval_free(e);
}

static void eval_key_new(void)
{
	if (pthread_key_create(&eval_key, eval_key_free))
		die("out of thread keys");
}

static struct eval *eval_for(const struct nn *n)
{
	dense_init();
	pthread_once(&eval_once, eval_key_new);
	struct eval *e = pthread_getspecific(eval_key);
	if (!e || e->id != n->id) {
		eval_free(e);
		e = eval_new(n);
		if (pthread_setspecific(eval_key, e))
			die("out of memory (a thread's network workspace)");
	}
	prepare(n, e);
	return e;
}

/* count examples in batches of EVAL_BATCH: the same batches whatever the thread */
static void run(const struct nn *n, struct eval *e, const float *const *xs, const uint32_t *const *idx,
		const float *const *val, const uint32_t *nnz, int count, float *probs)
{
	for (int at = 0; at < count; at += EVAL_BATCH) {
		int B = count - at < EVAL_BATCH ? count - at : EVAL_BATCH;
		const float *z = n->sparse ? pass(n, e, B, NULL, idx + at, val + at, nnz + at)
					   : pass(n, e, B, xs + at, NULL, NULL, NULL);
		for (int b = 0; b < B; b++)
			nn_softmax(z + (size_t)b * n->nout, n->nout, probs + (size_t)(at + b) * n->nout);
	}
}

void nn_predict(const struct nn *n, const float *x, const uint32_t *idx, const float *val, uint32_t nnz, float *probs)
{
	run(n, eval_for(n), &x, &idx, &val, &nnz, 1, probs);
}

void nn_predict_rows(const struct nn *n, const float *const *xs, const uint32_t *const *idx,
		     const float *const *val, const uint32_t *nnz, int count, float *probs)
{
	run(n, eval_for(n), xs, idx, val, nnz, count, probs);
}

void nn_predict_batch(const struct nn *n, const float *x, int count, float *probs)
{
	struct eval *e = eval_for(n);
	const float *xs[EVAL_BATCH];
	for (int at = 0; at < count; at += EVAL_BATCH) {
		int B = count - at < EVAL_BATCH ? count - at : EVAL_BATCH;
		for (int b = 0; b < B; b++)
			xs[b] = x + (size_t)(at + b) * n->dim;
		run(n, e, xs, NULL, NULL, NULL, B, probs + (size_t)at * n->nout);
	}
}
