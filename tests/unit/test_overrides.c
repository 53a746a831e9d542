/*
 * test_overrides.c - the runtime overrides table (pauses and temporary
 * allows): keys, expiry, suffix matching, a full table, the state file,
 * concurrent reads during writes, and the duration and local-time parsers
 * safegatectl uses.
 *
 * Instants are written in UTC (timegm).  The local-time tests set
 * TZ=Europe/London; its 2026 changes: 29 March at 01:00 UTC (01:00 GMT
 * jumps to 02:00 BST) and 25 October at 01:00 UTC (02:00 BST falls back to
 * 01:00 GMT).  Criterion runs each test in its own process, so the zone
 * does not leak.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "control.h"
#include "overrides.h"

static time_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
	    .tm_hour = h, .tm_min = mi };

	return timegm(&tm);
}

static void
zone(const char *tz)
{
	cr_assert_eq(setenv("TZ", tz, 1), 0);
	tzset();
}

/* Wednesday 25 March 2026, 12:00 UTC (and GMT). */
#define NOW	utc(2026, 3, 25, 12, 0)

static struct overrides *
table(void)
{
	struct overrides *ov = overrides_new();

	cr_assert_not_null(ov);
	return ov;
}

static bool
paused(const struct overrides *ov, const char *key, time_t now,
    time_t *until)
{
	const char *keys[] = { key };

	return overrides_paused(ov, keys, 1, now, until);
}

static bool
allowed(const struct overrides *ov, const char *key, const char *name,
    time_t now)
{
	const char *keys[] = { key };

	return overrides_allowed(ov, keys, 1, name, strlen(name), now, NULL);
}

/* ---------------------------------------------------------------- keys */

static void
key_ok(const char *in, const char *want)
{
	char out[OVERRIDES_KEY_MAX + 1];
	int n = overrides_key_normalize(in, strlen(in), out);

	cr_assert_eq(n, (int)strlen(want), "\"%s\": %d", in, n);
	cr_assert_str_eq(out, want, "\"%s\"", in);
}

static void
key_bad(const char *in, size_t len)
{
	char out[OVERRIDES_KEY_MAX + 1];

	cr_assert_eq(overrides_key_normalize(in, len, out), -EINVAL,
	    "\"%.*s\"", (int)len, in);
}

Test(overrides, keys)
{
	char long_name[65];

	key_ok("amy-tablet", "amy-tablet");
	key_ok("Lounge_TV.2", "Lounge_TV.2");
	key_ok("AA:bb:CC:dd:EE:0f", "aa:bb:cc:dd:ee:0f");
	key_ok("192.168.1.20", "192.168.1.20");
	key_ok("2001:DB8:0:0::1", "2001:db8::1");
	key_ok("::ffff:10.0.0.1", "::ffff:10.0.0.1");
	memset(long_name, 'a', 63);
	long_name[63] = '\0';
	key_ok(long_name, long_name);
	long_name[63] = 'a';
	long_name[64] = '\0';
	key_bad(long_name, 64);
	key_bad("", 0);
	key_bad("amy tablet", 10);
	key_bad("amy/tablet", 10);
	key_bad("aa:bb:cc:dd:ee", 14);		/* five pairs: not a MAC */
	key_bad("aa:bb:cc:dd:ee:fg", 17);
	key_bad("fe80::1%eth0", 12);
	key_bad("amy\0x", 5);
}

/* --------------------------------------------------------------- pause */

Test(overrides, pause_and_expiry)
{
	struct overrides *ov = table();
	time_t until = 0, t = NOW + 3600;

	cr_assert(overrides_empty(ov));
	cr_assert_not(paused(ov, "amy", NOW, NULL));
	cr_assert_eq(overrides_pause(ov, "amy", t, NOW), 0);
	cr_assert_not(overrides_empty(ov));
	cr_assert(paused(ov, "amy", NOW, &until));
	cr_assert_eq(until, t);
	cr_assert(paused(ov, "amy", t - 1, NULL), "live up to the second "
	    "before until");
	cr_assert_not(paused(ov, "amy", t, NULL), "until <= now: gone");
	cr_assert_not(paused(ov, "bob", NOW, NULL));
	cr_assert_not(paused(ov, "Amy", NOW, NULL), "names are exact");
	cr_assert_eq(overrides_count(ov, NOW), 1);
	cr_assert_eq(overrides_count(ov, t), 0);

	/* Pausing again replaces the until, shorter or longer. */
	cr_assert_eq(overrides_pause(ov, "amy", NOW + 600, NOW), 1);
	cr_assert(paused(ov, "amy", NOW, &until));
	cr_assert_eq(until, NOW + 600);
	cr_assert_eq(overrides_count(ov, NOW), 1);

	/* Reclaimed only by prune (or reuse): readers ignore it before. */
	cr_assert_eq(overrides_prune(ov, NOW + 599), 0);
	cr_assert_eq(overrides_prune(ov, NOW + 600), 1);
	cr_assert(overrides_empty(ov));

	/* An expired entry of the same key is rewritten: "added". */
	cr_assert_eq(overrides_pause(ov, "amy", NOW + 10, NOW), 0);
	cr_assert_eq(overrides_pause(ov, "amy", NOW + 100, NOW + 20), 0);
	cr_assert_eq(overrides_count(ov, NOW + 20), 1);
	overrides_free(ov);
}

