/*
 * server.c - see server.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "ctmark.h"
#include "cursor.h"
#include "atomicfile.h"
#include "blockpage.h"
#include "evlog.h"
#include "firewall.h"
#include "inject.h"
#include "log.h"
#include "overrides.h"
#include "pipeline.h"
#include "policy.h"
#include "priv.h"
#include "queue.h"
#include "safeguard.h"
#include "safehosts.h"
#include "sbuf.h"
#include "server.h"
#include "snapshot.h"

#define POLL_MS		250	/* how often an idle worker checks in */
#define PRUNE_MS	60000	/* how often expired overrides are dropped */
#define NF_HOOK_FORWARD	2	/* NF_INET_FORWARD */
#define DRAIN_MS	50	/* quiet time that ends the drain on stop */

struct server;

/*
 * A worker handles its queue a batch at a time: it holds the current
 * snapshot for the batch, decides each packet (the verdicts go back in one
 * message), then sends the batch's forged packets with one sendmmsg() and
 * queues its events for the event log's writer thread (evlog.h), which it
 * wakes once for the batch: no lock, no write() on the packet path.
 */
#define BATCH_RESULTS	QUEUE_BATCH
#define FLOWS_PER_WORKER 1024	/* connections waiting for their name */
#define FLOW_TIMEOUT	10	/* seconds a connection may take to name */

struct worker {
	pthread_t		 thread;
	bool			 started;
	struct server		*srv;
	struct queue		*q;
	unsigned		 reader;
	const struct snapshot	*snap;		/* held for one batch */
	struct timespec		 now;		/* when the batch began */
	time_t			 mono;		/* the same, monotonic seconds */
	struct pipeline_result	*res;		/* BATCH_RESULTS of them */
	size_t			 nres;
	struct flow_table	*flows;		/* connections waiting for a
						   name; this worker's own */
	struct ctmark		*ct;		/* its tombs, marked in the
						   kernel (NULL: not) */
	uint8_t			 gone_pkt[2][80];	/* their resets */
	uint64_t		 outcomes[PL_OUTCOME_COUNT];
	uint64_t		 inject_errors;
	uint64_t		 socket_errors;
	uint64_t		 settled_again;
	/* the flow table's counters, published after each batch (the
	   table itself is the worker's alone) */
	uint64_t		 flows_active, flows_created, flows_expired;
	uint64_t		 flows_full, flows_device_full;
};

struct server {
	const struct server_opts *opts;
	struct snapshot_slot	*slot;
	struct inject		*inject;
	struct worker		*workers;
	size_t			 nworkers;
	struct control		*ctl;
	struct firewall_spec	 fw;		/* what is running */
	enum fw_backend		 backend;	/* the one in use */
	bool			 fw_up;
	int			 stopping;
	time_t			 started;
	uint64_t		 reloads;
	uint64_t		 reload_failures;
	struct overrides	*ov;		/* pauses and allows: written
						   here, read by the workers */
	struct safehosts	*sh;		/* safe-search hosts, or NULL */
	/* The event log: one for the daemon's life, so that its chain never
	   forks; a reload that changes the path moves it (evlog_reopen()).
	   NULL while no config has named one; set by the main thread, read
	   by the workers (atomic). */
	struct evlog		*evlog;
	struct safeguard	*sg;		/* indicators, alerts, syslog:
						   the writer's hooks; NULL
						   without an events file */
	struct blockpage	*bp;		/* blockpage.serve */
	struct pagelink		 link;		/* plain-HTTP visits to it */
	bool			 link_ok;
};

/* Wall-clock time as the policy sees it: the test clock's, with -T. */
static time_t
policy_now(const struct server *srv)
{
	return time(NULL) + srv->opts->clock_offset;
}

#define SERVER_EVENTS_QUEUE	(4 * 1024 * 1024)	/* evlog's ring */

static struct log_limit inject_limit = LOG_LIMIT_INIT;
static struct log_limit event_limit = LOG_LIMIT_INIT;
static struct log_limit drop_limit = LOG_LIMIT_INIT;

static void
inc(uint64_t *c)
{
	__atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);	/* one writer */
}

static uint64_t
get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}


/* Printable for a log line: names off the wire may hold any byte. */
static const char *
printable(const char *s, size_t n, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < n && i + 1 < len; i++)
		buf[i] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

/* Queues the event for a blocked result: 0, or SG_ELIMIT (lost). */
static int
record(struct evlog *log, const struct snapshot *snap,
    const struct pipeline_result *r, const struct timespec *now)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts = *now;
	ev.kind = policy_kind_name(r->req.kind);
	ev.transport = r->pkt.proto == IPPROTO_TCP ? "tcp" : "udp";
	ev.client = r->req.client;
	ev.mac = r->req.has_mac ? r->req.mac : NULL;
	ev.name = r->req.name;
	ev.name_len = r->req.name_len;
	ev.qtype = r->req.qtype;
	ev.categories = r->dec.blocked;
	ev.category_names = snap->category_names;
	ev.ncategory_names = snap->ncategories;
	ev.rule = r->dec.rule;
	ev.rule_len = r->dec.rule_len;
	ev.ech = r->req.kind != REQ_DNS && r->flow.ech;
	if (r->dec.confidential) {
		struct sgdb_list l;

		sgdb_list(snap->db, r->dec.list, &l);
		ev.confidential = true;
		ev.list = l.label;
		ev.hash = r->dec.hash;
		ev.name = NULL;
		ev.name_len = 0;
	}
	ev.action = r->action != NULL ? r->action : "drop";
	ev.device = r->req.device;
	ev.profile = snap->cfg->profiles[r->req.profile].name;
	ev.reason = policy_reason_name(r->dec.reason);
	if (r->dec.schedule >= 0)
		ev.schedule = snap->cfg->profiles[r->req.profile].
		    schedules[r->dec.schedule].name;
	return evlog_put(log, &ev);
}

static void
debug_decision(const struct pipeline_result *r)
{
	char name[DNS_TEXT_MAX + 1], client[ADDR_STRLEN], type[16];

	log_debug("%s %s %s from %s: %s%s%s",
	    r->pkt.proto == IPPROTO_TCP ? "tcp" : "udp",
	    r->req.kind == REQ_DNS ?
	    dns_type_name(r->req.qtype, type, sizeof(type)) :
	    flow_kind_name(r->flow.kind),
	    r->dec.confidential ? "(confidential)" :
	    printable(r->req.name, r->req.name_len, name, sizeof(name)),
	    addr_ntop(&r->pkt.src, client, sizeof(client)),
	    pipeline_outcome_name(r->outcome), r->err ? ": " : "",
	    r->err ? sg_strerror(r->err) : "");
}

/*
 * Queues the batch's events for the log's writer and wakes it once.  A
 * full queue loses the event: the log counts it and says so in the chain
 * (a "lost" event); the worker never waits.
 */
static void
events_out(struct worker *w)
{
	struct evlog *log = __atomic_load_n(&w->srv->evlog, __ATOMIC_ACQUIRE);
	uint64_t suppressed;
	unsigned lines = 0, lost = 0;
	size_t i;

	if (log == NULL)
		return;
	for (i = 0; i < w->nres; i++) {
		const struct pipeline_result *r = &w->res[i];
		struct safeguard_obs obs;

		/* The indicators see blocks, outside DNS and the watched
		 * categories' allowed use, in the record's order. */
		if (w->srv->sg != NULL && safeguard_observation(w->srv->sg,
		    w->snap, r, &obs) && evlog_observe(log, &obs,
		    sizeof(obs)) < 0)
			lost++;
		/* Blocks are recorded, whatever blocked them; safe-search
		 * and no-data answers are allowed names, and are not. */
		if (!r->decided || r->dec.action != ACTION_BLOCK)
			continue;
		lines++;
		if (record(log, w->snap, r, &w->now) < 0)
			lost++;
	}
	if (lines > 0 || lost > 0)
		evlog_kick(log);
	if (lost > 0 && log_ratelimited(&event_limit, 1, 5, &suppressed))
		log_warnx("events: the writer's queue is full: %u events "
		    "lost (%" PRIu64 " suppressed); the log records the count",
		    lost, suppressed);
}

