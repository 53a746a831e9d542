/*
 * test_risk.c - the grooming-risk indicators (risk.h) on synthetic event
 * streams: for every indicator, streams that must fire and streams that
 * must not (wrong category, allowed vs blocked, outside bedtime, below
 * the count, outside the minutes, inside the window, after it, a disabled
 * rule, age 0, the learning period), then the bounds (eviction, keys,
 * clocks), reloads, determinism and the texts.
 *
 * Times are UTC epoch seconds from T0, Wednesday 25 March 2026 12:00.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "config.h"
#include "risk.h"

#define T0	((time_t)1774440000)	/* 2026-03-25T12:00:00Z */
#define MIN	60
#define HOUR	3600
#define DAY	86400

/* The config's categories, by id. */
enum {
	C_ADULT, C_GAMBLING, C_ANON, C_VPN, C_DOH, C_BYPASS, C_ABUSE,
	C_TIKTOK, C_DISCORD, C_TELEGRAM, C_ROBLOX, C_SOCIAL, C_YOUTUBE,
	C_TWITCH, C_N
};
static char *names[C_N] = {
	"adult", "gambling", "anon-chat", "vpn-proxy", "doh", "bypass",
	"abuse", "tiktok", "discord", "telegram", "roblox", "social",
	"youtube", "twitch",
};
#define BIT(c)		(UINT64_C(1) << (c))
#define CONFIDENTIAL	BIT(C_ABUSE)
/* twitch is deliberately not watched: the age rule follows the mask. */
#define MESSAGING	(BIT(C_TIKTOK) | BIT(C_DISCORD) | BIT(C_TELEGRAM) | \
			 BIT(C_ROBLOX) | BIT(C_SOCIAL) | BIT(C_YOUTUBE))

static struct config_risk
defaults(void)
{
	struct config_risk rc = {
		.anon_chat = { true, HOUR },
		.late_night = { true, HOUR },
		.first_seen = { true, DAY },
		.bypass = { true, HOUR },
		.repeated = { true, HOUR },
		.age = { true, DAY },
		.abuse = { true, 0 },
		.first_seen_days = 30,
		.repeated_count = 5,
		.repeated_minutes = 10,
		.anon_chat_mask = BIT(C_ANON),
		.messaging_mask = MESSAGING,
		.repeated_mask = BIT(C_ADULT),
		.bedtime = "bedtime",
	};

	return rc;
}

static struct risk *
engine(const struct config_risk *rc)
{
	struct risk *r = risk_new(rc, names, C_N, CONFIDENTIAL);

	cr_assert_not_null(r, "risk_new: %s", strerror(errno));
	return r;
}

static struct risk *
engine_default(void)
{
	struct config_risk rc = defaults();

	return engine(&rc);
}

static struct risk_obs
obs(time_t t, const char *dev, enum action a, uint64_t matched)
{
	struct risk_obs o = {
		.time = t,
		.device = dev,
		.profile_age = 0,
		.kind = RISK_DNS,
		.action = a,
		.reason = a == ACTION_BLOCK ? REASON_CATEGORY : REASON_NONE,
		.matched = matched,
	};

	return o;
}

static struct risk_fire fires[RISK_NINDICATORS];

/* Observes; returns how many fired (into fires[]). */
static size_t
see(struct risk *r, const struct risk_obs *o)
{
	memset(fires, 0, sizeof(fires));
	return risk_observe(r, o, fires, RISK_NINDICATORS);
}

/* The fire of `id` in the last see(), or NULL. */
static const struct risk_fire *
fired(size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(fires[i].indicator, id) == 0)
			return &fires[i];
	return NULL;
}

/* One observation; whether `id` fired, as `want` says. */
static const struct risk_fire *
expect(struct risk *r, struct risk_obs o, const char *id, bool want)
{
	size_t n = see(r, &o);
	const struct risk_fire *f = fired(n, id);

	if (want)
		cr_assert_not_null(f, "%s did not fire at T0%+lld", id,
		    (long long)(o.time - T0));
	else
		cr_assert_null(f, "%s fired at T0%+lld", id,
		    (long long)(o.time - T0));
	return f;
}

/* ----------------------------------------------------------- anon-chat */

Test(risk, anon_chat_fires_on_use_and_on_attempt)
{
	struct risk *r = engine_default();
	const struct risk_fire *f;

	f = expect(r, obs(T0, "amy-tablet", ACTION_ALLOW, BIT(C_ANON)),
	    "anon-chat", true);
	cr_expect_str_eq(f->category, "anon-chat");
	cr_expect_eq(f->severity, RISK_WARNING);
	cr_expect_str_eq(f->severity_name, "warning");
	cr_expect_eq(f->count, 1);
	cr_expect_eq(f->text, risk_text("anon-chat"));
	/* A blocked attempt counts too. */
	expect(r, obs(T0, "ben-phone", ACTION_BLOCK, BIT(C_ANON)),
	    "anon-chat", true);
	risk_free(r);
}

Test(risk, anon_chat_not_for_other_categories)
{
	struct risk *r = engine_default();
	size_t n;

	n = see(r, &(struct risk_obs){ .time = T0, .device = "amy-tablet",
	    .action = ACTION_ALLOW, .matched = BIT(C_SOCIAL) | BIT(C_GAMBLING) });
	cr_expect_null(fired(n, "anon-chat"));
	n = see(r, &(struct risk_obs){ .time = T0 + 1, .device = "amy-tablet",
	    .action = ACTION_ALLOW, .matched = 0 });
	cr_expect_eq(n, 0);
	risk_free(r);
}

Test(risk, anon_chat_once_per_window_per_device)
{
	struct risk *r = engine_default();

	expect(r, obs(T0, "amy", ACTION_ALLOW, BIT(C_ANON)), "anon-chat", true);
	expect(r, obs(T0 + 10, "amy", ACTION_BLOCK, BIT(C_ANON)), "anon-chat",
	    false);
	expect(r, obs(T0 + HOUR - 1, "amy", ACTION_ALLOW, BIT(C_ANON)),
	    "anon-chat", false);
	/* Another device has its own window. */
	expect(r, obs(T0 + 20, "ben", ACTION_ALLOW, BIT(C_ANON)), "anon-chat",
	    true);
	/* The window is from the last fire, not from the last match. */
	expect(r, obs(T0 + HOUR, "amy", ACTION_ALLOW, BIT(C_ANON)),
	    "anon-chat", true);
	expect(r, obs(T0 + HOUR + 1, "amy", ACTION_ALLOW, BIT(C_ANON)),
	    "anon-chat", false);
	risk_free(r);
}

Test(risk, window_zero_fires_every_time)
{
	struct config_risk rc = defaults();
	struct risk *r;

	rc.anon_chat.window = 0;
	r = engine(&rc);
	expect(r, obs(T0, "amy", ACTION_ALLOW, BIT(C_ANON)), "anon-chat", true);
	expect(r, obs(T0, "amy", ACTION_ALLOW, BIT(C_ANON)), "anon-chat", true);
	expect(r, obs(T0 + 1, "amy", ACTION_ALLOW, BIT(C_ANON)), "anon-chat",
	    true);
	risk_free(r);
}

/* Every rule off: the stream that fires all of them fires nothing. */
Test(risk, disabled_rules_never_fire)
{
	struct config_risk rc = defaults();
	struct risk_obs o;
	struct risk *r;
	int i;

	rc.anon_chat.enabled = rc.late_night.enabled = false;
	rc.first_seen.enabled = rc.bypass.enabled = false;
	rc.repeated.enabled = rc.age.enabled = rc.abuse.enabled = false;
	rc.repeated_count = 0;	/* not checked for a rule that is off */
	rc.first_seen_days = 0;
	r = engine(&rc);
	for (i = 0; i < 100; i++) {
		o = obs(T0 + (time_t)i * DAY, "amy", ACTION_ALLOW,
		    BIT(C_ANON) | BIT(C_TIKTOK) | BIT(C_DOH));
		o.bedtime = true;
		o.profile_age = 9;
		o.confidential = i % 2 == 0;
		cr_assert_eq(see(r, &o), 0);
		o = obs(T0 + (time_t)i * DAY + 10 * i, "amy", ACTION_BLOCK,
		    BIT(C_ADULT));
		o.kind = RISK_DOT;
		cr_assert_eq(see(r, &o), 0);
	}
	risk_free(r);
}

/* Only the rule that is off goes quiet. */
Test(risk, one_rule_off_leaves_the_others)
{
	struct config_risk rc = defaults();
	struct risk_obs o;
	struct risk *r;
	size_t n;

	rc.late_night.enabled = false;
	r = engine(&rc);
	o = obs(T0, "amy", ACTION_ALLOW, BIT(C_ANON) | BIT(C_TIKTOK));
	o.bedtime = true;
	n = see(r, &o);
	cr_expect_not_null(fired(n, "anon-chat"));
	cr_expect_null(fired(n, "late-night-contact"));
	risk_free(r);
}

/* ------------------------------------------------------- late-night */

static struct risk_obs
night(time_t t, const char *dev, enum action a, uint64_t matched,
    bool bedtime)
{
	struct risk_obs o = obs(t, dev, a, matched);

	o.bedtime = bedtime;
	return o;
}

Test(risk, late_night_fires_for_messaging_in_bedtime)
{
	struct risk *r = engine_default();
	const struct risk_fire *f;

	f = expect(r, night(T0, "amy", ACTION_ALLOW, BIT(C_DISCORD), true),
	    "late-night-contact", true);
	cr_expect_str_eq(f->category, "discord");
	cr_expect_eq(f->severity, RISK_WARNING);
	risk_free(r);
}

Test(risk, late_night_not_outside_bedtime)
{
	struct risk *r = engine_default();

	expect(r, night(T0, "amy", ACTION_ALLOW, BIT(C_DISCORD), false),
	    "late-night-contact", false);
	risk_free(r);
}

Test(risk, late_night_not_when_blocked)
{
	struct risk *r = engine_default();

	/* Blocked is not use: the schedule did its job. */
	expect(r, night(T0, "amy", ACTION_BLOCK, BIT(C_DISCORD), true),
	    "late-night-contact", false);
	risk_free(r);
}

Test(risk, late_night_not_for_other_categories)
{
	struct risk *r = engine_default();

	expect(r, night(T0, "amy", ACTION_ALLOW, BIT(C_GAMBLING), true),
	    "late-night-contact", false);
	expect(r, night(T0, "amy", ACTION_ALLOW, BIT(C_TWITCH), true),
	    "late-night-contact", false);
	expect(r, night(T0, "amy", ACTION_ALLOW, 0, true),
	    "late-night-contact", false);
	risk_free(r);
}

