/*
 * snapshot.c - see snapshot.h.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "compile.h"
#include "devices.h"
#include "log.h"
#include "nameset.h"
#include "policy.h"
#include "snapshot.h"

#define INVALID_SHOWN	5	/* invalid lines logged per file */

struct snapshot_slot {
	struct snapshot		*current;
	struct snapshot		*hazard[SNAPSHOT_MAX_READERS];
	uint64_t		 generation;
};

struct list_errors {
	const char	*file;
	size_t		 shown;
	size_t		 total;
};

static void
list_error(void *arg, const char *file, size_t line, const char *reason)
{
	struct list_errors *le = arg;

	if (le->file == NULL || strcmp(le->file, file) != 0) {
		le->file = file;
		le->shown = 0;
	}
	if (le->shown++ < INVALID_SHOWN)
		log_warnx("%s:%zu: %s", file, line, reason);
	le->total++;
}

static void
feed_missing(void *arg, const char *feed, const char *path)
{
	(void)arg;
	log_info("feed %s: not downloaded yet (%s); safegate-lists update "
	    "fetches it", feed, path);
}

/* Compiles the config's lists into memory, as safegate-lists would. */
static struct sgdb *
compile_config(const struct config *cfg, const char *dir, size_t *invalid,
    char *err, size_t errlen)
{
	struct compile_inputs ci;
	struct compile_report rep;
	struct list_errors le;
	struct sgdb *db = NULL;
	void *image = NULL;
	size_t len = 0, files = 0, i;
	char why[256];
	int rc;

	memset(&le, 0, sizeof(le));
	if ((rc = compile_config_inputs(cfg, dir, feed_missing, NULL,
	    &ci)) < 0) {
		snprintf(err, errlen, "%s: lists: %s", cfg->source,
		    sg_strerror(rc));
		goto out;
	}
	if ((rc = compile_lists(ci.in, ci.n, list_error, &le, &rep, &image,
	    &len)) < 0) {
		snprintf(err, errlen, "%s: list %s: %s", cfg->source,
		    rep.failed_path != NULL ? rep.failed_path : "(all)",
		    sg_strerror(rc));
		goto out;
	}
	if ((rc = sgdb_open_image(image, len, &db, why, sizeof(why))) < 0) {
		snprintf(err, errlen, "compiled set: %s", why);
		goto out;
	}
	*invalid = rep.total.invalid;
	for (i = 0; i < ci.n; i++)
		files += ci.in[i].path != NULL;
	log_info("compiled %zu files in %.3f s: %zu entries, %zu invalid "
	    "lines, %zu skipped, %zu bytes", files, rep.seconds, rep.entries,
	    rep.total.invalid, rep.total.skipped, rep.bytes);
out:
	free(image);
	compile_inputs_free(&ci);
	return db;
}

static void
lease_error(void *arg, size_t line, const char *reason)
{
	const char *path = arg;

	log_warnx("%s:%zu: %s", path, line, reason);
}

/*
 * DHCP leases name the devices the config does not.  They are read at each
 * build (start and reload); a missing or unreadable file only means no
 * names, never a failed build: the router's DHCP server may not have
 * written it yet.
 */
static void
read_leases(struct snapshot *s, const char *path)
{
	struct stat st;
	char *buf;
	FILE *f;
	size_t n;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno != ENOENT)
			log_warn("%s", path);
		return;
	}
	if (fstat(fileno(f), &st) < 0 || st.st_size < 0 ||
	    (uint64_t)st.st_size > DEVICES_LEASES_FILE_MAX ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL) {
		log_warnx("%s: not read (too large, or out of memory)", path);
		fclose(f);
		return;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	s->leases = devices_leases_new(buf, n, lease_error, (void *)path);
	free(buf);
}

/*
 * The set's ids of the config's categories in mask.  A category the set
 * lacks is warned about once per build (failing would leave nothing
 * filtered at all) and left out.
 */
static uint64_t
set_mask(const struct config *cfg, const struct sgdb *db, uint64_t mask,
    uint64_t *warned)
{
	uint64_t out = 0;
	unsigned c;
	int id;

	for (c = 0; c < cfg->ncategories; c++) {
		if (!(mask & (uint64_t)1 << c))
			continue;
		if ((id = sgdb_category_id(db, cfg->categories[c])) >= 0) {
			out |= (uint64_t)1 << id;
			continue;
		}
		if (!(*warned & (uint64_t)1 << c))
			log_warnx("%s: category %s is blocked but the compiled "
			    "set has no such category: nothing is blocked as "
			    "%s until the set is compiled again from this "
			    "config", cfg->source, cfg->categories[c],
			    cfg->categories[c]);
		*warned |= (uint64_t)1 << c;
	}
	return out;
}

