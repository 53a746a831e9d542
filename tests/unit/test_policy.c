/*
 * test_policy.c - decisions with devices and profiles: which device a
 * request is, the order of precedence (policy.h), schedules in local time
 * across a daylight-saving change, runtime pauses and allows, safe search,
 * HTTPS with no data, and explain's text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "blockpage.h"
#include "config.h"
#include "overrides.h"
#include "policy.h"
#include "sets.h"
#include "snapshot.h"

static struct snapshot *snap;
static struct overrides *ov;

static const char conf[] =
    "lists = ( { category = \"adult\"; files = [ \"a\" ]; },\n"
    "          { category = \"games\"; files = [ \"g\" ]; },\n"
    "          { category = \"doh\"; files = [ \"d\" ]; },\n"
    "          { category = \"bypass\"; files = [ \"b\" ]; },\n"
    "          { category = \"abuse\"; confidential = true;\n"
    "            files = [ \"x\" ]; } );\n"
    "block = [ \"abuse\" ];\n"
    "devices = (\n"
    "  { name = \"amy\"; mac = \"02:00:00:00:00:01\"; profile = \"child\"; },\n"
    "  { name = \"amy\"; ip = \"10.0.0.5\"; profile = \"child\"; },\n"
    "  { name = \"tv\"; ip = \"10.0.0.9\"; profile = \"adult\"; },\n"
    "  { name = \"guests\"; cidr = \"10.0.1.0/24\"; profile = \"teen\"; },\n"
    "  { name = \"guest-v6\"; cidr = \"fd00::/64\"; profile = \"teen\"; },\n"
    "  { name = \"lab\"; cidr = \"10.0.1.128/25\"; profile = \"adult\"; } );\n"
    "default_profile = \"teen\";\n"
    "profiles = {\n"
    "  adult = { };\n"
    "  teen = { block = [ \"adult\" ]; bypass = { doh = true; }; };\n"
    "  child = {\n"
    "    block = [ \"adult\" ];\n"
    "    allow = [ \"fine.adult.test\" ];\n"
    "    deny = [ \"unlisted.test\", \"no.fine.adult.test\" ];\n"
    "    schedules = {\n"
    "      bedtime = { when = \"Sun-Thu 21:00-07:00\"; block = \"all\"; };\n"
    "      homework = { when = \"Mon-Fri 16:00-18:00\";\n"
    "                   block = [ \"games\" ]; };\n"
    "      night = { when = \"daily 01:00-03:00\"; block = [ \"games\" ]; };\n"
    "    };\n"
    "    safe_search = { google = true; bing = true; youtube = \"strict\"; };\n"
    "    bypass = { ech = true; };\n"
    "  };\n"
    "};\n"
    "always_allow = [ \"school.example\" ];\n";

static const struct test_entry entries[] = {
	{ "adult.test", "adult", false },
	{ "game.test", "games", false },
	{ "dns.doh.test", "doh", false },
	{ "use-application-dns.net", "bypass", false },
	{ "hidden.school.example", "abuse", true },
};

static void
setup(void)
{
	struct config *cfg;
	char err[CONFIG_ERR_LEN];

	setenv("TZ", "Europe/London", 1);
	tzset();
	cfg = config_load_string("p.conf", conf, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	snap = snapshot_new(cfg, test_set(entries, sizeof(entries) /
	    sizeof(entries[0])), err, sizeof(err));
	cr_assert_not_null(snap, "%s", err);
	ov = overrides_new();
	cr_assert_not_null(ov);
}

static void
teardown(void)
{
	overrides_free(ov);
	snapshot_free(snap);
}

TestSuite(policy, .init = setup, .fini = teardown);

/* Local time in Europe/London. */
static time_t
at(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
	    .tm_hour = h, .tm_min = mi, .tm_isdst = -1 };

	return mktime(&tm);
}

/* 2026-11-30 is a Monday. */
#define MON_NOON	at(2026, 11, 30, 12, 0)

