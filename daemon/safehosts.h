/*
 * safehosts.h - the safe search hosts' addresses, kept fresh in the
 * background.
 *
 * When safe search rewrites www.google.co.uk to forcesafesearch.google.com,
 * the answer carries the target's addresses too, and a TLS connection whose
 * SNI is a search host is let through only towards one of them.  Neither
 * may wait for a DNS lookup on the packet path, so one background thread
 * resolves every safe host (safesearch_targets()), A and AAAA, through the
 * router's resolver, and re-resolves each before its TTL runs out.  The
 * packet path only reads what the thread last published.
 *
 * The thread: one UDP socket per query (a fresh random source port), a
 * random query id, SO_MARK set to the caller's mark so the daemon's own
 * firewall rules let the query pass unqueued (without CAP_NET_ADMIN, or
 * CAP_NET_RAW since Linux 5.17, the mark cannot be set: this is logged
 * once at start and the queries go unmarked).  An
 * answer counts only if it comes from the resolver's address and port and
 * carries the query's id and question.  A query unanswered after the
 * timeout is sent again after a backoff that doubles up to a maximum.
 * TTLs are clamped to [min_ttl, max_ttl]; a name is asked again when 80%
 * of its TTL has passed.  When the resolver stops answering, the last
 * addresses are kept up to stale_limit seconds past their expiry, then
 * dropped.  At most SAFEHOSTS_MAX_PER_FAMILY addresses per family per name
 * are kept.
 *
 * Readers (safehosts_get(), _contains(), _known()) may run on any thread
 * at any time between safehosts_start() and safehosts_stop().  They take
 * no lock, allocate nothing and make no system call (safehosts_get() reads
 * CLOCK_MONOTONIC for the TTL, which Linux serves from the vDSO), and
 * never see a half-written set: see safehosts.c for the memory ordering.
 * Every reader takes a NULL safehosts and then knows nothing.  Target
 * names are matched exactly (lower case, no trailing dot), as
 * safesearch_target() returns them.
 */
#ifndef SG_SAFEHOSTS_H
#define SG_SAFEHOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "err.h"

#define SAFEHOSTS_MAX_PER_FAMILY	8
#define SAFEHOSTS_MAX		(2 * SAFEHOSTS_MAX_PER_FAMILY)

struct safehosts;

/*
 * Knobs, for tests above all: a zero field takes the default given.
 * targets/ntargets replace safesearch_targets() (the strings must outlive
 * the safehosts; at most 16 names).
 */
struct safehosts_opts {
	uint32_t		 min_ttl;	/* s; 30 */
	uint32_t		 max_ttl;	/* s; 86400 */
	uint32_t		 stale_limit;	/* s past expiry; 3600 */
	uint32_t		 timeout_ms;	/* per attempt; 2000 */
	uint32_t		 retry_min_ms;	/* first backoff; 1000 */
	uint32_t		 retry_max_ms;	/* backoff cap; 60000 */
	const char *const	*targets;
	size_t			 ntargets;
};

/*
 * Starts the thread, which resolves every target at once, then keeps them
 * fresh, asking resolver:port (mark: the SO_MARK of its sockets, 0 for
 * none).  Returns NULL and sets errno (and a message in err, errlen
 * bytes) when the resolver is not an address, or a thread, socket or
 * memory cannot be had.  opts may be NULL; it is copied.
 */
struct safehosts *safehosts_start(const struct sg_addr *resolver,
		    uint16_t port, uint32_t mark, char *err, size_t errlen);
struct safehosts *safehosts_start_opts(const struct sg_addr *resolver,
		    uint16_t port, uint32_t mark,
		    const struct safehosts_opts *opts, char *err,
		    size_t errlen);

/* Stops and joins the thread and frees everything.  NULL is a no-op. */
void		safehosts_stop(struct safehosts *);

/*
 * Points the thread at another resolver (a reload): queries in flight are
 * dropped and every name is asked again now; the addresses known are kept
 * until the new answers replace them.  Thread-safe.  Returns 0 or -EINVAL.
 */
int		safehosts_set_resolver(struct safehosts *,
		    const struct sg_addr *resolver, uint16_t port) SG_WUR;

/*
 * Copies target's current addresses (IPv4 first, then IPv6) into out, at
 * most max, and returns how many; 0 when none is known (not yet, or no
 * longer).  *ttl_left (may be NULL) gets the TTL to put in an answer: the
 * seconds until the addresses expire (at least 1), or min_ttl while they
 * are stale and being asked again; 0 with no address.
 */
size_t		safehosts_get(const struct safehosts *,
		    const char *target, struct sg_addr *out, size_t max,
		    uint32_t *ttl_left);

/* Whether addr is one of target's current addresses. */
bool		safehosts_contains(const struct safehosts *,
		    const char *target, const struct sg_addr *addr);

/* Whether any address of target is known. */
bool		safehosts_known(const struct safehosts *,
		    const char *target);

/* Counters since start, for status. */
struct safehosts_stats {
	uint64_t	sent;		/* queries sent */
	uint64_t	answers;	/* usable answers (addresses or none) */
	uint64_t	timeouts;	/* attempts unanswered in time */
	uint64_t	bad;		/* malformed, not ours, or TC */
	uint64_t	failures;	/* SERVFAIL, ..., socket errors */
	uint64_t	dropped;	/* address sets dropped as stale */
	bool		marked;		/* SO_MARK set on queries */
};

void		safehosts_get_stats(const struct safehosts *,
		    struct safehosts_stats *);

/*
 * Writes the counters and, per target, its addresses and TTL left, as
 * "safehosts: ..." lines.  NULL prints "safehosts: off".
 */
void		safehosts_print_status(const struct safehosts *, FILE *);

/*
 * Reads an answer to the query (id, qname, qtype A or AAAA, class IN) of
 * len bytes.  The message must be well formed as dns_parse() has it; names
 * in rdata obey the same limits (labels <= 63, names <= 255, at most
 * DNS_MAX_POINTERS pointers, each strictly backwards).  The answer
 * section's CNAME chain is followed from qname (at most 8 links; a loop is
 * malformed) and the addresses of type qtype owned by qname or a name of
 * the chain are copied to out (duplicates once, at most max; more are
 * ignored).  *n gets their number, *ttl the smallest TTL of the records
 * used; with no address, the negative TTL of the authority section's SOA
 * (RFC 2308), or 0 when there is none.  Nothing is clamped here.
 * Returns:
 *   0              NOERROR, with or without addresses;
 *   SG_ENOTFOUND   NXDOMAIN (*n 0, *ttl as for no address);
 *   -EBADMSG       not the answer to this query: another id, not a
 *                  response, another opcode or question (the caller waits
 *                  on for the right one);
 *   -EMSGSIZE      TC set: the answer did not fit in UDP;
 *   -EREMOTEIO     any other RCODE (SERVFAIL, REFUSED, ...);
 *   SG_ETRUNC, SG_EMALFORMED, SG_ELIMIT   broken bytes (as dns_parse());
 *   -EINVAL        bad arguments (qname not a name, qtype not A/AAAA).
 * On error *n is 0.  Pure: no allocation, no global state; reads nothing
 * outside msg[0..len).
 */
int		safehosts_parse_answer(const uint8_t *msg, size_t len,
		    uint16_t id, const char *qname, uint16_t qtype,
		    struct sg_addr *out, size_t max, size_t *n,
		    uint32_t *ttl) SG_WUR;

/* ttl clamped to [min_ttl, max_ttl]. */
uint32_t	safehosts_clamp_ttl(uint32_t ttl, uint32_t min_ttl,
		    uint32_t max_ttl);

#endif