/* The config ids of the categories a profile's bypass settings block. */
static uint64_t
bypass_mask(const struct config *cfg, const struct config_profile *p)
{
	static const char *const doh[] = { "doh", "bypass" };
	uint64_t mask = 0;
	size_t i;
	int id;

	for (i = 0; p->bypass_doh && i < 2; i++)
		if ((id = config_category_id(cfg, doh[i])) >= 0)
			mask |= (uint64_t)1 << id;
	if (p->bypass_vpn && (id = config_category_id(cfg, "vpn-proxy")) >= 0)
		mask |= (uint64_t)1 << id;
	return mask;
}

static int
add_names(struct nameset *ns, char *const *names, size_t n, unsigned tag)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = nameset_add(ns, names[i], strlen(names[i]),
		    tag)) < 0)
			return rc;
	return 0;
}

/* Devices, leases, profiles and name sets: the policy's part. */
static int
build_policy(struct snapshot *s, char *err, size_t errlen)
{
	const struct config *cfg = s->cfg;
	struct devices_spec *specs;
	struct devices_error derr;
	uint64_t warned = 0;
	size_t i, j;
	int rc = -ENOMEM;

	s->block_mask = set_mask(cfg, s->db, cfg->block_mask, &warned);
	if ((specs = calloc(cfg->ndevices + 1, sizeof(*specs))) == NULL)
		goto nomem;
	for (i = 0; i < cfg->ndevices; i++)
		specs[i] = cfg->devices[i].spec;
	s->devices = devices_new(specs, cfg->ndevices, &derr);
	free(specs);
	if (s->devices == NULL) {
		snprintf(err, errlen, "%s:%d: device: %s", cfg->source,
		    derr.index < cfg->ndevices ?
		    cfg->devices[derr.index].line : 0, derr.reason);
		return -EINVAL;
	}
	if (cfg->dhcp_leases != NULL && cfg->dhcp_leases[0] != '\0')
		read_leases(s, cfg->dhcp_leases);

	if ((s->profiles = calloc(cfg->nprofiles, sizeof(*s->profiles))) ==
	    NULL || (s->sched_cache = calloc(cfg->nprofiles *
	    CONFIG_MAX_SCHEDULES, sizeof(*s->sched_cache))) == NULL)
		goto nomem;
	for (i = 0; i < cfg->nprofiles; i++) {
		const struct config_profile *cp = &cfg->profiles[i];
		struct snapshot_profile *sp = &s->profiles[i];

		sp->cfg = cp;
		sp->block = s->block_mask | set_mask(cfg, s->db,
		    cp->block_mask | cp->service_mask | bypass_mask(cfg, cp),
		    &warned);
		sp->nsched = cp->nschedules;
		for (j = 0; j < cp->nschedules; j++) {
			sp->sched[j].when = &cp->schedules[j].when;
			sp->sched[j].all = cp->schedules[j].all;
			sp->sched[j].block = set_mask(cfg, s->db,
			    cp->schedules[j].block_mask |
			    cp->schedules[j].service_mask, &warned);
		}
		if (cp->nallow + cp->ndeny == 0)
			continue;
		if ((sp->names = nameset_new()) == NULL ||
		    (rc = add_names(sp->names, cp->allow, cp->nallow,
		    NAMESET_ALLOW)) < 0 ||
		    (rc = add_names(sp->names, cp->deny, cp->ndeny,
		    NAMESET_DENY)) < 0)
			goto nomem;
		nameset_seal(sp->names);
	}
	if ((s->always = nameset_new()) == NULL)
		goto nomem;
	for (i = 0; policy_help_routes[i] != NULL; i++)
		if ((rc = nameset_add(s->always, policy_help_routes[i],
		    strlen(policy_help_routes[i]), NAMESET_ALLOW)) < 0)
			goto nomem;
	if ((rc = add_names(s->always, cfg->always_allow, cfg->nalways_allow,
	    NAMESET_ALLOW)) < 0)
		goto nomem;
	nameset_seal(s->always);
	return 0;
nomem:
	snprintf(err, errlen, "%s", strerror(-rc));
	return rc;
}

