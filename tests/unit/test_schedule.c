/*
 * test_schedule.c - schedule_parse(), schedule_format(), schedule_active()
 * and schedule_next_change().
 *
 * Instants are written in UTC (timegm) and the zone is set per test with
 * setenv("TZ") and tzset(); Criterion runs every test in its own process,
 * so the zone does not leak.  The DST days are Europe/London's of 2026
 * (29 March: 01:00 UTC jumps from 01:00 GMT to 02:00 BST; 25 October: 01:00
 * UTC falls from 02:00 BST back to 01:00 GMT) and Australia/Sydney's (5
 * April 03:00 AEDT back to 02:00 AEST; 4 October 02:00 AEST on to 03:00
 * AEDT, both at 16:00 UTC the day before).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "schedule.h"

static void
zone(const char *tz)
{
	cr_assert_eq(setenv("TZ", tz, 1), 0);
	tzset();
}

static time_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
	    .tm_hour = h, .tm_min = mi };

	return timegm(&tm);
}

static struct schedule
parse(const char *text)
{
	struct schedule s;
	struct schedule_error e = { NULL, 0 };
	int rc = schedule_parse(&s, text, strlen(text), &e);

	cr_assert_eq(rc, 0, "\"%s\": %d at column %zu: %s", text, rc,
	    e.column, e.reason ? e.reason : "(null)");
	return s;
}

static void
bad(const char *text, int want_rc, size_t column, const char *reason)
{
	struct schedule s;
	struct schedule_error e = { NULL, 0 };
	int rc = schedule_parse(&s, text, strlen(text), &e);

	cr_assert_eq(rc, want_rc, "\"%s\": rc %d", text, rc);
	cr_assert_not_null(e.reason, "\"%s\"", text);
	cr_assert_str_eq(e.reason, reason, "\"%s\"", text);
	cr_assert_eq(e.column, column, "\"%s\": column %zu, want %zu", text,
	    e.column, column);
	cr_assert_eq(s.n, 0);
	cr_assert_not(schedule_active(&s, utc(2026, 3, 2, 12, 0)));
}

static void
canon(const char *text, const char *want)
{
	struct schedule s = parse(text), s2;
	char buf[SCHEDULE_FORMAT_MAX];
	int n = schedule_format(&s, buf, sizeof(buf));

	cr_assert_gt(n, 0);
	cr_assert_str_eq(buf, want, "\"%s\" printed \"%s\"", text, buf);
	cr_assert_eq((size_t)n, strlen(buf));
	s2 = parse(buf);
	cr_assert_eq(memcmp(&s, &s2, sizeof(s)), 0, "\"%s\"", buf);
}

/*
 * Every minute of [from, to) against next_change: the state is constant
 * up to the change and differs at it.  Minute steps are exact because the
 * zones used change offsets on whole minutes.
 */
static void
brute(const struct schedule *s, time_t from, time_t to)
{
	time_t t, nc = schedule_next_change(s, from);
	bool cur = schedule_active(s, from);

	for (t = from + 60; t < to; t += 60) {
		bool a = schedule_active(s, t);

		if (a != cur) {
			cr_assert_eq(nc, t, "change at %lld, next_change said "
			    "%lld", (long long)t, (long long)nc);
			nc = schedule_next_change(s, t);
			cur = a;
		} else
			cr_assert(nc == SCHEDULE_NEVER || nc > t);
		cr_assert(nc == SCHEDULE_NEVER || nc > t);
	}
}

/* 2026-03-02 is a Monday; day 0 = Mon 2 March .. day 6 = Sun 8 March. */
#define MON(h, m)	utc(2026, 3, 2, h, m)
#define DAY(d, h, m)	utc(2026, 3, 2 + (d), h, m)

