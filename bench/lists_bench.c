/*
 * lists_bench.c - measures compiled domain sets (sgdb): compile time, file
 * size, open time, lookup cost, memory; and starts dnsmasq or unbound to
 * time their start-up beside it.  bench/lists.sh drives it and writes the
 * table; bench/RESULTS.md says what the figures mean.
 *
 *   lists-bench gen SRC QUERIES LABELS OUTDIR
 *	From SRC (normalised names, one a line) writes OUTDIR/2m.domains
 *	(SRC, then each name again under a prefix label chosen so that no
 *	added name is in SRC), and from QUERIES and LABELS (one of U, L, S a
 *	line: unlisted, listed, subdomain of a listed name) the query sets
 *	q-hits (L and S), q-miss (U), q-5label (every 5-label query),
 *	q-5miss ("p1.p2.p3." + each 2-label U query, unless one of its
 *	suffixes is listed), q-coldmiss (50,000 distinct generated names, none
 *	listed: misses that no earlier lookup brought into the cache); and
 *	conf-10k.hashes ("sha256:HEX" of 10,000 generated .invalid names)
 *	with those names in q-conf.
 *   lists-bench compile-file OUT FILE [HASHFILE]
 *	compile_lists() on FILE (category "bench"; HASHFILE, if given, as the
 *	confidential category "abuse"), then sgdb_write() to OUT.
 *   lists-bench compile-direct FILE [OUT]
 *	Reads FILE's lines into memory first (not timed), then times only
 *	sgdb_builder_add() of each and sgdb_builder_finish(); writes OUT.
 *   lists-bench open FILE N
 *	N opens and closes, timed; "warm" with the file in the page cache,
 *	"cold" after posix_fadvise(DONTNEED) drops this file's pages.
 *   lists-bench lookup FILE ROUNDS SET...
 *	Per-lookup cost of each query set, timed with the TSC (below), and
 *	this process's memory after.  With LB_IMAGE=1 in the environment the
 *	file is read and opened with sgdb_open_image() (an anonymous copy,
 *	which glibc can back with huge pages: GLIBC_TUNABLES=
 *	glibc.malloc.hugetlb=1) instead of mapped: a diagnostic for TLB cost.
 *   lists-bench callgrind FILE SET N
 *	Only N lookups (cycling through SET); run it under callgrind.
 *   lists-bench startup PORT NAME CMD...
 *	Runs CMD, sends a query for NAME to 127.0.0.1:PORT every millisecond
 *	until one is answered, then reports the time from exec and the
 *	process's VmRSS; then stops it.
 *
 * Output is "key=value" lines for lists.sh.
 *
 * Timing a lookup.  clock_gettime() costs about as much as a lookup and
 * ticks too coarsely, so each lookup is bracketed by the TSC
 * (lfence; rdtsc ... rdtscp; lfence), the cost of an empty bracket (its
 * median over 100,000 tries) is subtracted, and ticks are turned into ns
 * by a rate measured against CLOCK_MONOTONIC over the whole run.  A batch
 * pass with no per-lookup timing gives the mean as a cross-check.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <openssl/sha.h>

#include "compile.h"
#include "cursor.h"
#include "sgdb.h"

#define CONF_NAMES	10000
#define COLD_MISSES	50000

struct names {
	char		*buf;		/* the file's bytes, NUL-separated */
	const char	**name;
	size_t		*len;
	size_t		 n;
};

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("lists-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n > 0 ? n : 1);

	if (p == NULL)
		die("out of memory");
	return p;
}

