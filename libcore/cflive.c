/* cflive.c - see cflive.h.  The events are one array used as a queue (a
 * head index, moved down when half of it is spent); a post's events are
 * contiguous, so a map from the hash of its id to (first sequence number,
 * count) finds them to take them back.  Sequence numbers only grow, so an
 * entry whose events have left the queue is simply stale. */
#include "cflive.h"
#include "output.h"
#include "post.h"
#include "strtab.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* decayed below 2^-24 (a float's precision): gone */
#define DECAY_HORIZON 24.0
/* the live name tables are rebuilt when they hold this many more names
 * than the events use */
#define NAME_SLACK 4096
/* seconds a time may be ahead of this machine's clock */
#define FUTURE_SLACK 86400.0

struct ev {
	int64_t t;
	uint32_t u, i;
	float w; /* 0: taken back or expired */
};

struct post_ent {
	uint64_t key; /* 0: empty */
	uint64_t seq;
	uint32_t n;
};

/* the interactions that count at one moment: names in order of first
 * appearance, pairs in event order */
struct snap {
	struct strtab *users, *items;
	uint32_t *u, *i;
	float *w;
	uint64_t n;
};

struct live;
static void queue_snapshot(struct live *L);

struct live {
	const struct cfl_opts *o;
	const char *fu, *fi, *fw, *ft;
	/* under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* to the publisher: a change, a snapshot, the end */
	pthread_cond_t taken;	/* to the reader: the waiting snapshot was taken */
	struct ev *ev;
	uint64_t head, len, cap; /* ev[head .. len) are queued */
	uint64_t base;		 /* the sequence number of ev[0] */
	struct strtab *users, *items;
	struct post_ent *posts;
	uint64_t pcap, pn;
	int64_t now;	   /* the stream's time: the latest seen */
	double wall;	   /* this machine's clock (Unix seconds), at the start of the frame */
	int have_now;
	int changed, done;
	int loading; /* reading the state file: fixed fields, keys as they were */
	uint64_t pending;  /* records since the last snapshot */
	struct snap *ready; /* taken, waiting for the publisher */
	struct cfl_stats st;
	/* the publisher's own */
	double last_pub;
	struct cfm *prev;  /* the last model, for warm starts */
	struct progress pr;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the posts' events ---- */

static struct post_ent *post_slot(struct post_ent *t, uint64_t cap, uint64_t key)
{
	for (uint64_t k = key & (cap - 1);; k = (k + 1) & (cap - 1))
		if (!t[k].key || t[k].key == key)
			return &t[k];
}

/* rebuilt with only the entries whose events are still queued (and room
 * for as many again), which also grows it */
static void posts_rebuild(struct live *L)
{
	uint64_t keep = 0, first = L->base + L->head;
	for (uint64_t k = 0; k < L->pcap; k++)
		keep += L->posts[k].key && L->posts[k].n && L->posts[k].seq + L->posts[k].n > first;
	uint64_t cap = 1024;
	while (cap < 4 * keep)
		cap *= 2;
	struct post_ent *t = xcalloc(cap, sizeof *t);
	for (uint64_t k = 0; k < L->pcap; k++) {
		struct post_ent *p = &L->posts[k];
		if (p->key && p->n && p->seq + p->n > first)
			*post_slot(t, cap, p->key) = *p;
	}
	free(L->posts);
	L->posts = t;
	L->pcap = cap;
	L->pn = keep;
}

/* take back the events of the post with this key; 1 when it had some */
static int retract(struct live *L, uint64_t key)
{
	struct post_ent *p = post_slot(L->posts, L->pcap, key);
	if (!p->key)
		return 0;
	uint64_t first = L->base + L->head, a = p->seq > first ? p->seq : first, z = p->seq + p->n;
	int had = 0;
	for (uint64_t s = a; s < z; s++) {
		had |= L->ev[s - L->base].w > 0;
		L->ev[s - L->base].w = 0;
	}
	p->n = 0;
	return had;
}

static void remember(struct live *L, uint64_t key, uint64_t seq, uint32_t n)
{
	if (2 * (L->pn + 1) > L->pcap)
		posts_rebuild(L);
	struct post_ent *p = post_slot(L->posts, L->pcap, key);
	if (!p->key) {
		p->key = key;
		L->pn++;
	}
	p->seq = seq;
	p->n = n;
}

/* ---- the queue ---- */

static double weight_now(const struct live *L, const struct ev *e);

static void push(struct live *L, int64_t t, uint32_t u, uint32_t i, float w)
{
	/* what no longer counts leaves the front as the stream's time moves
	 * (what lies behind it waits for the next snapshot) */
	while (L->head < L->len && !(weight_now(L, &L->ev[L->head]) > 0))
		L->head++;
	if (L->o->max_events && L->len - L->head >= L->o->max_events) {
		L->head++;
		L->st.dropped++;
	}
	if (L->len == L->cap) {
		if (L->head > L->len / 2) {
			/* the spent front goes: sequence numbers stay */
			memmove(L->ev, L->ev + L->head, (size_t)(L->len - L->head) * sizeof *L->ev);
			L->base += L->head;
			L->len -= L->head;
			L->head = 0;
		} else {
			L->cap = L->cap ? L->cap * 2 : 4096;
			L->ev = xrealloc(L->ev, xmul((size_t)L->cap, sizeof *L->ev));
		}
	}
	L->ev[L->len++] = (struct ev){t, u, i, w};
}

/* the weight of an event now, 0 when it no longer counts */
static double weight_now(const struct live *L, const struct ev *e)
{
	if (!(e->w > 0))
		return 0;
	double age = (double)(L->now - e->t);
	if (L->o->window > 0)
		return age < L->o->window ? e->w : 0;
	if (L->o->half_life > 0) {
		double f = exp2(-(age > 0 ? age : 0) / L->o->half_life);
		return age < DECAY_HORIZON * L->o->half_life ? e->w * f : 0;
	}
	return e->w;
}

/* ---- reading ---- */

static PEA_NORETURN void bad(pea_reader *r, uint32_t rec, const char *fmt, ...) PEA_PRINTF(3, 4);
static void bad(pea_reader *r, uint32_t rec, const char *fmt, ...)
{
	char where[512], what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	reader_where(r, rec, where, sizeof where);
	die("%s: %s", where, what);
}

static int64_t rec_time(pea_reader *r, uint32_t rec, const pea_val *v, const char *field)
{
	if (!v)
		bad(r, rec, "no '%s' field (the follower needs each interaction's time)", field);
	if (v->type == PEA_INT)
		return v->x.i;
	if (v->type == PEA_FLOAT && isfinite(v->x.d) && fabs(v->x.d) < 1e15)
		return (int64_t)floor(v->x.d);
	if (v->type == PEA_STR && v->n < 64) {
		char s[64];
		memcpy(s, v->p, v->n);
		s[v->n] = 0;
		int64_t t = post_time(s, NULL);
		if (t != POST_NO_TIME)
			return t;
		bad(r, rec, "field '%s' is '%s', not a date", field, s);
	}
	bad(r, rec, "field '%s' is %s, not a time (Unix seconds or a date)", field, pea_type_name(v->type));
}

static uint32_t name_id(pea_reader *r, uint32_t rec, struct strtab *t, const char *s, size_t n, const char *field)
{
	if (!n || n > IX_MAX_NAME)
		bad(r, rec, "field '%s' must have 1 to %d bytes", field, IX_MAX_NAME);
	return st_intern(t, s, n);
}

static uint32_t val_name(pea_reader *r, uint32_t rec, struct strtab *t, const pea_val *v, const char *field)
{
	char num[32];
	const char *s;
	size_t n;
	if (!v)
		bad(r, rec, "no '%s' field", field);
	if (ix_name(v, num, &s, &n))
		bad(r, rec, "field '%s' is %s, not a string", field, pea_type_name(v->type));
	return name_id(r, rec, t, s, n, field);
}

/* one frame, under the lock */
static void take_frame(struct live *L, pea_reader *r, const pea_frame *f)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	L->wall = (double)ts.tv_sec;
	int fu = frame_field(f, L->fu), fi = frame_field(f, L->fi), fw = frame_field(f, L->fw);
	/* no --item: a post's `items` do as well (pea scrape --follow) */
	const char *iname = L->fi;
	if (!L->o->item && !L->loading && fi < 0 && (fi = frame_field(f, "items")) >= 0)
		iname = "items";
	int ft = frame_field(f, L->ft), fid = frame_field(f, "id"), fdel = frame_field(f, "deleted");
	int fkey = L->loading ? frame_field(f, "key") : -1;
	if (L->loading)
		fid = fdel = -1;
	for (uint32_t rec = 0; rec < frame_nrec(f); rec++) {
		const pea_val *id = fid >= 0 ? frame_get(f, rec, fid) : NULL;
		const pea_val *del = fdel >= 0 ? frame_get(f, rec, fdel) : NULL;
		const pea_val *kv = fkey >= 0 ? frame_get(f, rec, fkey) : NULL;
		uint64_t key = 0;
		if (kv) {
			if (kv->type != PEA_INT || !(kv->x.i & 1))
				bad(r, rec, "field 'key' is not a post's key");
			key = (uint64_t)kv->x.i;
		} else if (id) {
			char num[32];
			const char *s;
			size_t n;
			if (ix_name(id, num, &s, &n))
				bad(r, rec, "field 'id' is %s, not a string", pea_type_name(id->type));
			key = st_hash(s, n) | 1;
		}
		L->st.records++;
		L->pending++;
		if (del && del->type == PEA_BOOL && del->x.i) {
			if (!key)
				bad(r, rec, "a deletion with no 'id' field");
			L->st.deleted += retract(L, key);
			L->changed = 1;
			if (L->o->every_rec && L->pending >= L->o->every_rec)
				queue_snapshot(L);
			continue;
		}
		uint32_t u = val_name(r, rec, L->users, fu >= 0 ? frame_get(f, rec, fu) : NULL, L->fu);
		const pea_val *iv = fi >= 0 ? frame_get(f, rec, fi) : NULL;
		if (!iv)
			bad(r, rec, "no '%s' field%s", iname, L->o->item || L->loading ? "" : " (nor 'items')");
		if (iv->type != PEA_STRLIST && iv->type != PEA_STR && iv->type != PEA_INT)
			bad(r, rec, "field '%s' is %s, not a string or a list of strings", iname, pea_type_name(iv->type));
		int64_t t = rec_time(r, rec, ft >= 0 ? frame_get(f, rec, ft) : NULL, L->ft);
		float w = 1;
		const pea_val *wv = fw >= 0 ? frame_get(f, rec, fw) : NULL;
		if (wv) {
			double d = wv->type == PEA_FLOAT ? wv->x.d : wv->type == PEA_INT ? (double)wv->x.i : NAN;
			if (isnan(d) && wv->type != PEA_FLOAT)
				bad(r, rec, "field '%s' is %s, not a number", L->fw, pea_type_name(wv->type));
			if (!(d > 0) || !isfinite(d) || d > 1e30)
				bad(r, rec, "field '%s' is %g: a weight must be a positive number", L->fw, d);
			w = (float)d;
		}
		/* one post dated far ahead would empty the window: the stream's
		 * clock does not follow it (the state file's own times are ones
		 * that were taken) */
		if (!L->loading && (double)t > L->wall + FUTURE_SLACK) {
			if (!L->st.future++ && !L->o->quiet) {
				char where[512];
				reader_where(r, rec, where, sizeof where);
				warning("%s: time %lld is more than a day ahead of this machine's clock: "
					"left out (so are any more, counted)", where, (long long)t);
			}
			if (L->o->every_rec && L->pending >= L->o->every_rec)
				queue_snapshot(L);
			continue;
		}
		if (key)
			L->st.replaced += retract(L, key);
		if (!L->have_now || t > L->now)
			L->now = t;
		L->have_now = 1;
		uint64_t seq = L->base + L->len;
		uint32_t n = 0;
		if (iv->type == PEA_STRLIST) {
			struct val_iter it;
			val_iter_init(&it, iv);
			while (val_iter_next(&it)) {
				push(L, t, u, name_id(r, rec, L->items, it.s, it.len, iname), w);
				n++;
			}
		} else {
			push(L, t, u, val_name(r, rec, L->items, iv, iname), w);
			n = 1;
		}
		/* the queue may have moved down: seq counts from the start */
		if (key)
			remember(L, key, seq, n);
		L->st.interactions += n;
		L->changed = 1;
		/* by count: exactly after that record */
		if (L->o->every_rec && L->pending >= L->o->every_rec)
			queue_snapshot(L);
	}
}

