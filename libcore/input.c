/* input.c - walking input files and cutting them into units (input.h).
 *
 * Binary frames are read header first, then the stored payload straight into
 * the unit's buffer.  Text is read into a window and cut after the last whole
 * record (a newline outside CSV quotes) once a chunk is full, at end of file,
 * or as soon as reading on would block. */
#include "input.h"
#include "import.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_SIZE (256 * 1024)
/* a single text record longer than this is refused */
#define MAX_LINE (256u << 20)

struct pea_in {
	char *const *files;
	int nfiles, cur;
	const char *name;
	int fd;
	int eof;
	struct buf rb; /* read window: bytes [rpos, len) are unconsumed */
	size_t rpos;
	uint64_t pos; /* file offset of rb.p[rpos] */
	enum in_format fmt;
	uint64_t frame_no, line_no;
	uint64_t frames; /* over all the files, for stripes */
	/* incremental search for the last record boundary in the window */
	size_t scanned; /* bytes after rpos already scanned */
	size_t cut;	/* bytes after rpos up to the last boundary, 0 if none */
	int inq;	/* CSV: inside quotes at `scanned` */
	struct csv_header *csv;
	struct in_opts o;
	uint64_t repaired;
	void (*on_unit)(void *ctx);
	void *on_unit_ctx;
	void (*on_idle)(void *ctx);
	void *on_idle_ctx;
};

static int readable_now(int fd);

static const char *stdin_name = "(standard input)";

void unit_init(struct pea_unit *u)
{
	memset(u, 0, sizeof *u);
	buf_init(&u->data, 0);
}

void unit_release(struct pea_unit *u)
{
	buf_release(&u->data);
}

const struct in_opts *in_options(const pea_in *in)
{
	return &in->o;
}

uint64_t in_repaired(const pea_in *in)
{
	return __atomic_load_n(&in->repaired, __ATOMIC_RELAXED);
}

void in_add_repaired(pea_in *in, uint64_t n)
{
	__atomic_add_fetch(&in->repaired, n, __ATOMIC_RELAXED);
}

/* With a stop flag: wait until the input is readable; 0 once the flag is
 * set and nothing has come for STOP_QUIET_MS.  Polling in slices, not one
 * blocking read, so that a signal arriving just before the read still
 * ends the wait. */
#define STOP_QUIET_MS 200
static int wait_unless_stopped(pea_in *in)
{
	int quiet = 0;
	for (;;) {
		struct pollfd p = {in->fd, POLLIN, 0};
		int r = poll(&p, 1, STOP_QUIET_MS);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 1; /* not pollable (a file): the read decides */
		if (*in->o.stop && (quiet++ || r == 0))
			return 0;
	}
}

/* Read more bytes into the window; returns bytes read, 0 at EOF. */
static size_t fill_more(pea_in *in)
{
	if (in->eof)
		return 0;
	if (in->rpos && in->rpos == in->rb.len) {
		in->rb.len = in->rpos = 0;
	} else if (in->rpos > in->rb.cap / 2) {
		memmove(in->rb.p, in->rb.p + in->rpos, in->rb.len - in->rpos);
		in->rb.len -= in->rpos;
		in->rpos = 0;
	}
	uint8_t *p = buf_grow(&in->rb, READ_SIZE);
	if (in->on_idle && !readable_now(in->fd))
		in->on_idle(in->on_idle_ctx);
	if (in->o.stop && !wait_unless_stopped(in)) {
		in->eof = 1;
		return 0;
	}
	for (;;) {
		ssize_t r = read(in->fd, p, READ_SIZE);
		if (r > 0) {
			in->rb.len += (size_t)r;
			return (size_t)r;
		}
		if (r == 0) {
			in->eof = 1;
			return 0;
		}
		if (errno != EINTR)
			die_errno("%s: read error at byte %llu", in->name,
				  (unsigned long long)(in->pos + in->rb.len - in->rpos));
	}
}

/* Make at least n bytes available; returns how many are (less only at EOF). */
static size_t fill(pea_in *in, size_t n)
{
	while (in->rb.len - in->rpos < n && fill_more(in))
		;
	size_t a = in->rb.len - in->rpos;
	return a < n ? a : n;
}

