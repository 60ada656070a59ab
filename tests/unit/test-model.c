/* Unit tests of model.c: the container round trip and damage detection. */
#include "model.h"
#include "tap.h"

#include <stdlib.h>
#include <unistd.h>

int main(void)
{
	struct pea_err e = {{0}};
	struct model_writer *w = mw_new();
	float v[100];
	for (int i = 0; i < 100; i++)
		v[i] = (float)i * 0.5f;
	mw_add(w, "meta", "{\"kind\":\"test\"}", 15);
	mw_add(w, "weights", v, sizeof v);
	mw_add(w, "empty", NULL, 0);
	char path[] = "/tmp/pea-test-model.XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	mw_write(w, path);
	struct model *m = model_open(path, &e);
	ok(m != NULL, "a written model opens (%s)", e.msg);
	size_t n;
	const float *got = model_section(m, "weights", &n);
	ok(got && n == sizeof v && got[99] == 49.5f, "a section reads back in place");
	ok(((uintptr_t)got & 63) == 0, "sections are 64-byte aligned");
	ok(model_section(m, "empty", &n) && n == 0, "an empty section");
	ok(!model_section(m, "nope", &n), "an absent section is NULL");
	is_int(model_nsections(m), 3, "three sections");
	is_int(strlen(model_digest(m)), 32, "a 128-bit digest in hex");
	size_t len;
	const uint8_t *bytes = model_bytes(m, &len);
	uint8_t *mem;
	size_t memn;
	mw_bytes(w, &mem, &memn);
	ok(memn == len && !memcmp(mem, bytes, len), "the file written in a stream equals the bytes in memory");
	free(mem);
	uint8_t *copy = malloc(len);
	memcpy(copy, bytes, len);
	model_close(m);

	int detected = 0, total = 0;
	for (size_t i = 0; i < len; i += 7) {
		copy[i] ^= 0x10;
		struct model *x = model_from_bytes(copy, len, &e);
		detected += x == NULL;
		total++;
		model_close(x);
		copy[i] ^= 0x10;
	}
	is_int(detected, total, "every flipped byte is detected");
	struct model *x = model_from_bytes(copy, len - 1, &e);
	ok(!x && strstr(e.msg, "truncated"), "a truncated model is refused: %s", e.msg);
	x = model_from_bytes("hello, world, not a model at all, not at all", 44, &e);
	ok(!x && strstr(e.msg, "not a pea model"), "a stranger file is refused: %s", e.msg);
	free(copy);
	unlink(path);
	mw_free(w);
	return tap_done();
}
