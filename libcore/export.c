/* export.c - see export.h.  JSON writing is hand-rolled (it is the hot path
 * of looking at records and a few lines long); reading JSON uses json-c. */
#include "export.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

/* 1 for bytes a JSON string must escape */
static const uint8_t json_esc[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
};

void json_quote(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	/* worst case: every byte becomes \u00XX */
	uint8_t *d = buf_grow(out, 6 * n + 2), *d0 = d;
	const uint8_t *p = (const uint8_t *)s, *e = p + n;
	*d++ = '"';
	while (p < e) {
		const uint8_t *run = p;
		while (p < e && !json_esc[*p])
			p++;
		memcpy(d, run, (size_t)(p - run));
		d += p - run;
		if (p == e)
			break;
		uint8_t c = *p++;
		*d++ = '\\';
		switch (c) {
		case '"': *d++ = '"'; break;
		case '\\': *d++ = '\\'; break;
		case '\n': *d++ = 'n'; break;
		case '\t': *d++ = 't'; break;
		case '\r': *d++ = 'r'; break;
		case '\b': *d++ = 'b'; break;
		case '\f': *d++ = 'f'; break;
		default:
			*d++ = 'u';
			*d++ = '0';
			*d++ = '0';
			*d++ = hex[c >> 4];
			*d++ = hex[c & 15];
		}
	}
	*d++ = '"';
	out->len += (size_t)(d - d0);
}

/* A float always shows a point or an exponent, so that reading the JSON
 * back gives a float again, not an int. */
static void add_number(struct buf *out, const char *s)
{
	buf_adds(out, s);
	if (!strpbrk(s, ".e"))
		buf_adds(out, ".0");
}

void fmt_f64(struct buf *out, double d)
{
	char s[40];
	if (!isfinite(d)) {
		buf_adds(out, "null");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(s, sizeof s, "%.*g", prec, d);
		if (strtod(s, NULL) == d)
			break;
	}
	add_number(out, s);
}

/* the shortest %g text that reads back as x */
static void shortest_f32(char s[40], float x)
{
	for (int prec = 6; prec <= 9; prec++) {
		snprintf(s, 40, "%.*g", prec, (double)x);
		if (strtof(s, NULL) == x)
			break;
	}
}

void fmt_f32(struct buf *out, float x)
{
	char s[40];
	if (!isfinite(x)) {
		buf_adds(out, "null");
		return;
	}
	shortest_f32(s, x);
	add_number(out, s);
}

void export_json_value(const pea_frame *f, const pea_val *v, struct buf *out)
{
	(void)f;
	struct val_iter it;
	switch (v->type) {
	case PEA_STR: json_quote(out, val_str(v), v->n); break;
	case PEA_JSON: buf_add(out, v->p, v->n); break;
	case PEA_BYTES: {
		size_t bl = sodium_base64_encoded_len(v->n, sodium_base64_VARIANT_ORIGINAL);
		buf_adds(out, "{\"base64\":\"");
		char *d = (char *)buf_grow(out, bl);
		sodium_bin2base64(d, bl, v->p, v->n, sodium_base64_VARIANT_ORIGINAL);
		out->len += bl - 1;
		buf_adds(out, "\"}");
		break;
	}
	case PEA_INT: buf_addf(out, "%lld", (long long)v->x.i); break;
	case PEA_FLOAT: fmt_f64(out, v->x.d); break;
	case PEA_BOOL: buf_adds(out, v->x.i ? "true" : "false"); break;
	case PEA_STRLIST:
	case PEA_INTS:
		buf_addc(out, '[');
		val_iter_init(&it, v);
		for (uint32_t i = 0; val_iter_next(&it); i++) {
			if (i)
				buf_addc(out, ',');
			if (v->type == PEA_INTS)
				buf_addf(out, "%lld", (long long)it.i);
			else
				json_quote(out, it.s, it.len);
		}
		buf_addc(out, ']');
		break;
	case PEA_MAP:
		buf_addc(out, '{');
		val_iter_init(&it, v);
		for (uint32_t i = 0; val_iter_next(&it); i++) {
			if (i)
				buf_addc(out, ',');
			json_quote(out, it.s, it.len);
			buf_addc(out, ':');
			fmt_f64(out, it.d);
		}
		buf_addc(out, '}');
		break;
	case PEA_SPARSE: {
		const uint32_t *idx = val_idx(v);
		const float *val = val_fval(v);
		buf_addc(out, '{');
		for (uint32_t i = 0; i < v->n; i++) {
			buf_addf(out, "%s\"%u\":", i ? "," : "", idx[i]);
			fmt_f32(out, val[i]);
		}
		buf_addc(out, '}');
		break;
	}
	case PEA_DENSE: {
		const float *val = val_fval(v);
		buf_addc(out, '[');
		for (uint32_t i = 0; i < v->n; i++) {
			if (i)
				buf_addc(out, ',');
			fmt_f32(out, val[i]);
		}
		buf_addc(out, ']');
		break;
	}
	}
}

void export_json(const pea_frame *f, struct buf *out)
{
	for (uint32_t r = 0; r < frame_nrec(f); r++) {
		uint32_t n;
		const pea_val *v = frame_vals(f, r, &n);
		buf_addc(out, '{');
		for (uint32_t i = 0; i < n; i++) {
			const struct pea_fdef *d = frame_fdef(f, v[i].field);
			if (i)
				buf_addc(out, ',');
			json_quote(out, d->name, d->len);
			buf_addc(out, ':');
			export_json_value(f, &v[i], out);
		}
		buf_adds(out, "}\n");
	}
}

