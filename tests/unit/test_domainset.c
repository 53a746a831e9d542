/*
 * test_domainset.c - the domain set against a matcher that is obviously
 * right: a sorted array of names, asked about every suffix with bsearch.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domainset.h"

/* ---------------------------------------------------------------- helpers */

static struct domainset *
build(const char *const *names, const unsigned *cats, size_t n)
{
	struct domainset_builder *b = domainset_builder_new();
	struct domainset *s;
	size_t i;

	cr_assert_not_null(b);
	for (i = 0; i < n; i++)
		cr_assert_geq(domainset_builder_add(b, names[i],
		    strlen(names[i]), cats != NULL ? cats[i] : 0), 0);
	s = domainset_builder_finish(b);
	cr_assert_not_null(s);
	return s;
}

/* Looks name up; returns the rule as a string ("" if none) in buf. */
static bool
look(const struct domainset *s, const char *name, uint64_t *cats,
    char *buf, size_t len)
{
	struct domainset_match m;
	bool found;

	memset(&m, 0xa5, sizeof(m));
	found = domainset_lookup(s, name, strlen(name), &m);
	if (!found) {
		cr_assert_eq(m.categories, 0);
		cr_assert_null(m.rule);
		cr_assert_eq(m.rule_len, 0);
		buf[0] = '\0';
	} else {
		cr_assert_not_null(m.rule);
		cr_assert_lt(m.rule_len, len);
		memcpy(buf, m.rule, m.rule_len);
		buf[m.rule_len] = '\0';
	}
	if (cats != NULL)
		*cats = m.categories;
	return found;
}

static void
expect(const struct domainset *s, const char *name, const char *rule,
    uint64_t cats)
{
	char buf[300];
	uint64_t got;
	bool found = look(s, name, &got, buf, sizeof(buf));

	if (rule == NULL) {
		cr_expect(!found, "%s: matched %s, expected no match", name,
		    buf);
		return;
	}
	cr_expect(found, "%s: no match, expected %s", name, rule);
	cr_expect_str_eq(buf, rule, "%s: rule %s, expected %s", name, buf,
	    rule);
	cr_expect_eq(got, cats, "%s: categories %#llx, expected %#llx", name,
	    (unsigned long long)got, (unsigned long long)cats);
}

/* ---------------------------------------------------------------- basics */

Test(domainset, parent_matches_children_not_siblings)
{
	static const char *const names[] = { "example.com" };
	struct domainset *s = build(names, NULL, 1);

	expect(s, "example.com", "example.com", 1);
	expect(s, "www.example.com", "example.com", 1);
	expect(s, "a.b.c.example.com", "example.com", 1);
	expect(s, "xexample.com", NULL, 0);
	expect(s, "badexample.com", NULL, 0);
	expect(s, "example.co", NULL, 0);
	expect(s, "example.comm", NULL, 0);
	expect(s, "example.com.evil.test", NULL, 0);
	expect(s, "com", NULL, 0);
	expect(s, "example.net", NULL, 0);
	expect(s, "", NULL, 0);
	cr_expect_eq(domainset_count(s), 1);
	domainset_free(s);
}

Test(domainset, child_does_not_match_parent)
{
	static const char *const names[] = { "www.example.com" };
	struct domainset *s = build(names, NULL, 1);

	expect(s, "example.com", NULL, 0);
	expect(s, "www.example.com", "www.example.com", 1);
	expect(s, "a.www.example.com", "www.example.com", 1);
	expect(s, "wwww.example.com", NULL, 0);
	domainset_free(s);
}

