/* masto.c - see masto.h.  Field names follow Mastodon's Status entity
 * (docs.joinmastodon.org/entities/Status); a reshare (reblog) keeps the
 * resharer as author and takes its text, tags and mentions from the post
 * reshared, which becomes one of its items. */
#include "masto.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#define MASTO_DEPTH 32

int masto_is_stream(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	return p && !strncmp(p, "/api/v1/streaming", 17) && (!p[17] || p[17] == '/' || p[17] == '?');
}

/* the value of query parameter k in url, decoded enough for tag names */
static int query_param(const char *url, const char *k, char *dst, size_t n)
{
	const char *q = strchr(url, '?');
	size_t kl = strlen(k);
	while (q) {
		q++;
		if (!strncmp(q, k, kl) && q[kl] == '=') {
			const char *v = q + kl + 1;
			size_t l = strcspn(v, "&#");
			if (!l || l >= n)
				return -1;
			memcpy(dst, v, l);
			dst[l] = 0;
			return 0;
		}
		q = strchr(q, '&');
	}
	return -1;
}

char *masto_timeline_url(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	if (!p || strncmp(p, "/api/v1/streaming", 17))
		return NULL;
	struct buf b = BUF_INIT;
	buf_add(&b, url, (size_t)(p - url));
	const char *s = p + 17;
	size_t sl = strcspn(s, "?#");
	char stream[64] = "", tag[256], list[64];
	if (sl > 1 && sl < sizeof stream) { /* /api/v1/streaming/public/local */
		memcpy(stream, s + 1, sl - 1);
		stream[sl - 1] = 0;
		for (char *c = stream; *c; c++)
			if (*c == '/')
				*c = ':';
	} else if (query_param(url, "stream", stream, sizeof stream)) {
		buf_release(&b);
		return NULL;
	}
	int ok = 1;
	if (!strcmp(stream, "public"))
		buf_adds(&b, "/api/v1/timelines/public?");
	else if (!strcmp(stream, "public:local"))
		buf_adds(&b, "/api/v1/timelines/public?local=true&");
	else if (!strcmp(stream, "public:remote"))
		buf_adds(&b, "/api/v1/timelines/public?remote=true&");
	else if (!strcmp(stream, "user"))
		buf_adds(&b, "/api/v1/timelines/home?");
	else if ((!strcmp(stream, "hashtag") || !strcmp(stream, "hashtag:local")) &&
		 !query_param(url, "tag", tag, sizeof tag) && !strpbrk(tag, "/?"))
		buf_addf(&b, "/api/v1/timelines/tag/%s?%s", tag, stream[7] ? "local=true&" : "");
	else if (!strcmp(stream, "list") && !query_param(url, "list", list, sizeof list) && !strpbrk(list, "/?"))
		buf_addf(&b, "/api/v1/timelines/list/%s?", list);
	else
		ok = 0;
	if (!ok) {
		buf_release(&b);
		return NULL;
	}
	char *r = xstrdup(buf_cstr(&b));
	buf_release(&b);
	return r;
}

static const char *jstr(json_object *o, const char *k, size_t *n)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	if (n)
		*n = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

static void set(struct buf *b, const char *s, size_t n)
{
	buf_reset(b);
	if (s)
		buf_add(b, s, n);
}

