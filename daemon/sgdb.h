/*
 * sgdb.h - compiled domain sets: one file, mmap-ed read-only and used in
 * place, that answers "which categories is this name, or one of its
 * parents, listed in?" in a few cache misses.
 *
 * A set holds entries from up to 64 categories.  Each entry is a name and
 * everything below it (a listed "example.com" matches "a.b.example.com",
 * never "badexample.com"), and is a block or an allow exception.  For each
 * category on its own, the most specific entry that matches decides: an
 * allow exception below a block wins, a block below an allow exception
 * wins again.
 *
 * Names are never stored.  An entry is a 64-bit keyed hash of its name, so
 * the file holds no name in clear (though anyone who has the file, and so
 * its seed, can test a guessed name against it); the rule a lookup reports
 * is the suffix of the asked name that matched.  Confidential categories
 * (the abuse lists) are compiled from SHA-256 hashes alone; a lookup hashes
 * each suffix of the name with SHA-256 to find them, and reports the
 * category, the list and the entry's hash, never a name.  No allow
 * exception applies to a confidential category.
 *
 * Names given to the builder and to lookups are normalised (lists.h: lower
 * case, no trailing dot, punycode); lookups take a length and need no NUL.
 * The builder takes names of two labels or more of [a-z0-9_-]; a lookup of
 * a name with an empty label (a leading, trailing or double dot) matches
 * nothing.  A name listed as a block and as an exception of the same
 * category is an exception only, and counts as one.
 * The layout is drawn at the top of sgdb.c.
 */
#ifndef SG_SGDB_H
#define SG_SGDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SGDB_VERSION		1
#define SGDB_MAX_CATEGORIES	64
#define SGDB_MAX_LISTS		4096
#define SGDB_NAME_MAX		47	/* category and list labels, bytes */
#define SGDB_SHA256_LEN		32

struct sgdb;
struct sgdb_builder;

/* ---------------------------------------------------------------- build */

/* Per category, filled by sgdb_builder_finish(). */
struct sgdb_build_stats {
	size_t	entries;	/* distinct block entries */
	size_t	allows;		/* distinct allow exceptions */
	size_t	duplicates;	/* adds of an entry the category had */
};

/* A builder with a random hash seed; NULL and errno on failure. */
struct sgdb_builder *sgdb_builder_new(void);
void	sgdb_builder_free(struct sgdb_builder *);
/* Sets the seed, for files that must come out the same; before any add. */
void	sgdb_builder_seed(struct sgdb_builder *, uint64_t seed);

/*
 * Declares a category by name ([a-z0-9_-], 1..SGDB_NAME_MAX bytes) and
 * returns its id, 0..63; declaring it again returns the same id.  Returns
 * SG_ECONFIG if it was declared with the other confidentiality, SG_ELIMIT
 * past 64 categories, SG_EMALFORMED for a bad name.
 */
int	sgdb_builder_category(struct sgdb_builder *, const char *name,
	    bool confidential) SG_WUR;

/*
 * Declares a list (a source file) of a category and returns its id.  The
 * label is what tools print for it, usually the file's base name; it is
 * cut to SGDB_NAME_MAX bytes.  SG_ELIMIT past SGDB_MAX_LISTS.
 */
int	sgdb_builder_list(struct sgdb_builder *, unsigned category,
	    const char *label) SG_WUR;

/*
 * Adds a normalised name to a list of a category that is not confidential,
 * as a block or as an allow exception.  Returns 0, -EINVAL for a bad list
 * or a confidential one, SG_EMALFORMED for a name that is not two labels
 * or more of [a-z0-9_-] (253 bytes at most), -ENOMEM.
 */
int	sgdb_builder_add(struct sgdb_builder *, unsigned list, const char *name,
	    size_t len, bool allow) SG_WUR;

/* Adds a SHA-256 entry to a list of a confidential category.  -EINVAL if the
 * list is not confidential. */
int	sgdb_builder_add_hash(struct sgdb_builder *, unsigned list,
	    const uint8_t sha256[SGDB_SHA256_LEN]) SG_WUR;

/*
 * Lays the set out as one file image in *image (the caller frees it) of
 * *len bytes, and fills stats[category] for each declared category (stats
 * may be NULL).  The builder may be freed afterwards, or added to again.
 */
int	sgdb_builder_finish(struct sgdb_builder *, void **image, size_t *len,
	    struct sgdb_build_stats stats[SGDB_MAX_CATEGORIES]) SG_WUR;

/*
 * Writes an image to path atomically: a temporary file beside it, fsync,
 * rename, fsync of the directory.  A reader never sees half a file.
 */
int	sgdb_write(const char *path, const void *image, size_t len) SG_WUR;

/*
 * Recomputes both checksums of an image in place, as the builder does,
 * from its bytes as they are (the header's size fields are not touched;
 * the body's is recomputed only if they are right).  For tools and tests
 * that damage images on purpose, so that what they damage is reached by
 * the structural checks rather than stopped by a checksum.
 */
void	sgdb_image_seal(void *image, size_t len);

/* ---------------------------------------------------------------- open */

/*
 * Maps a compiled file read-only and checks all of it: magic, version,
 * byte order, the bounds of every section, the body's checksum and every
 * index in it, so that no lookup can read outside the file whatever its
 * bytes.  On failure returns a negative code (errno from open/mmap,
 * SG_ETRUNC, SG_EMALFORMED, SG_EUNSUPP for another version or byte order)
 * and writes why to why[whylen].
 */
int	sgdb_open(const char *path, struct sgdb **db, char *why,
	    size_t whylen) SG_WUR;

/* The same over an image in memory, which is copied. */
int	sgdb_open_image(const void *image, size_t len, struct sgdb **db,
	    char *why, size_t whylen) SG_WUR;

void	sgdb_close(struct sgdb *);

/* ---------------------------------------------------------------- lookup */

struct sgdb_match {
	uint64_t	categories;	/* categories that block the name */
	uint64_t	confidential;	/* those of them that are confidential */
	uint64_t	excepted;	/* categories an allow exception decided */
	size_t		rule_len;	/* the most specific block entry among
					   the clear categories: the last
					   rule_len bytes of the name; 0 if
					   none */
	/* The most specific confidential entry, if confidential != 0; the
	   lowest list id of those that hold its digest. */
	unsigned	list;
	uint8_t		hash[SGDB_SHA256_LEN];
};

/*
 * True if some category blocks the name; fills *m (which may be NULL)
 * either way.  Safe from any number of threads.  A name longer than 253
 * bytes or with more than 127 labels is never listed.
 */
bool	sgdb_lookup(const struct sgdb *, const char *name, size_t len,
	    struct sgdb_match *m);

/* ---------------------------------------------------------------- about */

struct sgdb_category {
	const char	*name;
	bool		 confidential;
	size_t		 entries;	/* distinct block entries */
	size_t		 allows;	/* distinct allow exceptions */
};

struct sgdb_list {
	const char	*label;
	unsigned	 category;
};

uint32_t sgdb_version(const struct sgdb *);
size_t	sgdb_bytes(const struct sgdb *);	/* file size */
size_t	sgdb_entries(const struct sgdb *);	/* clear + hashed keys */
unsigned sgdb_ncategories(const struct sgdb *);
/* Category id (0..sgdb_ncategories()-1) by name, or -1. */
int	sgdb_category_id(const struct sgdb *, const char *name);
void	sgdb_category(const struct sgdb *, unsigned id,
	    struct sgdb_category *);
unsigned sgdb_nlists(const struct sgdb *);
void	sgdb_list(const struct sgdb *, unsigned id, struct sgdb_list *);

#endif