/* ---- the state file ---- */

struct range {
	uint64_t seq, key;
	uint32_t n;
};

static int cmp_range(const void *a, const void *b)
{
	uint64_t x = ((const struct range *)a)->seq, y = ((const struct range *)b)->seq;
	return (x > y) - (x < y);
}

/* one record: the events ev[a .. z) that still count, of one post (key)
 * or of none (0) */
static void state_record(struct live *L, pea_wr *w, uint64_t a, uint64_t z, uint64_t key)
{
	pea_fb *fb = wr_fb(w);
	const struct ev *e0 = NULL;
	for (uint64_t k = a; k < z && !e0; k++)
		if (L->ev[k].w > 0)
			e0 = &L->ev[k];
	if (!e0)
		return;
	fb_begin(fb);
	fb_str(fb, fb_xfield(fb, "user", PEA_STR), st_name(L->users, e0->u), st_len(L->users, e0->u));
	fb_list_begin(fb, fb_xfield(fb, "items", PEA_STRLIST), PEA_STRLIST);
	for (uint64_t k = a; k < z; k++)
		if (L->ev[k].w > 0)
			fb_list_str(fb, st_name(L->items, L->ev[k].i), st_len(L->items, L->ev[k].i));
	fb_list_end(fb);
	fb_int(fb, fb_xfield(fb, "time", PEA_INT), e0->t);
	fb_float(fb, fb_xfield(fb, "weight", PEA_FLOAT), e0->w);
	if (key)
		fb_int(fb, fb_xfield(fb, "key", PEA_INT), (int64_t)key);
	fb_end(fb);
	wr_commit(w);
}

