/*
 * update.h - the feed registry, and downloading feeds into place.
 *
 * A feed is a block list someone publishes at a URL.  The registry
 * (blocklists/feeds.conf, named by the config's `feeds` key) says where
 * each one is, what it is for, its licence, and what a good copy looks
 * like.  A config's lists entries name the feeds they use; updating
 * downloads each of those, checks it, and only then moves it into place
 * as <lists_db's folder>/feeds/<name>.list (config_feed_path()).  A download that
 * fails or looks wrong never replaces a good copy: the filter goes on with
 * the list it had, and the caller is told why, one line per feed.
 *
 * A download is checked, in this order:
 *   curl succeeds   (HTTP errors, refused or dropped connections, time and
 *                   size limits, a redirect to another protocol all fail);
 *   size            min_bytes .. max_bytes;
 *   lines           lists_read_file() reads it; at most max_invalid of the
 *                   lines holding something are unreadable;
 *   entries         at least min_entries (blocks plus allow exceptions);
 *   change          against the copy in place, if any: the entry count
 *                   moved by at most max_change of it.
 *
 * Downloads run curl(1) directly (fork and exec, never a shell), with its
 * config files ignored, URL globbing off, and https only, redirects
 * included, unless the registry says allow_http.  One update runs at a
 * time per directory (a lock file, .lock, in it).
 */
#ifndef SG_UPDATE_H
#define SG_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

#define UPDATE_DEF_MAX_BYTES	(64ULL << 20)
#define UPDATE_MAX_BYTES	(1ULL << 30)	/* what lists_read_file reads */
#define UPDATE_DEF_TIMEOUT	300		/* seconds per download */
#define UPDATE_LINE_LEN		256

/* One feed of the registry; owned by it, valid until it is freed. */
struct update_feed {
	char		*name;		/* [a-z0-9_-], CONFIG_NAME_MAX */
	char		*url;
	char		*format;	/* as written: "domains", "hashed", ... */
	char		*category;	/* what the publisher means it for */
	char		*licence;
	char		*source;	/* who to credit; NULL if not given */
	bool		 hashed;	/* format "hashed": read as confidential */
	uint64_t	 min_bytes;
	uint64_t	 max_bytes;
	uint64_t	 min_entries;
	double		 max_change;	/* fraction of the previous count */
	double		 max_invalid;	/* fraction of lines holding something */
	unsigned	 line;		/* where it starts in the registry */
};

struct update_registry;

/*
 * Loads a registry file.  Errors (NULL, errno set: EINVAL for an invalid
 * registry, or that of reading it) are written to err as "FILE:LINE: what
 * is wrong", like config errors.  Unknown keys are errors.
 */
struct update_registry *update_registry_load(const char *path, char *err,
	    size_t errlen);
void	update_registry_free(struct update_registry *);

size_t	update_registry_count(const struct update_registry *);
/* Feed i, in the registry's order; NULL past the end. */
const struct update_feed *update_registry_feed(const struct update_registry *,
	    size_t i);
/* The feed called name, or NULL. */
const struct update_feed *update_registry_find(const struct update_registry *,
	    const char *name);

/*
 * Checks that every feed cfg names is in the registry, and that a feed is
 * hashed exactly when the category using it is confidential.  Returns 0,
 * or SG_ECONFIG with "CONFIG:LINE: what is wrong" in err (LINE: the lists
 * entry's).
 */
int	update_check_config(const struct update_registry *,
	    const struct config *, char *err, size_t errlen) SG_WUR;

/* The outcome of one feed. */
struct update_result {
	const struct update_feed *feed;
	bool		 updated;	/* the download is now in place */
	int		 error;		/* 0 if updated, else why not: -EIO
					   (download), -EFBIG, SG_ETRUNC (too
					   small), SG_EMALFORMED (unreadable,
					   too few entries), SG_ELIMIT (the
					   count changed too much), -errno */
	bool		 had_previous;	/* a copy was in place before */
	uint64_t	 bytes;		/* of the download, if there was one */
	size_t		 entries;	/* in the download, if read */
	size_t		 previous;	/* in the copy that was in place */
	/*
	 * One line, no newline, in stable wording for logs and tests:
	 *   NAME: updated, E entries, B bytes (was P entries | new)
	 *   NAME: failed: REASON; kept the previous copy (P entries)
	 *   NAME: failed: REASON; there is no previous copy
	 * REASON is one of
	 *   download: HTTP CODE | cannot resolve the host | cannot connect |
	 *     timed out after N s | larger than max_bytes (N) | TLS error |
	 *     refused protocol or redirect | too many redirects |
	 *     curl exit N | curl killed by signal N | cannot run curl: ERROR
	 *   too small: B bytes, at least N
	 *   too big: B bytes, at most N
	 *   cannot read it: ERROR
	 *   too many invalid lines: I of N, at most P%
	 *   too few entries: E, at least N
	 *   entry count changed by P% (OLD -> NEW), at most P%
	 */
	char		 line[UPDATE_LINE_LEN];
};

struct update_opts {
	const char	*curl;		/* the program; NULL: "curl" from PATH */
	unsigned	 timeout;	/* seconds per download; 0: default */
	/* Called as each feed is done (may be NULL), so a caller can print
	   progress; the result is valid during the call. */
	void		(*report)(void *arg, const struct update_result *);
	void		*arg;
};

/*
 * Downloads one feed into dir/<name>.list (dir must exist) and fills *res.
 * Returns 0 whether or not the feed passed (res says which), or a negative
 * code when nothing could be tried (-ENOMEM, a path too long).  Does not
 * take the lock; update_config() does.
 */
int	update_feed(const struct update_feed *, const char *dir,
	    const struct update_opts *, struct update_result *res) SG_WUR;

/* What update_config() did; free with update_summary_free(). */
struct update_summary {
	struct update_result *results;	/* one per feed, in order of use */
	size_t		 n;
	size_t		 failed;	/* results that were not updated */
};

/*
 * Updates every feed cfg names (each once, in the order the lists entries
 * name them) into config_feeds_dir(), beside lists_db.  Checks cfg against the registry first
 * (update_check_config()), creates the feeds folder if missing and holds
 * its lock throughout.  Returns 0 when every feed was tried, the summary
 * saying which failed; or SG_ECONFIG, -EBUSY (another update is running),
 * -ENOMEM or the errno of the folder, with a message in err and an empty
 * summary.
 */
int	update_config(const struct update_registry *, const struct config *,
	    const struct update_opts *, struct update_summary *, char *err,
	    size_t errlen) SG_WUR;
void	update_summary_free(struct update_summary *);

#endif