Test(schedule, midnight_wrap)
{
	struct schedule s;

	zone("UTC");
	s = parse("Sun-Thu 21:00-07:00");
	/* Sunday 8 March 21:00 to Monday 9 March 07:00. */
	cr_assert_not(schedule_active(&s, DAY(6, 20, 59)));
	cr_assert(schedule_active(&s, DAY(6, 21, 0)));
	cr_assert(schedule_active(&s, DAY(7, 0, 0)));
	cr_assert(schedule_active(&s, DAY(7, 6, 59)));
	cr_assert_not(schedule_active(&s, DAY(7, 7, 0)));
	/* Thursday night runs into Friday morning ... */
	cr_assert(schedule_active(&s, DAY(3, 23, 0)));
	cr_assert(schedule_active(&s, DAY(4, 6, 30)));
	cr_assert_not(schedule_active(&s, DAY(4, 7, 0)));
	/* ... but Friday and Saturday nights are free. */
	cr_assert_not(schedule_active(&s, DAY(4, 21, 0)));
	cr_assert_not(schedule_active(&s, DAY(5, 3, 0)));
	cr_assert_not(schedule_active(&s, DAY(5, 23, 59)));
	/* Sunday morning belongs to Saturday night: free. */
	cr_assert_not(schedule_active(&s, DAY(6, 6, 0)));
	/* Monday morning belongs to Sunday night. */
	cr_assert(schedule_active(&s, MON(6, 0)));
	cr_assert_eq(schedule_next_change(&s, DAY(6, 12, 0)), DAY(6, 21, 0));
	cr_assert_eq(schedule_next_change(&s, DAY(6, 21, 0)), DAY(7, 7, 0));
	cr_assert_eq(schedule_next_change(&s, DAY(4, 7, 0)), DAY(6, 21, 0));
	cr_assert_eq(schedule_next_change(&s, DAY(4, 6, 59) + 59),
	    DAY(4, 7, 0));
	brute(&s, MON(0, 0), DAY(8, 0, 0));
}

Test(schedule, ends_at_midnight)
{
	struct schedule s;

	zone("UTC");
	s = parse("Mon 22:00-24:00");
	cr_assert(schedule_active(&s, MON(23, 59)));
	cr_assert_not(schedule_active(&s, DAY(1, 0, 0)));
	cr_assert_eq(schedule_next_change(&s, MON(22, 0)), DAY(1, 0, 0));
	/* An end of 00:00 is midnight too, not a crossing into Tuesday. */
	{
		struct schedule z = parse("Mon 22:00-00:00");

		cr_assert_eq(memcmp(&s, &z, sizeof(s)), 0);
	}
	s = parse("daily 00:00-24:00");
	cr_assert(schedule_active(&s, MON(0, 0)));
	cr_assert(schedule_active(&s, DAY(3, 23, 59)));
	cr_assert_eq(schedule_next_change(&s, MON(0, 0)), SCHEDULE_NEVER);
	/* Whole days: the week without Saturday changes at its edges. */
	s = parse("Sun-Fri 00:00-24:00");
	cr_assert_eq(schedule_next_change(&s, MON(0, 0)), DAY(5, 0, 0));
	cr_assert_eq(schedule_next_change(&s, DAY(5, 0, 0)), DAY(6, 0, 0));
	s = parse("Sat 23:59-00:01");
	cr_assert(schedule_active(&s, DAY(5, 23, 59)));
	cr_assert(schedule_active(&s, DAY(6, 0, 0)));
	cr_assert_not(schedule_active(&s, DAY(6, 0, 1)));
}

