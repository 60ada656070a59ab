/* svg.c - see svg.h.  Coordinates are printed with two decimals: enough
 * for a screen, and it keeps files small and diffable. */
#include "svg.h"

#include <stdio.h>

void svg_begin(struct buf *b, double w, double h)
{
	buf_addf(b,
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		 "font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		 w, h, w, h);
}

void svg_end(struct buf *b)
{
	buf_adds(b, "</svg>\n");
}

void svg_rect(struct buf *b, double x, double y, double w, double h, const char *fill)
{
	buf_addf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n", x, y, w, h, fill);
}

void svg_line(struct buf *b, double x1, double y1, double x2, double y2, const char *stroke, double width)
{
	buf_addf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"%.2f\"/>\n", x1,
		 y1, x2, y2, stroke, width);
}

static void escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '&': buf_adds(b, "&amp;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		default:
			/* control characters are not allowed in XML 1.0 */
			buf_addc(b, (unsigned char)*s < 0x20 ? ' ' : (uint8_t)*s);
		}
	}
}

void svg_text(struct buf *b, double x, double y, const char *anchor, double size, double rotate, const char *s)
{
	svg_text_fill(b, x, y, anchor, size, rotate, "black", s);
}

void svg_text_fill(struct buf *b, double x, double y, const char *anchor, double size, double rotate,
		   const char *fill, const char *s)
{
	buf_addf(b, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"%s\" font-size=\"%.1f\" fill=\"%s\"", x, y, anchor,
		 size, fill);
	if (rotate != 0)
		buf_addf(b, " transform=\"rotate(%.1f %.2f %.2f)\"", rotate, x, y);
	buf_adds(b, ">");
	escape(b, s);
	buf_adds(b, "</text>\n");
}

void svg_polyline(struct buf *b, const double *x, const double *y, size_t n, const char *stroke, double width)
{
	buf_adds(b, "<polyline fill=\"none\" points=\"");
	for (size_t i = 0; i < n; i++)
		buf_addf(b, "%s%.2f,%.2f", i ? " " : "", x[i], y[i]);
	buf_addf(b, "\" stroke=\"%s\" stroke-width=\"%.2f\"/>\n", stroke, width);
}

void svg_heatmap(struct buf *b, double x, double y, double side, int n, char *const *labels,
		 const uint64_t *counts, const char *title)
{
	double cell = n ? side / n : side, fs = cell * 0.3 > 12 ? 12 : cell * 0.3;
	char num[32];
	svg_text(b, x + side / 2, y - 60, "middle", 16, 0, title);
	svg_text(b, x + side / 2, y - 40, "middle", 12, 0, "predicted");
	svg_text(b, x - 80, y + side / 2, "middle", 12, -90, "true");
	for (int i = 0; i < n; i++) {
		uint64_t row = 0;
		for (int j = 0; j < n; j++)
			row += counts[(size_t)i * n + j];
		svg_text(b, x - 6, y + (i + 0.5) * cell + fs / 3, "end", fs < 8 ? 8 : fs, 0, labels[i]);
		svg_text(b, x + (i + 0.5) * cell, y - 6, "start", fs < 8 ? 8 : fs, -45, labels[i]);
		for (int j = 0; j < n; j++) {
			uint64_t v = counts[(size_t)i * n + j];
			double share = row ? (double)v / (double)row : 0;
			/* white to a deep blue; off the diagonal, white to red */
			int r = i == j ? (int)(255 - 225 * share) : 255, g = (int)(255 - 200 * share),
			    bl = i == j ? 255 - (int)(80 * share) : (int)(255 - 200 * share);
			char fill[16];
			snprintf(fill, sizeof fill, "#%02x%02x%02x", r, g, bl);
			svg_rect(b, x + j * cell, y + i * cell, cell - 1, cell - 1, fill);
			if (fs >= 6) {
				snprintf(num, sizeof num, "%llu", (unsigned long long)v);
				svg_text_fill(b, x + (j + 0.5) * cell, y + (i + 0.5) * cell + fs / 3, "middle", fs, 0,
					      share > 0.5 ? "white" : "black", num);
			}
		}
	}
}

