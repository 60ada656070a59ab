/* model.c - see model.h.
 *
 * Layout (all integers little-endian):
 *   0   magic "\xffPEAMDL\xfe"
 *   8   u32 version, u32 section count, 16 zero bytes
 *   32  section table: per section a 16-byte NUL-padded name, u64 offset,
 *       u64 size
 *   ... sections, each at an offset that is a multiple of 64, zero padding
 *   end trailer: "\xfePEAEND\xff" then the XXH3-128 digest (16 bytes, high
 *       half first) of every byte before the trailer */
#include "model.h"
#include "afile.h"
#include "hash.h"
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRAILER_MAGIC "\xfePEAEND\xff"
#define HDR 32
#define ENTRY 32
#define TRAILER 24

struct section {
	char name[16];
	uint8_t *p;
	size_t n;
};

struct model_writer {
	struct section *s;
	int n;
};

struct model_writer *mw_new(void)
{
	return xcalloc(1, sizeof(struct model_writer));
}

void mw_free(struct model_writer *w)
{
	if (!w)
		return;
	for (int i = 0; i < w->n; i++)
		free(w->s[i].p);
	free(w->s);
	free(w);
}

static struct section *mw_section(struct model_writer *w, const char *name)
{
	size_t len = strlen(name);
	if (len < 1 || len > 15)
		die("internal error: model section name '%s'", name);
	for (int i = 0; i < w->n; i++)
		if (!strcmp(w->s[i].name, name))
			die("internal error: model section '%s' twice", name);
	if (w->n == MODEL_MAX_SECTIONS)
		die("internal error: too many model sections");
	w->s = xrealloc(w->s, (size_t)(w->n + 1) * sizeof *w->s);
	struct section *s = &w->s[w->n++];
	memset(s->name, 0, sizeof s->name);
	memcpy(s->name, name, len);
	return s;
}

void mw_add(struct model_writer *w, const char *name, const void *p, size_t n)
{
	struct section *s = mw_section(w, name);
	s->p = xmalloc(n);
	if (n)
		memcpy(s->p, p, n);
	s->n = n;
}

void mw_add_owned(struct model_writer *w, const char *name, void *p, size_t n)
{
	struct section *s = mw_section(w, name);
	s->p = p;
	s->n = n;
}

static size_t align_up(size_t x)
{
	return (x + MODEL_ALIGN - 1) & ~(size_t)(MODEL_ALIGN - 1);
}

/* The header and section table; offs[i] gets section i's offset, and the
 * return value is where the trailer starts. */
static size_t mw_head(const struct model_writer *w, uint8_t *head, size_t *offs)
{
	size_t off = align_up(HDR + (size_t)w->n * ENTRY);
	memset(head, 0, off);
	memcpy(head, MODEL_MAGIC, 8);
	put_le32(head + 8, MODEL_VERSION);
	put_le32(head + 12, (uint32_t)w->n);
	for (int i = 0; i < w->n; i++) {
		uint8_t *e = head + HDR + (size_t)i * ENTRY;
		offs[i] = off;
		memcpy(e, w->s[i].name, 16);
		put_le64(e + 16, off);
		put_le64(e + 24, w->s[i].n);
		off = align_up(off + w->s[i].n);
	}
	return off;
}

void mw_bytes(struct model_writer *w, uint8_t **out, size_t *outn)
{
	size_t *offs = xcalloc((size_t)w->n + 1, sizeof *offs);
	uint8_t *head = xmalloc(align_up(HDR + (size_t)w->n * ENTRY));
	size_t off = mw_head(w, head, offs), total = off + TRAILER;
	uint8_t *p = xcalloc(total, 1);
	memcpy(p, head, align_up(HDR + (size_t)w->n * ENTRY));
	for (int i = 0; i < w->n; i++)
		if (w->s[i].n)
			memcpy(p + offs[i], w->s[i].p, w->s[i].n);
	memcpy(p + off, TRAILER_MAGIC, 8);
	XXH128_hash_t h = XXH3_128bits(p, off + 8);
	put_le64(p + off + 8, h.high64);
	put_le64(p + off + 16, h.low64);
	free(offs);
	free(head);
	*out = p;
	*outn = total;
}

int mw_nsections(const struct model_writer *w)
{
	return w->n;
}

void mw_section_at(const struct model_writer *w, int i, const char **name, const void **p, size_t *n)
{
	*name = w->s[i].name;
	*p = w->s[i].p;
	*n = w->s[i].n;
}

/* bytes to the file and to the digest at once, so a model as large as
 * memory allows is never held twice */
static void mw_put(struct afile *af, XXH3_state_t *st, const void *p, size_t n)
{
	afile_write(af, p, n);
	XXH3_128bits_update(st, p, n);
}