Test(schedule, several_windows)
{
	struct schedule s;

	zone("UTC");
	s = parse("weekdays 07:00-08:00; Mon,Wed,Fri 12:00-13:00 ;"
	    "daily 21:30-06:45");
	cr_assert_eq(s.n, 3);
	cr_assert(schedule_active(&s, MON(7, 30)));
	cr_assert_not(schedule_active(&s, MON(8, 0)));
	cr_assert(schedule_active(&s, MON(12, 0)));
	cr_assert_not(schedule_active(&s, DAY(1, 12, 0)));	/* Tue */
	cr_assert(schedule_active(&s, DAY(2, 12, 59)));	/* Wed */
	cr_assert_not(schedule_active(&s, DAY(5, 7, 30)));	/* Sat */
	cr_assert(schedule_active(&s, DAY(5, 22, 0)));
	cr_assert(schedule_active(&s, MON(6, 44)));
	cr_assert_not(schedule_active(&s, MON(6, 45)));
	/* Overlapping windows: a shared edge is not a change. */
	s = parse("Mon 08:00-10:00; Mon 10:00-12:00; Mon 09:00-11:00");
	cr_assert_eq(schedule_next_change(&s, MON(7, 0)), MON(8, 0));
	cr_assert_eq(schedule_next_change(&s, MON(8, 0)), MON(12, 0));
	brute(&s, MON(0, 0), DAY(7, 0, 0));
	/* Up to the limit, and one more. */
	{
		char buf[SCHEDULE_TEXT_MAX];
		size_t i, n = 0;
		struct schedule_error e;

		for (i = 0; i < SCHEDULE_WINDOWS_MAX; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "%sMon %02zu:00-%02zu:30", i ? ";" : "", i, i);
		s = parse(buf);
		cr_assert_eq(s.n, SCHEDULE_WINDOWS_MAX);
		snprintf(buf + n, sizeof(buf) - n, "; Tue 01:00-02:00");
		cr_assert_eq(schedule_parse(&s, buf, strlen(buf), &e),
		    SG_ELIMIT);
		cr_assert_str_eq(e.reason, "more than 16 windows");
		cr_assert_eq(e.column, n + 3);
	}
}

Test(schedule, week_edges)
{
	struct schedule s;

	zone("UTC");
	/* Fri-Mon wraps the week: Fri, Sat, Sun, Mon. */
	s = parse("Fri-Mon 10:00-11:00");
	cr_assert(schedule_active(&s, MON(10, 0)));
	cr_assert_not(schedule_active(&s, DAY(1, 10, 0)));
	cr_assert_not(schedule_active(&s, DAY(3, 10, 0)));
	cr_assert(schedule_active(&s, DAY(4, 10, 0)));
	cr_assert(schedule_active(&s, DAY(5, 10, 0)));
	cr_assert(schedule_active(&s, DAY(6, 10, 59)));
	cr_assert(schedule_active(&s, DAY(7, 10, 0)));
	cr_assert_eq(schedule_next_change(&s, MON(11, 0)), DAY(4, 10, 0));
	/* Sunday night ends Monday morning, across the week's end. */
	s = parse("Sun 22:00-06:00");
	cr_assert(schedule_active(&s, DAY(6, 22, 0)));
	cr_assert(schedule_active(&s, DAY(7, 5, 59)));
	cr_assert(schedule_active(&s, MON(5, 59)));
	cr_assert_not(schedule_active(&s, MON(22, 0)));
	cr_assert_not(schedule_active(&s, DAY(5, 23, 0)));
	cr_assert_eq(schedule_next_change(&s, DAY(6, 23, 0)), DAY(7, 6, 0));
	cr_assert_eq(schedule_next_change(&s, DAY(7, 6, 0)), DAY(13, 22, 0));
	s = parse("Sat-Sun 23:00-01:00");
	cr_assert(schedule_active(&s, DAY(7, 0, 30)));	/* Mon: Sun's */
	cr_assert_not(schedule_active(&s, DAY(7, 23, 0)));
	brute(&s, MON(0, 0), DAY(8, 0, 0));
	s = parse("Fri-Mon 20:00-08:00");
	brute(&s, MON(0, 0), DAY(8, 0, 0));
}

Test(schedule, keywords)
{
	struct schedule s;
	int d;

	zone("UTC");
	s = parse("DAILY 09:00-10:00");
	for (d = 0; d < 7; d++)
		cr_assert(schedule_active(&s, DAY(d, 9, 0)));
	s = parse("weekdays 09:00-10:00");
	for (d = 0; d < 7; d++)
		cr_assert_eq(schedule_active(&s, DAY(d, 9, 0)), d < 5);
	s = parse("Weekends 09:00-10:00");
	for (d = 0; d < 7; d++)
		cr_assert_eq(schedule_active(&s, DAY(d, 9, 0)), d >= 5);
	s = parse("weekends,fri 09:00-10:00");
	for (d = 0; d < 7; d++)
		cr_assert_eq(schedule_active(&s, DAY(d, 9, 0)), d >= 4);
}