/* Under the lock: every event that may still count, a record per post,
 * written atomically.  A record's events share user, time and weight:
 * they came from one record. */
static void write_state(struct live *L)
{
	uint64_t first = L->base + L->head, nr = 0;
	struct range *rg = xmalloc(xmul((size_t)L->pn + 1, sizeof *rg));
	for (uint64_t k = 0; k < L->pcap; k++) {
		const struct post_ent *p = &L->posts[k];
		if (p->key && p->n && p->seq + p->n > first)
			rg[nr++] = (struct range){p->seq > first ? p->seq : first, p->key, (uint32_t)(p->seq + p->n - (p->seq > first ? p->seq : first))};
	}
	qsort(rg, nr, sizeof *rg, cmp_range);
	struct out_opts oo = OUT_OPTS_INIT;
	oo.path = L->o->state;
	oo.binary = 1;
	pea_wr *w = wr_open(&oo);
	uint64_t r = 0;
	for (uint64_t k = L->head; k < L->len;) {
		uint64_t s = L->base + k;
		if (r < nr && rg[r].seq == s) {
			state_record(L, w, k, k + rg[r].n, rg[r].key);
			k += rg[r++].n;
		} else {
			state_record(L, w, k, k + 1, 0);
			k++;
		}
	}
	wr_close(w);
	free(rg);
}

