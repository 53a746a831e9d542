/*
 * safeguard.c - see safeguard.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "atomicfile.h"
#include "config.h"
#include "evlog.h"
#include "log.h"
#include "pipeline.h"
#include "policy.h"
#include "risk.h"
#include "safeguard.h"
#include "sbuf.h"
#include "snapshot.h"
#include "syslogfwd.h"

#define FIRES_MAX	RISK_NINDICATORS
#define SAFEGUARD_SAVE_EVERY	300	/* seconds between saves of the
					   risk state, when it changed */

static struct log_limit save_limit = LOG_LIMIT_INIT;

struct safeguard {
	/*
	 * lock: taken by the writer thread's hooks, by the stats, and by a
	 * reload's commit, never on the packet path (which reads the
	 * snapshot's config only).  It guards everything below but the
	 * counters.
	 */
	pthread_mutex_t		 lock;
	struct risk		*risk;
	struct alert		*alert;		/* NULL: no alert.command */
	struct syslogfwd	*syslog;	/* NULL: no log.syslog.target */
	char			*names[SGDB_MAX_CATEGORIES];	/* the
					   categories of the config the
					   engine was made with (its ids) */
	size_t			 nnames;
	/* what alert and syslog were started from, to see a change */
	char			*alert_command, *syslog_target, *syslog_ca;
	unsigned		 alert_interval, syslog_facility;
	char			*risk_state;	/* risk.state; "" = not kept */
	uint64_t		 saved_observed;	/* at the last save */
	time_t			 saved_at;	/* monotonic */
	struct safeguard_stats	 before;	/* senders a reload replaced */
	bool			 syslog_on;	/* syslog != NULL, read without
					   the lock: most lines need no more */
	uint64_t		 observed, fired;
};

/* What a reload brings, made before anything changes (safeguard.h). */
struct safeguard_next {
	struct config_risk	 rc;		/* masks; bedtime unused */
	uint64_t		 confidential;
	char			*names[SGDB_MAX_CATEGORIES];
	size_t			 nnames;
	bool			 new_alert, new_syslog;
	struct alert		*alert;		/* when new_alert */
	struct syslogfwd	*syslog;	/* when new_syslog */
	char			*alert_command, *syslog_target, *syslog_ca;
	unsigned		 alert_interval, syslog_facility;
	char			*risk_state;
};

static void	sender_stats(struct safeguard *, struct safeguard_stats *);

/* The categories bypass-attempt watches by name, as risk.c does. */
static const char *const bypass_names[] = { "doh", "bypass", "vpn-proxy" };

static bool
is_bypass(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(bypass_names) / sizeof(*bypass_names); i++)
		if (strcmp(name, bypass_names[i]) == 0)
			return true;
	return false;
}

/*
 * Whether an allowed request in the category (named as the compiled set
 * names it; matched bits are the set's ids, the risk masks the config's)
 * is worth an observation: cfg's anon-chat and messaging categories, and
 * the bypass ones.
 */
static bool
watches(const struct config *cfg, const char *name)
{
	size_t i;

	if (is_bypass(name))
		return true;
	for (i = 0; i < cfg->ncategories; i++)
		if (strcmp(cfg->categories[i], name) == 0)
			return ((cfg->risk.anon_chat_mask |
			    cfg->risk.messaging_mask) >> i) & 1;
	return false;
}

/* The engine's id of a category name, or -1. */
static int
name_id(const struct safeguard *sg, const char *name)
{
	size_t i;

	for (i = 0; i < sg->nnames; i++)
		if (strcmp(sg->names[i], name) == 0)
			return (int)i;
	return -1;
}