struct snapshot *
snapshot_new(struct config *cfg, struct sgdb *db, char *err, size_t errlen)
{
	struct sgdb_category sc;
	struct snapshot *s;
	unsigned c;
	int id;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		config_free(cfg);
		sgdb_close(db);
		return NULL;
	}
	s->cfg = cfg;
	s->db = db;
	s->ncategories = sgdb_ncategories(db);
	for (c = 0; c < s->ncategories; c++) {
		sgdb_category(db, c, &sc);
		s->category_names[c] = sc.name;
	}
	/* The config names categories; the set numbers them its own way. */
	for (c = 0; c < cfg->ncategories; c++) {
		if ((id = sgdb_category_id(db, cfg->categories[c])) < 0)
			continue;
		sgdb_category(db, (unsigned)id, &sc);
		if (sc.confidential)
			s->confidential |= (uint64_t)1 << id;
		if (!(cfg->block_mask & (uint64_t)1 << c))
			continue;
		if (sc.confidential !=
		    !!(cfg->confidential_mask & (uint64_t)1 << c)) {
			snprintf(err, errlen, "%s: category %s is %s in the "
			    "config but not in the compiled set; compile it "
			    "again", cfg->source, cfg->categories[c],
			    sc.confidential ? "not confidential" :
			    "confidential");
			snapshot_free(s);
			return NULL;
		}
	}
	if (build_policy(s, err, errlen) < 0) {
		snapshot_free(s);
		return NULL;
	}
	return s;
}

/*
 * A mapped set does not follow its sources: say so when one of them was
 * changed after the set was written, so an edit that "does nothing" has
 * an explanation in the log.
 */
static void
warn_if_stale(const struct config *cfg, const char *dir, const char *dbpath)
{
	struct compile_inputs ci;
	struct stat db, sb;
	size_t i;

	memset(&ci, 0, sizeof(ci));
	if (stat(dbpath, &db) == -1 ||
	    compile_config_inputs(cfg, dir, NULL, NULL, &ci) < 0) {
		compile_inputs_free(&ci);
		return;
	}
	for (i = 0; i < ci.n; i++) {
		if (ci.in[i].path != NULL && stat(ci.in[i].path, &sb) == -1) {
			/* The set still holds what the file held; the next
			 * compile from this config will fail. */
			log_warnx("%s: %s: the compiled set %s keeps what it "
			    "held, but compiling from %s will fail",
			    ci.in[i].path, strerror(errno), dbpath,
			    cfg->source);
			continue;
		}
		if (ci.in[i].path == NULL ||
		    sb.st_mtim.tv_sec < db.st_mtim.tv_sec ||
		    (sb.st_mtim.tv_sec == db.st_mtim.tv_sec &&
		    sb.st_mtim.tv_nsec <= db.st_mtim.tv_nsec))
			continue;
		log_warnx("%s is older than %s: the change is not in force "
		    "until safegate-lists compile -c %s (or update) runs",
		    dbpath, ci.in[i].path, cfg->source);
		break;
	}
	compile_inputs_free(&ci);
}

struct snapshot *
snapshot_build(struct config *cfg, const char *lists_dir_override,
    const char *lists_db_override, char *err, size_t errlen)
{
	const char *dbpath = lists_db_override != NULL ? lists_db_override :
	    cfg->lists_db;
	struct snapshot *s;
	struct sgdb *db = NULL;
	size_t invalid = 0;
	char why[256];
	bool compiled = false;
	int rc;

	rc = dbpath != NULL && dbpath[0] != '\0' ?
	    sgdb_open(dbpath, &db, why, sizeof(why)) : -ENOENT;
	if (rc == -ENOENT) {
		if (dbpath != NULL && dbpath[0] != '\0')
			log_info("%s: not there; compiling the lists of %s "
			    "(safegate-lists compile -c %s saves this at "
			    "every start)", dbpath, cfg->source, cfg->source);
		if ((db = compile_config(cfg, lists_dir_override, &invalid,
		    err, errlen)) == NULL) {
			config_free(cfg);
			return NULL;
		}
		compiled = true;
	} else if (rc < 0) {
		snprintf(err, errlen, "%s: %s", dbpath, why);
		config_free(cfg);
		return NULL;
	} else
		warn_if_stale(cfg, lists_dir_override, dbpath);
	if ((s = snapshot_new(cfg, db, err, errlen)) == NULL)
		return NULL;
	s->compiled = compiled;
	s->list_invalid = invalid;
	return s;
}

void
snapshot_free(struct snapshot *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->profiles != NULL)
		for (i = 0; i < s->cfg->nprofiles; i++)
			nameset_free(s->profiles[i].names);
	free(s->profiles);
	free(s->sched_cache);
	nameset_free(s->always);
	devices_free(s->devices);
	devices_leases_free(s->leases);
	sgdb_close(s->db);
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
