/* nn.h - feed-forward neural networks (MLP and CNN): a layer-spec grammar,
 * forward and backward passes, He initialisation, SGD with momentum and
 * Adam, schedules, dropout, batch normalisation, augmentation.
 *
 * A network is read from a spec users can edit, e.g.
 *     conv3x3:32,relu,maxpool2,conv3x3:64,relu,maxpool2,fc:128,relu,dropout:0.3,fc
 * and stored in a model as that spec plus its parameters, so a classifier
 * needs nothing else.  The last `fc` takes its width from the labels.
 *
 * Training is deterministic at any thread count: a mini-batch is cut into
 * chunks of NN_CHUNK examples, each chunk runs forward and backward on one
 * thread into its own gradient, and the chunk gradients are summed in
 * chunk order (dense.h).  Batch normalisation therefore normalises over a
 * chunk ("ghost" batches of NN_CHUNK).  One generator seeded from --seed
 * shuffles, initialises, and seeds each chunk's generator for dropout and
 * augmentation in a fixed order. */
#ifndef PEA_NN_H
#define PEA_NN_H

#include "err.h"
#include "rng.h"

#include <stdint.h>

#define NN_CHUNK 32
#define NN_MAX_LAYERS 64
/* added to a batch norm's variance before its square root */
#define NN_BN_EPS 1e-5f

enum nn_kind { NN_CONV = 1, NN_MAXPOOL, NN_AVGPOOL, NN_FC, NN_RELU, NN_DROPOUT, NN_BN };

struct nn_layer {
	int kind;
	int k, stride, pad; /* conv, pools */
	int out;	    /* conv: channels; fc: units (0: the number of labels) */
	float p;	    /* dropout rate */
	/* geometry, filled by nn_build: output C x H x W (fc: out x 1 x 1) */
	int ic, ih, iw, oc, oh, ow;
	int spatial_in, spatial_out; /* activations laid out C x B x H x W */
	int sparse_in;		     /* first fc over sparse features: W is dim x out */
	size_t woff, nw, boff, nb;   /* parameters (weights, biases / gamma, beta) */
	size_t soff;		     /* batch norm running mean, var in the state */
};

struct nn {
	uint64_t id;  /* unique in the process (workspaces are cached by it) */
	char *spec;
	int nl;
	struct nn_layer l[NN_MAX_LAYERS];
	int in_c, in_h, in_w; /* dense input geometry */
	int sparse;	      /* input is sparse features of dimension dim */
	uint32_t dim;	      /* input values (C*H*W, or the sparse dimension) */
	int nout;
	size_t nparam, nstate;
	float *param; /* all weights and biases */
	float *state; /* batch-norm running statistics */
	int own;      /* param/state are ours to free (not mapped from a file) */
};

/* Build a network from a spec for inputs of C x H x W (or sparse of dim
 * values) and nout classes.  NULL with the reason in e. */
struct nn *nn_build(const char *spec, int c, int h, int w, int sparse, uint32_t dim, int nout,
		    struct pea_err *e);
void nn_free(struct nn *n);
/* He initialisation (biases zero, batch norm gamma 1). */
void nn_init(struct nn *n, struct rng *r);
/* Point the network at parameters held elsewhere (a mapped model file);
 * sizes were checked by the caller. */
void nn_borrow(struct nn *n, float *param, float *state);

/* The examples to train on or score.  Dense: x holds n rows of dim floats;
 * sparse: CSR (off, idx, val).  y: class per example; w: weights or NULL. */
struct nn_data {
	size_t n;
	const float *x;
	const uint64_t *off;
	const uint32_t *idx;
	const float *val;
	const int *y;
	const float *w;
};

enum nn_optim { NN_ADAM = 0, NN_SGD };
enum nn_sched { NN_CONSTANT = 0, NN_STEP, NN_COSINE };

struct nn_opts {
	int optim, sched;
	int batch;
	double lr, momentum, wd;
	int augment;  /* random shifts of up to `augment` pixels */
	int flip;     /* random horizontal flips */
	int threads;
	int epochs;   /* for the schedule */
	/* Several ranks (dist.h), dense inputs: this rank computes `share`
	 * examples of every batch of `batch`, walking its own examples round
	 * and round for `steps` batches an epoch, and the ranks' gradients are
	 * summed before each update, so every rank makes the same one.  0: one
	 * process. */
	int share;
	size_t steps;
};

struct nn_trainer;
struct nn_trainer *nn_trainer_new(struct nn *n, const struct nn_opts *o, uint64_t seed);
void nn_trainer_free(struct nn_trainer *t);
/* One pass over d (epoch counts from 0).  Returns the mean training loss;
 * *acc gets the training accuracy.  prog(ctx, done) is called between
 * batches on the calling thread (may be NULL). */
double nn_epoch(struct nn_trainer *t, const struct nn_data *d, int epoch, double *acc,
		void (*prog)(void *ctx, size_t done), void *ctx);

/* Class probabilities of one example (dense x of dim floats, or sparse
 * idx/val of nnz values); safe from many threads at once (nn_eval.c).
 * The batched forms below are several times faster an example: they cut
 * their examples into batches of a fixed size, so a result depends on the
 * examples a call gets, never on the thread that runs it. */
void nn_predict(const struct nn *n, const float *x, const uint32_t *idx, const float *val, uint32_t nnz,
		float *probs);
/* The same for `count` dense examples at once (rows of dim floats). */
void nn_predict_batch(const struct nn *n, const float *x, int count, float *probs);
/* The same for `count` examples given one by one: xs[i] (dense), or
 * idx[i]/val[i]/nnz[i] (sparse; xs NULL). */
void nn_predict_rows(const struct nn *n, const float *const *xs, const uint32_t *const *idx,
		     const float *const *val, const uint32_t *nnz, int count, float *probs);

/* The softmax of O logits z into p (nn_eval.c's, and training's). */
void nn_softmax(const float *z, int O, float *p);

/* For gradient checks: the mean loss of a batch in training mode with
 * dropout off, and its gradient into grad (nparam floats). */
double nn_loss_grad(struct nn *n, const struct nn_data *d, float *grad);

#endif
