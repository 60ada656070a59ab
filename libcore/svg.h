/* svg.h - hand-made SVG pictures: a few primitives and the charts pea
 * draws (heat maps of confusion matrices, curves such as ROC).
 *
 * Plain SVG 1.1 text with no scripts and no external references, so a file
 * opens in any browser and is safe to pass around.  Text is escaped here,
 * once, for every caller. */
#ifndef PEA_SVG_H
#define PEA_SVG_H

#include "util.h"

void svg_begin(struct buf *b, double w, double h);
void svg_end(struct buf *b);
void svg_rect(struct buf *b, double x, double y, double w, double h, const char *fill);
void svg_line(struct buf *b, double x1, double y1, double x2, double y2, const char *stroke, double width);
/* anchor: "start", "middle" or "end"; rotate in degrees about (x, y) */
void svg_text(struct buf *b, double x, double y, const char *anchor, double size, double rotate, const char *s);
void svg_text_fill(struct buf *b, double x, double y, const char *anchor, double size, double rotate,
		   const char *fill, const char *s);
void svg_polyline(struct buf *b, const double *x, const double *y, size_t n, const char *stroke, double width);

/* An n x n heat map of counts (row = true label, column = predicted) in a
 * square of side `side` at (x, y), labels on both axes, each cell shaded
 * by its share of its row and showing its count. */
void svg_heatmap(struct buf *b, double x, double y, double side, int n, char *const *labels,
		 const uint64_t *counts, const char *title);
/* A curve in a w x h box at (x, y) over [0,1] x [0,1] with axes, grid,
 * labels and a title; `diagonal` draws the chance line. */
void svg_curve(struct buf *b, double x, double y, double w, double h, const double *xs, const double *ys,
	       size_t n, const char *xlabel, const char *ylabel, const char *title, int diagonal);

/* Several curves over x in [x0, x1] and y in [0, 1], in a w x h box at
 * (x, y), each in its own colour with a legend: metrics against a
 * parameter, such as hit rate against the cut-off k.  ys[s] has n
 * values for series s. */
void svg_series(struct buf *b, double x, double y, double w, double h, const double *xs, double *const *ys,
		char *const *names, int nseries, size_t n, double x0, double x1, const char *xlabel,
		const char *ylabel, const char *title);

#endif
