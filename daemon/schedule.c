/*
 * schedule.c - weekly wall-clock windows: parser, printer, evaluation.
 *
 * A window is a day mask plus [start, end) in minutes of the day.  The
 * state at a local time depends only on (weekday, minute of the day), so
 * evaluation is a few comparisons on a struct tm.  Finding the next change
 * walks real time from one window edge to the next, checking the UTC
 * offset on the way, because a DST jump moves the wall clock without
 * passing through an edge.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cursor.h"
#include "schedule.h"

#define DAY_MIN		1440
#define WEEK_MIN	(7 * DAY_MIN)
#define ALL_DAYS	0x7f
#define WEEKDAYS	0x3e	/* Mon..Fri */
#define WEEKENDS	0x41	/* Sun, Sat */
#define WORD_MAX	16
#define STEP_MAX	(3 * 3600)	/* seconds between offset checks */

/* Indexed by tm_wday. */
static const char *const day_names[7] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};

static const char day_or_keyword[] = "unknown day name (Mon, Tue, Wed, "
    "Thu, Fri, Sat, Sun, daily, weekdays, weekends)";
static const char day_only[] = "unknown day name (Mon, Tue, Wed, Thu, Fri, "
    "Sat, Sun)";

struct parser {
	struct cursor	 c;
	const char	*reason;
	size_t		 at;	/* byte offset of the problem */
};

static int
fail(struct parser *p, size_t at, const char *reason)
{
	if (p->reason == NULL) {
		p->reason = reason;
		p->at = at;
	}
	return SG_EMALFORMED;
}

static bool
at_end(const struct parser *p)
{
	return cursor_left(&p->c) == 0;
}

static bool
is_ws(uint8_t ch)
{
	return ch == ' ' || ch == '\t';
}

