/* import.h - text formats into records: JSON Lines, plain text, CSV/TSV,
 * fastText and svmlight.  The unit decoder (input.h) calls these on chunks of
 * whole lines; `pea import` is that decoder with the format chosen. */
#ifndef PEA_IMPORT_H
#define PEA_IMPORT_H

#include "frame.h"
#include "input.h"

/* The type every tool expects for a conventional field (label: string,
 * features: sparse, ...), or 0 for a name with no convention.  Importers
 * convert values of these fields to their type. */
int field_conventional_type(const char *name, size_t len);
/* Parse a type name ("string", "int", "float", "dense", ...) */
int pea_type_parse(const char *s);

struct csv_header;
/* Length of the first CSV (quoted) or TSV record of p, through its newline,
 * or 0 if it is not complete yet (at eof the rest counts as complete). */
size_t csv_record_end(const uint8_t *p, size_t n, int quoted, int eof);
struct csv_header *csv_header_parse(const char *p, size_t n, int quoted,
				    const struct in_opts *o, struct pea_err *e);
void csv_header_free(struct csv_header *h);

/* State shared by the line importers of one thread. */
struct importer;
struct importer *importer_new(const struct in_opts *o);
void importer_free(struct importer *im);
/* Import one line (without its newline) of format `fmt` into fb.
 * Returns 0 when a record was added, 2 when the line holds no record (a
 * blank JSON line), 1 when a field would change type inside the frame (fb
 * is untouched: encode it and call again), -1 on error (message in e).
 * *repaired counts UTF-8 repairs. */
int import_line(struct importer *im, enum in_format fmt, const struct csv_header *csv,
		const char *line, size_t n, pea_fb *fb, uint64_t *repaired, struct pea_err *e);

#endif