Test(schedule, canonical_forms)
{
	canon("Mon,Wed,Fri 07:00-08:00", "Mon,Wed,Fri 07:00-08:00");
	canon("  mon,WED,fri\t 07:00-08:00 ", "Mon,Wed,Fri 07:00-08:00");
	canon("Fri-Mon 10:00-11:00", "Fri-Mon 10:00-11:00");
	canon("Mon-Sun 10:00-11:00", "daily 10:00-11:00");
	canon("Sat,Sun 10:00-11:00", "weekends 10:00-11:00");
	canon("Mon,Tue,Wed,Thu,Fri 10:00-11:00", "weekdays 10:00-11:00");
	canon("Mon,Tue,Thu-Sat 10:00-11:00", "Mon-Tue,Thu-Sat 10:00-11:00");
	canon("Sun,Tue 10:00-00:00;Sat 00:00-24:00",
	    "Sun,Tue 10:00-24:00; Sat 00:00-24:00");
	canon("Sun 21:00-07:00", "Sun 21:00-07:00");
}

Test(schedule, malformed)
{
	bad("", SG_EMALFORMED, 1, "empty schedule");
	bad("   ", SG_EMALFORMED, 4, "empty schedule");
	bad("Mon", SG_EMALFORMED, 4,
	    "expected a space and the times after the days");
	bad("Mon09:00-10:00", SG_EMALFORMED, 4,
	    "expected a space between the days and the times");
	bad("Mon;09:00-10:00", SG_EMALFORMED, 4,
	    "expected a space between the days and the times");
	bad("Mnd 09:00-10:00", SG_EMALFORMED, 1, "unknown day name (Mon, Tue, "
	    "Wed, Thu, Fri, Sat, Sun, daily, weekdays, weekends)");
	bad("Monday 09:00-10:00", SG_EMALFORMED, 1, "unknown day name (Mon, "
	    "Tue, Wed, Thu, Fri, Sat, Sun, daily, weekdays, weekends)");
	bad("09:00-10:00", SG_EMALFORMED, 1,
	    "expected a day name, daily, weekdays or weekends");
	bad("Mon-Xyz 09:00-10:00", SG_EMALFORMED, 5,
	    "unknown day name (Mon, Tue, Wed, Thu, Fri, Sat, Sun)");
	bad("Mon- 09:00-10:00", SG_EMALFORMED, 5,
	    "expected a day name after '-'");
	bad("Tue,Mon-Mon 09:00-10:00", SG_EMALFORMED, 5,
	    "a range must end on another day than it starts");
	bad("Mon-Wed,Tue 09:00-10:00", SG_EMALFORMED, 9, "day given twice");
	bad("weekdays,Fri 09:00-10:00", SG_EMALFORMED, 10, "day given twice");
	bad("weekdays-Sat 09:00-10:00", SG_EMALFORMED, 9,
	    "daily, weekdays and weekends cannot be part of a range");
	bad("Mon, Wed 09:00-10:00", SG_EMALFORMED, 5,
	    "expected a day name, daily, weekdays or weekends");
	bad("Mon 9:00-10:00", SG_EMALFORMED, 5, "expected a time as HH:MM");
	bad("Mon 09:00 - 10:00", SG_EMALFORMED, 10,
	    "expected '-' between the start and the end time");
	bad("Mon 09:00-1000", SG_EMALFORMED, 11, "expected a time as HH:MM");
	bad("Mon 09:00-", SG_EMALFORMED, 11, "expected a time as HH:MM");
	bad("Mon 25:00-10:00", SG_EMALFORMED, 5,
	    "hour out of range (00-23, or 24:00 as an end)");
	bad("Mon 09:00-24:01", SG_EMALFORMED, 11,
	    "hour out of range (00-23, or 24:00 as an end)");
	bad("Mon 09:60-10:00", SG_EMALFORMED, 8,
	    "minute out of range (00-59)");
	bad("Mon 24:00-10:00", SG_EMALFORMED, 5,
	    "24:00 is only valid as an end time");
	bad("Mon 07:00-07:00", SG_EMALFORMED, 5, "empty window: the end "
	    "equals the start (00:00-24:00 is the whole day)");
	bad("Mon 00:00-00:00", SG_EMALFORMED, 5, "empty window: the end "
	    "equals the start (00:00-24:00 is the whole day)");
	bad("Mon 09:00-10:00x", SG_EMALFORMED, 16,
	    "expected ';' or the end of the schedule");
	bad("Mon 09:00-10:00, Tue 09:00-10:00", SG_EMALFORMED, 16,
	    "expected ';' or the end of the schedule");
	bad("Mon 09:00-10:00;", SG_EMALFORMED, 17,
	    "expected a window after ';'");
	bad("Mon 09:00-10:00; ;Tue 09:00-10:00", SG_EMALFORMED, 18,
	    "expected a day name, daily, weekdays or weekends");
	bad("Mon 09:00-10:00; Tuesday 09:00-10:00", SG_EMALFORMED, 18,
	    "unknown day name (Mon, Tue, Wed, Thu, Fri, Sat, Sun, daily, "
	    "weekdays, weekends)");
	{
		/* A NUL byte is a stray byte, not the end of the text. */
		struct schedule s;
		struct schedule_error e;

		cr_assert_eq(schedule_parse(&s, "Mon 09:00-10:00\0", 16, &e),
		    SG_EMALFORMED);
		cr_assert_str_eq(e.reason,
		    "expected ';' or the end of the schedule");
		cr_assert_eq(e.column, 16);
		/* And err may be NULL. */
		cr_assert_eq(schedule_parse(&s, "x", 1, NULL), SG_EMALFORMED);
	}
	{
		char buf[SCHEDULE_TEXT_MAX + 2];
		struct schedule s;
		struct schedule_error e;

		memset(buf, ' ', sizeof(buf));
		memcpy(buf, "Mon 09:00-10:00", 15);
		cr_assert_eq(schedule_parse(&s, buf, SCHEDULE_TEXT_MAX, &e),
		    0);
		cr_assert_eq(schedule_parse(&s, buf, SCHEDULE_TEXT_MAX + 1,
		    &e), SG_ELIMIT);
		cr_assert_str_eq(e.reason, "schedule longer than 1024 bytes");
		cr_assert_eq(e.column, SCHEDULE_TEXT_MAX + 1);
	}
}