Test(risk, late_night_window)
{
	struct risk *r = engine_default();

	expect(r, night(T0, "amy", ACTION_ALLOW, BIT(C_DISCORD), true),
	    "late-night-contact", true);
	/* Another platform, same device, same window: once per device. */
	expect(r, night(T0 + MIN, "amy", ACTION_ALLOW, BIT(C_TIKTOK), true),
	    "late-night-contact", false);
	expect(r, night(T0 + HOUR, "amy", ACTION_ALLOW, BIT(C_TIKTOK), true),
	    "late-night-contact", true);
	risk_free(r);
}

/* --------------------------------------------------------------- bypass */

static struct risk_obs
kind(time_t t, const char *dev, enum risk_kind k, enum policy_reason why)
{
	struct risk_obs o = obs(t, dev, ACTION_BLOCK, 0);

	o.kind = k;
	o.reason = why;
	return o;
}

Test(risk, bypass_categories_allowed_or_blocked)
{
	struct risk *r = engine_default();
	const struct risk_fire *f;

	f = expect(r, obs(T0, "a", ACTION_ALLOW, BIT(C_DOH)), "bypass-attempt",
	    true);
	cr_expect_str_eq(f->category, "doh");
	f = expect(r, obs(T0, "b", ACTION_BLOCK, BIT(C_VPN)), "bypass-attempt",
	    true);
	cr_expect_str_eq(f->category, "vpn-proxy");
	/* A canary (category "bypass"). */
	f = expect(r, obs(T0, "c", ACTION_BLOCK, BIT(C_BYPASS)),
	    "bypass-attempt", true);
	cr_expect_str_eq(f->category, "bypass");
	risk_free(r);
}

Test(risk, bypass_dot_and_outside_dns)
{
	struct risk *r = engine_default();
	const struct risk_fire *f;

	f = expect(r, kind(T0, "a", RISK_DOT, REASON_DOT), "bypass-attempt",
	    true);
	cr_expect_null(f->category);
	/* The kind alone, or the reason alone, is enough. */
	expect(r, kind(T0, "b", RISK_DOT, REASON_NONE), "bypass-attempt",
	    true);
	expect(r, kind(T0, "c", RISK_OUTSIDE_DNS, REASON_NONE),
	    "bypass-attempt", true);
	expect(r, kind(T0, "d", RISK_DNS, REASON_OUTSIDE_DNS),
	    "bypass-attempt", true);
	risk_free(r);
}

Test(risk, bypass_not_for_ordinary_names)
{
	struct risk *r = engine_default();
	enum risk_kind k;

	for (k = RISK_DNS; k <= RISK_QUIC; k++) {
		expect(r, kind(T0, "a", k, REASON_CATEGORY), "bypass-attempt",
		    false);
		expect(r, obs(T0, "a", ACTION_ALLOW, BIT(C_SOCIAL)),
		    "bypass-attempt", false);
	}
	expect(r, kind(T0, "a", RISK_DNS, REASON_SAFE_SEARCH),
	    "bypass-attempt", false);
	risk_free(r);
}

Test(risk, bypass_window)
{
	struct risk *r = engine_default();

	expect(r, kind(T0, "a", RISK_DOT, REASON_DOT), "bypass-attempt", true);
	expect(r, obs(T0 + 1, "a", ACTION_BLOCK, BIT(C_DOH)), "bypass-attempt",
	    false);
	expect(r, kind(T0 + HOUR - 1, "a", RISK_OUTSIDE_DNS, REASON_NONE),
	    "bypass-attempt", false);
	expect(r, kind(T0 + HOUR, "a", RISK_DOT, REASON_DOT),
	    "bypass-attempt", true);
	risk_free(r);
}

/* ------------------------------------------------------- repeated-adult */

static struct risk_obs
adult(time_t t, const char *dev)
{
	return obs(t, dev, ACTION_BLOCK, BIT(C_ADULT));
}

Test(risk, repeated_fires_at_the_count)
{
	struct risk *r = engine_default();
	const struct risk_fire *f;
	int i;

	for (i = 0; i < 4; i++)
		expect(r, adult(T0 + i * MIN, "amy"), "repeated-adult", false);
	f = expect(r, adult(T0 + 4 * MIN, "amy"), "repeated-adult", true);
	cr_expect_eq(f->count, 5);
	cr_expect_str_eq(f->category, "adult");
	cr_expect_eq(f->severity, RISK_WARNING);
	risk_free(r);
}

Test(risk, repeated_not_below_the_count)
{
	struct risk *r = engine_default();
	int i;

	for (i = 0; i < 4; i++)
		expect(r, adult(T0 + i * MIN, "amy"), "repeated-adult", false);
	/* Another device's tries are not amy's. */
	expect(r, adult(T0 + 5 * MIN, "ben"), "repeated-adult", false);
	risk_free(r);
}

Test(risk, repeated_only_blocked_and_only_watched)
{
	struct risk *r = engine_default();
	int i;

	for (i = 0; i < 10; i++) {
		/* allowed adult (an allow list, a profile without it) */
		expect(r, obs(T0 + i * MIN, "amy", ACTION_ALLOW, BIT(C_ADULT)),
		    "repeated-adult", false);
		/* blocked, but not a watched category */
		expect(r, obs(T0 + i * MIN + 5, "amy", ACTION_BLOCK,
		    BIT(C_GAMBLING)), "repeated-adult", false);
	}
	risk_free(r);
}

Test(risk, repeated_outside_the_minutes)
{
	struct risk *r = engine_default();
	int i;

	/* 5 tries 3 minutes apart span 12 minutes: at most 4 in any 10. */
	for (i = 0; i < 8; i++)
		expect(r, adult(T0 + i * 3 * MIN, "amy"), "repeated-adult",
		    false);
	risk_free(r);
}

Test(risk, repeated_minutes_edge)
{
	struct risk *r = engine_default();
	int i;

	/* Tries at 0, 2.5, 5, 7.5 and 10 minutes: the first is exactly 10
	   minutes old at the fifth, so out. */
	for (i = 0; i < 5; i++)
		expect(r, adult(T0 + i * 150, "amy"), "repeated-adult", false);
	/* A sixth at 12:29: the try at 2:30 is 9:59 old, so five are in. */
	expect(r, adult(T0 + 4 * 150 + 149, "amy"), "repeated-adult", true);
	risk_free(r);
}

/* A browser's A, AAAA and HTTPS questions for one name are one try. */
Test(risk, repeated_hits_close_together_are_one_try)
{
	struct risk *r = engine_default();
	int i, q;

	for (i = 0; i < 4; i++)
		for (q = 0; q < 3; q++)
			expect(r, adult(T0 + i * MIN + (q == 2), "amy"),
			    "repeated-adult", false);
	for (q = 0; q < 20; q++)
		expect(r, adult(T0 + 4 * MIN, "amy"), "repeated-adult",
		    q == 0);
	risk_free(r);
}

Test(risk, repeated_window_then_again)
{
	struct risk *r = engine_default();
	const struct risk_fire *f;
	time_t t = T0;
	int i;

	for (i = 0; i < 4; i++, t += 30)
		expect(r, adult(t, "amy"), "repeated-adult", false);
	expect(r, adult(t, "amy"), "repeated-adult", true);
	/* Still trying, once a minute, inside the hour: not again. */
	for (t += MIN; t < T0 + 4 * 30 + HOUR; t += MIN)
		expect(r, adult(t, "amy"), "repeated-adult", false);
	/* An hour after the fire, still trying: fires again, with how
	   many tries the last 10 minutes held. */
	f = expect(r, adult(t, "amy"), "repeated-adult", true);
	cr_expect_eq(f->count, 10);
	risk_free(r);
}

/* -------------------------------------------------- under-age-platform */

static struct risk_obs
aged(time_t t, const char *dev, enum action a, uint64_t matched,
    unsigned age)
{
	struct risk_obs o = obs(t, dev, a, matched);

	o.profile_age = age;
	return o;
}

Test(risk, age_fires_above_the_profile)
{
	struct risk *r = engine_default();
	const struct risk_fire *f;

	f = expect(r, aged(T0, "amy", ACTION_ALLOW, BIT(C_TIKTOK), 10),
	    "under-age-platform", true);
	cr_expect_str_eq(f->category, "tiktok");
	cr_expect_eq(f->severity, RISK_NOTICE);
	cr_expect_str_eq(f->severity_name, "notice");
	/* Telegram says 18. */
	f = expect(r, aged(T0, "ben", ACTION_ALLOW, BIT(C_TELEGRAM), 15),
	    "under-age-platform", true);
	cr_expect_str_eq(f->category, "telegram");
	risk_free(r);
}

Test(risk, age_not_at_or_above_the_minimum)
{
	struct risk *r = engine_default();

	expect(r, aged(T0, "amy", ACTION_ALLOW, BIT(C_TIKTOK), 13),
	    "under-age-platform", false);
	expect(r, aged(T0, "amy", ACTION_ALLOW, BIT(C_TELEGRAM), 18),
	    "under-age-platform", false);
	/* Roblox sets no minimum age. */
	expect(r, aged(T0, "amy", ACTION_ALLOW, BIT(C_ROBLOX), 7),
	    "under-age-platform", false);
	/* "social" is no service: no age. */
	expect(r, aged(T0, "amy", ACTION_ALLOW, BIT(C_SOCIAL), 7),
	    "under-age-platform", false);
	risk_free(r);
}

Test(risk, age_zero_is_unknown)
{
	struct risk *r = engine_default();

	expect(r, aged(T0, "amy", ACTION_ALLOW, BIT(C_TIKTOK), 0),
	    "under-age-platform", false);
	risk_free(r);
}

Test(risk, age_not_when_blocked_or_not_watched)
{
	struct risk *r = engine_default();

	expect(r, aged(T0, "amy", ACTION_BLOCK, BIT(C_TIKTOK), 9),
	    "under-age-platform", false);
	/* twitch is 13+, but not in messaging_mask */
	expect(r, aged(T0, "amy", ACTION_ALLOW, BIT(C_TWITCH), 9),
	    "under-age-platform", false);
	risk_free(r);
}