Test(domainset, categories_unite_rule_is_most_specific)
{
	static const char *const names[] = { "example.com",
	    "www.example.com", "a.www.example.com", "example.net" };
	static const unsigned cats[] = { 0, 5, 63, 7 };
	struct domainset *s = build(names, cats, 4);
	const uint64_t c0 = 1, c5 = 1 << 5, c63 = (uint64_t)1 << 63;

	expect(s, "example.com", "example.com", c0);
	expect(s, "b.example.com", "example.com", c0);
	expect(s, "www.example.com", "www.example.com", c0 | c5);
	expect(s, "x.www.example.com", "www.example.com", c0 | c5);
	expect(s, "a.www.example.com", "a.www.example.com", c0 | c5 | c63);
	expect(s, "z.y.a.www.example.com", "a.www.example.com",
	    c0 | c5 | c63);
	expect(s, "www.example.net", "example.net", 1 << 7);
	domainset_free(s);
}

Test(domainset, duplicates_unite_categories)
{
	struct domainset_builder *b = domainset_builder_new();
	struct domainset *s;

	cr_assert_eq(domainset_builder_add(b, "example.com", 11, 1), 1);
	cr_assert_eq(domainset_builder_add(b, "example.com", 11, 1), 0);
	cr_assert_eq(domainset_builder_add(b, "example.com", 11, 2), 0);
	cr_assert_eq(domainset_builder_add(b, "example.org", 11, 2), 1);
	s = domainset_builder_finish(b);
	cr_expect_eq(domainset_count(s), 2);
	expect(s, "www.example.com", "example.com", 6);
	domainset_free(s);
}

Test(domainset, add_rejects)
{
	struct domainset_builder *b = domainset_builder_new();
	char longname[300];

	memset(longname, 'a', sizeof(longname));
	cr_expect_eq(domainset_builder_add(b, "", 0, 0), SG_EMALFORMED);
	cr_expect_eq(domainset_builder_add(b, longname, 254, 0),
	    SG_EMALFORMED);
	cr_expect_eq(domainset_builder_add(b, longname, 253, 0), 1);
	cr_expect_eq(domainset_builder_add(b, "example.com", 11, 64),
	    SG_ELIMIT);
	cr_expect_eq(domainset_builder_add(b, "example.com", 11, 63), 1);
	domainset_builder_free(b);
}

Test(domainset, empty_set)
{
	struct domainset *s = domainset_builder_finish(domainset_builder_new());
	struct domainset_match m;

	cr_assert_not_null(s);
	cr_expect_eq(domainset_count(s), 0);
	cr_expect_gt(domainset_bytes(s), 0);
	cr_expect(!domainset_lookup(s, "example.com", 11, &m));
	cr_expect(!domainset_lookup(s, "example.com", 11, NULL));
	cr_expect(!domainset_lookup(s, "", 0, &m));
	domainset_free(s);
	domainset_free(NULL);
	domainset_builder_free(NULL);
}

Test(domainset, lookup_takes_a_length_not_a_nul)
{
	static const char *const names[] = { "example.com" };
	struct domainset *s = build(names, NULL, 1);
	struct domainset_match m;

	cr_expect(domainset_lookup(s, "www.example.comXXX", 15, &m));
	cr_expect_eq(m.rule_len, 11);
	cr_expect(!domainset_lookup(s, "www.example.co", 14, &m));
	cr_expect(domainset_lookup(s, "a\0b.example.com", 15, &m));
	cr_expect(!domainset_lookup(s, "example.com\0", 12, &m));
	domainset_free(s);
}

Test(domainset, odd_names_do_not_confuse_lookups)
{
	static const char *const names[] = { "example.com", "com" };
	struct domainset *s = build(names, NULL, 2);

	/* Not normalised, but lookups must stay bounded and sane. */
	expect(s, ".example.com", "example.com", 1);
	expect(s, "a..example.com", "example.com", 1);
	expect(s, "example.com.", NULL, 0);
	expect(s, ".", NULL, 0);
	expect(s, "..", NULL, 0);
	expect(s, "anything.com", "com", 1);
	expect(s, "com", "com", 1);
	expect(s, "net", NULL, 0);
	domainset_free(s);
}

Test(domainset, single_label_entry_lists_a_tld)
{
	static const char *const names[] = { "test" };
	struct domainset *s = build(names, NULL, 1);

	expect(s, "a.b.test", "test", 1);
	expect(s, "test", "test", 1);
	expect(s, "testx", NULL, 0);
	domainset_free(s);
}

