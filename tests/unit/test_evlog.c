/*
 * Unit tests: event lines are valid JSON with only metadata in them, and
 * the chain the writer thread builds verifies, breaks where a line is
 * changed, survives a crash, a rotation, a purge and a full queue.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "evlog.h"

static const char *names[] = { "adult", "gambling", "bypass" };

static struct event
sample(void)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts.tv_sec = 1700000000;
	ev.ts.tv_nsec = 123456789;
	ev.kind = "dns";
	ev.transport = "udp";
	cr_assert_eq(addr_parse(&ev.client, "fd00::2"), 0);
	ev.mac = mac;
	ev.name = "www.blocked.test";
	ev.name_len = 16;
	ev.qtype = 28;
	ev.categories = 5;
	ev.category_names = names;
	ev.ncategory_names = 3;
	ev.rule = "blocked.test";
	ev.rule_len = 12;
	ev.action = "nxdomain";
	return ev;
}

/* ------------------------------------------------------------ helpers */

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

struct tmp {
	char	dir[64];
	char	path[128];	/* dir/events.jsonl */
};

static void
tmp_init(struct tmp *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/sg-evlog-XXXXXX");
	cr_assert_not_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/events.jsonl", t->dir);
}

static void
tmp_free(struct tmp *t)
{
	nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
spit(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static void
append_text(const char *path, const char *s)
{
	FILE *f = fopen(path, "ab");

	cr_assert_not_null(f);
	fputs(s, f);
	fclose(f);
}

/* Line k (1-based) of buf: start and length with its newline. */
static void
line_at(const char *buf, size_t k, size_t *start, size_t *len)
{
	const char *p = buf, *nl;
	size_t i;

	for (i = 1; i < k; i++) {
		nl = strchr(p, '\n');
		cr_assert_not_null(nl);
		p = nl + 1;
	}
	nl = strchr(p, '\n');
	*start = (size_t)(p - buf);
	*len = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
}

static size_t
count_lines(const char *buf, const char *needle)
{
	const char *p = buf, *nl;
	size_t n = 0;

	for (; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p) - 1;
		if (needle == NULL || memmem(p, (size_t)(nl - p + 1), needle,
		    strlen(needle)) != NULL)
			n++;
	}
	return n;
}

/* Writes n sample events through the real writer thread. */
static void
write_events(const char *path, const struct evlog_opts *o, int n)
{
	struct evlog *log = evlog_open(path, o);
	struct event ev = sample();
	int i;

	cr_assert_not_null(log, "open %s: %s", path, strerror(errno));
	cr_assert_eq(evlog_start(log), 0);
	for (i = 0; i < n; i++) {
		ev.ts.tv_sec = 1700000000 + i;
		cr_assert_eq(evlog_submit(log, &ev), 0);
	}
	cr_assert_eq(evlog_sync(log), 0);
	evlog_close(log);
}

/* The rotated files, then path: verify-log's default list. */
static void
verify_all(const char *path, struct evlog_report *r, size_t *nfiles)
{
	const char *paths[512];
	char **rot;
	size_t n, i;

	cr_assert_eq(evlog_rotated(path, &rot, &n), 0);
	cr_assert_lt(n, 511);
	for (i = 0; i < n; i++)
		paths[i] = rot[i];
	paths[n] = path;
	cr_assert_eq(evlog_verify(paths, n + 1, r), 0);
	if (nfiles != NULL)
		*nfiles = n + 1;
	evlog_names_free(rot, n);
}

static void
verify_one(const char *path, struct evlog_report *r)
{
	const char *paths[1] = { path };

	cr_assert_eq(evlog_verify(paths, 1, r), 0);
}

/* ------------------------------------------------------------ format */

Test(evlog, format)
{
	struct event ev = sample();
	char buf[EVLOG_LINE_MAX];
	int n;

	n = evlog_format(&ev, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_str_eq(buf, "\"ts\":\"2023-11-14T22:13:20.123456Z\","
	    "\"kind\":\"dns\",\"transport\":\"udp\",\"client\":\"fd00::2\","
	    "\"mac\":\"02:00:00:00:00:01\",\"name\":\"www.blocked.test\","
	    "\"qtype\":\"AAAA\",\"categories\":[\"adult\",\"bypass\"],"
	    "\"rule\":\"blocked.test\",\"action\":\"nxdomain\"");
	cr_assert_eq((size_t)n, strlen(buf));
	cr_assert(!evlog_critical(&ev));
}

Test(evlog, ech_is_recorded)
{
	struct event ev = sample();
	char buf[EVLOG_LINE_MAX];

	ev.kind = "tls";
	ev.transport = "tcp";
	ev.qtype = 0;
	ev.ech = true;
	ev.action = "reset";
	cr_assert_gt(evlog_format(&ev, buf, sizeof(buf)), 0);
	cr_assert_not_null(strstr(buf, "\"kind\":\"tls\""), "%s", buf);
	cr_assert_null(strstr(buf, "qtype"), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"rule\":\"blocked.test\",\"ech\":true,"
	    "\"action\":\"reset\""), "%s", buf);
}

Test(evlog, confidential_match_writes_no_name_and_is_held)
{
	struct event ev = sample();
	uint8_t hash[32];
	char buf[EVLOG_LINE_MAX];
	size_t i;

	for (i = 0; i < sizeof(hash); i++)
		hash[i] = (uint8_t)i;
	ev.confidential = true;
	ev.hash = hash;
	ev.list = "abuse.hashes";
	cr_assert_gt(evlog_format(&ev, buf, sizeof(buf)), 0);
	cr_assert_null(strstr(buf, "blocked"), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"name\":null,"), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"rule\":\"hash:000102030405060708090a"
	    "0b0c0d0e0f101112131415161718191a1b1c1d1e1f\",\"list\":"
	    "\"abuse.hashes\""), "%s", buf);
	cr_assert(strstr(buf, ",\"action\":\"nxdomain\",\"hold\":true") !=
	    NULL, "%s", buf);
	cr_assert(evlog_critical(&ev));
}

Test(evlog, indicator_fields)
{
	struct event ev = sample();
	char buf[EVLOG_LINE_MAX];

	ev.kind = "indicator";
	ev.transport = NULL;
	ev.name = NULL;
	ev.qtype = 0;
	ev.action = NULL;
	ev.indicator = "late-night-contact";
	ev.severity = "warning";
	cr_assert_gt(evlog_format(&ev, buf, sizeof(buf)), 0);
	cr_assert_null(strstr(buf, "transport"), "%s", buf);
	cr_assert_null(strstr(buf, "action"), "%s", buf);
	cr_assert(strstr(buf, "\"name\":null") != NULL, "%s", buf);
	cr_assert(strstr(buf, ",\"indicator\":\"late-night-contact\","
	    "\"severity\":\"warning\"") != NULL, "%s", buf);
	cr_assert(!evlog_critical(&ev));
	ev.severity = "critical";
	cr_assert(evlog_critical(&ev));
}

Test(evlog, hostile_names_are_escaped)
{
	struct event ev = sample();
	char buf[EVLOG_LINE_MAX];

	ev.name = "a\"b\\c\nd\x01\xff.test";
	ev.name_len = 14;
	ev.mac = NULL;
	cr_assert_gt(evlog_format(&ev, buf, sizeof(buf)), 0);
	cr_assert(strstr(buf, "\"name\":\"a\\\"b\\\\c\\u000ad\\u0001"
	    "\\u00ff.test\"") != NULL, "%s", buf);
	cr_assert(strstr(buf, "\"mac\":null") != NULL);
	cr_assert_null(strchr(buf, '\n'), "one line, whatever the name held");
}

