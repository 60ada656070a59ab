/* Unit tests of frame.c: the format as man/pea-format.5 specifies it. */
#include "frame.h"
#include "hash.h"
#include "tap.h"

static int load(pea_frame *f, const struct buf *b, struct pea_err *e)
{
	struct pea_hdr h;
	ZSTD_DCtx *d = ZSTD_createDCtx();
	int r = -1;
	if (b->len >= PEA_HDR_LEN && hdr_parse(b->p, &h, e) == 0) {
		if (b->len - PEA_HDR_LEN < h.stored)
			err_set(e, "short");
		else
			r = frame_load(f, &h, b->p, b->p + PEA_HDR_LEN, d, e);
	}
	ZSTD_freeDCtx(d);
	return r;
}

/* a frame written byte by byte from the specification, not by the writer */
static void spec_frame(struct buf *b)
{
	static const uint8_t payload[] = {
		0x02,				  /* two fields */
		0x01, 0x04, 't', 'e', 'x', 't',	  /* string "text" */
		0x07, 0x08, 'f', 'e', 'a', 't', 'u', 'r', 'e', 's', /* sparse "features" */
		0, 0, 0, 0, 0, 0, 0,		  /* pad the table (17 bytes) to 24 */
		/* record 1: text "hi", features {2: 0.5, 9: 1.0} */
		0x01, 0x02, 'h', 'i',
		0x02, 0x02, 0, 0,		  /* count 2, then pad to 4 */
		2, 0, 0, 0, 9, 0, 0, 0,		  /* indices */
		0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x80, 0x3f, /* 0.5f, 1.0f */
		0x00,				  /* end of record */
	};
	uint8_t h[PEA_HDR_LEN];
	memcpy(h, "\xff" "PEAFRM" "\xfe", 8);
	h[8] = 1;
	h[9] = 0;
	h[10] = h[11] = 0;
	put_le32(h + 12, 1);
	put_le32(h + 16, sizeof payload);
	put_le32(h + 20, sizeof payload);
	put_le64(h + 24, frame_checksum(h, payload, sizeof payload));
	buf_add(b, h, sizeof h);
	buf_add(b, payload, sizeof payload);
}