static struct request
req_from(const char *who, const char *name, time_t t)
{
	struct request r;
	unsigned b[6];
	int i;

	memset(&r, 0, sizeof(r));
	r.kind = REQ_DNS;
	r.qtype = 1;
	r.name = name;
	r.name_len = strlen(name);
	r.time = t;
	if (sscanf(who, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3],
	    &b[4], &b[5]) == 6 && strlen(who) == 17) {
		r.has_mac = true;
		for (i = 0; i < 6; i++)
			r.mac[i] = (uint8_t)b[i];
	} else
		cr_assert_eq(addr_parse(&r.client, who), 0, "%s", who);
	return r;
}

static struct decision
decide(const char *who, const char *name, time_t t)
{
	struct request r = req_from(who, name, t);
	struct decision d;

	policy_decide(snap, ov, &r, &d);
	return d;
}

static const char *
profile_of(const char *who)
{
	struct request r = req_from(who, "x.test", MON_NOON);

	policy_identify(snap, &r);
	return snap->cfg->profiles[r.profile].name;
}

Test(policy, device_precedence)
{
	struct request r = req_from("02:00:00:00:00:01", "x.test", MON_NOON);

	/* MAC over the address the MAC's packet comes from. */
	cr_assert_eq(addr_parse(&r.client, "10.0.0.9"), 0);
	policy_identify(snap, &r);
	cr_expect_str_eq(snap->cfg->profiles[r.profile].name, "child");
	cr_expect_eq(r.by, DEVICES_BY_MAC);
	cr_expect_str_eq(r.device, "amy");
	/* An unknown MAC falls through to the address. */
	r = req_from("02:00:00:00:00:99", "x.test", MON_NOON);
	cr_assert_eq(addr_parse(&r.client, "10.0.0.9"), 0);
	policy_identify(snap, &r);
	cr_expect_str_eq(snap->cfg->profiles[r.profile].name, "adult");
	cr_expect_eq(r.by, DEVICES_BY_IP);

	cr_expect_str_eq(profile_of("10.0.0.5"), "child");
	cr_expect_str_eq(profile_of("10.0.1.7"), "teen");	/* /24 */
	cr_expect_str_eq(profile_of("10.0.1.200"), "adult");	/* /25 wins */
	cr_expect_str_eq(profile_of("fd00::1234"), "teen");
	cr_expect_str_eq(profile_of("10.9.9.9"), "teen");	/* default */
	cr_expect_str_eq(profile_of("fd01::1"), "teen");
}

Test(policy, profiles_block_their_categories)
{
	struct decision d = decide("10.0.0.9", "www.adult.test", MON_NOON);

	cr_expect_eq(d.action, ACTION_ALLOW);	/* adult profile */
	cr_expect_eq(d.reason, REASON_NONE);
	cr_expect_neq(d.matched, 0);
	d = decide("10.0.0.5", "www.adult.test", MON_NOON);
	cr_expect_eq(d.action, ACTION_BLOCK);
	cr_expect_eq(d.reason, REASON_CATEGORY);
	cr_expect_eq(d.rule_len, strlen("adult.test"));
	/* bypass.doh blocks "doh" and "bypass" for teen, not for child */
	cr_expect_eq(decide("10.9.9.9", "dns.doh.test", MON_NOON).action,
	    ACTION_BLOCK);
	cr_expect_eq(decide("10.9.9.9", "use-application-dns.net",
	    MON_NOON).action, ACTION_BLOCK);
	cr_expect_eq(decide("10.0.0.5", "dns.doh.test", MON_NOON).action,
	    ACTION_ALLOW);
}

