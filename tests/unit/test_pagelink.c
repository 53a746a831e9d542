/*
 * Unit tests: the 302 answer that sends a blocked plain-HTTP visit to the
 * block page, and the page's reading of its link (pagelink.h).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "pagelink.h"

static struct pagelink link4, link46;
static struct sg_addr v4, v6, kid, kid6, other;
static char out[PAGELINK_ANSWER_MAX];
static char name[PAGELINK_NAME_MAX + 1];

#define NOW	1800000000

static struct sg_addr
A(const char *s)
{
	struct sg_addr a;

	cr_assert_eq(addr_parse(&a, s), 0);
	return a;
}

static void
setup(void)
{
	v4 = A("10.77.0.1");
	v6 = A("fd77::1");
	kid = A("10.77.0.2");
	kid6 = A("fd77::2");
	other = A("10.77.0.3");
	cr_assert_eq(pagelink_init(&link4, &v4, NULL, 80), 0);
	cr_assert_eq(pagelink_init(&link46, &v4, &v6, 8080), 0);
}

TestSuite(pagelink, .init = setup);

/* The Location's target ("/?..."), copied out of an answer. */
static const char *
target_of(const char *answer)
{
	static char t[PAGELINK_ANSWER_MAX];
	const char *p = strstr(answer, "Location: http://"), *s, *e;

	cr_assert_not_null(p);
	s = strchr(p + strlen("Location: http://"), '/');
	e = strstr(p, "\r\n");
	cr_assert(s != NULL && e != NULL && s < e);
	memcpy(t, s, (size_t)(e - s));
	t[e - s] = '\0';
	return t;
}

Test(pagelink, a_blocked_name_gets_a_302_naming_it)
{
	int n = pagelink_answer(&link4, &kid, "blocked.test", 12, false, NOW,
	    out, sizeof(out));

	cr_assert_gt(n, 0);
	cr_assert_eq((size_t)n, strlen(out));
	cr_assert_str_eq(out, "HTTP/1.1 302 Found\r\n"
	    "Location: http://10.77.0.1/?blocked=blocked.test\r\n"
	    "Cache-Control: no-store\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n");
}

Test(pagelink, the_page_of_the_clients_family_and_its_port)
{
	cr_assert_gt(pagelink_answer(&link46, &kid6, "b.test", 6, false, NOW,
	    out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out,
	    "Location: http://[fd77::1]:8080/?blocked=b.test\r\n"));
	cr_assert_gt(pagelink_answer(&link46, &kid, "b.test", 6, false, NOW,
	    out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out,
	    "Location: http://10.77.0.1:8080/?blocked=b.test\r\n"));
	/* No IPv6 page: an IPv6 client goes to the IPv4 one. */
	cr_assert_gt(pagelink_answer(&link4, &kid6, "b.test", 6, false, NOW,
	    out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out, "Location: http://10.77.0.1/?"));
}

Test(pagelink, no_answer_without_a_page_a_name_or_room)
{
	struct pagelink none;
	char longname[PAGELINK_NAME_MAX + 2];

	cr_assert_eq(pagelink_init(&none, NULL, NULL, 80), 0);
	cr_assert_eq(pagelink_answer(&none, &kid, "b.test", 6, false, NOW,
	    out, sizeof(out)), -1);
	cr_assert_eq(pagelink_answer(&link4, &kid, "", 0, false, NOW, out,
	    sizeof(out)), -1);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert_eq(pagelink_answer(&link4, &kid, longname,
	    PAGELINK_NAME_MAX + 1, false, NOW, out, sizeof(out)), -1);
	cr_assert_gt(pagelink_answer(&link4, &kid, longname,
	    PAGELINK_NAME_MAX, false, NOW, out, sizeof(out)), 0);
	cr_assert_eq(pagelink_answer(&link4, &kid, "b.test", 6, false, NOW,
	    out, 40), -1);
}

Test(pagelink, the_longest_answer_fits)
{
	char worst[PAGELINK_NAME_MAX];
	struct pagelink l;
	struct sg_addr wide = A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");

	memset(worst, ' ', sizeof(worst));	/* every byte encoded */
	cr_assert_eq(pagelink_init(&l, NULL, &wide, 65535), 0);
	cr_assert_gt(pagelink_answer(&l, &kid6, worst, sizeof(worst), false,
	    NOW, out, sizeof(out)), 0);
}

Test(pagelink, odd_bytes_are_percent_encoded_and_read_back_strictly)
{
	cr_assert_gt(pagelink_answer(&link4, &kid, "a b%\"<.test", 11, false,
	    NOW, out, sizeof(out)), 0);
	cr_assert_str_eq(target_of(out),
	    "/?blocked=a%20b%25%22%3c.test");
	/* Not a name's bytes: the neutral page. */
	cr_assert_eq(pagelink_read(&link4, &kid, target_of(out),
	    strlen(target_of(out)), NOW, name), PAGELINK_BAD);
	/* Encoded letters are decoded and lowered. */
	cr_assert_eq(pagelink_read(&link4, &kid, "/?blocked=%41bc.Test", 20,
	    NOW, name), PAGELINK_BLOCKED);
	cr_assert_str_eq(name, "abc.test");
}