/*
 * Sends what the batch forged and records what it blocked.  The verdicts
 * went first (queue_run() sends them as it returns): a forged answer never
 * waits on them, and a blocked query is already gone when it arrives.
 */
static void
flush_batch(struct worker *w)
{
	struct inject_msg out[BATCH_RESULTS * 2];
	uint64_t suppressed;
	size_t i, j, n = 0, failed;
	int err;

	for (i = 0; i < w->nres; i++) {
		const struct pipeline_result *r = &w->res[i];

		for (j = 0; j < r->nout; j++) {
			out[n].pkt = r->out[j].pkt;
			out[n].len = r->out[j].len;
			out[n++].ifindex = r->ifindex;
		}
	}
	if (n > 0 && (failed = inject_send_many(w->srv->inject, out, n,
	    &err)) > 0) {
		for (i = 0; i < failed; i++)
			inc(&w->inject_errors);
		if (log_ratelimited(&inject_limit, 1, 5, &suppressed))
			log_warnx("sending forged replies: %s (%" PRIu64
			    " suppressed)", sg_strerror(err), suppressed);
	}

	events_out(w);
	w->nres = 0;
}

static enum queue_verdict
on_packet(void *arg, const struct queue_packet *qp)
{
	struct worker *w = arg;
	struct pipeline_result *r;
	struct pipeline_meta meta;
	uint64_t suppressed;

	/*
	 * A packet this daemon settled comes back only when the rules do not
	 * save its mark on the connection (firewall.manage = false, with
	 * rules of one's own): it gets the verdict its mark carries, never a
	 * second settle, which would hand it back to the hook without end.
	 */
	if (qp->mark & QUEUE_MARK_DECIDED) {
		inc(&w->settled_again);
		return qp->mark & QUEUE_MARK_BLOCK ? QUEUE_DROP : QUEUE_ACCEPT;
	}

	/* The snapshot is taken with the batch's first packet, so a worker
	 * waiting for packets never holds one. */
	if (w->snap == NULL) {
		struct timespec mono;

		w->snap = snapshot_enter(w->srv->slot, w->reader);
		clock_gettime(CLOCK_REALTIME, &w->now);
		w->now.tv_sec += w->srv->opts->clock_offset;
		clock_gettime(CLOCK_MONOTONIC, &mono);
		w->mono = mono.tv_sec;
	}
	if (w->nres == BATCH_RESULTS)
		flush_batch(w);
	r = &w->res[w->nres++];
	memset(&meta, 0, sizeof(meta));
	meta.ts = w->now;
	meta.has_mac = qp->has_mac;
	memcpy(meta.mac, qp->mac, 6);
	meta.indev = qp->indev;
	meta.outdev = qp->outdev;
	meta.truncated = qp->truncated;
	meta.mono = w->mono;
	meta.forwarded = qp->hook == NF_HOOK_FORWARD;
	meta.ov = w->srv->ov;
	meta.sh = w->srv->sh;
	meta.page = w->srv->bp != NULL && w->srv->link_ok ? &w->srv->link :
	    NULL;

	pipeline_run(w->snap, w->flows, &meta, qp->data, qp->len, r);
	inc(&w->outcomes[r->outcome]);
	if (log_debug_enabled()) {
		if (!r->drop || r->outcome >= PL_DROP_BLOCKED ||
		    log_ratelimited(&drop_limit, 5, 20, &suppressed))
			debug_decision(r);
	}
	if (r->settled)
		return r->drop ? QUEUE_SETTLE_BLOCK : QUEUE_SETTLE_ALLOW;
	return r->drop ? QUEUE_DROP : QUEUE_ACCEPT;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	char name[16];
	bool stopping;
	int n;

	/* Before the first packet: hostile bytes are read here. */
	snprintf(name, sizeof(name), "sg-queue%u", queue_num(w->q));
	if ((n = priv_enter(name, PRIV_FILTER_WORKER)) < 0)
		fatalx("queue %u: system call filter: %s", queue_num(w->q),
		    sg_strerror(n));
	for (;;) {
		stopping = __atomic_load_n(&w->srv->stopping, __ATOMIC_ACQUIRE);
		n = queue_run(w->q, on_packet, w, stopping ? DRAIN_MS : POLL_MS);
		if (w->snap != NULL) {
			struct flow_stats fs;

			flush_batch(w);
			snapshot_leave(w->srv->slot, w->reader);
			w->snap = NULL;
			flow_table_stats(w->flows, &fs);
			__atomic_store_n(&w->flows_active, (uint64_t)fs.active,
			    __ATOMIC_RELAXED);
			__atomic_store_n(&w->flows_created, fs.created,
			    __ATOMIC_RELAXED);
			__atomic_store_n(&w->flows_expired, fs.expired,
			    __ATOMIC_RELAXED);
			__atomic_store_n(&w->flows_full, fs.full,
			    __ATOMIC_RELAXED);
			__atomic_store_n(&w->flows_device_full, fs.device_full,
			    __ATOMIC_RELAXED);
		}
		if (n == 0 && stopping)
			break;
		if (n < 0) {
			inc(&w->socket_errors);
			log_warnx("queue %u: %s", queue_num(w->q),
			    sg_strerror(n));
			if (n == -EBADF)
				break;
		}
	}
	return NULL;
}

static bool
wants_safe_search(const struct config *cfg)
{
	const struct safesearch_config *ss;
	size_t i;

	for (i = 0; i < cfg->nprofiles; i++) {
		ss = &cfg->profiles[i].safe_search;
		if (ss->google || ss->bing || ss->duckduckgo || ss->brave ||
		    ss->ecosia || ss->youtube != SAFESEARCH_YT_OFF)
			return true;
	}
	return false;
}

/*
 * The resolver of the safe-search hosts runs while some profile has safe
 * search on.  It starts with the first config that wants it and then
 * keeps running (a reload only points it at the new resolver): stopping
 * a thread from the main loop for a config edit would buy nothing.
 */
struct start {
	struct server		*srv;
	const struct config	*cfg;
	struct safeguard_next	*next;		/* reload_senders() */
	char			*err;
	size_t			 errlen;
};

/* On a thread of its own that keeps only what SO_MARK needs (priv.h), so
 * that the resolver's thread has no more. */
static int
start_safehosts(void *arg)
{
	struct start *st = arg;
	const struct config *cfg = st->cfg;
	char err[256];

	st->srv->sh = safehosts_start(&cfg->resolver, cfg->resolver_port,
	    QUEUE_MARK_OWN, err, sizeof(err));
	if (st->srv->sh == NULL)
		log_warnx("safe search: cannot resolve the safe hosts: %s; "
		    "rewritten names get the CNAME alone", err);
	return 0;
}