/* The events a previous run left, before the stream. */
static void load_state(struct live *L)
{
	char *path = (char *)L->o->state;
	if (access(path, F_OK))
		return;
	const char *fu = L->fu, *fi = L->fi, *fw = L->fw, *ft = L->ft;
	struct cfl_stats keep = L->st;
	L->fu = "user";
	L->fi = "items";
	L->fw = "weight";
	L->ft = "time";
	L->loading = 1;
	pea_reader *r = reader_open(&path, 1, NULL);
	const pea_frame *f;
	while ((f = reader_next(r)))
		take_frame(L, r, f);
	reader_close(r);
	L->loading = 0;
	L->fu = fu;
	L->fi = fi;
	L->fw = fw;
	L->ft = ft;
	keep.restored = L->st.interactions - keep.interactions;
	L->st = keep;
	L->pending = 0;
	/* the state's events make a model, at the first time due or the end */
	L->changed = keep.restored > 0;
}

/* ---- publishing ---- */

/* names a model was trained with, then the ones new to it */
static struct strtab *seed_names(const struct ntab *t, uint32_t n)
{
	struct strtab *s = st_new();
	for (uint32_t k = 0; k < n; k++) {
		size_t len;
		const char *p = ntab_name(t, k, &len);
		st_intern(s, p, len);
	}
	return s;
}