Test(risk, age_window_per_platform)
{
	struct risk *r = engine_default();

	expect(r, aged(T0, "amy", ACTION_ALLOW, BIT(C_TIKTOK), 9),
	    "under-age-platform", true);
	/* Another platform: its own notice. */
	expect(r, aged(T0 + MIN, "amy", ACTION_ALLOW, BIT(C_DISCORD), 9),
	    "under-age-platform", true);
	expect(r, aged(T0 + HOUR, "amy", ACTION_ALLOW, BIT(C_TIKTOK), 9),
	    "under-age-platform", false);
	expect(r, aged(T0 + DAY - 1, "amy", ACTION_ALLOW, BIT(C_DISCORD), 9),
	    "under-age-platform", false);
	expect(r, aged(T0 + DAY, "amy", ACTION_ALLOW, BIT(C_TIKTOK), 9),
	    "under-age-platform", true);
	risk_free(r);
}

/* A name in two watched categories is one platform: one notice, and
   neither category again inside the window. */
Test(risk, age_one_fire_for_two_categories)
{
	struct risk *r = engine_default();
	const struct risk_fire *f;
	struct risk_obs o;
	size_t n;

	o = aged(T0, "amy", ACTION_ALLOW, BIT(C_TIKTOK) | BIT(C_DISCORD), 9);
	n = see(r, &o);
	f = fired(n, "under-age-platform");
	cr_assert_not_null(f);
	cr_expect_str_eq(f->category, "tiktok");
	for (size_t i = 0; i < n; i++)
		if (&fires[i] != f)
			cr_expect_str_neq(fires[i].indicator,
			    "under-age-platform");
	expect(r, aged(T0 + 1, "amy", ACTION_ALLOW, BIT(C_DISCORD), 9),
	    "under-age-platform", false);
	risk_free(r);
}

/* -------------------------------------------------------- new-platform */

Test(risk, first_seen_silent_while_learning)
{
	struct risk *r = engine_default();
	int d;

	/* Day 0 .. 29: every platform is new, none is reported. */
	for (d = 0; d < 30; d++)
		expect(r, obs(T0 + d * DAY, "amy", ACTION_ALLOW,
		    BIT(C_TIKTOK + d % 5)), "new-platform", false);
	/* The last second of learning. */
	expect(r, obs(T0 + 30 * DAY - 1, "amy", ACTION_ALLOW, BIT(C_YOUTUBE)),
	    "new-platform", false);
	risk_free(r);
}

Test(risk, first_seen_after_learning)
{
	struct risk *r = engine_default();
	const struct risk_fire *f;

	/* Learning starts at the first observation of any kind. */
	expect(r, obs(T0, "amy", ACTION_ALLOW, BIT(C_GAMBLING)),
	    "new-platform", false);
	expect(r, obs(T0 + 20 * DAY, "amy", ACTION_ALLOW, BIT(C_TIKTOK)),
	    "new-platform", false);
	/* Discord, never used: new. */
	f = expect(r, obs(T0 + 30 * DAY, "amy", ACTION_ALLOW, BIT(C_DISCORD)),
	    "new-platform", true);
	cr_expect_str_eq(f->category, "discord");
	cr_expect_eq(f->severity, RISK_NOTICE);
	/* TikTok, used 10 days ago: not new. */
	expect(r, obs(T0 + 30 * DAY + 1, "amy", ACTION_ALLOW, BIT(C_TIKTOK)),
	    "new-platform", false);
	/* Discord again, now known. */
	expect(r, obs(T0 + 32 * DAY, "amy", ACTION_ALLOW, BIT(C_DISCORD)),
	    "new-platform", false);
	risk_free(r);
}

Test(risk, first_seen_blocked_is_not_use)
{
	struct risk *r = engine_default();

	expect(r, obs(T0, "amy", ACTION_ALLOW, 0), "new-platform", false);
	expect(r, obs(T0 + 10 * DAY, "amy", ACTION_BLOCK, BIT(C_DISCORD)),
	    "new-platform", false);
	expect(r, obs(T0 + 40 * DAY, "amy", ACTION_BLOCK, BIT(C_DISCORD)),
	    "new-platform", false);
	/* First allowed use, after the block was lifted: new. */
	expect(r, obs(T0 + 41 * DAY, "amy", ACTION_ALLOW, BIT(C_DISCORD)),
	    "new-platform", true);
	risk_free(r);
}

Test(risk, first_seen_only_watched_categories)
{
	struct risk *r = engine_default();

	expect(r, obs(T0, "amy", ACTION_ALLOW, 0), "new-platform", false);
	expect(r, obs(T0 + 31 * DAY, "amy", ACTION_ALLOW, BIT(C_GAMBLING)),
	    "new-platform", false);
	expect(r, obs(T0 + 31 * DAY, "amy", ACTION_ALLOW, BIT(C_TWITCH)),
	    "new-platform", false);
	risk_free(r);
}

/* Unused for the baseline: new again. */
Test(risk, first_seen_after_a_lapse)
{
	struct risk *r = engine_default();

	expect(r, obs(T0, "amy", ACTION_ALLOW, BIT(C_TIKTOK)), "new-platform",
	    false);
	expect(r, obs(T0 + 30 * DAY - 1, "amy", ACTION_ALLOW, BIT(C_TIKTOK)),
	    "new-platform", false);
	/* 30 days less a second since the last use: known. */
	expect(r, obs(T0 + 60 * DAY - 2, "amy", ACTION_ALLOW, BIT(C_TIKTOK)),
	    "new-platform", false);
	/* 30 days since: new. */
	expect(r, obs(T0 + 90 * DAY - 2, "amy", ACTION_ALLOW, BIT(C_TIKTOK)),
	    "new-platform", true);
	risk_free(r);
}

Test(risk, first_seen_per_platform_and_device)
{
	struct risk *r = engine_default();

	expect(r, obs(T0, "amy", ACTION_ALLOW, 0), "new-platform", false);
	expect(r, obs(T0, "ben", ACTION_ALLOW, 0), "new-platform", false);
	expect(r, obs(T0 + 31 * DAY, "amy", ACTION_ALLOW, BIT(C_TIKTOK)),
	    "new-platform", true);
	expect(r, obs(T0 + 31 * DAY + 1, "amy", ACTION_ALLOW, BIT(C_DISCORD)),
	    "new-platform", true);
	expect(r, obs(T0 + 31 * DAY + 2, "ben", ACTION_ALLOW, BIT(C_TIKTOK)),
	    "new-platform", true);
	/* Ben's learning is his own: a device first seen late learns. */
	expect(r, obs(T0 + 31 * DAY, "cat", ACTION_ALLOW, BIT(C_TIKTOK)),
	    "new-platform", false);
	risk_free(r);
}

/* The rule off still learns, so turning it on later is not a flood. */
Test(risk, first_seen_learns_while_off)
{
	struct config_risk rc = defaults();
	struct risk *r;

	rc.first_seen.enabled = false;
	r = engine(&rc);
	expect(r, obs(T0, "amy", ACTION_ALLOW, BIT(C_TIKTOK)), "new-platform",
	    false);
	expect(r, obs(T0 + 31 * DAY, "amy", ACTION_ALLOW, BIT(C_DISCORD)),
	    "new-platform", false);
	rc.first_seen.enabled = true;
	cr_assert_eq(risk_reconfigure(r, &rc, names, C_N, CONFIDENTIAL), 0);
	expect(r, obs(T0 + 32 * DAY, "amy", ACTION_ALLOW, BIT(C_DISCORD)),
	    "new-platform", false);
	expect(r, obs(T0 + 32 * DAY, "amy", ACTION_ALLOW, BIT(C_SOCIAL)),
	    "new-platform", true);
	risk_free(r);
}

/* ----------------------------------------------------------- abuse-list */

static struct risk_obs
abuse(time_t t, const char *dev)
{
	struct risk_obs o = obs(t, dev, ACTION_BLOCK, BIT(C_ABUSE));

	o.confidential = true;
	o.reason = REASON_CONFIDENTIAL;
	return o;
}

Test(risk, abuse_fires_every_time)
{
	struct risk *r = engine_default();
	const struct risk_fire *f;
	int i;

	for (i = 0; i < 5; i++) {
		f = expect(r, abuse(T0 + i, "amy"), "abuse-list", true);
		cr_expect_eq(f->severity, RISK_CRITICAL);
		cr_expect_str_eq(f->severity_name, "critical");
		cr_expect_str_eq(f->category, "abuse");
		cr_expect_eq(f->text, risk_text("abuse-list"));
	}
	risk_free(r);
}

Test(risk, abuse_only_when_confidential)
{
	struct risk *r = engine_default();

	expect(r, obs(T0, "amy", ACTION_BLOCK, BIT(C_ADULT)), "abuse-list",
	    false);
	risk_free(r);
}

Test(risk, abuse_window_and_disabled)
{
	struct config_risk rc = defaults();
	struct risk *r;

	rc.abuse.window = HOUR;
	r = engine(&rc);
	expect(r, abuse(T0, "amy"), "abuse-list", true);
	expect(r, abuse(T0 + 1, "amy"), "abuse-list", false);
	expect(r, abuse(T0 + HOUR, "amy"), "abuse-list", true);
	rc.abuse.enabled = false;
	cr_assert_eq(risk_reconfigure(r, &rc, names, C_N, CONFIDENTIAL), 0);
	expect(r, abuse(T0 + 3 * HOUR, "amy"), "abuse-list", false);
	risk_free(r);
}

/*
 * Nothing about the name can be kept: struct risk_obs has no field for
 * it.  What a confidential fire does carry is the category's name and
 * static text; the engine's only other strings are device keys.
 */
Test(risk, abuse_fire_carries_no_name)
{
	struct risk *r = engine_default();
	const struct risk_fire *f;
	struct risk_obs o = abuse(T0, "amy");

	o.matched = BIT(C_ABUSE) | BIT(C_ADULT);
	f = expect(r, o, "abuse-list", true);
	cr_expect_str_eq(f->category, "abuse");
	cr_expect_eq(f->count, 1);
	/* A confidential hit with no category bit still fires, unnamed. */
	o = abuse(T0, "ben");
	o.matched = 0;
	f = expect(r, o, "abuse-list", true);
	cr_expect_null(f->category);
	risk_free(r);
}

/* --------------------------------------------------- several at once */

Test(risk, order_is_most_severe_first)
{
	struct risk *r = engine_default();
	struct risk_obs o;
	size_t n;

	/* Learn amy first, so new-platform can fire. */
	cr_assert_eq(see(r, &(struct risk_obs){ .time = T0, .device = "amy",
	    .action = ACTION_ALLOW }), 0);
	o = obs(T0 + 31 * DAY, "amy", ACTION_ALLOW, BIT(C_ABUSE) |
	    BIT(C_ANON) | BIT(C_DOH) | BIT(C_TIKTOK));
	o.confidential = true;
	o.bedtime = true;
	o.profile_age = 9;
	n = see(r, &o);
	cr_assert_eq(n, 6);
	cr_expect_str_eq(fires[0].indicator, "abuse-list");
	cr_expect_str_eq(fires[1].indicator, "anon-chat");
	cr_expect_str_eq(fires[2].indicator, "late-night-contact");
	cr_expect_str_eq(fires[3].indicator, "bypass-attempt");
	cr_expect_str_eq(fires[4].indicator, "under-age-platform");
	cr_expect_str_eq(fires[5].indicator, "new-platform");
	risk_free(r);
}

