/* sse.c - see sse.h.  Bytes are split into lines as they come (a line may
 * end in CR, LF or CRLF, and a CRLF may be split between two pieces); the
 * line being read and the event being built live in bounded buffers, so a
 * hostile stream costs at most max_event bytes of memory. */
#include "sse.h"
#include "util.h"

#include <string.h>

struct sse {
	size_t max;
	struct buf line, data, type, id;
	int skip;	/* the event outgrew max: drop it at its blank line */
	int line_long;	/* the line being read outgrew max */
	int after_cr;	/* the last byte was a CR: a following LF is part of it */
	int has_data;
	struct sse_stats st;
};

sse *sse_new(size_t max_event)
{
	sse *s = xcalloc(1, sizeof *s);
	s->max = max_event ? max_event : 1u << 20;
	buf_init(&s->line, s->max + 64);
	buf_init(&s->data, s->max + 1);
	buf_init(&s->type, 256);
	buf_init(&s->id, 1024);
	s->st.retry_ms = -1;
	return s;
}

void sse_free(sse *s)
{
	if (!s)
		return;
	buf_release(&s->line);
	buf_release(&s->data);
	buf_release(&s->type);
	buf_release(&s->id);
	free(s);
}

static void event_reset(sse *s)
{
	buf_reset(&s->data);
	buf_reset(&s->type);
	s->has_data = 0;
	s->skip = 0;
}

void sse_reset(sse *s)
{
	buf_reset(&s->line);
	event_reset(s);
	s->line_long = 0;
	s->after_cr = 0;
}

const struct sse_stats *sse_stats(const sse *s) { return &s->st; }

static int dispatch(sse *s, sse_fn fn, void *ctx)
{
	if (s->skip) {
		s->st.oversize++;
		event_reset(s);
		return 0;
	}
	if (!s->has_data) { /* no data line: nothing to dispatch */
		event_reset(s);
		return 0;
	}
	if (s->data.len && s->data.p[s->data.len - 1] == '\n')
		s->data.len--;
	struct sse_event ev = {s->type.len ? buf_cstr(&s->type) : "message", buf_cstr(&s->data), s->data.len,
			       buf_cstr(&s->id)};
	s->st.events++;
	int r = fn(ctx, &ev);
	event_reset(s);
	return r;
}

static void field(sse *s, const char *name, size_t nl, const char *v, size_t vl)
{
	if (nl == 4 && !memcmp(name, "data", 4)) {
		s->has_data = 1;
		if (s->skip || buf_reserve(&s->data, vl + 2) || s->data.len + vl + 1 > s->max) {
			s->skip = 1;
			return;
		}
		buf_add(&s->data, v, vl);
		buf_addc(&s->data, '\n');
	} else if (nl == 5 && !memcmp(name, "event", 5)) {
		buf_reset(&s->type);
		if (!buf_reserve(&s->type, vl + 1))
			buf_add(&s->type, v, vl);
		else
			s->skip = 1;
	} else if (nl == 2 && !memcmp(name, "id", 2)) {
		if (!memchr(v, 0, vl) && vl < 1000) {
			buf_reset(&s->id);
			buf_add(&s->id, v, vl);
		}
	} else if (nl == 5 && !memcmp(name, "retry", 5)) {
		int64_t ms = 0;
		size_t i = 0;
		for (; i < vl && v[i] >= '0' && v[i] <= '9' && ms < (1ll << 40); i++)
			ms = ms * 10 + (v[i] - '0');
		if (i == vl && vl)
			s->st.retry_ms = ms;
	}
}

static int line_done(sse *s, sse_fn fn, void *ctx)
{
	const char *p = s->line.p ? (const char *)s->line.p : "";
	size_t n = s->line.len;
	int r = 0;
	if (s->line_long) {
		s->skip = 1; /* a line over the bound spoils its event */
	} else if (n == 0) {
		r = dispatch(s, fn, ctx);
	} else if (p[0] == ':') {
		s->st.comments++;
	} else {
		const char *c = memchr(p, ':', n);
		size_t nl = c ? (size_t)(c - p) : n;
		const char *v = c ? c + 1 : p + n;
		size_t vl = c ? n - nl - 1 : 0;
		if (vl && *v == ' ')
			v++, vl--;
		field(s, p, nl, v, vl);
	}
	buf_reset(&s->line);
	s->line_long = 0;
	return r;
}

int sse_feed(sse *s, const uint8_t *p, size_t n, sse_fn fn, void *ctx)
{
	size_t i = 0;
	while (i < n) {
		if (s->after_cr) {
			s->after_cr = 0;
			if (p[i] == '\n') {
				i++;
				continue;
			}
		}
		const uint8_t *e = p + i;
		size_t k = 0;
		while (i + k < n && e[k] != '\n' && e[k] != '\r')
			k++;
		if (!s->line_long) {
			if (buf_reserve(&s->line, k + 1) == 0)
				buf_add(&s->line, e, k);
			else
				s->line_long = 1;
		}
		i += k;
		if (i == n)
			break;
		s->after_cr = p[i] == '\r';
		i++;
		int r = line_done(s, fn, ctx);
		if (r)
			return r;
	}
	return 0;
}
