/*
 * snapshot.c - see snapshot.h.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evlog.h"
#include "lists.h"
#include "log.h"
#include "snapshot.h"

#define INVALID_SHOWN	5	/* invalid lines logged per file */

struct snapshot_slot {
	struct snapshot		*current;
	struct snapshot		*hazard[SNAPSHOT_MAX_READERS];
	uint64_t		 generation;
};

struct list_errors {
	size_t	shown;
	size_t	total;
};

static void
list_error(void *arg, const char *file, size_t line, const char *reason)
{
	struct list_errors *le = arg;

	if (le->shown++ < INVALID_SHOWN)
		log_warnx("%s:%zu: %s", file, line, reason);
	le->total++;
}

struct snapshot *
snapshot_build(struct config *cfg, const char *lists_dir_override, char *err,
    size_t errlen)
{
	struct domainset_builder *b = NULL;
	struct snapshot *s;
	struct lists_stats st;
	struct list_errors le;
	char path[PATH_MAX];
	size_t i, j;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		config_free(cfg);
		return NULL;
	}
	s->cfg = cfg;
	if ((b = domainset_builder_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < cfg->nlists; i++) {
		const struct config_list *l = &cfg->lists[i];

		for (j = 0; j < l->nfiles; j++) {
			if (config_list_path(cfg, l->files[j],
			    lists_dir_override, path, sizeof(path)) == NULL) {
				snprintf(err, errlen, "%s: list path too long",
				    l->files[j]);
				goto fail;
			}
			memset(&st, 0, sizeof(st));
			memset(&le, 0, sizeof(le));
			r = lists_read_file(path, l->category_id, b, &st,
			    list_error, &le);
			if (r < 0) {
				snprintf(err, errlen, "%s:%d: list %s: %s",
				    cfg->source, l->line, path, sg_strerror(r));
				goto fail;
			}
			if (le.total > INVALID_SHOWN)
				log_warnx("%s: %zu more invalid lines",
				    path, le.total - INVALID_SHOWN);
			s->list_invalid += st.invalid;
			log_info("list %s (%s): %zu names, %zu duplicates, "
			    "%zu invalid, %zu skipped", path, l->category,
			    st.kept, st.duplicates, st.invalid, st.skipped);
		}
	}
	s->set = domainset_builder_finish(b);
	b = NULL;
	if (s->set == NULL) {
		snprintf(err, errlen, "building the domain set: %s",
		    strerror(errno));
		goto fail;
	}
	if (cfg->events_path != NULL && cfg->events_path[0] != '\0') {
		s->evlog = evlog_open(cfg->events_path);
		if (s->evlog == NULL) {
			snprintf(err, errlen, "%s: %s", cfg->events_path,
			    strerror(errno));
			goto fail;
		}
	}
	return s;
fail:
	domainset_builder_free(b);
	snapshot_free(s);
	return NULL;
}

void
snapshot_free(struct snapshot *s)
{
	if (s == NULL)
		return;
	evlog_close(s->evlog);
	domainset_free(s->set);
	config_free(s->cfg);
	free(s);
}

struct snapshot_slot *
snapshot_slot_new(struct snapshot *first)
{
	struct snapshot_slot *slot;

	if ((slot = calloc(1, sizeof(*slot))) == NULL)
		return NULL;
	first->generation = slot->generation = 1;
	slot->current = first;
	return slot;
}

void
snapshot_slot_free(struct snapshot_slot *slot)
{
	if (slot == NULL)
		return;
	snapshot_free(slot->current);
	free(slot);
}

const struct snapshot *
snapshot_enter(struct snapshot_slot *slot, unsigned reader)
{
	struct snapshot *s;

	/* Announce, then check the announcement was in time: if current
	 * changed meanwhile, the publisher may not have seen our hazard. */
	for (;;) {
		s = __atomic_load_n(&slot->current, __ATOMIC_SEQ_CST);
		__atomic_store_n(&slot->hazard[reader], s, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&slot->current, __ATOMIC_SEQ_CST) == s)
			return s;
	}
}

void
snapshot_leave(struct snapshot_slot *slot, unsigned reader)
{
	__atomic_store_n(&slot->hazard[reader], NULL, __ATOMIC_RELEASE);
}

const struct snapshot *
snapshot_current(struct snapshot_slot *slot)
{
	return __atomic_load_n(&slot->current, __ATOMIC_ACQUIRE);
}

void
snapshot_publish(struct snapshot_slot *slot, struct snapshot *next)
{
	struct timespec pause = { 0, 100 * 1000 };
	struct snapshot *old;
	unsigned i;

	next->generation = ++slot->generation;
	old = __atomic_exchange_n(&slot->current, next, __ATOMIC_SEQ_CST);
	/* A worker holds a snapshot for one batch: microseconds. */
	for (i = 0; i < SNAPSHOT_MAX_READERS; i++)
		while (__atomic_load_n(&slot->hazard[i], __ATOMIC_SEQ_CST) ==
		    old)
			nanosleep(&pause, NULL);
	snapshot_free(old);
}