static void consume(pea_in *in, size_t n)
{
	in->rpos += n;
	in->pos += n;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

static void sniff(pea_in *in)
{
	enum in_format f = in->o.format;
	if (f == IN_AUTO && in->name != stdin_name) {
		if (has_suffix(in->name, ".csv"))
			f = IN_CSV;
		else if (has_suffix(in->name, ".tsv"))
			f = IN_TSV;
	}
	if (f == IN_AUTO || f == IN_PEA) {
		/* skip a BOM and blank space to the first meaningful byte */
		size_t i = 0;
		for (;;) {
			if (fill(in, i + 1) <= i)
				break;
			uint8_t c = in->rb.p[in->rpos + i];
			if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
				i++;
				continue;
			}
			break;
		}
		uint8_t c = fill(in, i + 1) > i ? in->rb.p[in->rpos + i] : 0;
		if (f == IN_AUTO) {
			if (c == 0xff && i == 0)
				f = IN_PEA;
			else if (c == '{')
				f = IN_JSON;
			else if (fill(in, 1) == 0)
				f = IN_PEA; /* empty: an empty stream */
			else
				f = IN_TEXT;
		}
	}
	/* a UTF-8 byte order mark is not part of the text */
	if (f != IN_PEA && fill(in, 3) == 3 && !memcmp(in->rb.p + in->rpos, "\xef\xbb\xbf", 3))
		consume(in, 3);
	in->fmt = f;
	in->scanned = in->cut = 0;
	in->inq = 0;
	if (f == IN_CSV || f == IN_TSV) {
		struct pea_err e;
		if (in->o.columns) {
			/* the names given stand for a header line */
			char *line = xstrdup(in->o.columns);
			for (char *c = line; *c; c++)
				if (*c == ',')
					*c = f == IN_CSV ? ',' : '\t';
			csv_header_free(in->csv);
			in->csv = csv_header_parse(line, strlen(line), f == IN_CSV, &in->o, &e);
			free(line);
			if (!in->csv)
				die_usage("--columns: %s", e.msg);
			in->line_no = 1;
			return;
		}
		/* the header is the first record; read it now so every unit has it */
		for (;;) {
			size_t a = in->rb.len - in->rpos;
			const uint8_t *p = in->rb.p + in->rpos;
			size_t end = csv_record_end(p, a, f == IN_CSV, in->eof);
			if (end) {
				csv_header_free(in->csv);
				in->csv = csv_header_parse((const char *)p, end, f == IN_CSV, &in->o, &e);
				if (!in->csv)
					die("%s: line 1: %s", in->name, e.msg);
				consume(in, end);
				in->line_no = 2;
				break;
			}
			if (a > MAX_LINE)
				die("%s: line 1: header longer than %u bytes", in->name, MAX_LINE);
			if (!fill_more(in)) {
				if (in->rb.len == in->rpos)
					die("%s: empty file (a header line is needed)", in->name);
			}
		}
	}
}

static int open_next(pea_in *in)
{
	if (in->fd >= 0 && in->fd != 0)
		close(in->fd);
	in->fd = -1;
	if (in->cur >= in->nfiles)
		return 0;
	const char *f = in->files ? in->files[in->cur] : "-";
	in->cur++;
	if (!strcmp(f, "-")) {
		in->fd = 0;
		in->name = stdin_name;
#ifdef F_SETPIPE_SZ
		/* room for a frame in the pipe (see out_open), from either end */
		struct stat st;
		if (fstat(0, &st) == 0 && S_ISFIFO(st.st_mode))
			fcntl(0, F_SETPIPE_SZ, (int)(PEA_FRAME_TARGET / 4));
#endif
	} else {
		in->fd = open(f, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0)
			die_errno("%s", f);
		struct stat st;
		if (fstat(in->fd, &st) == 0 && S_ISDIR(st.st_mode))
			die("%s: is a directory", f);
		in->name = f;
	}
	in->eof = 0;
	in->rb.len = in->rpos = 0;
	in->pos = 0;
	in->frame_no = 0;
	in->line_no = 1;
	sniff(in);
	return 1;
}

pea_in *in_open(char *const *files, int n, const struct in_opts *o)
{
	pea_in *in = xcalloc(1, sizeof *in);
	static char *const dash[] = {"-", NULL};
	in->files = n ? files : dash;
	in->nfiles = n ? n : 1;
	in->fd = -1;
	buf_init(&in->rb, 0);
	if (o)
		in->o = *o;
	if (!in->o.text_field)
		in->o.text_field = "text";
	if (!in->o.chunk)
		/* units of text that, with what a filter adds (tokens are three
		 * times the text, with bigrams), stay near the caches: a quarter
		 * of the old 1 MiB cut a tokenize | vectorize pipeline's CPU time
		 * by a twentieth */
		in->o.chunk = PEA_FRAME_TARGET / 16;
	if (!open_next(in))
		die("no input");
	return in;
}

void in_close(pea_in *in)
{
	if (!in)
		return;
	if (in->fd > 0)
		close(in->fd);
	buf_release(&in->rb);
	csv_header_free(in->csv);
	free(in);
}

