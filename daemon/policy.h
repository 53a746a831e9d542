/*
 * policy.h - one decision per request, whatever carried the name.
 *
 * A request is a name seen on the wire (a DNS question, TLS or QUIC SNI,
 * HTTP Host), with who asked and when.  The device is found first (MAC,
 * then IP, then CIDR, else the default profile: devices.h), and its
 * profile decides.  The order, first match wins:
 *
 *   1. a confidential category (an abuse list) blocks.  Nothing, not even
 *      always_allow, overrides it; config.c makes every confidential
 *      category one that the top-level block names.
 *   2. always_allow: the built-in help routes (policy_help_routes) and the
 *      config's always_allow are allowed, paused or not.
 *   3. a pause (safegatectl pause) blocks everything else.
 *   4. a temporary allow (safegatectl allow) allows.
 *   5. the profile's allow and deny lists: the most specific entry wins,
 *      deny on a tie.
 *   6. a schedule in force that blocks "all".
 *   7. categories: the top-level block, the profile's block, its
 *      services, its bypass categories (doh: "doh" and "bypass"; vpn:
 *      "vpn-proxy") and those of schedules in force.
 *
 * An allowed DNS name may still be answered in the policy's way:
 * safe_target says a safe-search rewrite applies (safesearch.h), nodata
 * that an HTTPS or SVCB question gets no data (bypass.ech).  Reasons that
 * are not about a name (DNS to an outside resolver, DoT, a search engine
 * reached at an address that is not its safe host's) are the pipeline's;
 * it sets them in the decision so that events and replays say why.
 *
 * Times are the request's (the test clock included: safegated -T);
 * schedules are read in local time (schedule.h).  Everything here is
 * lock-free and allocates nothing, on any number of threads.
 */
#ifndef SG_POLICY_H
#define SG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "devices.h"
#include "sbuf.h"

struct snapshot;
struct overrides;

enum request_kind { REQ_DNS, REQ_TLS, REQ_HTTP, REQ_QUIC, REQ_DOT };

struct request {
	enum request_kind kind;
	const char	*name;		/* normalised: lower case, no dot */
	size_t		 name_len;
	uint16_t	 qtype;		/* DNS only */
	struct sg_addr	 client;
	bool		 has_mac;
	uint8_t		 mac[6];
	time_t		 time;
	/* policy_identify(): */
	bool		 identified;
	unsigned	 profile;	/* index into the config's profiles */
	enum devices_by	 by;		/* how the device was found */
	const char	*device;	/* its config name, else its DHCP
					   lease's hostname, else NULL */
	bool		 named;		/* device is a config name */
};

enum action { ACTION_ALLOW, ACTION_BLOCK };

enum policy_reason {
	REASON_NONE,		/* allowed: no category blocks it */
	REASON_CATEGORY,	/* blocked by categories (blocked) */
	REASON_SCHEDULE,	/* blocked by a schedule in force */
	REASON_CONFIDENTIAL,	/* blocked: a confidential category */
	REASON_DENY,		/* blocked: the profile's deny list */
	REASON_PAUSE,		/* blocked: the device is paused */
	REASON_ALLOW_LIST,	/* allowed: the profile's allow list */
	REASON_ALWAYS_ALLOW,	/* allowed: a help route or always_allow */
	REASON_TEMP_ALLOW,	/* allowed: safegatectl allow */
	/* the pipeline's, not about a name: */
	REASON_NO_SNI,		/* no name: connections.no_sni = "block" */
	REASON_OUTSIDE_DNS,	/* DNS to another resolver: outside_dns */
	REASON_DOT,		/* DNS over TLS (port 853): bypass.dot */
	REASON_SAFE_SEARCH,	/* a search host not at its safe address */
	REASON_COUNT
};

struct decision {
	enum action	 action;
	enum policy_reason reason;
	uint64_t	 matched;	/* every category the name is in */
	uint64_t	 blocked;	/* those that block it for this client */
	const char	*rule;		/* the most specific listed suffix;
					   points into req->name; NULL when
					   confidential */
	size_t		 rule_len;
	/*
	 * The name matched a confidential category (blocked here or not):
	 * it must never be written anywhere.  The most specific confidential
	 * entry is told by its list and hash instead.
	 */
	bool		 confidential;
	unsigned	 list;
	uint8_t		 hash[32];
	/* REASON_SCHEDULE, or REASON_CATEGORY where a schedule added
	   categories: the first such schedule in force */
	int		 schedule;	/* index in the profile, or -1 */
	const char	*entry;		/* allow, deny or always_allow entry
					   that decided; static or the
					   snapshot's */
	time_t		 until;		/* REASON_PAUSE, REASON_TEMP_ALLOW */
	/* allowed DNS only: */
	const char	*safe_target;	/* answer with a CNAME to this host */
	bool		 nodata;	/* HTTPS/SVCB: answer with no data */
};

/* The help routes always allowed, NULL-terminated: CEOP, Childline,
 * NSPCC, the UK Safer Internet Centre, the IWF, Report Harmful Content,
 * Stop It Now. */
extern const char *const policy_help_routes[];

/* Finds the request's device and profile (sets req->identified and the
 * fields below it).  policy_decide() calls it when the caller did not. */
void	policy_identify(const struct snapshot *, struct request *);

/* ov (may be NULL) holds the runtime pauses and allows. */
void	policy_decide(const struct snapshot *, const struct overrides *ov,
	    struct request *, struct decision *);

/* Whether the request's profile has safe search on for name's engine and
 * connections to it must reach the safe host (the pipeline's check). */
const char *policy_safe_target(const struct snapshot *,
	    const struct request *);

/* Whether the profile's schedule of that name is in force at t (false
 * when it has none of that name). */
bool	policy_schedule_active(const struct snapshot *, unsigned profile,
	    const char *name, time_t t);

/*
 * What the block page shows the device at client that asked for host at
 * now (blockpage.h): filled only when the policy blocks host for that
 * device, so a page never tells one device of another's blocks.  The
 * peer of a web connection has no MAC: the device is found by address,
 * or by the MAC its DHCP lease gives.
 */
struct blockpage_info;
void	policy_blockpage(const struct snapshot *, const struct overrides *ov,
	    const struct sg_addr *client, const char *host, time_t now,
	    struct blockpage_info *out);

/* "dns", "tls", "http", "quic", "dot": as events and replays name it. */
const char *policy_kind_name(enum request_kind);

/* "category", "schedule", ...: the reason as events and explain name it. */
const char *policy_reason_name(enum policy_reason);

/*
 * Explains the decision for device (a config device name, a MAC or an IP
 * address) and name at time `at`: the device and how it was found, its
 * profile, the schedules in force, and every reason that applies, in the
 * order above, then the decision.  Writes text lines into out.  Returns
 * 0, or -EINVAL with a one-line reason in out when the device or name
 * cannot be read.
 */
int	policy_explain(const struct snapshot *, const struct overrides *ov,
	    const char *device, const char *name, time_t at, struct sbuf *out);

#endif
