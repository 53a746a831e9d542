/*
 * evlog_bench.c - what the events file sustains (issue 6): events a second
 * that reach the disk through the real event log (daemon/evlog.c, linked
 * from libsafegate.a), with and without critical events, and what a full
 * queue loses.
 *
 *   evlog-bench [OPTIONS] matrix DIR N ROUNDS RATES PERMILLES RAW
 *	ROUNDS rounds; in each, for every rate of RATES and every fraction
 *	of PERMILLES (critical events per thousand), one run of N events
 *	into a fresh DIR/run.jsonl, verified, then deleted with its rotated
 *	files.  The fractions are taken in a different order each round.
 *	One row per run to RAW (tab-separated, a header first); the medians
 *	over the rounds to stdout, as a Markdown table.
 *   evlog-bench [OPTIONS] one FILE N PERMILLE RATE
 *	One run into FILE (left in place), as "key=value" lines.
 *   evlog-bench [OPTIONS] [-c PERMILLE] gen FILE N DAYS
 *	A log for the digest (bench/evlog.sh): N events whose times are
 *	spread evenly over the DAYS days before now, 2% of them indicators,
 *	PERMILLE (default 1) of them abuse-list hits, written through evlog
 *	as fast as it takes them without loss (batches of 64), then
 *	verified.
 *
 * OPTIONS: -b B puts per kick (16); -q BYTES the queue (evlog's default,
 * 1 MiB); -r BYTES rotation by size (0: none; safegated ships 10 MiB);
 * -H no line hook; -n NAMES the names of the events, the first word of
 * each line of the file (default: 4096 synthetic ones).
 *
 * A rate is "max" (closed loop: the producer never lets more than half the
 * queue wait, so nothing is lost; the figure is what one producer and the
 * writer sustain together, and the writer's CPU time a line says how far
 * the writer alone would go), "flood" (open loop: puts as fast as one
 * thread can, and counts what the full queue loses) or a number of events
 * a second (open loop, paced in batches: what a packet path at that rate
 * loses, and how late a critical event is on disk).
 *
 * A run: one producer thread (a worker) formats and puts its events with
 * evlog_put(), B (-b, 16) at a time, and calls evlog_kick() after each
 * batch, as the workers do after each receive.  The clock runs from the
 * first put to the return of evlog_close(), which writes what is queued
 * and syncs, so every event counted is on disk.  The writer's line hook is
 * set (-H: not), as safegated always sets one.
 *
 * A critical event is an abuse-list hit (confidential, held): evlog fsyncs
 * the batch that holds one as soon as it is written.  Each fdatasync() the
 * writer makes is counted and timed here: this program defines
 * fdatasync(), which the static link puts in front of libc's for
 * libsafegate.a's calls, and makes the system call itself.  With the line
 * hook on, each critical event's delay from its batch's put to the end of
 * the fdatasync() after its write is recorded (lost events included: the
 * producer lists the events the queue took, and the hook matches its
 * lines to them in order).  At each fdatasync() the writer thread's CPU
 * time and its time spent runnable but waiting for a CPU
 * (/proc/thread-self/schedstat) are read: the writer syncs last, as it
 * stops, so they cover the run.  Rotation syncs too, and is counted.
 *
 * Every run is checked afterwards with evlog_verify(): the chain intact,
 * N - lost events plus the "lost" lines, the lost counts summing to what
 * the producer saw refused, one "hold":true line per critical event
 * taken.  A failed check is reported and the run counts as broken: the
 * bench cannot quietly measure a writer that loses or garbles events.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "evlog.h"
#include "log.h"

#define NAMES_SYNTH	4096
#define MODES_MAX	8
#define FRACS_MAX	16
#define ROUNDS_MAX	101

/* ----------------------------------------------------------- clocks */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000u),
	    (long)(t % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

static void
sleep_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

/* ---------------------------------------------------- one run's state */

struct run {
	/* asked */
	const char	*path;
	size_t		 n;
	unsigned	 permille;
	double		 rate;		/* > 0 events/s; 0 flood; < 0 max */
	/* measured */
	double		 wall_s, put_ns, offered;
	uint64_t	 lost, crit, crit_lost;
	uint64_t	 lines, loglines;	/* by the line hook */
	uint64_t	 syncs, sync_ns, sync_max_ns;
	double		 lat_p50, lat_p99, lat_max;	/* ms; < 0: none */
	size_t		 nlat;
	double		 verify_s;
	size_t		 files;		/* rotated ones and PATH */
	uint64_t	 writer_cpu_ns;	/* the writer thread's CPU time and */
	uint64_t	 writer_wait_ns;	/* run-queue wait, at its last
					   sync (it syncs at the end) */
	int		 sched_fd;	/* its /proc/thread-self/schedstat */
	bool		 ok;
	char		 why[240];
	/* the critical events' delays: writer thread only */
	uint64_t	*t_put;		/* per event: its batch's put */
	uint32_t	*acc;		/* the events the queue took, in
					   order: written by the producer
					   before the put that publishes it */
	uint64_t	 nacc;
	uint32_t	*pending;	/* written, not yet synced */
	size_t		 npending;
	double		*lat;
	bool		 lat_valid;
	uint64_t	 seq0;
};

/* The run the writer's hooks and fdatasync() report to (one at a time). */
static struct run *cur;

/* The writer's time waiting for a CPU (runnable, not running), in ns. */
static void
writer_sched(struct run *x)
{
	char buf[128];
	unsigned long long run, wait;
	ssize_t n;

	if (x->sched_fd == -1 && (x->sched_fd = open("/proc/thread-self/"
	    "schedstat", O_RDONLY | O_CLOEXEC)) == -1)
		x->sched_fd = -2;
	if (x->sched_fd < 0 ||
	    (n = pread(x->sched_fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &run, &wait) == 2)
		x->writer_wait_ns = wait;
}

/*
 * libsafegate.a's calls to fdatasync() land here (see the top): counted,
 * timed, and the critical events written before it are stamped durable.
 * Only the writer thread syncs.
 */
int
fdatasync(int fd)
{
	uint64_t t0 = now_ns(), t1, d;
	long r = syscall(SYS_fdatasync, fd);
	int saved = errno;
	struct run *x = cur;
	size_t i;

	t1 = now_ns();
	if (x != NULL) {
		d = t1 - t0;
		x->syncs++;
		x->sync_ns += d;
		if (d > x->sync_max_ns)
			x->sync_max_ns = d;
		for (i = 0; i < x->npending; i++)
			x->lat[x->nlat++] =
			    (double)(t1 - x->t_put[x->pending[i]]) / 1e6;
		x->npending = 0;
		x->writer_cpu_ns = thread_cpu_ns();
		writer_sched(x);
	}
	errno = saved;
	return (int)r;
}

static bool
is_critical(uint64_t i, unsigned permille)
{
	return (i + 1) * permille / 1000 != i * permille / 1000;
}

/* The writer's line hook: counts lines, and notes critical ones written. */
static void
on_line(void *arg, const char *line, size_t len, uint64_t seq,
    const char *hash, const char *kind, size_t kind_len)
{
	struct run *x = arg;
	uint64_t i, j;

	(void)hash;
	x->lines++;
	if (kind_len == 3 && memcmp(kind, "log", 3) == 0) {
		x->loglines++;	/* a "lost" line: no event of ours */
		return;
	}
	if (!x->lat_valid || x->t_put == NULL || seq <= x->seq0)
		return;
	/* The lines come in seq order: the j-th event line is the j-th
	   event the queue took. */
	j = seq - x->seq0 - 1 - x->loglines;
	if (j >= x->n) {
		x->lat_valid = false;
		return;
	}
	i = x->acc[j];
	if (!is_critical(i, x->permille))
		return;
	if (memmem(line, len, ",\"hold\":true", 12) == NULL) {
		x->lat_valid = false;
		return;
	}
	x->pending[x->npending++] = (uint32_t)i;
}

/* ---------------------------------------------------------- events */

static const char *const category_names[] = {
	"adult", "gambling", "social", "games", "ads", "malware",
	"anon-chat", "dating", "messaging", "bypass", "doh", "vpn-proxy",
};
#define NCATS (sizeof(category_names) / sizeof(category_names[0]))

struct device {
	const char	*name;
	const char	*profile;
	uint8_t		 mac[6];
	struct sg_addr	 client;
};

static const char *const device_names[] = {
	"amy-tablet", "amy-phone", "ben-laptop", "ben-phone", "ben-switch",
	"cara-chromebook", "cara-phone", "dad-laptop", "mum-phone",
	"living-room-tv", "xbox", "guest",
};
#define NDEVICES (sizeof(device_names) / sizeof(device_names[0]))

static const char *const indicators[] = {
	"anon-chat", "late-night-contact", "repeated-adult", "new-platform",
	"bypass-attempt",
};

struct gen {
	uint64_t	 rng;
	struct device	 dev[NDEVICES];
	char		**names;
	size_t		 nnames;
	uint8_t		 hash[32];
	bool		 indicators;	/* 2% of events */
};

static uint64_t
rnd(struct gen *g)
{
	uint64_t x = g->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	g->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static void
die(const char *what)
{
	fprintf(stderr, "evlog-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		die("strdup");
	return p;
}

/* Names: the first word of each line of path, or a synthetic set. */
static void
gen_names(struct gen *g, const char *path)
{
	static const char *const sub[] = { "www", "cdn", "api", "m",
	    "static", "img", "ads", "track", "login", "video", "chat", "" };
	static const char *const tld[] = { "com", "net", "org", "io",
	    "co.uk", "tv", "app", "gg" };
	char line[512], *p, *e;
	size_t cap = NAMES_SYNTH, i;
	FILE *f;

	if ((g->names = calloc(cap, sizeof(*g->names))) == NULL)
		die("calloc");
	if (path != NULL) {
		if ((f = fopen(path, "re")) == NULL)
			die(path);
		while (fgets(line, sizeof(line), f) != NULL) {
			p = line + strspn(line, " \t");
			e = p + strcspn(p, " \t\r\n");
			*e = '\0';
			if (*p == '\0' || *p == '#')
				continue;
			if (g->nnames == cap) {
				cap *= 2;
				if ((g->names = realloc(g->names,
				    cap * sizeof(*g->names))) == NULL)
					die("realloc");
			}
			g->names[g->nnames++] = xstrdup(p);
		}
		fclose(f);
		if (g->nnames > 0)
			return;
	}
	for (i = 0; i < NAMES_SYNTH; i++) {
		const char *s = sub[rnd(g) % 12];

		snprintf(line, sizeof(line), "%s%sw%04zu-site.%s", s,
		    *s != '\0' ? "." : "", i, tld[rnd(g) % 8]);
		g->names[g->nnames++] = xstrdup(line);
	}
}

static void
gen_init(struct gen *g, const char *names)
{
	static const char *const prof[] = { "child", "teen", "adult" };
	size_t i;

	memset(g, 0, sizeof(*g));
	g->rng = 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < NDEVICES; i++) {
		uint8_t a[4] = { 192, 168, 1, (uint8_t)(20 + i) };
		uint8_t m[6] = { 0x02, 0x5a, 0xfe, 0x00, 0x01, (uint8_t)i };

		g->dev[i].name = device_names[i];
		g->dev[i].profile = prof[i < 7 ? (i % 2) : 2];
		memcpy(g->dev[i].mac, m, 6);
		addr_set(&g->dev[i].client, AF_INET, a);
	}
	for (i = 0; i < 32; i++)
		g->hash[i] = (uint8_t)rnd(g);
	gen_names(g, names);
}

/* The rule of a block: the name without its first label, if it has 3+. */
static void
rule_of(const char *name, size_t len, const char **rule, size_t *rlen)
{
	const char *dot = memchr(name, '.', len);

	if (dot != NULL && memchr(dot + 1, '.', len - (size_t)(dot + 1 -
	    name)) != NULL) {
		*rule = dot + 1;
		*rlen = len - (size_t)(dot + 1 - name);
	} else {
		*rule = name;
		*rlen = len;
	}
}

/*
 * Event i: a block by a family's device, or (g->indicators) an indicator;
 * critical: an abuse-list hit (confidential, so held and synced).
 */
static void
make_event(struct gen *g, bool critical, const struct timespec *ts,
    struct event *ev)
{
	uint64_t r = rnd(g);
	const struct device *d = &g->dev[r % NDEVICES];
	const char *name = g->names[(r >> 8) % g->nnames];
	unsigned k = (unsigned)((r >> 32) % 1000);

	memset(ev, 0, sizeof(*ev));
	ev->ts = *ts;
	ev->client = d->client;
	ev->mac = d->mac;
	ev->device = d->name;
	ev->profile = d->profile;
	ev->name = name;
	ev->name_len = strlen(name);
	ev->category_names = category_names;
	ev->ncategory_names = NCATS;
	ev->reason = "category";
	if (critical) {
		ev->kind = "dns";
		ev->transport = "udp";
		ev->qtype = 1;
		ev->confidential = true;
		ev->list = "iwf";
		ev->hash = g->hash;
		ev->reason = "confidential";
		ev->action = "nxdomain";
		return;
	}
	ev->categories = UINT64_C(1) << ((r >> 20) % NCATS);
	if (k % 10 == 0)
		ev->categories |= UINT64_C(1) << ((r >> 44) % NCATS);
	rule_of(name, ev->name_len, &ev->rule, &ev->rule_len);
	if (g->indicators && k < 20) {
		ev->kind = "indicator";
		ev->rule = NULL;
		ev->rule_len = 0;
		ev->reason = NULL;
		ev->indicator = indicators[k % 5];
		ev->severity = k < 4 ? "info" : "warning";
		return;
	}
	if (k < 780) {
		ev->kind = "dns";
		ev->transport = "udp";
		ev->qtype = k % 3 == 0 ? 28 : k % 7 == 0 ? 65 : 1;
		ev->action = "nxdomain";
	} else if (k < 900) {
		ev->kind = "tls";
		ev->transport = "tcp";
		ev->action = "reset";
	} else if (k < 950) {
		ev->kind = "quic";
		ev->transport = "udp";
		ev->action = "drop";
	} else {
		ev->kind = "http";
		ev->transport = "tcp";
		ev->action = "reset";
	}
	if (k >= 960 && k < 990) {
		ev->categories = 0;
		ev->rule = NULL;
		ev->rule_len = 0;
		ev->reason = "schedule";
		ev->schedule = "bedtime";
	} else if (k >= 990)
		ev->reason = "deny";
}

/* ------------------------------------------------------------ a run */

static size_t
rec_bytes(size_t len)
{
	return (8 + len + 7) & ~(size_t)7;	/* evlog.c's rec_total() */
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank of a sorted array. */
static double
pct(const double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)n + 0.999999);

	if (n == 0)
		return -1;
	if (i < 1)
		i = 1;
	return v[(i > n ? n : i) - 1];
}

struct settings {
	unsigned	 batch;
	size_t		 queue_bytes;
	uint64_t	 rotate_bytes;	/* -r: rotation by size, 0 none */
	bool		 hook;
	bool		 indicators;
	const char	*names;
	double		 days;		/* gen: ts spread over this */
};

/*
 * One run into x->path (which must not exist yet).  Fills in x; x->ok
 * false and x->why on a broken run.  g carries on from run to run.
 */
static void
run_one(const struct settings *s, struct gen *g, struct run *x)
{
	struct evlog_opts o;
	struct evlog_hooks h;
	struct evlog_report rep;
	struct evlog *log;
	struct event ev;
	struct timespec ts, base = { 0, 0 };
	const char **paths;
	char **rot = NULL;
	size_t nrot = 0;
	uint64_t t0, tb, busy = 0, i, window, sum = 0, lostl = 0;
	double step = 0;
	char body[EVLOG_LINE_MAX];
	size_t k;
	int n;

	x->ok = false;
	x->why[0] = '\0';
	x->lat_p50 = x->lat_p99 = x->lat_max = -1;
	memset(&o, 0, sizeof(o));
	o.queue_bytes = s->queue_bytes;
	o.rotate_bytes = s->rotate_bytes;
	if ((log = evlog_open(x->path, &o)) == NULL)
		die(x->path);
	x->t_put = calloc(x->n, sizeof(*x->t_put));
	x->acc = calloc(x->n, sizeof(*x->acc));
	x->pending = calloc(x->n, sizeof(*x->pending));
	x->lat = calloc(x->n, sizeof(*x->lat));
	if (x->t_put == NULL || x->acc == NULL || x->pending == NULL ||
	    x->lat == NULL)
		die("calloc");
	x->nacc = 0;
	x->sched_fd = -1;
	x->lat_valid = s->hook;
	x->seq0 = 0;
	if (s->hook) {
		memset(&h, 0, sizeof(h));
		h.line = on_line;
		h.arg = x;
		evlog_set_hooks(log, &h);
	}
	/* The closed loop's window: half the queue, in events of the
	   average size (the ring is a power of two at least queue_bytes). */
	clock_gettime(CLOCK_REALTIME, &ts);
	for (k = 0; k < 256; k++) {
		make_event(g, false, &ts, &ev);
		if ((n = evlog_format(&ev, body, sizeof(body))) < 0)
			die("evlog_format");
		sum += rec_bytes((size_t)n);
	}
	window = (s->queue_bytes ? s->queue_bytes : EVLOG_QUEUE_DEFAULT) / 2 /
	    (sum / 256);
	if (s->days > 0) {
		base = ts;
		base.tv_sec -= (time_t)(s->days * 86400);
		step = s->days * 86400e9 / (double)x->n;
	}
	cur = x;
	if (evlog_start(log) < 0)
		die("evlog_start");
	x->crit = x->crit_lost = 0;
	t0 = now_ns();
	for (i = 0; i < x->n;) {
		if (x->rate > 0)
			sleep_until(t0 + (uint64_t)((double)i * 1e9 / x->rate));
		else if (x->rate < 0) {
			struct evlog_stats st;

			for (;;) {
				evlog_get_stats(log, &st);
				if (i - lostl <= st.written + window)
					break;
				evlog_kick(log);
				sleep_us(50);
			}
		}
		tb = now_ns();
		if (s->days > 0) {
			uint64_t off = (uint64_t)((double)i * step);

			ts.tv_sec = base.tv_sec + (time_t)(off / 1000000000u);
			ts.tv_nsec = base.tv_nsec + (long)(off % 1000000000u);
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
		} else
			clock_gettime(CLOCK_REALTIME, &ts);
		for (k = 0; k < s->batch && i < x->n; k++, i++) {
			bool crit = is_critical(i, x->permille);

			make_event(g, crit, &ts, &ev);
			x->t_put[i] = tb;
			x->acc[x->nacc] = (uint32_t)i;
			x->crit += crit;
			if (evlog_put(log, &ev) < 0) {
				lostl++;
				x->crit_lost += crit;
			} else
				x->nacc++;
		}
		evlog_kick(log);
		busy += now_ns() - tb;
	}
	x->offered = (double)x->n / ((double)(now_ns() - t0) / 1e9);
	evlog_close(log);
	x->wall_s = (double)(now_ns() - t0) / 1e9;
	cur = NULL;
	x->lost = lostl;
	x->put_ns = (double)busy / (double)x->n;
	if (x->lat_valid && x->nlat > 0) {
		qsort(x->lat, x->nlat, sizeof(*x->lat), cmp_double);
		x->lat_p50 = pct(x->lat, x->nlat, 0.50);
		x->lat_p99 = pct(x->lat, x->nlat, 0.99);
		x->lat_max = x->lat[x->nlat - 1];
	} else
		x->nlat = 0;

	/* The check: the chain, and every event accounted for. */
	tb = now_ns();
	if (evlog_rotated(x->path, &rot, &nrot) < 0 ||
	    (paths = calloc(nrot + 1, sizeof(*paths))) == NULL)
		die("rotated files");
	for (k = 0; k < nrot; k++)
		paths[k] = rot[k];
	paths[nrot] = x->path;
	x->files = nrot + 1;
	k = evlog_verify(paths, nrot + 1, &rep) < 0;
	free(paths);
	evlog_names_free(rot, nrot);
	if (k) {
		snprintf(x->why, sizeof(x->why), "verify: %s", rep.why);
		goto out;
	}
	x->verify_s = (double)(now_ns() - tb) / 1e9;
	if (!rep.intact)
		snprintf(x->why, sizeof(x->why), "chain broken at line %" PRIu64
		    ": %s", rep.line, rep.why);
	else if (rep.lost != x->lost)
		snprintf(x->why, sizeof(x->why), "the log says %" PRIu64
		    " lost, the producer saw %" PRIu64, rep.lost, x->lost);
	else if (s->hook && rep.events != x->lines)
		snprintf(x->why, sizeof(x->why), "%" PRIu64 " lines in the "
		    "file, %" PRIu64 " written", rep.events, x->lines);
	else if (s->hook && rep.events != x->n - x->lost + x->loglines)
		snprintf(x->why, sizeof(x->why), "%" PRIu64 " events, not %"
		    PRIu64 " taken + %" PRIu64 " log lines", rep.events,
		    x->n - x->lost, x->loglines);
	else if (!s->hook && rep.events < x->n - x->lost)
		snprintf(x->why, sizeof(x->why), "%" PRIu64 " events, fewer "
		    "than the %" PRIu64 " taken", rep.events, x->n - x->lost);
	else if (rep.holds != x->crit - x->crit_lost)
		snprintf(x->why, sizeof(x->why), "%" PRIu64 " held lines, %"
		    PRIu64 " critical events taken", rep.holds,
		    x->crit - x->crit_lost);
	else if (rep.first_seq != 1 || rep.last_seq != rep.events)
		snprintf(x->why, sizeof(x->why), "seq %" PRIu64 "..%" PRIu64
		    " for %" PRIu64 " events", rep.first_seq, rep.last_seq,
		    rep.events);
	else
		x->ok = true;
out:
	if (x->sched_fd >= 0)
		close(x->sched_fd);
	free(x->t_put);
	free(x->acc);
	free(x->pending);
	free(x->lat);
	x->t_put = NULL;
	x->acc = NULL;
	x->pending = NULL;
	x->lat = NULL;
}

/* Deletes path and its rotated files. */
static void
remove_log(const char *path)
{
	char **rot = NULL;
	size_t n = 0, i;

	if (evlog_rotated(path, &rot, &n) == 0) {
		for (i = 0; i < n; i++)
			(void)unlink(rot[i]);
		evlog_names_free(rot, n);
	}
	(void)unlink(path);
}

static const char *
rate_label(double rate, char *buf, size_t len)
{
	if (rate < 0)
		return "max";
	if (rate == 0)
		return "flood";
	snprintf(buf, len, "%.0f/s", rate);
	return buf;
}

static double
parse_rate(const char *s)
{
	char *end;
	double v;

	if (strcmp(s, "max") == 0)
		return -1;
	if (strcmp(s, "flood") == 0)
		return 0;
	v = strtod(s, &end);
	if (*end != '\0' || !(v > 0)) {
		fprintf(stderr, "evlog-bench: rate %s: max, flood or events/s\n",
		    s);
		exit(2);
	}
	return v;
}

static size_t
parse_size(const char *s, size_t lo, size_t hi, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "evlog-bench: %s %s: %zu..%zu\n", what, s, lo,
		    hi);
		exit(2);
	}
	return (size_t)v;
}

