/*
 * fuzz_riskstate.c - risk_parse() (the grooming-risk state file safegated
 * reads at start) on anything, into an engine that already holds state.
 *
 * A file is taken whole or not at all: on error exactly one reason is
 * reported, with a line number within the input, and the engine's state
 * is as it was, byte for byte of its text.  On success the engine holds
 * what risk_parse() returned, at most RISK_MAX_DEVICES devices; its text
 * is within RISK_STATE_FILE_MAX, parses back into a fresh engine without
 * a complaint and formats to the same text again.  The loaded engine then
 * takes observations (ASan watches the ring of tries and the windows).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "risk.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NOW	((time_t)1780000000)	/* 2026-05-28 20:26:40 UTC */
#define BIT(c)	(UINT64_C(1) << (c))

/* A config's categories; watched ones as in tests/unit/test_risk.c. */
static char *names[] = {
	"adult", "anon-chat", "doh", "abuse", "tiktok", "discord",
	"telegram", "social",
};
#define NNAMES	(sizeof(names) / sizeof(names[0]))

struct seen {
	size_t	n;
	size_t	line;
};

static void
on_bad(void *arg, size_t line, const char *reason)
{
	struct seen *s = arg;

	assert(reason != NULL && reason[0] != '\0');
	s->n++;
	s->line = line;
}

static size_t
lines_in(const uint8_t *data, size_t size)
{
	size_t n = 0, i;

	for (i = 0; i < size; i++)
		if (data[i] == '\n')
			n++;
	return n + (size > 0 && data[size - 1] != '\n');
}

static struct risk *
engine(void)
{
	static const struct config_risk rc = {
		.anon_chat = { true, 3600 },
		.late_night = { true, 3600 },
		.first_seen = { true, 86400 },
		.bypass = { true, 3600 },
		.repeated = { true, 3600 },
		.age = { true, 86400 },
		.abuse = { true, 0 },
		.first_seen_days = 30,
		.repeated_count = 5,
		.repeated_minutes = 10,
		.anon_chat_mask = BIT(1),
		.messaging_mask = BIT(4) | BIT(5) | BIT(6) | BIT(7),
		.repeated_mask = BIT(0),
	};
	struct risk *r = risk_new(&rc, names, NNAMES, BIT(3));

	if (r == NULL)
		abort();
	return r;
}

static char *
text_of(const struct risk *r, size_t *len)
{
	char *t;

	if (risk_format(r, &t, len) != 0)
		abort();
	assert(*len <= RISK_STATE_FILE_MAX && strlen(t) == *len);
	return t;
}

static void
observe(struct risk *r, const char *key, time_t t, enum action a,
    uint64_t matched, unsigned age)
{
	struct risk_fire f[RISK_NINDICATORS];
	struct risk_obs o = {
		.time = t, .device = key, .profile_age = age, .action = a,
		.matched = matched, .bedtime = true,
	};

	(void)risk_observe(r, &o, f, RISK_NINDICATORS);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *keys[] = { "amy", "ben", "02:00:00:00:00:01",
	    "fd00::20", "a b" };
	struct risk *r, *back;
	struct risk_stats st;
	struct seen s = { 0, 0 };
	char *before, *after, *again;
	size_t lb, la, lg, i;
	int n, m;

	r = engine();
	observe(r, "amy", NOW - 3600, ACTION_ALLOW, BIT(1) | BIT(4), 10);
	observe(r, "zoe", NOW - 60, ACTION_BLOCK, BIT(0), 0);
	before = text_of(r, &lb);

	n = risk_parse(r, data, size, NOW, on_bad, &s);
	after = text_of(r, &la);
	risk_stats(r, &st);
	if (n < 0) {
		assert(s.n == 1);
		assert(s.line >= 1 && s.line <= lines_in(data, size) + 1);
		assert(la == lb && memcmp(after, before, la) == 0);
		assert(st.devices == 2);
	} else {
		assert(s.n == 0);
		assert((size_t)n == st.devices && n <= RISK_MAX_DEVICES);
		back = engine();
		m = risk_parse(back, after, la, NOW, on_bad, &s);
		assert(m == n && s.n == 0);
		again = text_of(back, &lg);
		assert(lg == la && memcmp(again, after, la) == 0);
		free(again);
		risk_free(back);
	}
	/* The loaded (or kept) state goes on working. */
	for (i = 0; i < 40; i++)
		observe(r, keys[i % 5], NOW + (time_t)i * 7200,
		    i % 3 ? ACTION_ALLOW : ACTION_BLOCK,
		    BIT(i % NNAMES) | BIT((i * 5) % NNAMES), 12);
	free(before);
	free(after);
	risk_free(r);
	return 0;
}
