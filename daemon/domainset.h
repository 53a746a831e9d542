/*
 * domainset.h - a set of domain names, each with a mask of categories, that
 * answers "which listed names is this name, or one of its parents?".
 *
 * Matching is by label suffix: a listed "example.com" matches "example.com"
 * and "a.b.example.com", never "badexample.com".  A lookup walks from the
 * whole name towards its last label and unites the categories of every
 * listed suffix it meets; the most specific one is reported as the rule.
 *
 * Names given to the builder and to lookups are already normalised: lower
 * case, no trailing dot (see lists_normalize()).  Lookups take a length and
 * do not need a NUL.
 *
 * This is the interface the compiled, mmap-able set (.sgdb) implements; the
 * in-memory hash table behind it today is its first implementation.  A set is
 * immutable once built, and safe to read from any number of threads.
 */
#ifndef SG_DOMAINSET_H
#define SG_DOMAINSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define DOMAINSET_MAX_CATEGORIES	64

struct domainset;
struct domainset_builder;

struct domainset_match {
	uint64_t	 categories;	/* union over every matching entry */
	const char	*rule;		/* most specific listed suffix; points
					   into the set, valid while it lives;
					   not NUL-terminated */
	size_t		 rule_len;
};

struct domainset_builder *domainset_builder_new(void);
/*
 * Adds name (len bytes) to category (0..63).  Adding a name again adds the
 * category to its mask.  Returns 1 if the name was new, 0 if it was already
 * there, or a negative sg_err (-ENOMEM, SG_EMALFORMED for an empty or
 * over-long name, SG_ELIMIT for a category out of range).
 */
int	domainset_builder_add(struct domainset_builder *, const char *name,
	    size_t len, unsigned category) SG_WUR;
/* Turns the builder into a set; the builder is consumed even on failure. */
struct domainset *domainset_builder_finish(struct domainset_builder *);
void	domainset_builder_free(struct domainset_builder *);

void	domainset_free(struct domainset *);

/* True if name or one of its parents is listed; fills *m if m != NULL. */
bool	domainset_lookup(const struct domainset *, const char *name, size_t len,
	    struct domainset_match *m);

size_t	domainset_count(const struct domainset *);	/* distinct names */
size_t	domainset_bytes(const struct domainset *);	/* memory it holds */

#endif