Test(risk, short_out_keeps_the_first_and_counts_the_rest)
{
	struct risk *r = engine_default();
	struct risk_fire one[1];
	struct risk_stats st;
	struct risk_obs o;

	o = obs(T0, "amy", ACTION_BLOCK, BIT(C_ABUSE) | BIT(C_ANON));
	o.confidential = true;
	cr_assert_eq(risk_observe(r, &o, one, 1), 1);
	cr_expect_str_eq(one[0].indicator, "abuse-list");
	risk_stats(r, &st);
	cr_expect_eq(st.fired, 2);
	cr_expect_eq(st.dropped, 1);
	/* The dropped fire still started its window. */
	o.confidential = false;
	o.matched = BIT(C_ANON);
	cr_expect_eq(risk_observe(r, &o, one, 1), 0);
	cr_expect_eq(risk_observe(r, &o, NULL, 0), 0);
	risk_free(r);
}

/* ----------------------------------------------------- bounds, keys */

Test(risk, eviction_bounds_devices)
{
	struct risk *r = engine_default();
	struct risk_stats st;
	char key[32];
	int i;

	for (i = 0; i < RISK_MAX_DEVICES; i++) {
		snprintf(key, sizeof(key), "dev-%d", i);
		expect(r, obs(T0 + i, key, ACTION_ALLOW, BIT(C_ANON)),
		    "anon-chat", true);
	}
	risk_stats(r, &st);
	cr_expect_eq(st.devices, RISK_MAX_DEVICES);
	cr_expect_eq(st.evicted, 0);
	/* dev-0 is seen again: dev-1 is now the least recently seen. */
	expect(r, obs(T0 + 2000, "dev-0", ACTION_ALLOW, BIT(C_ANON)),
	    "anon-chat", false);
	expect(r, obs(T0 + 2001, "new", ACTION_ALLOW, BIT(C_ANON)),
	    "anon-chat", true);
	risk_stats(r, &st);
	cr_expect_eq(st.devices, RISK_MAX_DEVICES);
	cr_expect_eq(st.evicted, 1);
	/* dev-0 kept its window; dev-1 lost its own (and dev-2 goes). */
	expect(r, obs(T0 + 2002, "dev-0", ACTION_ALLOW, BIT(C_ANON)),
	    "anon-chat", false);
	expect(r, obs(T0 + 2003, "dev-1", ACTION_ALLOW, BIT(C_ANON)),
	    "anon-chat", true);
	expect(r, obs(T0 + 2004, "dev-3", ACTION_ALLOW, BIT(C_ANON)),
	    "anon-chat", false);
	risk_stats(r, &st);
	cr_expect_eq(st.evicted, 2);
	/* Many more: still bounded. */
	for (i = 0; i < 3 * RISK_MAX_DEVICES; i++) {
		snprintf(key, sizeof(key), "flood-%d", i);
		see(r, &(struct risk_obs){ .time = T0 + 3000 + i,
		    .device = key, .action = ACTION_ALLOW });
	}
	risk_stats(r, &st);
	cr_expect_eq(st.devices, RISK_MAX_DEVICES);
	cr_expect_eq(st.evicted, 2 + 3 * RISK_MAX_DEVICES);
	risk_free(r);
}

/* An evicted device learns again. */
Test(risk, evicted_device_learns_again)
{
	struct risk *r = engine_default();
	char key[32];
	int i;

	expect(r, obs(T0, "amy", ACTION_ALLOW, BIT(C_TIKTOK)), "new-platform",
	    false);
	for (i = 0; i < RISK_MAX_DEVICES; i++) {
		snprintf(key, sizeof(key), "dev-%d", i);
		see(r, &(struct risk_obs){ .time = T0 + 1, .device = key,
		    .action = ACTION_ALLOW });
	}
	expect(r, obs(T0 + 31 * DAY, "amy", ACTION_ALLOW, BIT(C_DISCORD)),
	    "new-platform", false);
	risk_free(r);
}

Test(risk, keys_and_times_checked)
{
	struct risk *r = engine_default();
	char key[RISK_KEY_MAX + 2];
	struct risk_stats st;

	memset(key, 'k', sizeof(key));
	key[RISK_KEY_MAX + 1] = '\0';	/* 64 bytes: too long */
	cr_expect_eq(see(r, &(struct risk_obs){ .time = T0, .device = key,
	    .action = ACTION_ALLOW, .matched = BIT(C_ANON) }), 0);
	key[RISK_KEY_MAX] = '\0';	/* 63: fine */
	cr_expect_eq(see(r, &(struct risk_obs){ .time = T0, .device = key,
	    .action = ACTION_ALLOW, .matched = BIT(C_ANON) }), 1);
	cr_expect_eq(see(r, &(struct risk_obs){ .time = T0, .device = "",
	    .action = ACTION_ALLOW, .matched = BIT(C_ANON) }), 0);
	cr_expect_eq(see(r, &(struct risk_obs){ .time = T0, .device = NULL,
	    .action = ACTION_ALLOW, .matched = BIT(C_ANON) }), 0);
	cr_expect_eq(risk_observe(r, NULL, fires, RISK_NINDICATORS), 0);
	/* A router that booted in 1970. */
	cr_expect_eq(see(r, &(struct risk_obs){ .time = 1000, .device = "b",
	    .action = ACTION_ALLOW, .matched = BIT(C_ANON) }), 0);
	cr_expect_eq(see(r, &(struct risk_obs){ .time = RISK_TIME_MIN - 1,
	    .device = "b", .action = ACTION_ALLOW, .matched = BIT(C_ANON) }),
	    0);
	risk_stats(r, &st);
	cr_expect_eq(st.ignored, 6);
	cr_expect_eq(st.observed, 1);
	cr_expect_eq(st.devices, 1);
	risk_free(r);
}

/* Bits past the config's categories are nobody's. */
Test(risk, unknown_category_bits_ignored)
{
	struct config_risk rc = defaults();
	struct risk *r;

	rc.anon_chat_mask |= BIT(40);
	r = engine(&rc);
	expect(r, obs(T0, "amy", ACTION_ALLOW, BIT(40)), "anon-chat", false);
	risk_free(r);
}

/* A clock stepped back never stretches a window past `window`. */
Test(risk, clock_stepped_back)
{
	struct risk *r = engine_default();
	time_t back = T0 - 30 * DAY;

	expect(r, obs(T0, "amy", ACTION_ALLOW, BIT(C_ANON)), "anon-chat", true);
	expect(r, obs(back, "amy", ACTION_ALLOW, BIT(C_ANON)), "anon-chat",
	    false);
	expect(r, obs(back + HOUR - 1, "amy", ACTION_ALLOW, BIT(C_ANON)),
	    "anon-chat", false);
	expect(r, obs(back + HOUR, "amy", ACTION_ALLOW, BIT(C_ANON)),
	    "anon-chat", true);
	/* ... and does not end learning: still inside 30 days of T0. */
	expect(r, obs(back + 40 * DAY, "amy", ACTION_ALLOW, BIT(C_TIKTOK)),
	    "new-platform", false);
	risk_free(r);
}

/* ---------------------------------------------------- new, reconfigure */

Test(risk, new_refuses_impossible_thresholds)
{
	struct config_risk rc = defaults();
	char *bad[2] = { "adult", NULL };

	rc.repeated_count = 0;
	errno = 0;
	cr_expect_null(risk_new(&rc, names, C_N, 0));
	cr_expect_eq(errno, EINVAL);
	rc.repeated_count = RISK_REPEATED_MAX + 1;
	cr_expect_null(risk_new(&rc, names, C_N, 0));
	rc = defaults();
	rc.repeated_minutes = 0;
	cr_expect_null(risk_new(&rc, names, C_N, 0));
	rc = defaults();
	rc.first_seen_days = 0;
	cr_expect_null(risk_new(&rc, names, C_N, 0));
	rc = defaults();
	cr_expect_null(risk_new(&rc, bad, 2, 0));
	cr_expect_null(risk_new(&rc, names, RISK_MAX_CATEGORIES + 1, 0));
	cr_expect_null(risk_new(NULL, names, C_N, 0));
	/* RISK_REPEATED_MAX itself is fine; no categories is fine. */
	rc.repeated_count = RISK_REPEATED_MAX;
	risk_free(risk_new(&rc, names, C_N, 0));
	struct risk *r = risk_new(&rc, NULL, 0, 0);
	cr_assert_not_null(r);
	expect(r, obs(T0, "amy", ACTION_ALLOW, UINT64_MAX), "anon-chat",
	    false);
	risk_free(r);
	risk_free(NULL);
}

/* The count is exact up to RISK_REPEATED_MAX remembered tries. */
Test(risk, repeated_at_the_largest_count)
{
	struct config_risk rc = defaults();
	struct risk *r;
	int i;

	rc.repeated_count = RISK_REPEATED_MAX;
	rc.repeated_minutes = 60;
	r = engine(&rc);
	for (i = 0; i < RISK_REPEATED_MAX - 1; i++)
		expect(r, adult(T0 + i * MIN, "amy"), "repeated-adult", false);
	expect(r, adult(T0 + i * MIN, "amy"), "repeated-adult", true);
	risk_free(r);
}

/* A reload that reorders, renames and drops categories keeps what each
   device learned, by name. */
