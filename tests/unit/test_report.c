/*
 * test_report.c - the parents' digest: what it adds up per device, what
 * it refuses to read, what it never prints, and how it escapes what it
 * does print.  The golden outputs are tests/report/'s; these test the
 * rules one at a time.
 *
 * Times are Europe/London; 2026-03-01..07 is GMT (UTC), 2026-06 is BST.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "jsonl.h"
#include "report.h"

#define MAR01	1772323200	/* 2026-03-01T00:00:00Z, a Sunday */
#define MAR07_18 1772906400	/* 2026-03-07T18:00:00Z */

static void
london(void)
{
	cr_assert_eq(setenv("TZ", "Europe/London", 1), 0);
	tzset();
}

TestSuite(report, .init = london);

static struct report *
mk(void)
{
	struct report *r = report_new(MAR01, MAR07_18, NULL);

	cr_assert_not_null(r);
	return r;
}

static void
add(struct report *r, const char *line)
{
	report_add_line(r, line, strlen(line));
}

static char *
render(const struct report *r, enum report_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(report_write(r, fmt, f), 0);
	fclose(f);
	return buf;
}

/* A block line from a device, at a time on 2026-03-DAY. */
static void
block(struct report *r, const char *device, int day, const char *hms,
    const char *name, const char *cats)
{
	char line[8192];

	snprintf(line, sizeof(line), "{\"ts\":\"2026-03-%02dT%s.000000Z\","
	    "\"kind\":\"dns\",\"transport\":\"udp\",\"client\":\"10.0.0.2\","
	    "\"mac\":\"02:00:00:00:00:01\",\"device\":\"%s\","
	    "\"profile\":\"child\",\"name\":\"%s\",\"categories\":[%s],"
	    "\"rule\":\"x\",\"reason\":\"category\",\"action\":\"nxdomain\"}",
	    day, hms, device, name, cats);
	add(r, line);
}

static void
indicator(struct report *r, const char *device, int day, const char *hms,
    const char *id, const char *severity)
{
	char line[1024];

	snprintf(line, sizeof(line), "{\"seq\":9,\"ts\":\"2026-03-%02dT%s"
	    ".000000Z\",\"kind\":\"indicator\",\"client\":\"10.0.0.2\","
	    "\"mac\":\"02:00:00:00:00:01\",\"device\":\"%s\","
	    "\"profile\":\"child\",\"name\":\"x.test\",\"categories\":[\"c\"],"
	    "\"indicator\":\"%s\",\"severity\":\"%s\",\"prev\":\"a\","
	    "\"hash\":\"b\"}", day, hms, device, id, severity);
	add(r, line);
}

static void
counts(const struct report *r, struct report_counts *c)
{
	report_counts(r, c);
}

Test(report, blocks_by_device_and_category)
{
	struct report *r = mk();
	struct report_counts c;

	block(r, "amy", 1, "10:00:00", "a.test", "\"adult\"");
	block(r, "amy", 2, "10:00:00", "a.test", "\"adult\",\"gambling\"");
	block(r, "amy", 3, "10:00:00", "b.test", "\"gambling\"");
	block(r, "ben", 3, "11:00:00", "c.test", "\"vpn-proxy\"");
	block(r, "amy", 4, "10:00:00", "d.test", "");
	counts(r, &c);
	cr_assert_eq(c.lines, 5);
	cr_assert_eq(c.events, 5);
	cr_assert_eq(c.unreadable, 0);
	cr_assert_eq(c.devices, 2);
	cr_assert_eq(report_blocked(r, "amy", NULL), 4);
	cr_assert_eq(report_blocked(r, "amy", "adult"), 2);
	cr_assert_eq(report_blocked(r, "amy", "gambling"), 2);
	cr_assert_eq(report_blocked(r, "amy", "other"), 1);
	cr_assert_eq(report_blocked(r, "ben", "vpn-proxy"), 1);
	cr_assert_eq(report_blocked(r, "nobody", NULL), 0);
	report_free(r);
}

