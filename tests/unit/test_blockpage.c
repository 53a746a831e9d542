/*
 * test_blockpage.c - the block page: its request parser, its pages, and
 * the server live on an ephemeral port of 127.0.0.1.
 *
 * The live tests turn the deadlines down (opts) so that a slow client
 * times out in a fraction of a second; nothing is sent beyond loopback.
 * Pages are read as a browser shows them: tags stripped and the few
 * entities we write decoded (shown()), so the wording is matched as the
 * child reads it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "blockpage.h"
#include "errcap.h"

/* ------------------------------------------------------------ helpers */

static int
parse(const char *s, struct blockpage_request *r)
{
	return blockpage_parse_request((const uint8_t *)s, strlen(s), r);
}

static int
status_of(const char *s)
{
	struct blockpage_request r;

	cr_assert_eq(parse(s, &r), 0, "incomplete: %s", s);
	return r.status;
}

/* The answer to a GET / for info (NULL: neutral), NUL-terminated. */
static char *
render_get(const struct blockpage_info *info, bool head)
{
	struct blockpage_request r;
	char *buf = malloc(BLOCKPAGE_RESPONSE_MAX);
	int n;

	cr_assert_not_null(buf);
	cr_assert_eq(parse(head ?
	    "HEAD / HTTP/1.1\r\nHost: secret.example\r\n\r\n" :
	    "GET /some/path?q=1 HTTP/1.1\r\nHost: secret.example\r\n\r\n",
	    &r), 0);
	cr_assert_eq(r.status, 200);
	n = blockpage_render(&r, info, 1700000000, buf,
	    BLOCKPAGE_RESPONSE_MAX);
	cr_assert_gt(n, 0);
	cr_assert_lt(n, BLOCKPAGE_RESPONSE_MAX);
	buf[n] = '\0';
	return buf;
}

static bool
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *
body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");

	cr_assert_not_null(b);
	return b + 4;
}

/* The text a browser shows: tags dropped, whitespace runs as one space,
 * &#39; &amp; &lt; &gt; &quot; &middot; decoded. */
static char *
shown(const char *html)
{
	static const struct { const char *e; char c; } ents[] = {
		{ "&#39;", '\'' }, { "&amp;", '&' }, { "&lt;", '<' },
		{ "&gt;", '>' }, { "&quot;", '"' }, { "&middot;", '.' },
	};
	char *out = malloc(strlen(html) + 1), *o = out;
	const char *p = html;
	size_t i;
	bool tag = false, style = false;

	cr_assert_not_null(out);
	while (*p != '\0') {
		if (strncmp(p, "<style>", 7) == 0)
			style = true;
		if (strncmp(p, "</style>", 8) == 0)
			style = false;
		if (*p == '<') {
			tag = true;
			p++;
			continue;
		}
		if (*p == '>' && tag) {
			tag = false;
			p++;
			continue;
		}
		if (tag || style) {
			p++;
			continue;
		}
		for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
			if (strncmp(p, ents[i].e, strlen(ents[i].e)) == 0)
				break;
		if (i < sizeof(ents) / sizeof(ents[0])) {
			*o++ = ents[i].c;
			p += strlen(ents[i].e);
			continue;
		}
		if (*p == '\n' || *p == ' ' || *p == '\t') {
			if (o > out && o[-1] != ' ')
				*o++ = ' ';
			p++;
			continue;
		}
		*o++ = *p++;
	}
	*o = '\0';
	return out;
}

static void
has(const char *hay, const char *needle)
{
	cr_assert_not_null(strstr(hay, needle), "missing \"%s\" in:\n%s",
	    needle, hay);
}

static void
hasnt(const char *hay, const char *needle)
{
	cr_assert_null(strstr(hay, needle), "unwanted \"%s\" in:\n%s",
	    needle, hay);
}

static const char *const headers[] = {
	"\r\nCache-Control: no-store, no-cache, must-revalidate, max-age=0\r\n",
	"\r\nPragma: no-cache\r\n",
	"\r\nExpires: 0\r\n",
	"\r\nContent-Security-Policy: default-src 'none'; "
	    "style-src 'unsafe-inline'; img-src data:;",
	"\r\nX-Content-Type-Options: nosniff\r\n",
	"\r\nReferrer-Policy: no-referrer\r\n",
	"\r\nConnection: close\r\n",
};

static void
has_headers(const char *resp)
{
	size_t i;

	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
		has(resp, headers[i]);
}

/* Every "http" (any case) past the status line is one of the help
 * routes' links; nothing loads from anywhere. */
static void
only_help_links(const char *resp)
{
	static const char *const ok[] = {
		"https://www.childline.org.uk/\"",
		"https://www.ceop.police.uk/Safety-Centre/\"",
		"https://report.iwf.org.uk/\"",
	};
	const char *p = resp + strlen("HTTP/1.1");
	size_t i;

	cr_assert(starts(resp, "HTTP/1.1 "));
	while ((p = strcasestr(p, "http")) != NULL) {
		for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			if (strncmp(p, ok[i], strlen(ok[i])) == 0)
				break;
		cr_assert_lt(i, sizeof(ok) / sizeof(ok[0]),
		    "an outside link: %.60s", p);
		p++;
	}
	hasnt(resp, "<script");
	hasnt(resp, "<img");
	hasnt(resp, "<link");
	hasnt(resp, "<iframe");
	hasnt(resp, "src=");
	hasnt(resp, "url(");
	hasnt(resp, "@import");
	hasnt(resp, "//fonts");
}