/* The writer thread's CPU a line, ns (without the line hook, a line is
   taken to be an event the queue took). */
static double
writer_ns(const struct run *x)
{
	uint64_t lines = x->lines > 0 ? x->lines : x->n - x->lost;

	return lines > 0 ? (double)x->writer_cpu_ns / (double)lines : -1;
}

static double
pct_of(uint64_t ns, double wall_s)
{
	return (double)ns / 1e7 / wall_s;
}

/* What building one struct event costs here (part of ns per put). */
static double
build_ns(struct gen *g)
{
	struct timespec ts;
	struct event ev;
	uint64_t t0, sink = 0;
	size_t i, n = 200000;

	clock_gettime(CLOCK_REALTIME, &ts);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		make_event(g, false, &ts, &ev);
		sink += ev.name_len;
	}
	t0 = now_ns() - t0;
	return sink == 0 ? 0 : (double)t0 / (double)n;
}

static void
print_run(const struct run *x)
{
	char rb[32];

	printf("rate=%s\npermille=%u\nevents=%zu\ncritical=%" PRIu64 "\n"
	    "wall_s=%.4f\nevents_per_s=%.0f\noffered_per_s=%.0f\n"
	    "put_ns=%.1f\nlost=%" PRIu64 "\nlost_lines=%" PRIu64 "\n"
	    "fdatasyncs=%" PRIu64 "\nfdatasync_ms_mean=%.3f\n"
	    "fdatasync_ms_max=%.3f\ncritical_durable_ms_p50=%.3f\n"
	    "critical_durable_ms_p99=%.3f\ncritical_durable_ms_max=%.3f\n"
	    "writer_cpu_ns_per_line=%.0f\nwriter_busy_pct=%.1f\n"
	    "writer_runqueue_wait_pct=%.1f\nfiles=%zu\nverify_s=%.3f\n"
	    "verified=%s\n",
	    rate_label(x->rate, rb, sizeof(rb)), x->permille, x->n, x->crit,
	    x->wall_s, (double)(x->n - x->lost) / x->wall_s, x->offered,
	    x->put_ns, x->lost, x->loglines, x->syncs,
	    x->syncs ? (double)x->sync_ns / (double)x->syncs / 1e6 : 0.0,
	    (double)x->sync_max_ns / 1e6, x->lat_p50, x->lat_p99, x->lat_max,
	    writer_ns(x), pct_of(x->writer_cpu_ns, x->wall_s),
	    pct_of(x->writer_wait_ns, x->wall_s), x->files, x->verify_s,
	    x->ok ? "yes" : x->why);
}