static void
safehosts_update(struct server *srv, const struct config *cfg)
{
	struct start st = { srv, cfg, NULL, NULL, 0 };
	int rc;

	if (srv->sh != NULL) {
		if ((rc = safehosts_set_resolver(srv->sh, &cfg->resolver,
		    cfg->resolver_port)) < 0)
			log_warnx("safe search: resolver: %s",
			    sg_strerror(rc));
		return;
	}
	if (wants_safe_search(cfg) && priv_run("sg-safehosts",
	    PRIV_CAPS_MARK, PRIV_FILTER_NONE, start_safehosts, &st) < 0)
		log_warnx("safe search: the safe hosts go unresolved; "
		    "rewritten names get the CNAME alone");
}

/* A reload's new alert command and syslog sender, started on a thread
 * with no capability, as at the start (start_aux()). */
static int
reload_senders(void *arg)
{
	struct start *st = arg;

	st->next = safeguard_prepare(st->srv->sg, st->cfg, st->err,
	    st->errlen);
	return st->next != NULL ? 0 : -1;
}

/*
 * The devices' and profiles' rules (fail, redirect, DoT) follow the
 * config: when a reload changes them, the new rules go up in place of the
 * old (firewall_up() replaces them in one restore per family).  If that
 * fails the reload fails, and the running rules and policy stay.
 */
static int
firewall_reapply(struct server *srv, const struct config *cfg, char *err,
    size_t errlen)
{
	struct firewall_spec next;
	enum fw_backend used;
	int rc;

	if ((rc = firewall_spec_init(&next, cfg)) < 0)
		goto fail;
	if (firewall_spec_equal(&srv->fw, &next)) {
		firewall_spec_free(&next);
		return 0;
	}
	if ((rc = firewall_up(&next, &used)) < 0)
		goto fail;
	firewall_spec_free(&srv->fw);
	srv->fw = next;
	srv->backend = used;
	log_info("firewall: rules for devices and profiles replaced");
	return 0;
fail:
	firewall_spec_free(&next);
	snprintf(err, errlen, "firewall: cannot put the new rules up: %s",
	    sg_strerror(rc));
	return rc;
}

static bool
events_on(const struct config *cfg)
{
	return cfg->events_path != NULL && cfg->events_path[0] != '\0';
}

static void
events_opts(const struct server *srv, const struct config *cfg,
    struct evlog_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->rotate_bytes = cfg->events_rotate_bytes;
	o->rotate_daily = cfg->events_rotate_daily;
	o->keep_days = cfg->events_keep_days;
	o->clock_offset = srv->opts->clock_offset;
	/* What rides out a disk that refuses writes (evlog.h): about 900
	 * blocked queries a MiB, observations included. */
	o->queue_bytes = SERVER_EVENTS_QUEUE;
}

/*
 * The event log follows the config from `from` to `to`: a new path moves
 * it (opened here, so that a path that cannot be opened fails the reload
 * with nothing changed), the chain carrying on; no path closes it.  The
 * rotation and retention settings take effect either way.
 */
static int
events_follow(struct server *srv, const struct config *from,
    const struct config *to, char *err, size_t errlen)
{
	struct evlog_opts o;
	struct evlog *log;
	int rc;

	events_opts(srv, to, &o);
	if (events_on(from) == events_on(to) && (!events_on(to) ||
	    strcmp(from->events_path, to->events_path) == 0)) {
		if (srv->evlog != NULL)
			evlog_set_opts(srv->evlog, &o);
		return 0;
	}
	if (srv->evlog == NULL) {
		/* The first config to name an events file. */
		if ((log = evlog_open(to->events_path, &o)) == NULL) {
			rc = -errno;
			goto fail;
		}
		if ((rc = evlog_start(log)) < 0) {
			evlog_close(log);
			goto fail;
		}
		__atomic_store_n(&srv->evlog, log, __ATOMIC_RELEASE);
		return 0;
	}
	evlog_set_opts(srv->evlog, &o);
	if ((rc = evlog_reopen(srv->evlog, events_on(to) ? to->events_path :
	    NULL)) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", events_on(to) ? to->events_path :
	    "events", sg_strerror(rc));
	return rc;
}

static int
reload(struct server *srv, char *why, size_t len)
{
	const struct config *old;
	struct safeguard_next *next = NULL;
	struct snapshot *snap;
	struct config *cfg;
	struct start st;
	char err[CONFIG_ERR_LEN];

	cfg = config_load(srv->opts->config_path, err, sizeof(err));
	if (cfg == NULL)
		goto fail;
	if ((snap = snapshot_build(cfg, srv->opts->lists_dir,
	    srv->opts->lists_db, err, sizeof(err))) == NULL)
		goto fail;
	old = snapshot_current(srv->slot)->cfg;
	st = (struct start){ srv, cfg, NULL, err, sizeof(err) };
	err[0] = '\0';
	if (srv->sg != NULL) {
		if (priv_run("sg-aux", PRIV_CAPS_NONE, PRIV_FILTER_NONE,
		    reload_senders, &st) < 0) {
			if (st.next == NULL && st.err[0] == '\0')
				snprintf(err, sizeof(err), "cannot start a "
				    "thread for the senders");
			snapshot_free(snap);
			goto fail;
		}
		next = st.next;
	}
	if (events_follow(srv, old, cfg, err, sizeof(err)) < 0) {
		safeguard_discard(next);
		snapshot_free(snap);
		goto fail;
	}
	if (old->queue_first != cfg->queue_first ||
	    old->queue_count != cfg->queue_count ||
	    old->fail_open != cfg->fail_open ||
	    old->queue_max_len != cfg->queue_max_len ||
	    old->fw_manage != cfg->fw_manage ||
	    old->fw_backend != cfg->fw_backend ||
	    old->conn_nports != cfg->conn_nports ||
	    memcmp(old->conn_ports, cfg->conn_ports,
	    sizeof(cfg->conn_ports)) != 0 ||
	    strcmp(old->control_socket, cfg->control_socket) != 0)
		log_warnx("reload: queue, firewall, connections.ports and "
		    "control socket settings take effect at the next start; "
		    "the rest is in force now");
	else if (srv->fw_up && firewall_reapply(srv, cfg, err,
	    sizeof(err)) < 0) {
		/* The log goes back where the running policy has it. */
		char back[CONFIG_ERR_LEN];

		if (events_follow(srv, cfg, old, back, sizeof(back)) < 0)
			log_warnx("events: %s", back);
		safeguard_discard(next);
		snapshot_free(snap);
		goto fail;
	}
	if (old->blockpage_serve != cfg->blockpage_serve ||
	    old->blockpage_port != cfg->blockpage_port ||
	    (cfg->blockpage_serve &&
	    (!addr_equal(&old->block.page_v4, &cfg->block.page_v4) ||
	    !addr_equal(&old->block.page_v6, &cfg->block.page_v6))))
		log_warnx("reload: the block page's server (blockpage, and "
		    "the addresses it listens on) changes at the next start");
	if (!srv->opts->debug)
		log_set_level(cfg->log_level);
	safehosts_update(srv, cfg);
	snapshot_publish(srv->slot, snap);
	if (next != NULL)
		safeguard_commit(srv->sg, next);
	srv->reloads++;
	log_info("reloaded %s: generation %" PRIu64 ", %zu entries",
	    snapshot_current(srv->slot)->cfg->source,
	    snapshot_current(srv->slot)->generation,
	    sgdb_entries(snapshot_current(srv->slot)->db));
	snprintf(why, len, "generation %" PRIu64 "\n",
	    snapshot_current(srv->slot)->generation);
	return 0;
fail:
	srv->reload_failures++;
	log_warnx("reload failed, keeping the running policy: %s", err);
	snprintf(why, len, "%s; the running policy is unchanged\n", err);
	return -1;
}

/* The kernel's side of queue num (queue.h): what never reached us.  A
 * table that cannot be read leaves the lines out. */