Test(policy, allow_and_deny_lists)
{
	struct decision d = decide("10.0.0.5", "www.fine.adult.test",
	    MON_NOON);

	cr_expect_eq(d.action, ACTION_ALLOW);
	cr_expect_eq(d.reason, REASON_ALLOW_LIST);
	cr_expect_str_eq(d.entry, "fine.adult.test");
	d = decide("10.0.0.5", "x.no.fine.adult.test", MON_NOON);
	cr_expect_eq(d.action, ACTION_BLOCK);
	cr_expect_eq(d.reason, REASON_DENY);
	d = decide("10.0.0.5", "unlisted.test", MON_NOON);
	cr_expect_eq(d.action, ACTION_BLOCK);
	cr_expect_eq(d.reason, REASON_DENY);
	/* another profile's lists do not apply */
	cr_expect_eq(decide("10.0.0.9", "unlisted.test", MON_NOON).action,
	    ACTION_ALLOW);
}

Test(policy, bedtime_blocks_all_but_allow_lists)
{
	time_t sun2130 = at(2026, 11, 29, 21, 30);
	struct decision d = decide("10.0.0.5", "unlisted-too.example",
	    sun2130);

	cr_expect_eq(d.action, ACTION_BLOCK);
	cr_expect_eq(d.reason, REASON_SCHEDULE);
	cr_expect_eq(d.schedule, 0);
	/* the allow list and the help routes still work */
	cr_expect_eq(decide("10.0.0.5", "fine.adult.test", sun2130).action,
	    ACTION_ALLOW);
	d = decide("10.0.0.5", "www.childline.org.uk", sun2130);
	cr_expect_eq(d.action, ACTION_ALLOW);
	cr_expect_eq(d.reason, REASON_ALWAYS_ALLOW);
	cr_expect_eq(decide("10.0.0.5", "school.example", sun2130).action,
	    ACTION_ALLOW);
	/* edges: 20:59 no, 21:00 yes, Mon 06:59 yes, 07:00 no; Fri night no */
	cr_expect_eq(decide("10.0.0.5", "a.example", at(2026, 11, 29, 20,
	    59)).action, ACTION_ALLOW);
	cr_expect_eq(decide("10.0.0.5", "a.example", at(2026, 11, 29, 21,
	    0)).action, ACTION_BLOCK);
	cr_expect_eq(decide("10.0.0.5", "a.example", at(2026, 11, 30, 6,
	    59)).action, ACTION_BLOCK);
	cr_expect_eq(decide("10.0.0.5", "a.example", at(2026, 11, 30, 7,
	    0)).action, ACTION_ALLOW);
	cr_expect_eq(decide("10.0.0.5", "a.example", at(2026, 12, 4, 23,
	    0)).action, ACTION_ALLOW);
	/* not the other profiles */
	cr_expect_eq(decide("10.0.0.9", "a.example", sun2130).action,
	    ACTION_ALLOW);
}

Test(policy, homework_blocks_its_categories)
{
	struct decision d = decide("10.0.0.5", "game.test",
	    at(2026, 11, 30, 16, 30));

	cr_expect_eq(d.action, ACTION_BLOCK);
	cr_expect_eq(d.reason, REASON_SCHEDULE);
	cr_expect_eq(d.schedule, 1);
	cr_expect_eq(decide("10.0.0.5", "game.test", at(2026, 11, 30, 18,
	    0)).action, ACTION_ALLOW);
	cr_expect_eq(decide("10.0.0.5", "other.test", at(2026, 11, 30, 16,
	    30)).action, ACTION_ALLOW);
	/* a category the profile blocks anyway says "category" */
	d = decide("10.0.0.5", "adult.test", at(2026, 11, 30, 16, 30));
	cr_expect_eq(d.reason, REASON_CATEGORY);
}

/* The minute cache follows the clock both ways, across a DST change:
 * on 2026-03-29 London goes from 01:00 GMT to 02:00 BST. */