/* ------------------------------------------------------------ matrix */

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct cell {
	double	eps[ROUNDS_MAX], ratio[ROUNDS_MAX], put[ROUNDS_MAX];
	double	lost[ROUNDS_MAX], syncs[ROUNDS_MAX], syncms[ROUNDS_MAX];
	double	p50[ROUNDS_MAX], p99[ROUNDS_MAX], offered[ROUNDS_MAX];
	double	wcpu[ROUNDS_MAX], busy[ROUNDS_MAX], wait[ROUNDS_MAX];
	size_t	nlat;
	unsigned bad;
};

static void
range(const double *v, size_t n, double *lo, double *hi)
{
	size_t i;

	*lo = *hi = v[0];
	for (i = 1; i < n; i++) {
		if (v[i] < *lo)
			*lo = v[i];
		if (v[i] > *hi)
			*hi = v[i];
	}
}

static int
matrix(const struct settings *s, int argc, char **argv)
{
	static struct cell cells[MODES_MAX][FRACS_MAX];
	double rates[MODES_MAX], t[ROUNDS_MAX];
	unsigned fr[FRACS_MAX];
	size_t nrates = 0, nfr = 0, n, rounds, r, m, f, j, k;
	char path[4096], *list, *tok, *save, rb[32];
	struct gen g;
	struct run x;
	FILE *raw;
	unsigned broken = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: evlog-bench matrix DIR N ROUNDS RATES "
		    "PERMILLES RAW\n");
		return 2;
	}
	n = parse_size(argv[1], 1, 50000000, "N");
	rounds = parse_size(argv[2], 1, ROUNDS_MAX, "ROUNDS");
	list = xstrdup(argv[3]);
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		if (nrates < MODES_MAX)
			rates[nrates++] = parse_rate(tok);
	free(list);
	list = xstrdup(argv[4]);
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		if (nfr < FRACS_MAX)
			fr[nfr++] = (unsigned)parse_size(tok, 0, 1000,
			    "permille");
	free(list);
	if (nrates == 0 || nfr == 0)
		return 2;
	if ((raw = fopen(argv[5], "we")) == NULL)
		die(argv[5]);
	fprintf(raw, "round\trate\tpermille\tevents\tcritical\twall_s\t"
	    "events_per_s\toffered_per_s\tput_ns\tlost\tlost_lines\t"
	    "fdatasyncs\tfdatasync_ms_mean\tfdatasync_ms_max\t"
	    "crit_durable_ms_p50\tcrit_durable_ms_p99\tcrit_durable_ms_max\t"
	    "writer_cpu_ns_per_line\twriter_busy_pct\t"
	    "writer_runqueue_wait_pct\tverify_s\tverified\n");
	gen_init(&g, s->names);
	snprintf(path, sizeof(path), "%s/run.jsonl", argv[0]);
	for (r = 0; r < rounds; r++) {
		for (m = 0; m < nrates; m++) {
			for (j = 0; j < nfr; j++) {
				struct cell *c;

				f = (j + r) % nfr;	/* a new order each round */
				c = &cells[m][f];
				remove_log(path);
				memset(&x, 0, sizeof(x));
				x.path = path;
				x.n = n;
				x.permille = fr[f];
				x.rate = rates[m];
				run_one(s, &g, &x);
				remove_log(path);
				fprintf(raw, "%zu\t%s\t%u\t%zu\t%" PRIu64
				    "\t%.4f\t%.0f\t%.0f\t%.1f\t%" PRIu64 "\t%"
				    PRIu64 "\t%" PRIu64 "\t%.3f\t%.3f\t%.3f\t"
				    "%.3f\t%.3f\t%.0f\t%.1f\t%.1f\t%.3f\t"
				    "%s\n", r + 1,
				    rate_label(x.rate, rb, sizeof(rb)),
				    x.permille, x.n, x.crit, x.wall_s,
				    (double)(x.n - x.lost) / x.wall_s,
				    x.offered, x.put_ns, x.lost, x.loglines,
				    x.syncs, x.syncs ? (double)x.sync_ns /
				    (double)x.syncs / 1e6 : 0.0,
				    (double)x.sync_max_ns / 1e6, x.lat_p50,
				    x.lat_p99, x.lat_max, writer_ns(&x),
				    pct_of(x.writer_cpu_ns, x.wall_s),
				    pct_of(x.writer_wait_ns, x.wall_s),
				    x.verify_s, x.ok ? "yes" : x.why);
				fflush(raw);
				if (!x.ok) {
					broken++;
					c->bad++;
					fprintf(stderr, "evlog-bench: round %zu "
					    "%s %u permille: BROKEN: %s\n",
					    r + 1, rate_label(x.rate, rb,
					    sizeof(rb)), x.permille, x.why);
				}
				c->eps[r] = (double)(x.n - x.lost) / x.wall_s;
				c->put[r] = x.put_ns;
				c->lost[r] = (double)x.lost;
				c->syncs[r] = (double)x.syncs;
				c->syncms[r] = x.syncs ? (double)x.sync_ns /
				    (double)x.syncs / 1e6 : 0;
				c->p50[r] = x.lat_p50;
				c->p99[r] = x.lat_p99;
				c->offered[r] = x.offered;
				c->wcpu[r] = writer_ns(&x);
				c->busy[r] = pct_of(x.writer_cpu_ns,
				    x.wall_s);
				c->wait[r] = pct_of(x.writer_wait_ns,
				    x.wall_s);
				c->nlat += x.nlat;
			}
			for (f = 0; f < nfr; f++)
				cells[m][f].ratio[r] = cells[m][f].eps[r] /
				    cells[m][0].eps[r];
		}
		fprintf(stderr, "evlog-bench: round %zu of %zu done\n", r + 1,
		    rounds);
	}
	fclose(raw);

	printf("%zu events a run, %zu rounds, batches of %u, queue %zu "
	    "bytes, rotation at %" PRIu64 " bytes, line hook %s; medians over the rounds (min-max); "
	    "building an event costs %.0f ns of the ns per put\n\n",
	    n, rounds, s->batch, s->queue_bytes ? s->queue_bytes :
	    (size_t)EVLOG_QUEUE_DEFAULT, s->rotate_bytes,
	    s->hook ? "on" : "off",
	    build_ns(&g));
	printf("| rate | critical | events/s to disk | vs %u‰ same round | "
	    "offered/s | ns per put | writer CPU ns per event | writer busy "
	    "/ waiting for a CPU %% | lost | fdatasyncs | ms per fdatasync | "
	    "critical put→durable p50 / p99 ms |\n", fr[0]);
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	    "---:|\n");
	for (m = 0; m < nrates; m++)
		for (f = 0; f < nfr; f++) {
			struct cell *c = &cells[m][f];
			double eps_lo, eps_hi, rlo, rhi, llo, lhi;
			char lat[64];

			range(c->eps, rounds, &eps_lo, &eps_hi);
			range(c->ratio, rounds, &rlo, &rhi);
			range(c->lost, rounds, &llo, &lhi);
			memcpy(t, c->p50, sizeof(t));
			if (c->nlat > 0) {
				for (k = 0; k < rounds && t[k] >= 0; k++)
					;
				if (k == rounds) {
					double a = median(t, rounds);

					memcpy(t, c->p99, sizeof(t));
					snprintf(lat, sizeof(lat),
					    "%.2f / %.2f", a,
					    median(t, rounds));
				} else
					snprintf(lat, sizeof(lat), "-");
			} else
				snprintf(lat, sizeof(lat), "-");
			memcpy(t, c->eps, sizeof(t));
			printf("| %s | %.1f%% | %.0f (%.0f-%.0f) | ",
			    rate_label(rates[m], rb, sizeof(rb)),
			    fr[f] / 10.0, median(t, rounds), eps_lo, eps_hi);
			memcpy(t, c->ratio, sizeof(t));
			printf("%.3f (%.3f-%.3f) | ", median(t, rounds), rlo,
			    rhi);
			memcpy(t, c->offered, sizeof(t));
			printf("%.0f | ", median(t, rounds));
			memcpy(t, c->put, sizeof(t));
			printf("%.0f | ", median(t, rounds));
			memcpy(t, c->wcpu, sizeof(t));
			printf("%.0f | ", median(t, rounds));
			memcpy(t, c->busy, sizeof(t));
			printf("%.0f / ", median(t, rounds));
			memcpy(t, c->wait, sizeof(t));
			printf("%.0f | ", median(t, rounds));
			memcpy(t, c->lost, sizeof(t));
			printf("%.0f (%.0f-%.0f) | ", median(t, rounds), llo,
			    lhi);
			memcpy(t, c->syncs, sizeof(t));
			printf("%.0f | ", median(t, rounds));
			memcpy(t, c->syncms, sizeof(t));
			printf("%.2f | %s |%s\n", median(t, rounds), lat,
			    c->bad ? " BROKEN RUNS" : "");
		}
	printf("\n%s\n", broken ? "verify: SOME RUNS BROKEN (see RAW)" :
	    "verify: every run's chain intact, every event accounted for");
	return broken ? 1 : 0;
}