Test(schedule, format_small_buffer)
{
	struct schedule s = parse("Mon 09:00-10:00");
	char buf[8];

	cr_assert_eq(schedule_format(&s, buf, sizeof(buf)), SG_ELIMIT);
	cr_assert_str_eq(buf, "Mon 09:");
	cr_assert_eq(schedule_format(&s, buf, 0), SG_ELIMIT);
}

Test(schedule, empty_never_changes)
{
	struct schedule s = { 0 };

	zone("UTC");
	cr_assert_not(schedule_active(&s, MON(0, 0)));
	cr_assert_eq(schedule_next_change(&s, MON(0, 0)), SCHEDULE_NEVER);
}

/* ------------------------------------------------------------- DST */

Test(schedule, london_spring_forward)
{
	struct schedule s;

	zone("Europe/London");
	/* 29 March 2026: 01:00-02:00 does not exist. */
	s = parse("daily 00:30-01:30");
	cr_assert(schedule_active(&s, utc(2026, 3, 29, 0, 30)));
	cr_assert(schedule_active(&s, utc(2026, 3, 29, 0, 59)));
	/* 01:00 UTC is 02:00 BST: past the window's end. */
	cr_assert_not(schedule_active(&s, utc(2026, 3, 29, 1, 0)));
	cr_assert_eq(schedule_next_change(&s, utc(2026, 3, 29, 0, 30)),
	    utc(2026, 3, 29, 1, 0));
	/* The next day the window is in BST, one hour earlier in UTC. */
	cr_assert_eq(schedule_next_change(&s, utc(2026, 3, 29, 1, 0)),
	    utc(2026, 3, 29, 23, 30));
	brute(&s, utc(2026, 3, 28, 0, 0), utc(2026, 3, 31, 0, 0));

	/* A window inside the skipped hour does not happen that Sunday,
	   and next_change finds it a week later. */
	s = parse("Sun 01:00-02:00");
	cr_assert_not(schedule_active(&s, utc(2026, 3, 29, 0, 59)));
	cr_assert_not(schedule_active(&s, utc(2026, 3, 29, 1, 0)));
	cr_assert_eq(schedule_next_change(&s, utc(2026, 3, 28, 12, 0)),
	    utc(2026, 4, 5, 0, 0));
	brute(&s, utc(2026, 3, 28, 0, 0), utc(2026, 4, 6, 0, 0));

	/* A window that starts inside the gap starts at the jump. */
	s = parse("Sun 01:30-03:00");
	cr_assert_eq(schedule_next_change(&s, utc(2026, 3, 29, 0, 0)),
	    utc(2026, 3, 29, 1, 0));
	cr_assert(schedule_active(&s, utc(2026, 3, 29, 1, 0)));
	cr_assert_eq(schedule_next_change(&s, utc(2026, 3, 29, 1, 0)),
	    utc(2026, 3, 29, 2, 0));

	/* Saturday night across the change: 21:00 GMT to 07:00 BST, nine
	   hours of real time. */
	s = parse("Sat 21:00-07:00");
	cr_assert_eq(schedule_next_change(&s, utc(2026, 3, 28, 12, 0)),
	    utc(2026, 3, 28, 21, 0));
	cr_assert_eq(schedule_next_change(&s, utc(2026, 3, 28, 21, 0)),
	    utc(2026, 3, 29, 6, 0));
	cr_assert(schedule_active(&s, utc(2026, 3, 29, 5, 59)));
	cr_assert_not(schedule_active(&s, utc(2026, 3, 29, 6, 0)));
	brute(&s, utc(2026, 3, 28, 0, 0), utc(2026, 3, 30, 0, 0));
}