static int from_object(json_object *o, struct post *p, struct pea_err *e)
{
	size_t n;
	const char *s;
	if (!json_object_is_type(o, json_type_object)) {
		err_set(e, "a status is a JSON object");
		return -1;
	}
	post_reset(p);
	if (!(s = jstr(o, "id", &n)) || !n || n > 256) {
		err_set(e, "a status without an id");
		return -1;
	}
	set(&p->id, s, n);
	if ((s = jstr(o, "url", &n)) || (s = jstr(o, "uri", &n)))
		set(&p->url, s, n);
	json_object *acct;
	if (json_object_object_get_ex(o, "account", &acct) && (s = jstr(acct, "acct", &n)))
		set(&p->author, s, n);
	if ((s = jstr(o, "created_at", NULL)))
		p->time = post_time(s, NULL);
	if ((s = jstr(o, "edited_at", NULL))) {
		int ms;
		int64_t t = post_time(s, &ms);
		if (t != POST_NO_TIME)
			p->rev = t * 1000 + ms;
	}
	json_object *body = o, *rb;
	if (json_object_object_get_ex(o, "reblog", &rb) && json_object_is_type(rb, json_type_object)) {
		body = rb;
		if ((s = jstr(rb, "url", &n)) || (s = jstr(rb, "uri", &n)))
			set(&p->reshare, s, n);
	}
	if ((s = jstr(body, "spoiler_text", &n)))
		set(&p->title, s, n);
	if ((s = jstr(body, "content", &n)))
		set(&p->content, s, n);
	if ((s = jstr(body, "language", &n)))
		set(&p->lang, s, n);
	json_object *arr;
	if (json_object_object_get_ex(body, "tags", &arr) && json_object_is_type(arr, json_type_array))
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			if ((s = jstr(json_object_array_get_idx(arr, i), "name", &n)))
				post_tag(p, s, n);
	if (json_object_object_get_ex(body, "mentions", &arr) && json_object_is_type(arr, json_type_array))
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			if ((s = jstr(json_object_array_get_idx(arr, i), "acct", &n)))
				post_mention(p, s, n);
	return 0;
}

static json_object *parse(const char *json, size_t n, struct pea_err *e)
{
	if (n > (size_t)INT32_MAX) {
		err_set(e, "JSON too large");
		return NULL;
	}
	json_tokener *tok = json_tokener_new_ex(MASTO_DEPTH);
	if (!tok)
		die("out of memory");
	json_object *o = json_tokener_parse_ex(tok, json, (int)n);
	enum json_tokener_error je = json_tokener_get_error(tok);
	if (!o || je != json_tokener_success) {
		err_set(e, "invalid JSON: %s", je == json_tokener_continue ? "unexpected end"
									   : json_tokener_error_desc(je));
		json_object_put(o);
		o = NULL;
	} else if (json_tokener_get_parse_end(tok) < n) {
		/* only blank space may follow the value */
		for (size_t i = json_tokener_get_parse_end(tok); i < n; i++)
			if (!isspace((unsigned char)json[i])) {
				err_set(e, "invalid JSON: text after the value");
				json_object_put(o);
				o = NULL;
				break;
			}
	}
	json_tokener_free(tok);
	return o;
}

int masto_status(const char *json, size_t n, struct post *p, struct pea_err *e)
{
	json_object *o = parse(json, n, e);
	if (!o)
		return -1;
	int r = from_object(o, p, e);
	json_object_put(o);
	return r;
}

int masto_timeline(const char *json, size_t n, void (*fn)(void *ctx, struct post *p), void *ctx,
		   struct pea_err *e)
{
	json_object *o = parse(json, n, e);
	if (!o)
		return -1;
	if (!json_object_is_type(o, json_type_array)) {
		err_set(e, "a timeline is a JSON array");
		json_object_put(o);
		return -1;
	}
	struct post p;
	post_init(&p);
	int r = 0;
	size_t len = json_object_array_length(o);
	for (size_t i = 0; i < len && !r; i++) {
		if (from_object(json_object_array_get_idx(o, i), &p, e)) {
			char why[sizeof e->msg];
			snprintf(why, sizeof why, "%s", e->msg);
			err_set(e, "element %zu: %s", i + 1, why);
			r = -1;
		} else {
			fn(ctx, &p);
		}
	}
	post_release(&p);
	json_object_put(o);
	return r;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

int masto_id_cmp(const char *a, const char *b)
{
	if (all_digits(a) && all_digits(b)) {
		while (*a == '0' && a[1])
			a++;
		while (*b == '0' && b[1])
			b++;
		size_t la = strlen(a), lb = strlen(b);
		if (la != lb)
			return la < lb ? -1 : 1;
	}
	int c = strcmp(a, b);
	return (c > 0) - (c < 0);
}