/* rebuild a live name table with only the names events use (remap: old
 * id -> new id, UINT32_MAX for unused) */
static struct strtab *compact_names(const struct strtab *old, uint32_t *remap)
{
	memset(remap, 0xff, ((size_t)st_count(old) + 1) * 4);
	return st_new();
}

/* Under the lock: the events that count now, as interactions.  Events
 * that no longer count are marked so, leave the front of the queue, and
 * names no event uses leave the live tables. */
static void snapshot(struct live *L, struct snap *sn)
{
	/* the front that no longer counts leaves */
	while (L->head < L->len && !(weight_now(L, &L->ev[L->head]) > 0))
		L->head++;
	uint32_t nu = st_count(L->users), ni = st_count(L->items);
	uint32_t *ru = xmalloc(xmul((size_t)nu + 1, 4)), *ri = xmalloc(xmul((size_t)ni + 1, 4));
	memset(ru, 0xff, ((size_t)nu + 1) * 4);
	memset(ri, 0xff, ((size_t)ni + 1) * 4);
	uint64_t cnt = 0;
	uint32_t lu = 0, li = 0;
	for (uint64_t k = L->head; k < L->len; k++) {
		struct ev *e = &L->ev[k];
		if (!(weight_now(L, e) > 0)) {
			e->w = 0;
			continue;
		}
		cnt++;
		if (ru[e->u] == UINT32_MAX) {
			ru[e->u] = 0;
			lu++;
		}
		if (ri[e->i] == UINT32_MAX) {
			ri[e->i] = 0;
			li++;
		}
	}
	struct strtab *su = st_new(), *si = st_new();
	uint32_t *pu = xmalloc(xmul(cnt ? cnt : 1, 4)), *pi = xmalloc(xmul(cnt ? cnt : 1, 4));
	float *pw = xmalloc(xmul(cnt ? cnt : 1, 4));
	/* new ids in order of first appearance among the events that count */
	memset(ru, 0xff, ((size_t)nu + 1) * 4);
	memset(ri, 0xff, ((size_t)ni + 1) * 4);
	uint64_t at = 0;
	for (uint64_t k = L->head; k < L->len; k++) {
		const struct ev *e = &L->ev[k];
		if (!(e->w > 0))
			continue;
		if (ru[e->u] == UINT32_MAX)
			ru[e->u] = st_intern(su, st_name(L->users, e->u), st_len(L->users, e->u));
		if (ri[e->i] == UINT32_MAX)
			ri[e->i] = st_intern(si, st_name(L->items, e->i), st_len(L->items, e->i));
		pu[at] = ru[e->u];
		pi[at] = ri[e->i];
		pw[at++] = (float)weight_now(L, e);
	}
	/* live names that no event uses any more leave: the live tables are
	 * rebuilt in the order of the events that count */
	if (nu > 2 * (uint64_t)lu + NAME_SLACK || ni > 2 * (uint64_t)li + NAME_SLACK) {
		struct strtab *u2 = compact_names(L->users, ru), *i2 = compact_names(L->items, ri);
		for (uint64_t k = L->head; k < L->len; k++) {
			struct ev *e = &L->ev[k];
			if (!(e->w > 0)) {
				e->u = e->i = 0;
				continue;
			}
			uint32_t a = e->u, b = e->i;
			if (ru[a] == UINT32_MAX)
				ru[a] = st_intern(u2, st_name(L->users, a), st_len(L->users, a));
			if (ri[b] == UINT32_MAX)
				ri[b] = st_intern(i2, st_name(L->items, b), st_len(L->items, b));
			e->u = ru[a];
			e->i = ri[b];
		}
		st_free(L->users);
		st_free(L->items);
		L->users = u2;
		L->items = i2;
	}
	free(ru);
	free(ri);
	posts_rebuild(L);
	*sn = (struct snap){su, si, pu, pi, pw, cnt};
}