static void
print_kernel_queue(struct control_reply *r, uint16_t num)
{
	struct queue_kernel_stats ks;

	if (queue_kernel_stats(num, &ks) < 0)
		return;
	control_printf(r, "queue%u_kernel_waiting %" PRIu64 "\n"
	    "queue%u_kernel_full_dropped %" PRIu64 "\n"
	    "queue%u_kernel_socket_dropped %" PRIu64 "\n"
	    "queue%u_kernel_last_id %" PRIu32 "\n", num, ks.waiting, num,
	    ks.full_dropped, num, ks.socket_dropped, num, ks.last_id);
}

static void
print_stats(struct server *srv, struct control_reply *r)
{
	uint64_t outcomes[PL_OUTCOME_COUNT] = { 0 }, inj = 0, again = 0;
	uint64_t se = 0;
	struct control_stats cs;
	struct evlog_stats ev;
	struct queue_stats qs;
	size_t i, k;

	for (i = 0; i < srv->nworkers; i++) {
		struct worker *w = &srv->workers[i];

		for (k = 0; k < PL_OUTCOME_COUNT; k++)
			outcomes[k] += get(&w->outcomes[k]);
		inj += get(&w->inject_errors);
		se += get(&w->socket_errors);
		again += get(&w->settled_again);
	}
	for (k = 0; k < PL_OUTCOME_COUNT; k++)
		control_printf(r, "%s %" PRIu64 "\n", pipeline_outcome_name(k),
		    outcomes[k]);
	for (i = 0; i < srv->nworkers; i++) {
		queue_get_stats(srv->workers[i].q, &qs);
		control_printf(r, "queue%u_packets %" PRIu64 "\n"
		    "queue%u_verdicts %" PRIu64 "\n"
		    "queue%u_enobufs %" PRIu64 "\n"
		    "queue%u_verdict_errors %" PRIu64 "\n"
		    "queue%u_bad_messages %" PRIu64 "\n",
		    queue_num(srv->workers[i].q), qs.packets,
		    queue_num(srv->workers[i].q), qs.verdicts,
		    queue_num(srv->workers[i].q), qs.enobufs,
		    queue_num(srv->workers[i].q), qs.send_errors,
		    queue_num(srv->workers[i].q), qs.bad_messages);
		print_kernel_queue(r, queue_num(srv->workers[i].q));
	}
	memset(&ev, 0, sizeof(ev));
	if (srv->evlog != NULL)
		evlog_get_stats(srv->evlog, &ev);
	control_printf(r, "inject_errors %" PRIu64 "\n"
	    "event_errors %" PRIu64 "\nsocket_errors %" PRIu64 "\n"
	    "events_written %" PRIu64 "\nreloads %" PRIu64 "\n"
	    "reload_failures %" PRIu64 "\nsettled_again %" PRIu64 "\n", inj,
	    ev.errors, se, ev.written, srv->reloads, srv->reload_failures,
	    again);
	control_printf(r, "events_lost %" PRIu64 "\nevents_rotated %" PRIu64
	    "\nevents_purged %" PRIu64 "\n", ev.lost, ev.rotations, ev.purged);
	control_printf(r, "events_write_errors %" PRIu64 "\nevents_outages %"
	    PRIu64 "\nevents_held %" PRIu64 "\nevents_observe_lost %" PRIu64
	    "\nevents_queue_bytes %zu\nevents_queued_bytes %zu\n",
	    ev.write_errors, ev.outages, ev.held, ev.observe_lost,
	    ev.queue_bytes, ev.queued_bytes);
	for (k = 0; k < 5; k++) {
		static const char *const fn[] = { "flows_active",
		    "flows_created", "flows_expired", "flows_full",
		    "flows_device_full" };
		uint64_t sum = 0;

		for (i = 0; i < srv->nworkers; i++) {
			struct worker *w = &srv->workers[i];
			const uint64_t *f[] = { &w->flows_active,
			    &w->flows_created, &w->flows_expired,
			    &w->flows_full, &w->flows_device_full };

			sum += get(f[k]);
		}
		control_printf(r, "%s %" PRIu64 "\n", fn[k], sum);
	}
	control_printf(r, "flows_max %zu\n", srv->nworkers *
	    (size_t)FLOWS_PER_WORKER);
	{
		struct ctmark_stats cts;
		uint64_t sent = 0, refused = 0, serr = 0;

		for (i = 0; i < srv->nworkers; i++) {
			ctmark_get_stats(srv->workers[i].ct, &cts);
			sent += cts.sent;
			refused += cts.refused;
			serr += cts.send_errors;
		}
		control_printf(r, "flows_ct_marked %" PRIu64
		    "\nflows_ct_refused %" PRIu64 "\nflows_ct_send_errors %"
		    PRIu64 "\n", sent, refused, serr);
	}
	control_get_stats(srv->ctl, &cs);
	control_printf(r, "control_clients %zu\ncontrol_accepted %" PRIu64
	    "\ncontrol_served %" PRIu64 "\ncontrol_refused %" PRIu64
	    "\ncontrol_bad %" PRIu64 "\ncontrol_timeouts %" PRIu64
	    "\ncontrol_evicted %" PRIu64 "\ncontrol_send_errors %" PRIu64
	    "\ncontrol_accept_errors %" PRIu64 "\n", cs.clients, cs.accepted,
	    cs.served, cs.refused, cs.bad, cs.timeouts, cs.evicted,
	    cs.send_errors, cs.accept_errors);
	if (srv->bp != NULL) {
		struct blockpage_stats bs;

		blockpage_get_stats(srv->bp, &bs);
		control_printf(r, "blockpage_accepted %" PRIu64
		    "\nblockpage_refused %" PRIu64 "\nblockpage_blocked %"
		    PRIu64 "\nblockpage_neutral %" PRIu64
		    "\nblockpage_errors %" PRIu64 "\nblockpage_timeouts %"
		    PRIu64 "\nblockpage_active %" PRIu64 "\n", bs.accepted,
		    bs.refused, bs.blocked, bs.neutral, bs.errors,
		    bs.timeouts, bs.active);
	}
}

static void
print_safehosts(struct server *srv, struct control_reply *r)
{
	struct safehosts_stats st;

	if (srv->sh == NULL) {
		control_printf(r, "safe_search_hosts off\n");
		return;
	}
	safehosts_get_stats(srv->sh, &st);
	control_printf(r, "safe_search_hosts on\nsafe_search_queries %" PRIu64
	    "\nsafe_search_answers %" PRIu64 "\nsafe_search_timeouts %"
	    PRIu64 "\n", st.sent, st.answers, st.timeouts);
}

/* "events PATH" (or off) and the seq of the last event written. */
static void
print_events(struct server *srv, const struct config *cfg,
    struct control_reply *r)
{
	struct evlog_stats st;

	if (srv->evlog == NULL || !events_on(cfg)) {
		control_printf(r, "events off\n");
		return;
	}
	evlog_get_stats(srv->evlog, &st);
	control_printf(r, "events %s\nevents_seq %" PRIu64 "\n",
	    cfg->events_path, st.seq);
	if (st.refusing != 0)
		control_printf(r, "events_refusing %s (for %" PRIu64 " s; %"
		    PRIu64 " events held)\n", sg_strerror(st.refusing),
		    st.refusing_ms / 1000, st.held);
}

