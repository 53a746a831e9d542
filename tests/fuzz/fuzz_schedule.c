/*
 * fuzz_schedule.c - schedule_parse() on anything, and what follows from a
 * schedule that parses.
 *
 * Any bytes either parse or give a documented code with a reason and a
 * column inside the text (+1 for the end).  A schedule that parses prints
 * to text that parses back to the same schedule, and, in Europe/London
 * across both 2026 DST changes, next_change() walks forward: every answer
 * is > now or SCHEDULE_NEVER, the state holds up to the second before it
 * and differs at it.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schedule.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Start points: a plain week, and the nights before each DST change. */
static const time_t starts[] = {
	1772409600,	/* 2026-03-02 00:00 UTC, a Monday */
	1774656000,	/* 2026-03-28 00:00 UTC */
	1792800000,	/* 2026-10-24 00:00 UTC */
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool zone_set;
	struct schedule s, s2;
	struct schedule_error e = { NULL, 0 };
	char buf[SCHEDULE_FORMAT_MAX];
	time_t t, nc;
	size_t i, k;
	bool a;
	int rc, n;

	if (!zone_set) {
		setenv("TZ", "Europe/London", 1);
		tzset();
		zone_set = true;
	}
	rc = schedule_parse(&s, (const char *)data, size, &e);
	if (rc != 0) {
		assert(rc == SG_EMALFORMED || rc == SG_ELIMIT);
		assert(e.reason != NULL && e.reason[0] != '\0');
		assert(e.column >= 1 && e.column <= size + 1);
		assert(s.n == 0);
		return 0;
	}
	assert(s.n >= 1 && s.n <= SCHEDULE_WINDOWS_MAX);
	n = schedule_format(&s, buf, sizeof(buf));
	assert(n > 0 && (size_t)n == strlen(buf));
	assert(schedule_parse(&s2, buf, (size_t)n, NULL) == 0);
	assert(memcmp(&s, &s2, sizeof(s)) == 0);

	for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		/* The first bytes pick an offset into the day, so starts fall
		   between edges too. */
		t = starts[i] + (time_t)((size > i ? data[i] : 0) * 337);
		for (k = 0; k < 12; k++) {
			a = schedule_active(&s, t);
			nc = schedule_next_change(&s, t);
			assert(nc == SCHEDULE_NEVER || nc > t);
			if (nc == SCHEDULE_NEVER)
				break;
			assert(nc - t <= SCHEDULE_HORIZON + 3 * 3600);
			assert(schedule_active(&s, nc - 1) == a);
			assert(schedule_active(&s, nc) != a);
			t = nc;
		}
	}
	return 0;
}
