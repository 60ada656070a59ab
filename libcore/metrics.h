/* metrics.h - how good predictions are: accuracy, per-label precision,
 * recall, F1 and support, macro/micro/weighted averages, the confusion
 * matrix, log loss, and for two labels the ROC and precision-recall curves
 * with their areas.
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

#endif
