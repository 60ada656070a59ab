/* mkframe - writes single frames with one deliberate defect each, built from
 * the specification with a valid checksum, for the command-level tests of
 * bad input.  Usage: mkframe KIND > file.pea */
#include "frame.h"

#include <stdio.h>

static void emit(const uint8_t *payload, size_t n, uint32_t nrec)
{
	uint8_t h[PEA_HDR_LEN];
	memcpy(h, PEA_MAGIC, 8);
	h[8] = PEA_VERSION;
	h[9] = PEA_CODEC_NONE;
	h[10] = h[11] = 0;
	put_le32(h + 12, nrec);
	put_le32(h + 16, (uint32_t)n);
	put_le32(h + 20, (uint32_t)n);
	put_le64(h + 24, frame_checksum(h, payload, n));
	fwrite(h, 1, sizeof h, stdout);
	fwrite(payload, 1, n, stdout);
}

int main(int argc, char **argv)
{
	/* table: one string field "text" (7 bytes) + 1 pad byte */
	uint8_t p[64] = {1, PEA_STR, 4, 't', 'e', 'x', 't', 0};
	size_t n = 8;
	if (argc != 2)
		return 2;
	if (!strcmp(argv[1], "badutf8")) {
		const uint8_t rec[] = {1, 3, 'a', 0xff, 'b', 0};
		memcpy(p + n, rec, sizeof rec);
		emit(p, n + sizeof rec, 1);
	} else if (!strcmp(argv[1], "dupfield")) {
		const uint8_t rec[] = {1, 1, 'a', 1, 1, 'b', 0};
		memcpy(p + n, rec, sizeof rec);
		emit(p, n + sizeof rec, 1);
	} else if (!strcmp(argv[1], "overrun")) {
		const uint8_t rec[] = {1, 40, 'a', 'b', 0};
		memcpy(p + n, rec, sizeof rec);
		emit(p, n + sizeof rec, 1);
	} else if (!strcmp(argv[1], "badfield")) {
		const uint8_t rec[] = {5, 1, 'a', 0};
		memcpy(p + n, rec, sizeof rec);
		emit(p, n + sizeof rec, 1);
	} else if (!strcmp(argv[1], "unsorted")) {
		/* a sparse field with indices 5 then 2 */
		const uint8_t q[] = {1, PEA_SPARSE, 1, 'x', 0, 0, 0, 0,
				     1, 2, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x3f, 0};
		emit(q, sizeof q, 1);
	} else if (!strcmp(argv[1], "huge")) {
		uint8_t h[PEA_HDR_LEN] = {0};
		memcpy(h, PEA_MAGIC, 8);
		h[8] = PEA_VERSION;
		h[9] = PEA_CODEC_ZSTD;
		put_le32(h + 12, 1);
		put_le32(h + 16, 100);
		put_le32(h + 20, 0xfffffff0u);
		fwrite(h, 1, sizeof h, stdout);
	} else {
		return 2;
	}
	return 0;
}