static bool
is_alpha(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool
is_digit(uint8_t ch)
{
	return ch >= '0' && ch <= '9';
}

static void
skip_ws(struct parser *p)
{
	while (!at_end(p) && is_ws(cursor_peek_u8(&p->c)))
		cursor_skip(&p->c, 1);
}

static bool
word_is(const char *w, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(w, name, n) == 0;
}

/*
 * One item of a day list: a day, a range or a keyword.  Adds its days to
 * *mask; a day already there is an error.
 */
static int
parse_item(struct parser *p, uint8_t *mask)
{
	char w[WORD_MAX];
	size_t n, at, i, item_at = p->c.pos;
	uint8_t add = 0;
	int a = -1, b = -1, d;

	for (;;) {
		at = p->c.pos;
		n = 0;
		while (!at_end(p) && is_alpha(cursor_peek_u8(&p->c))) {
			uint8_t ch = cursor_u8(&p->c);

			if (n < sizeof(w))
				w[n] = (char)ch;
			n++;
		}
		if (n == 0)
			return fail(p, at, a < 0 ? "expected a day name, "
			    "daily, weekdays or weekends" :
			    "expected a day name after '-'");
		if (n > sizeof(w))
			n = sizeof(w);	/* too long for any name */
		if (a < 0 && word_is(w, n, "daily"))
			add = ALL_DAYS;
		else if (a < 0 && word_is(w, n, "weekdays"))
			add = WEEKDAYS;
		else if (a < 0 && word_is(w, n, "weekends"))
			add = WEEKENDS;
		else {
			for (d = 0; d < 7; d++)
				if (word_is(w, n, day_names[d]))
					break;
			if (d == 7)
				return fail(p, at, a < 0 ? day_or_keyword :
				    day_only);
			if (a < 0)
				a = d;
			else
				b = d;
		}
		if (add != 0) {
			if (cursor_peek_u8(&p->c) == '-' && !at_end(p))
				return fail(p, p->c.pos, "daily, weekdays and "
				    "weekends cannot be part of a range");
			break;
		}
		if (b >= 0 || at_end(p) || cursor_peek_u8(&p->c) != '-')
			break;
		/* "Mon-" before a digit would be a missing space. */
		cursor_skip(&p->c, 1);
	}
	if (add == 0) {
		if (b < 0)
			add = (uint8_t)(1u << a);
		else if (a == b)
			return fail(p, item_at, "a range must end on another "
			    "day than it starts");
		else
			for (i = (size_t)a;; i = (i + 1) % 7) {
				add |= (uint8_t)(1u << i);
				if (i == (size_t)b)
					break;
			}
	}
	if (*mask & add)
		return fail(p, item_at, "day given twice");
	*mask |= add;
	return 0;
}

static int
parse_days(struct parser *p, uint8_t *mask)
{
	*mask = 0;
	for (;;) {
		if (parse_item(p, mask) != 0)
			return SG_EMALFORMED;
		if (at_end(p) || cursor_peek_u8(&p->c) != ',')
			return 0;
		cursor_skip(&p->c, 1);
	}
}

/* HH:MM; *min receives 0..1440 (24:00 only when end is true). */
static int
parse_time(struct parser *p, bool end, uint16_t *min)
{
	uint8_t t[5];
	size_t at = p->c.pos, i;
	unsigned h, m;

	for (i = 0; i < 5; i++) {
		t[i] = at_end(p) ? 0 : cursor_peek_u8(&p->c);
		if (i == 2 ? t[i] != ':' : !is_digit(t[i]))
			return fail(p, at, "expected a time as HH:MM");
		cursor_skip(&p->c, 1);
	}
	h = (unsigned)(t[0] - '0') * 10 + (unsigned)(t[1] - '0');
	m = (unsigned)(t[3] - '0') * 10 + (unsigned)(t[4] - '0');
	if (h > 24)
		return fail(p, at, "hour out of range (00-23, or 24:00 as an "
		    "end)");
	if (m > 59)
		return fail(p, at + 3, "minute out of range (00-59)");
	if (h == 24 && m != 0)
		return fail(p, at, "hour out of range (00-23, or 24:00 as an "
		    "end)");
	if (h == 24 && !end)
		return fail(p, at, "24:00 is only valid as an end time");
	*min = (uint16_t)(h * 60 + m);
	return 0;
}

static int
parse_window(struct parser *p, struct schedule_window *w)
{
	size_t at;

	if (parse_days(p, &w->days) != 0)
		return SG_EMALFORMED;
	at = p->c.pos;
	if (at_end(p) || !is_ws(cursor_peek_u8(&p->c)))
		return fail(p, at, at_end(p) ? "expected a space and the "
		    "times after the days" : "expected a space between the "
		    "days and the times");
	skip_ws(p);
	at = p->c.pos;
	if (parse_time(p, false, &w->start) != 0)
		return SG_EMALFORMED;
	if (at_end(p) || cursor_peek_u8(&p->c) != '-')
		return fail(p, p->c.pos, "expected '-' between the start and "
		    "the end time");
	cursor_skip(&p->c, 1);
	if (parse_time(p, true, &w->end) != 0)
		return SG_EMALFORMED;
	if (w->end == w->start)
		return fail(p, at, "empty window: the end equals the start "
		    "(00:00-24:00 is the whole day)");
	if (w->end == 0)
		w->end = DAY_MIN;
	return 0;
}

int
schedule_parse(struct schedule *out, const char *text, size_t len,
    struct schedule_error *err)
{
	struct parser p = { .reason = NULL, .at = 0 };
	int rc = 0;

	memset(out, 0, sizeof(*out));
	cursor_init(&p.c, text, len);
	if (len > SCHEDULE_TEXT_MAX) {
		rc = SG_ELIMIT;
		p.reason = "schedule longer than 1024 bytes";
		p.at = SCHEDULE_TEXT_MAX;
		goto done;
	}
	skip_ws(&p);
	if (at_end(&p)) {
		rc = fail(&p, p.c.pos, "empty schedule");
		goto done;
	}
	for (;;) {
		if (out->n == SCHEDULE_WINDOWS_MAX) {
			rc = SG_ELIMIT;
			p.reason = "more than 16 windows";
			p.at = p.c.pos;
			goto done;
		}
		if ((rc = parse_window(&p, &out->w[out->n])) != 0)
			goto done;
		out->n++;
		skip_ws(&p);
		if (at_end(&p))
			break;
		if (cursor_peek_u8(&p.c) != ';') {
			rc = fail(&p, p.c.pos, "expected ';' or the end of the "
			    "schedule");
			goto done;
		}
		cursor_skip(&p.c, 1);
		skip_ws(&p);
		if (at_end(&p)) {
			rc = fail(&p, p.c.pos, "expected a window after ';'");
			goto done;
		}
	}
done:
	if (rc != 0) {
		memset(out, 0, sizeof(*out));
		if (err != NULL) {
			err->reason = p.reason;
			err->column = p.at + 1;
		}
	}
	return rc;
}

/* ---------------------------------------------------------- printing */

struct out {
	char	*buf;
	size_t	 size, len;
	bool	 trunc;
};

static void
put(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->len + n >= o->size) {
		o->trunc = true;
		n = o->len + 1 < o->size ? o->size - o->len - 1 : 0;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void
put_days(struct out *o, uint8_t days)
{
	int g, k, d, first = -1;
	bool comma = false;

	if (days == ALL_DAYS) {
		put(o, "daily");
		return;
	}
	if (days == WEEKDAYS) {
		put(o, "weekdays");
		return;
	}
	if (days == WEEKENDS) {
		put(o, "weekends");
		return;
	}
	/* Mon-first order, starting after the last day that is not in the
	   mask, so a run that wraps the week ("Fri-Mon", "Sun-Thu") comes
	   out whole and the rest in Mon-first order. */
	for (g = 6; g > 0; g--)
		if (!(days & (1u << ((g + 1) % 7))))
			break;
	for (k = 1; k <= 7; k++) {
		d = (g + k + 1) % 7;
		if (days & (1u << d)) {
			if (first < 0)
				first = d;
			if (days & (1u << ((d + 1) % 7)) && k < 7)
				continue;
			if (comma)
				put(o, ",");
			put(o, day_names[first]);
			if (d != first) {
				put(o, "-");
				put(o, day_names[d]);
			}
			comma = true;
			first = -1;
		}
	}
}

int
schedule_format(const struct schedule *s, char *buf, size_t size)
{
	struct out o = { .buf = buf, .size = size, .len = 0, .trunc = false };
	char t[16];
	size_t i;

	if (size == 0)
		return SG_ELIMIT;
	buf[0] = '\0';
	for (i = 0; i < s->n && i < SCHEDULE_WINDOWS_MAX; i++) {
		const struct schedule_window *w = &s->w[i];

		if (i > 0)
			put(&o, "; ");
		put_days(&o, w->days);
		snprintf(t, sizeof(t), " %02u:%02u-%02u:%02u",
		    (unsigned)(w->start / 60) % 100, (unsigned)(w->start % 60),
		    (unsigned)(w->end / 60) % 100, (unsigned)(w->end % 60));
		put(&o, t);
	}
	return o.trunc ? SG_ELIMIT : (int)o.len;
}

/* -------------------------------------------------------- evaluation */

static bool
window_active(const struct schedule_window *w, int wday, int min)
{
	int prev = (wday + 6) % 7;

	if (w->start < w->end)
		return (w->days & (1u << wday)) && min >= w->start &&
		    min < w->end;
	return ((w->days & (1u << wday)) && min >= w->start) ||
	    ((w->days & (1u << prev)) && min < w->end);
}

bool
schedule_active_tm(const struct schedule *s, const struct tm *local)
{
	int wday = local->tm_wday, min;
	size_t i;

	if (wday < 0 || wday > 6 || local->tm_hour < 0 ||
	    local->tm_hour > 23 || local->tm_min < 0 || local->tm_min > 59)
		return false;
	min = local->tm_hour * 60 + local->tm_min;
	for (i = 0; i < s->n && i < SCHEDULE_WINDOWS_MAX; i++)
		if (window_active(&s->w[i], wday, min))
			return true;
	return false;
}

bool
schedule_active(const struct schedule *s, time_t now)
{
	struct tm tm;

	if (localtime_r(&now, &tm) == NULL)
		return false;
	return schedule_active_tm(s, &tm);
}

/* Minutes from minute-of-week m to the next edge strictly after it. */
static int
next_edge(const struct schedule *s, int m)
{
	int best = WEEK_MIN, d, e, dist;
	size_t i;

	for (i = 0; i < s->n && i < SCHEDULE_WINDOWS_MAX; i++) {
		const struct schedule_window *w = &s->w[i];

		for (d = 0; d < 7; d++) {
			if (!(w->days & (1u << d)))
				continue;
			e = d * DAY_MIN + w->start;
			dist = ((e - m) % WEEK_MIN + WEEK_MIN) % WEEK_MIN;
			if (dist > 0 && dist < best)
				best = dist;
			e = d * DAY_MIN + w->end + (w->end <= w->start ?
			    DAY_MIN : 0);
			dist = ((e - m) % WEEK_MIN + WEEK_MIN) % WEEK_MIN;
			if (dist > 0 && dist < best)
				best = dist;
		}
	}
	return best;
}

time_t
schedule_next_change(const struct schedule *s, time_t now)
{
	struct tm tm, tc, tmid;
	time_t t = now, c, lo, hi, mid, step;
	bool s0;

	/* Far enough from the ends of time_t that nothing below overflows;
	   localtime_r fails long before anyway. */
	if (s->n == 0 || now > INT64_MAX / 2 || now < INT64_MIN / 2)
		return SCHEDULE_NEVER;
	if (localtime_r(&now, &tm) == NULL)
		return SCHEDULE_NEVER;
	s0 = schedule_active_tm(s, &tm);
	while (t - now <= SCHEDULE_HORIZON) {
		step = (time_t)next_edge(s, tm.tm_wday * DAY_MIN +
		    tm.tm_hour * 60 + tm.tm_min) * 60 - tm.tm_sec;
		if (step < 1)
			step = 1;	/* a leap second (right/ zones) */
		if (step > STEP_MAX)
			step = STEP_MAX;
		c = t + step;
		if (localtime_r(&c, &tc) == NULL)
			return SCHEDULE_NEVER;
		if (tc.tm_gmtoff != tm.tm_gmtoff) {
			/* The wall clock jumped in (t, c]: find the first
			   second of the new offset; before it the wall
			   clock ran without meeting an edge. */
			lo = t;
			hi = c;
			while (hi - lo > 1) {
				mid = lo + (hi - lo) / 2;
				if (localtime_r(&mid, &tmid) == NULL)
					return SCHEDULE_NEVER;
				if (tmid.tm_gmtoff == tm.tm_gmtoff)
					lo = mid;
				else
					hi = mid;
			}
			c = hi;
			if (localtime_r(&c, &tc) == NULL)
				return SCHEDULE_NEVER;
		}
		if (schedule_active_tm(s, &tc) != s0)
			return c;
		t = c;
		tm = tc;
	}
	return SCHEDULE_NEVER;
}

/* The civil-date arithmetic of Howard Hinnant's chrono algorithms. */
long
schedule_civil_days(long y, unsigned m, unsigned d)
{
	long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

void
schedule_civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
	long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long)yoe + era * 400 + (*m <= 2);
}