Test(risk, reconfigure_carries_state_by_name)
{
	struct config_risk rc = defaults();
	char *reordered[] = { "discord", "tiktok", "adult", "anon-chat",
	    "abuse" };
	const struct risk_fire *f;
	struct risk *r = engine(&rc);

	expect(r, obs(T0, "amy", ACTION_ALLOW, BIT(C_TIKTOK)), "new-platform",
	    false);
	expect(r, obs(T0 + 20 * DAY, "amy", ACTION_ALLOW, BIT(C_TIKTOK)),
	    "new-platform", false);
	expect(r, obs(T0 + 20 * DAY, "amy", ACTION_ALLOW, BIT(C_ANON)),
	    "anon-chat", true);
	rc.messaging_mask = BIT(0) | BIT(1);
	rc.anon_chat_mask = BIT(3);
	rc.repeated_mask = BIT(2);
	cr_assert_eq(risk_reconfigure(r, &rc, reordered, 5, BIT(4)), 0);
	/* TikTok is id 1 now, and known (used 11 days ago); discord (id 0)
	   is new. */
	expect(r, obs(T0 + 31 * DAY, "amy", ACTION_ALLOW, BIT(1)),
	    "new-platform", false);
	f = expect(r, obs(T0 + 31 * DAY, "amy", ACTION_ALLOW, BIT(0)),
	    "new-platform", true);
	cr_expect_str_eq(f->category, "discord");
	/* Per-device windows are kept. */
	expect(r, obs(T0 + 20 * DAY + 1, "amy", ACTION_ALLOW, BIT(3)),
	    "anon-chat", false);
	/* And a refused reload changes nothing. */
	rc.repeated_count = 0;
	cr_expect_eq(risk_reconfigure(r, &rc, names, C_N, CONFIDENTIAL),
	    -EINVAL);
	f = expect(r, obs(T0 + 31 * DAY + 2, "amy", ACTION_BLOCK, BIT(3)),
	    "anon-chat", true);
	cr_expect_str_eq(f->category, "anon-chat");
	struct risk_obs o = obs(T0 + 31 * DAY + 3, "amy", ACTION_BLOCK, BIT(4));
	o.confidential = true;
	f = expect(r, o, "abuse-list", true);
	cr_expect_str_eq(f->category, "abuse");
	risk_free(r);
}

/* The same stream in two engines gives the same fires. */
Test(risk, deterministic)
{
	struct risk *a = engine_default(), *b = engine_default();
	struct risk_fire fa[RISK_NINDICATORS], fb[RISK_NINDICATORS];
	static const char *devs[] = { "amy", "ben", "02:00:00:00:00:01",
	    "192.168.1.20", "fd00::20" };
	uint64_t x = 0x9e3779b97f4a7c15u;
	struct risk_obs o;
	size_t na, nb, j, total = 0;
	time_t t = T0;
	int i;

	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		t += (time_t)(x % 600);
		o = obs(t, devs[(x >> 8) % 5], (x >> 12) & 1 ? ACTION_BLOCK :
		    ACTION_ALLOW, BIT((x >> 16) % C_N));
		o.kind = (enum risk_kind)((x >> 24) % 6);
		o.bedtime = (x >> 28) & 1;
		o.profile_age = (unsigned)((x >> 32) % 17);
		o.confidential = (x >> 40) % 997 == 0;
		na = risk_observe(a, &o, fa, RISK_NINDICATORS);
		nb = risk_observe(b, &o, fb, RISK_NINDICATORS);
		cr_assert_eq(na, nb);
		for (j = 0; j < na; j++) {
			cr_assert_eq(fa[j].indicator, fb[j].indicator);
			cr_assert_str_eq(fa[j].category ? fa[j].category : "",
			    fb[j].category ? fb[j].category : "");
			cr_assert_eq(fa[j].count, fb[j].count);
		}
		total += na;
	}
	cr_expect_gt(total, 100);
	risk_free(a);
	risk_free(b);
}

/* ------------------------------------------------------------ texts */

Test(risk, every_id_has_its_texts)
{
	const struct risk_text *t;
	size_t i;

	for (i = 0; risk_ids[i] != NULL; i++) {
		t = risk_text(risk_ids[i]);
		cr_assert_not_null(t, "%s", risk_ids[i]);
		cr_expect_str_eq(t->id, risk_ids[i]);
		cr_expect_gt(strlen(t->title), 5);
		cr_expect_gt(strlen(t->may_mean), 80, "%s", t->id);
		cr_expect_gt(strlen(t->may_not_mean), 80, "%s", t->id);
		cr_expect_gt(strlen(t->what_to_do), 80, "%s", t->id);
	}
	cr_expect_eq(i, RISK_NINDICATORS);
	cr_expect_null(risk_text("nope"));
	cr_expect_null(risk_text(NULL));
	cr_expect_str_eq(risk_severity_name((enum risk_severity)9), "?");
}

static void
has(const char *id, const char *field, const char *text, const char *want)
{
	cr_expect_not_null(strstr(text, want), "%s %s lacks \"%s\"", id,
	    field, want);
}

/* The UK routes the abuse text must give, and the don'ts. */
Test(risk, abuse_text_follows_uk_guidance)
{
	const struct risk_text *t = risk_text("abuse-list");

	has(t->id, "what_to_do", t->what_to_do, "999");
	has(t->id, "what_to_do", t->what_to_do, "CEOP");
	has(t->id, "what_to_do", t->what_to_do, "police");
	has(t->id, "what_to_do", t->what_to_do, "Do not delete");
	has(t->id, "what_to_do", t->what_to_do, "Do not search");
	has(t->id, "what_to_do", t->what_to_do, "Do not confront");
	has(t->id, "what_to_do", t->what_to_do, "Designated Safeguarding Lead");
	has(t->id, "what_to_do", t->what_to_do, "0808 800 5000");
	has(t->id, "may_not_mean", t->may_not_mean, "blocked");
}

Test(risk, texts_name_the_help_routes)
{
	const struct risk_text *t;
	size_t i;
	bool remove = false, rhc = false, childline = false;

	for (i = 0; risk_ids[i] != NULL; i++) {
		t = risk_text(risk_ids[i]);
		remove |= strstr(t->what_to_do, "Report Remove") != NULL;
		rhc |= strstr(t->what_to_do, "Report Harmful Content") != NULL;
		childline |= strstr(t->what_to_do, "0800 1111") != NULL;
		/* A network filter sees names, never content: each says
		   what it cannot tell. */
		cr_expect(strstr(t->may_not_mean, "not") != NULL, "%s",
		    t->id);
	}
	cr_expect(remove);
	cr_expect(rhc);
	cr_expect(childline);
	t = risk_text("late-night-contact");
	has(t->id, "what_to_do", t->what_to_do, "CEOP");
	t = risk_text("anon-chat");
	has(t->id, "what_to_do", t->what_to_do, "CEOP");
}

/* ------------------------------------------------------ services' ages */

Test(risk, every_service_has_an_age)
{
	size_t i;

	for (i = 0; i < config_nservices; i++)
		cr_expect_geq(risk_service_age(config_services[i]), 0, "%s",
		    config_services[i]);
	cr_expect_eq(risk_service_age("tiktok"), 13);
	cr_expect_eq(risk_service_age("telegram"), 18);
	cr_expect_eq(risk_service_age("roblox"), 0);
	cr_expect_eq(risk_service_age("adult"), -1);
	cr_expect_eq(risk_service_age(NULL), -1);
}

/*
 * blocklists/services/README.md's table and risk.c's agree: a row's age
 * column starts with the age, or "none".
 */
Test(risk, ages_match_the_services_readme)
{
	FILE *f = fopen("blocklists/services/README.md", "r");
	char line[512], name[64], age[64];
	int rows = 0, want;

	cr_assert_not_null(f, "run from the repository root");
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "| `%63[a-z0-9_-].domains` | %*[^|] | %63[^|]",
		    name, age) != 2)
			continue;
		want = strncmp(age, "none", 4) == 0 ? 0 : atoi(age);
		cr_expect(want > 0 || strncmp(age, "none", 4) == 0,
		    "%s: cannot read \"%s\"", name, age);
		cr_expect_eq(risk_service_age(name), want, "%s: README says "
		    "\"%s\"", name, age);
		rows++;
	}
	fclose(f);
	cr_expect_eq((size_t)rows, config_nservices);
}

/* docs/indicators.md holds every text as risk.c has it (whitespace
   aside): the page a parent reads and the alert say the same. */
static char *
squeeze(char *s)
{
	char *r = s, *w = s;
	bool space = false;

	for (; *r != '\0'; r++) {
		if (*r == ' ' || *r == '\n' || *r == '\t') {
			space = true;
			continue;
		}
		if (space && w != s)
			*w++ = ' ';
		space = false;
		*w++ = *r;
	}
	*w = '\0';
	return s;
}

Test(risk, docs_hold_the_texts)
{
	FILE *f = fopen("docs/indicators.md", "r");
	const struct risk_text *t;
	char *doc, want[2048];
	size_t len, i;
	long size;

	cr_assert_not_null(f, "run from the repository root");
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	rewind(f);
	doc = calloc(1, (size_t)size + 1);
	cr_assert_not_null(doc);
	len = fread(doc, 1, (size_t)size, f);
	cr_assert_eq(len, (size_t)size);
	fclose(f);
	squeeze(doc);
	for (i = 0; risk_ids[i] != NULL; i++) {
		t = risk_text(risk_ids[i]);
		snprintf(want, sizeof(want), "### `%s`", t->id);
		cr_expect_not_null(strstr(doc, want), "%s", want);
		cr_expect_not_null(strstr(doc, t->title), "%s title", t->id);
		cr_expect_not_null(strstr(doc, t->may_mean), "%s may_mean",
		    t->id);
		cr_expect_not_null(strstr(doc, t->may_not_mean),
		    "%s may_not_mean", t->id);
		cr_expect_not_null(strstr(doc, t->what_to_do),
		    "%s what_to_do", t->id);
	}
	free(doc);
}

/* ---------------------------------------------------------- state file */

/* The clock a state file is loaded by: after every time in these tests. */
#define LATER	(T0 + 400 * DAY)

struct bad {
	size_t	 line;
	char	 reason[128];
	size_t	 n;
};

static void
on_bad(void *arg, size_t line, const char *reason)
{
	struct bad *b = arg;

	cr_assert_not_null(reason);
	cr_assert_neq(reason[0], '\0');
	b->line = line;
	snprintf(b->reason, sizeof(b->reason), "%s", reason);
	b->n++;
}

/* risk_format()'s text (the caller frees it). */
static char *
state_text(const struct risk *r)
{
	char *text;
	size_t len;

	cr_assert_eq(risk_format(r, &text, &len), 0);
	cr_assert_eq(strlen(text), len);
	return text;
}

/* A fresh default engine holding a's state, through the text. */
static struct risk *
restarted(const struct risk *a, time_t now)
{
	struct risk *b = engine_default();
	struct risk_stats sa, sb;
	char *text = state_text(a);
	struct bad e = { 0 };

	risk_stats(a, &sa);
	cr_assert_eq(risk_parse(b, text, strlen(text), now, on_bad, &e),
	    (int)sa.devices, "line %zu: %s", e.line, e.reason);
	cr_assert_eq(e.n, 0);
	risk_stats(b, &sb);
	cr_assert_eq(sb.devices, sa.devices);
	free(text);
	return b;
}

/* Files in dir, but . and .. */
static size_t
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static char *
state_dir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/sg-risk-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