void mw_write(struct model_writer *w, const char *path)
{
	static const uint8_t zero[MODEL_ALIGN];
	int signed_already = 0;
	for (int i = 0; i < w->n; i++)
		signed_already |= !strcmp(w->s[i].name, SIGN_SECTION);
	if (sign_default_key() && !signed_already)
		sign_writer(w, sign_default_key());
	size_t hn = align_up(HDR + (size_t)w->n * ENTRY);
	size_t *offs = xcalloc((size_t)w->n + 1, sizeof *offs);
	uint8_t *head = xmalloc(hn);
	size_t end = mw_head(w, head, offs), at = hn;
	XXH3_state_t *st = XXH3_createState();
	if (!st)
		die("out of memory (a digest state)");
	XXH3_128bits_reset(st);
	struct afile af;
	afile_open(&af, path, 0644);
	mw_put(&af, st, head, hn);
	for (int i = 0; i < w->n; i++) {
		mw_put(&af, st, zero, offs[i] - at);
		mw_put(&af, st, w->s[i].p, w->s[i].n);
		at = offs[i] + w->s[i].n;
	}
	mw_put(&af, st, zero, end - at);
	mw_put(&af, st, TRAILER_MAGIC, 8);
	XXH128_hash_t h = XXH3_128bits_digest(st);
	uint8_t tail[16];
	put_le64(tail, h.high64);
	put_le64(tail + 8, h.low64);
	afile_write(&af, tail, 16);
	afile_commit(&af);
	XXH3_freeState(st);
	free(offs);
	free(head);
}

struct model {
	const uint8_t *p;
	size_t n;
	int mapped, owned; /* p is an mmap, or malloc'd (even for 0 bytes) */
	int nsec;
	struct section *s;
	char digest[33];
};

static int parse(struct model *m, struct pea_err *e)
{
	const uint8_t *p = m->p;
	size_t n = m->n;
	if (n < HDR + TRAILER || memcmp(p, MODEL_MAGIC, 8)) {
		err_set(e, n >= 8 && !memcmp(p, MODEL_MAGIC, 8) ? "truncated model file" : "not a pea model file");
		return -1;
	}
	if (le32(p + 8) != MODEL_VERSION) {
		err_set(e, "unsupported model version %u", le32(p + 8));
		return -1;
	}
	size_t body = n - TRAILER;
	if (memcmp(p + body, TRAILER_MAGIC, 8)) {
		err_set(e, "truncated or damaged model file (no trailer)");
		return -1;
	}
	XXH128_hash_t h = XXH3_128bits(p, body + 8);
	if (le64(p + body + 8) != h.high64 || le64(p + body + 16) != h.low64) {
		err_set(e, "model digest mismatch: the file is damaged");
		return -1;
	}
	snprintf(m->digest, sizeof m->digest, "%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
	uint32_t ns = le32(p + 12);
	if (ns > MODEL_MAX_SECTIONS || HDR + (size_t)ns * ENTRY > body) {
		err_set(e, "bad section count %u", ns);
		return -1;
	}
	m->s = xcalloc(ns ? ns : 1, sizeof *m->s);
	for (uint32_t i = 0; i < ns; i++) {
		const uint8_t *en = p + HDR + (size_t)i * ENTRY;
		uint64_t off = le64(en + 16), sz = le64(en + 24);
		memcpy(m->s[i].name, en, 16);
		if (!m->s[i].name[0] || m->s[i].name[15]) {
			err_set(e, "section %u has a bad name", i);
			return -1;
		}
		if (off % MODEL_ALIGN || off > body || sz > body - off) {
			err_set(e, "section '%s' lies outside the file", m->s[i].name);
			return -1;
		}
		m->s[i].p = (uint8_t *)(p + off);
		m->s[i].n = (size_t)sz;
	}
	m->nsec = (int)ns;
	return 0;
}

struct model *model_open(const char *path, struct pea_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(e, "%s", strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_set(e, "not a regular file");
		close(fd);
		return NULL;
	}
	struct model *m = xcalloc(1, sizeof *m);
	m->n = (size_t)st.st_size;
	if (m->n) {
		void *p = mmap(NULL, m->n, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			err_set(e, "cannot map the file: %s", strerror(errno));
			close(fd);
			free(m);
			return NULL;
		}
		m->p = p;
		m->mapped = 1;
	} else {
		m->p = (const uint8_t *)"";
	}
	close(fd);
	if (parse(m, e)) {
		model_close(m);
		return NULL;
	}
	return m;
}

struct model *model_from_bytes(const void *p, size_t n, struct pea_err *e)
{
	struct model *m = xcalloc(1, sizeof *m);
	/* copy into 64-aligned memory so sections keep their alignment */
	uint8_t *c = aligned_alloc(MODEL_ALIGN, align_up(n ? n : 1));
	if (!c)
		die("out of memory (allocating %zu bytes)", n);
	memcpy(c, p, n);
	m->p = c;
	m->n = n;
	m->owned = 1;
	if (parse(m, e)) {
		model_close(m);
		return NULL;
	}
	return m;
}

void model_close(struct model *m)
{
	if (!m)
		return;
	if (m->mapped)
		munmap((void *)m->p, m->n);
	else if (m->owned)
		free((void *)m->p);
	free(m->s);
	free(m);
}

const void *model_section(const struct model *m, const char *name, size_t *n)
{
	for (int i = 0; i < m->nsec; i++)
		if (!strcmp(m->s[i].name, name)) {
			if (n)
				*n = m->s[i].n;
			return m->s[i].p;
		}
	return NULL;
}

int model_nsections(const struct model *m) { return m->nsec; }
const char *model_section_name(const struct model *m, int i) { return m->s[i].name; }
const char *model_digest(const struct model *m) { return m->digest; }

const void *model_bytes(const struct model *m, size_t *n)
{
	*n = m->n;
	return m->p;
}