Test(policy, schedule_across_spring_forward)
{
	time_t jump = 1774746000;	/* 2026-03-29 01:00:00 UTC */

	cr_expect_eq(decide("10.0.0.5", "game.test", jump - 1).action,
	    ACTION_ALLOW);		/* 00:59:59 GMT */
	cr_expect_eq(decide("10.0.0.5", "game.test", jump).action,
	    ACTION_BLOCK);		/* 02:00 BST: in 01:00-03:00 */
	cr_expect_eq(decide("10.0.0.5", "game.test", jump - 1).action,
	    ACTION_ALLOW);		/* the clock set back */
	cr_expect_eq(decide("10.0.0.5", "game.test", jump + 3599).action,
	    ACTION_BLOCK);		/* 02:59:59 BST */
	cr_expect_eq(decide("10.0.0.5", "game.test", jump + 3600).action,
	    ACTION_ALLOW);		/* 03:00 BST */
}

/* On 2026-10-25 London repeats 01:00-02:00; 01:00-03:00 lasts 3 hours. */
Test(policy, schedule_across_fall_back)
{
	time_t back = 1792890000;	/* 2026-10-25 01:00:00 UTC */

	cr_expect_eq(decide("10.0.0.5", "game.test", back - 3601).action,
	    ACTION_ALLOW);		/* 00:59:59 BST */
	cr_expect_eq(decide("10.0.0.5", "game.test", back - 3600).action,
	    ACTION_BLOCK);		/* 01:00 BST */
	cr_expect_eq(decide("10.0.0.5", "game.test", back + 1800).action,
	    ACTION_BLOCK);		/* 01:30 GMT, the second time */
	cr_expect_eq(decide("10.0.0.5", "game.test", back + 7199).action,
	    ACTION_BLOCK);		/* 02:59:59 GMT */
	cr_expect_eq(decide("10.0.0.5", "game.test", back + 7200).action,
	    ACTION_ALLOW);		/* 03:00 GMT */
}

Test(policy, confidential_beats_everything)
{
	time_t now = MON_NOON;
	struct decision d;

	cr_assert_eq(overrides_allow(ov, "amy", "hidden.school.example",
	    now + 600, now, NULL), 0);
	/* always_allow covers school.example, the abuse list wins */
	d = decide("10.0.0.9", "www.hidden.school.example", now);
	cr_expect_eq(d.action, ACTION_BLOCK);
	cr_expect_eq(d.reason, REASON_CONFIDENTIAL);
	cr_expect(d.confidential);
	cr_expect_null(d.rule);
	d = decide("10.0.0.5", "hidden.school.example", now);
	cr_expect_eq(d.reason, REASON_CONFIDENTIAL);
}

Test(policy, pause_and_its_expiry)
{
	time_t now = MON_NOON;
	struct decision d;

	cr_assert_eq(overrides_pause(ov, "amy", now + 3600, now), 0);
	d = decide("10.0.0.5", "anything.example", now);
	cr_expect_eq(d.action, ACTION_BLOCK);
	cr_expect_eq(d.reason, REASON_PAUSE);
	cr_expect_eq(d.until, now + 3600);
	/* by MAC too: the key is the device's name */
	cr_expect_eq(decide("02:00:00:00:00:01", "anything.example",
	    now).reason, REASON_PAUSE);
	/* help routes stay open; the allow list does not */
	cr_expect_eq(decide("10.0.0.5", "ceop.police.uk", now).action,
	    ACTION_ALLOW);
	cr_expect_eq(decide("10.0.0.5", "fine.adult.test", now).action,
	    ACTION_BLOCK);
	/* others are not paused */
	cr_expect_eq(decide("10.0.0.9", "anything.example", now).action,
	    ACTION_ALLOW);
	/* expired */
	cr_expect_eq(decide("10.0.0.5", "anything.example",
	    now + 3600).action, ACTION_ALLOW);
	/* a pause by address */
	cr_assert_eq(overrides_pause(ov, "10.0.0.9", now + 60, now), 0);
	cr_expect_eq(decide("10.0.0.9", "anything.example", now).reason,
	    REASON_PAUSE);
}

