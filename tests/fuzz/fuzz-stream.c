/* fuzz-stream - the stream reader on arbitrary bytes: headers, checksums
 * (the fuzzer cannot forge XXH3, so a second pass skips the checksum and
 * feeds the payload straight to the parser), every value, and the JSON view
 * of what parsed. */
#include "export.h"
#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(pea_frame *f)
{
	struct buf out = BUF_INIT;
	export_json(f, &out);
	for (uint32_t r = 0; r < frame_nrec(f); r++) {
		uint32_t n;
		const pea_val *v = frame_vals(f, r, &n);
		for (uint32_t i = 0; i < n; i++) {
			struct val_iter it;
			if (v[i].type == PEA_STRLIST || v[i].type == PEA_MAP || v[i].type == PEA_INTS) {
				val_iter_init(&it, &v[i]);
				while (val_iter_next(&it))
					;
			}
		}
	}
	buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static pea_frame *f;
	static ZSTD_DCtx *d;
	struct pea_err e;
	if (!f) {
		f = frame_new();
		d = ZSTD_createDCtx();
	}
	/* as a stream: frames one after another */
	size_t off = 0;
	while (size - off >= PEA_HDR_LEN) {
		struct pea_hdr h;
		if (hdr_parse(data + off, &h, &e) || size - off - PEA_HDR_LEN < h.stored)
			break;
		if (frame_load(f, &h, data + off, data + off + PEA_HDR_LEN, d, &e) == 0)
			walk(f);
		off += PEA_HDR_LEN + h.stored;
	}
	/* as a payload: the parser behind the checksum */
	if (size >= 4) {
		uint32_t nrec = data[0] | (uint32_t)data[1] << 8;
		struct buf *raw = frame_rawbuf(f);
		buf_reset(raw);
		buf_add(raw, data + 2, size - 2);
		if (frame_parse(f, nrec, &e) == 0)
			walk(f);
	}
	return 0;
}