/* The format as risk.h documents it, byte for byte. */
Test(risk, state_format_is_documented)
{
	struct risk *r = engine_default();
	struct risk_obs o;
	char *text;
	int i;

	expect(r, obs(T0, "amy", ACTION_ALLOW, BIT(C_ANON)), "anon-chat",
	    true);
	o = obs(T0 + 40 * DAY, "amy", ACTION_ALLOW, BIT(C_TIKTOK));
	o.profile_age = 10;
	expect(r, o, "new-platform", true);
	for (i = 0; i < 2; i++)
		see(r, &(struct risk_obs){ .time = T0 + 41 * DAY + i * MIN,
		    .device = "02:00:00:00:00:01", .action = ACTION_BLOCK,
		    .matched = BIT(C_ADULT) });
	see(r, &(struct risk_obs){ .time = T0 + 42 * DAY,
	    .device = "fd00::20", .action = ACTION_ALLOW });
	text = state_text(r);
	cr_expect_str_eq(text,
	    "safegate-risk-state 1\n"
	    "# safegate grooming-risk indicators' learning, written by "
	    "safegated\n"
	    "# (risk.h): device keys, category names and times, no names "
	    "asked\n"
	    "device amy 1774440000\n"
	    "fired anon-chat 1774440000\n"
	    "cat tiktok 1777896000 1777896000 1777896000\n"
	    "device 02:00:00:00:00:01 1777982400\n"
	    "tries 1777982400 1777982460\n"
	    "device fd00::20 1778068800\n"
	    "end 3\n");
	free(text);
	risk_free(r);
}

/* Learning survives a restart: a category used before does not fire, and
   learning counts from the device's first sighting, not from the load. */
Test(risk, state_restart_keeps_learning)
{
	struct risk *a = engine_default(), *b, *fresh = engine_default();
	const struct risk_fire *f;

	expect(a, obs(T0, "amy", ACTION_ALLOW, BIT(C_GAMBLING)),
	    "new-platform", false);
	expect(a, obs(T0 + 5 * DAY, "amy", ACTION_ALLOW, BIT(C_TIKTOK)),
	    "new-platform", false);
	/* The router restarts on day 20. */
	b = restarted(a, T0 + 20 * DAY);
	/* Day 30: learning is over (from T0), so discord is news... */
	f = expect(b, obs(T0 + 30 * DAY, "amy", ACTION_ALLOW, BIT(C_DISCORD)),
	    "new-platform", true);
	cr_expect_str_eq(f->category, "discord");
	/* ... and tiktok, used on day 5, is not. */
	expect(b, obs(T0 + 30 * DAY, "amy", ACTION_ALLOW, BIT(C_TIKTOK)),
	    "new-platform", false);
	/* Without the file, the engine would learn again from day 20. */
	expect(fresh, obs(T0 + 20 * DAY, "amy", ACTION_ALLOW, 0),
	    "new-platform", false);
	expect(fresh, obs(T0 + 30 * DAY, "amy", ACTION_ALLOW, BIT(C_DISCORD)),
	    "new-platform", false);
	risk_free(a);
	risk_free(b);
	risk_free(fresh);
}

/* Every window, the per-category ones and repeated-adult's attempts come
   through: nothing fires again within its window after a restart. */
Test(risk, state_restart_keeps_windows)
{
	struct risk *a = engine_default(), *b;
	struct risk_obs o;
	int i;

	expect(a, obs(T0, "amy", ACTION_ALLOW, BIT(C_ANON)), "anon-chat",
	    true);
	expect(a, obs(T0, "amy", ACTION_ALLOW, BIT(C_DOH)), "bypass-attempt",
	    true);
	o = obs(T0, "amy", ACTION_ALLOW, BIT(C_TELEGRAM));
	o.profile_age = 12;
	expect(a, o, "under-age-platform", true);
	for (i = 0; i < 4; i++)
		expect(a, adult(T0 + i * MIN, "ben"), "repeated-adult", false);
	b = restarted(a, T0 + 10 * MIN);

	expect(b, obs(T0 + 30 * MIN, "amy", ACTION_BLOCK, BIT(C_ANON)),
	    "anon-chat", false);
	expect(b, obs(T0 + 30 * MIN, "amy", ACTION_BLOCK, BIT(C_VPN)),
	    "bypass-attempt", false);
	o.time = T0 + 30 * MIN;
	expect(b, o, "under-age-platform", false);
	/* The fifth try within ten minutes, four of them before the
	   restart. */
	expect(b, adult(T0 + 4 * MIN, "ben"), "repeated-adult", true);
	/* The windows end when they would have. */
	expect(b, obs(T0 + HOUR, "amy", ACTION_BLOCK, BIT(C_ANON)),
	    "anon-chat", true);
	o.time = T0 + DAY;
	expect(b, o, "under-age-platform", true);
	risk_free(a);
	risk_free(b);
}

/* A long random stream with restarts every few thousand observations
   gives the fires of an engine that never restarted. */
Test(risk, state_restart_is_invisible)
{
	struct risk *a = engine_default(), *b = engine_default(), *c;
	struct risk_fire fa[RISK_NINDICATORS], fb[RISK_NINDICATORS];
	static const char *devs[] = { "amy", "ben", "02:00:00:00:00:01",
	    "192.168.1.20", "fd00::20", "key with spaces\n%" };
	uint64_t x = 0x2545f4914f6cdd1du;
	struct risk_obs o;
	size_t na, nb, j, total = 0;
	time_t t = T0;
	int i;

	for (i = 0; i < 30000; i++) {
		if (i % 2500 == 1249) {
			c = restarted(b, t);
			risk_free(b);
			b = c;
		}
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		t += (time_t)(x % 900);
		o = obs(t, devs[(x >> 8) % 6], (x >> 12) & 1 ? ACTION_BLOCK :
		    ACTION_ALLOW, BIT((x >> 16) % C_N));
		o.kind = (enum risk_kind)((x >> 24) % 6);
		o.bedtime = (x >> 28) & 1;
		o.profile_age = (unsigned)((x >> 32) % 17);
		o.confidential = (x >> 40) % 997 == 0;
		na = risk_observe(a, &o, fa, RISK_NINDICATORS);
		nb = risk_observe(b, &o, fb, RISK_NINDICATORS);
		cr_assert_eq(na, nb, "observation %d", i);
		for (j = 0; j < na; j++) {
			cr_assert_eq(fa[j].indicator, fb[j].indicator);
			cr_assert_str_eq(fa[j].category ? fa[j].category : "",
			    fb[j].category ? fb[j].category : "");
			cr_assert_eq(fa[j].count, fb[j].count);
		}
		total += na;
	}
	cr_expect_gt(total, 100);
	/* The last saved states agree too. */
	{
		char *ta = state_text(a), *tb = state_text(b);

		cr_expect_str_eq(ta, tb);
		free(ta);
		free(tb);
	}
	risk_free(a);
	risk_free(b);
}

/* Eviction goes by the order devices were last observed, before the
   restart as after it. */
Test(risk, state_restart_keeps_eviction_order)
{
	struct risk *a = engine_default(), *b;
	struct risk_stats st;
	char key[32];
	int i;

	for (i = 0; i < RISK_MAX_DEVICES; i++) {
		snprintf(key, sizeof(key), "dev-%d", i);
		see(a, &(struct risk_obs){ .time = T0 + i, .device = key,
		    .action = ACTION_ALLOW, .matched = BIT(C_TIKTOK) });
	}
	see(a, &(struct risk_obs){ .time = T0 + DAY, .device = "dev-0",
	    .action = ACTION_ALLOW });
	b = restarted(a, T0 + DAY);
	see(b, &(struct risk_obs){ .time = T0 + DAY + 1, .device = "new",
	    .action = ACTION_ALLOW });
	risk_stats(b, &st);
	cr_expect_eq(st.devices, RISK_MAX_DEVICES);
	cr_expect_eq(st.evicted, 1);
	/* dev-0 and dev-2 remember (learning is over); dev-1 went, and
	   learns again. */
	expect(b, obs(T0 + 31 * DAY, "dev-0", ACTION_ALLOW, BIT(C_DISCORD)),
	    "new-platform", true);
	expect(b, obs(T0 + 31 * DAY, "dev-2", ACTION_ALLOW, BIT(C_DISCORD)),
	    "new-platform", true);
	expect(b, obs(T0 + 31 * DAY, "dev-1", ACTION_ALLOW, BIT(C_DISCORD)),
	    "new-platform", false);
	risk_free(a);
	risk_free(b);
}

/* Categories go by name: reordered ones keep their state, a renamed or
   removed one is forgotten, an indicator this build lacks is dropped. */
Test(risk, state_categories_by_name)
{
	char *other[] = { "social-media", "discord", "adult", "tiktok" };
	struct config_risk rc = defaults();
	struct risk *a = engine_default(), *b;
	const struct risk_fire *f;
	struct bad e = { 0 };
	char *text, *more;
	size_t len;

	expect(a, obs(T0, "amy", ACTION_ALLOW, BIT(C_TIKTOK) |
	    BIT(C_DISCORD) | BIT(C_SOCIAL) | BIT(C_TELEGRAM)),
	    "new-platform", false);
	expect(a, obs(T0 + 20 * DAY, "amy", ACTION_ALLOW, BIT(C_TIKTOK) |
	    BIT(C_DISCORD) | BIT(C_SOCIAL) | BIT(C_TELEGRAM)),
	    "new-platform", false);
	text = state_text(a);
	/* An indicator from some later build, and an unknown category. */
	len = strlen(text) + 128;
	more = malloc(len);
	cr_assert_not_null(more);
	cr_assert_not_null(strstr(text, "end 1\n"));
	snprintf(more, len, "%.*sfired some-new-rule %lld\n"
	    "cat no-such-list %lld - -\nend 1\n",
	    (int)(strstr(text, "end 1\n") - text), text,
	    (long long)T0, (long long)T0);

	rc.messaging_mask = BIT(0) | BIT(1) | BIT(3);
	rc.anon_chat_mask = 0;
	rc.repeated_mask = BIT(2);
	b = risk_new(&rc, other, 4, 0);
	cr_assert_not_null(b);
	cr_assert_eq(risk_parse(b, more, strlen(more), LATER, on_bad, &e), 1,
	    "line %zu: %s", e.line, e.reason);
	/* tiktok (id 3 now) and discord (1) are known (used 11 days
	   ago) ... */
	expect(b, obs(T0 + 31 * DAY, "amy", ACTION_ALLOW, BIT(3)),
	    "new-platform", false);
	expect(b, obs(T0 + 31 * DAY, "amy", ACTION_ALLOW, BIT(1)),
	    "new-platform", false);
	/* ... "social" became "social-media": new to the engine. */
	f = expect(b, obs(T0 + 31 * DAY, "amy", ACTION_ALLOW, BIT(0)),
	    "new-platform", true);
	cr_expect_str_eq(f->category, "social-media");
	/* Saved again, telegram is gone from the file. */
	free(text);
	text = state_text(b);
	cr_expect_null(strstr(text, "telegram"));
	cr_expect_null(strstr(text, "no-such-list"));
	cr_expect_null(strstr(text, "some-new-rule"));
	free(text);
	free(more);
	risk_free(a);
	risk_free(b);
}