static char *
read_all(const char *path, size_t *len)
{
	struct stat sb;
	char *buf;
	size_t got = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1)
		die("%s: %s", path, strerror(errno));
	buf = xmalloc((size_t)sb.st_size + 1);
	while (got < (size_t)sb.st_size) {
		if ((r = read(fd, buf + got, (size_t)sb.st_size - got)) <= 0)
			die("%s: read: %s", path, r == 0 ? "short" :
			    strerror(errno));
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* Every non-empty line of path, in order. */
static void
names_load(const char *path, struct names *ns)
{
	struct cursor c;
	const char *line;
	size_t len, n = 0, cap = 1024;

	ns->buf = read_all(path, &len);
	ns->name = xmalloc(cap * sizeof(*ns->name));
	ns->len = xmalloc(cap * sizeof(*ns->len));
	cursor_init(&c, ns->buf, len);
	while ((line = cursor_line(&c, &len)) != NULL) {
		if (len == 0)
			continue;
		if (n == cap) {
			cap *= 2;
			if ((ns->name = realloc(ns->name,
			    cap * sizeof(*ns->name))) == NULL ||
			    (ns->len = realloc(ns->len,
			    cap * sizeof(*ns->len))) == NULL)
				die("out of memory");
		}
		ns->name[n] = line;
		ns->len[n] = len;
		((char *)line)[len] = '\0';	/* over the '\n' or '\r' */
		n++;
	}
	ns->n = n;
}

static void
names_free(struct names *ns)
{
	free(ns->buf);
	free(ns->name);
	free(ns->len);
}

static size_t
labels(const char *s, size_t n)
{
	size_t i, k = 1;

	for (i = 0; i < n; i++)
		k += s[i] == '.';
	return k;
}

static long
maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* A field of /proc/PID/status in kB, or -1. */
static long
status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t fl = strlen(field);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			v = strtol(line + fl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank, on a sorted array. */
static uint64_t
rank_u64(const uint64_t *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)n + 0.999999);

	return v[i == 0 ? 0 : (i > n ? n : i) - 1];
}

static double
median_d(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---------------------------------------------------------------- gen */

/* A set of names for gen's distinctness check: open addressing. */
struct nset {
	const char	**slot;
	size_t		 mask;
};

static uint64_t
fnv(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n-- > 0)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ull;
	return h ^ h >> 29;
}

static bool
nset_has(const struct nset *s, const char *p, size_t n)
{
	size_t i = fnv(p, n) & s->mask;

	for (; s->slot[i] != NULL; i = (i + 1) & s->mask)
		if (strlen(s->slot[i]) == n && memcmp(s->slot[i], p, n) == 0)
			return true;
	return false;
}

static void
nset_add(struct nset *s, const char *p)
{
	size_t n = strlen(p), i = fnv(p, n) & s->mask;

	for (; s->slot[i] != NULL; i = (i + 1) & s->mask)
		if (strcmp(s->slot[i], p) == 0)
			return;
	s->slot[i] = p;
}

/* True if some suffix of prefix + name longer than name is in the set. */
static bool
listed_under(const struct nset *s, const char *prefix, const char *name)
{
	char buf[300];
	const char *p;
	int k = snprintf(buf, sizeof(buf), "%s%s", prefix, name);

	if (k < 0 || (size_t)k >= sizeof(buf))
		return true;
	for (p = buf; p < buf + strlen(prefix); p = strchr(p, '.') + 1)
		if (nset_has(s, p, strlen(p)))
			return true;
	return false;
}

static FILE *
out_open(const char *dir, const char *file)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((f = fopen(path, "w")) == NULL)
		die("%s: %s", path, strerror(errno));
	return f;
}

static void
out_close(FILE *f, const char *what)
{
	if (fclose(f) != 0)
		die("%s: %s", what, strerror(errno));
}