Test(domainset, many_labels)
{
	char name[300], q[310];
	struct domainset *s;
	const char *names[1];
	size_t i;

	/* 100 labels: past the 63 the label-count map tells apart. */
	for (i = 0; i < 100; i++) {
		name[2 * i] = (char)('a' + i % 26);
		name[2 * i + 1] = '.';
	}
	name[199] = '\0';
	names[0] = name;
	s = build(names, NULL, 1);
	snprintf(q, sizeof(q), "x.%s", name);
	expect(s, q, name, 1);
	expect(s, name, name, 1);
	expect(s, name + 2, NULL, 0);
	domainset_free(s);
}

Test(domainset, long_names)
{
	char name[254], q[300];
	const char *names[1];
	struct domainset *s;

	/* 253 bytes: 63 + 1 + 63 + 1 + 63 + 1 + 61. */
	memset(name, 'a', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	names[0] = name;
	s = build(names, NULL, 1);
	expect(s, name, name, 1);
	snprintf(q, sizeof(q), "www.%s", name);
	expect(s, q, name, 1);
	domainset_free(s);
}

Test(domainset, grows_and_keeps_every_name)
{
	struct domainset_builder *b = domainset_builder_new();
	struct domainset *s;
	char name[64];
	size_t i, n = 200000;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "h%zu.example.com", i);
		cr_assert_eq(domainset_builder_add(b, name, strlen(name),
		    (unsigned)(i % 64)), 1);
	}
	s = domainset_builder_finish(b);
	cr_assert_eq(domainset_count(s), n);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "www.h%zu.example.com", i);
		expect(s, name, name + 4, (uint64_t)1 << (i % 64));
	}
	expect(s, "h200000.example.com", NULL, 0);
	/* No per-name allocation: well under 64 bytes a name. */
	cr_expect_lt(domainset_bytes(s), n * 64);
	domainset_free(s);
}

/* ---------------------------------------------------------------- property */

struct ref_entry {
	char		*name;
	uint64_t	 cats;
};

struct ref {
	struct ref_entry *e;
	size_t		 n;
};

static int
ref_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ref_entry *)a)->name,
	    ((const struct ref_entry *)b)->name);
}

/* Sorts, then merges duplicates' categories. */
static void
ref_finish(struct ref *r)
{
	size_t i, j = 0;

	qsort(r->e, r->n, sizeof(*r->e), ref_cmp);
	for (i = 0; i < r->n; i++) {
		if (j > 0 && strcmp(r->e[j - 1].name, r->e[i].name) == 0) {
			r->e[j - 1].cats |= r->e[i].cats;
			free(r->e[i].name);
		} else
			r->e[j++] = r->e[i];
	}
	r->n = j;
}

/* Every suffix of name at a label boundary, longest first. */
static bool
ref_lookup(const struct ref *r, const char *name, uint64_t *cats,
    const char **rule)
{
	struct ref_entry key, *hit;
	const char *p = name;

	*cats = 0;
	*rule = NULL;
	for (;;) {
		key.name = (char *)p;
		hit = bsearch(&key, r->e, r->n, sizeof(*r->e), ref_cmp);
		if (hit != NULL) {
			*cats |= hit->cats;
			if (*rule == NULL)
				*rule = hit->name;
		}
		if ((p = strchr(p, '.')) == NULL)
			break;
		p++;
	}
	return *rule != NULL;
}

static uint64_t rng_state = 0x243f6a8885a308d3ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A small alphabet and few labels, so names share suffixes often. */
static void
random_name(char *buf, size_t len)
{
	static const char *const tlds[] = { "com", "net", "test", "a" };
	static const char *const words[] = { "a", "b", "ab", "ba", "example",
	    "xexample", "www", "c-d", "x_y" };
	size_t n = 1 + rng() % 4, i, off;

	off = (size_t)snprintf(buf, len, "%s", tlds[rng() % 4]);
	for (i = 0; i < n; i++) {
		char tmp[300];

		if (rng() % 3 == 0)
			snprintf(tmp, sizeof(tmp), "%c%s",
			    (char)('a' + rng() % 3), buf);
		else
			snprintf(tmp, sizeof(tmp), "%s.%s",
			    words[rng() % 9], buf);
		off = (size_t)snprintf(buf, len, "%s", tmp);
	}
	(void)off;
}