Test(policy, temporary_allow_and_its_expiry)
{
	time_t now = MON_NOON;
	struct decision d;

	cr_assert_eq(overrides_allow(ov, "amy", "adult.test", now + 1800, now,
	    NULL), 0);
	d = decide("10.0.0.5", "www.adult.test", now);
	cr_expect_eq(d.action, ACTION_ALLOW);
	cr_expect_eq(d.reason, REASON_TEMP_ALLOW);
	/* even at bedtime: the parent said so */
	cr_expect_eq(decide("10.0.0.5", "adult.test", now + 60).action,
	    ACTION_ALLOW);
	cr_expect_eq(decide("10.0.0.5", "notadult.test", now).action,
	    ACTION_ALLOW);
	cr_expect_eq(decide("10.9.9.9", "adult.test", now).action,
	    ACTION_BLOCK);
	cr_expect_eq(decide("10.0.0.5", "adult.test", now + 1800).action,
	    ACTION_BLOCK);
}

Test(policy, safe_search_and_https)
{
	struct request r;
	struct decision d = decide("10.0.0.5", "www.google.co.uk", MON_NOON);

	cr_expect_eq(d.action, ACTION_ALLOW);
	cr_expect_str_eq(d.safe_target, "forcesafesearch.google.com");
	cr_expect_str_eq(decide("10.0.0.5", "www.youtube.com",
	    MON_NOON).safe_target, "restrict.youtube.com");
	cr_expect_str_eq(decide("10.0.0.5", "www.bing.com",
	    MON_NOON).safe_target, "strict.bing.com");
	cr_expect_null(decide("10.0.0.5", "duckduckgo.com",
	    MON_NOON).safe_target);	/* off in this profile */
	cr_expect_null(decide("10.0.0.9", "www.google.co.uk",
	    MON_NOON).safe_target);
	cr_expect_null(decide("10.0.0.5", "forcesafesearch.google.com",
	    MON_NOON).safe_target);

	r = req_from("10.0.0.5", "www.example.test", MON_NOON);
	r.qtype = 65;		/* HTTPS */
	policy_decide(snap, ov, &r, &d);
	cr_expect(d.nodata);
	r = req_from("10.0.0.9", "www.example.test", MON_NOON);
	r.qtype = 65;
	policy_decide(snap, ov, &r, &d);
	cr_expect_not(d.nodata);
	/* not for connections, which have no qtype */
	r = req_from("10.0.0.5", "www.google.co.uk", MON_NOON);
	r.kind = REQ_TLS;
	policy_decide(snap, ov, &r, &d);
	cr_expect_null(d.safe_target);
	cr_expect_str_eq(policy_safe_target(snap, &r),
	    "forcesafesearch.google.com");
}

static char *
explain(const char *device, const char *name, time_t t, int want)
{
	static char text[4096];
	struct sbuf b;

	sbuf_init(&b, text, sizeof(text));
	cr_assert_eq(policy_explain(snap, ov, device, name, t, &b), want,
	    "%s", text);
	cr_assert_not(b.overflow);
	return text;
}