static int
cmd_gen(int argc, char **argv)
{
	struct names src, q, lab;
	struct nset set;
	char prefix[16], name[300];
	size_t i, cap, clash = 0, toolong = 0, added = 0;
	size_t nhit = 0, nmiss = 0, n5 = 0, n5m = 0, n5skip = 0;
	uint8_t sha[SHA256_DIGEST_LENGTH];
	unsigned try;
	FILE *f, *fh, *fm, *f5, *f5m, *fc;

	if (argc != 6)
		die("usage: gen SRC QUERIES LABELS OUTDIR");
	names_load(argv[2], &src);
	names_load(argv[3], &q);
	names_load(argv[4], &lab);
	if (q.n != lab.n)
		die("%zu queries but %zu labels", q.n, lab.n);

	for (cap = 1; cap < src.n * 2; cap *= 2)
		;
	set.mask = cap - 1;
	set.slot = calloc(cap, sizeof(*set.slot));
	if (set.slot == NULL)
		die("out of memory");
	for (i = 0; i < src.n; i++)
		nset_add(&set, src.name[i]);

	/* A prefix label none of whose names is already in SRC. */
	for (try = 0; try < 100; try++) {
		snprintf(prefix, sizeof(prefix), "x%u", try);
		for (clash = 0, i = 0; i < src.n; i++) {
			int k = snprintf(name, sizeof(name), "%s.%s", prefix,
			    src.name[i]);

			if ((size_t)k < sizeof(name) &&
			    nset_has(&set, name, (size_t)k))
				clash++;
		}
		if (clash == 0)
			break;
	}
	if (clash != 0)
		die("no prefix label gives distinct names");
	f = out_open(argv[5], "2m.domains");
	for (i = 0; i < src.n; i++)
		fprintf(f, "%s\n", src.name[i]);
	for (i = 0; i < src.n; i++) {
		if (src.len[i] + strlen(prefix) + 1 > 253) {
			toolong++;
			continue;
		}
		fprintf(f, "%s.%s\n", prefix, src.name[i]);
		added++;
	}
	out_close(f, "2m.domains");

	fh = out_open(argv[5], "q-hits");
	fm = out_open(argv[5], "q-miss");
	f5 = out_open(argv[5], "q-5label");
	f5m = out_open(argv[5], "q-5miss");
	for (i = 0; i < q.n; i++) {
		size_t nl = labels(q.name[i], q.len[i]);
		char t = lab.name[i][0];

		if (t == 'L' || t == 'S') {
			fprintf(fh, "%s\n", q.name[i]);
			nhit++;
		} else if (t == 'U') {
			fprintf(fm, "%s\n", q.name[i]);
			nmiss++;
			if (nl == 2 && !listed_under(&set, "p1.p2.p3.",
			    q.name[i])) {
				fprintf(f5m, "p1.p2.p3.%s\n", q.name[i]);
				n5m++;
			} else if (nl == 2)
				n5skip++;
		} else
			die("%s: line %zu: label %c", argv[4], i + 1, t);
		if (nl == 5) {
			fprintf(f5, "%s\n", q.name[i]);
			n5++;
		}
	}
	out_close(fh, "q-hits");
	out_close(fm, "q-miss");
	out_close(f5, "q-5label");
	out_close(f5m, "q-5miss");
	f = out_open(argv[5], "q-coldmiss");
	for (i = 0; i < COLD_MISSES; i++) {
		int k = snprintf(name, sizeof(name), "u%07zu-sgbench.com", i);

		if (nset_has(&set, name, (size_t)k))
			die("%s is listed", name);
		fprintf(f, "%s\n", name);
	}
	out_close(f, "q-coldmiss");

	f = out_open(argv[5], "conf-10k.hashes");
	fc = out_open(argv[5], "q-conf");
	for (i = 0; i < CONF_NAMES; i++) {
		int k = snprintf(name, sizeof(name), "c%05zu.sgbench.invalid",
		    i);
		size_t j;

		SHA256((const unsigned char *)name, (size_t)k, sha);
		fputs("sha256:", f);
		for (j = 0; j < sizeof(sha); j++)
			fprintf(f, "%02x", sha[j]);
		fputc('\n', f);
		fprintf(fc, "%s\n", name);
	}
	out_close(f, "conf-10k.hashes");
	out_close(fc, "q-conf");

	printf("src_names=%zu\nprefix=%s\nadded=%zu\ntoo_long=%zu\n"
	    "names_2m=%zu\nq_hits=%zu\nq_miss=%zu\nq_5label=%zu\n"
	    "q_5miss=%zu\nq_5miss_skipped=%zu\nq_coldmiss=%d\n"
	    "conf_names=%d\n", src.n, prefix, added, toolong, src.n + added,
	    nhit, nmiss, n5, n5m, n5skip, COLD_MISSES, CONF_NAMES);
	free(set.slot);
	names_free(&src);
	names_free(&q);
	names_free(&lab);
	return 0;
}