static void
print_status(struct server *srv, struct control_reply *r)
{
	const struct snapshot *snap = snapshot_current(srv->slot);
	const struct config *cfg = snap->cfg;

	control_printf(r, "pid %ld\nuptime %ld\nconfig %s\ngeneration %"
	    PRIu64 "\nqueues %u-%u\nfail_open %s\nfirewall %s\n"
	    "block_response %s\nentries %zu\nset_bytes %zu\nset %s\n",
	    (long)getpid(), (long)(time(NULL) - srv->started), cfg->source,
	    snap->generation, srv->fw.queue_first,
	    srv->fw.queue_first + srv->fw.queue_count - 1,
	    srv->fw.fail_open ? "yes" : "no",
	    srv->fw_up ? config_backend_name(srv->backend) : "unmanaged",
	    config_block_mode_name(cfg->block.mode),
	    sgdb_entries(snap->db), sgdb_bytes(snap->db),
	    snap->compiled ? "compiled at load" : "mapped");
	control_printf(r, "profiles %zu\ndevices %zu\noverrides %zu\n",
	    cfg->nprofiles, cfg->ndevices,
	    overrides_count(srv->ov, policy_now(srv)));
	print_events(srv, cfg, r);
	if (srv->opts->clock_offset != 0)
		control_printf(r, "test_clock %+lld s\n",
		    (long long)srv->opts->clock_offset);
	print_safehosts(srv, r);
	if (srv->sg != NULL) {
		struct safeguard_stats st;

		safeguard_get_stats(srv->sg, &st);
		control_printf(r, "indicators_observed %" PRIu64 "\n"
		    "indicators_fired %" PRIu64 "\nalerts_run %" PRIu64 "\n"
		    "alerts_held %" PRIu64 "\nalerts_failed %" PRIu64 "\n",
		    st.observed, st.fired, st.alerts, st.alerts_held,
		    st.alerts_failed);
		if (st.syslog)
			control_printf(r, "syslog_sent %" PRIu64 "\n"
			    "syslog_dropped %" PRIu64 "\n", st.syslog_sent,
			    st.syslog_dropped);
	}
	control_printf(r, "block_page %s\n", srv->bp != NULL ? "on" : "off");
	control_printf(r, "user %s\nseccomp %s\n", priv_user(),
	    priv_seccomp_state());
}

/* overrides_save(), making the state file's folder (0750) if missing. */
static int
write_state(struct server *srv, const char *path)
{
	int err;

	err = overrides_save(srv->ov, path, policy_now(srv));
	if (err != -ENOENT)
		return err;
	if ((err = atomicfile_make_dir(path, 0750)) < 0)
		return err;
	return overrides_save(srv->ov, path, policy_now(srv));
}

/* Writes the overrides out; a failure is logged and said in the reply:
 * the override is in force, but would not survive a restart. */
static void
save_state(struct server *srv, struct control_reply *r)
{
	const struct config *cfg = snapshot_current(srv->slot)->cfg;
	int err;

	if ((err = write_state(srv, cfg->state_path)) == 0)
		return;
	log_warnx("state %s: %s", cfg->state_path, sg_strerror(err));
	control_printf(r, "warning: not saved to %s (%s): in force until "
	    "the next restart only\n", cfg->state_path, sg_strerror(err));
}

/*
 * A device word: a device name from the config, a MAC or an address (the
 * overrides module's keys).  Another word is refused, so that a typo
 * ("amy-tablte") never pauses nobody in silence.
 */
static bool
known_device(struct server *srv, const char *word, struct control_reply *r)
{
	const struct config *cfg = snapshot_current(srv->slot)->cfg;
	char key[OVERRIDES_KEY_MAX + 1];
	struct sg_addr a;
	size_t i;

	for (i = 0; i < cfg->ndevices; i++)
		if (strcmp(cfg->devices[i].name, word) == 0)
			return true;
	if (overrides_key_normalize(word, strlen(word), key) >= 0 &&
	    (addr_parse(&a, word) == 0 || (strlen(key) == 17 &&
	    key[2] == ':')))
		return true;
	r->failed = true;
	control_printf(r, "%s: no device of that name in %s; give a device "
	    "name from the config, a MAC or an address\n", word,
	    cfg->source);
	return false;
}

/*
 * safegatectl sends an end on the wall clock; the policy runs on its own
 * (-T: the test clock), so the end moves with it and a pause "for 6s"
 * lasts six seconds of either.
 */
static bool
read_until(struct server *srv, const char *word, time_t *until,
    struct control_reply *r)
{
	if (overrides_parse_epoch(word, until) == 0 &&
	    (*until += srv->opts->clock_offset) > policy_now(srv) &&
	    *until <= policy_now(srv) + OVERRIDES_SPAN_MAX)
		return true;
	r->failed = true;
	control_printf(r, "%s: the end must be a time after now and within "
	    "30 days\n", word);
	return false;
}

static void
override_result(int rc, const char *reason, struct control_reply *r)
{
	if (rc >= 0)
		return;
	r->failed = true;
	if (rc == SG_ELIMIT)
		control_printf(r, "%d overrides are in force already; resume "
		    "one first\n", OVERRIDES_MAX);
	else if (rc == -ERANGE)
		control_printf(r, "the end must be after now and within 30 "
		    "days\n");
	else
		control_printf(r, "%s\n", reason != NULL ? reason :
		    sg_strerror(rc));
}

/* pause DEVICE UNTIL, allow DEVICE NAME UNTIL, resume DEVICE [all] */
static void
cmd_override(struct server *srv, int argc, char **argv,
    struct control_reply *r)
{
	const char *reason = NULL;
	size_t nallows = 0;
	time_t until;
	int rc;

	if (!known_device(srv, argv[1], r))
		return;
	overrides_prune(srv->ov, policy_now(srv));
	if (strcmp(argv[0], "pause") == 0) {
		if (!read_until(srv, argv[2], &until, r))
			return;
		rc = overrides_pause(srv->ov, argv[1], until,
		    policy_now(srv));
		override_result(rc, NULL, r);
		if (rc >= 0)
			log_info("pause %s until %lld", argv[1],
			    (long long)until);
	} else if (strcmp(argv[0], "allow") == 0) {
		if (!read_until(srv, argv[3], &until, r))
			return;
		rc = overrides_allow(srv->ov, argv[1], argv[2], until,
		    policy_now(srv), &reason);
		override_result(rc, reason, r);
		if (rc >= 0)
			log_info("allow %s %s until %lld", argv[1], argv[2],
			    (long long)until);
	} else {
		rc = overrides_resume(srv->ov, argv[1], argc == 3,
		    policy_now(srv), &nallows);
		override_result(rc, NULL, r);
		if (rc >= 0) {
			control_printf(r, "%d ended (%zu of them allows)\n",
			    rc, nallows);
			log_info("resume %s%s: %d ended", argv[1],
			    argc == 3 ? " all" : "", rc);
		}
	}
	if (rc >= 0)
		save_state(srv, r);
}

/* explain DEVICE NAME [AT] */
static void
cmd_explain(struct server *srv, int argc, char **argv,
    struct control_reply *r)
{
	const struct snapshot *snap = snapshot_current(srv->slot);
	char text[8192];
	struct sbuf b;
	time_t at = policy_now(srv);

	if (argc == 4 && overrides_parse_epoch(argv[3], &at) < 0) {
		r->failed = true;
		control_printf(r, "%s: not a time\n", argv[3]);
		return;
	}
	sbuf_init(&b, text, sizeof(text));
	if (policy_explain(snap, srv->ov, argv[1], argv[2], at, &b) < 0)
		r->failed = true;
	control_printf(r, "%s%s", text, r->failed ? "\n" : "");
}

