/* dist.c - see dist.h.  The MPI calls are all here, behind PEA_MPI; the
 * build without MPI compiles the one-rank versions, which do nothing. */
#include "dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef PEA_MPI
#include <mpi.h>
#endif

static int d_rank = 0, d_size = 1, d_on = 0;
static double d_sec = 0;
static uint64_t d_bytes = 0;

int dist_available(void)
{
#ifdef PEA_MPI
	return 1;
#else
	return 0;
#endif
}

int dist_rank(void) { return d_rank; }

void dist_slice(size_t n, int b, size_t *lo, size_t *hi)
{
	*lo = n * (size_t)b / (size_t)d_size;
	*hi = n * ((size_t)b + 1) / (size_t)d_size;
}

int dist_size(void) { return d_size; }
double dist_seconds(void) { return d_sec; }
uint64_t dist_bytes(void) { return d_bytes; }

int dist_threads(int64_t j)
{
	if (j > 0 || !d_on)
		return cli_threads(j);
	/* Open MPI and Slurm say how many ranks share this host */
	const char *v = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
	if (!v)
		v = getenv("SLURM_NTASKS_PER_NODE");
	int64_t local = 0;
	if (!v || parse_i64(v, &local) || local < 1)
		local = 1;
	int n = cli_threads(0) / (int)local;
	return n > 0 ? n : 1;
}

#ifdef PEA_MPI

static int d_done = 0; /* dist_finish() was called */
static uint8_t *d_tmp;	/* dist_combine's receive buffer */
static size_t d_tmpcap;
/* dist_shared, dist_shared_rows: the ranks of this host, and MPI-3 shared
 * windows on them, kept for the next vector of their kind until
 * dist_finish (a model asks for the same ones every run) */
static MPI_Comm d_host = MPI_COMM_NULL;
#define NWIN 4
struct hwin {
	MPI_Win w;
	uint8_t **peer; /* each rank's part; one block: peer[0] only */
	size_t cap;	/* bytes of a part */
	int one;	/* one block that every rank reads and writes */
	int used;
};
static struct hwin d_win[NWIN];
static int d_nwin;

/* An exit without dist_finish() is a failure (die() on this rank): take
 * every rank down with it instead of leaving them blocked in a sum. */
static void abort_others(void)
{
	int fin = 0;
	if (d_on && !d_done && MPI_Finalized(&fin) == MPI_SUCCESS && !fin)
		MPI_Abort(MPI_COMM_WORLD, 1);
}

static void check(int rc, const char *what)
{
	if (rc != MPI_SUCCESS) {
		char s[MPI_MAX_ERROR_STRING];
		int n = 0;
		MPI_Error_string(rc, s, &n);
		die("%s: %.*s", what, n, s);
	}
}

void dist_init(int *argc, char ***argv)
{
	int prov;
	if (d_on)
		return;
	/* worker threads never call MPI: only the main thread does */
	check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &prov), "MPI_Init");
	/* errors come back as codes, so that check() can say them in pea's words */
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_rank(MPI_COMM_WORLD, &d_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &d_size);
	d_on = 1;
	atexit(abort_others);
}

void dist_finish(void)
{
	if (!d_on || d_done)
		return;
	d_done = 1;
	for (int i = 0; i < d_nwin; i++) {
		MPI_Win_unlock_all(d_win[i].w);
		MPI_Win_free(&d_win[i].w);
		free(d_win[i].peer);
	}
	d_nwin = 0;
	if (d_host != MPI_COMM_NULL)
		MPI_Comm_free(&d_host);
	free(d_tmp);
	d_tmp = NULL;
	d_tmpcap = 0;
	MPI_Finalize();
}

/* A slice of a piece must fit MPI's int count of bytes. */
#define PIECE_BYTES ((size_t)1 << 30)
#define TAG_COMBINE 0x7065

/* A vector this small is gathered whole and every rank combines all of
 * it: one exchange instead of two, and on a busy machine each exchange
 * waits for the other ranks to get a core. */
#define SMALL_BYTES 4096