Test(report, indicators_counted)
{
	struct report *r = mk();
	char *out;

	indicator(r, "amy", 3, "15:00:00", "anon-chat", "warning");
	indicator(r, "amy", 5, "19:00:00", "anon-chat", "warning");
	indicator(r, "amy", 6, "16:00:00", "new-platform", "notice");
	indicator(r, "amy", 6, "16:00:01", "made-up-id", "notice");
	cr_assert_eq(report_indicators(r, "amy", NULL), 4);
	cr_assert_eq(report_indicators(r, "amy", "anon-chat"), 2);
	cr_assert_eq(report_indicators(r, "amy", "made-up-id"), 1);
	out = render(r, REPORT_TEXT);
	/* Plain language from risk.h, and something for an unknown id. */
	cr_assert_not_null(strstr(out, "Chat with strangers (anon-chat)"));
	cr_assert_not_null(strstr(out, "It may NOT mean:"));
	cr_assert_not_null(strstr(out, "2 times, Tue 03 Mar 2026 15:00 to "
	    "Thu 05 Mar 2026 19:00"));
	cr_assert_not_null(strstr(out, "no explanation"));
	/* Grooming concerns bring their advice. */
	cr_assert_not_null(strstr(out, "If you are worried about grooming"));
	cr_assert_not_null(strstr(out,
	    "https://www.ceop.police.uk/Safety-Centre/"));
	cr_assert_not_null(strstr(out, "Report Remove"));
	free(out);
	report_free(r);
}

Test(report, device_label_fallback)
{
	struct report *r = mk();

	add(r, "{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"dns\","
	    "\"client\":\"10.0.0.3\",\"mac\":\"02:00:00:00:00:03\","
	    "\"device\":null,\"categories\":[\"adult\"]}");
	add(r, "{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"dns\","
	    "\"client\":\"10.0.0.4\",\"mac\":null,\"categories\":[\"adult\"]}");
	add(r, "{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"dns\","
	    "\"device\":\"\",\"categories\":[\"adult\"]}");
	cr_assert_eq(report_blocked(r, "02:00:00:00:00:03", NULL), 1);
	cr_assert_eq(report_blocked(r, "10.0.0.4", NULL), 1);
	cr_assert_eq(report_blocked(r, "(unknown device)", NULL), 1);
	report_free(r);
}

Test(report, unreadable_lines_counted)
{
	static const char *const bad[] = {
		"not json",
		"{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"dns\"",   /* cut */
		"{\"kind\":\"dns\"}",					/* no ts */
		"{\"ts\":\"2026-03-02T10:00:00Z\"}",			/* no kind */
		"{\"ts\":\"2026-03-02 10:00:00\",\"kind\":\"dns\"}",
		"{\"ts\":\"2026-02-30T10:00:00Z\",\"kind\":\"dns\"}",
		"{\"ts\":\"2026-03-02T24:00:00Z\",\"kind\":\"dns\"}",
		"{\"ts\":\"2026-03-02T10:00:00.Z\",\"kind\":\"dns\"}",
		"{\"ts\":\"2026-03-02T10:00:00Zjunk\",\"kind\":\"dns\"}",
		"{\"ts\":1772445600,\"kind\":\"dns\"}",
		"{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"dns\","
		"\"device\":7}",
		"{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"dns\","
		"\"categories\":\"adult\"}",
		"{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"dns\","
		"\"categories\":[\"\"]}",
		"{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"dns\","
		"\"hold\":\"yes\"}",
		"{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"indicator\"}",
		"{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"dns\","
		"\"name\":\"a\",\"name\":\"b\"}",
	};
	struct report *r = mk();
	struct report_counts c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		add(r, bad[i]);
	add(r, "");
	add(r, "   \t\r");
	counts(r, &c);
	cr_assert_eq(c.lines, sizeof(bad) / sizeof(bad[0]));
	cr_assert_eq(c.unreadable, sizeof(bad) / sizeof(bad[0]));
	cr_assert_eq(c.events, 0);
	cr_assert_eq(c.devices, 0);
	report_free(r);
}