void svg_curve(struct buf *b, double x, double y, double w, double h, const double *xs, const double *ys,
	       size_t n, const char *xlabel, const char *ylabel, const char *title, int diagonal)
{
	char t[16];
	svg_text(b, x + w / 2, y - 14, "middle", 16, 0, title);
	for (int k = 0; k <= 10; k++) {
		double gx = x + w * k / 10, gy = y + h - h * k / 10;
		svg_line(b, gx, y, gx, y + h, "#e4e4e4", 1);
		svg_line(b, x, gy, x + w, gy, "#e4e4e4", 1);
		if (k % 2 == 0) {
			snprintf(t, sizeof t, "%.1f", k / 10.0);
			svg_text(b, gx, y + h + 16, "middle", 11, 0, t);
			svg_text(b, x - 6, gy + 4, "end", 11, 0, t);
		}
	}
	svg_line(b, x, y + h, x + w, y + h, "black", 1);
	svg_line(b, x, y, x, y + h, "black", 1);
	if (diagonal)
		svg_line(b, x, y + h, x + w, y, "#999999", 1);
	svg_text(b, x + w / 2, y + h + 36, "middle", 12, 0, xlabel);
	svg_text(b, x - 40, y + h / 2, "middle", 12, -90, ylabel);
	double *px = xcalloc(n + 1, sizeof *px), *py = xcalloc(n + 1, sizeof *py);
	for (size_t i = 0; i < n; i++) {
		px[i] = x + w * xs[i];
		py[i] = y + h - h * ys[i];
	}
	svg_polyline(b, px, py, n, "#1f5fbf", 2);
	free(px);
	free(py);
}

void svg_series(struct buf *b, double x, double y, double w, double h, const double *xs, double *const *ys,
		char *const *names, int nseries, size_t n, double x0, double x1, const char *xlabel,
		const char *ylabel, const char *title)
{
	static const char *const colours[] = {"#1f5fbf", "#d9480f", "#2b8a3e", "#862e9c", "#c92a2a", "#5c940d"};
	char t[32];
	double span = x1 > x0 ? x1 - x0 : 1;
	svg_text(b, x + w / 2, y - 14, "middle", 16, 0, title);
	for (int k = 0; k <= 10; k++) {
		double gx = x + w * k / 10, gy = y + h - h * k / 10;
		svg_line(b, gx, y, gx, y + h, "#e4e4e4", 1);
		svg_line(b, x, gy, x + w, gy, "#e4e4e4", 1);
		if (k % 2 == 0) {
			snprintf(t, sizeof t, "%.3g", x0 + span * k / 10);
			svg_text(b, gx, y + h + 16, "middle", 11, 0, t);
			snprintf(t, sizeof t, "%.1f", k / 10.0);
			svg_text(b, x - 6, gy + 4, "end", 11, 0, t);
		}
	}
	svg_line(b, x, y + h, x + w, y + h, "black", 1);
	svg_line(b, x, y, x, y + h, "black", 1);
	svg_text(b, x + w / 2, y + h + 36, "middle", 12, 0, xlabel);
	svg_text(b, x - 40, y + h / 2, "middle", 12, -90, ylabel);
	double *px = xcalloc(n + 1, sizeof *px), *py = xcalloc(n + 1, sizeof *py);
	for (int s = 0; s < nseries; s++) {
		const char *c = colours[s % (int)ARRAY_SIZE(colours)];
		for (size_t i = 0; i < n; i++) {
			px[i] = x + w * (xs[i] - x0) / span;
			py[i] = y + h - h * ys[s][i];
		}
		svg_polyline(b, px, py, n, c, 2);
		svg_line(b, x + w + 16, y + 10 + 20 * s, x + w + 40, y + 10 + 20 * s, c, 2);
		svg_text(b, x + w + 46, y + 14 + 20 * s, "start", 12, 0, names[s]);
	}
	free(px);
	free(py);
}
