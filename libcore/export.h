/* export.h - records into text: JSON Lines, TSV, fastText and svmlight. */
#ifndef PEA_EXPORT_H
#define PEA_EXPORT_H

#include "cli.h"
#include "frame.h"

enum export_format { EX_JSON, EX_TSV, EX_FASTTEXT, EX_SVMLIGHT };

struct export_opts {
	enum export_format fmt;
	struct cli_list fields; /* TSV: the columns */
	struct cli_list labels; /* svmlight: label names in the order of their numbers */
	const char *text_field; /* fastText: text when there are no tokens */
	int zero_based;		/* svmlight: indices from 0 */
};

/* Append the records of f in the chosen format.  Returns -1 (message in e,
 * *rec the record) when a record cannot be written in that format. */
int export_frame(const struct export_opts *o, const pea_frame *f, struct buf *out, uint32_t *rec,
		 struct pea_err *e);
/* JSON Lines, the default view of records */
void export_json(const pea_frame *f, struct buf *out);
/* one value as JSON */
void export_json_value(const pea_frame *f, const pea_val *v, struct buf *out);
/* a JSON string literal of s */
void json_quote(struct buf *out, const char *s, size_t n);
/* shortest text that reads back as the same number */
void fmt_f64(struct buf *out, double d);
void fmt_f32(struct buf *out, float x);

#endif