static void
cmd_overrides(struct server *srv, struct control_reply *r)
{
	size_t room;
	int n;

	if (srv->opts->clock_offset != 0)
		control_printf(r, "# test clock: these ends are on the policy's "
		    "clock, %+lld s from the wall clock\n",
		    (long long)srv->opts->clock_offset);
	room = r->cap - r->len;
	n = overrides_format(srv->ov, policy_now(srv), r->buf + r->len, room);
	if (n < 0 || (size_t)n >= room) {
		r->failed = true;
		control_printf(r, "cannot list the overrides: %s\n",
		    n < 0 ? sg_strerror(n) : "too many");
		return;
	}
	r->len += (size_t)n;
}

/* %XX decoded (safegatectl encodes a reason's blanks so); false when bad. */
static bool
percent_decode(const char *in, char *out, size_t len)
{
	size_t n = 0;
	int hi, lo;

	for (; *in != '\0'; in++) {
		if (n + 1 >= len)
			return false;
		if (*in != '%') {
			out[n++] = *in;
			continue;
		}
		if ((hi = cursor_hex_value((uint8_t)in[1])) < 0 ||
		    (lo = cursor_hex_value((uint8_t)in[2])) < 0 ||
		    (hi | lo) == 0)
			return false;
		out[n++] = (char)(hi << 4 | lo);
		in += 2;
	}
	out[n] = '\0';
	return true;
}

/* hold SEQ [REASON]: a hold event naming SEQ, synced before the reply. */
static void
cmd_hold(struct server *srv, int argc, char **argv, struct control_reply *r)
{
	const struct config *cfg = snapshot_current(srv->slot)->cfg;
	char reason[EVLOG_REASON_MAX + 1] = "", *end;
	struct evlog_stats st;
	uint64_t seq, held = 0;
	size_t i;
	int rc;

	r->failed = true;
	if (srv->evlog == NULL || !events_on(cfg)) {
		control_printf(r, "no events file: the config names none "
		    "(log.events)\n");
		return;
	}
	errno = 0;
	seq = strtoull(argv[1], &end, 10);
	if (argv[1][0] < '1' || argv[1][0] > '9' || *end != '\0' ||
	    errno != 0) {
		control_printf(r, "%s: not an event's seq (a number from 1)\n",
		    argv[1]);
		return;
	}
	if (argc == 3 && !percent_decode(argv[2], reason, sizeof(reason))) {
		control_printf(r, "the reason is too long (at most %d bytes) "
		    "or badly encoded\n", EVLOG_REASON_MAX);
		return;
	}
	for (i = 0; reason[i] != '\0'; i++)
		if ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f) {
			control_printf(r, "the reason holds a control "
			    "character\n");
			return;
		}
	rc = evlog_hold(srv->evlog, seq, reason, &held);
	if (rc == -ERANGE) {
		evlog_get_stats(srv->evlog, &st);
		control_printf(r, "%" PRIu64 ": no such event yet (the last "
		    "is %" PRIu64 ")\n", seq, st.seq);
		return;
	}
	if (rc < 0) {
		control_printf(r, "cannot write the hold to %s: %s\n",
		    cfg->events_path, sg_strerror(rc));
		return;
	}
	r->failed = false;
	log_info("hold: event %" PRIu64 " (hold event %" PRIu64 ")", seq,
	    held);
	control_printf(r, "event %" PRIu64 " held (hold event %" PRIu64 "): "
	    "the file that holds it is kept past retention\n", seq, held);
}

static const struct command {
	const char	*word;
	int		 min, max;	/* argc, the word included */
	const char	*usage;
} commands[] = {
	{ "status", 1, 1, "status" },
	{ "stats", 1, 1, "stats" },
	{ "reload", 1, 1, "reload" },
	{ "pause", 3, 3, "pause DEVICE UNTIL" },
	{ "allow", 4, 4, "allow DEVICE NAME UNTIL" },
	{ "resume", 2, 3, "resume DEVICE [all]" },
	{ "explain", 3, 4, "explain DEVICE NAME [AT]" },
	{ "overrides", 1, 1, "overrides" },
	{ "hold", 2, 3, "hold SEQ [REASON]" },
};

static void
on_control(void *arg, const struct control_peer *peer, int argc, char **argv,
    struct control_reply *r)
{
	struct server *srv = arg;
	char why[CONFIG_ERR_LEN + 64];
	size_t i;

	(void)peer;	/* control.c refused the unprivileged already */
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].word) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		r->failed = true;
		control_printf(r, "unknown command '%s' (try status, stats, "
		    "reload, pause, allow, resume, explain, overrides, hold)\n",
		    argv[0]);
		return;
	}
	if (argc < commands[i].min || argc > commands[i].max ||
	    (strcmp(argv[0], "resume") == 0 && argc == 3 &&
	    strcmp(argv[2], "all") != 0)) {
		r->failed = true;
		if (commands[i].max == 1)
			control_printf(r, "%s takes no arguments\n", argv[0]);
		else
			control_printf(r, "usage: %s\n", commands[i].usage);
		return;
	}
	if (strcmp(argv[0], "status") == 0)
		print_status(srv, r);
	else if (strcmp(argv[0], "stats") == 0)
		print_stats(srv, r);
	else if (strcmp(argv[0], "reload") == 0) {
		if (reload(srv, why, sizeof(why)) < 0)
			r->failed = true;
		control_printf(r, "%s", why);
	} else if (strcmp(argv[0], "explain") == 0)
		cmd_explain(srv, argc, argv, r);
	else if (strcmp(argv[0], "overrides") == 0)
		cmd_overrides(srv, r);
	else if (strcmp(argv[0], "hold") == 0)
		cmd_hold(srv, argc, argv, r);
	else
		cmd_override(srv, argc, argv, r);
}

/* The block page's thread asks the policy through a reader slot of its
 * own (SNAPSHOT_MAX_READERS leaves room past the queues). */
#define BLOCKPAGE_READER	CONFIG_MAX_QUEUES

static void
decide_page(void *arg, const struct sg_addr *client, const char *host,
    struct blockpage_info *out)
{
	struct server *srv = arg;
	const struct snapshot *snap;

	out->now = policy_now(srv);
	snap = snapshot_enter(srv->slot, BLOCKPAGE_READER);
	policy_blockpage(snap, srv->ov, client, host, out->now, out);
	snapshot_leave(srv->slot, BLOCKPAGE_READER);
}

/* The block page's thread, before it reads a byte: its ports are bound,
 * and the capability that bound them goes (priv.h). */
static void
blockpage_thread(void)
{
	int r;

	if ((r = priv_shed()) < 0)
		log_warnx("privileges: block page: cannot let its "
		    "capabilities go: %s", sg_strerror(r));
}

/* blockpage.serve: the page on the block-page addresses (a start-time
 * setting, like the queues). */
static int
blockpage_up(struct server *srv, const struct config *cfg)
{
	struct blockpage_opts opts;
	struct sg_addr addrs[2];
	size_t n = 0;
	char err[256];
	int e;

	if (!cfg->blockpage_serve)
		return 0;
	memset(&opts, 0, sizeof(opts));
	if (cfg->block.page_v4.family != AF_UNSPEC)
		addrs[n++] = cfg->block.page_v4;
	if (cfg->block.page_v6.family != AF_UNSPEC)
		addrs[n++] = cfg->block.page_v6;
	/* Without a key, blocked plain-HTTP visits are reset, as without
	 * the page; visits by DNS address still get it. */
	if ((e = pagelink_init(&srv->link, &cfg->block.page_v4,
	    &cfg->block.page_v6, cfg->blockpage_port)) < 0)
		log_warnx("block page: no key for links (%s): plain-HTTP "
		    "visits are reset", strerror(-e));
	srv->link_ok = e == 0;
	opts.link = srv->link_ok ? &srv->link : NULL;
	opts.clock_offset = srv->opts->clock_offset;
	opts.on_thread = blockpage_thread;
	if ((srv->bp = blockpage_start_opts(addrs, n, cfg->blockpage_port,
	    &opts, decide_page, srv, err, sizeof(err))) == NULL) {
		log_warnx("block page: %s", err);
		return -1;
	}
	log_info("block page: serving on port %u", cfg->blockpage_port);
	return 0;
}