/* Keys are escaped to one field and come back byte for byte. */
Test(risk, state_keys_escaped)
{
	static const char *keys[] = { "a b", "tab\there", "new\nline",
	    "100%", "caf\xc3\xa9", "#hash", "x\r" };
	struct risk *a = engine_default(), *b;
	char *text, *p;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		expect(a, obs(T0, keys[i], ACTION_ALLOW, BIT(C_ANON)),
		    "anon-chat", true);
	text = state_text(a);
	cr_expect_not_null(strstr(text, "\ndevice a%20b "));
	cr_expect_not_null(strstr(text, "\ndevice 100%25 "));
	cr_expect_not_null(strstr(text, "\ndevice caf%C3%A9 "));
	/* Every line is ASCII without control bytes. */
	for (p = text; *p != '\0'; p++)
		cr_assert(*p == '\n' || (*p >= 0x20 && *p < 0x7f),
		    "byte %#x", (unsigned char)*p);
	b = restarted(a, LATER);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		expect(b, obs(T0 + 1, keys[i], ACTION_ALLOW, BIT(C_ANON)),
		    "anon-chat", false);
	free(text);
	risk_free(a);
	risk_free(b);
}

/* A saved engine whose state the hostile files below must not touch. */
static struct risk *
engine_with_state(void)
{
	struct risk *r = engine_default();

	expect(r, obs(T0, "amy", ACTION_ALLOW, BIT(C_ANON) | BIT(C_TIKTOK)),
	    "anon-chat", true);
	see(r, &(struct risk_obs){ .time = T0 + 1, .device = "ben",
	    .action = ACTION_BLOCK, .matched = BIT(C_ADULT) });
	return r;
}

/* Parses text into an engine with state; checks the error, its line and
   that the state is as it was. */
static void
refused(const char *text, size_t len, time_t now, int want, size_t line)
{
	struct risk *r = engine_with_state();
	char *before = state_text(r), *after;
	struct bad e = { 0 };

	cr_expect_eq(risk_parse(r, text, len, now, on_bad, &e), want,
	    "%.60s...: want %d (%s)", text, want, sg_strerror(want));
	cr_expect_eq(e.n, 1, "%.60s: one error reported", text);
	if (line != 0)
		cr_expect_eq(e.line, line, "%.60s: line %zu (%s), want %zu",
		    text, e.line, e.reason, line);
	after = state_text(r);
	cr_expect_str_eq(after, before, "%.60s: state changed", text);
	free(before);
	free(after);
	risk_free(r);
}

#define H	"safegate-risk-state 1\n"
#define K32	"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
#define D	"device amy 1774440000\n"

Test(risk, state_hostile_files_refused)
{
	static const struct {
		const char	*text;
		int		 err;
		size_t		 line;
	} cases[] = {
		{ "", SG_ETRUNC, 1 },
		{ "\n", SG_EMALFORMED, 1 },
		{ "# safegate-risk-state 1\nend 0\n", SG_EMALFORMED, 1 },
		{ "safegate-risk-state\nend 0\n", SG_EMALFORMED, 1 },
		{ "safegate-risk-state 2\nend 0\n", SG_EUNSUPP, 1 },
		{ "safegate-risk-state 1 x\nend 0\n", SG_EMALFORMED, 1 },
		{ H, SG_ETRUNC, 1 },
		{ H D, SG_ETRUNC, 2 },
		{ H D "fired anon-chat 1774440000\n", SG_ETRUNC, 3 },
		{ H "end 1\n", SG_EMALFORMED, 2 },
		{ H D "end 2\n", SG_EMALFORMED, 3 },
		{ H D "end\n", SG_EMALFORMED, 3 },
		{ H D "end 99999999999999999999\n", SG_EMALFORMED, 3 },
		{ H D "end -1\n", SG_EMALFORMED, 3 },
		{ H D "end 1\ndevice ben 1774440000\n", SG_EMALFORMED, 4 },
		{ H D "end 1 1\n", SG_EMALFORMED, 3 },
		{ H "frob amy 1774440000\nend 0\n", SG_EMALFORMED, 2 },
		{ H "fired anon-chat 1774440000\nend 0\n", SG_EMALFORMED, 2 },
		{ H "cat tiktok 1774440000 - -\nend 0\n", SG_EMALFORMED, 2 },
		{ H "tries 1774440000\nend 0\n", SG_EMALFORMED, 2 },
		/* keys */
		{ H "device\nend 1\n", SG_EMALFORMED, 2 },
		{ H "device amy\nend 1\n", SG_EMALFORMED, 2 },
		{ H "device amy/x 1774440000\nend 1\n", SG_EMALFORMED, 2 },
		{ H "device %00 1774440000\nend 1\n", SG_EMALFORMED, 2 },
		{ H "device %zz 1774440000\nend 1\n", SG_EMALFORMED, 2 },
		{ H "device a%4 1774440000\nend 1\n", SG_EMALFORMED, 2 },
		/* 64 bytes: 64 letters; 63 and one escaped */
		{ H "device " K32 K32 " 1774440000\nend 1\n", SG_EMALFORMED,
		    2 },
		{ H "device " K32 "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk%41"
		    " 1774440000\nend 1\n", SG_EMALFORMED, 2 },
		{ H D "device amy 1774440001\nend 2\n", SG_EMALFORMED, 3 },
		{ H D "device am%79 1774440001\nend 2\n", SG_EMALFORMED, 3 },
		/* times */
		{ H "device amy 1704067199\nend 1\n", -ERANGE, 2 },
		{ H "device amy 0\nend 1\n", -ERANGE, 2 },
		{ H "device amy 17744400000\nend 1\n", -ERANGE, 2 },
		{ H "device amy 9223372036854775807\nend 1\n", -ERANGE, 2 },
		{ H "device amy 9223372036854775808\nend 1\n", -ERANGE, 2 },
		{ H "device amy 99999999999999999999\nend 1\n", SG_EMALFORMED,
		    2 },
		{ H "device amy -1774440000\nend 1\n", SG_EMALFORMED, 2 },
		{ H "device amy +1774440000\nend 1\n", SG_EMALFORMED, 2 },
		{ H "device amy 17744x0000\nend 1\n", SG_EMALFORMED, 2 },
		{ H "device amy -\nend 1\n", SG_EMALFORMED, 2 },
		{ H D "fired anon-chat 1\nend 1\n", -ERANGE, 3 },
		{ H D "cat tiktok - - 3000000000\nend 1\n", -ERANGE, 3 },
		{ H D "tries 1774440000 1000\nend 1\n", -ERANGE, 3 },
		/* a device's lines */
		{ H D "fired\nend 1\n", SG_EMALFORMED, 3 },
		{ H D "fired Anon-Chat 1774440000\nend 1\n", SG_EMALFORMED, 3 },
		{ H D "fired anon-chat\nend 1\n", SG_EMALFORMED, 3 },
		{ H D "fired anon-chat 1774440000 1\nend 1\n", SG_EMALFORMED,
		    3 },
		{ H D "fired anon-chat 1774440000\nfired anon-chat 1774440001\n"
		    "end 1\n", SG_EMALFORMED, 4 },
		{ H D "cat tiktok 1774440000 -\nend 1\n", SG_EMALFORMED, 3 },
		{ H D "cat tiktok 1774440000 - - -\nend 1\n", SG_EMALFORMED,
		    3 },
		{ H D "cat TikTok 1774440000 - -\nend 1\n", SG_EMALFORMED, 3 },
		{ H D "cat tiktok 1774440000 - -\ncat tiktok - - -\nend 1\n",
		    SG_EMALFORMED, 4 },
		{ H D "tries\nend 1\n", SG_EMALFORMED, 3 },
		{ H D "tries 1774440000\ntries 1774440001\nend 1\n",
		    SG_EMALFORMED, 4 },
		{ H D "tries 1774440000 x\nend 1\n", SG_EMALFORMED, 3 },
	};
	static const char nul[] = H "device a\0b 1774440000\nend 1\n";
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		refused(cases[i].text, strlen(cases[i].text), LATER,
		    cases[i].err, cases[i].line);
	/* A NUL inside a line. */
	refused(nul, sizeof(nul) - 1, LATER, SG_EMALFORMED, 2);
}

/* Counts past the limits: devices, tries, cat lines. */
Test(risk, state_counts_capped)
{
	char *text = malloc(RISK_STATE_FILE_MAX + 1);
	size_t left = RISK_STATE_FILE_MAX;
	int i, n;

	cr_assert_not_null(text);
	/* RISK_MAX_DEVICES + 1 devices. */
	n = snprintf(text, left, H);
	for (i = 0; i <= RISK_MAX_DEVICES; i++)
		n += snprintf(text + n, left - (size_t)n,
		    "device d%d 1774440000\n", i);
	n += snprintf(text + n, left - (size_t)n, "end %d\n", i);
	refused(text, (size_t)n, LATER, SG_ELIMIT, RISK_MAX_DEVICES + 2);
	/* Exactly RISK_MAX_DEVICES is fine. */
	{
		struct risk *r = engine_default();

		n = snprintf(text, left, H);
		for (i = 0; i < RISK_MAX_DEVICES; i++)
			n += snprintf(text + n, left - (size_t)n,
			    "device d%d 1774440000\n", i);
		n += snprintf(text + n, left - (size_t)n, "end %d\n", i);
		cr_expect_eq(risk_parse(r, text, (size_t)n, LATER, NULL,
		    NULL), RISK_MAX_DEVICES);
		risk_free(r);
	}
	/* RISK_REPEATED_MAX + 1 tries. */
	n = snprintf(text, left, H D "tries");
	for (i = 0; i <= RISK_REPEATED_MAX; i++)
		n += snprintf(text + n, left - (size_t)n, " %lld",
		    (long long)T0 + i);
	n += snprintf(text + n, left - (size_t)n, "\nend 1\n");
	refused(text, (size_t)n, LATER, SG_ELIMIT, 3);
	/* RISK_MAX_CATEGORIES + 1 cat lines (unknown names, each). */
	n = snprintf(text, left, H D);
	for (i = 0; i <= RISK_MAX_CATEGORIES; i++)
		n += snprintf(text + n, left - (size_t)n,
		    "cat gone-%d 1774440000 - -\n", i);
	n += snprintf(text + n, left - (size_t)n, "end 1\n");
	refused(text, (size_t)n, LATER, SG_ELIMIT, 3 + RISK_MAX_CATEGORIES);
	/* Larger than the limit, whatever it holds. */
	memset(text, '#', RISK_STATE_FILE_MAX + 1);
	{
		struct risk *r = engine_default();

		cr_expect_eq(risk_parse(r, text, RISK_STATE_FILE_MAX + 1,
		    LATER, NULL, NULL), -EFBIG);
		risk_free(r);
	}
	free(text);
}