Test(evlog, worst_case_fits)
{
	static const char *many[64];
	struct event ev = sample();
	char name[255], buf[EVLOG_LINE_MAX];
	size_t i;

	for (i = 0; i < 64; i++)
		many[i] = "abcdefghijklmnopqrstuvwxyz012345";
	memset(name, 0xff, sizeof(name));
	ev.name = ev.rule = name;
	ev.name_len = ev.rule_len = 254;
	ev.categories = UINT64_MAX;
	ev.category_names = many;
	ev.ncategory_names = 64;
	ev.device = ev.profile = ev.reason = ev.schedule = name + 190;
	ev.indicator = ev.severity = "abcdefghijklmnopqrstuvwxyz012345";
	name[254] = '\0';
	cr_assert_gt(evlog_format(&ev, buf, sizeof(buf)), 0);
	cr_assert_eq(evlog_format(&ev, buf, 100), SG_ELIMIT);
}

/* ------------------------------------------------------------ parsing */

Test(evlog, parse_line_frame)
{
	static const char ok[] = "{\"seq\":7,\"ts\":\"2023-11-14T22:13:20."
	    "123456Z\",\"kind\":\"log\",\"action\":\"lost\",\"count\":3,"
	    "\"prev\":\"0000000000000000000000000000000000000000000000000000"
	    "000000000000\",\"hash\":\"00000000000000000000000000000000000000"
	    "00000000000000000000000000\"}";
	struct evlog_line l;
	char bad[sizeof(ok)];

	cr_assert_eq(evlog_parse_line(ok, strlen(ok), &l), 0);
	cr_assert_eq(l.seq, 7);
	cr_assert(evlog_line_is(&l, "log", "lost"));
	cr_assert_eq(l.count, 3);
	cr_assert_eq(l.ts_len, 27);
	cr_assert_eq(l.hashed_len, strlen(ok) - 75);
	cr_assert(!evlog_line_hash_ok(ok, &l));
	/* Upper-case hex, a leading zero, a missing member: refused. */
	memcpy(bad, ok, sizeof(ok));
	bad[strlen(ok) - 3] = 'A';
	cr_assert_neq(evlog_parse_line(bad, strlen(bad), &l), 0);
	memcpy(bad, ok, sizeof(ok));
	bad[7] = '0';
	cr_assert_neq(evlog_parse_line(bad, strlen(bad), &l), 0);
	cr_assert_neq(evlog_parse_line(ok, strlen(ok) - 1, &l), 0);
	cr_assert_neq(evlog_parse_line("{}", 2, &l), 0);
	cr_assert_neq(evlog_parse_line("", 0, &l), 0);
}

Test(evlog, tail_finds_the_last_event)
{
	struct tmp t;
	struct evlog_tail tl;
	size_t len;
	char *buf, *more;

	tmp_init(&t);
	write_events(t.path, NULL, 3);
	buf = slurp(t.path, &len);
	evlog_tail(buf, len, true, &tl);
	cr_assert(tl.found);
	cr_assert_eq(tl.seq, 3);
	cr_assert_eq(tl.partial, 0);
	cr_assert_eq(tl.skipped, 0);
	/* A partial line, then garbage: still line 3, and both said. */
	more = malloc(len + 64);
	memcpy(more, buf, len);
	memcpy(more + len, "garbage\n{\"seq\":4,\"ts", 20);
	evlog_tail(more, len + 20, true, &tl);
	cr_assert(tl.found);
	cr_assert_eq(tl.seq, 3);
	cr_assert_eq(tl.partial, 12);
	cr_assert_eq(tl.skipped, 1);
	/* Only the end of the file, no whole line in it: read more. */
	evlog_tail(buf + len - 40, 40, false, &tl);
	cr_assert(!tl.found);
	cr_assert(tl.need_more);
	free(more);
	free(buf);
	tmp_free(&t);
}

/* ------------------------------------------------------------ chain */

Test(evlog, chain_through_the_writer_verifies)
{
	struct evlog_report r;
	struct evlog_line l;
	struct tmp t;
	size_t len, s, n;
	char *buf;

	tmp_init(&t);
	write_events(t.path, NULL, 100);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s at line %lu", r.why, (unsigned long)r.line);
	cr_assert_eq(r.events, 100);
	cr_assert_eq(r.first_seq, 1);
	cr_assert_eq(r.last_seq, 100);
	cr_assert_str_eq(r.first_ts, "2023-11-14T22:13:20.123456Z");
	buf = slurp(t.path, &len);
	cr_assert_eq(count_lines(buf, NULL), 100);
	line_at(buf, 1, &s, &n);
	cr_assert_eq(strncmp(buf, "{\"seq\":1,\"ts\":\"", 15), 0);
	{
		static const char z[] = ",\"prev\":\"0000000000000000000000000"
		    "000000000000000000000000000000000000000\",\"hash\":\"";

		cr_assert(memmem(buf, n, z, strlen(z)) != NULL);
	}
	cr_assert_eq(evlog_parse_line(buf + s, n - 1, &l), 0);
	cr_assert(evlog_line_hash_ok(buf + s, &l));
	/* Today's fields and order are kept, after seq. */
	cr_assert(strstr(buf, "\"kind\":\"dns\",\"transport\":\"udp\",\"client\":"
	    "\"fd00::2\",\"mac\":\"02:00:00:00:00:01\",\"name\":"
	    "\"www.blocked.test\",\"qtype\":\"AAAA\",\"categories\":[\"adult\","
	    "\"bypass\"],\"rule\":\"blocked.test\",\"action\":\"nxdomain\","
	    "\"prev\":\"") != NULL);
	free(buf);

	/* A restart carries the chain on. */
	write_events(t.path, NULL, 5);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s", r.why);
	cr_assert_eq(r.last_seq, 105);
	tmp_free(&t);
}

/* Verifies buf (as the file's whole content), expecting a failure. */
static void
expect_broken(const char *path, const char *buf, size_t len, uint64_t line,
    const char *why)
{
	struct evlog_report r;

	spit(path, buf, len);
	verify_one(path, &r);
	cr_assert(!r.intact, "wanted line %lu broken", (unsigned long)line);
	cr_assert_eq(r.line, line, "line %lu, not %lu: %s",
	    (unsigned long)r.line, (unsigned long)line, r.why);
	cr_assert(strstr(r.why, why) != NULL, "why: %s (wanted %s)", r.why,
	    why);
}

Test(evlog, tampering_is_named)
{
	struct tmp t;
	char *orig, *buf, tamper[160];
	size_t len, s, n, s2, n2;

	tmp_init(&t);
	write_events(t.path, NULL, 100);
	orig = slurp(t.path, &len);
	buf = malloc(2 * len);
	snprintf(tamper, sizeof(tamper), "%s/tampered", t.dir);

	/* One byte of the name of line 37. */
	memcpy(buf, orig, len);
	line_at(buf, 37, &s, &n);
	*(char *)memmem(buf + s, n, "www.blocked", 11) = 'W';
	expect_broken(tamper, buf, len, 37, "bad hash");

	/* A byte of a hash. */
	memcpy(buf, orig, len);
	line_at(buf, 60, &s, &n);
	buf[s + n - 5] = buf[s + n - 5] == 'a' ? 'b' : 'a';
	expect_broken(tamper, buf, len, 60, "bad hash");

	/* Line 50 deleted: line 50 is now the old 51. */
	memcpy(buf, orig, len);
	line_at(buf, 50, &s, &n);
	memmove(buf + s, buf + s + n, len - s - n);
	expect_broken(tamper, buf, len - n, 50, "broken link");

	/* Lines 20 and 21 swapped. */
	memcpy(buf, orig, len);
	line_at(orig, 20, &s, &n);
	line_at(orig, 21, &s2, &n2);
	memcpy(buf + s, orig + s2, n2);
	memcpy(buf + s + n2, orig + s, n);
	expect_broken(tamper, buf, len, 20, "broken link");

	/* The last line cut short. */
	memcpy(buf, orig, len);
	expect_broken(tamper, buf, len - 10, 100, "cut short");

	/* A line no longer an event, in the middle. */
	memcpy(buf, orig, len);
	line_at(buf, 10, &s, &n);
	buf[s] = '[';
	expect_broken(tamper, buf, len, 10, "not an event");

	/* A line slipped in. */
	line_at(orig, 30, &s, &n);
	memcpy(buf, orig, s + n);
	memcpy(buf + s + n, orig + s, len - s);
	expect_broken(tamper, buf, len + n, 31, "broken link");

	/* The first line deleted: the chain starts at seq 2 (an anchor),
	   which is not an error; seq 1 with another prev is. */
	{
		struct evlog_report r;
		const char *p[1] = { tamper };

		line_at(orig, 1, &s, &n);
		spit(tamper, orig + n, len - n);
		cr_assert_eq(evlog_verify(p, 1, &r), 0);
		cr_assert(r.intact, "%s", r.why);
		cr_assert_eq(r.first_seq, 2);
	}
	free(buf);
	free(orig);
	tmp_free(&t);
}