static void combine_small(void *v, size_t n, size_t esz, dist_combine_fn *fn, void *ctx)
{
	int N = d_size;
	size_t len = n * esz;
	uint8_t *all = xmalloc(xmul(len, (size_t)N));
	const void **part = xcalloc((size_t)N, sizeof *part);
	check(MPI_Allgather(v, (int)len, MPI_BYTE, all, (int)len, MPI_BYTE, MPI_COMM_WORLD), "MPI_Allgather");
	for (int b = 0; b < N; b++)
		part[b] = all + (size_t)b * len;
	fn(ctx, v, part, N, 0, n);
	d_bytes += len;
	free(part);
	free(all);
}

/* A window of this kind (one block, or a part per rank) with room for
 * bytes, free for use, allocated when there is none; NULL where there can
 * be none: one rank, ranks on several hosts, NWIN in use, or a host short
 * of shared memory.  Every rank takes the same path, so every rank gets
 * the same answer. */
static struct hwin *host_window(size_t bytes, int one)
{
	if (d_size < 2)
		return NULL;
	if (d_host == MPI_COMM_NULL)
		check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &d_host),
		      "MPI_Comm_split_type");
	int here;
	MPI_Comm_size(d_host, &here);
	if (here != d_size)
		return NULL;
	struct hwin *h = NULL;
	for (int i = 0; i < d_nwin && !h; i++)
		if (!d_win[i].used && d_win[i].one == one)
			h = &d_win[i];
	if (h && h->cap >= bytes)
		goto take;
	if (h) {
		MPI_Win_unlock_all(h->w);
		MPI_Win_free(&h->w);
	} else if (d_nwin < NWIN) {
		h = &d_win[d_nwin++];
		h->peer = xcalloc((size_t)d_size, sizeof *h->peer);
		h->one = one;
	} else {
		return NULL;
	}
	void *base;
	size_t mine = one && d_rank ? 0 : bytes ? bytes : 1;
	/* a host short of shared memory (a container's /dev/shm) sums by
	 * messages instead: every rank must know whether all got theirs */
	int ok = MPI_Win_allocate_shared((MPI_Aint)mine, 1, MPI_INFO_NULL, d_host, &base, &h->w) == MPI_SUCCESS;
	int all = ok;
	check(MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, d_host), "MPI_Allreduce");
	if (!all) {
		if (ok)
			MPI_Win_free(&h->w);
		/* the slot is given up: the next ask tries again */
		free(h->peer);
		*h = d_win[--d_nwin];
		return NULL;
	}
	for (int b = 0; b < (one ? 1 : d_size); b++) {
		MPI_Aint sz;
		int du;
		check(MPI_Win_shared_query(h->w, b, &sz, &du, &h->peer[b]), "MPI_Win_shared_query");
	}
	check(MPI_Win_lock_all(MPI_MODE_NOCHECK, h->w), "MPI_Win_lock_all");
	h->cap = bytes;
take:
	h->used = 1;
	return h;
}

/* every rank's writes to the windows seen by every rank */
static void host_fence(void)
{
	for (int i = 0; i < d_nwin; i++)
		if (d_win[i].used)
			MPI_Win_sync(d_win[i].w);
	check(MPI_Barrier(d_host), "MPI_Barrier");
	for (int i = 0; i < d_nwin; i++)
		if (d_win[i].used)
			MPI_Win_sync(d_win[i].w);
}

void *dist_shared(size_t bytes)
{
	struct hwin *h = host_window(bytes, 0);
	if (!h)
		return xcalloc(1, bytes ? bytes : 1);
	memset(h->peer[d_rank], 0, bytes);
	return h->peer[d_rank];
}

void *dist_shared_rows(size_t bytes)
{
	struct hwin *h = host_window(bytes, 1);
	if (!h)
		return xcalloc(1, bytes ? bytes : 1);
	if (d_rank == 0)
		memset(h->peer[0], 0, bytes);
	host_fence();
	return h->peer[0];
}

/* the window in use whose (own or only) part starts at p, or NULL */
static struct hwin *window_of(const void *p)
{
	for (int i = 0; p && i < d_nwin; i++)
		if (d_win[i].used && p == d_win[i].peer[d_win[i].one ? 0 : d_rank])
			return &d_win[i];
	return NULL;
}

