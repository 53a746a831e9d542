/*
 * snapshot.h - the immutable config + lists that workers read, and the one
 * pointer swap that replaces them on reload.
 *
 * A reload builds a whole new snapshot (config, domain set, event log) off
 * the packet path and validates it.  Only if that succeeds is it published,
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
#include "domainset.h"
#include "err.h"

#define SNAPSHOT_MAX_READERS	(CONFIG_MAX_QUEUES + 4)

struct evlog;

struct snapshot {
	struct config	*cfg;		/* owned */
	struct domainset *set;		/* owned */
	struct evlog	*evlog;		/* owned */
	uint64_t	 generation;	/* 1 for the first, +1 each reload */
	size_t		 list_invalid;	/* invalid lines seen while loading */
};

/*
 * Builds a snapshot from a loaded config: reads every list file (relative
 * names under lists_dir_override, or the config's lists_dir) and opens the
 * event log.  Takes ownership of cfg, even on failure.  Invalid list lines
 * are logged (rate-limited per file) and counted; a file that cannot be
 * read fails the build.  Returns NULL and writes why into err.
 */
struct snapshot *snapshot_build(struct config *cfg,
	    const char *lists_dir_override, char *err, size_t errlen);
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