static int readable_now(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	int r;
	do
		r = poll(&p, 1, 0);
	while (r < 0 && errno == EINTR);
	return r != 0;
}

static int frame_buffered(pea_in *in)
{
	size_t a = in->rb.len - in->rpos;
	if (a < PEA_HDR_LEN)
		return 0;
	return a >= PEA_HDR_LEN + (size_t)le32(in->rb.p + in->rpos + 16);
}

int in_ready(pea_in *in)
{
	if (in->fd < 0 || in->eof)
		return 1;
	if (in->fmt == IN_PEA) {
		if (frame_buffered(in))
			return 1;
	} else if (in->cut) {
		return 1;
	}
	return readable_now(in->fd);
}

static PEA_NORETURN void truncated(pea_in *in, struct pea_unit *u, size_t have, size_t need)
{
	die("%s: frame %llu at byte %llu: unexpected end of file (%zu of %zu payload bytes)",
	    in->name, (unsigned long long)u->index, (unsigned long long)u->offset, have, need);
}

/* Step over a payload: seek where we can, read it away where we cannot. */
static int skip_payload(pea_in *in, struct pea_unit *u)
{
	size_t need = u->hdr.stored, have = in->rb.len - in->rpos;
	buf_reset(&u->data);
	if (have >= need) {
		consume(in, need);
		return 1;
	}
	consume(in, have);
	in->rb.len = in->rpos = 0;
	off_t cur = lseek(in->fd, 0, SEEK_CUR), end = cur >= 0 ? lseek(in->fd, 0, SEEK_END) : -1;
	if (cur >= 0 && end >= 0) {
		if ((uint64_t)(end - cur) < need - have)
			truncated(in, u, have + (size_t)(end - cur), need);
		if (lseek(in->fd, cur + (off_t)(need - have), SEEK_SET) < 0)
			die_errno("%s: seek", in->name);
		in->pos += need - have;
		return 1;
	}
	while (have < need) {
		size_t r = fill(in, 1);
		if (!r)
			truncated(in, u, have, need);
		size_t a = in->rb.len - in->rpos;
		if (a > need - have)
			a = need - have;
		consume(in, a);
		have += a;
	}
	return 1;
}