Test(evlog, a_crash_cut_line_is_recovered)
{
	struct evlog_report r;
	struct tmp t;
	char *buf, want[64];
	size_t len, s, n;

	tmp_init(&t);
	write_events(t.path, NULL, 10);
	append_text(t.path, "{\"seq\":11,\"ts\":\"2023");	/* 20 bytes */
	verify_one(t.path, &r);
	cr_assert(!r.intact);
	cr_assert_eq(r.line, 11);
	cr_assert(strstr(r.why, "cut short") != NULL, "%s", r.why);

	write_events(t.path, NULL, 5);
	buf = slurp(t.path, &len);
	cr_assert_eq(count_lines(buf, NULL), 17);
	line_at(buf, 11, &s, &n);
	cr_assert_eq(n, 21, "the cut line ended with a newline, kept as it was");
	line_at(buf, 12, &s, &n);
	snprintf(want, sizeof(want), "\"kind\":\"log\",\"action\":\"recovered\","
	    "\"length\":20");
	cr_assert(memmem(buf + s, n, want, strlen(want)) != NULL);
	cr_assert_eq(strncmp(buf + s, "{\"seq\":11,", 10), 0);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s at %lu", r.why, (unsigned long)r.line);
	cr_assert_eq(r.torn, 1);
	cr_assert_eq(r.events, 16);
	cr_assert_eq(r.last_seq, 16);
	free(buf);

	/* A "recovered" of another length excuses nothing. */
	buf = slurp(t.path, &len);
	line_at(buf, 11, &s, &n);
	buf[s + 3] = '\n';
	spit(t.path, buf, len);
	verify_one(t.path, &r);
	cr_assert(!r.intact);
	free(buf);
	tmp_free(&t);
}

Test(evlog, a_file_of_an_older_safegate_is_moved_aside)
{
	struct evlog_report r;
	struct tmp t;
	struct dirent *de;
	DIR *d;
	bool aside = false;

	tmp_init(&t);
	append_text(t.path, "{\"ts\":\"2023-11-14T22:13:20.123456Z\","
	    "\"kind\":\"dns\",\"action\":\"nxdomain\"}\n");
	write_events(t.path, NULL, 3);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s", r.why);
	cr_assert_eq(r.first_seq, 1);
	cr_assert_eq(r.events, 3);
	d = opendir(t.dir);
	while ((de = readdir(d)) != NULL)
		aside |= strncmp(de->d_name, "events.jsonl.unchained-", 23) == 0;
	closedir(d);
	cr_assert(aside);
	tmp_free(&t);
}

Test(evlog, rotation_by_size_carries_the_chain)
{
	struct evlog_opts o = { .rotate_bytes = 4096 };
	struct evlog_report r;
	struct evlog_line l;
	struct stat st;
	struct tmp t;
	char **rot, *buf;
	size_t n, i, len, nfiles;

	tmp_init(&t);
	write_events(t.path, &o, 100);
	cr_assert_eq(evlog_rotated(t.path, &rot, &n), 0);
	cr_assert_gt(n, 5, "%zu rotated files", n);
	for (i = 0; i < n; i++) {
		cr_assert_eq(stat(rot[i], &st), 0);
		cr_assert_leq(st.st_size, 4096, "%s", rot[i]);
		cr_assert_gt(st.st_size, 3000, "%s", rot[i]);
	}
	/* Each file's first event follows the last of the one before. */
	buf = slurp(t.path, &len);
	cr_assert_eq(evlog_parse_line(buf, (size_t)(strchr(buf, '\n') - buf),
	    &l), 0);
	cr_assert_gt(l.seq, 90);
	free(buf);
	evlog_names_free(rot, n);
	verify_all(t.path, &r, &nfiles);
	cr_assert(r.intact, "%s in file %zu line %lu", r.why, r.file,
	    (unsigned long)r.line);
	cr_assert_eq(r.events, 100);
	cr_assert_eq(r.last_seq, 100);
	cr_assert_eq(nfiles, n + 1);
	tmp_free(&t);
}

/* Which rotated file holds seq. */
static size_t
file_of(char **rot, size_t n, uint64_t seq)
{
	struct evlog_line l;
	size_t i, len;
	char *buf;

	for (i = n; i-- > 0;) {
		buf = slurp(rot[i], &len);
		cr_assert_eq(evlog_parse_line(buf, (size_t)(strchr(buf, '\n') -
		    buf), &l), 0);
		free(buf);
		if (l.seq <= seq)
			return i;
	}
	cr_assert_fail("seq %lu in no file", (unsigned long)seq);
	return 0;
}

static void
age(const char *path, int days)
{
	struct timeval tv[2];

	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= days * 86400;
	tv[1] = tv[0];
	cr_assert_eq(utimes(path, tv), 0);
}

Test(evlog, retention_deletes_old_files_but_those_held)
{
	struct evlog_opts o = { .rotate_bytes = 2048 };
	struct evlog_report r;
	struct event ev = sample();
	struct evlog *log;
	struct tmp t;
	uint8_t hash[32] = { 1 };
	char **rot, **left, kept_conf[256], kept_hold[256];
	size_t n, nleft, fc, fh, i;
	uint64_t hseq;

	tmp_init(&t);
	log = evlog_open(t.path, &o);
	cr_assert_not_null(log);
	cr_assert_eq(evlog_start(log), 0);
	for (i = 1; i <= 60; i++) {
		ev.confidential = i == 3;	/* an abuse-list hit: held */
		ev.hash = hash;
		ev.list = "abuse.hashes";
		cr_assert_eq(evlog_submit(log, &ev), 0);
	}
	cr_assert_eq(evlog_sync(log), 0);
	cr_assert_eq(evlog_hold(log, 999, NULL, &hseq), -ERANGE);
	cr_assert_eq(evlog_hold(log, 20, "reported to CEOP, ref 42", &hseq),
	    0);
	cr_assert_eq(hseq, 61);
	evlog_close(log);

	cr_assert_eq(evlog_rotated(t.path, &rot, &n), 0);
	cr_assert_gt(n, 8, "%zu files", n);
	fc = file_of(rot, n, 3);
	fh = file_of(rot, n, 20);
	cr_assert_neq(fc, fh);
	cr_assert_lt(fh, n - 2, "a deleted file lies after the held one");
	snprintf(kept_conf, sizeof(kept_conf), "%s", rot[fc]);
	snprintf(kept_hold, sizeof(kept_hold), "%s", rot[fh]);
	for (i = 0; i < n; i++)
		age(rot[i], 10);
	/* One young file stays whatever. */
	age(rot[n - 1], 1);

	o.keep_days = 5;
	write_events(t.path, &o, 1);
	cr_assert_eq(evlog_rotated(t.path, &left, &nleft), 0);
	cr_assert_eq(nleft, 3, "%zu left of %zu", nleft, n);
	cr_assert_str_eq(left[0], kept_conf);
	cr_assert_str_eq(left[1], kept_hold);
	cr_assert_str_eq(left[2], rot[n - 1]);
	verify_all(t.path, &r, NULL);
	cr_assert(r.intact, "%s in file %zu line %lu", r.why, r.file,
	    (unsigned long)r.line);
	cr_assert_eq(r.first_seq, 1);
	cr_assert_eq(r.bridged, 2);
	cr_assert_eq(r.holds, 2);

	/* Without the "purged" events the gaps are breaks. */
	{
		const char *p[3] = { left[0], left[1], left[2] };

		cr_assert_eq(evlog_verify(p, 3, &r), 0);
		cr_assert(!r.intact);
		cr_assert_eq(r.file, 1);
		cr_assert_eq(r.line, 1);
		cr_assert(strstr(r.why, "between files") != NULL, "%s", r.why);
	}
	evlog_names_free(left, nleft);
	evlog_names_free(rot, n);
	tmp_free(&t);
}