/* ---------------------------------------------------------------- compile */

static void
count_errors(void *arg, const char *file, size_t line, const char *reason)
{
	size_t *n = arg;

	if ((*n)++ < 5)
		fprintf(stderr, "%s:%zu: %s\n", file, line, reason);
}

static int
cmd_compile_file(int argc, char **argv)
{
	struct compile_input in[2] = {
		{ .category = "bench", .confidential = false },
		{ .category = "abuse", .confidential = true },
	};
	struct compile_report rep;
	size_t len, errors = 0;
	void *image;
	double t0, t1, t2;
	int rc;

	if (argc != 4 && argc != 5)
		die("usage: compile-file OUT FILE [HASHFILE]");
	in[0].path = argv[3];
	in[1].path = argc == 5 ? argv[4] : NULL;
	t0 = now();
	if ((rc = compile_lists(in, argc == 5 ? 2 : 1, count_errors, &errors,
	    &rep, &image, &len)) < 0)
		die("compile: %s: %s", rep.failed_path != NULL ?
		    rep.failed_path : "-", sg_strerror(rc));
	t1 = now();
	if ((rc = sgdb_write(argv[2], image, len)) < 0)
		die("%s: %s", argv[2], sg_strerror(rc));
	t2 = now();
	printf("compile_s=%.4f\nreport_s=%.4f\nwrite_s=%.4f\nlines=%zu\n"
	    "entries=%zu\nduplicates=%zu\ninvalid=%zu\nbytes=%zu\n"
	    "bytes_per_entry=%.2f\nmaxrss_kb=%ld\n", t1 - t0, rep.seconds,
	    t2 - t1, rep.total.lines, rep.entries, rep.duplicates,
	    rep.total.invalid, len, (double)len / (double)rep.entries,
	    maxrss_kb());
	free(image);
	return 0;
}

static int
cmd_compile_direct(int argc, char **argv)
{
	struct sgdb_build_stats st[SGDB_MAX_CATEGORIES];
	struct sgdb_builder *b;
	struct names ns;
	size_t i, len;
	void *image;
	double t0, t1;
	int cat, list, rc;

	if (argc != 3 && argc != 4)
		die("usage: compile-direct FILE [OUT]");
	t0 = now();
	names_load(argv[2], &ns);
	t1 = now();
	printf("load_s=%.4f\n", t1 - t0);
	t0 = now();
	if ((b = sgdb_builder_new()) == NULL)
		die("sgdb_builder_new: %s", strerror(errno));
	if ((cat = sgdb_builder_category(b, "bench", false)) < 0 ||
	    (list = sgdb_builder_list(b, (unsigned)cat, "bench")) < 0)
		die("builder: %s", sg_strerror(cat < 0 ? cat : list));
	for (i = 0; i < ns.n; i++)
		if ((rc = sgdb_builder_add(b, (unsigned)list, ns.name[i],
		    ns.len[i], false)) < 0)
			die("add %s: %s", ns.name[i], sg_strerror(rc));
	t1 = now();
	printf("add_s=%.4f\n", t1 - t0);
	if ((rc = sgdb_builder_finish(b, &image, &len, st)) < 0)
		die("finish: %s", sg_strerror(rc));
	printf("finish_s=%.4f\ncompile_direct_s=%.4f\nentries=%zu\nbytes=%zu\n"
	    "maxrss_kb=%ld\n", now() - t1, now() - t0, st[cat].entries, len,
	    maxrss_kb());
	if (argc == 4 && (rc = sgdb_write(argv[3], image, len)) < 0)
		die("%s: %s", argv[3], sg_strerror(rc));
	sgdb_builder_free(b);
	free(image);
	names_free(&ns);
	return 0;
}

/* ---------------------------------------------------------------- open */

