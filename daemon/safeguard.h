/*
 * safeguard.h - what the safeguarding record feeds: the grooming-risk
 * indicators (risk.h), a parent's alert command (alert.h) and syslog
 * forwarding (syslogfwd.h), all run on the event log's writer thread
 * through its hooks (evlog.h), in the record's own order.
 *
 *   worker ──safeguard_observation()──► evlog_observe() ─┐  (any thread,
 *                                                          │   never blocks)
 *   writer thread: observe hook ─► risk_observe() ─► evlog_emit(indicator)
 *                                   └─ critical ─► alert_fire()
 *                  line hook    ─► syslogfwd_send_meta()
 *                  tick hook    ─► alert_reap()
 *
 * An observation carries its categories by name, not by id: a reload may
 * number them anew, and the engine keeps the names it started with.  The
 * risk settings, alert and syslog settings are those of the config at
 * start; a reload leaves them (safegated says so in its log).
 *
 * Which requests are observed (safeguard_observation()): every block,
 * every DNS query to an outside resolver, and allowed requests in a
 * category the indicators watch (anon-chat, messaging, and the bypass
 * categories doh, bypass and vpn-proxy).  A confidential name is never
 * copied into an observation.
 */
#ifndef SG_SAFEGUARD_H
#define SG_SAFEGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "dns.h"
#include "err.h"

struct config;
struct evlog;
struct evlog_hooks;
struct pipeline_result;
struct snapshot;

#define SAFEGUARD_CATEGORIES	8	/* names an observation carries */

struct safeguard_obs {
	time_t		 time;
	struct sg_addr	 client;
	bool		 has_mac;
	uint8_t		 mac[6];
	char		 device[64];	/* config or lease name, or "" */
	char		 key[64];	/* device, else MAC, else address */
	char		 profile[33];
	unsigned	 age;
	bool		 bedtime;
	int		 kind;		/* enum risk_kind */
	int		 action;	/* enum action */
	int		 reason;	/* enum policy_reason */
	bool		 confidential;
	char		 name[DNS_TEXT_MAX + 1];	/* "" if confidential */
	char		 categories[SAFEGUARD_CATEGORIES][33];
	size_t		 ncategories;
};

struct safeguard;

/* From the config at start.  NULL with a message in err. */
struct safeguard *safeguard_new(const struct config *, char *err,
	    size_t errlen);
/* After the event log has stopped. */
void	safeguard_free(struct safeguard *);

/*
 * A reload, in two steps so that nothing changes unless the whole reload
 * does.  safeguard_prepare() makes what the new config needs: the risk
 * settings and category names, and, only where theirs changed, a new
 * alert runner and a new syslog sender (started; NULL with the reason in
 * err if one cannot be).  safeguard_commit() then puts them in force
 * under the hooks' lock: the risk engine keeps every device's learning
 * and windows, by category name (risk_reconfigure(); should that fail
 * for memory, the engine keeps its settings and a warning says so);
 * alerts and syslog lines from then on go to the new ones; the old ones
 * are stopped after (a syslog sender flushes first, for up to its
 * stop_ms), and their counters are carried into the stats.
 * safeguard_discard() drops a prepared reload that is not committed.
 * Categories are read from the snapshot on the packet path, so the
 * request side (safeguard_observation()) follows each snapshot as it is
 * published.
 */
/*
 * The risk engine's learning (risk.h's state file) at risk.state: loaded
 * once at start, before the event log runs (now: the policy's clock);
 * saved every SAFEGUARD_SAVE_EVERY seconds from the writer's tick when it
 * changed, and at the stop, after the event log has stopped.  A file that
 * cannot be read is logged, renamed PATH.bad and learning starts afresh.
 * risk.state "" keeps nothing.  Both return 0 or -errno / sg_err; load
 * returns the devices loaded.
 */
int	safeguard_load(struct safeguard *, time_t now);
int	safeguard_save(struct safeguard *);

struct safeguard_next;
struct safeguard_next *safeguard_prepare(const struct safeguard *,
	    const struct config *, char *err, size_t errlen);
void	safeguard_commit(struct safeguard *, struct safeguard_next *);
void	safeguard_discard(struct safeguard_next *);
/* The writer thread's hooks; set them before evlog_start(). */
void	safeguard_hooks(struct safeguard *, struct evlog_hooks *);

/*
 * Whether the request is worth an observation, and if so fills *o.  Any
 * thread, no allocation.
 */
bool	safeguard_observation(const struct safeguard *,
	    const struct snapshot *, const struct pipeline_result *,
	    struct safeguard_obs *o);

struct safeguard_stats {
	uint64_t	observed;
	uint64_t	fired;
	uint64_t	alerts;		/* alert commands run */
	uint64_t	alerts_held;	/* held back by the rate limit */
	uint64_t	alerts_failed;
	bool		syslog;
	uint64_t	syslog_sent, syslog_dropped;
};
void	safeguard_get_stats(const struct safeguard *, struct safeguard_stats *);

#endif