Test(report, unreadable_shown)
{
	struct report *r = mk();
	char *out;

	add(r, "{oops");
	block(r, "amy", 2, "10:00:00", "a.test", "\"adult\"");
	out = render(r, REPORT_TEXT);
	cr_assert_not_null(strstr(out,
	    "1 line could not be read and was skipped."));
	free(out);
	out = render(r, REPORT_JSON);
	cr_assert_not_null(strstr(out, "\"unreadable\": 1,"));
	free(out);
	report_free(r);
}

Test(report, bookkeeping_and_window)
{
	struct report *r = mk();
	struct report_counts c;

	add(r, "{\"seq\":1,\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"log\","
	    "\"msg\":\"started\"}");
	add(r, "{\"seq\":2,\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"hold\","
	    "\"from\":1}");
	add(r, "{\"ts\":\"2026-02-28T23:59:59Z\",\"kind\":\"dns\","
	    "\"device\":\"amy\"}");
	add(r, "{\"ts\":\"2026-03-07T18:00:01Z\",\"kind\":\"dns\","
	    "\"device\":\"amy\"}");
	add(r, "{\"ts\":\"2026-03-01T00:00:00Z\",\"kind\":\"dns\","
	    "\"device\":\"amy\"}");
	add(r, "{\"ts\":\"2026-03-07T18:00:00Z\",\"kind\":\"dns\","
	    "\"device\":\"amy\"}");
	counts(r, &c);
	cr_assert_eq(c.bookkeeping, 2);
	cr_assert_eq(c.outside, 2);
	cr_assert_eq(c.events, 2);
	cr_assert_eq(report_blocked(r, "amy", NULL), 2);
	report_free(r);
}

Test(report, device_filter)
{
	struct report *r = report_new(MAR01, MAR07_18, "02:00:00:00:00:0A");
	struct report_counts c;
	char *out;

	cr_assert_not_null(r);
	add(r, "{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"dns\","
	    "\"mac\":\"02:00:00:00:00:0a\",\"device\":\"amy\"}");
	add(r, "{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"dns\","
	    "\"mac\":\"02:00:00:00:00:0b\",\"device\":\"ben\"}");
	add(r, "{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"dns\","
	    "\"mac\":\"02:00:00:00:00:0b\",\"device\":\"ben\",\"name\":null,"
	    "\"rule\":\"hash:00\",\"list\":\"abuse\"}");
	counts(r, &c);
	cr_assert_eq(c.events, 1);
	cr_assert_eq(c.devices, 1);
	cr_assert_eq(report_blocked(r, "amy", NULL), 1);
	cr_assert_eq(report_abuse_count(r), 0);
	/* A filtered report still says an abuse-list hit is elsewhere. */
	out = render(r, REPORT_TEXT);
	cr_assert_not_null(strstr(out, "1 abuse-list record on other "
	    "devices is not shown"));
	free(out);
	report_free(r);

	r = report_new(MAR01, MAR07_18, "10.0.0.9");
	cr_assert_not_null(r);
	add(r, "{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"dns\","
	    "\"client\":\"10.0.0.9\",\"device\":\"amy\"}");
	cr_assert_eq(report_blocked(r, "amy", NULL), 1);
	report_free(r);
}

static const char abuse_block[] =
    "{\"ts\":\"2026-03-03T21:14:05.250000Z\",\"kind\":\"dns\","
    "\"client\":\"10.0.0.7\",\"mac\":\"02:00:00:00:00:07\",\"device\":null,"
    "\"profile\":\"default\",\"name\":null,\"categories\":[\"abuse\"],"
    "\"rule\":\"hash:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c"
    "15b0f00a08\",\"list\":\"abuse\",\"reason\":\"confidential\","
    "\"action\":\"nxdomain\",\"hold\":true}";
