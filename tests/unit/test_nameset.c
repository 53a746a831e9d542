/*
 * test_nameset.c - allow and deny name sets: suffix matching, the most
 * specific entry, deny over allow on a tie.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "nameset.h"

static struct nameset *
build(const char *const *allow, const char *const *deny)
{
	struct nameset *ns = nameset_new();

	cr_assert_not_null(ns);
	for (; allow != NULL && *allow != NULL; allow++)
		cr_assert_eq(nameset_add(ns, *allow, strlen(*allow),
		    NAMESET_ALLOW), 0);
	for (; deny != NULL && *deny != NULL; deny++)
		cr_assert_eq(nameset_add(ns, *deny, strlen(*deny),
		    NAMESET_DENY), 0);
	nameset_seal(ns);
	return ns;
}

/* The tag that decides name, or 0; and the entry in *entry. */
static unsigned
tag(const struct nameset *ns, const char *name, const char **entry)
{
	struct nameset_match m;

	if (!nameset_lookup(ns, name, strlen(name), &m))
		return 0;
	if (entry != NULL)
		*entry = m.entry;
	return m.tag;
}

Test(nameset, suffixes_not_substrings)
{
	const char *const allow[] = { "example.test", NULL };
	struct nameset *ns = build(allow, NULL);

	cr_assert_eq(tag(ns, "example.test", NULL), NAMESET_ALLOW);
	cr_assert_eq(tag(ns, "www.example.test", NULL), NAMESET_ALLOW);
	cr_assert_eq(tag(ns, "a.b.c.example.test", NULL), NAMESET_ALLOW);
	cr_assert_eq(tag(ns, "notexample.test", NULL), 0);
	cr_assert_eq(tag(ns, "example.test.evil.invalid", NULL), 0);
	cr_assert_eq(tag(ns, "test", NULL), 0);
	cr_assert_eq(tag(ns, "", NULL), 0);
	cr_assert_eq(tag(ns, "xample.test", NULL), 0);
	nameset_free(ns);
}

Test(nameset, most_specific_wins)
{
	const char *const allow[] = { "school.example", "ok.bad.example",
	    NULL };
	const char *const deny[] = { "games.school.example", "bad.example",
	    NULL };
	struct nameset *ns = build(allow, deny);
	const char *e = NULL;

	cr_assert_eq(tag(ns, "www.school.example", &e), NAMESET_ALLOW);
	cr_assert_str_eq(e, "school.example");
	cr_assert_eq(tag(ns, "x.games.school.example", &e), NAMESET_DENY);
	cr_assert_str_eq(e, "games.school.example");
	cr_assert_eq(tag(ns, "bad.example", NULL), NAMESET_DENY);
	cr_assert_eq(tag(ns, "www.ok.bad.example", &e), NAMESET_ALLOW);
	cr_assert_str_eq(e, "ok.bad.example");
	nameset_free(ns);
}

Test(nameset, deny_beats_allow_on_the_same_name)
{
	const char *const allow[] = { "both.example", "both.example", NULL };
	const char *const deny[] = { "both.example", NULL };
	struct nameset *ns = build(allow, deny);

	cr_assert_eq(nameset_count(ns), 1);
	cr_assert_eq(tag(ns, "www.both.example", NULL), NAMESET_DENY);
	nameset_free(ns);
}

Test(nameset, empty_and_null_sets_hold_nothing)
{
	struct nameset *ns = build(NULL, NULL);
	struct nameset_match m;

	cr_assert_eq(tag(ns, "example.test", NULL), 0);
	cr_assert_not(nameset_lookup(NULL, "example.test", 12, &m));
	nameset_free(ns);
	nameset_free(NULL);
}

Test(nameset, bad_names_are_refused)
{
	struct nameset *ns = nameset_new();
	char longname[300];

	memset(longname, 'a', sizeof(longname));
	cr_assert_eq(nameset_add(ns, "", 0, NAMESET_ALLOW), -EINVAL);
	cr_assert_eq(nameset_add(ns, longname, 254, NAMESET_ALLOW), -EINVAL);
	cr_assert_eq(nameset_add(ns, longname, 253, NAMESET_ALLOW), 0);
	nameset_seal(ns);
	cr_assert_eq(nameset_add(ns, "late.example", 12, NAMESET_ALLOW),
	    -EINVAL);
	nameset_free(ns);
}

/* A name given with its length, not its NUL: bytes past len never count. */
Test(nameset, length_bounds_the_name)
{
	const char *const allow[] = { "example.test", NULL };
	struct nameset *ns = build(allow, NULL);
	struct nameset_match m;

	cr_assert(nameset_lookup(ns, "www.example.testXYZ", 16, &m));
	cr_assert_not(nameset_lookup(ns, "www.example.tes", 15, &m));
	nameset_free(ns);
}

/* Many entries: every one is found, through its subdomain too. */
Test(nameset, many_entries)
{
	struct nameset *ns = nameset_new();
	char name[64];
	int i;

	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "n%d.example", i * 7);
		cr_assert_eq(nameset_add(ns, name, strlen(name),
		    i % 2 ? NAMESET_DENY : NAMESET_ALLOW), 0);
	}
	nameset_seal(ns);
	cr_assert_eq(nameset_count(ns), 2000);
	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "www.n%d.example", i * 7);
		cr_assert_eq(tag(ns, name, NULL), i % 2 ? NAMESET_DENY :
		    NAMESET_ALLOW, "%s", name);
		snprintf(name, sizeof(name), "n%d.example", i * 7 + 1);
		cr_assert_eq(tag(ns, name, NULL), 0, "%s", name);
	}
	nameset_free(ns);
}