/*
 * A flow became a tomb: its connection is marked blocked in the kernel,
 * which then drops the rest of it whatever the table forgets (ctmark.h).
 * Over TCP both ends get a reset, as for a refused hello: the server at
 * the client's next sequence number, so that it does not wait on the half
 * it got, and the client at the server's, when its acknowledgements said
 * it, so that it does not wait for a handshake that will never come.
 */
static void
flow_gone(void *arg, const struct flow_gone *g)
{
	struct worker *w = arg;
	struct ctmark_tuple t = { g->proto, g->src, g->dst, g->sport,
	    g->dport };
	struct inject_msg m[2];
	size_t n = 0;
	int len, err;

	ctmark_block(w->ct, &t);	/* counted, and failures logged */
	if (g->proto != IPPROTO_TCP || w->srv->inject == NULL)
		return;
	if ((len = packet_build_tcp(w->gone_pkt[0], sizeof(w->gone_pkt[0]),
	    &g->src, &g->dst, g->sport, g->dport, g->client_seq, 0,
	    TCP_RST)) > 0) {
		m[n].pkt = w->gone_pkt[0];
		m[n].len = (size_t)len;
		m[n++].ifindex = 0;
	}
	if (g->server_seq_known && (len = packet_build_tcp(w->gone_pkt[1],
	    sizeof(w->gone_pkt[1]), &g->dst, &g->src, g->dport, g->sport,
	    g->server_seq, g->client_seq, TCP_RST | TCP_ACK)) > 0) {
		m[n].pkt = w->gone_pkt[1];
		m[n].len = (size_t)len;
		m[n++].ifindex = 0;
	}
	if (n > 0 && inject_send_many(w->srv->inject, m, n, &err) != 0)
		inc(&w->inject_errors);
}

/* The queues are bound before the switch of user, their threads started
 * after it (start_workers()). */
static int
open_queues(struct server *srv, const struct config *cfg)
{
	size_t i;
	int err;

	srv->nworkers = cfg->queue_count;
	srv->workers = calloc(srv->nworkers, sizeof(*srv->workers));
	if (srv->workers == NULL)
		return -ENOMEM;
	for (i = 0; i < srv->nworkers; i++) {
		struct worker *w = &srv->workers[i];
		uint16_t num = (uint16_t)(cfg->queue_first + i);

		w->srv = srv;
		w->reader = (unsigned)i;
		w->res = calloc(BATCH_RESULTS, sizeof(*w->res));
		w->flows = flow_table_new(FLOWS_PER_WORKER, FLOW_TIMEOUT);
		if (w->res == NULL || w->flows == NULL)
			return -ENOMEM;
		/* Made now: the worker's filter allows no new socket. */
		if ((w->ct = ctmark_open()) != NULL)
			flow_table_on_gone(w->flows, flow_gone, w);
		else
			log_warn("queue %u: conntrack socket: stalled "
			    "connections are refused by their tombs alone",
			    num);
		w->q = queue_open(num, cfg->fail_open, cfg->queue_max_len);
		if (w->q == NULL) {
			err = errno;
			log_warnx("queue %u: %s%s", num, strerror(err),
			    err == EBUSY ? " (another process holds it)" :
			    err == EPERM ? " (needs CAP_NET_ADMIN)" : "");
			return -err;
		}
	}
	return 0;
}

static int
start_workers(struct server *srv)
{
	size_t i;
	int err;

	for (i = 0; i < srv->nworkers; i++) {
		if ((err = pthread_create(&srv->workers[i].thread, NULL,
		    worker_main, &srv->workers[i])) != 0)
			return -err;
		srv->workers[i].started = true;
	}
	return 0;
}

static void
stop_workers(struct server *srv)
{
	size_t i;

	__atomic_store_n(&srv->stopping, 1, __ATOMIC_RELEASE);
	for (i = 0; i < srv->nworkers; i++)
		if (srv->workers[i].started)
			pthread_join(srv->workers[i].thread, NULL);
	for (i = 0; i < srv->nworkers; i++) {
		queue_close(srv->workers[i].q);
		free(srv->workers[i].res);
		flow_table_free(srv->workers[i].flows);
		ctmark_close(srv->workers[i].ct);
	}
	free(srv->workers);
	srv->workers = NULL;
}

static int
firewall_start(struct server *srv, const struct config *cfg)
{
	int err;

	if ((err = firewall_spec_init(&srv->fw, cfg)) < 0)
		return err;
	if (!cfg->fw_manage) {
		log_info("firewall: not managed; the rules must queue to "
		    "%u-%u", srv->fw.queue_first,
		    srv->fw.queue_first + srv->fw.queue_count - 1);
		return 0;
	}
	if (cfg->fw_backend == FW_NFT && firewall_detect() != FW_NFT) {
		log_warnx("firewall: backend \"nft\", but this kernel has no "
		    "nft queue expression (nft_queue); use \"iptables\" or "
		    "\"auto\"");
		return -ENOTSUP;
	}
	if ((err = firewall_up(&srv->fw, &srv->backend)) < 0) {
		/* Whatever went up before the failure comes down. */
		if (firewall_down() < 0)
			log_warnx("firewall: some rules may be left: "
			    "safegated -R down removes them");
		return err;
	}
	srv->fw_up = true;
	log_info("firewall: %s rules up, queue %u-%u%s",
	    config_backend_name(srv->backend), srv->fw.queue_first,
	    srv->fw.queue_first + srv->fw.queue_count - 1,
	    srv->fw.fail_open ? ", fail-open" : ", fail-closed");
	return 0;
}

/* Expired overrides leave the table and the state file. */
static void
prune(struct server *srv)
{
	const struct config *cfg = snapshot_current(srv->slot)->cfg;
	int err;

	if (overrides_prune(srv->ov, policy_now(srv)) == 0)
		return;
	if ((err = write_state(srv, cfg->state_path)) < 0)
		log_warnx("state %s: %s", cfg->state_path, sg_strerror(err));
}

static void
state_error(void *arg, size_t line, const char *reason)
{
	log_warnx("%s:%zu: %s", (const char *)arg, line, reason);
}

static int
main_loop(struct server *srv, int sfd)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	char why[CONFIG_ERR_LEN + 64];
	int n;

	pfd[0].fd = sfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = control_fd(srv->ctl);
	pfd[1].events = POLLIN;
	for (;;) {
		n = poll(pfd, 2, PRUNE_MS);
		if (n == 0) {
			prune(srv);
			continue;
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			return 1;
		}
		if (pfd[1].revents & POLLIN)
			(void)control_serve(srv->ctl, on_control, srv);
		if (!(pfd[0].revents & POLLIN))
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGHUP:
			log_info("SIGHUP: reloading");
			(void)reload(srv, why, sizeof(why));
			break;
		case SIGTERM:
		case SIGINT:
			log_info("%s: stopping", strsignal((int)si.ssi_signo));
			return 0;
		}
	}
}

/*
 * What safegated reads and writes once it is the user (priv.h): the
 * folders it writes in are made the user's if missing (else checked), its
 * own files given to it; what reloads read is checked.
 */