Test(evlog, a_full_queue_loses_events_and_says_so)
{
	struct evlog_opts o = { .queue_bytes = 16 * 1024 };
	struct evlog_report r;
	struct evlog_stats st;
	struct event ev = sample();
	struct evlog *log;
	struct tmp t;
	char *buf;
	size_t len;
	int i, ok = 0, lost = 0;

	tmp_init(&t);
	log = evlog_open(t.path, &o);
	cr_assert_not_null(log);
	/* The writer is not running yet: the queue fills. */
	for (i = 0; i < 200; i++) {
		if (evlog_put(log, &ev) == 0)
			ok++;
		else
			lost++;
	}
	cr_assert_gt(lost, 0);
	cr_assert_gt(ok, 10);
	cr_assert_eq(evlog_start(log), 0);
	cr_assert_eq(evlog_sync(log), 0);
	/* Room again: the next events go in. */
	cr_assert_eq(evlog_submit(log, &ev), 0);
	cr_assert_eq(evlog_sync(log), 0);
	evlog_get_stats(log, &st);
	cr_assert_eq(st.lost, (uint64_t)lost);
	evlog_close(log);

	buf = slurp(t.path, &len);
	cr_assert_eq(count_lines(buf, "\"kind\":\"dns\""), (size_t)ok + 1);
	cr_assert_eq(count_lines(buf, "\"action\":\"lost\""), 1);
	free(buf);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s", r.why);
	cr_assert_eq(r.lost, (uint64_t)lost);
	tmp_free(&t);
}

struct producer {
	struct evlog	*log;
	int		 n, failed;
};

static void *
produce(void *arg)
{
	struct producer *p = arg;
	struct event ev = sample();
	int i;

	for (i = 0; i < p->n; i++)
		if (evlog_submit(p->log, &ev) != 0)
			p->failed++;
	return NULL;
}