static enum pagelink_kind
rd(const struct pagelink *l, const struct sg_addr *c, const char *t,
    time_t now)
{
	return pagelink_read(l, c, t, strlen(t), now, name);
}

Test(pagelink, links_read_back)
{
	cr_assert_eq(rd(&link4, &kid, "/", NOW), PAGELINK_NONE);
	cr_assert_eq(rd(&link4, &kid, "/some/page?x=1&y", NOW),
	    PAGELINK_NONE);
	cr_assert_eq(rd(&link4, &kid, "/?x=1&blocked=a.test&y=2", NOW),
	    PAGELINK_BLOCKED);
	cr_assert_str_eq(name, "a.test");
	cr_assert_eq(rd(&link4, &kid, "/?blocked", NOW), PAGELINK_NONE);
	cr_assert_eq(rd(&link4, &kid, "/?blocked=", NOW), PAGELINK_BAD);
	cr_assert_eq(rd(&link4, &kid, "/?blocked=a%zz.test", NOW),
	    PAGELINK_BAD);
	cr_assert_eq(rd(&link4, &kid, "/?blocked=a.test%2", NOW),
	    PAGELINK_BAD);
	cr_assert_eq(rd(&link4, &kid, "/?blocked=a/b", NOW), PAGELINK_BAD);
	cr_assert_eq(rd(&link4, &kid, "/?notice=", NOW), PAGELINK_BAD);
	cr_assert_eq(rd(&link4, &kid, "/?notice=123", NOW), PAGELINK_BAD);
	cr_assert_eq(rd(&link4, &kid, "/?notice=.00", NOW), PAGELINK_BAD);
	cr_assert_eq(rd(&link4, &kid,
	    "/?notice=99999999999999999999.00000000000000000000000000000000",
	    NOW), PAGELINK_BAD);
}

Test(pagelink, a_long_blocked_name_is_refused)
{
	char t[600];

	strcpy(t, "/?blocked=");
	memset(t + 10, 'a', PAGELINK_NAME_MAX);
	t[10 + PAGELINK_NAME_MAX] = '\0';
	cr_assert_eq(rd(&link4, &kid, t, NOW), PAGELINK_BLOCKED);
	strcat(t, "a");
	cr_assert_eq(rd(&link4, &kid, t, NOW), PAGELINK_BAD);
}

Test(pagelink, a_confidential_block_names_nothing_and_is_signed)
{
	const char *t;

	cr_assert_gt(pagelink_answer(&link4, &kid, "hidden.invalid", 14,
	    true, NOW, out, sizeof(out)), 0);
	cr_assert_null(strstr(out, "hidden"));
	cr_assert_null(strstr(out, "blocked="));
	t = target_of(out);
	cr_assert_eq(strncmp(t, "/?notice=1800000000.", 20), 0, "%s", t);
	cr_assert_eq(strlen(t), 20 + 2 * PAGELINK_MAC_LEN);
	cr_assert_eq(rd(&link4, &kid, t, NOW), PAGELINK_NOTICE);
	cr_assert_eq(rd(&link4, &kid, t, NOW + PAGELINK_NOTICE_TTL),
	    PAGELINK_NOTICE);
}

Test(pagelink, a_notice_is_good_for_its_client_key_and_time_only)
{
	char t[PAGELINK_ANSWER_MAX], forged[PAGELINK_ANSWER_MAX];
	struct pagelink rekeyed;
	size_t n;

	cr_assert_gt(pagelink_answer(&link4, &kid, "", 0, true, NOW, out,
	    sizeof(out)), 0);
	strcpy(t, target_of(out));
	cr_assert_eq(rd(&link4, &other, t, NOW), PAGELINK_BAD);
	cr_assert_eq(rd(&link4, &kid6, t, NOW), PAGELINK_BAD);
	cr_assert_eq(rd(&link4, &kid, t, NOW + PAGELINK_NOTICE_TTL + 1),
	    PAGELINK_BAD);
	cr_assert_eq(rd(&link4, &kid, t, NOW - 61), PAGELINK_BAD);
	cr_assert_eq(rd(&link4, &kid, t, NOW - 60), PAGELINK_NOTICE);
	cr_assert_eq(rd(NULL, &kid, t, NOW), PAGELINK_BAD);
	/* Another start, another key: yesterday's links are dead. */
	cr_assert_eq(pagelink_init(&rekeyed, &v4, NULL, 80), 0);
	cr_assert_eq(rd(&rekeyed, &kid, t, NOW), PAGELINK_BAD);
	/* Any byte of the MAC or the time changed: refused. */
	n = strlen(t);
	strcpy(forged, t);
	forged[n - 1] = forged[n - 1] == '0' ? '1' : '0';
	cr_assert_eq(rd(&link4, &kid, forged, NOW), PAGELINK_BAD);
	strcpy(forged, t);
	forged[18] = forged[18] == '0' ? '1' : '0';
	cr_assert_eq(rd(&link4, &kid, forged, NOW), PAGELINK_BAD);
	/* Upper-case hex is the same MAC. */
	strcpy(forged, t);
	for (n = 20; forged[n] != '\0'; n++)
		if (forged[n] >= 'a' && forged[n] <= 'f')
			forged[n] = (char)(forged[n] - 'a' + 'A');
	cr_assert_eq(rd(&link4, &kid, forged, NOW), PAGELINK_NOTICE);
}