static int next_frame(pea_in *in, struct pea_unit *u)
{
	struct pea_err e;
	size_t a = fill(in, PEA_HDR_LEN);
	if (a == 0)
		return 0;
	in->frame_no++;
	u->kind = IN_PEA;
	u->file = in->name;
	u->offset = in->pos;
	u->index = in->frame_no;
	if (memcmp(in->rb.p + in->rpos, PEA_MAGIC, a < PEA_MAGIC_LEN ? a : PEA_MAGIC_LEN))
		die("%s: frame %llu at byte %llu: bad magic (not a pea frame)", in->name,
		    (unsigned long long)u->index, (unsigned long long)u->offset);
	if (a < PEA_HDR_LEN)
		die("%s: frame %llu at byte %llu: unexpected end of file in the frame header",
		    in->name, (unsigned long long)u->index, (unsigned long long)u->offset);
	memcpy(u->hdrbytes, in->rb.p + in->rpos, PEA_HDR_LEN);
	if (hdr_parse(u->hdrbytes, &u->hdr, &e))
		die("%s: frame %llu at byte %llu: %s", in->name, (unsigned long long)u->index,
		    (unsigned long long)u->offset, e.msg);
	consume(in, PEA_HDR_LEN);
	if (in->o.nstripes > 1 && in->frames++ % in->o.nstripes != in->o.stripe) {
		skip_payload(in, u);
		return 2; /* another reader's frame */
	}
	if (in->o.headers_only)
		return skip_payload(in, u);
	size_t need = u->hdr.stored, have = in->rb.len - in->rpos;
	if (have > need)
		have = need;
	buf_reset(&u->data);
	uint8_t *dst = buf_grow(&u->data, need);
	memcpy(dst, in->rb.p + in->rpos, have);
	consume(in, have);
	/* the rest of a large payload goes straight into the unit */
	while (have < need) {
		ssize_t r = read(in->fd, dst + have, need - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die_errno("%s: read error at byte %llu", in->name, (unsigned long long)in->pos);
		if (r == 0)
			truncated(in, u, have, need);
		have += (size_t)r;
		in->pos += (uint64_t)r;
	}
	u->data.len = need;
	return 1;
}

/* Extend the boundary search over bytes not yet scanned. */
static void scan(pea_in *in)
{
	const uint8_t *p = in->rb.p + in->rpos;
	size_t a = in->rb.len - in->rpos;
	if (in->fmt == IN_CSV) {
		for (size_t i = in->scanned; i < a; i++) {
			if (p[i] == '"')
				in->inq = !in->inq;
			else if (p[i] == '\n' && !in->inq)
				in->cut = i + 1;
		}
	} else if (a > in->scanned) {
		const uint8_t *nl = memrchr(p + in->scanned, '\n', a - in->scanned);
		if (nl)
			in->cut = (size_t)(nl - p) + 1;
	}
	in->scanned = a;
}

static uint64_t count_lines(const uint8_t *p, size_t n)
{
	uint64_t k = 0;
	const uint8_t *e = p + n;
	while ((p = memchr(p, '\n', (size_t)(e - p)))) {
		k++;
		p++;
	}
	return k;
}

static void emit_text(pea_in *in, struct pea_unit *u, size_t n)
{
	u->kind = in->fmt;
	u->file = in->name;
	u->offset = in->pos;
	u->index = in->line_no;
	u->csv = in->csv;
	buf_reset(&u->data);
	buf_add(&u->data, in->rb.p + in->rpos, n);
	in->line_no += count_lines(u->data.p, n);
	consume(in, n);
	in->cut = 0;
	/* rescan for the next boundary, keeping the CSV quote state at rpos
	 * (a cut is always outside quotes) */
	in->scanned = 0;
	in->inq = 0;
}

static int next_text(pea_in *in, struct pea_unit *u)
{
	for (;;) {
		scan(in);
		size_t a = in->rb.len - in->rpos;
		if (in->cut && a >= in->o.chunk) {
			emit_text(in, u, in->cut);
			return 1;
		}
		if (in->eof) {
			if (!a)
				return 0;
			if (in->fmt == IN_CSV && in->inq)
				die("%s: line %llu: unterminated quoted field at end of file", in->name,
				    (unsigned long long)(in->line_no + count_lines(in->rb.p + in->rpos, a)));
			emit_text(in, u, a);
			return 1;
		}
		if (in->cut && !readable_now(in->fd)) {
			emit_text(in, u, in->cut);
			return 1;
		}
		if (!in->cut && a > MAX_LINE)
			die("%s: line %llu: a record longer than %u bytes", in->name,
			    (unsigned long long)in->line_no, MAX_LINE);
		fill_more(in);
	}
}

void in_on_idle(pea_in *in, void (*fn)(void *ctx), void *ctx)
{
	in->on_idle = fn;
	in->on_idle_ctx = ctx;
}

void in_on_unit(pea_in *in, void (*fn)(void *ctx), void *ctx)
{
	in->on_unit = fn;
	in->on_unit_ctx = ctx;
}

int in_next(pea_in *in, struct pea_unit *u)
{
	while (in->fd >= 0) {
		if (in->fmt != IN_PEA && in->o.nstripes > 1)
			die("%s: only a file of pea frames can be shared by several readers (convert it with pea cat -o, "
			    "or give each its own file)", in->name);
		int r = in->fmt == IN_PEA ? next_frame(in, u) : next_text(in, u);
		if (r == 2)
			continue;
		if (r) {
			if (in->on_unit)
				in->on_unit(in->on_unit_ctx);
			return 1;
		}
		if (!open_next(in))
			break;
	}
	return 0;
}

/* ---------------------------------------------------------------- reader */

struct pea_reader {
	pea_in *in;
	struct unit_dec *ud;
	struct pea_unit u;
	pea_frame *f;
	int active;
};

pea_reader *reader_open(char *const *files, int n, const struct in_opts *o)
{
	pea_reader *r = xcalloc(1, sizeof *r);
	r->in = in_open(files, n, o);
	r->ud = ud_new(r->in);
	unit_init(&r->u);
	r->f = frame_new();
	return r;
}

const pea_frame *reader_next(pea_reader *r)
{
	struct pea_err e;
	for (;;) {
		if (r->active) {
			int k = ud_next(r->ud, r->f, &e);
			if (k < 0) {
				char where[512];
				ud_unit_where(r->ud, where, sizeof where);
				die("%s: %s", where, e.msg);
			}
			if (k > 0)
				return r->f;
			r->active = 0;
		}
		if (!in_next(r->in, &r->u))
			return NULL;
		ud_start(r->ud, &r->u);
		r->active = 1;
	}
}

void reader_where(const pea_reader *r, uint32_t rec, char *dst, size_t n)
{
	ud_where(r->ud, rec, dst, n);
}

pea_in *reader_in(pea_reader *r)
{
	return r->in;
}

void reader_close(pea_reader *r)
{
	if (!r)
		return;
	ud_free(r->ud);
	unit_release(&r->u);
	frame_free(r->f);
	in_close(r->in);
	free(r);
}