static const char abuse_indicator[] =
    "{\"ts\":\"2026-03-03T21:14:05.260000Z\",\"kind\":\"indicator\","
    "\"client\":\"10.0.0.7\",\"mac\":\"02:00:00:00:00:07\",\"device\":null,"
    "\"name\":null,\"categories\":[\"abuse\"],\"indicator\":\"abuse-list\","
    "\"severity\":\"critical\",\"hold\":true}";

Test(report, abuse_block_and_indicator_are_one_hit)
{
	struct report *r = mk();
	char *out, *urgent, *device;

	add(r, abuse_block);
	add(r, abuse_indicator);
	cr_assert_eq(report_abuse_count(r), 1);
	cr_assert_eq(report_blocked(r, "02:00:00:00:00:07", "abuse"), 1);
	cr_assert_eq(report_indicators(r, "02:00:00:00:00:07", "abuse-list"),
	    1);
	out = render(r, REPORT_TEXT);
	cr_assert_not_null(strstr(out, "safegate blocked 1 attempt to reach"));
	cr_assert_not_null(strstr(out, "rule hash:9f86d081884c7d659a2f"));
	cr_assert_not_null(strstr(out, "kept as evidence"));
	/* The advice comes first, before any device. */
	urgent = strstr(out, "What to do now");
	device = strstr(out, "Risk indicators");
	cr_assert_not_null(urgent);
	cr_assert_not_null(device);
	cr_assert_lt(urgent, device);
	cr_assert_not_null(strstr(out, "Do not search for the site"));
	cr_assert_not_null(strstr(out, "do not warn the family"));
	cr_assert_not_null(strstr(out, "Do not delete anything"));
	cr_assert_not_null(strstr(out, "call 999"));
	cr_assert_not_null(strstr(out, "Designated Safeguarding Lead"));
	free(out);
	out = render(r, REPORT_JSON);
	cr_assert_not_null(strstr(out, "\"advice\": [\"abuse-list\", "
	    "\"report-remove\"]"));
	cr_assert_not_null(strstr(out, "\"hold\": true}"));
	free(out);
	report_free(r);
}

Test(report, abuse_indicator_first_then_block)
{
	struct report *r = mk();

	add(r, abuse_indicator);
	add(r, abuse_block);
	cr_assert_eq(report_abuse_count(r), 1);
	report_free(r);
}

Test(report, abuse_hits_apart_are_two)
{
	struct report *r = mk();
	char line[sizeof(abuse_block)];
	char *p;

	add(r, abuse_block);
	memcpy(line, abuse_block, sizeof(line));
	p = strstr(line, "21:14:05");
	memcpy(p, "21:14:15", 8);
	add(r, line);
	cr_assert_eq(report_abuse_count(r), 2);
	report_free(r);
}

/* A line that says it is confidential and carries a name anyway (a
   tampered file): the name is never shown, in any format. */
Test(report, confidential_name_never_printed)
{
	static const char *const lines[] = {
		"{\"ts\":\"2026-03-03T21:00:00Z\",\"kind\":\"tls\","
		"\"device\":\"amy\",\"name\":\"secret-a.test\","
		"\"categories\":[\"abuse\"],\"rule\":\"hash:0011\"}",
		"{\"ts\":\"2026-03-03T21:00:00Z\",\"kind\":\"tls\","
		"\"device\":\"amy\",\"name\":\"secret-b.test\","
		"\"categories\":[\"abuse\"],\"list\":\"abuse\"}",
		"{\"ts\":\"2026-03-03T21:00:00Z\",\"kind\":\"tls\","
		"\"device\":\"amy\",\"name\":\"secret-c.test\","
		"\"categories\":[],\"reason\":\"confidential\"}",
		"{\"ts\":\"2026-03-03T21:00:00Z\",\"kind\":\"indicator\","
		"\"device\":\"amy\",\"name\":\"secret-d.test\","
		"\"indicator\":\"abuse-list\",\"severity\":\"notice\"}",
	};
	static const enum report_format fmts[] = { REPORT_TEXT, REPORT_HTML,
	    REPORT_JSON };
	struct report *r = mk();
	size_t i;
	char *out;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		add(r, lines[i]);
	cr_assert_eq(report_blocked(r, "amy", NULL), 3);
	for (i = 0; i < 3; i++) {
		out = render(r, fmts[i]);
		cr_assert_null(strstr(out, "secret-"), "format %zu", i);
		/* The abuse list is critical whatever a line says. */
		cr_assert_not_null(strstr(out, "critical"));
		free(out);
	}
	report_free(r);
}