/* A query near a listed name: a child, a parent, or a lookalike. */
static void
random_query(const struct ref *r, char *buf, size_t len)
{
	const char *base, *dot;
	char tmp[300];

	if (r->n == 0 || rng() % 4 == 0) {
		random_name(buf, len);
		return;
	}
	base = r->e[rng() % r->n].name;
	switch (rng() % 5) {
	case 0:		/* the name itself */
		snprintf(buf, len, "%s", base);
		break;
	case 1:		/* a child */
		random_name(tmp, sizeof(tmp));
		dot = strchr(tmp, '.');
		snprintf(buf, len, "%.*s.%s",
		    dot != NULL ? (int)(dot - tmp) : (int)strlen(tmp), tmp,
		    base);
		break;
	case 2:		/* a parent */
		dot = strchr(base, '.');
		snprintf(buf, len, "%s", dot != NULL ? dot + 1 : base);
		break;
	case 3:		/* a lookalike: "x" glued to the first label */
		snprintf(buf, len, "x%s", base);
		break;
	default:	/* one byte changed */
		snprintf(buf, len, "%s", base);
		buf[rng() % strlen(buf)] = (char)("abx.-"[rng() % 5]);
		break;
	}
}

static void
property_run(size_t nnames, size_t nqueries, uint64_t seed)
{
	struct domainset_builder *b = domainset_builder_new();
	struct domainset *s;
	struct ref r;
	struct domainset_match m;
	char name[300];
	const char *rrule;
	uint64_t rcats;
	size_t i, hits = 0, nn;
	unsigned cat;
	bool rfound, found;

	rng_state = seed;
	r.e = calloc(nnames, sizeof(*r.e));
	r.n = 0;
	for (i = 0; i < nnames; i++) {
		random_name(name, sizeof(name));
		cat = (unsigned)(rng() % 64);
		cr_assert_geq(domainset_builder_add(b, name, strlen(name), cat),
		    0);
		r.e[r.n].name = strdup(name);
		r.e[r.n++].cats = (uint64_t)1 << cat;
	}
	ref_finish(&r);
	s = domainset_builder_finish(b);
	cr_assert_eq(domainset_count(s), r.n);

	for (i = 0; i < nqueries; i++) {
		random_query(&r, name, sizeof(name));
		nn = strlen(name);
		rfound = ref_lookup(&r, name, &rcats, &rrule);
		found = domainset_lookup(s, name, nn, &m);
		cr_assert_eq(found, rfound, "%s: found %d, reference %d", name,
		    found, rfound);
		if (!found)
			continue;
		hits++;
		cr_assert_eq(m.categories, rcats, "%s: %#llx, reference %#llx",
		    name, (unsigned long long)m.categories,
		    (unsigned long long)rcats);
		cr_assert(m.rule_len == strlen(rrule) &&
		    memcmp(m.rule, rrule, m.rule_len) == 0,
		    "%s: rule %.*s, reference %s", name, (int)m.rule_len,
		    m.rule, rrule);
	}
	/* The queries must exercise both answers. */
	cr_expect_gt(hits, nqueries / 10);
	cr_expect_lt(hits, nqueries - nqueries / 10);

	for (i = 0; i < r.n; i++)
		free(r.e[i].name);
	free(r.e);
	domainset_free(s);
}

Test(domainset, property_against_reference)
{
	property_run(3000, 100000, 0x243f6a8885a308d3ULL);
}

Test(domainset, property_small_sets)
{
	uint64_t seed;

	for (seed = 1; seed <= 20; seed++)
		property_run(1 + seed * 7, 5000, seed * 0x9e3779b97f4a7c15ULL);
}
