/*
 * fuzz_overrides.c - overrides_parse() (the state file safegated reads at
 * start) on anything, and safegatectl's duration and local-time parsers on
 * the same bytes.
 *
 * Every line is taken, skipped as a comment, blank or expired, or reported
 * with a static reason and a line number that only goes up; never more
 * entries than lines, nor than OVERRIDES_MAX.  Every live entry has a key
 * and a name that normalise to themselves, an until after now, and is
 * found by the readers under its own key.  The table formats to text that
 * parses back to the same entries.  A duration that parses is in (0, 30
 * days] and formats back to itself; a time that parses is on a minute.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "overrides.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NOW	((time_t)1774440000)	/* 2026-03-25 12:00 UTC */

struct seen {
	size_t	last_line;
	size_t	bad;
};

static void
on_bad(void *arg, size_t line, const char *reason)
{
	struct seen *s = arg;

	assert(line > s->last_line && reason != NULL && reason[0] != '\0');
	s->last_line = line;
	s->bad++;
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

static void
check_entries(const struct overrides *ov, struct overrides_entry *e,
    size_t n)
{
	char key[OVERRIDES_KEY_MAX + 1], name[DNS_TEXT_MAX + 1];
	const char *keys[1], *why;
	time_t until;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		assert(e[i].kind == OVERRIDES_PAUSE ||
		    e[i].kind == OVERRIDES_ALLOW);
		assert(e[i].until > NOW);
		k = overrides_key_normalize(e[i].key, strlen(e[i].key), key);
		assert(k > 0 && strcmp(key, e[i].key) == 0);
		keys[0] = e[i].key;
		if (e[i].kind == OVERRIDES_PAUSE) {
			assert(e[i].name[0] == '\0');
			assert(overrides_paused(ov, keys, 1, NOW, &until));
			assert(until >= e[i].until);
			continue;
		}
		k = overrides_name_normalize(e[i].name, strlen(e[i].name),
		    name, &why);
		assert(k > 0 && strcmp(name, e[i].name) == 0);
		assert(overrides_allowed(ov, keys, 1, e[i].name,
		    strlen(e[i].name), NOW, &until));
		assert(until >= e[i].until);
	}
}

static void
check_words(const uint8_t *data, size_t size)
{
	char s[64], back[32];
	const char *why;
	struct tm tm;
	time_t t, t2;

	if (size >= sizeof(s))
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	why = NULL;
	if (overrides_parse_duration(s, &t, &why) == 0) {
		assert(t > 0 && t <= OVERRIDES_SPAN_MAX);
		overrides_format_duration(t, back, sizeof(back));
		assert(overrides_parse_duration(back, &t2, &why) == 0);
		assert(t2 == t);
	} else
		assert(why != NULL && why[0] != '\0');
	why = NULL;
	if (overrides_parse_at(s, NOW, &t, &why) == 0) {
		assert(localtime_r(&t, &tm) != NULL && tm.tm_sec == 0);
	} else
		assert(why != NULL && why[0] != '\0');
	(void)overrides_parse_epoch(s, &t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct overrides_entry a[OVERRIDES_MAX], b[OVERRIDES_MAX];
	static char text[OVERRIDES_FORMAT_MAX];
	static bool zone_set;
	struct overrides *ov, *back;
	struct seen s = { 0, 0 };
	size_t na, nb, i;
	int taken, n;

	if (!zone_set) {
		setenv("TZ", "Europe/London", 1);
		tzset();
		zone_set = true;
	}
	check_words(data, size);
	if ((ov = overrides_new()) == NULL || (back = overrides_new()) ==
	    NULL)
		abort();
	taken = overrides_parse(ov, data, size, NOW, on_bad, &s);
	assert(taken >= 0);
	assert((size_t)taken + s.bad <= lines_in(data, size));
	na = overrides_list(ov, NOW, a, OVERRIDES_MAX);
	assert(na <= (size_t)taken && na == overrides_count(ov, NOW));
	check_entries(ov, a, na);

	n = overrides_format(ov, NOW, text, sizeof(text));
	assert(n >= 0 && (size_t)n < sizeof(text) && (size_t)n ==
	    strlen(text));
	memset(&s, 0, sizeof(s));
	assert(overrides_parse(back, text, (size_t)n, NOW, on_bad, &s) ==
	    (int)na);
	assert(s.bad == 0);
	nb = overrides_list(back, NOW, b, OVERRIDES_MAX);
	assert(nb == na);
	for (i = 0; i < na; i++)
		assert(a[i].kind == b[i].kind && a[i].until == b[i].until &&
		    strcmp(a[i].key, b[i].key) == 0 &&
		    strcmp(a[i].name, b[i].name) == 0);

	/* Everything expires (untils have at most 12 digits); prune takes
	   every slot back. */
	(void)overrides_prune(ov, (time_t)10000000000000LL);
	assert(overrides_empty(ov));
	overrides_free(ov);
	overrides_free(back);
	return 0;
}