/*
 * The wall clock jumps (tests/faults/clock.sh does it to a running
 * daemon): an entry's until is a wall time, judged against the now each
 * reader passes.  A jump past until ends it; a jump back before until
 * brings it back as long as no prune reclaimed it (prune is final); an
 * entry set before a jump back lasts the jump longer - even beyond
 * OVERRIDES_SPAN_MAX from the new now, and a save and load keep it so.
 */
Test(overrides, clock_jumps)
{
	struct overrides *ov = table(), *back;
	struct overrides_entry e[2];
	char path[] = "/tmp/sg-ov-jump.XXXXXX";
	time_t until = 0;
	int fd;

	cr_assert_eq(overrides_pause(ov, "amy", NOW + 3600, NOW), 0);
	cr_assert_eq(overrides_allow(ov, "amy", "games.test", NOW + 1800, NOW,
	    NULL), 0);
	/* Forward past both ends: gone, for readers, count and list. */
	cr_assert_not(paused(ov, "amy", NOW + 7200, NULL));
	cr_assert_not(allowed(ov, "amy", "games.test", NOW + 7200));
	cr_assert_eq(overrides_count(ov, NOW + 7200), 0);
	cr_assert_eq(overrides_list(ov, NOW + 7200, e, 2), 0);
	/* Back before the pause's end, nothing pruned: it is live again. */
	cr_assert(paused(ov, "amy", NOW + 1800, &until));
	cr_assert_eq(until, NOW + 3600);
	/* Back a day: both live, a day longer than they were set for. */
	cr_assert(paused(ov, "amy", NOW - 86400, NULL));
	cr_assert(allowed(ov, "amy", "games.test", NOW - 86400));
	cr_assert_eq(overrides_count(ov, NOW - 86400), 2);
	/* Back more than the span: still live, not refused. */
	cr_assert(paused(ov, "amy", NOW - OVERRIDES_SPAN_MAX - 86400, NULL));
	/* ... and a restart at that time loads them as they were. */
	cr_assert_geq(fd = mkstemp(path), 0);
	close(fd);
	cr_assert_eq(overrides_save(ov, path, NOW - 40 * 86400), 0);
	back = table();
	cr_assert_eq(overrides_load(back, path, NOW - 40 * 86400, NULL, NULL),
	    2);
	cr_assert(paused(back, "amy", NOW - 40 * 86400, &until));
	cr_assert_eq(until, NOW + 3600);
	overrides_free(back);
	unlink(path);
	/* A prune while the clock was ahead is final: back, still gone. */
	cr_assert_eq(overrides_prune(ov, NOW + 7200), 2);
	cr_assert_not(paused(ov, "amy", NOW + 1800, NULL));
	cr_assert_not(allowed(ov, "amy", "games.test", NOW));
	cr_assert(overrides_empty(ov));
	/* Set while the clock is behind: the span counts from that now. */
	cr_assert_eq(overrides_pause(ov, "amy", NOW - 86400 + 600,
	    NOW - 86400), 0);
	cr_assert_not(paused(ov, "amy", NOW, NULL), "the clock fixed: over");
	overrides_free(ov);
}

Test(overrides, until_range)
{
	struct overrides *ov = table();
	const char *why = NULL;

	cr_assert_eq(overrides_pause(ov, "amy", NOW, NOW), -ERANGE);
	cr_assert_eq(overrides_pause(ov, "amy", NOW - 1, NOW), -ERANGE);
	cr_assert_eq(overrides_pause(ov, "amy", NOW + OVERRIDES_SPAN_MAX + 1,
	    NOW), -ERANGE);
	cr_assert_eq(overrides_pause(ov, "amy", NOW + OVERRIDES_SPAN_MAX,
	    NOW), 0);
	cr_assert_eq(overrides_allow(ov, "amy", "example.test", NOW, NOW,
	    &why), -ERANGE);
	cr_assert_eq(overrides_pause(ov, "a b", NOW + 1, NOW), -EINVAL);
	cr_assert_eq(overrides_pause(ov, NULL, NOW + 1, NOW), -EINVAL);
	cr_assert_eq(overrides_count(ov, NOW), 1);
	overrides_free(ov);
}

Test(overrides, keys_of_a_packet)
{
	struct overrides *ov = table();
	const char *keys[] = { "amy-tablet", NULL, "aa:bb:cc:dd:ee:ff",
	    "192.168.1.20" };
	time_t until = 0;

	cr_assert_eq(overrides_pause(ov, "AA:BB:CC:DD:EE:FF", NOW + 60, NOW),
	    0);
	cr_assert_eq(overrides_pause(ov, "192.168.1.20", NOW + 120, NOW), 0);
	cr_assert(overrides_paused(ov, keys, 4, NOW, &until));
	cr_assert_eq(until, NOW + 120, "the latest until of any key");
	cr_assert(overrides_paused(ov, keys, 3, NOW, &until));
	cr_assert_eq(until, NOW + 60);
	cr_assert_not(overrides_paused(ov, keys, 2, NOW, NULL),
	    "NULL keys are skipped");
	cr_assert_not(overrides_paused(ov, keys, 0, NOW, NULL));
	overrides_free(ov);
}

/* --------------------------------------------------------------- allow */