/* TSV cell text: tab, newline, carriage return and backslash escaped */
static void tsv_escape(struct buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		switch (c) {
		case '\t': buf_add(out, "\\t", 2); break;
		case '\n': buf_add(out, "\\n", 2); break;
		case '\r': buf_add(out, "\\r", 2); break;
		case '\\': buf_add(out, "\\\\", 2); break;
		default: buf_addc(out, (uint8_t)c);
		}
	}
}

static void export_tsv(const struct export_opts *o, const pea_frame *f, struct buf *out, struct buf *tmp)
{
	int ids[256];
	int nf = o->fields.n < 256 ? o->fields.n : 256;
	for (int k = 0; k < nf; k++)
		ids[k] = frame_field(f, o->fields.v[k]);
	for (uint32_t r = 0; r < frame_nrec(f); r++) {
		for (int k = 0; k < nf; k++) {
			if (k)
				buf_addc(out, '\t');
			const pea_val *v = frame_get(f, r, ids[k]);
			if (!v)
				continue;
			if (v->type == PEA_STR) {
				tsv_escape(out, val_str(v), v->n);
			} else {
				buf_reset(tmp);
				export_json_value(f, v, tmp);
				tsv_escape(out, (const char *)tmp->p, tmp->len);
			}
		}
		buf_addc(out, '\n');
	}
}

/* fastText's text is one line of space-separated words */
static void ft_text(struct buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		buf_addc(out, (uint8_t)(c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f' ? ' ' : c));
	}
}

static int export_fasttext(const struct export_opts *o, const pea_frame *f, struct buf *out,
			   uint32_t *bad, struct pea_err *e)
{
	int fl = frame_field(f, "label"), fls = frame_field(f, "labels");
	int ftok = frame_field(f, "tokens"), ftxt = frame_field(f, o->text_field ? o->text_field : "text");
	struct val_iter it;
	for (uint32_t r = 0; r < frame_nrec(f); r++) {
		const pea_val *l = frame_get(f, r, fl), *ls = frame_get(f, r, fls);
		const pea_val *tk = frame_get(f, r, ftok), *tx = frame_get(f, r, ftxt);
		int wrote = 0;
		if (l && l->type == PEA_STR) {
			buf_adds(out, "__label__");
			ft_text(out, val_str(l), l->n);
			wrote = 1;
		}
		if (ls && ls->type == PEA_STRLIST) {
			val_iter_init(&it, ls);
			while (val_iter_next(&it)) {
				buf_adds(out, wrote ? " __label__" : "__label__");
				ft_text(out, it.s, it.len);
				wrote = 1;
			}
		}
		if (tk && tk->type == PEA_STRLIST) {
			val_iter_init(&it, tk);
			while (val_iter_next(&it)) {
				if (wrote)
					buf_addc(out, ' ');
				ft_text(out, it.s, it.len);
				wrote = 1;
			}
		} else if (tx && tx->type == PEA_STR) {
			if (wrote)
				buf_addc(out, ' ');
			ft_text(out, val_str(tx), tx->n);
		} else {
			*bad = r;
			err_set(e, "no 'tokens' or '%s' to write as fastText", o->text_field ? o->text_field : "text");
			return -1;
		}
		buf_addc(out, '\n');
	}
	return 0;
}

static int export_svmlight(const struct export_opts *o, const pea_frame *f, struct buf *out,
			   uint32_t *bad, struct pea_err *e)
{
	int fl = frame_field(f, "label"), ff = frame_field(f, "features");
	for (uint32_t r = 0; r < frame_nrec(f); r++) {
		const pea_val *l = frame_get(f, r, fl), *x = frame_get(f, r, ff);
		*bad = r;
		if (!x || x->type != PEA_SPARSE) {
			err_set(e, "no sparse 'features' field");
			return -1;
		}
		if (!l || l->type != PEA_STR) {
			err_set(e, "no string 'label' field");
			return -1;
		}
		if (o->labels.n) {
			int k;
			for (k = 0; k < o->labels.n; k++)
				if (strlen(o->labels.v[k]) == l->n && !memcmp(o->labels.v[k], val_str(l), l->n))
					break;
			if (k == o->labels.n) {
				err_set(e, "label '%.*s' is not in --labels", (int)l->n, val_str(l));
				return -1;
			}
			buf_addf(out, "%d", k);
		} else {
			char tmp[64];
			double d;
			if (l->n >= sizeof tmp || (memcpy(tmp, val_str(l), l->n), tmp[l->n] = 0, parse_f64(tmp, &d))) {
				err_set(e, "label '%.*s' is not a number: name the labels with --labels A,B,...",
					(int)(l->n > 40 ? 40 : l->n), val_str(l));
				return -1;
			}
			buf_add(out, tmp, l->n);
		}
		const uint32_t *idx = val_idx(x);
		const float *val = val_fval(x);
		for (uint32_t i = 0; i < x->n; i++) {
			char num[40];
			/* svmlight is not JSON: integers stay integers */
			shortest_f32(num, val[i]);
			buf_addf(out, " %llu:%s", (unsigned long long)idx[i] + (o->zero_based ? 0 : 1), num);
		}
		buf_addc(out, '\n');
	}
	return 0;
}

int export_frame(const struct export_opts *o, const pea_frame *f, struct buf *out, uint32_t *rec,
		 struct pea_err *e)
{
	struct buf tmp = BUF_INIT;
	int r = 0;
	switch (o->fmt) {
	case EX_JSON: export_json(f, out); break;
	case EX_TSV: export_tsv(o, f, out, &tmp); break;
	case EX_FASTTEXT: r = export_fasttext(o, f, out, rec, e); break;
	case EX_SVMLIGHT: r = export_svmlight(o, f, out, rec, e); break;
	}
	buf_release(&tmp);
	return r;
}
