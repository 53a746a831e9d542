/*
 * nameset.h - small sets of names that cover their subdomains: a
 * profile's allow and deny lists, always_allow and the help routes.
 *
 * A set is built once (at config load), then read-only: any number of
 * threads may look names up.  Each name carries a tag (NAMESET_ALLOW,
 * NAMESET_DENY, ...); when the same name is added with two tags the
 * larger tag is kept, so deny beats allow for an equal name.
 *
 * A lookup tries the name itself, then each parent (after each dot), and
 * returns the first entry found: the most specific.  "example.test"
 * covers "www.example.test", never "notexample.test".  Names are compared
 * as bytes: the caller gives them normalised (lower case, no trailing
 * dot), as lists_normalize() and dns_parse() do.  The entries are kept
 * sorted, so each try is a binary search: a lookup of a name of L labels
 * in a set of N costs L * log2(N) comparisons, no allocation.
 */
#ifndef SG_NAMESET_H
#define SG_NAMESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum nameset_tag {
	NAMESET_ALLOW = 1,
	NAMESET_DENY = 2,
};

struct nameset;

struct nameset *nameset_new(void);	/* NULL and errno on failure */
void	nameset_free(struct nameset *);

/* Adds a name (copied).  0, -ENOMEM, or -EINVAL for an empty name or one
 * longer than 253 bytes.  Only before nameset_seal(). */
int	nameset_add(struct nameset *, const char *name, size_t len,
	    unsigned tag) SG_WUR;

/* Sorts and merges duplicates; the set is read-only afterwards. */
void	nameset_seal(struct nameset *);

size_t	nameset_count(const struct nameset *);	/* after sealing */

struct nameset_match {
	unsigned	 tag;
	const char	*entry;		/* the set's copy, NUL-terminated */
	size_t		 entry_len;
};

/* The most specific entry covering name; false if none (a NULL set holds
 * nothing). */
bool	nameset_lookup(const struct nameset *, const char *name, size_t len,
	    struct nameset_match *);

#endif
