/* Unit tests of util.c: varints, UTF-8, number parsing, buffers. */
#include "tap.h"
#include "util.h"

int main(void)
{
	uint8_t b[16];
	uint64_t v = 0;
	const uint64_t cases[] = {0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX, UINT64_MAX};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t n = vi_put(b, cases[i]);
		ok(vi_get(b, b + n, &v, 10) == n && v == cases[i], "varint round trip of %llu",
		   (unsigned long long)cases[i]);
	}
	is_int(vi_put(b, 300), 2, "300 takes two bytes");
	ok(b[0] == 0xac && b[1] == 0x02, "300 is ac 02 (LEB128)");
	ok(vi_get(b, b + 1, &v, 10) == 0, "a truncated varint is refused");
	uint8_t pad[5] = {0x83, 0x80, 0x80, 0x80, 0x00};
	ok(vi_get(pad, pad + 5, &v, 5) == 5 && v == 3, "a padded (non-minimal) varint reads");
	uint8_t longv[6] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
	ok(vi_get(longv, longv + 6, &v, 5) == 0, "a varint over its byte limit is refused");
	for (int64_t x = -3; x <= 3; x++)
		ok(zigzag_dec(zigzag_enc(x)) == x, "zigzag %lld", (long long)x);
	ok(zigzag_enc(-1) == 1 && zigzag_enc(1) == 2, "zigzag maps -1 to 1, 1 to 2");

	ok(utf8_valid((const uint8_t *)"plain ascii text, long enough for words", 39), "ASCII is UTF-8");
	ok(utf8_valid((const uint8_t *)"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80", 17), "2-, 3- and 4-byte sequences");
	ok(!utf8_valid((const uint8_t *)"\xc0\xaf", 2), "overlong slash refused");
	ok(!utf8_valid((const uint8_t *)"\xed\xa0\x80", 3), "surrogate refused");
	ok(!utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4), "above U+10FFFF refused");
	ok(!utf8_valid((const uint8_t *)"abc\xe6\x97", 5), "truncated sequence refused");
	ok(!utf8_valid((const uint8_t *)"\xff", 1), "0xff refused");
	struct buf r = BUF_INIT;
	size_t bad = utf8_repair(&r, (const uint8_t *)"a\xffz\xe6\x97", 5);
	is_int(bad, 2, "two repairs");
	is_str(buf_cstr(&r), "a\xef\xbf\xbdz\xef\xbf\xbd", "invalid bytes become U+FFFD");
	buf_release(&r);

	int64_t i;
	double d;
	uint64_t sz;
	int lo, hi;
	ok(parse_i64("-42", &i) == 0 && i == -42, "parse_i64");
	ok(parse_i64("4x", &i) < 0 && parse_i64("", &i) < 0, "parse_i64 refuses junk");
	ok(parse_f64("1e-3", &d) == 0 && d == 1e-3, "parse_f64");
	ok(parse_f64("nan", &d) < 0, "parse_f64 refuses NaN");
	ok(parse_size("64k", &sz) == 0 && sz == 65536, "parse_size 64k");
	ok(parse_size("2G", &sz) == 0 && sz == 2ull << 30, "parse_size 2G");
	ok(parse_size("-1", &sz) < 0 && parse_size("3X", &sz) < 0, "parse_size refuses junk");
	double du;
	ok(parse_duration("24h", &du) == 0 && du == 86400, "parse_duration 24h");
	ok(parse_duration("90", &du) == 0 && du == 90, "parse_duration: seconds by default");
	ok(parse_duration("1.5m", &du) == 0 && du == 90, "parse_duration 1.5m");
	ok(parse_duration("250ms", &du) == 0 && du == 0.25, "parse_duration 250ms");
	ok(parse_duration("7d", &du) == 0 && du == 7 * 86400, "parse_duration 7d");
	ok(parse_duration("0s", &du) < 0 && parse_duration("-3h", &du) < 0 && parse_duration("3 h", &du) < 0 &&
	   parse_duration("3w", &du) < 0 && parse_duration("", &du) < 0 && parse_duration("inf", &du) < 0 &&
	   parse_duration("1e400s", &du) < 0,
	   "parse_duration refuses zero, negatives, spaces, unknown units, infinities");
	ok(parse_range("1-3", &lo, &hi) == 0 && lo == 1 && hi == 3, "range 1-3");
	ok(parse_range("2", &lo, &hi) == 0 && lo == 2 && hi == 2, "range 2");
	ok(parse_range("3-1", &lo, &hi) < 0, "range 3-1 refused");

	struct buf bb;
	buf_init(&bb, 10);
	ok(buf_reserve(&bb, 10) == 0, "a bounded buffer takes its bound");
	ok(buf_reserve(&bb, 11) < 0, "and refuses more");
	buf_addf(&bb, "%d", 12345);
	is_str(buf_cstr(&bb), "12345", "buf_addf");
	buf_release(&bb);
	return tap_done();
}
