/* charset.c - see charset.h.  iconv does the work; this file maps labels
 * and makes sure nothing invalid gets through (iconv stops at the first
 * bad byte, so conversion resumes after it with a U+FFFD). */
#include "charset.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *label, *name;
} labels[] = {
	{"utf-8", "UTF-8"}, {"utf8", "UTF-8"}, {"unicode-1-1-utf-8", "UTF-8"},
	/* WHATWG: these labels all mean windows-1252 */
	{"iso-8859-1", "WINDOWS-1252"}, {"iso8859-1", "WINDOWS-1252"}, {"latin1", "WINDOWS-1252"},
	{"latin-1", "WINDOWS-1252"}, {"l1", "WINDOWS-1252"}, {"us-ascii", "WINDOWS-1252"},
	{"ascii", "WINDOWS-1252"}, {"ansi_x3.4-1968", "WINDOWS-1252"}, {"windows-1252", "WINDOWS-1252"},
	{"cp1252", "WINDOWS-1252"}, {"x-cp1252", "WINDOWS-1252"}, {"iso_8859-1", "WINDOWS-1252"},
	{"cp819", "WINDOWS-1252"}, {"ibm819", "WINDOWS-1252"},
	{"iso-8859-15", "ISO-8859-15"}, {"latin9", "ISO-8859-15"}, {"iso-8859-2", "ISO-8859-2"},
	{"latin2", "ISO-8859-2"}, {"iso-8859-5", "ISO-8859-5"}, {"iso-8859-7", "ISO-8859-7"},
	{"iso-8859-9", "WINDOWS-1254"}, {"windows-1250", "WINDOWS-1250"}, {"windows-1251", "WINDOWS-1251"},
	{"windows-1253", "WINDOWS-1253"}, {"windows-1254", "WINDOWS-1254"}, {"windows-1255", "WINDOWS-1255"},
	{"windows-1256", "WINDOWS-1256"}, {"windows-1257", "WINDOWS-1257"}, {"koi8-r", "KOI8-R"},
	{"koi8-u", "KOI8-U"}, {"shift_jis", "SHIFT_JIS"}, {"sjis", "SHIFT_JIS"}, {"x-sjis", "SHIFT_JIS"},
	{"euc-jp", "EUC-JP"}, {"iso-2022-jp", "ISO-2022-JP"}, {"euc-kr", "EUC-KR"}, {"ks_c_5601-1987", "EUC-KR"},
	{"gb2312", "GB18030"}, {"gbk", "GB18030"}, {"gb18030", "GB18030"}, {"x-gbk", "GB18030"},
	{"big5", "BIG5-HKSCS"}, {"utf-16", "UTF-16"}, {"utf-16le", "UTF-16LE"}, {"utf-16be", "UTF-16BE"},
	{"tis-620", "WINDOWS-874"}, {"windows-874", "WINDOWS-874"}, {"iso-8859-8", "ISO-8859-8"},
	{"iso-8859-4", "ISO-8859-4"}, {"iso-8859-13", "ISO-8859-13"}, {"macintosh", "MACINTOSH"},
};

const char *cs_canon(const char *label, size_t n)
{
	char low[40];
	while (n && isspace((unsigned char)*label))
		label++, n--;
	while (n && (isspace((unsigned char)label[n - 1]) || label[n - 1] == '"' || label[n - 1] == '\''))
		n--;
	if (n && (*label == '"' || *label == '\''))
		label++, n--;
	if (!n || n >= sizeof low)
		return NULL;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)label[i]);
	low[n] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(labels); i++)
		if (!strcmp(low, labels[i].label))
			return labels[i].name;
	return NULL;
}

void cs_from_ctype(const char *ct, char *dst, size_t n)
{
	dst[0] = 0;
	if (!ct)
		return;
	const char *p = ct;
	while ((p = strchr(p, ';'))) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncasecmp(p, "charset=", 8)) {
			p += 8;
			if (*p == '"')
				p++;
			size_t l = strcspn(p, "\"; \t");
			if (l < n) {
				memcpy(dst, p, l);
				dst[l] = 0;
			}
			return;
		}
	}
}

long cs_to_utf8(const char *charset, const uint8_t *p, size_t n, struct buf *out)
{
	const char *name = charset ? cs_canon(charset, strlen(charset)) : NULL;
	if (!name) {
		/* unknown or undeclared: UTF-8 if it is, else the web's default */
		if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
			p += 3, n -= 3;
		name = utf8_valid(p, n) ? "UTF-8" : "WINDOWS-1252";
	}
	if (!strcmp(name, "UTF-8")) {
		if (buf_reserve(out, n + 1) < 0)
			return -1;
		size_t before = out->len;
		long bad = (long)utf8_repair(out, p, n);
		(void)before;
		return bad;
	}
	iconv_t cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1)
		return cs_to_utf8(NULL, p, n, out);
	long bad = 0;
	char *in = (char *)p;
	size_t left = n;
	while (left) {
		if (buf_reserve(out, left * 2 + 16) < 0 && buf_reserve(out, left + 16) < 0) {
			iconv_close(cd);
			return -1;
		}
		char *o = (char *)out->p + out->len;
		size_t room = out->cap - out->len - 1;
		size_t r = iconv(cd, &in, &left, &o, &room);
		out->len = (size_t)((uint8_t *)o - out->p);
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG)
			continue;
		/* EILSEQ or EINVAL (truncated at the end): one replacement */
		if (buf_reserve(out, 4) < 0) {
			iconv_close(cd);
			return -1;
		}
		buf_add(out, "\xef\xbf\xbd", 3);
		bad++;
		in++;
		left--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	iconv_close(cd);
	return bad;
}
