/*
 * schedule.h - weekly time windows in local wall-clock time ("bedtime").
 *
 * A schedule is a set of weekly windows such as "Sun-Thu 21:00-07:00".  It
 * is parsed once (at config load) into a small fixed-size value that the
 * caller owns and may copy; nothing is allocated and nothing points into
 * the text afterwards.
 *
 * Syntax (ASCII; day names and keywords are case-insensitive):
 *
 *   schedule = [WS] window *([WS] ";" [WS] window) [WS]
 *   window   = days 1*WS time "-" time
 *   days     = "daily" | "weekdays" | "weekends" | item *("," item)
 *   item     = day | day "-" day | "daily" | "weekdays" | "weekends"
 *   day      = "Mon" | "Tue" | "Wed" | "Thu" | "Fri" | "Sat" | "Sun"
 *   time     = 2DIGIT ":" 2DIGIT          ; 00:00-23:59, or 24:00 as an end
 *   WS       = SP | HTAB
 *
 *   - There is no space inside days ("Mon,Wed", not "Mon, Wed") nor inside
 *     the times ("21:00-07:00").  Several windows are one string, separated
 *     by ";" ("Mon-Fri 07:00-08:00; daily 21:00-24:00").
 *   - A range "A-B" runs forward from A to B and may wrap the week:
 *     "Fri-Mon" is Fri, Sat, Sun, Mon.  "Mon-Mon" is an error.  "weekdays"
 *     is Mon-Fri, "weekends" is Sat,Sun, "daily" is every day.  A day that
 *     comes twice in one window ("Mon-Wed,Tue") is an error.
 *   - A window covers [start, end): the end minute itself is outside.
 *     "24:00" is the end of the day and is valid only as an end;
 *     "00:00-24:00" is the whole day.  An end of "00:00" means midnight at
 *     the end of the day and is the same as "24:00".  start == end (e.g.
 *     "07:00-07:00") is an error: it is unclear whether nothing or all day
 *     was meant.
 *   - A window whose end is before its start crosses midnight and belongs
 *     to the day it starts on: "Sun-Thu 21:00-07:00" covers Sunday 21:00 to
 *     Monday 07:00, ..., Thursday 21:00 to Friday 07:00, and not Friday or
 *     Saturday night.  Windows may overlap; the schedule is their union.
 *   - At most SCHEDULE_WINDOWS_MAX windows, at most SCHEDULE_TEXT_MAX bytes.
 *
 * Time: windows are local wall-clock times in the process's time zone
 * (TZ, read through localtime_r(3)), at minute resolution.  Because they
 * are wall-clock times, daylight saving needs no special case: on a
 * spring-forward day the skipped hour simply never happens (a window lying
 * wholly inside it does not happen that day), on a fall-back day the
 * repeated hour is in a window both times, and "21:00-07:00" ends at 07:00
 * local time whatever the night's length.  Who changes TZ calls tzset(3)
 * afterwards (glibc's localtime_r does not re-read TZ); tests do
 * setenv("TZ", ...) and tzset().
 */
#ifndef SG_SCHEDULE_H
#define SG_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

#define SCHEDULE_WINDOWS_MAX	16
#define SCHEDULE_TEXT_MAX	1024
/* Longest text schedule_format() writes, with its NUL. */
#define SCHEDULE_FORMAT_MAX	(SCHEDULE_WINDOWS_MAX * 40)
/* schedule_next_change(): the state never changes. */
#define SCHEDULE_NEVER		((time_t)-1)
/* schedule_next_change() looks this far ahead (16 days, see there). */
#define SCHEDULE_HORIZON	(16 * 86400)

/*
 * A parsed schedule.  Callers embed and copy it freely, but treat the
 * fields as private: read them through the functions below.
 */
struct schedule_window {
	uint8_t		days;	/* bit tm_wday (0 = Sunday) set: the
				   window starts on that day */
	uint16_t	start;	/* minute of the day, 0..1439 */
	uint16_t	end;	/* 1..1440; end <= start crosses midnight */
};

struct schedule {
	size_t			n;
	struct schedule_window	w[SCHEDULE_WINDOWS_MAX];
};

/* Where and why parsing failed. */
struct schedule_error {
	const char	*reason;	/* static, no trailing period */
	size_t		 column;	/* 1-based: the byte offset + 1 */
};

/*
 * Parses len bytes of text (no NUL needed; a NUL byte is an error like any
 * other stray byte).  Returns 0 and fills *out; SG_EMALFORMED when the text
 * breaks the syntax above, SG_ELIMIT when it has more than
 * SCHEDULE_WINDOWS_MAX windows or SCHEDULE_TEXT_MAX bytes.  On an error
 * *err (if not NULL) says why and where, *out is zeroed (an empty schedule,
 * never active), and a message reads naturally as
 *   FILE:LINE: bedtime: "TEXT" at column N: REASON
 */
int	schedule_parse(struct schedule *out, const char *text, size_t len,
	    struct schedule_error *err) SG_WUR;

/*
 * Writes the canonical text of s into buf (NUL-terminated; size bytes, at
 * least SCHEDULE_FORMAT_MAX is always enough): windows in the order given,
 * "; "-separated, days as "daily", "weekdays", "weekends" or Mon-first
 * ranges and lists ("Fri-Mon", "Mon,Wed"), ends of midnight as "24:00".
 * The text parses back to the same schedule.  Returns the length, or
 * SG_ELIMIT (buf holding a truncated text) when size is too small.
 */
int	schedule_format(const struct schedule *s, char *buf, size_t size)
	    SG_WUR;

/* Whether the local wall-clock time *local (from localtime_r) is inside. */
bool	schedule_active_tm(const struct schedule *s,
	    const struct tm *local);

/* Whether now is inside, in the process's time zone; false if now cannot
   be converted to local time. */
bool	schedule_active(const struct schedule *s, time_t now);

/*
 * The first second after now at which schedule_active() gives another
 * answer than at now: the state is constant over [now, result) and
 * changes at result, which is always > now.  Returns SCHEDULE_NEVER when
 * it does not change within SCHEDULE_HORIZON (empty, always-on or
 * never-happening schedules), or when the times cannot be converted.
 *
 * It walks from edge to edge of the windows (at most three hours per step)
 * and finds the exact second of every UTC-offset change on the way, so a
 * window that starts inside a skipped hour starts at the jump.  The
 * horizon is 16 days rather than 8 so that a window that a spring-forward
 * skips this week is still found next week.
 */
time_t	schedule_next_change(const struct schedule *s, time_t now);

/*
 * Calendar arithmetic, proleptic Gregorian, no time zone: the days since
 * 1970-01-01 of a date (month 1..12, day 1..31), and back.  For the pages
 * and reports that say "tomorrow" or group events by local day.
 */
long	schedule_civil_days(long y, unsigned m, unsigned d);
void	schedule_civil_from_days(long z, long *y, unsigned *m, unsigned *d);

#endif