Test(evlog, many_producers_one_chain)
{
	struct producer p[4];
	pthread_t th[4];
	struct evlog_report r;
	struct evlog *log;
	struct tmp t;
	char *buf;
	size_t len;
	int i, failed = 0;

	tmp_init(&t);
	log = evlog_open(t.path, NULL);
	cr_assert_not_null(log);
	cr_assert_eq(evlog_start(log), 0);
	for (i = 0; i < 4; i++) {
		p[i].log = log;
		p[i].n = 3000;
		p[i].failed = 0;
		cr_assert_eq(pthread_create(&th[i], NULL, produce, &p[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		failed += p[i].failed;
	}
	evlog_close(log);
	buf = slurp(t.path, &len);
	cr_assert_eq(count_lines(buf, "\"kind\":\"dns\""),
	    (size_t)(12000 - failed));
	free(buf);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s at %lu", r.why, (unsigned long)r.line);
	cr_assert_eq(r.lost, (uint64_t)failed);
	tmp_free(&t);
}

Test(evlog, hold_event)
{
	struct tmp t;
	struct evlog *log;
	struct evlog_report r;
	struct event ev = sample();
	uint64_t seq = 0;
	char *buf;
	size_t len;

	tmp_init(&t);
	log = evlog_open(t.path, NULL);
	cr_assert_not_null(log);
	cr_assert_eq(evlog_start(log), 0);
	cr_assert_eq(evlog_submit(log, &ev), 0);
	cr_assert_eq(evlog_submit(log, &ev), 0);
	cr_assert_eq(evlog_hold(log, 2, "police ref \"A/1\"", &seq), 0);
	cr_assert_eq(seq, 3);
	cr_assert_eq(evlog_hold(log, 3, NULL, &seq), 0, "the hold is event 3");
	cr_assert_eq(seq, 4);
	cr_assert_eq(evlog_hold(log, 5, NULL, &seq), -ERANGE);
	evlog_close(log);
	buf = slurp(t.path, &len);
	cr_assert(strstr(buf, "\"kind\":\"hold\",\"action\":\"hold\",\"target\":"
	    "2,\"reason\":\"police ref \\\"A/1\\\"\",\"hold\":true,\"prev\":") !=
	    NULL, "%s", buf);
	free(buf);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s", r.why);
	cr_assert_eq(r.holds, 2);
	tmp_free(&t);
}

Test(evlog, reopen_elsewhere_continues_the_chain)
{
	struct evlog_report r;
	struct event ev = sample();
	struct evlog *log;
	struct tmp t;
	char other[160];
	const char *p[2];
	int i;

	tmp_init(&t);
	snprintf(other, sizeof(other), "%s/sub/other.jsonl", t.dir);
	log = evlog_open(t.path, NULL);
	cr_assert_not_null(log);
	cr_assert_eq(evlog_start(log), 0);
	for (i = 0; i < 10; i++)
		cr_assert_eq(evlog_submit(log, &ev), 0);
	cr_assert_eq(evlog_reopen(log, other), 0);
	for (i = 0; i < 5; i++)
		cr_assert_eq(evlog_submit(log, &ev), 0);
	cr_assert_eq(evlog_reopen(log, NULL), 0);
	cr_assert_eq(evlog_submit(log, &ev), 0, "dropped, not lost");
	cr_assert_eq(evlog_reopen(log, "/proc/no/such/dir/x"), -ENOENT);
	evlog_close(log);
	p[0] = t.path;
	p[1] = other;
	cr_assert_eq(evlog_verify(p, 2, &r), 0);
	cr_assert(r.intact, "%s", r.why);
	cr_assert_eq(r.events, 16);	/* and the "reopened" */
	tmp_free(&t);
}

Test(evlog, daily_rotation_at_local_midnight)
{
	struct evlog_opts o = { .rotate_daily = true };
	struct evlog_report r;
	struct event ev = sample();
	struct evlog *log;
	struct tmp t;
	struct tm tm;
	time_t now = time(NULL), midnight;
	char **rot;
	size_t n;

	/* The policy clock one second before the next local midnight. */
	localtime_r(&now, &tm);
	tm.tm_mday++;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	midnight = mktime(&tm);
	o.clock_offset = midnight - 1 - now;
	o.sync_ms = 200;
	tmp_init(&t);
	log = evlog_open(t.path, &o);
	cr_assert_not_null(log);
	cr_assert_eq(evlog_start(log), 0);
	cr_assert_eq(evlog_submit(log, &ev), 0);
	cr_assert_eq(evlog_sync(log), 0);
	usleep(1600 * 1000);
	cr_assert_eq(evlog_submit(log, &ev), 0);
	evlog_close(log);
	cr_assert_eq(evlog_rotated(t.path, &rot, &n), 0);
	cr_assert_eq(n, 1);
	evlog_names_free(rot, n);
	verify_all(t.path, &r, NULL);
	cr_assert(r.intact, "%s", r.why);
	cr_assert_eq(r.events, 2);
	tmp_free(&t);
}

/* No file the log writes holds a confidential name, whatever happens. */
Test(evlog, no_confidential_name_in_any_file)
{
	static const char secret[] = "hidden-entry.invalid";
	struct evlog_opts o = { .rotate_bytes = 2048 };
	struct event ev = sample();
	struct evlog *log;
	struct tmp t;
	struct dirent *de;
	uint8_t hash[32] = { 7 };
	char path[512], *buf;
	size_t len, files = 0;
	DIR *d;
	int i;

	tmp_init(&t);
	log = evlog_open(t.path, &o);
	cr_assert_not_null(log);
	cr_assert_eq(evlog_start(log), 0);
	ev.confidential = true;
	ev.name = secret;
	ev.name_len = strlen(secret);
	ev.rule = secret;
	ev.rule_len = strlen(secret);
	ev.hash = hash;
	ev.list = "abuse.hashes";
	for (i = 0; i < 30; i++)
		cr_assert_eq(evlog_submit(log, &ev), 0);
	evlog_close(log);
	append_text(t.path, "{\"seq\":31,\"ts\"");	/* and a crash */
	write_events(t.path, &o, 1);
	d = opendir(t.dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", t.dir, de->d_name);
		buf = slurp(path, &len);
		cr_assert_null(memmem(buf, len, "hidden-entry", 12), "%s", path);
		cr_assert_null(memmem(buf, len, "invalid", 7), "%s", path);
		free(buf);
		files++;
	}
	closedir(d);
	cr_assert_gt(files, 3);
	tmp_free(&t);
}

Test(evlog, verify_mem_matches_files)
{
	struct evlog_report r1, r2;
	struct tmp t;
	const char *bufs[1];
	size_t lens[1], len;
	char *buf;

	tmp_init(&t);
	write_events(t.path, NULL, 20);
	buf = slurp(t.path, &len);
	bufs[0] = buf;
	lens[0] = len;
	evlog_verify_mem(bufs, lens, 1, &r1);
	verify_one(t.path, &r2);
	cr_assert(r1.intact && r2.intact);
	cr_assert_eq(r1.events, r2.events);
	buf[100] ^= 1;
	evlog_verify_mem(bufs, lens, 1, &r1);
	cr_assert(!r1.intact);
	cr_assert_eq(r1.line, 1);
	free(buf);
	tmp_free(&t);
}

/* The writer's hooks: observations become events in order; every line
   written is handed on with its seq and hash. */
struct hooked {
	uint64_t	 lines, last_seq;
	bool		 ordered, hashes_ok;
	size_t		 observed;
};

static void
on_observe(void *arg, struct evlog *log, const void *obs, size_t len)
{
	struct hooked *h = arg;
	struct event ev = sample();

	h->observed++;
	cr_assert_eq(len, 5);
	cr_assert_eq(memcmp(obs, "late!", 5), 0);
	ev.kind = "indicator";
	ev.transport = NULL;
	ev.action = NULL;
	ev.indicator = "late-night-contact";
	ev.severity = "warning";
	cr_assert_eq(evlog_emit(log, &ev), 0);
}

static void
on_line(void *arg, const char *line, size_t len, uint64_t seq,
    const char *hash, const char *kind, size_t kind_len)
{
	struct hooked *h = arg;
	struct evlog_line l;

	h->ordered &= seq == h->last_seq + 1;
	h->last_seq = seq;
	h->lines++;
	h->hashes_ok &= evlog_parse_line(line, len, &l) == 0 &&
	    l.hash == hash && l.seq == seq && kind_len >= 3 &&
	    (memcmp(kind, "dns", 3) == 0 || memcmp(kind, "indicator", 9) == 0);
}

Test(evlog, writer_hooks)
{
	struct hooked h = { 0, 0, true, true, 0 };
	struct evlog_hooks hooks = { on_observe, on_line, NULL, &h };
	struct evlog_report r;
	struct event ev = sample();
	struct evlog *log;
	struct tmp t;
	char *buf;
	size_t len, s, n;

	tmp_init(&t);
	log = evlog_open(t.path, NULL);
	cr_assert_not_null(log);
	evlog_set_hooks(log, &hooks);
	cr_assert_eq(evlog_start(log), 0);
	cr_assert_eq(evlog_put(log, &ev), 0);
	cr_assert_eq(evlog_observe(log, "late!", 5), 0);
	cr_assert_eq(evlog_put(log, &ev), 0);
	evlog_kick(log);
	evlog_close(log);
	cr_assert_eq(h.observed, 1);
	cr_assert_eq(h.lines, 3);
	cr_assert(h.ordered && h.hashes_ok);
	buf = slurp(t.path, &len);
	line_at(buf, 2, &s, &n);
	cr_assert(memmem(buf + s, n, "\"kind\":\"indicator\"", 18) != NULL,
	    "the indicator sits between the events around it");
	free(buf);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s", r.why);
	tmp_free(&t);
}

/* fuzz_evlog found these: a kind of no bytes, and bytes glued after it,
   parsed as an event (tests/fuzz/seeds/evlog/regress-empty-kind). */
Test(evlog, regress_fuzz_empty_kind)
{
	static const char *bad[] = {
		"{\"seq\":1,\"ts\":\"2026-03-01T20:00:00.000000Z\",\"kind\":\"\"sdn,"
		"\"transport\":\"udp\",\"prev\":\"00000000000000000000000000000000"
		"00000000000000000000000000000000\",\"hash\":\"c1a26da4daa9734f8f8f"
		"07070cd5e17b38bb4d0997290d0b39356f5bb5e9ba76\"}",
		"{\"seq\":1,\"ts\":\"2026-03-01T20:00:00.000000Z\",\"kind\":\"dns\"x,"
		"\"transport\":\"udp\",\"prev\":\"00000000000000000000000000000000"
		"00000000000000000000000000000000\",\"hash\":\"c1a26da4daa9734f8f8f"
		"07070cd5e17b38bb4d0997290d0b39356f5bb5e9ba76\"}",
		"{\"seq\":1,\"ts\":\"\",\"kind\":\"dns\",\"prev\":\"0000000000000000000"
		"000000000000000000000000000000000000000000000\",\"hash\":\"c1a26d"
		"a4daa9734f8f8f07070cd5e17b38bb4d0997290d0b39356f5bb5e9ba76\"}",
	};
	struct evlog_line l;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_neq(evlog_parse_line(bad[i], strlen(bad[i]), &l), 0,
		    "%zu", i);
}

/* ------------------------------------------------ a file refusing writes */

/*
 * A disk for evlog_opts.io_fault: it holds `limit` bytes of the events
 * file (-1: any), then refuses with full_err (0: -ENOSPC), cutting a write
 * short where it reaches the limit; fail (if not 0) refuses every call,
 * and truncate_err every ftruncate().  With ino, only that file is on it
 * (the others are on a good disk).  The test thread changes it while the
 * writer runs: atomics.
 */
struct disk {
	ino_t		 ino;
	long		 limit;
	int		 full_err;
	int		 fail;
	int		 truncate_err;
	int		 sync_fails;	/* this many fdatasync()s fail, EIO */
	unsigned	 calls[4];	/* by enum evlog_io */
};

static long
disk_io(void *arg, enum evlog_io op, int fd, size_t len)
{
	struct disk *d = arg;
	struct stat st;
	long limit = __atomic_load_n(&d->limit, __ATOMIC_ACQUIRE), size;
	int fail = __atomic_load_n(&d->fail, __ATOMIC_ACQUIRE);
	int full = __atomic_load_n(&d->full_err, __ATOMIC_ACQUIRE);

	__atomic_fetch_add(&d->calls[op], 1, __ATOMIC_RELAXED);
	if (fd != -1 && fstat(fd, &st) == 0 && d->ino != 0 &&
	    st.st_ino != d->ino)
		return 0;
	if (op == EVLOG_IO_TRUNCATE)
		return __atomic_load_n(&d->truncate_err, __ATOMIC_ACQUIRE);
	if (fail != 0)
		return fail;
	if (op == EVLOG_IO_SYNC && __atomic_load_n(&d->sync_fails,
	    __ATOMIC_ACQUIRE) > 0) {
		__atomic_fetch_sub(&d->sync_fails, 1, __ATOMIC_RELAXED);
		return -EIO;
	}
	if (op != EVLOG_IO_WRITE || limit < 0)
		return 0;
	size = fstat(fd, &st) == 0 ? (long)st.st_size : 0;
	if (size >= limit)
		return full != 0 ? full : -ENOSPC;
	if (size + (long)len > limit)
		return limit - size;	/* a short write */
	return 0;
}

static void
disk_set(struct disk *d, long limit, int fail)
{
	__atomic_store_n(&d->limit, limit, __ATOMIC_RELEASE);
	__atomic_store_n(&d->fail, fail, __ATOMIC_RELEASE);
}

static long
file_size(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0);
	return (long)st.st_size;
}

/* Waits (at most ms) until the writer's stats say `refusing`. */
static void
wait_refusing(struct evlog *log, int refusing, int ms)
{
	struct evlog_stats st;
	int i;

	for (i = 0; i < ms / 10; i++) {
		evlog_get_stats(log, &st);
		if (st.refusing == refusing)
			return;
		usleep(10 * 1000);
	}
	cr_assert_fail("the writer never said refusing %d (it says %d)",
	    refusing, st.refusing);
}

/* Waits (at most ms) until stats field `field` is at least want. */
#define WAIT_STAT(log, field, want, ms) do {				\
	struct evlog_stats ws_;						\
	int ws_i_;							\
									\
	for (ws_i_ = 0; ws_i_ < (ms) / 10; ws_i_++) {			\
		evlog_get_stats((log), &ws_);				\
		if (ws_.field >= (want))				\
			break;						\
		usleep(10 * 1000);					\
	}								\
} while (0)

/* Submits events base .. base+n-1, their ts base's second + i: how many
   the queue took. */
static int
submit_n(struct evlog *log, int base, int n)
{
	struct event ev = sample();
	int i, ok = 0;

	for (i = 0; i < n; i++) {
		ev.ts.tv_sec = 1700000000 + base + i;
		ok += evlog_submit(log, &ev) == 0;
	}
	return ok;
}

/*
 * The "dns" lines of buf: how many, and whether their ts keep the order
 * they were submitted in (each one second after the one before).  Also
 * whether the file ends with a whole line.
 */
static size_t
dns_in_order(const char *buf, bool *ordered)
{
	const char *p = buf, *nl, *ts;
	char last[40] = "", cur[40];
	size_t n = 0;

	*ordered = true;
	for (; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		cr_assert_not_null(nl, "the file ends with a line cut short");
		if (memmem(p, (size_t)(nl - p), "\"kind\":\"dns\"", 12) == NULL)
			continue;
		ts = strstr(p, "\"ts\":\"");
		cr_assert(ts != NULL && ts < nl);
		snprintf(cur, sizeof(cur), "%.27s", ts + 6);
		*ordered &= strcmp(last, cur) < 0;
		memcpy(last, cur, sizeof(last));
		n++;
	}
	return n;
}

/* The last line of buf (with its newline), as a new string. */
static char *
last_line(const char *buf, size_t len)
{
	const char *p;

	cr_assert(len > 0 && buf[len - 1] == '\n');
	p = memrchr(buf, '\n', len - 1);
	p = p != NULL ? p + 1 : buf;
	return strndup(p, (size_t)(buf + len - p));
}

Test(evlog, a_full_disk_holds_events_and_writes_them_in_order_later)
{
	struct disk d = { .limit = -1 };
	struct evlog_opts o = { .io_fault = disk_io, .io_fault_arg = &d };
	struct hooked h = { 0, 0, true, true, 0 };
	struct evlog_hooks hooks = { NULL, on_line, NULL, &h };
	struct evlog_report r;
	struct evlog_stats st;
	struct evlog *log;
	struct tmp t;
	uint64_t seq, fit;
	char *buf;
	size_t len, n;
	bool ordered;
	long line;

	tmp_init(&t);
	log = evlog_open(t.path, &o);
	cr_assert_not_null(log);
	evlog_set_hooks(log, &hooks);
	cr_assert_eq(evlog_start(log), 0);
	cr_assert_eq(submit_n(log, 0, 5), 5);
	cr_assert_eq(evlog_sync(log), 0);

	/* Room for a few lines and a part of one: then the disk is full. */
	line = file_size(t.path) / 5;	/* seqs 1-9: one length */
	fit = (uint64_t)(1000 / line);
	cr_assert(fit >= 2 && fit <= 4 && 1000 % line != 0);
	disk_set(&d, file_size(t.path) + 1000, 0);
	cr_assert_eq(submit_n(log, 5, 50), 50);
	wait_refusing(log, -ENOSPC, 2000);
	cr_assert_eq(evlog_sync(log), -ENOSPC, "a sync fails at once");
	cr_assert_eq(evlog_hold(log, 1, "refused", &seq), -ENOSPC);
	WAIT_STAT(log, held, 50 - fit, 3000);	/* counted at each try */
	evlog_get_stats(log, &st);
	cr_assert_eq(st.outages, 1);
	cr_assert_geq(st.write_errors, 1);
	cr_assert_eq(st.written, 5 + fit, "the whole lines that fitted: %lu",
	    (unsigned long)st.written);
	cr_assert_eq(st.seq, 5 + fit);
	cr_assert_eq(st.held, 50 - fit, "held: %lu", (unsigned long)st.held);
	cr_assert_eq(st.lost + st.errors, 0);
	/* No line cut short at the end, and the chain is whole so far. */
	buf = slurp(t.path, &len);
	cr_assert_eq(buf[len - 1], '\n');
	cr_assert_eq(dns_in_order(buf, &ordered), 5 + fit);
	free(buf);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s", r.why);
	cr_assert_eq(r.last_seq, 5 + fit);

	/* Room again: the events held are written, in order. */
	WAIT_STAT(log, write_errors, 3, 5000);	/* tries refused */
	disk_set(&d, -1, 0);
	wait_refusing(log, 0, 8000);
	cr_assert_eq(evlog_sync(log), 0);
	cr_assert_eq(submit_n(log, 55, 5), 5);
	cr_assert_eq(evlog_sync(log), 0);
	evlog_get_stats(log, &st);
	cr_assert_eq(st.written, 60);
	cr_assert_eq(st.held, 0);
	cr_assert_eq(st.lost + st.errors, 0);
	cr_assert_geq(st.write_errors, 3, "tried again: %lu",
	    (unsigned long)st.write_errors);
	evlog_close(log);
	cr_assert_eq(h.lines, 60, "each line handed on once: %lu",
	    (unsigned long)h.lines);
	cr_assert(h.ordered && h.hashes_ok);

	buf = slurp(t.path, &len);
	n = dns_in_order(buf, &ordered);
	cr_assert_eq(n, 60);
	cr_assert(ordered, "the held events keep their order");
	cr_assert_eq(count_lines(buf, "\"action\":\"lost\""), 0,
	    "nothing was lost: no \"lost\" event");
	free(buf);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s at %lu", r.why, (unsigned long)r.line);
	cr_assert_eq(r.events, 60);
	cr_assert_eq(r.lost, 0);
	tmp_free(&t);
}

Test(evlog, a_long_outage_loses_only_what_the_queue_cannot_hold)
{
	struct disk d = { .limit = -1 };
	struct evlog_opts o = { .queue_bytes = 16 * 1024, .io_fault = disk_io,
	    .io_fault_arg = &d };
	struct evlog_report r;
	struct evlog_stats st;
	struct evlog *log;
	struct tmp t;
	char *buf, *last;
	size_t len, s, n;
	bool ordered;
	int took;

	tmp_init(&t);
	log = evlog_open(t.path, &o);
	cr_assert_not_null(log);
	cr_assert_eq(evlog_start(log), 0);
	cr_assert_eq(submit_n(log, 0, 3), 3);
	cr_assert_eq(evlog_sync(log), 0);

	disk_set(&d, file_size(t.path), 0);	/* full */
	cr_assert_eq(submit_n(log, 3, 1), 1);
	wait_refusing(log, -ENOSPC, 2000);
	/* The queue (16 KiB) holds some 40 more; the rest is lost. */
	took = submit_n(log, 4, 300);
	cr_assert_gt(took, 20);
	cr_assert_lt(took, 100);
	evlog_get_stats(log, &st);
	cr_assert_eq(st.lost, (uint64_t)(300 - took));
	WAIT_STAT(log, held, (uint64_t)took + 1, 3000);	/* at each try */
	evlog_get_stats(log, &st);
	cr_assert_eq(st.held, (uint64_t)took + 1, "held: %lu",
	    (unsigned long)st.held);
	cr_assert_geq(st.queued_bytes, st.queue_bytes - 1024);

	disk_set(&d, -1, 0);
	wait_refusing(log, 0, 8000);
	cr_assert_eq(evlog_sync(log), 0);
	evlog_close(log);

	buf = slurp(t.path, &len);
	n = dns_in_order(buf, &ordered);
	cr_assert_eq(n, (size_t)took + 4);
	cr_assert(ordered);
	/* The held events first, then the gap, said. */
	last = last_line(buf, len);
	cr_assert(strstr(last, "\"kind\":\"log\",\"action\":\"lost\"") != NULL,
	    "%s", last);
	snprintf(buf, len, "\"count\":%d,", 300 - took);
	cr_assert(strstr(last, buf) != NULL, "%s", last);
	free(last);
	free(buf);
	buf = slurp(t.path, &len);
	line_at(buf, (size_t)took + 5, &s, &n);
	cr_assert(memmem(buf + s, n, "\"action\":\"lost\"", 15) != NULL);
	free(buf);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s at %lu", r.why, (unsigned long)r.line);
	cr_assert_eq(r.lost, (uint64_t)(300 - took));
	cr_assert_eq(r.events, (uint64_t)took + 5);
	tmp_free(&t);
}

Test(evlog, a_read_only_file_system_holds_events_and_reopens_the_file)
{
	struct disk d = { .limit = -1 };
	struct evlog_opts o = { .io_fault = disk_io, .io_fault_arg = &d };
	struct evlog_report r;
	struct evlog_stats st;
	struct evlog *log;
	struct tmp t;
	char *buf;
	size_t len;
	bool ordered;

	tmp_init(&t);
	log = evlog_open(t.path, &o);
	cr_assert_not_null(log);
	cr_assert_eq(evlog_start(log), 0);
	cr_assert_eq(submit_n(log, 0, 4), 4);
	cr_assert_eq(evlog_sync(log), 0);

	disk_set(&d, -1, -EROFS);
	cr_assert_eq(submit_n(log, 4, 20), 20);
	wait_refusing(log, -EROFS, 2000);
	WAIT_STAT(log, write_errors, 3, 5000);	/* tries: opens refused */
	WAIT_STAT(log, held, 20, 3000);
	evlog_get_stats(log, &st);
	cr_assert_eq(st.held, 20);
	cr_assert_eq(st.written, 4);
	cr_assert_gt(d.calls[EVLOG_IO_OPEN], 0, "the file is opened anew");
	buf = slurp(t.path, &len);
	cr_assert_eq(dns_in_order(buf, &ordered), 4);
	free(buf);

	disk_set(&d, -1, 0);
	wait_refusing(log, 0, 8000);
	cr_assert_eq(submit_n(log, 24, 2), 2);
	cr_assert_eq(evlog_sync(log), 0);
	evlog_get_stats(log, &st);
	cr_assert_eq(st.written, 26);
	cr_assert_eq(st.outages, 1);
	evlog_close(log);
	buf = slurp(t.path, &len);
	cr_assert_eq(dns_in_order(buf, &ordered), 26);
	cr_assert(ordered);
	free(buf);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s at %lu", r.why, (unsigned long)r.line);
	cr_assert_eq(r.events, 26);
	tmp_free(&t);
}

Test(evlog, a_line_cut_short_that_cannot_be_taken_back_is_completed)
{
	struct disk d = { .limit = -1 };
	struct evlog_opts o = { .io_fault = disk_io, .io_fault_arg = &d };
	struct evlog_report r;
	struct evlog *log;
	struct tmp t;
	char *buf;
	size_t len;
	bool ordered;
	long before;

	tmp_init(&t);
	log = evlog_open(t.path, &o);
	cr_assert_not_null(log);
	cr_assert_eq(evlog_start(log), 0);
	cr_assert_eq(submit_n(log, 0, 2), 2);
	cr_assert_eq(evlog_sync(log), 0);

	/* 100 bytes go in, ftruncate() fails, then the disk fails. */
	before = file_size(t.path);
	__atomic_store_n(&d.truncate_err, -EIO, __ATOMIC_RELEASE);
	__atomic_store_n(&d.full_err, -EIO, __ATOMIC_RELEASE);
	disk_set(&d, before + 100, 0);
	cr_assert_eq(submit_n(log, 2, 3), 3);
	wait_refusing(log, -EIO, 2000);
	cr_assert_eq(file_size(t.path), before + 100, "the part is there");
	cr_assert_gt(d.calls[EVLOG_IO_TRUNCATE], 0);
	WAIT_STAT(log, write_errors, 2, 3000);	/* reopened, as it was left */

	disk_set(&d, -1, 0);
	wait_refusing(log, 0, 8000);
	cr_assert_eq(evlog_sync(log), 0);
	evlog_close(log);
	buf = slurp(t.path, &len);
	cr_assert_eq(dns_in_order(buf, &ordered), 5);
	cr_assert(ordered);
	free(buf);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s at %lu", r.why, (unsigned long)r.line);
	cr_assert_eq(r.torn, 0, "completed, not cut");
	tmp_free(&t);
}

Test(evlog, a_failed_sync_is_counted_and_tried_again)
{
	struct disk d = { .limit = -1 };
	struct evlog_opts o = { .io_fault = disk_io, .io_fault_arg = &d };
	struct evlog_report r;
	struct evlog_stats st;
	struct event ev = sample();
	struct evlog *log;
	struct tmp t;

	tmp_init(&t);
	log = evlog_open(t.path, &o);
	cr_assert_not_null(log);
	cr_assert_eq(evlog_start(log), 0);
	d.sync_fails = 1;
	ev.hold = true;		/* critical: synced at once */
	cr_assert_eq(evlog_submit(log, &ev), 0);
	WAIT_STAT(log, outages, 1, 3000);	/* a short one */
	wait_refusing(log, 0, 3000);
	cr_assert_eq(evlog_sync(log), 0);
	evlog_get_stats(log, &st);
	cr_assert_eq(st.write_errors, 1);
	cr_assert_eq(st.outages, 1);
	cr_assert_eq(st.written, 1);
	cr_assert_geq(d.calls[EVLOG_IO_SYNC], 2, "synced again");
	evlog_close(log);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s", r.why);
	cr_assert_eq(r.events, 1);
	tmp_free(&t);
}

Test(evlog, stopping_while_the_disk_refuses_leaves_a_whole_chain)
{
	struct disk d = { .limit = -1 };
	struct evlog_opts o = { .io_fault = disk_io, .io_fault_arg = &d };
	struct evlog_report r;
	struct evlog *log;
	struct tmp t;
	char *buf;
	size_t len;
	bool ordered;

	tmp_init(&t);
	log = evlog_open(t.path, &o);
	cr_assert_not_null(log);
	cr_assert_eq(evlog_start(log), 0);
	cr_assert_eq(submit_n(log, 0, 3), 3);
	cr_assert_eq(evlog_sync(log), 0);
	disk_set(&d, file_size(t.path) + 500, 0);
	cr_assert_eq(submit_n(log, 3, 10), 10);
	wait_refusing(log, -ENOSPC, 2000);
	evlog_close(log);	/* the events held are lost, and said */
	buf = slurp(t.path, &len);
	cr_assert_eq(buf[len - 1], '\n');
	cr_assert_eq(dns_in_order(buf, &ordered), 4);
	free(buf);

	/* A restart carries the chain on from the file's end. */
	write_events(t.path, NULL, 2);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s at %lu", r.why, (unsigned long)r.line);
	cr_assert_eq(r.events, 6);
	tmp_free(&t);
}

Test(evlog, a_full_disk_at_open_holds_the_recovered_event)
{
	struct disk d = { .limit = -1 };
	struct evlog_opts o = { .io_fault = disk_io, .io_fault_arg = &d };
	struct evlog_report r;
	struct evlog_stats st;
	struct evlog *log;
	struct tmp t;

	tmp_init(&t);
	write_events(t.path, NULL, 3);
	append_text(t.path, "{\"seq\":4,\"ts\":\"2023");
	disk_set(&d, file_size(t.path), 0);
	log = evlog_open(t.path, &o);
	cr_assert_not_null(log, "a full disk does not stop the daemon");
	evlog_get_stats(log, &st);
	cr_assert_eq(st.refusing, -ENOSPC);
	cr_assert_eq(st.seq, 3);
	cr_assert_eq(evlog_start(log), 0);
	cr_assert_eq(submit_n(log, 10, 2), 2);
	disk_set(&d, -1, 0);
	wait_refusing(log, 0, 3000);
	cr_assert_eq(evlog_sync(log), 0);
	evlog_close(log);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s at %lu", r.why, (unsigned long)r.line);
	cr_assert_eq(r.torn, 1);
	cr_assert_eq(r.events, 6);
	tmp_free(&t);
}

Test(evlog, a_hold_the_disk_refuses_is_not_written_at_all)
{
	struct disk d = { .limit = -1 };
	struct evlog_opts o = { .io_fault = disk_io, .io_fault_arg = &d };
	struct evlog_report r;
	struct evlog_stats st;
	struct evlog *log;
	struct tmp t;
	uint64_t seq = 0;
	char *buf;
	size_t len;

	tmp_init(&t);
	log = evlog_open(t.path, &o);
	cr_assert_not_null(log);
	cr_assert_eq(evlog_start(log), 0);
	cr_assert_eq(submit_n(log, 0, 2), 2);
	cr_assert_eq(evlog_sync(log), 0);
	disk_set(&d, file_size(t.path), 0);
	cr_assert_eq(evlog_hold(log, 1, "refused", &seq), -ENOSPC,
	    "its own write refused");
	disk_set(&d, -1, 0);
	wait_refusing(log, 0, 3000);
	cr_assert_eq(evlog_hold(log, 2, "taken", &seq), 0);
	cr_assert_eq(seq, 3, "the refused hold took no seq");
	evlog_get_stats(log, &st);
	cr_assert_eq(st.errors + st.lost, 0);
	evlog_close(log);
	buf = slurp(t.path, &len);
	cr_assert_null(strstr(buf, "refused"));
	cr_assert_not_null(strstr(buf, "\"reason\":\"taken\""));
	free(buf);
	verify_one(t.path, &r);
	cr_assert(r.intact, "%s", r.why);
	cr_assert_eq(r.events, 3);
	cr_assert_eq(r.holds, 1);
	tmp_free(&t);
}

Test(evlog, a_reopen_while_the_disk_refuses_takes_the_held_events_along)
{
	struct disk d = { .limit = -1 };
	struct evlog_opts o = { .io_fault = disk_io, .io_fault_arg = &d };
	struct evlog_report r;
	struct evlog_stats st;
	struct evlog *log;
	struct stat sb;
	struct tmp t;
	char other[160], *a, *b, *both;
	const char *paths[2];
	size_t alen, blen, s, n, k;
	bool ordered;
	time_t t0;

	tmp_init(&t);
	snprintf(other, sizeof(other), "%s/other.jsonl", t.dir);
	log = evlog_open(t.path, &o);
	cr_assert_not_null(log);
	cr_assert_eq(stat(t.path, &sb), 0);
	d.ino = sb.st_ino;	/* the other file is on a good disk */
	cr_assert_eq(evlog_start(log), 0);
	cr_assert_eq(submit_n(log, 0, 3), 3);
	cr_assert_eq(evlog_sync(log), 0);
	disk_set(&d, file_size(t.path), 0);
	cr_assert_eq(submit_n(log, 3, 10), 10);
	wait_refusing(log, -ENOSPC, 2000);

	t0 = time(NULL);
	cr_assert_eq(evlog_reopen(log, other), 0, "moved, not refused");
	cr_assert_leq(time(NULL) - t0, 1, "at once, ahead of the queue");
	evlog_get_stats(log, &st);
	cr_assert_eq(st.refusing, 0);
	cr_assert_eq(submit_n(log, 13, 2), 2);
	cr_assert_eq(evlog_sync(log), 0);
	evlog_close(log);

	a = slurp(t.path, &alen);
	b = slurp(other, &blen);
	cr_assert_eq(dns_in_order(a, &ordered), 3);
	/* The batch the old file refused, the "reopened" event, the rest
	   of the held ten (the queue's), the two after it. */
	cr_assert_eq(count_lines(b, "\"action\":\"reopened\""), 1);
	for (k = 1; k <= 11; k++) {
		line_at(b, k, &s, &n);
		if (memmem(b + s, n, "\"action\":\"reopened\"", 19) != NULL)
			break;
	}
	cr_assert_geq(k, 2, "after the batch the old file refused");
	cr_assert_leq(k, 11, "before the events put after the move");
	both = malloc(alen + blen + 1);
	memcpy(both, a, alen);
	memcpy(both + alen, b, blen + 1);
	cr_assert_eq(dns_in_order(both, &ordered), 15);
	cr_assert(ordered);
	free(both);
	free(a);
	free(b);
	paths[0] = t.path;
	paths[1] = other;
	cr_assert_eq(evlog_verify(paths, 2, &r), 0);
	cr_assert(r.intact, "%s at %lu", r.why, (unsigned long)r.line);
	cr_assert_eq(r.events, 16);
	tmp_free(&t);
}
