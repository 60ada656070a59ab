/* fuzz-import - the line importers (JSON Lines, CSV, TSV, fastText,
 * svmlight, text) on arbitrary bytes; whatever they accept must encode,
 * decode and print as JSON. */
#include "export.h"
#include "import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct in_opts o;
	static struct importer *im;
	static pea_fb *fb;
	static pea_frame *f;
	static struct csv_header *csv, *tsv;
	struct pea_err e;
	if (!im) {
		im = importer_new(&o);
		fb = fb_new();
		f = frame_new();
		csv = csv_header_parse("a,b,c\n", 6, 1, &o, &e);
		tsv = csv_header_parse("a\tb\n", 4, 0, &o, &e);
	}
	if (!size)
		return 0;
	static const enum in_format fmts[] = {IN_JSON, IN_CSV, IN_TSV, IN_FASTTEXT, IN_SVMLIGHT, IN_TEXT};
	enum in_format fmt = fmts[data[0] % 6];
	const char *p = (const char *)data + 1;
	size_t n = size - 1, pos = 0;
	uint64_t rep = 0;
	fb_reset(fb);
	while (pos < n) {
		size_t len = fmt == IN_CSV ? csv_record_end((const uint8_t *)p + pos, n - pos, 1, 1) : 0;
		if (fmt != IN_CSV) {
			const char *nl = memchr(p + pos, '\n', n - pos);
			len = nl ? (size_t)(nl - p) - pos + 1 : n - pos;
		}
		if (!len)
			break;
		size_t body = len;
		if (fmt != IN_CSV && p[pos + body - 1] == '\n')
			body--;
		int r = import_line(im, fmt, fmt == IN_CSV ? csv : tsv, p + pos, body, fb, &rep, &e);
		if (r < 0)
			break;
		if (r == 1) {
			fb_reset(fb);
			continue;
		}
		pos += len;
	}
	struct buf out = BUF_INIT;
	fb_to_frame(fb, f);
	export_json(f, &out);
	buf_release(&out);
	return 0;
}