Test(overrides, allow_suffix)
{
	struct overrides *ov = table();
	const char *why = NULL;
	time_t until = 0;
	const char *keys[] = { "amy" };

	cr_assert_eq(overrides_allow(ov, "amy", "Example.TEST.", NOW + 1800,
	    NOW, &why), 0);
	cr_assert(allowed(ov, "amy", "example.test", NOW));
	cr_assert(allowed(ov, "amy", "www.example.test", NOW));
	cr_assert(allowed(ov, "amy", "a.b.c.example.test", NOW));
	cr_assert(allowed(ov, "amy", "WWW.Example.Test.", NOW),
	    "any case, a trailing dot");
	cr_assert_not(allowed(ov, "amy", "notexample.test", NOW));
	cr_assert_not(allowed(ov, "amy", "example.test.evil", NOW));
	cr_assert_not(allowed(ov, "amy", "test", NOW));
	cr_assert_not(allowed(ov, "amy", "", NOW));
	cr_assert_not(allowed(ov, "amy", ".", NOW));
	cr_assert_not(allowed(ov, "bob", "example.test", NOW));
	cr_assert_not(allowed(ov, "amy", "example.test", NOW + 1800));
	cr_assert(overrides_allowed(ov, keys, 1, "www.example.test!!", 16,
	    NOW, &until), "len bytes only");
	cr_assert_eq(until, NOW + 1800);
	cr_assert_not(paused(ov, "amy", NOW, NULL), "an allow is no pause");

	/* Again: replaces; another name: another entry. */
	cr_assert_eq(overrides_allow(ov, "amy", "example.test", NOW + 60, NOW,
	    &why), 1);
	cr_assert_eq(overrides_allow(ov, "amy", "*.other.test", NOW + 60, NOW,
	    &why), 0, "a leading *. is dropped");
	cr_assert(allowed(ov, "amy", "www.other.test", NOW));
	cr_assert_eq(overrides_count(ov, NOW), 2);
	overrides_free(ov);
}

Test(overrides, allow_bad_names)
{
	struct overrides *ov = table();
	const char *why;
	char huge[2000];

	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	why = NULL;
	cr_assert_eq(overrides_allow(ov, "amy", "localhost", NOW + 1, NOW,
	    &why), -EINVAL);
	cr_assert_not_null(why);
	cr_assert_eq(overrides_allow(ov, "amy", "10.0.0.1", NOW + 1, NOW,
	    &why), -EINVAL);
	cr_assert_eq(overrides_allow(ov, "amy", "a..b", NOW + 1, NOW, &why),
	    -EINVAL);
	cr_assert_eq(overrides_allow(ov, "amy", "", NOW + 1, NOW, &why),
	    -EINVAL);
	cr_assert_eq(overrides_allow(ov, "amy", huge, NOW + 1, NOW, &why),
	    -EINVAL);
	cr_assert_eq(overrides_allow(ov, "amy", NULL, NOW + 1, NOW, &why),
	    -EINVAL);
	why = NULL;
	cr_assert_eq(overrides_allow(ov, "a b", "example.test", NOW + 1, NOW,
	    &why), -EINVAL);
	cr_assert_not_null(why);
	/* IDNA: stored as punycode, matched as the wire carries it. */
	cr_assert_eq(overrides_allow(ov, "amy", "bücher.example", NOW + 60,
	    NOW, &why), 0);
	cr_assert(allowed(ov, "amy", "www.xn--bcher-kva.example", NOW));
	cr_assert_eq(overrides_count(ov, NOW), 1);
	overrides_free(ov);
}

/* -------------------------------------------------------------- resume */

Test(overrides, resume)
{
	struct overrides *ov = table();
	size_t nallows = 99;

	cr_assert_eq(overrides_pause(ov, "amy", NOW + 60, NOW), 0);
	cr_assert_eq(overrides_allow(ov, "amy", "a.test", NOW + 60, NOW,
	    NULL), 0);
	cr_assert_eq(overrides_allow(ov, "amy", "b.test", NOW + 60, NOW,
	    NULL), 0);
	cr_assert_eq(overrides_allow(ov, "bob", "a.test", NOW + 60, NOW,
	    NULL), 0);
	cr_assert_eq(overrides_pause(ov, "bob", NOW + 60, NOW), 0);

	cr_assert_eq(overrides_resume(ov, "amy", false, NOW, &nallows), 1);
	cr_assert_eq(nallows, 0);
	cr_assert_not(paused(ov, "amy", NOW, NULL));
	cr_assert(allowed(ov, "amy", "a.test", NOW), "allows stay");
	cr_assert_eq(overrides_resume(ov, "amy", false, NOW, NULL), 0,
	    "nothing left to end");
	cr_assert_eq(overrides_resume(ov, "amy", true, NOW, &nallows), 2);
	cr_assert_eq(nallows, 2);
	cr_assert_not(allowed(ov, "amy", "a.test", NOW));
	cr_assert(paused(ov, "bob", NOW, NULL), "others untouched");
	cr_assert(allowed(ov, "bob", "a.test", NOW));
	cr_assert_eq(overrides_resume(ov, "b b", true, NOW, NULL), -EINVAL);

	/* Expired entries go too, uncounted. */
	cr_assert_eq(overrides_resume(ov, "bob", true, NOW + 60, &nallows),
	    0);
	cr_assert(overrides_empty(ov));
	overrides_free(ov);
}

/* ---------------------------------------------------------- full table */

