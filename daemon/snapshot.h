/*
 * snapshot.h - the immutable config + lists that workers read, and the one
 * pointer swap that replaces them on reload.
 *
 * A reload builds a whole new snapshot (config, domain set) off the packet
 * path and validates it.  (The event log is not in it: it lives as long as
 * the daemon, in the server, so that its chain never forks.)  Only if that succeeds is it published,
 * in one atomic store; a failed build leaves the running policy untouched.
 *
 * Readers use hazard pointers: a worker announces the snapshot it is about
 * to use in its slot, then re-checks that it is still current.  Publishing
 * swaps the pointer, then waits until no slot holds the old snapshot before
 * freeing it.  Workers hold a snapshot for one batch, never block on it,
 * and take no lock to read it.
 */
#ifndef SG_SNAPSHOT_H
#define SG_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "sgdb.h"

#define SNAPSHOT_MAX_READERS	(CONFIG_MAX_QUEUES + 4)

struct devices;
struct devices_leases;
struct nameset;

/* A schedule of a profile, in the set's category ids. */
struct snapshot_schedule {
	const struct schedule *when;	/* the config's */
	bool		 all;		/* blocks all but allow lists */
	uint64_t	 block;		/* categories and services */
};

/* A profile, in the set's category ids (policy.h). */
struct snapshot_profile {
	const struct config_profile *cfg;
	/* the top-level block, the profile's block, services and bypass
	   categories: all that blocks outside schedules */
	uint64_t	 block;
	struct snapshot_schedule sched[CONFIG_MAX_SCHEDULES];
	size_t		 nsched;
	struct nameset	*names;		/* allow and deny, or NULL */
};

struct snapshot {
	struct config	*cfg;		/* owned */
	struct sgdb	*db;		/* owned: the compiled set */
	uint64_t	 generation;	/* 1 for the first, +1 each reload */
	/* In the set's category ids, which need not be the config's: */
	uint64_t	 block_mask;	/* the config's `block` */
	const char	*category_names[SGDB_MAX_CATEGORIES]; /* into db */
	size_t		 ncategories;
	uint64_t	 confidential;	/* confidential categories */
	struct devices	*devices;	/* owned: the config's devices */
	struct devices_leases *leases;	/* owned: dhcp_leases, or NULL */
	struct snapshot_profile *profiles;	/* cfg->nprofiles of them */
	struct nameset	*always;	/* help routes and always_allow */
	/*
	 * Whether each schedule is in force, for one minute at a time:
	 * (minute << 1 | in force) + 1, 0 for not known yet, written by
	 * whichever reader finds it stale (policy.c).  Indexed
	 * profile * CONFIG_MAX_SCHEDULES + schedule.  Mutable through the
	 * const snapshot, with atomics only.
	 */
	int64_t		*sched_cache;
	bool		 compiled;	/* lists_db was missing: compiled from
					   the config's lists at load */
	size_t		 list_invalid;	/* invalid lines seen compiling */
};

/*
 * Builds a snapshot from a loaded config: maps the compiled set lists_db
 * (lists_db_override, when not NULL, stands in for cfg->lists_db; -D), or,
 * when that file does not exist, compiles the lists the config names
 * (relative names under lists_dir_override, or the config's lists_dir) in
 * memory, as `safegate-lists compile` would.
 * A set that is damaged or of another version fails the build, as does a
 * category whose confidentiality differs between the config and the set,
 * and (compiling) a list file that cannot be read.  A category the config
 * blocks that the set lacks is warned about: failing would filter nothing.
 * Takes ownership of cfg, even on failure.  Returns NULL and writes why
 * into err.
 */
struct snapshot *snapshot_build(struct config *cfg,
	    const char *lists_dir_override, const char *lists_db_override,
	    char *err, size_t errlen);

/*
 * The same from a set already open; takes ownership of cfg and db, even on
 * failure.
 */
struct snapshot *snapshot_new(struct config *cfg, struct sgdb *db,
	    char *err, size_t errlen);
void	snapshot_free(struct snapshot *);

/* The slot that publishes snapshots to readers.  One per daemon. */
struct snapshot_slot;

struct snapshot_slot *snapshot_slot_new(struct snapshot *first);
/* Frees the slot and its current snapshot; no reader may be active. */
void	snapshot_slot_free(struct snapshot_slot *);

/* Reader `reader` (0 .. SNAPSHOT_MAX_READERS-1) starts using the current
 * snapshot; it stays valid until snapshot_leave(). */
const struct snapshot *snapshot_enter(struct snapshot_slot *, unsigned reader);
void	snapshot_leave(struct snapshot_slot *, unsigned reader);

/* The current snapshot, for the publishing thread only. */
const struct snapshot *snapshot_current(struct snapshot_slot *);

/* Publishes next and frees the old snapshot once no reader holds it. */
void	snapshot_publish(struct snapshot_slot *, struct snapshot *next);

#endif