void dist_shared_free(void *p)
{
	struct hwin *h = window_of(p);
	if (h)
		h->used = 0;
	else
		free(p);
}

const void *dist_shared_part(const void *v, int rank)
{
	struct hwin *h = window_of(v);
	return h && !h->one ? h->peer[rank] : NULL;
}

static double d_began; /* dist_shared_begin's time */

void dist_shared_begin(void)
{
	d_began = MPI_Wtime();
	host_fence();
}

void dist_shared_end(size_t lent)
{
	host_fence();
	d_sec += MPI_Wtime() - d_began;
	d_bytes += lent;
}

/* dist_combine of the shared vector: each rank combines its slice from
 * the others' copies where they lie, then copies the others' slices */
static void combine_shared(struct hwin *h, uint8_t *v, size_t n, size_t esz, dist_combine_fn *fn, void *ctx)
{
	int N = d_size, r = d_rank;
	uint8_t **peer = h->peer;
	const void **part = xcalloc((size_t)N, sizeof *part);
	double t0 = MPI_Wtime();
	size_t lo, hi;
	dist_slice(n, r, &lo, &hi);
	host_fence();
	for (int b = 0; b < N; b++)
		part[b] = peer[b] + lo * esz;
	fn(ctx, v + lo * esz, part, N, lo, hi - lo);
	host_fence();
	for (int b = 0; b < N; b++) {
		size_t blo, bhi;
		dist_slice(n, b, &blo, &bhi);
		if (b != r)
			memcpy(v + blo * esz, peer[b] + blo * esz, (bhi - blo) * esz);
	}
	/* nobody writes a next vector while another still reads this one */
	host_fence();
	d_sec += MPI_Wtime() - t0;
	d_bytes += 2 * (n - (hi - lo)) * esz;
	free(part);
}

/* Each rank receives the others' copies of its slice and sends its copies
 * of theirs, point to point (its own copy stays in place: no copy to a
 * buffer of all R), combines its slice, then the slices are gathered. */
void dist_combine(void *v, size_t n, size_t esz, dist_combine_fn *fn, void *ctx)
{
	int N = d_size, r = d_rank;
	if (N < 2) {
		const void *own = v;
		fn(ctx, v, &own, 1, 0, n);
		return;
	}
	struct hwin *h = window_of(v);
	if (h && !h->one && n * esz <= h->cap) {
		combine_shared(h, v, n, esz, fn, ctx);
		return;
	}
	if (n * esz <= SMALL_BYTES) {
		double t0 = MPI_Wtime();
		combine_small(v, n, esz, fn, ctx);
		d_sec += MPI_Wtime() - t0;
		return;
	}
	size_t piece = PIECE_BYTES / esz;
	int *cnt = xcalloc((size_t)N * 2, sizeof *cnt), *dsp = cnt + N;
	const void **part = xcalloc((size_t)N, sizeof *part);
	MPI_Request *rq = xcalloc((size_t)N * 2, sizeof *rq);
	/* the largest slice of the first (largest) piece, from each other rank;
	 * kept from call to call (a model sums the same vector every batch) */
	size_t cap = (n < piece ? n : piece) / (size_t)N + 1, need = xmul(xmul(cap, (size_t)N - 1), esz);
	if (need > d_tmpcap) {
		free(d_tmp);
		d_tmp = xmalloc(need);
		d_tmpcap = need;
	}
	uint8_t *tmp = d_tmp;
	double t0 = MPI_Wtime();
	for (size_t at = 0; at < n; at += piece) {
		size_t m = n - at < piece ? n - at : piece;
		uint8_t *base = (uint8_t *)v + at * esz;
		/* slice b is [m b / N, m (b + 1) / N), in bytes for MPI */
		for (int b = 0; b < N; b++) {
			size_t lo, hi;
			dist_slice(m, b, &lo, &hi);
			cnt[b] = (int)((hi - lo) * esz);
			dsp[b] = (int)(lo * esz);
		}
		int nrq = 0;
		for (int b = 0, k = 0; b < N; b++) {
			if (b == r) {
				part[b] = base + dsp[r];
				continue;
			}
			uint8_t *in = tmp + (size_t)k++ * cap * esz;
			part[b] = in;
			check(MPI_Irecv(in, cnt[r], MPI_BYTE, b, TAG_COMBINE, MPI_COMM_WORLD, &rq[nrq++]), "MPI_Irecv");
			check(MPI_Isend(base + dsp[b], cnt[b], MPI_BYTE, b, TAG_COMBINE, MPI_COMM_WORLD, &rq[nrq++]),
			      "MPI_Isend");
		}
		check(MPI_Waitall(nrq, rq, MPI_STATUSES_IGNORE), "MPI_Waitall");
		fn(ctx, base + dsp[r], part, N, at + (size_t)dsp[r] / esz, (size_t)cnt[r] / esz);
		check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_BYTE, base, cnt, dsp, MPI_BYTE, MPI_COMM_WORLD),
		      "MPI_Allgatherv");
		d_bytes += 2 * (m * esz - (size_t)cnt[r]);
	}
	d_sec += MPI_Wtime() - t0;
	free(rq);
	free(part);
	free(cnt);
}