Test(overrides, full_table)
{
	struct overrides *ov = table();
	char key[16];
	int i;

	for (i = 0; i < OVERRIDES_MAX; i++) {
		snprintf(key, sizeof(key), "dev%d", i);
		cr_assert_eq(overrides_pause(ov, key, NOW + 10 + i, NOW), 0);
	}
	cr_assert_eq(overrides_count(ov, NOW), OVERRIDES_MAX);
	cr_assert_eq(overrides_pause(ov, "one-more", NOW + 100, NOW),
	    SG_ELIMIT);
	cr_assert_eq(overrides_allow(ov, "dev0", "a.test", NOW + 100, NOW,
	    NULL), SG_ELIMIT);
	cr_assert_eq(overrides_pause(ov, "dev7", NOW + 1000, NOW), 1,
	    "replacing needs no room");

	/* dev0 (until NOW + 10) has expired: its slot is reused. */
	cr_assert_eq(overrides_pause(ov, "one-more", NOW + 1000, NOW + 10),
	    0);
	cr_assert(paused(ov, "one-more", NOW + 10, NULL));
	cr_assert_not(paused(ov, "dev0", NOW + 10, NULL));
	cr_assert_eq(overrides_pause(ov, "two-more", NOW + 100, NOW + 10),
	    SG_ELIMIT);

	/* dev1 to dev100 but dev7 expire by NOW + 110: 99 reclaimed. */
	cr_assert_eq(overrides_prune(ov, NOW + 110), 99);
	cr_assert_eq(overrides_count(ov, NOW + 110), OVERRIDES_MAX - 99);
	cr_assert_eq(overrides_pause(ov, "two-more", NOW + 200, NOW + 110),
	    0);
	cr_assert_eq(overrides_prune(ov, NOW + 10000), OVERRIDES_MAX - 98);
	cr_assert(overrides_empty(ov), "the high-water mark comes down");
	overrides_free(ov);
}

/* ------------------------------------------------------ list and format */

