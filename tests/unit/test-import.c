/* Unit tests of import.c and export.c: type rules, CSV quoting, svmlight,
 * fastText, and JSON written back as it was read. */
#include "export.h"
#include "import.h"
#include "tap.h"

static struct in_opts opts = {.text_field = "text"};

/* import lines of fmt into a frame; returns the number of records or -1 */
static int imp(enum in_format fmt, const struct csv_header *csv, const char *text, pea_frame *f,
	       struct pea_err *e)
{
	struct importer *im = importer_new(&opts);
	pea_fb *fb = fb_new();
	uint64_t rep = 0;
	const char *p = text;
	int r = 0;
	while (*p) {
		size_t n = fmt == IN_CSV ? csv_record_end((const uint8_t *)p, strlen(p), 1, 1)
					 : strcspn(p, "\n") + (p[strcspn(p, "\n")] ? 1 : 0);
		if (!n) {
			r = -1; /* an unterminated CSV quote */
			break;
		}
		size_t body = n;
		if (fmt != IN_CSV && body && p[body - 1] == '\n')
			body--;
		r = import_line(im, fmt, csv, p, body, fb, &rep, e);
		if (r < 0 || r == 1)
			break;
		p += n;
	}
	int k = r < 0 ? -1 : r == 1 ? -2 : (int)fb_nrec(fb);
	if (k >= 0)
		fb_to_frame(fb, f);
	fb_free(fb);
	importer_free(im);
	return k;
}

static const char *json_of(pea_frame *f, struct buf *b)
{
	buf_reset(b);
	export_json(f, b);
	if (b->len)
		b->len--; /* the newline */
	return buf_cstr(b);
}