static size_t
content_length(const char *resp)
{
	const char *p = strstr(resp, "\r\nContent-Length: ");

	cr_assert_not_null(p);
	return strtoul(p + 18, NULL, 10);
}

/* ------------------------------------------------------------ parser */

Test(blockpage_parse, good_requests)
{
	struct blockpage_request r;

	cr_assert_eq(parse("GET /x/y?z HTTP/1.1\r\nUser-Agent: t\r\n"
	    "hOsT:  Blocked.TEST:8080 \r\nAccept: */*\r\n\r\n", &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert(!r.head);
	cr_assert_eq(r.minor, 1);
	cr_assert(r.has_host);
	cr_assert_str_eq(r.host, "blocked.test");
	cr_assert_eq(r.host_len, 12);
	cr_assert_eq(r.target_len, 6);
	cr_assert_eq(memcmp(r.target, "/x/y?z", 6), 0);

	cr_assert_eq(parse("HEAD / HTTP/1.1\r\nHost: a.test.\r\n\r\n", &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert(r.head);
	cr_assert_str_eq(r.host, "a.test");

	/* HTTP/1.0 may leave the host out: the neutral page, later */
	cr_assert_eq(parse("GET / HTTP/1.0\r\n\r\n", &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert(!r.has_host);
	cr_assert_str_eq(r.host, "");
	cr_assert_eq(r.minor, 0);

	/* an absolute-form target names the host (RFC 9112 §3.2.2) */
	cr_assert_eq(parse("GET http://Other.Test/p HTTP/1.1\r\n"
	    "Host: blocked.test\r\n\r\n", &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.host, "other.test");

	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: [2001:DB8::1]:80\r\n\r\n",
	    &r), 0);
	cr_assert_str_eq(r.host, "2001:db8::1");

	/* what follows the header block (a body, a pipelined request) is
	 * not read */
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n"
	    "POST / HTTP/1.1\r\n\x01\x02", &r), 0);
	cr_assert_eq(r.status, 200);
}

Test(blockpage_parse, bad_requests)
{
	/* not HTTP/1.x at all: a TLS ClientHello, HTTP/2's preface */
	cr_assert_eq(status_of("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
	    400);
	cr_assert_eq(status_of("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 400);
	cr_assert_eq(status_of("GET /\r\n\r\n"), 400);	/* HTTP/0.9 */
	/* broken framing */
	cr_assert_eq(status_of("GET / HTTP/1.1\nHost: a.test\n\n"), 400);
	cr_assert_eq(status_of("GET / HTTP/1.1\r\nHost: a.test\rX: y\r\n\r\n"),
	    400);
	cr_assert_eq(status_of("GET  / HTTP/1.1\r\nHost: a.test\r\n\r\n"), 400);
	cr_assert_eq(status_of("GET / HTTP/1.1\r\nHost : a.test\r\n\r\n"), 400);
	cr_assert_eq(status_of("GET / HTTP/1.1\r\nNo colon\r\n\r\n"), 400);
	/* a bad host */
	cr_assert_eq(status_of("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400);
	cr_assert_eq(status_of("GET / HTTP/1.1\r\nHost: <x>.test\r\n\r\n"),
	    400);
	cr_assert_eq(status_of("GET / HTTP/1.1\r\nHost: a.test:99999\r\n\r\n"),
	    400);
	cr_assert_eq(status_of("GET / HTTP/1.1\r\nHost: u@a.test\r\n\r\n"),
	    400);
}

Test(blockpage_parse, duplicate_and_folded_host)
{
	cr_assert_eq(status_of("GET / HTTP/1.1\r\nHost: a.test\r\n"
	    "Host: b.test\r\n\r\n"), 400);
	/* the same twice is still twice; and any case of the name */
	cr_assert_eq(status_of("GET / HTTP/1.1\r\nHost: a.test\r\n"
	    "X: 1\r\nHOST: a.test\r\n\r\n"), 400);
	/* obs-fold: a continuation line */
	cr_assert_eq(status_of("GET / HTTP/1.1\r\nHost: a.test\r\n"
	    " b.test\r\n\r\n"), 400);
	cr_assert_eq(status_of("GET / HTTP/1.1\r\nX-A: 1\r\n\tHost: b\r\n\r\n"),
	    400);
}

Test(blockpage_parse, missing_host_on_1_1)
{
	cr_assert_eq(status_of("GET / HTTP/1.1\r\n\r\n"), 400);
	cr_assert_eq(status_of("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 400);
	cr_assert_eq(status_of("GET / HTTP/1.1\r\nHostname: a\r\n\r\n"), 400);
	/* but 1.0 may */
	cr_assert_eq(status_of("GET / HTTP/1.0\r\nHostname: a\r\n\r\n"), 200);
}

Test(blockpage_parse, methods_and_versions)
{
	cr_assert_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\n\r\n"), 405);
	cr_assert_eq(status_of("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 405);
	cr_assert_eq(status_of("CONNECT a.test:443 HTTP/1.1\r\nHost: "
	    "a.test:443\r\n\r\n"), 405);
	cr_assert_eq(status_of("get / HTTP/1.1\r\nHost: a\r\n\r\n"), 405);
	cr_assert_eq(status_of("BREW / HTTP/1.1\r\nHost: a\r\n\r\n"), 405);
	cr_assert_eq(status_of("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 505);
	cr_assert_eq(status_of("GET / HTTP/1.9\r\n\r\n"), 505);
	/* a version problem comes before a missing host, which comes
	 * before the method */
	cr_assert_eq(status_of("POST / HTTP/1.1\r\n\r\n"), 400);
}

Test(blockpage_parse, incomplete_then_whole)
{
	static const char req[] = "GET /a HTTP/1.1\r\nHost: a.test\r\n"
	    "Accept: */*\r\n\r\n";
	struct blockpage_request r;
	size_t n;

	for (n = 0; n < sizeof(req) - 1; n++) {
		cr_assert_eq(blockpage_parse_request((const uint8_t *)req, n,
		    &r), SG_ETRUNC, "prefix of %zu", n);
		cr_assert_null(r.target);
	}
	cr_assert_eq(blockpage_parse_request((const uint8_t *)req, n, &r), 0);
	cr_assert_eq(r.status, 200);
	/* a prefix that is already wrong is answered at once */
	cr_assert_eq(parse("DELETE /", &r), SG_ETRUNC);	/* fine so far */
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: a\n", &r), 0);
	cr_assert_eq(r.status, 400);
}

Test(blockpage_parse, size_cap)
{
	char *big = malloc(BLOCKPAGE_REQUEST_MAX + 64);
	struct blockpage_request r;
	const char *head = "GET / HTTP/1.1\r\nHost: a.test\r\nX-Pad: ";
	size_t hl = strlen(head), pad;

	cr_assert_not_null(big);
	/* exactly the cap: the whole block in BLOCKPAGE_REQUEST_MAX bytes */
	pad = BLOCKPAGE_REQUEST_MAX - hl - 4;
	memcpy(big, head, hl);
	memset(big + hl, 'x', pad);
	memcpy(big + hl + pad, "\r\n\r\n", 4);
	cr_assert_eq(blockpage_parse_request((uint8_t *)big,
	    BLOCKPAGE_REQUEST_MAX, &r), 0);
	cr_assert_eq(r.status, 200);
	/* one byte more is too large, however it arrives */
	pad++;
	memset(big + hl, 'x', pad);
	memcpy(big + hl + pad, "\r\n\r\n", 4);
	cr_assert_eq(blockpage_parse_request((uint8_t *)big,
	    BLOCKPAGE_REQUEST_MAX + 1, &r), 0);
	cr_assert_eq(r.status, 431);
	cr_assert_eq(blockpage_parse_request((uint8_t *)big,
	    BLOCKPAGE_REQUEST_MAX, &r), 0);
	cr_assert_eq(r.status, 431);
	cr_assert_eq(blockpage_parse_request((uint8_t *)big, 4000, &r),
	    SG_ETRUNC);
	/* a long request line alone */
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', BLOCKPAGE_REQUEST_MAX + 10);
	cr_assert_eq(blockpage_parse_request((uint8_t *)big,
	    BLOCKPAGE_REQUEST_MAX + 10, &r), 0);
	cr_assert_eq(r.status, 431);
	free(big);
}

/* ------------------------------------------------------------ pages */

Test(blockpage_page, category_wording_and_headers)
{
	struct blockpage_info info;
	char *resp, *text;

	memset(&info, 0, sizeof(info));
	info.kind = BLOCKPAGE_CATEGORY;
	blockpage_info_add_category(&info, "adult");
	blockpage_info_set_device(&info, "amy-tablet");
	resp = render_get(&info, false);
	cr_assert(starts(resp, "HTTP/1.1 403 Forbidden\r\n"));
	has(resp, "\r\nContent-Type: text/html; charset=utf-8\r\n");
	has_headers(resp);
	cr_assert_eq(content_length(resp), strlen(body_of(resp)));
	has(body_of(resp), "<!DOCTYPE html>");
	has(body_of(resp), "<meta name=\"viewport\"");
	only_help_links(resp);

	text = shown(body_of(resp));
	has(text, "This page is blocked");
	has(text, "This page is on the list for adult content");
	has(text, "If something online has worried or upset you, talk to an "
	    "adult you trust.");
	has(text, "You can talk to Childline, free and in private, on "
	    "0800 1111 or at childline.org.uk");
	has(text, "Report to CEOP");
	has(text, "this device: amy-tablet");
	has(resp, "<a class=\"button\" href=\"https://www.ceop.police.uk/"
	    "Safety-Centre/\">");
	has(resp, "href=\"tel:08001111\"");
	/* the host asked for is never on the page */
	hasnt(resp, "secret.example");
	hasnt(resp, "secret");
	free(text);
	free(resp);
}

Test(blockpage_page, plain_words_for_ids)
{
	static const struct { const char *id, *words; } cases[] = {
		{ "adult", "adult content" },
		{ "gambling", "gambling" },
		{ "anon-chat", "chat with strangers" },
		{ "vpn-proxy", "tools that get round the filter" },
		{ "tiktok", "TikTok" },
		{ "youtube", "YouTube" },
		{ "whatsapp", "WhatsApp" },
		{ "some_new-cat", "some new cat" },
	};
	struct blockpage_info info;
	char *resp, *text, want[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&info, 0, sizeof(info));
		info.kind = BLOCKPAGE_CATEGORY;
		blockpage_info_add_category(&info, cases[i].id);
		resp = render_get(&info, false);
		text = shown(body_of(resp));
		snprintf(want, sizeof(want), "on the list for %s, so",
		    cases[i].words);
		has(text, want);
		free(text);
		free(resp);
	}

	/* several: listed once each, "a, b and c"; doh and vpn-proxy are
	 * the same words */
	memset(&info, 0, sizeof(info));
	info.kind = BLOCKPAGE_CATEGORY;
	blockpage_info_add_category(&info, "vpn-proxy");
	blockpage_info_add_category(&info, "gambling");
	blockpage_info_add_category(&info, "doh");
	blockpage_info_add_category(&info, "gambling");
	blockpage_info_add_category(&info, "roblox");
	cr_assert_eq(info.ncategories, 4);
	resp = render_get(&info, false);
	text = shown(body_of(resp));
	has(text, "on the list for tools that get round the filter, gambling "
	    "and Roblox, so");
	free(text);
	free(resp);

	/* at most BLOCKPAGE_CATEGORIES_MAX kept */
	memset(&info, 0, sizeof(info));
	for (i = 0; i < 20; i++) {
		snprintf(want, sizeof(want), "c%zu", i);
		blockpage_info_add_category(&info, want);
	}
	cr_assert_eq(info.ncategories, BLOCKPAGE_CATEGORIES_MAX);
}

Test(blockpage_page, confidential_is_the_iwf_page)
{
	struct blockpage_info info;
	char *resp, *text;

	memset(&info, 0, sizeof(info));
	info.kind = BLOCKPAGE_CONFIDENTIAL;
	blockpage_info_add_category(&info, "iwf-list");	/* never shown */
	blockpage_info_set_device(&info, "amy-tablet");	/* nor this */
	resp = render_get(&info, false);
	cr_assert(starts(resp, "HTTP/1.1 403 Forbidden\r\n"));
	has_headers(resp);
	only_help_links(resp);
	text = shown(body_of(resp));
	has(text, "Access denied");
	has(text, "Access has been denied by your internet access provider "
	    "because this page may contain indecent images of children as "
	    "identified by the Internet Watch Foundation.");
	has(resp, "href=\"https://report.iwf.org.uk/\"");
	has(text, "Childline");
	hasnt(text, "iwf");
	hasnt(text, "list");
	hasnt(text, "amy-tablet");
	hasnt(text, "on the list for");
	hasnt(text, "This page is blocked");
	hasnt(resp, "secret");
	free(text);
	free(resp);
}

Test(blockpage_page, neutral_says_nothing)
{
	struct blockpage_info info;
	char *resp, *text;

	resp = render_get(NULL, false);
	cr_assert(starts(resp, "HTTP/1.1 200 OK\r\n"));
	has_headers(resp);
	only_help_links(resp);
	text = shown(body_of(resp));
	has(text, "This is the safegate filter on your home network");
	hasnt(text, "blocked");
	hasnt(text, "list for");
	hasnt(resp, "secret");
	free(text);
	free(resp);

	/* neutral whatever else the callback left in info */
	memset(&info, 0, sizeof(info));
	blockpage_info_add_category(&info, "adult");
	blockpage_info_set_device(&info, "amy-tablet");
	resp = render_get(&info, false);
	text = shown(body_of(resp));
	hasnt(text, "adult content");
	hasnt(text, "amy-tablet");
	free(text);
	free(resp);
}

Test(blockpage_page, escaping)
{
	struct blockpage_info info;
	char *resp;

	memset(&info, 0, sizeof(info));
	info.kind = BLOCKPAGE_CATEGORY;
	blockpage_info_add_category(&info, "<script>alert(1)</script>");
	blockpage_info_set_device(&info, "\"><img src=x onerror=alert(1)>&");
	resp = render_get(&info, false);
	hasnt(resp, "<script");
	hasnt(resp, "<img");
	hasnt(resp, "\"><");
	has(resp, "&lt;script&gt;alert(1)&lt;/script&gt;");
	has(resp, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;");
	free(resp);

	memset(&info, 0, sizeof(info));
	blockpage_info_set_schedule(&info, "it's<b>", true, 0);
	resp = render_get(&info, false);
	hasnt(resp, "<b>");
	has(resp, "it&#39;s&lt;b&gt;");
	free(resp);
}

Test(blockpage_page, schedules_and_pauses)
{
	struct blockpage_info info;
	char *resp, *text;
	/* Tuesday 14 November 2023, 21:30 UTC */
	const time_t now = 1699997400;

	setenv("TZ", "UTC", 1);
	tzset();
	memset(&info, 0, sizeof(info));
	info.now = now;
	blockpage_info_set_schedule(&info, "bedtime", true,
	    now + 9 * 3600 + 30 * 60);		/* 07:00 tomorrow */
	resp = render_get(&info, false);
	cr_assert(starts(resp, "HTTP/1.1 403"));
	text = shown(body_of(resp));
	has(text, "It's bedtime: the internet is paused until 7:00am "
	    "tomorrow.");
	free(text);
	free(resp);

	/* to midnight: tonight, not tomorrow */
	info.until = now + 2 * 3600 + 30 * 60;
	resp = render_get(&info, false);
	text = shown(body_of(resp));
	has(text, "the internet is paused until midnight.");
	free(text);
	free(resp);

	/* some categories only, the same day */
	memset(&info, 0, sizeof(info));
	info.now = now - 5 * 3600;		/* 16:30 */
	blockpage_info_set_schedule(&info, "homework", false,
	    now - 3 * 3600 - 30 * 60);		/* 18:00 */
	blockpage_info_add_category(&info, "games");
	resp = render_get(&info, false);
	text = shown(body_of(resp));
	has(text, "It's homework time: pages on the list for games are "
	    "blocked until 6:00pm.");
	free(text);
	free(resp);

	/* the end not known */
	info.until = 0;
	resp = render_get(&info, false);
	text = shown(body_of(resp));
	has(text, "are blocked for now.");
	free(text);
	free(resp);

	/* a pause, days away */
	memset(&info, 0, sizeof(info));
	info.kind = BLOCKPAGE_PAUSE;
	info.now = now;
	info.until = now + 3 * 86400;		/* Friday 21:30 */
	resp = render_get(&info, false);
	text = shown(body_of(resp));
	has(text, "The internet is paused on this device until 9:30pm on "
	    "Friday.");
	free(text);
	free(resp);
	info.until = now + 10 * 86400 - 21 * 3600 - 30 * 60 + 12 * 3600;
	resp = render_get(&info, false);
	text = shown(body_of(resp));
	has(text, "until midday on Friday 24 November.");
	free(text);
	free(resp);

	/* the deny list */
	memset(&info, 0, sizeof(info));
	info.kind = BLOCKPAGE_DENY;
	resp = render_get(&info, false);
	text = shown(body_of(resp));
	has(text, "have chosen to block this page.");
	free(text);
	free(resp);
}

Test(blockpage_page, head_and_errors)
{
	struct blockpage_request r;
	struct blockpage_info info;
	char buf[BLOCKPAGE_RESPONSE_MAX], *get, *head;
	int n;

	memset(&info, 0, sizeof(info));
	info.kind = BLOCKPAGE_CATEGORY;
	blockpage_info_add_category(&info, "gambling");
	get = render_get(&info, false);
	head = render_get(&info, true);
	cr_assert(starts(head, "HTTP/1.1 403"));
	cr_assert_str_eq(body_of(head), "");
	cr_assert_eq(content_length(head), content_length(get));
	has_headers(head);
	free(get);
	free(head);

	cr_assert_eq(parse("POST / HTTP/1.1\r\nHost: a\r\n\r\n", &r), 0);
	n = blockpage_render(&r, &info, 0, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_assert(starts(buf, "HTTP/1.1 405 Method Not Allowed\r\n"));
	has(buf, "\r\nAllow: GET, HEAD\r\n");
	has(buf, "\r\nContent-Type: text/plain; charset=utf-8\r\n");
	has(buf, "\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n");
	has_headers(buf);
	hasnt(buf, "gambling");

	/* favicon: 404, and the callback is not needed */
	cr_assert_eq(parse("GET /favicon.ico HTTP/1.1\r\nHost: a\r\n\r\n",
	    &r), 0);
	cr_assert_eq(blockpage_status(&r, &info), 404);
	n = blockpage_render(&r, &info, 0, buf, sizeof(buf));
	buf[n] = '\0';
	cr_assert(starts(buf, "HTTP/1.1 404 Not Found\r\n"));

	cr_assert_eq(parse("GET / HTTP/1.1\r\n\r\n", &r), 0);
	n = blockpage_render(&r, NULL, 0, buf, sizeof(buf));
	buf[n] = '\0';
	cr_assert(starts(buf, "HTTP/1.1 400 Bad Request\r\n"));

	/* too small a buffer */
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &r), 0);
	cr_assert_eq(blockpage_render(&r, &info, 0, buf, 100), SG_ELIMIT);
}

/* ------------------------------------------------------------ live */

struct fake {
	atomic_int	calls;
	char		last_host[256];
	char		last_client[ADDR_STRLEN];
};

static void
decide(void *arg, const struct sg_addr *client, const char *host,
    struct blockpage_info *out)
{
	struct fake *f = arg;

	atomic_fetch_add(&f->calls, 1);
	snprintf(f->last_host, sizeof(f->last_host), "%s", host);
	addr_ntop(client, f->last_client, sizeof(f->last_client));
	cr_assert_neq(out->now, 0);
	if (strcmp(host, "blocked.test") == 0) {
		out->kind = BLOCKPAGE_CATEGORY;
		blockpage_info_add_category(out, "adult");
		blockpage_info_set_device(out, "test-device");
	} else if (strcmp(host, "hidden-entry.invalid") == 0) {
		out->kind = BLOCKPAGE_CONFIDENTIAL;
		blockpage_info_add_category(out, "iwf-list");
	}
}

static struct fake fake;

static struct blockpage *
start(const struct blockpage_opts *o, const char *addr)
{
	struct sg_addr a;
	struct blockpage *bp;
	char err[256];

	memset(&fake, 0, sizeof(fake));
	cr_assert_eq(addr_parse(&a, addr != NULL ? addr : "127.0.0.1"), 0);
	bp = blockpage_start_opts(&a, 1, 0, o, decide, &fake, err,
	    sizeof(err));
	cr_assert_not_null(bp, "%s", err);
	cr_assert_neq(blockpage_port(bp, 0), 0);
	return bp;
}

/* A connected socket to 127.0.0.1:port, from src (NULL: any). */
static int
dial_from(uint16_t port, const char *src)
{
	struct sockaddr_in sa, from;
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (src != NULL) {
		memset(&from, 0, sizeof(from));
		from.sin_family = AF_INET;
		cr_assert_eq(inet_pton(AF_INET, src, &from.sin_addr), 1);
		cr_assert_eq(bind(fd, (struct sockaddr *)&from, sizeof(from)),
		    0, "bind %s: %s", src, strerror(errno));
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
	    "connect: %s", strerror(errno));
	return fd;
}

static int
dial(uint16_t port)
{
	return dial_from(port, NULL);
}

static void
send_all(int fd, const char *s, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = send(fd, s, n, MSG_NOSIGNAL);
		cr_assert_gt(k, 0, "send: %s", strerror(errno));
		s += k;
		n -= (size_t)k;
	}
}

/* Everything until EOF (the server closes: Connection: close). */
static char *
read_all(int fd)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	cr_assert_not_null(buf);
	for (;;) {
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n == 0)
			break;
		cr_assert_gt(n, 0, "recv: %s", strerror(errno));
		len += (size_t)n;
		cr_assert_lt(len, cap - 1);
	}
	buf[len] = '\0';
	return buf;
}

static char *
fetch(uint16_t port, const char *req)
{
	int fd = dial(port);
	char *resp;

	send_all(fd, req, strlen(req));
	resp = read_all(fd);
	close(fd);
	return resp;
}

/* Whether the server closed fd (EOF or reset) within ms. */
static bool
closed_within(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char c;

	if (poll(&p, 1, ms) != 1)
		return false;
	return recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

static bool
readable_within(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) == 1;
}

static uint64_t
wait_stat(struct blockpage *bp, size_t off, uint64_t want)
{
	struct blockpage_stats st;
	uint64_t v = 0;
	int i;

	for (i = 0; i < 200; i++) {
		blockpage_get_stats(bp, &st);
		memcpy(&v, (const char *)&st + off, sizeof(v));
		if (v == want)
			break;
		usleep(10000);
	}
	return v;
}

#define STAT(bp, f, want) \
	wait_stat(bp, offsetof(struct blockpage_stats, f), want)

Test(blockpage_live, pages_by_host)
{
	struct blockpage *bp = start(NULL, NULL);
	uint16_t port = blockpage_port(bp, 0);
	char *resp, *text;

	resp = fetch(port, "GET / HTTP/1.1\r\nHost: Blocked.Test\r\n"
	    "Connection: keep-alive\r\n\r\n");
	cr_assert(starts(resp, "HTTP/1.1 403 Forbidden\r\n"));
	has_headers(resp);
	cr_assert_eq(content_length(resp), strlen(body_of(resp)));
	text = shown(body_of(resp));
	has(text, "adult content");
	has(text, "this device: test-device");
	cr_assert_str_eq(fake.last_host, "blocked.test");
	cr_assert_str_eq(fake.last_client, "127.0.0.1");
	free(text);
	free(resp);

	resp = fetch(port, "GET / HTTP/1.0\r\nHost: hidden-entry.invalid\r\n"
	    "\r\n");
	cr_assert(starts(resp, "HTTP/1.1 403"));
	has(resp, "Internet Watch Foundation");
	hasnt(resp, "hidden-entry");
	hasnt(resp, "iwf-list");
	free(resp);

	resp = fetch(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	cr_assert(starts(resp, "HTTP/1.1 200 OK\r\n"));
	has(resp, "This is the safegate filter on your home network");
	free(resp);

	resp = fetch(port, "HEAD / HTTP/1.1\r\nHost: blocked.test\r\n\r\n");
	cr_assert(starts(resp, "HTTP/1.1 403"));
	cr_assert_str_eq(body_of(resp), "");
	free(resp);

	resp = fetch(port, "DELETE / HTTP/1.1\r\nHost: blocked.test\r\n\r\n");
	cr_assert(starts(resp, "HTTP/1.1 405"));
	free(resp);

	/* favicon and errors never ask the callback */
	atomic_store(&fake.calls, 0);
	resp = fetch(port, "GET /favicon.ico HTTP/1.1\r\nHost: blocked.test"
	    "\r\n\r\n");
	cr_assert(starts(resp, "HTTP/1.1 404"));
	free(resp);
	resp = fetch(port, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
	cr_assert(starts(resp, "HTTP/1.1 400"));
	free(resp);
	cr_assert_eq(atomic_load(&fake.calls), 0);

	/* a request in bytes one at a time */
	{
		static const char req[] = "GET / HTTP/1.1\r\nHost: "
		    "blocked.test\r\n\r\n";
		int fd = dial(port), one = 1;
		size_t i;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		for (i = 0; i < sizeof(req) - 1; i++) {
			send_all(fd, req + i, 1);
			usleep(1000);
		}
		resp = read_all(fd);
		close(fd);
		cr_assert(starts(resp, "HTTP/1.1 403"));
		free(resp);
	}
	blockpage_stop(bp);
}

Test(blockpage_live, concurrent_clients)
{
	struct blockpage *bp = start(NULL, NULL);
	uint16_t port = blockpage_port(bp, 0);
	static const char req[] =
	    "GET / HTTP/1.1\r\nHost: blocked.test\r\n\r\n";
	int fds[BLOCKPAGE_CLIENT_CONNS];
	struct blockpage_stats st;
	char *resp;
	size_t i;

	/* all connected and asking before any is read */
	for (i = 0; i < BLOCKPAGE_CLIENT_CONNS; i++)
		fds[i] = dial(port);
	for (i = 0; i < BLOCKPAGE_CLIENT_CONNS; i++)
		send_all(fds[i], req, sizeof(req) - 1);
	for (i = BLOCKPAGE_CLIENT_CONNS; i-- > 0;) {
		resp = read_all(fds[i]);
		cr_assert(starts(resp, "HTTP/1.1 403"), "client %zu",
		    i);
		cr_assert_eq(content_length(resp), strlen(body_of(resp)));
		free(resp);
		close(fds[i]);
	}
	cr_assert_eq(STAT(bp, active, 0), 0);
	blockpage_get_stats(bp, &st);
	cr_assert_eq(st.accepted, BLOCKPAGE_CLIENT_CONNS);
	cr_assert_eq(st.blocked, BLOCKPAGE_CLIENT_CONNS);
	cr_assert_eq(st.refused, 0);
	blockpage_stop(bp);
}

Test(blockpage_live, slow_clients_hit_the_deadline)
{
	struct blockpage_opts o = { .deadline_ms = 300 };
	struct blockpage *bp = start(&o, NULL);
	uint16_t port = blockpage_port(bp, 0);
	struct timespec t0, t1;
	int idle, partial;
	char *resp;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	idle = dial(port);
	partial = dial(port);
	send_all(partial, "GET / HTTP/1.1\r\nHo", 18);
	resp = read_all(partial);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	cr_assert(starts(resp, "HTTP/1.1 408 Request Timeout\r\n"),
	    "%s", resp);
	has_headers(resp);
	cr_assert_geq(ms, 250);
	cr_assert_lt(ms, 3000);
	free(resp);
	/* nothing sent: closed without a word */
	resp = read_all(idle);
	cr_assert_str_eq(resp, "");
	free(resp);
	close(idle);
	close(partial);
	cr_assert_eq(STAT(bp, timeouts, 2), 2);
	cr_assert_eq(STAT(bp, active, 0), 0);
	cr_assert_eq(atomic_load(&fake.calls), 0);
	blockpage_stop(bp);
}

Test(blockpage_live, oversized_request)
{
	struct blockpage *bp = start(NULL, NULL);
	uint16_t port = blockpage_port(bp, 0);
	size_t n = BLOCKPAGE_REQUEST_MAX + 4096;
	char *big = malloc(n), *resp;
	int fd;

	cr_assert_not_null(big);
	memcpy(big, "GET / HTTP/1.1\r\nHost: blocked.test\r\nX-Pad: ", 44);
	memset(big + 44, 'x', n - 44);
	fd = dial(port);
	send_all(fd, big, n);
	resp = read_all(fd);
	cr_assert(starts(resp, "HTTP/1.1 431 Request Header Fields Too "
	    "Large\r\n"), "%.80s", resp);
	free(resp);
	close(fd);
	cr_assert_eq(atomic_load(&fake.calls), 0);
	free(big);
	blockpage_stop(bp);
}

/* A client still sending (a body we never read) gets the whole answer,
 * not a reset: the server lingers. */
static void *
send_body(void *arg)
{
	int fd = *(int *)arg;
	char chunk[16384];
	size_t i;

	memset(chunk, 'b', sizeof(chunk));
	for (i = 0; i < 32; i++)
		if (send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL) <= 0)
			break;
	return NULL;
}

Test(blockpage_live, lingers_for_a_client_still_sending)
{
	struct blockpage *bp = start(NULL, NULL);
	uint16_t port = blockpage_port(bp, 0);
	static const char req[] = "POST / HTTP/1.1\r\nHost: blocked.test\r\n"
	    "Content-Length: 524288\r\n\r\n";
	pthread_t t;
	char *resp;
	int fd;

	fd = dial(port);
	send_all(fd, req, sizeof(req) - 1);
	cr_assert_eq(pthread_create(&t, NULL, send_body, &fd), 0);
	resp = read_all(fd);
	pthread_join(t, NULL);
	cr_assert(starts(resp, "HTTP/1.1 405"));
	cr_assert_eq(content_length(resp), strlen(body_of(resp)));
	free(resp);
	close(fd);
	blockpage_stop(bp);
}

Test(blockpage_live, connection_limits)
{
	struct blockpage_opts o = { .max_conns = 6, .client_conns = 4,
	    .deadline_ms = 4000 };
	static const char req[] =
	    "GET / HTTP/1.1\r\nHost: blocked.test\r\n\r\n";
	struct blockpage *bp = start(&o, NULL);
	uint16_t port = blockpage_port(bp, 0);
	int held[4], other[2], extra, waiting;
	struct blockpage_stats st;
	char logged[2048];
	char *resp;
	size_t i;

	/* one address takes its share, and no more; the log says so */
	for (i = 0; i < 4; i++)
		held[i] = dial(port);
	cr_assert_eq(STAT(bp, active, 4), 4);
	errcap_start();
	extra = dial(port);
	cr_assert(closed_within(extra, 2000), "over its share: closed");
	errcap_end(logged, sizeof(logged));
	close(extra);
	blockpage_get_stats(bp, &st);
	cr_assert_eq(st.refused, 1);
	cr_assert_not_null(strstr(logged, "block page: 127.0.0.1 has 4 "
	    "connections open, its share: another refused"), "%s", logged);

	/* another device still gets in, up to the total */
	for (i = 0; i < 2; i++)
		other[i] = dial_from(port, "127.0.0.2");
	cr_assert_eq(STAT(bp, active, 6), 6);
	/* full: the next waits in the backlog, unanswered... */
	waiting = dial_from(port, "127.0.0.3");
	send_all(waiting, req, sizeof(req) - 1);
	cr_assert(!readable_within(waiting, 300), "served while full");
	/* ...until a slot frees */
	close(held[0]);
	resp = read_all(waiting);
	cr_assert(starts(resp, "HTTP/1.1 403"));
	free(resp);
	close(waiting);
	for (i = 1; i < 4; i++)
		close(held[i]);
	for (i = 0; i < 2; i++)
		close(other[i]);
	cr_assert_eq(STAT(bp, active, 0), 0);
	blockpage_stop(bp);
}

Test(blockpage_live, stop_with_clients_connected)
{
	struct blockpage *bp = start(NULL, NULL);
	uint16_t port = blockpage_port(bp, 0);
	int fd = dial(port);

	cr_assert_eq(STAT(bp, active, 1), 1);
	blockpage_stop(bp);
	cr_assert(closed_within(fd, 1000));
	close(fd);
}

Test(blockpage_live, ipv6_and_freebind)
{
	struct blockpage *bp;
	struct sg_addr a;
	char err[256];

	/* an address this host does not have: IP_FREEBIND binds it */
	cr_assert_eq(addr_parse(&a, "192.0.2.80"), 0);
	bp = blockpage_start(&a, 1, 0, decide, &fake, err, sizeof(err));
	cr_assert_not_null(bp, "%s", err);
	blockpage_stop(bp);
	cr_assert_eq(addr_parse(&a, "2001:db8::80"), 0);
	bp = blockpage_start(&a, 1, 0, decide, &fake, err, sizeof(err));
	cr_assert_not_null(bp, "%s", err);
	blockpage_stop(bp);

	/* and ::1, live, where the host has IPv6 */
	{
		struct sockaddr_in6 sa;
		char *resp;
		int fd;
		static const char req[] = "GET / HTTP/1.1\r\nHost: "
		    "blocked.test\r\n\r\n";

		cr_assert_eq(addr_parse(&a, "::1"), 0);
		bp = blockpage_start(&a, 1, 0, decide, &fake, err,
		    sizeof(err));
		if (bp == NULL) {
			cr_log_warn("no IPv6 loopback here: %s", err);
			return;
		}
		fd = socket(AF_INET6, SOCK_STREAM, 0);
		memset(&sa, 0, sizeof(sa));
		sa.sin6_family = AF_INET6;
		sa.sin6_port = htons(blockpage_port(bp, 0));
		sa.sin6_addr = in6addr_loopback;
		cr_assert_eq(connect(fd, (struct sockaddr *)&sa,
		    sizeof(sa)), 0);
		send_all(fd, req, sizeof(req) - 1);
		resp = read_all(fd);
		cr_assert(starts(resp, "HTTP/1.1 403"));
		cr_assert_str_eq(fake.last_client, "::1");
		free(resp);
		close(fd);
		blockpage_stop(bp);
	}
}

Test(blockpage_live, start_errors)
{
	struct blockpage *bp, *bp2;
	struct sg_addr a;
	char err[256];

	cr_assert_eq(addr_parse(&a, "127.0.0.1"), 0);
	errno = 0;
	cr_assert_null(blockpage_start(&a, 0, 0, decide, &fake, err,
	    sizeof(err)));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(blockpage_start(&a, 1, 0, NULL, &fake, err,
	    sizeof(err)));
	cr_assert_eq(errno, EINVAL);

	bp = blockpage_start(&a, 1, 0, decide, &fake, err, sizeof(err));
	cr_assert_not_null(bp, "%s", err);
	bp2 = blockpage_start(&a, 1, blockpage_port(bp, 0), decide, &fake,
	    err, sizeof(err));
	cr_assert_null(bp2);
	cr_assert_eq(errno, EADDRINUSE);
	has(err, "127.0.0.1 port ");
	has(err, "in use");
	blockpage_stop(bp);
	blockpage_stop(NULL);
}