/* Every cut of a whole file is refused, but the one that drops only the
   last newline. */
Test(risk, state_truncated_refused)
{
	struct risk *a = engine_with_state(), *r;
	char *text = state_text(a), *before, *after;
	size_t len = strlen(text), cut;
	struct bad e;
	int rc;

	r = engine_default();
	see(r, &(struct risk_obs){ .time = T0, .device = "zoe",
	    .action = ACTION_ALLOW });
	before = state_text(r);
	for (cut = 0; cut < len; cut++) {
		memset(&e, 0, sizeof(e));
		rc = risk_parse(r, text, cut, LATER, on_bad, &e);
		if (cut == len - 1) {
			cr_expect_eq(rc, 2);
			continue;
		}
		cr_expect_lt(rc, 0, "cut at %zu of %zu loaded", cut, len);
		cr_expect_eq(e.n, 1);
		after = state_text(r);
		cr_assert_str_eq(after, before, "cut at %zu changed state",
		    cut);
		free(after);
	}
	/* Only the last parse changed anything. */
	free(before);
	before = state_text(r);
	cr_expect_str_eq(before, text);
	free(before);
	free(text);
	risk_free(a);
	risk_free(r);
}

/* Times: RISK_STATE_SKEW past the clock at most; any, with no clock. */
Test(risk, state_times_against_the_clock)
{
	static const char text[] = H "device amy 1774440000\n"
	    "fired anon-chat 1774443600\nend 1\n";
	struct risk *r = engine_default();

	refused(text, strlen(text), 1774443600 - RISK_STATE_SKEW - 1, -ERANGE,
	    3);
	refused(text, strlen(text), T0 - 30 * DAY, -ERANGE, 2);
	cr_expect_eq(risk_parse(r, text, strlen(text),
	    1774443600 - RISK_STATE_SKEW, NULL, NULL), 1);
	/* A router whose clock is not set yet: only the lower bound. */
	cr_expect_eq(risk_parse(r, text, strlen(text), 0, NULL, NULL), 1);
	cr_expect_eq(risk_parse(r, text, strlen(text), RISK_TIME_MIN - 1,
	    NULL, NULL), 1);
	risk_free(r);
}

/* Comments, blank lines, CRLF and runs of blanks are read. */
Test(risk, state_lenient_whitespace)
{
	static const char text[] = H "# a comment\r\n\n   \n"
	    "\tdevice  amy\t1774440000  \r\n"
	    "  # indented comment\n"
	    "cat tiktok 1774440000 -\t-\r\n"
	    "end 1";
	struct risk *r = engine_default();

	cr_assert_eq(risk_parse(r, text, strlen(text), LATER, NULL, NULL), 1);
	expect(r, obs(T0 + 31 * DAY, "amy", ACTION_ALLOW, BIT(C_TIKTOK)),
	    "new-platform", true);	/* known, but 31 days unused */
	expect(r, obs(T0 + 31 * DAY, "amy", ACTION_ALLOW, BIT(C_TIKTOK)),
	    "new-platform", false);
	risk_free(r);
}

/* The file: atomic, mode 0600, missing is a fresh start, errors. */
Test(risk, state_save_and_load_files)
{
	struct risk *a = engine_with_state(), *b = engine_default();
	char path[128], *dir = state_dir(), *ta, *tb;
	struct stat st;
	struct bad e = { 0 };
	FILE *f;

	snprintf(path, sizeof(path), "%s/risk.state", dir);
	see(b, &(struct risk_obs){ .time = T0, .device = "zoe",
	    .action = ACTION_ALLOW });
	tb = state_text(b);
	/* Missing: 0 and nothing changes. */
	cr_expect_eq(risk_load(b, path, LATER, on_bad, &e), 0);
	cr_expect_eq(e.n, 0);
	ta = state_text(b);
	cr_expect_str_eq(ta, tb);
	free(ta);
	free(tb);

	cr_assert_eq(risk_save(a, path), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600);
	cr_expect_eq(risk_load(b, path, LATER, on_bad, &e), 2);
	ta = state_text(a);
	tb = state_text(b);
	cr_expect_str_eq(ta, tb, "zoe replaced by the file's devices");
	free(ta);
	free(tb);
	/* Saved again over the old file; no temporary file is left. */
	cr_assert_eq(risk_save(b, path), 0);
	cr_expect_eq(entries(dir), 1);

	/* Errors. */
	cr_expect_eq(risk_load(b, dir, LATER, NULL, NULL), -EISDIR);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(ftruncate(fileno(f), RISK_STATE_FILE_MAX + 1), 0);
	fclose(f);
	cr_expect_eq(risk_load(b, path, LATER, NULL, NULL), -EFBIG);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(H D "cat tiktok 1774440000\nend 1\n", f);
	fclose(f);
	memset(&e, 0, sizeof(e));
	cr_expect_eq(risk_load(b, path, LATER, on_bad, &e), SG_EMALFORMED);
	cr_expect_eq(e.line, 3);
	unlink(path);
	snprintf(path, sizeof(path), "%s/no/such/dir/risk.state", dir);
	cr_expect_eq(risk_save(a, path), -ENOENT);
	rmdir(dir);
	risk_free(a);
	risk_free(b);
}

/* The file holds keys, category and indicator names, and times: no word
   of it is anything else. */
Test(risk, state_holds_no_names)
{
	struct risk *r = engine_default();
	char *text, *line, *save = NULL, *w, *save2;
	struct risk_obs o;
	int i;

	for (i = 0; i < 200; i++) {
		o = obs(T0 + i * HOUR, i % 2 ? "amy" : "ben", i % 3 ?
		    ACTION_ALLOW : ACTION_BLOCK, BIT(i % C_N));
		o.confidential = i % C_N == C_ABUSE;
		o.bedtime = i % 5 == 0;
		o.profile_age = 12;
		see(r, &o);
	}
	text = state_text(r);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		for (w = strtok_r(line, " ", &save2), i = 0; w != NULL;
		    w = strtok_r(NULL, " ", &save2), i++) {
			bool ok = strspn(w, "0123456789") == strlen(w) ||
			    strcmp(w, "-") == 0 || strcmp(w, "amy") == 0 ||
			    strcmp(w, "ben") == 0 || risk_text(w) != NULL;
			size_t c;

			for (c = 0; c < C_N && !ok; c++)
				ok = strcmp(w, names[c]) == 0;
			if (i == 0)
				ok = ok || strcmp(w, "safegate-risk-state") ==
				    0 || strcmp(w, "device") == 0 ||
				    strcmp(w, "fired") == 0 ||
				    strcmp(w, "cat") == 0 ||
				    strcmp(w, "tries") == 0 ||
				    strcmp(w, "end") == 0;
			cr_expect(ok, "unexpected word \"%s\"", w);
		}
	}
	free(text);
	risk_free(r);
}

/* The fullest state the engine can hold (every device, long escaped keys,
   every category with a long name, every window, every try) fits
   RISK_STATE_FILE_MAX and comes back whole. */
Test(risk, state_largest_fits)
{
	struct config_risk rc = defaults();
	char *cats[RISK_MAX_CATEGORIES], key[RISK_KEY_MAX + 1], *text, *again;
	struct risk *r, *back;
	struct risk_obs o;
	size_t len, len2;
	int i, j;

	for (i = 0; i < RISK_MAX_CATEGORIES; i++) {
		cats[i] = strdup("category-00-xxxxxxxxxxxxxxxxxxxx");
		cr_assert_not_null(cats[i]);
		cats[i][9] = (char)('0' + i / 10);
		cats[i][10] = (char)('0' + i % 10);
		cr_assert_eq(strlen(cats[i]), CONFIG_NAME_MAX);
	}
	rc.messaging_mask = UINT64_MAX & ~BIT(0);
	rc.anon_chat_mask = BIT(1);
	rc.repeated_mask = BIT(0);
	rc.repeated_count = RISK_REPEATED_MAX;
	r = risk_new(&rc, cats, RISK_MAX_CATEGORIES, BIT(2));
	cr_assert_not_null(r);
	for (i = 0; i < RISK_MAX_DEVICES; i++) {
		/* "0000042 " and escaped bytes, unique */
		memset(key, 0x80 + i % 64, RISK_KEY_MAX);
		for (j = 0; j < 7; j++)
			key[j] = (char)('0' + (i >> (3 * (6 - j)) & 7));
		key[7] = ' ';
		key[RISK_KEY_MAX] = '\0';
		o = obs(T0, key, ACTION_ALLOW, UINT64_MAX & ~BIT(0));
		see(r, &o);
		o.time = T0 + 31 * DAY;
		o.bedtime = true;
		o.kind = RISK_DOT;
		o.confidential = true;
		see(r, &o);
		for (j = 0; j < RISK_REPEATED_MAX; j++)
			see(r, &(struct risk_obs){ .time = T0 + 32 * DAY +
			    j * 3, .device = key, .action = ACTION_BLOCK,
			    .matched = BIT(0) });
	}
	cr_assert_eq(risk_format(r, &text, &len), 0);
	cr_expect_leq(len, RISK_STATE_FILE_MAX);
	cr_expect_gt(len, RISK_STATE_FILE_MAX / 2, "%zu bytes", len);
	back = risk_new(&rc, cats, RISK_MAX_CATEGORIES, BIT(2));
	cr_assert_not_null(back);
	cr_assert_eq(risk_parse(back, text, len, LATER, NULL, NULL),
	    RISK_MAX_DEVICES);
	cr_assert_eq(risk_format(back, &again, &len2), 0);
	cr_expect_eq(len2, len);
	cr_expect(memcmp(again, text, len) == 0);
	free(text);
	free(again);
	for (i = 0; i < RISK_MAX_CATEGORIES; i++)
		free(cats[i]);
	risk_free(r);
	risk_free(back);
}