static void
priv_paths(const struct server *srv, const struct config *cfg)
{
	const struct server_opts *o = srv->opts;

	if (events_on(cfg))
		priv_own_dir(cfg->events_path, "rotating the events");
	priv_own_dir(cfg->state_path, "saving pauses and allows");
	priv_own_dir(cfg->control_socket, "removing the socket at the stop");
	if (cfg->risk_state != NULL && cfg->risk_state[0] != '\0') {
		priv_own_dir(cfg->risk_state, "saving the risk state");
		priv_own_file(cfg->risk_state, false);
	}
	priv_need_read(o->config_path != NULL ? o->config_path :
	    CONFIG_DEFAULT_PATH, "reloading");
	priv_need_read(o->lists_dir != NULL ? o->lists_dir : cfg->lists_dir,
	    "reloading");
	priv_need_read(o->lists_db != NULL ? o->lists_db : cfg->lists_db,
	    "reloading");
	priv_need_read(cfg->dhcp_leases, "reloading");
}

/* On a thread of its own, with CAP_NET_BIND_SERVICE alone if its port
 * needs it, and a filter of its own, which the block page's thread keeps. */
static int
start_blockpage(void *arg)
{
	struct start *st = arg;

	return blockpage_up(st->srv, st->cfg);
}

/* After the switch, on a thread with no capability, so that the threads
 * started here have none: the syslog sender and the event log's writer
 * (and the alert command it runs). */
static int
start_aux(void *arg)
{
	struct start *st = arg;
	struct server *srv = st->srv;
	const struct config *cfg = st->cfg;
	struct evlog_hooks hooks;
	char why[256];
	int r;

	if (srv->evlog == NULL)
		return 0;
	if ((srv->sg = safeguard_new(cfg, why, sizeof(why))) == NULL) {
		log_warnx("safeguarding record: %s", why);
		return -1;
	}
	safeguard_hooks(srv->sg, &hooks);
	evlog_set_hooks(srv->evlog, &hooks);
	/* Learning carries on from the last run; a bad file is set
	 * aside and learning starts afresh (safeguard.h). */
	(void)safeguard_load(srv->sg, policy_now(srv));
	if ((r = evlog_start(srv->evlog)) < 0) {
		log_warnx("events: cannot start the writer: %s",
		    sg_strerror(r));
		return r;
	}
	return 0;
}

int
server_run(const struct server_opts *opts)
{
	struct server srv;
	struct snapshot *snap;
	struct config *cfg;
	struct start st;
	sigset_t sigs;
	char err[CONFIG_ERR_LEN];
	int sfd = -1, status = 1, r;

	memset(&srv, 0, sizeof(srv));
	srv.opts = opts;
	srv.started = time(NULL);
	if ((cfg = config_load(opts->config_path, err,
	    sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return 1;
	}
	if (!opts->debug)
		log_set_level(cfg->log_level);
	if ((snap = snapshot_build(cfg, opts->lists_dir, opts->lists_db, err,
	    sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return 1;
	}
	if ((srv.slot = snapshot_slot_new(snap)) == NULL) {
		snapshot_free(snap);
		log_warn("snapshot");
		return 1;
	}
	cfg = snap->cfg;
	if ((srv.ov = overrides_new()) == NULL) {
		log_warn("overrides");
		goto out;
	}
	if ((r = overrides_load(srv.ov, cfg->state_path, policy_now(&srv),
	    state_error, cfg->state_path)) < 0)
		log_warnx("state %s: %s; starting with no pauses or allows",
		    cfg->state_path, sg_strerror(r));
	else if (overrides_count(srv.ov, policy_now(&srv)) > 0)
		log_info("state %s: %zu pauses and allows in force",
		    cfg->state_path, overrides_count(srv.ov, policy_now(&srv)));
	if (opts->clock_offset != 0)
		log_warnx("test clock: policy time is the wall clock %+lld s",
		    (long long)opts->clock_offset);
	log_info("%s: %zu entries in %zu categories, block %s", cfg->source,
	    sgdb_entries(snap->db), snap->ncategories,
	    config_block_mode_name(cfg->block.mode));
	/* Opened (and recovered) before daemon(), so that a path that
	   cannot be opened is said on the terminal; written by a thread
	   started after it. */
	priv_paths(&srv, cfg);
	if (events_on(cfg)) {
		struct evlog_opts eo;

		events_opts(&srv, cfg, &eo);
		if ((srv.evlog = evlog_open(cfg->events_path, &eo)) == NULL) {
			log_warn("%s", cfg->events_path);
			goto out;
		}
		priv_own_file(cfg->events_path, true);
	}

	if (!opts->foreground) {
		if (daemon(0, 0) == -1) {
			log_warn("daemon");
			goto out;
		}
		log_init("safegated", true);
	}

	/* Signals go to the main thread's signalfd only. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((sfd = signalfd(-1, &sigs, SFD_CLOEXEC)) == -1) {
		log_warn("signalfd");
		goto out;
	}
	if ((srv.inject = inject_open()) == NULL) {
		log_warn("raw sockets (needs CAP_NET_RAW)");
		goto out;
	}
	if ((srv.ctl = control_open(cfg->control_socket)) == NULL) {
		log_warn("control socket %s", cfg->control_socket);
		goto out;
	}
	/* What needs root is open once the queues are bound; no thread
	 * exists yet, so all inherit the bounding set, no_new_privs, the
	 * base filter and the switch of user (priv.h). */
	if ((r = open_queues(&srv, cfg)) < 0)
		goto out;
	if ((r = priv_confine()) < 0 || (r = priv_drop()) < 0) {
		log_warnx("privileges: %s", sg_strerror(r));
		goto out;
	}
	st = (struct start){ &srv, cfg, NULL, NULL, 0 };
	if (priv_run("sg-blockpage", cfg->blockpage_port < 1024 ?
	    PRIV_CAPS_BIND : PRIV_CAPS_NONE, PRIV_FILTER_BLOCKPAGE,
	    start_blockpage, &st) < 0)
		goto out;
	if ((r = priv_finish()) < 0) {
		log_warnx("privileges: %s", sg_strerror(r));
		goto out;
	}
	safehosts_update(&srv, cfg);
	if (priv_run("sg-aux", PRIV_CAPS_NONE, PRIV_FILTER_NONE, start_aux,
	    &st) < 0)
		goto out;
	if ((r = start_workers(&srv)) < 0)
		goto out;
	if ((r = firewall_start(&srv, cfg)) < 0) {
		log_warnx("firewall: cannot put the rules up: %s",
		    sg_strerror(r));
		goto out;
	}
	log_info("filtering");
	status = main_loop(&srv, sfd);
out:
	if (srv.fw_up) {
		if ((r = firewall_down()) < 0) {
			log_warnx("firewall: taking the rules down: %s",
			    sg_strerror(r));
			status = 1;
		} else
			log_info("firewall: rules down");
	}
	if (srv.workers != NULL)
		stop_workers(&srv);
	blockpage_stop(srv.bp);
	evlog_close(srv.evlog);	/* after the workers: no producer left */
	if (srv.sg != NULL && (r = safeguard_save(srv.sg)) < 0)
		log_warnx("risk state: %s", sg_strerror(r));
	safeguard_free(srv.sg);	/* after its hooks' thread */
	safehosts_stop(srv.sh);
	overrides_free(srv.ov);
	control_close(srv.ctl);
	firewall_spec_free(&srv.fw);
	inject_close(srv.inject);
	snapshot_slot_free(srv.slot);
	if (sfd != -1)
		close(sfd);
	return status;
}