Test(overrides, list_and_format)
{
	struct overrides *ov = table();
	struct overrides_entry e[8];
	char buf[512];
	int n;

	cr_assert_eq(overrides_allow(ov, "bob", "z.test", NOW + 30, NOW,
	    NULL), 0);
	cr_assert_eq(overrides_allow(ov, "amy", "b.test", NOW + 20, NOW,
	    NULL), 0);
	cr_assert_eq(overrides_pause(ov, "old", NOW + 1, NOW), 0);
	cr_assert_eq(overrides_allow(ov, "amy", "a.test", NOW + 20, NOW,
	    NULL), 0);
	cr_assert_eq(overrides_pause(ov, "amy", NOW + 10, NOW), 0);

	cr_assert_eq(overrides_list(ov, NOW + 1, e, 8), 4, "expired: left "
	    "out");
	cr_assert_eq(e[0].kind, OVERRIDES_PAUSE);
	cr_assert_str_eq(e[0].key, "amy");
	cr_assert_str_eq(e[0].name, "");
	cr_assert_eq(e[0].until, NOW + 10);
	cr_assert_str_eq(e[1].name, "a.test");
	cr_assert_str_eq(e[2].name, "b.test");
	cr_assert_str_eq(e[3].key, "bob");
	cr_assert_eq(overrides_list(ov, NOW + 1, e, 2), 2);

	n = overrides_format(ov, NOW + 1, buf, sizeof(buf));
	cr_assert_str_eq(buf,
	    "pause amy 1774440010\n"
	    "allow amy a.test 1774440020\n"
	    "allow amy b.test 1774440020\n"
	    "allow bob z.test 1774440030\n");
	cr_assert_eq(n, (int)strlen(buf));
	/* Truncated at a line boundary, the needed length still said. */
	cr_assert_eq(overrides_format(ov, NOW + 1, buf, 30), n);
	cr_assert_str_eq(buf, "pause amy 1774440010\n");
	cr_assert_eq(overrides_format(ov, NOW + 1, buf, 0), n);
	cr_assert_eq(overrides_format(ov, NOW + 100, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "");
	overrides_free(ov);
}

/* The worst case: every slot an allow with the longest key and name. */
Test(overrides, format_worst_case_fits_a_reply)
{
	struct overrides *ov = table();
	char key[OVERRIDES_KEY_MAX + 1], name[512], *buf;
	int i, n;

	memset(key, 'k', OVERRIDES_KEY_MAX);
	key[OVERRIDES_KEY_MAX] = '\0';
	for (i = 0; i < OVERRIDES_MAX; i++) {
		/* 4 labels of 63 and a 1-byte one: 253 bytes. */
		snprintf(name, sizeof(name), "%03d%.60s.%.63s.%.63s.%.61s", i,
		    key, key, key, key);
		cr_assert_eq(strlen(name), OVERRIDES_NAME_MAX);
		cr_assert_eq(overrides_allow(ov, key, name, NOW +
		    OVERRIDES_SPAN_MAX, NOW, NULL), 0, "%d", i);
	}
	buf = malloc(OVERRIDES_FORMAT_MAX);
	n = overrides_format(ov, NOW, buf, OVERRIDES_FORMAT_MAX);
	cr_assert_gt(n, 0);
	cr_assert_lt(n, OVERRIDES_FORMAT_MAX);
	cr_assert_lt(OVERRIDES_FORMAT_MAX, CONTROL_REPLY_MAX - 3,
	    "a full listing fits a control reply");
	free(buf);
	overrides_free(ov);
}

/* --------------------------------------------------------- persistence */

static char *
tmpdir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/sg-ov-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

static size_t
files_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

Test(overrides, save_and_load)
{
	struct overrides *ov = table(), *back = table();
	struct overrides_entry a[8], b[8];
	char path[128], *dir = tmpdir(), text[1024];
	struct stat st;
	FILE *f;
	size_t na, nb, i, len;

	snprintf(path, sizeof(path), "%s/state", dir);
	cr_assert_eq(overrides_load(back, path, NOW, NULL, NULL), 0,
	    "a missing file is no error");
	cr_assert_eq(overrides_pause(ov, "amy", NOW + 3600, NOW), 0);
	cr_assert_eq(overrides_pause(ov, "02:00:00:00:00:01", NOW + 60, NOW),
	    0);
	cr_assert_eq(overrides_allow(ov, "amy", "example.test", NOW + 1800,
	    NOW, NULL), 0);
	cr_assert_eq(overrides_allow(ov, "2001:db8::7", "b.test", NOW + 5,
	    NOW, NULL), 0);
	cr_assert_eq(overrides_pause(ov, "gone", NOW + 1, NOW), 0);
	cr_assert_eq(overrides_save(ov, path, NOW + 1), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(files_in(dir), 1, "no temporary file left behind");

	f = fopen(path, "r");
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	cr_assert_eq(text[0], '#', "a header line");
	cr_assert_not_null(strstr(text, "\npause amy 1774443600\n"));
	cr_assert_null(strstr(text, "gone"), "expired: not written");

	cr_assert_eq(overrides_load(back, path, NOW + 1, NULL, NULL), 4);
	na = overrides_list(ov, NOW + 1, a, 8);
	nb = overrides_list(back, NOW + 1, b, 8);
	cr_assert_eq(na, 4);
	cr_assert_eq(nb, na);
	for (i = 0; i < na; i++) {
		cr_assert_eq(a[i].kind, b[i].kind);
		cr_assert_str_eq(a[i].key, b[i].key);
		cr_assert_str_eq(a[i].name, b[i].name);
		cr_assert_eq(a[i].until, b[i].until);
	}
	/* Loaded later, what expired meanwhile is skipped. */
	overrides_free(back);
	back = table();
	cr_assert_eq(overrides_load(back, path, NOW + 60, NULL, NULL), 2);

	/* Saving again replaces the file. */
	cr_assert_eq(overrides_resume(ov, "amy", true, NOW, NULL), 2);
	cr_assert_eq(overrides_save(ov, path, NOW + 1), 0);
	overrides_free(back);
	back = table();
	cr_assert_eq(overrides_load(back, path, NOW + 1, NULL, NULL), 2);
	cr_assert_eq(files_in(dir), 1);

	/* Errors. */
	snprintf(path, sizeof(path), "%s/no/such/dir/state", dir);
	cr_assert_eq(overrides_save(ov, path, NOW), -ENOENT);
	cr_assert_eq(overrides_load(back, dir, NOW, NULL, NULL), -EISDIR);
	snprintf(path, sizeof(path), "%s/state", dir);
	unlink(path);
	rmdir(dir);
	overrides_free(ov);
	overrides_free(back);
}

Test(overrides, load_too_big)
{
	char path[128], *dir = tmpdir();
	struct overrides *ov = table();
	FILE *f;

	snprintf(path, sizeof(path), "%s/state", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(ftruncate(fileno(f), OVERRIDES_FILE_MAX + 1), 0);
	fclose(f);
	cr_assert_eq(overrides_load(ov, path, NOW, NULL, NULL), -EFBIG);
	unlink(path);
	rmdir(dir);
	overrides_free(ov);
}

struct bad {
	size_t	lines[32];
	char	reasons[32][96];
	size_t	n;
};

static void
on_bad(void *arg, size_t line, const char *reason)
{
	struct bad *b = arg;

	cr_assert_lt(b->n, 32);
	b->lines[b->n] = line;
	snprintf(b->reasons[b->n], sizeof(b->reasons[0]), "%s", reason);
	b->n++;
}

Test(overrides, load_bad_lines)
{
	static const char text[] =
	    "# comment\n"					/* 1 */
	    "   \n"						/* 2 */
	    "pause amy 2000000000\n"				/* 3 */
	    "allow amy Example.test 1774450000\r\n"		/* 4 */
	    "frob x 1\n"					/* 5 */
	    "pause\n"						/* 6 */
	    "pause bad/key 1774450000\n"			/* 7 */
	    "allow amy 1774450000\n"				/* 8 */
	    "allow amy notaname 1774450000\n"			/* 9 */
	    "pause amy 12x\n"					/* 10 */
	    "pause amy 1774450000 extra\n"			/* 11 */
	    "pause old-device 1000\n"				/* 12 */
	    "\tpause\tAA:BB:CC:DD:EE:FF  1774450000 \n"		/* 13 */
	    "  # indented comment\n"				/* 14 */
	    "pause amy 99999999999999\n"			/* 15 */
	    "PAUSE amy 1774450000\n"				/* 16 */
	    "pause amy 1774450000";				/* 17 */
	static const size_t want[] = { 5, 6, 7, 8, 9, 10, 11, 15, 16 };
	struct overrides *ov = table();
	struct bad b = { .n = 0 };
	time_t until = 0;
	size_t i;

	cr_assert_eq(overrides_parse(ov, text, sizeof(text) - 1, NOW, on_bad,
	    &b), 4);
	cr_assert_eq(b.n, sizeof(want) / sizeof(want[0]), "%zu bad lines",
	    b.n);
	for (i = 0; i < b.n; i++)
		cr_assert_eq(b.lines[i], want[i], "report %zu: line %zu (%s)",
		    i, b.lines[i], b.reasons[i]);
	cr_assert_str_eq(b.reasons[0], "unknown entry (want pause or allow)");
	cr_assert_str_eq(b.reasons[1], "missing device");
	cr_assert_str_eq(b.reasons[3], "missing until");
	cr_assert_str_eq(b.reasons[6], "trailing text after the entry");
	cr_assert(paused(ov, "amy", NOW, &until));
	cr_assert_eq(until, 1774450000, "line 17 replaced line 3");
	cr_assert(paused(ov, "aa:bb:cc:dd:ee:ff", NOW, NULL));
	cr_assert(allowed(ov, "amy", "www.example.test", NOW));
	cr_assert_eq(overrides_count(ov, NOW), 3);
	/* No callback: the same, silently. */
	cr_assert_eq(overrides_parse(ov, text, sizeof(text) - 1, NOW, NULL,
	    NULL), 4);
	cr_assert_eq(overrides_count(ov, NOW), 3);
	overrides_free(ov);
}

static char *
allow_lines(int n)
{
	char *text = malloc((size_t)n * 64 + 1), *p = text;
	int i;

	cr_assert_not_null(text);
	*p = '\0';
	for (i = 0; i < n; i++)
		p += sprintf(p, "allow amy n%d.test %lld\n", i,
		    (long long)NOW + 60);
	return text;
}

/* A file that holds more than fits: the rest reported, not fatal. */
Test(overrides, load_full)
{
	struct overrides *ov = table();
	struct bad b = { .n = 0 };
	char *text = allow_lines(300);

	cr_assert_eq(overrides_parse(ov, text, strlen(text), NOW, NULL,
	    NULL), OVERRIDES_MAX);
	cr_assert_eq(overrides_count(ov, NOW), OVERRIDES_MAX);
	overrides_free(ov);
	free(text);

	ov = table();
	text = allow_lines(OVERRIDES_MAX + 5);
	cr_assert_eq(overrides_parse(ov, text, strlen(text), NOW, on_bad, &b),
	    OVERRIDES_MAX);
	cr_assert_eq(b.n, 5);
	cr_assert_eq(b.lines[0], OVERRIDES_MAX + 1);
	cr_assert_eq(b.lines[4], OVERRIDES_MAX + 5);
	cr_assert_str_eq(b.reasons[0], "no room: the table is full");
	free(text);
	overrides_free(ov);
}

Test(overrides, parse_line)
{
	struct overrides_entry e;

	cr_assert_null(overrides_parse_line("allow 10.0.0.1 a.test 5", 23,
	    &e));
	cr_assert_eq(e.kind, OVERRIDES_ALLOW);
	cr_assert_str_eq(e.key, "10.0.0.1");
	cr_assert_str_eq(e.name, "a.test");
	cr_assert_eq(e.until, 5);
	cr_assert_null(overrides_parse_line("pause amy 7 trailing", 11, &e),
	    "len bytes only");
	cr_assert_not_null(overrides_parse_line("", 0, &e));
	cr_assert_not_null(overrides_parse_line("# x", 3, &e));
	cr_assert_not_null(overrides_parse_line("pause amy\0 7", 12, &e));
}

Test(overrides, parse_epoch)
{
	time_t t = 0;

	cr_assert_eq(overrides_parse_epoch("1774440000", &t), 0);
	cr_assert_eq(t, 1774440000);
	cr_assert_eq(overrides_parse_epoch("0", &t), 0);
	cr_assert_eq(overrides_parse_epoch("999999999999", &t), 0);
	cr_assert_eq(t, 999999999999LL);
	cr_assert_eq(overrides_parse_epoch("1000000000000", &t),
	    SG_EMALFORMED);
	cr_assert_eq(overrides_parse_epoch("", &t), SG_EMALFORMED);
	cr_assert_eq(overrides_parse_epoch("-1", &t), SG_EMALFORMED);
	cr_assert_eq(overrides_parse_epoch("+1", &t), SG_EMALFORMED);
	cr_assert_eq(overrides_parse_epoch(" 1", &t), SG_EMALFORMED);
	cr_assert_eq(overrides_parse_epoch("1e9", &t), SG_EMALFORMED);
}

/* ------------------------------------------------- concurrent readers */

/*
 * The writer churns two slots: each step ends device kN's allow of
 * nN.example.test (until BASE + N) and adds k(N+1)'s, which lands in the
 * slot just freed.  Readers check that every entry they see is whole:
 * key, name and until all say the same N.  A torn read would mix two.
 */
#define CHURN	500000
#define BASE	(NOW + 1000)

struct race {
	struct overrides	*ov;
	atomic_bool		 stop;
	size_t			 seen, hits;
	int			 bad;
};

static void *
reader(void *arg)
{
	struct race *r = arg;
	struct overrides_entry e[4];
	char name[64];
	const char *keys[1];
	size_t i, n;
	time_t until;
	int k, kn;

	while (!atomic_load(&r->stop)) {
		n = overrides_list(r->ov, NOW, e, 4);
		for (i = 0; i < n; i++) {
			r->seen++;
			if (sscanf(e[i].key, "k%d", &k) != 1 ||
			    sscanf(e[i].name, "n%d.example.test", &kn) != 1 ||
			    k != kn || e[i].until != BASE + k) {
				r->bad++;
				continue;
			}
			/* The same through the lookup, for a name below. */
			keys[0] = e[i].key;
			snprintf(name, sizeof(name), "www.n%d.example.test",
			    k);
			if (overrides_allowed(r->ov, keys, 1, name,
			    strlen(name), NOW, &until)) {
				r->hits++;
				if (until != BASE + k)
					r->bad++;
			}
		}
	}
	return NULL;
}

Test(overrides, concurrent_reads, .timeout = 60)
{
	struct race r = { .ov = table() };
	char key[16], name[64];
	pthread_t t[1];
	int k;

	atomic_init(&r.stop, false);
	cr_assert_eq(overrides_allow(r.ov, "k0", "n0.example.test", BASE,
	    NOW, NULL), 0);
	pthread_create(&t[0], NULL, reader, &r);
	for (k = 1; k <= CHURN; k++) {
		snprintf(key, sizeof(key), "k%d", k - 1);
		cr_assert_eq(overrides_resume(r.ov, key, true, NOW, NULL), 1);
		snprintf(key, sizeof(key), "k%d", k);
		snprintf(name, sizeof(name), "n%d.example.test", k);
		cr_assert_eq(overrides_allow(r.ov, key, name, BASE + k, NOW,
		    NULL), 0);
	}
	atomic_store(&r.stop, true);
	pthread_join(t[0], NULL);
	cr_assert_eq(r.bad, 0, "%d torn entries of %zu seen", r.bad, r.seen);
	cr_assert_gt(r.seen, 0);
	overrides_free(r.ov);
}

/* ------------------------------------------------------------ durations */

static void
dur_ok(const char *s, time_t want)
{
	const char *why = NULL;
	time_t t = -1;

	cr_assert_eq(overrides_parse_duration(s, &t, &why), 0, "\"%s\": %s",
	    s, why ? why : "");
	cr_assert_eq(t, want, "\"%s\": %lld", s, (long long)t);
}

static void
dur_bad(const char *s, int rc)
{
	const char *why = NULL;
	time_t t = -1;

	cr_assert_eq(overrides_parse_duration(s, &t, &why), rc, "\"%s\"", s);
	cr_assert_not_null(why, "\"%s\"", s);
	cr_assert_eq(t, -1, "\"%s\": untouched", s);
}

Test(overrides, durations)
{
	char buf[32];

	dur_ok("90s", 90);
	dur_ok("30m", 1800);
	dur_ok("1h", 3600);
	dur_ok("1h30m", 5400);
	dur_ok("2d", 172800);
	dur_ok("1d12h", 129600);
	dur_ok("1d2h3m4s", 93784);
	dur_ok("90m", 5400);
	dur_ok("30d", 30 * 86400);
	dur_ok("720h", 30 * 86400);
	dur_ok("007m", 420);
	dur_bad("31d", SG_ELIMIT);
	dur_bad("721h", SG_ELIMIT);
	dur_bad("30d1s", SG_ELIMIT);
	dur_bad("0m", SG_ELIMIT);
	dur_bad("0h0m", SG_ELIMIT);
	dur_bad("99999999999999999999d", SG_ELIMIT);
	dur_bad("", SG_EMALFORMED);
	dur_bad("1", SG_EMALFORMED);
	dur_bad("h", SG_EMALFORMED);
	dur_bad("1x", SG_EMALFORMED);
	dur_bad("1H", SG_EMALFORMED);
	dur_bad("1h1h", SG_EMALFORMED);
	dur_bad("30m1h", SG_EMALFORMED);
	dur_bad("-1h", SG_EMALFORMED);
	dur_bad(" 1h", SG_EMALFORMED);
	dur_bad("1h ", SG_EMALFORMED);
	dur_bad("1 h", SG_EMALFORMED);
	dur_bad("1.5h", SG_EMALFORMED);

	cr_assert_str_eq(overrides_format_duration(5400, buf, sizeof(buf)),
	    "1h30m");
	cr_assert_str_eq(overrides_format_duration(90, buf, sizeof(buf)),
	    "1m30s");
	cr_assert_str_eq(overrides_format_duration(172800, buf, sizeof(buf)),
	    "2d");
	cr_assert_str_eq(overrides_format_duration(93784, buf, sizeof(buf)),
	    "1d2h3m4s");
	cr_assert_str_eq(overrides_format_duration(0, buf, sizeof(buf)),
	    "0s");
	cr_assert_str_eq(overrides_format_duration(-5, buf, sizeof(buf)),
	    "0s");
}

/* ---------------------------------------------------------------- --at */

static void
at_ok(const char *s, time_t now, time_t want)
{
	const char *why = NULL;
	time_t t = -1;

	cr_assert_eq(overrides_parse_at(s, now, &t, &why), 0, "\"%s\": %s",
	    s, why ? why : "");
	cr_assert_eq(t, want, "\"%s\": %lld, want %lld (%+lld s)", s,
	    (long long)t, (long long)want, (long long)(t - want));
}

static void
at_bad(const char *s, time_t now, const char *reason)
{
	const char *why = NULL;
	time_t t = -1;

	cr_assert_eq(overrides_parse_at(s, now, &t, &why), SG_EMALFORMED,
	    "\"%s\"", s);
	cr_assert_not_null(why);
	if (reason != NULL)
		cr_assert_str_eq(why, reason, "\"%s\"", s);
	cr_assert_eq(t, -1);
}

Test(overrides, at_weekday)
{
	zone("Europe/London");
	/* Wednesday 12:00 GMT. */
	at_ok("Wed 13:00", NOW, utc(2026, 3, 25, 13, 0));
	at_ok("Wed 12:00", NOW, utc(2026, 3, 25, 12, 0));
	/* Today counts while the minute has not ended. */
	at_ok("Wed 12:00", NOW + 59, utc(2026, 3, 25, 12, 0));
	at_ok("Wed 12:00", NOW + 60, utc(2026, 4, 1, 11, 0));
	/* Next week is after the change: 11:59 BST is 10:59 UTC. */
	at_ok("Wed 11:59", NOW, utc(2026, 4, 1, 10, 59));
	at_ok("Thu 00:00", NOW, utc(2026, 3, 26, 0, 0));
	at_ok("Sat 23:59", NOW, utc(2026, 3, 28, 23, 59));
	/* Sunday is after the change: 21:30 BST is 20:30 UTC. */
	at_ok("Sun 21:30", NOW, utc(2026, 3, 29, 20, 30));
	at_ok("sunday 21:30", NOW, utc(2026, 3, 29, 20, 30));
	at_ok("SUN 21:30", NOW, utc(2026, 3, 29, 20, 30));
	at_ok("  Sun \t 21:30  ", NOW, utc(2026, 3, 29, 20, 30));
	at_ok("Sun 9:05", NOW, utc(2026, 3, 29, 8, 5));
	/* Saturday noon to Sunday 09:00 is 20 hours, not 21. */
	at_ok("Sun 09:00", utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 8, 0));
	/* Sunday 01:30 does not happen on the 29th. */
	at_bad("Sun 01:30", utc(2026, 3, 28, 12, 0),
	    "no such local time: the clocks go forward over it");
	/* Autumn: 01:30 happens twice; the first (BST) wins. */
	at_ok("Sun 01:30", utc(2026, 10, 24, 12, 0),
	    utc(2026, 10, 25, 0, 30));
	at_ok("Mon 09:00", utc(2026, 10, 24, 12, 0),
	    utc(2026, 10, 26, 9, 0));
}

Test(overrides, at_time_only)
{
	zone("Europe/London");
	at_ok("12:30", NOW, utc(2026, 3, 25, 12, 30));
	at_ok("11:00", NOW, utc(2026, 3, 26, 11, 0));
	at_ok("00:00", NOW, utc(2026, 3, 26, 0, 0));
	/* Saturday evening: tomorrow's 09:00 is BST. */
	at_ok("09:00", utc(2026, 3, 28, 20, 0), utc(2026, 3, 29, 8, 0));
	/* Sunday 13:00 BST: today's 01:30 never was, but is over anyway. */
	at_ok("01:30", utc(2026, 3, 29, 12, 0), utc(2026, 3, 30, 0, 30));
	at_bad("01:30", utc(2026, 3, 28, 20, 0), NULL);
}

Test(overrides, at_date)
{
	zone("Europe/London");
	at_ok("2026-03-01 21:30", NOW, utc(2026, 3, 1, 21, 30));
	at_ok("2026-07-01 21:30", NOW, utc(2026, 7, 1, 20, 30));
	at_ok("2026-03-29 00:59", NOW, utc(2026, 3, 29, 0, 59));
	at_ok("2026-03-29 02:00", NOW, utc(2026, 3, 29, 1, 0));
	at_bad("2026-03-29 01:00", NOW,
	    "no such local time: the clocks go forward over it");
	at_bad("2026-03-29 01:59", NOW, NULL);
	at_ok("2026-10-25 00:59", NOW, utc(2026, 10, 24, 23, 59));
	at_ok("2026-10-25 01:00", NOW, utc(2026, 10, 25, 0, 0));
	at_ok("2026-10-25 01:59", NOW, utc(2026, 10, 25, 0, 59));
	at_ok("2026-10-25 02:00", NOW, utc(2026, 10, 25, 2, 0));
	at_ok("2028-02-29 10:00", NOW, utc(2028, 2, 29, 10, 0));
	at_ok("2026-03-01 21:30", NOW + 86400 * 365, utc(2026, 3, 1, 21, 30));
	at_bad("2026-02-29 10:00", NOW, "bad date (YYYY-MM-DD, from 1970)");
	at_bad("2026-13-01 10:00", NOW, NULL);
	at_bad("2026-00-10 10:00", NOW, NULL);
	at_bad("1969-12-31 10:00", NOW, NULL);
	at_bad("2026-3-1 10:00", NOW, NULL);
	at_bad("2026-03-01", NOW, NULL);

	zone("UTC");
	at_ok("2026-03-29 01:30", NOW, utc(2026, 3, 29, 1, 30));
}

Test(overrides, at_bad_input)
{
	zone("Europe/London");
	at_bad("", NOW, NULL);
	at_bad("   ", NOW, NULL);
	at_bad("Sun", NOW, NULL);
	at_bad("Sun 24:00", NOW, "bad time of day (HH:MM, 00:00 to 23:59)");
	at_bad("Sun 21:60", NOW, NULL);
	at_bad("Sun 21:3", NOW, NULL);
	at_bad("Sun 210:30", NOW, NULL);
	at_bad("Sun 21-30", NOW, NULL);
	at_bad("Sun21:30", NOW, NULL);
	at_bad("Funday 10:00", NOW, NULL);
	at_bad("Su 10:00", NOW, NULL);
	at_bad("Sun 21:30 x", NOW, "trailing text after the time");
	at_bad("24:00", NOW, NULL);
	at_bad("21", NOW, NULL);
	at_bad("tomorrow", NOW, NULL);
}