Test(policy, explain_says_why)
{
	char *t = explain("amy", "WWW.Adult.Test.", at(2026, 11, 29, 21, 30),
	    0);

	cr_expect(strstr(t, "device amy: by MAC, MAC 02:00:00:00:00:01\n"
	    "profile child\nname www.adult.test\n"
	    "time Sun 2026-11-29 21:30:00 GMT\n") == t, "%s", t);
	cr_expect(strstr(t, "schedule bedtime (Sun-Thu 21:00-07:00): in "
	    "force, blocks everything but the allow lists\n") != NULL, "%s", t);
	cr_expect(strstr(t, "schedule homework (weekdays 16:00-18:00): not "
	    "in force") != NULL, "%s", t);
	cr_expect(strstr(t, "category adult: listed as adult.test; blocked "
	    "by the profile\n") != NULL, "%s", t);
	cr_expect(strstr(t, "decision: block (schedule bedtime)\n") != NULL,
	    "%s", t);

	t = explain("10.9.9.9", "game.test", MON_NOON, 0);
	cr_expect(strstr(t, "device (unnamed): no device entry matches: the "
	    "default profile, address 10.9.9.9\nprofile teen (the default)\n")
	    == t, "%s", t);
	cr_expect(strstr(t, "category games: listed as game.test; not "
	    "blocked for this profile\n") != NULL, "%s", t);
	cr_expect(strstr(t, "decision: allow (not-listed)\n") != NULL, "%s",
	    t);

	t = explain("tv", "hidden.school.example", MON_NOON, 0);
	cr_expect(strstr(t, "hidden") == NULL, "%s", t);
	cr_expect(strstr(t, "name (in a confidential list: not shown)\n") !=
	    NULL, "%s", t);
	cr_expect(strstr(t, "category abuse: confidential list ") != NULL,
	    "%s", t);
	cr_expect(strstr(t, "decision: block (confidential)\n") != NULL,
	    "%s", t);

	t = explain("amy", "www.google.com", MON_NOON, 0);
	cr_expect(strstr(t, "safe search: answered with "
	    "forcesafesearch.google.com\n") != NULL, "%s", t);

	cr_assert_eq(overrides_pause(ov, "amy", MON_NOON + 90, MON_NOON), 0);
	t = explain("amy", "a.example", MON_NOON, 0);
	cr_expect(strstr(t, "paused until Mon 2026-11-30 12:01 GMT "
	    "(safegatectl)\ndecision: block (pause)\n") != NULL, "%s", t);

	t = explain("nobody-here", "a.example", MON_NOON, -EINVAL);
	cr_expect(strstr(t, "not a device") != NULL, "%s", t);
	t = explain("amy", "bad..name", MON_NOON, -EINVAL);
	cr_expect(strstr(t, "not a name") != NULL, "%s", t);
}

static struct blockpage_info
page(const char *client, const char *host, time_t t)
{
	struct blockpage_info info;
	struct sg_addr a;

	memset(&info, 0, sizeof(info));
	cr_assert_eq(addr_parse(&a, client), 0);
	policy_blockpage(snap, ov, &a, host, t, &info);
	return info;
}

/* The block page says only what blocks this device's own request. */
Test(policy, block_page_info)
{
	struct blockpage_info i = page("10.0.0.5", "www.adult.test", MON_NOON);

	cr_expect_eq(i.kind, BLOCKPAGE_CATEGORY);
	cr_expect_eq(i.ncategories, 1);
	cr_expect_str_eq(i.categories[0], "adult");
	cr_expect_str_eq(i.device, "amy");
	/* the same name is allowed for the tv: the neutral page */
	cr_expect_eq(page("10.0.0.9", "www.adult.test", MON_NOON).kind,
	    BLOCKPAGE_NEUTRAL);
	cr_expect_eq(page("10.0.0.5", "allowed.example", MON_NOON).kind,
	    BLOCKPAGE_NEUTRAL);
	cr_expect_eq(page("10.0.0.5", "", MON_NOON).kind, BLOCKPAGE_NEUTRAL);
	i = page("10.0.0.5", "a.example", at(2026, 11, 29, 21, 30));
	cr_expect_eq(i.kind, BLOCKPAGE_SCHEDULE);
	cr_expect_str_eq(i.schedule, "bedtime");
	cr_expect(i.schedule_all);
	cr_expect_eq(i.until, at(2026, 11, 30, 7, 0));
	i = page("10.0.0.9", "hidden.school.example", MON_NOON);
	cr_expect_eq(i.kind, BLOCKPAGE_CONFIDENTIAL);
	cr_expect_eq(i.ncategories, 0);
	cr_expect_str_eq(i.device, "");
	cr_expect_eq(page("10.0.0.5", "unlisted.test", MON_NOON).kind,
	    BLOCKPAGE_DENY);
}