static void snap_free(struct snap *sn)
{
	st_free(sn->users);
	st_free(sn->items);
	free(sn->u);
	free(sn->i);
	free(sn->w);
	free(sn);
}

/* The snapshot's names after those of the model m: the ids m's factors
 * have, so a warm start finds its rows (new names follow). */
static void renumber(struct strtab *t, uint32_t *ids, uint64_t n, const struct ntab *names, uint32_t nn,
		     struct strtab **out)
{
	struct strtab *s = seed_names(names, nn);
	uint32_t c = st_count(t);
	uint32_t *map = xmalloc(xmul((size_t)c + 1, 4));
	for (uint32_t k = 0; k < c; k++)
		map[k] = st_intern(s, st_name(t, k), st_len(t, k));
	for (uint64_t k = 0; k < n; k++)
		ids[k] = map[ids[k]];
	free(map);
	*out = s;
}

/* Outside the lock: train on the snapshot and write the model; the model
 * comes back opened when a later warm start will want it.  0 when there
 * was nothing to train on. */
static int publish(struct live *L, struct snap *sn, struct cfm **opened)
{
	const struct cfl_opts *o = L->o;
	int factors = strstr(o->algo->params, "factors") != NULL;
	*opened = NULL;
	if (!sn->n)
		return 0;
	/* the algorithms that start from factors take the last ones (only
	 * this thread changes L->prev) while at least half of its names are
	 * still in use */
	const struct cfm *init = L->prev;
	if (!(factors && init && init->nusers <= 2 * (uint64_t)st_count(sn->users) &&
	      init->nitems <= 2 * (uint64_t)st_count(sn->items)))
		init = NULL;
	struct strtab *users = sn->users, *items = sn->items;
	if (init) {
		renumber(sn->users, sn->u, sn->n, &init->users, init->nusers, &users);
		renumber(sn->items, sn->i, sn->n, &init->items, init->nitems, &items);
	} else {
		sn->users = sn->items = NULL; /* the ix takes them */
	}
	struct ix *x = ix_from_pairs(users, items, sn->u, sn->i, sn->w, sn->n, o->threads);
	if (init) /* the meta counts the interactions of the window, not of every model */
		x->nrec = x->nrec > init->nrec ? x->nrec - init->nrec : 0;
	struct pea_err e;
	struct model_writer *w = cf_train(o->algo, x, init, o->p, o->ap, o->threads, 1, o->seed, NULL, &e);
	if (!w)
		die("%s", e.msg);
	mw_write(w, o->out);
	mw_free(w);
	ix_free(x);
	if (factors && !(*opened = cf_open(o->out, &e)))
		die("%s: %s", o->out, e.msg);
	return 1;
}

/* Under the lock: take a snapshot for the publisher.  One waits at most:
 * the reader, due by count, waits until the publisher has taken the
 * previous one, so every model a count asks for is written (and memory
 * holds two snapshots at most); the publisher takes its own only when none
 * waits. */
static void queue_snapshot(struct live *L)
{
	while (L->ready)
		pthread_cond_wait(&L->taken, &L->mu);
	struct snap *sn = xmalloc(sizeof *sn);
	snapshot(L, sn);
	L->ready = sn;
	L->changed = 0;
	L->pending = 0;
	L->last_pub = mono();
	pthread_cond_signal(&L->cv);
}

static int due_by_time(const struct live *L)
{
	return L->changed && L->o->every_sec > 0 && mono() >= L->last_pub + L->o->every_sec;
}

