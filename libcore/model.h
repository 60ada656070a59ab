/* model.h - the one container of every pea model file.
 *
 * A model file is a small header, a table of named sections and the
 * sections themselves, each 64-byte aligned so that arrays of floats can be
 * used in place from an mmap; a trailer holds a digest of everything before
 * it, checked on every load, so a flipped bit is an error and never a wrong
 * prediction.  Section "meta" is JSON (the kind, algorithm, labels, feature
 * space, the settings the model was trained with) and is what --show prints;
 * the rest is binary and belongs to the algorithm that wrote it.
 *
 * Files are written atomically (afile.h): a reader sees the old model or the
 * new one, never a mixture.  The layout is in man/pea-format.5. */
#ifndef PEA_MODEL_H
#define PEA_MODEL_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>

#define MODEL_MAGIC "\xffPEAMDL\xfe"
#define MODEL_VERSION 1
#define MODEL_ALIGN 64
#define MODEL_MAX_SECTIONS 1024

/* ---- writing ---- */
struct model_writer;
struct model_writer *mw_new(void);
/* Add a section (copied).  Names are 1..15 bytes, unique in a file. */
void mw_add(struct model_writer *w, const char *name, const void *p, size_t n);
/* Add a section without copying: the writer frees p (malloc'd) itself. */
void mw_add_owned(struct model_writer *w, const char *name, void *p, size_t n);
/* the sections added so far, in order */
int mw_nsections(const struct model_writer *w);
void mw_section_at(const struct model_writer *w, int i, const char **name, const void **p, size_t *n);
/* Write the file atomically (mode 0644 minus umask), streaming the
 * sections out (no second copy in memory); dies on error.  When the process
 * was given a signing key (sign.h), the model is signed. */
void mw_write(struct model_writer *w, const char *path);
/* The whole file in memory (for tests, merging, MPI broadcast). */
void mw_bytes(struct model_writer *w, uint8_t **p, size_t *n);
void mw_free(struct model_writer *w);

/* ---- reading ---- */
struct model;
/* Map and verify a model file (magic, version, table, digest).  Returns NULL
 * with the reason in e, naming nothing but the problem: callers say which
 * file. */
struct model *model_open(const char *path, struct pea_err *e);
/* The same from bytes in memory (copied). */
struct model *model_from_bytes(const void *p, size_t n, struct pea_err *e);
void model_close(struct model *m);
/* A section by name, or NULL; *n gets its size.  The pointer is 64-byte
 * aligned and valid until model_close. */
const void *model_section(const struct model *m, const char *name, size_t *n);
/* Section names in file order, for --show and merging. */
int model_nsections(const struct model *m);
const char *model_section_name(const struct model *m, int i);
/* The digest the trailer holds (XXH3-128 as 32 hex digits). */
const char *model_digest(const struct model *m);
/* The raw file bytes (for copying, hashing, signing). */
const void *model_bytes(const struct model *m, size_t *n);

#endif