static const char hostile[] =
    "{\"ts\":\"2026-03-07T08:00:00Z\",\"kind\":\"dns\","
    "\"client\":\"10.0.0.9\",\"mac\":\"02:00:00:00:00:09\","
    "\"device\":\"<script>alert(1)</script>\",\"profile\":\"x'y\","
    "\"name\":\"\\\"><img src=x onerror=alert(1)>\\u001b[31m\\u202e&\","
    "\"categories\":[\"<b>cat</b>\"]}";

Test(report, html_escapes_everything_from_the_log)
{
	struct report *r = mk();
	char *out;

	add(r, hostile);
	out = render(r, REPORT_HTML);
	cr_assert_null(strstr(out, "<script"));
	cr_assert_null(strstr(out, "<img"));
	cr_assert_null(strstr(out, "<b>"));
	cr_assert_null(strstr(out, "\x1b"));
	cr_assert_null(strstr(out, "\xe2\x80\xae"));	/* U+202E */
	cr_assert_not_null(strstr(out, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	cr_assert_not_null(strstr(out, "&quot;&gt;&lt;img src=x onerror="
	    "alert(1)&gt;\\u{001b}[31m\\u{202e}&amp;"));
	cr_assert_not_null(strstr(out, "x&#39;y"));
	cr_assert_not_null(strstr(out, "&lt;b&gt;cat&lt;/b&gt;"));
	free(out);
	report_free(r);
}

Test(report, html_is_self_contained)
{
	struct report *r = mk();
	char *out;

	add(r, abuse_block);
	indicator(r, "amy", 3, "15:00:00", "anon-chat", "warning");
	block(r, "amy", 3, "16:00:00", "a.test", "\"adult\"");
	out = render(r, REPORT_HTML);
	cr_assert_eq(strncmp(out, "<!DOCTYPE html>", 15), 0);
	cr_assert_null(strstr(out, "<script"));
	cr_assert_null(strstr(out, "<link"));
	cr_assert_null(strstr(out, "<img"));
	cr_assert_null(strstr(out, "src="));
	cr_assert_null(strstr(out, "url("));
	cr_assert_null(strstr(out, "@import"));
	cr_assert_null(strstr(out, "@font-face"));
	cr_assert_null(strstr(out, "http://"));
	cr_assert_not_null(strstr(out, "default-src 'none'"));
	cr_assert_not_null(strstr(out, "@media print"));
	cr_assert_not_null(strstr(out, "class=\"urgent\""));
	cr_assert_not_null(strstr(out, "<a href=\"https://www.ceop.police.uk/"
	    "Safety-Centre/\">"));
	cr_assert_not_null(strstr(out, "</html>\n"));
	free(out);
	report_free(r);
}

Test(report, text_escapes_terminal_controls)
{
	struct report *r = mk();
	char *out;

	add(r, hostile);
	out = render(r, REPORT_TEXT);
	cr_assert_null(strstr(out, "\x1b"));
	cr_assert_null(strstr(out, "\xe2\x80\xae"));
	cr_assert_not_null(strstr(out, "\\u{001b}[31m\\u{202e}&"));
	free(out);
	out = render(r, REPORT_JSON);
	cr_assert_null(strstr(out, "\x1b"));
	cr_assert_not_null(strstr(out, "\"device\": \"<script>alert(1)"
	    "</script>\""));
	cr_assert_not_null(strstr(out, "\\\"><img src=x onerror=alert(1)>"
	    "\\u001b[31m\\u202e&"));
	free(out);
	report_free(r);
}

Test(report, nul_in_a_name)
{
	struct report *r = mk();
	char *out;

	add(r, "{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"dns\","
	    "\"device\":\"a\\u0000b\",\"name\":\"x\\u0000y\"}");
	cr_assert_eq(report_blocked(r, "a\xef\xbf\xbd" "b", NULL), 1);
	out = render(r, REPORT_TEXT);
	cr_assert_not_null(strstr(out, "x\xef\xbf\xbdy"));
	free(out);
	report_free(r);
}

Test(report, advice_only_when_relevant)
{
	struct report *r = mk();
	char *out;

	/* Nothing at all: no advice, the help routes all the same. */
	out = render(r, REPORT_TEXT);
	cr_assert_null(strstr(out, "What to do now"));
	cr_assert_null(strstr(out, "worried about grooming"));
	cr_assert_null(strstr(out, "harmful content got through"));
	cr_assert_not_null(strstr(out, "Nothing here needs action"));
	cr_assert_not_null(strstr(out, "Help and reporting (UK)"));
	cr_assert_not_null(strstr(out, "0808 800 5000"));
	cr_assert_not_null(strstr(out, "0800 1111"));
	cr_assert_not_null(strstr(out, "999"));
	cr_assert_not_null(strstr(out, "https://reportharmfulcontent.com/"));
	cr_assert_not_null(strstr(out, "https://saferinternet.org.uk/"));
	cr_assert_not_null(strstr(out, "remove-nude-image-shared-online"));
	free(out);
	out = render(r, REPORT_JSON);
	cr_assert_not_null(strstr(out, "\"advice\": [],"));
	free(out);

	/* Bypass blocks alone are not harmful content. */
	block(r, "ben", 2, "10:00:00", "dns.test", "\"doh\",\"bypass\"");
	out = render(r, REPORT_JSON);
	cr_assert_not_null(strstr(out, "\"advice\": [],"));
	free(out);
	block(r, "ben", 2, "10:00:01", "a.test", "\"adult\"");
	out = render(r, REPORT_JSON);
	cr_assert_not_null(strstr(out, "\"advice\": [\"harmful-content\"],"));
	free(out);
	/* bypass-attempt is not a grooming indicator. */
	indicator(r, "ben", 2, "10:00:02", "bypass-attempt", "warning");
	out = render(r, REPORT_JSON);
	cr_assert_not_null(strstr(out, "\"advice\": [\"harmful-content\"],"));
	free(out);
	indicator(r, "ben", 2, "10:00:03", "late-night-contact", "warning");
	out = render(r, REPORT_JSON);
	cr_assert_not_null(strstr(out, "\"advice\": [\"grooming\", "
	    "\"report-remove\", \"harmful-content\"],"));
	free(out);
	report_free(r);
}

Test(report, trend_by_local_day)
{
	/* 1-3 June 2026, BST: 23:30Z on the 1st is 00:30 on the 2nd. */
	time_t from = 1780268400;	/* 2026-05-31T23:00:00Z = 1 June 00:00 */
	struct report *r = report_new(from, from + 3 * 86400 - 1, NULL);
	char *out;

	cr_assert_not_null(r);
	add(r, "{\"ts\":\"2026-06-01T22:59:59Z\",\"kind\":\"dns\","
	    "\"device\":\"amy\"}");
	add(r, "{\"ts\":\"2026-06-01T23:30:00Z\",\"kind\":\"dns\","
	    "\"device\":\"amy\"}");
	add(r, "{\"ts\":\"2026-06-01T23:31:00Z\",\"kind\":\"indicator\","
	    "\"device\":\"amy\",\"indicator\":\"anon-chat\"}");
	out = render(r, REPORT_JSON);
	cr_assert_not_null(strstr(out, "{\"date\": \"2026-06-01\", "
	    "\"blocked\": 1, \"indicators\": 0}"));
	cr_assert_not_null(strstr(out, "{\"date\": \"2026-06-02\", "
	    "\"blocked\": 1, \"indicators\": 1}"));
	cr_assert_not_null(strstr(out, "{\"date\": \"2026-06-03\", "
	    "\"blocked\": 0, \"indicators\": 0}"));
	cr_assert_null(strstr(out, "2026-06-04"));
	free(out);
	out = render(r, REPORT_TEXT);
	cr_assert_not_null(strstr(out, "Tue 02 Jun        1           1  "
	    "############################## !\n"));
	free(out);
	report_free(r);
}

Test(report, caps_count_what_they_do_not_keep)
{
	struct report *r = mk();
	struct report_counts c;
	char dev[32], cats[1024];
	size_t o = 0;
	int i;

	for (i = 0; i < REPORT_DEVICES_MAX + 44; i++) {
		snprintf(dev, sizeof(dev), "dev%03d", i);
		block(r, dev, 2, "10:00:00", "a.test", "\"adult\"");
	}
	counts(r, &c);
	cr_assert_eq(c.devices, REPORT_DEVICES_MAX);
	cr_assert_eq(c.events, REPORT_DEVICES_MAX + 44);
	cr_assert_eq(c.not_stored, 44);
	report_free(r);

	/* Categories: past the cap counted, not kept. */
	r = mk();
	for (i = 0; i < JSONL_ITEMS_MAX; i++)
		o += (size_t)snprintf(cats + o, sizeof(cats) - o, "%s\"c%d\"",
		    i > 0 ? "," : "", i);
	block(r, "amy", 2, "10:00:00", "a.test", cats);
	block(r, "amy", 2, "10:00:01", "a.test", "\"one-more\"");
	counts(r, &c);
	cr_assert_eq(c.not_stored, 1);
	cr_assert_eq(report_blocked(r, "amy", NULL), 2);
	cr_assert_eq(report_blocked(r, "amy", "c63"), 1);
	cr_assert_eq(report_blocked(r, "amy", "one-more"), 0);
	report_free(r);
}

Test(report, long_strings_are_cut)
{
	struct report *r = mk();
	char line[2048], name[1100];
	char *out;

	/* 999 bytes of 'é' (2 bytes each) then an 'x': the cut falls on a
	   character's start, never inside one. */
	memset(name, 0, sizeof(name));
	for (int i = 0; i < 500; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	snprintf(line, sizeof(line), "{\"ts\":\"2026-03-02T10:00:00Z\","
	    "\"kind\":\"dns\",\"device\":\"x%s\",\"name\":\"a\"}", name);
	add(r, line);
	out = render(r, REPORT_JSON);
	cr_assert_not_null(strstr(out, "\"device\": \"x\xc3\xa9"));
	cr_assert_null(strstr(out, "\xc3\"")); /* no half character */
	free(out);
	report_free(r);
}

Test(report, files)
{
	char path[] = "/tmp/test_report_XXXXXX";
	struct report *r = mk();
	struct report_counts c;
	FILE *f;
	int fd, i;

	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fputs("{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"dns\","
	    "\"device\":\"amy\"}\n", f);
	/* A line far past the limit: skipped to its end, counted once. */
	fputs("{\"ts\":\"2026-03-02T10:00:00Z\",\"kind\":\"dns\",\"name\":\"", f);
	for (i = 0; i < 3 * JSONL_LINE_MAX; i++)
		fputc('a', f);
	fputs("\"}\n", f);
	fputs("\n{\"ts\":\"2026-03-02T10:00:01Z\",\"kind\":\"dns\","
	    "\"device\":\"amy\"}\r\n", f);
	/* No newline at the end: read all the same. */
	fputs("{\"ts\":\"2026-03-02T10:00:02Z\",\"kind\":\"dns\","
	    "\"device\":\"amy\"}", f);
	fclose(f);
	cr_assert_eq(report_add_file(r, path), 0);
	counts(r, &c);
	cr_assert_eq(c.files, 1);
	cr_assert_eq(c.lines, 4);
	cr_assert_eq(c.unreadable, 1);
	cr_assert_eq(report_blocked(r, "amy", NULL), 3);

	/* A compressed rotation is skipped, and said so. */
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("\x1f\x8b\x08\x00junk", f);
	fclose(f);
	cr_assert_eq(report_add_file(r, path), 0);
	counts(r, &c);
	cr_assert_eq(c.compressed, 1);
	cr_assert_eq(c.files, 1);
	unlink(path);
	cr_assert_eq(report_add_file(r, path), -ENOENT);
	report_free(r);
}

Test(report, bad_windows)
{
	cr_assert_null(report_new(MAR07_18, MAR01, NULL));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(report_new(MAR01, MAR01, NULL));
	cr_assert_null(report_new(MAR01 - 400 * 86400, MAR01, NULL));
}

Test(report, main_arguments)
{
	char *bad[][4] = {
		{ "report", "--format", "pdf", NULL },
		{ "report", "--since", "0d", NULL },
		{ "report", "--since", "367d", NULL },
		{ "report", "--since", "7x", NULL },
		{ "report", "--since", "d", NULL },
		{ "report", "--now", "soon", NULL },
		{ "report", "stray", NULL, NULL },
		{ "report", "--bogus", NULL, NULL },
	};
	size_t i;
	int n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (n = 0; bad[i][n] != NULL; n++)
			;
		cr_assert_eq(report_main(n, bad[i]), 2, "case %zu", i);
	}
}

/* The log's own events: lost events and cut lines are said, in the
   window only; holds and the rest are bookkeeping. */
Test(report, log_events)
{
	struct report *r = mk();
	struct report_counts c;
	char *out;

	add(r, "{\"seq\":5,\"ts\":\"2026-03-02T10:00:00.000000Z\",\"kind\":\"log\","
	    "\"action\":\"lost\",\"count\":40,\"prev\":\"a\",\"hash\":\"b\"}");
	add(r, "{\"seq\":6,\"ts\":\"2026-03-03T10:00:00.000000Z\",\"kind\":\"log\","
	    "\"action\":\"lost\",\"count\":2}");
	add(r, "{\"seq\":7,\"ts\":\"2026-02-03T10:00:00.000000Z\",\"kind\":\"log\","
	    "\"action\":\"lost\",\"count\":1000}");
	add(r, "{\"seq\":8,\"ts\":\"2026-03-03T10:00:00.000000Z\",\"kind\":\"log\","
	    "\"action\":\"recovered\",\"length\":77}");
	add(r, "{\"seq\":9,\"ts\":\"2026-03-03T10:00:00.000000Z\",\"kind\":\"hold\","
	    "\"action\":\"lost\",\"count\":5,\"hold\":true}");
	counts(r, &c);
	cr_assert_eq(c.bookkeeping, 5);
	cr_assert_eq(c.events, 0);
	out = render(r, REPORT_TEXT);
	cr_assert_not_null(strstr(out, "safegate could not record 42 events "
	    "in this time."));
	cr_assert_not_null(strstr(out, "1 line was cut short by a crash"));
	free(out);
	out = render(r, REPORT_JSON);
	cr_assert_not_null(strstr(out, "\"lost_events\": 42,"));
	cr_assert_not_null(strstr(out, "\"cut_short\": 1,"));
	free(out);
	report_free(r);
}

/* --device is any bytes from the command line, not checked UTF-8: what
   starts no character is shown escaped, never sent raw to a terminal. */
Test(report, filter_bytes_escaped)
{
	struct report *r = report_new(MAR01, MAR07_18, "a\x9b" "1m\x1b\xff");
	char *out;

	cr_assert_not_null(r);
	out = render(r, REPORT_TEXT);
	cr_assert_not_null(strstr(out, "device a\\x{9b}1m\\u{001b}\\x{ff}\n"));
	cr_assert_null(strchr(out, '\x9b'));
	free(out);
	out = render(r, REPORT_HTML);
	cr_assert_not_null(strstr(out, "device a\\x{9b}1m\\u{001b}\\x{ff}."));
	free(out);
	out = render(r, REPORT_JSON);
	cr_assert_not_null(strstr(out, "\"device_filter\": "
	    "\"a\\ufffd1m\\u001b\\ufffd\""));
	free(out);
	report_free(r);
}