/* Under the lock, which it lets go while training. */
static void publish_ready(struct live *L)
{
	struct snap *sn = L->ready;
	L->ready = NULL;
	pthread_cond_signal(&L->taken);
	pthread_mutex_unlock(&L->mu);
	struct cfm *m;
	int wrote = publish(L, sn, &m);
	pthread_mutex_lock(&L->mu);
	if (wrote) {
		L->st.published++;
		L->st.live = sn->n;
		if (m) {
			cf_close(L->prev);
			L->prev = m;
		}
	}
	/* beside each model, what the next run starts from */
	if (L->o->state)
		write_state(L);
	snap_free(sn);
	if (progress_due(&L->pr))
		progress_show(&L->pr, "%llu records, %llu models published, %llu interactions in the last",
			      (unsigned long long)L->st.records, (unsigned long long)L->st.published,
			      (unsigned long long)L->st.live);
}

static void *publisher(void *arg)
{
	struct live *L = arg;
	pthread_mutex_lock(&L->mu);
	for (;;) {
		if (!L->ready && (due_by_time(L) || (L->done && L->changed)))
			queue_snapshot(L);
		if (L->ready) {
			publish_ready(L);
			continue;
		}
		if (L->done)
			break;
		if (L->changed && L->o->every_sec > 0) {
			double wait = L->last_pub + L->o->every_sec - mono();
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			if (wait < 0)
				wait = 0;
			ts.tv_sec += (time_t)wait;
			ts.tv_nsec += (long)((wait - floor(wait)) * 1e9);
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&L->cv, &L->mu, &ts);
		} else {
			pthread_cond_wait(&L->cv, &L->mu);
		}
	}
	pthread_mutex_unlock(&L->mu);
	return NULL;
}

void cfl_run(char *const *files, int n, const struct cfl_opts *o, struct cfl_stats *st)
{
	struct live L = {0};
	L.o = o;
	L.fu = o->user ? o->user : "user";
	L.fi = o->item ? o->item : "item";
	L.fw = o->weight ? o->weight : "weight";
	L.ft = o->time ? o->time : "time";
	L.users = st_new();
	L.items = st_new();
	L.pcap = 1024;
	L.posts = xcalloc(L.pcap, sizeof *L.posts);
	L.last_pub = mono();
	progress_init(&L.pr, o->quiet);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&L.mu, NULL);
	pthread_cond_init(&L.cv, &ca);
	pthread_cond_init(&L.taken, NULL);
	pthread_condattr_destroy(&ca);
	if (o->state)
		load_state(&L);
	pthread_t th;
	if (pthread_create(&th, NULL, publisher, &L))
		die("cannot start the publishing thread");
	/* SIGINT or SIGTERM ends the input as a clean end would (what upstream
	 * has already written is still read): one last model and state, so
	 * nothing read since the previous model is lost.  A second one kills. */
	const volatile sig_atomic_t *stop = cli_catch_stop(1);
	struct in_opts io = {.stop = stop};
	pea_reader *r = reader_open(files, n, &io);
	const pea_frame *f;
	while ((f = reader_next(r))) {
		pthread_mutex_lock(&L.mu);
		int was = L.changed;
		take_frame(&L, r, f);
		/* the publisher waits for a change, then for the time */
		if (!was && L.changed)
			pthread_cond_signal(&L.cv);
		pthread_mutex_unlock(&L.mu);
	}
	reader_close(r);
	if (*stop && !o->quiet)
		note("stopped by a signal: the last model and state hold every record read");
	pthread_mutex_lock(&L.mu);
	L.done = 1;
	pthread_cond_signal(&L.cv);
	pthread_mutex_unlock(&L.mu);
	pthread_join(th, NULL);
	progress_done(&L.pr);
	pthread_cond_destroy(&L.cv);
	pthread_cond_destroy(&L.taken);
	pthread_mutex_destroy(&L.mu);
	*st = L.st;
	cf_close(L.prev);
	st_free(L.users);
	st_free(L.items);
	free(L.ev);
	free(L.posts);
	if (!st->published)
		die("no interactions %sto train on", o->window > 0 || o->half_life > 0 ? "in the window " : "");
}
