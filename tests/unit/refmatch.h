/*
 * refmatch.h - a reference for sgdb that is slow, simple and obviously
 * right, for the property tests to hold sgdb against.
 *
 * Clear entries are (name, category, list, allow) kept as strings in one
 * sorted array; a lookup asks bsearch about every suffix of two labels or
 * more and then, category by category, lets the most specific suffix that
 * mentions the category decide.  Confidential entries are SHA-256 digests
 * in a second sorted array, asked about every such suffix; they all unite.
 *
 * Rules it shares with sgdb.h by contract, spelt out here so that a test
 * failure points at one of them:
 *  - a name that cannot be listed (empty, over 253 bytes, over 127
 *    labels, an empty label, hence a leading or trailing dot) matches
 *    nothing, and a one-label suffix is never asked about;
 *  - a name that is both a block and an allow exception of one category
 *    is an allow exception ("an exception beside its block wins");
 *  - the list reported for a confidential hit is the lowest list id that
 *    holds the most specific matching digest.
 *
 * Names are copied.  Not thread-safe; nothing here is for production.
 */
#ifndef SG_TEST_REFMATCH_H
#define SG_TEST_REFMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sgdb.h"

struct ref;

struct ref	*ref_new(void);
void		 ref_free(struct ref *);
/* Category c is confidential or not; lists map to their category. */
void		 ref_category(struct ref *, unsigned c, bool confidential);
void		 ref_list(struct ref *, unsigned list, unsigned category);
void		 ref_add(struct ref *, unsigned list, const char *name,
		    size_t len, bool allow);
void		 ref_add_hash(struct ref *, unsigned list,
		    const uint8_t sha[SGDB_SHA256_LEN]);
/* Sorts; call after the last add and before any lookup. */
void		 ref_finish(struct ref *);
bool		 ref_lookup(const struct ref *, const char *name, size_t len,
		    struct sgdb_match *);
/* What sgdb_builder_finish() should report, and sgdb_entries(). */
void		 ref_stats(const struct ref *,
		    struct sgdb_build_stats st[SGDB_MAX_CATEGORIES]);
size_t		 ref_entries(const struct ref *);

/* SHA-256 of name, through OpenSSL's one-shot SHA256(). */
void		 ref_sha256(const char *name, size_t len,
		    uint8_t out[SGDB_SHA256_LEN]);

/* Formats a match for a failure message. */
const char	*ref_fmt(const struct sgdb_match *, char *buf, size_t len);
/* True if the two matches agree on everything the contract defines. */
bool		 ref_same(const struct sgdb_match *, const struct sgdb_match *);

#endif
