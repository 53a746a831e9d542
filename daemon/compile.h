/*
 * compile.h - list files in, one compiled set (sgdb) out.
 *
 * The one path from sources to a set, used by `safegate-lists compile`,
 * `safegate-lists update` and by safegated when its compiled file is
 * missing.  Each input is a file of some category; every format lists.h
 * reads is accepted, told apart per line.  Bad lines are reported through
 * the error callback as FILE:LINE: reason and the compile carries on; only
 * a file that cannot be read, or running out of memory, fails it.
 */
#ifndef SG_COMPILE_H
#define SG_COMPILE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "lists.h"
#include "sgdb.h"

/* An input with a NULL path only declares its category, which the set then
 * has even if no file gives it an entry. */
struct compile_input {
	const char	*category;
	bool		 confidential;
	const char	*path;
	const char	*label;		/* what the set calls the list; NULL:
					   the file's base name */
};

struct compile_category {
	const char	*name;		/* points into the inputs */
	bool		 confidential;
	size_t		 files;
	struct lists_stats read;	/* summed over its files */
	struct sgdb_build_stats built;
};

struct compile_report {
	struct compile_category cat[SGDB_MAX_CATEGORIES];
	unsigned	 ncat;
	struct lists_stats total;
	size_t		 entries;	/* distinct keys in the set */
	size_t		 duplicates;
	size_t		 bytes;		/* image size */
	double		 seconds;	/* reading and laying out */
	const char	*failed_path;	/* on failure, the input at fault */
};

/*
 * Compiles the inputs into an image (*image, *len; the caller frees it)
 * and fills *rep (which may be NULL).  err may be NULL.  Returns 0, or the
 * error of the input that could not be read (rep->failed_path names it),
 * SG_ECONFIG when a category is given as both confidential and not, or
 * -ENOMEM.
 */
int	compile_lists(const struct compile_input *in, size_t n,
	    lists_error_fn *err, void *arg, struct compile_report *rep,
	    void **image, size_t *len) SG_WUR;

/* The inputs a config names, and the paths they point to (owned). */
struct compile_inputs {
	struct compile_input	*in;
	size_t			 n;
	char			**paths;
};

typedef void compile_missing_fn(void *arg, const char *feed,
    const char *path);

struct config;

/*
 * Every category of cfg (a declaration, path NULL), then every file of
 * every `lists` entry of cfg (labelled as written; feeds by their name) (relative ones under
 * lists_dir_override, or the config's lists_dir), and every feed it names
 * that has been downloaded (config_feed_path()).  A feed that was never
 * fetched is left out and reported through missing (which may be NULL):
 * the daemon must run with nothing downloaded.  A missing file is not
 * checked here; compiling it fails.  Returns 0, -ENOMEM or -ENAMETOOLONG.
 * Free with compile_inputs_free(), also after a failure.
 */
int	compile_config_inputs(const struct config *cfg,
	    const char *lists_dir_override, compile_missing_fn *missing,
	    void *arg, struct compile_inputs *out) SG_WUR;
void	compile_inputs_free(struct compile_inputs *);

#endif
