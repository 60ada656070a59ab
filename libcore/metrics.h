/* metrics.h - how good predictions are: accuracy, per-label precision,
 * recall, F1 and support, macro/micro/weighted averages, the confusion
 * matrix, log loss, and for two labels the ROC and precision-recall curves
 * with their areas; for recommendations (rmet_*), hit rate, NDCG, recall,
 * precision, MAP and catalogue coverage at cut-offs k.
 *
 * Records are fed one at a time (their true labels, predicted labels and
 * probabilities, by name), so any label set works and labels the model
 * never predicted still count.  Figures follow scikit-learn's definitions
 * (an undefined precision or recall counts as 0; average precision is the
 * step-wise area), so they can be compared with its reports. */
#ifndef PEA_METRICS_H
#define PEA_METRICS_H

#include "err.h"
#include "util.h"

#include <stdio.h>

struct met;
struct met *met_new(void);
void met_free(struct met *m);
/* parts of the current record, then met_end_record */
void met_truth(struct met *m, const char *s, size_t n);
void met_pred(struct met *m, const char *s, size_t n);
void met_prob(struct met *m, const char *s, size_t n, double p);
/* multilabel: the record came with lists (labels / preds) */
void met_end_record(struct met *m, int multilabel);

struct met_label {
	char *name;
	uint64_t tp, fp, fn, support;
	double precision, recall, f1;
};

struct met_result {
	uint64_t n;
	int multilabel;
	int nlabels;
	struct met_label *label;   /* sorted by name */
	uint64_t *confusion;	   /* nlabels^2, row = true; multi-label: co-occurrence */
	double accuracy;	   /* multi-label: exact set match */
	double macro_f1, micro_f1, weighted_f1, macro_precision, macro_recall;
	int has_loss;
	double log_loss;
	int binary;		   /* two labels and probabilities: the curves below */
	int positive;
	double roc_auc, pr_auc;
	double *roc_fpr, *roc_tpr; /* roc_n points */
	size_t roc_n;
};

/* positive: the label the binary curves score (NULL: the second in name
 * order).  -1 with the reason in e. */
int met_compute(struct met *m, const char *positive, struct met_result *r, struct pea_err *e);
void met_result_release(struct met_result *r);
void met_print(const struct met_result *r, FILE *out);
void met_print_json(const struct met_result *r, FILE *out);
/* the confusion heat map and, for binary tasks, the ROC curve */
void met_svg(const struct met_result *r, struct buf *out);

/* ---- ranking ---- */
/* Each record brings a ranked list (recs) and its truth (the held-out
 * items): full ranking, so a truth item outside the list is a miss.
 * Relevance is binary; NDCG divides by the ideal DCG of min(|truth|, k)
 * hits; MAP@k divides each record's sum of precisions at its hits by
 * min(|truth|, k); coverage@k is the share of the catalogue that appears
 * in some list within its first k. */
struct rmet;
struct rmet *rmet_new(void);
void rmet_free(struct rmet *m);
/* parts of the current record, then rmet_end_record */
void rmet_rec(struct rmet *m, const char *s, size_t n);
void rmet_truth(struct rmet *m, const char *s, size_t n);
void rmet_end_record(struct rmet *m);

struct rmet_at {
	int k;
	double hr, ndcg, recall, precision, map, coverage;
};

struct rmet_result {
	uint64_t n;	    /* records */
	uint64_t truth;	    /* truth items over all records */
	uint64_t catalogue; /* items coverage divides by */
	int kmax;	    /* the longest list */
	int nat;
	struct rmet_at *at; /* the cut-offs shown */
	struct rmet_at *curve; /* every k from 1 to kmax */
};

/* catalogue: the number of items (0: the distinct items seen in lists and
 * truths); at: cut-offs (NULL: 1, 5, 10, 20, 50, 100 up to the longest list,
 * and the longest).  -1 with the reason in e. */
int rmet_compute(struct rmet *m, uint64_t catalogue, const int *at, int nat, struct rmet_result *r,
		 struct pea_err *e);
void rmet_result_release(struct rmet_result *r);
void rmet_print(const struct rmet_result *r, FILE *out);
void rmet_print_json(const struct rmet_result *r, FILE *out);
/* HR, NDCG and recall against k */
void rmet_svg(const struct rmet_result *r, struct buf *out);

#endif