static void
drop_pages(const char *path)
{
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		die("%s: %s", path, strerror(errno));
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

static int
cmd_open(int argc, char **argv)
{
	struct sgdb *db;
	char why[256];
	double *warm, *cold, t0;
	int i, n, rc, pass;

	if (argc != 4 || (n = atoi(argv[3])) < 1)
		die("usage: open FILE N");
	warm = xmalloc((size_t)n * sizeof(*warm));
	cold = xmalloc((size_t)n * sizeof(*cold));
	for (i = 0; i < n; i++) {
		for (pass = 0; pass < 2; pass++) {
			if (pass == 1)
				drop_pages(argv[2]);
			t0 = now();
			if ((rc = sgdb_open(argv[2], &db, why,
			    sizeof(why))) < 0)
				die("%s: %s", argv[2], why);
			(pass == 0 ? warm : cold)[i] = (now() - t0) * 1e3;
			sgdb_close(db);
		}
	}
	/* Leave the file cached for whatever runs next. */
	if ((rc = sgdb_open(argv[2], &db, why, sizeof(why))) < 0)
		die("%s: %s", argv[2], why);
	sgdb_close(db);
	printf("opens=%d\nopen_warm_ms=%.3f\n", n, median_d(warm, (size_t)n));
	printf("open_warm_min_ms=%.3f\nopen_warm_max_ms=%.3f\n", warm[0],
	    warm[n - 1]);
	printf("open_cold_ms=%.3f\n", median_d(cold, (size_t)n));
	printf("open_cold_min_ms=%.3f\nopen_cold_max_ms=%.3f\n", cold[0],
	    cold[n - 1]);
	free(warm);
	free(cold);
	return 0;
}

/* ---------------------------------------------------------------- lookup */

static inline uint64_t
tsc_begin(void)
{
	uint64_t t;

	_mm_lfence();
	t = __rdtsc();
	_mm_lfence();
	return t;
}

static inline uint64_t
tsc_end(void)
{
	unsigned aux;
	uint64_t t = __rdtscp(&aux);

	_mm_lfence();
	return t;
}

/* The median cost of an empty bracket, in ticks. */
static uint64_t
tsc_overhead(void)
{
	enum { N = 100000 };
	uint64_t *v = xmalloc(N * sizeof(*v)), t, r;
	size_t i;

	for (i = 0; i < N; i++) {
		t = tsc_begin();
		v[i] = tsc_end() - t;
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	r = v[N / 2];
	free(v);
	return r;
}

static size_t
do_lookups(const struct sgdb *db, const struct names *ns)
{
	struct sgdb_match m;
	size_t i, hits = 0;

	for (i = 0; i < ns->n; i++)
		hits += sgdb_lookup(db, ns->name[i], ns->len[i], &m);
	return hits;
}

static int
cmd_lookup(int argc, char **argv)
{
	struct sgdb *db;
	struct sgdb_match m;
	struct names *sets;
	char why[256];
	uint64_t **ticks, *all, over, tsc0, tsc1, t;
	double **batch, t0, ghz, open_ms;
	size_t nsets, s, i, r, rounds, *hits;
	long base_kb, open_kb;
	int rc;

	if (argc < 5 || atoi(argv[3]) < 1)
		die("usage: lookup FILE ROUNDS SET...");
	rounds = (size_t)atoi(argv[3]);
	nsets = (size_t)argc - 4;
	sets = xmalloc(nsets * sizeof(*sets));
	ticks = xmalloc(nsets * sizeof(*ticks));
	batch = xmalloc(nsets * sizeof(*batch));
	hits = xmalloc(nsets * sizeof(*hits));
	for (s = 0; s < nsets; s++) {
		names_load(argv[4 + s], &sets[s]);
		ticks[s] = xmalloc(rounds * sets[s].n * sizeof(**ticks));
		batch[s] = xmalloc(rounds * sizeof(**batch));
	}
	base_kb = status_kb(getpid(), "VmRSS");
	t0 = now();
	if (getenv("LB_IMAGE") != NULL && strcmp(getenv("LB_IMAGE"), "1") ==
	    0) {
		size_t ilen;
		char *img = read_all(argv[2], &ilen);

		rc = sgdb_open_image(img, ilen, &db, why, sizeof(why));
		free(img);
	} else
		rc = sgdb_open(argv[2], &db, why, sizeof(why));
	if (rc < 0)
		die("%s: %s", argv[2], why);
	open_ms = (now() - t0) * 1e3;
	open_kb = status_kb(getpid(), "VmRSS");

	over = tsc_overhead();
	t0 = now();
	tsc0 = __rdtsc();
	for (s = 0; s < nsets; s++)	/* warm-up, and the answers */
		hits[s] = do_lookups(db, &sets[s]);
	for (r = 0; r < rounds; r++) {
		for (s = 0; s < nsets; s++) {
			const struct names *ns = &sets[s];
			uint64_t *tk = ticks[s] + r * ns->n;
			double b0;

			for (i = 0; i < ns->n; i++) {
				t = tsc_begin();
				(void)sgdb_lookup(db, ns->name[i], ns->len[i],
				    &m);
				t = tsc_end() - t;
				tk[i] = t > over ? t - over : 0;
			}
			b0 = now();
			if (do_lookups(db, ns) != hits[s])
				die("%s: answers changed", argv[4 + s]);
			batch[s][r] = (now() - b0) * 1e9 / (double)ns->n;
		}
	}
	tsc1 = __rdtsc();
	ghz = (double)(tsc1 - tsc0) / ((now() - t0) * 1e9);

	printf("open_ms=%.3f\ntsc_ghz=%.4f\ntsc_overhead_ticks=%llu\n"
	    "tsc_overhead_ns=%.1f\n", open_ms, ghz, (unsigned long long)over,
	    (double)over / ghz);
	for (s = 0; s < nsets; s++) {
		const char *base = strrchr(argv[4 + s], '/');
		size_t n = rounds * sets[s].n;
		double med[64], bmean;
		size_t nr = rounds < 64 ? rounds : 64;

		base = base != NULL ? base + 1 : argv[4 + s];
		for (r = 0; r < nr; r++) {
			uint64_t *tk = ticks[s] + r * sets[s].n;

			qsort(tk, sets[s].n, sizeof(*tk), cmp_u64);
			med[r] = (double)rank_u64(tk, sets[s].n, 0.5) / ghz;
		}
		all = ticks[s];
		qsort(all, n, sizeof(*all), cmp_u64);
		bmean = median_d(batch[s], rounds);
		qsort(med, nr, sizeof(*med), cmp_double);
		printf("set=%s n=%zu hits=%zu med_ns=%.1f p99_ns=%.1f "
		    "p999_ns=%.1f round_med_min_ns=%.1f round_med_max_ns=%.1f "
		    "batch_mean_ns=%.1f\n", base, sets[s].n, hits[s],
		    (double)rank_u64(all, n, 0.5) / ghz,
		    (double)rank_u64(all, n, 0.99) / ghz,
		    (double)rank_u64(all, n, 0.999) / ghz, med[0],
		    med[nr - 1], bmean);
	}
	printf("rss_base_kb=%ld\nrss_open_kb=%ld\nrss_kb=%ld\n"
	    "rss_anon_kb=%ld\nrss_file_kb=%ld\nhwm_kb=%ld\nset_bytes=%zu\n",
	    base_kb, open_kb, status_kb(getpid(), "VmRSS"),
	    status_kb(getpid(), "RssAnon"), status_kb(getpid(), "RssFile"),
	    status_kb(getpid(), "VmHWM"), sgdb_bytes(db));
	sgdb_close(db);
	for (s = 0; s < nsets; s++) {
		names_free(&sets[s]);
		free(ticks[s]);
		free(batch[s]);
	}
	free(sets);
	free(ticks);
	free(batch);
	free(hits);
	return 0;
}

static int
cmd_callgrind(int argc, char **argv)
{
	struct sgdb *db;
	struct sgdb_match m;
	struct names ns;
	char why[256];
	size_t i, n, hits = 0;
	int rc;

	if (argc != 5 || atol(argv[4]) < 1)
		die("usage: callgrind FILE SET N");
	n = (size_t)atol(argv[4]);
	names_load(argv[3], &ns);
	if (ns.n == 0)
		die("%s: empty", argv[3]);
	if ((rc = sgdb_open(argv[2], &db, why, sizeof(why))) < 0)
		die("%s: %s", argv[2], why);
	for (i = 0; i < n; i++)
		hits += sgdb_lookup(db, ns.name[i % ns.n], ns.len[i % ns.n],
		    &m);
	printf("lookups=%zu\nhits=%zu\n", n, hits);
	sgdb_close(db);
	names_free(&ns);
	return 0;
}

/* ---------------------------------------------------------------- startup */

/* A query for name, type A, id; returns its length. */
static size_t
dns_query(uint8_t *q, size_t cap, const char *name, uint16_t id)
{
	size_t n = 12, l;
	const char *p = name, *dot;

	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = 0x01;		/* RD */
	q[5] = 1;		/* QDCOUNT */
	while (*p != '\0') {
		dot = strchr(p, '.');
		l = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (l == 0 || l > 63 || n + l + 6 > cap)
			die("bad probe name %s", name);
		q[n++] = (uint8_t)l;
		memcpy(q + n, p, l);
		n += l;
		p += l + (dot != NULL);
	}
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = 1;		/* A */
	q[n++] = 0;
	q[n++] = 1;		/* IN */
	return n;
}

static int
cmd_startup(int argc, char **argv)
{
	struct sockaddr_in sin;
	uint8_t q[512], a[4096];
	struct cursor c;
	struct pollfd pfd;
	double t0, t1 = 0, deadline;
	long rss0, rss1;
	uint16_t id = 0, rid, flags;
	ssize_t r;
	size_t qlen;
	pid_t pid;
	int fd, st, rcode = -1;

	if (argc < 5)
		die("usage: startup PORT NAME CMD...");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(argv[2]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket: %s", strerror(errno));
	t0 = now();
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		/* Its chatter goes to stderr; stdout is for our key=value. */
		if (dup2(STDERR_FILENO, STDOUT_FILENO) == -1)
			_exit(127);
		execvp(argv[4], argv + 4);
		_exit(127);
	}
	deadline = t0 + 120;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (t1 == 0) {
		if (now() > deadline || waitpid(pid, &st, WNOHANG) == pid)
			die("%s did not answer", argv[4]);
		qlen = dns_query(q, sizeof(q), argv[3], ++id);
		/* Refused while nothing listens: try again a little later. */
		(void)sendto(fd, q, qlen, 0, (struct sockaddr *)&sin,
		    sizeof(sin));
		while (poll(&pfd, 1, 1) == 1) {
			if ((r = recv(fd, a, sizeof(a), 0)) < 0)
				break;
			cursor_init(&c, a, (size_t)r);
			rid = cursor_u16(&c);
			flags = cursor_u16(&c);
			if (c.err != 0 || !(flags & 0x8000) || rid == 0 ||
			    rid > id)
				continue;
			t1 = now();
			rcode = flags & 0xf;
			break;
		}
	}
	rss0 = status_kb(pid, "VmRSS");
	usleep(500000);		/* in case it is still settling */
	rss1 = status_kb(pid, "VmRSS");
	printf("startup_ms=%.1f\nrcode=%d\nrss_answer_kb=%ld\nrss_kb=%ld\n"
	    "hwm_kb=%ld\n", (t1 - t0) * 1e3, rcode, rss0, rss1,
	    status_kb(pid, "VmHWM"));
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	close(fd);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct {
		const char	*name;
		int		(*fn)(int, char **);
	} cmds[] = {
		{ "gen", cmd_gen },
		{ "compile-file", cmd_compile_file },
		{ "compile-direct", cmd_compile_direct },
		{ "open", cmd_open },
		{ "lookup", cmd_lookup },
		{ "callgrind", cmd_callgrind },
		{ "startup", cmd_startup },
	};
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc, argv);
	fprintf(stderr, "usage: lists-bench gen|compile-file|compile-direct|"
	    "open|lookup|callgrind|startup ...\n");
	return 2;
}