/* ------------------------------------------------------------ main */

static void
usage(void)
{
	fprintf(stderr, "usage: evlog-bench [-b B] [-q BYTES] [-r BYTES] [-H] "
	    "[-n NAMES] matrix DIR N ROUNDS RATES PERMILLES RAW\n"
	    "       evlog-bench [-b B] [-q BYTES] [-r BYTES] [-H] [-n NAMES] "
	    "one FILE N PERMILLE RATE\n"
	    "       evlog-bench [-r BYTES] [-n NAMES] [-c PERMILLE] gen FILE N "
	    "DAYS\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct settings s = { 16, 0, 0, true, false, NULL, 0 };
	unsigned gen_permille = 1;
	struct gen g;
	struct run x;
	int ch;

	while ((ch = getopt(argc, argv, "b:c:Hn:q:r:")) != -1) {
		switch (ch) {
		case 'b':
			s.batch = (unsigned)parse_size(optarg, 1, 4096, "-b");
			break;
		case 'c':
			gen_permille = (unsigned)parse_size(optarg, 0, 1000,
			    "-c");
			break;
		case 'H':
			s.hook = false;
			break;
		case 'n':
			s.names = optarg;
			break;
		case 'r':
			s.rotate_bytes = parse_size(optarg, 0, (size_t)1 << 40,
			    "-r");
			break;
		case 'q':
			s.queue_bytes = parse_size(optarg, 16384, 1u << 30,
			    "-q");
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	log_init("evlog-bench", false);
	log_set_level(LOG_LEVEL_WARN);	/* not each rotation */
	if (strcmp(argv[0], "matrix") == 0)
		return matrix(&s, argc - 1, argv + 1);
	memset(&x, 0, sizeof(x));
	if (strcmp(argv[0], "one") == 0 && argc == 5) {
		x.path = argv[1];
		x.n = parse_size(argv[2], 1, 50000000, "N");
		x.permille = (unsigned)parse_size(argv[3], 0, 1000,
		    "PERMILLE");
		x.rate = parse_rate(argv[4]);
	} else if (strcmp(argv[0], "gen") == 0 && argc == 4) {
		x.path = argv[1];
		x.n = parse_size(argv[2], 1, 50000000, "N");
		x.permille = gen_permille;
		x.rate = -1;
		s.days = (double)parse_size(argv[3], 1, 365, "DAYS");
		s.indicators = true;
		s.batch = 64;
	} else
		usage();
	if (access(x.path, F_OK) == 0) {
		fprintf(stderr, "evlog-bench: %s exists\n", x.path);
		return 1;
	}
	gen_init(&g, s.names);
	g.indicators = s.indicators;
	run_one(&s, &g, &x);
	print_run(&x);
	return x.ok ? 0 : 1;
}
