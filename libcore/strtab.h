/* strtab.h - a table of distinct strings, each with a small id in order of
 * first appearance: label names in training and evaluation.
 *
 * Open addressing on XXH3, so lookups cost one hash and usually one compare;
 * ids stay stable as the table grows, which lets callers keep arrays indexed
 * by them. */
#ifndef PEA_STRTAB_H
#define PEA_STRTAB_H

#include <stddef.h>
#include <stdint.h>

struct strtab;

struct strtab *st_new(void);
void st_free(struct strtab *t);
/* the id of s, adding it when new */
uint32_t st_intern(struct strtab *t, const char *s, size_t n);
/* the same with s's hash already computed (st_hash), for callers that hash
 * on many threads and intern on one */
uint32_t st_intern_h(struct strtab *t, const char *s, size_t n, uint64_t h);
uint64_t st_hash(const char *s, size_t n);
/* the id of s, or -1 */
int64_t st_find(const struct strtab *t, const char *s, size_t n);
uint32_t st_count(const struct strtab *t);
/* the string of an id, NUL-terminated, valid until st_free */
const char *st_name(const struct strtab *t, uint32_t id);
size_t st_len(const struct strtab *t, uint32_t id);

#endif