Test(schedule, london_fall_back)
{
	struct schedule s;

	zone("Europe/London");
	/* 25 October 2026: 01:00-02:00 happens twice, BST then GMT. */
	s = parse("daily 00:30-01:30");
	/* 00:30, 01:00, 01:29 BST in, 01:30 BST out, 01:00, 01:29 GMT in. */
	cr_assert(schedule_active(&s, utc(2026, 10, 24, 23, 30)));
	cr_assert(schedule_active(&s, utc(2026, 10, 25, 0, 0)));
	cr_assert(schedule_active(&s, utc(2026, 10, 25, 0, 29)));
	cr_assert_not(schedule_active(&s, utc(2026, 10, 25, 0, 30)));
	cr_assert(schedule_active(&s, utc(2026, 10, 25, 1, 0)));
	cr_assert(schedule_active(&s, utc(2026, 10, 25, 1, 29)));
	cr_assert_not(schedule_active(&s, utc(2026, 10, 25, 1, 30)));
	cr_assert_eq(schedule_next_change(&s, utc(2026, 10, 24, 23, 0)),
	    utc(2026, 10, 24, 23, 30));
	cr_assert_eq(schedule_next_change(&s, utc(2026, 10, 24, 23, 30)),
	    utc(2026, 10, 25, 0, 30));
	cr_assert_eq(schedule_next_change(&s, utc(2026, 10, 25, 0, 30)),
	    utc(2026, 10, 25, 1, 0));
	cr_assert_eq(schedule_next_change(&s, utc(2026, 10, 25, 1, 0)),
	    utc(2026, 10, 25, 1, 30));
	brute(&s, utc(2026, 10, 24, 0, 0), utc(2026, 10, 27, 0, 0));

	/* Saturday night across the change: 21:00 BST to 07:00 GMT, eleven
	   hours of real time, still ending at 07:00 local. */
	s = parse("Sat 21:00-07:00");
	cr_assert_eq(schedule_next_change(&s, utc(2026, 10, 24, 12, 0)),
	    utc(2026, 10, 24, 20, 0));
	cr_assert_eq(schedule_next_change(&s, utc(2026, 10, 24, 20, 0)),
	    utc(2026, 10, 25, 7, 0));
	cr_assert(schedule_active(&s, utc(2026, 10, 25, 6, 59)));
	cr_assert_not(schedule_active(&s, utc(2026, 10, 25, 7, 0)));
	brute(&s, utc(2026, 10, 24, 0, 0), utc(2026, 10, 26, 0, 0));

	/* A window ending inside the repeated hour ends at its first pass,
	   then opens again when the hour repeats. */
	s = parse("Sat 22:00-01:15");
	cr_assert_eq(schedule_next_change(&s, utc(2026, 10, 24, 21, 0)),
	    utc(2026, 10, 25, 0, 15));
	cr_assert_eq(schedule_next_change(&s, utc(2026, 10, 25, 0, 15)),
	    utc(2026, 10, 25, 1, 0));
	cr_assert_eq(schedule_next_change(&s, utc(2026, 10, 25, 1, 0)),
	    utc(2026, 10, 25, 1, 15));
}