int main(void)
{
	pea_frame *f = frame_new();
	struct pea_err e = {{0}};
	struct buf b = BUF_INIT;

	const char *line = "{\"s\":\"x\",\"i\":-3,\"d\":0.5,\"t\":false,\"l\":[\"a\"],\"n\":[1,2],"
			   "\"v\":[1.5,2],\"x\":{\"7\":1.0,\"2\":0.5},\"m\":{\"a\":1.0},\"z\":null,"
			   "\"o\":[{\"k\":1}],\"b\":{\"base64\":\"AAEC\"}}";
	is_int(imp(IN_JSON, NULL, line, f, &e), 1, "a JSON line imports");
	const char *want[][2] = {{"s", "string"}, {"i", "int"}, {"d", "float"}, {"t", "bool"},
				 {"l", "strlist"}, {"n", "ints"}, {"v", "dense"}, {"x", "sparse"},
				 {"m", "map"}, {"z", "json"}, {"o", "json"}, {"b", "bytes"}};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		int id = frame_field(f, want[i][0]);
		is_str(id >= 0 ? pea_type_name(frame_fdef(f, (uint32_t)id)->type) : "absent", want[i][1],
		       "JSON field %s becomes %s", want[i][0], want[i][1]);
	}
	is_str(json_of(f, &b),
	       "{\"s\":\"x\",\"i\":-3,\"d\":0.5,\"t\":false,\"l\":[\"a\"],\"n\":[1,2],\"v\":[1.5,2.0],"
	       "\"x\":{\"2\":0.5,\"7\":1.0},\"m\":{\"a\":1.0},\"z\":null,\"o\":[{\"k\":1}],\"b\":{\"base64\":\"AAEC\"}}",
	       "and exports back (sparse keys sorted)");

	is_int(imp(IN_JSON, NULL, "{\"label\":1,\"dense\":[1,2],\"features\":{},\"user\":42}", f, &e), 1,
	       "conventional fields convert");
	is_str(json_of(f, &b), "{\"label\":\"1\",\"dense\":[1.0,2.0],\"features\":{},\"user\":\"42\"}",
	       "label and user become strings, dense floats, {} a sparse vector");
	is_int(imp(IN_JSON, NULL, "{\"label\":[1]}", f, &e), -1, "an array label is refused");
	ok(strstr(e.msg, "label") != NULL, "naming the field: %s", e.msg);
	is_int(imp(IN_JSON, NULL, "{\"a\":1", f, &e), -1, "a cut JSON line is refused: %s", e.msg);
	is_int(imp(IN_JSON, NULL, "[1,2]", f, &e), -1, "a non-object line is refused");
	is_int(imp(IN_JSON, NULL, "{\"a\":\"\xff\"}", f, &e), -1, "invalid UTF-8 in JSON is refused");
	is_int(imp(IN_JSON, NULL, "{\"a\":1} x", f, &e), -1, "text after the object is refused");
	is_int(imp(IN_JSON, NULL, "{\"a\":\"\xed\xa0\x80\"}", f, &e), -1, "an encoded surrogate is refused");
	is_int(imp(IN_JSON, NULL, "{\"a\":{\"\xed\xb6\xb6\":[1]}}", f, &e), -1, "also deep inside a JSON value");
	is_int(imp(IN_JSON, NULL, "{\"a\":\"\\ud800\"}", f, &e), 1, "a lone surrogate escape");
	is_str(json_of(f, &b), "{\"a\":\"\xef\xbf\xbd\"}", "becomes U+FFFD");
	is_int(imp(IN_JSON, NULL, "{\"a\":1}\n{\"a\":\"s\"}", f, &e), -2, "a type change asks for a new frame");
	is_int(imp(IN_JSON, NULL, "\n  \n{\"a\":1}", f, &e), 1, "blank lines hold no record");
	is_int(imp(IN_JSON, NULL, "{\"a\":{\"0\":1,\"00\":2}}", f, &e), 1, "non-canonical keys");
	is_str(pea_type_name(frame_fdef(f, 0)->type), "map", "make a map, not a sparse vector");

	/* CSV */
	const char *hdr = "id,text,n,zip\r\n";
	struct csv_header *h = csv_header_parse(hdr, strlen(hdr), 1, &opts, &e);
	ok(h != NULL, "a CSV header parses");
	is_int(imp(IN_CSV, h, "1,\"a, \"\"quoted\"\"\nline\",2.5,02134\n2,,-3e2,x\n", f, &e), 2, "two CSV records (%s)", e.msg);
	is_str(json_of(f, &b),
	       "{\"id\":1,\"text\":\"a, \\\"quoted\\\"\\nline\",\"n\":2.5,\"zip\":\"02134\"}\n"
	       "{\"id\":2,\"text\":\"\",\"n\":-300.0,\"zip\":\"x\"}",
	       "quotes, newlines in quotes, numbers; 02134 stays a string");
	is_int(imp(IN_CSV, h, "1,a,2.5,1\n2,b,,2\n", f, &e), -2, "an empty cell in a number column asks for a new frame");
	is_int(imp(IN_CSV, h, "1,2\n", f, &e), -1, "a short row is refused: %s", e.msg);
	is_int(imp(IN_CSV, h, "1,\"open,3,4\n", f, &e), -1, "an unterminated quote is refused");
	csv_header_free(h);
	ok(csv_header_parse("a,a\n", 4, 1, &opts, &e) == NULL, "duplicate column names refused");
	ok(csv_record_end((const uint8_t *)"a,\"b\nc\"\nd", 9, 1, 0) == 8, "a CSV record may hold newlines in quotes");

	/* TSV escapes */
	h = csv_header_parse("a\tb\n", 4, 0, &opts, &e);
	is_int(imp(IN_TSV, h, "x\\ty\tz\\\\\n", f, &e), 1, "TSV row");
	is_str(json_of(f, &b), "{\"a\":\"x\\ty\",\"b\":\"z\\\\\"}", "TSV escapes decoded");
	csv_header_free(h);

	/* svmlight */
	is_int(imp(IN_SVMLIGHT, NULL, "+1 qid:3 1:0.5 10:2 # c\n-1 2:1\n# only a comment\n", f, &e), 2,
	       "svmlight lines");
	is_str(json_of(f, &b),
	       "{\"label\":\"+1\",\"features\":{\"0\":0.5,\"9\":2.0},\"qid\":3,\"comment\":\"c\"}\n"
	       "{\"label\":\"-1\",\"features\":{\"1\":1.0}}",
	       "svmlight: 1-based indices become 0-based");
	is_int(imp(IN_SVMLIGHT, NULL, "1 3:1 2:1", f, &e), -1, "decreasing indices refused");
	is_int(imp(IN_SVMLIGHT, NULL, "1 0:1", f, &e), -1, "index 0 refused without --zero-based");
	is_int(imp(IN_SVMLIGHT, NULL, "1 a:1", f, &e), -1, "junk index refused");

	/* fastText */
	is_int(imp(IN_FASTTEXT, NULL, "__label__spam buy now\n__label__a __label__b two labels\nno label\n", f, &e), 3,
	       "fastText lines");
	is_str(json_of(f, &b),
	       "{\"label\":\"spam\",\"text\":\"buy now\"}\n{\"labels\":[\"a\",\"b\"],\"text\":\"two labels\"}\n{\"text\":\"no label\"}",
	       "one label, several labels, none");

	/* text */
	is_int(imp(IN_TEXT, NULL, "one\r\n\ntwo", f, &e), 3, "text lines, the empty one too");
	is_int(imp(IN_TEXT, NULL, "bad \xff", f, &e), -1, "invalid UTF-8 text refused");
	opts.repair_utf8 = 1;
	is_int(imp(IN_TEXT, NULL, "bad \xff", f, &e), 1, "or repaired when asked");
	is_str(json_of(f, &b), "{\"text\":\"bad \xef\xbf\xbd\"}", "as U+FFFD");

	struct buf n = BUF_INIT;
	fmt_f64(&n, 0.1);
	buf_addc(&n, ' ');
	fmt_f64(&n, 3);
	buf_addc(&n, ' ');
	fmt_f32(&n, 0.1f);
	is_str(buf_cstr(&n), "0.1 3.0 0.1", "shortest numbers that read back");
	buf_release(&n);

	frame_free(f);
	buf_release(&b);
	return tap_done();
}