static void allreduce_u64(uint64_t *v, size_t n, MPI_Op op)
{
	if (d_size < 2)
		return;
	double t0 = MPI_Wtime();
	size_t piece = PIECE_BYTES / sizeof *v;
	for (size_t at = 0; at < n; at += piece) {
		int m = (int)(n - at < piece ? n - at : piece);
		check(MPI_Allreduce(MPI_IN_PLACE, v + at, m, MPI_UINT64_T, op, MPI_COMM_WORLD), "MPI_Allreduce");
		d_bytes += (uint64_t)m * 8;
	}
	d_sec += MPI_Wtime() - t0;
}

void dist_barrier(void)
{
	if (d_size > 1)
		check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

void dist_sum_u64(uint64_t *v, size_t n) { allreduce_u64(v, n, MPI_SUM); }
void dist_max_u64(uint64_t *v, size_t n) { allreduce_u64(v, n, MPI_MAX); }
void dist_or_u64(uint64_t *v, size_t n) { allreduce_u64(v, n, MPI_BOR); }

/* the start of a gather: out reset; 1 when this is the only rank (then
 * out holds p), 0 when the ranks must send */
static int gather_start(const void *p, size_t n, struct buf *out, size_t *lens)
{
	buf_reset(out);
	if (d_size < 2) {
		buf_add(out, p, n);
		if (lens)
			lens[0] = n;
		return 1;
	}
	if (n > INT32_MAX)
		die("%zu bytes are too many for one rank to send in a gather", n);
	return 0;
}

void dist_gather(const void *p, size_t n, struct buf *out, size_t *lens)
{
	if (gather_start(p, n, out, lens))
		return;
	int N = d_size, mine = (int)n;
	int *cnt = xcalloc((size_t)N * 2, sizeof *cnt), *off = cnt + N;
	double t0 = MPI_Wtime();
	check(MPI_Allgather(&mine, 1, MPI_INT, cnt, 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
	size_t tot = 0;
	for (int b = 0; b < N; b++) {
		if (tot + (size_t)cnt[b] > INT32_MAX)
			die("the ranks' parts are too large to gather");
		off[b] = (int)tot;
		tot += (size_t)cnt[b];
		if (lens)
			lens[b] = (size_t)cnt[b];
	}
	uint8_t *dst = buf_grow(out, tot + 1);
	check(MPI_Allgatherv(p, mine, MPI_BYTE, dst, cnt, off, MPI_BYTE, MPI_COMM_WORLD), "MPI_Allgatherv");
	out->len = tot;
	d_sec += MPI_Wtime() - t0;
	d_bytes += tot - n;
	free(cnt);
}


/* byte counts and offsets for MPI, which counts in int */
static void int_counts(const size_t *lens, int *cnt, int *off, const char *what)
{
	size_t tot = 0;
	for (int b = 0; b < d_size; b++) {
		if (lens[b] > INT32_MAX || tot + lens[b] > INT32_MAX)
			die("the ranks' parts are too large to %s", what);
		cnt[b] = (int)lens[b];
		off[b] = (int)tot;
		tot += lens[b];
	}
}

void dist_exchange(const void *p, const size_t *lens, struct buf *out, size_t *got)
{
	int N = d_size;
	int *sc = xcalloc((size_t)N * 4, sizeof *sc), *sd = sc + N, *rc = sd + N, *rd = rc + N;
	size_t *rl = xcalloc((size_t)N, sizeof *rl);
	double t0 = MPI_Wtime();
	int_counts(lens, sc, sd, "exchange");
	check(MPI_Alltoall(sc, 1, MPI_INT, rc, 1, MPI_INT, MPI_COMM_WORLD), "MPI_Alltoall");
	size_t tot = 0;
	for (int b = 0; b < N; b++) {
		rl[b] = (size_t)rc[b];
		tot += rl[b];
		if (got)
			got[b] = rl[b];
		if (b != d_rank)
			d_bytes += lens[b];
	}
	int_counts(rl, rc, rd, "exchange");
	buf_reset(out);
	uint8_t *dst = buf_grow(out, tot + 1);
	check(MPI_Alltoallv(p, sc, sd, MPI_BYTE, dst, rc, rd, MPI_BYTE, MPI_COMM_WORLD), "MPI_Alltoallv");
	out->len = tot;
	d_sec += MPI_Wtime() - t0;
	free(rl);
	free(sc);
}

void dist_gather0(const void *p, size_t n, struct buf *out, size_t *lens)
{
	if (gather_start(p, n, out, lens))
		return;
	int N = d_size, mine = (int)n;
	int *cnt = xcalloc((size_t)N * 2, sizeof *cnt), *off = cnt + N;
	size_t *all = xcalloc((size_t)N, sizeof *all);
	double t0 = MPI_Wtime();
	check(MPI_Gather(&mine, 1, MPI_INT, cnt, 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Gather");
	uint8_t *dst = NULL;
	if (d_rank == 0) {
		size_t tot = 0;
		for (int b = 0; b < N; b++) {
			all[b] = (size_t)cnt[b];
			tot += all[b];
			if (lens)
				lens[b] = all[b];
		}
		int_counts(all, cnt, off, "gather");
		dst = buf_grow(out, tot + 1);
		out->len = tot;
	} else {
		d_bytes += n;
	}
	check(MPI_Gatherv(p, mine, MPI_BYTE, dst, cnt, off, MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Gatherv");
	d_sec += MPI_Wtime() - t0;
	free(all);
	free(cnt);
}

void dist_share_rows(float *X, int k, const uint32_t *cut)
{
	if (d_size < 2)
		return;
	int N = d_size;
	struct hwin *h = window_of(X);
	if (h && h->one) {
		/* the rows are where every rank reads them: once written */
		double t0 = MPI_Wtime();
		host_fence();
		d_sec += MPI_Wtime() - t0;
		return;
	}
	int *cnt = xcalloc((size_t)N * 2, sizeof *cnt), *off = cnt + N;
	for (int b = 0; b < N; b++) {
		if (cut[b + 1] - (uint64_t)cut[0] > INT32_MAX)
			die("too many rows to share between the ranks");
		cnt[b] = (int)(cut[b + 1] - cut[b]);
		off[b] = (int)(cut[b] - cut[0]);
	}
	/* a row is one element: counts stay rows, not floats */
	MPI_Datatype row;
	check(MPI_Type_contiguous(k, MPI_FLOAT, &row), "MPI_Type_contiguous");
	check(MPI_Type_commit(&row), "MPI_Type_commit");
	double t0 = MPI_Wtime();
	check(MPI_Allgatherv(MPI_IN_PLACE, 0, row, X + (size_t)cut[0] * k, cnt, off, row, MPI_COMM_WORLD),
	      "MPI_Allgatherv");
	d_sec += MPI_Wtime() - t0;
	d_bytes += (uint64_t)(cut[N] - cut[0] - (uint64_t)cnt[d_rank]) * (uint64_t)k * 4;
	MPI_Type_free(&row);
	free(cnt);
}

#else

void dist_init(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	die("this pea was built without MPI (install libopenmpi-dev and run meson setup with -Dmpi=enabled)");
}

void dist_finish(void) {}

void dist_combine(void *v, size_t n, size_t esz, dist_combine_fn *fn, void *ctx)
{
	const void *own = v;
	(void)esz;
	fn(ctx, v, &own, 1, 0, n);
}

void *dist_shared(size_t bytes)
{
	return xcalloc(1, bytes ? bytes : 1);
}

void *dist_shared_rows(size_t bytes)
{
	return xcalloc(1, bytes ? bytes : 1);
}

const void *dist_shared_part(const void *v, int rank)
{
	(void)v, (void)rank;
	return NULL;
}

void dist_shared_begin(void)
{
	die("internal error: a step on memory the ranks do not share");
}

void dist_shared_end(size_t lent)
{
	(void)lent;
	die("internal error: a step on memory the ranks do not share");
}

void dist_shared_free(void *p)
{
	free(p);
}

void dist_barrier(void) {}
void dist_sum_u64(uint64_t *v, size_t n) { (void)v, (void)n; }
void dist_max_u64(uint64_t *v, size_t n) { (void)v, (void)n; }
void dist_or_u64(uint64_t *v, size_t n) { (void)v, (void)n; }

void dist_gather(const void *p, size_t n, struct buf *out, size_t *lens)
{
	buf_reset(out);
	buf_add(out, p, n);
	if (lens)
		lens[0] = n;
}


void dist_exchange(const void *p, const size_t *lens, struct buf *out, size_t *got)
{
	buf_reset(out);
	buf_add(out, p, lens[0]);
	if (got)
		got[0] = lens[0];
}

void dist_gather0(const void *p, size_t n, struct buf *out, size_t *lens)
{
	dist_gather(p, n, out, lens);
}

void dist_share_rows(float *X, int k, const uint32_t *cut) { (void)X, (void)k, (void)cut; }

#endif

/* element-wise sums, the ranks' copies added in rank order */
static void add_f64(void *ctx, void *out, const void *const *part, int R, size_t first, size_t n)
{
	(void)ctx, (void)first;
	double *o = out;
	for (size_t i = 0; i < n; i++) {
		double s = ((const double *)part[0])[i];
		for (int b = 1; b < R; b++)
			s += ((const double *)part[b])[i];
		o[i] = s;
	}
}

/* a block at a time through a local sum, so that the loops vectorise
 * whichever part out is */
void dist_add_f32(float *out, const void *const *part, int R, size_t lo, size_t hi)
{
	float acc[1024];
	for (size_t at = lo; at < hi; at += 1024) {
		size_t m = hi - at < 1024 ? hi - at : 1024;
		const float *p0 = (const float *)part[0] + at;
		for (size_t i = 0; i < m; i++)
			acc[i] = p0[i];
		for (int b = 1; b < R; b++) {
			const float *pb = (const float *)part[b] + at;
			for (size_t i = 0; i < m; i++)
				acc[i] += pb[i];
		}
		memcpy(out + at, acc, m * sizeof *acc);
	}
}

void dist_sum_f64(double *v, size_t n)
{
	if (d_size > 1)
		dist_combine(v, n, sizeof *v, add_f64, NULL);
}

size_t dist_features(const struct dataset *ds, uint32_t dim, uint32_t **ids)
{
	size_t nw = ((size_t)dim + 63) / 64, n = 0;
	uint64_t *bits = xcalloc(nw ? nw : 1, sizeof *bits);
	ds_features(ds, dim, bits);
	uint64_t *several = xmalloc((nw ? nw : 1) * sizeof *several);
	memcpy(several, bits, nw * sizeof *bits);
	dist_several(several, nw);
	for (size_t w = 0; w < nw; w++)
		bits[w] |= several[w];
	free(several);
	for (size_t w = 0; w < nw; w++)
		n += (size_t)__builtin_popcountll(bits[w]);
	uint32_t *out = xmalloc((n ? n : 1) * sizeof *out);
	size_t k = 0;
	for (size_t w = 0; w < nw; w++)
		for (uint64_t b = bits[w]; b; b &= b - 1)
			out[k++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b));
	free(bits);
	*ids = out;
	return n;
}

/* the bits two parts or more have */
static void two_or_more(void *ctx, void *out, const void *const *part, int R, size_t first, size_t n)
{
	uint64_t *o = out;
	(void)ctx;
	(void)first;
	for (size_t i = 0; i < n; i++) {
		uint64_t one = 0, two = 0;
		for (int b = 0; b < R; b++) {
			uint64_t w = ((const uint64_t *)part[b])[i];
			two |= one & w;
			one |= w;
		}
		o[i] = two;
	}
}

void dist_several(uint64_t *bits, size_t nw)
{
	dist_combine(bits, nw, sizeof *bits, two_or_more, NULL);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int dist_agree(struct dataset *train, uint32_t *dim, uint64_t *nrec, int *multilabel, struct pea_err *e)
{
	uint64_t n = ds_nrec(train);
	*dim = ds_dim(train);
	*nrec = n;
	*multilabel = ds_multilabel(train);
	if (d_size < 2)
		return 0;
	/* what this rank knows, as one record of text: records, multi-label,
	 * dense, dimension, feature space, then the labels, NUL after each */
	struct buf me = BUF_INIT, all = BUF_INIT;
	const char *fs = ds_fspace(train);
	buf_addf(&me, "%llu %d %d %u %s", (unsigned long long)n, ds_multilabel(train), ds_dense(train),
		 ds_dim(train), fs ? fs : "");
	buf_addc(&me, 0);
	for (int i = 0; i < ds_nlabels(train); i++) {
		buf_adds(&me, ds_label(train, i));
		buf_addc(&me, 0);
	}
	size_t *lens = xcalloc((size_t)d_size, sizeof *lens);
	dist_gather(me.p, me.len, &all, lens);
	char **names = NULL;
	size_t nn = 0, at = 0;
	int ret = 0, first = -1, dense0 = 0;
	uint32_t ddim0 = 0;
	const char *fs0 = "";
	*nrec = 0;
	*multilabel = 0;
	*dim = 0;
	for (int r = 0; r < d_size; r++) {
		const char *p = (const char *)all.p + at, *end = p + lens[r];
		unsigned long long rn;
		int ml, dn, used = 0;
		unsigned dm;
		if (sscanf(p, "%llu %d %d %u %n", &rn, &ml, &dn, &dm, &used) != 4)
			die("internal error: rank %d sent a malformed description", r);
		const char *rfs = p + used;
		*nrec += rn;
		if (rn) {
			*multilabel |= ml;
			if (first < 0) {
				first = r;
				dense0 = dn;
				ddim0 = dm;
				fs0 = rfs;
			} else if (!ret && dn != dense0) {
				err_set(e, "rank %d has %s features, rank %d %s ones", first, dense0 ? "dense" : "sparse", r,
					dn ? "dense" : "sparse");
				ret = -1;
			} else if (!ret && dn && dm != ddim0) {
				err_set(e, "rank %d has dense vectors of %u values, rank %d of %u", first, ddim0, r, dm);
				ret = -1;
			} else if (!ret && strcmp(rfs, fs0)) {
				err_set(e, "rank %d has the feature space '%s', rank %d '%s'", first, fs0, r, rfs);
				ret = -1;
			}
			*dim = dm > *dim ? dm : *dim;
		}
		for (p += strlen(p) + 1; p < end; p += strlen(p) + 1) {
			names = xrealloc(names, (nn + 1) * sizeof *names);
			names[nn++] = (char *)p;
		}
		at += lens[r];
	}
	if (!ret) {
		qsort(names, nn, sizeof *names, cmp_str);
		size_t k = 0;
		for (size_t i = 0; i < nn; i++)
			if (!k || strcmp(names[k - 1], names[i]))
				names[k++] = names[i];
		ds_relabel(train, names, (int)k);
	}
	free(names);
	free(lens);
	buf_release(&me);
	buf_release(&all);
	return ret;
}
