/*
 * sets.h - a compiled domain set in memory for tests: each entry puts one
 * name in one category (declared in order of first use) through a list of
 * its own, labelled with the category's name.  A confidential entry is
 * added as the SHA-256 of its name, as `safegate-lists` would from a
 * hashed list.
 */
#ifndef SG_TEST_SETS_H
#define SG_TEST_SETS_H

#include <stdbool.h>
#include <stddef.h>

struct sgdb;

struct test_entry {
	const char	*name;
	const char	*category;
	bool		 confidential;
};

struct sgdb *test_set(const struct test_entry *, size_t n);

#endif
