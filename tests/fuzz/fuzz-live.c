/* fuzz-live - what pea scrape --follow reads from the network: feeds
 * (libxml2 in recovery mode), event streams cut at every split, Mastodon
 * statuses and timelines, and the records made of them.  It must neither
 * crash, nor grow without bound, nor write a record that does not decode. */
#include "feed.h"
#include "frame.h"
#include "masto.h"
#include "post.h"
#include "sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pea_fb *fb;
static pea_frame *fr;
static struct post p;

static void record(const struct post *x)
{
	post_record(fb, x, "http://example.org/feed");
}

static void timeline_post(void *ctx, struct post *x)
{
	(void)ctx;
	record(x);
}

static int event(void *ctx, const struct sse_event *ev)
{
	struct pea_err e;
	(void)ctx;
	if (!ev->type || !ev->data || ev->data[ev->len])
		__builtin_trap();
	if (masto_status(ev->data, ev->len, &p, &e) == 0)
		record(&p);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pea_err e;
	if (!fb) {
		fb = fb_new();
		fr = frame_new();
		post_init(&p);
	}
	struct feed f;
	feed_init(&f);
	if (feed_parse(data, size, NULL, "http://example.org/feed", &f, &e) == 0)
		for (size_t i = 0; i < f.n; i++)
			record(&f.items[i]);
	feed_release(&f);
	/* the same bytes as an event stream, cut where the first byte says */
	sse *s = sse_new(4096);
	size_t cut = size ? data[0] % (size + 1) : 0;
	sse_feed(s, data, cut, event, NULL);
	sse_feed(s, data + cut, size - cut, event, NULL);
	sse_feed(s, (const uint8_t *)"\n\n", 2, event, NULL);
	sse_free(s);
	if (masto_status((const char *)data, size, &p, &e) == 0)
		record(&p);
	masto_timeline((const char *)data, size, timeline_post, NULL, &e);
	/* every record built must be a valid frame */
	if (fb_nrec(fb)) {
		struct buf enc = BUF_INIT;
		ZSTD_CCtx *cc = ZSTD_createCCtx();
		fb_encode(fb, 0, cc, &enc);
		struct pea_hdr h;
		if (hdr_parse(enc.p, &h, &e) || frame_load(fr, &h, enc.p, enc.p + PEA_HDR_LEN, NULL, &e))
			__builtin_trap();
		ZSTD_freeCCtx(cc);
		buf_release(&enc);
	}
	fb_reset(fb);
	return 0;
}