Test(schedule, sydney)
{
	struct schedule s;

	zone("Australia/Sydney");
	/* 5 April 2026: 03:00 AEDT falls back to 02:00 AEST, so 02:00-03:00
	   happens twice (15:00-16:00 and 16:00-17:00 UTC on the 4th). */
	s = parse("daily 02:15-02:45");
	cr_assert(schedule_active(&s, utc(2026, 4, 4, 15, 15)));
	cr_assert_not(schedule_active(&s, utc(2026, 4, 4, 15, 45)));
	cr_assert(schedule_active(&s, utc(2026, 4, 4, 16, 15)));
	cr_assert_not(schedule_active(&s, utc(2026, 4, 4, 16, 45)));
	cr_assert_eq(schedule_next_change(&s, utc(2026, 4, 4, 15, 45)),
	    utc(2026, 4, 4, 16, 15));
	brute(&s, utc(2026, 4, 3, 0, 0), utc(2026, 4, 6, 0, 0));

	/* 4 October 2026: 02:00 AEST jumps to 03:00 AEDT; the window does
	   not happen that night and next opens the night after. */
	cr_assert_eq(schedule_next_change(&s, utc(2026, 10, 3, 15, 0)),
	    utc(2026, 10, 4, 15, 15));
	brute(&s, utc(2026, 10, 2, 0, 0), utc(2026, 10, 6, 0, 0));

	/* Saturday night across it: 22:00 AEST to 07:00 AEDT. */
	s = parse("Sat 22:00-07:00");
	cr_assert_eq(schedule_next_change(&s, utc(2026, 10, 3, 0, 0)),
	    utc(2026, 10, 3, 12, 0));
	cr_assert_eq(schedule_next_change(&s, utc(2026, 10, 3, 12, 0)),
	    utc(2026, 10, 3, 20, 0));
	brute(&s, utc(2026, 10, 2, 0, 0), utc(2026, 10, 6, 0, 0));
}

Test(schedule, active_tm_direct)
{
	struct schedule s = parse("Sun-Thu 21:00-07:00");
	struct tm tm = { .tm_wday = 5, .tm_hour = 6, .tm_min = 59 };

	cr_assert(schedule_active_tm(&s, &tm));		/* Fri: Thu's */
	tm.tm_wday = 6;
	cr_assert_not(schedule_active_tm(&s, &tm));	/* Sat, from Fri */
	tm.tm_hour = 24;
	cr_assert_not(schedule_active_tm(&s, &tm));	/* out of range */
}

/* The calendar arithmetic the block page and the report use. */
Test(schedule, civil_days_and_back)
{
	long y, z;
	unsigned m, d;

	cr_assert_eq(schedule_civil_days(1970, 1, 1), 0);
	cr_assert_eq(schedule_civil_days(2000, 3, 1), 11017);
	cr_assert_eq(schedule_civil_days(2026, 11, 29), 20786);
	cr_assert_eq(schedule_civil_days(1969, 12, 31), -1);
	for (z = -800000; z <= 800000; z += 997) {
		schedule_civil_from_days(z, &y, &m, &d);
		cr_assert(m >= 1 && m <= 12 && d >= 1 && d <= 31);
		cr_assert_eq(schedule_civil_days(y, m, d), z, "%ld", z);
	}
}