int main(void)
{
	struct pea_err e = {{0}};
	pea_frame *f = frame_new();
	struct buf b = BUF_INIT;

	spec_frame(&b);
	ok(load(f, &b, &e) == 0, "a frame made by hand from the spec decodes (%s)", e.msg);
	is_int(frame_nrec(f), 1, "one record");
	int ft = frame_field(f, "text"), ff = frame_field(f, "features");
	const pea_val *v = frame_get(f, 0, ft);
	ok(v && v->n == 2 && !memcmp(val_str(v), "hi", 2), "its text is hi");
	v = frame_get(f, 0, ff);
	ok(v && v->n == 2 && val_idx(v)[1] == 9 && val_fval(v)[0] == 0.5f, "its sparse vector reads in place");
	ok(((uintptr_t)val_idx(v) & 3) == 0, "vectors are 4-byte aligned");

	/* every type through the builder, compressed and not */
	for (int level = 0; level <= 3; level += 3) {
		pea_fb *fb = fb_new();
		ZSTD_CCtx *c = ZSTD_createCCtx();
		uint32_t idx[3] = {1, 5, 1000000};
		float val[3] = {1.5f, -2, 3};
		int64_t ints[3] = {-1, 0, 1LL << 40};
		for (int r = 0; r < 100; r++) {
			fb_begin(fb);
			fb_str(fb, fb_xfield(fb, "s", PEA_STR), "héllo", 6);
			fb_bytes(fb, fb_xfield(fb, "b", PEA_BYTES), "\0\1\2", 3);
			fb_int(fb, fb_xfield(fb, "i", PEA_INT), -r);
			fb_float(fb, fb_xfield(fb, "d", PEA_FLOAT), r * 0.25);
			fb_bool(fb, fb_xfield(fb, "t", PEA_BOOL), r & 1);
			fb_list_begin(fb, fb_xfield(fb, "l", PEA_STRLIST), PEA_STRLIST);
			for (int k = 0; k < r % 4; k++)
				fb_list_str(fb, "tok", 3);
			fb_list_end(fb);
			fb_sparse(fb, fb_xfield(fb, "x", PEA_SPARSE), idx, val, (uint32_t)(r % 4));
			fb_dense(fb, fb_xfield(fb, "v", PEA_DENSE), val, 3);
			fb_ints(fb, fb_xfield(fb, "n", PEA_INTS), ints, 3);
			fb_list_begin(fb, fb_xfield(fb, "m", PEA_MAP), PEA_MAP);
			fb_list_kv(fb, "spam", 4, 0.75);
			fb_list_end(fb);
			fb_json(fb, fb_xfield(fb, "j", PEA_JSON), "{\"a\":[1]}", 9);
			fb_end(fb);
		}
		buf_reset(&b);
		fb_encode(fb, level, c, &b);
		ok(load(f, &b, &e) == 0, "level %d: 100 records of every type decode (%s)", level, e.msg);
		is_int(frame_nrec(f), 100, "level %d: 100 records", level);
		const pea_val *x = frame_get(f, 3, frame_field(f, "x"));
		ok(x && x->n == 3 && val_idx(x)[2] == 1000000 && val_fval(x)[1] == -2, "sparse survives");
		const pea_val *l = frame_get(f, 7, frame_field(f, "l"));
		struct val_iter it;
		int k = 0;
		val_iter_init(&it, l);
		while (val_iter_next(&it))
			k += it.len == 3 && !memcmp(it.s, "tok", 3);
		is_int(k, 3, "list of 3 strings (padded count)");
		const pea_val *n = frame_get(f, 0, frame_field(f, "n"));
		int64_t got[3];
		k = 0;
		val_iter_init(&it, n);
		while (val_iter_next(&it))
			got[k++] = it.i;
		ok(k == 3 && got[0] == -1 && got[2] == 1LL << 40, "ints survive");
		const pea_val *m = frame_get(f, 0, frame_field(f, "m"));
		val_iter_init(&it, m);
		ok(val_iter_next(&it) && it.d == 0.75 && it.len == 4, "map survives");
		ok(frame_get(f, 99, frame_field(f, "i"))->x.i == -99, "int survives");
		ok(frame_get(f, 2, frame_field(f, "d"))->x.d == 0.5, "float survives");

		/* pass-through: copy every record into a new frame, shifted */
		pea_fb *fb2 = fb_new();
		int clashes = 0;
		for (uint32_t r = 0; r < frame_nrec(f); r++) {
			fb_begin(fb2);
			clashes += fb_copy_rec(fb2, f, r, NULL) != 0;
			fb_str(fb2, fb_xfield(fb2, "pre", PEA_STR), "xx", r % 3);
			fb_end(fb2);
		}
		is_int(clashes, 0, "records copy without a type clash");
		struct buf b2 = BUF_INIT;
		fb_encode(fb2, level, c, &b2);
		pea_frame *g = frame_new();
		ok(load(g, &b2, &e) == 0, "copied records decode (%s)", e.msg);
		x = frame_get(g, 3, frame_field(g, "x"));
		ok(x && val_idx(x)[2] == 1000000 && ((uintptr_t)val_idx(x) & 3) == 0,
		   "a copied vector is realigned");
		frame_free(g);
		buf_release(&b2);
		fb_free(fb2);

		/* corruption: every single-bit flip of the frame is detected */
		size_t detected = 0, total = 0;
		for (size_t i = 0; i < b.len; i++)
			for (int bit = 0; bit < 8; bit += 3) {
				b.p[i] ^= (uint8_t)(1 << bit);
				total++;
				detected += load(f, &b, &e) != 0;
				b.p[i] ^= (uint8_t)(1 << bit);
			}
		is_int(detected, total, "level %d: all %zu bit flips detected", level, total);
		buf_reset(&b);
		ZSTD_freeCCtx(c);
		fb_free(fb);
	}

	/* a field changing type inside one frame is refused by the builder */
	pea_fb *fb = fb_new();
	ok(fb_field(fb, "id", PEA_INT) >= 0 && fb_field(fb, "id", PEA_STR) < 0, "one type per name in a frame");
	fb_free(fb);

	/* hostile headers */
	struct pea_hdr h;
	uint8_t hb[PEA_HDR_LEN] = {0};
	memcpy(hb, PEA_MAGIC, 8);
	hb[8] = 1;
	put_le32(hb + 20, 0x7fffffff);
	put_le32(hb + 16, 0x7fffffff);
	ok(hdr_parse(hb, &h, &e) < 0 && strstr(e.msg, "limit"), "an absurd payload size is refused: %s", e.msg);
	hb[8] = 2;
	ok(hdr_parse(hb, &h, &e) < 0 && strstr(e.msg, "version"), "an unknown version is refused");
	hb[0] = 'x';
	ok(hdr_parse(hb, &h, &e) < 0 && strstr(e.msg, "magic"), "bad magic is refused");

	frame_free(f);
	buf_release(&b);
	return tap_done();
}