static bool
same(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static bool
set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static char *
dup_or_empty(const char *s)
{
	return strdup(s != NULL ? s : "");
}

void
safeguard_discard(struct safeguard_next *nx)
{
	size_t i;

	if (nx == NULL)
		return;
	for (i = 0; i < nx->nnames; i++)
		free(nx->names[i]);
	if (nx->new_alert)
		alert_free(nx->alert);
	if (nx->new_syslog)
		syslogfwd_stop(nx->syslog);
	free(nx->alert_command);
	free(nx->syslog_target);
	free(nx->syslog_ca);
	free(nx->risk_state);
	free(nx);
}

/*
 * The settings of cfg, against what sg runs (NULL: nothing yet): the
 * category names copied; an alert and a syslog sender started only when
 * theirs changed.
 */
static struct safeguard_next *
prepare(const struct safeguard *sg, const struct config *cfg, char *err,
    size_t errlen)
{
	struct safeguard_next *nx;
	size_t i;

	if ((nx = calloc(1, sizeof(*nx))) == NULL)
		goto nomem;
	nx->rc = cfg->risk;
	nx->rc.bedtime = NULL;	/* read from the snapshot (observation) */
	nx->confidential = cfg->confidential_mask;
	for (i = 0; i < cfg->ncategories; i++) {
		if ((nx->names[i] = strdup(cfg->categories[i])) == NULL)
			goto nomem;
		nx->nnames = i + 1;
	}
	if ((nx->alert_command = dup_or_empty(cfg->alert_command)) == NULL ||
	    (nx->syslog_target = dup_or_empty(cfg->syslog_target)) == NULL ||
	    (nx->syslog_ca = dup_or_empty(cfg->syslog_ca)) == NULL ||
	    (nx->risk_state = dup_or_empty(cfg->risk_state)) == NULL)
		goto nomem;
	nx->alert_interval = cfg->alert_interval;
	nx->syslog_facility = cfg->syslog_facility;
	nx->new_alert = sg == NULL || !same(sg->alert_command,
	    cfg->alert_command) || sg->alert_interval != cfg->alert_interval;
	if (nx->new_alert && set(cfg->alert_command) &&
	    (nx->alert = alert_new(cfg->alert_command,
	    cfg->alert_interval)) == NULL) {
		snprintf(err, errlen, "alert %s: %s", cfg->alert_command,
		    strerror(errno));
		goto fail;
	}
	nx->new_syslog = sg == NULL || !same(sg->syslog_target,
	    cfg->syslog_target) || !same(sg->syslog_ca, cfg->syslog_ca) ||
	    sg->syslog_facility != cfg->syslog_facility;
	if (nx->new_syslog && set(cfg->syslog_target) &&
	    (nx->syslog = syslogfwd_start(cfg->syslog_target,
	    cfg->syslog_ca, cfg->syslog_facility, NULL, err, errlen)) ==
	    NULL)
		goto fail;
	return nx;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	safeguard_discard(nx);
	return NULL;
}

/* Takes nx's alert, syslog and their settings into sg; nx keeps sg's old
 * ones, for safeguard_discard() to stop outside the lock. */
static void
swap_senders(struct safeguard *sg, struct safeguard_next *nx)
{
	struct alert *a;
	struct syslogfwd *f;
	char *t;

#define SWAP(x, y, tmp)	do { tmp = x; x = y; y = tmp; } while (0)
	SWAP(sg->risk_state, nx->risk_state, t);
	sender_stats(sg, &sg->before);
	sg->before.syslog = false;
	if (nx->new_alert) {
		SWAP(sg->alert, nx->alert, a);
		SWAP(sg->alert_command, nx->alert_command, t);
		sg->alert_interval = nx->alert_interval;
	}
	if (nx->new_syslog) {
		SWAP(sg->syslog, nx->syslog, f);
		SWAP(sg->syslog_target, nx->syslog_target, t);
		SWAP(sg->syslog_ca, nx->syslog_ca, t);
		sg->syslog_facility = nx->syslog_facility;
		__atomic_store_n(&sg->syslog_on, sg->syslog != NULL,
		    __ATOMIC_RELAXED);
	}
#undef SWAP
}

static void
swap_names(struct safeguard *sg, struct safeguard_next *nx)
{
	char *t;
	size_t i, n = sg->nnames > nx->nnames ? sg->nnames : nx->nnames;

	for (i = 0; i < n; i++) {
		t = sg->names[i];
		sg->names[i] = nx->names[i];
		nx->names[i] = t;
	}
	i = sg->nnames;
	sg->nnames = nx->nnames;
	nx->nnames = i;
}

/* Recursive: on_observe() holds it while evlog_emit() runs on_line(). */
static int
init_lock(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	int rc;

	if ((rc = pthread_mutexattr_init(&a)) != 0)
		return rc;
	rc = pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	if (rc == 0)
		rc = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return rc;
}

struct safeguard *
safeguard_new(const struct config *cfg, char *err, size_t errlen)
{
	struct safeguard_next *nx;
	struct safeguard *sg;

	if ((nx = prepare(NULL, cfg, err, errlen)) == NULL)
		return NULL;
	if ((sg = calloc(1, sizeof(*sg))) == NULL ||
	    init_lock(&sg->lock) != 0) {
		free(sg);
		snprintf(err, errlen, "out of memory");
		safeguard_discard(nx);
		return NULL;
	}
	if ((sg->risk = risk_new(&nx->rc, nx->names, nx->nnames,
	    nx->confidential)) == NULL) {
		snprintf(err, errlen, "risk indicators: %s",
		    strerror(errno));
		safeguard_discard(nx);
		safeguard_free(sg);
		return NULL;
	}
	swap_names(sg, nx);
	swap_senders(sg, nx);
	safeguard_discard(nx);
	return sg;
}

struct safeguard_next *
safeguard_prepare(const struct safeguard *sg, const struct config *cfg,
    char *err, size_t errlen)
{
	return prepare(sg, cfg, err, errlen);
}

void
safeguard_commit(struct safeguard *sg, struct safeguard_next *nx)
{
	int rc;

	pthread_mutex_lock(&sg->lock);
	rc = risk_reconfigure(sg->risk, &nx->rc, nx->names, nx->nnames,
	    nx->confidential);
	if (rc == 0)
		swap_names(sg, nx);
	swap_senders(sg, nx);
	pthread_mutex_unlock(&sg->lock);
	if (rc < 0)
		log_warnx("reload: risk indicators keep their settings: %s",
		    sg_strerror(rc));
	safeguard_discard(nx);	/* the old alert and syslog stop here */
}

void
safeguard_free(struct safeguard *sg)
{
	size_t i;

	if (sg == NULL)
		return;
	syslogfwd_stop(sg->syslog);
	alert_free(sg->alert);
	risk_free(sg->risk);
	for (i = 0; i < sg->nnames; i++)
		free(sg->names[i]);
	free(sg->alert_command);
	free(sg->syslog_target);
	free(sg->syslog_ca);
	free(sg->risk_state);
	pthread_mutex_destroy(&sg->lock);
	free(sg);
}

static void
copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

bool
safeguard_observation(const struct safeguard *sg,
    const struct snapshot *snap, const struct pipeline_result *r,
    struct safeguard_obs *o)
{
	const struct config *cfg = snap->cfg;
	const struct request *req = &r->req;
	uint64_t watched = 0;
	char mac[MAC_STRLEN], ip[ADDR_STRLEN];
	unsigned c;
	bool outside = r->forwarded && req->kind == REQ_DNS;

	(void)sg;	/* everything here is the snapshot's */
	if (!r->decided)
		return false;
	for (c = 0; r->dec.matched >> c != 0 && c < snap->ncategories; c++)
		if ((r->dec.matched & (uint64_t)1 << c) &&
		    watches(cfg, snap->category_names[c]))
			watched |= (uint64_t)1 << c;
	if (r->dec.action != ACTION_BLOCK && watched == 0 && !outside)
		return false;

	memset(o, 0, sizeof(*o));
	o->time = req->time;
	o->client = req->client;
	o->has_mac = req->has_mac;
	memcpy(o->mac, req->mac, 6);
	copy(o->device, sizeof(o->device), req->device);
	if (req->device != NULL)
		copy(o->key, sizeof(o->key), req->device);
	else if (req->has_mac)
		copy(o->key, sizeof(o->key), mac_ntop(req->mac, mac,
		    sizeof(mac)));
	else
		copy(o->key, sizeof(o->key), addr_ntop(&req->client, ip,
		    sizeof(ip)));
	copy(o->profile, sizeof(o->profile),
	    cfg->profiles[req->profile].name);
	o->age = cfg->profiles[req->profile].age;
	o->bedtime = policy_schedule_active(snap, req->profile,
	    set(cfg->risk.bedtime) ? cfg->risk.bedtime : "bedtime", req->time);
	o->kind = outside ? RISK_OUTSIDE_DNS : (int)req->kind;
	o->action = r->dec.action;
	o->reason = r->dec.reason;
	o->confidential = r->dec.confidential;
	if (!r->dec.confidential && req->name != NULL)
		snprintf(o->name, sizeof(o->name), "%.*s",
		    (int)req->name_len, req->name);
	for (c = 0; c < snap->ncategories &&
	    o->ncategories < SAFEGUARD_CATEGORIES; c++)
		if (r->dec.matched & (uint64_t)1 << c)
			copy(o->categories[o->ncategories++], 33,
			    snap->category_names[c]);
	return true;
}

/* The alert's JSON summary: what fired, where, and what to do first. */
static size_t
alert_json(const struct safeguard *sg, const struct safeguard_obs *o,
    const struct risk_fire *f, char *buf, size_t len)
{
	char ip[ADDR_STRLEN], mac[MAC_STRLEN];
	struct sbuf b;

	sbuf_init(&b, buf, len);
	sbuf_printf(&b, "{\"time\":%lld,\"indicator\":", (long long)o->time);
	sbuf_json_string(&b, f->indicator, strlen(f->indicator));
	sbuf_str(&b, ",\"severity\":");
	sbuf_json_string(&b, f->severity_name, strlen(f->severity_name));
	sbuf_str(&b, ",\"title\":");
	sbuf_json_string(&b, f->text->title, strlen(f->text->title));
	sbuf_str(&b, ",\"device\":");
	sbuf_json_string(&b, o->key, strlen(o->key));
	sbuf_printf(&b, ",\"client\":\"%s\"", addr_ntop(&o->client, ip,
	    sizeof(ip)));
	if (o->has_mac)
		sbuf_printf(&b, ",\"mac\":\"%s\"", mac_ntop(o->mac, mac,
		    sizeof(mac)));
	sbuf_str(&b, ",\"profile\":");
	sbuf_json_string(&b, o->profile, strlen(o->profile));
	sbuf_str(&b, ",\"what_to_do\":");
	sbuf_json_string(&b, f->text->what_to_do, strlen(f->text->what_to_do));
	sbuf_printf(&b, ",\"held_back\":%llu}\n", (unsigned long long)
	    (sg->alert != NULL ? alert_suppressed(sg->alert) : 0));
	return b.overflow ? 0 : b.len;
}

/*
 * The alert's clock, for its rate limit and its children's timeout: the
 * one alert_reap() is given in on_tick() too.  Not the request's time,
 * which runs on the policy's clock (-T: an offset from the wall clock, so
 * a child started "in the past" was killed at the next tick), nor the
 * wall clock, which NTP may step past a running child's timeout.
 */
static time_t
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void
on_observe(void *arg, struct evlog *ev, const void *data, size_t len)
{
	struct safeguard *sg = arg;
	const struct safeguard_obs *o = data;
	struct risk_fire fires[FIRES_MAX];
	const char *cat_names[1];
	struct risk_obs ro;
	struct event e;
	char json[ALERT_JSON_MAX];
	size_t i, n, jl;
	int id, rc;

	if (len != sizeof(*o))
		return;
	__atomic_add_fetch(&sg->observed, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&sg->lock);
	memset(&ro, 0, sizeof(ro));
	ro.time = o->time;
	ro.device = o->key;
	ro.profile_age = o->age;
	ro.bedtime = o->bedtime;
	ro.kind = (enum risk_kind)o->kind;
	ro.action = (enum action)o->action;
	ro.reason = (enum policy_reason)o->reason;
	ro.confidential = o->confidential;
	for (i = 0; i < o->ncategories; i++)
		if ((id = name_id(sg, o->categories[i])) >= 0)
			ro.matched |= (uint64_t)1 << id;
	n = risk_observe(sg->risk, &ro, fires, FIRES_MAX);
	for (i = 0; i < n; i++) {
		__atomic_add_fetch(&sg->fired, 1, __ATOMIC_RELAXED);
		memset(&e, 0, sizeof(e));
		clock_gettime(CLOCK_REALTIME, &e.ts);
		e.ts.tv_sec = o->time;
		e.kind = "indicator";
		e.client = o->client;
		e.mac = o->has_mac ? o->mac : NULL;
		e.device = o->device[0] != '\0' ? o->device : NULL;
		e.profile = o->profile;
		e.confidential = false;
		/* An abuse-list hit names no site, here as everywhere. */
		e.name = o->confidential ? "" : o->name;
		e.name_len = o->confidential ? 0 : strlen(o->name);
		if (fires[i].category != NULL) {
			cat_names[0] = fires[i].category;
			e.categories = 1;
			e.category_names = cat_names;
			e.ncategory_names = 1;
		}
		e.indicator = fires[i].indicator;
		e.severity = fires[i].severity_name;
		e.hold = fires[i].severity == RISK_CRITICAL;
		if ((rc = evlog_emit(ev, &e)) < 0)
			log_warnx("indicator %s: %s", fires[i].indicator,
			    sg_strerror(rc));
		if (fires[i].severity != RISK_CRITICAL || sg->alert == NULL)
			continue;
		if ((jl = alert_json(sg, o, &fires[i], json,
		    sizeof(json))) == 0)
			continue;
		if ((rc = alert_fire(sg->alert, json, jl, mono_now())) < 0)
			log_warnx("alert: %s", sg_strerror(rc));
	}
	pthread_mutex_unlock(&sg->lock);
}

/*
 * Syslog severities (RFC 5424): critical 2, warning 4, notice 5, info 6.
 * HAS: a literal's bytes without its NUL, which no line holds.
 */
static int
line_severity(const char *line, size_t len)
{
#define HAS(lit)	(memmem(line, len, lit, sizeof(lit) - 1) != NULL)
	if (HAS("\"severity\":\"critical\"") || HAS("\"hold\":true"))
		return 2;
	if (HAS("\"severity\":\"warning\""))
		return 4;
	if (HAS("\"kind\":\"indicator\""))
		return 5;
	return 6;
#undef HAS
}

static void
on_line(void *arg, const char *line, size_t len, uint64_t seq,
    const char *hash, const char *kind, size_t kind_len)
{
	struct safeguard *sg = arg;
	struct syslogfwd_meta m;
	char k[33], h[65];

	/* Without a syslog target (the usual case) a line costs nothing
	 * more here: bench/RESULTS.md measured a quarter of the writer's
	 * time in this hook when it parsed every line regardless. */
	if (!__atomic_load_n(&sg->syslog_on, __ATOMIC_RELAXED))
		return;
	snprintf(k, sizeof(k), "%.*s", (int)(kind_len < 32 ? kind_len : 32),
	    kind);
	snprintf(h, sizeof(h), "%.64s", hash);
	memset(&m, 0, sizeof(m));
	m.kind = k[0] != '\0' ? k : NULL;
	m.hash = h;
	m.seq = seq;
	pthread_mutex_lock(&sg->lock);
	if (sg->syslog != NULL)
		(void)syslogfwd_send_meta(sg->syslog, line, len,
		    line_severity(line, len), &m);
	pthread_mutex_unlock(&sg->lock);
}

static void
on_tick(void *arg, struct evlog *ev)
{
	struct safeguard *sg = arg;

	(void)ev;
	pthread_mutex_lock(&sg->lock);
	if (sg->alert != NULL)
		alert_reap(sg->alert, mono_now());
	pthread_mutex_unlock(&sg->lock);
	if (mono_now() - sg->saved_at >= SAFEGUARD_SAVE_EVERY &&
	    __atomic_load_n(&sg->observed, __ATOMIC_RELAXED) !=
	    sg->saved_observed) {
		int rc = safeguard_save(sg);

		if (rc < 0 && log_ratelimited(&save_limit, 1, 3600, NULL))
			log_warnx("risk state: %s", sg_strerror(rc));
	}
}

/* The engine's text taken under the lock; written (and synced) outside
 * it, so that neither a reload nor the stats wait on the disk. */
int
safeguard_save(struct safeguard *sg)
{
	char *text = NULL, *path;
	size_t len = 0;
	int rc;

	pthread_mutex_lock(&sg->lock);
	sg->saved_at = mono_now();
	sg->saved_observed = __atomic_load_n(&sg->observed, __ATOMIC_RELAXED);
	path = sg->risk_state[0] != '\0' ? strdup(sg->risk_state) : NULL;
	rc = path != NULL ? risk_format(sg->risk, &text, &len) : 0;
	pthread_mutex_unlock(&sg->lock);
	/* Its folder made (0750) if missing, as control.state's is. */
	if (path != NULL && rc == 0 &&
	    (rc = atomicfile_write(path, text, len, 0600)) == -ENOENT &&
	    (rc = atomicfile_make_dir(path, 0750)) == 0)
		rc = atomicfile_write(path, text, len, 0600);
	else if (path == NULL && sg->risk_state[0] != '\0')
		rc = -ENOMEM;
	free(text);
	free(path);
	return rc;
}

static void
state_error(void *arg, size_t line, const char *reason)
{
	log_warnx("%s:%zu: %s", (const char *)arg, line, reason);
}

int
safeguard_load(struct safeguard *sg, time_t now)
{
	char bad[4096];
	int rc;

	if (sg->risk_state[0] == '\0')
		return 0;
	pthread_mutex_lock(&sg->lock);
	rc = risk_load(sg->risk, sg->risk_state, now, state_error,
	    sg->risk_state);
	pthread_mutex_unlock(&sg->lock);
	if (rc > 0)
		log_info("risk state: %d devices from %s", rc, sg->risk_state);
	if (rc >= 0)
		return rc;
	/* Kept aside, not overwritten by the next save: it may be evidence
	 * of what went wrong, and learning starts afresh meanwhile. */
	log_warnx("risk state %s: %s; learning starts afresh",
	    sg->risk_state, sg_strerror(rc));
	if ((size_t)snprintf(bad, sizeof(bad), "%s.bad", sg->risk_state) <
	    sizeof(bad) && rename(sg->risk_state, bad) == 0)
		log_warnx("risk state: kept as %s", bad);
	return rc;
}

void
safeguard_hooks(struct safeguard *sg, struct evlog_hooks *h)
{
	memset(h, 0, sizeof(*h));
	h->observe = on_observe;
	h->line = on_line;
	h->tick = on_tick;
	h->arg = sg;
}

/* The senders' counters, with those of the senders a reload replaced. */
static void
sender_stats(struct safeguard *sg, struct safeguard_stats *st)
{
	struct alert_stats as;
	struct syslogfwd_stats ss;

	*st = sg->before;
	if (sg->alert != NULL) {
		alert_get_stats(sg->alert, &as);
		st->alerts += as.run;
		st->alerts_held += as.suppressed;
		st->alerts_failed += as.failed;
	}
	if (sg->syslog != NULL) {
		syslogfwd_stats(sg->syslog, &ss);
		st->syslog = true;
		st->syslog_sent += ss.sent;
		st->syslog_dropped += ss.dropped;
	}
}

void
safeguard_get_stats(const struct safeguard *csg, struct safeguard_stats *st)
{
	struct safeguard *sg = (struct safeguard *)csg;	/* the lock */

	pthread_mutex_lock(&sg->lock);
	sender_stats(sg, st);
	pthread_mutex_unlock(&sg->lock);
	st->observed = __atomic_load_n(&sg->observed, __ATOMIC_RELAXED);
	st->fired = __atomic_load_n(&sg->fired, __ATOMIC_RELAXED);
}
